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

pub mod dds;
pub mod discovery;
pub mod frame;
mod receiver;
pub mod runtime_dir;
mod shm;

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{bounded, Receiver, Sender};

use super::middleware::Domain;
use super::trace::Tracer;
use discovery::{Announcement, Endpoint};
use frame::{Frame, FrameHeader, Payload};

/// The largest domain id, as for `ROS_DOMAIN_ID`.
pub const MAX_DOMAIN: u32 = 232;

/// The `n`th domain after `domain`, for runs that must not hear each other (`--ipc both`,
/// the bench's second transport); after 232 comes 0 again.
pub fn domain_after(domain: u32, n: u32) -> u32 {
    (domain + n) % (MAX_DOMAIN + 1)
}

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
pub(crate) enum LocalKind {
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
        });
        ANNOUNCED.lock().unwrap_or_else(|e| e.into_inner()).push((shared.dir.clone(), pid, domain.id));
        shared.scan();
        let s = shared.clone();
        std::thread::spawn(move || s.discovery_loop());
        let s = shared.clone();
        std::thread::spawn(move || s.accept_loop(listener));
        Ok(Arc::new(Transport { shared }))
    }

    /// Announces a node, publisher or subscription for as long as `alive` lives.
    pub(crate) fn register(
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
                let head = Frame::encode_head_for(&header, bytes.len());
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
    /// Removes our files and tells the threads to stop. They are not joined: the last
    /// handle on the domain may be dropped by one of them, which cannot wait for itself;
    /// each one notices the stop within [`SCAN_PERIOD`].
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = self.shared.poke.0.try_send(());
        let me = (self.shared.dir.clone(), self.shared.pid, self.shared.domain_id);
        ANNOUNCED.lock().unwrap_or_else(|e| e.into_inner()).retain(|a| *a != me);
        discovery::remove(&self.shared.dir, self.shared.pid, self.shared.domain_id);
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
    /// failure so the next send tries afresh (the peer may have restarted). No lock is
    /// held while writing: a slow peer holds up only its own frames.
    fn write_to(
        &self,
        pid: u32,
        path: &std::path::Path,
        head: &[u8],
        payload: &[u8],
        fd: Option<&OwnedFd>,
    ) -> io::Result<()> {
        let cached = self.connections.lock().unwrap_or_else(|e| e.into_inner()).remove(&pid);
        let mut stream = match cached {
            Some(stream) => stream,
            None => {
                let stream = shm::connect(path, WRITE_TIMEOUT)?;
                stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
                stream
            }
        };
        match fd {
            Some(fd) => {
                shm::send_with_fd(&mut stream, head, fd)?;
                stream.write_all(payload)?;
            }
            None => write_frame(&mut stream, head, payload)?,
        }
        self.connections.lock().unwrap_or_else(|e| e.into_inner()).insert(pid, stream);
        Ok(())
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
