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
    neutral(&mut command, runtime);
    command
}

/// [`command`] for a run that may send network traffic (the bench's `dds` path, in a build
/// with the `dds` feature): inside a network namespace of its own where only loopback is
/// up, so that nothing can leave the machine. A plain [`command`] without the feature.
pub fn command_offline(runtime: &Path) -> Command {
    if !cfg!(feature = "dds") {
        return command(runtime);
    }
    let mut command = Command::new("unshare");
    command.args(["-n", "--", "sh", "-c", "ip link set lo up && exec \"$@\"", "sh", env!("CARGO_BIN_EXE_ipc-lab")]);
    neutral(&mut command, runtime);
    command
}

/// The environment of [`command`].
fn neutral(command: &mut Command, runtime: &Path) {
    command
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("ROS_DOMAIN_ID")
        // Piped and without COLUMNS, the views have no width limit: every test sees the
        // same lines whatever terminal runs it.
        .env_remove("COLUMNS")
        .env("LANG", "C.UTF-8")
        .env("NO_COLOR", "1")
        .env("XDG_RUNTIME_DIR", runtime);
}

/// Runs `ipc-lab` with `args` alone (its own runtime directory) and waits for it.
pub fn ipc_lab(args: &[&str]) -> Output {
    let runtime = tempfile::tempdir().expect("a temporary directory");
    command(runtime.path()).args(args).output().expect("the ipc-lab binary runs")
}

/// Stdout of a run that must succeed.
pub fn stdout_of(args: &[&str]) -> String {
    succeeded(args, ipc_lab(args))
}

/// Stdout of a run in `runtime` that must succeed (to look at what it left there after).
pub fn stdout_in(runtime: &Path, args: &[&str]) -> String {
    succeeded(args, command(runtime).args(args).output().expect("the ipc-lab binary runs"))
}

/// The stdout of a finished run, which must have succeeded.
pub fn succeeded(args: &[&str], out: Output) -> String {
    assert!(out.status.success(), "ipc-lab {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// JSON lines (`--format json`, `bench --json`): every line one object, or the test fails.
pub fn events(json: &str) -> Vec<serde_json::Value> {
    json.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}"))).collect()
}

/// The events named `name`.
pub fn kind<'a>(events: &'a [serde_json::Value], name: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["event"] == name).collect()
}

/// The files left in a runtime directory (none once every ipc-lab process there is gone).
pub fn leftovers(runtime: &Path) -> Vec<String> {
    match std::fs::read_dir(runtime.join("ipc-lab")) {
        Ok(entries) => entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    }
}

/// Ctrl-C, as a learner presses it.
pub fn interrupt(child: &std::process::Child) {
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(kill.success());
}

/// Stops a node with Ctrl-C, checks that it ended cleanly without a panic, and returns its
/// JSON events: a hostile peer's frames must cost events, never the node.
pub fn stop_cleanly(node: std::process::Child) -> Vec<serde_json::Value> {
    interrupt(&node);
    let out = node.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    events(&String::from_utf8(out.stdout).unwrap())
}

/// Why a process refused what it refused: the reasons of its `rejected` events.
pub fn rejected_reasons(events: &[serde_json::Value]) -> Vec<&str> {
    kind(events, "rejected").iter().map(|r| r["reason"].as_str().unwrap()).collect()
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

/// The reading end of a connection from a publisher process, as a subscriber process reads
/// it: whole frames, each acknowledged once read (a publisher keeps only a few frames
/// unacknowledged in the socket). Descriptors that come along are closed unread.
pub struct FrameReader {
    pub stream: std::os::unix::net::UnixStream,
    /// Bytes read that do not make a whole frame yet.
    buf: Vec<u8>,
}

impl FrameReader {
    pub fn new(stream: std::os::unix::net::UnixStream) -> FrameReader {
        FrameReader { stream, buf: Vec::new() }
    }

    /// The header of the next whole frame, acknowledged; `None` if the stream ends or its
    /// read timeout passes first (what was read is kept for the next call).
    pub fn next(&mut self) -> Option<ipc_lab::engine::transport::frame::FrameHeader> {
        use ipc_lab::engine::transport::frame::{AckFrame, FrameHeader, Prefix, MAX_PAYLOAD, PREFIX_LEN};
        use std::io::{Read, Write};
        loop {
            if let Some(prefix) = self.buf.first_chunk::<PREFIX_LEN>() {
                let prefix = Prefix::decode(prefix, MAX_PAYLOAD).expect("a well-formed frame");
                let total = PREFIX_LEN + prefix.header_len + prefix.payload_len;
                if self.buf.len() >= total {
                    let header = FrameHeader::decode(&self.buf[PREFIX_LEN..PREFIX_LEN + prefix.header_len]);
                    self.buf.drain(..total);
                    self.stream.write_all(&AckFrame { frames: 1 }.encode()).ok()?;
                    return Some(header.expect("a well-formed header"));
                }
            }
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

/// The socket `child` listens on in domain 0, once it listens: its announcement is written
/// after that (the socket file appears at `bind`, a moment before `listen`, and a connection
/// then is refused).
pub fn socket_of(runtime: &Path, child: &std::process::Child) -> std::path::PathBuf {
    let dir = runtime.join("ipc-lab");
    let announcement = dir.join(format!("{}-0.json", child.id()));
    eventually("the node's announcement", || announcement.exists());
    dir.join(format!("{}-0.sock", child.id()))
}

/// Waits until `cond` holds. The bound is only there so that a broken run ends: it is
/// generous, as the machine is shared and slow under load, and no test asserts how long
/// anything took.
pub fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// This test process, announced in `runtime`'s domain 0 as an ipc-lab process with no
/// endpoint (listening on its own socket there): a node reads connections only from
/// processes that announce themselves. The runtime directory must exist (a node made it).
/// The files go when it is dropped.
pub struct Announced {
    _listener: std::os::unix::net::UnixListener,
    files: [std::path::PathBuf; 2],
}

pub fn announce_self(runtime: &Path) -> Announced {
    let dir = runtime.join("ipc-lab");
    let pid = std::process::id();
    let socket = dir.join(format!("{pid}-0.sock"));
    let listener = std::os::unix::net::UnixListener::bind(&socket).expect("our socket in the runtime directory");
    let announcement = serde_json::json!({
        "pid": pid, "ppid": 1, "command": "a test", "domain": 0, "started": 0,
        "ipc": "off", "transport": "socket", "socket": socket, "nodes": [], "publishers": [],
        "subscriptions": [],
    });
    let file = dir.join(format!("{pid}-0.json"));
    std::fs::write(&file, announcement.to_string()).expect("our announcement");
    Announced { _listener: listener, files: [socket, file] }
}

impl Drop for Announced {
    fn drop(&mut self) {
        for file in &self.files {
            let _ = std::fs::remove_file(file);
        }
    }
}
