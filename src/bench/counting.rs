//! A trace sink that counts copies, switched on only for the short counted pass: the timed
//! runs do not pay for tracing.
//!
//! ```
//! use std::sync::Arc;
//! use ipc_lab::bench::counting::CopyCounter;
//! use ipc_lab::engine::msg::std_msgs::Int32;
//! use ipc_lab::engine::{ConstSharedPtr, Context, InitOptions, Node, NodeOptions, SingleThreadedExecutor};
//!
//! let counter = Arc::new(CopyCounter::default());
//! let ctx = Context::init_with(InitOptions::default().sink(counter.clone()).domain_id(900));
//! let node = Node::new(&ctx, "n", NodeOptions::default()).unwrap(); // IPC off
//! let publisher = node.create_publisher::<Int32>("t", 10).unwrap();
//! let _sub = node.create_subscription("t", 10, |_: ConstSharedPtr<Int32>| {}).unwrap();
//! counter.start();
//! publisher.publish(Box::new(Int32 { data: 1 }));
//! let mut executor = SingleThreadedExecutor::new();
//! executor.add_node(&node);
//! executor.spin_some();
//! assert_eq!(counter.stop(), 2); // serialized, deserialized
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::engine::trace::{TraceEvent, TraceSink};

/// Counts the trace events that copy a message (`bytes_copied`), while switched on.
#[derive(Debug, Default)]
pub struct CopyCounter {
    on: AtomicBool,
    copies: AtomicU64,
}

impl CopyCounter {
    /// Starts counting from zero.
    pub fn start(&self) {
        self.copies.store(0, Ordering::SeqCst);
        self.on.store(true, Ordering::SeqCst);
    }

    /// Stops counting and returns the copies seen since [`CopyCounter::start`].
    pub fn stop(&self) -> u64 {
        self.on.store(false, Ordering::SeqCst);
        self.copies.load(Ordering::SeqCst)
    }
}

impl TraceSink for CopyCounter {
    fn record(&self, event: TraceEvent) {
        if event.kind.bytes_copied().is_some() {
            self.copies.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Off, the engine builds no event at all: a timed run costs what an untraced one does.
    fn enabled(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }
}
