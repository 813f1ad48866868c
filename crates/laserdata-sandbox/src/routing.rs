//! One request from arrival to answer: which operation it is for, the key, the permission,
//! the parameters and body, the scope (tenant, division, ...), a replay, then its handler.

use bytes::Bytes;
use serde_json::Value;

use crate::auth::{Caller, authenticate};
use crate::documents::{Layer, Location, Operation, Route};
use crate::handlers::{self, Call};
use crate::idempotency::honoured_for;
use crate::reply::{Reply, field_issue, not_found, problem, validation_failed};
use crate::server::State;
use crate::state::{Data, TENANT, lock};

/// A request as it arrived.
pub struct Incoming {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Incoming {
    /// A header's value: `None` when absent, `Err` when it is not visible ASCII.
    fn header(&self, name: &str) -> Option<Result<String, ()>> {
        self.headers.get(name).map(|value| value.to_str().map(str::to_owned).map_err(drop))
    }
}

pub fn answer(state: &State, request: &Incoming) -> Reply {
    let (layer, path) = Layer::of(&request.path);
    let accepts = |operation: &Operation, name: &str, raw: &str| {
        state.validators.accepts_path_value(&state.documents, operation, name, raw)
    };
    let operation = match state.documents.route(layer, &request.method, path, &accepts) {
        Route::Found(operation) => operation,
        Route::MethodNotAllowed(allowed) => {
            return problem(405, "method_not_allowed", "The path has no such method.")
                .with_header("allow", allowed.join(", "));
        }
        Route::NotFound => return problem(404, "not_found", "No operation has this path."),
    };
    let handled = handlers::find(&operation.id);
    // The key and its rate limit come first, then the permission, as on the real API.
    let caller = if operation.needs_key {
        let secret = request.header("ld-api-key").and_then(Result::ok);
        match authenticate(&mut lock(&state.data), secret.as_deref(), state.config.rate_limit_per_second) {
            Ok(caller) => Some(caller),
            Err(reply) => return reply,
        }
    } else {
        None
    };
    if let (Some(caller), Some(needed)) = (&caller, handled.and_then(|h| h.permission))
        && !caller.permissions.allows(needed)
    {
        return problem(403, "insufficient_permissions", &format!("The key lacks the `{needed}` permission."));
    }
    let call = match read(state, operation, path, request, caller) {
        Ok(call) => call,
        Err(reply) => return reply,
    };
    if let Some(reply) = out_of_scope(&lock(&state.data), &call, path) {
        return reply;
    }
    let replay_key = match (&call.caller, request.header("idempotency-key")) {
        (Some(caller), Some(Ok(key))) if honoured_for(&request.method) => Some((caller.secret.clone(), key)),
        _ => None,
    };
    if let Some(key) = &replay_key
        && let Some(reply) = lock(&state.data).replays.replay(key, &request.body)
    {
        return reply;
    }
    let reply = match handled {
        Some(handled) => (handled.handler)(state, &call),
        None => handlers::documented::answer(state, &call),
    };
    if let Some(key) = replay_key {
        lock(&state.data).replays.remember(key, request.body.clone(), &reply);
    }
    reply
}

/// Reads and checks the parameters and the body.
fn read<'a>(
    state: &State,
    operation: &'a Operation,
    path: &'a str,
    request: &Incoming,
    caller: Option<Caller>,
) -> Result<Call<'a>, Reply> {
    let path_values: Vec<(&str, String)> =
        operation.path_values(path).into_iter().map(|(name, raw)| (name, percent_decode(raw))).collect();
    let query: Vec<(String, String)> = match serde_urlencoded::from_str(&request.query) {
        Ok(pairs) => pairs,
        Err(error) => {
            let issue = field_issue("invalid_query", format!("The query string cannot be read: {error}"), "query");
            return Err(validation_failed("The query string is malformed.", vec![issue]));
        }
    };
    let parameters = state
        .validators
        .parameters(&state.documents, operation, &path_values, &query, &|name| request.header(name))
        .map_err(|issues| validation_failed("The request has invalid parameters.", issues))?;
    let body = match &operation.body {
        None => Value::Null,
        Some(_) if request.body.is_empty() && !operation.body.as_ref().is_some_and(|b| b.required) => Value::Null,
        Some(_) if request.body.is_empty() => {
            let issue = field_issue("required", "The request needs a JSON body.", "body");
            return Err(validation_failed("The request body is missing.", vec![issue]));
        }
        Some(body) => {
            let media_type = request
                .header("content-type")
                .and_then(Result::ok)
                .map(|value| value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
            if !media_type.as_ref().is_some_and(|media| body.media_types.contains(media)) {
                return Err(problem(
                    415,
                    "unsupported_media_type",
                    &format!("The body must be sent as {}.", body.media_types.join(" or ")),
                ));
            }
            let value: Value = serde_json::from_slice(&request.body).map_err(|error| {
                let issue = field_issue("invalid_json", format!("The body is not JSON: {error}"), "body");
                validation_failed("The request body is not JSON.", vec![issue])
            })?;
            if let Some(schema) = &body.schema {
                let issues = state.validators.issues(operation.layer, schema, &value, "");
                if !issues.is_empty() {
                    return Err(validation_failed("The request body has invalid fields.", issues));
                }
            }
            value
        }
    };
    Ok(Call { operation, path, parameters, body, caller })
}

/// The 403 or 404 for a request outside what the key may reach or what exists: another
/// tenant, a division, environment or deployment the sandbox does not have (or not there),
/// or something deleted before.
fn out_of_scope(data: &Data, call: &Call<'_>, path: &str) -> Option<Reply> {
    let id = |name: &str| call.parameters.id(name);
    if let (Some(limit), Some(division)) = (call.caller.as_ref().and_then(|c| c.division), id("division_id"))
        && limit != division
    {
        return Some(problem(403, "insufficient_permissions", "The key is limited to another division."));
    }
    if id("tenant_id").is_some_and(|tenant| tenant != TENANT) {
        return Some(not_found("tenant"));
    }
    if let Some(division) = id("division_id")
        && !data.divisions.contains_key(&division)
    {
        return Some(not_found("division"));
    }
    if let Some(environment) = id("environment_id") {
        match data.environments.get(&environment) {
            Some(found) if id("division_id").is_none_or(|division| division == found.division) => {}
            _ => return Some(not_found("environment")),
        }
    }
    if let Some(deployment) = id("deployment_id") {
        match data.deployments.get(&deployment) {
            Some(found)
                if id("division_id").is_none_or(|division| division == found.division)
                    && id("environment_id").is_none_or(|environment| environment == found.environment) => {}
            _ => return Some(not_found("deployment")),
        }
    }
    let layer_path = format!("{:?}:{path}", call.operation.layer);
    let deleted = data.deleted_paths.iter().any(|gone| {
        layer_path == *gone || layer_path.strip_prefix(gone.as_str()).is_some_and(|rest| rest.starts_with('/'))
    });
    deleted.then(|| not_found("resource"))
}

/// Where a path deleted through an operation answered from an example is remembered.
pub fn deleted_path(call: &Call<'_>) -> String {
    format!("{:?}:{}", call.operation.layer, call.path)
}

/// Undoes percent-encoding in a path segment.
fn percent_decode(text: &str) -> String {
    laserdata_spec::pointer::decode_fragment(text)
}

/// The value of a query parameter as text, if it was sent.
pub fn query_text<'c>(call: &'c Call<'_>, name: &str) -> Option<&'c str> {
    call.parameters.get(Location::Query, name).and_then(Value::as_str)
}
