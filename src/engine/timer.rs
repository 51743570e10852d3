//! Wall timers: a callback the executor runs every `period`.
//!
//! ```
//! use std::time::Duration;
//! use ipc_lab::engine::{Context, Node, NodeOptions};
//!
//! let ctx = Context::init();
//! let node = Node::new(&ctx, "ticker", NodeOptions::default()).unwrap();
//! let timer = node.create_wall_timer(Duration::from_secs(1), || {});
//! assert_eq!(timer.period(), Duration::from_secs(1));
//! timer.cancel();
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A timer handle. Keep it alive: dropping it stops the timer.
pub struct Timer {
    pub(crate) inner: Arc<TimerInner>,
}

impl Timer {
    pub fn period(&self) -> Duration {
        self.inner.period
    }

    /// Stops the timer for good.
    pub fn cancel(&self) {
        self.inner.canceled.store(true, Ordering::Relaxed);
    }
}

pub(crate) struct TimerInner {
    period: Duration,
    /// When the callback is due next.
    next_call: Mutex<Instant>,
    canceled: AtomicBool,
    callback: Mutex<Box<dyn FnMut() + Send>>,
}

impl TimerInner {
    pub(crate) fn new(period: Duration, callback: Box<dyn FnMut() + Send>) -> Self {
        Self {
            period,
            next_call: Mutex::new(Instant::now() + period),
            canceled: AtomicBool::new(false),
            callback: Mutex::new(callback),
        }
    }

    /// When it is due, or `None` if canceled.
    pub(crate) fn next_call(&self) -> Option<Instant> {
        let next = *self.next_call.lock().unwrap_or_else(|e| e.into_inner());
        (!self.canceled.load(Ordering::Relaxed)).then_some(next)
    }

    /// Runs the callback if it is due. A period of zero is always due ("as fast as possible").
    pub(crate) fn execute_if_ready(&self, now: Instant) -> bool {
        {
            let mut next = self.next_call.lock().unwrap_or_else(|e| e.into_inner());
            if self.canceled.load(Ordering::Relaxed) || now < *next {
                return false;
            }
            // Like rclcpp, skip the periods that were missed instead of bursting to catch up:
            // the next call is the first multiple of the period after now.
            *next += self.period;
            if *next <= now && !self.period.is_zero() {
                let late = (now - *next).as_nanos() % self.period.as_nanos();
                *next = now + self.period - Duration::from_nanos(late as u64);
            }
        }
        (self.callback.lock().unwrap_or_else(|e| e.into_inner()))();
        true
    }
}
