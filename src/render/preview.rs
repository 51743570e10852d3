//! `--show terminal`: the frames the views showed, drawn on stderr apart from the table.
//!
//! On a terminal the pictures stay under the table and are redrawn in place: before new
//! rows are written the pictures are erased, the rows go out, and the pictures come back
//! under them (a few times a second at most). Anywhere else (stderr piped or in a file) only
//! the last frame of each view is written, once, at the end. Under each picture stand the
//! lines the nodes drew on that frame, as text (`camera_node: pid: …, ptr: …`): a picture a
//! few dozen characters wide shows where the lines are, not what they say.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use super::fit;
use super::style::{pad, visible_width};
use super::{Measurements, Renderer};
use crate::engine::trace::{EventKind, TraceEvent};
use crate::i18n::Lang;
use crate::image::view::{Board, Shot};
use crate::labels::Labels;

/// The pictures are redrawn at most this often: a terminal takes a few pictures a second,
/// not one per row.
const INTERVAL: Duration = Duration::from_millis(100);
/// On a terminal, the pictures leave this many lines for the table above them.
const TABLE_LINES: usize = 8;
/// Lines under a picture for its title and the text drawn on the frame (three nodes).
const AROUND_PICTURE: usize = 1 + 3;
/// Between two pictures side by side.
const GAP: usize = 2;
/// Frames whose text is kept, per view, to find the one a picture shows.
const KEPT: usize = 64;

/// Where the pictures go: stderr, a terminal or not, and how big it is.
#[derive(Debug, Clone, Copy)]
pub struct Screen {
    pub cols: usize,
    pub rows: usize,
    /// A terminal: the pictures are redrawn in place, in colour if `color`.
    pub live: bool,
    pub color: bool,
}

impl Screen {
    /// Stderr's terminal (`COLUMNS` and `LINES` win, as for the views), or 80 columns and
    /// one final picture when stderr is not a terminal.
    pub fn of_stderr(color: bool) -> Screen {
        let stderr = io::stderr();
        let live = stderr.is_terminal();
        let size = terminal_size::terminal_size_of(&stderr).map(|(w, h)| (usize::from(w.0), usize::from(h.0)));
        let env = |name: &str| std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).filter(|&v: &usize| v > 0);
        let cols = env("COLUMNS").or(size.map(|s| s.0)).unwrap_or(80);
        let rows = env("LINES").or(size.map(|s| s.1)).unwrap_or(24);
        Screen { cols, rows, live, color: color && live }
    }

    /// How big each of `views` pictures side by side may be: columns and lines.
    pub fn picture_size(&self, views: usize) -> (u32, u32) {
        let views = views.max(1);
        let cols = self.cols.saturating_sub(GAP * (views - 1)) / views;
        // Piped, the picture is written once and may be as tall as its width asks.
        let lines = if self.live { self.rows.saturating_sub(TABLE_LINES + AROUND_PICTURE) } else { cols };
        (cols.max(8) as u32, lines.max(4) as u32)
    }
}

/// A line of text a node drew on a frame.
#[derive(Debug, Clone)]
struct DrawnLine {
    node: String,
    text: String,
}

/// The text drawn on one frame a view showed.
struct Caption {
    /// The view's count of frames shown, as its [`Shot`] says it.
    frame: u64,
    lines: Vec<String>,
}

/// A view of a run: the run's place and the view's node name.
type ViewKey = (usize, String);

/// A renderer with the pictures of `--show terminal` kept apart from its output.
pub struct WithPreview {
    pub inner: Box<dyn Renderer>,
    board: Board,
    labels: Labels,
    lang: Lang,
    /// The IPC setting of each run, for the pictures' titles.
    runs: Vec<bool>,
    screen: Screen,
    /// Lines of pictures on the terminal now, erased before the next rows (live only).
    drawn: usize,
    /// The board's version last drawn.
    version: u64,
    last: Option<Instant>,
    /// The table's output since the pictures were last drawn (live only).
    pending: Vec<u8>,
    /// Per run: the latest text drawn at each height, with the node that drew it.
    texts: Vec<BTreeMap<i32, DrawnLine>>,
    /// Per run and view: the text under each of its last frames.
    captions: HashMap<ViewKey, VecDeque<Caption>>,
}

impl WithPreview {
    pub fn new(
        inner: Box<dyn Renderer>,
        board: Board,
        labels: Labels,
        lang: Lang,
        runs: Vec<bool>,
        screen: Screen,
    ) -> Self {
        let texts = vec![BTreeMap::new(); runs.len()];
        Self {
            inner,
            board,
            labels,
            lang,
            runs,
            screen,
            drawn: 0,
            version: 0,
            last: None,
            pending: Vec::new(),
            texts,
            captions: HashMap::new(),
        }
    }

    /// Text drawn on a frame, and frames shown: what to write under the pictures.
    fn observe(&mut self, run: usize, event: &TraceEvent) {
        match &event.kind {
            EventKind::Drawn { y, text } => {
                let text = self.labels.relabel(event.pid, text);
                self.texts[run].insert(*y, DrawnLine { node: event.node.to_string(), text });
            }
            EventKind::Shown { .. } => {
                let lines = self.texts[run].values().map(|d| format!("{}: {}", d.node, d.text)).collect();
                let kept = self.captions.entry((run, event.node.to_string())).or_default();
                let frame = kept.back().map_or(1, |c| c.frame + 1);
                kept.push_back(Caption { frame, lines });
                if kept.len() > KEPT {
                    kept.pop_front();
                }
            }
            _ => {}
        }
    }

    /// On a terminal, when it is time and something changed: the pictures erased, the
    /// held rows written, the pictures drawn again under them. `below`: lines written under
    /// the pictures since they were drawn (the `^C` the terminal echoed).
    fn redraw(&mut self, out: &mut dyn Write, force: bool, below: usize) -> io::Result<()> {
        let (version, shots) = self.board.shots();
        let due = force || self.last.is_none_or(|last| last.elapsed() >= INTERVAL);
        if !self.screen.live || !due || (self.pending.is_empty() && version == self.version) {
            return Ok(());
        }
        let mut err = io::stderr().lock();
        if self.drawn > 0 {
            // To the first line of the pictures, and everything from there down cleared.
            let _ = write!(err, "\x1b[{}F\x1b[J", self.drawn + below);
            let _ = err.flush();
        }
        out.write_all(&std::mem::take(&mut self.pending))?;
        out.flush()?;
        let lines = self.region(&shots);
        let _ = err.write_all(lines.iter().map(|l| format!("{l}\n")).collect::<String>().as_bytes());
        let _ = err.flush();
        (self.drawn, self.version, self.last) = (lines.len(), version, Some(Instant::now()));
        Ok(())
    }

    /// The pictures side by side, each with its title above and its text below.
    fn region(&self, shots: &[Shot]) -> Vec<String> {
        let width = self.screen.cols.saturating_sub(GAP * shots.len().saturating_sub(1)) / shots.len().max(1);
        let columns: Vec<Vec<String>> = shots.iter().map(|shot| self.column(shot, width)).collect();
        let height = columns.iter().map(Vec::len).max().unwrap_or(0);
        (0..height)
            .map(|i| {
                let cells: Vec<String> =
                    columns.iter().map(|c| pad(c.get(i).map_or("", String::as_str), width)).collect();
                cells.join(&" ".repeat(GAP)).trim_end().to_string()
            })
            .collect()
    }

    /// One view's picture: title, picture, the text drawn on that frame.
    fn column(&self, shot: &Shot, width: usize) -> Vec<String> {
        let run = match self.runs.len() {
            1 => String::new(),
            _ => format!(" · {}", ipc_label(self.lang, self.runs[shot.run])),
        };
        let frame = match self.lang {
            Lang::Ko => format!("프레임 {}", shot.shown),
            Lang::En => format!("frame {}", shot.shown),
        };
        let title = format!("── {}{run} · {frame} · {}", shot.view, shot.frame);
        let mut lines = fit::lines(&title, Some(width), "   ");
        lines.extend(shot.picture.text(self.screen.color));
        let kept = self.captions.get(&(shot.run, shot.view.clone()));
        let caption = kept.and_then(|k| k.iter().find(|c| c.frame == shot.shown).or(k.back()));
        for line in caption.map(|c| c.lines.as_slice()).unwrap_or_default() {
            lines.extend(fit::lines(line, Some(width), "    "));
        }
        lines
            .iter()
            .map(|l| if visible_width(l) > width { l.chars().take(width).collect() } else { l.clone() })
            .collect()
    }
}

fn ipc_label(lang: Lang, on: bool) -> &'static str {
    match (lang, on) {
        (Lang::Ko, true) => "IPC 켬",
        (Lang::Ko, false) => "IPC 끔",
        (Lang::En, true) => "IPC on",
        (Lang::En, false) => "IPC off",
    }
}

impl Renderer for WithPreview {
    fn event(&mut self, out: &mut dyn Write, event: &TraceEvent) -> io::Result<()> {
        self.observe(0, event);
        // On a terminal the rows wait for the next redraw, which writes them above the pictures.
        let table: &mut dyn Write = if self.screen.live { &mut self.pending } else { out };
        self.inner.event(table, event)?;
        self.redraw(out, false, 0)
    }

    fn pair(&mut self, out: &mut dyn Write, on: &[TraceEvent], off: &[TraceEvent]) -> io::Result<()> {
        on.iter().for_each(|e| self.observe(0, e));
        off.iter().for_each(|e| self.observe(1, e));
        let table: &mut dyn Write = if self.screen.live { &mut self.pending } else { out };
        self.inner.pair(table, on, off)?;
        self.redraw(out, false, 0)
    }

    fn measured(&mut self, measured: Measurements) {
        self.inner.measured(measured);
    }

    /// The last pictures stay above the summary: redrawn once more on a terminal (after
    /// Ctrl-C, over the line the terminal echoed `^C` on), written once anywhere else.
    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.screen.live {
            let interrupted = crate::engine::context::interrupted() && io::stdout().is_terminal();
            self.redraw(out, true, usize::from(interrupted))?;
        } else {
            let (_, shots) = self.board.shots();
            out.flush()?;
            let lines = self.region(&shots);
            let _ =
                io::stderr().lock().write_all(lines.iter().map(|l| format!("{l}\n")).collect::<String>().as_bytes());
        }
        self.inner.finish(out)
    }
}
