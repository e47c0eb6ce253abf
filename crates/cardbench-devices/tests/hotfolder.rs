//! The encoder hot folder with real files on disk and a real store: slow partial writes, garbage,
//! BOM and CRLF, duplicate UIDs, 10,000-row files, files waiting from before a restart, the same
//! file twice.

mod common;

use std::io::Write as _;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use cardbench_devices::config::HotfolderConfig;
use cardbench_devices::hotfolder::{FileOutcome, HotFolder, HotFolderEvent};
use cardbench_store::cards::CardStatus;
use common::{OPERATOR, bench, ids};

fn config(settle_ms: u64) -> HotfolderConfig {
    HotfolderConfig { settle_ms, ..Default::default() }
}

fn next_report(rx: &mpsc::Receiver<HotFolderEvent>) -> cardbench_devices::FileReport {
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(HotFolderEvent::Taken(report)) => report,
        Ok(HotFolderEvent::Error { file, error }) => panic!("error on {file:?}: {error}"),
        Err(e) => panic!("no file was taken: {e}"),
    }
}

fn uid(i: usize) -> String {
    format!("04{:012X}", 0xA2_2B1C_0000_u64 + i as u64)
}

#[test]
fn a_clean_csv_is_applied_and_moved_to_processed() {
    let b = bench();
    b.cards(&ids("C-", 3), &["MIFARE_UID"]);
    let folder = b.dir.path().join("hot");
    let hot = HotFolder::new(b.wf.clone(), OPERATOR, &folder, config(100)).expect("hot folder");
    let file = folder.join("results-1.csv");
    std::fs::write(&file, format!("cardId,MIFARE_UID\nC-00000,{}\nC-00001,{}\nC-00002,{}\n", uid(0), uid(1), uid(2))).expect("write");
    let report = hot.take(&file).expect("taken");
    assert_eq!(report.outcome, FileOutcome::Processed, "{report:?}");
    assert_eq!((report.rows_total, report.rows_applied, report.produced), (3, 3, 3));
    assert!(folder.join("processed/results-1.csv").exists());
    assert!(!file.exists());
    assert_eq!(b.card("C-00001").status, CardStatus::Produced);
    assert_eq!(b.produced_messages(), 3, "one CARD_PRODUCED per row");
}

#[test]
fn bad_rows_are_named_in_the_reason_file_and_the_good_rows_still_apply() {
    let b = bench();
    b.cards(&ids("C-", 4), &["MIFARE_UID"]);
    // One card already carries a UID the file repeats: a mixed-up chip.
    b.wf
        .produce(OPERATOR, "C-00003", &[cardbench_workflow::ReadoutInput { field: "MIFARE_UID".into(), value: uid(99) }], "typed")
        .expect("produce");
    let folder = b.dir.path().join("hot");
    let hot = HotFolder::new(b.wf.clone(), OPERATOR, &folder, config(100)).expect("hot folder");
    let file = folder.join("mixed.csv");
    let text = format!(
        "\u{feff}cardId;MIFARE_UID\r\nC-00000;{}\r\nC-99999;{}\r\nC-00001;04XYZ\r\nC-00002;\r\nC-00002;{}\r\n",
        uid(0),
        uid(1),
        uid(99)
    );
    std::fs::write(&file, text).expect("write");
    let report = hot.take(&file).expect("taken");
    assert_eq!(report.outcome, FileOutcome::Failed, "{report:?}");
    assert_eq!(report.rows_applied, 1, "{report:?}");
    let reason = std::fs::read_to_string(folder.join("failed/mixed.csv.reason.txt")).expect("reason file");
    assert!(reason.contains("line 3 (card C-99999): unknown card C-99999"), "{reason}");
    assert!(reason.contains("line 4 (card C-00001): readouts refused: MIFARE_UID: not hexadecimal"), "{reason}");
    assert!(reason.contains("line 5 (card C-00002): card C-00002 misses readouts: MIFARE_UID"), "{reason}");
    assert!(reason.contains("line 6 (card C-00002)"), "{reason}");
    assert!(folder.join("failed/mixed.csv").exists());
    assert_eq!(b.card("C-00000").status, CardStatus::Produced, "the good row is applied");
    assert_eq!(b.card("C-00001").status, CardStatus::Received, "a refused row leaves its card as it was");
    assert_eq!(b.card("C-00002").status, CardStatus::Received);
}

#[test]
fn a_uid_used_twice_in_one_file_is_refused_on_the_second_row_naming_the_first_card() {
    let b = bench();
    b.cards(&ids("C-", 2), &["MIFARE_UID"]);
    let folder = b.dir.path().join("hot");
    let hot = HotFolder::new(b.wf.clone(), OPERATOR, &folder, config(100)).expect("hot folder");
    let file = folder.join("dup.jsonl");
    let text = format!("{{\"cardId\":\"C-00000\",\"MIFARE_UID\":\"{u}\"}}\r\n{{\"cardId\":\"C-00001\",\"MIFARE_UID\":\"{u}\"}}\r\n", u = uid(7));
    std::fs::write(&file, text).expect("write");
    let report = hot.take(&file).expect("taken");
    assert_eq!(report.rows_applied, 1);
    assert_eq!(report.problems.len(), 1);
    assert_eq!(report.problems[0].line, 2);
    assert!(report.problems[0].reason.contains("already reported for card C-00000"), "{:?}", report.problems);
}

#[test]
fn garbage_is_refused_as_a_whole_and_nothing_is_applied() {
    let b = bench();
    b.cards(&ids("C-", 1), &["MIFARE_UID"]);
    let folder = b.dir.path().join("hot");
    let hot = HotFolder::new(b.wf.clone(), OPERATOR, &folder, config(100)).expect("hot folder");
    let garbage = folder.join("noise.csv");
    std::fs::write(&garbage, [0xFFu8, 0x00, 0xC3, 0x28, 0x41, 0x0A]).expect("write");
    let report = hot.take(&garbage).expect("taken");
    assert_eq!(report.outcome, FileOutcome::Failed);
    assert!(report.file_problem.as_deref().is_some_and(|p| p.contains("UTF-8")), "{report:?}");
    assert!(folder.join("failed/noise.csv.reason.txt").exists());
    // Another ending is not ours: left where it is, with the reason.
    let odd = folder.join("results.xlsx");
    std::fs::write(&odd, "cardId\nC-00000\n").expect("write");
    let err = hot.take(&odd).expect_err("left alone");
    assert!(err.to_string().contains("not a result file"), "{err}");
    assert!(odd.exists(), "a file with another ending stays where it is");
    assert_eq!(b.card("C-00000").status, CardStatus::Received);
}

#[test]
fn the_same_content_is_never_applied_twice_even_under_another_name() {
    let b = bench();
    b.cards(&ids("C-", 2), &["MIFARE_UID"]);
    let folder = b.dir.path().join("hot");
    let hot = HotFolder::new(b.wf.clone(), OPERATOR, &folder, config(100)).expect("hot folder");
    let body = format!("cardId,MIFARE_UID\nC-00000,{}\n", uid(0));
    std::fs::write(folder.join("a.csv"), &body).expect("write");
    assert_eq!(hot.take(&folder.join("a.csv")).expect("first").outcome, FileOutcome::Processed);
    std::fs::write(folder.join("a-again.csv"), &body).expect("write");
    let again = hot.take(&folder.join("a-again.csv")).expect("second");
    assert_eq!(again.outcome, FileOutcome::AlreadyTaken);
    assert_eq!(b.produced_messages(), 1, "the second copy must not produce again");
    assert!(folder.join("failed/a-again.csv.reason.txt").exists());
    // The same name again (we crashed after the commit, before the move): just finish the move.
    std::fs::write(folder.join("a.csv"), &body).expect("write");
    let redo = hot.take(&folder.join("a.csv")).expect("third");
    assert_eq!(redo.outcome, FileOutcome::Processed);
    assert!(folder.join("processed/a.csv.2").exists(), "kept beside the first, not over it");
    assert_eq!(b.produced_messages(), 1);
}

#[test]
fn a_file_written_slowly_is_taken_only_once_complete() {
    let b = bench();
    let card_ids = ids("C-", 50);
    b.cards(&card_ids, &["MIFARE_UID"]);
    let folder = b.dir.path().join("hot");
    // A settle time well above the pauses below, so a slow CI machine cannot make a pause look final.
    let hot = HotFolder::new(b.wf.clone(), OPERATOR, &folder, config(1000)).expect("hot folder");
    let (tx, rx) = mpsc::channel();
    let watch = hot.watch(tx).expect("watch");
    // The encoder writes its file in pieces, 150 ms apart (far less than the settle time), under its
    // final name.
    let path = folder.join("slow.csv");
    let mut file = std::fs::File::create(&path).expect("create");
    file.write_all(b"cardId,MIFARE_UID\n").expect("write");
    for (i, id) in card_ids.iter().enumerate() {
        file.write_all(format!("{id},{}\n", uid(i)).as_bytes()).expect("write");
        file.flush().expect("flush");
        if i % 10 == 9 {
            std::thread::sleep(Duration::from_millis(150));
            assert!(rx.try_recv().is_err(), "a file still being written must not be taken");
        }
    }
    drop(file);
    let report = next_report(&rx);
    assert_eq!(report.outcome, FileOutcome::Processed, "{report:?}");
    assert_eq!(report.rows_applied, 50, "every row, not the part written when first seen");
    // A temporary name is left alone, then taken once renamed to its final name.
    let tmp = folder.join("next.csv.tmp");
    std::fs::write(&tmp, "cardId,MIFARE_UID\n").expect("write tmp");
    std::thread::sleep(Duration::from_millis(800));
    assert!(rx.try_recv().is_err(), "a .tmp file is not a result file");
    assert!(tmp.exists());
    std::fs::rename(&tmp, folder.join("next.csv")).expect("rename");
    let report = next_report(&rx);
    assert_eq!(report.file_name, "next.csv");
    watch.stop();
}

#[test]
fn files_that_arrived_while_stopped_are_taken_at_start() {
    let b = bench();
    b.cards(&ids("C-", 4), &["MIFARE_UID"]);
    let folder = b.dir.path().join("hot");
    std::fs::create_dir_all(&folder).expect("mkdir");
    for (n, pair) in [(0usize, 1usize), (2, 3)].into_iter().enumerate() {
        std::fs::write(
            folder.join(format!("waiting-{n}.csv")),
            format!("cardId,MIFARE_UID\nC-{:05},{}\nC-{:05},{}\n", pair.0, uid(pair.0), pair.1, uid(pair.1)),
        )
        .expect("write");
    }
    let hot = HotFolder::new(b.wf.clone(), OPERATOR, &folder, config(100)).expect("hot folder");
    let (tx, rx) = mpsc::channel();
    let watch = hot.watch(tx).expect("watch");
    let first = next_report(&rx);
    let second = next_report(&rx);
    watch.stop();
    let mut names = vec![first.file_name, second.file_name];
    names.sort();
    assert_eq!(names, ["waiting-0.csv", "waiting-1.csv"]);
    assert_eq!(b.produced_messages(), 4);
}

#[test]
fn ten_thousand_rows_are_applied_in_one_go() {
    let b = bench();
    let n = 10_000;
    let card_ids = ids("C-", n);
    b.cards(&card_ids, &["MIFARE_UID"]);
    let folder = b.dir.path().join("hot");
    let hot = HotFolder::new(b.wf.clone(), OPERATOR, &folder, config(100)).expect("hot folder");
    let path = folder.join("big.csv");
    write_big(&path, &card_ids);
    let report = hot.take(&path).expect("taken");
    assert_eq!(report.outcome, FileOutcome::Processed, "{:?}", report.problems.first());
    assert_eq!((report.rows_applied, report.produced), (n, n));
    assert_eq!(b.produced_messages(), n);
    assert_eq!(b.card("C-09999").status, CardStatus::Produced);
}

fn write_big(path: &Path, card_ids: &[String]) {
    let mut text = String::from("cardId,MIFARE_UID\r\n");
    for (i, id) in card_ids.iter().enumerate() {
        text.push_str(&format!("{id},{}\r\n", uid(i)));
    }
    std::fs::write(path, text).expect("write");
}
