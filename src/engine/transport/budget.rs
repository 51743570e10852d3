//! The memory that frames still on their way in may hold, all connections of the process
//! together. A frame's payload is read a piece at a time, and each piece is taken from this
//! budget before it is read: what a peer declares costs nothing, what it sends counts, and
//! the frames it leaves unfinished can never hold more than [`PARTIAL_FRAMES_BUDGET`]. A
//! whole frame gives its share back once it is read (it is then a message, and the
//! subscriptions' keep-last queues bound those).

use std::sync::{Condvar, Mutex};
use std::time::Instant;

use super::frame::MAX_PAYLOAD;

/// What the payloads being read may hold at once, in one process: four of the largest
/// frames. A process of ours has at most two connections read at once
/// (`receiver.rs`, `MAX_CONNECTIONS_PER_PEER`), so one peer can hold at most half of it.
pub const PARTIAL_FRAMES_BUDGET: usize = 4 * MAX_PAYLOAD;

/// The most read in one piece: a payload holds at most this much more than it received.
pub(crate) const READ_PIECE: usize = 1024 * 1024;

const _: () = assert!(MAX_PAYLOAD <= PARTIAL_FRAMES_BUDGET, "the largest frame must fit in the budget");

/// Bytes taken by the payloads being read, out of a limit.
pub(crate) struct Budget {
    taken: Mutex<usize>,
    /// Told when bytes are given back.
    given_back: Condvar,
    limit: usize,
}

/// The process's budget for frames being read.
pub(crate) static PARTIAL_FRAMES: Budget = Budget::new(PARTIAL_FRAMES_BUDGET);

impl Budget {
    pub(crate) const fn new(limit: usize) -> Budget {
        Budget { taken: Mutex::new(0), given_back: Condvar::new(), limit }
    }

    /// The bytes taken now.
    #[cfg(test)]
    fn taken(&self) -> usize {
        *self.taken.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One payload's share of a [`Budget`], given back when dropped.
pub(crate) struct Share<'a> {
    budget: &'a Budget,
    held: usize,
}

impl<'a> Share<'a> {
    pub(crate) fn new(budget: &'a Budget) -> Share<'a> {
        Share { budget, held: 0 }
    }

    /// The bytes this share holds.
    pub(crate) fn held(&self) -> usize {
        self.held
    }

    /// Takes `n` more bytes, waiting while other payloads hold the budget; gives up at
    /// `until`, or when `give_up` says so (looked at every 100 ms). `false` if not taken.
    pub(crate) fn grow(&mut self, n: usize, until: Instant, give_up: &dyn Fn() -> bool) -> bool {
        let mut taken = self.budget.taken.lock().unwrap_or_else(|e| e.into_inner());
        while *taken + n > self.budget.limit {
            let now = Instant::now();
            if now >= until || give_up() {
                return false;
            }
            let wait = (until - now).min(std::time::Duration::from_millis(100));
            taken = self.budget.given_back.wait_timeout(taken, wait).unwrap_or_else(|e| e.into_inner()).0;
        }
        *taken += n;
        self.held += n;
        true
    }
}

impl Drop for Share<'_> {
    fn drop(&mut self) {
        if self.held > 0 {
            let mut taken = self.budget.taken.lock().unwrap_or_else(|e| e.into_inner());
            *taken -= self.held;
            self.budget.given_back.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Shares never hold more than the limit together; one that waits gets its bytes when
    /// another is given back, and one that cannot get them by its deadline gives up.
    #[test]
    fn shares_never_exceed_the_budget() {
        let budget = Budget::new(100);
        let mut first = Share::new(&budget);
        assert!(first.grow(60, Instant::now(), &|| false));
        let mut second = Share::new(&budget);
        assert!(second.grow(40, Instant::now(), &|| false));
        let mut third = Share::new(&budget);
        assert!(!third.grow(1, Instant::now() + Duration::from_millis(50), &|| false));
        assert_eq!(budget.taken(), 100);
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(50));
                drop(first);
            });
            assert!(third.grow(60, Instant::now() + Duration::from_secs(30), &|| false));
        });
        assert_eq!((third.held(), budget.taken()), (60, 100));
        drop((second, third));
        assert_eq!(budget.taken(), 0);
    }

    /// A stop ends the wait at once.
    #[test]
    fn a_stop_ends_the_wait() {
        let budget = Budget::new(10);
        let mut share = Share::new(&budget);
        assert!(!share.grow(11, Instant::now() + Duration::from_secs(3600), &|| true));
        assert_eq!(budget.taken(), 0);
    }
}
