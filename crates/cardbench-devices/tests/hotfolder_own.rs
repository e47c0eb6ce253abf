//! The hot folder takes only what is its own, with real files, links, pipes and a real watcher:
//! never a link (to a file outside or to a device), a pipe or a file with another ending; never
//! a file bigger than the cap into memory; never a folder that is our data directory; never a
//! file that changed after it was read into `processed/`; and a file whose event never came is
//! found by the rescan.

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cardbench_devices::DevicesError;
use cardbench_devices::config::HotfolderConfig;
use cardbench_devices::hotfolder::{FileOutcome, FileReport, HotFolder, HotFolderEvent, TAKING_DIR};
use cardbench_store::cards::CardStatus;
use common::{OPERATOR, bench, ids};

fn config(settle_ms: u64, rescan_secs: u64) -> HotfolderConfig {
    HotfolderConfig { settle_ms, rescan_secs, ..Default::default() }
}

fn uid(i: usize) -> String {
    format!("04{:012X}", 0xB2_2B1C_0000_u64 + i as u64)
}

fn rows(card_ids: &[String], first_uid: usize) -> String {
    card_ids.iter().enumerate().map(|(i, id)| format!("{id},{}\n", uid(first_uid + i))).collect()
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status().expect("run mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Reports until one for each of `names` came; errors are collected, not fatal.
fn reports_for(rx: &mpsc::Receiver<HotFolderEvent>, names: &[&str]) -> (Vec<FileReport>, Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut reports, mut errors) = (Vec::new(), Vec::new());
    while !names.iter().all(|n| reports.iter().any(|r: &FileReport| r.file_name == *n)) {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(HotFolderEvent::Taken(r)) => reports.push(r),
            Ok(HotFolderEvent::Error { file, error }) => errors.push(format!("{file:?}: {error}")),
            Err(e) => panic!("no report for all of {names:?} (got {reports:?}, errors {errors:?}): {e}"),
        }
    }
    (reports, errors)
}

#[test]
fn links_pipes_devices_other_endings_and_oversized_files_are_never_read() {
    let b = bench();
    b.cards(&ids("C-", 4), &["MIFARE_UID"]);
    let folder = b.dir.path().join("hot");
    let outside = b.dir.path().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    let secret = outside.join("secret.csv");
    let secret_text = format!("cardId,MIFARE_UID\n{}", rows(&ids("C-", 1), 0));
    std::fs::write(&secret, &secret_text).expect("write");
    let mut cfg = config(100, 1);
    cfg.max_file_bytes = 1024;
    let hot = HotFolder::new(b.wf.clone(), OPERATOR, &folder, cfg).expect("hot folder");

    mkfifo(&folder.join("pipe.csv"));
    std::os::unix::fs::symlink(&secret, folder.join("outside.csv")).expect("symlink");
    std::os::unix::fs::symlink("/dev/zero", folder.join("zero.csv")).expect("symlink");
    std::os::unix::fs::symlink("/dev/urandom", folder.join("random.jsonl")).expect("symlink");
    std::fs::write(folder.join("notes.xlsx"), format!("cardId,MIFARE_UID\n{}", rows(&ids("C-", 2)[1..], 1))).expect("write");
    let big = format!("cardId,MIFARE_UID\n{}", rows(&ids("C-", 3)[2..], 2).repeat(100));
    std::fs::write(folder.join("big.csv"), &big).expect("write");
    std::fs::write(folder.join("good.csv"), format!("cardId,MIFARE_UID\n{}", rows(&ids("C-", 4)[3..], 3))).expect("write");

    // Taken by hand, each stranger is left alone with the reason, at once (a pipe with no writer
    // would block an open forever).
    for (name, says) in
        [("pipe.csv", "named pipe"), ("outside.csv", "symbolic link"), ("zero.csv", "symbolic link"), ("notes.xlsx", "not a result file")]
    {
        match hot.take(&folder.join(name)) {
            Err(e @ DevicesError::LeftAlone { .. }) => assert!(e.to_string().contains(says), "{name}: {e}"),
            other => panic!("{name} must be left alone: {other:?}"),
        }
    }

    // The watcher, through two rescans.
    let (tx, rx) = mpsc::channel();
    let watch = hot.watch(tx).expect("watch");
    let (reports, errors) = reports_for(&rx, &["good.csv", "big.csv"]);
    std::thread::sleep(Duration::from_millis(2500));
    let late: Vec<String> = rx.try_iter().map(|e| format!("{e:?}")).collect();
    watch.stop();
    assert!(late.is_empty(), "nothing else is taken or reported: {late:?}");
    assert!(errors.is_empty(), "strangers are skipped, not errors: {errors:?}");
    assert_eq!(reports.len(), 2, "{reports:?}");

    let good = reports.iter().find(|r| r.file_name == "good.csv").expect("good");
    assert_eq!(good.outcome, FileOutcome::Processed, "{good:?}");
    assert_eq!(b.card("C-00003").status, CardStatus::Produced);

    let big_report = reports.iter().find(|r| r.file_name == "big.csv").expect("big");
    assert_eq!(big_report.outcome, FileOutcome::Failed);
    assert_eq!(big_report.moved_to, folder.join("failed/big.csv"));
    let reason = std::fs::read_to_string(folder.join("failed/big.csv.reason.txt")).expect("reason");
    assert!(reason.contains("more than the limit of 1024") && reason.contains("max_file_bytes"), "{reason}");
    assert_eq!(std::fs::read_to_string(folder.join("failed/big.csv")).expect("kept"), big, "moved whole, unread");
    assert_eq!(b.card("C-00002").status, CardStatus::Received, "nothing of the big file applied");

    for name in ["pipe.csv", "outside.csv", "zero.csv", "random.jsonl", "notes.xlsx"] {
        assert!(std::fs::symlink_metadata(folder.join(name)).is_ok(), "{name} stays where it is");
    }
    assert!(std::fs::symlink_metadata(folder.join("outside.csv")).expect("link").file_type().is_symlink());
    assert_eq!(std::fs::read_to_string(&secret).expect("outside"), secret_text, "the file outside is untouched");
    assert_eq!(b.card("C-00000").status, CardStatus::Received, "nothing read through the link");
    assert_eq!(b.card("C-00001").status, CardStatus::Received, "nothing read from another ending");
}

#[test]
fn the_data_directory_is_refused_as_hot_folder_and_nothing_in_it_moves() {
    let b = bench();
    b.cards(&ids("C-", 1), &["MIFARE_UID"]);
    let data = b.dir.path().join("data");
    let before: Vec<PathBuf> = listing(&data);
    assert!(before.iter().any(|p| p.ends_with("cardbench.sqlite")), "{before:?}");
    let link = b.dir.path().join("link-to-data");
    std::os::unix::fs::symlink(&data, &link).expect("symlink");
    for (folder, says) in [
        (data.clone(), "it is the data directory"),
        (data.join("inbox"), "lies inside the data directory"),
        (b.dir.path().to_owned(), "contains the data directory"),
        (link, "it is the data directory"),
    ] {
        match HotFolder::new(b.wf.clone(), OPERATOR, &folder, config(100, 30)) {
            Err(e @ DevicesError::HotFolderRefused { .. }) => assert!(e.to_string().contains(says), "{}: {e}", folder.display()),
            Err(e) => panic!("{}: wrong error {e}", folder.display()),
            Ok(_) => panic!("{} must be refused", folder.display()),
        }
    }
    assert_eq!(listing(&data), before, "nothing created or moved in the data directory");
    assert!(!data.join("inbox").exists(), "a refused folder is not created");
    // The other directories of ours, named by the caller.
    let config_dir = b.dir.path().join("config");
    let err = HotFolder::guarded(b.wf.clone(), OPERATOR, &config_dir, config(100, 30), vec![("the config directory", config_dir.clone())])
        .err()
        .expect("refused");
    assert!(err.to_string().contains("the config directory"), "{err}");
    b.wf.store().read(|c| cardbench_store::cards::get(c, "C-00000")).expect("the store still works").expect("card");
}

fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir).expect("list").map(|e| e.expect("entry").path()).collect();
    names.sort();
    names
}

#[test]
fn a_file_appended_while_being_taken_never_lands_in_processed_with_unapplied_rows() {
    let b = bench();
    let first = ids("A-", 3000);
    let second = ids("B-", 50);
    b.cards(&first, &["MIFARE_UID"]);
    b.cards(&second, &["MIFARE_UID"]);
    let folder = b.dir.path().join("hot");
    let hot = HotFolder::new(b.wf.clone(), OPERATOR, &folder, config(200, 30)).expect("hot folder");
    let (tx, rx) = mpsc::channel();
    let watch = hot.watch(tx).expect("watch");
    // The encoder writes, pauses past the settle time, and writes more through the same
    // descriptor once the file has been taken from under its name.
    let path = folder.join("run.csv");
    let mut file = std::fs::File::create(&path).expect("create");
    file.write_all(format!("cardId,MIFARE_UID\n{}", rows(&first, 0)).as_bytes()).expect("write");
    file.flush().expect("flush");
    let deadline = Instant::now() + Duration::from_secs(60);
    while path.exists() {
        assert!(Instant::now() < deadline, "never taken");
        std::thread::sleep(Duration::from_millis(1));
    }
    file.write_all(rows(&second, 10_000).as_bytes()).expect("append");
    drop(file);
    let (reports, errors) = reports_for(&rx, &["run.csv"]);
    watch.stop();
    assert!(errors.is_empty(), "{errors:?}");
    let report = &reports[0];
    let on_disk = std::fs::read_to_string(&report.moved_to).expect("moved file");
    let cards_in_file: Vec<&str> = on_disk.lines().skip(1).filter_map(|l| l.split(',').next()).collect();
    assert_eq!(cards_in_file.len(), first.len() + second.len(), "the file keeps everything written");
    let unapplied: Vec<&&str> = cards_in_file.iter().filter(|id| b.card(id).status != CardStatus::Produced).collect();
    if report.moved_to.starts_with(folder.join("processed")) {
        assert!(unapplied.is_empty(), "processed/ holds {} row(s) never applied: {report:?}", unapplied.len());
    } else {
        assert_eq!(report.outcome, FileOutcome::Failed, "{report:?}");
        let reason = std::fs::read_to_string(format!("{}.reason.txt", report.moved_to.display())).expect("reason");
        assert!(reason.contains("changed after its first") && reason.contains("NOT applied"), "{reason}");
        assert_eq!(unapplied.len(), second.len(), "exactly the appended rows are the unapplied ones");
    }
    eprintln!("appended rows landed {}", if unapplied.is_empty() { "before the read" } else { "after the read" });
}

#[test]
fn files_a_crash_left_in_taking_are_taken_at_start() {
    let b = bench();
    b.cards(&ids("C-", 2), &["MIFARE_UID"]);
    let folder = b.dir.path().join("hot");
    std::fs::create_dir_all(folder.join(TAKING_DIR)).expect("mkdir");
    std::fs::write(folder.join(TAKING_DIR).join("half-done.csv"), format!("cardId,MIFARE_UID\n{}", rows(&ids("C-", 2), 0))).expect("write");
    let hot = HotFolder::new(b.wf.clone(), OPERATOR, &folder, config(100, 30)).expect("hot folder");
    let (tx, rx) = mpsc::channel();
    let watch = hot.watch(tx).expect("watch");
    let (reports, errors) = reports_for(&rx, &["half-done.csv"]);
    watch.stop();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(reports[0].outcome, FileOutcome::Processed, "{:?}", reports[0]);
    assert!(folder.join("processed/half-done.csv").exists());
    assert_eq!(b.card("C-00001").status, CardStatus::Produced);
    assert_eq!(listing(&folder.join(TAKING_DIR)), Vec::<PathBuf>::new());
}

#[test]
fn a_rescan_finds_a_file_whose_event_never_came() {
    let b = bench();
    b.cards(&ids("C-", 2), &["MIFARE_UID"]);
    let folder = b.dir.path().join("hot");
    let hot = HotFolder::new(b.wf.clone(), OPERATOR, &folder, config(100, 3)).expect("hot folder");
    // A first file, taken by the listing at start: once it is reported, that listing is over.
    std::fs::write(folder.join("first.csv"), format!("cardId,MIFARE_UID\n{}", rows(&ids("C-", 2)[1..], 1))).expect("write");
    let (tx, rx) = mpsc::channel();
    let watch = hot.watch(tx).expect("watch");
    reports_for(&rx, &["first.csv"]);
    // The folder is replaced under the watch (as when a share is mounted or re-created after
    // the daemon started): inotify keeps watching the old directory, so a file written into the
    // new one sends no event at all.
    std::fs::rename(&folder, b.dir.path().join("hot-old")).expect("move the watched folder away");
    std::fs::create_dir(&folder).expect("a new folder in its place");
    std::fs::write(folder.join("quiet.csv"), format!("cardId,MIFARE_UID\n{}", rows(&ids("C-", 1), 0))).expect("write");
    std::thread::sleep(Duration::from_millis(1500));
    let early: Vec<String> = rx.try_iter().filter(|e| matches!(e, HotFolderEvent::Taken(_))).map(|e| format!("{e:?}")).collect();
    assert!(early.is_empty(), "taken without the rescan: the event was not missed after all: {early:?}");
    let (reports, _) = reports_for(&rx, &["quiet.csv"]);
    watch.stop();
    assert_eq!(reports[0].outcome, FileOutcome::Processed, "{:?}", reports[0]);
    assert!(folder.join("processed/quiet.csv").exists());
    assert_eq!(b.card("C-00000").status, CardStatus::Produced);
}
