//! A hostile local peer: anything of the same user that can connect to a node's socket or
//! write into the runtime directory. What it sends is refused with a `rejected` event, and
//! the node goes on; nothing it sends reaches a terminal raw.

mod common;

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{events, eventually, interrupt, kind, socket_of};
use ipc_lab::engine::msg::sensor_msgs::Image;
use ipc_lab::engine::transport::frame::{Frame, FrameHeader, Payload};
use ipc_lab::engine::Message;

fn spawn(runtime: &Path, args: &[&str]) -> Child {
    common::command(runtime).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
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
    let _announced = common::announce_self(runtime.path());
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
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "timed out after {} lines: {:#?}",
                self.lines.len(),
                self.lines
            );
            if let Ok(line) = self.rx.recv_timeout(Duration::from_millis(100)) {
                self.lines.push(line);
            }
        }
    }

    /// Waits until the lines so far (not JSON: a child of a test) satisfy `done`.
    fn wait_until_lines(&mut self, done: impl Fn(&[String]) -> bool) {
        let start = Instant::now();
        while !done(&self.lines) {
            assert!(start.elapsed() < Duration::from_secs(60), "timed out after {:?}", self.lines);
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
    let announced = common::announce_self(runtime.path());
    let mut stream = UnixStream::connect(&socket).unwrap();
    let int32 = ipc_lab::engine::msg::std_msgs::Int32 { data: 1 }.to_cdr();
    stream.write_all(&frame("number", "std_msgs/msg/Int32", "\u{1b}[2J\u{1b}]0;owned\u{7}", int32)).unwrap();
    consumer.wait_until(|events| !kind(events, "rejected").is_empty());
    let out = consumer.finish();
    drop(announced);
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
    let _announced = common::announce_self(runtime.path());
    let before = open_fds(pid);
    let null = std::fs::File::open("/dev/null").unwrap();
    let fds = [null.as_raw_fd(); 8];
    let int32 = ipc_lab::engine::msg::std_msgs::Int32 { data: 1 }.to_cdr();
    let bytes = frame("number", "std_msgs/msg/Int32", "intruder", int32);
    // One at a time: a process has at most MAX_CONNECTIONS_PER_PEER connections read at once.
    for n in 1..=40 {
        let stream = UnixStream::connect(&socket).unwrap();
        let iov = [std::io::IoSlice::new(&bytes)];
        let _ = sendmsg::<()>(stream.as_raw_fd(), &iov, &[ControlMessage::ScmRights(&fds)], MsgFlags::empty(), None);
        consumer.wait_until(|events| kind(events, "rejected").len() >= n);
    }
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

/// An Int32 frame on `number` from this test process.
fn number_frame() -> Vec<u8> {
    frame("number", "std_msgs/msg/Int32", "intruder", ipc_lab::engine::msg::std_msgs::Int32 { data: 1 }.to_cdr())
}

/// A process that did not announce itself is not read: its frame is refused and its
/// connection closed (anything of the same user could hold a connection). The same frame
/// sent right after the process announced itself is received: the consumer has not scanned
/// since, and reads that one announcement again when the connection comes (a publisher
/// that just started writes its announcement before it can find us).
#[test]
fn only_announced_processes_are_read() {
    let runtime = tempfile::tempdir().unwrap();
    let mut consumer = Watched::new(spawn(runtime.path(), &["node", "consumer", "--format", "json"]));
    let socket = socket_of(runtime.path(), &consumer.child);
    let mut stranger = UnixStream::connect(&socket).unwrap();
    let _ = stranger.write_all(&number_frame());
    consumer.wait_until(|events| !kind(events, "rejected").is_empty());
    assert!(closed_by_peer(&mut stranger));

    let _announced = common::announce_self(runtime.path());
    UnixStream::connect(&socket).unwrap().write_all(&number_frame()).unwrap();
    consumer.wait_until(|events| !kind(events, "received").is_empty());
    let out = consumer.finish();
    let rejected = common::rejected_reasons(&out);
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(rejected[0].contains("no announcement"), "{rejected:?}");
    assert_eq!(kind(&out, "received").len(), 1);
}

/// Waits until the other end closes `stream` (a read gives 0 bytes or fails), for a
/// generous while.
fn closed_by_peer(stream: &mut UnixStream) -> bool {
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    match std::io::Read::read(stream, &mut [0u8; 64]) {
        Ok(n) => n == 0,
        Err(e) => !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
    }
}

/// Sixty-four connections that send nothing (they took every place, and no publisher could
/// connect again): a process gets at most MAX_CONNECTIONS_PER_PEER of them read, the
/// others are closed at once, those read are closed once SILENT_TIMEOUT passes, and a real
/// producer started meanwhile is received. The consumer's descriptors stay few.
#[test]
fn idle_connections_do_not_lock_out_publishers() {
    use ipc_lab::engine::transport::{MAX_CONNECTIONS, MAX_CONNECTIONS_PER_PEER};
    let runtime = tempfile::tempdir().unwrap();
    let mut consumer = Watched::new(spawn(runtime.path(), &["node", "consumer", "--format", "json"]));
    let socket = socket_of(runtime.path(), &consumer.child);
    let _announced = common::announce_self(runtime.path());
    let pid = consumer.child.id();
    let before = open_fds(pid);
    let mut idle: Vec<UnixStream> = (0..MAX_CONNECTIONS).map(|_| UnixStream::connect(&socket).unwrap()).collect();
    consumer.wait_until(|events| kind(events, "rejected").len() >= MAX_CONNECTIONS - MAX_CONNECTIONS_PER_PEER);
    // Two descriptors per connection read (it and its way back), a little slack (a refused
    // connection being dropped, a file the node is reading).
    assert!(open_fds(pid) <= before + 2 * MAX_CONNECTIONS_PER_PEER + 4, "{} > {before}", open_fds(pid));
    let producer = Watched::new(spawn(runtime.path(), &["node", "producer", "--period", "20ms", "--format", "json"]));
    consumer.wait_until(|events| {
        kind(events, "received").iter().any(|r| r["from_pid"].as_u64() == Some(u64::from(producer.child.id())))
    });
    // Every idle connection is closed, the ones read included.
    assert!(idle.iter_mut().all(closed_by_peer));
    consumer.wait_until(|events| kind(events, "rejected").len() >= MAX_CONNECTIONS);
    producer.finish();
    let out = consumer.finish();
    let reasons = common::rejected_reasons(&out);
    let silent = reasons.iter().filter(|r| r.contains("sent nothing")).count();
    let over = reasons.iter().filter(|r| r.contains("already has")).count();
    assert_eq!((silent, over), (MAX_CONNECTIONS_PER_PEER, MAX_CONNECTIONS - MAX_CONNECTIONS_PER_PEER), "{reasons:?}");
}

/// Slow peers: half a prefix and then nothing, a frame's head and then nothing, and then
/// a frame sent a byte every 200 ms (slowloris). Each is closed once FRAME_TIMEOUT passes
/// after its first byte, with a `rejected` event; nothing of them is received.
#[test]
fn stalled_frames_are_cut_off() {
    let runtime = tempfile::tempdir().unwrap();
    let mut consumer = Watched::new(spawn(runtime.path(), &["node", "consumer", "--format", "json"]));
    let socket = socket_of(runtime.path(), &consumer.child);
    let _announced = common::announce_self(runtime.path());
    let whole = number_frame();
    // Two at once: as many connections as one process gets read.
    let mut half_prefix = UnixStream::connect(&socket).unwrap();
    half_prefix.write_all(&whole[..8]).unwrap();
    let mut head_only = UnixStream::connect(&socket).unwrap();
    head_only.write_all(&whole[..whole.len() - 4]).unwrap();
    assert!(closed_by_peer(&mut half_prefix) && closed_by_peer(&mut head_only));
    consumer.wait_until(|events| kind(events, "rejected").len() == 2);
    let mut slowloris = UnixStream::connect(&socket).unwrap();
    // Bytes keep coming; at this pace the frame's ~90 bytes would take 18 s.
    let cut_off = whole.iter().cycle().take(1000).any(|byte| {
        std::thread::sleep(Duration::from_millis(200));
        slowloris.write_all(&[*byte]).is_err()
    });
    assert!(cut_off, "the slow frame was never cut off");
    let out = consumer.finish();
    let reasons = common::rejected_reasons(&out);
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(reasons.iter().all(|r| r.contains("stalled in the middle of a frame")), "{reasons:?}");
    assert!(kind(&out, "received").is_empty());
}

/// The peak resident memory of `pid` (`VmHWM`), in bytes.
fn peak_rss(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<usize>().unwrap() * 1024
}

/// Where a hostile child process (a test, run again) connects, and its runtime directory.
const CHILD_SOCKET: &str = "IPC_LAB_TEST_HOSTILE_CHILD_SOCKET";
const CHILD_RUNTIME: &str = "IPC_LAB_TEST_HOSTILE_CHILD_RUNTIME";

/// The socket and runtime directory, when this process is a hostile child.
fn hostile_child() -> Option<(PathBuf, PathBuf)> {
    let (socket, runtime) = (std::env::var_os(CHILD_SOCKET)?, std::env::var_os(CHILD_RUNTIME)?);
    Some((socket.into(), runtime.into()))
}

/// `n` processes of this test binary running `test` alone as a hostile child of `socket`;
/// each says `done` on stdout for each connection it has done with.
fn hostile_children(test: &str, n: usize, socket: &Path, runtime: &Path) -> Vec<Watched> {
    let spawn_one = || {
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", test, "--nocapture", "--test-threads", "1"])
            .env(CHILD_SOCKET, socket)
            .env(CHILD_RUNTIME, runtime)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Watched::new(child)
    };
    (0..n).map(|_| spawn_one()).collect()
}

/// Waits until each child said `done` `times` times (the first ends the test harness's own
/// line: `test ... done`).
fn all_done(children: &mut [Watched], times: usize) {
    for child in children {
        child.wait_until_lines(|lines| lines.join("\n").matches("done").count() == times);
    }
}

/// Bytes of each partial frame's payload that are sent: all but the last few of the 64 MiB
/// it declares.
const SENT: usize = 60 * 1024 * 1024;

/// What a hostile child does: announces itself, opens its two connections (as many as one
/// process gets read), and on each sends a frame declaring the largest payload with all
/// but its last 4 MiB; says `done` for each once the consumer took it or closed the
/// connection, then waits to be killed.
fn partial_frames_child(socket: &Path, runtime: &Path) {
    let _announced = common::announce_self(runtime);
    let mut head = frame("number", "std_msgs/msg/Int32", "intruder", Vec::new());
    head[12..16].copy_from_slice(&(ipc_lab::engine::transport::frame::MAX_PAYLOAD as u32).to_le_bytes());
    let payload = std::sync::Arc::new(vec![7u8; SENT]);
    let writers: Vec<_> = (0..2)
        .map(|_| {
            let mut stream = UnixStream::connect(socket).unwrap();
            let (head, payload) = (head.clone(), payload.clone());
            std::thread::spawn(move || {
                let _ = stream.write_all(&head).and_then(|()| stream.write_all(&payload));
                println!("done");
                stream
            })
        })
        .collect();
    let _streams: Vec<UnixStream> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    std::thread::sleep(Duration::from_secs(3600));
}

/// Eight partial frames, from four processes, each declaring 64 MiB and sending 60 MiB of
/// it (eight such frames raised a consumer from 5 to 509 MiB): the consumer's peak memory
/// grows by at most the budget for frames being read (PARTIAL_FRAMES_BUDGET, 256 MiB; the
/// frames sent are 480 MiB), and the frames cut off for stalling (or for waiting for room
/// longer than a frame may take) are each refused.
#[test]
fn partial_frames_hold_at_most_the_budget() {
    use ipc_lab::engine::transport::budget::PARTIAL_FRAMES_BUDGET;
    if let Some((socket, runtime)) = hostile_child() {
        return partial_frames_child(&socket, &runtime);
    }
    let runtime = tempfile::tempdir().unwrap();
    let mut consumer = Watched::new(spawn(runtime.path(), &["node", "consumer", "--format", "json"]));
    let socket = socket_of(runtime.path(), &consumer.child);
    let pid = consumer.child.id();
    let before = peak_rss(pid);
    let mut children = hostile_children("partial_frames_hold_at_most_the_budget", 4, &socket, runtime.path());
    // Every frame is read to the end of what was sent (or cut off), then cut off.
    all_done(&mut children, 2);
    consumer.wait_until(|events| kind(events, "rejected").len() >= 8);
    let grown = peak_rss(pid) - before;
    let out = consumer.finish();
    drop(children);
    let reasons = common::rejected_reasons(&out);
    assert!(grown < PARTIAL_FRAMES_BUDGET + 32 * 1024 * 1024, "grew by {} MiB", grown >> 20);
    assert!(grown > 128 * 1024 * 1024, "the frames were not read at all: {} MiB", grown >> 20);
    assert_eq!(reasons.len(), 8, "{reasons:?}");
    // Cut off for stalling, or, waiting for room in the budget, for taking too long.
    assert!(reasons.iter().all(|r| r.contains("stalled") || r.contains("memory budget")), "{reasons:?}");
}

/// What a child of `quiet_connections_make_room_for_a_publisher` does: announces itself,
/// sends one good frame on each of its two connections, says `done`, and waits.
fn one_frame_child(socket: &Path, runtime: &Path) {
    let _announced = common::announce_self(runtime);
    let _streams: Vec<UnixStream> = (0..2)
        .map(|_| {
            let mut stream = UnixStream::connect(socket).unwrap();
            stream.write_all(&number_frame()).unwrap();
            println!("done");
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_secs(3600));
}

/// Connections that sent one good frame and then nothing, two from each of 32 processes:
/// every place is taken, and no time limit holds between frames (a publisher may be quiet
/// as long as it likes). A real producer started then takes the place of the quietest
/// (QUIET_EVICTION) and is received; without that it was refused for as long as they stayed.
#[test]
fn quiet_connections_make_room_for_a_publisher() {
    use ipc_lab::engine::transport::{MAX_CONNECTIONS, MAX_CONNECTIONS_PER_PEER};
    if let Some((socket, runtime)) = hostile_child() {
        return one_frame_child(&socket, &runtime);
    }
    let runtime = tempfile::tempdir().unwrap();
    let mut consumer = Watched::new(spawn(runtime.path(), &["node", "consumer", "--format", "json"]));
    let socket = socket_of(runtime.path(), &consumer.child);
    let processes = MAX_CONNECTIONS / MAX_CONNECTIONS_PER_PEER;
    let mut children =
        hostile_children("quiet_connections_make_room_for_a_publisher", processes, &socket, runtime.path());
    all_done(&mut children, MAX_CONNECTIONS_PER_PEER);
    // Every connection is read: its frame was (and it stays, quiet, in its place).
    consumer.wait_until(|events| kind(events, "read").len() >= MAX_CONNECTIONS);
    let producer = Watched::new(spawn(runtime.path(), &["node", "producer", "--period", "20ms", "--format", "json"]));
    consumer.wait_until(|events| {
        kind(events, "received").iter().any(|r| r["from_pid"].as_u64() == Some(u64::from(producer.child.id())))
    });
    // The quiet connection is told within a read timeout, and then says why it ends.
    consumer.wait_until(|events| common::rejected_reasons(events).iter().any(|r| r.contains("make room")));
    producer.finish();
    let out = consumer.finish();
    drop(children);
    let reasons = common::rejected_reasons(&out);
    // (The producer's first tries may come before any place has been quiet long enough.)
    assert!(reasons.iter().all(|r| r.contains("make room") || r.contains("none quiet")), "{reasons:?}");
}
