//! Frames per second of the image pipeline, as the side view's summary shows it.
//!
//! n frames span n - 1 frame periods: the rate is counted between the first frame shown
//! and the last one, not over the run's whole time (which made 3 frames at 30 fps read
//! 43.9, the first frame coming at once). The times are taken as the events reach the
//! renderer, which reads them as they come.

use std::time::Instant;

use crate::engine::trace::{EventKind, TraceEvent};

/// When frames were shown, in one run.
#[derive(Debug, Default, Clone, Copy)]
pub struct FrameClock {
    first: Option<Instant>,
    last: Option<Instant>,
}

impl FrameClock {
    /// Notes the time of a `shown` event; other events pass.
    pub fn tick(&mut self, event: &TraceEvent) {
        if matches!(event.kind, EventKind::Shown { .. }) {
            self.at(Instant::now());
        }
    }

    fn at(&mut self, now: Instant) {
        self.first.get_or_insert(now);
        self.last = Some(now);
    }

    /// Frames per second for `frames` frames shown: between the first and the last, or over
    /// `elapsed` seconds (the run's time) when fewer than two were shown.
    pub fn per_second(&self, frames: u64, elapsed: f64) -> f64 {
        let between = match (self.first, self.last) {
            (Some(first), Some(last)) => last.duration_since(first).as_secs_f64(),
            _ => 0.0,
        };
        if frames >= 2 && between > 0.0 {
            (frames - 1) as f64 / between
        } else if elapsed > 0.0 {
            frames as f64 / elapsed
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Three frames at 30 fps span two frame periods: 30 frames per second, not 3 divided
    /// by the whole run (43.9 for a run of 68 ms).
    #[test]
    fn frames_per_second_counts_the_periods_between_frames() {
        let mut clock = FrameClock::default();
        let first = Instant::now();
        clock.at(first);
        clock.at(first + Duration::from_secs(1) / 30);
        clock.at(first + Duration::from_secs(2) / 30);
        assert!((clock.per_second(3, 0.068) - 30.0).abs() < 1e-6);
        let mut one = FrameClock::default();
        one.at(first);
        assert!((one.per_second(1, 0.5) - 2.0).abs() < 1e-6);
    }
}
