//! The statistics of a benchmark: medians and spreads of repeated samples, and ratios of medians.

/// A summary of repeated samples of one quantity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub median: f64,
    /// The first and third quartiles (linear interpolation between order statistics).
    pub q1: f64,
    pub q3: f64,
    pub min: f64,
    pub max: f64,
}

impl Summary {
    /// Summarises `samples`; panics when there are none or one is NaN.
    pub fn of(samples: &[f64]) -> Summary {
        assert!(!samples.is_empty(), "no samples to summarise");
        let mut sorted = samples.to_vec();
        sorted.sort_by(|a, b| a.partial_cmp(b).expect("samples are numbers"));
        Summary {
            n: sorted.len(),
            median: quantile(&sorted, 0.5),
            q1: quantile(&sorted, 0.25),
            q3: quantile(&sorted, 0.75),
            min: sorted[0],
            max: sorted[sorted.len() - 1],
        }
    }
}

/// The `p`-quantile of sorted samples, interpolating linearly between neighbours (the
/// definition most statistics packages use by default).
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    let position = p.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (below, above) = (position.floor() as usize, position.ceil() as usize);
    sorted[below] + (sorted[above] - sorted[below]) * (position - below as f64)
}

/// Runs each arm once per round, `warmup` rounds unrecorded and then `rounds` recorded ones,
/// starting each round with a different arm so that neither always runs first (drift in the
/// machine's speed then affects every arm alike). Returns each arm's samples, in arm order.
pub fn interleaved(warmup: usize, rounds: usize, arms: &mut [&mut dyn FnMut() -> f64]) -> Vec<Vec<f64>> {
    let mut samples = vec![Vec::with_capacity(rounds); arms.len()];
    for round in 0..warmup + rounds {
        for step in 0..arms.len() {
            let arm = (round + step) % arms.len();
            let sample = (arms[arm])();
            if round >= warmup {
                samples[arm].push(sample);
            }
        }
    }
    samples
}

/// A duration in seconds, printed with a unit that suits it.
pub fn seconds(value: f64) -> String {
    match value {
        v if v >= 1.0 => format!("{v:.2} s"),
        v if v >= 1e-3 => format!("{:.1} ms", v * 1e3),
        v if v >= 1e-6 => format!("{:.1} µs", v * 1e6),
        v => format!("{:.0} ns", v * 1e9),
    }
}

/// A size in bytes, in KiB or MiB.
pub fn bytes(value: f64) -> String {
    if value.abs() >= 1024.0 * 1024.0 {
        format!("{:.2} MiB", value / 1048576.0)
    } else {
        format!("{:.1} KiB", value / 1024.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_quartiles_of_odd_and_even_counts() {
        let odd = Summary::of(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!((odd.median, odd.q1, odd.q3, odd.min, odd.max, odd.n), (3.0, 2.0, 4.0, 1.0, 5.0, 5));
        let even = Summary::of(&[4.0, 1.0, 3.0, 2.0]);
        assert_eq!(even.median, 2.5);
        assert_eq!((even.q1, even.q3), (1.75, 3.25));
        let one = Summary::of(&[7.0]);
        assert_eq!((one.median, one.q1, one.q3, one.min, one.max), (7.0, 7.0, 7.0, 7.0, 7.0));
    }

    #[test]
    fn an_outlier_moves_the_range_but_not_the_median() {
        let summary = Summary::of(&[10.0, 11.0, 10.5, 1000.0, 10.2]);
        assert_eq!(summary.median, 10.5);
        assert_eq!(summary.max, 1000.0);
    }

    #[test]
    #[should_panic(expected = "no samples")]
    fn no_samples_is_a_bug() {
        Summary::of(&[]);
    }

    #[test]
    fn interleaving_rotates_the_first_arm_and_drops_the_warmup() {
        let order = std::cell::RefCell::new(Vec::new());
        let (mut a, mut b) = (0.0, 0.0);
        let mut first = || {
            order.borrow_mut().push('a');
            a += 1.0;
            a
        };
        let mut second = || {
            order.borrow_mut().push('b');
            b += 1.0;
            b
        };
        let samples = interleaved(1, 3, &mut [&mut first, &mut second]);
        assert_eq!(samples, vec![vec![2.0, 3.0, 4.0], vec![2.0, 3.0, 4.0]]);
        assert_eq!(order.into_inner(), vec!['a', 'b', 'b', 'a', 'a', 'b', 'b', 'a']);
    }

    #[test]
    fn units() {
        assert_eq!(seconds(1.5), "1.50 s");
        assert_eq!(seconds(0.0123), "12.3 ms");
        assert_eq!(seconds(42.0e-6), "42.0 µs");
        assert_eq!(seconds(250.0e-9), "250 ns");
        assert_eq!(bytes(2048.0), "2.0 KiB");
        assert_eq!(bytes(3.0 * 1048576.0), "3.00 MiB");
    }
}
