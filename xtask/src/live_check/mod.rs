//! `cargo xtask live-check`: calls the read-only operations of a real API (or anything that
//! answers like it, such as the sandbox) with the user's key, and checks every answer against
//! our published description: status, body schema, undeclared fields, the `ld-request` header,
//! and, for the Supervisor operations we only inferred, whether their route exists at all.
//!
//! This module plans the calls and judges the answers; sending them is a [`Transport`]'s job:
//! in `cargo xtask live-check`, the small `xtask-http` program run as a child process
//! ([`child`]), so that the xtask itself builds no HTTP stack.
//!
//! Path parameters come from the user (tenant, deployment), from earlier answers (the first item
//! of a list names the item its `get` reads; a field or a created-id header named like a
//! parameter), or, for an enum, from the description's example; an operation whose parameters
//! cannot all be filled is skipped with the reason.

pub mod apply;
mod check;
pub mod child;
pub mod report;
pub mod settings;

use std::collections::BTreeMap;

use laserdata_spec::refs::deref;
use serde_json::Value;

use crate::document::shape::{Node, Shape};
use crate::document::{Operation, operations};
use check::Judge;
use report::{OperationResult, Outcome, Report, RouteVerdict, Target};

/// The layers in the order they are checked: the Supervisor last, as it needs a deployment
/// (and its `supervisor_url`) that the Main API may tell.
pub const LAYER_ORDER: [&str; 3] = ["main", "audit", "supervisor"];

/// One HTTP request to send. The transport adds the `ld-api-key` header.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub body: Option<Value>,
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

/// Sends requests: [`child::ChildTransport`] over HTTP.
pub trait Transport {
    fn send(&mut self, request: &Request) -> Result<Answer, String>;
    /// Waits before a retry (after a 429 with `retry-after`).
    fn pause(&mut self, seconds: u64);
}

/// What to check, and where.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub main_url: String,
    pub audit_url: String,
    pub tenant_id: Option<String>,
    pub deployment_id: Option<String>,
    pub supervisor_url: Option<String>,
    /// Mutating operations (by operationId) that may be called, with their request example.
    pub allow_writes: Vec<String>,
}

/// Our published OpenAPI 3.1 document of each layer, by layer name.
pub type Documents = BTreeMap<String, Value>;

/// A base URL may be plain HTTP only on this machine: the key must not cross a network in clear.
pub fn check_url(url: &str) -> Result<(), String> {
    if url.starts_with("https://") {
        return Ok(());
    }
    let Some(rest) = url.strip_prefix("http://") else { return Err(format!("`{url}` is not an http(s) URL")) };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    // Without the port, if there is one (`[::1]:8080`, `127.0.0.1:8080`).
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => authority,
    };
    if matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        Ok(())
    } else {
        Err(format!("`{url}` uses plain http; only https is allowed beyond this machine (loopback)"))
    }
}

/// How many times an answer of 429 is retried after waiting its `retry-after`.
const RETRIES_AFTER_429: usize = 3;

/// Calls the read-only operations of every layer and returns the report.
pub fn run(options: &Options, documents: &Documents, transport: &mut dyn Transport) -> Result<Report, String> {
    for url in [&options.main_url, &options.audit_url].into_iter().chain(&options.supervisor_url) {
        check_url(url)?;
    }
    let mut values = BTreeMap::new();
    if let Some(tenant) = &options.tenant_id {
        values.insert("tenant_id".to_owned(), tenant.clone());
    }
    if let Some(deployment) = &options.deployment_id {
        values.insert("deployment_id".to_owned(), deployment.clone());
    }
    let mut checker = Checker {
        options,
        transport,
        values,
        supervisor_url: options.supervisor_url.clone(),
        judges: BTreeMap::new(),
        results: Vec::new(),
        secrets: Vec::new(),
        first_failure: None,
    };
    let mut targets = Vec::new();
    for layer in LAYER_ORDER {
        let Some(doc) = documents.get(layer) else { continue };
        let base = match layer {
            "main" => Some(options.main_url.clone()),
            "audit" => Some(options.audit_url.clone()),
            _ => checker.supervisor_url.clone(),
        };
        targets.push(Target { layer: layer.into(), url: base.clone() });
        checker.judges.insert(layer.to_owned(), Judge::new(doc));
        checker.layer(layer, doc, base.as_deref());
    }
    let report = Report::new(targets, checker.results, &checker.secrets);
    match checker.first_failure {
        // Nothing answered: the address or the network is wrong, not the description.
        Some(failure) if report.summary.called == 0 => Err(failure),
        _ => Ok(report),
    }
}

struct Checker<'a> {
    options: &'a Options,
    transport: &'a mut dyn Transport,
    /// Path parameter values by name, from the user and from earlier answers.
    values: BTreeMap<String, String>,
    supervisor_url: Option<String>,
    judges: BTreeMap<String, Judge>,
    results: Vec<OperationResult>,
    /// Values that must never reach the report: secret fields and presigned URLs seen in answers.
    secrets: Vec<String>,
    /// The first request that got no answer at all (to tell when nothing could be reached).
    first_failure: Option<String>,
}

/// Why an operation is not called at all.
fn never_called(operation: &Operation<'_>, allowed: &[String]) -> Option<String> {
    let redirect = operation.successes().keys().all(|status| status.starts_with('3'));
    if redirect {
        return Some("answers with a redirect meant for a browser".into());
    }
    if operation.method != "GET" && !allowed.contains(&operation.id) {
        return Some(format!("{}; name it in --allow-writes to call it ({})", report::WRITE_REASON, operation.method));
    }
    None
}

impl Checker<'_> {
    fn layer(&mut self, layer: &str, doc: &Value, base: Option<&str>) {
        let all = operations(doc);
        let mut pending = Vec::new();
        for operation in &all {
            match never_called(operation, &self.options.allow_writes) {
                Some(reason) => self.skip(layer, operation, reason),
                None => pending.push(operation),
            }
        }
        let Some(base) = base else {
            let reason = if layer == "supervisor" {
                "no Supervisor: give --deployment (and, if the Main API does not tell it, --supervisor-url)"
            } else {
                "no base URL"
            };
            for operation in pending {
                self.skip(layer, operation, reason.into());
            }
            return;
        };
        let fingerprint = match layer {
            "supervisor" if all.iter().any(is_inferred) => self.unknown_route_fingerprint(base),
            _ => None,
        };
        // Reads and creations first, as their answers fill parameters; deletions last.
        let (deletions, others): (Vec<_>, Vec<_>) = pending.into_iter().partition(|op| op.method == "DELETE");
        // The tenant's tree tells the division and environment of the user's deployment.
        let (structure, others): (Vec<_>, Vec<_>) = others.into_iter().partition(|op| op.id == "get_tenant_structure");
        for phase in [structure, others, deletions] {
            let mut waiting = phase;
            loop {
                let ready = waiting.iter().position(|operation| self.url_of(base, operation).is_ok());
                let Some(index) = ready else { break };
                let operation = waiting.remove(index);
                self.call(layer, base, operation, &all, fingerprint.as_ref());
            }
            for operation in waiting {
                let reason = self.url_of(base, operation).err().unwrap_or_default();
                self.skip(layer, operation, reason);
            }
        }
    }

    fn skip(&mut self, layer: &str, operation: &Operation<'_>, reason: String) {
        let mut result = OperationResult::new(layer, operation);
        result.outcome = Outcome::Skipped { reason };
        if is_inferred(operation) {
            result.route = Some(RouteVerdict::NotChecked);
        }
        self.results.push(result);
    }

    /// The full URL of an operation, or why a parameter has no value.
    fn url_of(&self, base: &str, operation: &Operation<'_>) -> Result<String, String> {
        let mut path = operation.path.clone();
        let mut query = Vec::new();
        for ((place, name), parameter) in operation.parameters() {
            let value = match place.as_str() {
                "path" => match self.values.get(&name).cloned().or_else(|| fallback(operation.doc, &name, parameter)) {
                    Some(value) => value,
                    None => return Err(format!("no value for `{name}` (no earlier answer gave one)")),
                },
                "query" if parameter.get("required") == Some(&Value::Bool(true)) => {
                    match example_of(operation.doc, &name, parameter) {
                        Some(value) => {
                            query.push(format!("{}={}", encode(&name), encode(&value)));
                            continue;
                        }
                        None => return Err(format!("no value for the required query parameter `{name}`")),
                    }
                }
                _ => continue,
            };
            path = path.replace(&format!("{{{name}}}"), &encode(&value));
        }
        let query = if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) };
        Ok(format!("{}{path}{query}", base.trim_end_matches('/')))
    }

    /// How the server answers a route that cannot exist, to tell "no such route" apart from
    /// "no such resource" in the answers of inferred operations (`None` if it did not answer).
    fn unknown_route_fingerprint(&mut self, base: &str) -> Option<String> {
        let deployment = self.values.get("deployment_id").cloned().unwrap_or_else(|| "0".into());
        let url = format!(
            "{}/deployments/{}/laserdata-live-check-no-such-route",
            base.trim_end_matches('/'),
            encode(&deployment)
        );
        match self.send(&Request { method: "GET".into(), url, body: None }) {
            Ok(answer) => Some(fingerprint(&answer)),
            Err(error) => {
                self.first_failure.get_or_insert(error);
                None
            }
        }
    }

    fn send(&mut self, request: &Request) -> Result<Answer, String> {
        let mut answer = self.transport.send(request)?;
        for _ in 0..RETRIES_AFTER_429 {
            if answer.status != 429 {
                break;
            }
            let wait = answer.header("retry-after").and_then(|value| value.trim().parse::<u64>().ok()).unwrap_or(1);
            self.transport.pause(wait.min(60));
            answer = self.transport.send(request)?;
        }
        Ok(answer)
    }

    fn call(
        &mut self,
        layer: &str,
        base: &str,
        operation: &Operation<'_>,
        all: &[Operation<'_>],
        unknown_route: Option<&String>,
    ) {
        let url = self.url_of(base, operation).expect("called only when every parameter has a value");
        let body = if operation.method == "GET" { None } else { request_example(operation) };
        let answer = match self.send(&Request { method: operation.method.clone(), url, body }) {
            Ok(answer) => answer,
            Err(error) => {
                self.skip(layer, operation, format!("no answer: {error}"));
                self.first_failure.get_or_insert(error);
                return;
            }
        };
        let judge = self.judges.get_mut(layer).expect("a judge per layer being checked");
        let verdict = judge.judge(operation, &answer);
        self.secrets.extend(verdict.secrets.iter().cloned());
        let mut result = OperationResult::new(layer, operation);
        result.outcome = Outcome::Called(verdict.called);
        if is_inferred(operation) {
            result.route = Some(route_verdict(&answer, unknown_route));
        }
        self.results.push(result);
        if (200..300).contains(&answer.status) {
            self.learn(operation, all, &answer, verdict.body.as_ref());
        }
    }

    /// Fills parameters from a successful answer.
    fn learn(&mut self, operation: &Operation<'_>, all: &[Operation<'_>], answer: &Answer, body: Option<&Value>) {
        let mut learned: Vec<(String, String)> = Vec::new();
        // Created-id headers: `ld-deployment: 42` is `deployment_id`.
        for (name, value) in &answer.headers {
            if let Some(kind) = name.strip_prefix("ld-").filter(|kind| *kind != "request") {
                learned.push((format!("{kind}_id"), value.clone()));
            }
        }
        if let Some(body) = body {
            // The first item of a list names the item that the list's `get` reads.
            let items = body.as_array().or_else(|| body.get("items").and_then(Value::as_array));
            if let Some(first) = items.and_then(|items| items.first()) {
                let prefix = format!("{}/{{", operation.path);
                for other in all {
                    let Some(rest) = other.path.strip_prefix(&prefix) else { continue };
                    let Some((name, _)) = rest.split_once('}') else { continue };
                    let value = [name, "id", "key", "name"].iter().find_map(|field| scalar(first.get(*field)?));
                    if let Some(value) = value {
                        learned.push((name.to_owned(), value));
                    }
                }
            }
            // A field named like a parameter (`user_id` of the key's context).
            for (name, value) in body.as_object().into_iter().flatten() {
                if let Some(value) = scalar(value).filter(|_| name.ends_with("_id")) {
                    learned.push((name.clone(), value));
                }
            }
            if operation.id == "get_tenant_structure" {
                learned.extend(self.locate_deployment(body));
            }
            // The user's deployment, read: it names its Supervisor.
            let wanted = self.options.deployment_id.as_deref();
            if wanted.is_some() && body.get("id").and_then(scalar).as_deref() == wanted {
                let supervisor =
                    body.get("supervisor_url").and_then(Value::as_str).filter(|url| check_url(url).is_ok());
                if let Some(url) = supervisor {
                    self.supervisor_url.get_or_insert_with(|| url.to_owned());
                }
            }
        }
        for (name, value) in learned {
            self.values.entry(name).or_insert(value);
        }
    }

    /// The division and environment of the user's deployment, and its Supervisor, from the
    /// tenant's tree (`divisions[].environments[].deployments[]`).
    fn locate_deployment(&mut self, structure: &Value) -> Vec<(String, String)> {
        let Some(wanted) = self.options.deployment_id.as_deref() else { return Vec::new() };
        for division in structure.get("divisions").and_then(Value::as_array).into_iter().flatten() {
            for environment in division.get("environments").and_then(Value::as_array).into_iter().flatten() {
                for deployment in environment.get("deployments").and_then(Value::as_array).into_iter().flatten() {
                    if deployment.get("id").and_then(scalar).as_deref() != Some(wanted) {
                        continue;
                    }
                    let supervisor = deployment.get("supervisor_url").and_then(Value::as_str);
                    if let Some(url) = supervisor.filter(|url| check_url(url).is_ok()) {
                        self.supervisor_url.get_or_insert_with(|| url.to_owned());
                    }
                    let mut found = Vec::new();
                    for (name, node) in [("division_id", division), ("environment_id", environment)] {
                        found.extend(node.get("id").and_then(scalar).map(|id| (name.to_owned(), id)));
                    }
                    return found;
                }
            }
        }
        Vec::new()
    }
}

fn is_inferred(operation: &Operation<'_>) -> bool {
    operation.node.get("x-laserdata-confidence").and_then(Value::as_str) == Some("inferred")
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// A path parameter's value when neither the user nor an answer gave one: for an enum, its
/// example if allowed, else its first value; for other parameters that are not ids (a config
/// kind, a runtime), the description's example. An id is never taken from an example: it
/// would name something that does not exist.
fn fallback(doc: &Value, name: &str, parameter: &Value) -> Option<String> {
    let node = Node::new(doc, parameter.get("schema")?);
    let shape = Shape::of(node);
    let example = parameter.get("example").and_then(scalar).or_else(|| schema_example(doc, node.schema));
    match shape.enumeration {
        Some(allowed) => example.filter(|value| allowed.contains(value)).or_else(|| allowed.into_iter().next()),
        None if !name.ends_with("_id") => example,
        None => None,
    }
}

/// A schema's own example (`examples[0]` in OpenAPI 3.1, `example` in 3.0), through `$ref`s.
fn schema_example(doc: &Value, schema: &Value) -> Option<String> {
    let schema = deref(doc, schema);
    let example = schema.get("examples").and_then(|examples| examples.get(0)).or_else(|| schema.get("example"));
    example.and_then(scalar)
}

/// A value for a required query parameter: its example, else its schema's default or first
/// enum value.
fn example_of(doc: &Value, name: &str, parameter: &Value) -> Option<String> {
    parameter.get("example").and_then(scalar).or_else(|| {
        let schema = deref(doc, parameter.get("schema")?);
        schema.get("default").and_then(scalar).or_else(|| fallback(doc, name, parameter))
    })
}

/// The example request body of an operation (for a write the user allowed).
fn request_example(operation: &Operation<'_>) -> Option<Value> {
    let body = deref(operation.doc, operation.node.get("requestBody")?);
    let media = body.pointer("/content/application~1json")?;
    media.get("example").cloned().or_else(|| {
        let examples = media.get("examples")?.as_object()?;
        let first = examples.values().next()?;
        deref(operation.doc, first).get("value").cloned()
    })
}

/// Percent-encodes a path segment or query value.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// An answer with what changes from request to request (request ids) taken out.
fn fingerprint(answer: &Answer) -> String {
    let body = match serde_json::from_slice::<Value>(&answer.body) {
        Ok(Value::Object(mut object)) => {
            object.remove("instance");
            Value::Object(object).to_string()
        }
        Ok(other) => other.to_string(),
        Err(_) => String::from_utf8_lossy(&answer.body).into_owned(),
    };
    format!("{} {body}", answer.status)
}

/// Whether an inferred operation's route exists, from its answer and from how the server
/// answers a route that cannot exist.
fn route_verdict(answer: &Answer, unknown_route: Option<&String>) -> RouteVerdict {
    let status = answer.status;
    if (200..300).contains(&status) {
        return RouteVerdict::Confirmed { why: format!("answered {status}") };
    }
    if status == 405 {
        return RouteVerdict::Refuted { why: "405: the path exists, not with this method".into() };
    }
    match (status, unknown_route) {
        (404, None) => {
            RouteVerdict::Inconclusive { why: "404, and no answer of an unknown route to compare with".into() }
        }
        (404, Some(unknown)) if *unknown == fingerprint(answer) => {
            RouteVerdict::Refuted { why: "answers exactly like a route that cannot exist".into() }
        }
        (404, Some(_)) => {
            let code = serde_json::from_slice::<Value>(&answer.body)
                .ok()
                .and_then(|body| body.get("code").and_then(Value::as_str).map(str::to_owned));
            RouteVerdict::Confirmed {
                why: format!(
                    "404 with its own answer{} (unlike an unknown route): the route exists, the resource does not",
                    code.map(|code| format!(" `{code}`")).unwrap_or_default()
                ),
            }
        }
        _ => RouteVerdict::Inconclusive { why: format!("answered {status}") },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_on_loopback() {
        assert!(check_url("https://api.laserdata.cloud").is_ok());
        assert!(check_url("http://127.0.0.1:8080/audit").is_ok());
        assert!(check_url("http://localhost").is_ok());
        assert!(check_url("http://[::1]:9000").is_ok());
        assert!(check_url("http://api.laserdata.cloud").unwrap_err().contains("only https"));
        assert!(check_url("http://127.0.0.1.evil.example").is_err());
        assert!(check_url("ftp://x").is_err());
    }

    #[test]
    fn a_404_tells_an_unknown_route_from_a_missing_resource() {
        let answer = |status: u16, body: &str| Answer { status, headers: Vec::new(), body: body.as_bytes().to_vec() };
        let unknown = fingerprint(&answer(404, r#"{"code":"not_found","reason":"No route","instance":"A"}"#));
        let same = answer(404, r#"{"code":"not_found","reason":"No route","instance":"B"}"#);
        assert!(matches!(route_verdict(&same, Some(&unknown)), RouteVerdict::Refuted { .. }));
        let missing = answer(404, r#"{"code":"not_found","reason":"No such deployment","instance":"C"}"#);
        assert!(matches!(route_verdict(&missing, Some(&unknown)), RouteVerdict::Confirmed { .. }));
        assert!(matches!(route_verdict(&answer(200, "[]"), Some(&unknown)), RouteVerdict::Confirmed { .. }));
        assert!(matches!(route_verdict(&answer(403, "{}"), Some(&unknown)), RouteVerdict::Inconclusive { .. }));
        assert!(matches!(route_verdict(&answer(405, "{}"), Some(&unknown)), RouteVerdict::Refuted { .. }));
        // Without the answer of an unknown route, a 404 proves nothing either way.
        assert!(matches!(route_verdict(&missing, None), RouteVerdict::Inconclusive { .. }));
    }
}
