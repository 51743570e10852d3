//! Faults around a run: closed streams, a full disk, a node process that dies. Each must end
//! in one clear line and a non-zero code (or carry on, where that is right), never in a
//! panic, a hang or files left behind.

mod common;

use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

/// A pipe whose reading end is already closed: writing to it fails with EPIPE.
fn closed_pipe() -> OwnedFd {
    let (read, write) = nix::unistd::pipe().expect("a pipe");
    drop(read);
    write
}

/// Runs `command` with a closed stderr; returns its exit code.
fn with_closed_stderr(mut command: Command) -> Option<i32> {
    let status = command.stdout(Stdio::null()).stderr(Stdio::from(closed_pipe())).status().expect("ipc-lab runs");
    status.code()
}

/// Notices go to stderr; a closed stderr (`2>&1 >/dev/null | true`) loses them without a
/// panic (exit code 101) and the run goes on to its normal end.
#[test]
fn a_closed_stderr_only_loses_the_notices() {
    let runtime = tempfile::tempdir().unwrap();
    // The `--source auto` notice: this build has no camera.
    let mut image = common::command(runtime.path());
    image.args(["image-pipeline", "--frames", "2", "--show", "none", "--fps", "0"]);
    assert_eq!(with_closed_stderr(image), Some(0));

    // The notice that a demo runs alone because the runtime directory is unsafe.
    let open = tempfile::tempdir().unwrap();
    let dir = open.path().join("ipc-lab");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut demo = common::command(open.path());
    demo.args(["two-node", "--count", "2", "--period", "0"]);
    assert_eq!(with_closed_stderr(demo), Some(0));
}

/// `echo`'s "waiting for a publisher" notice on a closed stderr: the echo still prints the
/// message once a publisher comes.
#[test]
fn echo_waits_and_prints_with_a_closed_stderr() {
    let runtime = tempfile::tempdir().unwrap();
    let echo = common::command(runtime.path())
        .args(["echo", "number", "--count", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::from(closed_pipe()))
        .spawn()
        .unwrap();
    let mut producer = common::command(runtime.path())
        .args(["node", "producer", "--period", "50ms", "--format", "json"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let out = echo.wait_with_output().unwrap();
    let _ = producer.kill();
    let _ = producer.wait();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("data:"), "{out:?}");
}
