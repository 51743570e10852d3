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

/// A full disk under the runtime directory: a node says it cannot announce itself and exits
/// 1 (it waited forever, unseen by `ps` and its peers), leaving no temporary file. Run in a
/// user and mount namespace with a tiny tmpfs, which `unshare` makes without privileges.
#[test]
fn a_full_disk_is_reported_and_leaves_nothing() {
    let binary = env!("CARGO_BIN_EXE_ipc-lab");
    let script = format!(
        "set -e; d=$(mktemp -d); mount -t tmpfs -o size=8k none \"$d\"; mkdir -m 700 \"$d/ipc-lab\"; \
         dd if=/dev/zero of=\"$d/fill\" bs=1k count=64 2>/dev/null || true; \
         XDG_RUNTIME_DIR=\"$d\" timeout 30 '{binary}' node consumer --count 1 --lang en || echo \"exit $?\"; \
         echo \"left: $(ls -A \"$d/ipc-lab\" | wc -l)\""
    );
    let out = Command::new("unshare").args(["-rm", "sh", "-c", &script]).env_remove("ROS_DOMAIN_ID").output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "unshare failed: {stderr}");
    assert!(stdout.contains("exit 1"), "{stdout} {stderr}");
    assert!(stdout.contains("left: 0"), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("No space left"), "{stderr}");
}

/// A disk that fills while `--show png:DIR` writes frames: the run stops with one line
/// naming the file and the reason (exit 1), and every file left in the folder is a whole
/// PNG (ends with its IEND chunk): no partial picture, no temporary. A tmpfs with room for
/// one frame, in a user and mount namespace as above.
#[test]
fn a_full_disk_leaves_no_partial_png() {
    let binary = env!("CARGO_BIN_EXE_ipc-lab");
    let script = format!(
        "set -e; d=$(mktemp -d); mount -t tmpfs -o size=64k none \"$d\"; mkdir \"$d/png\"; \
         dd if=/dev/zero of=\"$d/fill\" bs=1k count=128 2>/dev/null || true; truncate -s -10K \"$d/fill\"; \
         XDG_RUNTIME_DIR=\"$d\" timeout 60 '{binary}' image-pipeline --source synthetic --frames 30 --fps 0 \
           --show \"png:$d/png\" --lang en >/dev/null || echo \"exit $?\"; \
         echo \"pngs: $(ls \"$d/png\" | grep -c '\\.png$' || true)\"; \
         echo \"others: $(ls -A \"$d/png\" | grep -vc '\\.png$' || true)\"; \
         for f in \"$d\"/png/*.png; do [ -e \"$f\" ] || continue; \
           [ \"$(tail -c 8 \"$f\" | od -An -tx1 | tr -d ' \\n')\" = 49454e44ae426082 ] || echo \"partial: $f\"; done"
    );
    let out = Command::new("unshare").args(["-rm", "sh", "-c", &script]).env_remove("ROS_DOMAIN_ID").output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "unshare failed: {stderr}");
    assert!(stdout.contains("exit 1"), "{stdout} {stderr}");
    assert!(!stdout.contains("partial:"), "{stdout}");
    assert!(stdout.contains("others: 0"), "a temporary was left: {stdout}");
    assert!(!stdout.contains("pngs: 0"), "not one frame fitted: the test proves nothing: {stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("No space left") && stderr.contains("image_view_node-"), "{stderr}");
}

/// A symlink planted where a PNG frame will go is not written through: the file it points
/// to keeps its bytes, and the run says why it stopped.
#[test]
fn a_symlink_in_the_png_folder_is_not_followed() {
    let runtime = tempfile::tempdir().unwrap();
    let frames = runtime.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    let victim = runtime.path().join("victim");
    std::fs::write(&victim, b"keep").unwrap();
    std::os::unix::fs::symlink(&victim, frames.join("image_view_node-0001.png")).unwrap();
    let show = format!("png:{}", frames.display());
    let out = common::command(runtime.path())
        .args(["image-pipeline", "--source", "synthetic", "--frames", "2", "--fps", "0", "--show", &show])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("symlink"), "{stderr}");
}

/// The pid of the process announcing `node` in `runtime`, once there is one.
fn pid_of_node(runtime: &std::path::Path, node: &str) -> u32 {
    let start = std::time::Instant::now();
    loop {
        let ps = common::stdout_in(runtime, &["ps", "--json"]);
        let found = common::events(&ps)
            .into_iter()
            .find(|p| p["nodes"].as_array().is_some_and(|n| n.iter().any(|n| n == node)));
        if let Some(p) = found {
            return p["pid"].as_u64().unwrap() as u32;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "no process announced {node}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A node process of `--split` killed from outside: the parent notices, stops the other
/// node, says which node died and how, and exits 1 (it waited forever, or said "see its
/// message above" with no message). With and without `--count`, whichever node dies.
#[test]
fn a_killed_split_child_ends_the_run_with_its_name() {
    for (node, count) in [("producer", Some("50")), ("consumer", Some("50")), ("producer", None)] {
        let runtime = tempfile::tempdir().unwrap();
        let mut args = vec!["two-node", "--split", "--period", "100ms", "--format", "json"];
        args.extend(count.iter().flat_map(|c| ["--count", c]));
        let mut parent =
            common::command(runtime.path()).args(&args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let pid = pid_of_node(runtime.path(), node);
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGKILL).unwrap();
        let start = std::time::Instant::now();
        let status = loop {
            if let Some(status) = parent.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > std::time::Duration::from_secs(30) {
                let _ = parent.kill();
                let _ = parent.wait();
                panic!("the parent did not notice that {node} died");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut parent.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.code(), Some(1), "{node}: {stderr}");
        assert!(stderr.contains(node) && stderr.contains("SIGKILL"), "{node}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        let start = std::time::Instant::now();
        while !common::leftovers(runtime.path()).is_empty() {
            assert!(start.elapsed() < std::time::Duration::from_secs(30), "{:?}", common::leftovers(runtime.path()));
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

/// A node of `--split` stopped from outside with SIGTERM (it exits cleanly, as if its count
/// were reached): its peer, which would wait for it forever, is stopped after a grace, and
/// the run ends.
#[test]
fn a_terminated_split_child_does_not_leave_its_peer_waiting() {
    let runtime = tempfile::tempdir().unwrap();
    let args = ["cyclic", "--split", "--count", "50", "--period", "100ms", "--format", "json"];
    let mut parent =
        common::command(runtime.path()).args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let pid = pid_of_node(runtime.path(), "pipe1");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let start = std::time::Instant::now();
    while parent.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(30) {
            let _ = parent.kill();
            let _ = parent.wait();
            panic!("the run went on without pipe1");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The summary lines of a `--ipc both` run in JSON, as (ipc, receipts), and how many
/// `received` events each run showed.
fn both_receipts(json: &str) -> (Vec<(String, u64)>, [usize; 2]) {
    let events = common::events(json);
    let summaries = common::kind(&events, "summary")
        .into_iter()
        .map(|s| (s["ipc"].as_str().unwrap().to_string(), s["receipts"].as_u64().unwrap()))
        .collect();
    let shown = ["on", "off"].map(|ipc| events.iter().filter(|e| e["event"] == "received" && e["ipc"] == ipc).count());
    (summaries, shown)
}

/// `--ipc both` far past the number of rows that may wait for the other run
/// (`app::pairs::MAX_WAITING_ROWS`, 1024): the runs of the two children are paced, the
/// image pipeline's runs in turn are shown apart with a note; either way every receipt is
/// shown once and summed (the bound itself is tested in `app::pairs`).
#[test]
fn ipc_both_far_past_the_waiting_bound_keeps_every_receipt() {
    let json =
        common::stdout_of(&["two-node", "--ipc", "both", "--count", "3000", "--period", "0", "--format", "json"]);
    let on_off = |n: u64| vec![("on".to_string(), n), ("off".to_string(), n)];
    assert_eq!(both_receipts(&json), (on_off(3000), [3000, 3000]));

    let args = ["image-pipeline", "--ipc", "both", "--stable", "--frames", "600", "--fps", "0"];
    let out = common::ipc_lab(&[&args[..], &["--show", "none", "--size", "32x24", "--format", "json"]].concat());
    let json = common::succeeded(&args, out.clone());
    // Each frame is received by the watermark node and the view.
    assert_eq!(both_receipts(&json), (on_off(1200), [1200, 1200]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("at most 1024 rows wait for it"), "{stderr}");
}

/// The disk fills after the start: a running node that must write its announcement again
/// (here it was removed, while the node was stopped) says it lost touch and why, and exits
/// 1 (it went on unseen by its peers), leaving no temporary file.
#[test]
fn a_disk_full_later_is_reported_and_leaves_nothing() {
    let binary = env!("CARGO_BIN_EXE_ipc-lab");
    let script = format!(
        "d=$(mktemp -d); mount -t tmpfs -o size=64k none \"$d\" || exit 9; mkdir -m 700 \"$d/ipc-lab\"; \
         XDG_RUNTIME_DIR=\"$d\" '{binary}' node consumer --lang en --format json >/dev/null & pid=$!; \
         i=0; while [ ! -e \"$d/ipc-lab/$pid-0.json\" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; \
         kill -STOP $pid; dd if=/dev/zero of=\"$d/fill\" bs=1k count=256 2>/dev/null; \
         rm \"$d/ipc-lab/$pid-0.json\"; dd if=/dev/zero of=\"$d/fill2\" bs=1k count=256 2>/dev/null; \
         kill -CONT $pid; i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; \
         kill -9 $pid 2>/dev/null; wait $pid; echo \"exit $?\"; \
         echo \"left: $(ls -A \"$d/ipc-lab\" | grep -c tmp)\""
    );
    let out = Command::new("unshare").args(["-rm", "sh", "-c", &script]).env_remove("ROS_DOMAIN_ID").output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "unshare failed: {stderr}");
    assert!(stdout.contains("exit 1"), "{stdout} {stderr}");
    assert!(stdout.contains("left: 0"), "{stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("lost touch") && stderr.contains("No space left"), "{stderr}");
}
