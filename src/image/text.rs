//! `draw_on_image`: a line of green text at x = 10 and a baseline `y`, as upstream's
//! `common.hpp` draws it with OpenCV (`cv::putText`, Hershey simplex, scale 0.3). The
//! default build draws with a built-in bitmap font instead; the `opencv` build calls
//! `putText` itself.
//!
//! ```
//! use ipc_lab::image::text::{put_text, Color};
//! use ipc_lab::image::{Encoding, Frame};
//!
//! let mut frame = Frame::new(64, 24, Encoding::Bgr8);
//! put_text(&mut frame.mat(), "pid", 10, 20, 1, Color::GREEN);
//! assert!(frame.data.chunks(3).any(|p| p == [0, 255, 0])); // green, in BGR order
//! ```

use super::Mat;
use crate::engine::Node;

/// A text colour, as it lands in each encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color {
    /// Blue, green, red.
    pub bgr: [u8; 3],
    /// On a grey image. OpenCV takes the first channel of the colour (blue), so upstream's
    /// green text comes out black on `mono8` and `mono16` frames; kept that way.
    pub grey: u8,
}

impl Color {
    /// Upstream's `cv::Scalar(0, 255, 0)`.
    pub const GREEN: Color = Color { bgr: [0, 255, 0], grey: 0 };
    /// The synthetic camera's frame counter.
    pub const WHITE: Color = Color { bgr: [255, 255, 255], grey: 255 };
}

/// Draws a node's lines on frames and tells the trace what it drew.
#[derive(Clone)]
pub struct Pen {
    /// Whose trace hears what is drawn; nobody's for the bench's direct loop, which draws
    /// the nodes' lines with no engine at all.
    node: Option<Node>,
    /// `--text-scale`: 1 is upstream's size; 2 and more multiply the letters and the
    /// baselines, so that a learner can read them.
    scale: u32,
}

impl Pen {
    pub fn new(node: &Node, scale: u32) -> Self {
        Self { node: Some(node.clone()), scale: scale.max(1) }
    }

    /// A pen that tells no trace: the same lines, drawn where there is no node.
    pub fn untraced(scale: u32) -> Self {
        Self { node: None, scale: scale.max(1) }
    }

    /// Upstream's `draw_on_image(image, text, height)`.
    pub fn draw_on_image(&self, image: &mut Mat<'_>, text: &str, height: i32) {
        put_text(image, text, 10, height * self.scale as i32, self.scale, Color::GREEN);
        if let Some(node) = &self.node {
            node.trace_drawn(height, text);
        }
    }
}

/// `cv::putText` with the built-in 5x8 font: each font pixel a `scale` x `scale` square,
/// clipped at the picture's edges.
#[cfg(not(feature = "opencv"))]
pub fn put_text(image: &mut Mat<'_>, text: &str, x: i32, y: i32, scale: u32, color: Color) {
    use super::font;

    let s = scale.max(1) as i32;
    let top = y - (font::ASCENT as i32) * s;
    for (i, c) in text.chars().enumerate() {
        let left = x + i as i32 * font::ADVANCE as i32 * s;
        for gy in 0..font::HEIGHT {
            for gx in 0..font::WIDTH {
                if font::pixel(c, gx, gy) {
                    fill(image, left + gx as i32 * s, top + gy as i32 * s, s, color);
                }
            }
        }
    }
}

/// Paints an `s` x `s` square whose top left corner is (`x`, `y`).
#[cfg(not(feature = "opencv"))]
fn fill(image: &mut Mat<'_>, x: i32, y: i32, s: i32, color: Color) {
    let (cols, rows) = (image.cols() as i32, image.rows() as i32);
    let (encoding, step) = (image.encoding(), image.step());
    let bpp = encoding.bytes_per_pixel();
    let pixel = match encoding {
        super::Encoding::Bgr8 => [color.bgr[0], color.bgr[1], color.bgr[2], 0],
        // Opaque, so the text shows in a PNG.
        super::Encoding::Rgba8 => [color.bgr[2], color.bgr[1], color.bgr[0], 255],
        super::Encoding::Mono8 | super::Encoding::Mono16 => [color.grey; 4],
    };
    let data = image.data_mut();
    for py in y.max(0)..(y + s).min(rows) {
        for px in x.max(0)..(x + s).min(cols) {
            let at = py as usize * step + px as usize * bpp;
            data[at..at + bpp].copy_from_slice(&pixel[..bpp]);
        }
    }
}

/// `cv::putText` itself, on the pixels in place: Hershey simplex at 0.3 per `scale`.
#[cfg(feature = "opencv")]
pub fn put_text(image: &mut Mat<'_>, text: &str, x: i32, y: i32, scale: u32, color: Color) {
    super::cv::put_text(image, text, x, y, 0.3 * f64::from(scale.max(1)), color);
}
