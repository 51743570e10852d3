//! The image pipeline: `camera_node` -> `watermark_node` -> `image_view_node` (and with two
//! views a fork to `image_view_node2`), upstream's `image_pipeline_all_in_one` and
//! `image_pipeline_with_two_image_view`. Each node writes `pid: <pid>, ptr: <address>` on
//! the frame; with IPC on, all three lines show the same pid and the same pointer.
//!
//! Each node is built on its own, from a context, so that it can live in a process of its
//! own as well as next to the others.
//!
//! Versions: the views' callback is chosen by `--viewer-callback` ([`ViewerCallback`]
//! names the release of each). What the frames look like is pinned to ros2/demos 0.33.5
//! (the jazzy branch as read, before PR #755): 320x240 frames (camera_node.hpp:44 jazzy),
//! Hershey simplex at scale 0.3 (common.hpp:79-85 jazzy), each window titled with its
//! node's name (image_view_node.hpp:58 jazzy). PR #755 (demos 0.33.9) also changed the
//! resolution, the font size and the window titles; ipc-lab does not follow those (its
//! diff was not at hand), only its callback (`--viewer-callback unique`, the default).

pub mod camera;
pub mod image_view;
pub mod watermark;

use crate::engine::{spin, Context, SingleThreadedExecutor};
use crate::image::capture::VideoCapture;
use crate::image::view::Window;
use crate::labels::Labels;

use super::DemoError;
use camera::CameraNode;
use image_view::ImageViewNode;
use watermark::WatermarkNode;

/// What the command line may change in the image pipeline; everything else is as upstream.
#[derive(Clone)]
pub struct ImageOptions {
    /// `use_intra_process_comms` for every node (upstream: true).
    pub use_intra_process_comms: bool,
    /// How a pid and a pointer are written on the frames: as C++ streams print them, or as
    /// `--stable` labels (the same labels as the rest of the output).
    pub labels: Labels,
    /// `--text-scale`: 1 is upstream's size.
    pub text_scale: u32,
    /// What the views' callbacks take.
    pub viewer_callback: ViewerCallback,
    /// `--loan`: the camera and the watermark publish loaned messages
    /// (`borrow_loaned_message`, fill, `publish(loaned)`), in shared memory when a reader is
    /// in another process.
    pub loan: bool,
}

/// The parameter of the image views' callbacks: the whole difference between a copy for
/// one of two views and no copy at all. Upstream's `image_view_node.hpp` changed it twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewerCallback {
    /// `std::unique_ptr<Image>`: each view takes ownership, so one of two views gets a copy.
    /// ros2/demos PR #755 (merged 2025-11-21, backported to Jazzy as demos 0.33.9), which
    /// restored what the demo's text and pictures had always described.
    Unique,
    /// `Image::ConstSharedPtr`: the views share one message, never copied; all six pointers
    /// of two views are equal. Humble to Jazzy, up to demos 0.33.8 (image_view_node.hpp:44
    /// humble and jazzy).
    ConstShared,
    /// `const Image::SharedPtr`: a mutable shared pointer, which rclcpp counts as an owner,
    /// so two views cost one copy as with `unique_ptr`. Ardent to Galactic
    /// (image_view_node.hpp:39 ardent, :40 galactic).
    SharedPtr,
    /// `Loaned<Image>`: a read-only view of the message where the middleware put it (a
    /// shared-memory slot of the publishing process): nothing copied on the way.
    Loaned,
}

/// What the watermark node writes after its pid and pointer, as upstream.
pub const WATERMARK_TEXT: &str = "Hello world!";

/// The process id, as upstream's `GETPID()`.
pub fn getpid() -> u32 {
    std::process::id()
}

/// `pid: <pid>, ptr: <address>`: the line each node writes for the message at `addr`
/// (upstream builds it with a `std::stringstream` in each node).
pub fn pid_and_ptr(labels: &Labels, addr: usize) -> String {
    format!("pid: {}, ptr: {}", labels.pid(getpid()), labels.ptr(getpid(), addr))
}

/// `ipc-lab node camera_node`: the camera alone in this process (upstream's `camera_node`).
pub fn camera_main(ctx: &Context, options: &ImageOptions, cap: Box<dyn VideoCapture>) -> Result<(), DemoError> {
    let mut camera_node = CameraNode::new(ctx, "image", cap, options)?;
    camera_node.start();
    spin(&camera_node.node);
    Ok(())
}

/// `ipc-lab node watermark_node`: the watermark alone in this process.
pub fn watermark_main(ctx: &Context, options: &ImageOptions) -> Result<(), DemoError> {
    let watermark_node = WatermarkNode::new(ctx, "image", "watermarked_image", WATERMARK_TEXT, options)?;
    spin(&watermark_node.node);
    Ok(())
}

/// `ipc-lab node image_view_node`: a view alone in this process, the chapter's second
/// terminal beside `image_pipeline_all_in_one`.
pub fn image_view_main(ctx: &Context, options: &ImageOptions, window: Box<dyn Window>) -> Result<(), DemoError> {
    let image_view_node = ImageViewNode::new(ctx, "watermarked_image", "image_view_node", window, options)?;
    spin(&image_view_node.node);
    Ok(())
}

/// `image_pipeline_all_in_one` (one view) or `image_pipeline_with_two_image_view` (two).
/// `cap` is the camera's source; `window` makes each view's window from its node name.
pub fn main(
    ctx: &Context,
    options: &ImageOptions,
    cap: Box<dyn VideoCapture>,
    views: usize,
    mut window: impl FnMut(&str) -> Box<dyn Window>,
) -> Result<(), DemoError> {
    let mut executor = SingleThreadedExecutor::new();

    // Connect the nodes as a pipeline: camera_node -> watermark_node -> image_view_node
    // And with two views a fork:                                    \-> image_view_node2
    // In upstream's order. The views subscribe after the watermark's publisher exists, so its
    // list holds them in creation order, and the last one, image_view_node2, gets the
    // original when both take ownership (intra_process_manager.hpp:121-149 rolling).
    let mut camera_node = CameraNode::new(ctx, "image", cap, options).map_err(|e| match e {
        // image_pipeline_all_in_one.cpp:33 (jazzy) ends the line with a space before the dots.
        DemoError::CouldNotOpenVideoStream { .. } if views == 1 => {
            DemoError::CouldNotOpenVideoStream { exiting: "Exiting .." }
        }
        e => e,
    })?;
    let watermark_node = WatermarkNode::new(ctx, "image", "watermarked_image", WATERMARK_TEXT, options)?;
    let mut image_view_nodes = Vec::new();
    for name in ["image_view_node", "image_view_node2"].into_iter().take(views) {
        image_view_nodes.push(ImageViewNode::new(ctx, "watermarked_image", name, window(name), options)?);
    }

    executor.add_node(&camera_node.node);
    executor.add_node(&watermark_node.node);
    for image_view_node in &image_view_nodes {
        executor.add_node(&image_view_node.node);
    }

    // Every node exists: the first frame finds everyone listening.
    camera_node.start();
    executor.spin();
    Ok(())
}
