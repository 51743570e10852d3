//! rclcpp's guard condition: whatever makes work ready triggers it (a message queued, a
//! timer made, a shutdown), and an executor waiting on it wakes up.
//!
//! ```
//! use std::time::Duration;
//! use ipc_lab::engine::guard_condition::GuardCondition;
//!
//! let guard = GuardCondition::default();
//! assert!(!guard.wait(Duration::from_millis(1))); // nothing happened: timed out
//! guard.trigger();
//! assert!(guard.wait(Duration::from_secs(5)));    // returns at once, and takes the trigger
//! assert!(!guard.wait(Duration::ZERO));
//! ```
//!
//! A mutex and a condition variable rather than a channel: waiting on them never allocates
//! memory. A channel's waiting machinery allocates the first time a thread blocks on it, at
//! a moment that depends on timing, and takes memory the allocator was about to hand to a
//! message: the image pipeline's `--stable` runs would then not repeat their addresses.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub struct GuardCondition {
    /// Triggered since the last wait took it.
    triggered: Mutex<bool>,
    changed: Condvar,
    /// A trigger is on its way or not taken yet: a second one has nothing to add. Saves the
    /// lock and the notification on every message of a busy topic (the hot path of a hop).
    pending: AtomicBool,
}

impl GuardCondition {
    fn lock(&self) -> MutexGuard<'_, bool> {
        self.triggered.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes every waiter; a trigger with nobody waiting is kept for the next wait. Whatever
    /// the trigger announces must be in place before it: a waiter looks at everything again
    /// after it wakes, so triggers that come together may wake it once.
    pub fn trigger(&self) {
        // A load first: on a busy topic the trigger is nearly always pending already, and a
        // read costs less than the swap.
        if self.pending.load(Ordering::Acquire) || self.pending.swap(true, Ordering::AcqRel) {
            return;
        }
        *self.lock() = true;
        self.changed.notify_all();
    }

    /// Wakes every waiter now, sleepers included ([`GuardCondition::sleep_until`] does not
    /// take triggers, so a trigger still pending would not wake it again): for a shutdown.
    pub fn interrupt(&self) {
        self.pending.store(true, Ordering::Release);
        *self.lock() = true;
        self.changed.notify_all();
    }

    /// Waits until triggered, at most `timeout`, and takes the trigger. True if triggered.
    pub fn wait(&self, timeout: Duration) -> bool {
        let guard = self.lock();
        let (mut triggered, _) =
            self.changed.wait_timeout_while(guard, timeout, |triggered| !*triggered).unwrap_or_else(|e| e.into_inner());
        // Cleared before the trigger is taken, under the lock: a trigger arriving from now on
        // sets it again and waits for the lock, so it is not lost.
        self.pending.store(false, Ordering::Release);
        std::mem::take(&mut *triggered)
    }

    /// Sleeps until `deadline` or until `stop()` says so, looking again at each trigger,
    /// without taking it (it is for the executor). True if the deadline came.
    pub fn sleep_until(&self, deadline: Instant, stop: impl Fn() -> bool) -> bool {
        let mut guard = self.lock();
        loop {
            if stop() {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            guard = self.changed.wait_timeout(guard, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}
