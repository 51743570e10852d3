//! One JSON object per trace event per line, for tools and tests.
//!
//! Fields: `event` (`published`, `received`, `copied`, `serialized`, `deserialized`,
//! `overwritten`, `discarded` (with `reason`), `printed`; between processes `written`, `read`,
//! `overwritten_for_peer` (with `to_pid`: that process's queue was full),
//! `shm_written`, `serialized_in_place`, `loan_published`, `mapped`, `released`,
//! `pool_exhausted`, `reclaimed`, `peer_lost`, `rejected`, `too_large_for_frame` (with
//! `encoded_bytes` and `limit_bytes`: not sent to other processes); `incompatible_qos` (with `topic`,
//! `policy`, `publisher_node`, and `offered: true` on the publisher's side); from the image
//! pipeline `filled`, `drawn`, `shown`), `pid`,
//! `node`, and for message events `topic`, `type`, `addr` (hex string, or a label with
//! `--stable`), `payload_addr` (`buf#N` with `--stable`), `value`, `publisher_pid`,
//! `publisher`, `seq`, plus `bytes` (bytes copied), `via`, `reason`, `from`, `to_pid`,
//! `peer_pid` where they apply; a message from another process also has `from_pid`,
//! `from_node`, `from_addr`, and what its sender copied for it, `copied_bytes`, `serialized_bytes` and
//! `written_bytes`; a received event says whether its callback shares (`shared`); `line` for `printed`, `y` and `text` for
//! `drawn`, and `ipc` (`on`/`off`) with `--ipc both`. A `filled` event's `bytes` are the producer's own work
//! (the camera copying its frame into a new message), not a copy on the way; a `mapped`
//! event copies nothing and says how much it mapped in `mapped_bytes`, a
//! `serialized_in_place` event copies nothing beyond its `serialized` event and says how
//! much in `in_place_bytes`. Shared-memory events name the slot by `inode` and `offset`, the
//! same numbers in every process; `slots` and `held_by` say how full a pool is.

use std::io::{self, Write};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{RenderContext, Renderer};
use crate::engine::msg::KnownType;
use crate::engine::text::{LineText, ShortText};
use crate::engine::trace::{
    CopyReason, DiscardReason, EventKind, MessageRef, Origin, Publication, QosPolicyKind, SegmentId, TraceEvent, Via,
};
use crate::labels::Labels;
use crate::ledger::{Ledger, Totals};

pub struct Json {
    /// The labels, language and view the lines are written for.
    pub cx: RenderContext,
    /// One ledger per run, for the summary line at the end.
    ledgers: Vec<Ledger>,
}

impl Json {
    pub fn new(cx: RenderContext) -> Json {
        let ledgers = cx.runs.iter().map(|_| Ledger::default()).collect();
        Json { cx, ledgers }
    }
}

/// The last line of a run: the ledger's totals (`"event": "summary"`), with their scope.
/// Its figures are named `*_copies` and `*_bytes`, never `bytes`: tools sum `bytes` as the
/// bytes copied by events.
#[derive(Serialize)]
struct SummaryLine {
    event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ipc: Option<&'static str>,
    /// `one_process`, `processes` (every process's events are here) or
    /// `this_process_and_frames` (a sender's share read from its frames).
    scope: &'static str,
    processes: usize,
    receipts: u64,
    /// The receipts' copies from publish to callback: `receipts` × per receipt.
    end_to_end_copies: u64,
    end_to_end_bytes: u64,
    in_flight_copies: u64,
    dropped_copies: u64,
    /// Copies of messages a transient-local publisher keeps for late joiners.
    kept_copies: u64,
    discarded_copies: u64,
    for_others_copies: u64,
    tool_only_copies: u64,
    /// Every copy event: the end-to-end copies seen here and every share above.
    all_copies: u64,
    all_bytes: u64,
    overwritten: u64,
}

impl SummaryLine {
    fn new(t: &Totals, ipc: Option<&'static str>) -> SummaryLine {
        let scope = match (t.from_unseen_processes, t.processes) {
            (1.., _) => "this_process_and_frames",
            (0, 0 | 1) => "one_process",
            _ => "processes",
        };
        let e2e = t.end_to_end();
        SummaryLine {
            event: "summary",
            ipc,
            scope,
            processes: t.processes,
            receipts: t.receipts,
            end_to_end_copies: e2e.copies,
            end_to_end_bytes: e2e.bytes,
            in_flight_copies: t.in_flight.copies,
            dropped_copies: t.dropped.copies,
            kept_copies: t.kept.copies,
            discarded_copies: t.discarded.copies,
            for_others_copies: t.for_others.copies,
            tool_only_copies: t.tool_only.copies,
            all_copies: t.all.copies + t.sent_unseen.copies,
            all_bytes: t.all.bytes + t.sent_unseen.bytes,
            overwritten: t.overwritten,
        }
    }
}

/// A pid: a number, or its label (`pid#1`) with `--stable`.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Pid {
    Number(u32),
    Label(String),
}

impl Pid {
    fn new(labels: &Labels, pid: u32) -> Pid {
        if labels.addr_is_label() {
            Pid::Label(labels.pid(pid))
        } else {
            Pid::Number(pid)
        }
    }

    /// The pid as a number: a label cannot be read back.
    fn number(&self) -> Option<u32> {
        match self {
            Pid::Number(pid) => Some(*pid),
            Pid::Label(_) => None,
        }
    }
}

/// An address as [`Labels::addr`] writes it without `--stable` (`0x7F…`), read back.
fn address(text: &str) -> Option<usize> {
    usize::from_str_radix(text.strip_prefix("0x")?, 16).ok()
}

/// What every event has: the process and the node it happened in.
#[derive(Serialize, Deserialize)]
struct Head {
    /// The process the event happened in.
    pid: Pid,
    /// The node that did it (empty for the demo's `main`).
    node: String,
}

/// A message's fields, in the events about one ([`EventKind::message`]).
#[derive(Serialize, Deserialize)]
struct Msg {
    /// The topic it was published on.
    topic: String,
    /// The ROS type name.
    #[serde(rename = "type")]
    type_name: String,
    /// Hex (`0x7F…`), or a label (`@1`) with `--stable`.
    addr: String,
    /// The payload buffer (an image's pixels): hex, or `buf#N` with `--stable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payload_addr: Option<String>,
    /// The message's value in short.
    value: String,
    /// The publishing process.
    publisher_pid: Pid,
    /// The publisher's id in its process.
    publisher: u64,
    /// Counts the publisher's calls to `publish`, from 1.
    seq: u64,
}

impl Msg {
    fn new(msg: &MessageRef, pid: u32, labels: &Labels) -> Msg {
        Msg {
            topic: msg.topic.to_string(),
            type_name: msg.type_name.to_string(),
            addr: labels.addr(pid, msg.addr),
            payload_addr: msg.payload_addr.map(|payload| labels.buffer(pid, payload)),
            value: msg.value.to_string(),
            publisher_pid: Pid::new(labels, msg.publication.pid),
            publisher: msg.publication.publisher,
            seq: msg.publication.seq,
        }
    }

    fn read_back(self) -> Option<MessageRef> {
        Some(MessageRef {
            topic: Arc::from(self.topic),
            type_name: KnownType::from_name(&self.type_name)?.type_name(),
            publication: Publication { pid: self.publisher_pid.number()?, publisher: self.publisher, seq: self.seq },
            addr: address(&self.addr)?,
            payload_addr: self.payload_addr.as_deref().and_then(address),
            value: ShortText::cut(&self.value),
        })
    }
}

/// Where a message from another process was published ([`Origin`]).
#[derive(Serialize, Deserialize)]
struct FromProcess {
    /// The publishing process.
    from_pid: Pid,
    /// The publishing node there.
    from_node: String,
    /// The address in the publisher's process.
    from_addr: String,
    /// What the publishing process copied to send it, as its frame says.
    copied_bytes: usize,
    serialized_bytes: usize,
    written_bytes: usize,
}

impl FromProcess {
    fn new(o: &Origin, labels: &Labels) -> FromProcess {
        FromProcess {
            from_pid: Pid::new(labels, o.pid),
            from_node: o.node.to_string(),
            from_addr: labels.addr(o.pid, o.addr),
            copied_bytes: o.copied_bytes,
            serialized_bytes: o.serialized_bytes,
            written_bytes: o.written_bytes,
        }
    }

    fn read_back(self) -> Option<Origin> {
        Some(Origin {
            pid: self.from_pid.number()?,
            node: Arc::from(self.from_node),
            addr: address(&self.from_addr)?,
            copied_bytes: self.copied_bytes,
            serialized_bytes: self.serialized_bytes,
            written_bytes: self.written_bytes,
        })
    }
}

/// How a received message reached its callback ([`Via`] without the copy's reason).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ViaName {
    Original,
    Copy,
    Middleware,
}

/// One line of JSON: an event tagged by its name (`"event": "copied"`), then its fields in
/// the order they are written. Also the protocol between a parent and its child processes
/// (`--split`, `--ipc both`), read back by [`from_json`].
#[derive(Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Line {
    Published {
        #[serde(flatten)]
        head: Head,
        #[serde(flatten)]
        msg: Msg,
    },
    Received {
        #[serde(flatten)]
        head: Head,
        #[serde(flatten)]
        msg: Msg,
        via: ViaName,
        /// Set when `via` is `copy`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<CopyReason>,
        /// Set when the message came from another process.
        #[serde(flatten)]
        origin: Option<FromProcess>,
        /// The callback takes a `ConstSharedPtr`.
        shared: bool,
    },
    Copied {
        #[serde(flatten)]
        head: Head,
        #[serde(flatten)]
        msg: Msg,
        bytes: usize,
        reason: CopyReason,
        /// The address of the copied message.
        from: String,
    },
    Serialized {
        #[serde(flatten)]
        head: Head,
        #[serde(flatten)]
        msg: Msg,
        bytes: usize,
    },
    Deserialized {
        #[serde(flatten)]
        head: Head,
        #[serde(flatten)]
        msg: Msg,
        bytes: usize,
    },
    Overwritten {
        #[serde(flatten)]
        head: Head,
        #[serde(flatten)]
        msg: Msg,
    },
    Kept {
        #[serde(flatten)]
        head: Head,
        #[serde(flatten)]
        msg: Msg,
    },
    OverwrittenForPeer {
        #[serde(flatten)]
        head: Head,
        #[serde(flatten)]
        msg: Msg,
        to_pid: Pid,
    },
    Discarded {
        #[serde(flatten)]
        head: Head,
        #[serde(flatten)]
        msg: Msg,
        reason: DiscardReason,
    },
    Written {
        #[serde(flatten)]
        head: Head,
        #[serde(flatten)]
        msg: Msg,
        bytes: usize,
        to_pid: Pid,
    },
    Read {
        #[serde(flatten)]
        head: Head,
        #[serde(flatten)]
        msg: Msg,
        bytes: usize,
        from_pid: Pid,
    },
    ShmWritten {
        #[serde(flatten)]
        head: Head,
        #[serde(flatten)]
        msg: Msg,
        bytes: usize,
        #[serde(flatten)]
        segment: SegmentId,
    },
    SerializedInPlace {
        #[serde(flatten)]
        head: Head,
        #[serde(flatten)]
        msg: Msg,
        /// Not `bytes`: the `serialized` event before it counted the copy.
        in_place_bytes: usize,
        #[serde(flatten)]
        segment: SegmentId,
    },
    Mapped {
        #[serde(flatten)]
        head: Head,
        #[serde(flatten)]
        msg: Msg,
        /// Not `bytes`: mapping copies nothing, and tools sum `bytes` as bytes copied.
        mapped_bytes: usize,
        from_pid: Pid,
        #[serde(flatten)]
        segment: SegmentId,
    },
    LoanPublished {
        #[serde(flatten)]
        head: Head,
        #[serde(flatten)]
        msg: Msg,
        /// The bytes written in front of the pixels: not counted as a copy of the message.
        header_bytes: usize,
        /// The whole encoding, read in place by the receivers.
        loaned_bytes: usize,
        #[serde(flatten)]
        segment: SegmentId,
    },
    Released {
        #[serde(flatten)]
        head: Head,
        by_pid: Pid,
        #[serde(flatten)]
        segment: SegmentId,
    },
    PoolExhausted {
        #[serde(flatten)]
        head: Head,
        topic: String,
        slots: usize,
        held_by: Pid,
    },
    Reclaimed {
        #[serde(flatten)]
        head: Head,
        peer_pid: Pid,
        slots: usize,
    },
    IncompatibleQos {
        #[serde(flatten)]
        head: Head,
        topic: String,
        policy: QosPolicyKind,
        publisher_node: String,
        /// Only on the publisher's side (`true`); a subscription's event has none.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        offered: bool,
    },
    PeerLost {
        #[serde(flatten)]
        head: Head,
        peer_pid: Pid,
        topic: String,
    },
    TooLargeForFrame {
        #[serde(flatten)]
        head: Head,
        #[serde(flatten)]
        msg: Msg,
        encoded_bytes: usize,
        limit_bytes: usize,
    },
    Rejected {
        #[serde(flatten)]
        head: Head,
        from_pid: Pid,
        reason: String,
    },
    Printed {
        #[serde(flatten)]
        head: Head,
        line: String,
    },
    Filled {
        #[serde(flatten)]
        head: Head,
        addr: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payload_addr: Option<String>,
        /// The producer's own work, not a copy on the way.
        bytes: usize,
    },
    Drawn {
        #[serde(flatten)]
        head: Head,
        /// The text's baseline on the frame.
        y: i32,
        text: String,
    },
    Shown {
        #[serde(flatten)]
        head: Head,
        addr: String,
    },
}

/// A line and, with `--ipc both`, which run it belongs to.
#[derive(Serialize)]
struct Tagged {
    #[serde(flatten)]
    line: Line,
    /// `on` or `off`, with `--ipc both`.
    #[serde(skip_serializing_if = "Option::is_none")]
    ipc: Option<&'static str>,
}

impl Line {
    /// The event as JSON writes it. Labels are given in the order of the fields, so that
    /// `--stable` numbers things in the order a reader meets them.
    fn new(event: &TraceEvent, labels: &Labels) -> Line {
        let pid = event.pid;
        let head = Head { pid: Pid::new(labels, pid), node: event.node.to_string() };
        let msg = |m: &MessageRef| Msg::new(m, pid, labels);
        let addr = |a: usize| labels.addr(pid, a);
        let other = |p: u32| Pid::new(labels, p);
        match &event.kind {
            EventKind::Published { msg: m } => Line::Published { head, msg: msg(m) },
            EventKind::Received { msg: m, via, origin, shared } => {
                Line::received(head, msg(m), *via, origin.as_ref(), *shared, labels)
            }
            &EventKind::Copied { msg: ref m, from, reason, bytes } => {
                Line::Copied { head, msg: msg(m), bytes, reason, from: addr(from) }
            }
            &EventKind::Serialized { msg: ref m, bytes } => Line::Serialized { head, msg: msg(m), bytes },
            &EventKind::Deserialized { msg: ref m, bytes } => Line::Deserialized { head, msg: msg(m), bytes },
            EventKind::Overwritten { msg: m } => Line::Overwritten { head, msg: msg(m) },
            EventKind::Kept { msg: m } => Line::Kept { head, msg: msg(m) },
            &EventKind::OverwrittenForPeer { msg: ref m, to_pid } => {
                Line::OverwrittenForPeer { head, msg: msg(m), to_pid: other(to_pid) }
            }
            &EventKind::Discarded { msg: ref m, reason } => Line::Discarded { head, msg: msg(m), reason },
            &EventKind::Written { msg: ref m, bytes, to_pid } => {
                Line::Written { head, msg: msg(m), bytes, to_pid: other(to_pid) }
            }
            &EventKind::Read { msg: ref m, bytes, from_pid } => {
                Line::Read { head, msg: msg(m), bytes, from_pid: other(from_pid) }
            }
            _ => Line::shared_memory_and_peers(head, &event.kind, labels, pid),
        }
    }

    /// The events about shared memory, peers and what the nodes drew: [`Line::new`]'s second half.
    fn shared_memory_and_peers(head: Head, kind: &EventKind, labels: &Labels, pid: u32) -> Line {
        let msg = |m: &MessageRef| Msg::new(m, pid, labels);
        let addr = |a: usize| labels.addr(pid, a);
        let other = |p: u32| Pid::new(labels, p);
        match kind {
            &EventKind::SharedMemoryWritten { msg: ref m, bytes, segment } => {
                Line::ShmWritten { head, msg: msg(m), bytes, segment }
            }
            &EventKind::SerializedInPlace { msg: ref m, bytes, segment } => {
                Line::SerializedInPlace { head, msg: msg(m), in_place_bytes: bytes, segment }
            }
            &EventKind::Mapped { msg: ref m, bytes, from_pid, segment } => {
                Line::Mapped { head, msg: msg(m), mapped_bytes: bytes, from_pid: other(from_pid), segment }
            }
            &EventKind::LoanPublished { msg: ref m, header_bytes, bytes, segment } => {
                Line::LoanPublished { head, msg: msg(m), header_bytes, loaned_bytes: bytes, segment }
            }
            &EventKind::Released { by_pid, segment } => Line::Released { head, by_pid: other(by_pid), segment },
            EventKind::PoolExhausted { topic, slots, held_by } => {
                Line::PoolExhausted { head, topic: topic.to_string(), slots: *slots, held_by: other(*held_by) }
            }
            &EventKind::Reclaimed { pid, slots } => Line::Reclaimed { head, peer_pid: other(pid), slots },
            EventKind::IncompatibleQos { topic, policy, publisher_node, offered } => Line::IncompatibleQos {
                head,
                topic: topic.to_string(),
                policy: *policy,
                publisher_node: publisher_node.to_string(),
                offered: *offered,
            },
            EventKind::PeerLost { pid, topic } => {
                Line::PeerLost { head, peer_pid: other(*pid), topic: topic.to_string() }
            }
            &EventKind::TooLargeForFrame { msg: ref m, bytes, limit } => {
                Line::TooLargeForFrame { head, msg: msg(m), encoded_bytes: bytes, limit_bytes: limit }
            }
            EventKind::Rejected { from_pid, reason } => {
                Line::Rejected { head, from_pid: other(*from_pid), reason: reason.to_string() }
            }
            EventKind::Printed { line } => Line::Printed { head, line: labels.relabel(pid, line) },
            &EventKind::Filled { addr: a, payload_addr, bytes } => {
                Line::Filled { head, addr: addr(a), payload_addr: payload_addr.map(|p| labels.buffer(pid, p)), bytes }
            }
            EventKind::Drawn { y, text } => Line::Drawn { head, y: *y, text: labels.relabel(pid, text) },
            &EventKind::Shown { addr: a } => Line::Shown { head, addr: addr(a) },
            _ => unreachable!("Line::new handles the message events"),
        }
    }

    /// A `received` event: how the message came, and from which process if another.
    fn received(head: Head, msg: Msg, via: Via, origin: Option<&Origin>, shared: bool, labels: &Labels) -> Line {
        Line::Received {
            head,
            msg,
            via: match via {
                Via::Original => ViaName::Original,
                Via::Copy(_) => ViaName::Copy,
                Via::Middleware => ViaName::Middleware,
            },
            reason: if let Via::Copy(reason) = via { Some(reason) } else { None },
            origin: origin.map(|o| FromProcess::new(o, labels)),
            shared,
        }
    }

    /// The event this line was written from, if it was written without `--stable`. The
    /// events about one message are read back here, the others in `read_back_other`.
    fn read_back(self) -> Option<TraceEvent> {
        let (head, kind) = match self {
            Line::Published { head, msg } => (head, EventKind::Published { msg: msg.read_back()? }),
            Line::Received { head, msg, via, reason, origin, shared } => {
                (head, read_back_received(msg, via, reason, origin, shared)?)
            }
            Line::Copied { head, msg, bytes, reason, from } => {
                (head, EventKind::Copied { msg: msg.read_back()?, from: address(&from)?, reason, bytes })
            }
            Line::Serialized { head, msg, bytes } => (head, EventKind::Serialized { msg: msg.read_back()?, bytes }),
            Line::Deserialized { head, msg, bytes } => (head, EventKind::Deserialized { msg: msg.read_back()?, bytes }),
            Line::Overwritten { head, msg } => (head, EventKind::Overwritten { msg: msg.read_back()? }),
            Line::Kept { head, msg } => (head, EventKind::Kept { msg: msg.read_back()? }),
            Line::OverwrittenForPeer { head, msg, to_pid } => {
                (head, EventKind::OverwrittenForPeer { msg: msg.read_back()?, to_pid: to_pid.number()? })
            }
            Line::TooLargeForFrame { head, msg, encoded_bytes, limit_bytes } => {
                let (bytes, limit) = (encoded_bytes, limit_bytes);
                (head, EventKind::TooLargeForFrame { msg: msg.read_back()?, bytes, limit })
            }
            Line::Discarded { head, msg, reason } => (head, EventKind::Discarded { msg: msg.read_back()?, reason }),
            Line::Written { head, msg, bytes, to_pid } => {
                (head, EventKind::Written { msg: msg.read_back()?, bytes, to_pid: to_pid.number()? })
            }
            Line::Read { head, msg, bytes, from_pid } => {
                (head, EventKind::Read { msg: msg.read_back()?, bytes, from_pid: from_pid.number()? })
            }
            Line::ShmWritten { head, msg, bytes, segment } => {
                (head, EventKind::SharedMemoryWritten { msg: msg.read_back()?, bytes, segment })
            }
            Line::SerializedInPlace { head, msg, in_place_bytes, segment } => {
                (head, EventKind::SerializedInPlace { msg: msg.read_back()?, bytes: in_place_bytes, segment })
            }
            Line::Mapped { head, msg, mapped_bytes, from_pid, segment } => {
                let from_pid = from_pid.number()?;
                (head, EventKind::Mapped { msg: msg.read_back()?, bytes: mapped_bytes, from_pid, segment })
            }
            Line::LoanPublished { head, msg, header_bytes, loaned_bytes, segment } => {
                let msg = msg.read_back()?;
                (head, EventKind::LoanPublished { msg, header_bytes, bytes: loaned_bytes, segment })
            }
            other => other.read_back_other()?,
        };
        Some(TraceEvent { pid: head.pid.number()?, node: Arc::from(head.node), kind })
    }

    /// [`Line::read_back`] for the events that are not about one message.
    fn read_back_other(self) -> Option<(Head, EventKind)> {
        let read = match self {
            Line::Released { head, by_pid, segment } => {
                (head, EventKind::Released { by_pid: by_pid.number()?, segment })
            }
            Line::PoolExhausted { head, topic, slots, held_by } => {
                (head, EventKind::PoolExhausted { topic: Arc::from(topic), slots, held_by: held_by.number()? })
            }
            Line::Reclaimed { head, peer_pid, slots } => {
                (head, EventKind::Reclaimed { pid: peer_pid.number()?, slots })
            }
            Line::IncompatibleQos { head, topic, policy, publisher_node, offered } => (
                head,
                EventKind::IncompatibleQos {
                    topic: Arc::from(topic),
                    policy,
                    publisher_node: Arc::from(publisher_node),
                    offered,
                },
            ),
            Line::PeerLost { head, peer_pid, topic } => {
                (head, EventKind::PeerLost { pid: peer_pid.number()?, topic: Arc::from(topic) })
            }
            Line::Rejected { head, from_pid, reason } => {
                (head, EventKind::Rejected { from_pid: from_pid.number()?, reason: LineText::cut(&reason) })
            }
            Line::Printed { head, line } => (head, EventKind::Printed { line: LineText::cut(&line) }),
            Line::Filled { head, addr, payload_addr, bytes } => {
                let payload_addr = payload_addr.as_deref().and_then(address);
                (head, EventKind::Filled { addr: address(&addr)?, payload_addr, bytes })
            }
            Line::Drawn { head, y, text } => (head, EventKind::Drawn { y, text: ShortText::cut(&text) }),
            Line::Shown { head, addr } => (head, EventKind::Shown { addr: address(&addr)? }),
            // The events about one message, read back by `read_back`.
            _ => return None,
        };
        Some(read)
    }
}

/// A `received` event read back.
fn read_back_received(
    msg: Msg,
    via: ViaName,
    reason: Option<CopyReason>,
    origin: Option<FromProcess>,
    shared: bool,
) -> Option<EventKind> {
    let via = match via {
        ViaName::Original => Via::Original,
        ViaName::Copy => Via::Copy(reason?),
        ViaName::Middleware => Via::Middleware,
    };
    let origin = match origin {
        Some(o) => Some(o.read_back()?),
        None => None,
    };
    Some(EventKind::Received { msg: msg.read_back()?, via, origin, shared })
}

/// The event as one line of JSON (without its newline); `ipc` says which run of `--ipc
/// both` it belongs to.
pub fn to_json(event: &TraceEvent, labels: &Labels, ipc: Option<bool>) -> String {
    let tagged = Tagged { line: Line::new(event, labels), ipc: ipc.map(|on| if on { "on" } else { "off" }) };
    // Every field is a string, a number or a plain enum: serializing cannot fail.
    serde_json::to_string(&tagged).unwrap_or_default()
}

/// Reads back an event that [`to_json`] wrote without `--stable` (how `--split` gets the
/// events of its child processes). `None` for anything else.
pub fn from_json(line: &str) -> Option<TraceEvent> {
    serde_json::from_str::<Line>(line).ok()?.read_back()
}

impl Json {
    fn write(&mut self, out: &mut dyn Write, event: &TraceEvent, ipc: Option<bool>) -> io::Result<()> {
        writeln!(out, "{}", to_json(event, &self.cx.labels, ipc))
    }
}

impl Renderer for Json {
    fn event(&mut self, out: &mut dyn Write, event: &TraceEvent) -> io::Result<()> {
        self.ledgers[0].record(event);
        self.write(out, event, None)
    }

    fn pair(&mut self, out: &mut dyn Write, on: &[TraceEvent], off: &[TraceEvent]) -> io::Result<()> {
        for event in on {
            self.ledgers[0].record(event);
            self.write(out, event, Some(true))?;
        }
        for event in off {
            self.ledgers[1].record(event);
            self.write(out, event, Some(false))?;
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let both = self.cx.runs.len() > 1;
        for (ledger, &on) in self.ledgers.iter().zip(&self.cx.runs) {
            let ipc = both.then_some(if on { "on" } else { "off" });
            let line = SummaryLine::new(&ledger.totals(), ipc);
            // Every field is a number or a plain string: serializing cannot fail.
            writeln!(out, "{}", serde_json::to_string(&line).unwrap_or_default())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(type_name: &'static str) -> MessageRef {
        MessageRef {
            topic: Arc::from("number"),
            type_name,
            publication: Publication { pid: 7, publisher: 2, seq: 3 },
            addr: 0x7f00_1000,
            payload_addr: Some(0x7f00_2000),
            value: ShortText::cut("42"),
        }
    }

    /// Every kind of event reads back as it was written: the JSON lines are the protocol
    /// between `--split`'s children and their parent.
    #[test]
    fn every_event_kind_reads_back_as_written() {
        let int32 = KnownType::Int32.type_name();
        let origin = Origin {
            pid: 9,
            node: Arc::from("producer"),
            addr: 0x55,
            copied_bytes: 4,
            serialized_bytes: 8,
            written_bytes: 8,
        };
        let segment = SegmentId { inode: 4242, offset: 64 };
        let kinds = [
            EventKind::Published { msg: msg(int32) },
            EventKind::Received { msg: msg(int32), via: Via::Copy(CopyReason::NotLast), origin: None, shared: true },
            EventKind::Received { msg: msg(int32), via: Via::Middleware, origin: Some(origin), shared: false },
            EventKind::Copied { msg: msg(int32), from: 0x10, reason: CopyReason::ReadOnlyToDrawOn, bytes: 4 },
            EventKind::Serialized { msg: msg(int32), bytes: 8 },
            EventKind::Deserialized { msg: msg(int32), bytes: 8 },
            EventKind::Overwritten { msg: msg(int32) },
            EventKind::Kept { msg: msg(int32) },
            EventKind::OverwrittenForPeer { msg: msg(int32), to_pid: 11 },
            EventKind::Discarded { msg: msg(int32), reason: DiscardReason::DeliveredByIntraProcess },
            EventKind::Written { msg: msg(int32), bytes: 8, to_pid: 11 },
            EventKind::Read { msg: msg(int32), bytes: 8, from_pid: 11 },
            EventKind::SharedMemoryWritten { msg: msg(KnownType::Image.type_name()), bytes: 8, segment },
            EventKind::SerializedInPlace { msg: msg(int32), bytes: 8, segment },
            EventKind::Mapped { msg: msg(int32), bytes: 8, from_pid: 11, segment },
            EventKind::LoanPublished { msg: msg(KnownType::Image.type_name()), header_bytes: 52, bytes: 60, segment },
            EventKind::Released { by_pid: 11, segment },
            EventKind::PoolExhausted { topic: Arc::from("number"), slots: 18, held_by: 11 },
            EventKind::Reclaimed { pid: 11, slots: 3 },
            EventKind::PeerLost { pid: 11, topic: Arc::from("number") },
            EventKind::TooLargeForFrame { msg: msg(KnownType::Image.type_name()), bytes: 99_532_860, limit: 1 << 26 },
            EventKind::IncompatibleQos {
                topic: Arc::from("image"),
                policy: QosPolicyKind::Reliability,
                publisher_node: Arc::from("camera_node"),
                offered: false,
            },
            EventKind::IncompatibleQos {
                topic: Arc::from("image"),
                policy: QosPolicyKind::Durability,
                publisher_node: Arc::from("camera_node"),
                offered: true,
            },
            EventKind::Rejected { from_pid: 11, reason: LineText::cut("truncated frame") },
            EventKind::Printed { line: LineText::cut("Published message with value: 42") },
            EventKind::Filled { addr: 0x20, payload_addr: None, bytes: 921_600 },
            EventKind::Drawn { y: 20, text: ShortText::cut("Hello world!") },
            EventKind::Shown { addr: 0x30 },
        ];
        let labels = Labels::new(false);
        for kind in kinds {
            let event = TraceEvent { pid: 7, node: Arc::from("consumer"), kind };
            let line = to_json(&event, &labels, Some(true));
            assert_eq!(from_json(&line), Some(event), "{line}");
        }
    }

    /// With `--stable`, pids are labels: such a line cannot be read back as an event.
    #[test]
    fn a_stable_line_is_not_read_back() {
        let event = TraceEvent { pid: 7, node: Arc::from(""), kind: EventKind::Shown { addr: 0x30 } };
        let line = to_json(&event, &Labels::new(true), None);
        assert_eq!(line, r#"{"event":"shown","pid":"pid#1","node":"","addr":"@1"}"#);
        assert_eq!(from_json(&line), None);
    }
}
