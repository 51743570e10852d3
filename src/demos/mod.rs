//! The upstream demos, one file each, reading like their C++ originals in
//! `ros2/demos/intra_process_demo`. What they print goes out as `Printed` trace events, so
//! every view of the run sees the lines in order with everything else.

use std::time::Duration;

use crate::engine::{Context, CreateError, NodeError, QoS};

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
    /// The QoS of every publisher and subscription (upstream: keep last 10, reliable,
    /// volatile).
    pub qos: QoS,
    /// `--loan` (two-node): the producer publishes loaned messages and the consumer takes
    /// `Loaned<Int32>` views of them, read where the middleware put them.
    pub loan: bool,
}

/// A demo's `main`, or one node's: what the runner calls on a worker thread.
pub type DemoMain = fn(&Context, DemoOptions) -> Result<(), DemoError>;

/// A number demo, declared once: the command line, the runner and the child processes of
/// `--split` and `--ipc both` all read it from [`DEMOS`]. (The image pipeline has its own
/// options and a `main` of another shape: `app/image_pipeline.rs` runs it.)
#[derive(Debug)]
pub struct Demo {
    /// The subcommand, as clap names it (`two-node`); a test ties the two.
    pub command: &'static str,
    /// The upstream executable it reproduces (`two_node_pipeline`), for titles.
    pub upstream: &'static str,
    /// All its nodes in one process.
    pub main: DemoMain,
    /// Its nodes, as `ipc-lab node NAME` runs each alone, in the order `--split` starts them.
    pub nodes: &'static [DemoNode],
}

/// One node of a number demo.
#[derive(Debug)]
pub struct DemoNode {
    /// Its name, as typed after `ipc-lab node` and as the node calls itself.
    pub name: &'static str,
    /// The node alone in this process.
    pub main: DemoMain,
    /// Its share of `--count` when each node runs in its own process.
    pub count: CountShare,
}

/// How a node of `--split` takes its share of `--count` (the receipts the run stops after),
/// so that the receipts of all the nodes add up to the number asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountShare {
    /// All of them: it receives every message.
    All,
    /// None: it receives nothing, and is stopped once the counting nodes are done.
    Stopped,
    /// Half, rounded up: it receives first in a message that alternates between two nodes.
    HalfUp,
    /// Half, rounded down; a node with no receipt to wait for is stopped instead.
    HalfDown,
}

impl CountShare {
    /// This node's `--count` when the whole run's is `count`.
    pub fn of(self, count: Option<u64>) -> Option<u64> {
        match self {
            CountShare::All => count,
            CountShare::Stopped => None,
            CountShare::HalfUp => count.map(|n| n.div_ceil(2)),
            CountShare::HalfDown => count.map(|n| n / 2).filter(|&n| n > 0),
        }
    }
}

/// `two_node_pipeline`.
pub static TWO_NODE: Demo = Demo {
    command: "two-node",
    upstream: "two_node_pipeline",
    main: two_node_pipeline::main,
    // The consumer counts the received messages; the producer is stopped after it.
    nodes: &[
        DemoNode { name: "consumer", main: two_node_pipeline::consumer_main, count: CountShare::All },
        DemoNode { name: "producer", main: two_node_pipeline::producer_main, count: CountShare::Stopped },
    ],
};

/// `cyclic_pipeline`.
pub static CYCLIC: Demo = Demo {
    command: "cyclic",
    upstream: "cyclic_pipeline",
    main: cyclic_pipeline::main,
    // The message alternates: pipe2 receives first, so it gets the larger half.
    nodes: &[
        DemoNode { name: "pipe2", main: cyclic_pipeline::pipe2_main, count: CountShare::HalfUp },
        DemoNode { name: "pipe1", main: cyclic_pipeline::pipe1_main, count: CountShare::HalfDown },
    ],
};

/// The number demos.
pub static DEMOS: [&Demo; 2] = [&TWO_NODE, &CYCLIC];

/// The node of a number demo called `name`; `None` for the image pipeline's nodes.
pub fn node(name: &str) -> Option<&'static DemoNode> {
    DEMOS.iter().flat_map(|d| d.nodes).find(|n| n.name == name)
}

/// Why a demo could not start.
#[derive(Debug)]
pub enum DemoError {
    /// A node name was refused.
    Node(NodeError),
    /// A publisher or subscription was refused.
    Create(CreateError),
    /// The camera node's capture did not open (upstream throws this and exits).
    CouldNotOpenVideoStream {
        /// How the upstream `main` that catches it ends its line: `Exiting..` in
        /// camera_node.cpp:29 and image_pipeline_with_two_image_view.cpp:34, `Exiting ..`
        /// (a space) in image_pipeline_all_in_one.cpp:33 (jazzy).
        exiting: &'static str,
    },
}

impl std::fmt::Display for DemoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DemoError::Node(e) => e.fmt(f),
            DemoError::Create(e) => e.fmt(f),
            DemoError::CouldNotOpenVideoStream { .. } => f.write_str("Could not open video stream!"),
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
