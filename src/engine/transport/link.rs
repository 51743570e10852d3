//! What every transport shares: the announcements in the runtime directory, the other
//! processes as last read, one listening socket, and the connections to the peers that
//! subscribe to our topics. A transport decides only how a message's bytes cross.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

use crossbeam_channel::{bounded, Receiver, Sender};

use super::discovery::{self, Announcement, Endpoint};
use super::frame::MAX_PAYLOAD;
use super::outbox::Outbox;
use super::{
    Outgoing, ToLocalSubscriptions, Transport, TransportError, TransportKind, TransportOptions, ANNOUNCED, SCAN_PERIOD,
};
use crate::engine::trace::{EventKind, Tracer};

/// A local node, publisher or subscription, as announced.
#[derive(Clone)]
pub(crate) struct LocalEntry {
    pub(crate) kind: LocalKind,
    pub(crate) node: Arc<str>,
    /// Empty for a node.
    pub(crate) topic: Arc<str>,
    /// Empty for a node.
    pub(crate) type_name: &'static str,
    /// Whether the node uses intra-process communication (`ipc-lab ps` shows it).
    pub(crate) intra: bool,
    /// The endpoint's QoS (keep last 10 for a node): a DDS endpoint is created with it.
    #[cfg_attr(not(feature = "dds"), allow(dead_code))]
    pub(crate) qos: crate::engine::QoS,
    /// Announced while this is alive.
    pub(crate) alive: Weak<dyn Any + Send + Sync>,
    /// A publisher's id in its context (`Outgoing`'s `publisher_id`), 0 for the others:
    /// the DDS transport gives each publisher a writer of its own.
    #[cfg_attr(not(feature = "dds"), allow(dead_code))]
    pub(crate) publisher: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LocalKind {
    Node,
    Publisher,
    Subscription,
}

/// A process that subscribes to a topic of ours.
pub(crate) struct Peer {
    pub(crate) pid: u32,
    /// Where it listens.
    pub(crate) socket: PathBuf,
}

/// What the transport's threads share.
pub(crate) struct Link {
    dir: PathBuf,
    pub(crate) domain_id: u32,
    pub(crate) pid: u32,
    kind: TransportKind,
    command: String,
    started: u64,
    socket: PathBuf,
    /// Where bytes from other processes go: the subscriptions of this process.
    pub(crate) to_local: ToLocalSubscriptions,
    pub(crate) tracer: Tracer,
    local: Mutex<Vec<LocalEntry>>,
    /// The other processes of this domain, as last read.
    peers: Mutex<Vec<Announcement>>,
    /// The frames waiting for each peer we send to; each has one connection and a writer
    /// thread (`outbox.rs`).
    pub(super) outboxes: Mutex<HashMap<u32, Arc<Outbox>>>,
    /// Peers whose loss was reported and who have not answered since.
    lost: Mutex<HashSet<u32>>,
    stop: AtomicBool,
    /// Held while our announcement is written or removed: a scan still writing when the
    /// transport is dropped would otherwise put the file back after its removal.
    announcing: Mutex<()>,
    /// Wakes the discovery thread early (an endpoint was added).
    poke: (Sender<()>, Receiver<()>),
    /// Makes sense of frames, and of releases coming back; set once by [`Listening::begin`].
    pub(crate) transport: OnceLock<Weak<dyn Transport>>,
    /// This link, for the threads it starts.
    pub(super) me: Weak<Link>,
}

/// The owner's handle on a [`Link`]: dropping it stops the threads and removes our files.
#[derive(Debug)]
pub(crate) struct Handle(Arc<Link>);

impl std::ops::Deref for Handle {
    type Target = Link;

    fn deref(&self) -> &Link {
        &self.0
    }
}

impl Handle {
    /// The link itself, for a thread of the transport (it watches the link's stop).
    #[cfg_attr(not(feature = "dds"), allow(dead_code))]
    pub(crate) fn shared(&self) -> Arc<Link> {
        self.0.clone()
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.0.close();
    }
}

impl Link {
    /// Removes our files and tells the threads to stop. They are not joined: the last
    /// handle on the domain may be dropped by one of them, which cannot wait for itself;
    /// each one notices the stop within [`SCAN_PERIOD`]. Called when the domain goes, even
    /// if a thread still holds the transport for a moment: the process may exit before
    /// that thread lets go, and the files must be gone by then.
    pub(crate) fn close(&self) {
        let link = self;
        let _announcing = link.announcing.lock().unwrap_or_else(|e| e.into_inner());
        link.stop.store(true, Ordering::SeqCst);
        let _ = link.poke.0.try_send(());
        let me = (link.dir.clone(), link.pid, link.domain_id);
        ANNOUNCED.lock().unwrap_or_else(|e| e.into_inner()).retain(|a| *a != me);
        discovery::remove(&link.dir, link.pid, link.domain_id);
    }
}

/// The listening socket, until we know which transport makes sense of its frames.
pub(crate) struct Listening {
    link: Arc<Link>,
    listener: UnixListener,
}

impl Listening {
    /// Starts accepting connections; their frames go to `transport`.
    pub(crate) fn begin(self, transport: Weak<dyn Transport>) {
        let Listening { link, listener } = self;
        let _ = link.transport.set(transport.clone());
        std::thread::spawn(move || link.accept_loop(listener, transport));
    }
}

impl Link {
    /// Binds our socket and starts announcing domain `domain_id`; frames are read once
    /// [`Listening::begin`] says which transport makes sense of them.
    pub(crate) fn start(
        domain_id: u32,
        options: &TransportOptions,
        tracer: Tracer,
        to_local: ToLocalSubscriptions,
    ) -> Result<(Handle, Listening), TransportError> {
        let dir = super::runtime_dir::ensure().map_err(TransportError::RuntimeDir)?;
        let pid = std::process::id();
        let socket = discovery::socket_path(&dir, pid, domain_id);
        // A socket file left by an earlier process with our pid (reused after a crash).
        let _ = std::fs::remove_file(&socket);
        let listen_error = |source| TransportError::Listen { path: socket.clone(), source };
        let listener = UnixListener::bind(&socket).map_err(listen_error)?;
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600)).map_err(listen_error)?;
        listener.set_nonblocking(true).map_err(listen_error)?;
        let link = Arc::new_cyclic(|me| Link {
            dir,
            domain_id,
            pid,
            kind: options.kind,
            command: options.command.clone(),
            started: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
            socket,
            to_local,
            tracer,
            local: Mutex::new(Vec::new()),
            peers: Mutex::new(Vec::new()),
            outboxes: Mutex::new(HashMap::new()),
            lost: Mutex::new(HashSet::new()),
            stop: AtomicBool::new(false),
            announcing: Mutex::new(()),
            poke: bounded(1),
            transport: OnceLock::new(),
            me: me.clone(),
        });
        ANNOUNCED.lock().unwrap_or_else(|e| e.into_inner()).push((link.dir.clone(), pid, domain_id));
        if let Err(source) = link.scan() {
            // Nobody would find us: better to say so now than to wait for peers forever.
            link.stop.store(true, Ordering::SeqCst);
            ANNOUNCED.lock().unwrap_or_else(|e| e.into_inner()).retain(|a| a.1 != pid || a.2 != domain_id);
            discovery::remove(&link.dir, pid, domain_id);
            let path = discovery::announcement_path(&link.dir, pid, domain_id);
            return Err(TransportError::Announce { path, source });
        }
        let l = link.clone();
        std::thread::spawn(move || l.discovery_loop());
        Ok((Handle(link.clone()), Listening { link, listener }))
    }

    pub(crate) fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Announces a local endpoint, now rather than at the next scan.
    pub(crate) fn announce(&self, entry: LocalEntry) {
        self.local.lock().unwrap_or_else(|e| e.into_inner()).push(entry);
        let _ = self.poke.0.try_send(());
    }

    /// Reports the result of a send to `pid`: a loss only the first time in a row.
    /// Returns whether the send went through.
    pub(crate) fn sent(&self, pid: u32, topic: &str, node: &Arc<str>, result: io::Result<()>) -> bool {
        let mut lost = self.lost.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(()) => {
                lost.remove(&pid);
                true
            }
            Err(_) => {
                if lost.insert(pid) {
                    self.tracer.emit(node, || EventKind::PeerLost { pid, topic: Arc::from(topic) });
                }
                false
            }
        }
    }

    /// Whether a message of `len` bytes fits in a frame between processes; if it does not,
    /// says so (`too_large_for_frame`) rather than send what every receiver refuses.
    pub(crate) fn fits_in_a_frame(&self, out: &Outgoing<'_>, len: usize) -> bool {
        if len <= MAX_PAYLOAD {
            return true;
        }
        let limit = MAX_PAYLOAD;
        self.tracer.emit(out.node, || EventKind::TooLargeForFrame { msg: (out.msg)(), bytes: len, limit });
        false
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

    /// Writes our announcement if it changed, and reads everyone else's. A failed write is
    /// tried again at the next scan; the first one fails the start.
    fn scan(&self) -> io::Result<()> {
        let mine = self.announcement();
        let path = discovery::announcement_path(&self.dir, self.pid, self.domain_id);
        let current = discovery::read_one(&path);
        let written = {
            let _announcing = self.announcing.lock().unwrap_or_else(|e| e.into_inner());
            if current.as_ref() != Some(&mine) && !self.stopping() {
                discovery::write(&self.dir, &mine)
            } else {
                Ok(())
            }
        };
        let peers: Vec<Announcement> = discovery::read_all(&self.dir)
            .into_iter()
            .filter(|a| a.pid != self.pid && a.domain == self.domain_id)
            .collect();
        *self.peers.lock().unwrap_or_else(|e| e.into_inner()) = peers;
        written
    }

    fn discovery_loop(&self) {
        while !self.stopping() {
            let _ = self.poke.1.recv_timeout(SCAN_PERIOD);
            if self.stopping() {
                break;
            }
            if let Err(source) = self.scan() {
                let path = discovery::announcement_path(&self.dir, self.pid, self.domain_id);
                return super::failed(TransportError::Announce { path, source });
            }
        }
    }

    /// Whether `pid` is a process of this domain that announced itself and can be believed:
    /// as last scanned, or, for a process that started since, as its file says now (it
    /// writes its announcement before it reads ours, so before it can connect to us).
    pub(crate) fn announced(&self, pid: u32) -> bool {
        let known = self.peers.lock().unwrap_or_else(|e| e.into_inner()).iter().any(|a| a.pid == pid);
        known || (pid != self.pid && discovery::believed(&self.dir, pid, self.domain_id))
    }

    /// The processes subscribing to `topic`, and their sockets.
    pub(crate) fn subscribers_of(&self, topic: &str) -> Vec<Peer> {
        let peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        peers
            .iter()
            .filter(|a| a.subscriptions.iter().any(|s| s.topic == topic))
            .map(|a| Peer { pid: a.pid, socket: a.socket.clone() })
            .collect()
    }
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Link({}, {})", self.socket.display(), self.kind.name())
    }
}
