//! A trace sink that counts copies with the ledger, switched on only for the short counted pass: the timed
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

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::engine::trace::{TraceEvent, TraceSink};
use crate::ledger::Ledger;

/// Files the trace's events in a [`Ledger`] while switched on, and says how many copies it
/// holds: the bench's copies are the ledger's, as every view's are.
#[derive(Debug, Default)]
pub struct CopyCounter {
    on: AtomicBool,
    ledger: Mutex<Ledger>,
}

impl CopyCounter {
    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts counting from zero.
    pub fn start(&self) {
        *self.ledger() = Ledger::default();
        self.on.store(true, Ordering::SeqCst);
    }

    /// Stops counting and returns the copies seen since [`CopyCounter::start`], whichever
    /// receipt they were for.
    pub fn stop(&self) -> u64 {
        self.on.store(false, Ordering::SeqCst);
        self.ledger().totals().all.copies
    }
}

impl TraceSink for CopyCounter {
    fn record(&self, event: TraceEvent) {
        self.ledger().record(&event);
    }

    /// Off, the engine builds no event at all: a timed run costs what an untraced one does.
    fn enabled(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }
}
