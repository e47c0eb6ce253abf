//! The hot folder takes every result file it finds and moves it away: pointed at a directory of
//! our own (the data directory with the live database, the config, the logs, the documents) it
//! would carry Cardbench's own files off into `failed/`. These checks refuse such a folder, by
//! what the paths really are (links and `..` resolved), not by how they are spelled.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// A directory the hot folder must stay clear of, with the name an operator knows it by
/// ("the data directory").
pub type OwnDirectory = (&'static str, PathBuf);

/// `Err(reason)` when `folder` is, contains or lies inside one of `own`.
pub fn refuse_own_directories(folder: &Path, own: &[OwnDirectory]) -> Result<(), String> {
    let hot = resolve(folder);
    let own: Vec<(&str, PathBuf)> = own.iter().map(|(name, dir)| (*name, resolve(dir))).collect();
    // The plainest relation is named first: "is the data directory" rather than "contains
    // the log directory" for the same folder.
    let holds = |relation: &str, dir: &Path| match relation {
        "is" => hot == dir,
        "lies inside" => hot.starts_with(dir),
        _ => dir.starts_with(&hot),
    };
    for relation in ["is", "lies inside", "contains"] {
        let Some((name, dir)) = own.iter().find(|(_, dir)| holds(relation, dir)) else {
            continue;
        };
        return Err(format!(
            "it {relation} {name} ({}): the hot folder moves every file it takes, and would carry Cardbench's own files away. Choose a folder of its own for the encoder's result files",
            dir.display()
        ));
    }
    Ok(())
}

/// `true` when `a` and `b` are the same directory once resolved.
pub fn same_directory(a: &Path, b: &Path) -> bool {
    resolve(a) == resolve(b)
}

/// The absolute path with every link resolved, for a path whose tail may not exist yet (a data
/// directory made at first start): the longest existing part is canonicalised and the rest
/// appended, `.` and `..` taken lexically.
pub fn resolve(path: &Path) -> PathBuf {
    let absolute =
        if path.is_absolute() { path.to_owned() } else { std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_owned()) };
    let components: Vec<Component<'_>> = absolute.components().collect();
    for split in (0..=components.len()).rev() {
        let head: PathBuf = components[..split].iter().collect();
        let Ok(mut resolved) = head.canonicalize() else {
            continue;
        };
        let tail: Vec<OsString> = components[split..].iter().map(|c| c.as_os_str().to_owned()).collect();
        for part in tail {
            if part == ".." {
                resolved.pop();
            } else if part != "." {
                resolved.push(part);
            }
        }
        return resolved;
    }
    absolute
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_inside_containing_and_through_a_link_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("logs")).expect("mkdir");
        let own = [("the data directory", data.clone())];
        assert!(refuse_own_directories(&data, &own).expect_err("same").contains("it is the data directory"));
        assert!(refuse_own_directories(&data.join("logs"), &own).expect_err("inside").contains("lies inside"));
        assert!(refuse_own_directories(&data.join("not-yet/x"), &own).expect_err("inside, not made yet").contains("lies inside"));
        assert!(refuse_own_directories(dir.path(), &own).expect_err("contains").contains("contains"));
        assert!(refuse_own_directories(&dir.path().join("x/../data"), &own).is_err(), "spelled with ..");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&data, &link).expect("symlink");
        assert!(refuse_own_directories(&link, &own).expect_err("a link to it").contains("it is the data directory"));
        refuse_own_directories(&dir.path().join("hot"), &own).expect("a sibling is fine");
        refuse_own_directories(&dir.path().join("data-hot"), &own).expect("a name that merely starts alike is fine");
    }
}
