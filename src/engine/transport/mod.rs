//! Between processes: discovery through the runtime directory, frames over Unix domain
//! sockets, and optionally the payload in shared memory with only a descriptor on the
//! socket. One [`Transport`] per process and domain; the middleware uses it for every
//! subscriber it cannot reach inside the process.
//!
//! ```no_run
//! use ipc_lab::engine::transport::{TransportKind, TransportOptions};
//! use ipc_lab::engine::{Context, InitOptions};
//!
//! // Announce this process's nodes in the runtime directory and talk to the others.
//! let ctx = Context::init_with(InitOptions::default());
//! ctx.enable_transport(TransportOptions { kind: TransportKind::Socket, command: "my-tool".into() }).unwrap();
//! ```
//!
//! Threads: one announces this process and reads the others' announcements every
//! [`SCAN_PERIOD`]; one accepts connections; one per connection reads frames and hands
//! them to the local subscriptions. Sending happens on the publisher's thread.

pub mod discovery;
pub mod frame;
pub mod runtime_dir;
mod shm;

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{bounded, Receiver, Sender};

use super::middleware::{Arrival, Domain, WireBytes, WireSample};
use super::trace::{EventKind, LineText, Origin, Publication, Tracer};
use discovery::{Announcement, Endpoint};
use frame::{Frame, FrameHeader, Payload, Prefix, MAX_PAYLOAD, PREFIX_LEN};

/// How often announcements are written and read: a new peer is found within this.
pub const SCAN_PERIOD: Duration = Duration::from_millis(200);
/// A peer that does not take a frame within this is treated as lost.
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// How payloads cross to another process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// The CDR bytes go through the socket (written in, read out: two copies).
    Socket,
    /// The CDR bytes go into a shared-memory segment; only a descriptor crosses.
    SharedMemory,
}

impl TransportKind {
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::Socket => "socket",
            TransportKind::SharedMemory => "shm",
        }
    }
}

/// How to set up the transport.
#[derive(Debug, Clone)]
pub struct TransportOptions {
    pub kind: TransportKind,
    /// The command line `ipc-lab ps` shows for this process.
    pub command: String,
}

/// Why the transport could not start.
#[derive(Debug)]
pub enum TransportError {
    /// The runtime directory is missing, unsafe or not ours.
    RuntimeDir(runtime_dir::RuntimeDirError),
    /// The listening socket could not be created.
    Listen { path: PathBuf, source: io::Error },
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::RuntimeDir(e) => e.fmt(f),
            TransportError::Listen { path, source } => write!(f, "cannot listen on {}: {source}", path.display()),
        }
    }
}

impl std::error::Error for TransportError {}

/// A local node, publisher or subscription, as announced.
struct LocalEntry {
    kind: LocalKind,
    node: Arc<str>,
    topic: Arc<str>,
    type_name: &'static str,
    intra: bool,
    /// Announced while this is alive.
    alive: Weak<dyn Any + Send + Sync>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum LocalKind {
    Node,
    Publisher,
    Subscription,
}

/// What one send did, for the publisher's trace.
pub(crate) enum SendOutcome {
    /// Bytes crossed the socket to `pid`.
    Written { pid: u32, bytes: usize },
    /// The payload was copied into a segment mapped here at `addr`.
    SharedMemory { addr: usize, bytes: usize },
    /// The peer is gone.
    Lost { pid: u32 },
}

pub(crate) struct Transport {
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// What the transport's threads share.
struct Shared {
    dir: PathBuf,
    domain_id: u32,
    pid: u32,
    kind: TransportKind,
    command: String,
    started: u64,
    socket: PathBuf,
    domain: Weak<Domain>,
    tracer: Tracer,
    local: Mutex<Vec<LocalEntry>>,
    /// The other processes of this domain, as last read.
    peers: Mutex<Vec<Announcement>>,
    connections: Mutex<HashMap<u32, UnixStream>>,
    /// Peers whose loss was reported and who have not answered since.
    lost: Mutex<std::collections::HashSet<u32>>,
    stop: AtomicBool,
    /// Wakes the discovery thread early (an endpoint was added).
    poke: (Sender<()>, Receiver<()>),
    rejected: AtomicU64,
}

impl Transport {
    /// Starts announcing and listening for `domain`.
    pub(crate) fn start(
        domain: &Arc<Domain>,
        options: &TransportOptions,
        tracer: Tracer,
    ) -> Result<Arc<Transport>, TransportError> {
        let dir = runtime_dir::ensure().map_err(TransportError::RuntimeDir)?;
        let pid = std::process::id();
        let socket = discovery::socket_path(&dir, pid, domain.id);
        // A socket file left by an earlier process with our pid (reused after a crash).
        let _ = std::fs::remove_file(&socket);
        let listener =
            UnixListener::bind(&socket).map_err(|source| TransportError::Listen { path: socket.clone(), source })?;
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))
            .map_err(|source| TransportError::Listen { path: socket.clone(), source })?;
        listener.set_nonblocking(true).map_err(|source| TransportError::Listen { path: socket.clone(), source })?;
        let shared = Arc::new(Shared {
            dir,
            domain_id: domain.id,
            pid,
            kind: options.kind,
            command: options.command.clone(),
            started: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
            socket,
            domain: Arc::downgrade(domain),
            tracer,
            local: Mutex::new(Vec::new()),
            peers: Mutex::new(Vec::new()),
            connections: Mutex::new(HashMap::new()),
            lost: Mutex::new(std::collections::HashSet::new()),
            stop: AtomicBool::new(false),
            poke: bounded(1),
            rejected: AtomicU64::new(0),
        });
        ANNOUNCED.lock().unwrap_or_else(|e| e.into_inner()).push((shared.dir.clone(), pid, domain.id));
        shared.scan();
        let mut threads = Vec::new();
        let s = shared.clone();
        threads.push(std::thread::spawn(move || s.discovery_loop()));
        let s = shared.clone();
        threads.push(std::thread::spawn(move || s.accept_loop(listener)));
        Ok(Arc::new(Transport { shared, threads: Mutex::new(threads) }))
    }

    pub(crate) fn register_node(&self, node: &Arc<str>, intra: bool, alive: Weak<dyn Any + Send + Sync>) {
        self.register(LocalKind::Node, node, &Arc::from(""), "", intra, alive);
    }

    pub(crate) fn register_publisher(
        &self,
        node: &Arc<str>,
        topic: &Arc<str>,
        type_name: &'static str,
        intra: bool,
        alive: Weak<dyn Any + Send + Sync>,
    ) {
        self.register(LocalKind::Publisher, node, topic, type_name, intra, alive);
    }

    pub(crate) fn register_subscription(
        &self,
        node: &Arc<str>,
        topic: &Arc<str>,
        type_name: &'static str,
        intra: bool,
        alive: Weak<dyn Any + Send + Sync>,
    ) {
        self.register(LocalKind::Subscription, node, topic, type_name, intra, alive);
    }

    fn register(
        &self,
        kind: LocalKind,
        node: &Arc<str>,
        topic: &Arc<str>,
        type_name: &'static str,
        intra: bool,
        alive: Weak<dyn Any + Send + Sync>,
    ) {
        let entry = LocalEntry { kind, node: node.clone(), topic: topic.clone(), type_name, intra, alive };
        self.shared.local.lock().unwrap_or_else(|e| e.into_inner()).push(entry);
        self.announce_soon();
    }

    /// Rewrite the announcement now rather than at the next scan.
    pub(crate) fn announce_soon(&self) {
        let _ = self.shared.poke.0.try_send(());
    }

    /// How many other processes of this domain subscribe to `topic`.
    pub(crate) fn remote_subscriber_count(&self, topic: &str) -> usize {
        self.shared.subscribers_of(topic).len()
    }

    /// Whether another process of this domain subscribes to `topic`.
    pub(crate) fn has_remote_subscribers(&self, topic: &str) -> bool {
        !self.shared.subscribers_of(topic).is_empty()
    }

    /// Sends one publication's CDR bytes to every subscribing process.
    pub(crate) fn send(&self, header: FrameHeader, bytes: &[u8]) -> Vec<SendOutcome> {
        let peers = self.shared.subscribers_of(&header.topic);
        if peers.is_empty() {
            return Vec::new();
        }
        match self.shared.kind {
            TransportKind::Socket => {
                let frame = Frame { header, payload: Payload::Bytes(Vec::new()) };
                let mut head = frame.encode_head();
                // The payload length sits at offset 12 of the prefix.
                head[12..16].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
                peers
                    .into_iter()
                    .filter_map(|(pid, path)| {
                        let result = self.shared.write_to(pid, &path, &head, bytes, None);
                        self.shared.outcome(pid, result, SendOutcome::Written { pid, bytes: bytes.len() })
                    })
                    .collect()
            }
            TransportKind::SharedMemory => {
                let segment = match shm::Segment::create_with(bytes) {
                    Ok(segment) => segment,
                    // No memory for a segment: nobody can be reached this time.
                    Err(e) => {
                        return peers
                            .into_iter()
                            .filter_map(|(pid, _)| self.shared.outcome(pid, Err(e.kind().into()), None))
                            .collect()
                    }
                };
                let frame = Frame { header, payload: Payload::SharedMemory { len: bytes.len() as u64 } };
                let head = frame.encode_head();
                let mut outcomes = vec![SendOutcome::SharedMemory { addr: segment.addr(), bytes: bytes.len() }];
                for (pid, path) in peers {
                    // Only the descriptor crosses: no payload byte goes through the socket.
                    let result = self.shared.write_to(pid, &path, &head, &[], Some(segment.fd()));
                    outcomes.extend(self.shared.outcome(pid, result, None));
                }
                // Our mapping and descriptor go now; the segment lives on in the
                // receivers and disappears with the last of them, even if one crashes.
                drop(segment);
                outcomes
            }
        }
    }
}

/// The announcement files of this process, for a last-moment clean-up when a second Ctrl-C
/// exits at once.
static ANNOUNCED: Mutex<Vec<(PathBuf, u32, u32)>> = Mutex::new(Vec::new());

/// Removes this process's announcements and sockets (before an immediate exit).
pub fn remove_own_files() {
    for (dir, pid, domain) in ANNOUNCED.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
        discovery::remove(&dir, pid, domain);
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = self.shared.poke.0.try_send(());
        let me = (self.shared.dir.clone(), self.shared.pid, self.shared.domain_id);
        ANNOUNCED.lock().unwrap_or_else(|e| e.into_inner()).retain(|a| *a != me);
        discovery::remove(&self.shared.dir, self.shared.pid, self.shared.domain_id);
        for thread in self.threads.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            let _ = thread.join();
        }
    }
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// What a send to `pid` is reported as: a loss only the first time in a row.
    fn outcome(&self, pid: u32, result: io::Result<()>, ok: impl Into<Option<SendOutcome>>) -> Option<SendOutcome> {
        let mut lost = self.lost.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(()) => {
                lost.remove(&pid);
                ok.into()
            }
            Err(_) => lost.insert(pid).then_some(SendOutcome::Lost { pid }),
        }
    }

    /// This process as it stands now.
    fn announcement(&self) -> Announcement {
        let mut local = self.local.lock().unwrap_or_else(|e| e.into_inner());
        local.retain(|e| e.alive.strong_count() > 0);
        let endpoints = |kind| {
            local
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| Endpoint {
                    node: e.node.to_string(),
                    topic: e.topic.to_string(),
                    type_name: e.type_name.into(),
                })
                .collect::<Vec<_>>()
        };
        let mut nodes: Vec<String> =
            local.iter().filter(|e| e.kind == LocalKind::Node).map(|e| e.node.to_string()).collect();
        nodes.dedup();
        let intra: Vec<bool> = local.iter().filter(|e| e.kind == LocalKind::Node).map(|e| e.intra).collect();
        let ipc = match (intra.iter().all(|&i| i), intra.iter().any(|&i| i)) {
            (true, _) if !intra.is_empty() => "on",
            (_, false) => "off",
            _ => "mixed",
        };
        Announcement {
            pid: self.pid,
            ppid: std::os::unix::process::parent_id(),
            command: self.command.clone(),
            domain: self.domain_id,
            started: self.started,
            ipc: ipc.into(),
            transport: self.kind.name().into(),
            socket: self.socket.clone(),
            nodes,
            publishers: endpoints(LocalKind::Publisher),
            subscriptions: endpoints(LocalKind::Subscription),
        }
    }

    /// Writes our announcement if it changed, and reads everyone else's.
    fn scan(&self) {
        let mine = self.announcement();
        let path = discovery::announcement_path(&self.dir, self.pid, self.domain_id);
        let current = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice::<Announcement>(&b).ok());
        if current.as_ref() != Some(&mine) {
            let _ = discovery::write(&self.dir, &mine);
        }
        let peers: Vec<Announcement> = discovery::read_all(&self.dir)
            .into_iter()
            .filter(|a| a.pid != self.pid && a.domain == self.domain_id)
            .collect();
        *self.peers.lock().unwrap_or_else(|e| e.into_inner()) = peers;
    }

    fn discovery_loop(&self) {
        while !self.stopping() {
            let _ = self.poke.1.recv_timeout(SCAN_PERIOD);
            if self.stopping() {
                break;
            }
            self.scan();
        }
    }

    /// The processes subscribing to `topic`, and their sockets.
    fn subscribers_of(&self, topic: &str) -> Vec<(u32, PathBuf)> {
        let peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        peers
            .iter()
            .filter(|a| a.subscriptions.iter().any(|s| s.topic == topic))
            .map(|a| (a.pid, a.socket.clone()))
            .collect()
    }

    /// Writes one frame to `pid`, connecting first if needed; forgets the connection on
    /// failure so the next send tries afresh (the peer may have restarted).
    fn write_to(&self, pid: u32, path: &PathBuf, head: &[u8], payload: &[u8], fd: Option<&OwnedFd>) -> io::Result<()> {
        let mut connections = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        let stream = match connections.entry(pid) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let stream = UnixStream::connect(path)?;
                stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
                e.insert(stream)
            }
        };
        let result = match fd {
            Some(fd) => shm::send_with_fd(stream, head, fd).and_then(|()| stream.write_all(payload)),
            None => write_frame(stream, head, payload),
        };
        if result.is_err() {
            connections.remove(&pid);
        }
        result
    }

    fn accept_loop(self: Arc<Self>, listener: UnixListener) {
        let mut readers = Vec::new();
        while !self.stopping() {
            match listener.accept() {
                Ok((stream, _)) => {
                    let s = self.clone();
                    readers.push(std::thread::spawn(move || s.read_loop(stream)));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(20)),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
            readers.retain(|r: &JoinHandle<()>| !r.is_finished());
        }
        for reader in readers {
            let _ = reader.join();
        }
    }

    fn truncated(&self, from_pid: u32) {
        self.reject(from_pid, "truncated frame: the connection closed in the middle of it".into());
    }

    fn reject(&self, from_pid: u32, reason: String) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
        self.tracer.emit(&Arc::from(""), || EventKind::Rejected { from_pid, reason: LineText::cut(&reason) });
    }

    /// Reads frames until the peer closes, a frame is malformed, or we stop.
    fn read_loop(&self, mut stream: UnixStream) {
        // Wake up now and then to notice a stop.
        let _ = stream.set_read_timeout(Some(SCAN_PERIOD));
        let peer_pid = nix::sys::socket::getsockopt(&stream, nix::sys::socket::sockopt::PeerCredentials)
            .map_or(0, |c| c.pid() as u32);
        let mut fds: VecDeque<OwnedFd> = VecDeque::new();
        loop {
            let mut prefix = [0u8; PREFIX_LEN];
            match self.read_full(&stream, &mut prefix, &mut fds) {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return self.truncated(peer_pid),
                Err(_) => return,
            }
            let prefix = match Prefix::decode(&prefix, MAX_PAYLOAD) {
                Ok(p) => p,
                Err(e) => return self.reject(peer_pid, e.to_string()),
            };
            // Allocated only now that the lengths are known to be within the limits.
            // The payload in a buffer of its own: the bytes land where the subscription will
            // read them, with no move afterwards.
            let mut header = vec![0u8; prefix.header_len];
            let mut payload = vec![0u8; prefix.payload_len];
            if !self.read_exact_or_stop(&mut stream, &mut header) || !self.read_exact_or_stop(&mut stream, &mut payload)
            {
                if !self.stopping() {
                    self.truncated(peer_pid);
                }
                return;
            }
            let header = match FrameHeader::decode(&header) {
                Ok(h) => h,
                Err(e) => return self.reject(peer_pid, e.to_string()),
            };
            let (bytes, mapped) = if prefix.kind == frame::KIND_SHM {
                let len = u64::from_le_bytes(payload[..].try_into().unwrap_or([0; 8])) as usize;
                let Some(fd) = fds.pop_front() else {
                    return self.reject(peer_pid, "shared-memory frame without a descriptor".into());
                };
                match shm::map(fd, len) {
                    Ok(map) => (WireBytes::Mapped(Arc::new(map)), true),
                    Err(e) => {
                        self.reject(peer_pid, format!("cannot map the shared-memory segment: {e}"));
                        continue;
                    }
                }
            } else {
                (WireBytes::Heap(Arc::new(payload)), false)
            };
            let serialized_bytes = bytes.as_slice().len();
            let sample = WireSample {
                bytes,
                publication: Publication { pid: header.publisher_pid, publisher: header.publisher_id, seq: header.seq },
                arrival: Some(Arrival {
                    origin: Origin {
                        pid: header.publisher_pid,
                        node: Arc::from(header.node.as_str()),
                        addr: header.message_addr as usize,
                        serialized_bytes,
                    },
                    mapped,
                    reported: Arc::new(AtomicBool::new(false)),
                }),
            };
            let Some(domain) = self.domain.upgrade() else { return };
            if let Err(local) = domain.deliver_remote(&header.topic, &header.type_name, &sample) {
                let reason = format!("topic '{}' carries {local} here, not {}", header.topic, header.type_name);
                self.reject(peer_pid, reason);
            }
        }
    }

    /// Fills `buf` from the socket, collecting descriptors that come with it. False on a
    /// clean end of stream before the first byte.
    fn read_full(&self, stream: &UnixStream, buf: &mut [u8], fds: &mut VecDeque<OwnedFd>) -> io::Result<bool> {
        let mut filled = 0;
        while filled < buf.len() {
            if self.stopping() {
                return Ok(false);
            }
            match shm::recv_with_fds(stream, &mut buf[filled..], fds) {
                Ok(0) if filled == 0 => return Ok(false),
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => filled += n,
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    fn read_exact_or_stop(&self, stream: &mut UnixStream, buf: &mut [u8]) -> bool {
        let mut filled = 0;
        while filled < buf.len() {
            if self.stopping() {
                return false;
            }
            match stream.read(&mut buf[filled..]) {
                Ok(0) => return false,
                Ok(n) => filled += n,
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true
    }
}

/// Writes a frame's head and payload with as few system calls as the socket allows: one
/// for a frame that fits. Two separate writes would let the reader wake for the head, find
/// no payload yet and sleep again: two wake-ups per message where one does.
pub(crate) fn write_frame(stream: &mut impl Write, head: &[u8], payload: &[u8]) -> io::Result<()> {
    let mut written = 0;
    while written < head.len() + payload.len() {
        let result = match head.get(written..) {
            Some(rest) if !rest.is_empty() => {
                stream.write_vectored(&[io::IoSlice::new(rest), io::IoSlice::new(payload)])
            }
            _ => stream.write(&payload[written - head.len()..]),
        };
        match result {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Transport({}, {})", self.shared.socket.display(), self.shared.kind.name())
    }
}
