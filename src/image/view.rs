//! Where frames go: upstream's `cv::imshow` window, or, without one, the terminal, PNG files,
//! or nowhere.
//!
//! ```
//! use ipc_lab::image::view::Show;
//!
//! assert_eq!("png:out".parse::<Show>(), Ok(Show::Png("out".into())));
//! assert!("png:".parse::<Show>().is_err());
//! ```

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{terminal, Encoding, Mat};

/// A place to show frames.
pub trait Window: Send {
    /// `cv::imshow(winname, mat)`.
    fn imshow(&mut self, winname: &str, mat: &Mat<'_>) -> io::Result<()>;

    /// `cv::waitKey(delay)`: the key pressed meanwhile, or -1. Only a real window has keys;
    /// the others return at once.
    fn wait_key(&mut self, _delay_ms: i32) -> i32 {
        -1
    }
}

/// `--show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Show {
    /// A window if this build has one and there is a display, else the terminal if stdout
    /// is one, else nowhere.
    Auto,
    Window,
    Terminal,
    /// One PNG file per frame and view, in this folder.
    Png(PathBuf),
    None,
}

/// `--show` was not understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadShow;

impl FromStr for Show {
    type Err = BadShow;

    fn from_str(s: &str) -> Result<Self, BadShow> {
        match s {
            "auto" => Ok(Show::Auto),
            "window" => Ok(Show::Window),
            "terminal" => Ok(Show::Terminal),
            "none" => Ok(Show::None),
            _ => match s.strip_prefix("png:") {
                Some(dir) if !dir.is_empty() => Ok(Show::Png(PathBuf::from(dir))),
                _ => Err(BadShow),
            },
        }
    }
}

/// `--show none`: frames go nowhere (the pipeline still does all its work).
pub struct Nowhere;

impl Window for Nowhere {
    fn imshow(&mut self, _winname: &str, _mat: &Mat<'_>) -> io::Result<()> {
        Ok(())
    }
}

/// The first frame that could not be shown, kept for the program to report: a view shows
/// frames from a subscription callback, which has nobody to return an error to.
pub type ShowFailure = Arc<Mutex<Option<io::Error>>>;

/// Any window, keeping its first failure in a [`ShowFailure`].
pub struct Reporting {
    window: Box<dyn Window>,
    failed: ShowFailure,
}

impl Reporting {
    pub fn new(window: Box<dyn Window>, failed: ShowFailure) -> Self {
        Self { window, failed }
    }
}

impl Window for Reporting {
    fn imshow(&mut self, winname: &str, mat: &Mat<'_>) -> io::Result<()> {
        self.window.imshow(winname, mat).inspect_err(|e| {
            let mut failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
            failed.get_or_insert_with(|| io::Error::new(e.kind(), e.to_string()));
        })
    }

    fn wait_key(&mut self, delay_ms: i32) -> i32 {
        self.window.wait_key(delay_ms)
    }
}

/// `--show png:DIR`: every frame a view shows becomes `DIR/<view>-<n>.png`, n from 0001.
pub struct PngFiles {
    dir: PathBuf,
    shown: u64,
}

impl PngFiles {
    pub fn new(dir: &Path) -> Self {
        Self { dir: dir.to_path_buf(), shown: 0 }
    }
}

impl Window for PngFiles {
    fn imshow(&mut self, winname: &str, mat: &Mat<'_>) -> io::Result<()> {
        self.shown += 1;
        let path = self.dir.join(format!("{winname}-{:04}.png", self.shown));
        // Named in the error: which file, out of hundreds, could not be written.
        write_png(&path, mat).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
    }
}

/// Writes `mat` as a PNG file, all or nothing ([`crate::safe_file`]): a full disk leaves no
/// partial picture, and a symlink at `path` is refused rather than written through.
pub fn write_png(path: &Path, mat: &Mat<'_>) -> io::Result<()> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(io::Error::new(io::ErrorKind::AlreadyExists, "a symlink is there; it is not written through"));
    }
    let mut encoded = Vec::new();
    encode_png(&mut encoded, mat)?;
    crate::safe_file::replace(path, 0o644, |file| file.write_all(&encoded))
}

/// `mat` in PNG: colour as RGB or RGBA, grey as 8 or 16 bits.
fn encode_png(out: &mut Vec<u8>, mat: &Mat<'_>) -> io::Result<()> {
    let mut encoder = png::Encoder::new(out, mat.cols(), mat.rows());
    let (color, depth) = match mat.encoding() {
        Encoding::Bgr8 => (png::ColorType::Rgb, png::BitDepth::Eight),
        Encoding::Rgba8 => (png::ColorType::Rgba, png::BitDepth::Eight),
        Encoding::Mono8 => (png::ColorType::Grayscale, png::BitDepth::Eight),
        Encoding::Mono16 => (png::ColorType::Grayscale, png::BitDepth::Sixteen),
    };
    encoder.set_color(color);
    encoder.set_depth(depth);
    let row = mat.cols() as usize * mat.encoding().bytes_per_pixel();
    let rows = mat.data().chunks(mat.step()).take(mat.rows() as usize).map(|r| &r[..row]);
    // PNG wants RGB where the frame has BGR, and big-endian where ROS sends little-endian.
    let pixels: Vec<u8> = match mat.encoding() {
        Encoding::Bgr8 => rows.flat_map(|r| r.chunks(3).flat_map(|p| [p[2], p[1], p[0]])).collect(),
        Encoding::Mono16 => rows.flat_map(|r| r.chunks(2).flat_map(|p| [p[1], p[0]])).collect(),
        Encoding::Rgba8 | Encoding::Mono8 => rows.flatten().copied().collect(),
    };
    let mut writer = encoder.write_header().map_err(io::Error::other)?;
    writer.write_image_data(&pixels).map_err(io::Error::other)?;
    writer.finish().map_err(io::Error::other)
}

/// `--show terminal`: a small picture of the frame on stderr (stdout carries the trace),
/// in truecolor half blocks when stderr is a terminal, else in plain characters.
pub struct Terminal {
    /// Width of the picture, in characters.
    columns: u32,
    color: bool,
    /// When a frame was last drawn: a terminal can take a few pictures a second, not hundreds.
    last: Option<Instant>,
    shown: u64,
}

impl Terminal {
    /// Pictures at most this often per view; the frames in between are shown to nobody.
    const INTERVAL: Duration = Duration::from_millis(250);

    pub fn new(color: bool) -> Self {
        let columns = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(80u32);
        Self { columns: columns.clamp(16, 160), color: color && io::stderr().is_terminal(), last: None, shown: 0 }
    }
}

impl Window for Terminal {
    fn imshow(&mut self, winname: &str, mat: &Mat<'_>) -> io::Result<()> {
        self.shown += 1;
        let now = Instant::now();
        if self.last.is_some_and(|last| now - last < Self::INTERVAL) {
            return Ok(());
        }
        self.last = Some(now);
        let title = format!("── {winname} · {} · {}x{} {}\n", self.shown, mat.cols(), mat.rows(), mat.encoding());
        let picture = terminal::preview(mat, self.columns, self.color);
        // One write, so that other output cannot land in the middle of the picture.
        io::stderr().lock().write_all(format!("{title}{picture}").as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Frame;

    /// A window that fails from its second frame on, and says which.
    struct Flaky(u32);

    impl Window for Flaky {
        fn imshow(&mut self, _winname: &str, _mat: &Mat<'_>) -> io::Result<()> {
            self.0 += 1;
            if self.0 < 2 {
                Ok(())
            } else {
                Err(io::Error::other(format!("frame {} lost", self.0)))
            }
        }

        fn wait_key(&mut self, _delay_ms: i32) -> i32 {
            i32::from(b'q')
        }
    }

    #[test]
    fn a_reporting_window_keeps_the_first_failure_and_passes_the_rest_on() {
        let failed = ShowFailure::default();
        let mut window = Reporting::new(Box::new(Flaky(0)), failed.clone());
        let mut frame = Frame::new(16, 16, Encoding::Bgr8);
        assert!(window.imshow("v", &frame.mat()).is_ok());
        assert!(failed.lock().unwrap().is_none());
        assert!(window.imshow("v", &frame.mat()).is_err());
        assert!(window.imshow("v", &frame.mat()).is_err());
        assert_eq!(failed.lock().unwrap().as_ref().map(ToString::to_string).as_deref(), Some("frame 2 lost"));
        assert_eq!(window.wait_key(1), i32::from(b'q'));
    }
}
