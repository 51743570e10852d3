//! `--diagram FILE.svg`: the run as a sequence diagram, a picture of the message's journey.
//! One lifeline per node, grouped by process (pid); one arrow per delivery, labelled with
//! the value and the addresses on both ends. Ownership moves are solid black, shared
//! receipts dashed blue, copies red with their count, bytes and reason; `↺` marks a new
//! message on an old address, as in the side view. The copies come from the
//! [`Ledger`], never counted here.
//!
//! ```
//! use ipc_lab::i18n::Lang;
//! use ipc_lab::labels::Labels;
//! use ipc_lab::render::diagram::Diagram;
//!
//! let diagram = Diagram::new(Labels::new(true), Lang::En, "two_node_pipeline");
//! assert!(diagram.svg().starts_with("<svg"));
//! ```

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::PathBuf;

use super::costs;
use super::{Measurements, Renderer};
use crate::engine::trace::TraceEvent;
use crate::i18n::Lang;
use crate::labels::Labels;
use crate::ledger::{Ledger, Receipt};

/// Room for each lifeline, each arrow, and around them; the whole fits a 16:9 slide for the
/// runs the lessons show.
const LANE: usize = 340;
const ROW: usize = 44;
const TOP: usize = 90;
const MARGIN: usize = 30;

/// Collects the receipts of a run, then draws them.
pub struct Diagram {
    ledger: Ledger,
    labels: Labels,
    lang: Lang,
    title: String,
    receipts: Vec<Receipt>,
    /// (pid, node) in order of first appearance: the lifelines, left to right.
    lanes: Vec<(u32, String)>,
}

impl Diagram {
    pub fn new(labels: Labels, lang: Lang, title: &str) -> Self {
        Diagram {
            ledger: Ledger::default(),
            labels,
            lang,
            title: title.to_string(),
            receipts: Vec::new(),
            lanes: Vec::new(),
        }
    }

    /// Follows one event; a delivery becomes an arrow.
    pub fn record(&mut self, event: &TraceEvent) {
        if let Some(receipt) = self.ledger.record(event) {
            for end in receipt.from.iter().chain([&receipt.to]) {
                let lane = (end.pid, end.node.to_string());
                if !self.lanes.contains(&lane) {
                    self.lanes.push(lane);
                }
            }
            self.receipts.push(receipt);
        }
    }

    fn lane_x(&self, pid: u32, node: &str) -> usize {
        let i = self.lanes.iter().position(|(p, n)| *p == pid && n == node).unwrap_or(0);
        MARGIN + LANE / 2 + i * LANE
    }

    /// The arrow's label: value, then the address it left and the one it arrived at.
    pub fn label(&self, receipt: &Receipt) -> String {
        let from = receipt.from.as_ref().map(|f| self.labels.addr(f.pid, f.addr)).unwrap_or_default();
        let to = self.labels.addr(receipt.to.pid, receipt.to.addr);
        let reused = if receipt.reused_address { " ↺" } else { "" };
        format!("{} · {from} → {to}{reused}", receipt.value)
    }

    /// What the delivery cost, as the side view says it; empty for none.
    fn cost(&self, receipt: &Receipt) -> String {
        if receipt.charges.is_empty() {
            return String::new();
        }
        let steps = costs::receipt_steps(self.lang, receipt).join(" + ");
        format!("{}: {steps}", costs::tally_text(self.lang, receipt.cost()))
    }

    /// The whole picture.
    pub fn svg(&self) -> String {
        picture(&[(None, self)])
    }

    /// Room the lifelines take across.
    fn width(&self) -> usize {
        (MARGIN * 2 + LANE * self.lanes.len().max(2)).max(720)
    }

    /// Where the lifelines end, under the last arrow.
    fn bottom(&self) -> usize {
        TOP + ROW * (self.receipts.len() + 1)
    }

    /// The processes, lifelines and arrows, from (0, 0); `bottom` is where the lifelines end.
    fn draw_run(&self, s: &mut String, bottom: usize) {
        self.draw_processes(s, bottom);
        for (i, receipt) in self.receipts.iter().enumerate() {
            let y = TOP + ROW * (i + 1);
            let label = self.label(receipt);
            self.draw_arrow(s, receipt, y, &label);
        }
    }

    /// A box per process around its lifelines, labelled with its pid.
    fn draw_processes(&self, s: &mut String, bottom: usize) {
        let mut pids: Vec<u32> = self.lanes.iter().map(|(p, _)| *p).collect();
        pids.dedup();
        for pid in pids {
            let xs: Vec<usize> =
                self.lanes.iter().filter(|(p, _)| *p == pid).map(|(p, n)| self.lane_x(*p, n)).collect();
            let (left, right) = (xs[0] - LANE / 2 + 6, xs[xs.len() - 1] + LANE / 2 - 6);
            let _ = writeln!(
                s,
                "<rect class=\"process\" x=\"{left}\" y=\"40\" width=\"{}\" height=\"{}\" fill=\"#f4f6fa\" stroke=\"#8892a6\" rx=\"8\"/>\n<text x=\"{}\" y=\"58\" fill=\"#555\">{} {}</text>",
                right - left,
                bottom - 30,
                left + 8,
                self.lang.pick("프로세스", "process"),
                esc(&self.labels.pid(pid))
            );
        }
        for (pid, node) in &self.lanes {
            let x = self.lane_x(*pid, node);
            let _ = writeln!(
                s,
                "<text class=\"node\" x=\"{x}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"bold\">{}</text>\n<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{bottom}\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>",
                TOP - 10,
                esc(node),
                TOP - 4
            );
        }
    }

    fn draw_arrow(&self, s: &mut String, receipt: &Receipt, y: usize, label: &str) {
        let to = self.lane_x(receipt.to.pid, &receipt.to.node);
        let from = receipt.from.as_ref().map_or(to - LANE / 2, |f| self.lane_x(f.pid, &f.node));
        let cost = self.cost(receipt);
        let (kind, colour, dash) = match () {
            _ if !cost.is_empty() => ("copy", "#d62728", ""),
            _ if receipt.shared || receipt.shared_with_earlier => ("shared", "#1f5fbf", " stroke-dasharray=\"8 5\""),
            _ => ("move", "#222", ""),
        };
        let tip = if to >= from { to - 8 } else { to + 8 };
        let _ = writeln!(
            s,
            "<line class=\"delivery {kind}\" x1=\"{from}\" y1=\"{y}\" x2=\"{tip}\" y2=\"{y}\" stroke=\"{colour}\" stroke-width=\"2.5\"{dash}/>\n<polygon points=\"{to},{y} {tip},{} {tip},{}\" fill=\"{colour}\"/>",
            y - 5,
            y + 5
        );
        let mid = (from + to) / 2;
        let _ = writeln!(
            s,
            "<text class=\"label\" x=\"{mid}\" y=\"{}\" text-anchor=\"middle\" stroke=\"white\" stroke-width=\"4\" paint-order=\"stroke\">{}</text>",
            y - 7,
            esc(label)
        );
        if !cost.is_empty() {
            let _ = writeln!(
                s,
                "<text class=\"cost\" x=\"{mid}\" y=\"{}\" text-anchor=\"middle\" fill=\"{colour}\" font-size=\"12\" stroke=\"white\" stroke-width=\"4\" paint-order=\"stroke\">{}</text>",
                y + 17,
                esc(&cost)
            );
        }
    }

    fn draw_legend(&self, s: &mut String, y: usize) {
        let items = [
            (
                "#222",
                "",
                self.lang.pick("소유권 이동: 같은 메시지, 복사 없음", "ownership moved: the same message, no copy"),
            ),
            (
                "#1f5fbf",
                " stroke-dasharray=\"8 5\"",
                self.lang.pick("공유해서 받음: 같은 메시지를 함께 읽음", "shared: the same message, read together"),
            ),
            ("#d62728", "", self.lang.pick("복사: 횟수, 바이트, 이유", "copy: how many, bytes, why")),
        ];
        for (i, (colour, dash, text)) in items.iter().enumerate() {
            let yy = y + i * 22;
            let _ = writeln!(
                s,
                "<line x1=\"{MARGIN}\" y1=\"{yy}\" x2=\"{}\" y2=\"{yy}\" stroke=\"{colour}\" stroke-width=\"2.5\"{dash}/><text x=\"{}\" y=\"{}\">{}</text>",
                MARGIN + 40,
                MARGIN + 50,
                yy + 5,
                esc(text)
            );
        }
        let reuse = self.lang.pick(
            "↺ 새 메시지가 전에 본 주소에 놓임: 주소는 같아도 다른 메시지",
            "↺ a new message on an address seen before: same address, another message",
        );
        let _ = writeln!(s, "<text x=\"{MARGIN}\" y=\"{}\">{}</text>", y + 71, esc(reuse));
    }
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A view that also draws the diagram, written to `path` when the run ends.
pub struct WithDiagram {
    pub inner: Box<dyn Renderer>,
    pub diagram: Diagram,
    /// With `--ipc both`, the IPC-off run's picture, drawn beside the IPC-on one.
    pub off: Option<Diagram>,
    pub path: PathBuf,
}

impl Renderer for WithDiagram {
    fn event(&mut self, out: &mut dyn Write, event: &TraceEvent) -> io::Result<()> {
        self.diagram.record(event);
        self.inner.event(out, event)
    }

    fn pair(&mut self, out: &mut dyn Write, on: &[TraceEvent], off: &[TraceEvent]) -> io::Result<()> {
        // --ipc both: each run its own picture, IPC off beside IPC on as in the side view,
        // with the same labels (one address, one label, in both).
        let d = &self.diagram;
        let second = self.off.get_or_insert_with(|| Diagram::new(d.labels.clone(), d.lang, &d.title));
        off.iter().for_each(|e| second.record(e));
        on.iter().for_each(|e| self.diagram.record(e));
        self.inner.pair(out, on, off)
    }

    fn measured(&mut self, measured: Measurements) {
        self.inner.measured(measured);
    }

    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        self.inner.finish(out)?;
        let svg = match &self.off {
            Some(off) => {
                let lang = self.diagram.lang;
                let (on_run, off_run) = (lang.pick("IPC 켬", "IPC on"), lang.pick("IPC 끔", "IPC off"));
                picture(&[(Some(on_run), &self.diagram), (Some(off_run), off)])
            }
            None => self.diagram.svg(),
        };
        std::fs::write(&self.path, svg)
    }
}

/// Runs side by side, each under its name if it has one, with one title (the first run's)
/// and one legend. Labels are given as the runs are drawn, first to last: the order the
/// side view gives them in.
fn picture(runs: &[(Option<&str>, &Diagram)]) -> String {
    let Some((_, first)) = runs.first() else { return String::new() };
    // Room for the runs' names between the title and the processes.
    let named = if runs.iter().any(|(name, _)| name.is_some()) { 26 } else { 0 };
    let width: usize = runs.iter().map(|(_, d)| d.width()).sum();
    let bottom = runs.iter().map(|(_, d)| d.bottom()).max().unwrap_or(TOP);
    let height = named + bottom + 110;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"Noto Sans CJK KR, Noto Sans KR, Malgun Gothic, Apple SD Gothic Neo, NanumGothic, sans-serif\" font-size=\"14\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    let _ =
        writeln!(s, "<text x=\"{MARGIN}\" y=\"28\" font-size=\"18\" font-weight=\"bold\">{}</text>", esc(&first.title));
    let mut x = 0;
    for (name, run) in runs {
        if let Some(name) = name {
            let _ = writeln!(
                s,
                "<text class=\"run\" x=\"{}\" y=\"58\" font-size=\"16\" font-weight=\"bold\">{}</text>",
                x + MARGIN,
                esc(name)
            );
        }
        let (w, h) = (run.width(), named + bottom);
        // One run is drawn where it is; runs side by side each in their own frame.
        if runs.len() == 1 {
            run.draw_run(&mut s, run.bottom());
        } else {
            let _ = writeln!(s, "<svg x=\"{x}\" y=\"{named}\" width=\"{w}\" height=\"{h}\" overflow=\"visible\">");
            run.draw_run(&mut s, run.bottom());
            s.push_str("</svg>\n");
        }
        x += w;
    }
    first.draw_legend(&mut s, named + bottom + 20);
    s.push_str("</svg>\n");
    s
}
