//! Runs a plan: sets up the contexts, runs the demo on worker threads, and feeds their
//! trace events to the chosen renderer on this thread.

use std::io::{self, Write};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};

use crate::cli::plan::{Action, CopiesPlan, Demo, DemoPlan, Format, IpcMode, Plan};
use crate::demos::{self, DemoError, DemoOptions};
use crate::engine::trace::{EventKind, Recorder, TraceEvent, TraceSink};
use crate::engine::{Context, InitOptions};
use crate::i18n::Lang;
use crate::render::classic::Classic;
use crate::render::json::Json;
use crate::render::labels::Labels;
use crate::render::side::Side;
use crate::render::style::Painter;
use crate::render::{self, RenderContext, Renderer};

/// Why a run failed after the command line was accepted.
#[derive(Debug)]
pub enum AppError {
    /// The demo could not set up its nodes.
    Demo(DemoError),
    /// Writing the output failed (other than a closed pipe, which just ends the run).
    Output(io::Error),
    /// A worker thread panicked: a bug in ipc-lab.
    Crashed,
}

impl AppError {
    /// One line in the user's language.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (AppError::Demo(e), Lang::Ko) => format!("오류: 데모를 시작할 수 없습니다: {e}"),
            (AppError::Demo(e), Lang::En) => format!("error: the demo could not start: {e}"),
            (AppError::Output(e), Lang::Ko) => format!("오류: 출력을 쓸 수 없습니다: {e}"),
            (AppError::Output(e), Lang::En) => format!("error: cannot write the output: {e}"),
            (AppError::Crashed, Lang::Ko) => "오류: 내부 오류로 데모가 멈췄습니다 (ipc-lab의 버그입니다)".into(),
            (AppError::Crashed, Lang::En) => "error: the demo stopped on an internal error (a bug in ipc-lab)".into(),
        }
    }
}

/// Runs the plan, writing to `out`.
pub fn run(plan: &Plan, out: &mut dyn Write) -> Result<(), AppError> {
    let result = match &plan.action {
        Action::Demo(demo) => run_demo(plan, demo, out),
        Action::Copies(copies) => run_copies(plan, copies, out),
    };
    match result {
        // A reader that went away (`| head`) is not an error.
        Err(AppError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Forwards a run's events to the rendering thread, tagged with the run's index.
struct ChannelSink {
    run: usize,
    tx: Sender<(usize, TraceEvent)>,
}

impl TraceSink for ChannelSink {
    fn record(&self, event: TraceEvent) {
        // The receiver only goes away when rendering failed; the run is being stopped then.
        let _ = self.tx.send((self.run, event));
    }
}

fn run_demo(plan: &Plan, demo: &DemoPlan, out: &mut dyn Write) -> Result<(), AppError> {
    let runs: Vec<bool> = match demo.ipc {
        IpcMode::On => vec![true],
        IpcMode::Off => vec![false],
        IpcMode::Both => vec![true, false],
    };
    let cx = RenderContext {
        lang: plan.lang,
        painter: Painter { enabled: plan.color && demo.format != Format::Json },
        labels: Labels::new(demo.stable),
        title: demo.demo.upstream_name(),
        runs: runs.clone(),
    };
    let mut renderer: Box<dyn Renderer> = match demo.format {
        Format::Side => Box::new(Side::new(cx)),
        Format::Classic => Box::new(Classic::new(cx)),
        Format::Json => Box::new(Json { cx }),
    };

    // Bounded: a demo at `--period 0` waits for a slow terminal instead of piling up events.
    let (tx, rx) = bounded(1024);
    let mut contexts = Vec::new();
    let mut workers = Vec::new();
    for (run, &on) in runs.iter().enumerate() {
        let mut options = InitOptions::default()
            .sink(Arc::new(ChannelSink { run, tx: tx.clone() }))
            // Separate domains: in `--ipc both` the two runs must not hear each other.
            .domain_id(run as u32);
        if let Some(n) = demo.count {
            options = options.shutdown_after_receipts(n);
        }
        let ctx = Context::init_with(options);
        let demo_options = DemoOptions { use_intra_process_comms: on, period: demo.period };
        let (worker_ctx, which) = (ctx.clone(), demo.demo);
        workers.push(thread::spawn(move || {
            let result = match which {
                Demo::TwoNode => demos::two_node_pipeline::main(&worker_ctx, demo_options),
                Demo::Cyclic => demos::cyclic_pipeline::main(&worker_ctx, demo_options),
            };
            // A demo that failed to start must not leave the other run spinning.
            if result.is_err() {
                worker_ctx.shutdown();
            }
            result
        }));
        contexts.push(ctx);
    }
    drop(tx);

    let rendered = render_events(&rx, &workers, renderer.as_mut(), runs.len(), out);
    if rendered.is_err() {
        for ctx in &contexts {
            ctx.shutdown();
        }
    }
    // Nobody reads any more: a worker still sending must not wait for room.
    drop(rx);
    let mut outcome = rendered.map_err(AppError::Output);
    for worker in workers {
        let result = worker.join().map_err(|_| AppError::Crashed).and_then(|r| r.map_err(AppError::Demo));
        if outcome.is_ok() {
            outcome = result;
        }
    }
    outcome
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

fn render_events(
    rx: &Receiver<(usize, TraceEvent)>,
    workers: &[thread::JoinHandle<Result<(), DemoError>>],
    renderer: &mut dyn Renderer,
    runs: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut segments: Vec<Segments> = (0..runs).map(|_| Segments::default()).collect();
    loop {
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
    renderer.finish(out)?;
    out.flush()
}

fn run_copies(plan: &Plan, copies: &CopiesPlan, out: &mut dyn Write) -> Result<(), AppError> {
    let recorder = Arc::new(Recorder::default());
    let ctx = Context::init_with(InitOptions::default().sink(recorder.clone()));
    demos::copies::main(&ctx, &copies.spec, copies.inter).map_err(AppError::Demo)?;
    let events = recorder.events();
    let mut labels = Labels::new(copies.stable);
    if copies.json {
        for event in &events {
            let obj = render::json::to_json(event, &mut labels);
            writeln!(out, "{}", serde_json::Value::Object(obj)).map_err(AppError::Output)?;
        }
        return Ok(());
    }
    let painter = Painter { enabled: plan.color };
    render::copies::render(out, &events, &copies.spec, copies.inter, plan.lang, painter, &mut labels)
        .map_err(AppError::Output)
}
