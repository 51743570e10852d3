//! A bench's results and what they say: the table, the JSON lines, the copies cross-check,
//! the image pipeline's frames per second and the engine's targets.
//!
//! ```
//! use ipc_lab::bench::report::{Results, Row};
//! use ipc_lab::bench::PathKind;
//!
//! let row = |path, bytes, p50_ns| Row { path, bytes, p50_ns, p99_ns: p50_ns, msgs_per_s: 1.0, copies: 0.0, samples: 1 };
//! let results = Results {
//!     rows: vec![
//!         row(PathKind::MemcpyBaseline, 1000, 100),
//!         row(PathKind::MemcpyBaseline, 2000, 200),
//!         row(PathKind::IpcOff, 1000, 250),
//!         row(PathKind::IpcOff, 2000, 450),
//!     ],
//!     sizes: vec![1000, 2000],
//!     pipeline: vec![],
//!     pipeline_sizes: vec![],
//!     camera_write: 0,
//!     interrupted: false,
//! };
//! // IPC off's cost grows twice as fast with size as one copy's: two copies per hop.
//! assert_eq!(results.copies_by_slope(PathKind::IpcOff), Some(2.0));
//! ```

use std::io::{self, Write};

use serde_json::json;

use super::pipeline::PipelineKind;
use super::{stats, PathKind};
use crate::i18n::{Lang, Text};
use crate::render::style::visible_width;

/// One path at one size.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub path: PathKind,
    /// The payload: the image's `data`, the bytes copied, the bytes through the socketpair.
    pub bytes: usize,
    /// Per-hop latency, median and 99th percentile, over every round.
    pub p50_ns: u64,
    pub p99_ns: u64,
    /// Messages per second in a burst (the median over the rounds).
    pub msgs_per_s: f64,
    /// Copies of the message per hop, as the engine's trace counted them (for a baseline,
    /// by construction).
    pub copies: f64,
    /// How many hops the percentiles are of.
    pub samples: usize,
}

/// The image pipeline, or its direct loop, at one frame size.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineRow {
    pub kind: PipelineKind,
    pub width: u32,
    pub height: u32,
    /// Frames per second as the view counted them (the median over the rounds).
    pub fps: f64,
    /// Copies of the message per frame, as the engine's trace counted them (for the direct
    /// loop, by construction).
    pub copies_per_frame: f64,
    /// How many rounds the median is of.
    pub runs: usize,
}

/// Everything a run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    /// By path, then size.
    pub rows: Vec<Row>,
    /// The sizes asked for, ascending.
    pub sizes: Vec<usize>,
    /// By pipeline, then frame size.
    pub pipeline: Vec<PipelineRow>,
    /// The image pipeline's frame sizes asked for, smallest first.
    pub pipeline_sizes: Vec<(u32, u32)>,
    /// Bytes of other memory written before each timed hop (`--camera-write`), 0 for none.
    pub camera_write: usize,
    /// Ctrl-C ended the run early: some rows may be missing or have few samples.
    pub interrupted: bool,
}

/// Which way a target goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    AtMost(f64),
    AtLeast(f64),
}

/// The engine's targets (issue 6): goals that the bench reports, never asserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// `ipc-on` at the largest size within 1.2x of the smallest.
    ZeroCopyFlat,
    /// `ipc-on` p50 within 2x of the channel handoff, at every size.
    ZeroCopyVsChannel,
    /// `ipc-off` cost per MB within 2.5x of memcpy's.
    IpcOffVsMemcpy,
    /// `socket` within 1.5x of the socketpair plus two CDR copies (two memcpys), at every size.
    SocketVsSocketpair,
    /// `shm-loan` at the largest size within 1.5x of the smallest: a hop that copies
    /// nothing has no reason to grow with the size.
    ShmLoanFlat,
    /// `shm` (one copy) at the largest size within 1.5x of one memcpy of that size plus the
    /// socketpair's smallest-size hop (the wake-up).
    ShmOneCopy,
    /// `shm-loan` within 2x of iceoryx2 between two processes, at every size (with the cargo
    /// feature `iceoryx2`).
    ShmLoanVsIceoryx2,
    /// The image pipeline with IPC on at 0.8x of the direct loop's frames per second.
    Pipeline,
}

/// One target as this run measured it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    pub kind: TargetKind,
    pub goal: Goal,
    /// The measured ratio (the worst over the sizes where it is checked at each), or
    /// `None` when this run cannot tell.
    pub ratio: Option<f64>,
    /// Where the worst ratio was, for targets checked at each size.
    pub at: Option<At>,
}

/// A message size or a frame size: where a target's worst ratio was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    Bytes(usize),
    Frame(u32, u32),
}

impl At {
    fn label(self) -> String {
        match self {
            At::Bytes(bytes) => size_label(bytes),
            At::Frame(width, height) => frame_label((width, height)),
        }
    }
}

impl Target {
    /// Decided on the ratio as the table prints it (two decimals), so that the mark never
    /// contradicts the figure beside it: a 0.7996× printed as 0.80× meets "≥ 0.8×".
    ///
    /// ```
    /// use ipc_lab::bench::report::{Goal, Target, TargetKind};
    ///
    /// let target = |ratio| Target { kind: TargetKind::Pipeline, goal: Goal::AtLeast(0.8), ratio, at: None };
    /// assert_eq!(target(Some(0.7996)).holds(), Some(true));
    /// assert_eq!(target(Some(0.794)).holds(), Some(false));
    /// assert_eq!(target(None).holds(), None);
    /// ```
    pub fn holds(&self) -> Option<bool> {
        let ratio = (self.ratio? * 100.0).round() / 100.0;
        Some(match self.goal {
            Goal::AtMost(limit) => ratio <= limit,
            Goal::AtLeast(limit) => ratio >= limit,
        })
    }
}

impl Results {
    pub fn row(&self, path: PathKind, bytes: usize) -> Option<&Row> {
        self.rows.iter().find(|r| r.path == path && r.bytes == bytes)
    }

    fn p50(&self, path: PathKind, bytes: usize) -> Option<f64> {
        self.row(path, bytes).map(|r| r.p50_ns as f64)
    }

    /// The cost per byte of a path (ns), fitted over the sizes.
    fn slope(&self, path: PathKind) -> Option<f64> {
        let points: Vec<(f64, f64)> =
            self.rows.iter().filter(|r| r.path == path).map(|r| (r.bytes as f64, r.p50_ns as f64)).collect();
        stats::slope(&points)
    }

    /// Copies per hop as the cost says: how much faster the path's cost grows with size
    /// than one memcpy's. Where it differs from the counted copies, something else touches
    /// every byte (zeroing new memory, faulting pages in) or the copies overlap.
    pub fn copies_by_slope(&self, path: PathKind) -> Option<f64> {
        let memcpy = self.slope(PathKind::MemcpyBaseline).filter(|s| *s > 0.0)?;
        Some(self.slope(path)? / memcpy)
    }

    /// The worst `path` / `limit` ratio over the sizes, and where.
    fn worst(&self, path: PathKind, limit: impl Fn(usize) -> Option<f64>) -> (Option<f64>, Option<At>) {
        let ratios = self.sizes.iter().filter_map(|&b| Some((self.p50(path, b)? / limit(b)?, b)));
        match ratios.max_by(|a, b| a.0.total_cmp(&b.0)) {
            Some((ratio, at)) => (Some(ratio), Some(At::Bytes(at))),
            None => (None, None),
        }
    }

    pub fn pipeline_row(&self, kind: PipelineKind, (width, height): (u32, u32)) -> Option<&PipelineRow> {
        self.pipeline.iter().find(|r| r.kind == kind && (r.width, r.height) == (width, height))
    }

    /// Frames per second of `kind` over the direct loop's, at one frame size.
    pub fn to_direct(&self, kind: PipelineKind, size: (u32, u32)) -> Option<f64> {
        let direct = self.pipeline_row(PipelineKind::Direct, size)?.fps;
        (direct > 0.0).then_some(self.pipeline_row(kind, size)?.fps / direct)
    }

    /// The lowest ratio of the pipeline with IPC on to its direct loop over the frame
    /// sizes, and where.
    fn pipeline_worst(&self) -> (Option<f64>, Option<At>) {
        let ratios = self.pipeline_sizes.iter().filter_map(|&s| Some((self.to_direct(PipelineKind::IpcOn, s)?, s)));
        match ratios.min_by(|a, b| a.0.total_cmp(&b.0)) {
            Some((ratio, (width, height))) => (Some(ratio), Some(At::Frame(width, height))),
            None => (None, None),
        }
    }

    /// The largest size's p50 over the smallest's.
    fn flatness(&self, path: PathKind) -> Option<f64> {
        let (&small, &large) = (self.sizes.first()?, self.sizes.last()?);
        (large > small).then_some(())?;
        Some(self.p50(path, large)? / self.p50(path, small)?)
    }

    /// `shm` at the largest size over a memcpy of that size plus a wake-up: the
    /// socketpair's hop at the smallest size.
    fn one_copy(&self) -> Option<f64> {
        let (&small, &large) = (self.sizes.first()?, self.sizes.last()?);
        let floor = self.p50(PathKind::MemcpyBaseline, large)? + self.p50(PathKind::SocketpairBaseline, small)?;
        Some(self.p50(PathKind::Shm, large)? / floor)
    }

    pub fn targets(&self) -> Vec<Target> {
        let target = |kind, goal, (ratio, at)| Target { kind, goal, ratio, at };
        let memcpy = |b| self.p50(PathKind::MemcpyBaseline, b);
        let mut targets = vec![
            target(TargetKind::ZeroCopyFlat, Goal::AtMost(1.2), (self.flatness(PathKind::IpcOn), None)),
            target(
                TargetKind::ZeroCopyVsChannel,
                Goal::AtMost(2.0),
                self.worst(PathKind::IpcOn, |b| self.p50(PathKind::ChannelBaseline, b)),
            ),
            target(TargetKind::IpcOffVsMemcpy, Goal::AtMost(2.5), (self.copies_by_slope(PathKind::IpcOff), None)),
            target(
                TargetKind::SocketVsSocketpair,
                Goal::AtMost(1.5),
                self.worst(PathKind::Socket, |b| Some(self.p50(PathKind::SocketpairBaseline, b)? + 2.0 * memcpy(b)?)),
            ),
            target(TargetKind::ShmLoanFlat, Goal::AtMost(1.5), (self.flatness(PathKind::ShmLoan), None)),
            target(TargetKind::ShmOneCopy, Goal::AtMost(1.5), (self.one_copy(), None)),
        ];
        // Only a build that can measure iceoryx2 holds shm-loan against it.
        if cfg!(feature = "iceoryx2") {
            let worst = self.worst(PathKind::ShmLoan, |b| self.p50(PathKind::Iceoryx2Baseline, b));
            targets.push(target(TargetKind::ShmLoanVsIceoryx2, Goal::AtMost(2.0), worst));
        }
        targets.push(target(TargetKind::Pipeline, Goal::AtLeast(0.8), self.pipeline_worst()));
        targets
    }
}

/// `64 B`, `64 KiB`, `921,600 B (640x480 RGB)`.
pub fn size_label(bytes: usize) -> String {
    match bytes {
        921_600 => "921,600 B (640x480 RGB)".into(),
        6_220_800 => "6,220,800 B (1920x1080 RGB)".into(),
        b if b >= 1024 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1024 && b % 1024 == 0 => format!("{} KiB", b >> 10),
        b => format!("{} B", thousands(b as u64)),
    }
}

/// `640x480 bgr8`: a frame of the image pipeline.
pub fn frame_label((width, height): (u32, u32)) -> String {
    format!("{width}x{height} bgr8")
}

/// `6220800` as `6,220,800`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Three significant digits and a unit: `850 ns`, `12.3 µs`, `4.56 ms`.
pub fn duration_label(ns: f64) -> String {
    let (value, unit) = match ns {
        n if n < 1e3 => (n, "ns"),
        n if n < 1e6 => (n / 1e3, "µs"),
        n if n < 1e9 => (n / 1e6, "ms"),
        n => (n / 1e9, "s"),
    };
    format!("{} {unit}", significant(value))
}

fn rate_label(per_s: f64) -> String {
    match per_s {
        r if r >= 1e6 => format!("{} M", significant(r / 1e6)),
        r if r >= 1e3 => format!("{} k", significant(r / 1e3)),
        r => significant(r),
    }
}

fn significant(v: f64) -> String {
    match v {
        v if v >= 100.0 => format!("{v:.0}"),
        v if v >= 10.0 => format!("{v:.1}"),
        v => format!("{v:.2}"),
    }
}

fn ratio_label(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "-".into(), |r| format!("{}×", significant(r)))
}

/// One JSON object per path and size, then per pipeline and frame size, one per line.
pub fn write_json(out: &mut dyn Write, results: &Results) -> io::Result<()> {
    let paths = results.rows.iter().map(|row| {
        json!({
            "path": row.path.name(),
            "bytes": row.bytes,
            "p50_ns": row.p50_ns,
            "p99_ns": row.p99_ns,
            "msgs_per_s": row.msgs_per_s,
            "copies": row.copies,
            "copies_by_slope": results.copies_by_slope(row.path),
            "samples": row.samples,
            "camera_write": results.camera_write,
        })
    });
    let pipelines = results.pipeline.iter().map(|row| {
        json!({
            "path": row.kind.name(),
            "width": row.width,
            "height": row.height,
            "fps": row.fps,
            "to_direct": results.to_direct(row.kind, (row.width, row.height)),
            "copies_per_frame": row.copies_per_frame,
            "runs": row.runs,
        })
    });
    for line in paths.chain(pipelines) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// What a target says, in words.
fn target_text(target: &Target, results: &Results, lang: Lang) -> String {
    let (small, large) = match (results.sizes.first(), results.sizes.last()) {
        (Some(&s), Some(&l)) => (size_label(s), size_label(l)),
        _ => (String::new(), String::new()),
    };
    let at = target.at.map(At::label).unwrap_or_default();
    match (target.kind, lang) {
        (TargetKind::ZeroCopyFlat, Lang::En) => format!("zero copy: ipc-on at {large} against ipc-on at {small}"),
        (TargetKind::ZeroCopyFlat, Lang::Ko) => format!("zero-copy: {large}의 ipc-on을 {small}의 ipc-on과 비교"),
        (TargetKind::ZeroCopyVsChannel, Lang::En) => {
            format!("zero copy: ipc-on against the channel handoff (worst at {at})")
        }
        (TargetKind::ZeroCopyVsChannel, Lang::Ko) => {
            format!("zero-copy: ipc-on을 채널 전달과 비교 (가장 나쁜 곳 {at})")
        }
        (TargetKind::IpcOffVsMemcpy, Lang::En) => "IPC off: cost per MB against memcpy's (slopes)".into(),
        (TargetKind::IpcOffVsMemcpy, Lang::Ko) => "IPC 끔: MB당 비용을 memcpy와 비교 (기울기)".into(),
        (TargetKind::SocketVsSocketpair, Lang::En) => {
            format!("socket: against the raw socketpair plus two CDR copies (worst at {at})")
        }
        (TargetKind::SocketVsSocketpair, Lang::Ko) => {
            format!("socket: 날 socketpair 전송 + CDR 복사 두 번과 비교 (가장 나쁜 곳 {at})")
        }
        (TargetKind::ShmLoanFlat, Lang::En) => {
            format!("zero copy between processes: shm-loan at {large} against shm-loan at {small}")
        }
        (TargetKind::ShmLoanFlat, Lang::Ko) => {
            format!("프로세스 사이 zero-copy: {large}의 shm-loan을 {small}의 shm-loan과 비교")
        }
        (TargetKind::ShmOneCopy, Lang::En) => {
            format!("one copy: shm at {large} against a memcpy of {large} plus the socketpair at {small}")
        }
        (TargetKind::ShmOneCopy, Lang::Ko) => {
            format!("복사 한 번: {large}의 shm을 {large} memcpy + {small}의 socketpair와 비교")
        }
        (TargetKind::ShmLoanVsIceoryx2, Lang::En) => {
            format!("zero copy between processes: shm-loan against iceoryx2 (worst at {at})")
        }
        (TargetKind::ShmLoanVsIceoryx2, Lang::Ko) => {
            format!("프로세스 사이 zero-copy: shm-loan을 iceoryx2와 비교 (가장 나쁜 곳 {at})")
        }
        (TargetKind::Pipeline, Lang::En) => {
            format!("pipeline: IPC on against the direct loop's frames per second (worst at {at})")
        }
        (TargetKind::Pipeline, Lang::Ko) => {
            format!("파이프라인: IPC 켬의 초당 프레임을 직접 부른 반복문과 비교 (가장 나쁜 곳 {at})")
        }
    }
}

const TABLE_TITLE: Text = Text {
    ko: "ipc-lab bench · 한 번 건너가는(hop) 지연 p50/p99, 버스트의 초당 메시지, hop마다 복사 수, 같은 크기 기준선과의 p50 비율",
    en: "ipc-lab bench · per-hop latency p50/p99, messages per second in a burst, copies per hop, p50 against the baselines at the same size",
};
const PATH: Text = Text { ko: "경로", en: "path" };
const MSGS_PER_S: Text = Text { ko: "메시지/초", en: "msgs/s" };
const COPIES: Text = Text { ko: "복사", en: "copies" };
const TIMES_CHANNEL: Text = Text { ko: "×채널", en: "×channel" };
const COPIES_TITLE: Text = Text {
    ko: "hop마다 복사: 엔진의 길은 trace가 센 수, 기준선은 만든 그대로의 수, 그리고 크기에 따른 비용의 기울기를 memcpy의 기울기로 나눈 값",
    en: "copies per hop: counted by the engine's trace on its paths, fixed by construction for the baselines; and the slope of cost against size over memcpy's slope",
};
const COUNTED: Text = Text { ko: "셈", en: "counted" };
const BY_SLOPE: Text = Text { ko: "기울기", en: "by slope" };
const TARGETS_TITLE: Text = Text {
    ko: "목표 (이번 실행의 비율; 엔진의 목표일 뿐 테스트가 아닙니다)",
    en: "targets (ratios from this run; goals for the engine, never tests)",
};
const NOT_MEASURED: Text = Text { ko: "측정 안 함", en: "not measured" };
const GOAL: Text = Text { ko: "목표", en: "goal" };
const HOW_MEASURED: Text = Text {
    ko: "한 프로세스 안(ipc-on, ipc-off, 채널, memcpy): 발행과 콜백이 한 스레드에서 (단일 스레드 실행기처럼). 프로세스 사이(socket, shm, shm-loan, 그리고 dds 기능이 있으면 이 컴퓨터 안에만 머무는 Cyclone DDS의 dds): 자식 프로세스의 콜백까지 한 방향, CLOCK_MONOTONIC으로. socketpair: 다른 스레드가 읽음. iceoryx2 기능이 있으면 iceoryx2: 같은 바이트를 iceoryx2의 공유 메모리에 빌려 채우고 보낸 뒤 이벤트로 자식 프로세스를 깨움(복사 없음). 콜백은 ConstSharedPtr를 받고, shm과 shm-loan의 콜백만 공유 메모리에 있는 그대로 읽는 Loaned<Image>를 받습니다.",
    en: "In one process (ipc-on, ipc-off, channel, memcpy): publish and callback on one thread, as a single-threaded executor runs them. Between processes (socket, shm, shm-loan, and with the dds feature dds, Cyclone DDS kept on this machine): one way to a child process's callback, on CLOCK_MONOTONIC. socketpair: read by another thread. With the iceoryx2 feature, iceoryx2: the same bytes loaned in iceoryx2's shared memory, filled and sent, with an event that wakes a child process (no copy). Callbacks take ConstSharedPtr, but for shm and shm-loan a Loaned<Image> that reads the image where it is in shared memory.",
};
const INTERRUPTED: Text = Text {
    ko: "Ctrl-C로 중간에 멈췄습니다: 일부만 측정했습니다.",
    en: "stopped early by Ctrl-C: partly measured.",
};
const PIPELINE_TITLE: Text = Text {
    ko: "이미지 파이프라인 · camera_node ─▶ watermark_node ─▶ image_view_node, 합성 카메라 --fps 0, 아무것도 보여 주지 않는 뷰어: 뷰어가 센 초당 프레임, 같은 세 단계를 한 반복문에서 직접 부른 것(pipeline-direct)과의 비율, 프레임마다 복사 수",
    en: "image pipeline · camera_node ─▶ watermark_node ─▶ image_view_node, synthetic camera at --fps 0, a view that shows nothing: frames per second as the view counts them, against the same three steps called directly in one loop (pipeline-direct), copies per frame",
};
const FRAMES_PER_S: Text = Text { ko: "프레임/초", en: "frames/s" };
const TIMES_DIRECT: Text = Text { ko: "×직접", en: "×direct" };

/// The table, the copies cross-check and the targets, for people.
pub fn write_table(out: &mut dyn Write, results: &Results, lang: Lang) -> io::Result<()> {
    writeln!(out, "{}", TABLE_TITLE.get(lang))?;
    write_sizes(out, results, lang)?;
    write_copies(out, results, lang)?;
    write_pipeline(out, results, lang)?;
    write_targets(out, results, lang)?;
    writeln!(out, "\n{}", HOW_MEASURED.get(lang))?;
    if results.camera_write > 0 {
        let bytes = size_label(results.camera_write);
        let note = match lang {
            Lang::Ko => format!("잰 hop마다 그 직전에 카메라가 다른 메모리에 {bytes}를 썼습니다 (--camera-write, 재는 시간에는 넣지 않음). 그래서 크기가 다른 hop도 캐시(cache)가 비슷하게 비워진 상태에서 시작합니다 (빌린 메시지의 프레임을 채우는 일은 그 크기만큼 여전히 더해집니다). 초당 메시지와 파이프라인은 이 쓰기 없이 쟀습니다."),
            Lang::En => format!("Before each timed hop the camera wrote {bytes} of other memory (--camera-write, not timed): hops of every size start from caches emptied alike (a loaned frame's own fill still comes on top, at its size). Messages per second and the pipeline were measured without it."),
        };
        writeln!(out, "{note}")?;
    }
    if results.interrupted {
        writeln!(out, "{}", INTERRUPTED.get(lang))?;
    }
    Ok(())
}

/// One table per payload size: latency, rate, copies and the ratios to the baselines.
fn write_sizes(out: &mut dyn Write, results: &Results, lang: Lang) -> io::Result<()> {
    let heading = [
        PATH.get(lang),
        "p50",
        "p99",
        MSGS_PER_S.get(lang),
        COPIES.get(lang),
        TIMES_CHANNEL.get(lang),
        "×memcpy",
        "×socketpair",
    ];
    for &bytes in &results.sizes {
        let rows: Vec<&Row> = PathKind::ALL.iter().filter_map(|&p| results.row(p, bytes)).collect();
        if rows.is_empty() {
            continue;
        }
        writeln!(out, "\n{}", size_label(bytes))?;
        let widths = [-20, 9, 9, 9, 6, 9, 9, 11];
        let cells: Vec<String> = heading.iter().zip(widths).map(|(h, w)| pad(h, w)).collect();
        writeln!(out, "  {}", cells.join(" "))?;
        for row in rows {
            let ratio = |base| results.p50(base, bytes).map(|b| row.p50_ns as f64 / b);
            writeln!(
                out,
                "  {:<20} {:>9} {:>9} {:>9} {:>6} {:>9} {:>9} {:>11}",
                row.path.name(),
                duration_label(row.p50_ns as f64),
                duration_label(row.p99_ns as f64),
                rate_label(row.msgs_per_s),
                significant_copies(row.copies),
                ratio_label(ratio(PathKind::ChannelBaseline)),
                ratio_label(ratio(PathKind::MemcpyBaseline)),
                ratio_label(ratio(PathKind::SocketpairBaseline)),
            )?;
        }
    }
    Ok(())
}

/// The copies each path counted at its largest size, beside the copies its slope implies.
fn write_copies(out: &mut dyn Write, results: &Results, lang: Lang) -> io::Result<()> {
    writeln!(out, "\n{}", COPIES_TITLE.get(lang))?;
    let (path, counted, by_slope) = (pad(PATH.get(lang), -20), pad(COUNTED.get(lang), 8), pad(BY_SLOPE.get(lang), 9));
    writeln!(out, "  {path} {counted} {by_slope}")?;
    for path in PathKind::ALL {
        let Some(largest) = results.rows.iter().filter(|r| r.path == path).max_by_key(|r| r.bytes) else {
            continue;
        };
        let by_slope = results.copies_by_slope(path).map_or_else(|| "-".into(), |c| format!("{c:.1}"));
        writeln!(out, "  {:<20} {:>8} {:>9}", path.name(), significant_copies(largest.copies), by_slope)?;
    }
    Ok(())
}

/// Each target, whether this run met it, and by what ratio.
fn write_targets(out: &mut dyn Write, results: &Results, lang: Lang) -> io::Result<()> {
    writeln!(out, "\n{}", TARGETS_TITLE.get(lang))?;
    for target in results.targets() {
        let mark = match target.holds() {
            Some(true) => "✓",
            Some(false) => "✗",
            None => "-",
        };
        let goal = match target.goal {
            Goal::AtMost(g) => format!("≤ {g}×"),
            Goal::AtLeast(g) => format!("≥ {g}×"),
        };
        // Two decimals, as `Target::holds` decides.
        let measured = target.ratio.map_or_else(|| NOT_MEASURED.get(lang).to_string(), |r| format!("{r:.2}×"));
        let what = target_text(&target, results, lang);
        writeln!(out, "  {mark} {what}: {measured} ({} {goal})", GOAL.get(lang))?;
        if target.kind == TargetKind::ShmLoanFlat && target.holds() == Some(false) && results.camera_write == 0 {
            writeln!(out, "    {}", evicted_hint(results, lang))?;
        }
    }
    Ok(())
}

/// Why a loaned hop can miss flatness with nothing in it growing: the camera's write of the
/// large frame, just before that hop, evicts what the hop had in the caches and the TLB
/// (measured: lesson 08). `--camera-write` puts every size after the same write.
fn evicted_hint(results: &Results, lang: Lang) -> String {
    let largest = results.sizes.last().copied().unwrap_or(0);
    match lang {
        Lang::Ko => format!(
            "hop 직전에 카메라가 큰 프레임을 쓰면서 캐시(cache)와 TLB에 있던 것을 밀어냅니다. 모든 크기를 같은 쓰기 뒤에 재려면: --camera-write {largest}"
        ),
        Lang::En => format!(
            "the camera's write of the large frame, just before its hop, evicts the caches and the TLB: --camera-write {largest} measures every size after the same write"
        ),
    }
}

/// The image pipeline's section: frames per second at each frame size, against the direct
/// loop, with the copies per frame.
fn write_pipeline(out: &mut dyn Write, results: &Results, lang: Lang) -> io::Result<()> {
    if results.pipeline.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n{}", PIPELINE_TITLE.get(lang))?;
    let heading = [PATH.get(lang), FRAMES_PER_S.get(lang), TIMES_DIRECT.get(lang), COPIES.get(lang)];
    let widths = [-20, 10, 9, 6];
    for &size in &results.pipeline_sizes {
        let rows: Vec<&PipelineRow> = PipelineKind::ALL.iter().filter_map(|&k| results.pipeline_row(k, size)).collect();
        if rows.is_empty() {
            continue;
        }
        writeln!(out, "\n{}", frame_label(size))?;
        let cells: Vec<String> = heading.iter().zip(widths).map(|(h, w)| pad(h, w)).collect();
        writeln!(out, "  {}", cells.join(" "))?;
        for row in rows {
            writeln!(
                out,
                "  {:<20} {:>10} {:>9} {:>6}",
                row.kind.name(),
                rate_label(row.fps),
                ratio_label(results.to_direct(row.kind, size)),
                significant_copies(row.copies_per_frame),
            )?;
        }
    }
    Ok(())
}

/// `text` padded to `width` terminal columns: right-aligned, or left-aligned for a
/// negative width. Hangul takes two columns, so `format!`'s padding would misalign it.
fn pad(text: &str, width: i32) -> String {
    let fill = " ".repeat((width.unsigned_abs() as usize).saturating_sub(visible_width(text)));
    if width < 0 {
        format!("{text}{fill}")
    } else {
        format!("{fill}{text}")
    }
}

/// `0`, `2`, `2.5`.
fn significant_copies(copies: f64) -> String {
    if copies.fract() == 0.0 {
        format!("{copies:.0}")
    } else {
        format!("{copies:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaned(small_ns: u64, large_ns: u64, camera_write: usize) -> Results {
        let row = |bytes, p50_ns| Row {
            path: PathKind::ShmLoan,
            bytes,
            p50_ns,
            p99_ns: p50_ns,
            msgs_per_s: 1.0,
            copies: 0.0,
            samples: 1,
        };
        Results {
            rows: vec![row(64, small_ns), row(6_220_800, large_ns)],
            sizes: vec![64, 6_220_800],
            pipeline: vec![],
            pipeline_sizes: vec![],
            camera_write,
            interrupted: false,
        }
    }

    fn table(results: &Results) -> String {
        table_in(results, Lang::En)
    }

    fn table_in(results: &Results, lang: Lang) -> String {
        let mut out = Vec::new();
        write_table(&mut out, results, lang).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_missed_flatness_names_the_cameras_write_and_the_option_that_takes_it_out() {
        let hint = "--camera-write 6220800 measures every size after the same write";
        assert!(table(&loaned(30_000, 50_000, 0)).contains(hint));
        // Held: nothing to explain.
        assert!(!table(&loaned(30_000, 40_000, 0)).contains(hint));
        // Already measured after the same write: the note says so instead.
        let after = table(&loaned(30_000, 50_000, 6_220_800));
        assert!(!after.contains(hint), "{after}");
        assert!(after.contains("Before each timed hop the camera wrote 6,220,800 B (1920x1080 RGB) of other memory"));
        // The same in Korean.
        let ko = table_in(&loaned(30_000, 50_000, 0), Lang::Ko);
        assert!(
            ko.contains(
                "캐시(cache)와 TLB에 있던 것을 밀어냅니다. 모든 크기를 같은 쓰기 뒤에 재려면: --camera-write 6220800"
            ),
            "{ko}"
        );
        let ko = table_in(&loaned(30_000, 50_000, 6_220_800), Lang::Ko);
        assert!(ko.contains("다른 메모리에 6,220,800 B (1920x1080 RGB)를 썼습니다"), "{ko}");
    }
}
