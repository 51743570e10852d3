//! The few statistics the bench needs.
//!
//! ```
//! use ipc_lab::bench::stats::{median, percentile, slope};
//!
//! let sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 100];
//! assert_eq!(percentile(&sorted, 50.0), 5);
//! assert_eq!(percentile(&sorted, 99.0), 100);
//! assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
//! // 10 ns plus 2 ns per byte:
//! assert_eq!(slope(&[(0.0, 10.0), (100.0, 210.0), (200.0, 410.0)]), Some(2.0));
//! ```

/// The nearest-rank percentile `p` (0 to 100) of ascending `sorted`; 0 when empty.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median (the mean of the middle two for an even count); 0 when empty.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// The least-squares slope of `y` against `x`, or `None` with fewer than two distinct `x`.
pub fn slope(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}
