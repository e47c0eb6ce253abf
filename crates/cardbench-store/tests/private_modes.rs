//! The store's files are the service user's alone: the data directory 0700, the database and
//! its -wal and -shm 0600, whatever the umask, and an older store opened again is tightened.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use cardbench_store::Store;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o7777
}

fn write_something(store: &Store) {
    store
        .write(|tx| {
            tx.execute_batch("CREATE TABLE IF NOT EXISTS mode_probe (x); INSERT INTO mode_probe VALUES (1);")
                .map_err(cardbench_store::StoreError::from)
        })
        .expect("write");
}

#[test]
fn the_data_directory_the_database_and_its_wal_and_shm_are_private() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let store = Store::open_in(&data).expect("open");
    write_something(&store);
    let db = data.join("cardbench.sqlite");
    assert_eq!(mode(&data), 0o700, "data directory");
    for file in [db.clone(), data.join("cardbench.sqlite-wal"), data.join("cardbench.sqlite-shm")] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    drop(store);

    // A store from before: everything readable by all. Opening it again tightens it.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let store = Store::open_in(&data).expect("reopen");
    write_something(&store);
    assert_eq!(mode(&data), 0o700);
    for file in [db, data.join("cardbench.sqlite-wal"), data.join("cardbench.sqlite-shm")] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}
