//! A frame as text: truecolor half blocks (`▀`, the top pixel in the foreground colour and
//! the bottom one in the background), or plain characters by brightness when colour is off.

use std::fmt::Write;

use super::Mat;

/// From dark to bright, for plain text.
const RAMP: &[u8] = b" .:-=+*#%@";

/// `mat` scaled down to at most `max_cols` columns, keeping its shape (a character cell is
/// about twice as tall as wide: one cell is two pixels of a half block, or one of plain text
/// at half the height).
pub fn preview(mat: &Mat<'_>, max_cols: u32, color: bool) -> String {
    let cols = mat.cols().min(max_cols.max(1));
    if cols == 0 || mat.rows() == 0 {
        return String::new();
    }
    let scale = f64::from(mat.cols()) / f64::from(cols);
    let lines = ((f64::from(mat.rows()) / scale / 2.0).round() as u32).max(1);
    // The pixel under the middle of a cell's half.
    let at = |col: u32, half: f64| {
        let x = ((f64::from(col) + 0.5) * scale) as u32;
        let y = (half * scale) as u32;
        mat.rgb(x.min(mat.cols() - 1), y.min(mat.rows() - 1))
    };
    let mut out = String::new();
    for line in 0..lines {
        for col in 0..cols {
            let top = at(col, f64::from(line) * 2.0 + 0.5);
            let bottom = at(col, f64::from(line) * 2.0 + 1.5);
            if color {
                let _ = write!(
                    out,
                    "\x1b[38;2;{};{};{}m\x1b[48;2;{};{};{}m▀",
                    top[0], top[1], top[2], bottom[0], bottom[1], bottom[2]
                );
            } else {
                let [r, g, b] = top.map(u32::from);
                let luma = (r * 299 + g * 587 + b * 114) / 1000;
                out.push(char::from(RAMP[luma as usize * (RAMP.len() - 1) / 255]));
            }
        }
        out.push_str(if color { "\x1b[0m\n" } else { "\n" });
    }
    out
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
        assert_eq!(preview(&frame.mat(), 80, true), "\x1b[38;2;255;255;255m\x1b[48;2;0;0;0m▀\x1b[0m\n");
        assert_eq!(preview(&frame.mat(), 80, false), "@\n");
    }
}
