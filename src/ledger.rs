//! The ledger of copies: the one place where trace events become costs. Every figure a view
//! shows about copies (a row's copies, a summary, the copies table, the image pipeline's
//! frame figures, the bench's copies per hop) is read from here; renderers only format.
//!
//! It knows nothing of rclcpp's rules: it files each copy the engine reported under the
//! receipt it was made for, by what the events say (the publication, the process, the
//! address of the new message, the node it was decoded for), never by the kind of transport
//! or by counting addresses.
//!
//! ```
//! use std::sync::Arc;
//! use ipc_lab::engine::msg::std_msgs::Int32;
//! use ipc_lab::engine::trace::Recorder;
//! use ipc_lab::engine::{Context, InitOptions, Node, NodeOptions, SingleThreadedExecutor, UniquePtr};
//! use ipc_lab::ledger::{Ledger, Tally};
//!
//! let recorder = Arc::new(Recorder::default());
//! let ctx = Context::init_with(InitOptions::default().sink(recorder.clone()).domain_id(901));
//! let node = Node::new(&ctx, "n", NodeOptions::default()).unwrap(); // IPC off
//! let publisher = node.create_publisher::<Int32>("t", 10).unwrap();
//! let _sub = node.create_subscription("t", 10, |_: UniquePtr<Int32>| {}).unwrap();
//! publisher.publish(Box::new(Int32 { data: 1 }));
//! let mut executor = SingleThreadedExecutor::new();
//! executor.add_node(&node);
//! executor.spin_some();
//! let mut ledger = Ledger::default();
//! let receipts: Vec<_> = recorder.events().iter().filter_map(|e| ledger.record(e)).collect();
//! // Serialize 8 B, deserialize 8 B, copy into the UniquePtr 4 B: all for the one receipt.
//! assert_eq!(receipts[0].cost(), Tally { copies: 3, bytes: 20 });
//! assert_eq!(ledger.totals().unclaimed(), Tally::default());
//! ```
//!
//! Three kinds of cost, kept apart:
//! - rclcpp's: what rclcpp would copy too (the intra-process manager's copies, serializing,
//!   the bytes crossing a socket or into shared memory, deserializing, the `UniquePtr` copy);
//! - the tool's own ([`CopyReason::ReadOnlyToDrawOn`]): a copy Rust needs where C++ writes
//!   through a shared pointer; shown apart, never in a receipt's rclcpp figure;
//! - not claimed by any receipt seen here: for subscribers in processes this trace does not
//!   cover, for messages a full queue dropped, or for messages still on their way at the stop.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use crate::engine::text::ShortText;
use crate::engine::trace::{CopyReason, EventKind, Publication, SegmentId, TraceEvent, Via, FROM_MIDDLEWARE};

/// How many recent publications to remember: a message is received soon after it is
/// published; this bounds memory in an endless run. An older publication's unclaimed copies
/// are filed as unclaimed when it is forgotten.
const REMEMBERED: usize = 1024;

/// Copies and the bytes they copied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub copies: u64,
    pub bytes: u64,
}

impl Tally {
    /// One copy of `bytes`.
    pub fn one(bytes: u64) -> Self {
        Self { copies: 1, bytes }
    }

    /// The average over `n` (zero for none), as fractional copies and whole bytes.
    pub fn per(self, n: u64) -> Average {
        if n == 0 {
            return Average::default();
        }
        Average { copies: self.copies as f64 / n as f64, bytes: (self.bytes as f64 / n as f64).round() as u64 }
    }
}

impl std::ops::Add for Tally {
    type Output = Tally;

    fn add(self, other: Tally) -> Tally {
        Tally { copies: self.copies + other.copies, bytes: self.bytes + other.bytes }
    }
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, other: Tally) {
        *self = *self + other;
    }
}

impl std::iter::Sum for Tally {
    fn sum<I: Iterator<Item = Tally>>(iter: I) -> Tally {
        iter.fold(Tally::default(), |a, b| a + b)
    }
}

/// A [`Tally`] divided by a count: what one receipt (or frame) cost on average.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Average {
    pub copies: f64,
    /// Rounded to whole bytes.
    pub bytes: u64,
}

/// What one copy was, as the event that reported it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A deep copy of the message, for this reason.
    Copy(CopyReason),
    /// The message encoded to CDR.
    Serialize,
    /// CDR bytes written into a socket to another process (the kernel copies them).
    SocketWrite,
    /// CDR bytes copied into a shared-memory segment.
    SharedMemoryWrite,
    /// CDR bytes read out of a socket from another process.
    SocketRead,
    /// CDR bytes handed to DDS (`dds_writecdr` copies them into its sample): one copy
    /// whatever the number of readers.
    MiddlewareWrite,
    /// CDR bytes taken out of a DDS reader (`dds_takecdr`, copied out of its sample).
    MiddlewareTake,
    /// CDR bytes decoded into a new message.
    Deserialize,
}

impl Step {
    /// A cost of this tool alone: rclcpp would not copy here.
    pub fn tool_only(self) -> bool {
        self == Step::Copy(CopyReason::ReadOnlyToDrawOn)
    }
}

/// One copy, in the process that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    pub pid: u32,
    pub step: Step,
    pub bytes: u64,
}

/// How a receipt's CDR bytes got from the publishing process to this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crossing {
    /// Read out of a socket: the bytes crossed, copied.
    Socket { bytes: u64 },
    /// A shared-memory segment mapped here: the same memory, nothing crossed.
    Mapped { bytes: u64 },
    /// Taken out of DDS: the writer (a GUID, maybe not this tool's) is known, its process
    /// and what it copied are not.
    Middleware { bytes: u64 },
}

/// One end of a receipt: a node, its process, the message's address there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct End {
    pub node: Arc<str>,
    pub pid: u32,
    pub addr: usize,
}

/// What a publishing process this trace may not see copied to send a receipt's bytes, as
/// its frame says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    /// A shared copy made for the subscribers outside its intra-process manager (0: none).
    pub copied: u64,
    /// The length of the CDR encoding it serialized.
    pub serialized: u64,
    /// The bytes it copied into the socket or the shared-memory segment (0: none).
    pub written: u64,
}

impl Sent {
    pub fn tally(self) -> Tally {
        let one = |bytes: u64| if bytes > 0 { Tally::one(bytes) } else { Tally::default() };
        one(self.copied) + one(self.serialized) + one(self.written)
    }
}

/// One message handed to a callback, and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    /// Counts the receipts, from 1.
    pub index: u64,
    pub value: ShortText,
    /// Where it was published, if the trace (or the frame) says.
    pub from: Option<End>,
    pub to: End,
    pub via: Via,
    /// The callback takes a `ConstSharedPtr`: it shares the message, never owns it.
    pub shared: bool,
    /// rclcpp's copies this receipt claimed, in the order they were made.
    pub charges: Vec<Charge>,
    /// For a receipt from another process: how its bytes crossed, and what the sender
    /// copied to send them, as its frame says.
    pub crossing: Option<Crossing>,
    pub sent: Option<Sent>,
    /// Its message was already handed to an earlier receipt of the same publish (one shared
    /// pointer for several subscriptions): no copy of its own.
    pub shared_with_earlier: bool,
    /// A new message (a copy or a decoded one) on an address an earlier receipt showed for
    /// another message: `↺`.
    pub reused_address: bool,
    /// What the same publish cost in this process, so far, for subscribers this trace does
    /// not see (other processes).
    pub for_others: Tally,
    /// Where the receiving process read it in shared memory, named as every process names
    /// it (the memfd's inode and the offset); `None` when it read its own copy.
    pub segment: Option<SegmentId>,
    /// Where the publishing process lent it, if this trace saw the loan.
    pub from_segment: Option<SegmentId>,
}

impl Receipt {
    /// rclcpp's copies for this receipt.
    pub fn cost(&self) -> Tally {
        self.charges.iter().map(|c| Tally::one(c.bytes)).sum()
    }

    /// The copies made in the receiving process.
    pub fn charges_here(&self) -> impl Iterator<Item = &Charge> {
        self.charges.iter().filter(move |c| c.pid == self.to.pid)
    }

    /// What the receipt cost from the publish to the callback: for one from another
    /// process, the sender's share as its frame says and this process's copies (the same
    /// whether or not the sender's own events are in the trace, and whenever they arrive).
    pub fn end_to_end(&self) -> Tally {
        match self.sent {
            Some(sent) => sent.tally() + self.charges_here().map(|c| Tally::one(c.bytes)).sum(),
            None => self.cost(),
        }
    }
}

/// Everything recorded so far, with the scope of every figure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// Messages handed to a callback.
    pub receipts: u64,
    /// rclcpp's copies the receipts claimed.
    pub claimed: Tally,
    /// rclcpp's copies made for subscribers outside this trace (other processes).
    pub for_others: Tally,
    /// rclcpp's copies of messages a full queue dropped before any receipt.
    pub dropped: Tally,
    /// rclcpp's copies of messages a transient-local publisher keeps (its shared copy, and
    /// the middleware's serialization) that no receipt here claimed: they wait for late
    /// joiners.
    pub kept: Tally,
    /// rclcpp's copies of duplicates a subscription took and threw away: the middleware's
    /// copy of a message the intra-process manager had already delivered to it.
    pub discarded: Tally,
    /// rclcpp's copies of messages published but not received yet (still on their way when
    /// the run stopped).
    pub in_flight: Tally,
    /// The tool's own copies (see [`Step::tool_only`]).
    pub tool_only: Tally,
    /// Every copy event: the sum of all the above.
    pub all: Tally,
    /// Messages a full queue overwrote: a subscription's, or the queue of frames waiting for
    /// another process (`overwritten_for_peer`).
    pub overwritten: u64,
    /// Processes whose events this trace holds.
    pub processes: usize,
    /// Receipts from a process whose events this trace does not hold...
    pub from_unseen_processes: u64,
    /// ...and what their senders copied for them, as their frames say.
    pub sent_unseen: Tally,
    /// Receipts taken from DDS, whose writers' copies are not known here.
    pub from_middleware: u64,
    /// The image pipeline's frames.
    pub frames: Frames,
}

/// The image pipeline's frames: made, and shown at the end of the pipeline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frames {
    /// Frames a producer filled into new messages, and the bytes it filled: its own work,
    /// not a copy on the way.
    pub filled: u64,
    pub fill_bytes: u64,
    /// Frames shown, counted once per view...
    pub shown_by_views: u64,
    /// ...by this many views.
    pub views: usize,
}

impl Frames {
    /// Frames that reached the end of the pipeline: each view shows every frame it gets.
    pub fn shown(&self) -> u64 {
        self.shown_by_views / (self.views.max(1) as u64)
    }
}

impl Totals {
    /// rclcpp's copies no receipt here claimed.
    pub fn unclaimed(&self) -> Tally {
        self.for_others + self.dropped + self.kept + self.discarded + self.in_flight
    }

    /// rclcpp's copies of the receipts, from each publish to its callback: the claimed
    /// copies and, for senders this trace does not see, their share as their frames say.
    pub fn end_to_end(&self) -> Tally {
        self.claimed + self.sent_unseen
    }
}

/// What must claim a copy: the receipt it was made for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Claim {
    /// The message at this address in this process: whoever receives it first.
    Message { pid: u32, addr: usize },
    /// The message the middleware decoded for this node.
    Decoded { pid: u32, node: Arc<str> },
    /// The bytes written to, or read in, this process.
    Arrival { pid: u32 },
    /// The publication's way into the middleware: its first receipt through it.
    Middleware,
}

/// What one publication has done so far.
#[derive(Debug, Default)]
struct PublicationState {
    from: Option<End>,
    /// Copies no receipt has claimed yet, each with the claim that takes it.
    pending: Vec<(Claim, Charge)>,
    /// Claims receipts made: a copy reported later for one of them is theirs.
    claimed: HashSet<Claim>,
    /// Messages (process, address) already handed to a receipt.
    handed: HashSet<(u32, usize)>,
    /// How its bytes reached each process.
    crossings: HashMap<u32, Crossing>,
    overwritten: bool,
    /// A transient-local publisher keeps it for late joiners.
    kept: bool,
    /// Its bytes left for another process.
    sent_out: bool,
    /// Where each process reads it in shared memory (a loan, or a slot mapped from another
    /// process): the same inode and offset in all of them.
    segments: HashMap<u32, SegmentId>,
}

/// Folds trace events, from one or more processes, into receipts and totals.
#[derive(Debug, Default)]
pub struct Ledger {
    publications: HashMap<Publication, PublicationState>,
    order: VecDeque<Publication>,
    /// Addresses (process, address) that receipts have shown, for `↺`.
    shown: HashSet<(u32, usize)>,
    pids: HashSet<u32>,
    /// Publishing processes of receipts that came from another process.
    origins: HashMap<u32, FromProcess>,
    /// The nodes that showed frames.
    views: HashSet<Arc<str>>,
    /// What each node spent on duplicates it threw away.
    discarded_by: HashMap<Arc<str>, Tally>,
    totals: Totals,
}

impl Ledger {
    /// Files one event; returns the receipt when a message was handed to a callback.
    pub fn record(&mut self, event: &TraceEvent) -> Option<Receipt> {
        self.pids.insert(event.pid);
        match &event.kind {
            EventKind::Published { msg } => {
                let from = End { node: event.node.clone(), pid: event.pid, addr: msg.addr };
                self.publication(msg.publication).from = Some(from);
            }
            EventKind::Mapped { msg, bytes, segment, .. } => {
                let crossing = Crossing::Mapped { bytes: *bytes as u64 };
                let state = self.publication(msg.publication);
                state.crossings.insert(event.pid, crossing);
                state.segments.insert(event.pid, *segment);
            }
            // A subscription's full queue, or the full queue of frames waiting for another
            // process: either way the message was dropped, and what was copied for it only
            // is filed as dropped.
            EventKind::Overwritten { msg } | EventKind::OverwrittenForPeer { msg, .. } => {
                self.totals.overwritten += 1;
                self.publication(msg.publication).overwritten = true;
            }
            EventKind::Kept { msg } => self.publication(msg.publication).kept = true,
            EventKind::Discarded { msg, .. } => self.discard(msg.publication, event.pid, &event.node),
            // Written where the other processes read it: the serialization (or the loan) went
            // out to them, as a socket write or a copy into a slot says on the other paths.
            EventKind::SerializedInPlace { msg, .. } => self.publication(msg.publication).sent_out = true,
            // A loan is also what this process's own readers read.
            EventKind::LoanPublished { msg, segment, .. } => {
                let state = self.publication(msg.publication);
                state.sent_out = true;
                state.segments.insert(event.pid, *segment);
            }
            EventKind::Received { msg, via, origin, shared } => {
                let to = End { node: event.node.clone(), pid: event.pid, addr: msg.addr };
                let mut receipt = self.receive(msg.publication, msg.value, origin.is_some(), to, *via);
                receipt.shared = *shared;
                // A DDS writer's copies are not known here (see FROM_MIDDLEWARE): no `sent`,
                // and its receipts are counted apart from processes' ones.
                if origin.as_ref().is_some_and(|o| o.pid == FROM_MIDDLEWARE) {
                    self.totals.from_middleware += 1;
                } else if let Some(o) = origin {
                    let sent = Sent {
                        copied: o.copied_bytes as u64,
                        serialized: o.serialized_bytes as u64,
                        written: o.written_bytes as u64,
                    };
                    let from = self.origins.entry(o.pid).or_default();
                    from.receipts += 1;
                    from.sent += sent.tally();
                    receipt.sent = Some(sent);
                    receipt.from = Some(End { node: o.node.clone(), pid: o.pid, addr: o.addr });
                }
                return Some(receipt);
            }
            EventKind::Filled { bytes, .. } => {
                self.totals.frames.filled += 1;
                self.totals.frames.fill_bytes += *bytes as u64;
            }
            EventKind::Shown { .. } => {
                self.totals.frames.shown_by_views += 1;
                self.views.insert(event.node.clone());
                self.totals.frames.views = self.views.len();
            }
            // A copy; everything else copies nothing (a producer filling its own message is
            // its work, not a copy on the way), and events this ledger does not know yet
            // cost nothing here.
            _ => self.file_copy(event),
        }
        None
    }

    /// A message a subscription took and threw away: what was decoded for it is spent on a
    /// duplicate, claimed by no receipt.
    fn discard(&mut self, p: Publication, pid: u32, node: &Arc<str>) {
        let decoded = Claim::Decoded { pid, node: node.clone() };
        let state = self.publication(p);
        let (spent, rest): (Vec<_>, Vec<_>) =
            std::mem::take(&mut state.pending).into_iter().partition(|(claim, _)| *claim == decoded);
        state.pending = rest;
        let spent: Tally = spent.iter().map(|(_, c)| Tally::one(c.bytes)).sum();
        self.totals.discarded += spent;
        *self.discarded_by.entry(node.clone()).or_default() += spent;
    }

    /// What node `node` spent on duplicates it took and threw away.
    pub fn discarded_by(&self, node: &str) -> Tally {
        self.discarded_by.get(node).copied().unwrap_or_default()
    }

    /// A copy event: what it was, and the receipt that must claim it.
    fn file_copy(&mut self, event: &TraceEvent) {
        let pid = event.pid;
        let (msg, step, bytes, claim) = match &event.kind {
            // The shared copy for subscribers outside the intra-process manager's reach is
            // what the middleware serializes: its first receipt pays for it, and the shared
            // subscriptions of this process read it without a copy of their own.
            // So is a transient-local publisher's shared copy, which it keeps for late joiners
            // (and from rolling on serializes too), and pixels copied into a loan, which every
            // receiver of the loan reads.
            EventKind::Copied {
                msg,
                reason:
                    reason
                    @ (CopyReason::SharedForInterProcess | CopyReason::SharedForTransientLocal | CopyReason::IntoLoan),
                bytes,
                ..
            } => (msg, Step::Copy(*reason), bytes, Claim::Middleware),
            EventKind::Copied { msg, reason, bytes, .. } => {
                (msg, Step::Copy(*reason), bytes, Claim::Message { pid, addr: msg.addr })
            }
            EventKind::Serialized { msg, bytes } => (msg, Step::Serialize, bytes, Claim::Middleware),
            EventKind::SharedMemoryWritten { msg, bytes, .. } => {
                self.publication(msg.publication).sent_out = true;
                (msg, Step::SharedMemoryWrite, bytes, Claim::Middleware)
            }
            EventKind::Written { msg, bytes, to_pid } => {
                self.publication(msg.publication).sent_out = true;
                let step = if *to_pid == FROM_MIDDLEWARE { Step::MiddlewareWrite } else { Step::SocketWrite };
                (msg, step, bytes, Claim::Arrival { pid: *to_pid })
            }
            EventKind::Read { msg, bytes, from_pid } => {
                let (crossing, step) = match (*from_pid, *bytes as u64) {
                    (FROM_MIDDLEWARE, bytes) => (Crossing::Middleware { bytes }, Step::MiddlewareTake),
                    (_, bytes) => (Crossing::Socket { bytes }, Step::SocketRead),
                };
                self.publication(msg.publication).crossings.insert(pid, crossing);
                (msg, step, bytes, Claim::Arrival { pid })
            }
            EventKind::Deserialized { msg, bytes } => {
                (msg, Step::Deserialize, bytes, Claim::Decoded { pid, node: event.node.clone() })
            }
            _ => return,
        };
        self.charge(msg.publication, claim, Charge { pid, step, bytes: *bytes as u64 });
    }

    /// What has been recorded so far. Copies not claimed yet count as in flight (or for
    /// other processes, or dropped) until a receipt claims them.
    pub fn totals(&self) -> Totals {
        let mut totals = self.totals.clone();
        let seen = Seen { pids: &self.pids, peers: &self.origins };
        for state in self.publications.values() {
            for pending in &state.pending {
                totals.file_unclaimed(state, pending, &seen);
            }
        }
        totals.processes = self.pids.len();
        for (pid, from) in &self.origins {
            if !self.pids.contains(pid) {
                totals.from_unseen_processes += from.receipts;
                totals.sent_unseen += from.sent;
            }
        }
        totals
    }

    /// A message handed to a callback: it claims the copies made for it.
    fn receive(&mut self, p: Publication, value: ShortText, remote: bool, to: End, via: Via) -> Receipt {
        self.totals.receipts += 1;
        let index = self.totals.receipts;
        let here = (to.pid, to.addr);
        let state = self.publication(p);
        let claims = claims_of(&to, via);
        let (mine, rest): (Vec<_>, Vec<_>) =
            std::mem::take(&mut state.pending).into_iter().partition(|(claim, _)| claims.contains(claim));
        state.pending = rest;
        // Only claims on another process's copies can be answered late; a message's own
        // copies are reported before it is received, and its address may serve another
        // message of the same publish later.
        state.claimed.extend(claims.into_iter().filter(|c| matches!(c, Claim::Arrival { .. } | Claim::Middleware)));
        // A message made for this receipt is its own, even on an address an earlier one had.
        let made_for_it = mine.iter().any(|(claim, _)| matches!(claim, Claim::Message { .. } | Claim::Decoded { .. }));
        let shared_with_earlier = !state.handed.insert(here) && !made_for_it;
        let charges: Vec<Charge> = mine.into_iter().map(|(_, charge)| charge).collect();
        let for_others = match via {
            Via::Middleware => Tally::default(),
            _ if state.sent_out => state.pending.iter().map(|(_, c)| Tally::one(c.bytes)).sum(),
            _ => Tally::default(),
        };
        let crossing = state.crossings.get(&to.pid).copied().filter(|_| remote);
        // Only a callback that reads the message where it is (not one given a decoded copy).
        let decoded_here = charges.iter().any(|c| c.pid == to.pid && c.step == Step::Deserialize);
        let segment = state.segments.get(&to.pid).copied().filter(|_| !decoded_here);
        let from = state.from.clone();
        let from_segment = from.as_ref().and_then(|f| state.segments.get(&f.pid).copied());
        let cost: Tally = charges.iter().map(|c| Tally::one(c.bytes)).sum();
        self.totals.claimed += cost;
        // A message read in place in a slot is the publisher's, not one made here.
        let new_message = via != Via::Original && !shared_with_earlier && segment.is_none();
        let reused_address = new_message && self.shown.contains(&here);
        self.shown.insert(here);
        if let Some(from) = &from {
            self.shown.insert((from.pid, from.addr));
        }
        Receipt {
            index,
            value,
            from,
            to,
            via,
            // Set by `record`, which has the event.
            shared: false,
            charges,
            crossing,
            sent: None,
            shared_with_earlier,
            reused_address,
            for_others,
            segment,
            from_segment,
        }
    }

    fn publication(&mut self, p: Publication) -> &mut PublicationState {
        if !self.publications.contains_key(&p) {
            self.order.push_back(p);
            if self.order.len() > REMEMBERED {
                self.forget_oldest();
            }
        }
        self.publications.entry(p).or_default()
    }

    /// Files the unclaimed copies of the oldest publication for good.
    fn forget_oldest(&mut self) {
        let Some(old) = self.order.pop_front() else { return };
        if let Some(state) = self.publications.remove(&old) {
            let seen = Seen { pids: &self.pids, peers: &self.origins };
            for pending in &state.pending {
                self.totals.file_unclaimed(&state, pending, &seen);
            }
        }
    }

    /// A copy: the receipt that already made its claim gets it, or it waits for one.
    fn charge(&mut self, p: Publication, claim: Claim, charge: Charge) {
        self.totals.all += Tally::one(charge.bytes);
        if charge.step.tool_only() {
            self.totals.tool_only += Tally::one(charge.bytes);
            return;
        }
        let state = self.publication(p);
        if state.claimed.contains(&claim) {
            self.totals.claimed += Tally::one(charge.bytes);
        } else {
            state.pending.push((claim, charge));
        }
    }
}

impl Totals {
    /// Why a copy went unclaimed: for a process outside this trace, dropped by a full queue,
    /// or still on its way. `peers_seen`: some process in this trace received from the
    /// publishing process through the middleware, so its bytes were not for outsiders only.
    fn file_unclaimed(&mut self, state: &PublicationState, (claim, charge): &(Claim, Charge), seen: &Seen<'_>) {
        let tally = Tally::one(charge.bytes);
        let outside = match claim {
            Claim::Arrival { pid } => !seen.pids.contains(pid),
            _ => state.sent_out && !seen.peers.contains_key(&charge.pid),
        };
        if outside {
            self.for_others += tally;
        } else if state.overwritten {
            self.dropped += tally;
        } else if state.kept {
            self.kept += tally;
        } else {
            self.in_flight += tally;
        }
    }
}

/// What the ledger has seen of the processes, for filing unclaimed copies.
struct Seen<'a> {
    pids: &'a HashSet<u32>,
    /// Publishing processes of receipts from another process.
    peers: &'a HashMap<u32, FromProcess>,
}

/// The receipts from one other process.
#[derive(Debug, Clone, Copy, Default)]
struct FromProcess {
    receipts: u64,
    /// What it copied to send them, as its frames say.
    sent: Tally,
}

/// The claims a receipt makes: the message it got, and through the middleware the bytes
/// that reached its process, the message decoded for its node, and the publication's way
/// into the middleware.
fn claims_of(to: &End, via: Via) -> Vec<Claim> {
    let mut claims = vec![Claim::Message { pid: to.pid, addr: to.addr }];
    if via == Via::Middleware {
        claims.push(Claim::Decoded { pid: to.pid, node: to.node.clone() });
        claims.push(Claim::Arrival { pid: to.pid });
        claims.push(Claim::Middleware);
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demos::copies::{self, Spec};
    use crate::engine::msg::std_msgs::Int32;
    use crate::engine::trace::{MessageRef, Origin, Recorder, SegmentId};
    use crate::engine::{Context, InitOptions, Node, NodeOptions, SingleThreadedExecutor, UniquePtr};

    /// The receipts and the totals of a list of events.
    fn fold(events: &[TraceEvent]) -> (Vec<Receipt>, Totals) {
        let mut ledger = Ledger::default();
        let receipts = events.iter().filter_map(|e| ledger.record(e)).collect();
        (receipts, ledger.totals())
    }

    /// Every copy event is filed once: claimed, unclaimed or the tool's own.
    fn assert_adds_up(events: &[TraceEvent], totals: &Totals) {
        let counted: Tally = events.iter().filter_map(|e| e.kind.bytes_copied()).map(|b| Tally::one(b as u64)).sum();
        assert_eq!(totals.all, counted);
        assert_eq!(totals.claimed + totals.unclaimed() + totals.tool_only, totals.all);
    }

    /// A domain no other test of this process uses. Tests run in parallel threads, and
    /// contexts of one domain in one process are matched through the middleware (as DDS
    /// participants are): `copies("U", true)`'s publisher, which also publishes to the
    /// middleware, reached the subscriptions of a `copies("U,U,S,S", false)` running at
    /// the same moment in domain 0, and its receipts claimed copies that were not theirs.
    fn own_domain() -> u32 {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(910);
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    fn copies(spec: &str, inter: bool) -> Vec<TraceEvent> {
        let recorder = Arc::new(Recorder::default());
        let ctx = Context::init_with(InitOptions::default().sink(recorder.clone()).domain_id(own_domain()));
        let setup = copies::Setup { inter_process: inter, ..copies::Setup::default() };
        copies::main(&ctx, &spec.parse::<Spec>().unwrap(), setup).unwrap();
        recorder.events()
    }

    /// `U,U,S,S`: the first owner pays for its copy, the shared copy is paid by the first
    /// shared subscription and shared by the second, the last owner gets the original.
    #[test]
    fn each_copy_is_claimed_by_the_receipt_it_was_made_for() {
        let events = copies("U,U,S,S", false);
        let (receipts, totals) = fold(&events);
        let cost = |node: &str| {
            receipts.iter().find(|r| &*r.to.node == node).map(|r| (r.cost().copies, r.shared_with_earlier))
        };
        assert_eq!(cost("sub1"), Some((1, false)));
        assert_eq!(cost("sub2"), Some((0, false)));
        let shared: Vec<_> = ["sub3", "sub4"].iter().map(|n| cost(n).unwrap()).collect();
        assert_eq!(shared.iter().map(|c| c.0).sum::<u64>(), 1);
        assert_eq!(shared.iter().filter(|c| c.1).count(), 1);
        assert_eq!(totals.claimed, Tally { copies: 2, bytes: 8 });
        assert_adds_up(&events, &totals);
    }

    /// A subscriber outside the IPM's reach: its receipt claims the shared copy made for
    /// it, the serialization and its deserialization.
    #[test]
    fn the_middleware_receipt_claims_the_shared_copy_made_for_it() {
        let events = copies("U", true);
        let (receipts, totals) = fold(&events);
        let other = receipts.iter().find(|r| &*r.to.node == copies::INTER_PROCESS_NODE).unwrap();
        let steps: Vec<Step> = other.charges.iter().map(|c| c.step).collect();
        assert_eq!(steps, [Step::Copy(CopyReason::SharedForInterProcess), Step::Serialize, Step::Deserialize]);
        // The owner in the process also took the middleware's copy, and threw it away.
        assert_eq!(totals.unclaimed(), totals.discarded);
        assert_eq!(totals.discarded, Tally::one(8));
        assert_adds_up(&events, &totals);
    }

    /// IPC off, nothing spun: the serialization waits for a receipt, in flight; a full
    /// queue of depth 1 drops the first message, whose serialization is then dropped too.
    #[test]
    fn copies_no_receipt_claimed_are_in_flight_or_dropped() {
        let recorder = Arc::new(Recorder::default());
        let ctx = Context::init_with(InitOptions::default().sink(recorder.clone()).domain_id(own_domain()));
        let node = Node::new(&ctx, "n", NodeOptions::default()).unwrap();
        let publisher = node.create_publisher::<Int32>("t", 1).unwrap();
        let _sub = node.create_subscription("t", 1, |_: UniquePtr<Int32>| {}).unwrap();
        publisher.publish(Box::new(Int32 { data: 1 }));
        publisher.publish(Box::new(Int32 { data: 2 }));
        let (_, totals) = fold(&recorder.events());
        assert_eq!((totals.overwritten, totals.dropped, totals.in_flight), (1, Tally::one(8), Tally::one(8)));
        let mut executor = SingleThreadedExecutor::new();
        executor.add_node(&node);
        executor.spin_some();
        let events = recorder.events();
        let (receipts, totals) = fold(&events);
        assert_eq!(receipts.len(), 1);
        assert_eq!((totals.dropped, totals.in_flight), (Tally::one(8), Tally::default()));
        assert_adds_up(&events, &totals);
    }

    /// A message dropped from the full queue of frames for another process is counted as
    /// overwritten, and what was copied for it alone (its serialization) as dropped.
    #[test]
    fn a_message_dropped_for_a_stopped_process_is_overwritten() {
        let events = [
            event(1, "p", EventKind::Published { msg: msg(0x10) }),
            event(1, "p", EventKind::Serialized { msg: msg(0x20), bytes: 8 }),
            event(1, "p", EventKind::OverwrittenForPeer { msg: msg(0x10), to_pid: 2 }),
        ];
        let (_, totals) = fold(&events);
        assert_eq!((totals.overwritten, totals.dropped, totals.in_flight), (1, Tally::one(8), Tally::default()));
    }

    fn event(pid: u32, node: &str, kind: EventKind) -> TraceEvent {
        TraceEvent { pid, node: node.into(), kind }
    }

    fn msg(addr: usize) -> MessageRef {
        let publication = Publication { pid: 1, publisher: 1, seq: 1 };
        MessageRef { topic: "t".into(), type_name: "x", publication, addr, payload_addr: None, value: "7".into() }
    }

    /// A sample taken from DDS names no process: the take is this receipt's copy, no
    /// sender's frame is believed (nothing is `sent`), and the receipt counts apart.
    #[test]
    fn a_sample_taken_from_dds_counts_only_what_this_process_copied() {
        let dds = Publication { pid: FROM_MIDDLEWARE, publisher: 0, seq: 1 };
        let sample = |addr| MessageRef { publication: dds, ..msg(addr) };
        let origin = Origin {
            pid: FROM_MIDDLEWARE,
            node: "".into(),
            addr: 0,
            copied_bytes: 0,
            serialized_bytes: 0,
            written_bytes: 0,
        };
        let events = [
            event(2, "", EventKind::Read { msg: sample(0x20), bytes: 8, from_pid: FROM_MIDDLEWARE }),
            event(2, "c", EventKind::Deserialized { msg: sample(0x30), bytes: 8 }),
            event(
                2,
                "c",
                EventKind::Received { msg: sample(0x30), via: Via::Middleware, origin: Some(origin), shared: false },
            ),
        ];
        let (receipts, totals) = fold(&events);
        let steps: Vec<Step> = receipts[0].charges.iter().map(|c| c.step).collect();
        assert_eq!(steps, [Step::MiddlewareTake, Step::Deserialize]);
        assert_eq!(receipts[0].crossing, Some(Crossing::Middleware { bytes: 8 }));
        assert_eq!((receipts[0].sent, receipts[0].from.clone()), (None, None));
        assert_eq!((totals.from_middleware, totals.from_unseen_processes), (1, 0));
        assert_adds_up(&events, &totals);
    }

    /// Two processes' events, the publisher's arriving after the receipt (as two children's
    /// lines can): the late copies are still the receipt's, and nothing is for outsiders.
    #[test]
    fn a_receipt_from_another_process_claims_copies_reported_after_it() {
        let origin =
            Origin { pid: 1, node: "p".into(), addr: 0x10, copied_bytes: 0, serialized_bytes: 8, written_bytes: 8 };
        let events = [
            event(2, "", EventKind::Read { msg: msg(0x20), bytes: 8, from_pid: 1 }),
            event(2, "c", EventKind::Deserialized { msg: msg(0x30), bytes: 8 }),
            event(
                2,
                "c",
                EventKind::Received { msg: msg(0x30), via: Via::Middleware, origin: Some(origin), shared: false },
            ),
            event(1, "p", EventKind::Published { msg: msg(0x10) }),
            event(1, "p", EventKind::Serialized { msg: msg(0x10), bytes: 8 }),
            event(1, "p", EventKind::Written { msg: msg(0x10), bytes: 8, to_pid: 2 }),
        ];
        let (receipts, totals) = fold(&events);
        assert_eq!(receipts[0].cost(), Tally { copies: 2, bytes: 16 });
        assert_eq!(receipts[0].crossing, Some(Crossing::Socket { bytes: 8 }));
        assert_eq!(
            (totals.claimed, totals.processes, totals.from_unseen_processes),
            (Tally { copies: 4, bytes: 32 }, 2, 0)
        );
        assert_adds_up(&events, &totals);
        // The publisher's process alone: its copies were for a process this trace lacks.
        let (_, alone) = fold(&events[3..]);
        assert_eq!(alone.for_others, Tally { copies: 2, bytes: 16 });
    }

    /// A shared-memory publisher alone, with nobody in its process: serialized straight into
    /// a slot, the copy went out to processes this trace lacks, not "still on its way".
    #[test]
    fn a_serialization_into_a_slot_is_for_other_processes() {
        let segment = SegmentId { inode: 7, offset: 0 };
        let events = [
            event(1, "p", EventKind::Published { msg: msg(0x10) }),
            event(1, "p", EventKind::Serialized { msg: msg(0x10), bytes: 8 }),
            event(1, "p", EventKind::SerializedInPlace { msg: msg(0x50), bytes: 8, segment }),
        ];
        let (_, totals) = fold(&events);
        assert_eq!((totals.for_others, totals.in_flight), (Tally::one(8), Tally::default()));
        assert_adds_up(&events, &totals);
    }

    /// The tool's own copy is counted apart and never in a receipt's rclcpp figure; events
    /// the ledger does not file cost nothing.
    #[test]
    fn tool_only_copies_stand_apart() {
        let events = [
            event(1, "v", EventKind::Received { msg: msg(0x10), via: Via::Original, origin: None, shared: true }),
            event(
                1,
                "v",
                EventKind::Copied { msg: msg(0x40), from: 0x10, reason: CopyReason::ReadOnlyToDrawOn, bytes: 100 },
            ),
            event(1, "v", EventKind::Printed { line: "hello".into() }),
        ];
        let (receipts, totals) = fold(&events);
        assert_eq!(receipts[0].cost(), Tally::default());
        assert_eq!((totals.tool_only, totals.claimed), (Tally::one(100), Tally::default()));
        assert_adds_up(&events, &totals);
    }
}
