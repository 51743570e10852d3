//! A subscriber process that stops reading (stopped with SIGSTOP, or just stuck) costs the
//! publisher nothing: its in-process subscriptions get every message, it never waits for the
//! stopped one, keeps one connection to it, and when the stopped one reads again it finds
//! at most half the publisher's depth of old messages in the socket (and the depth waiting
//! behind them), not the kernel's buffer full of them.
//!
//! The stopped subscriber is this test process: it announces a subscription, accepts the
//! publisher's connection and reads nothing (as a process stopped with SIGSTOP does), then
//! reads what waits for it (as after SIGCONT).

mod common;

use std::io::Read;
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use common::{events, eventually, kind, FrameReader};
use ipc_lab::engine::transport::discovery::{self, Announcement, Endpoint};
use serde_json::Value;

/// The publisher's keep-last depth in `two-node` (`create_publisher::<Int32>(output, 10)`).
const DEPTH: usize = 10;
/// Of its frames, how many may be in the socket unacknowledged: half the depth.
const WINDOW: usize = DEPTH / 2;

/// This process, announced in `runtime` as a subscriber of `number` that reads nothing.
struct StoppedSubscriber {
    listener: UnixListener,
    dir: PathBuf,
}

impl StoppedSubscriber {
    fn announce(runtime: &Path) -> StoppedSubscriber {
        let dir = runtime.join("ipc-lab");
        std::fs::DirBuilder::new().mode(0o700).create(&dir).unwrap();
        let socket = discovery::socket_path(&dir, std::process::id(), 0);
        let listener = UnixListener::bind(&socket).unwrap();
        listener.set_nonblocking(true).unwrap();
        let endpoint =
            Endpoint { node: "stopped".into(), topic: "number".into(), type_name: "std_msgs/msg/Int32".into() };
        let announcement = Announcement {
            pid: std::process::id(),
            ppid: 1,
            command: "stopped".into(),
            domain: 0,
            started: 0,
            ipc: "off".into(),
            transport: "socket".into(),
            socket,
            nodes: vec!["stopped".into()],
            publishers: Vec::new(),
            subscriptions: vec![endpoint],
        };
        discovery::write(&dir, &announcement).unwrap();
        StoppedSubscriber { listener, dir }
    }

    /// Every connection the publisher made to us so far.
    fn accept_all(&self) -> Vec<std::os::unix::net::UnixStream> {
        std::iter::from_fn(|| self.listener.accept().ok().map(|(stream, _)| stream)).collect()
    }
}

impl Drop for StoppedSubscriber {
    fn drop(&mut self) {
        discovery::remove(&self.dir, std::process::id(), 0);
    }
}

/// `two-node --ipc on` publishing `count` numbers as fast as it can, over `transport`, to
/// its own consumer and to this stopped process; its events once it is done.
fn publish_past_a_stopped_subscriber(transport: &str, count: usize) -> (Vec<Value>, Vec<FrameReader>) {
    let runtime = tempfile::tempdir().unwrap();
    let stopped = StoppedSubscriber::announce(runtime.path());
    let count_arg = count.to_string();
    let args = ["two-node", "--ipc", "on", "--period", "0", "--count", &count_arg, "--transport", transport];
    let mut child: Child = common::command(runtime.path())
        .args(args)
        .args(["--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read on threads: a full pipe would stop the publisher, not the stopped subscriber.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let mut connections = Vec::new();
    // Connections are accepted (by the kernel, into the backlog) and never read: SIGSTOP.
    eventually("the publisher to finish", || {
        connections.extend(stopped.accept_all());
        child.try_wait().unwrap().is_some()
    });
    connections.extend(stopped.accept_all());
    let status = child.wait().unwrap();
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert!(status.success() && !stderr.contains("panicked at"), "{stderr}");
    let readers = connections
        .into_iter()
        .map(|stream| {
            stream.set_nonblocking(false).unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            FrameReader::new(stream)
        })
        .collect();
    (events(&stdout), readers)
}

/// Checks one run: every number reached the in-process consumer; the publisher never gave
/// up on a write to the stopped process (no `peer_lost`: a write never timed out) and kept
/// one connection to it; all but the newest `DEPTH` numbers and the `WINDOW` in the socket
/// were dropped for it, each said once; and what it finds in the socket when it reads
/// again is at most `WINDOW` old numbers.
fn assert_the_stopped_subscriber_cost_nothing(transport: &str, count: usize) {
    let (events, readers) = publish_past_a_stopped_subscriber(transport, count);
    let received = kind(&events, "received");
    assert_eq!(received.len(), count, "the in-process consumer got every number");
    assert!(received.iter().all(|r| r["from_pid"].is_null()), "in-process receipts only");
    assert_eq!(kind(&events, "peer_lost").len(), 0, "a write to the stopped process timed out");
    assert_eq!(kind(&events, "pool_exhausted").len(), 0, "dropped frames gave their slots back");
    assert_eq!(readers.len(), 1, "one connection to the stopped process");
    let me = u64::from(std::process::id());
    let overwritten = kind(&events, "overwritten_for_peer");
    assert!(overwritten.iter().all(|e| e["to_pid"] == me), "dropped for another process");
    let dropped = overwritten.len();
    assert!(dropped >= count - DEPTH - WINDOW, "{dropped} of {count} dropped for the stopped process");
    // SIGCONT: what waits for the stopped process, in the socket.
    let mut reader = readers.into_iter().next().unwrap();
    let late: Vec<u64> = std::iter::from_fn(|| reader.next()).map(|h| h.seq).collect();
    assert!(late.len() <= WINDOW, "{} old messages after SIGCONT: {late:?}", late.len());
}

/// Bytes through the socket: 1000 numbers, far more than the kernel's buffer holds for a
/// reader that does not read (it filled after ~250, then every write waited 2 s and a new
/// connection began; 5 connections, ~250 old numbers each).
#[test]
fn a_stopped_subscriber_costs_the_publisher_nothing_over_the_socket() {
    assert_the_stopped_subscriber_cost_nothing("socket", 1000);
}

/// Shared memory: a frame dropped from the stopped process's queue gives its slot back, so
/// the pool never fills up (it did after 18 frames in the socket, and then every publish
/// waited 200 ms for a slot).
#[test]
fn a_stopped_subscriber_holds_no_more_slots_than_the_depth() {
    assert_the_stopped_subscriber_cost_nothing("shm", 300);
}
