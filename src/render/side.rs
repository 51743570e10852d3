//! The side-by-side view: one row per received message, the publishing side and the
//! receiving side next to each other, every copy in colour with its bytes and reason, and
//! a summary. With `--ipc both`, the IPC-on and IPC-off runs share each row.

use std::io::{self, Write};

use super::costs::{self, average_text, receipt_steps, summary_text};
use super::fit::{self, wrap};
use super::frame_clock::FrameClock;
use super::style::{pad, visible_width, Painter};
use super::{bytes, Measurements, RenderContext, Renderer};
use crate::engine::trace::{CopyReason, DiscardReason, EventKind, QosPolicyKind, TraceEvent, Via};
use crate::i18n::particle::{particle, Particle};
use crate::i18n::Lang;
use crate::labels::Labels;
use crate::ledger::{Crossing, End, Ledger, Receipt, Tally};

/// How the first receipt got to its callback: the header explains that path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// Inside the process, through the intra-process manager.
    IntraProcess,
    /// Inside the process, through the middleware.
    Middleware,
    /// From another process.
    OtherProcess,
    /// From another process, read in its shared memory where it was published.
    Loaned,
    /// Taken from DDS: from a writer whose process is not known.
    Dds,
}

impl Path {
    fn of(receipt: &Receipt) -> Path {
        match receipt.via {
            _ if matches!(receipt.crossing, Some(Crossing::Middleware { .. })) => Path::Dds,
            _ if receipt.sent.is_some() && receipt.segment.is_some() => Path::Loaned,
            _ if receipt.sent.is_some() => Path::OtherProcess,
            Via::Middleware => Path::Middleware,
            _ => Path::IntraProcess,
        }
    }
}

/// How a table's rows are laid out, chosen once per table from its columns' widths and
/// the screen's: the widest that fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// One line: from ──▶ to, then the copies (wrapped inside their column if they must be).
    Wide,
    /// from ──▶ to on one line, the copies on the lines under it.
    CostBelow,
    /// from on one line and ──▶ to under it, the two addresses one above the other, then
    /// the copies.
    Stacked,
}

/// `" ──▶ "` between the two ends, in display columns.
const ARROW: usize = 5;
/// The copies column of a wide row is at least this wide, else the copies go below.
const MIN_COST: usize = 40;
/// The short copies column of `--ipc both`, as wide as `3 (675.2 KiB)`.
const SHORT_COST: usize = 13;
/// Where the copies of a single run's row start when they go below: under the value.
const COST_BELOW: usize = 6;
/// `IPC`, `on`, `off`, `켬`, `끔`: the run's column when `--ipc both` stacks the runs.
const RUN_LABEL: usize = 3;

impl Layout {
    /// `lead`: the columns before the ends; `end`: one end's width; `cost`: the least the
    /// copies need beside them; `below`: whether the copies may go under a one-line row
    /// (not for a short column of one figure, which is better beside the second end).
    fn choose(lead: usize, end: usize, cost: usize, below: bool, width: Option<usize>) -> Layout {
        let flow = lead + 2 * end + ARROW;
        match width {
            None => Layout::Wide,
            Some(width) if flow + 2 + cost <= width => Layout::Wide,
            Some(width) if below && flow <= width => Layout::CostBelow,
            Some(_) => Layout::Stacked,
        }
    }
}

/// How a piece of the copies column is painted.
#[derive(Debug, Clone, Copy)]
enum Tone {
    /// No copy: ownership moved or a message shared.
    Good,
    Copy,
    Plain,
}

/// A piece of the copies column, kept plain until it is wrapped.
struct Part {
    text: String,
    tone: Tone,
}

impl Part {
    fn new(text: impl Into<String>, tone: Tone) -> Part {
        Part { text: text.into(), tone }
    }

    fn paint(&self, painter: &Painter, text: &str) -> String {
        match self.tone {
            Tone::Good => painter.good(text),
            Tone::Copy => painter.copy(text),
            Tone::Plain => text.to_string(),
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
    fn cost(&self, receipt: &Receipt, short: bool) -> Part {
        let total = receipt.end_to_end();
        let n = total.copies;
        if short {
            return if n == 0 {
                Part::new("0", Tone::Good)
            } else {
                Part::new(format!("{n} ({})", bytes(total.bytes)), Tone::Copy)
            };
        }
        if n > 0 {
            return Part::new(format!("{n}  {}", receipt_steps(self.cx.lang, receipt).join(" + ")), Tone::Copy);
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
        Part::new(format!("0  {words}"), Tone::Good)
    }

    /// Where the message is in shared memory, by the name every process gives it (the two
    /// ends' addresses differ; this does not): read there in place, or lent there by the
    /// publisher.
    fn segment_note(&self, row: &Receipt) -> Option<String> {
        let lang = self.cx.lang;
        if let Some(segment) = row.segment {
            let name = self.cx.labels.segment(segment);
            return Some(match lang {
                Lang::Ko => format!("  · 그 자리에서 읽음: {name}"),
                Lang::En => format!("  · read in place: {name}"),
            });
        }
        let name = self.cx.labels.segment(row.from_segment?);
        Some(match lang {
            Lang::Ko => format!("  · {name}에 빌려 발행됨"),
            Lang::En => format!("  · lent and published in {name}"),
        })
    }

    /// Both ends of a delivery: who published it where, who received it where.
    fn ends(&mut self, row: &Receipt, with_pid: bool) -> [String; 2] {
        let from = match (&row.from, row.crossing) {
            (Some(end), _) => self.end(end, with_pid),
            (None, Some(Crossing::Middleware { .. })) => self.t("DDS 라이터(writer)", "a DDS writer").to_string(),
            (None, _) => "?".to_string(),
        };
        let mut to = self.end(&row.to, with_pid);
        if row.reused_address {
            self.any_reused = true;
            to.push_str(&self.cx.painter.warn(" ↺"));
        }
        [from, to]
    }

    /// A row in its layout: `lead` (the number and value, already padded), the two ends in
    /// columns `end` wide, then the copies; below the ends they start at column `below`.
    fn lay_out(
        &self,
        lead: &str,
        ends: &[String; 2],
        end: usize,
        cost: &[Part],
        layout: Layout,
        below: usize,
    ) -> Vec<String> {
        let [from, to] = ends;
        let width = self.cx.width;
        let mut lines = match layout {
            Layout::Wide => {
                let first = format!("{lead}{} ──▶ {}  ", pad(from, end), pad(to, end));
                let column = visible_width(&first);
                let mut lines = self.cost_lines(cost, width.map(|w| w.saturating_sub(column)));
                lines[0] = format!("{first}{}", lines[0]);
                let indent = " ".repeat(column);
                lines[1..].iter_mut().for_each(|line| *line = format!("{indent}{line}"));
                return lines;
            }
            Layout::CostBelow => vec![format!("{lead}{} ──▶ {to}", pad(from, end))],
            Layout::Stacked => {
                let arrow = " ".repeat(visible_width(lead).saturating_sub(ARROW - 1));
                let to_line = format!("{arrow}──▶ {}  ", pad(to, end));
                // A short copies column (`0`, `3 (20 B)`) fits beside the second end.
                let room = width.map(|w| w.saturating_sub(visible_width(&to_line)));
                match self.cost_lines(cost, room).as_slice() {
                    [one] if fit::fits(&to_line, width) => {
                        return vec![format!("{lead}{from}"), format!("{to_line}{one}")]
                    }
                    _ => vec![format!("{lead}{from}"), format!("{arrow}──▶ {to}")],
                }
            }
        };
        let indent = " ".repeat(below);
        let cost = self.cost_lines(cost, width.map(|w| w.saturating_sub(below)));
        lines.extend(cost.into_iter().map(|line| format!("{indent}{line}")));
        lines
    }

    /// The copies column, painted: on one line if it fits in `room` columns, else each part
    /// wrapped, the lines after a count indented under its words.
    fn cost_lines(&self, cost: &[Part], room: Option<usize>) -> Vec<String> {
        let painter = &self.cx.painter;
        let whole: String = cost.iter().map(|part| part.text.as_str()).collect();
        if fit::fits(&whole, room) {
            return vec![cost.iter().map(|part| part.paint(painter, &part.text)).collect()];
        }
        let room = room.unwrap_or(usize::MAX).max(fit::NARROWEST / 2);
        let wrapped = cost.iter().flat_map(|part| {
            wrap(part.text.trim_start(), room, "", "   ").into_iter().map(|line| part.paint(painter, &line))
        });
        wrapped.collect()
    }

    /// Text that may be longer than the screen, wrapped to it ([`fit::lines`]).
    fn fitted(&self, text: &str, rest: &str) -> Vec<String> {
        fit::lines(text, self.cx.width, rest)
    }

    /// `heading: text`, wrapped, with the heading in bold.
    fn headed(&self, out: &mut dyn Write, heading: &str, text: &str) -> io::Result<()> {
        let lines = self.fitted(&format!("{heading}{text}"), "    ");
        for (i, line) in lines.iter().enumerate() {
            match line.strip_prefix(heading) {
                Some(rest) if i == 0 => writeln!(out, "{}{rest}", self.cx.painter.heading(heading))?,
                _ => writeln!(out, "{line}")?,
            }
        }
        Ok(())
    }

    /// A warning line (`   !  text`), wrapped under its text.
    fn warn_lines(&self, out: &mut dyn Write, text: &str) -> io::Result<()> {
        let mark: String = text.chars().take(6).collect();
        let lines = match self.cx.width {
            Some(width) if !fit::fits(text, Some(width)) => wrap(&text[mark.len()..], width, &mark, "      "),
            _ => vec![text.to_string()],
        };
        lines.iter().try_for_each(|line| writeln!(out, "{}", self.cx.painter.warn(line)))
    }

    /// The layout of a single run's rows.
    fn single_layout(&self) -> Layout {
        Layout::choose(self.lead_width(), self.end_width(true), MIN_COST, true, self.cx.width)
    }

    /// The layout of `--ipc both`'s runs, one line each, or `None` for side by side.
    fn pair_layout(&self) -> Option<Layout> {
        let (end, value) = (self.end_width(false), self.cx.columns.value);
        let side_by_side = 2 * (2 * end + ARROW + 2 + SHORT_COST + 2) + value + 10;
        if fit::fits(&" ".repeat(side_by_side), self.cx.width) {
            return None;
        }
        Some(Layout::choose(self.lead_width() + RUN_LABEL + 2, end, SHORT_COST, false, self.cx.width))
    }

    /// `   1  value  `: the number and the value before the ends.
    fn lead_width(&self) -> usize {
        4 + 2 + self.cx.columns.value + 2
    }

    /// "on" / "off" at the start of a run's line when `--ipc both` stacks the runs.
    fn run_label(&self, on: bool) -> String {
        let label = match (self.cx.lang, on) {
            (Lang::Ko, true) => "켬",
            (Lang::Ko, false) => "끔",
            (Lang::En, true) => "on",
            (Lang::En, false) => "off",
        };
        pad(label, RUN_LABEL)
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
            for line in self.fitted(path_text(self.cx.lang, Path::of(first)), "") {
                writeln!(out, "{}", self.cx.painter.dim(&line))?;
            }
        }
        let value = pad(self.t("값", "value"), self.cx.columns.value);
        let copies = [Part::new(self.t("복사", "copies"), Tone::Plain)];
        let lines = match (self.cx.runs.len(), self.pair_layout()) {
            (1, _) => {
                let ends =
                    [self.t("보낸 쪽", "published by").to_string(), self.t("받은 쪽", "received by").to_string()];
                self.lay_out(
                    &format!("   #  {value}  "),
                    &ends,
                    self.end_width(true),
                    &copies,
                    self.single_layout(),
                    COST_BELOW,
                )
            }
            (_, None) => {
                let w = self.end_width(false);
                let cell = format!("{} ──▶ {}", pad(self.t("보낸 쪽", "from"), w), pad(self.t("받은 쪽", "to"), w));
                vec![format!("   #  {value}  │ {cell}  {}│ {cell}  {}", pad(&copies[0].text, 10), copies[0].text)]
            }
            (_, Some(layout)) => {
                let lead = format!("   #  {value}  {}  ", pad("IPC", RUN_LABEL));
                let ends = [self.t("보낸 쪽", "from").to_string(), self.t("받은 쪽", "to").to_string()];
                self.lay_out(&lead, &ends, self.end_width(false), &copies, layout, visible_width(&lead))
            }
        };
        lines.iter().try_for_each(|line| writeln!(out, "{}", self.cx.painter.dim(line)))
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
        (Lang::Ko, Path::Loaned) => "다른 프로세스에서 옴 (pid가 다름): 메시지는 보낸 프로세스의 공유 메모리에 그대로 있고, 어디 있는지만 건너왔습니다. 주소는 프로세스마다 다르고, memfd의 inode와 오프셋은 같습니다.",
        (Lang::Ko, Path::Dds) => "DDS에서 옴: DDS 샘플은 라이터(writer)의 GUID만 알려 주고 프로세스는 알려 주지 않습니다(같은 기계의 ipc-lab일 수도, 다른 기계의 ROS 2 노드일 수도 있습니다). 그래서 이 프로세스의 복사만 셉니다: DDS에서 꺼내기, 역직렬화, 그 뒤의 복사.",
        (Lang::En, Path::Dds) => "from DDS: a sample names its writer (a GUID), not a process (ipc-lab on this machine or a ROS 2 node anywhere), so only this process's copies are counted: the take, the deserialization and what follows.",
        (Lang::En, Path::IntraProcess) => "IPC: the subscriber gets the very message that was published; the same address means no copy.",
        (Lang::En, Path::Middleware) => "through the middleware: the message is serialized to CDR bytes and deserialized into a new message on the other side.",
        (Lang::En, Path::Loaned) => "from another process (a different pid): the message stayed in the publisher's shared memory and only where it is crossed; the addresses differ from process to process, the memfd's inode and offset do not.",
        (Lang::En, Path::OtherProcess) => "from another process (a different pid): IPC cannot reach across processes, so the message was serialized and carried over.",
    }
}

impl Renderer for Side {
    fn event(&mut self, out: &mut dyn Write, event: &TraceEvent) -> io::Result<()> {
        self.title(out)?;
        if let Some(text) = self.warning(event) {
            self.warn_lines(out, &text)?;
        }
        self.clocks[0].tick(event);
        let Some(row) = self.ledgers[0].record(event) else {
            return Ok(());
        };
        self.columns(out, Some(&row))?;
        let ends = self.ends(&row, true);
        let mut cost = vec![self.cost(&row, false)];
        if row.for_others.copies > 0 {
            let tally = costs::tally_text(self.cx.lang, row.for_others);
            let note = match self.cx.lang {
                Lang::Ko => format!("  + 다른 프로세스 몫: {tally}"),
                Lang::En => format!("  + for other processes: {tally}"),
            };
            cost.push(Part::new(note, Tone::Copy));
        }
        if let Some(note) = self.segment_note(&row) {
            cost.push(Part::new(note, Tone::Plain));
        }
        let lead = format!("{:>4}  {}  ", row.index, pad(&row.value, self.cx.columns.value));
        let lines = self.lay_out(&lead, &ends, self.end_width(true), &cost, self.single_layout(), COST_BELOW);
        lines.iter().try_for_each(|line| writeln!(out, "{line}"))
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
        let lead = format!("{index:>4}  {}  ", pad(&value, self.cx.columns.value));
        let lines = match self.pair_layout() {
            None => vec![self.side_by_side(&lead, [&on_row, &off_row])],
            Some(layout) => self.stacked_runs(&lead, [&on_row, &off_row], layout),
        };
        lines.iter().try_for_each(|line| writeln!(out, "{line}"))
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
            self.headed(out, heading, &format!("{label}: {line}"))?;
            if totals.frames.filled > 0 {
                let frames = self.frames_line(i);
                self.headed(out, self.t("프레임", "frames"), &format!("{label}: {frames}"))?;
            }
        }
        if let Some(measured) = &self.measured {
            let line = self.measured_line(measured);
            self.headed(out, self.t("측정", "measured"), &format!(": {line}"))?;
        }
        if self.any_reused {
            let note = self.t(
                "↺ 엔진이 새로 만든 메시지(복사본이나 역직렬화한 메시지)가 위의 줄에 나왔던 주소에 놓였습니다: 주소는 같아도 다른 메시지입니다 (복사 여부는 주소가 아니라 엔진이 한 일로 판단합니다).",
                "↺ a new message the engine made (a copy or a deserialized one) landed on an address shown in a row above: same address, different message (copies are counted from what the engine did, not from addresses).",
            );
            for line in self.fitted(note, "  ") {
                writeln!(out, "{}", self.cx.painter.warn(&line))?;
            }
        }
        Ok(())
    }
}

impl Side {
    /// `--ipc both` side by side: one line, IPC on left of IPC off.
    fn side_by_side(&mut self, lead: &str, rows: [&Option<Receipt>; 2]) -> String {
        let w = self.end_width(false);
        let mut cells = Vec::new();
        for row in rows {
            cells.push(match row {
                Some(row) => {
                    let [from, to] = self.ends(row, false);
                    let cost = self.cost(row, true);
                    let cost = cost.paint(&self.cx.painter, &cost.text);
                    format!("{} ──▶ {}  {}", pad(&from, w), pad(&to, w), pad(&cost, 10))
                }
                None => pad("", 2 * w + 17),
            });
        }
        let line = format!("{lead}│ {}│ {}", cells[0], cells[1]);
        line.trim_end().to_string()
    }

    /// `--ipc both` on a narrow screen: the runs one under the other, each with its label.
    fn stacked_runs(&mut self, lead: &str, rows: [&Option<Receipt>; 2], layout: Layout) -> Vec<String> {
        let w = self.end_width(false);
        let mut lines = Vec::new();
        for (row, on) in rows.into_iter().zip([true, false]) {
            let Some(row) = row else { continue };
            let number = if lines.is_empty() { lead.to_string() } else { " ".repeat(visible_width(lead)) };
            let lead = format!("{number}{}  ", self.run_label(on));
            let ends = self.ends(row, false);
            let cost = [self.cost(row, true)];
            lines.extend(self.lay_out(&lead, &ends, w, &cost, layout, visible_width(&lead)));
        }
        lines
    }
}

/// What happened to a message in a queue: overwritten, or taken and discarded.
fn queue_warning(lang: Lang, labels: &Labels, event: &TraceEvent) -> Option<String> {
    let (node, pid) = (&event.node, event.pid);
    Some(match (&event.kind, lang) {
        (EventKind::Overwritten { msg }, Lang::Ko) => {
            let addr = labels.addr(pid, msg.addr);
            let value = msg.value.to_string();
            let object = particle(&value, Particle::Object);
            format!("   !  {node}의 큐가 가득 차서 값 {value} ({addr}){object} 덮어썼습니다")
        }
        (EventKind::Overwritten { msg }, Lang::En) => {
            let addr = labels.addr(pid, msg.addr);
            format!("   !  {node}'s queue was full: value {} ({addr}) overwritten", msg.value)
        }
        (EventKind::Kept { msg }, Lang::Ko) => {
            let addr = labels.addr(pid, msg.addr);
            let subject = particle(node, Particle::Subject);
            let value = msg.value.to_string();
            let object = particle(&value, Particle::Object);
            format!("   ·  {node}{subject} 값 {value} ({addr}){object} 늦게 올 구독을 위해 간직합니다 (transient local)")
        }
        (EventKind::Kept { msg }, Lang::En) => {
            let addr = labels.addr(pid, msg.addr);
            format!("   ·  {node} keeps value {} ({addr}) for late joiners (transient local)", msg.value)
        }
        (EventKind::Discarded { msg, reason: DiscardReason::DeliveredByIntraProcess }, Lang::Ko) => {
            let value = msg.value.to_string();
            let object = particle(&value, Particle::Object);
            format!(
                "   ·  {node}: 미들웨어로도 온 값 {value}{object} {}에 역직렬화하고 버렸습니다 (IPC로 이미 받음, ignore_local_publications로 막을 수 있음)",
                labels.addr(pid, msg.addr)
            )
        }
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
        (EventKind::OverwrittenForPeer { msg, to_pid }, Lang::Ko) => {
            let pid = labels.pid(*to_pid);
            let value = msg.value.as_str();
            let (subject, object) = (particle(&pid, Particle::Subject), particle(value, Particle::Object));
            format!("   !  {pid}{subject} 읽지 않아 그쪽 큐가 가득 찼습니다. 값 {value}{object} 그 프로세스에는 보내지 않습니다")
        }
        (EventKind::OverwrittenForPeer { msg, to_pid }, Lang::En) => format!(
            "   !  the queue to {} was full (it is not reading): value {} is not sent there",
            labels.pid(*to_pid),
            msg.value
        ),
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
        (EventKind::IncompatibleQos { topic, policy, offered: true, .. }, _) => {
            offered_qos_warning(lang, &event.node, topic, *policy)
        }
        (EventKind::IncompatibleQos { topic, policy, publisher_node, offered: false }, _) => {
            qos_warning(lang, &event.node, topic, *policy, publisher_node)
        }
        (EventKind::TooLargeForFrame { msg, bytes, limit }, lang) => too_large_warning(lang, &msg.value, *bytes, *limit),
        (EventKind::Rejected { from_pid, reason }, Lang::Ko) => {
            format!("   !  프로세스 {}에서 온 프레임을 거부했습니다: {reason}", labels.pid(*from_pid))
        }
        (EventKind::Rejected { from_pid, reason }, Lang::En) => {
            format!("   !  refused a frame from process {}: {reason}", labels.pid(*from_pid))
        }
        _ => return None,
    })
}

/// A DDS reader elsewhere that asks for more than this node's publisher offers: it gets
/// nothing from it (the publisher's side of an incompatible QoS).
fn offered_qos_warning(lang: Lang, node: &str, topic: &str, policy: QosPolicyKind) -> String {
    let policy = policy_name(policy);
    match lang {
        Lang::Ko => format!(
            "   !  {node}: '{topic}'의 DDS 리더(reader)가 이 퍼블리셔가 주지 않는 QoS({policy})를 요구해서, 그 리더는 아무것도 받지 못합니다"
        ),
        Lang::En => format!(
            "   !  {node}: a DDS reader of '{topic}' asks for a QoS ({policy}) this publisher does not offer: it gets nothing"
        ),
    }
}

/// A message too large for a frame between processes, which the others do not get.
fn too_large_warning(lang: Lang, value: &str, bytes: usize, limit: usize) -> String {
    let (mib, limit) = (bytes as f64 / f64::from(1 << 20), limit >> 20);
    match lang {
        Lang::Ko => {
            let topic = particle(value, Particle::Topic);
            format!(
                "   !  메시지 {value}{topic} {mib:.1} MiB라서 프로세스 사이 메시지 한도 {limit} MiB를 넘습니다. 다른 프로세스에는 보내지 않습니다"
            )
        }
        Lang::En => format!(
            "   !  message {value} is {mib:.1} MiB, over the {limit} MiB a message between processes may carry: not sent to the other processes"
        ),
    }
}

/// A policy by its ROS 2 name.
fn policy_name(policy: QosPolicyKind) -> &'static str {
    match policy {
        QosPolicyKind::Reliability => "reliability",
        QosPolicyKind::Durability => "durability",
    }
}

/// A subscription that hears nothing because its QoS does not match the publisher's.
fn qos_warning(lang: Lang, node: &str, topic: &str, policy: QosPolicyKind, publisher_node: &str) -> String {
    let policy = policy_name(policy);
    match lang {
        Lang::Ko => {
            format!("   !  {node}: '{topic}'의 퍼블리셔({publisher_node})와 QoS({policy})가 맞지 않아 아무것도 받지 못합니다")
        }
        Lang::En => format!(
            "   !  {node}: incompatible QoS ({policy}) with the publisher of '{topic}' ({publisher_node}): nothing will arrive"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A publisher's side of an incompatible QoS names its node, the topic and the policy,
    /// and who gets nothing: the DDS reader, not this node.
    #[test]
    fn a_reader_the_publisher_cannot_serve_is_said_from_the_publishers_side() {
        assert_eq!(
            offered_qos_warning(Lang::En, "camera_node", "image", QosPolicyKind::Reliability),
            "   !  camera_node: a DDS reader of 'image' asks for a QoS (reliability) this publisher does not offer: it gets nothing"
        );
        assert_eq!(
            offered_qos_warning(Lang::Ko, "producer", "number", QosPolicyKind::Durability),
            "   !  producer: 'number'의 DDS 리더(reader)가 이 퍼블리셔가 주지 않는 QoS(durability)를 요구해서, 그 리더는 아무것도 받지 못합니다"
        );
    }

    /// The publisher's own words for a message no other process gets, in both languages:
    /// its size and the limit, as `--size` says them.
    #[test]
    fn a_message_too_large_for_a_frame_says_its_size_and_the_limit() {
        let (bytes, limit) = (7680 * 4320 * 3 + 48, 64 << 20);
        assert_eq!(
            too_large_warning(Lang::En, "7680x4320 bgr8", bytes, limit),
            "   !  message 7680x4320 bgr8 is 94.9 MiB, over the 64 MiB a message between processes may carry: not sent to the other processes"
        );
        assert_eq!(
            too_large_warning(Lang::Ko, "7680x4320 bgr8", bytes, limit),
            "   !  메시지 7680x4320 bgr8은 94.9 MiB라서 프로세스 사이 메시지 한도 64 MiB를 넘습니다. 다른 프로세스에는 보내지 않습니다"
        );
    }
}
