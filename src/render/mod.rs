//! Renderers: trace events in, text out. The engine does not know them; they do not decide
//! what happened, only how to show what the events say.
//!
//! - [`classic`]: exactly the lines the upstream demo prints;
//! - [`side`]: one row per received message, publisher and subscriber side by side, every
//!   copy highlighted, a summary at the end;
//! - [`json`]: one JSON object per event per line;
//! - [`copies`]: the `ipc-lab copies` table;
//! - [`fit`]: the screen's width and wrapping to it; [`preview`]: `--show terminal`'s
//!   pictures, kept apart from the table.
//!
//! Every renderer shows a single run as it happens ([`Renderer::event`]), or two runs
//! (`--ipc both`) side by side, one segment of each at a time ([`Renderer::pair`]).

use std::io::{self, Write};
use std::time::Duration;

use crate::engine::trace::TraceEvent;
use crate::i18n::Lang;

pub mod classic;
pub mod copies;
mod copies_qos;
pub mod costs;
pub mod diagram;
pub mod fit;
pub mod frame_clock;
pub mod json;
pub mod preview;
pub mod ps;
pub mod side;
pub mod style;

use crate::labels::Labels;
use style::Painter;

/// What every renderer needs to know about the run.
pub struct RenderContext {
    pub lang: Lang,
    pub painter: Painter,
    pub labels: Labels,
    /// The upstream executable's name, for titles.
    pub title: &'static str,
    /// The IPC setting of each run, in order: one run, or on and off for `--ipc both`.
    pub runs: Vec<bool>,
    /// The nodes run in separate processes (`--split`).
    pub split: bool,
    /// How wide the side view's columns are.
    pub columns: Columns,
    /// The screen's columns, or none (piped): the views fit their lines into it.
    pub width: Option<usize>,
}

/// Column widths of the side view, fitted to a demo's node names and values.
#[derive(Debug, Clone, Copy)]
pub struct Columns {
    /// A node's name and the space after it.
    pub node: usize,
    /// A message's value.
    pub value: usize,
}

impl Default for Columns {
    /// The number demos: `producer`, `pipe1` and values like `42`.
    fn default() -> Self {
        Self { node: 10, value: 6 }
    }
}

impl RenderContext {
    /// "IPC on" / "IPC off" in the user's language.
    pub fn ipc_label(&self, on: bool) -> &'static str {
        match (self.lang, on) {
            (Lang::Ko, true) => "IPC 켬",
            (Lang::Ko, false) => "IPC 끔",
            (Lang::En, true) => "IPC on",
            (Lang::En, false) => "IPC off",
        }
    }
}

/// A view of a run.
pub trait Renderer {
    /// A single run: one event, as it happens.
    fn event(&mut self, out: &mut dyn Write, event: &TraceEvent) -> io::Result<()>;
    /// `--ipc both`: the next segment of each run (the events from one receipt up to the
    /// next), to be shown side by side. Either may be empty when one run ended earlier.
    fn pair(&mut self, out: &mut dyn Write, on: &[TraceEvent], off: &[TraceEvent]) -> io::Result<()>;
    /// What the app measured while the runs went on, handed over before `finish`. Only the
    /// side view's summary shows it.
    fn measured(&mut self, _measured: Measurements) {}
    /// After the last event (also after Ctrl-C).
    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()>;
}

/// What the app measured about a run from outside the engine: time and memory.
#[derive(Debug, Clone, Default)]
pub struct Measurements {
    /// How long each run went on, in the order of [`RenderContext::runs`].
    pub elapsed: Vec<Duration>,
    /// The process's resident memory, if the system tells it.
    pub resident: Option<Resident>,
}

/// Resident memory (RSS) of the process, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Resident {
    /// Before the pipeline was built.
    pub start: u64,
    /// The most seen while it ran (sampled).
    pub peak: u64,
}

/// A byte count for people: `8 B`, `4.0 KiB`, `5.9 MiB`.
pub fn bytes(n: u64) -> String {
    const KIB: f64 = 1024.0;
    match n as f64 {
        b if b < KIB => format!("{n} B"),
        b if b < KIB * KIB => format!("{:.1} KiB", b / KIB),
        b if b < KIB * KIB * KIB => format!("{:.1} MiB", b / KIB / KIB),
        b => format!("{:.1} GiB", b / KIB / KIB / KIB),
    }
}
