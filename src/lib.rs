//! ipc-lab: ROS 2 intra-process communication (IPC), reproduced without ROS.
//!
//! The demos of `ros2/demos/intra_process_demo` run here on a small pub/sub engine shaped
//! like rclcpp, and every address, pid and copy they show is measured from that engine:
//! with IPC on, ownership of one heap message moves from publisher to subscriber (the same
//! address on both sides); with IPC off, the message is serialized to CDR and a new one is
//! deserialized on the other side.
//!
//! # Layout
//! - [`engine`]: the pub/sub engine. It never prints and knows nothing of the command line.
//!   - [`engine::context`], [`engine::node`], [`engine::publisher`],
//!     [`engine::subscription`], [`engine::timer`], [`engine::executor`]: rclcpp's names.
//!   - [`engine::intra_process`]: the intra-process manager's copy rules.
//!   - [`engine::middleware`]: the path without IPC (serialize, hand over bytes, deserialize).
//!   - [`engine::cdr`], [`engine::msg`]: ROS 2's wire format and the message types.
//!   - [`engine::trace`]: what happened, as events.
//!   - [`engine::guard_condition`]: how executors wait for work without allocating.
//! - [`demos`]: one file per upstream demo, reading like the C++ original.
//! - [`image`]: what the image pipeline takes from OpenCV: frames, text, cameras, views
//!   (built in, or OpenCV itself with the `opencv` feature).
//! - [`render`]: events in, text out (`classic`, `side`, `json`, the `copies` table).
//! - [`cli`]: clap definitions, then a validated plan.
//! - [`app`]: runs a plan: demo threads (or child processes) feed events to a renderer;
//!   the image pipeline's fallbacks and measurements are in `app/image_pipeline.rs`.
//! - [`image`]: frames and their pixels for the image pipeline: the synthetic camera, the
//!   bitmap font, PNG and terminal views, and OpenCV behind the `opencv` feature.
//! - [`lessons`]: the Korean lessons, compiled in from `lessons/` (an index and a file per
//!   lesson), and a small Markdown renderer for the terminal.
//! - [`bench`]: what a hop costs on each path, beside the physical limits (`ipc-lab bench`).
//! - [`i18n`]: the tool's own words in Korean and English.
//!
//! # A design decision worth knowing
//! A shared message is `Arc<Box<M>>` ([`engine::ConstSharedPtr`]), not `Arc<M>`: turning
//! an owned `Box<M>` into `Arc<M>` would move the message to a new address, a copy the C++
//! original (`shared_ptr` adopting a `unique_ptr`'s object) never makes.

pub mod app;
pub mod bench;
pub mod cli;
pub mod demos;
pub mod engine;
pub mod i18n;
pub mod image;
pub mod lessons;
pub mod ps;
pub mod render;
