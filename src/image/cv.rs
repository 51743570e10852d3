//! The `opencv` feature: upstream's own calls. `VideoCapture` for a camera or a video file,
//! `putText` for the text lines, `imshow` and `waitKey` for the windows.

use std::ffi::c_void;
use std::io;
use std::path::Path;

use opencv::core::{self, Scalar, CV_16SC1, CV_8UC1, CV_8UC3, CV_8UC4};
use opencv::prelude::*;
use opencv::{highgui, imgproc, videoio};

use super::capture::VideoCapture;
use super::text::Color;
use super::view::Window;
use super::{Encoding, Frame};

/// A camera or a video file, through OpenCV.
pub struct Capture {
    cap: Option<videoio::VideoCapture>,
    /// OpenCV's buffer for the frame it decodes.
    decoded: core::Mat,
    /// A camera may fail a read now and then (upstream just tries again); a file has ended.
    is_camera: bool,
}

impl Capture {
    /// Upstream's `cap_.open(device)`, then the size it asks for.
    pub fn camera(index: i32, cols: u32, rows: u32) -> Self {
        quiet();
        let cap = videoio::VideoCapture::new(index, videoio::CAP_ANY).ok().map(|mut cap| {
            // A camera that cannot give this size gives another: that is fine.
            let _ = cap.set(videoio::CAP_PROP_FRAME_WIDTH, f64::from(cols));
            let _ = cap.set(videoio::CAP_PROP_FRAME_HEIGHT, f64::from(rows));
            cap
        });
        Self { cap, decoded: core::Mat::default(), is_camera: true }
    }

    pub fn file(path: &Path) -> Self {
        quiet();
        // FFmpeg only: other backends (GStreamer) add their own complaints about a bad file.
        let cap = videoio::VideoCapture::from_file(&path.to_string_lossy(), videoio::CAP_FFMPEG).ok();
        Self { cap, decoded: core::Mat::default(), is_camera: false }
    }
}

/// OpenCV warns on stderr about every camera it cannot open; ipc-lab says so itself.
fn quiet() {
    let _ = core::set_log_level(core::LogLevel::LOG_LEVEL_ERROR);
}

impl VideoCapture for Capture {
    fn is_opened(&self) -> bool {
        self.cap.as_ref().is_some_and(|cap| cap.is_opened().unwrap_or(false))
    }

    fn read(&mut self, frame: &mut Frame) -> bool {
        /// How many empty reads in a row a camera may have before it counts as gone.
        const CAMERA_RETRIES: u32 = 100;
        let Some(cap) = &mut self.cap else { return false };
        for _ in 0..=if self.is_camera { CAMERA_RETRIES } else { 0 } {
            if cap.read(&mut self.decoded).unwrap_or(false) && !self.decoded.empty() {
                return take(&self.decoded, frame);
            }
        }
        false
    }
}

/// Copies OpenCV's decoded frame into the camera's frame (a frame of another pixel type
/// than the four encodings ends the capture, as upstream's `mat_type2encoding` throws).
fn take(decoded: &core::Mat, frame: &mut Frame) -> bool {
    let encoding = match decoded.typ() {
        CV_8UC3 => Encoding::Bgr8,
        CV_8UC4 => Encoding::Rgba8,
        CV_8UC1 => Encoding::Mono8,
        // Upstream's `mat_type2encoding` (common.hpp:55-56 jazzy): a signed 16-bit frame is
        // mono16; an unsigned one is an unsupported type there, and here.
        CV_16SC1 => Encoding::Mono16,
        _ => return false,
    };
    let (cols, rows) = (decoded.cols() as u32, decoded.rows() as u32);
    let Ok(bytes) = decoded.data_bytes() else { return false };
    *frame = Frame { cols, rows, encoding, data: std::mem::take(&mut frame.data) };
    frame.data.clear();
    frame.data.extend_from_slice(bytes);
    true
}

/// The OpenCV type of an encoding: upstream's `encoding2mat_type`, which makes `mono16`
/// signed (`CV_16SC1`, common.hpp:39-40 jazzy), although ROS's image encodings call it
/// unsigned; the bytes are the same, only how OpenCV reads and shows them differs.
fn mat_type(encoding: Encoding) -> i32 {
    match encoding {
        Encoding::Bgr8 => CV_8UC3,
        Encoding::Rgba8 => CV_8UC4,
        Encoding::Mono8 => CV_8UC1,
        Encoding::Mono16 => CV_16SC1,
    }
}

/// A `cv::Mat` over the pixels of `image`, without copying, for one call.
fn with_cv_mat<T>(image: &super::Mat<'_>, f: impl FnOnce(&mut core::Mat) -> T) -> Option<T> {
    let (rows, cols) = (image.rows() as i32, image.cols() as i32);
    let data = image.data().as_ptr().cast_mut().cast::<c_void>();
    // SAFETY: the `cv::Mat` points at `image`'s pixels, which hold `step` bytes for each of
    // `rows` rows but the last, which holds a whole row (checked when the `Mat` was made). It
    // lives only inside this function, while `image` is borrowed, so the pixels outlive it.
    // OpenCV writes through it only where the caller has `image` borrowed mutably (`put_text`).
    let mut cv_mat = unsafe {
        core::Mat::new_rows_cols_with_data_unsafe(rows, cols, mat_type(image.encoding()), data, image.step())
    }
    .ok()?;
    Some(f(&mut cv_mat))
}

/// `cv::putText` with upstream's font and colour, on the pixels in place.
pub fn put_text(image: &mut super::Mat<'_>, text: &str, x: i32, y: i32, font_scale: f64, color: Color) {
    let [b, g, r] = color.bgr.map(f64::from);
    let grey = f64::from(color.grey);
    let scalar = match image.encoding() {
        Encoding::Bgr8 => Scalar::new(b, g, r, 0.0),
        // Opaque, so the text shows in a PNG.
        Encoding::Rgba8 => Scalar::new(r, g, b, 255.0),
        Encoding::Mono8 => Scalar::all(grey),
        Encoding::Mono16 => Scalar::all(grey * 257.0),
    };
    with_cv_mat(image, |cv_mat| {
        let origin = core::Point::new(x, y);
        let font = imgproc::FONT_HERSHEY_SIMPLEX;
        let _ = imgproc::put_text(cv_mat, text, origin, font, font_scale, scalar, 1, imgproc::LINE_8, false);
    });
}

/// Whether highgui can open a window. Debian's highgui (Qt) aborts the whole process when
/// there is no display, so this is asked before the first highgui call.
pub fn has_display() -> bool {
    if cfg!(target_os = "linux") {
        ["DISPLAY", "WAYLAND_DISPLAY"].iter().any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()))
    } else {
        true
    }
}

/// `--show window`: a highgui window per view, titled with the node's name.
pub struct HighGui {
    /// After the name: which run the window belongs to, with `--ipc both`.
    suffix: String,
}

impl HighGui {
    pub fn new(suffix: &str) -> Self {
        Self { suffix: suffix.to_string() }
    }
}

impl Window for HighGui {
    fn imshow(&mut self, winname: &str, mat: &super::Mat<'_>) -> io::Result<()> {
        let title = format!("{winname}{}", self.suffix);
        with_cv_mat(mat, |cv_mat| highgui::imshow(&title, cv_mat))
            .ok_or_else(|| io::Error::other("cannot wrap the frame for OpenCV"))?
            .map_err(io::Error::other)
    }

    fn wait_key(&mut self, delay_ms: i32) -> i32 {
        highgui::wait_key(delay_ms).unwrap_or(-1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Frame;

    /// A mono16 frame reaches OpenCV as upstream's `CV_16SC1` (common.hpp:39-40 jazzy), and
    /// only a frame of that type is taken as mono16, as `mat_type2encoding` does.
    #[test]
    fn mono16_is_signed_as_upstream() {
        let mut frame = Frame::new(4, 2, Encoding::Mono16);
        assert_eq!(with_cv_mat(&frame.mat(), |m| m.typ()), Some(CV_16SC1));
        let signed = core::Mat::new_rows_cols_with_default(2, 4, CV_16SC1, Scalar::all(0.0)).unwrap();
        assert!(take(&signed, &mut frame));
        assert_eq!(frame.encoding, Encoding::Mono16);
        let unsigned = core::Mat::new_rows_cols_with_default(2, 4, core::CV_16UC1, Scalar::all(0.0)).unwrap();
        assert!(!take(&unsigned, &mut frame));
    }
}
