//! The side-by-side view: one row per received message, the publishing side and the
//! receiving side next to each other, every copy in colour with its bytes and reason, and
//! a summary. With `--ipc both`, the IPC-on and IPC-off runs share each row.

use std::io::{self, Write};

use super::costs::{self, average_text, receipt_steps, summary_text};
use super::frame_clock::FrameClock;
use super::style::pad;
use super::{bytes, Measurements, RenderContext, Renderer};
use crate::engine::trace::{CopyReason, DiscardReason, EventKind, QosPolicyKind, TraceEvent, Via};
use crate::i18n::particle::{particle, Particle};
use crate::i18n::Lang;
use crate::labels::Labels;
use crate::ledger::{End, Ledger, Receipt, Tally};

/// How the first receipt got to its callback: the header explains that path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// Inside the process, through the intra-process manager.
    IntraProcess,
    /// Inside the process, through the middleware.
    Middleware,
    /// From another process.
    OtherProcess,
}

impl Path {
    fn of(receipt: &Receipt) -> Path {
        match receipt.via {
            _ if receipt.sent.is_some() => Path::OtherProcess,
            Via::Middleware => Path::Middleware,
            _ => Path::IntraProcess,
        }
    }
}

pub struct Side {
    pub cx: RenderContext,
    /// One ledger per run.
    ledgers: Vec<Ledger>,
    title_done: bool,
    columns_done: bool,
    any_reused: bool,
    /// What the app measured (time, memory), for the image pipeline's summary.
    measured: Option<Measurements>,
    /// When each run showed its frames, for frames per second.
    clocks: Vec<FrameClock>,
}

impl Side {
    pub fn new(cx: RenderContext) -> Self {
        let ledgers = cx.runs.iter().map(|_| Ledger::default()).collect();
        let clocks = vec![FrameClock::default(); cx.runs.len()];
        Self { cx, ledgers, title_done: false, columns_done: false, any_reused: false, measured: None, clocks }
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

    /// The copies column: how many, then what they were (`short`: how many and the bytes).
    fn cost(&self, receipt: &Receipt, short: bool) -> String {
        let p = &self.cx.painter;
        let total = receipt.end_to_end();
        let n = total.copies;
        if short {
            return if n == 0 { p.good("0") } else { p.copy(&format!("{n} ({})", bytes(total.bytes))) };
        }
        if n > 0 {
            return p.copy(&format!("{n}  {}", receipt_steps(self.cx.lang, receipt).join(" + ")));
        }
        let words = match receipt.via {
            Via::Copy(CopyReason::SharedForInterProcess) => self.t(
                "다른 프로세스 몫으로 만든 공유 복사본을 함께 읽음, 복사 없음",
                "reads the shared copy made for outside subscribers, no copy of its own",
            ),
            _ if receipt.shared_with_earlier => {
                self.t("앞의 구독과 같은 메시지를 공유, 복사 없음", "shared with an earlier subscription, no copy")
            }
            _ if receipt.shared => self.t("공유, 복사 없음", "shared, no copy"),
            Via::Original => self.t("소유권 이동, 복사 없음", "ownership moved, no copy"),
            _ => self.t("복사 없음", "no copy"),
        };
        p.good(&format!("0  {words}"))
    }

    /// "from ──▶ to" for one run.
    fn flow(&mut self, row: &Receipt, with_pid: bool, width: usize) -> String {
        let from = match &row.from {
            Some(end) => self.end(end, with_pid),
            None => "?".to_string(),
        };
        let mut to = self.end(&row.to, with_pid);
        if row.reused_address {
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

    /// The run's title, at its first event.
    fn title(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.title_done {
            return Ok(());
        }
        self.title_done = true;
        let runs: Vec<&str> = self.cx.runs.iter().map(|&on| self.cx.ipc_label(on)).collect();
        let title = format!("{} · {}", self.cx.title, runs.join(" | "));
        writeln!(out, "{}", self.cx.painter.heading(&title))
    }

    /// At the first receipt: what its path was (one run), then the column headings.
    fn columns(&mut self, out: &mut dyn Write, first: Option<&Receipt>) -> io::Result<()> {
        self.title(out)?;
        if self.columns_done {
            return Ok(());
        }
        self.columns_done = true;
        if let (Some(first), 1) = (first, self.cx.runs.len()) {
            writeln!(out, "{}", self.cx.painter.dim(path_text(self.cx.lang, Path::of(first))))?;
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
            let value = pad(value, self.cx.columns.value);
            format!("{num:>4}  {value}  │ {cell}  {}│ {cell}  {copies}", pad(copies, 10))
        };
        writeln!(out, "{}", self.cx.painter.dim(&line))
    }

    /// A line for what went wrong along the way: overwritten, discarded, lost peers, full
    /// pools, refused frames.
    fn warning(&mut self, event: &TraceEvent) -> Option<String> {
        queue_warning(self.cx.lang, &self.cx.labels, event)
            .or_else(|| peer_warning(self.cx.lang, &self.cx.labels, event))
    }

    /// The image pipeline's figures, from the ledger: frames, and what each frame shown
    /// cost, rclcpp's copies and the tool's own apart.
    fn frames_line(&self, run: usize) -> String {
        let totals = self.ledgers[run].totals();
        let frames = &totals.frames;
        let shown = frames.shown();
        let rclcpp = average_text(self.cx.lang, (totals.end_to_end() + totals.unclaimed()).per(shown));
        let fill = bytes(frames.fill_bytes / frames.filled.max(1));
        let tool = match totals.tool_only {
            Tally { copies: 0, .. } => String::new(),
            t => match self.cx.lang {
                Lang::Ko => format!(" + ipc-lab만의 복사 {}", average_text(self.cx.lang, t.per(shown))),
                Lang::En => format!(" + ipc-lab's own {}", average_text(self.cx.lang, t.per(shown))),
            },
        };
        match self.cx.lang {
            Lang::Ko => format!(
                "프레임 {}개 찍음, {shown}개 보여 줌 · 보여 준 프레임당 rclcpp의 복사 {rclcpp}{tool} · 카메라가 새 메시지마다 {fill}{} 채움 (생산자의 일, 복사로 세지 않음)",
                frames.filled,
                particle(&fill, Particle::Object)
            ),
            Lang::En => format!(
                "{} frames captured, {shown} shown · per frame shown: rclcpp's {rclcpp}{tool} · the camera filled each new message with {fill} (its own work, not counted as a copy)",
                frames.filled
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
            let shown = self.ledgers[i].totals().frames.shown();
            let fps = self.clocks[i].per_second(shown, seconds);
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

/// The header's sentence for the path the first receipt took: what actually happened, not
/// what the nodes were asked for.
fn path_text(lang: Lang, path: Path) -> &'static str {
    match (lang, path) {
        (Lang::Ko, Path::IntraProcess) => "IPC: 받는 쪽이 보낸 메시지 그 자체를 받습니다. 주소가 같으면 복사가 없었다는 뜻입니다.",
        (Lang::Ko, Path::Middleware) => "미들웨어를 거침: 메시지가 CDR 바이트로 직렬화되고, 받는 쪽에서 새 메시지로 역직렬화됩니다.",
        (Lang::Ko, Path::OtherProcess) => "다른 프로세스에서 옴 (pid가 다름): IPC는 프로세스를 넘지 못하므로 메시지가 직렬화되어 건너왔습니다.",
        (Lang::En, Path::IntraProcess) => "IPC: the subscriber gets the very message that was published; the same address means no copy.",
        (Lang::En, Path::Middleware) => "through the middleware: the message is serialized to CDR bytes and deserialized into a new message on the other side.",
        (Lang::En, Path::OtherProcess) => "from another process (a different pid): IPC cannot reach across processes, so the message was serialized and carried over.",
    }
}

impl Renderer for Side {
    fn event(&mut self, out: &mut dyn Write, event: &TraceEvent) -> io::Result<()> {
        self.title(out)?;
        if let Some(text) = self.warning(event) {
            writeln!(out, "{}", self.cx.painter.warn(&text))?;
        }
        self.clocks[0].tick(event);
        let Some(row) = self.ledgers[0].record(event) else {
            return Ok(());
        };
        self.columns(out, Some(&row))?;
        let w = self.end_width(true);
        let flow = self.flow(&row, true, w);
        let mut cost = self.cost(&row, false);
        if row.for_others.copies > 0 {
            let note = match self.cx.lang {
                Lang::Ko => format!("  + 다른 프로세스 몫: {}", costs::tally_text(self.cx.lang, row.for_others)),
                Lang::En => format!("  + for other processes: {}", costs::tally_text(self.cx.lang, row.for_others)),
            };
            cost.push_str(&self.cx.painter.copy(&note));
        }
        writeln!(out, "{:>4}  {}  {flow}  {cost}", row.index, pad(&row.value, self.cx.columns.value))
    }

    fn pair(&mut self, out: &mut dyn Write, on: &[TraceEvent], off: &[TraceEvent]) -> io::Result<()> {
        self.title(out)?;
        on.iter().for_each(|e| self.clocks[0].tick(e));
        off.iter().for_each(|e| self.clocks[1].tick(e));
        let on_row = on.iter().filter_map(|e| self.ledgers[0].record(e)).last();
        let off_row = off.iter().filter_map(|e| self.ledgers[1].record(e)).last();
        let Some(first) = on_row.as_ref().or(off_row.as_ref()) else {
            return Ok(());
        };
        let (index, value) = (first.index, first.value);
        self.columns(out, None)?;
        let w = self.end_width(false);
        let mut cells = Vec::new();
        for row in [&on_row, &off_row] {
            cells.push(match row {
                Some(row) => {
                    let flow = self.flow(row, false, w);
                    let cost = self.cost(row, true);
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
        self.title(out)?;
        let heading = self.t("요약", "summary");
        for (i, &on) in self.cx.runs.clone().iter().enumerate() {
            let totals = self.ledgers[i].totals();
            let line = summary_text(self.cx.lang, &totals);
            let label = if self.cx.runs.len() > 1 { format!(" ({})", self.cx.ipc_label(on)) } else { String::new() };
            writeln!(out, "{}{label}: {line}", self.cx.painter.heading(heading))?;
            if totals.frames.filled > 0 {
                let frames = self.frames_line(i);
                writeln!(out, "{}{label}: {frames}", self.cx.painter.heading(self.t("프레임", "frames")))?;
            }
        }
        if let Some(measured) = &self.measured {
            let line = self.measured_line(measured);
            writeln!(out, "{}: {line}", self.cx.painter.heading(self.t("측정", "measured")))?;
        }
        if self.any_reused {
            let note = self.t(
                "↺ 엔진이 새로 만든 메시지(복사본이나 역직렬화한 메시지)가 위의 줄에 나왔던 주소에 놓였습니다: 주소는 같아도 다른 메시지입니다 (복사 여부는 주소가 아니라 엔진이 한 일로 판단합니다).",
                "↺ a new message the engine made (a copy or a deserialized one) landed on an address shown in a row above: same address, different message (copies are counted from what the engine did, not from addresses).",
            );
            writeln!(out, "{}", self.cx.painter.warn(note))?;
        }
        Ok(())
    }
}

/// What happened to a message in a queue: overwritten, or taken and discarded.
fn queue_warning(lang: Lang, labels: &Labels, event: &TraceEvent) -> Option<String> {
    let (node, pid) = (&event.node, event.pid);
    Some(match (&event.kind, lang) {
        (EventKind::Overwritten { msg }, Lang::Ko) => {
            let addr = labels.addr(pid, msg.addr);
            format!("   !  {node}의 큐가 가득 차서 값 {} ({addr})를 덮어썼습니다", msg.value)
        }
        (EventKind::Overwritten { msg }, Lang::En) => {
            let addr = labels.addr(pid, msg.addr);
            format!("   !  {node}'s queue was full: value {} ({addr}) overwritten", msg.value)
        }
        (EventKind::Kept { msg }, Lang::Ko) => {
            let addr = labels.addr(pid, msg.addr);
            let subject = particle(node, Particle::Subject);
            format!("   ·  {node}{subject} 값 {} ({addr})를 늦게 올 구독을 위해 간직합니다 (transient local)", msg.value)
        }
        (EventKind::Kept { msg }, Lang::En) => {
            let addr = labels.addr(pid, msg.addr);
            format!("   ·  {node} keeps value {} ({addr}) for late joiners (transient local)", msg.value)
        }
        (EventKind::Discarded { msg, reason: DiscardReason::DeliveredByIntraProcess }, Lang::Ko) => format!(
            "   ·  {node}: 미들웨어로도 온 값 {}을(를) {}에 역직렬화하고 버렸습니다 (IPC로 이미 받음, ignore_local_publications로 막을 수 있음)",
            msg.value,
            labels.addr(pid, msg.addr)
        ),
        (EventKind::Discarded { msg, reason: DiscardReason::DeliveredByIntraProcess }, Lang::En) => format!(
            "   ·  {node}: deserialized the middleware's copy of value {} at {} and discarded it (already delivered by IPC; ignore_local_publications avoids it)",
            msg.value,
            labels.addr(pid, msg.addr)
        ),
        _ => return None,
    })
}

/// What happened between the processes: a peer lost, a full pool, slots reclaimed, a
/// refused frame.
fn peer_warning(lang: Lang, labels: &Labels, event: &TraceEvent) -> Option<String> {
    Some(match (&event.kind, lang) {
        (EventKind::PeerLost { pid, topic }, Lang::Ko) => {
            let pid = labels.pid(*pid);
            let subject = particle(&pid, Particle::Subject);
            format!("   !  '{topic}'의 구독 프로세스 {pid}{subject} 사라졌습니다. 구독자가 다시 나타나면 보냅니다")
        }
        (EventKind::PeerLost { pid, topic }, Lang::En) => format!(
            "   !  subscriber process {} of '{topic}' is gone; sending resumes when one appears",
            labels.pid(*pid)
        ),
        (EventKind::PoolExhausted { topic, slots, held_by }, Lang::Ko) => format!(
            "   !  '{topic}'의 공유 메모리 풀이 가득 찼습니다(슬롯 {slots}개, 대부분 {}{} 붙잡고 있음). 이 메시지는 다른 프로세스로 가지 않습니다",
            labels.pid(*held_by),
            particle(&labels.pid(*held_by), Particle::Subject)
        ),
        (EventKind::PoolExhausted { topic, slots, held_by }, Lang::En) => format!(
            "   !  the shared-memory pool of '{topic}' is full ({slots} slots, held by {}): this message does not reach the other processes",
            labels.pid(*held_by)
        ),
        (EventKind::Reclaimed { pid, slots }, Lang::Ko) => format!(
            "   !  프로세스 {}{} 사라져서, 그 프로세스가 붙잡고 있던 슬롯 {slots}개를 되찾았습니다",
            labels.pid(*pid),
            particle(&labels.pid(*pid), Particle::Subject)
        ),
        (EventKind::Reclaimed { pid, slots }, Lang::En) => {
            format!("   !  process {} is gone: the {slots} slots it held are free again", labels.pid(*pid))
        }
        (EventKind::IncompatibleQos { topic, policy, publisher_node }, _) => {
            let policy = match policy {
                QosPolicyKind::Reliability => "reliability",
                QosPolicyKind::Durability => "durability",
            };
            let node = &event.node;
            match lang {
                Lang::Ko => format!(
                    "   !  {node}: '{topic}'의 퍼블리셔({publisher_node})와 QoS({policy})가 맞지 않아 아무것도 받지 못합니다"
                ),
                Lang::En => format!(
                    "   !  {node}: incompatible QoS ({policy}) with the publisher of '{topic}' ({publisher_node}): nothing will arrive"
                ),
            }
        }
        (EventKind::Rejected { from_pid, reason }, Lang::Ko) => {
            format!("   !  프로세스 {}에서 온 프레임을 거부했습니다: {reason}", labels.pid(*from_pid))
        }
        (EventKind::Rejected { from_pid, reason }, Lang::En) => {
            format!("   !  refused a frame from process {}: {reason}", labels.pid(*from_pid))
        }
        _ => return None,
    })
}
