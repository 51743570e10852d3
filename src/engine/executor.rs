//! The single-threaded executor: one thread runs every callback of its nodes, one at a
//! time, so a callback that sleeps holds everything up (as the cyclic demo shows).
//!
//! ```
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use std::sync::{Arc, Weak};
//! use std::time::Duration;
//! use ipc_lab::engine::{Context, Node, NodeOptions, SingleThreadedExecutor};
//!
//! let ctx = Context::init();
//! let node = Node::new(&ctx, "ticker", NodeOptions::default()).unwrap();
//! let ticks = Arc::new(AtomicU32::new(0));
//! let (counter, stopper) = (ticks.clone(), ctx.clone());
//! let _timer = node.create_wall_timer(Duration::ZERO, move || {
//!     if counter.fetch_add(1, Ordering::Relaxed) + 1 == 3 {
//!         stopper.shutdown();
//!     }
//! });
//! let mut executor = SingleThreadedExecutor::new();
//! executor.add_node(&node);
//! executor.spin(); // returns once the context is shut down
//! assert_eq!(ticks.load(Ordering::Relaxed), 3);
//! ```

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::node::{Node, NodeInner};
use super::subscription::SubscriptionBase;

/// How long to wait when nothing is scheduled, before looking again anyway.
const IDLE_WAIT: Duration = Duration::from_millis(200);
/// How often an executor whose nodes belong to several contexts looks at their guard conditions.
const MULTI_CONTEXT_POLL: Duration = Duration::from_millis(1);

/// rclcpp's `SingleThreadedExecutor`.
#[derive(Default)]
pub struct SingleThreadedExecutor {
    nodes: Vec<Arc<NodeInner>>,
    /// Per node (same order), its subscriptions as last collected: collected again only when
    /// the node has made a new one, as rclcpp's executor updates its entities collection
    /// when notified of a change (executor_entities_collector.cpp, jazzy and rolling), not
    /// on every round.
    collected: Vec<Collected>,
}

/// One node's subscriptions, as an executor last collected them.
#[derive(Default)]
struct Collected {
    /// The node's `subscriptions_added` when collected.
    added: u64,
    /// Weak, like the node's own list: a dropped subscription is skipped.
    subscriptions: Vec<Weak<dyn SubscriptionBase>>,
}

impl SingleThreadedExecutor {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_node(&mut self, node: &Node) {
        if !self.nodes.iter().any(|n| Arc::ptr_eq(n, &node.inner)) {
            self.nodes.push(node.inner.clone());
            self.collected.push(Collected { added: u64::MAX, subscriptions: Vec::new() });
        }
    }

    /// False once any node's context has shut down.
    fn ok(&self) -> bool {
        self.nodes.iter().all(|n| n.ctx.ok())
    }

    /// Runs callbacks until the context shuts down (Ctrl-C, `shutdown`, the receipt limit, or
    /// idle after [`Context::shutdown_when_idle`](super::Context::shutdown_when_idle)).
    pub fn spin(&mut self) {
        while self.ok() {
            if self.spin_some() {
                continue;
            }
            for node in &self.nodes {
                if node.ctx.shutdown_when_idle.load(Ordering::Acquire) {
                    node.ctx.shutdown();
                }
                node.ctx.idle.store(true, Ordering::Release);
            }
            self.wait_for_work();
            for node in &self.nodes {
                node.ctx.idle.store(false, Ordering::Release);
            }
        }
    }

    /// Runs what is ready now, without waiting: every subscription with a message takes one,
    /// then every due timer fires. Returns whether anything ran.
    ///
    /// Subscriptions go before timers (rclcpp checks timers first). At a 1 s period nothing
    /// differs; at `--period 0` this order lets each message be received before the timer
    /// makes the next, so the output reads in pairs as it does upstream.
    pub fn spin_some(&mut self) -> bool {
        self.collect();
        let mut ran = false;
        // The collection is a snapshot, so that a callback may create subscriptions.
        'nodes: for collected in &self.collected {
            for sub in collected.subscriptions.iter().filter_map(Weak::upgrade) {
                if !self.ok() {
                    break 'nodes;
                }
                ran |= sub.execute_one();
            }
        }
        if !self.ok() {
            return ran;
        }
        for node in &self.nodes {
            for timer in live(&node.timers) {
                if !self.ok() {
                    return ran;
                }
                ran |= timer.execute_if_ready(Instant::now());
            }
        }
        ran
    }

    /// Collects again the subscriptions of the nodes that made new ones since the last round.
    fn collect(&mut self) {
        for (node, collected) in self.nodes.iter().zip(&mut self.collected) {
            let added = node.subscriptions_added.load(Ordering::Acquire);
            if added != collected.added {
                let mut list = node.subscriptions.lock().unwrap_or_else(|e| e.into_inner());
                list.retain(|w| w.strong_count() > 0);
                collected.subscriptions.clone_from(&list);
                collected.added = added;
            }
        }
    }

    /// Sleeps until a guard condition fires, a timer is due, or the idle wait ends.
    fn wait_for_work(&self) {
        let next_timer = self.nodes.iter().flat_map(|n| live(&n.timers)).filter_map(|t| t.next_call()).min();
        let timeout = next_timer.map_or(IDLE_WAIT, |t| t.saturating_duration_since(Instant::now()));
        let Some(first) = self.nodes.first() else { return };
        if self.nodes.iter().all(|n| Arc::ptr_eq(&n.ctx, &first.ctx)) {
            first.ctx.guard.wait(timeout);
            return;
        }
        // Nodes of several contexts (rare): look at each guard condition in turn.
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.nodes.iter().any(|n| n.ctx.guard.wait(Duration::ZERO)) {
                return;
            }
            std::thread::sleep(MULTI_CONTEXT_POLL);
        }
    }
}

/// `rclcpp::spin(node)`: `node` alone on a new executor, until the context shuts down.
pub fn spin(node: &Node) {
    let mut executor = SingleThreadedExecutor::new();
    executor.add_node(node);
    executor.spin();
}

/// The entities still alive, upgraded.
fn live<T: ?Sized>(list: &std::sync::Mutex<Vec<std::sync::Weak<T>>>) -> Vec<Arc<T>> {
    let mut alive = Vec::new();
    live_into(list, &mut alive);
    alive
}

/// The entities still alive, upgraded, into `out` (emptied first).
fn live_into<T: ?Sized>(list: &std::sync::Mutex<Vec<std::sync::Weak<T>>>, out: &mut Vec<Arc<T>>) {
    out.clear();
    let mut list = list.lock().unwrap_or_else(|e| e.into_inner());
    list.retain(|w| w.strong_count() > 0);
    out.extend(list.iter().filter_map(std::sync::Weak::upgrade));
}
