//! `cardbench status` says when the store fails as a whole, asked of the disk and the database
//! at the time (a failing store cannot record that it fails): a full disk, a write lock held by
//! another process.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

mod common;

use common::text;

fn status(dir: &Path) -> Output {
    common::run(dir, None, &["status"])
}

#[test]
fn status_says_the_store_is_ok_then_locked_by_another_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = common::run(dir.path(), None, &["sim", "generate", "2", "--seed", "3"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = status(dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("store           ok"), "{}", text(&out.stdout));

    let database = dir.path().join(cardbench_store::DATABASE_FILE);
    let (locked_tx, locked) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        cardbench_store::health::hold_write_lock(&database, Duration::from_secs(6), || {
            let _ = locked_tx.send(());
        })
    });
    locked.recv().expect("the lock is taken");
    let out = common::run(dir.path(), None, &["--json", "status"]);
    assert!(out.status.success(), "status still answers while the store is locked: {}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON status");
    assert_eq!(json["store_failing"], "locked", "{json}");
    holder.join().expect("join").expect("held the lock");
}

#[test]
fn status_says_store_failing_disk_full_on_a_full_disk() {
    let mount = tempfile::tempdir().expect("tempdir");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs"])
        .arg(mount.path())
        .status()
        .expect("run mount");
    assert!(mounted.success(), "mounting a tmpfs needs root (the test script runs as root in CI)");
    let dir = mount.path().join("data");
    std::fs::create_dir_all(&dir).expect("data dir");
    let out = common::run(&dir, None, &["sim", "generate", "2", "--seed", "3"]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Fill the disk to the last block.
    {
        use std::io::Write;
        let mut filler = std::fs::File::create(mount.path().join("filler")).expect("filler");
        while filler.write_all(&[0u8; 4096]).is_ok() {}
    }
    let out = status(&dir);
    let _ = Command::new("umount").arg("-l").arg(mount.path()).status();
    // The counts may be out of reach (the store cannot even open), the failure is not.
    let stdout = text(&out.stdout);
    assert!(stdout.contains("store           FAILING: disk full"), "{stdout}\n{}", text(&out.stderr));
}

/// A floor station whose PostgreSQL server does not answer (stopped, failing over): `status`
/// says the store is failing, "database unreachable", in the words of a full disk, and why;
/// it does not pass for a wrong setting. A port nobody listens on stands for the server.
#[test]
fn status_says_store_failing_database_unreachable_when_the_floor_database_does_not_answer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    std::fs::write(dir.path().join("config.toml"), format!("[store]\nurl = \"postgres://cardbench@127.0.0.1:{port}/floor\"\nstation = \"LINE-1\"\n"))
        .expect("config");
    let out = common::command(dir.path(), None).env_remove("CARDBENCH_STORE_URL").arg("status").output().expect("run cardbench");
    assert!(!out.status.success(), "status cannot count what it cannot read");
    assert!(text(&out.stdout).contains("store           FAILING: database unreachable"), "stdout: {}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("store failing: database unreachable") && stderr.contains(&format!("127.0.0.1:{port}")), "stderr: {stderr}");
}

/// Setting a floor's store checks it answers now: a URL whose server does not answer is refused
/// and not written down (a station started on it would wait for it; a typo must show at once).
#[test]
fn setting_a_store_that_does_not_answer_is_refused_and_not_saved() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let url = format!("postgres://cardbench@127.0.0.1:{port}/floor");
    let out = common::command(dir.path(), None).env_remove("CARDBENCH_STORE_URL").args(["config", "set-store", "--url", &url]).output().expect("run");
    assert!(!out.status.success(), "refused");
    assert!(text(&out.stderr).contains("cannot be reached"), "says why: {}", text(&out.stderr));
    let config = std::fs::read_to_string(dir.path().join("config.toml")).unwrap_or_default();
    assert!(!config.contains("postgres://"), "not saved: {config}");
}
