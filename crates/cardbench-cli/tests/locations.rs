//! Where the CLI keeps its config and data: a data directory given without a config file keeps
//! its config beside the data (a trial store never touches the user's real settings), and a
//! bench never creates the platform's data directory.

mod common;

use std::path::Path;
use std::process::Command;

/// `cardbench` with a home of its own and nothing of the caller's environment that places files.
fn cardbench(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cardbench"));
    cmd.env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("CARDBENCH_CONFIG")
        .env_remove("CARDBENCH_DATA_DIR")
        .env_remove("CARDBENCH_OPERATOR");
    cmd
}

#[test]
fn a_data_dir_without_a_config_keeps_its_config_beside_the_data() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let home = tmp.path().join("home");
    let data = tmp.path().join("trial");
    std::fs::create_dir_all(&home).expect("home");

    let out = cardbench(&home).arg("--data-dir").arg(&data).args(["config", "set-operator", "Ann Trial"]).output().expect("run");
    assert!(out.status.success(), "{}", common::text(&out.stderr));
    let beside = std::fs::read_to_string(data.join("config.toml")).expect("config.toml beside the data");
    assert!(beside.contains("Ann Trial"), "{beside}");
    assert!(!home.join(".config").exists(), "the user's config directory was written");

    // The environment's data directory follows the same rule.
    let out = cardbench(&home).env("CARDBENCH_DATA_DIR", &data).args(["--json", "config", "show"]).output().expect("run");
    assert!(out.status.success(), "{}", common::text(&out.stderr));
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(shown["configFile"].as_str().map(Path::new), Some(data.join("config.toml").as_path()), "{shown}");
    assert_eq!(shown["config"]["operator"], "Ann Trial", "{shown}");

    // A config file given explicitly still wins.
    let explicit = tmp.path().join("elsewhere.toml");
    let out = cardbench(&home).arg("--data-dir").arg(&data).arg("--config").arg(&explicit).args(["config", "set-operator", "Bo"]).output().expect("run");
    assert!(out.status.success(), "{}", common::text(&out.stderr));
    assert!(std::fs::read_to_string(&explicit).expect("explicit config").contains("Bo"));
    assert!(std::fs::read_to_string(data.join("config.toml")).expect("beside").contains("Ann Trial"));
}

#[test]
fn a_bench_never_creates_the_platform_data_directory() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let out = cardbench(&home).args(["bench", "--only", "slip"]).output().expect("run");
    assert!(out.status.success(), "{}", common::text(&out.stderr));
    assert!(common::text(&out.stdout).contains("packing slip"), "{}", common::text(&out.stdout));
    assert!(!home.join(".local/share/cardbench").exists(), "the bench created the platform data directory");
}
