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
//!     The transport under it reaches it only through a callback, so no module needs the
//!     other both ways.
//!   - [`engine::cdr`], [`engine::msg`]: ROS 2's wire format and the message types.
//!   - [`engine::trace`]: what happened, as events; [`engine::text`]: their inline text.
//!   - [`engine::guard_condition`]: how executors wait for work without allocating.
//!   - [`engine::transport`]: between processes: one `Transport` trait (announce, send,
//!     receive), discovery in the runtime directory, and two transports: the bytes through a
//!     Unix socket, or in a sealed shared-memory segment;
//!     [`engine::transport::dds`]: what a real ROS 2 node puts on DDS (topic and type names,
//!     RIHS01 type hashes, QoS, the `ros_discovery_info` graph).
//! - [`demos`]: one file per upstream demo, reading like the C++ original.
//! - [`image`]: what the image pipeline takes from OpenCV: frames, text, cameras, views
//!   (built in, or OpenCV itself with the `opencv` feature).
//! - [`render`]: events in, text out (`classic`, `side`, `json`, the `copies` table, `ps`).
//! - [`labels`]: how pids and addresses are written (`--stable`'s `@1`, `pid#1`), shared by
//!   the renderers and the image demos, which write them on frames.
//! - [`cli`]: clap definitions, then a validated plan.
//! - [`app`]: runs a plan: demo threads (or child processes) feed events to a renderer;
//!   the image pipeline's fallbacks and measurements are in `app/image_pipeline.rs`;
//!   [`app::ps`] collects `ipc-lab ps` from the announcements in the runtime directory.
//! - [`lessons`]: the Korean lessons, compiled in from `lessons/` (an index and a file per
//!   lesson), and a small Markdown renderer for the terminal.
//! - [`bench`](mod@bench): what a hop costs on each path, beside the physical limits (`ipc-lab bench`).
//! - [`child_process`]: children of ipc-lab that never outlive it.
//! - [`i18n`]: the tool's own words in Korean and English.
//! - [`safe_file`]: files written all or nothing, never through a symlink.
//!
//! # Design decisions worth knowing
//! - A shared message is `Arc<Box<M>>` ([`engine::ConstSharedPtr`]), not `Arc<M>`: turning
//!   an owned `Box<M>` into `Arc<M>` would move the message to a new address, a copy the
//!   C++ original (`shared_ptr` adopting a `unique_ptr`'s object) never makes.
//! - Copies are counted from what the engine did, never from addresses: a freed block can
//!   come back, so a new message may show an old address (the side view marks it `↺`).
//! - Through the middleware a `UniquePtr` callback gets a copy of the message the
//!   middleware decoded, as rclcpp's dispatch makes one: IPC off costs three copies per hop
//!   for such a callback, two for a `ConstSharedPtr` one.
//! - `--stable` output repeats exactly: trace values and printed lines live inline (no heap
//!   memory freed on another thread), waits never allocate, and `--ipc both` runs its two
//!   variants in two child processes. Labels are per process and address.
//! - Between processes, children and peers print or send their trace as JSON lines and
//!   frames; `--split` merges them into one view.

// A closed stdout or stderr must never become a panic: output is written and a failure
// ignored (`app::notice`, the renderers' `Write`), never printed with `println!`.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod app;
pub mod bench;
pub mod child_process;
pub mod cli;
pub mod demos;
pub mod engine;
pub mod i18n;
pub mod image;
pub mod labels;
pub mod ledger;
pub mod lessons;
pub mod render;
pub mod safe_file;
