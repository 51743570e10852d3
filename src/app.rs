//! Runs a plan: sets up the contexts, runs the demo on worker threads, and feeds their
//! trace events to the chosen renderer on this thread.

mod image_pipeline;

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};

use crate::cli::plan::{Action, CopiesPlan, Demo, DemoPlan, Format, IpcMode, Plan};
use crate::demos::{self, DemoError, DemoOptions};
use crate::engine::trace::{EventKind, Recorder, TraceEvent, TraceSink};
use crate::engine::{Context, InitOptions};
use crate::i18n::Lang;
use crate::image::capture::OpenError;
use crate::render::classic::Classic;
use crate::render::json::Json;
use crate::render::labels::Labels;
use crate::render::side::Side;
use crate::render::style::Painter;
use crate::render::{self, Columns, Measurements, RenderContext, Renderer};
use image_pipeline::ResidentSampler;

/// Why a run failed after the command line was accepted.
#[derive(Debug)]
pub enum AppError {
    /// The demo could not set up its nodes.
    Demo(DemoError),
    /// Writing the output failed (other than a closed pipe, which just ends the run).
    Output(io::Error),
    /// A worker thread panicked: a bug in ipc-lab.
    Crashed,
    /// `--source FILE` could not be read as a video.
    VideoFile(OpenError),
    /// The folder of `--show png:DIR` could not be made.
    PngFolder(PathBuf, io::Error),
    /// A frame could not be written as a PNG file.
    Png(PathBuf, io::Error),
}

impl AppError {
    /// One line in the user's language.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (AppError::Output(e), Lang::Ko) => format!("오류: 출력을 쓸 수 없습니다: {e}"),
            (AppError::Output(e), Lang::En) => format!("error: cannot write the output: {e}"),
            (AppError::Crashed, Lang::Ko) => "오류: 내부 오류로 데모가 멈췄습니다 (ipc-lab의 버그입니다)".into(),
            (AppError::Crashed, Lang::En) => "error: the demo stopped on an internal error (a bug in ipc-lab)".into(),
            // Upstream's own words, then what to do about it here.
            (AppError::Demo(DemoError::CouldNotOpenVideoStream), lang) => {
                format!("Could not open video stream! Exiting..\n{}", image_pipeline::no_camera_hint(lang))
            }
            (AppError::Demo(e), Lang::Ko) => format!("오류: 데모를 시작할 수 없습니다: {e}"),
            (AppError::Demo(e), Lang::En) => format!("error: the demo could not start: {e}"),
            (AppError::VideoFile(e), Lang::Ko) => match e {
                OpenError::NoDecoder(path) => format!(
                    "오류: 동영상 파일 '{}'을(를) 읽을 수 없습니다: 이 빌드에는 동영상 디코더가 없습니다 (--features opencv로 빌드하세요)",
                    path.display()
                ),
                OpenError::Unreadable(path) => {
                    format!("오류: 동영상 파일 '{}'을(를) 동영상으로 읽을 수 없습니다", path.display())
                }
            },
            (AppError::VideoFile(e), Lang::En) => format!("error: {e}"),
            (AppError::PngFolder(dir, e), Lang::Ko) => {
                format!("오류: PNG 폴더 '{}'을(를) 만들 수 없습니다: {e}", dir.display())
            }
            (AppError::PngFolder(dir, e), Lang::En) => {
                format!("error: cannot make the PNG folder '{}': {e}", dir.display())
            }
            (AppError::Png(path, e), Lang::Ko) => format!("오류: PNG 파일 '{}'을(를) 쓸 수 없습니다: {e}", path.display()),
            (AppError::Png(path, e), Lang::En) => format!("error: cannot write the PNG file '{}': {e}", path.display()),
        }
    }
}

/// Runs the plan, writing to `out`.
pub fn run(plan: &Plan, out: &mut dyn Write) -> Result<(), AppError> {
    let result = match &plan.action {
        Action::Demo(demo) => run_demo(plan, demo, out),
        Action::Copies(copies) => run_copies(plan, copies, out),
        Action::ImagePipeline(image) => image_pipeline::run(plan, image, out),
    };
    match result {
        // A reader that went away (`| head`) is not an error.
        Err(AppError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// An event and the index of the run it comes from.
type Tagged = (usize, TraceEvent);

/// Forwards a run's events to the rendering thread, tagged with the run's index.
struct ChannelSink {
    run: usize,
    tx: Sender<Tagged>,
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
        let _ = self.tx.send((self.run, event));
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

fn renderer_for(format: Format, cx: RenderContext) -> Box<dyn Renderer> {
    match format {
        Format::Side => Box::new(Side::new(cx)),
        Format::Classic => Box::new(Classic::new(cx)),
        Format::Json => Box::new(Json { cx }),
    }
}

/// Bounded: a demo running flat out waits for a slow terminal instead of piling up events.
fn event_channel() -> (Sender<Tagged>, Receiver<Tagged>) {
    bounded(1024)
}

/// One run of a demo: its context, and its `main` to call on a worker thread.
struct Run {
    ctx: Context,
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

fn run_demo(plan: &Plan, demo: &DemoPlan, out: &mut dyn Write) -> Result<(), AppError> {
    let ipc_runs = runs_of(demo.ipc);
    let cx = RenderContext {
        lang: plan.lang,
        painter: Painter { enabled: plan.color && demo.format != Format::Json },
        labels: Labels::new(demo.stable),
        title: demo.demo.upstream_name(),
        runs: ipc_runs.clone(),
        columns: Columns::default(),
    };
    let mut renderer = renderer_for(demo.format, cx);
    let (tx, rx) = event_channel();
    let mut runs = Vec::new();
    for (run, &on) in ipc_runs.iter().enumerate() {
        let mut options = InitOptions::default()
            .sink(Arc::new(ChannelSink { run, tx: tx.clone(), labels: None }))
            // Separate domains: in `--ipc both` the two runs must not hear each other.
            .domain_id(run as u32);
        if let Some(n) = demo.count {
            options = options.shutdown_after_receipts(n);
        }
        let ctx = Context::init_with(options);
        let demo_options = DemoOptions { use_intra_process_comms: on, period: demo.period };
        let (worker_ctx, which) = (ctx.clone(), demo.demo);
        let main: Box<dyn FnOnce() -> Result<(), DemoError> + Send> = Box::new(move || match which {
            Demo::TwoNode => demos::two_node_pipeline::main(&worker_ctx, demo_options),
            Demo::Cyclic => demos::cyclic_pipeline::main(&worker_ctx, demo_options),
        });
        runs.push(Run { ctx, main });
    }
    drop(tx);
    execute(runs, Together::AtOnce, rx, renderer.as_mut(), None, out)
}

/// How the runs of `--ipc both` go.
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
    rx: Receiver<Tagged>,
    renderer: &mut dyn Renderer,
    mut sampler: Option<&mut ResidentSampler>,
    out: &mut dyn Write,
) -> Result<(), AppError> {
    let contexts: Vec<Context> = runs.iter().map(|r| r.ctx.clone()).collect();
    let count = runs.len();
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
    let rendered = render_events(&rx, &workers, renderer, count, &mut tick, out);
    if rendered.is_err() {
        for ctx in &contexts {
            ctx.shutdown();
        }
    }
    // Nobody reads any more: a worker still sending must not wait for room.
    drop(rx);
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
    renderer.finish(out).map_err(AppError::Output)?;
    out.flush().map_err(AppError::Output)
}

/// Cuts a run's events into segments that start at each `received` event, so that
/// `--ipc both` can put the same step of both runs side by side.
#[derive(Default)]
struct Segments {
    current: Vec<TraceEvent>,
    done: std::collections::VecDeque<Vec<TraceEvent>>,
}

impl Segments {
    fn push(&mut self, event: TraceEvent) {
        if matches!(event.kind, EventKind::Received { .. }) && !self.current.is_empty() {
            self.done.push_back(std::mem::take(&mut self.current));
        }
        self.current.push(event);
    }

    fn close(&mut self) {
        if !self.current.is_empty() {
            self.done.push_back(std::mem::take(&mut self.current));
        }
    }
}

/// Renders events as they come until every worker has finished and every event is out.
fn render_events<T>(
    rx: &Receiver<Tagged>,
    workers: &[thread::JoinHandle<T>],
    renderer: &mut dyn Renderer,
    runs: usize,
    tick: &mut dyn FnMut(),
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut segments: Vec<Segments> = (0..runs).map(|_| Segments::default()).collect();
    loop {
        tick();
        let (run, event) = match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(item) => item,
            // The contexts (and so the senders) live until the workers are joined, so the
            // end of the run is noticed from the workers, then what is left is drained.
            Err(RecvTimeoutError::Timeout) if workers.iter().all(|w| w.is_finished()) => {
                if rx.is_empty() {
                    break;
                }
                continue;
            }
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if runs == 1 {
            renderer.event(out, &event)?;
            out.flush()?;
            continue;
        }
        segments[run].push(event);
        while segments.iter().all(|s| !s.done.is_empty()) {
            let on = segments[0].done.pop_front().unwrap_or_default();
            let off = segments[1].done.pop_front().unwrap_or_default();
            renderer.pair(out, &on, &off)?;
            out.flush()?;
        }
    }
    if runs > 1 {
        segments.iter_mut().for_each(Segments::close);
        while segments.iter().any(|s| !s.done.is_empty()) {
            let on = segments[0].done.pop_front().unwrap_or_default();
            let off = segments[1].done.pop_front().unwrap_or_default();
            renderer.pair(out, &on, &off)?;
        }
    }
    out.flush()
}

fn run_copies(plan: &Plan, copies: &CopiesPlan, out: &mut dyn Write) -> Result<(), AppError> {
    let recorder = Arc::new(Recorder::default());
    let ctx = Context::init_with(InitOptions::default().sink(recorder.clone()));
    demos::copies::main(&ctx, &copies.spec, copies.inter).map_err(AppError::Demo)?;
    let events = recorder.events();
    let labels = Labels::new(copies.stable);
    if copies.json {
        for event in &events {
            let obj = render::json::to_json(event, &labels);
            writeln!(out, "{}", serde_json::Value::Object(obj)).map_err(AppError::Output)?;
        }
        return Ok(());
    }
    let painter = Painter { enabled: plan.color };
    render::copies::render(out, &events, &copies.spec, copies.inter, plan.lang, painter, &labels)
        .map_err(AppError::Output)
}
