//! The closed store boundary: only `cardbench-store` (and the transports' and simulator's own
//! files) speak SQL. The crates that work on the worklist must not depend on `rusqlite`.

use std::path::Path;

/// The crates that work on the worklist, by manifest path from the workspace root.
const CLOSED: [&str; 6] = [
    "crates/cardbench-workflow/Cargo.toml",
    "crates/cardbench-documents/Cargo.toml",
    "crates/cardbench-devices/Cargo.toml",
    "crates/cardbench-runtime/Cargo.toml",
    "crates/cardbench-cli/Cargo.toml",
    "src-tauri/Cargo.toml",
];

/// Crates allowed `rusqlite` for now. The lead empties this when the engineer moving the
/// workflow's SQL (ingest, production) behind store functions has merged.
const NOT_YET_CLOSED: [&str; 1] = [
    "crates/cardbench-workflow/Cargo.toml", // removed when the workflow's SQL is in the store (issue 14)
];

/// The lines of a TOML `[section]` (up to the next header).
fn section<'a>(manifest: &'a str, name: &str) -> Vec<&'a str> {
    let header = format!("[{name}]");
    manifest
        .lines()
        .skip_while(|l| l.trim() != header)
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .collect()
}

/// Does a dependency line name rusqlite (`rusqlite = …`, `rusqlite.workspace = true`, or a
/// renamed `db = { package = "rusqlite" … }`)?
fn names_rusqlite(line: &str) -> bool {
    let line = line.split('#').next().unwrap_or("").trim();
    let key = line.split(['=', '.']).next().unwrap_or("").trim();
    key == "rusqlite" || line.replace(' ', "").contains("package=\"rusqlite\"")
}

pub fn offenders(root: &Path, manifests: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for m in manifests {
        let text = std::fs::read_to_string(root.join(m)).unwrap_or_else(|e| panic!("cannot read {m}: {e}"));
        for name in ["dependencies", "build-dependencies"] {
            if section(&text, name).into_iter().any(names_rusqlite) {
                found.push(format!("{m} [{name}]"));
            }
        }
    }
    found
}

#[test]
fn no_crate_that_works_on_the_worklist_depends_on_rusqlite() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let checked: Vec<&str> = CLOSED.into_iter().filter(|m| !NOT_YET_CLOSED.contains(m)).collect();
    let found = offenders(&root, &checked);
    assert!(found.is_empty(), "these crates depend on rusqlite; their SQL belongs in cardbench-store: {found:?}");
}

#[test]
fn the_check_sees_a_dependency_on_rusqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in [
        ("plain.toml", "[package]\nname = \"x\"\n\n[dependencies]\nserde = \"1\"\nrusqlite.workspace = true\n"),
        ("renamed.toml", "[dependencies]\ndb = { package = \"rusqlite\", version = \"0.32\" }\n"),
        ("dev-only.toml", "[dependencies]\nserde = \"1\"\n\n[dev-dependencies]\nrusqlite = \"0.32\"\n"),
    ] {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    let found = offenders(dir.path(), &["plain.toml", "renamed.toml", "dev-only.toml"]);
    assert_eq!(found, ["plain.toml [dependencies]", "renamed.toml [dependencies]"], "dev-dependencies may keep it for fixtures");
}
