//! Where the retry loop and the activity wait get the time and their pauses from.
//!
//! Both ask the [`Clock`] in the client's [`ClientState`](crate::hooks::ClientState), and
//! nothing else: how long a call has taken (against its budget), what an HTTP-date
//! `retry-after` means as a wait, and the waits themselves.
//!
//! The default, [`TokioClock`], reads tokio's clock and sleeps on tokio's timers, so code that
//! runs under a paused tokio clock (`#[tokio::test(start_paused = true)]`) drives the retries
//! without waiting. Requests over real sockets do not mix well with a paused clock, though:
//! tokio moves time on whenever the runtime waits with nothing ready, which can fire a
//! request's timeout early. For those tests a [`RecordingClock`] returns from every sleep at
//! once, moves its own time on by the duration, and keeps the list of waits to assert on.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

/// A pause a [`Clock`] hands out: a future that completes when the pause is over.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The time source and the sleeps of the retry loop and the activity wait.
pub trait Clock: fmt::Debug + Send + Sync {
    /// Now, to measure how long a call has been running.
    fn now(&self) -> Instant;

    /// Now as a date, to turn an HTTP-date `retry-after` into a wait.
    fn date(&self) -> SystemTime;

    /// A pause of `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// tokio's clock and timers: real time, or the paused and auto-advancing clock of a
/// `start_paused` test. The default.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn date(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock for tests: every sleep returns at once, moves this clock's time on by its duration
/// and is recorded. Its time moves only that way, so a call's budget counts the waits and
/// nothing else. Clones share one record: keep a clone to read [`RecordingClock::sleeps`].
///
/// Each attempt's timeout is still cut to what is left of the budget on this clock, and runs on
/// tokio's timers: give a test's budget real room beyond the waits it expects, or its last
/// attempt may time out on a busy machine.
#[derive(Debug, Clone)]
pub struct RecordingClock {
    record: Arc<Mutex<Record>>,
}

#[derive(Debug)]
struct Record {
    started: Instant,
    started_date: SystemTime,
    sleeps: Vec<Duration>,
}

impl Default for RecordingClock {
    fn default() -> Self {
        RecordingClock::starting_at(SystemTime::now())
    }
}

impl RecordingClock {
    /// A clock whose date starts at the real date.
    pub fn new() -> Self {
        RecordingClock::default()
    }

    /// A clock whose date starts at `date`, so that an HTTP-date `retry-after` gives an exact wait.
    pub fn starting_at(date: SystemTime) -> Self {
        let record = Record { started: Instant::now(), started_date: date, sleeps: Vec::new() };
        RecordingClock { record: Arc::new(Mutex::new(record)) }
    }

    /// Every sleep asked for, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.lock().sleeps.clone()
    }

    /// The time that has passed on this clock: the sum of the sleeps.
    pub fn elapsed(&self) -> Duration {
        self.lock().sleeps.iter().sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Record> {
        // A test that panicked while holding the lock has failed already; its record is still good.
        self.record.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Clock for RecordingClock {
    fn now(&self) -> Instant {
        let record = self.lock();
        record.started + record.sleeps.iter().sum::<Duration>()
    }

    fn date(&self) -> SystemTime {
        let record = self.lock();
        record.started_date + record.sleeps.iter().sum::<Duration>()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        self.lock().sleeps.push(duration);
        Box::pin(std::future::ready(()))
    }
}

/// The clock every client uses unless told otherwise.
pub fn default_clock() -> Arc<dyn Clock> {
    Arc::new(TokioClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_recording_clock_moves_by_its_sleeps_only() {
        let date = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let clock = RecordingClock::starting_at(date);
        let started = clock.now();
        let shared = clock.clone();

        shared.sleep(Duration::from_millis(250)).await;
        shared.sleep(Duration::from_secs(1)).await;

        assert_eq!(clock.sleeps(), [Duration::from_millis(250), Duration::from_secs(1)]);
        assert_eq!(clock.now() - started, Duration::from_millis(1250));
        assert_eq!(clock.date(), date + Duration::from_millis(1250));
        assert_eq!(clock.elapsed(), Duration::from_millis(1250));
    }

    #[tokio::test(start_paused = true)]
    async fn the_tokio_clock_follows_a_paused_runtime() {
        let started = TokioClock.now();
        TokioClock.sleep(Duration::from_secs(90)).await;
        assert_eq!(TokioClock.now() - started, Duration::from_secs(90));
    }
}
