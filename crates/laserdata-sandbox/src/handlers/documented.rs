//! The answer of an operation the sandbox keeps no state for: its documented success status,
//! with the documented example (paged and, for the audit log, filtered as asked), the
//! documented headers, a redirect's `Location`, or a small document for a download. A delete
//! is remembered: what it deleted answers 404 afterwards.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Call, page_of};
use crate::reply::{Body, Reply};
use crate::routing::{deleted_path, query_text};
use crate::server::State;
use crate::state::lock;

/// What a download (the invoice PDF, the only one) holds: a minimal, valid PDF document.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

pub fn answer(state: &State, call: &Call<'_>) -> Reply {
    let success = &call.operation.success;
    let mut reply = match (&success.media_type, &success.example) {
        (Some(media), _) if media != "application/json" => Reply {
            status: success.status,
            body: Body::Bytes(media.clone(), Bytes::from_static(PDF)),
            headers: Vec::new(),
        },
        (_, Some(example)) => Reply::json(success.status, listed(example, call)),
        (_, None) => Reply::empty(success.status),
    };
    for (name, header) in &success.headers {
        if name == "location" {
            let example = header.get("example").and_then(Value::as_str);
            reply = reply.with_header(name, example.map_or_else(|| format!("{}/", state.base_url), str::to_owned));
        } else if name.starts_with("ld-") && name != "ld-request" {
            // The id of what the request created.
            reply = reply.with_header(name, state.id().to_string());
        }
    }
    if call.operation.method == "DELETE" && reply.status < 300 {
        lock(&state.data).deleted_paths.insert(deleted_path(call));
    }
    reply
}

/// A paged example as asked for: its items filtered (the audit log) and paged.
fn listed(example: &Value, call: &Call<'_>) -> Value {
    let Some(items) = example.get("items").and_then(Value::as_array).filter(|_| example.get("total_pages").is_some())
    else {
        return example.clone();
    };
    let kept = items.iter().filter(|item| matches_audit_filters(item, call)).cloned().collect();
    page_of(kept, call)
}

/// Whether an audit entry passes the filters of `get_tenant_audit` (and of any list with
/// the same query parameters): every filter given must match.
fn matches_audit_filters(item: &Value, call: &Call<'_>) -> bool {
    for about in ["division", "environment", "deployment", "user", "author", "api_key"] {
        if let Some(wanted) = call.parameters.query(about).and_then(Value::as_u64)
            && item[about]["id"].as_u64() != Some(wanted)
        {
            return false;
        }
    }
    if let Some(types) = query_text(call, "types")
        && !types.split(',').any(|kind| Some(kind.trim()) == item["type"].as_str())
    {
        return false;
    }
    if let Some(wanted) = query_text(call, "correlation_id")
        && item["correlation_id"].as_str() != Some(wanted)
    {
        return false;
    }
    let time =
        |text: Option<&str>| text.and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&Utc));
    let at = time(item["timestamp"].as_str());
    if let Some(from) = time(query_text(call, "from"))
        && at.is_none_or(|at| at < from)
    {
        return false;
    }
    if let Some(to) = time(query_text(call, "to"))
        && at.is_none_or(|at| at >= to)
    {
        return false;
    }
    true
}
