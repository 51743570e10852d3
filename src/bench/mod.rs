//! `ipc-lab bench`: what one hop really costs on each path, beside the physical limits,
//! measured in one run on the learner's own machine.
//!
//! ```
//! use ipc_lab::bench::{stats, PathKind};
//!
//! assert_eq!(PathKind::IpcOn.name(), "ipc-on");
//! assert!(PathKind::MemcpyBaseline.is_baseline());
//! assert_eq!(stats::percentile(&[10, 20, 30, 40], 50.0), 20);
//! ```
//!
//! # What a hop is
//! One `publish` on one node to the start of the callback of another, through the real
//! engine: [`Context`], nodes, publisher, subscription,
//! [`SingleThreadedExecutor`](crate::engine::SingleThreadedExecutor), the middleware and the
//! transport. The message is a `sensor_msgs/Image` whose `data` has the measured size.
//! - `ipc-on`, `ipc-off`: both nodes in this process, published and spun on one thread, as
//!   upstream's demos do with their single-threaded executor ([`local`]).
//! - `socket`, `shm`, and with the cargo feature `dds` also `dds`: the subscriber is a child
//!   `ipc-lab bench-peer` process ([`remote`], [`peer`]). Cyclone is told to stay on this
//!   machine ([`crate::engine::transport::dds::LOCALHOST_ONLY_CONFIG`]).
//!
//! Every subscription takes `ConstSharedPtr`: the signature with which each path makes
//! only the copies the path itself needs. A `UniquePtr` callback changes nothing with IPC on
//! and adds rclcpp's copy out of the taken message on every middleware path.
//!
//! # The baselines ([`baselines`])
//! The limits that no engine can beat, on the same bytes in the same run: a `Box` through a
//! crossbeam channel on one thread (`channel-baseline`), a copy of the bytes into a buffer
//! that already exists (`memcpy-baseline`), and the bytes written into a socketpair on this
//! thread and read out by another (`socketpair-baseline`). With the cargo feature `iceoryx2`
//! also the same bytes to another process through iceoryx2, a middleware made for zero
//! copy between processes (`iceoryx2-baseline`, in `bench::iceoryx2`): what `shm-loan` is held
//! against.
//!
//! # How it measures
//! - Latency: [`clock::now_ns`] (`CLOCK_MONOTONIC`) just before `publish`, and again when
//!   the callback starts. That clock is system-wide on Linux, so a child process compares
//!   its own reading against the stamp the parent wrote into `header.stamp`.
//! - Throughput: a burst of messages published back to back, from the first publish to
//!   the last callback.
//! - Interleaving: rounds, and in each round every size and every path (in an order that
//!   turns each round), so that whatever noise the machine makes hits paths and baselines
//!   alike.
//! - Copies per hop: counted by the engine's trace events in a short pass of their own
//!   ([`counting`]); the timed runs do not trace.
//!
//! # The image pipeline ([`pipeline`])
//! The three nodes of the image pipeline, built as the demo builds them, on the synthetic
//! camera at `--fps 0` with a view that shows nothing: frames per second with IPC on and
//! off, beside the same three drawing steps called directly in one loop. Its runs take their
//! turns in the same rounds as the paths, and its copies per frame are counted the same way.
//!
//! The results ([`report`]) are one row per path and size and one per pipeline and frame
//! size, the copies cross-checked by the slope of cost against size, and the targets of the
//! engine with the ratios that decide them.

pub mod baselines;
pub mod clock;
pub mod counting;
#[cfg(feature = "iceoryx2")]
pub mod iceoryx2;
pub mod local;
pub mod peer;
pub mod pipeline;
pub mod remote;
pub mod report;
pub mod stats;
pub mod svg;

use std::collections::BTreeMap;
use std::fmt;
use std::io;

use crate::demos::DemoError;
use crate::engine::msg::sensor_msgs::Image;
use crate::engine::msg::std_msgs::Header;
use crate::engine::transport::TransportError;
use crate::engine::{Context, CreateError, NodeError};
use crate::image::ImageError;
use pipeline::PipelineKind;

/// The sizes a bench measures unless told otherwise: a small message, a page, a larger
/// buffer, and a 640x480 and a 1920x1080 RGB frame.
pub const DEFAULT_SIZES: [usize; 5] = [64, 4 << 10, 64 << 10, 921_600, 6_220_800];

/// The image pipeline's frame sizes unless told otherwise: the same two frames as the
/// largest message sizes.
pub const DEFAULT_PIPELINE_SIZES: [(u32, u32); 2] = [(640, 480), (1920, 1080)];

/// A way for a message to go from one node to another, or a baseline beside them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathKind {
    /// Intra-process communication: ownership moves, nothing is copied.
    IpcOn,
    /// Same process, IPC off: CDR serialize, then deserialize into a new message.
    IpcOff,
    /// To another process through the Unix socket.
    Socket,
    /// To another process, serialized straight into a slot of the publisher's shared-memory
    /// pool and read there through a `Loaned<Image>` view: one copy.
    Shm,
    /// To another process as a loaned message: the pixels written in place in a slot, read
    /// there through a `Loaned<Image>` view: no copy.
    ShmLoan,
    /// To another process through Cyclone DDS on loopback, as rmw_cyclonedds_cpp: the CDR
    /// bytes handed to Cyclone, taken out of it and decoded (cargo feature `dds`).
    Dds,
    /// A `Box` of the same size through a crossbeam channel.
    ChannelBaseline,
    /// One copy of the same bytes.
    MemcpyBaseline,
    /// The same bytes through a socketpair, to another thread.
    SocketpairBaseline,
    /// The same bytes to another process through iceoryx2: loaned, filled and sent, with an
    /// event to wake the peer (cargo feature `iceoryx2`).
    Iceoryx2Baseline,
}

impl PathKind {
    /// Every path and baseline, in the order the table shows them.
    pub const ALL: [PathKind; 10] = [
        PathKind::IpcOn,
        PathKind::IpcOff,
        PathKind::Socket,
        PathKind::Shm,
        PathKind::ShmLoan,
        PathKind::Dds,
        PathKind::ChannelBaseline,
        PathKind::MemcpyBaseline,
        PathKind::SocketpairBaseline,
        PathKind::Iceoryx2Baseline,
    ];

    /// The name in the table, the JSON and the plot.
    pub fn name(self) -> &'static str {
        match self {
            PathKind::IpcOn => "ipc-on",
            PathKind::IpcOff => "ipc-off",
            PathKind::Socket => "socket",
            PathKind::Shm => "shm",
            PathKind::ShmLoan => "shm-loan",
            PathKind::Dds => "dds",
            PathKind::ChannelBaseline => "channel-baseline",
            PathKind::MemcpyBaseline => "memcpy-baseline",
            PathKind::SocketpairBaseline => "socketpair-baseline",
            PathKind::Iceoryx2Baseline => "iceoryx2-baseline",
        }
    }

    pub fn is_baseline(self) -> bool {
        matches!(
            self,
            PathKind::ChannelBaseline
                | PathKind::MemcpyBaseline
                | PathKind::SocketpairBaseline
                | PathKind::Iceoryx2Baseline
        )
    }
}

/// `ipc-lab bench`: what a run measures and how it reports, decided by the command line
/// (the plan's [`crate::cli::plan::Action::Bench`]) and read by the bench as it is.
#[derive(Debug, Clone)]
pub struct BenchPlan {
    /// Payload sizes in bytes, ascending.
    pub sizes: Vec<usize>,
    /// The image pipeline's frames, width and height, smallest first.
    pub pipeline_sizes: Vec<(u32, u32)>,
    /// A run of a few seconds instead of about a minute.
    pub quick: bool,
    /// Bytes of other memory written before each timed hop (`--camera-write`), 0 for none:
    /// a camera's write of a frame, which evicts what the hop had in the caches and the TLB.
    pub camera_write: usize,
    /// The domain of the socket path; the shared-memory path takes the next one.
    pub domain: u32,
    /// The command line, as `ipc-lab ps` shows the bench and its peers.
    pub command: String,
    /// JSON lines instead of the table.
    pub json: bool,
    /// Where to write the chart.
    pub plot: Option<std::path::PathBuf>,
}

/// Why a bench could not run to the end.
#[derive(Debug)]
pub enum BenchError {
    /// Ctrl-C: the run stops where it is.
    Interrupted,
    /// A node could not be created.
    Node(NodeError),
    /// A publisher or subscription could not be created.
    Create(CreateError),
    /// The transport between processes could not start.
    Transport(TransportError),
    /// The peer process could not be started or talked to.
    Peer(io::Error),
    /// The peer process did not report a message within the time limit.
    PeerSilent { path: PathKind },
    /// A message sent on this thread never arrived: a bug in the engine or the bench.
    Lost { path: PathKind },
    /// A baseline's socketpair or thread failed.
    Io(io::Error),
    /// The image pipeline could not be built.
    Pipeline(DemoError),
    /// The direct loop could not draw on its own message: a bug, since the synthetic camera
    /// makes `bgr8` frames only.
    Image(ImageError),
    /// A run of the image pipeline ended before its view had shown two frames: a bug in the
    /// engine or the bench.
    NoFrames { pipeline: PipelineKind },
    /// iceoryx2 refused something on the `iceoryx2-baseline` path: what, and why.
    Iceoryx2(String),
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BenchError::Interrupted => write!(f, "interrupted"),
            BenchError::Node(e) => e.fmt(f),
            BenchError::Create(e) => e.fmt(f),
            BenchError::Transport(e) => e.fmt(f),
            BenchError::Peer(e) => write!(f, "the peer process: {e}"),
            BenchError::PeerSilent { path } => {
                write!(
                    f,
                    "the peer process of the {} path reported nothing for {:?}",
                    path.name(),
                    remote::PEER_TIMEOUT
                )
            }
            BenchError::Lost { path } => write!(f, "a message on the {} path never arrived", path.name()),
            BenchError::Io(e) => e.fmt(f),
            BenchError::Pipeline(e) => write!(f, "the image pipeline: {e}"),
            BenchError::Image(e) => e.fmt(f),
            BenchError::NoFrames { pipeline } => {
                write!(f, "a run of {} ended before its view had shown two frames", pipeline.name())
            }
            BenchError::Iceoryx2(e) => write!(f, "iceoryx2: {e}"),
        }
    }
}

impl std::error::Error for BenchError {}

impl From<NodeError> for BenchError {
    fn from(e: NodeError) -> Self {
        BenchError::Node(e)
    }
}

impl From<CreateError> for BenchError {
    fn from(e: CreateError) -> Self {
        BenchError::Create(e)
    }
}

/// Every path and baseline offers the same three measurements.
pub(crate) trait Path {
    fn kind(&self) -> PathKind;

    /// One message of `bytes`: nanoseconds from just before the send to the receipt.
    fn hop(&mut self, bytes: usize) -> Result<u64, BenchError>;

    /// `n` messages sent back to back: nanoseconds from the first send to the last receipt.
    fn burst(&mut self, bytes: usize, n: usize) -> Result<u64, BenchError>;

    /// Copies per hop: counted from the engine's trace for a path, by construction for a
    /// baseline.
    fn copies(&mut self, bytes: usize) -> Result<f64, BenchError>;
}

/// The message every path carries: `bytes` of pixels in one `mono8` row.
pub(crate) fn image(bytes: usize) -> Box<Image> {
    Box::new(Image {
        header: Header { frame_id: "bench".into(), ..Header::default() },
        height: 1,
        width: bytes as u32,
        encoding: "mono8".into(),
        step: bytes as u32,
        data: vec![0xA5; bytes],
        ..Image::default()
    })
}

/// Messages that came out of a hop, to be sent again: no hop pays for making its message.
#[derive(Default)]
pub(crate) struct Pool {
    /// Kept in their boxes: `publish` takes a `UniquePtr`, and unboxing would move them.
    #[allow(clippy::vec_box)]
    messages: Vec<Box<Image>>,
}

impl Pool {
    /// A message of `bytes`, one given back if there is one.
    pub(crate) fn take(&mut self, bytes: usize) -> Box<Image> {
        self.messages.retain(|m| m.data.len() == bytes);
        self.messages.pop().unwrap_or_else(|| image(bytes))
    }

    pub(crate) fn give(&mut self, msg: Box<Image>) {
        self.messages.push(msg);
    }
}

/// The queue depth of every subscription: a burst never overwrites.
pub(crate) const DEPTH: usize = 64;

/// How many messages a burst sends: 32 MiB worth, at least 4 and at most [`DEPTH`].
fn burst_len(bytes: usize) -> usize {
    ((32 << 20) / bytes.max(1)).clamp(4, DEPTH)
}

/// How long a run takes.
#[derive(Debug, Clone, Copy)]
struct Schedule {
    rounds: usize,
    /// Each path and size gets hops for about this long per round...
    batch_ns: u64,
    /// ...but at least this many...
    min_hops: usize,
    /// ...and at most this many.
    max_hops: usize,
}

impl Schedule {
    fn new(quick: bool) -> Self {
        if quick {
            Schedule { rounds: 3, batch_ns: 25_000_000, min_hops: 3, max_hops: 5_000 }
        } else {
            Schedule { rounds: 10, batch_ns: 100_000_000, min_hops: 10, max_hops: 50_000 }
        }
    }
}

/// Where the run is, for a progress bar.
#[derive(Debug, Clone)]
pub struct Step {
    /// Steps done, this one included.
    pub done: usize,
    /// Steps in the whole run.
    pub total: usize,
    /// What this step measured.
    pub what: Measured,
}

/// What a step measured.
#[derive(Debug, Clone, Copy)]
pub enum Measured {
    /// A path or baseline at a message size in bytes.
    Path(PathKind, usize),
    /// The image pipeline, or its direct loop, at a frame size.
    Pipeline(PipelineKind, (u32, u32)),
}

impl fmt::Display for Measured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Measured::Path(path, bytes) => write!(f, "{} {}", path.name(), report::size_label(*bytes)),
            Measured::Pipeline(kind, size) => write!(f, "{} {}", kind.name(), report::frame_label(*size)),
        }
    }
}

/// What one path at one size gave over all rounds.
#[derive(Debug, Default)]
struct Samples {
    /// Each timed hop, in nanoseconds.
    latencies: Vec<u64>,
    /// Messages per second, one per burst.
    throughputs: Vec<f64>,
    /// Copies per hop, counted once before the rounds.
    copies: f64,
}

/// What the image pipeline or its direct loop gave at one frame size over all rounds.
#[derive(Debug, Default)]
struct FrameSamples {
    /// One per round.
    per_second: Vec<f64>,
    /// Copies per frame, counted once before the rounds.
    copies: f64,
}

/// Everything measured so far, by path or pipeline and size.
#[derive(Default)]
struct Collected {
    /// Each path at each payload size.
    paths: BTreeMap<(PathKind, usize), Samples>,
    /// The pipeline and its direct loop at each frame size.
    frames: BTreeMap<(PipelineKind, (u32, u32)), FrameSamples>,
}

/// A run in progress: what it measures with, and where the samples go.
struct Measuring<'a> {
    /// The sizes to measure and how long.
    plan: &'a BenchPlan,
    /// Every path and baseline, opened.
    paths: Vec<Box<dyn Path>>,
    /// How many rounds and hops.
    schedule: Schedule,
    /// Only watches for Ctrl-C, which shuts every context down.
    watch: Context,
    collected: Collected,
    /// Written before each timed hop (`--camera-write`); empty for none.
    camera: CameraWrite,
    /// Called after each step, for the progress bar.
    step: &'a mut dyn FnMut(Measured),
}

/// Runs the bench: opens every path (starting the peer processes), counts copies, then
/// measures in interleaved rounds. Ctrl-C ends it early with what was measured so far.
pub fn run(plan: &BenchPlan, progress: &mut dyn FnMut(&Step)) -> Result<report::Results, BenchError> {
    let watch = Context::init();
    let schedule = Schedule::new(plan.quick);
    let paths = open(plan)?;
    let (sizes, frames) = (plan.sizes.len(), plan.pipeline_sizes.len());
    let total = (paths.len() * sizes + PipelineKind::ALL.len() * frames) * (schedule.rounds + 1);
    let mut done = 0;
    let mut step = |what: Measured| {
        done += 1;
        progress(&Step { done, total, what });
    };
    let camera = CameraWrite::new(plan.camera_write);
    let collected = Collected::default();
    let mut run = Measuring { plan, paths, schedule, watch, collected, camera, step: &mut step };
    let interrupted = match run.measure() {
        Ok(()) => false,
        Err(BenchError::Interrupted) => true,
        Err(e) => return Err(e),
    };
    Ok(run.collected.results(plan, interrupted))
}

impl Measuring<'_> {
    /// The copies of every path at every size, then the rounds.
    fn measure(&mut self) -> Result<(), BenchError> {
        for &bytes in &self.plan.sizes {
            for path in self.paths.iter_mut() {
                self.collected.paths.entry((path.kind(), bytes)).or_default().copies = path.copies(bytes)?;
                (self.step)(Measured::Path(path.kind(), bytes));
            }
        }
        for &size in &self.plan.pipeline_sizes {
            for kind in PipelineKind::ALL {
                let copies = pipeline::copies_per_frame(kind, size, &self.watch)?;
                self.collected.frames.entry((kind, size)).or_default().copies = copies;
                (self.step)(Measured::Pipeline(kind, size));
            }
        }
        for round in 0..self.schedule.rounds {
            self.round(round)?;
        }
        Ok(())
    }

    /// One round: every path at every size, then the pipeline at every frame size, each
    /// round starting with another path so that none is always measured first.
    fn round(&mut self, round: usize) -> Result<(), BenchError> {
        for &bytes in &self.plan.sizes {
            let count = self.paths.len();
            for i in 0..count {
                if !self.watch.ok() {
                    return Err(BenchError::Interrupted);
                }
                let path = &mut self.paths[(i + round) % count];
                let entry = self.collected.paths.entry((path.kind(), bytes)).or_default();
                batch(path.as_mut(), bytes, &self.schedule, entry, &mut self.camera)?;
                (self.step)(Measured::Path(path.kind(), bytes));
            }
        }
        let kinds = PipelineKind::ALL;
        for &size in &self.plan.pipeline_sizes {
            for i in 0..kinds.len() {
                let kind = kinds[(i + round) % kinds.len()];
                let per_second = pipeline::frames_per_second(kind, size, &self.schedule, &self.watch)?;
                self.collected.frames.entry((kind, size)).or_default().per_second.push(per_second);
                (self.step)(Measured::Pipeline(kind, size));
            }
        }
        Ok(())
    }
}

impl Collected {
    /// The medians and percentiles of what was measured.
    fn results(self, plan: &BenchPlan, interrupted: bool) -> report::Results {
        let rows = self
            .paths
            .into_iter()
            .filter(|(_, s)| !s.latencies.is_empty())
            .map(|((path, bytes), mut s)| {
                s.latencies.sort_unstable();
                report::Row {
                    path,
                    bytes,
                    p50_ns: stats::percentile(&s.latencies, 50.0),
                    p99_ns: stats::percentile(&s.latencies, 99.0),
                    msgs_per_s: stats::median(&mut s.throughputs),
                    copies: s.copies,
                    samples: s.latencies.len(),
                }
            })
            .collect();
        let pipeline = self
            .frames
            .into_iter()
            .filter(|(_, s)| !s.per_second.is_empty())
            .map(|((kind, (width, height)), mut s)| report::PipelineRow {
                kind,
                width,
                height,
                fps: stats::median(&mut s.per_second),
                copies_per_frame: s.copies,
                runs: s.per_second.len(),
            })
            .collect();
        let (sizes, pipeline_sizes) = (plan.sizes.clone(), plan.pipeline_sizes.clone());
        let camera_write = plan.camera_write;
        report::Results { rows, sizes, pipeline, pipeline_sizes, camera_write, interrupted }
    }
}

/// Opens every path and baseline; the peer processes start here, all before any is waited
/// for.
fn open(plan: &BenchPlan) -> Result<Vec<Box<dyn Path>>, BenchError> {
    let socket = remote::RemotePath::open(PathKind::Socket, plan)?;
    let shm = remote::RemotePath::open(PathKind::Shm, plan)?;
    let shm_loan = remote::RemotePath::open(PathKind::ShmLoan, plan)?;
    let dds = if cfg!(feature = "dds") { Some(remote::RemotePath::open(PathKind::Dds, plan)?) } else { None };
    #[cfg(feature = "iceoryx2")]
    let iceoryx2 = iceoryx2::Iceoryx2Path::open(plan.sizes.last().copied().unwrap_or(1))?;
    let mut paths: Vec<Box<dyn Path>> = vec![
        Box::new(local::LocalPath::open(true)?),
        Box::new(local::LocalPath::open(false)?),
        Box::new(socket.connected()?),
        Box::new(shm.connected()?),
        Box::new(shm_loan.connected()?),
    ];
    if let Some(dds) = dds {
        paths.push(Box::new(dds.connected()?));
    }
    paths.push(Box::new(baselines::Channel::default()));
    paths.push(Box::new(baselines::Memcpy::default()));
    paths.push(Box::new(baselines::Socketpair::open()?));
    #[cfg(feature = "iceoryx2")]
    paths.push(Box::new(iceoryx2.connected()?));
    Ok(paths)
}

/// `--camera-write`: memory written before each timed hop, as a camera writes a frame just
/// before it is published. Allocated once, outside every clock; its pages fault in on the
/// first write, which comes before the first timed hop.
struct CameraWrite {
    frame: Vec<u8>,
    /// How many times the frame was written; its low byte is what the last write wrote, so
    /// each write changes every byte.
    writes: usize,
}

impl CameraWrite {
    fn new(bytes: usize) -> Self {
        CameraWrite { frame: vec![0; bytes], writes: 0 }
    }

    /// Writes the whole frame with a value it did not hold (nothing reads it, so black_box
    /// keeps the compiler from dropping the writes).
    fn write(&mut self) {
        self.writes += 1;
        self.frame.fill(self.writes as u8);
        std::hint::black_box(&mut self.frame);
    }
}

/// One round of one path at one size: a warm-up hop, timed hops, then a burst. Before each
/// timed hop, `camera` is written (`--camera-write`), outside the hop's clock, which each
/// path starts itself. The camera's writes count against the round's time, so with a large
/// `--camera-write` a round takes fewer hops, never fewer than `min_hops`.
fn batch(
    path: &mut dyn Path,
    bytes: usize,
    schedule: &Schedule,
    samples: &mut Samples,
    camera: &mut CameraWrite,
) -> Result<(), BenchError> {
    // The first hop at a new size pays for cold caches and fresh pages: not counted.
    path.hop(bytes)?;
    let start = clock::now_ns();
    let mut hops = 0;
    while hops < schedule.max_hops && (hops < schedule.min_hops || clock::now_ns() - start < schedule.batch_ns) {
        camera.write();
        samples.latencies.push(path.hop(bytes)?);
        hops += 1;
    }
    let n = burst_len(bytes);
    let ns = path.burst(bytes, n)?.max(1);
    samples.throughputs.push(n as f64 * 1e9 / ns as f64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A path that only counts its hops and bursts.
    #[derive(Default)]
    struct Counting {
        hops: usize,
        bursts: usize,
    }

    impl Path for Counting {
        fn kind(&self) -> PathKind {
            PathKind::ShmLoan
        }
        fn hop(&mut self, _bytes: usize) -> Result<u64, BenchError> {
            self.hops += 1;
            Ok(1)
        }
        fn burst(&mut self, _bytes: usize, _n: usize) -> Result<u64, BenchError> {
            self.bursts += 1;
            Ok(1)
        }
        fn copies(&mut self, _bytes: usize) -> Result<f64, BenchError> {
            Ok(0.0)
        }
    }

    #[test]
    fn the_camera_writes_its_frame_once_before_every_timed_hop_and_not_before_the_warm_up() {
        let schedule = Schedule { rounds: 1, batch_ns: 0, min_hops: 5, max_hops: 5 };
        let (mut path, mut samples, mut camera) = (Counting::default(), Samples::default(), CameraWrite::new(4096));
        batch(&mut path, 64, &schedule, &mut samples, &mut camera).unwrap();
        // One warm-up hop, five timed ones, each after a write of the whole frame.
        assert_eq!((path.hops, samples.latencies.len(), path.bursts), (6, 5, 1));
        assert_eq!(camera.writes, 5);
        assert!(camera.frame.iter().all(|&b| b == 5), "the last write covers the whole frame");
    }
}
