//! The workflow decides; the store writes SQL. This crate names no SQL engine and writes no SQL,
//! so a second store engine is a change to `cardbench-store` alone.

use std::path::Path;

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The lines of `[section]` in a Cargo manifest.
fn section<'a>(manifest: &'a str, name: &str) -> Vec<&'a str> {
    let header = format!("[{name}]");
    manifest
        .lines()
        .skip_while(|l| l.trim() != header)
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .collect()
}

#[test]
fn the_workflow_does_not_depend_on_rusqlite() {
    let manifest = std::fs::read_to_string(crate_dir().join("Cargo.toml")).expect("Cargo.toml");
    let deps = section(&manifest, "dependencies");
    assert!(deps.iter().any(|l| l.starts_with("cardbench-store")), "the section was found: {deps:?}");
    let sql: Vec<&&str> = deps.iter().filter(|l| l.trim_start().starts_with("rusqlite")).collect();
    assert!(sql.is_empty(), "cardbench-workflow depends on rusqlite: {sql:?}");
}

/// Every `.rs` file below `dir`.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_workflow_source_writes_sql() {
    let mut found = Vec::new();
    let mut files = Vec::new();
    sources(&crate_dir().join("src"), &mut files);
    assert!(files.len() > 10, "the sources were found: {files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).expect("source");
        for (n, line) in text.lines().enumerate() {
            for needle in ["rusqlite", "prepare_cached(", ".prepare(", "execute_batch(", "query_row(", ".execute(", "SAVEPOINT", "PRAGMA"] {
                if line.contains(needle) {
                    found.push(format!("{}:{}: {needle}", path.display(), n + 1));
                }
            }
        }
    }
    assert!(found.is_empty(), "SQL belongs in cardbench-store:\n{}", found.join("\n"));
}
