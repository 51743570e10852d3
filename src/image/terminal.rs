//! A frame as text: truecolor half blocks (`▀`, the top pixel in the foreground colour and
//! the bottom one in the background, so a character cell holds two square pixels), or
//! plain characters by brightness when colour is off.

use std::fmt::Write;

use super::Mat;

/// From dark to bright, for plain text.
const RAMP: &[u8] = b" .:-=+*#%@";

/// A frame scaled down for the terminal: `cols` pixels wide and `2 * lines` tall, two pixels
/// to a character cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub cols: u32,
    pub lines: u32,
    /// Row by row, the top pixel and the bottom pixel of each cell next to each other.
    cells: Vec<[[u8; 3]; 2]>,
}

impl Picture {
    /// `mat` at most `max_cols` wide and `max_lines` lines tall, keeping its shape.
    pub fn of(mat: &Mat<'_>, max_cols: u32, max_lines: u32) -> Picture {
        let (width, height) = (f64::from(mat.cols()), f64::from(mat.rows()));
        if mat.cols() == 0 || mat.rows() == 0 {
            return Picture { cols: 0, lines: 0, cells: Vec::new() };
        }
        // As wide as allowed, unless the height is the tighter limit.
        let by_height = (f64::from(max_lines.max(1)) * 2.0 * width / height).floor() as u32;
        let cols = mat.cols().min(max_cols.max(1)).min(by_height.max(1));
        let scale = width / f64::from(cols);
        let lines = ((height / scale / 2.0).round() as u32).max(1);
        // The pixel under the middle of a cell's half.
        let at = |col: u32, half: f64| {
            let x = ((f64::from(col) + 0.5) * scale) as u32;
            let y = (half * scale) as u32;
            mat.rgb(x.min(mat.cols() - 1), y.min(mat.rows() - 1))
        };
        let mut cells = Vec::with_capacity((cols * lines) as usize);
        for line in 0..lines {
            for col in 0..cols {
                let top = f64::from(line) * 2.0 + 0.5;
                cells.push([at(col, top), at(col, top + 1.0)]);
            }
        }
        Picture { cols, lines, cells }
    }

    /// The picture's lines of text, `cols` columns each, without newlines.
    pub fn text(&self, color: bool) -> Vec<String> {
        let rows = self.cells.chunks(self.cols.max(1) as usize);
        rows.map(|row| {
            let mut line = String::new();
            for [top, bottom] in row {
                if color {
                    let _ = write!(
                        line,
                        "\x1b[38;2;{};{};{}m\x1b[48;2;{};{};{}m▀",
                        top[0], top[1], top[2], bottom[0], bottom[1], bottom[2]
                    );
                } else {
                    let [r, g, b] = top.map(u32::from);
                    let luma = (r * 299 + g * 587 + b * 114) / 1000;
                    line.push(char::from(RAMP[luma as usize * (RAMP.len() - 1) / 255]));
                }
            }
            if color {
                line.push_str("\x1b[0m");
            }
            line
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{Encoding, Frame};

    /// A white pixel over a black one is one half block; plain text shows brightness.
    #[test]
    fn half_blocks_and_plain() {
        let mut frame = Frame::new(1, 2, Encoding::Mono8);
        frame.data = vec![255, 0];
        let picture = Picture::of(&frame.mat(), 80, 40);
        assert_eq!(picture.text(true), ["\x1b[38;2;255;255;255m\x1b[48;2;0;0;0m▀\x1b[0m"]);
        assert_eq!(picture.text(false), ["@"]);
    }

    /// A 4:3 frame fills the width it is given unless the lines run out first: two pixel
    /// rows per line.
    #[test]
    fn the_tighter_limit_decides_and_the_shape_stays() {
        let mut frame = Frame::new(320, 240, Encoding::Bgr8);
        let wide = Picture::of(&frame.mat(), 80, 100);
        assert_eq!((wide.cols, wide.lines), (80, 30));
        let short = Picture::of(&frame.mat(), 80, 15);
        assert_eq!((short.cols, short.lines), (40, 15));
    }
}
