//! A hostile local peer: anything of the same user that can connect to a node's socket or
//! write into the runtime directory. What it sends is refused with a `rejected` event, and
//! the node goes on; nothing it sends reaches a terminal raw.

mod common;

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{events, interrupt, kind};
use ipc_lab::engine::msg::sensor_msgs::Image;
use ipc_lab::engine::transport::frame::{Frame, FrameHeader, Payload};
use ipc_lab::engine::Message;

fn spawn(runtime: &Path, args: &[&str]) -> Child {
    common::command(runtime).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

/// Waits until `cond` holds, for a generous while (a loaded machine is slow).
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The socket `child` listens on in domain 0, once it listens: its announcement is written
/// after that (the socket file appears at `bind`, a moment before `listen`, and a connection
/// then is refused).
fn socket_of(runtime: &Path, child: &Child) -> PathBuf {
    let dir = runtime.join("ipc-lab");
    let announcement = dir.join(format!("{}-0.json", child.id()));
    eventually("the node's announcement", || announcement.exists());
    dir.join(format!("{}-0.sock", child.id()))
}

/// A frame from this test process (the receiver checks the pid against the socket's peer).
fn frame(topic: &str, type_name: &str, node: &str, cdr: Vec<u8>) -> Vec<u8> {
    let header = FrameHeader {
        topic: topic.into(),
        type_name: type_name.into(),
        publisher_pid: std::process::id(),
        publisher_id: 1,
        seq: 1,
        node: node.into(),
        message_addr: 0,
        copied_bytes: 0,
        serialized_bytes: cdr.len() as u64,
        written_bytes: cdr.len() as u64,
    };
    Frame { header, payload: Payload::Bytes(cdr) }.encode()
}

fn image(width: u32, height: u32, encoding: &str, step: u32, data: usize) -> Vec<u8> {
    Image { width, height, encoding: encoding.into(), step, data: vec![7; data], ..Default::default() }.to_cdr()
}

/// Malformed images (no pixels, a size that overflows, a short step, too few or too many
/// bytes, an unknown encoding) are each refused, and a good image after them is shown: the
/// view does not die (width 0 and 2^31 x 2^31 panicked it).
#[test]
fn malformed_images_are_refused_and_the_view_goes_on() {
    let runtime = tempfile::tempdir().unwrap();
    let mut view =
        Watched::new(spawn(runtime.path(), &["node", "image_view_node", "--show", "none", "--format", "json"]));
    let socket = socket_of(runtime.path(), &view.child);
    let bad = [
        image(0, 4, "mono8", 0, 0),
        image(1 << 31, 1 << 31, "rgba8", 0, 0),
        image(1 << 31, 1 << 31, "rgba8", u32::MAX, 16),
        image(4, 4, "mono8", 2, 8),
        image(4, 4, "mono8", 4, 15),
        image(4, 4, "mono8", 4, 17),
        image(4, 4, "yuv422", 8, 32),
    ];
    let mut stream = UnixStream::connect(&socket).unwrap();
    // One at a time: the view's queue keeps the last 5 (sensor data QoS).
    for (n, cdr) in bad.into_iter().enumerate() {
        stream.write_all(&frame("watermarked_image", Image::TYPE_NAME, "camera", cdr)).unwrap();
        view.wait_until(|events| kind(events, "rejected").len() > n);
    }
    stream.write_all(&frame("watermarked_image", Image::TYPE_NAME, "camera", image(4, 4, "mono8", 4, 16))).unwrap();
    view.wait_until(|events| !kind(events, "received").is_empty());
    let out = view.finish();
    let rejected = kind(&out, "rejected");
    assert_eq!(rejected.len(), 7, "{rejected:?}");
    assert!(rejected.iter().all(|r| r["reason"].as_str().unwrap().contains("invalid message")), "{rejected:?}");
    assert_eq!(kind(&out, "received").len(), 1);
}

/// A node whose JSON events are read as they come.
struct Watched {
    child: Child,
    rx: crossbeam_channel::Receiver<String>,
    lines: Vec<String>,
}

impl Watched {
    fn new(mut child: Child) -> Watched {
        let (tx, rx) = crossbeam_channel::unbounded();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Watched { child, rx, lines: Vec::new() }
    }

    /// Waits until the events so far satisfy `done`.
    fn wait_until(&mut self, done: impl Fn(&[serde_json::Value]) -> bool) {
        let start = Instant::now();
        while !done(&events(&self.lines.join("\n"))) {
            assert!(start.elapsed() < Duration::from_secs(30), "timed out after {} lines", self.lines.len());
            if let Ok(line) = self.rx.recv_timeout(Duration::from_millis(100)) {
                self.lines.push(line);
            }
        }
    }

    /// Interrupts the node and returns all its events; it must exit cleanly, without a panic.
    fn finish(mut self) -> Vec<serde_json::Value> {
        interrupt(&self.child);
        let mut stderr = String::new();
        let _ = std::io::Read::read_to_string(&mut self.child.stderr.take().unwrap(), &mut stderr);
        let status = self.child.wait().unwrap();
        let lines: Vec<String> = self.lines.drain(..).chain(self.rx.iter()).collect();
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(status.success(), "{status:?}: {stderr}");
        events(&lines.join("\n"))
    }
}

impl Drop for Watched {
    /// A test that fails half-way leaves no node behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Escape sequences from another process never reach the terminal raw: a frame whose node
/// name clears the screen is refused, and `ps` shows a command line with an escape in it
/// escaped (`\u{1b}`).
#[test]
fn escape_sequences_from_peers_are_not_printed() {
    let runtime = tempfile::tempdir().unwrap();
    let mut consumer = Watched::new(spawn(runtime.path(), &["node", "consumer", "--format", "json"]));
    let socket = socket_of(runtime.path(), &consumer.child);
    let mut stream = UnixStream::connect(&socket).unwrap();
    let int32 = ipc_lab::engine::msg::std_msgs::Int32 { data: 1 }.to_cdr();
    stream.write_all(&frame("number", "std_msgs/msg/Int32", "\u{1b}[2J\u{1b}]0;owned\u{7}", int32)).unwrap();
    consumer.wait_until(|events| !kind(events, "rejected").is_empty());
    let out = consumer.finish();
    assert!(kind(&out, "rejected")[0]["reason"].as_str().unwrap().contains("control character"));
    assert!(kind(&out, "received").is_empty());

    // An announcement in our own name (a live pid, listening on its socket), with a hostile
    // command line.
    let dir = runtime.path().join("ipc-lab");
    let pid = std::process::id();
    let _listener = std::os::unix::net::UnixListener::bind(dir.join(format!("{pid}-0.sock"))).unwrap();
    let announcement = serde_json::json!({
        "pid": pid, "ppid": 1, "command": "ipc-lab \u{1b}[2J\u{1b}]0;owned\u{7}", "domain": 0, "started": 0,
        "ipc": "on", "transport": "socket", "socket": dir.join(format!("{pid}-0.sock")),
        "nodes": ["n\u{1b}[31m"], "publishers": [], "subscriptions": [],
    });
    std::fs::write(dir.join(format!("{pid}-0.json")), announcement.to_string()).unwrap();
    let ps = common::stdout_in(runtime.path(), &["ps"]);
    std::fs::remove_file(dir.join(format!("{pid}-0.json"))).unwrap();
    assert!(!ps.contains('\u{1b}') && !ps.contains('\u{7}'), "{ps:?}");
    assert!(ps.contains("\\u{1b}[2J"), "{ps}");
}

/// How many descriptors a process has open.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// Frames that come with many descriptors (8, where the protocol sends at most 1) are
/// refused and every descriptor is closed: forty such connections leave the consumer's
/// descriptor table as it was (each leaked 4, until no publisher could connect).
#[test]
fn passed_descriptors_are_never_leaked() {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    use std::os::fd::AsRawFd;
    let runtime = tempfile::tempdir().unwrap();
    let mut consumer = Watched::new(spawn(runtime.path(), &["node", "consumer", "--format", "json"]));
    let socket = socket_of(runtime.path(), &consumer.child);
    let pid = consumer.child.id();
    let before = open_fds(pid);
    let null = std::fs::File::open("/dev/null").unwrap();
    let fds = [null.as_raw_fd(); 8];
    let int32 = ipc_lab::engine::msg::std_msgs::Int32 { data: 1 }.to_cdr();
    let bytes = frame("number", "std_msgs/msg/Int32", "intruder", int32);
    // Under the cap on connections at once (each is refused and closed in turn).
    for _ in 0..40 {
        let stream = UnixStream::connect(&socket).unwrap();
        let iov = [std::io::IoSlice::new(&bytes)];
        let _ = sendmsg::<()>(stream.as_raw_fd(), &iov, &[ControlMessage::ScmRights(&fds)], MsgFlags::empty(), None);
    }
    consumer.wait_until(|events| kind(events, "rejected").len() >= 40);
    // The reader threads close their connections as they end; wait for the table to settle.
    eventually("the descriptors to be closed", || open_fds(pid) <= before + 4);
    let out = consumer.finish();
    let rejected = kind(&out, "rejected");
    assert!(rejected.iter().all(|r| r["reason"].as_str().unwrap().contains("8 descriptors")), "{rejected:?}");
    assert!(kind(&out, "received").is_empty());
}

/// Writes an announcement of `pid` in domain `domain` into `dir`: a node `listener`
/// subscribing to `number`, listening at `socket`, with `command` as its command line.
fn announce(dir: &Path, pid: u32, domain: u32, socket: &Path, command: &str) {
    let announcement = serde_json::json!({
        "pid": pid, "ppid": 1, "command": command, "domain": domain, "started": 0,
        "ipc": "on", "transport": "socket", "socket": socket, "nodes": ["listener"], "publishers": [],
        "subscriptions": [{ "node": "listener", "topic": "number", "type": "std_msgs/msg/Int32" }],
    });
    std::fs::write(dir.join(format!("{pid}-{domain}.json")), announcement.to_string()).unwrap();
}

/// A runtime directory, made as ipc-lab makes it (mode 0700).
fn runtime_dir() -> (tempfile::TempDir, PathBuf) {
    use std::os::unix::fs::DirBuilderExt;
    let runtime = tempfile::tempdir().unwrap();
    let dir = runtime.path().join("ipc-lab");
    std::fs::DirBuilder::new().mode(0o700).create(&dir).unwrap();
    (runtime, dir)
}

/// The (pid, domain) of every process `ps` shows.
fn ps_entries(runtime: &Path) -> Vec<(u64, u64)> {
    let ps = common::stdout_in(runtime, &["ps", "--json"]);
    events(&ps).iter().map(|p| (p["pid"].as_u64().unwrap(), p["domain"].as_u64().unwrap())).collect()
}

/// Announcements are believed only when they can be checked: one of a process that listens
/// on its own socket is shown; one that names a live process which does not hold the
/// socket (it would lend that process's name and memory to `ps`), and one over the size
/// limit (`MAX_ANNOUNCEMENT`, 64 KiB; a 50 MB one was read by every process every scan),
/// are not.
#[test]
fn forged_announcements_are_not_believed() {
    let (runtime, dir) = runtime_dir();
    let me = std::process::id();
    let socket = |pid: u32, domain: u32| dir.join(format!("{pid}-{domain}.sock"));
    let _mine = std::os::unix::net::UnixListener::bind(socket(me, 0)).unwrap();
    announce(&dir, me, 0, &socket(me, 0), "ipc-lab node listener");

    // A live process of ours that is not ipc-lab: the socket named after it is ours.
    let mut other = std::process::Command::new("sleep").arg("60").spawn().unwrap();
    let _planted = std::os::unix::net::UnixListener::bind(socket(other.id(), 0)).unwrap();
    announce(&dir, other.id(), 0, &socket(other.id(), 0), "ipc-lab node listener");

    // Everything checks out but the size.
    let _big = std::os::unix::net::UnixListener::bind(socket(me, 1)).unwrap();
    announce(&dir, me, 1, &socket(me, 1), &"x".repeat(100 * 1024));

    let shown = ps_entries(runtime.path());
    let _ = other.kill();
    let _ = other.wait();
    assert_eq!(shown, [(u64::from(me), 0)]);
}

/// Accepts every connection waiting on `listener` and returns how many bytes each brought
/// (a peer that dropped its end brings none).
fn bytes_per_connection(listener: &std::os::unix::net::UnixListener) -> Vec<usize> {
    listener.set_nonblocking(true).unwrap();
    let mut sizes = Vec::new();
    while let Ok((mut stream, _)) = listener.accept() {
        stream.set_nonblocking(false).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut bytes = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stream, &mut bytes);
        sizes.push(bytes.len());
    }
    sizes
}

/// A producer running while `dir` holds a forged subscriber of `number`: returns once it
/// has published 20 messages (its first scan, before any, read the announcement).
fn publish_beside_forgery(runtime: &Path) {
    let mut producer = Watched::new(spawn(runtime, &["node", "producer", "--period", "5ms", "--format", "json"]));
    producer.wait_until(|events| kind(events, "published").len() >= 20);
    producer.finish();
}

/// An announcement whose socket lies outside the runtime directory: no frame goes there
/// (publishers wrote every message to it).
#[test]
fn frames_never_go_to_a_socket_outside_the_runtime_dir() {
    let (runtime, dir) = runtime_dir();
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = elsewhere.path().join("outside.sock");
    let listener = std::os::unix::net::UnixListener::bind(&outside).unwrap();
    announce(&dir, std::process::id(), 0, &outside, "ipc-lab node listener");
    publish_beside_forgery(runtime.path());
    assert_eq!(bytes_per_connection(&listener), Vec::<usize>::new());
}

/// An announcement of a pid that holds the socket but did not open it (here a thread of
/// this process, whose id `/proc` knows, while the process listens): the publisher checks
/// the listener's pid (`SO_PEERCRED`) when it connects, and writes nothing.
#[test]
fn frames_go_only_to_the_announced_listener() {
    let (runtime, dir) = runtime_dir();
    let (tid_tx, tid_rx) = crossbeam_channel::bounded(1);
    let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(1);
    let thread = std::thread::spawn(move || {
        tid_tx.send(nix::unistd::gettid().as_raw() as u32).unwrap();
        let _ = stop_rx.recv();
    });
    let tid = tid_rx.recv().unwrap();
    let socket = dir.join(format!("{tid}-0.sock"));
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    announce(&dir, tid, 0, &socket, "ipc-lab node listener");
    publish_beside_forgery(runtime.path());
    let sizes = bytes_per_connection(&listener);
    drop(stop_tx);
    thread.join().unwrap();
    assert!(!sizes.is_empty(), "the announcement was believed, so the producer connected");
    assert!(sizes.iter().all(|&n| n == 0), "{sizes:?}");
}
