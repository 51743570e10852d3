//! The synthetic camera: a moving test pattern with a frame counter, at any size. It needs
//! no camera and no system library, and every run paints the same frames.
//!
//! ```
//! use ipc_lab::image::capture::VideoCapture;
//! use ipc_lab::image::synthetic::SyntheticCamera;
//! use ipc_lab::image::Frame;
//!
//! let mut cap = SyntheticCamera::new(320, 240);
//! let (mut first, mut second) = (Frame::default(), Frame::default());
//! assert!(cap.read(&mut first) && cap.read(&mut second));
//! assert_eq!((first.cols, first.rows, first.encoding.ros_name()), (320, 240, "bgr8"));
//! assert_ne!(first, second); // the bars move
//! ```

use super::capture::VideoCapture;
use super::text::{put_text, Color};
use super::{Encoding, Frame};

/// Colour bars at 75 %, in BGR: white, yellow, cyan, green, magenta, red, blue.
const BARS: [[u8; 3]; 7] =
    [[191, 191, 191], [0, 191, 191], [191, 191, 0], [0, 191, 0], [191, 0, 191], [0, 0, 191], [191, 0, 0]];
/// Behind the nodes' three text lines (baselines 20, 40, 60): dark, so green reads well.
const BAND: [u8; 3] = [40, 40, 40];
/// How far the bars move per frame, in pixels.
const SPEED: u64 = 4;

/// A camera that paints its frames.
#[derive(Debug, Clone)]
pub struct SyntheticCamera {
    cols: u32,
    rows: u32,
    /// Frames read so far.
    count: u64,
}

impl SyntheticCamera {
    pub fn new(cols: u32, rows: u32) -> Self {
        Self { cols, rows, count: 0 }
    }

    /// Paints frame number `n` (from 1): a dark band on top, bars moving left below it,
    /// and `frame n` at the bottom left.
    pub fn paint(&self, frame: &mut Frame, n: u64) {
        if (frame.cols, frame.rows, frame.encoding) != (self.cols, self.rows, Encoding::Bgr8) {
            *frame = Frame::new(self.cols, self.rows, Encoding::Bgr8);
        }
        let cols = self.cols as usize;
        let band_rows = (self.rows as usize).min(72);
        let shift = (n * SPEED) as usize;
        let bars: Vec<u8> =
            (0..cols).flat_map(|x| BARS[((x + shift) % cols.max(1)) * BARS.len() / cols.max(1)]).collect();
        for (y, row) in frame.data.chunks_mut(cols * 3).enumerate() {
            if y < band_rows {
                row.chunks_mut(3).for_each(|p| p.copy_from_slice(&BAND));
            } else {
                row.copy_from_slice(&bars);
            }
        }
        let baseline = self.rows as i32 - 4;
        put_text(&mut frame.mat(), &format!("frame {n}"), 10, baseline, 1, Color::WHITE);
    }
}

impl VideoCapture for SyntheticCamera {
    fn is_opened(&self) -> bool {
        true
    }

    fn read(&mut self, frame: &mut Frame) -> bool {
        self.count += 1;
        self.paint(frame, self.count);
        true
    }
}
