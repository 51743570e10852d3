//! Trace events: what the engine did, as data. The engine never prints; renderers turn
//! these events into text, and tests assert on them directly.
//!
//! ```
//! use std::sync::Arc;
//! use ipc_lab::engine::trace::{EventKind, Recorder};
//! use ipc_lab::engine::{Context, InitOptions};
//!
//! let recorder = Arc::new(Recorder::default());
//! let ctx = Context::init_with(InitOptions::default().sink(recorder.clone()));
//! ctx.printf(format_args!("hello"));
//! assert!(matches!(&recorder.events()[0].kind, EventKind::Printed { line } if *line == "hello"));
//! ```

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::message::Message;
use super::text::{LineText, ShortText};

/// Identifies one call to `publish`: the publisher and its sequence number. Every event
/// caused by that call carries it, so a renderer can put a message's published, copied and
/// received events on one row without comparing addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Publication {
    /// The publishing process.
    pub pid: u32,
    /// The publisher's id, unique among the publishers of its context.
    pub publisher: u64,
    /// Counts the publisher's calls to `publish`, from 1.
    pub seq: u64,
}

/// A message as the trace sees it at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRef {
    /// The topic it was published on.
    pub topic: Arc<str>,
    /// The ROS type name.
    pub type_name: &'static str,
    /// The publish call this message comes from.
    pub publication: Publication,
    /// The message's address in the process of the event.
    pub addr: usize,
    /// The address of its payload buffer (an image's pixels), if it has one.
    pub payload_addr: Option<usize>,
    /// The message's value in short (`Message::summary`).
    pub value: ShortText,
}

impl MessageRef {
    pub(crate) fn of<M: Message>(msg: &M, topic: &Arc<str>, publication: Publication) -> Self {
        Self {
            topic: topic.clone(),
            type_name: M::TYPE_NAME,
            publication,
            addr: super::message::address_of(msg),
            payload_addr: msg.payload_address(),
            value: msg.summary(),
        }
    }

    /// Serialized bytes as the trace shows them: where they are and how many.
    pub(crate) fn of_cdr(bytes: &[u8], topic: Arc<str>, type_name: &'static str, publication: Publication) -> Self {
        let (addr, payload_addr, value) = (bytes.as_ptr() as usize, None, ShortText::cdr_summary(bytes));
        Self { topic, type_name, publication, addr, payload_addr, value }
    }
}

/// Why the intra-process manager made a copy (REFERENCE.md section 2). The one list of copy
/// reasons: JSON writes each by its serde name (`not_last`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CopyReason {
    /// Every subscription but the last in the list gets a copy; the last gets the original.
    NotLast,
    /// Owners exist and two or more subscriptions take it shared: one copy for all of them.
    SharedForSharedSubscriptions,
    /// Owners exist and a subscriber outside this process (or with IPC off) needs the
    /// message too: one shared copy, for it and for the shared subscriptions.
    SharedForInterProcess,
    /// Owners exist and the publisher is transient local: one shared copy, which its buffer
    /// keeps for late joiners (and, from rolling on, the middleware serializes), shared by
    /// the shared subscriptions (`do_intra_process_publish_and_return_shared`, called for the
    /// buffer even with no outside subscriber: publisher.hpp:264-268 jazzy).
    SharedForTransientLocal,
    /// `publish_ref` was given a borrowed message: the engine needs one it owns.
    PublishByReference,
    /// A callback that takes ownership (`UniquePtr`, `const T &`, `SharedPtr`) takes from
    /// a `SharedPtr` intra-process buffer: `consume_unique` always copies
    /// (intra_process_buffer.hpp:227-248 rolling).
    UniqueFromSharedBuffer,
    /// Through the middleware, a `UniquePtr` callback gets a copy of the message
    /// the middleware decoded (rclcpp's `create_unique_ptr_from_shared_ptr_message`).
    UniqueFromTaken,
    /// A callback that shares a read-only message copied its payload to change it (an image
    /// view drawing its line): Rust will not write through a shared pointer, where C++
    /// writes into the one buffer the shared subscriptions hold.
    ReadOnlyToDrawOn,
    /// A node that received its message on the heap publishes it as a loaned message: the
    /// pixels are copied once into the loan (the copy a loan saves only where the producer
    /// writes into the loan itself, as a camera does).
    IntoLoan,
}

/// Why a subscription threw away a message it had taken (and paid for) without running its
/// callback. JSON writes each by its serde name (`delivered_by_intra_process`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscardReason {
    /// The middleware's copy of a message that the intra-process manager already delivered:
    /// the publisher also reached another process (or a subscription with IPC off), so it
    /// published to the middleware too, and the middleware delivers to every matched
    /// reader, this one included. rclcpp's executor takes and deserializes it, then
    /// `Subscription::handle_message` drops it (subscription.hpp:285-293 rolling, :297
    /// jazzy, :327 humble; rclcpp issue #1722). The subscription option
    /// `ignore_local_publications` keeps it from arriving at all.
    DeliveredByIntraProcess,
}

/// A QoS policy on which a publisher and a subscription disagree (rclcpp's
/// `QoSPolicyKind`). JSON writes each by its serde name (`reliability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QosPolicyKind {
    /// A best-effort publisher cannot serve a subscription that requires reliable delivery.
    Reliability,
    /// A volatile publisher cannot serve a subscription that requires transient local.
    Durability,
}

/// The pid of the other side when it is DDS: a message taken from DDS is said to come from
/// it (`read`, `from_pid`), one handed to DDS to go to it (`written`, `to_pid`), and what
/// Cyclone refused is said to be rejected by it. A DDS sample names its writer (a GUID), not
/// a process, and the writer may be ROS 2's or this tool's, on this machine or another.
/// Its sample says nothing of what the writer copied.
pub const FROM_MIDDLEWARE: u32 = 0;

/// Where a message that came from another process was published, as its frame says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The publishing process.
    pub pid: u32,
    /// The publishing node there.
    pub node: Arc<str>,
    /// The published message's address in ITS process: a number that means nothing here.
    pub addr: usize,
    /// What the publishing process copied to send it here, as the frame says: a shared
    /// copy for subscribers outside its intra-process manager (0: none)...
    pub copied_bytes: usize,
    /// ...the length of the CDR encoding it was sent as...
    pub serialized_bytes: usize,
    /// ...and the bytes it copied into the socket or the shared-memory segment.
    pub written_bytes: usize,
}

/// Names a place in shared memory the same way in every process that maps it: the memfd's
/// inode number (what `/proc/<pid>/maps` shows beside `/memfd:ipc-lab-pool`) and the offset
/// in it. A virtual address differs from process to process; this does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SegmentId {
    /// The memfd's inode number.
    pub inode: u64,
    /// Where in the memfd, in bytes.
    pub offset: u64,
}

/// How the message handed to a callback reached it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The very message that was published: ownership moved, nothing copied.
    Original,
    /// A copy the intra-process manager made for this subscription.
    Copy(CopyReason),
    /// Through the middleware: serialized by the publisher, deserialized into a new message.
    Middleware,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A publisher was handed a message.
    Published { msg: MessageRef },
    /// A callback is about to get a message. `origin` is set when it came from another
    /// process; `shared` when the callback takes a `ConstSharedPtr` (it shares the message
    /// and never owns it, so nothing "moved" to it).
    Received { msg: MessageRef, via: Via, origin: Option<Origin>, shared: bool },
    /// A deep copy: `msg` is the new message, `from` the address of the copied one.
    Copied { msg: MessageRef, from: usize, reason: CopyReason, bytes: usize },
    /// A message was encoded to CDR: `bytes` is the length of the encoding.
    Serialized { msg: MessageRef, bytes: usize },
    /// CDR bytes were decoded into `msg`, a newly allocated message.
    Deserialized { msg: MessageRef, bytes: usize },
    /// A full keep-last queue dropped this message to make room.
    Overwritten { msg: MessageRef },
    /// A transient-local publisher keeps this message (shared, no copy) for subscriptions
    /// that join later; it leaves the publisher's buffer when `depth` newer ones are kept.
    Kept { msg: MessageRef },
    /// The queue of frames waiting for process `to_pid` was full (it reads slowly, or not at
    /// all: stopped with SIGSTOP): this message of the event's node will not reach it. As
    /// many of the publisher's messages as its keep-last depth wait for each process; the
    /// oldest goes first, and nobody else waits for that process.
    OverwrittenForPeer { msg: MessageRef, to_pid: u32 },
    /// A publisher (of node `publisher_node`) and the subscription of this event's node on
    /// `topic` cannot communicate: `policy` is incompatible, so the subscription gets
    /// nothing from that publisher. Reported once, when they meet (rclcpp's
    /// `RequestedIncompatibleQoS` event); never a silent loss.
    ///
    /// With `offered`, the publisher's side of the same (rclcpp's `OfferedIncompatibleQoS`):
    /// this event's node is the publisher's (`publisher_node`), and a subscription that asks
    /// for more than it offers, a DDS reader somewhere else whose node is not known here,
    /// gets nothing from it.
    IncompatibleQos { topic: Arc<str>, policy: QosPolicyKind, publisher_node: Arc<str>, offered: bool },
    /// A subscription took `msg` (already reported `deserialized`, whose cost stands) and
    /// threw it away without running its callback. Not a receipt.
    Discarded { msg: MessageRef, reason: DiscardReason },
    /// CDR bytes were written into a socket to another process (the kernel copies them), or
    /// handed to DDS (`to_pid` is [`FROM_MIDDLEWARE`]: Cyclone copies them into its sample).
    /// `msg` is the message they encode.
    Written { msg: MessageRef, bytes: usize, to_pid: u32 },
    /// CDR bytes from another process were read out of a socket, or taken from DDS
    /// (`from_pid` is [`FROM_MIDDLEWARE`]), into `msg.addr`, a new buffer of this process.
    Read { msg: MessageRef, bytes: usize, from_pid: u32 },
    /// CDR bytes already encoded (for subscriptions of this process) were copied into the
    /// shared-memory slot `segment`, mapped at `msg.addr` here: one copy.
    SharedMemoryWritten { msg: MessageRef, bytes: usize, segment: SegmentId },
    /// A message was serialized straight into the shared-memory slot `segment`, mapped at
    /// `msg.addr` here: the serialization is the only copy (its `serialized` event counts
    /// it); nothing is copied again for the other processes.
    SerializedInPlace { msg: MessageRef, bytes: usize, segment: SegmentId },
    /// The bytes of a shared-memory slot from another process are read at `msg.addr` here:
    /// the same physical memory (`segment`, as in the publisher's events) at another
    /// virtual address; no byte copied. The slot was mapped once, when its descriptor came.
    Mapped { msg: MessageRef, bytes: usize, from_pid: u32, segment: SegmentId },
    /// A loaned message was published: its producer wrote its pixels in place in the
    /// shared-memory slot `segment` (mapped at `msg.addr` here), and publishing wrote only the
    /// `header_bytes` in front of them. Not a copy of the message: `bytes` is its whole
    /// encoding, read where it is by the other processes.
    LoanPublished { msg: MessageRef, header_bytes: usize, bytes: usize, segment: SegmentId },
    /// A receiving process gave a slot of this publisher's pool back: the last reference to
    /// the message in it was dropped there. The slot can take the next message.
    Released { by_pid: u32, segment: SegmentId },
    /// Every slot of a publisher's pool is held by receivers that have not released them:
    /// this message does not reach the other processes (the newest is dropped, never the
    /// memory someone still reads). `held_by` holds the most slots.
    PoolExhausted { topic: Arc<str>, slots: usize, held_by: u32 },
    /// A process went away while it held `slots` slots of our pools: they are free again.
    Reclaimed { pid: u32, slots: usize },
    /// The peer process went away (its socket closed); delivery resumes when it or another
    /// subscriber appears.
    PeerLost { pid: u32, topic: Arc<str> },
    /// `msg`'s encoding, `bytes` long, is over `limit`, the most a frame between processes
    /// carries (`transport::frame::MAX_PAYLOAD`): it is not sent to the other processes
    /// (this process's subscriptions still get it). Every receiver would refuse it and close
    /// the connection, and the publisher would only see a peer gone.
    TooLargeForFrame { msg: MessageRef, bytes: usize, limit: usize },
    /// A frame from another process was refused (malformed, oversized, wrong type), or a
    /// DDS sample or writer ([`FROM_MIDDLEWARE`]: another type, incompatible QoS, or what
    /// Cyclone refused).
    Rejected { from_pid: u32, reason: LineText },
    /// A line the demo printed (its `printf`), kept in order with everything else.
    Printed { line: LineText },
    /// A producer filled the new message at `addr` with `bytes` of its own data (the camera
    /// copying its captured frame into the image it is about to publish). The producer's own
    /// work, before `publish`: not a copy that the intra-process manager or the middleware made.
    Filled { addr: usize, payload_addr: Option<usize>, bytes: usize },
    /// Text drawn on a frame's pixels at baseline `y`, exactly as the frame shows it.
    Drawn { y: i32, text: ShortText },
    /// A view showed the image message at `addr` (a window, the terminal, a PNG file, or
    /// nothing with `--show none`): one frame reached the end of the pipeline.
    Shown { addr: usize },
}

impl EventKind {
    /// The message this event is about, if it is about one.
    pub fn message(&self) -> Option<&MessageRef> {
        match self {
            EventKind::Published { msg }
            | EventKind::Received { msg, .. }
            | EventKind::Copied { msg, .. }
            | EventKind::Serialized { msg, .. }
            | EventKind::Deserialized { msg, .. }
            | EventKind::Overwritten { msg }
            | EventKind::Kept { msg }
            | EventKind::OverwrittenForPeer { msg, .. }
            | EventKind::Discarded { msg, .. }
            | EventKind::Written { msg, .. }
            | EventKind::Read { msg, .. }
            | EventKind::SharedMemoryWritten { msg, .. }
            | EventKind::SerializedInPlace { msg, .. }
            | EventKind::LoanPublished { msg, .. }
            | EventKind::Mapped { msg, .. }
            | EventKind::TooLargeForFrame { msg, .. } => Some(msg),
            EventKind::Printed { .. }
            | EventKind::PeerLost { .. }
            | EventKind::IncompatibleQos { .. }
            | EventKind::Rejected { .. }
            | EventKind::Released { .. }
            | EventKind::PoolExhausted { .. }
            | EventKind::Reclaimed { .. }
            | EventKind::Filled { .. }
            | EventKind::Drawn { .. }
            | EventKind::Shown { .. } => None,
        }
    }

    /// The bytes this event copied, if it copied any. A producer filling its own new message
    /// ([`EventKind::Filled`]) is not counted: it is the work of making the message, which
    /// happens the same with IPC on or off.
    pub fn bytes_copied(&self) -> Option<usize> {
        match self {
            EventKind::Copied { bytes, .. }
            | EventKind::Serialized { bytes, .. }
            | EventKind::Deserialized { bytes, .. }
            | EventKind::Written { bytes, .. }
            | EventKind::Read { bytes, .. }
            | EventKind::SharedMemoryWritten { bytes, .. } => Some(*bytes),
            _ => None,
        }
    }
}

/// One trace event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEvent {
    /// The process the event happened in.
    pub pid: u32,
    /// The node that did it (empty for the demo's `main`).
    pub node: Arc<str>,
    /// What happened.
    pub kind: EventKind,
}

/// Where the engine sends its events. Called from whichever thread did the work, in the
/// order things happened on that thread.
pub trait TraceSink: Send + Sync {
    fn record(&self, event: TraceEvent);

    /// Whether anyone listens now. The engine asks before it builds an event: a sink that
    /// says no costs a publish one call, not the formatting of a message's summary.
    fn enabled(&self) -> bool {
        true
    }
}

/// A sink that keeps every event, for tests and for renderers that need the whole run.
#[derive(Debug, Default)]
pub struct Recorder {
    /// Every event so far, in the order the sink got them.
    events: Mutex<Vec<TraceEvent>>,
}

impl Recorder {
    /// A copy of everything recorded so far.
    pub fn events(&self) -> Vec<TraceEvent> {
        self.events.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl TraceSink for Recorder {
    fn record(&self, event: TraceEvent) {
        self.events.lock().unwrap_or_else(|e| e.into_inner()).push(event);
    }
}

/// A sink that drops everything (the default).
#[derive(Debug, Default)]
pub struct Discard;

impl TraceSink for Discard {
    fn record(&self, _event: TraceEvent) {}

    fn enabled(&self) -> bool {
        false
    }
}

/// Stamps events with the pid and a node name before handing them to the sink.
#[derive(Clone)]
pub(crate) struct Tracer {
    /// Where the events go.
    pub(crate) sink: Arc<dyn TraceSink>,
    /// This process, stamped on every event.
    pub(crate) pid: u32,
}

impl Tracer {
    /// Whether the sink listens now: an event that must be built ahead of time (a message
    /// named now, reported later by another thread) is built only then.
    pub(crate) fn listening(&self) -> bool {
        self.sink.enabled()
    }

    /// Reports the event `kind` builds, if the sink listens.
    pub(crate) fn emit(&self, node: &Arc<str>, kind: impl FnOnce() -> EventKind) {
        if self.sink.enabled() {
            self.sink.record(TraceEvent { pid: self.pid, node: node.clone(), kind: kind() });
        }
    }

    /// Reports a deep copy already made: `copy` was cloned from `from` for `reason`. The
    /// tracer only reports; each copy is made where rclcpp makes it (the intra-process
    /// manager, the subscription's buffer, the dispatch to a callback), next to its rule.
    pub(crate) fn copied<M: Message>(&self, node: &Arc<str>, what: CopyMade<'_, M>) {
        self.emit(node, || EventKind::Copied {
            msg: MessageRef::of::<M>(what.copy, what.topic, what.publication),
            from: super::message::address_of(what.from),
            reason: what.reason,
            bytes: what.from.deep_size(),
        });
    }
}

/// A deep copy, as [`Tracer::copied`] reports it.
pub(crate) struct CopyMade<'a, M> {
    pub(crate) topic: &'a Arc<str>,
    /// The publish call the copied message comes from.
    pub(crate) publication: Publication,
    /// The message that was copied.
    pub(crate) from: &'a M,
    /// The new message.
    pub(crate) copy: &'a M,
    /// Which rule made the copy.
    pub(crate) reason: CopyReason,
}
