//! Medians and ranges of repeated timings.

use std::time::Duration;

/// Repeated measurements of one duration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    pub runs: usize,
    pub median: Duration,
    pub min: Duration,
    pub max: Duration,
}

impl Timing {
    /// Summarises `samples`; panics when there are none.
    pub fn of(samples: &[Duration]) -> Timing {
        assert!(!samples.is_empty(), "no samples to summarise");
        let mut sorted = samples.to_vec();
        sorted.sort();
        let middle = sorted.len() / 2;
        let median =
            if !sorted.len().is_multiple_of(2) { sorted[middle] } else { (sorted[middle - 1] + sorted[middle]) / 2 };
        Timing { runs: sorted.len(), median, min: sorted[0], max: sorted[sorted.len() - 1] }
    }
}

/// A duration with a unit that suits it: `312 ms`, `1.42 s`.
pub fn format(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds >= 1.0 { format!("{seconds:.2} s") } else { format!("{:.0} ms", seconds * 1e3) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|v| Duration::from_millis(*v)).collect()
    }

    #[test]
    fn median_and_range() {
        let odd = Timing::of(&ms(&[30, 10, 20]));
        assert_eq!(
            (odd.median, odd.min, odd.max, odd.runs),
            (Duration::from_millis(20), ms(&[10])[0], ms(&[30])[0], 3)
        );
        assert_eq!(Timing::of(&ms(&[40, 10, 20, 30])).median, Duration::from_millis(25));
        assert_eq!(Timing::of(&ms(&[7])).median, Duration::from_millis(7));
    }

    #[test]
    #[should_panic(expected = "no samples")]
    fn no_samples_is_a_bug() {
        Timing::of(&[]);
    }

    #[test]
    fn units() {
        assert_eq!(format(Duration::from_millis(312)), "312 ms");
        assert_eq!(format(Duration::from_millis(1420)), "1.42 s");
    }
}
