//! Running the real `ipc-lab` binary, as a learner would.

use std::process::{Command, Output};

/// Runs `ipc-lab` with `args`, colour off and a neutral locale unless `--lang` is given, and
/// no display: a test never opens a window.
pub fn ipc_lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ipc-lab"))
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
        .env("NO_COLOR", "1")
        .output()
        .expect("the ipc-lab binary runs")
}

/// Stdout of a run that must succeed.
pub fn stdout_of(args: &[&str]) -> String {
    let out = ipc_lab(args);
    assert!(out.status.success(), "ipc-lab {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
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
