//! Runs a plan: sets up the contexts, runs the demo on worker threads (or in child
//! processes with `--split`), and feeds their trace events to the chosen renderer on this
//! thread.

mod bench;
mod children;
pub mod echo;
mod image_pipeline;
pub mod pairs;
pub mod ps;

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Select, Sender};

use crate::cli::plan::{Action, CopiesPlan, DemoPlan, Format, IpcMode, LessonPlan, NodePlan, Output, Plan, QosPlan};
use crate::demos::{self, DemoError, DemoMain, DemoOptions};
use crate::engine::trace::{Recorder, TraceEvent, TraceSink};
use crate::engine::transport::{TransportError, TransportKind, TransportOptions};
use crate::engine::{Context, CreateError, InitOptions};
use crate::i18n::particle::{particle, Particle};
use crate::i18n::{Lang, Text};
use crate::image::capture::OpenError;
use crate::labels::Labels;
use crate::lessons::terminal::{self, Page};
use crate::render::classic::Classic;
use crate::render::diagram::{Diagram, WithDiagram};
use crate::render::json::Json;
use crate::render::side::Side;
use crate::render::style::Painter;
use crate::render::{self, Columns, Measurements, RenderContext, Renderer};
use image_pipeline::ResidentSampler;
use pairs::{Pairs, WhenAhead};

/// Why a run failed after the command line was accepted.
#[derive(Debug)]
pub enum AppError {
    /// The demo could not set up its nodes.
    Demo(DemoError),
    /// Writing the output failed (other than a closed pipe, which just ends the run).
    Output(io::Error),
    /// A worker thread panicked: a bug in ipc-lab.
    Crashed,
    /// The transport between processes could not start.
    Transport(TransportError),
    /// The transport between processes stopped during the run (its announcement could no
    /// longer be written, on a full disk).
    TransportLost(TransportError),
    /// A child process for `--split` could not be started.
    Spawn(io::Error),
    /// `echo` could not make its node or its subscription: said as echo's failure, not a
    /// demo's.
    Echo(DemoError),
    /// `echo` found a publisher of a type it cannot show.
    UnknownType { topic: String, type_name: String },
    /// A child process (a node of `--split`, a run of `--ipc both`) failed or was killed.
    ChildFailed(children::ChildFailure),
    /// The bench could not run to the end.
    Bench(crate::bench::BenchError),
    /// The bench's plot could not be written.
    Plot { path: PathBuf, source: io::Error },
    /// `--source FILE` could not be read as a video.
    VideoFile(OpenError),
    /// The folder of `--show png:DIR` could not be made.
    PngFolder(PathBuf, io::Error),
    /// `--show png:DIR` names something that is not a folder.
    PngNotAFolder(PathBuf),
    /// A view could not show a frame (a PNG file not written, a window gone wrong).
    Show(io::Error),
}

/// What failed, in both languages; [`AppError::message`] adds the cause after a colon.
const DEMO_FAILED: Text =
    Text { ko: "오류: 데모를 시작할 수 없습니다", en: "error: the demo could not start" };
const ECHO_FAILED: Text = Text {
    ko: "오류: echo가 토픽을 구독할 수 없습니다",
    en: "error: echo could not subscribe to the topic",
};
const OUTPUT_FAILED: Text = Text { ko: "오류: 출력을 쓸 수 없습니다", en: "error: cannot write the output" };
const SHOW_FAILED: Text =
    Text { ko: "오류: 프레임을 보여 줄 수 없습니다", en: "error: cannot show a frame" };
const TRANSPORT_FAILED: Text = Text {
    ko: "오류: 프로세스 사이 통신을 시작할 수 없습니다",
    en: "error: cannot start talking to other processes",
};
const TRANSPORT_LOST: Text = Text {
    ko: "오류: 실행 중에 다른 프로세스와의 통신이 끊겼습니다",
    en: "error: lost touch with the other processes during the run",
};
const SPAWN_FAILED: Text =
    Text { ko: "오류: 노드 프로세스를 시작할 수 없습니다", en: "error: cannot start a node process" };
const BENCH_FAILED: Text =
    Text { ko: "오류: 벤치를 끝까지 할 수 없었습니다", en: "error: the bench could not finish" };
const CRASHED: Text = Text {
    ko: "오류: 내부 오류로 데모가 멈췄습니다 (ipc-lab의 버그입니다)",
    en: "error: the demo stopped on an internal error (a bug in ipc-lab)",
};

/// What to do about a QoS that rclcpp refuses with IPC on (its message stays as rclcpp
/// words it, as a learner would search for it).
fn create_hint(e: &CreateError) -> Option<Text> {
    match e {
        CreateError::VolatileDurabilityOnly { .. } => Some(Text {
            ko: "Humble의 rclcpp는 IPC에서 transient local을 거절합니다. Jazzy부터는 받아들입니다: --distro jazzy",
            en: "Humble's rclcpp refuses transient local with IPC; Jazzy and later accept it: --distro jazzy",
        }),
        CreateError::KeepAllWithIntraProcess { .. } | CreateError::TypeMismatch { .. } => None,
    }
}

impl AppError {
    /// One line in the user's language: what failed, then why.
    pub fn message(&self, lang: Lang) -> String {
        let failed = |what: Text, cause: &dyn std::fmt::Display| format!("{}: {cause}", what.get(lang));
        match self {
            // Upstream's own words, then what to do about it here.
            AppError::Demo(DemoError::CouldNotOpenVideoStream { exiting }) => {
                format!("Could not open video stream! {exiting}\n{}", image_pipeline::no_camera_hint(lang))
            }
            AppError::Demo(DemoError::Create(e)) => match create_hint(e) {
                Some(hint) => format!("{} ({})", failed(DEMO_FAILED, e), hint.get(lang)),
                None => failed(DEMO_FAILED, e),
            },
            AppError::Demo(e) => failed(DEMO_FAILED, e),
            AppError::Echo(e) => failed(ECHO_FAILED, e),
            AppError::Output(e) => failed(OUTPUT_FAILED, e),
            AppError::Show(e) => failed(SHOW_FAILED, e),
            AppError::Transport(e) => failed(TRANSPORT_FAILED, e),
            AppError::TransportLost(e) => failed(TRANSPORT_LOST, e),
            AppError::Spawn(e) => failed(SPAWN_FAILED, e),
            AppError::Bench(e) => failed(BENCH_FAILED, e),
            AppError::Crashed => CRASHED.get(lang).into(),
            AppError::ChildFailed(failure) => format!("{}: {}", lang.pick("오류", "error"), failure.message(lang)),
            AppError::VideoFile(e) => video_file_message(e, lang),
            AppError::PngFolder(dir, e) => {
                let dir = dir.display().to_string();
                match lang {
                    Lang::Ko => {
                        format!("오류: PNG 폴더 '{dir}'{} 만들 수 없습니다: {e}", particle(&dir, Particle::Object))
                    }
                    Lang::En => format!("error: cannot make the PNG folder '{dir}': {e}"),
                }
            }
            AppError::PngNotAFolder(dir) => {
                let dir = dir.display().to_string();
                match lang {
                    Lang::Ko => {
                        format!(
                            "오류: '{dir}'{} 폴더가 아닙니다: --show png:폴더에는 폴더를 주세요",
                            particle(&dir, Particle::Topic)
                        )
                    }
                    Lang::En => format!("error: '{dir}' is not a folder: --show png:DIR takes a folder"),
                }
            }
            AppError::UnknownType { topic, type_name } => unknown_type_message(topic, type_name, lang),
            AppError::Plot { path, source } => match lang {
                Lang::Ko => format!("오류: 그래프를 {}에 쓸 수 없습니다: {source}", path.display()),
                Lang::En => format!("error: cannot write the plot to {}: {source}", path.display()),
            },
        }
    }
}

/// `echo` found a publisher of a type it cannot show.
fn unknown_type_message(topic: &str, type_name: &str, lang: Lang) -> String {
    match lang {
        Lang::Ko => {
            format!(
                "오류: '{topic}'의 타입 {type_name}{} ipc-lab이 모르는 타입입니다",
                particle(type_name, Particle::Topic)
            )
        }
        Lang::En => format!("error: '{topic}' carries {type_name}, a type ipc-lab does not know"),
    }
}

/// `--source FILE` that cannot be read as a video.
fn video_file_message(e: &OpenError, lang: Lang) -> String {
    let path = match e {
        OpenError::NoDecoder(path) | OpenError::Unreadable(path) => path.display().to_string(),
    };
    let object = particle(&path, Particle::Object);
    match lang {
        Lang::Ko => match e {
            OpenError::NoDecoder(_) => format!(
                "오류: 동영상 파일 '{path}'{object} 읽을 수 없습니다: 이 빌드에는 동영상 디코더가 없습니다 (--features opencv로 빌드하세요)"
            ),
            OpenError::Unreadable(_) => format!("오류: 동영상 파일 '{path}'{object} 동영상으로 읽을 수 없습니다"),
        },
        Lang::En => format!("error: {e}"),
    }
}

/// Runs the plan, writing to `out`.
pub fn run(plan: &Plan, out: &mut dyn Write) -> Result<(), AppError> {
    let result = match &plan.action {
        Action::Demo(demo) if demo.split => children::run_split(plan, demo, out),
        Action::Demo(demo) if demo.ipc == IpcMode::Both => children::run_both(plan, demo, out),
        Action::Demo(demo) => run_local(plan, &LocalRun::demo(demo), out),
        Action::Node(node) => match LocalRun::node(node) {
            Some(run) => run_local(plan, &run, out),
            None => image_pipeline::run_node(plan, node, out),
        },
        Action::Echo(echo) => echo::run(plan, echo, out),
        Action::Ps { json } => ps::run(plan, *json, out),
        Action::Copies(copies) => run_copies(plan, copies, out),
        Action::ImagePipeline(image) => image_pipeline::run(plan, image, out),
        Action::Lesson(lesson) => show_lesson(plan, lesson, out),
        Action::Bench(b) => bench::run(plan, b, out),
        Action::BenchPeer(peer) => bench::peer(plan, peer, out),
        #[cfg(feature = "iceoryx2")]
        Action::BenchIceoryx2Peer { run } => crate::bench::iceoryx2::serve(*run, out).map_err(AppError::Bench),
    };
    match result {
        // A reader that went away (`| head`) is not an error.
        Err(AppError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Forwards a run's events to the rendering thread, on the run's own channel.
pub(crate) struct ChannelSink {
    /// To the rendering thread.
    tx: Sender<TraceEvent>,
    /// With `--stable` in the image pipeline: labels given here, on the thread that did the
    /// work and in the order it did it, not later on the rendering thread. The pipeline
    /// writes labels on its frames as it runs, and they must agree with the output's.
    labels: Option<Labels>,
}

impl TraceSink for ChannelSink {
    fn record(&self, event: TraceEvent) {
        if let Some(labels) = &self.labels {
            labels.learn(&event);
        }
        // The receiver only goes away when rendering failed; the run is being stopped then.
        let _ = self.tx.send(event);
    }
}

/// The IPC setting of each run: one, or on and off for `--ipc both`.
fn runs_of(ipc: IpcMode) -> Vec<bool> {
    match ipc {
        IpcMode::On => vec![true],
        IpcMode::Off => vec![false],
        IpcMode::Both => vec![true, false],
    }
}

/// One run's events on their way to the rendering thread. Bounded: a demo running flat out
/// waits for a slow terminal (or for the other run of `--ipc both`, [`pairs`]) instead of
/// piling up events.
fn event_channel() -> (Sender<TraceEvent>, Receiver<TraceEvent>) {
    bounded(1024)
}

/// One run of a demo: its context, and its `main` to call on a worker thread.
struct Run {
    /// Its context: shut down if the demo fails to start.
    ctx: Context,
    /// The demo's `main`, with its context and options bound.
    main: Box<dyn FnOnce() -> Result<(), DemoError> + Send>,
}

impl Run {
    /// Calls the demo's `main`; returns how it ended and how long it took.
    fn perform(self) -> (Result<(), DemoError>, Duration) {
        let start = Instant::now();
        let result = (self.main)();
        // A demo that failed to start must not leave its context spinning.
        if result.is_err() {
            self.ctx.shutdown();
        }
        (result, start.elapsed())
    }
}

/// How the runs of `--ipc both` go (in the image pipeline, which keeps them in one process
/// so that `ps` and the memory figures see one pipeline at a time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Together {
    /// Side by side, each on its own thread.
    AtOnce,
    /// One after the other, on one thread.
    InTurn,
}

/// Runs the demo runs on worker threads and renders their events on this one. With a
/// `sampler`, resident memory is sampled while they run and reported with their times.
fn execute(
    runs: Vec<Run>,
    together: Together,
    channels: Vec<Receiver<TraceEvent>>,
    renderer: &mut dyn Renderer,
    mut sampler: Option<&mut ResidentSampler>,
    lang: Lang,
    out: &mut dyn Write,
) -> Result<(), AppError> {
    let contexts: Vec<Context> = runs.iter().map(|r| r.ctx.clone()).collect();
    type Outcomes = Vec<(Result<(), DemoError>, Duration)>;
    let workers: Vec<thread::JoinHandle<Outcomes>> = match together {
        Together::AtOnce => runs.into_iter().map(|run| thread::spawn(move || vec![run.perform()])).collect(),
        Together::InTurn => vec![thread::spawn(move || runs.into_iter().map(Run::perform).collect())],
    };
    let mut tick = || {
        if let Some(sampler) = sampler.as_deref_mut() {
            sampler.sample();
        }
    };
    // In turn, one worker does every run; the other run cannot be waited for.
    let (ended, when_ahead): (&dyn Fn(usize) -> bool, _) = match together {
        Together::AtOnce => (&|run| workers[run].is_finished(), WhenAhead::Wait),
        Together::InTurn => (&|_| workers[0].is_finished(), WhenAhead::ShowAlone),
    };
    let feeds = Feeds { channels, ended, when_ahead };
    let rendered = render_events(&feeds, renderer, lang, &mut tick, out);
    if rendered.is_err() {
        for ctx in &contexts {
            ctx.shutdown();
        }
    }
    // Nobody reads any more: a worker still sending must not wait for room.
    drop(feeds);
    let mut outcome = rendered.map_err(AppError::Output);
    let mut elapsed = Vec::new();
    for worker in workers {
        let Ok(results) = worker.join() else {
            outcome = outcome.and(Err(AppError::Crashed));
            continue;
        };
        for (result, took) in results {
            outcome = outcome.and(result.map_err(AppError::Demo));
            elapsed.push(took);
        }
    }
    // A run that did not start has nothing to sum up; the error says it all.
    outcome?;
    if let Some(sampler) = sampler {
        sampler.sample();
        renderer.measured(Measurements { elapsed, resident: sampler.resident() });
    }
    after_ctrl_c(out).map_err(AppError::Output)?;
    renderer.finish(out).map_err(AppError::Output)?;
    out.flush().map_err(AppError::Output)?;
    transport_lost()
}

/// The transport's failure during the run, if it failed, as the run's error: the run was
/// stopped for it, and must not end as if it had finished.
pub(crate) fn transport_lost() -> Result<(), AppError> {
    crate::engine::transport::failure().map_or(Ok(()), |e| Err(AppError::TransportLost(e)))
}

/// The terminal echoes Ctrl-C as `^C` where the cursor is, at the start of a line: the
/// summary starts on the next one instead of after it (`^C요약`). Piped output gets no
/// `^C`, so nothing is added there.
fn after_ctrl_c(out: &mut dyn Write) -> io::Result<()> {
    let interrupted = crate::engine::context::interrupted() || children::interrupted();
    if interrupted && io::stdout().is_terminal() {
        writeln!(out)?;
    }
    Ok(())
}

/// A demo, or one of its nodes, run in this process.
struct LocalRun {
    /// What the view is titled: the upstream executable or the node.
    title: &'static str,
    /// `use_intra_process_comms` for its nodes.
    ipc: bool,
    /// Stop after this many receipts; `None` runs until Ctrl-C.
    count: Option<u64>,
    /// The timer period and the cyclic sleep.
    period: Duration,
    /// The QoS of its endpoints, and whose rules apply.
    qos: QosPlan,
    output: Output,
    /// How it talks to other processes.
    transport: TransportKind,
    /// Whether the run is pointless without other processes (`node`): then a transport
    /// that cannot start is an error; a demo only warns and runs on its own.
    needs_transport: bool,
    /// The demo's or the node's `main`, from `demos::DEMOS`.
    main: DemoMain,
    /// `--loan`: loaned messages published, and taken as `Loaned` views.
    loan: bool,
}

impl LocalRun {
    fn demo(demo: &DemoPlan) -> LocalRun {
        LocalRun {
            title: demo.demo.upstream,
            ipc: demo.ipc == IpcMode::On,
            count: demo.count,
            period: demo.period,
            qos: demo.qos,
            output: demo.output,
            transport: demo.transport,
            needs_transport: false,
            main: demo.demo.main,
            loan: demo.loan,
        }
    }

    /// A node of the number demos; `None` for the image nodes, which need images.
    fn node(node: &NodePlan) -> Option<LocalRun> {
        let demo_node = demos::node(node.name.name())?;
        Some(LocalRun {
            title: demo_node.name,
            ipc: node.ipc,
            count: node.count,
            period: node.period,
            qos: node.qos,
            output: node.output,
            transport: node.transport,
            needs_transport: true,
            main: demo_node.main,
            loan: node.image.loan,
        })
    }
}

/// What a view shows, besides the plan's language and colour.
pub(crate) struct View {
    pub(crate) output: Output,
    /// The upstream executable or the node, for the title line.
    pub(crate) title: &'static str,
    /// The IPC setting of each variant.
    pub(crate) runs: Vec<bool>,
    /// The nodes run in separate processes.
    pub(crate) split: bool,
    /// How wide the node and value columns are.
    pub(crate) columns: Columns,
}

/// A one-line notice on stderr (stdout carries the run itself). Written, not printed: a
/// closed stderr (`2>&1 >/dev/null | true`) must not turn a notice into a panic.
pub(crate) fn notice(text: &str) {
    let _ = writeln!(io::stderr(), "{text}");
}

/// A demo runs on its own when it cannot talk to other processes; this says so.
pub(super) fn transport_warning(lang: Lang, e: &TransportError) -> String {
    match lang {
        Lang::Ko => format!("알림: 다른 프로세스와 통신하지 않고 이 프로세스 안에서만 실행합니다: {e}"),
        Lang::En => format!("note: running within this process only, without talking to other processes: {e}"),
    }
}

/// The renderer for a view, with the labels its addresses get (shared with whoever else
/// writes them, such as the image nodes on their frames).
pub(crate) fn renderer(plan: &Plan, view: View, labels: Labels) -> Box<dyn Renderer> {
    let format = view.output.format;
    let cx = RenderContext {
        lang: plan.lang,
        painter: Painter { enabled: plan.color && format != Format::Json },
        labels,
        title: view.title,
        runs: view.runs,
        split: view.split,
        columns: view.columns,
        width: plan.width,
    };
    let title = cx.title;
    let stable = cx.labels.addr_is_label();
    let inner: Box<dyn Renderer> = match format {
        Format::Side => Box::new(Side::new(cx)),
        Format::Classic => Box::new(Classic::new(cx)),
        Format::Json => Box::new(Json::new(cx)),
    };
    match &plan.diagram {
        Some(path) => {
            let diagram = Diagram::new(Labels::new(stable), plan.lang, title);
            Box::new(WithDiagram { inner, diagram, off: None, path: path.clone() })
        }
        None => inner,
    }
}

/// Runs the demo on a worker thread and renders its events here as they come.
fn run_local(plan: &Plan, run: &LocalRun, out: &mut dyn Write) -> Result<(), AppError> {
    let runs = vec![run.ipc];
    let view = View { output: run.output, title: run.title, runs, split: false, columns: Columns::default() };
    let mut renderer = renderer(plan, view, Labels::new(run.output.stable));
    let (tx, rx) = event_channel();
    let sink = ChannelSink { tx, labels: None };
    let mut options = InitOptions::default().sink(Arc::new(sink)).domain_id(plan.domain).distro(run.qos.distro);
    if let Some(n) = run.count {
        options = options.shutdown_after_receipts(n);
    }
    let ctx = Context::init_with(options);
    let command = plan.command_line.clone();
    match ctx.enable_transport(TransportOptions { kind: run.transport, command }) {
        Ok(()) => {}
        Err(e) if run.needs_transport => return Err(AppError::Transport(e)),
        Err(e) => notice(&transport_warning(plan.lang, &e)),
    }
    let demo_options =
        DemoOptions { use_intra_process_comms: run.ipc, period: run.period, qos: run.qos.qos, loan: run.loan };
    let (worker_ctx, main) = (ctx.clone(), run.main);
    let run = Run { ctx, main: Box::new(move || main(&worker_ctx, demo_options)) };
    execute(vec![run], Together::AtOnce, vec![rx], renderer.as_mut(), None, plan.lang, out)
}

/// Where [`render_events`] takes events from: a channel per run of the view.
pub(crate) struct Feeds<'a> {
    /// Run `i`'s events come on `channels[i]`.
    pub(crate) channels: Vec<Receiver<TraceEvent>>,
    /// Whether every producer of run `i`'s events has finished. Senders can outlive them
    /// (a context lives until its worker is joined), so the end of a run is noticed from
    /// its producers, then what is left in its channel is drained.
    pub(crate) ended: &'a dyn Fn(usize) -> bool,
    /// What the view does when one run of `--ipc both` is far ahead of the other.
    pub(crate) when_ahead: WhenAhead,
}

/// Renders events as they come until every run has ended and every event is out (`tick`
/// runs between events). The caller then finishes the view. With two runs, step k of each
/// is shown side by side ([`pairs`]).
pub(crate) fn render_events(
    feeds: &Feeds,
    renderer: &mut dyn Renderer,
    lang: Lang,
    tick: &mut dyn FnMut(),
    out: &mut dyn Write,
) -> io::Result<()> {
    let runs = feeds.channels.len();
    let mut pairs = Pairs::new(runs, feeds.when_ahead);
    let mut over = vec![false; runs];
    while over.contains(&false) {
        tick();
        // A run far ahead of the other is not read until the other catches up.
        let open: Vec<usize> = (0..runs).filter(|&r| !over[r] && (runs == 1 || pairs.takes(r))).collect();
        for r in (0..runs).filter(|&r| !over[r] && runs > 1) {
            if let Some(change) = pairs.held(r) {
                notice(&change.note(lang));
            }
        }
        let mut select = Select::new();
        for &r in &open {
            select.recv(&feeds.channels[r]);
        }
        let Ok(operation) = select.select_timeout(Duration::from_millis(50)) else {
            for (r, over) in over.iter_mut().enumerate() {
                if !*over && (feeds.ended)(r) && feeds.channels[r].is_empty() {
                    *over = true;
                    pairs.end(r);
                }
            }
            render_pairs(&mut pairs, renderer, out)?;
            continue;
        };
        let run = open[operation.index()];
        match operation.recv(&feeds.channels[run]) {
            Ok(event) if runs == 1 => {
                renderer.event(out, &event)?;
                out.flush()?;
                continue;
            }
            Ok(event) => {
                if let Some(change) = pairs.push(run, event) {
                    notice(&change.note(lang));
                }
            }
            Err(_) => {
                over[run] = true;
                pairs.end(run);
            }
        }
        render_pairs(&mut pairs, renderer, out)?;
    }
    render_pairs(&mut pairs, renderer, out)?;
    out.flush()
}

/// Renders the pairs that are ready (IPC on, IPC off).
fn render_pairs(pairs: &mut Pairs, renderer: &mut dyn Renderer, out: &mut dyn Write) -> io::Result<()> {
    while let Some(pair) = pairs.ready_pair() {
        renderer.pair(out, &pair.on, &pair.off)?;
        out.flush()?;
    }
    Ok(())
}

fn show_lesson(plan: &Plan, lesson: &LessonPlan, out: &mut dyn Write) -> Result<(), AppError> {
    let page = Page {
        columns: lesson.columns,
        painter: Painter { enabled: plan.color },
        lang: plan.lang,
        answers: lesson.answers,
    };
    match lesson.lesson {
        Some(lesson) => terminal::render(out, lesson, &page),
        None => terminal::list(out, &page),
    }
    .map_err(AppError::Output)
}

fn run_copies(plan: &Plan, copies: &CopiesPlan, out: &mut dyn Write) -> Result<(), AppError> {
    let recorder = Arc::new(Recorder::default());
    let ctx = Context::init_with(InitOptions::default().sink(recorder.clone()).distro(copies.distro));
    demos::copies::main(&ctx, &copies.spec, copies.setup).map_err(AppError::Demo)?;
    let events = recorder.events();
    let labels = Labels::new(copies.stable);
    if copies.json {
        for event in &events {
            writeln!(out, "{}", render::json::to_json(event, &labels, None)).map_err(AppError::Output)?;
        }
        return Ok(());
    }
    let painter = Painter { enabled: plan.color };
    let look = render::copies::Look { lang: plan.lang, painter, labels: &labels, width: plan.width };
    render::copies::render(out, &events, &copies.spec, &copies.setup, &look).map_err(AppError::Output)
}
