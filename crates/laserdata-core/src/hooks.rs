//! What every generated client runs around each request (through progenitor's `ClientHooks`).
//!
//! Progenitor's error for a success body that fails to decode carries the body but not the
//! status or headers. So that such an error can still name the status and the request id,
//! the execution hook records the metadata of each response in a task-local slot that
//! [`capture_response_meta`] opens around a call.

use std::cell::RefCell;
use std::future::Future;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, Request, Response, StatusCode};
use std::time::Instant;
use tracing::Instrument;

use crate::retry::{RetryPolicy, is_idempotent, is_retryable_status};

/// The response header that carries the server's id for the request.
pub const REQUEST_ID_HEADER: &str = "ld-request";

/// What the client keeps of a response besides its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseMeta {
    pub status: StatusCode,
    /// The `ld-request` header.
    pub request_id: Option<String>,
    /// The `retry-after` header, as a delay from when the response arrived.
    pub retry_after: Option<Duration>,
}

impl ResponseMeta {
    pub fn from_parts(status: StatusCode, headers: &HeaderMap) -> Self {
        ResponseMeta { status, request_id: request_id(headers), retry_after: retry_after(headers, SystemTime::now()) }
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientState {
    pub retry: RetryPolicy,
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
    send_with_retries(client, &state.retry, request).instrument(span).await
}

async fn send_with_retries(
    client: &reqwest::Client,
    policy: &RetryPolicy,
    mut request: Request,
) -> reqwest::Result<Response> {
    let started = Instant::now();
    let idempotent = is_idempotent(request.method(), request.headers().contains_key(IDEMPOTENCY_KEY_HEADER));
    let span = tracing::Span::current();
    let mut attempt = 1;
    loop {
        span.record("attempt", attempt);
        let remaining = policy.budget.saturating_sub(started.elapsed());
        *request.timeout_mut() = Some(policy.attempt_timeout.min(remaining));
        // A streamed body cannot be cloned, and then cannot be sent twice either.
        let next = if idempotent && attempt < policy.max_attempts { request.try_clone() } else { None };
        let result = client.execute(request).await;
        let server_delay = match &result {
            Ok(response) => {
                let meta = ResponseMeta::from_parts(response.status(), response.headers());
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
        let delay = server_delay.unwrap_or_else(|| policy.backoff(attempt));
        if started.elapsed() + delay >= policy.budget {
            tracing::debug!(
                delay_ms = delay.as_millis() as u64,
                "not retrying: the wait would outlast the call's budget"
            );
            return result;
        }
        tracing::debug!(delay_ms = delay.as_millis() as u64, from_retry_after = server_delay.is_some(), "retrying");
        drop(result);
        tokio::time::sleep(delay).await;
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
    use reqwest::header::HeaderValue;

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
