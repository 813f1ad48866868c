//! One error type for every call of every layer, whatever went wrong.
//!
//! Every generated `send()` ends in [`finish`], which turns progenitor's error into [`Error`]:
//! an error answer's body is read (at most 256 KiB) and decoded as the API's problem document,
//! and the status and `ld-request` id of the answer are kept even when its body could not be
//! used.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use futures::TryStreamExt;
use progenitor_client::{ByteStream, ResponseValue};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::hooks::{ResponseMeta, capture_response_meta};
use crate::shared::{ErrorResponse, FieldIssue};

/// How much of a body that is not a problem document is kept for the error (the rest is cut).
pub const RAW_BODY_LIMIT: usize = 4096;
/// How much of an error body is read at most; a larger one is not a problem document.
const ERROR_BODY_READ_LIMIT: usize = 256 * 1024;

/// Why a call failed. Never contains the API key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error status (4xx or 5xx) not covered by a more specific kind.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// 429: the key sent too many requests; `retry_after` says how long to wait.
    #[error("rate limited{wait}: {0}", wait = .0.retry_after.map(|d| format!(" (retry after {} s)", d.as_secs())).unwrap_or_default())]
    RateLimited(Box<ApiError>),
    /// 409 `idempotency_error` (the `idempotency-key` was used with another body) or
    /// `idempotent_request_in_progress` (the first request with that key is still running).
    #[error("idempotency conflict: {0}")]
    IdempotencyConflict(Box<ApiError>),
    /// The request did not get an answer: connection refused or reset, DNS or TLS failure.
    #[error("the request failed before an answer arrived: {0}")]
    Transport(#[source] reqwest::Error),
    /// No complete answer arrived within the configured timeout.
    #[error("the request timed out: {0}")]
    Timeout(#[source] reqwest::Error),
    /// The request could not be built, for example because a required parameter is missing.
    #[error("the request is invalid: {0}")]
    InvalidRequest(String),
    /// A success status, but the body is not what the API describes.
    #[error(transparent)]
    InvalidResponse(Box<InvalidResponse>),
    /// Waiting for an asynchronous result took longer than allowed; the work may still finish.
    #[error("gave up waiting after {waited:?}: {what}")]
    WaitTimedOut {
        /// How long the client waited.
        waited: Duration,
        /// What it was waiting for.
        what: String,
    },
    /// Writing a download to its destination failed.
    #[error("writing the download failed: {0}")]
    Write(#[source] std::io::Error),
}

impl Error {
    /// The HTTP status, when an answer arrived.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(error) | Error::RateLimited(error) | Error::IdempotencyConflict(error) => Some(error.status),
            Error::InvalidResponse(error) => error.status,
            Error::Transport(error) | Error::Timeout(error) => error.status(),
            _ => None,
        }
    }

    /// The server's id for the request (`ld-request`), when an answer carried one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(error) | Error::RateLimited(error) | Error::IdempotencyConflict(error) => {
                error.request_id.as_deref()
            }
            Error::InvalidResponse(error) => error.request_id.as_deref(),
            _ => None,
        }
    }

    /// The error answer, when the failure is one (of any kind: plain, rate limited or idempotency conflict).
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(error) | Error::RateLimited(error) | Error::IdempotencyConflict(error) => Some(error),
            _ => None,
        }
    }

    /// How long the server asked to wait (`retry-after`), when it did.
    pub fn retry_after(&self) -> Option<Duration> {
        self.api().and_then(|error| error.retry_after)
    }

    /// Whether the same request may succeed if sent again: exactly the failures the client's
    /// retry policy retries (connection failures, timeouts, 408, 429, 502, 503, 504). Whether it
    /// is *safe* to send again is another matter: see [`RetryPolicy`](crate::retry::RetryPolicy).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport(error) => error.is_connect() || error.is_request(),
            Error::Timeout(_) | Error::RateLimited(_) => true,
            Error::Api(error) => crate::retry::is_retryable_status(error.status),
            Error::IdempotencyConflict(_)
            | Error::InvalidRequest(_)
            | Error::InvalidResponse(_)
            | Error::WaitTimedOut { .. }
            | Error::Write(_) => false,
        }
    }

    /// Turns the generated client's error into ours, reading the body of an error answer.
    /// `meta` describes the last response received, for errors that lost it.
    async fn from_progenitor(error: progenitor_client::Error<ByteStream>, meta: Option<ResponseMeta>) -> Error {
        use progenitor_client::Error as P;
        match error {
            P::ErrorResponse(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                let body = read_limited(response.into_inner().into_inner(), ERROR_BODY_READ_LIMIT).await;
                ApiError::from_parts(status, &headers, body).into()
            }
            P::UnexpectedResponse(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                let body =
                    read_limited(response.bytes_stream().map_err(std::io::Error::other), ERROR_BODY_READ_LIMIT).await;
                if status.is_client_error() || status.is_server_error() {
                    ApiError::from_parts(status, &headers, body).into()
                } else {
                    let meta = ResponseMeta::from_parts(status, &headers);
                    InvalidResponse::new(
                        Some(&meta),
                        format!("status {status} is not one the API describes for this operation"),
                        &body,
                    )
                    .into()
                }
            }
            P::InvalidResponsePayload(body, error) => body_mismatch(meta.as_ref(), error, &body),
            P::ResponseBodyError(error) => body_read_failed(error, meta.as_ref(), &[]),
            P::CommunicationError(error) | P::InvalidUpgrade(error) if error.is_timeout() => Error::Timeout(error),
            P::CommunicationError(error) | P::InvalidUpgrade(error) => Error::Transport(error),
            P::InvalidRequest(message) | P::Custom(message) => Error::InvalidRequest(message),
        }
    }
}

impl From<ApiError> for Error {
    fn from(error: ApiError) -> Self {
        let idempotency_codes = ["idempotency_error", "idempotent_request_in_progress"];
        match (error.status.as_u16(), error.code()) {
            (429, _) => Error::RateLimited(Box::new(error)),
            (409, Some(code)) if idempotency_codes.contains(&code) => Error::IdempotencyConflict(Box::new(error)),
            _ => Error::Api(Box::new(error)),
        }
    }
}

impl From<InvalidResponse> for Error {
    fn from(error: InvalidResponse) -> Self {
        Error::InvalidResponse(Box::new(error))
    }
}

/// Runs a call of a generated client and turns its failure into [`Error`]; the last step of
/// every generated `send()`.
#[doc(hidden)]
pub async fn finish<T, F>(call: F) -> Result<ResponseValue<T>, Error>
where
    F: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<ByteStream>>>,
{
    match capture_response_meta(call).await {
        (Ok(response), _) => Ok(response),
        (Err(error), meta) => Err(Error::from_progenitor(error, meta).await),
    }
}

/// The error for a success answer whose body stopped arriving: a timeout, or an answer cut
/// short (`received` is what came of it, for the error's raw body).
pub(crate) fn body_read_failed(error: reqwest::Error, meta: Option<&ResponseMeta>, received: &[u8]) -> Error {
    if error.is_timeout() {
        Error::Timeout(error)
    } else {
        InvalidResponse::new(meta, format!("the body could not be read: {error}"), received).into()
    }
}

/// The error for a success answer whose body is not what the API describes (`detail` says
/// how), with the start of that body.
pub(crate) fn body_mismatch(meta: Option<&ResponseMeta>, detail: impl std::fmt::Display, body: &[u8]) -> Error {
    InvalidResponse::new(meta, format!("the body does not match the API description: {detail}"), body).into()
}

/// An error answer from the server.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status of the answer.
    pub status: StatusCode,
    /// The decoded problem document, when the body was one.
    pub problem: Option<ErrorResponse>,
    /// The body as text (cut to [`RAW_BODY_LIMIT`] bytes) when it was not a problem document,
    /// such as the HTML page of a proxy.
    pub raw_body: Option<String>,
    /// The `ld-request` header.
    pub request_id: Option<String>,
    /// How long the server asked to wait before retrying (`retry-after`).
    pub retry_after: Option<Duration>,
    /// Every header of the answer (rate-limit headers among them).
    pub headers: HeaderMap,
}

impl ApiError {
    /// Reads an error answer: its status, headers and (at most [`RAW_BODY_LIMIT`] bytes kept
    /// of) a body that is not a problem document.
    pub fn from_parts(status: StatusCode, headers: &HeaderMap, body: Bytes) -> ApiError {
        let meta = ResponseMeta::from_parts(status, headers);
        let problem = serde_json::from_slice::<ErrorResponse>(&body).ok();
        let raw_body = if problem.is_none() && !body.is_empty() { Some(cut_text(&body)) } else { None };
        ApiError {
            status,
            problem,
            raw_body,
            request_id: meta.request_id,
            retry_after: meta.retry_after,
            headers: headers.clone(),
        }
    }

    /// The stable error code, such as `insufficient_permissions`, when the body had one.
    pub fn code(&self) -> Option<&str> {
        self.problem.as_ref().map(|problem| problem.code.as_str())
    }

    /// The fields a validation failure rejected (empty for other errors).
    pub fn field_issues(&self) -> &[FieldIssue] {
        self.problem.as_ref().map(|problem| problem.field_issues.as_slice()).unwrap_or_default()
    }

    /// 401: the key is missing, unknown, expired or revoked.
    pub fn is_unauthorized(&self) -> bool {
        self.status == StatusCode::UNAUTHORIZED
    }

    /// 403: the key is valid but may not do this (permission or IP allowlist).
    pub fn is_forbidden(&self) -> bool {
        self.status == StatusCode::FORBIDDEN
    }

    /// 404: the resource does not exist, or the key may not see it.
    pub fn is_not_found(&self) -> bool {
        self.status == StatusCode::NOT_FOUND
    }

    /// 429: the key sent too many requests.
    pub fn is_rate_limited(&self) -> bool {
        self.status == StatusCode::TOO_MANY_REQUESTS
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the API answered {}", self.status)?;
        match (&self.problem, &self.raw_body) {
            (Some(problem), _) => write!(f, ": {} ({})", problem.reason, problem.code)?,
            (None, Some(_)) => f.write_str(" with a body that is not a problem document")?,
            (None, None) => {}
        }
        if let Some(request_id) = &self.request_id {
            write!(f, " [request {request_id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// A success answer whose body could not be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid answer{}: {message}{}", status.map(|s| format!(" ({s})")).unwrap_or_default(), request_id.as_ref().map(|id| format!(" [request {id}]")).unwrap_or_default())]
#[non_exhaustive]
pub struct InvalidResponse {
    /// The status of the answer, when it arrived.
    pub status: Option<StatusCode>,
    /// The answer's `ld-request` id.
    pub request_id: Option<String>,
    /// What was wrong with it.
    pub message: String,
    /// The start of the body as text, cut to [`RAW_BODY_LIMIT`] bytes.
    pub raw_body: String,
}

impl InvalidResponse {
    pub(crate) fn new(meta: Option<&ResponseMeta>, message: String, body: &[u8]) -> Self {
        InvalidResponse {
            status: meta.map(|meta| meta.status),
            request_id: meta.and_then(|meta| meta.request_id.clone()),
            message,
            raw_body: cut_text(body),
        }
    }
}

/// Reads at most `limit` bytes (nothing when it is 0); a read failure keeps what arrived.
pub(crate) async fn read_limited<S, E>(stream: S, limit: usize) -> Bytes
where
    S: futures::Stream<Item = Result<Bytes, E>>,
{
    let mut body = Vec::new();
    let mut stream = std::pin::pin!(stream);
    while body.len() < limit {
        let Ok(Some(chunk)) = stream.try_next().await else { break };
        let room = limit - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Bytes::from(body)
}

/// The body as text, cut at a character boundary to at most [`RAW_BODY_LIMIT`] bytes.
fn cut_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut end = text.len().min(RAW_BODY_LIMIT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// A call's answer with its status and headers; dereferences to the body.
pub type Response<T> = ResponseValue<T>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_text_respects_character_boundaries() {
        let body = "é".repeat(RAW_BODY_LIMIT);
        let cut = cut_text(body.as_bytes());
        assert!(cut.len() <= RAW_BODY_LIMIT && cut.len() >= RAW_BODY_LIMIT - 1);
        assert!(cut.chars().all(|c| c == 'é'));
    }

    proptest::proptest! {
        /// Whatever bytes, status and headers an error answer has, decoding it never panics,
        /// keeps the status, and keeps at most RAW_BODY_LIMIT bytes of a body it cannot decode.
        #[test]
        fn decoding_any_error_answer_never_panics(
            status in 400u16..600,
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..6000),
            retry_after in proptest::option::of("[ -~]{0,40}"),
            request_id in proptest::option::of("[ -~]{0,40}"),
        ) {
            let mut headers = HeaderMap::new();
            for (name, value) in [("retry-after", retry_after), ("ld-request", request_id)] {
                if let Some(value) = value.and_then(|v| reqwest::header::HeaderValue::from_str(&v).ok()) {
                    headers.insert(name, value);
                }
            }
            let status = StatusCode::from_u16(status).unwrap();
            let error = ApiError::from_parts(status, &headers, Bytes::from(body));
            proptest::prop_assert_eq!(error.status, status);
            proptest::prop_assert!(error.raw_body.as_ref().is_none_or(|b| b.len() <= RAW_BODY_LIMIT));
            let error = Error::from(error);
            let _ = (error.to_string(), format!("{error:?}"), error.is_retryable());
        }

        /// Problem documents with arbitrary field values decode, whatever else they carry.
        #[test]
        fn any_problem_document_decodes(
            code in "[a-z_]{1,30}",
            reason in ".{0,200}",
            issues in proptest::collection::vec(("[a-z_]{1,20}", ".{0,50}", proptest::option::of("[a-z_.0-9]{1,20}")), 0..20),
        ) {
            let body = serde_json::json!({
                "code": code, "reason": reason, "title": "t", "unknown_extra": [1, 2, 3],
                "field_issues": issues.iter().map(|(c, r, p)| serde_json::json!({"code": c, "reason": r, "path": p})).collect::<Vec<_>>(),
            });
            let error = ApiError::from_parts(StatusCode::BAD_REQUEST, &HeaderMap::new(), Bytes::from(body.to_string()));
            proptest::prop_assert_eq!(error.code(), Some(code.as_str()));
            proptest::prop_assert_eq!(error.field_issues().len(), issues.len());
        }
    }

    #[test]
    fn a_non_json_error_body_is_kept_as_text() {
        let error = ApiError::from_parts(
            StatusCode::BAD_GATEWAY,
            &HeaderMap::new(),
            Bytes::from_static(b"<html>bad gateway</html>"),
        );
        assert!(error.problem.is_none());
        assert_eq!(error.raw_body.as_deref(), Some("<html>bad gateway</html>"));
    }
}
