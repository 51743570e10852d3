//! Imaging for the image pipeline: what upstream takes from OpenCV, in small pieces.
//!
//! - [`Frame`] and [`Mat`]: an owned picture (the camera's capture buffer) and a view of
//!   pixels that belong to someone else (an `Image` message's, wrapped without copying, as
//!   `cv::Mat(msg->height, msg->width, type, msg->data.data())` does upstream);
//! - [`text`]: `draw_on_image`, the green `pid: …, ptr: …` lines;
//! - [`capture`]: where frames come from (a camera, a video file, or [`synthetic`]);
//! - [`view`]: where frames go (a window, the terminal, PNG files, or nowhere);
//!   [`terminal`]: a frame as a picture in text.
//!
//! The default build needs no system library: the synthetic camera, a built-in bitmap font,
//! and the terminal or PNG views. With the `opencv` feature, `cv` brings the real thing:
//! `VideoCapture`, `putText` and `imshow`.
//!
//! ```
//! use ipc_lab::engine::msg::sensor_msgs::Image;
//! use ipc_lab::image::{Encoding, Frame, Mat};
//!
//! let mut frame = Frame::new(4, 2, Encoding::Bgr8);
//! assert_eq!((frame.step(), frame.data.len()), (12, 24));
//! let mut msg = Image { height: 2, width: 4, encoding: "bgr8".into(), step: 12, data: vec![0; 24], ..Image::default() };
//! let pixels = msg.data.as_ptr();
//! let mat = Mat::wrap(&mut msg).unwrap();
//! assert_eq!(mat.data().as_ptr(), pixels); // the message's own pixels: no copy
//! msg.encoding = "yuv422".into();
//! assert!(Mat::wrap(&mut msg).is_err());
//! ```

pub mod capture;
#[cfg(feature = "opencv")]
pub mod cv;
#[cfg(not(feature = "opencv"))]
mod font;
pub mod synthetic;
pub mod terminal;
pub mod text;
pub mod view;

use std::fmt;

use crate::engine::loan::Loaned;
use crate::engine::msg::sensor_msgs::Image;

/// Why pixels could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageError {
    /// Upstream's `encoding2mat_type` knows four encodings and throws on any other.
    UnsupportedEncoding(String),
    /// `step`, `width` and `height` ask for more bytes than `data` holds.
    TooFewBytes { needed: usize, got: usize },
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageError::UnsupportedEncoding(name) => {
                write!(f, "Unsupported encoding type '{name}' (bgr8, rgba8, mono8 and mono16 are supported)")
            }
            ImageError::TooFewBytes { needed, got } => {
                write!(f, "the image needs {needed} bytes of pixels but has {got}")
            }
        }
    }
}

impl std::error::Error for ImageError {}

/// How pixels are laid out: the four encodings upstream's `common.hpp` maps to OpenCV types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Blue, green, red: a byte each (`CV_8UC3`, what cameras give OpenCV).
    Bgr8,
    /// Red, green, blue, alpha: a byte each (`CV_8UC4`).
    Rgba8,
    /// One byte of grey (`CV_8UC1`).
    Mono8,
    /// Sixteen bits of grey, little-endian as ROS sends it (`CV_16SC1` upstream).
    Mono16,
}

impl Encoding {
    /// Upstream's `encoding2mat_type`: a ROS encoding name to a pixel layout.
    pub fn from_ros(name: &str) -> Result<Self, ImageError> {
        match name {
            "bgr8" => Ok(Encoding::Bgr8),
            "rgba8" => Ok(Encoding::Rgba8),
            "mono8" => Ok(Encoding::Mono8),
            "mono16" => Ok(Encoding::Mono16),
            other => Err(ImageError::UnsupportedEncoding(other.to_string())),
        }
    }

    /// Upstream's `mat_type2encoding`: the ROS name.
    pub fn ros_name(self) -> &'static str {
        match self {
            Encoding::Bgr8 => "bgr8",
            Encoding::Rgba8 => "rgba8",
            Encoding::Mono8 => "mono8",
            Encoding::Mono16 => "mono16",
        }
    }

    pub fn bytes_per_pixel(self) -> usize {
        match self {
            Encoding::Mono8 => 1,
            Encoding::Mono16 => 2,
            Encoding::Bgr8 => 3,
            Encoding::Rgba8 => 4,
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ros_name())
    }
}

/// An owned picture, rows without padding: the camera's capture buffer (`cv::Mat frame_`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub cols: u32,
    pub rows: u32,
    pub encoding: Encoding,
    pub data: Vec<u8>,
}

impl Frame {
    /// A black picture.
    pub fn new(cols: u32, rows: u32, encoding: Encoding) -> Self {
        let len = cols as usize * rows as usize * encoding.bytes_per_pixel();
        Self { cols, rows, encoding, data: vec![0; len] }
    }

    /// A copy of an image message's pixels.
    pub fn from_image(msg: &Image) -> Result<Self, ImageError> {
        Self::copy_of(msg.width, msg.height, msg.step, &msg.encoding, &msg.data)
    }

    /// A copy of a loaned image's pixels, read where they are.
    pub fn from_loaned(msg: &Loaned<Image>) -> Result<Self, ImageError> {
        Self::copy_of(msg.width(), msg.height(), msg.step(), msg.encoding(), msg.data())
    }

    fn copy_of(cols: u32, height: u32, step: u32, encoding: &str, pixels: &[u8]) -> Result<Self, ImageError> {
        let encoding = Encoding::from_ros(encoding)?;
        let row = cols as usize * encoding.bytes_per_pixel();
        let step = (step as usize).max(row);
        check_size(step, row, height as usize, pixels.len())?;
        let rows = pixels.chunks(step).take(height as usize);
        let data = rows.flat_map(|r| &r[..row]).copied().collect();
        Ok(Self { cols, rows: height, encoding, data })
    }

    /// Where its pixels are, and how many bytes they take.
    pub fn data_address(&self) -> usize {
        self.data.as_ptr() as usize
    }

    pub fn data_len(&self) -> usize {
        self.data.len()
    }

    /// Bytes per row.
    pub fn step(&self) -> usize {
        self.cols as usize * self.encoding.bytes_per_pixel()
    }

    /// A view of these pixels, to draw on.
    pub fn mat(&mut self) -> Mat<'_> {
        let step = self.step();
        Mat { cols: self.cols, rows: self.rows, encoding: self.encoding, step, data: &mut self.data }
    }
}

impl Default for Frame {
    fn default() -> Self {
        Self::new(0, 0, Encoding::Bgr8)
    }
}

/// Pixels that belong to someone else, seen as a picture: `cv::Mat` over a buffer it does
/// not own. Drawing on it changes the owner's pixels.
#[derive(Debug)]
pub struct Mat<'a> {
    cols: u32,
    rows: u32,
    encoding: Encoding,
    /// Bytes per row, padding included.
    step: usize,
    data: &'a mut [u8],
}

impl<'a> Mat<'a> {
    /// The message's own pixels, without copying (upstream's `cv::Mat cv_mat(msg->height,
    /// msg->width, encoding2mat_type(msg->encoding), msg->data.data())`).
    pub fn wrap(msg: &'a mut Image) -> Result<Self, ImageError> {
        let encoding = Encoding::from_ros(&msg.encoding)?;
        let row = msg.width as usize * encoding.bytes_per_pixel();
        // Upstream passes no step, so OpenCV assumes rows without padding; a sender's
        // larger step is honoured here.
        let step = (msg.step as usize).max(row);
        check_size(step, row, msg.height as usize, msg.data.len())?;
        Ok(Self { cols: msg.width, rows: msg.height, encoding, step, data: &mut msg.data })
    }

    pub fn cols(&self) -> u32 {
        self.cols
    }

    pub fn rows(&self) -> u32 {
        self.rows
    }

    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    pub fn step(&self) -> usize {
        self.step
    }

    pub fn data(&self) -> &[u8] {
        self.data
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        self.data
    }

    /// The colour at (`x`, `y`) as red, green, blue, for views. Grey stays grey; the top
    /// byte of a 16-bit grey is enough for a screen.
    pub fn rgb(&self, x: u32, y: u32) -> [u8; 3] {
        let at = y as usize * self.step + x as usize * self.encoding.bytes_per_pixel();
        let p = &self.data[at..];
        match self.encoding {
            Encoding::Bgr8 => [p[2], p[1], p[0]],
            Encoding::Rgba8 => [p[0], p[1], p[2]],
            Encoding::Mono8 => [p[0]; 3],
            Encoding::Mono16 => [p[1]; 3],
        }
    }
}

/// Enough bytes for `rows` rows of `row` bytes, `step` apart. Received images were checked
/// when decoded ([`Image::check`]); this guards the pictures made here, in checked
/// arithmetic all the same.
fn check_size(step: usize, row: usize, rows: usize, got: usize) -> Result<(), ImageError> {
    let needed = match rows {
        0 => Some(0),
        _ => step.checked_mul(rows - 1).and_then(|n| n.checked_add(row)),
    };
    match needed {
        Some(needed) if got >= needed && (step > 0 || rows == 0) => Ok(()),
        Some(needed) => Err(ImageError::TooFewBytes { needed, got }),
        None => Err(ImageError::TooFewBytes { needed: usize::MAX, got }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Message;
    use proptest::prelude::*;

    proptest! {
        /// The Image path beyond the frame decoder: any image that decodes is one every
        /// consumer can use (a frame copied out, the message wrapped, every pixel read)
        /// without a panic; sizes near the limits of u32 included.
        #[test]
        fn any_image_that_decodes_can_be_shown(
            width in prop_oneof![0u32..6, Just(1 << 31), Just(u32::MAX)],
            height in prop_oneof![0u32..6, Just(1 << 31), Just(u32::MAX)],
            step in prop_oneof![0u32..30, Just(u32::MAX)],
            encoding in prop_oneof![Just("mono8"), Just("mono16"), Just("bgr8"), Just("rgba8"), Just("rgb16"), Just("")],
            len in 0usize..200,
        ) {
            let msg = Image { width, height, step, encoding: encoding.into(), data: vec![1; len], ..Default::default() };
            if let Ok(mut decoded) = Image::from_cdr(&msg.to_cdr()) {
                let frame = Frame::from_image(&decoded).expect("a valid image copies");
                prop_assert_eq!(frame.data.len(), frame.step() * height as usize);
                let mat = Mat::wrap(&mut decoded).expect("a valid image wraps");
                let _ = mat.rgb(width - 1, height - 1);
            }
        }
    }
}
