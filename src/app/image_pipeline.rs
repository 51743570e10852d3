//! `ipc-lab image-pipeline`: resolves `--source auto` and `--show auto` against this machine
//! (with a one-line notice for every fallback), builds a pipeline per `--ipc` run, and
//! measures time and resident memory while they go.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{event_channel, execute, notice, renderer, runs_of, AppError, ChannelSink, Run, Together, View};
use crate::cli::plan::{ImagePlan, IpcMode, NodeName, NodePlan, Plan};
use crate::demos::image_pipeline::{self, ImageOptions};
use crate::demos::DemoError;
use crate::engine::transport::{domain_after, TransportOptions};
use crate::engine::{Context, InitOptions};
use crate::i18n::Lang;
use crate::image::capture::{self, Paced, Source};
use crate::image::view::{Board, Nowhere, PngFiles, Reporting, Show, ShowFailure, Terminal, Window};
use crate::labels::Labels;
use crate::render::preview::{Screen, WithPreview};
use crate::render::{Columns, Renderer, Resident};

/// `image_view_node2` and `1920x1080 bgr8`.
const IMAGE_COLUMNS: Columns = Columns { node: 17, value: 14 };

pub(super) fn run(plan: &Plan, image: &ImagePlan, out: &mut dyn Write) -> Result<(), AppError> {
    let lang = plan.lang;
    // Not with `--stable`, which leaves the figures out: reading the system's numbers
    // allocates at moments that depend on timing, which would move the frames' addresses.
    let mut sampler = ResidentSampler::start(!image.output.stable);
    let source = resolve_source(&image.source, image.size, lang);
    let show = resolve_show(&image.show, lang);
    let ipc_runs = runs_of(image.ipc);
    let labels = Labels::new(image.output.stable);
    let view = View {
        output: image.output,
        title: image.upstream_name(),
        runs: ipc_runs.clone(),
        split: false,
        columns: IMAGE_COLUMNS,
    };
    let renderer = renderer(plan, view, labels.clone());
    let (mut renderer, board) = with_preview(plan, &show, renderer, &labels, &ipc_runs, image.viewers);
    let show_failure = ShowFailure::default();
    let mut runs = Vec::new();
    let mut channels = Vec::new();
    for (run, &on) in ipc_runs.iter().enumerate() {
        let (tx, rx) = event_channel();
        channels.push(rx);
        let sink = ChannelSink { tx, labels: image.output.stable.then(|| labels.clone()) };
        // Separate domains: in `--ipc both` the two runs must not hear each other.
        let domain = domain_after(plan.domain, run as u32);
        let ctx = Context::init_with(InitOptions::default().sink(Arc::new(sink)).domain_id(domain));
        // One pipeline talks to other processes (a viewer in another terminal); the two of
        // `--ipc both` are a comparison inside this process.
        if ipc_runs.len() == 1 {
            let options = TransportOptions { kind: image.transport, command: plan.command_line.clone() };
            if let Err(e) = ctx.enable_transport(options) {
                notice(&super::transport_warning(lang, &e));
            }
        }
        // Each frame is received by the watermark node and by every view.
        let per_frame = 1 + image.viewers as u64;
        let cap = paced(&source, image.size, image.fps, &ctx)?;
        let cap = cap.frames(image.frames).lockstep(image.output.stable.then_some(per_frame));
        let folder = (image.ipc == IpcMode::Both).then_some(if on { "ipc-on" } else { "ipc-off" });
        let mut window = windows(&show, folder, &show_failure, &board, run)?;
        let options = ImageOptions {
            use_intra_process_comms: on,
            labels: labels.clone(),
            text_scale: image.text_scale,
            viewer_callback: image.viewer_callback,
            loan: image.loan,
        };
        let (worker_ctx, views) = (ctx.clone(), image.viewers);
        let main = Box::new(move || image_pipeline::main(&worker_ctx, &options, Box::new(cap), views, &mut *window));
        runs.push(Run { ctx, main });
    }
    // `--stable` runs go one after the other so that they do the same things in the same
    // order every time; windows too, since a GUI wants one thread.
    let together = if image.output.stable || show == Show::Window { Together::InTurn } else { Together::AtOnce };
    execute(runs, together, channels, renderer.as_mut(), Some(&mut sampler), lang, out)?;
    shown(&show_failure)
}

/// `ipc-lab node camera_node|watermark_node|image_view_node`: one node of the pipeline in
/// this process, talking to the others through the transport: the chapter's second
/// terminal, where `image_view_node` runs apart from `image_pipeline_all_in_one`.
pub(super) fn run_node(plan: &Plan, node: &NodePlan, out: &mut dyn Write) -> Result<(), AppError> {
    let lang = plan.lang;
    let mut sampler = ResidentSampler::start(!node.output.stable);
    let labels = Labels::new(node.output.stable);
    let title = node.name.name();
    let runs = vec![node.ipc];
    let view = View { output: node.output, title, runs: runs.clone(), split: false, columns: IMAGE_COLUMNS };
    let renderer = renderer(plan, view, labels.clone());
    let show = match node.name {
        NodeName::ImageViewNode => resolve_show(&node.image.show, lang),
        _ => Show::None,
    };
    let (mut renderer, board) = with_preview(plan, &show, renderer, &labels, &runs, 1);
    let (tx, rx) = event_channel();
    let sink = ChannelSink { tx, labels: node.output.stable.then(|| labels.clone()) };
    let mut init = InitOptions::default().sink(Arc::new(sink)).domain_id(plan.domain);
    // The camera counts frames (below); the others count what they receive.
    if let (Some(n), false) = (node.count, node.name == NodeName::CameraNode) {
        init = init.shutdown_after_receipts(n);
    }
    let ctx = Context::init_with(init);
    let transport = TransportOptions { kind: node.transport, command: plan.command_line.clone() };
    ctx.enable_transport(transport).map_err(AppError::Transport)?;
    let options = ImageOptions {
        use_intra_process_comms: node.ipc,
        labels,
        text_scale: node.image.text_scale,
        viewer_callback: node.image.viewer_callback,
        loan: node.image.loan,
    };
    let worker_ctx = ctx.clone();
    let show_failure = ShowFailure::default();
    let main: Box<dyn FnOnce() -> Result<(), DemoError> + Send> = match node.name {
        NodeName::CameraNode => {
            let source = resolve_source(&node.image.source, node.image.size, lang);
            let cap = paced(&source, node.image.size, node.image.fps, &ctx)?.frames(node.count);
            Box::new(move || image_pipeline::camera_main(&worker_ctx, &options, Box::new(cap)))
        }
        NodeName::WatermarkNode => Box::new(move || image_pipeline::watermark_main(&worker_ctx, &options)),
        _ => {
            let mut window = windows(&show, None, &show_failure, &board, 0)?;
            let window = window(NodeName::ImageViewNode.name());
            Box::new(move || image_pipeline::image_view_main(&worker_ctx, &options, window))
        }
    };
    execute(
        vec![Run { ctx, main }],
        Together::AtOnce,
        vec![rx],
        renderer.as_mut(),
        Some(&mut sampler),
        plan.lang,
        out,
    )?;
    shown(&show_failure)
}

/// The camera's source opened: a camera keeps its own pace, a synthetic camera or a file
/// goes at `fps`.
fn paced(source: &Source, (cols, rows): (u32, u32), fps: u32, ctx: &Context) -> Result<Paced, AppError> {
    let cap = capture::open(source, cols, rows).map_err(AppError::VideoFile)?;
    let fps = if matches!(source, Source::Camera(_)) { 0 } else { fps };
    Ok(Paced::new(cap, ctx, fps))
}

/// Every frame shown, or the first that could not be.
fn shown(failure: &ShowFailure) -> Result<(), AppError> {
    match failure.lock().unwrap_or_else(|e| e.into_inner()).take() {
        Some(e) => Err(AppError::Show(e)),
        None => Ok(()),
    }
}

/// What to do without a camera, after upstream's message.
pub(super) fn no_camera_hint(lang: Lang) -> &'static str {
    if cfg!(feature = "opencv") {
        lang.pick(
            "(카메라를 열 수 없습니다: 다른 번호는 --source camera:N, 카메라 없이는 --source synthetic)",
            "(no camera could be opened: try --source camera:N for another one, or --source synthetic)",
        )
    } else {
        lang.pick(
            "(이 빌드에는 카메라가 없습니다: --features opencv로 빌드하거나 --source synthetic을 쓰세요)",
            "(this build has no camera: build with --features opencv, or use --source synthetic)",
        )
    }
}

/// `--source auto`: camera 0 if it opens, else the synthetic camera, said in one line.
fn resolve_source(source: &Source, (cols, rows): (u32, u32), lang: Lang) -> Source {
    if *source != Source::Auto {
        return source.clone();
    }
    let camera = Source::Camera(0);
    if capture::open(&camera, cols, rows).is_ok_and(|cap| cap.is_opened()) {
        return camera;
    }
    notice(if cfg!(feature = "opencv") {
        lang.pick(
            "알림: 카메라 0을 열 수 없어서 합성 카메라를 씁니다 (--source synthetic)",
            "note: camera 0 could not be opened, so the synthetic camera is used (--source synthetic)",
        )
    } else {
        lang.pick(
            "알림: 이 빌드에는 카메라가 없어서 합성 카메라를 씁니다 (--source synthetic)",
            "note: this build has no camera, so the synthetic camera is used (--source synthetic)",
        )
    });
    Source::Synthetic
}

/// `--show auto`, and a window where there can be none: what is left, said in one line.
fn resolve_show(show: &Show, lang: Lang) -> Show {
    let window = window_possible();
    match (show, window) {
        (Show::Auto, Ok(())) => Show::Window,
        (Show::Auto, Err(_)) if std::io::stdout().is_terminal() => Show::Terminal,
        (Show::Auto, Err(_)) => Show::None,
        (Show::Window, Err(why)) => {
            notice(&match lang {
                Lang::Ko => format!("알림: {}: 창 대신 터미널에 보여 줍니다 (--show terminal)", why.text(lang)),
                Lang::En => {
                    format!("note: {}: showing frames in the terminal instead (--show terminal)", why.text(lang))
                }
            });
            Show::Terminal
        }
        (other, _) => other.clone(),
    }
}

/// Whether a window can be opened, or why not.
fn window_possible() -> Result<(), NoWindow> {
    #[cfg(feature = "opencv")]
    return if crate::image::cv::has_display() { Ok(()) } else { Err(NoWindow::NoDisplay) };
    #[cfg(not(feature = "opencv"))]
    Err(NoWindow::NoOpencv)
}

/// Why there is no window.
#[derive(Debug, Clone, Copy)]
enum NoWindow {
    /// Built without the `opencv` feature: nothing to open a window with.
    #[cfg(not(feature = "opencv"))]
    NoOpencv,
    /// Nothing to open it on (no `DISPLAY` or `WAYLAND_DISPLAY`).
    #[cfg(feature = "opencv")]
    NoDisplay,
}

impl NoWindow {
    fn text(self, lang: Lang) -> &'static str {
        match self {
            #[cfg(not(feature = "opencv"))]
            NoWindow::NoOpencv => lang
                .pick("이 빌드에는 창이 없습니다 (--features opencv)", "this build has no windows (--features opencv)"),
            #[cfg(feature = "opencv")]
            NoWindow::NoDisplay => {
                lang.pick("디스플레이가 없습니다 (DISPLAY가 비어 있음)", "there is no display (DISPLAY is not set)")
            }
        }
    }
}

/// With `--show terminal`, the renderer draws the views' pictures apart from its output:
/// the board they leave them on, sized for `views` views in each run.
fn with_preview(
    plan: &Plan,
    show: &Show,
    renderer: Box<dyn Renderer>,
    labels: &Labels,
    runs: &[bool],
    views: usize,
) -> (Box<dyn Renderer>, Board) {
    if *show != Show::Terminal {
        return (renderer, Board::default());
    }
    let screen = Screen::of_stderr(plan.color);
    let (cols, lines) = screen.picture_size(runs.len() * views);
    let board = Board::new(cols, lines);
    let preview = WithPreview::new(renderer, board.clone(), labels.clone(), plan.lang, runs.to_vec(), screen);
    (Box::new(preview), board)
}

/// Makes a view's window from its node name.
type WindowMaker = Box<dyn FnMut(&str) -> Box<dyn Window> + Send>;

/// Makes each view's window from its node name, for one run (`folder` names the run's PNG
/// folder in `--ipc both`; `run` is the run's place on the terminal's `board`). Every
/// window keeps its first failure in `failed`.
fn windows(
    show: &Show,
    folder: Option<&str>,
    failed: &ShowFailure,
    board: &Board,
    run: usize,
) -> Result<WindowMaker, AppError> {
    let mut make: Box<dyn FnMut() -> Box<dyn Window> + Send> = match show {
        Show::Png(dir) => {
            let dir = folder.map_or_else(|| dir.clone(), |f| dir.join(f));
            // A file in the way would fail with a bare "File exists": say what it is.
            if dir.exists() && !dir.is_dir() {
                return Err(AppError::PngNotAFolder(dir));
            }
            std::fs::create_dir_all(&dir).map_err(|e| AppError::PngFolder(dir.clone(), e))?;
            Box::new(move || Box::new(PngFiles::new(&dir)))
        }
        Show::Terminal => {
            let board = board.clone();
            Box::new(move || Box::new(Terminal::new(board.clone(), run)))
        }
        #[cfg(feature = "opencv")]
        Show::Window => {
            let title = folder.map(|f| format!(" ({f})")).unwrap_or_default();
            Box::new(move || Box::new(crate::image::cv::HighGui::new(&title)))
        }
        _ => Box::new(|| Box::new(Nowhere)),
    };
    let failed = failed.clone();
    Ok(Box::new(move |_: &str| Box::new(Reporting::new(make(), failed.clone())) as Box<dyn Window>))
}

/// Samples the process's resident memory (RSS) while the pipeline runs.
pub(super) struct ResidentSampler {
    system: sysinfo::System,
    pid: Option<sysinfo::Pid>,
    start: Option<u64>,
    peak: u64,
    last: Option<Instant>,
}

impl ResidentSampler {
    /// How often to look: often enough to catch frames in flight, rarely enough to cost nothing.
    const EVERY: Duration = Duration::from_millis(10);

    /// Takes the first sample, before the pipeline exists; a sampler not `enabled` never looks.
    pub(super) fn start(enabled: bool) -> Self {
        let mut sampler = Self {
            system: sysinfo::System::new(),
            pid: sysinfo::get_current_pid().ok().filter(|_| enabled),
            start: None,
            peak: 0,
            last: None,
        };
        sampler.sample();
        sampler.start = (sampler.peak > 0).then_some(sampler.peak);
        sampler
    }

    pub(super) fn sample(&mut self) {
        let now = Instant::now();
        if self.last.is_some_and(|last| now - last < Self::EVERY) {
            return;
        }
        self.last = Some(now);
        let Some(pid) = self.pid else { return };
        let update = sysinfo::ProcessesToUpdate::Some(&[pid]);
        self.system.refresh_processes_specifics(update, true, sysinfo::ProcessRefreshKind::nothing().with_memory());
        if let Some(process) = self.system.process(pid) {
            self.peak = self.peak.max(process.memory());
        }
    }

    /// At the start and at the most, if the system told.
    pub(super) fn resident(&self) -> Option<Resident> {
        self.start.map(|start| Resident { start, peak: self.peak })
    }
}
