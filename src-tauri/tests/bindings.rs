//! The UI's types come from the Rust types, never by hand: this test regenerates
//! `ui/src/lib/bindings/` (run it after changing `src/dto.rs`) and fails on CI when the committed
//! files are stale. It also checks that the capability grants exactly our commands and that the
//! UI's typed client declares exactly them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".ts") {
                out.insert(name, std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
    }
    out
}

#[test]
fn bindings_are_generated_from_the_rust_types() {
    let target = repo().join("ui/src/lib/bindings");
    let before = read_dir(&target);
    let scratch = tempfile::tempdir().expect("tempdir");
    cardbench_app::dto::export_all(scratch.path()).expect("export the bindings");
    let fresh = read_dir(scratch.path());
    assert!(fresh.contains_key("WorklistPage.ts") && fresh.contains_key("AppEvent.ts"), "{:?}", fresh.keys());
    if fresh != before {
        if std::env::var_os("CI").is_some() {
            panic!("ui/src/lib/bindings is stale: run `cargo test -p cardbench-app --test bindings` and commit the result");
        }
        let _ = std::fs::remove_dir_all(&target);
        std::fs::create_dir_all(&target).expect("create the bindings dir");
        for (name, text) in &fresh {
            std::fs::write(target.join(name), text).expect("write a binding");
        }
    }
}

#[test]
fn the_capability_grants_exactly_our_commands() {
    let text = std::fs::read_to_string(repo().join("src-tauri/capabilities/main.json")).expect("capability file");
    let cap: serde_json::Value = serde_json::from_str(&text).expect("capability JSON");
    let granted: Vec<String> = cap["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .filter_map(|p| p.as_str())
        .map(str::to_owned)
        .collect();
    let mut wanted: Vec<String> = cardbench_app::COMMANDS.iter().map(|c| format!("allow-{}", c.replace('_', "-"))).collect();
    wanted.extend(["core:event:allow-listen".to_owned(), "core:event:allow-unlisten".to_owned()]);
    let (mut g, mut w) = (granted.clone(), wanted.clone());
    g.sort();
    w.sort();
    assert_eq!(g, w, "the capability must grant our commands and event listening, nothing else");
    assert_eq!(cap["windows"], serde_json::json!(["main"]));
    assert!(cap.get("remote").is_none(), "no remote content may call commands");
}

#[test]
fn the_ui_client_declares_exactly_our_commands() {
    let api = std::fs::read_to_string(repo().join("ui/src/lib/api.ts")).expect("ui/src/lib/api.ts");
    let start = api.find("export interface Commands {").expect("Commands interface");
    let body = &api[start..api[start..].find("\n}").map(|i| start + i).expect("end of Commands")];
    let mut declared: Vec<&str> = body
        .lines()
        .skip(1)
        .filter_map(|l| l.trim().split_once(':').map(|(name, _)| name.trim()))
        .filter(|n| !n.is_empty())
        .collect();
    let mut ours: Vec<&str> = cardbench_app::COMMANDS.to_vec();
    declared.sort();
    ours.sort();
    assert_eq!(declared, ours);
}
