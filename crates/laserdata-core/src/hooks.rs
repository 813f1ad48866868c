//! What every generated client runs around each request (through progenitor's `ClientHooks`).
//!
//! Progenitor's error for a success body that fails to decode carries the body but not the
//! status or headers. So that such an error can still name the status and the request id,
//! the execution hook records the metadata of each response in a task-local slot that
//! [`capture_response_meta`] opens around a call.

use std::cell::RefCell;
use std::future::Future;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Request, Response, StatusCode};

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

/// Sends one request; the body of every generated client's `ClientHooks::exec`.
pub async fn exec(client: &reqwest::Client, request: Request) -> reqwest::Result<Response> {
    let response = client.execute(request).await?;
    // Outside `capture_response_meta` there is nowhere to record to, which is fine.
    let _ = LAST_RESPONSE.try_with(|slot| {
        *slot.borrow_mut() = Some(ResponseMeta::from_parts(response.status(), response.headers()));
    });
    Ok(response)
}

/// Implements progenitor's `ClientHooks` for a generated `Client` so that its requests go
/// through [`exec`]. Each generated crate invokes it once: the orphan rule keeps the impl out of
/// this crate, and the macro keeps the crates from repeating it.
#[macro_export]
macro_rules! impl_client_hooks {
    ($client:ty) => {
        impl ::progenitor_client::ClientHooks for $client {
            async fn exec(
                &self,
                request: ::reqwest::Request,
                _info: &::progenitor_client::OperationInfo,
            ) -> ::reqwest::Result<::reqwest::Response> {
                $crate::hooks::exec(::progenitor_client::ClientInfo::client(self), request).await
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
