//! The app's start-up options: a bench measures a store it is given and never creates the
//! platform's data directory; a data directory given without a config keeps its config beside
//! the data (the rule is shared with the CLI: `cardbench_runtime::config::Locations`).

use std::path::Path;
use std::process::Command;

fn app(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cardbench-app"));
    cmd.env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("CARDBENCH_CONFIG")
        .env_remove("CARDBENCH_DATA_DIR")
        // Refused before any window: no display is needed, and none must be opened.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    cmd
}

#[test]
fn a_bench_without_a_store_is_refused_and_creates_nothing() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let out = app(&home).arg("--bench").output().expect("run the app");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--bench measures an existing store") && err.contains("--data-dir"), "{err}");
    assert!(!home.join(".local/share/cardbench").exists(), "the bench created the platform data directory");
}

#[test]
fn the_config_files_data_dir_is_where_the_app_looks() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let config = tmp.path().join("config.toml");
    let data = tmp.path().join("from-config");
    std::fs::write(&config, format!("data_dir = {:?}\n", data.display().to_string())).expect("config");
    let (file, dir) = cardbench_app::locations(Some(&config), None, true).expect("a store named by the config");
    assert_eq!((file.as_path(), dir.as_path()), (config.as_path(), data.as_path()));
    let given = tmp.path().join("given");
    let (file, dir) = cardbench_app::locations(None, Some(&given), false).expect("locations");
    assert_eq!((file, dir), (given.join("config.toml"), given.clone()));
}
