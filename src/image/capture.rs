//! Where frames come from: upstream's `cv::VideoCapture`, over a camera, a video file, or
//! the [synthetic camera](super::synthetic).
//!
//! ```
//! use ipc_lab::image::capture::Source;
//!
//! assert_eq!("camera:2".parse::<Source>(), Ok(Source::Camera(2)));
//! assert_eq!("synthetic".parse::<Source>(), Ok(Source::Synthetic));
//! assert!(matches!("clip.mp4".parse::<Source>(), Ok(Source::File(_))));
//! ```

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use super::synthetic::SyntheticCamera;
use super::Frame;
use crate::engine::Context;

/// A source of frames.
pub trait VideoCapture: Send {
    /// `isOpened()`: whether frames can be read.
    fn is_opened(&self) -> bool;
    /// `cap >> frame`: the next frame, into `frame` (reusing its buffer). False when there
    /// are no more: the end of a video, `--frames` reached, a camera gone.
    fn read(&mut self, frame: &mut Frame) -> bool;
}

/// `--source`: where the camera node's frames come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Camera 0 if there is one, else the synthetic camera.
    Auto,
    /// A capture device, like upstream's `cap_.open(0)`.
    Camera(i32),
    Synthetic,
    /// A video file.
    File(PathBuf),
}

/// `--source` was not understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadSource;

impl FromStr for Source {
    type Err = BadSource;

    fn from_str(s: &str) -> Result<Self, BadSource> {
        match s {
            "auto" => Ok(Source::Auto),
            "camera" => Ok(Source::Camera(0)),
            "synthetic" => Ok(Source::Synthetic),
            "" => Err(BadSource),
            _ => match s.strip_prefix("camera:") {
                Some(n) => n.parse().ok().filter(|n| *n >= 0).map(Source::Camera).ok_or(BadSource),
                None => Ok(Source::File(PathBuf::from(s))),
            },
        }
    }
}

/// Why a video file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// This build has nothing to decode video with (it was built without `opencv`).
    NoDecoder(PathBuf),
    /// OpenCV could not open it as a video.
    Unreadable(PathBuf),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::NoDecoder(path) => write!(
                f,
                "cannot read the video file '{}': this build has no video decoder (build with --features opencv)",
                path.display()
            ),
            OpenError::Unreadable(path) => write!(f, "cannot read the video file '{}' as a video", path.display()),
        }
    }
}

impl std::error::Error for OpenError {}

/// A capture that never opened: a camera in a build without OpenCV.
struct Closed;

impl VideoCapture for Closed {
    fn is_opened(&self) -> bool {
        false
    }

    fn read(&mut self, _frame: &mut Frame) -> bool {
        false
    }
}

/// Opens `source`, asking for `cols` x `rows` like upstream's `cap_.set(CAP_PROP_FRAME_WIDTH, …)`
/// (a camera may give another size; a file gives its own). A camera that cannot be opened
/// comes back closed, as OpenCV's does: the camera node then says so, as upstream's does.
/// `Source::Auto` is the caller's to resolve.
pub fn open(source: &Source, cols: u32, rows: u32) -> Result<Box<dyn VideoCapture>, OpenError> {
    match source {
        Source::Synthetic => Ok(Box::new(SyntheticCamera::new(cols, rows))),
        #[cfg(feature = "opencv")]
        Source::Camera(index) => Ok(Box::new(super::cv::Capture::camera(*index, cols, rows))),
        #[cfg(feature = "opencv")]
        Source::File(path) => {
            let cap = super::cv::Capture::file(path);
            if cap.is_opened() {
                Ok(Box::new(cap))
            } else {
                Err(OpenError::Unreadable(path.clone()))
            }
        }
        #[cfg(not(feature = "opencv"))]
        Source::File(path) => Err(OpenError::NoDecoder(path.clone())),
        #[cfg(not(feature = "opencv"))]
        Source::Camera(_) => Ok(Box::new(Closed)),
        Source::Auto => Ok(Box::new(Closed)),
    }
}

/// What the command line adds to a capture: a frame rate, a number of frames, and with
/// `--stable` a lockstep.
pub struct Paced {
    inner: Box<dyn VideoCapture>,
    ctx: Context,
    /// Time between frames; zero reads as fast as the source gives them.
    period: Duration,
    /// `--frames`: no more frames after this many.
    limit: Option<u64>,
    /// With `--stable`: before reading the next frame, wait until the last one has been
    /// received by this many callbacks and the executor waits for work again. The camera
    /// then never runs ahead of the pipeline, no frame is dropped, and the threads take turns
    /// in the same order every run, so even the addresses the allocator hands out repeat.
    lockstep: Option<u64>,
    /// Frames read so far.
    count: u64,
    /// When the next frame is due.
    due: Option<Instant>,
}

impl Paced {
    pub fn new(inner: Box<dyn VideoCapture>, ctx: &Context, fps: u32) -> Self {
        let period = if fps == 0 { Duration::ZERO } else { Duration::from_secs(1) / fps };
        Self { inner, ctx: ctx.clone(), period, limit: None, lockstep: None, count: 0, due: None }
    }

    pub fn frames(self, limit: Option<u64>) -> Self {
        Self { limit, ..self }
    }

    pub fn lockstep(self, receipts_per_frame: Option<u64>) -> Self {
        Self { lockstep: receipts_per_frame, ..self }
    }

    /// Waits for the pipeline (lockstep) and for the frame's time; false if shut down meanwhile.
    fn wait_for_turn(&mut self) -> bool {
        if let Some(per_frame) = self.lockstep {
            // A short poll: only `--stable` runs wait here, and they are short.
            let handled = |ctx: &Context| ctx.receipts() >= self.count * per_frame && ctx.is_idle();
            while self.ctx.ok() && !handled(&self.ctx) {
                std::thread::sleep(Duration::from_micros(100));
            }
        }
        if !self.period.is_zero() {
            let now = Instant::now();
            let due = self.due.unwrap_or(now);
            // `sleep_for` ends at once on Ctrl-C, and takes no wake-up from the executor.
            self.ctx.sleep_for(due.saturating_duration_since(now));
            // Late frames are not made up for: the next one is a period after this one.
            self.due = Some(due.max(now) + self.period);
        }
        self.ctx.ok()
    }
}

impl VideoCapture for Paced {
    fn is_opened(&self) -> bool {
        self.inner.is_opened()
    }

    fn read(&mut self, frame: &mut Frame) -> bool {
        if self.limit.is_some_and(|limit| self.count >= limit) || !self.wait_for_turn() {
            return false;
        }
        let read = self.inner.read(frame);
        self.count += u64::from(read);
        read
    }
}
