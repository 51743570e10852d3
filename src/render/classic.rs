//! The upstream demo's own lines, exactly (addresses relabelled only with `--stable`): what it
//! prints, and for the image pipeline the text its nodes draw on each frame, in the order
//! drawn. With `--ipc both`, the two runs' lines stand in two columns, or on a screen too
//! narrow for that, one under the other, each line after its run's label.

use std::io::{self, Write};

use super::fit;
use super::style::pad;
use super::{RenderContext, Renderer};
use crate::engine::trace::{EventKind, TraceEvent};

/// Wide enough for the longest upstream line with a raw address.
const COLUMN: usize = 66;

pub struct Classic {
    pub cx: RenderContext,
    header_done: bool,
}

impl Classic {
    pub fn new(cx: RenderContext) -> Self {
        Self { cx, header_done: false }
    }

    fn lines(&mut self, events: &[TraceEvent]) -> Vec<String> {
        events.iter().filter_map(|e| self.line(e)).collect()
    }

    fn line(&self, event: &TraceEvent) -> Option<String> {
        match &event.kind {
            EventKind::Printed { line } => Some(self.cx.labels.relabel(event.pid, line)),
            EventKind::Drawn { text, .. } => Some(self.cx.labels.relabel(event.pid, text)),
            _ => None,
        }
    }
}

impl Renderer for Classic {
    fn event(&mut self, out: &mut dyn Write, event: &TraceEvent) -> io::Result<()> {
        if let Some(line) = self.line(event) {
            writeln!(out, "{line}")?;
        }
        Ok(())
    }

    fn pair(&mut self, out: &mut dyn Write, on: &[TraceEvent], off: &[TraceEvent]) -> io::Result<()> {
        if !fit::fits(&" ".repeat(2 * COLUMN + 2), self.cx.width) {
            return self.stacked(out, on, off);
        }
        if !self.header_done {
            self.header_done = true;
            let left = self.cx.painter.heading(self.cx.ipc_label(true));
            let right = self.cx.painter.heading(self.cx.ipc_label(false));
            writeln!(out, "{}│ {right}", pad(&left, COLUMN))?;
        }
        let (left, right) = (self.lines(on), self.lines(off));
        for i in 0..left.len().max(right.len()) {
            let l = left.get(i).map_or("", String::as_str);
            let r = right.get(i).map_or("", String::as_str);
            writeln!(out, "{}│ {r}", pad(l, COLUMN))?;
        }
        Ok(())
    }

    fn finish(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}

impl Classic {
    /// `--ipc both` on a narrow screen: IPC on's lines, then IPC off's, each after its label;
    /// upstream's lines themselves are unchanged.
    fn stacked(&mut self, out: &mut dyn Write, on: &[TraceEvent], off: &[TraceEvent]) -> io::Result<()> {
        let labels = [self.cx.ipc_label(true), self.cx.ipc_label(false)];
        let width = labels.iter().map(|l| super::style::visible_width(l)).max().unwrap_or(0);
        for (events, label) in [on, off].into_iter().zip(labels) {
            let label = self.cx.painter.heading(&pad(label, width));
            for line in self.lines(events) {
                writeln!(out, "{label} │ {line}")?;
            }
        }
        Ok(())
    }
}
