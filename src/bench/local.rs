//! The paths inside one process: `ipc-on` and `ipc-off`. Both nodes live in one context,
//! and one thread publishes and then spins the executor until the callback has run, as
//! upstream's demos do with their single-threaded executor: no thread is woken, so the
//! hop costs what the engine and its copies cost, nothing else.
//!
//! Messages are recycled: the callback hands the message it got back to the publisher's
//! side, so no hop pays for making a message (with IPC off it is the one the middleware
//! decoded: its pixels are the copy the hop made).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::clock::now_ns;
use super::counting::CopyCounter;
use super::{BenchError, Path, PathKind, Pool, DEPTH};
use crate::engine::msg::sensor_msgs::Image;
use crate::engine::{
    ConstSharedPtr, Context, InitOptions, Node, NodeOptions, Publisher, SingleThreadedExecutor, Subscription,
};

/// A domain no other process can join (ROS domains end at 232) and no transport of the
/// bench serves: the in-process paths stay in the process.
const LOCAL_DOMAIN: u32 = 1000;

/// What the callback leaves for the measuring thread.
#[derive(Default)]
struct Inbox {
    received: AtomicU64,
    /// When the last callback started.
    last_ns: AtomicU64,
    /// Messages given back, to be published again.
    pool: Mutex<Pool>,
}

pub struct LocalPath {
    kind: PathKind,
    ctx: Context,
    counter: Arc<CopyCounter>,
    publisher: Publisher<Image>,
    /// Kept alive: dropping the handle removes the subscription.
    _subscription: Subscription<Image>,
    executor: SingleThreadedExecutor,
    inbox: Arc<Inbox>,
}

impl LocalPath {
    /// `ipc-on` with `ipc`, else `ipc-off`: a talker and a listener node in a new context.
    pub fn open(ipc: bool) -> Result<Self, BenchError> {
        let kind = if ipc { PathKind::IpcOn } else { PathKind::IpcOff };
        let counter = Arc::new(CopyCounter::default());
        let ctx = Context::init_with(InitOptions::default().sink(counter.clone()).domain_id(LOCAL_DOMAIN));
        let options = NodeOptions::default().use_intra_process_comms(ipc);
        let talker = Node::new(&ctx, "talker", options)?;
        let listener = Node::new(&ctx, "listener", options)?;
        let topic = format!("bench_{}", kind.name().replace('-', "_"));
        let publisher = talker.create_publisher::<Image>(&topic, DEPTH)?;
        let inbox = Arc::new(Inbox::default());
        let to = inbox.clone();
        let subscription = listener.create_subscription(&topic, DEPTH, move |msg: ConstSharedPtr<Image>| {
            to.last_ns.store(now_ns(), Ordering::Relaxed);
            to.received.fetch_add(1, Ordering::Relaxed);
            // Nobody else holds it once the callback has it.
            if let Ok(msg) = Arc::try_unwrap(msg) {
                to.pool.lock().unwrap_or_else(|e| e.into_inner()).give(msg);
            }
        })?;
        let mut executor = SingleThreadedExecutor::new();
        executor.add_node(&listener);
        Ok(Self { kind, ctx, counter, publisher, _subscription: subscription, executor, inbox })
    }

    fn take(&self, bytes: usize) -> Box<Image> {
        self.inbox.pool.lock().unwrap_or_else(|e| e.into_inner()).take(bytes)
    }

    fn received(&self) -> u64 {
        self.inbox.received.load(Ordering::Relaxed)
    }

    /// Runs callbacks until `target` messages have been received in all.
    fn spin_until(&mut self, target: u64) -> Result<(), BenchError> {
        while self.received() < target {
            if !self.ctx.ok() {
                return Err(BenchError::Interrupted);
            }
            // Everything was queued by `publish` on this thread: if nothing is ready, the
            // message is gone.
            if !self.executor.spin_some() {
                return Err(BenchError::Lost { path: self.kind });
            }
        }
        Ok(())
    }
}

impl Path for LocalPath {
    fn kind(&self) -> PathKind {
        self.kind
    }

    fn hop(&mut self, bytes: usize) -> Result<u64, BenchError> {
        let msg = self.take(bytes);
        let target = self.received() + 1;
        let start = now_ns();
        self.publisher.publish(msg);
        self.spin_until(target)?;
        Ok(self.inbox.last_ns.load(Ordering::Relaxed) - start)
    }

    fn burst(&mut self, bytes: usize, n: usize) -> Result<u64, BenchError> {
        let msgs: Vec<_> = (0..n).map(|_| self.take(bytes)).collect();
        let target = self.received() + n as u64;
        let start = now_ns();
        for msg in msgs {
            self.publisher.publish(msg);
        }
        self.spin_until(target)?;
        Ok(self.inbox.last_ns.load(Ordering::Relaxed) - start)
    }

    fn copies(&mut self, bytes: usize) -> Result<f64, BenchError> {
        const HOPS: u32 = 2;
        self.counter.start();
        for _ in 0..HOPS {
            self.hop(bytes)?;
        }
        Ok(self.counter.stop() as f64 / f64::from(HOPS))
    }
}
