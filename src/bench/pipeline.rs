//! The image pipeline's frames per second: `camera_node` -> `watermark_node` ->
//! `image_view_node`, built by the demo's own [`main`](crate::demos::image_pipeline::main)
//! on the synthetic camera at `--fps 0` with a view that shows nothing, IPC on and off;
//! beside it, its limit: the same three drawing steps called one after the other in one
//! loop, with no engine.
//!
//! ```
//! use ipc_lab::bench::pipeline::PipelineKind;
//!
//! assert_eq!(PipelineKind::IpcOn.name(), "pipeline-ipc-on");
//! assert_eq!(PipelineKind::ALL.map(PipelineKind::is_direct), [false, false, true]);
//! ```
//!
//! # What a frame per second is
//! The view's: frames shown, over the time from the first one shown to the last. The camera
//! reads on a thread of its own, as upstream's does, and may get ahead of the others; a frame
//! it overwrites in a full queue (sensor-data QoS keeps 5) is never shown and counts for
//! nothing. Node creation and the camera's first frames are not in the time.
//!
//! # Copies per frame
//! Counted by the engine's trace in a short pass of their own, in which the camera waits
//! until each frame has been shown before it reads the next (the lockstep of `--stable`),
//! so that no frame is dropped and every copy belongs to a frame that came out. The camera's
//! own copy of its capture into the new message is the producer's work, not a copy on the
//! way (as everywhere in ipc-lab); the direct loop makes it too.

use std::io;
use std::sync::{Arc, Mutex};

use super::clock::now_ns;
use super::counting::CopyCounter;
use super::{BenchError, Schedule};
use crate::demos::image_pipeline::{self, camera, image_view, pid_and_ptr, watermark, ImageOptions, ViewerCallback};
use crate::engine::{Context, InitOptions, MessageAddress};
use crate::image::capture::{Paced, VideoCapture};
use crate::image::synthetic::SyntheticCamera;
use crate::image::text::Pen;
use crate::image::view::Window;
use crate::image::{Frame, Mat};
use crate::labels::Labels;

/// The pipeline as built, or its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PipelineKind {
    /// The three nodes with IPC on: one message travels the whole pipeline.
    IpcOn,
    /// The three nodes with IPC off: each hop serializes and deserializes.
    IpcOff,
    /// The three steps called directly, in one loop: what passing a frame on would cost if
    /// it cost nothing.
    Direct,
}

impl PipelineKind {
    /// In the order the table shows them.
    pub const ALL: [PipelineKind; 3] = [PipelineKind::IpcOn, PipelineKind::IpcOff, PipelineKind::Direct];

    /// The name in the table and the JSON.
    pub fn name(self) -> &'static str {
        match self {
            PipelineKind::IpcOn => "pipeline-ipc-on",
            PipelineKind::IpcOff => "pipeline-ipc-off",
            PipelineKind::Direct => "pipeline-direct",
        }
    }

    pub fn is_direct(self) -> bool {
        self == PipelineKind::Direct
    }
}

/// Runs of the pipeline are in a domain of their own: no other process can join it (ROS
/// domains end at 232), and a run with IPC off must hear nobody but itself.
const PIPELINE_DOMAIN: u32 = 1001;

/// Frames in the counted pass: a few are enough, every one counts the same.
const COUNTED_FRAMES: u64 = 3;

/// The frames a view has been given, and when.
#[derive(Debug, Default)]
struct Tally {
    shown: u64,
    first_ns: u64,
    last_ns: u64,
}

impl Tally {
    fn frame(&mut self) {
        let now = now_ns();
        if self.shown == 0 {
            self.first_ns = now;
        }
        self.last_ns = now;
        self.shown += 1;
    }

    /// Whether a timed run has seen enough: as many frames as a batch of hops would be.
    /// The first frame starts the clock, so it is not one of them.
    fn enough(&self, schedule: &Schedule) -> bool {
        let frames = self.shown.saturating_sub(1) as usize;
        frames >= schedule.max_hops
            || (frames >= schedule.min_hops && self.last_ns - self.first_ns >= schedule.batch_ns)
    }

    /// Frames per second from the first frame to the last.
    fn per_second(&self) -> Option<f64> {
        let ns = self.last_ns.checked_sub(self.first_ns).filter(|ns| *ns > 0)?;
        Some((self.shown - 1) as f64 * 1e9 / ns as f64)
    }
}

/// The pipeline's view: shows nothing, as `--show none` does, counts the frames it is
/// given, and in a timed run ends the run once it has counted enough.
#[derive(Clone)]
struct CountingView {
    tally: Arc<Mutex<Tally>>,
    /// The run to end and when; none in the counted pass, which ends with the camera's last
    /// frame.
    stop: Option<(Context, Schedule)>,
}

impl Window for CountingView {
    fn imshow(&mut self, _winname: &str, _mat: &Mat<'_>) -> io::Result<()> {
        let mut tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        tally.frame();
        if let Some((ctx, schedule)) = &self.stop {
            if tally.enough(schedule) {
                ctx.shutdown();
            }
        }
        Ok(())
    }
}

/// Runs the three nodes as the demo's `main` builds them, at `--fps 0` until the view has
/// counted enough for `schedule`, or without one for the counted pass: a few frames in
/// lockstep, traced into `counter`.
fn run_nodes(
    ipc: bool,
    (cols, rows): (u32, u32),
    schedule: Option<Schedule>,
    counter: Option<Arc<CopyCounter>>,
) -> Result<Tally, BenchError> {
    let mut init = InitOptions::default().domain_id(PIPELINE_DOMAIN);
    if let Some(counter) = counter {
        init = init.sink(counter);
    }
    let ctx = Context::init_with(init);
    let cap = Paced::new(Box::new(SyntheticCamera::new(cols, rows)), &ctx, 0);
    // In the counted pass each frame is received by the watermark and the view before the
    // camera reads the next.
    let cap = if schedule.is_some() { cap } else { cap.frames(Some(COUNTED_FRAMES)).lockstep(Some(2)) };
    let tally = Arc::new(Mutex::new(Tally::default()));
    let view = CountingView { tally: tally.clone(), stop: schedule.map(|s| (ctx.clone(), s)) };
    let options = ImageOptions {
        use_intra_process_comms: ipc,
        labels: Labels::new(false),
        text_scale: 1,
        viewer_callback: ViewerCallback::Unique,
        loan: false,
    };
    image_pipeline::main(&ctx, &options, Box::new(cap), 1, |_| Box::new(view.clone())).map_err(BenchError::Pipeline)?;
    let tally = std::mem::take(&mut *tally.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(tally)
}

/// The limit: each node's drawing step, called one after the other on one thread with no
/// engine, until `schedule` has enough or `watch` shuts down.
fn run_direct((cols, rows): (u32, u32), schedule: &Schedule, watch: &Context) -> Result<Tally, BenchError> {
    let (pen, labels) = (Pen::untraced(1), Labels::new(false));
    let mut cap = SyntheticCamera::new(cols, rows);
    let mut frame_ = Frame::default();
    let mut tally = Tally::default();
    while watch.ok() && !tally.enough(schedule) {
        cap.read(&mut frame_);
        let mut msg = camera::frame_to_message(&mut frame_, &pen, &labels);
        watermark::annotate(&mut msg, image_pipeline::WATERMARK_TEXT, &pen, &labels).map_err(BenchError::Image)?;
        let line = pid_and_ptr(&labels, msg.address());
        image_view::annotate(&mut Mat::wrap(&mut msg).map_err(BenchError::Image)?, &line, &pen);
        tally.frame();
    }
    Ok(tally)
}

/// One timed run of `kind` at `size`: frames per second.
pub(super) fn frames_per_second(
    kind: PipelineKind,
    size: (u32, u32),
    schedule: &Schedule,
    watch: &Context,
) -> Result<f64, BenchError> {
    let tally = match kind {
        PipelineKind::IpcOn => run_nodes(true, size, Some(*schedule), None)?,
        PipelineKind::IpcOff => run_nodes(false, size, Some(*schedule), None)?,
        PipelineKind::Direct => run_direct(size, schedule, watch)?,
    };
    if !watch.ok() {
        return Err(BenchError::Interrupted);
    }
    tally.per_second().ok_or(BenchError::NoFrames { pipeline: kind })
}

/// Copies per frame shown: counted from the engine's trace for the nodes; none by
/// construction for the direct loop, where nothing is passed on.
pub(super) fn copies_per_frame(kind: PipelineKind, size: (u32, u32), watch: &Context) -> Result<f64, BenchError> {
    let ipc = match kind {
        PipelineKind::IpcOn => true,
        PipelineKind::IpcOff => false,
        PipelineKind::Direct => return Ok(0.0),
    };
    let counter = Arc::new(CopyCounter::default());
    counter.start();
    let tally = run_nodes(ipc, size, None, Some(counter.clone()))?;
    let copies = counter.stop();
    if !watch.ok() {
        return Err(BenchError::Interrupted);
    }
    if tally.shown == 0 {
        return Err(BenchError::NoFrames { pipeline: kind });
    }
    Ok(copies as f64 / tally.shown as f64)
}
