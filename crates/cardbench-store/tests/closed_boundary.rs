//! The closed store boundary: only `cardbench-store` (and the transports' and simulator's own
//! files) speak SQL. The crates that work on the worklist must not depend on `rusqlite`, and no
//! source of theirs writes SQL (docs/decisions/layers.md).

use std::path::Path;

/// The crates that work on the worklist, by manifest path from the workspace root.
const CLOSED: [&str; 8] = [
    "crates/cardbench-workflow/Cargo.toml",
    "crates/cardbench-documents/Cargo.toml",
    "crates/cardbench-devices/Cargo.toml",
    "crates/cardbench-runtime/Cargo.toml",
    "crates/cardbench-hooks/Cargo.toml",
    "crates/cardbench-api/Cargo.toml",
    "crates/cardbench-cli/Cargo.toml",
    "src-tauri/Cargo.toml",
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
    let found = offenders(&root, &CLOSED);
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

/// What SQL written outside the store looks like in Rust source.
const SQL_MARKS: [&str; 8] = ["rusqlite", "prepare_cached(", ".prepare(", "execute_batch(", "query_row(", ".execute(", "SAVEPOINT ", "PRAGMA "];

/// Every `.rs` file below `dir`.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_source_of_a_crate_that_works_on_the_worklist_writes_sql() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for manifest in CLOSED {
        let dir = root.join(manifest).parent().map(|d| d.join("src")).expect("a crate folder");
        sources(&dir, &mut files);
    }
    assert!(files.len() > 50, "the sources were found: {} files", files.len());
    let mut found = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("a source file");
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            if let Some(mark) = SQL_MARKS.iter().find(|m| line.contains(*m)) {
                found.push(format!("{}:{}: {mark}", path.display(), n + 1));
            }
        }
    }
    assert!(found.is_empty(), "SQL belongs in cardbench-store:\n{}", found.join("\n"));
}
