//! The upstream demos, one file each, reading like their C++ originals in
//! `ros2/demos/intra_process_demo`. What they print goes out as `Printed` trace events, so
//! every view of the run sees the lines in order with everything else.

use std::time::Duration;

use crate::engine::{CreateError, NodeError};

pub mod copies;
pub mod cyclic_pipeline;
pub mod image_pipeline;
pub mod two_node_pipeline;

/// The demo's `printf`: formats a line and hands it to the trace of a node or context.
macro_rules! printf {
    ($target:expr, $($arg:tt)*) => {
        $target.printf(format_args!($($arg)*))
    };
}
pub(crate) use printf;

/// What the command line may change in a demo; everything else is as upstream.
#[derive(Debug, Clone, Copy)]
pub struct DemoOptions {
    /// `use_intra_process_comms` for every node (upstream: true).
    pub use_intra_process_comms: bool,
    /// The timer period and the cyclic demo's sleep (upstream: 1 s).
    pub period: Duration,
}

/// Why a demo could not start.
#[derive(Debug)]
pub enum DemoError {
    /// A node name was refused.
    Node(NodeError),
    /// A publisher or subscription was refused.
    Create(CreateError),
    /// The camera node's capture did not open (upstream throws this and exits).
    CouldNotOpenVideoStream,
}

impl std::fmt::Display for DemoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DemoError::Node(e) => e.fmt(f),
            DemoError::Create(e) => e.fmt(f),
            DemoError::CouldNotOpenVideoStream => f.write_str("Could not open video stream!"),
        }
    }
}

impl std::error::Error for DemoError {}

impl From<NodeError> for DemoError {
    fn from(e: NodeError) -> Self {
        DemoError::Node(e)
    }
}

impl From<CreateError> for DemoError {
    fn from(e: CreateError) -> Self {
        DemoError::Create(e)
    }
}
