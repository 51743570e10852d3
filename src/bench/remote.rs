//! The paths between processes: `socket` and `shm`. The bench publishes; a child
//! `ipc-lab bench-peer` ([`super::peer`]) subscribes through the transport and reports
//! when each message reached its callback, against the stamp in `header.stamp`.
//!
//! Each path has its own peer and its own domain (the transport kind belongs to a process
//! and domain): `socket` uses the bench's domain, `shm` and `shm-loan` the next two, `dds`
//! the one after. On `dds` both sides run Cyclone with
//! [`LOCALHOST_ONLY_CONFIG`](crate::engine::transport::dds::LOCALHOST_ONLY_CONFIG): the bench's
//! traffic never leaves the machine, whatever `CYCLONEDDS_URI` says. The peers get their
//! own process group (a Ctrl-C in the terminal reaches only the bench, which then ends
//! them), die with the bench if it is killed (`PR_SET_PDEATHSIG`), and are always reaped:
//! closing a peer's input stops it, and one that does not stop is killed and its files in
//! the runtime directory removed.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{unbounded, Receiver};

use super::clock::{now_ns, to_stamp};
use super::counting::CopyCounter;
use super::peer::PeerLine;
use super::{image, BenchError, BenchPlan, Path, PathKind, DEPTH};
use crate::engine::loan::ImageLayout;
use crate::engine::msg::sensor_msgs::Image;
use crate::engine::transport::{discovery, runtime_dir, TransportKind, TransportOptions};
use crate::engine::{Context, InitOptions, Node, NodeOptions, Publisher};

/// How long the bench waits for a peer to connect or to report a message.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(10);

/// A running peer process: `ipc-lab bench-peer`, or the iceoryx2 baseline's.
pub(super) struct Peer {
    child: Child,
    /// `None` once closed: the end of its input stops the peer.
    stdin: Option<ChildStdin>,
    lines: Receiver<PeerLine>,
    reader: Option<JoinHandle<()>>,
    /// The engine's domain of a `bench-peer`, whose runtime files are removed if it has to be
    /// killed; `None` for a peer whose files its path removes.
    domain: Option<u32>,
}

impl Peer {
    fn spawn(kind: TransportKind, domain: u32, topic: &str, loaned: bool) -> std::io::Result<Peer> {
        let loaned: &[&str] = if loaned { &["--loaned"] } else { &[] };
        let mut command = crate::child_process::ipc_lab()?;
        command.args(["bench-peer", "--transport", kind.name(), "--topic", topic]).args(loaned).args([
            "--domain",
            &domain.to_string(),
            "--color",
            "never",
        ]);
        if kind == TransportKind::Dds {
            command.env("CYCLONEDDS_URI", crate::engine::transport::dds::LOCALHOST_ONLY_CONFIG);
        }
        Peer::start(command, Some(domain))
    }

    /// Starts `command` (an ipc-lab child) with its input and output piped to the bench.
    pub(super) fn start(mut command: std::process::Command, domain: Option<u32>) -> std::io::Result<Peer> {
        let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, lines) = unbounded();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(line) = PeerLine::parse(&line) {
                    if tx.send(line).is_err() {
                        return;
                    }
                }
            }
        });
        Ok(Peer { stdin: child.stdin.take(), child, lines, reader: Some(reader), domain })
    }

    pub(super) fn tell(&mut self, command: &str) -> Result<(), BenchError> {
        let stdin = self.stdin.as_mut().ok_or_else(|| BenchError::Peer(std::io::ErrorKind::BrokenPipe.into()))?;
        writeln!(stdin, "{command}").and_then(|()| stdin.flush()).map_err(BenchError::Peer)
    }

    /// The next line, or `None` after [`PEER_TIMEOUT`] (or if the peer is gone).
    pub(super) fn next(&self) -> Option<PeerLine> {
        self.lines.recv_timeout(PEER_TIMEOUT).ok()
    }

    /// Whether the peer process has ended.
    pub(super) fn has_exited(&mut self) -> bool {
        self.child.try_wait().map_or(true, |s| s.is_some())
    }

    /// When the message stamped `stamp` (or, for `None`, the next one) reached the peer's
    /// callback on path `path`; `ok` says whether the run goes on.
    pub(super) fn receipt(&self, path: PathKind, ok: impl Fn() -> bool, stamp: Option<u64>) -> Result<u64, BenchError> {
        loop {
            if !ok() {
                return Err(BenchError::Interrupted);
            }
            match self.next() {
                Some(PeerLine::Received { stamp: s, at }) if stamp.is_none_or(|t| t == s) => return Ok(at),
                // A late report of an earlier message.
                Some(_) => {}
                None => return Err(BenchError::PeerSilent { path }),
            }
        }
    }

    /// A burst of `n` messages, each sent by `send` (which returns its stamp): the time from
    /// the first stamp to the last receipt.
    pub(super) fn burst(
        &self,
        path: PathKind,
        ok: impl Fn() -> bool,
        n: usize,
        mut send: impl FnMut() -> Result<u64, BenchError>,
    ) -> Result<u64, BenchError> {
        let mut first = None;
        for _ in 0..n {
            first.get_or_insert(send()?);
        }
        let first = first.unwrap_or_else(now_ns);
        let mut last = first;
        for _ in 0..n {
            last = last.max(self.receipt(path, &ok, None)?);
        }
        Ok(last - first)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stdin = None;
        let deadline = now_ns() + 5_000_000_000;
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if now_ns() < deadline => std::thread::sleep(Duration::from_millis(10)),
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    // A killed peer could not remove its announcement and socket.
                    if let Some(domain) = self.domain {
                        discovery::remove(&runtime_dir::location(), self.child.id(), domain);
                    }
                    break;
                }
            }
        }
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// The publishing side of an inter-process path, with its peer.
pub struct RemotePath {
    kind: PathKind,
    ctx: Context,
    counter: Arc<CopyCounter>,
    publisher: Publisher<Image>,
    /// Kept alive: the node is announced while it lives.
    _node: Node,
    peer: Peer,
    /// What the transport needs kept while the path lives (DDS: the domain made with the
    /// localhost-only configuration); dropped last.
    _keep: Option<Box<dyn std::any::Any>>,
}

impl RemotePath {
    /// Starts the transport and the peer; [`RemotePath::connected`] waits for it.
    pub fn open(kind: PathKind, options: &BenchPlan) -> Result<Self, BenchError> {
        let after = |n| crate::engine::transport::domain_after(options.domain, n);
        let (transport, domain) = match kind {
            PathKind::Shm => (TransportKind::SharedMemory, after(1)),
            PathKind::ShmLoan => (TransportKind::SharedMemory, after(2)),
            PathKind::Dds => (TransportKind::Dds, after(3)),
            _ => (TransportKind::Socket, options.domain),
        };
        let keep = localhost_only(transport, domain)?;
        let counter = Arc::new(CopyCounter::default());
        let ctx = Context::init_with(InitOptions::default().sink(counter.clone()).domain_id(domain));
        let command = options.command.clone();
        ctx.enable_transport(TransportOptions { kind: transport, command }).map_err(BenchError::Transport)?;
        let node = Node::new(&ctx, "bench", NodeOptions::default())?;
        // The pid keeps two benches of one domain from hearing each other.
        let topic = format!("bench_{}_{}", std::process::id(), kind.name().replace('-', "_"));
        let publisher = node.create_publisher::<Image>(&topic, DEPTH)?;
        // Both shared-memory paths read where the bytes are; the socket's reads decode.
        let loaned = transport == TransportKind::SharedMemory;
        let peer = Peer::spawn(transport, domain, &topic, loaned).map_err(BenchError::Peer)?;
        Ok(Self { kind, ctx, counter, publisher, _node: node, peer, _keep: keep })
    }

    /// Waits until the peer's subscription has been discovered.
    pub fn connected(mut self) -> Result<Self, BenchError> {
        let deadline = now_ns() + PEER_TIMEOUT.as_nanos() as u64;
        while self.publisher.get_subscription_count() == 0 {
            if !self.ctx.ok() {
                return Err(BenchError::Interrupted);
            }
            if now_ns() > deadline || self.peer.has_exited() {
                return Err(BenchError::PeerSilent { path: self.kind });
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(self)
    }

    fn publish(&self, mut msg: Box<Image>) -> u64 {
        let stamp = now_ns();
        msg.header.stamp = to_stamp(stamp);
        self.publisher.publish(msg);
        stamp
    }

    /// A loaned image of `bytes` pixels: borrowed and filled (the camera's work), then
    /// stamped and published (the hop's).
    fn publish_loaned(&self, bytes: usize) -> u64 {
        let layout = ImageLayout {
            width: bytes as u32,
            height: 1,
            step: bytes as u32,
            encoding: "mono8".into(),
            frame_id: "bench".into(),
        };
        let mut loaned = self.publisher.borrow_loaned_message(layout);
        loaned.data_mut().fill(0xA5);
        let stamp = now_ns();
        loaned.set_stamp(to_stamp(stamp));
        self.publisher.publish_loaned(loaned);
        stamp
    }

    /// When the message stamped `stamp` reached the peer's callback.
    fn receipt(&self, stamp: Option<u64>) -> Result<u64, BenchError> {
        self.peer.receipt(self.kind, || self.ctx.ok(), stamp)
    }

    fn expect(&self, wanted: fn(PeerLine) -> Option<u64>) -> Result<u64, BenchError> {
        loop {
            match self.peer.next() {
                Some(line) => {
                    if let Some(value) = wanted(line) {
                        return Ok(value);
                    }
                }
                None => return Err(BenchError::PeerSilent { path: self.kind }),
            }
        }
    }
}

/// For DDS, creates `domain` in this process with the localhost-only configuration, so
/// that the transport's participant joins it rather than what `CYCLONEDDS_URI` says.
fn localhost_only(transport: TransportKind, domain: u32) -> Result<Option<Box<dyn std::any::Any>>, BenchError> {
    #[cfg(feature = "dds")]
    if transport == TransportKind::Dds {
        use crate::engine::transport::dds::{cyclone::Domain, LOCALHOST_ONLY_CONFIG};
        let made = Domain::create(domain, LOCALHOST_ONLY_CONFIG);
        let domain =
            made.map_err(|e| BenchError::Transport(crate::engine::transport::TransportError::Dds(e.to_string())))?;
        return Ok(Some(Box::new(domain)));
    }
    let _ = (transport, domain);
    Ok(None)
}

impl Path for RemotePath {
    fn kind(&self) -> PathKind {
        self.kind
    }

    fn hop(&mut self, bytes: usize) -> Result<u64, BenchError> {
        // Making the message is the camera's work, not the hop's.
        let stamp = match self.kind {
            PathKind::ShmLoan => self.publish_loaned(bytes),
            _ => self.publish(image(bytes)),
        };
        Ok(self.receipt(Some(stamp))? - stamp)
    }

    fn burst(&mut self, bytes: usize, n: usize) -> Result<u64, BenchError> {
        // Made before the burst: making them is the camera's work, not the hops'. A loaned
        // burst borrows and fills each message as it goes (`publish_loaned`), so it needs none.
        let made = if self.kind == PathKind::ShmLoan { 0 } else { n };
        let mut msgs = (0..made).map(|_| image(bytes)).collect::<Vec<_>>().into_iter();
        let send = || {
            Ok(match msgs.next() {
                Some(msg) => self.publish(msg),
                None => self.publish_loaned(bytes),
            })
        };
        self.peer.burst(self.kind, || self.ctx.ok(), n, send)
    }

    fn copies(&mut self, bytes: usize) -> Result<f64, BenchError> {
        const HOPS: u32 = 2;
        self.peer.tell("count")?;
        self.expect(|line| matches!(line, PeerLine::Counting).then_some(0))?;
        self.counter.start();
        for _ in 0..HOPS {
            self.hop(bytes)?;
        }
        let here = self.counter.stop();
        self.peer.tell("report")?;
        let there = self.expect(|line| match line {
            PeerLine::Copies(n) => Some(n),
            _ => None,
        })?;
        Ok((here + there) as f64 / f64::from(HOPS))
    }
}
