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
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            budget: Duration::from_secs(60),
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(30),
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

    /// The backoff before retry number `retry` (1 for the first retry), jitter included.
    pub fn backoff(&self, retry: u32) -> Duration {
        let doubled = self.base_delay.saturating_mul(2u32.saturating_pow(retry.saturating_sub(1).min(30)));
        let ceiling = doubled.min(self.max_delay);
        ceiling.mul_f64(fastrand::f64())
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
        let policy = RetryPolicy::default().with_backoff(Duration::from_millis(100), Duration::from_millis(1000));
        for retry in 1..=8 {
            let ceiling = Duration::from_millis((100u64 << (retry - 1)).min(1000));
            let delays: Vec<Duration> = (0..200).map(|_| policy.backoff(retry)).collect();
            assert!(delays.iter().all(|d| *d <= ceiling), "retry {retry}: a delay above {ceiling:?}");
            // Full jitter spreads the delays over the whole range, not just near the ceiling.
            assert!(delays.iter().any(|d| *d < ceiling / 2), "retry {retry}: no delay in the lower half");
        }
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
