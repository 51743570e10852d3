//! The one clock of the bench: `CLOCK_MONOTONIC`, in nanoseconds.
//!
//! ```
//! use ipc_lab::bench::clock::{from_stamp, now_ns, to_stamp};
//!
//! let t = now_ns();
//! assert!(now_ns() >= t);
//! assert_eq!(from_stamp(to_stamp(t)), t);
//! ```
//!
//! Why not `Instant`: its reading cannot leave the process. `CLOCK_MONOTONIC` is one clock
//! for the whole machine on Linux, so a peer process can subtract the stamp the publisher
//! wrote into a message from its own reading and get the hop's latency.

use nix::time::{clock_gettime, ClockId};

use crate::engine::msg::builtin_interfaces::Time;

/// Nanoseconds since some fixed moment (the boot, on Linux), the same in every process.
pub fn now_ns() -> u64 {
    // CLOCK_MONOTONIC cannot fail on Linux: the clock id is valid and the pointer ours.
    let t = clock_gettime(ClockId::CLOCK_MONOTONIC).unwrap_or_else(|_| nix::sys::time::TimeSpec::new(0, 0));
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}

/// A monotonic reading as a message stamp. Not the wall-clock time a ROS stamp usually
/// holds: the bench's messages carry the moment they were sent, for the receiver to
/// compare.
pub fn to_stamp(ns: u64) -> Time {
    Time { sec: (ns / 1_000_000_000) as i32, nanosec: (ns % 1_000_000_000) as u32 }
}

/// The reading a stamp was made from.
pub fn from_stamp(stamp: Time) -> u64 {
    stamp.sec as u64 * 1_000_000_000 + u64::from(stamp.nanosec)
}
