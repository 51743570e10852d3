//! Between processes: what a transport must do, and the ones this crate has. Discovery
//! through the runtime directory and one Unix socket per process are shared by all
//! (`link.rs`); they differ in how a message's bytes reach the other side:
//!
//! - `socket.rs`: the CDR bytes go through the socket (written in, read out: two copies);
//! - `shm.rs`: the CDR bytes sit in shared memory and only a descriptor crosses;
//! - `dds/transport.rs` (feature `dds`): the CDR bytes go to Cyclone DDS, as on ROS 2 with
//!   rmw_cyclonedds_cpp, to any DDS participant of the domain (the socket stays unused).
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
//! A transport reports what it did to the bytes as trace events (`written`, `read`,
//! `shm_written`, `mapped`, ...): every copy is an event with its byte count, and nothing
//! downstream infers a copy from which transport was chosen.
//!
//! Threads: one announces this process and reads the others' announcements every
//! [`SCAN_PERIOD`]; one accepts connections; one per connection reads frames and hands
//! them to the local subscriptions. Sending never blocks the publisher's thread: it puts
//! each frame in a bounded keep-last queue per subscribing process, and one writer thread per
//! process drains that queue into its one connection (`outbox.rs`).
//!
//! # Limits
//! Every number that bounds what a peer (or a fault) can cost a process, in one list; each
//! is a named constant where it is enforced:
//!
//! | limit | value | where |
//! |---|---|---|
//! | payload of one frame, checked before any allocation; a larger message is not sent (`too_large_for_frame`) | 64 MiB | [`frame::MAX_PAYLOAD`] (also bounds `--size`) |
//! | header of one frame | 4096 B | [`frame::MAX_HEADER`] |
//! | descriptors passed with one frame; more are closed and the connection refused | 1 | [`frame::MAX_FDS_PER_FRAME`] |
//! | descriptors read from one message (the kernel's `SCM_MAX_FD`), so none is ever left unlisted | 253 | `socket.rs`, `SCM_MAX_FD` |
//! | who is read at all: a process with an announcement in the domain that can be believed (as scanned, or read again at once for a process that just started); any other connection is closed (`rejected`) | - | `link.rs`, `Link::announced` |
//! | connections read at once; beyond, the one quiet the longest makes room if it has been quiet [`QUIET_EVICTION`] (1 s), else the new one is closed (`rejected` either way) | 64 | [`MAX_CONNECTIONS`] |
//! | of those, from one process (it sends on one; a second covers a reconnection) | 2 | [`MAX_CONNECTIONS_PER_PEER`] |
//! | a new connection that sends no byte within this is closed (between frames a publisher may be quiet for as long as it likes) | 5 s | [`SILENT_TIMEOUT`] |
//! | a frame must be whole this long after its first byte (stalled or slowloris peers are closed), waiting for room in the budget included | 5 s | [`FRAME_TIMEOUT`] |
//! | memory held by payloads being read, all connections together; a declared length holds none, each piece is taken before it is read | 256 MiB | [`budget::PARTIAL_FRAMES_BUDGET`] |
//! | one such piece | 1 MiB | `budget.rs`, `READ_PIECE` |
//! | frames of one publisher waiting (not written yet) for one process (keep-all: 128); beyond, the oldest waiting is dropped (`overwritten_for_peer`) | the publisher's depth | `outbox.rs`, `queue_depth`, `KEEP_ALL_QUEUE` |
//! | besides those, written and not yet acknowledged by the process | half the depth, at least 1 | `outbox.rs`, `window` |
//! | a process that does not accept our connection within this is lost | 2 s | `outbox.rs`, `CONNECT_TIMEOUT` |
//! | announcements written (if changed) and looked at; a file is read again only when it changed | every 200 ms | [`SCAN_PERIOD`] |
//! | size of an announcement read; a larger one is not read, and its process not believed | 64 KiB | [`discovery::MAX_ANNOUNCEMENT`] |
//! | domains, as `ROS_DOMAIN_ID` | 0 to 232 | [`MAX_DOMAIN`] |
//! | shared-memory slots per publisher (what one process can hold up, depth and window, plus 8) | 16 to 200 | `shm.rs`, `MIN_SLOTS`, `IN_FLIGHT` |
//!
//! Outside the transport: a run's events wait in a channel of 1024 (`app::event_channel`,
//! a demo running flat out waits for a slow terminal); with `--ipc both`, at most 1024 rows
//! of the run ahead wait for the other run's (`app::pairs::MAX_WAITING_ROWS`: then it waits,
//! or, when the runs go in turn, rows are shown apart); `--split`'s parent looks at its
//! children every 100 ms (`app/children.rs`, `SUPERVISE_PERIOD`); a temporary file name is
//! tried 16 times ([`crate::safe_file`]).

pub mod budget;
pub mod dds;
pub mod discovery;
pub mod frame;
mod link;
mod outbox;
mod receiver;
pub mod runtime_dir;
mod shm;
mod socket;

use std::any::Any;
use std::fmt;
use std::io;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use super::trace::{MessageRef, SegmentId, Tracer};
use super::wire::{WireBytes, WireSample};
use frame::FrameHeader;

pub(crate) use link::{LocalEntry, LocalKind};
pub use receiver::{FRAME_TIMEOUT, MAX_CONNECTIONS, MAX_CONNECTIONS_PER_PEER, QUIET_EVICTION, SILENT_TIMEOUT};
pub(crate) use shm::Loan;
pub(crate) use socket::write_frame;

/// The largest domain id, as for `ROS_DOMAIN_ID`.
pub const MAX_DOMAIN: u32 = 232;

/// The `n`th domain after `domain`, for runs that must not hear each other (`--ipc both`,
/// the bench's second transport); after 232 comes 0 again.
pub fn domain_after(domain: u32, n: u32) -> u32 {
    (domain + n) % (MAX_DOMAIN + 1)
}

/// How often announcements are written and read: a new peer is found within this.
pub const SCAN_PERIOD: Duration = Duration::from_millis(200);

/// Which transport carries payloads to other processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// The CDR bytes go through the socket (`socket.rs`).
    Socket,
    /// The CDR bytes go into shared memory; only a descriptor crosses (`shm.rs`).
    SharedMemory,
    /// The CDR bytes go to Cyclone DDS, as rmw_cyclonedds_cpp hands them (`dds/transport.rs`,
    /// with the cargo feature `dds`).
    Dds,
}

impl TransportKind {
    /// The name `ipc-lab ps` and `--transport` use.
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::Socket => "socket",
            TransportKind::SharedMemory => "shm",
            TransportKind::Dds => "dds",
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

/// A publisher another process has, as a transport's discovery describes it: what a
/// subscriber needs to hear it (`ros2 topic echo` learns the same from the graph).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundPublisher {
    /// Its ROS type (`std_msgs/msg/Int32`), or the transport's own name for a type ROS
    /// does not name.
    pub type_name: String,
    /// Whether every such publisher offers reliable delivery: a reliable subscription
    /// would not hear a best-effort one.
    pub reliable: bool,
}

/// Why the transport could not start.
#[derive(Debug)]
pub enum TransportError {
    /// The runtime directory is missing, unsafe or not ours.
    RuntimeDir(runtime_dir::RuntimeDirError),
    /// The listening socket could not be created.
    Listen { path: PathBuf, source: io::Error },
    /// The announcement could not be written (a full disk): nobody would find us.
    Announce { path: PathBuf, source: io::Error },
    /// This build has no DDS library (the cargo feature `dds` is off).
    DdsNotBuilt,
    /// Cyclone DDS refused to start (its own words).
    Dds(String),
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::RuntimeDir(e) => e.fmt(f),
            TransportError::Listen { path, source } => write!(f, "cannot listen on {}: {source}", path.display()),
            TransportError::Announce { path, source } => write!(f, "cannot write {}: {source}", path.display()),
            TransportError::DdsNotBuilt => write!(f, "this build has no DDS (the cargo feature `dds` is off)"),
            TransportError::Dds(reason) => write!(f, "Cyclone DDS: {reason}"),
        }
    }
}

impl std::error::Error for TransportError {}

/// One publication on its way out.
pub(crate) struct Outgoing<'a> {
    /// Who sent what: travels in every frame.
    pub(crate) header: FrameHeader,
    pub(crate) payload: OutPayload<'a>,
    /// The publisher's keep-last depth: as many of its messages may be held at once.
    pub(crate) depth: usize,
    /// The publishing node, for the trace.
    pub(crate) node: &'a Arc<str>,
    /// The message as the trace names it; called only if the trace listens.
    pub(crate) msg: &'a dyn Fn() -> MessageRef,
}

/// A message as the publisher hands it to the transport.
pub(crate) enum OutPayload<'a> {
    /// Already encoded: subscriptions of this process needed the bytes too. Shared, so that
    /// the frames waiting for other processes hold them without a copy.
    Encoded(&'a Arc<Vec<u8>>),
    /// Not encoded yet: the transport serializes it where the bytes must end up (straight
    /// into a shared-memory slot, for one copy in all).
    Message(&'a dyn Encode),
}

/// A message the transport can serialize itself.
pub(crate) trait Encode {
    /// The length of its CDR encoding.
    fn cdr_len(&self) -> usize;
    /// Encodes into `out`; the length used, or `None` if it did not fit.
    fn to_cdr_in(&self, out: &mut [u8]) -> Option<usize>;
    fn to_cdr(&self) -> Vec<u8>;
}

impl<M: super::Message> Encode for M {
    fn cdr_len(&self) -> usize {
        super::Message::cdr_len(self)
    }

    fn to_cdr_in(&self, out: &mut [u8]) -> Option<usize> {
        super::Message::to_cdr_in(self, out)
    }

    fn to_cdr(&self) -> Vec<u8> {
        super::Message::to_cdr(self)
    }
}

/// A frame's payload as it came out of the socket: its kind (from the prefix), its bytes,
/// the descriptors that came with it, and the way back to its sender.
pub(crate) struct Incoming {
    /// The sending process, as the kernel says.
    pub(crate) from_pid: u32,
    /// [`frame::KIND_BYTES`], [`frame::KIND_SHM`], ...
    pub(crate) kind: u16,
    /// Who published it.
    pub(crate) publisher: u64,
    pub(crate) payload: Vec<u8>,
    pub(crate) fds: Vec<OwnedFd>,
    /// The same connection in the other direction, for releases.
    pub(crate) back: Arc<BackChannel>,
}

/// The write side of a connection we read frames from: a receiver sends releases on it.
#[derive(Debug)]
pub(crate) struct BackChannel(pub(crate) Mutex<std::os::unix::net::UnixStream>);

/// What a transport made of an incoming frame.
pub(crate) struct Arrived {
    /// The CDR bytes, where this process can read them.
    pub(crate) bytes: WireBytes,
    /// Set when they are read where they are in shared memory (no copy: the `mapped`
    /// event), unset when they were read out of the socket into a buffer of ours (a copy:
    /// the `read` event).
    pub(crate) segment: Option<SegmentId>,
}

/// What became of bytes from another process, as [`ToLocalSubscriptions`] says.
pub(crate) enum Handed {
    /// The local subscriptions of the topic have them.
    ToSubscriptions,
    /// Nobody here subscribes to the topic: the frame is refused.
    NoSubscription,
    /// The topic carries `local` here, another type: the frame is refused.
    OtherType { local: &'static str },
    /// The process's domain is going away: nothing to do.
    DomainGone,
}

/// Hands bytes from another process (`topic`, `type_name`, the sample) to the subscriptions
/// of this process, first telling `arrived` the topic's local type so that the read is
/// reported before any subscription can take the sample. The middleware's domain gives it:
/// a callback, so that the transport does not depend on the middleware that owns it.
pub(crate) type ToLocalSubscriptions =
    Box<dyn Fn(&str, &str, &WireSample, &dyn Fn(&'static str)) -> Handed + Send + Sync>;

/// What every transport must do. The publisher and the receiving threads use only this;
/// which transport it is decides nothing else.
pub(crate) trait Transport: Send + Sync + fmt::Debug {
    /// Announces a local node, publisher or subscription for as long as it lives, so that
    /// other processes find it.
    fn announce(&self, entry: LocalEntry);

    /// How many other processes of this domain subscribe to `topic` (each counted once).
    fn remote_subscriber_count(&self, topic: &str) -> usize;

    /// Sends one publication to every subscribing process, and reports through the trace
    /// what that cost: the bytes written or copied, a lost peer, a full pool.
    fn send(&self, out: &Outgoing<'_>);

    /// Turns a frame from another process into bytes this process can read, or says why
    /// the frame is refused (the reason becomes a `rejected` event).
    fn receive(&self, frame: Incoming) -> Result<Arrived, String>;

    /// A receiving process gave back memory that one of our publishers lent it: the last
    /// reference to the message there was dropped. An error names a release that does not
    /// match anything it holds (the connection is then closed).
    /// A transport that lends nothing (`lend` below) refuses every release.
    fn release(&self, from_pid: u32, release: frame::ReleaseFrame) -> Result<(), String> {
        let _ = from_pid;
        Err(format!(
            "release of slot {} of publisher {}: this process lends no memory",
            release.slot, release.publisher
        ))
    }

    /// A connection with `pid` closed (the process died, or stopped talking to us): what it
    /// held is ours again, and what it had sent us is forgotten. Nothing, for a transport
    /// that lends nothing and keeps nothing per peer.
    fn peer_gone(&self, pid: u32) {
        let _ = pid;
    }

    /// This process leaves the domain: stop announcing and listening, now.
    fn close(&self);

    /// A publisher of `topic` in another process, as this transport's own discovery finds
    /// it (DDS's, which also sees real ROS 2 nodes). `None` if it found none, and for the
    /// transports whose discovery is the runtime directory's announcements, read there.
    fn found_publisher(&self, topic: &str) -> Option<FoundPublisher> {
        let _ = topic;
        None
    }

    /// Lends `len` bytes of memory that the subscribing processes of `topic` can read where
    /// they are, for a loaned message of publisher `publisher` (whose keep-last depth is
    /// `depth`). `None` if this transport cannot lend (rclcpp's `can_loan_messages`), or
    /// nobody listens.
    fn lend(&self, publisher: u64, topic: &str, node: &Arc<str>, depth: usize, len: usize) -> Option<Loan> {
        let _ = (publisher, topic, node, depth, len);
        None
    }
}

/// Starts the transport `options` asks for, for domain `domain_id`; what arrives from other
/// processes goes to `to_local`.
pub(crate) fn start(
    domain_id: u32,
    options: &TransportOptions,
    tracer: Tracer,
    to_local: ToLocalSubscriptions,
) -> Result<Arc<dyn Transport>, TransportError> {
    if options.kind == TransportKind::Dds && !cfg!(feature = "dds") {
        return Err(TransportError::DdsNotBuilt);
    }
    let (link, listening) = link::Link::start(domain_id, options, tracer, to_local)?;
    let transport: Arc<dyn Transport> = match options.kind {
        TransportKind::Socket => Arc::new(socket::SocketTransport::new(link)),
        TransportKind::SharedMemory => Arc::new(shm::ShmTransport::new(link)),
        #[cfg(feature = "dds")]
        TransportKind::Dds => dds::transport::DdsTransport::start(link)?,
        #[cfg(not(feature = "dds"))]
        TransportKind::Dds => return Err(TransportError::DdsNotBuilt),
    };
    listening.begin(Arc::downgrade(&transport));
    Ok(transport)
}

/// A local node, publisher or subscription, as announced (a publisher then sets its id).
pub(crate) fn entry(
    kind: LocalKind,
    node: &Arc<str>,
    topic: &Arc<str>,
    type_name: &'static str,
    intra: bool,
    qos: super::QoS,
    alive: Weak<dyn Any + Send + Sync>,
) -> LocalEntry {
    LocalEntry { kind, node: node.clone(), topic: topic.clone(), type_name, intra, qos, alive, publisher: 0 }
}

/// Why this process's transport stopped after it started, if it did.
static FAILURE: Mutex<Option<TransportError>> = Mutex::new(None);

/// The transport cannot go on (its announcement could no longer be written, on a full
/// disk: peers would never learn of our new endpoints, and would wait for them silently).
/// The first failure is kept for the application to report, and every context is shut
/// down so the run ends.
pub(crate) fn failed(error: TransportError) {
    FAILURE.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(error);
    crate::engine::context::shutdown_every_context();
}

/// Why the transport stopped after it started, if it did (taken: asked once, at the end
/// of the run).
pub fn failure() -> Option<TransportError> {
    FAILURE.lock().unwrap_or_else(|e| e.into_inner()).take()
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
