//! The side-by-side view: one row per received message, the publishing side and the
//! receiving side next to each other, every copy in colour with its bytes and reason, and
//! a summary. With `--ipc both`, the IPC-on and IPC-off runs share each row.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{self, Write};
use std::sync::Arc;

use super::style::pad;
use super::{bytes, Measurements, RenderContext, Renderer};
use crate::engine::text::ShortText;
use crate::engine::trace::{CopyReason, DiscardReason, EventKind, Publication, QosPolicyKind, TraceEvent, Via};
use crate::i18n::particle::{particle, Particle};
use crate::i18n::Lang;

/// How many recent publications to remember (a message is received soon after it is
/// published; this bounds memory in an endless run).
const REMEMBERED: usize = 1024;

/// One side of a row.
#[derive(Debug, Clone)]
struct End {
    node: Arc<str>,
    pid: u32,
    addr: usize,
}

/// What one delivery cost.
#[derive(Debug, Clone, Copy)]
enum Cost {
    /// The original: ownership moved, or the message was shared. No copy.
    Original,
    /// An intra-process copy.
    Copy { reason: CopyReason, bytes: usize },
    /// Serialized by the publisher, maybe carried to another process, deserialized for
    /// this subscriber, and for a callback that takes ownership copied once more into a
    /// `UniquePtr`.
    Middleware { serialized: usize, transfer: Transfer, deserialized: usize, unique_copy: Option<usize> },
}

/// How serialized bytes got from the publisher's process to the subscriber's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Transfer {
    /// Same process: the bytes were handed over.
    #[default]
    InProcess,
    /// Written into a socket and read out of it: two copies of these bytes.
    Socket { bytes: usize },
    /// Read where they are in a shared-memory slot the subscriber mapped: no copy between
    /// the processes. `copied_in` is set if the publisher's events say it copied encoded
    /// bytes into the slot (`shm_written`); when it serialized straight into it
    /// (`serialized_in_place`), or its events are not in this run, there is no such copy.
    SharedMemory { copied_in: Option<usize> },
}

impl Cost {
    fn bytes(self) -> usize {
        match self {
            Cost::Original => 0,
            Cost::Copy { bytes, .. } => bytes,
            Cost::Middleware { serialized, transfer, deserialized, unique_copy } => {
                let carried = match transfer {
                    Transfer::InProcess => 0,
                    Transfer::Socket { bytes } => 2 * bytes,
                    Transfer::SharedMemory { copied_in } => copied_in.unwrap_or(0),
                };
                serialized + carried + deserialized + unique_copy.unwrap_or(0)
            }
        }
    }

    fn copies(self) -> usize {
        match self {
            Cost::Original => 0,
            Cost::Copy { .. } => 1,
            Cost::Middleware { transfer, unique_copy, .. } => {
                let carried = match transfer {
                    Transfer::InProcess => 0,
                    Transfer::Socket { .. } => 2,
                    Transfer::SharedMemory { copied_in } => usize::from(copied_in.is_some()),
                };
                2 + carried + usize::from(unique_copy.is_some())
            }
        }
    }
}

/// A received message, ready to show.
#[derive(Debug, Clone)]
struct Row {
    index: u64,
    value: ShortText,
    from: Option<End>,
    to: End,
    cost: Cost,
    /// What the same publish call cost for subscribers in other processes, when this
    /// subscriber got it inside the process: (copies, bytes).
    elsewhere: (usize, usize),
    /// The engine made a new message here, on an address that an earlier message had.
    reused: bool,
}

/// What a publication has done so far.
#[derive(Debug, Default)]
struct PublicationState {
    from: Option<End>,
    value: ShortText,
    /// New address -> (reason, bytes) of each intra-process copy.
    copies: HashMap<usize, (CopyReason, usize)>,
    serialized: usize,
    /// How its bytes reached this process, if they came from another.
    transfer: Transfer,
    /// Copies made in the publisher's process for other processes: the shared copy, the
    /// serialization, the socket writes or the shared-memory copy: (copies, bytes).
    for_others: (usize, usize),
    /// Bytes the publisher copied into a shared-memory slot after serializing them.
    shm_copied: Option<usize>,
}

/// Follows one run's events and turns receipts into rows.
#[derive(Debug, Default)]
struct Tracker {
    publications: HashMap<Publication, PublicationState>,
    order: VecDeque<Publication>,
    /// Per receiving node: the bytes and address of the message just deserialized for it.
    deserialized: HashMap<Arc<str>, (usize, usize)>,
    /// Every message address seen so far, to notice a new message on an old address.
    seen: HashSet<usize>,
    /// New messages (copies, deserialized) that landed on a seen address.
    reused: HashSet<usize>,
    messages: u64,
    /// Every copy the engine reported, received or not.
    copies: u64,
    bytes_copied: u64,
    overwritten: u64,
    /// What the received messages cost, for the per-message figures.
    delivered_copies: u64,
    delivered_bytes: u64,
    /// Image pipeline: frames the camera filled into new messages, and the bytes it filled.
    frames_filled: u64,
    fill_bytes: u64,
    /// Image pipeline: frames shown, counted once per view, and the views that showed them.
    shown: u64,
    views: HashSet<Arc<str>>,
}

impl Tracker {
    fn publication(&mut self, p: Publication) -> &mut PublicationState {
        if !self.publications.contains_key(&p) {
            self.order.push_back(p);
            if self.order.len() > REMEMBERED {
                if let Some(old) = self.order.pop_front() {
                    self.publications.remove(&old);
                }
            }
        }
        self.publications.entry(p).or_default()
    }

    /// Notes a message the engine just allocated.
    fn new_message(&mut self, addr: usize) {
        if self.seen.contains(&addr) {
            self.reused.insert(addr);
        } else {
            self.reused.remove(&addr);
        }
    }

    /// Consumes one event; returns a row when a message was received.
    fn track(&mut self, event: &TraceEvent) -> Option<Row> {
        if let Some(copied) = event.kind.bytes_copied() {
            self.copies += 1;
            self.bytes_copied += copied as u64;
        }
        let row = match &event.kind {
            EventKind::Published { msg } => {
                let from = End { node: event.node.clone(), pid: event.pid, addr: msg.addr };
                let state = self.publication(msg.publication);
                state.from = Some(from);
                state.value = msg.value;
                None
            }
            EventKind::Copied { msg, reason, bytes, .. } => {
                self.new_message(msg.addr);
                let state = self.publication(msg.publication);
                state.copies.insert(msg.addr, (*reason, *bytes));
                if *reason == CopyReason::SharedForInterProcess {
                    state.for_others = (state.for_others.0 + 1, state.for_others.1 + bytes);
                }
                None
            }
            EventKind::Serialized { msg, bytes } => {
                let state = self.publication(msg.publication);
                state.serialized = *bytes;
                state.for_others = (state.for_others.0 + 1, state.for_others.1 + bytes);
                None
            }
            EventKind::Written { msg, bytes, .. } => {
                let state = self.publication(msg.publication);
                state.for_others = (state.for_others.0 + 1, state.for_others.1 + bytes);
                None
            }
            EventKind::SharedMemoryWritten { msg, bytes, .. } => {
                let state = self.publication(msg.publication);
                state.for_others = (state.for_others.0 + 1, state.for_others.1 + bytes);
                state.shm_copied = Some(*bytes);
                None
            }
            EventKind::Deserialized { msg, bytes } => {
                self.new_message(msg.addr);
                self.deserialized.insert(event.node.clone(), (*bytes, msg.addr));
                None
            }
            EventKind::Overwritten { .. } => {
                self.overwritten += 1;
                None
            }
            EventKind::Discarded { .. } => {
                // Paid for (its deserialization is counted above) but never received.
                self.deserialized.remove(&event.node);
                None
            }
            EventKind::Read { msg, bytes, .. } => {
                self.publication(msg.publication).transfer = Transfer::Socket { bytes: *bytes };
                None
            }
            EventKind::Mapped { msg, .. } => {
                let state = self.publication(msg.publication);
                state.transfer = Transfer::SharedMemory { copied_in: state.shm_copied };
                None
            }
            EventKind::Received { msg, via, origin } => {
                self.messages += 1;
                let to = End { node: event.node.clone(), pid: event.pid, addr: msg.addr };
                let deserialized = self.deserialized.remove(&event.node);
                let reused = *via != Via::Original && self.reused.contains(&msg.addr);
                let index = self.messages;
                let state = self.publication(msg.publication);
                let cost = match via {
                    Via::Original => Cost::Original,
                    Via::Copy(reason) => {
                        let bytes = state.copies.get(&msg.addr).map_or(0, |&(_, b)| b);
                        Cost::Copy { reason: *reason, bytes }
                    }
                    Via::Middleware => Cost::Middleware {
                        // From another process, the frame told how long the encoding was.
                        serialized: origin.as_ref().map_or(state.serialized, |o| o.serialized_bytes),
                        transfer: state.transfer,
                        deserialized: deserialized.map_or(0, |(b, _)| b),
                        unique_copy: state.copies.get(&msg.addr).map(|&(_, b)| b),
                    },
                };
                let from = match origin {
                    Some(o) => Some(End { node: o.node.clone(), pid: o.pid, addr: o.addr }),
                    None => state.from.clone(),
                };
                // Within the process the middleware's costs were paid for someone else.
                let elsewhere = if *via == Via::Middleware { (0, 0) } else { state.for_others };
                self.delivered_copies += cost.copies() as u64;
                self.delivered_bytes += cost.bytes() as u64;
                Some(Row { index, value: msg.value, from, to, cost, elsewhere, reused })
            }
            EventKind::Filled { bytes, .. } => {
                self.frames_filled += 1;
                self.fill_bytes += *bytes as u64;
                None
            }
            EventKind::Shown { .. } => {
                self.shown += 1;
                self.views.insert(event.node.clone());
                None
            }
            EventKind::PeerLost { .. }
            | EventKind::IncompatibleQos { .. }
            | EventKind::Rejected { .. }
            | EventKind::SerializedInPlace { .. }
            | EventKind::Released { .. }
            | EventKind::PoolExhausted { .. }
            | EventKind::Reclaimed { .. }
            | EventKind::Printed { .. }
            | EventKind::Drawn { .. } => None,
        };
        if let Some(msg) = event.kind.message() {
            self.seen.insert(msg.addr);
        }
        row
    }
}

pub struct Side {
    pub cx: RenderContext,
    trackers: Vec<Tracker>,
    header_done: bool,
    any_reused: bool,
    /// What the app measured (time, memory), for the image pipeline's summary.
    measured: Option<Measurements>,
}

impl Side {
    pub fn new(cx: RenderContext) -> Self {
        let trackers = cx.runs.iter().map(|_| Tracker::default()).collect();
        Self { cx, trackers, header_done: false, any_reused: false, measured: None }
    }

    fn t<'a>(&self, ko: &'a str, en: &'a str) -> &'a str {
        self.cx.lang.pick(ko, en)
    }

    fn end(&mut self, end: &End, with_pid: bool) -> String {
        let addr = self.cx.painter.addr(&self.cx.labels.addr(end.pid, end.addr));
        if with_pid {
            let pid = self.cx.labels.pid(end.pid);
            format!("{} {} {addr}", end.node, self.cx.painter.dim(&pid))
        } else {
            format!("{} {addr}", end.node)
        }
    }

    /// The copies column: count, then what they were.
    fn cost(&self, cost: Cost, short: bool) -> String {
        let p = &self.cx.painter;
        let n = cost.copies();
        match cost {
            Cost::Original if short => p.good("0"),
            Cost::Original => p.good(&format!("0  {}", self.t("소유권 이동, 복사 없음", "ownership moved, no copy"))),
            Cost::Copy { bytes: b, .. } if short => p.copy(&format!("{n} ({})", bytes(b as u64))),
            Cost::Copy { reason, bytes: b } => {
                let why = reason_text(self.cx.lang, reason);
                p.copy(&format!("{n}  {} {} ({why})", self.t("복사", "copy"), bytes(b as u64)))
            }
            Cost::Middleware { .. } if short => p.copy(&format!("{n} ({})", bytes(cost.bytes() as u64))),
            Cost::Middleware { serialized, transfer, deserialized, unique_copy } => {
                let mut text = format!("{n}  {} {}", self.t("직렬화", "serialize"), bytes(serialized as u64));
                match transfer {
                    Transfer::InProcess => {}
                    Transfer::Socket { bytes: b } => {
                        text.push_str(&format!(" + {} {} ×2", self.t("소켓", "socket"), bytes(b as u64)))
                    }
                    Transfer::SharedMemory { copied_in: Some(b) } => text.push_str(&format!(
                        " + {} {} ({})",
                        self.t("공유 메모리로", "into shared memory"),
                        bytes(b as u64),
                        self.t("프로세스 사이 복사 0 B", "0 B copied between the processes")
                    )),
                    Transfer::SharedMemory { copied_in: None } => text.push_str(&format!(
                        " + {} ({})",
                        self.t("공유 메모리에서 그대로 읽음", "read where it is in shared memory"),
                        self.t("프로세스 사이 복사 0 B", "0 B copied between the processes")
                    )),
                }
                text.push_str(&format!(" + {} {}", self.t("역직렬화", "deserialize"), bytes(deserialized as u64)));
                if let Some(b) = unique_copy {
                    text.push_str(&format!(
                        " + {} {}",
                        self.t("UniquePtr로 복사", "copy into UniquePtr"),
                        bytes(b as u64)
                    ));
                }
                p.copy(&text)
            }
        }
    }

    /// "from ──▶ to" for one run.
    fn flow(&mut self, row: &Row, with_pid: bool, width: usize) -> String {
        let from = match &row.from {
            Some(end) => self.end(end, with_pid),
            None => "?".to_string(),
        };
        let mut to = self.end(&row.to, with_pid);
        if row.reused {
            self.any_reused = true;
            to.push_str(&self.cx.painter.warn(" ↺"));
        }
        format!("{} ──▶ {}", pad(&from, width), pad(&to, width))
    }

    fn end_width(&self, with_pid: bool) -> usize {
        // `@12` or `0x7F1234567890`; `pid#1 ` or `123456 `.
        let (addr, pid) = match (self.cx.labels.addr_is_label(), with_pid) {
            (true, true) => (4, 7),
            (true, false) => (4, 0),
            (false, true) => (16, 8),
            (false, false) => (16, 0),
        };
        self.cx.columns.node + addr + pid
    }

    fn header(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.header_done {
            return Ok(());
        }
        self.header_done = true;
        let runs: Vec<&str> = self.cx.runs.iter().map(|&on| self.cx.ipc_label(on)).collect();
        let title = format!("{} · {}", self.cx.title, runs.join(" | "));
        writeln!(out, "{}", self.cx.painter.heading(&title))?;
        if let [on] = self.cx.runs[..] {
            let explain = match (self.cx.lang, on) {
                (Lang::Ko, _) if self.cx.split => "노드마다 프로세스가 따로입니다 (pid가 다름): IPC는 프로세스를 넘지 못하므로 모든 메시지가 직렬화되어 건너갑니다.",
                (Lang::En, _) if self.cx.split => "each node in its own process (different pids): IPC cannot reach across processes, so every message is serialized and carried over.",
                (Lang::Ko, true) => "IPC 켬: 받는 쪽이 보낸 메시지 그 자체를 받습니다. 주소가 같으면 복사가 없었다는 뜻입니다.",
                (Lang::Ko, false) => "IPC 끔: 메시지가 CDR 바이트로 직렬화되고, 받는 쪽에서 새 메시지로 역직렬화됩니다.",
                (Lang::En, true) => "IPC on: the subscriber gets the very message that was published; the same address means no copy.",
                (Lang::En, false) => "IPC off: the message is serialized to CDR bytes and deserialized into a new message on the other side.",
            };
            writeln!(out, "{}", self.cx.painter.dim(explain))?;
        }
        let w = self.end_width(self.cx.runs.len() == 1);
        let (num, value) = ("#", self.t("값", "value"));
        let from_to =
            format!("{} ──▶ {}", pad(self.t("보낸 쪽", "published by"), w), pad(self.t("받은 쪽", "received by"), w));
        let copies = self.t("복사", "copies");
        let line = if self.cx.runs.len() == 1 {
            format!("{num:>4}  {}  {from_to}  {copies}", pad(value, self.cx.columns.value))
        } else {
            let w2 = self.end_width(false);
            let cell = format!("{} ──▶ {}", pad(self.t("보낸 쪽", "from"), w2), pad(self.t("받은 쪽", "to"), w2));
            format!(
                "{num:>4}  {}  │ {}  {}│ {}  {copies}",
                pad(value, self.cx.columns.value),
                cell,
                pad(copies, 10),
                cell
            )
        };
        writeln!(out, "{}", self.cx.painter.dim(&line))
    }

    /// A line for what went wrong along the way: overwritten, lost peers, refused frames.
    fn warning(&mut self, event: &TraceEvent) -> Option<String> {
        let lang = self.cx.lang;
        Some(match &event.kind {
            EventKind::Overwritten { msg } => {
                let addr = self.cx.labels.addr(event.pid, msg.addr);
                match lang {
                    Lang::Ko => {
                        format!("   !  {}의 큐가 가득 차서 값 {} ({addr})를 덮어썼습니다", event.node, msg.value)
                    }
                    Lang::En => {
                        format!("   !  {}'s queue was full: value {} ({addr}) overwritten", event.node, msg.value)
                    }
                }
            }
            EventKind::IncompatibleQos { topic, policy, publisher_node } => {
                let policy = match policy {
                    QosPolicyKind::Reliability => "reliability",
                    QosPolicyKind::Durability => "durability",
                };
                match lang {
                    Lang::Ko => format!(
                        "   !  {}: '{topic}'의 퍼블리셔({publisher_node})와 QoS({policy})가 맞지 않아 아무것도 받지 못합니다",
                        event.node
                    ),
                    Lang::En => format!(
                        "   !  {}: incompatible QoS ({policy}) with the publisher of '{topic}' ({publisher_node}): nothing will arrive",
                        event.node
                    ),
                }
            }
            EventKind::PeerLost { pid, topic } => {
                let pid = self.cx.labels.pid(*pid);
                match lang {
                    Lang::Ko => {
                        format!(
                            "   !  '{topic}'의 구독 프로세스 {pid}{} 사라졌습니다. 구독자가 다시 나타나면 보냅니다",
                            particle(&pid, Particle::Subject)
                        )
                    }
                    Lang::En => {
                        format!("   !  subscriber process {pid} of '{topic}' is gone; sending resumes when one appears")
                    }
                }
            }
            EventKind::Discarded { msg, reason: DiscardReason::DeliveredByIntraProcess } => {
                let addr = self.cx.labels.addr(event.pid, msg.addr);
                match lang {
                    Lang::Ko => format!(
                        "   ·  {}: 미들웨어로도 온 값 {}을(를) {addr}에 역직렬화하고 버렸습니다 (IPC로 이미 받음, ignore_local_publications로 막을 수 있음)",
                        event.node, msg.value
                    ),
                    Lang::En => format!(
                        "   ·  {}: deserialized the middleware's copy of value {} at {addr} and discarded it (already delivered by IPC; ignore_local_publications avoids it)",
                        event.node, msg.value
                    ),
                }
            }
            EventKind::PoolExhausted { topic, slots, held_by } => {
                let pid = self.cx.labels.pid(*held_by);
                match lang {
                    Lang::Ko => format!(
                        "   !  '{topic}'의 공유 메모리 풀이 가득 찼습니다(슬롯 {slots}개, 대부분 {pid}가 붙잡고 있음). 이 메시지는 다른 프로세스로 가지 않습니다"
                    ),
                    Lang::En => format!(
                        "   !  the shared-memory pool of '{topic}' is full ({slots} slots, held by {pid}): this message does not reach the other processes"
                    ),
                }
            }
            EventKind::Reclaimed { pid, slots } => {
                let pid = self.cx.labels.pid(*pid);
                match lang {
                    Lang::Ko => format!(
                        "   !  프로세스 {pid}가 사라져서, 그 프로세스가 붙잡고 있던 슬롯 {slots}개를 되찾았습니다"
                    ),
                    Lang::En => format!("   !  process {pid} is gone: the {slots} slots it held are free again"),
                }
            }
            EventKind::Rejected { from_pid, reason } => {
                let pid = self.cx.labels.pid(*from_pid);
                match lang {
                    Lang::Ko => format!("   !  프로세스 {pid}에서 온 프레임을 거부했습니다: {reason}"),
                    Lang::En => format!("   !  refused a frame from process {pid}: {reason}"),
                }
            }
            _ => return None,
        })
    }

    fn summary_line(&self, tracker: &Tracker) -> String {
        let per = |n: u64| if tracker.messages == 0 { 0.0 } else { n as f64 / tracker.messages as f64 };
        let (m, c, b, o) = (tracker.messages, tracker.copies, tracker.bytes_copied, tracker.overwritten);
        let per_copies = per(tracker.delivered_copies);
        let per_bytes = bytes(per(tracker.delivered_bytes).round() as u64);
        match self.cx.lang {
            Lang::Ko => format!(
                "메시지 {m}개 · 복사 모두 {c}번 ({}) · 덮어쓰기 {o}개 · 받은 메시지당 복사 {per_copies:.1}번, {per_bytes}",
                bytes(b)
            ),
            Lang::En => format!(
                "{m} {} · {c} copies in all ({}) · {o} overwritten · per received message: {per_copies:.1} copies, {per_bytes}",
                if m == 1 { "message" } else { "messages" },
                bytes(b)
            ),
        }
    }
}

impl Tracker {
    /// Frames that reached the end of the pipeline: each view shows every frame it gets.
    fn frames_shown(&self) -> u64 {
        self.shown / (self.views.len().max(1) as u64)
    }
}

impl Side {
    /// The image pipeline's figures: frames, and what each frame shown cost (every copy the
    /// engine made, divided by the frames that reached the views).
    fn frames_line(&self, tracker: &Tracker) -> String {
        let (filled, shown) = (tracker.frames_filled, tracker.frames_shown());
        let per = |n: u64| if shown == 0 { 0.0 } else { n as f64 / shown as f64 };
        let copies = per(tracker.copies);
        let copied = bytes(per(tracker.bytes_copied).round() as u64);
        let fill = bytes(tracker.fill_bytes / filled.max(1));
        match self.cx.lang {
            Lang::Ko => format!(
                "프레임 {filled}개 찍음, {shown}개 보여 줌 · 보여 준 프레임당 복사 {copies:.1}번, {copied} · 카메라가 새 메시지마다 {fill}{} 채움 (생산자의 일, 복사로 세지 않음)",
                particle(&fill, Particle::Object)
            ),
            Lang::En => format!(
                "{filled} frames captured, {shown} shown · per frame shown: {copies:.1} copies, {copied} · the camera filled each new message with {fill} (its own work, not counted as a copy)"
            ),
        }
    }

    /// Frames per second and resident memory, or why they are left out.
    fn measured_line(&self, measured: &Measurements) -> String {
        if self.cx.labels.addr_is_label() {
            return self
                .t(
                    "(--stable: 초당 프레임과 메모리는 실행마다 달라서 보이지 않습니다)",
                    "(--stable: frames per second and memory differ from run to run, so they are left out)",
                )
                .to_string();
        }
        let mut parts = Vec::new();
        for (i, &on) in self.cx.runs.iter().enumerate() {
            let seconds = measured.elapsed.get(i).map_or(0.0, |d| d.as_secs_f64());
            let fps = if seconds > 0.0 { self.trackers[i].frames_shown() as f64 / seconds } else { 0.0 };
            let label = if self.cx.runs.len() > 1 { format!(" ({})", self.cx.ipc_label(on)) } else { String::new() };
            parts.push(match self.cx.lang {
                Lang::Ko => format!("초당 {fps:.1} 프레임{label}"),
                Lang::En => format!("{fps:.1} frames per second{label}"),
            });
        }
        if let Some(memory) = measured.resident {
            parts.push(match self.cx.lang {
                Lang::Ko => {
                    format!("상주 메모리(RSS) 시작 {}, 최대 {}", bytes(memory.start), bytes(memory.peak))
                }
                Lang::En => {
                    format!("resident memory {} at start, peak {}", bytes(memory.start), bytes(memory.peak))
                }
            });
        }
        parts.join(" · ")
    }
}

/// Why a copy was made, in words.
pub fn reason_text(lang: Lang, reason: CopyReason) -> &'static str {
    match (lang, reason) {
        (Lang::Ko, CopyReason::NotLast) => "목록의 마지막 구독이 아니어서",
        (Lang::Ko, CopyReason::SharedForSharedSubscriptions) => "공유 구독들이 함께 쓰는 복사본",
        (Lang::Ko, CopyReason::SharedForInterProcess) => "다른 프로세스(또는 IPC 끔) 구독자를 위한 공유 복사본",
        (Lang::Ko, CopyReason::PublishByReference) => "참조로 발행해서",
        (Lang::Ko, CopyReason::UniqueFromSharedBuffer) => "SharedPtr 버퍼에서 소유권을 가져가려고 복사",
        (Lang::Ko, CopyReason::UniqueFromTaken) => "UniquePtr 콜백에 주려고 받은 메시지를 복사",
        (Lang::Ko, CopyReason::ReadOnlyToDrawOn) => "공유 메시지는 읽기 전용이라 그리려고 픽셀을 복사",
        (Lang::En, CopyReason::NotLast) => "not the last subscription in the list",
        (Lang::En, CopyReason::SharedForSharedSubscriptions) => "one copy shared by the shared subscriptions",
        (Lang::En, CopyReason::SharedForInterProcess) => {
            "shared copy for a subscriber outside the process (or with IPC off)"
        }
        (Lang::En, CopyReason::PublishByReference) => "published by reference",
        (Lang::En, CopyReason::UniqueFromSharedBuffer) => "taken for ownership out of a SharedPtr buffer",
        (Lang::En, CopyReason::UniqueFromTaken) => "the taken message copied into a UniquePtr",
        (Lang::En, CopyReason::ReadOnlyToDrawOn) => "pixels of a read-only shared message copied to draw on",
    }
}

impl Renderer for Side {
    fn event(&mut self, out: &mut dyn Write, event: &TraceEvent) -> io::Result<()> {
        self.header(out)?;
        if let Some(text) = self.warning(event) {
            writeln!(out, "{}", self.cx.painter.warn(&text))?;
        }
        let Some(row) = self.trackers[0].track(event) else {
            return Ok(());
        };
        let w = self.end_width(true);
        let flow = self.flow(&row, true, w);
        let mut cost = self.cost(row.cost, false);
        if let (n @ 1.., b) = row.elsewhere {
            let note = match self.cx.lang {
                Lang::Ko => format!("  + 다른 프로세스 몫: 복사 {n}번, {}", bytes(b as u64)),
                Lang::En => format!("  + for other processes: {n} copies, {}", bytes(b as u64)),
            };
            cost.push_str(&self.cx.painter.copy(&note));
        }
        writeln!(out, "{:>4}  {}  {flow}  {cost}", row.index, pad(&row.value, self.cx.columns.value))
    }

    fn pair(&mut self, out: &mut dyn Write, on: &[TraceEvent], off: &[TraceEvent]) -> io::Result<()> {
        self.header(out)?;
        let on_row = on.iter().filter_map(|e| self.trackers[0].track(e)).last();
        let off_row = off.iter().filter_map(|e| self.trackers[1].track(e)).last();
        let Some(first) = on_row.as_ref().or(off_row.as_ref()) else {
            return Ok(());
        };
        let (index, value) = (first.index, first.value);
        let w = self.end_width(false);
        let mut cells = Vec::new();
        for row in [&on_row, &off_row] {
            cells.push(match row {
                Some(row) => {
                    let flow = self.flow(row, false, w);
                    let cost = self.cost(row.cost, true);
                    format!("{flow}  {}", pad(&cost, 10))
                }
                None => pad("", 2 * w + 17),
            });
        }
        let line = format!("{index:>4}  {}  │ {}│ {}", pad(&value, self.cx.columns.value), cells[0], cells[1]);
        writeln!(out, "{}", line.trim_end())
    }

    fn measured(&mut self, measured: Measurements) {
        self.measured = Some(measured);
    }

    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        self.header(out)?;
        let heading = self.t("요약", "summary");
        for (i, &on) in self.cx.runs.clone().iter().enumerate() {
            let line = self.summary_line(&self.trackers[i]);
            let label = if self.cx.runs.len() > 1 { format!(" ({})", self.cx.ipc_label(on)) } else { String::new() };
            writeln!(out, "{}{label}: {line}", self.cx.painter.heading(heading))?;
            if self.trackers[i].frames_filled > 0 {
                let frames = self.frames_line(&self.trackers[i]);
                writeln!(out, "{}{label}: {frames}", self.cx.painter.heading(self.t("프레임", "frames")))?;
            }
        }
        if let Some(measured) = &self.measured {
            let line = self.measured_line(measured);
            writeln!(out, "{}: {line}", self.cx.painter.heading(self.t("측정", "measured")))?;
        }
        if self.any_reused {
            let note = self.t(
                "↺ 엔진이 새로 만든 메시지가 앞서 해제된 주소에 놓였습니다: 주소는 같아도 다른 메시지입니다 (복사 여부는 주소가 아니라 엔진이 한 일로 판단합니다).",
                "↺ a new message the engine made landed on an address freed earlier: same address, different message (copies are counted from what the engine did, not from addresses).",
            );
            writeln!(out, "{}", self.cx.painter.warn(note))?;
        }
        Ok(())
    }
}
