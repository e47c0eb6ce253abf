//! Running the real `cardbench` binary against one test folder.

#![allow(dead_code)] // each test file uses its own part of this

pub mod services;

use std::path::Path;
use std::process::{Command, Output};

/// `cardbench` with its data and config in `dir`, audited as `operator` (None: no name given, and
/// none inherited from the environment running the tests).
pub fn command(dir: &Path, operator: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cardbench"));
    cmd.env("CARDBENCH_DATA_DIR", dir).env("CARDBENCH_CONFIG", dir.join("config.toml"));
    match operator {
        Some(name) => cmd.env("CARDBENCH_OPERATOR", name),
        None => cmd.env_remove("CARDBENCH_OPERATOR"),
    };
    cmd
}

/// Runs `cardbench args…` to the end.
pub fn run(dir: &Path, operator: Option<&str>, args: &[&str]) -> Output {
    command(dir, operator).args(args).output().expect("run cardbench")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
