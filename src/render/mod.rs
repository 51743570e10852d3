//! Renderers: trace events in, text out. The engine does not know them; they do not decide
//! what happened, only how to show what the events say.
//!
//! - [`classic`]: exactly the lines the upstream demo prints;
//! - [`side`]: one row per received message, publisher and subscriber side by side, every
//!   copy highlighted, a summary at the end;
//! - [`json`]: one JSON object per event per line;
//! - [`copies`]: the `ipc-lab copies` table.
//!
//! Every renderer shows a single run as it happens ([`Renderer::event`]), or two runs
//! (`--ipc both`) side by side, one segment of each at a time ([`Renderer::pair`]).

use std::io::{self, Write};

use crate::engine::trace::TraceEvent;
use crate::i18n::Lang;

pub mod classic;
pub mod copies;
pub mod json;
pub mod labels;
pub mod side;
pub mod style;

use labels::Labels;
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
    /// After the last event (also after Ctrl-C).
    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()>;
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
