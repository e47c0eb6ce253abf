//! Files and directories only the service's own user may read: cardholder data lives in the
//! database, the documents and the logs, and the config names the broker. Files are 0600 and
//! directories 0700 whatever the umask (the desktop app runs under a login session's 0022);
//! the modes are set explicitly after creation, since `open(…, 0600)` is still masked.
//! Shared by the store, the config writer, the documents and the app's logs.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

pub const FILE_MODE: u32 = 0o600;
pub const DIR_MODE: u32 = 0o700;

/// Creates `dir` and its missing parents 0700. A directory that already exists keeps its mode
/// (it may be one the operator chose and shares); use [`make_private`] on one of our own.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)?;
    std::fs::set_permissions(dir, Permissions::from_mode(DIR_MODE))
}

/// Sets `path` (a directory of ours, or a file) to 0700 / 0600, without following a link.
pub fn make_private(path: &Path) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    let mode = if meta.is_dir() {
        DIR_MODE
    } else if meta.is_file() {
        FILE_MODE
    } else {
        return Ok(());
    };
    if meta.permissions().mode() & 0o7777 != mode {
        std::fs::set_permissions(path, Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Opens `path` for writing, truncated, created 0600 (an existing file is made 0600 too).
pub fn create_file(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new().write(true).create(true).truncate(true).mode(FILE_MODE).open(path)?;
    file.set_permissions(Permissions::from_mode(FILE_MODE))?;
    Ok(file)
}

/// Creates `path` for writing, 0600; fails with `AlreadyExists` rather than replace a file.
pub fn create_new_file(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).mode(FILE_MODE).open(path)
}

/// Writes `bytes` to `path` (0600), its directory made 0700 if it is missing.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_dir_all(dir)?;
    }
    create_file(path)?.write_all(bytes)
}

/// Replaces `path` with `bytes` so that a crash or a power cut leaves either the old file or the
/// new one, whole: a 0600 temporary file beside it, written and fsynced, renamed over it, and the
/// directory fsynced so the rename itself is on disk.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d.to_owned(),
        None => PathBuf::from("."),
    };
    create_dir_all(&dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = create_file(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).expect("stat").permissions().mode() & 0o7777
    }

    #[test]
    fn files_are_0600_and_new_directories_0700_whatever_was_there() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a/b/c.txt");
        write(&file, b"x").expect("write");
        assert_eq!((mode(&file), mode(&dir.path().join("a/b"))), (0o600, 0o700));
        let open = dir.path().join("open.txt");
        std::fs::write(&open, b"old").expect("write");
        std::fs::set_permissions(&open, Permissions::from_mode(0o644)).expect("chmod");
        write_atomic(&open, b"new").expect("replace");
        assert_eq!((mode(&open), std::fs::read(&open).expect("read")), (0o600, b"new".to_vec()));
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "no temporary file left behind");
    }
}
