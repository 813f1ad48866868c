//! When and how a failed request is sent again.
//!
//! A request is retried when its failure is transient (the connection failed or timed out, or
//! the server answered 408, 429, 502, 503 or 504) **and** sending it again cannot do the work
//! twice: GET, HEAD, OPTIONS, PUT and DELETE always qualify; POST and PATCH only when the
//! request carries an `idempotency-key`, which makes the server replay its first answer
//! instead of acting again. The client puts a fresh key on every POST and PATCH of an
//! operation that honours one, and keeps it for every retry of that call.
//!
//! The wait before each retry is the server's `retry-after` when it sent one, and otherwise
//! exponential backoff with full jitter: a random delay between zero and
//! `min(max_delay, base_delay × 2^(retry − 1))`. Retries stop after `max_attempts` attempts, or
//! as soon as the next wait would end beyond the call's time budget; the call then fails
//! with the last error, at once rather than after a pointless wait.
//!
//! The time and the waits come from the client's [`Clock`](crate::clock::Clock); the jitter
//! from a random source seeded afresh for each call, or from a fixed seed
//! ([`RetryPolicy::with_jitter_seed`]) when a test needs the same waits every time.

use std::time::Duration;

use reqwest::{Method, StatusCode};

/// How a client retries. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 disables retries). Default 4.
    pub max_attempts: u32,
    /// The time a call may take, every attempt and wait included. Default 60 s.
    pub budget: Duration,
    /// The backoff of the first retry, before jitter. Default 250 ms.
    pub base_delay: Duration,
    /// The longest backoff, before jitter. Default 10 s.
    pub max_delay: Duration,
    /// The longest one attempt may take, from sending to the end of the answer. Default 30 s.
    pub attempt_timeout: Duration,
    /// The seed of each call's jitter; `None` (the default) seeds every call at random.
    pub jitter_seed: Option<u64>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            budget: Duration::from_secs(60),
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(30),
            jitter_seed: None,
        }
    }
}

impl RetryPolicy {
    /// A policy that sends every request once.
    pub fn never() -> Self {
        RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }
    }

    /// Sets [`max_attempts`](Self::max_attempts) (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets [`budget`](Self::budget).
    pub fn with_budget(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }

    /// Sets [`base_delay`](Self::base_delay) and [`max_delay`](Self::max_delay).
    pub fn with_backoff(mut self, base_delay: Duration, max_delay: Duration) -> Self {
        self.base_delay = base_delay;
        self.max_delay = max_delay.max(base_delay);
        self
    }

    /// Sets [`attempt_timeout`](Self::attempt_timeout).
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Gives every call the same jitter, drawn from `seed`: the backoff waits become
    /// repeatable, for tests. Outside tests leave it unset, so that clients that fail together
    /// do not retry together.
    pub fn with_jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = Some(seed);
        self
    }

    /// The longest backoff before retry number `retry` (1 for the first retry): the jittered
    /// wait lies between zero and this.
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let doubled = self.base_delay.saturating_mul(2u32.saturating_pow(retry.saturating_sub(1).min(30)));
        doubled.min(self.max_delay)
    }

    /// The random source of one call's jitter.
    pub(crate) fn jitter(&self) -> fastrand::Rng {
        self.jitter_seed.map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed)
    }

    /// The backoff before retry number `retry`, jitter included.
    pub(crate) fn backoff(&self, retry: u32, jitter: &mut fastrand::Rng) -> Duration {
        self.backoff_ceiling(retry).mul_f64(jitter.f64())
    }
}

/// Whether an answer with this status may succeed when sent again.
pub fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 502 | 503 | 504)
}

/// Whether a request with this method can be sent twice without doing the work twice.
pub fn is_idempotent(method: &Method, has_idempotency_key: bool) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE)
        || has_idempotency_key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_within_its_cap_and_jitters_below_it() {
        let policy = RetryPolicy::default()
            .with_backoff(Duration::from_millis(100), Duration::from_millis(1000))
            .with_jitter_seed(20_260_101);
        let ceilings: Vec<u64> = (1..=8).map(|retry| policy.backoff_ceiling(retry).as_millis() as u64).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000, 1000, 1000]);
        let mut jitter = policy.jitter();
        for retry in 1..=8 {
            let ceiling = policy.backoff_ceiling(retry);
            let delays: Vec<Duration> = (0..200).map(|_| policy.backoff(retry, &mut jitter)).collect();
            assert!(delays.iter().all(|d| *d <= ceiling), "retry {retry}: a delay above {ceiling:?}");
            // Full jitter spreads the delays over the whole range, not just near the ceiling.
            assert!(delays.iter().any(|d| *d < ceiling / 4), "retry {retry}: no delay in the lowest quarter");
            assert!(delays.iter().any(|d| *d > ceiling * 3 / 4), "retry {retry}: no delay in the highest quarter");
        }
    }

    #[test]
    fn a_seed_makes_the_jitter_repeatable_and_no_seed_does_not() {
        let waits = |policy: &RetryPolicy| {
            let mut jitter = policy.jitter();
            (1..=6).map(|retry| policy.backoff(retry, &mut jitter)).collect::<Vec<_>>()
        };
        let seeded = RetryPolicy::default().with_jitter_seed(7);
        assert_eq!(waits(&seeded), waits(&seeded.clone()));
        // The exact draws of fastrand's generator for seed 7, scaled to each ceiling.
        let mut expected = fastrand::Rng::with_seed(7);
        let ceilings = [250, 500, 1000, 2000, 4000, 8000].map(Duration::from_millis);
        assert_eq!(waits(&seeded), ceilings.map(|ceiling| ceiling.mul_f64(expected.f64())));
        let unseeded = RetryPolicy::default();
        assert_ne!(waits(&unseeded), waits(&unseeded), "two calls without a seed drew the same six waits");
    }

    #[test]
    fn only_transient_statuses_are_retryable() {
        for status in [408, 429, 502, 503, 504] {
            assert!(is_retryable_status(StatusCode::from_u16(status).unwrap()));
        }
        for status in [400, 401, 403, 404, 409, 422, 500, 501] {
            assert!(!is_retryable_status(StatusCode::from_u16(status).unwrap()));
        }
    }

    #[test]
    fn posts_are_idempotent_only_with_a_key() {
        assert!(is_idempotent(&Method::GET, false));
        assert!(is_idempotent(&Method::PUT, false));
        assert!(is_idempotent(&Method::DELETE, false));
        assert!(!is_idempotent(&Method::POST, false));
        assert!(!is_idempotent(&Method::PATCH, false));
        assert!(is_idempotent(&Method::POST, true));
    }
}
