//! What every generated client runs around each request (through progenitor's `ClientHooks`).
//!
//! Progenitor's error for a success body that fails to decode carries the body but not the
//! status or headers. So that such an error can still name the status and the request id,
//! the execution hook records the metadata of each response in a task-local slot that
//! [`capture_response_meta`] opens around a call.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, Request, Response, StatusCode};
use tracing::Instrument;

use crate::clock::{Clock, default_clock};
use crate::retry::{RetryPolicy, is_idempotent, is_retryable_status};

/// The response header that carries the server's id for the request.
pub const REQUEST_ID_HEADER: &str = "ld-request";

/// What the client keeps of a response besides its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseMeta {
    /// The status of the answer.
    pub status: StatusCode,
    /// The `ld-request` header.
    pub request_id: Option<String>,
    /// The `retry-after` header, as a delay from when the response arrived.
    pub retry_after: Option<Duration>,
}

impl ResponseMeta {
    /// Reads the metadata of an answer with `status` and `headers`.
    pub fn from_parts(status: StatusCode, headers: &HeaderMap) -> Self {
        ResponseMeta::received_at(status, headers, SystemTime::now())
    }

    /// The metadata of a response that arrived at `date` (which an HTTP-date `retry-after` is
    /// measured from).
    pub fn received_at(status: StatusCode, headers: &HeaderMap, date: SystemTime) -> Self {
        ResponseMeta { status, request_id: request_id(headers), retry_after: retry_after(headers, date) }
    }
}

/// The `ld-request` header, when present and readable.
pub fn request_id(headers: &HeaderMap) -> Option<String> {
    headers.get(REQUEST_ID_HEADER)?.to_str().ok().map(str::to_owned)
}

/// The `retry-after` header, in delay-seconds or as an HTTP date (RFC 9110, 10.2.3). A date in
/// the past means "now".
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

tokio::task_local! {
    static LAST_RESPONSE: RefCell<Option<ResponseMeta>>;
}

/// Runs `call` and returns its output with the metadata of the last response it received.
pub async fn capture_response_meta<F: Future>(call: F) -> (F::Output, Option<ResponseMeta>) {
    LAST_RESPONSE
        .scope(RefCell::new(None), async move {
            let output = call.await;
            (output, LAST_RESPONSE.with(|slot| slot.borrow_mut().take()))
        })
        .await
}

/// The header that makes a POST or PATCH safe to retry.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// What the hook needs to know of an operation; each generated crate lists its operations in
/// a static `OPERATIONS` table, sorted by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The operationId.
    pub id: &'static str,
    /// The path template (`/tenants/{tenant_id}/api_keys`): logged instead of the real path,
    /// so that ids do not end up in logs.
    pub path: &'static str,
    /// Whether the server honours `idempotency-key` on it.
    pub idempotency_key: bool,
}

/// The state every generated client carries (progenitor's "inner" value).
#[derive(Debug, Clone)]
pub struct ClientState {
    /// How the client retries failed requests.
    pub retry: RetryPolicy,
    /// Where retries and the activity wait take the time and their waits from: tokio's clock
    /// unless a test put a [`RecordingClock`](crate::clock::RecordingClock) here.
    pub clock: Arc<dyn Clock>,
}

impl Default for ClientState {
    fn default() -> Self {
        ClientState { retry: RetryPolicy::default(), clock: default_clock() }
    }
}

/// Sends one call: adds an `idempotency-key` where the operation honours one, then sends and
/// retries as [`crate::retry`] describes, inside one `laserdata` tracing span. The body of every
/// generated client's `ClientHooks::exec`.
pub async fn exec(
    client: &reqwest::Client,
    state: &ClientState,
    operations: &[Operation],
    mut request: Request,
    operation_id: &str,
) -> reqwest::Result<Response> {
    let operation = operations.binary_search_by(|op| op.id.cmp(operation_id)).ok().map(|index| operations[index]);
    let wants_key = operation.is_some_and(|op| op.idempotency_key)
        && matches!(*request.method(), Method::POST | Method::PATCH)
        && !request.headers().contains_key(IDEMPOTENCY_KEY_HEADER);
    if wants_key {
        // Encoded on the stack: the header value is the key's only allocation.
        let mut text = uuid::Uuid::encode_buffer();
        let key = HeaderValue::from_bytes(uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text).as_bytes())
            .expect("a UUID is a valid header value");
        request.headers_mut().insert(IDEMPOTENCY_KEY_HEADER, key);
    }
    let span = tracing::info_span!(
        "laserdata",
        operation = operation_id,
        method = %request.method(),
        path = operation.map_or("", |op| op.path),
        attempt = tracing::field::Empty,
        status = tracing::field::Empty,
        request_id = tracing::field::Empty,
    );
    send_with_retries(&state.retry, &*state.clock, request, |request| client.execute(request)).instrument(span).await
}

/// The retry loop, around `send` (the HTTP client's `execute`, or a script in unit tests).
async fn send_with_retries<SendFn, Sent>(
    policy: &RetryPolicy,
    clock: &dyn Clock,
    mut request: Request,
    mut send: SendFn,
) -> reqwest::Result<Response>
where
    SendFn: FnMut(Request) -> Sent,
    Sent: Future<Output = reqwest::Result<Response>>,
{
    let started = clock.now();
    let mut jitter = policy.jitter();
    let idempotent = is_idempotent(request.method(), request.headers().contains_key(IDEMPOTENCY_KEY_HEADER));
    let span = tracing::Span::current();
    let mut attempt = 1;
    loop {
        span.record("attempt", attempt);
        let remaining = policy.budget.saturating_sub(clock.now() - started);
        *request.timeout_mut() = Some(policy.attempt_timeout.min(remaining));
        // A streamed body cannot be cloned, and then cannot be sent twice either.
        let next = if idempotent && attempt < policy.max_attempts { request.try_clone() } else { None };
        let result = send(request).await;
        let server_delay = match &result {
            Ok(response) => {
                let meta = ResponseMeta::received_at(response.status(), response.headers(), clock.date());
                span.record("status", meta.status.as_u16());
                if let Some(id) = &meta.request_id {
                    span.record("request_id", id.as_str());
                }
                let retryable = is_retryable_status(meta.status);
                let retry_after = meta.retry_after;
                // Outside `capture_response_meta` there is nowhere to record to, which is fine.
                let _ = LAST_RESPONSE.try_with(|slot| *slot.borrow_mut() = Some(meta));
                if !retryable {
                    return result;
                }
                retry_after
            }
            Err(error) if is_transient(error) => None,
            Err(_) => return result,
        };
        let Some(retry) = next else { return result };
        let delay = server_delay.unwrap_or_else(|| policy.backoff(attempt, &mut jitter));
        if (clock.now() - started) + delay >= policy.budget {
            tracing::debug!(
                delay_ms = delay.as_millis() as u64,
                "not retrying: the wait would outlast the call's budget"
            );
            return result;
        }
        tracing::debug!(delay_ms = delay.as_millis() as u64, from_retry_after = server_delay.is_some(), "retrying");
        drop(result);
        clock.sleep(delay).await;
        request = retry;
        attempt += 1;
    }
}

/// Failures where the request may not have reached the server, or its answer was lost.
fn is_transient(error: &reqwest::Error) -> bool {
    error.is_timeout() || error.is_connect() || error.is_request()
}

/// Implements progenitor's `ClientHooks` for a generated `Client` so that its requests go
/// through [`exec`], which needs the crate's `OPERATIONS` table. Each generated crate invokes
/// it once: the orphan rule keeps the impl out of this crate, and the macro keeps the crates
/// from repeating it.
#[macro_export]
macro_rules! impl_client_hooks {
    ($client:ty, $operations:expr) => {
        impl ::progenitor_client::ClientHooks<$crate::hooks::ClientState> for $client {
            async fn exec(
                &self,
                request: ::reqwest::Request,
                info: &::progenitor_client::OperationInfo,
            ) -> ::reqwest::Result<::reqwest::Response> {
                $crate::hooks::exec(
                    ::progenitor_client::ClientInfo::client(self),
                    ::progenitor_client::ClientInfo::inner(self),
                    $operations,
                    request,
                    info.operation_id,
                )
                .await
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{RecordingClock, TokioClock};
    use reqwest::header::HeaderValue;

    /// An answer with this status and these headers.
    fn answer(status: u16, headers: &[(&'static str, &str)]) -> reqwest::Result<Response> {
        let mut builder = http::Response::builder().status(status);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        Ok(builder.body(Vec::<u8>::new()).unwrap().into())
    }

    /// Runs the retry loop over a script of answers, one per attempt; returns the final status
    /// and the timeout each attempt was sent with.
    async fn run_script(
        policy: &RetryPolicy,
        clock: &dyn Clock,
        request: Request,
        script: Vec<reqwest::Result<Response>>,
    ) -> (u16, Vec<Duration>) {
        let mut script = script.into_iter();
        let mut timeouts = Vec::new();
        let result = send_with_retries(policy, clock, request, |request: Request| {
            timeouts.push(request.timeout().copied().expect("every attempt has a timeout"));
            std::future::ready(script.next().expect("an attempt beyond the script"))
        })
        .await;
        (result.unwrap().status().as_u16(), timeouts)
    }

    fn get() -> Request {
        Request::new(Method::GET, "http://127.0.0.1/tenants/1042/api_keys/7302".parse().unwrap())
    }

    fn patient() -> RetryPolicy {
        RetryPolicy::default().with_max_attempts(5).with_budget(Duration::from_secs(20))
    }

    #[tokio::test]
    async fn two_retry_afters_of_one_second_wait_one_second_each() {
        let clock = RecordingClock::new();
        let script = vec![answer(429, &[("retry-after", "1")]), answer(503, &[("retry-after", "1")]), answer(200, &[])];

        let (status, timeouts) = run_script(&patient(), &clock, get(), script).await;

        assert_eq!(status, 200);
        assert_eq!(clock.sleeps(), [Duration::from_secs(1), Duration::from_secs(1)]);
        // Each attempt may take 30 s, less than what is left of the 20 s budget.
        assert_eq!(timeouts, [20, 19, 18].map(Duration::from_secs));
    }

    #[tokio::test(start_paused = true)]
    async fn the_default_clock_waits_on_tokio_time() {
        let started = tokio::time::Instant::now();
        let script = vec![answer(429, &[("retry-after", "1")]), answer(503, &[("retry-after", "1")]), answer(200, &[])];

        let (status, _) = run_script(&patient(), &TokioClock, get(), script).await;

        assert_eq!(status, 200);
        assert_eq!(started.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test]
    async fn an_http_date_retry_after_is_a_wait_until_that_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let clock = RecordingClock::starting_at(now);
        let in_ninety_seconds = httpdate::fmt_http_date(now + Duration::from_secs(90));
        let script = vec![answer(503, &[("retry-after", &in_ninety_seconds)]), answer(200, &[])];

        let (status, _) = run_script(&patient().with_budget(Duration::from_secs(120)), &clock, get(), script).await;

        assert_eq!(status, 200);
        assert_eq!(clock.sleeps(), [Duration::from_secs(90)]);
    }

    #[tokio::test]
    async fn a_retry_after_beyond_the_budget_is_not_waited_for() {
        let clock = RecordingClock::new();
        let script = vec![answer(429, &[("retry-after", "30")])];

        let (status, timeouts) =
            run_script(&patient().with_budget(Duration::from_secs(5)), &clock, get(), script).await;

        assert_eq!(status, 429);
        assert_eq!(timeouts.len(), 1, "one attempt");
        assert_eq!(clock.sleeps(), []);
    }

    #[tokio::test]
    async fn backoff_stops_where_the_next_wait_would_reach_past_the_budget() {
        let clock = RecordingClock::new();
        let budget = Duration::from_millis(1500);
        let policy = RetryPolicy::default()
            .with_max_attempts(20)
            .with_budget(budget)
            .with_backoff(Duration::from_millis(100), Duration::from_millis(400))
            .with_jitter_seed(42);
        let script = (0..20).map(|_| answer(503, &[])).collect();

        let (status, timeouts) = run_script(&policy, &clock, get(), script).await;

        // The same seed draws the same waits: replay them, and find where the budget cuts them off.
        let mut jitter = fastrand::Rng::with_seed(42);
        let mut expected = Vec::new();
        for retry in 1.. {
            let wait = policy.backoff_ceiling(retry).mul_f64(jitter.f64());
            if expected.iter().sum::<Duration>() + wait >= budget {
                break;
            }
            expected.push(wait);
        }
        assert_eq!(status, 503);
        assert_eq!(clock.sleeps(), expected);
        assert_eq!(timeouts.len(), expected.len() + 1);
        for (retry, wait) in expected.iter().enumerate() {
            assert!(*wait <= policy.backoff_ceiling(retry as u32 + 1), "retry {}: {wait:?}", retry + 1);
        }
        // Each attempt is cut to what is left of the budget.
        let mut waited = Duration::ZERO;
        for (attempt, timeout) in timeouts.iter().enumerate() {
            assert_eq!(*timeout, budget - waited, "attempt {}", attempt + 1);
            waited += expected.get(attempt).copied().unwrap_or_default();
        }
    }

    #[tokio::test]
    async fn retries_stop_after_max_attempts() {
        let clock = RecordingClock::new();
        let script = (0..5).map(|_| answer(503, &[("retry-after", "0")])).collect();

        let (status, timeouts) = run_script(&patient().with_max_attempts(3), &clock, get(), script).await;

        assert_eq!(status, 503);
        assert_eq!(timeouts.len(), 3);
        assert_eq!(clock.sleeps(), [Duration::ZERO, Duration::ZERO]);
    }

    #[tokio::test]
    async fn a_post_without_an_idempotency_key_is_sent_once() {
        let clock = RecordingClock::new();
        let post = Request::new(Method::POST, "http://127.0.0.1/tenants/1042/api_keys".parse().unwrap());
        let script = vec![answer(503, &[("retry-after", "0")]), answer(201, &[])];

        let (status, timeouts) = run_script(&patient(), &clock, post, script).await;

        assert_eq!((status, timeouts.len()), (503, 1));
        assert_eq!(clock.sleeps(), []);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("30"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(30)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&httpdate::fmt_http_date(now + Duration::from_secs(90))).unwrap(),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(90)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&httpdate::fmt_http_date(now - Duration::from_secs(5))).unwrap(),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }
}
