//! Running the real `ipc-lab` binary, as a learner would.
// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// `ipc-lab` with colour off, a neutral locale (unless `--lang` is given), no display (a
/// test never opens a window), and a runtime directory of its own: processes in one runtime
/// directory and domain talk to each other, and tests run in parallel.
pub fn command(runtime: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ipc-lab"));
    command
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("ROS_DOMAIN_ID")
        .env("LANG", "C.UTF-8")
        .env("NO_COLOR", "1")
        .env("XDG_RUNTIME_DIR", runtime);
    command
}

/// Runs `ipc-lab` with `args` alone (its own runtime directory) and waits for it.
pub fn ipc_lab(args: &[&str]) -> Output {
    let runtime = tempfile::tempdir().expect("a temporary directory");
    command(runtime.path()).args(args).output().expect("the ipc-lab binary runs")
}

/// Stdout of a run that must succeed.
pub fn stdout_of(args: &[&str]) -> String {
    let out = ipc_lab(args);
    assert!(out.status.success(), "ipc-lab {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// The files left in a runtime directory (none once every ipc-lab process there is gone).
pub fn leftovers(runtime: &Path) -> Vec<String> {
    match std::fs::read_dir(runtime.join("ipc-lab")) {
        Ok(entries) => entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    }
}

/// Snapshots live in the top-level `snapshots/` folder.
#[macro_export]
macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}
