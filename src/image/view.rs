//! Where frames go: upstream's `cv::imshow` window, or, without one, the terminal, PNG files,
//! or nowhere.
//!
//! ```
//! use ipc_lab::image::view::Show;
//!
//! assert_eq!("png:out".parse::<Show>(), Ok(Show::Png("out".into())));
//! assert!("png:".parse::<Show>().is_err());
//! ```

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use super::terminal::Picture;
use super::{Encoding, Mat};

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

/// `--show terminal`: each view leaves its latest frame, scaled down, on a [`Board`]; the
/// renderer draws the board on stderr apart from the table (`render::preview`), so that a
/// picture never lands between two rows.
pub struct Terminal {
    board: Board,
    /// Which run the view belongs to (`--ipc both` has two).
    run: usize,
    shown: u64,
}

impl Terminal {
    pub fn new(board: Board, run: usize) -> Self {
        Self { board, run, shown: 0 }
    }
}

impl Window for Terminal {
    fn imshow(&mut self, winname: &str, mat: &Mat<'_>) -> io::Result<()> {
        self.shown += 1;
        let (cols, lines) = self.board.size();
        let shot = Shot {
            run: self.run,
            view: winname.to_string(),
            shown: self.shown,
            frame: format!("{}x{} {}", mat.cols(), mat.rows(), mat.encoding()),
            picture: Picture::of(mat, cols, lines),
        };
        self.board.put(shot);
        Ok(())
    }
}

/// A view's latest frame, as the terminal will show it.
#[derive(Debug, Clone)]
pub struct Shot {
    /// The run it belongs to, in the order of the runs (`--ipc both`: on, then off).
    pub run: usize,
    /// The view's node name, upstream's window name.
    pub view: String,
    /// How many frames this view has shown, this one included: the renderer pairs it with
    /// the view's `shown` events to write the same frame's text under it.
    pub shown: u64,
    /// `320x240 bgr8`.
    pub frame: String,
    pub picture: Picture,
}

/// The latest [`Shot`] of every terminal view, shared by the views (which put) and the
/// renderer (which draws), with the size every picture is made at.
#[derive(Debug, Clone, Default)]
pub struct Board(Arc<Mutex<BoardState>>);

#[derive(Debug, Default)]
struct BoardState {
    /// Columns and lines a picture may take.
    size: (u32, u32),
    /// In the order the views first showed a frame.
    shots: Vec<Shot>,
    /// Grows with every shot put, so the renderer knows when there is something new.
    version: u64,
}

impl Board {
    /// A board whose pictures are at most `cols` wide and `lines` tall.
    pub fn new(cols: u32, lines: u32) -> Board {
        Board(Arc::new(Mutex::new(BoardState { size: (cols, lines), ..BoardState::default() })))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, BoardState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn size(&self) -> (u32, u32) {
        self.state().size
    }

    pub fn put(&self, shot: Shot) {
        let mut state = self.state();
        state.version += 1;
        match state.shots.iter_mut().find(|s| s.run == shot.run && s.view == shot.view) {
            Some(old) => *old = shot,
            None => state.shots.push(shot),
        }
    }

    /// The shots, run by run (IPC on before IPC off, whichever showed a frame first), and
    /// the version they are at.
    pub fn shots(&self) -> (u64, Vec<Shot>) {
        let state = self.state();
        let mut shots = state.shots.clone();
        shots.sort_by_key(|shot| shot.run);
        (state.version, shots)
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
