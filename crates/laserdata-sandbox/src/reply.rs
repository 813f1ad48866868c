//! What the sandbox answers: a status, headers and a body, success or problem.

use bytes::Bytes;
use serde_json::{Value, json};

/// The body of an answer.
#[derive(Clone, Debug)]
pub enum Body {
    Empty,
    /// JSON, sent as `application/json` (or `application/problem+json` for an error status).
    Json(Value),
    /// Bytes of a documented media type (a PDF download).
    Bytes(String, Bytes),
}

/// An answer a handler wants to send.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Body,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply { status, body: Body::Json(body), headers: Vec::new() }
    }

    pub fn empty(status: u16) -> Reply {
        Reply { status, body: Body::Empty, headers: Vec::new() }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// A problem document (`ErrorResponse`) with a stable `code`.
pub fn problem(status: u16, code: &str, reason: &str) -> Reply {
    let title = hyper::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error");
    Reply::json(
        status,
        json!({
            "type": "about:blank",
            "title": title,
            "status": status,
            "code": code,
            "reason": reason,
            // As the API documents: these statuses may succeed when sent again.
            "retryable": matches!(status, 408 | 425 | 429 | 500 | 502 | 503 | 504),
        }),
    )
}

/// 400 `validation_failed` with one `field_issues` entry per problem.
pub fn validation_failed(reason: &str, issues: Vec<Value>) -> Reply {
    let mut reply = problem(400, "validation_failed", reason);
    if let Body::Json(body) = &mut reply.body {
        body["field_issues"] = Value::Array(issues);
    }
    reply
}

/// One `FieldIssue`: what is wrong (`code`, `reason`) and where (a dotted `path`).
pub fn field_issue(code: &str, reason: impl Into<String>, path: &str) -> Value {
    json!({ "code": code, "reason": reason.into(), "path": path })
}

pub fn not_found(what: &str) -> Reply {
    problem(404, "not_found", &format!("No such {what}, or this API key may not see it."))
}
