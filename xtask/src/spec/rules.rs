//! Our own rules for every layer, on top of what OpenAPI itself requires. Each rule exists
//! because breaking it either hurts users of the description or makes progenitor produce a
//! worse client (or panic).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::diagnostic::{Diagnostic, push_token};
use crate::spec::bundle::Bundle;

pub use laserdata_spec::operations::{METHODS, Operation, operations};

/// The schema every error response must use.
const ERROR_SCHEMA: &str = "#/components/schemas/ErrorResponse";
const PROBLEM_JSON: &str = "application/problem+json";

/// Checks every rule and returns every violation found.
pub fn check(bundle: &Bundle, layer: &crate::layers::Layer) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    let doc = &bundle.doc;
    if doc.get("openapi").and_then(Value::as_str) != Some("3.0.3") {
        errors.push(bundle.diagnostic(
            "/openapi",
            "sources are written in OpenAPI 3.0.3 (`openapi: 3.0.3`), the version progenitor reads",
        ));
    }
    if bundle.resolve_ref(ERROR_SCHEMA).is_none() {
        errors.push(bundle.diagnostic(
            "/components/schemas",
            format!("the shared error schema `{ERROR_SCHEMA}` is not used by any response"),
        ));
    }
    let mut seen_ids: BTreeMap<String, String> = BTreeMap::new();
    for operation in operations(doc) {
        let mut report = |pointer: &str, message: String| errors.push(bundle.diagnostic(pointer, message));
        let name = operation.operation_id().unwrap_or("<no operationId>").to_owned();

        match operation.operation_id() {
            None => report(&operation.pointer, "every operation needs an operationId".into()),
            Some(id) if !is_snake_case(id) => {
                report(&push_token(&operation.pointer, "operationId"), format!("operationId `{id}` is not snake_case"))
            }
            Some(id) => {
                if let Some(first) = seen_ids.insert(id.to_owned(), operation.pointer.clone()) {
                    report(
                        &push_token(&operation.pointer, "operationId"),
                        format!("operationId `{id}` is already used at #{first}"),
                    );
                }
            }
        }
        if operation.node.get("tags").and_then(Value::as_array).is_none_or(|tags| tags.is_empty()) {
            report(&operation.pointer, format!("`{name}` has no tag; tags group operations in docs and clients"));
        }

        let confidence = operation.node.get("x-laserdata-confidence").and_then(Value::as_str);
        match (layer.requires_confidence, confidence) {
            (_, Some("seen" | "inferred")) | (false, None) => {}
            (true, None) => report(
                &operation.pointer,
                format!(
                    "`{name}` must say in `x-laserdata-confidence` whether it was `seen` in a source or `inferred`"
                ),
            ),
            (_, Some(other)) => report(
                &push_token(&operation.pointer, "x-laserdata-confidence"),
                format!("`{name}`: `x-laserdata-confidence` is `seen` or `inferred`, not `{other}`"),
            ),
        }
        check_path_parameters(bundle, &operation, &name, &mut report);
        check_responses(bundle, &operation, &name, &mut report);
        check_paging(bundle, &operation, &name, &mut report);
        check_request_body(bundle, &operation, &name, &mut report);
        check_idempotency(bundle, &operation, &name, &mut report);
    }
    errors
}

fn check_path_parameters(
    bundle: &Bundle,
    operation: &Operation<'_>,
    name: &str,
    report: &mut impl FnMut(&str, String),
) {
    let in_template: BTreeSet<&str> = operation
        .path
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(parameter, _)| parameter))
        .collect();
    let mut declared = BTreeSet::new();
    for (pointer, parameter) in operation.parameters(&bundle.doc) {
        // Progenitor lists parameters in a Markdown list; a second line breaks out of the item.
        if parameter.get("description").and_then(Value::as_str).is_some_and(|d| d.trim_end().contains('\n')) {
            let parameter_name = parameter.get("name").and_then(Value::as_str).unwrap_or_default();
            report(
                &pointer,
                format!(
                    "`{name}`: the description of parameter `{parameter_name}` must fit on one line; put details in its schema"
                ),
            );
        }
        if parameter.get("in").and_then(Value::as_str) != Some("path") {
            continue;
        }
        let parameter_name = parameter.get("name").and_then(Value::as_str).unwrap_or_default();
        declared.insert(parameter_name.to_owned());
        if !in_template.contains(parameter_name) {
            report(
                &pointer,
                format!(
                    "`{name}` declares path parameter `{parameter_name}`, which is not in the path `{}`",
                    operation.path
                ),
            );
        }
    }
    for missing in in_template.iter().filter(|p| !declared.contains(**p)) {
        report(&operation.pointer, format!("`{name}`: the path has `{{{missing}}}` but no path parameter declares it"));
    }
}

fn check_responses(bundle: &Bundle, operation: &Operation<'_>, name: &str, report: &mut impl FnMut(&str, String)) {
    let responses_pointer = push_token(&operation.pointer, "responses");
    let Some(responses) = operation.node.get("responses").and_then(Value::as_object) else {
        report(&operation.pointer, format!("`{name}` declares no responses"));
        return;
    };
    if responses.contains_key("default") {
        report(
            &push_token(&responses_pointer, "default"),
            format!(
                "`{name}` uses a `default` response; declare `4XX` and `5XX` instead (progenitor treats `default` as a success too)"
            ),
        );
    }
    for range in ["4XX", "5XX"] {
        if !responses.contains_key(range) {
            report(
                &responses_pointer,
                format!("`{name}` must declare a `{range}` response so that every error status is described"),
            );
        }
    }
    let mut success_schemas = BTreeSet::new();
    for (status, response) in responses {
        let pointer = push_token(&responses_pointer, status);
        let resolved = bundle.deref(response);
        if status.starts_with('2') {
            let body = resolved.get("content").and_then(Value::as_object);
            success_schemas
                .insert(body.and_then(|c| c.get("application/json")).map(|m| m.get("schema").map(Value::to_string)));
            // Progenitor types JSON bodies; anything else must be a download (a byte stream).
            let is_download = |media: &Value| media.pointer("/schema/format").and_then(Value::as_str) == Some("binary");
            if body.is_some_and(|c| c.iter().any(|(k, media)| k != "application/json" && !is_download(media))) {
                report(
                    &pointer,
                    format!(
                        "`{name}`: a success body is `application/json`, or a download (`type: string, format: binary`)"
                    ),
                );
            }
        } else if status.starts_with('4') || status.starts_with('5') {
            check_error_response(resolved, status, name, &pointer, report);
        } else if status.starts_with('3') {
            // A redirect (a browser flow such as a sign-in callback) carries no body.
            if resolved.get("content").is_some() {
                report(&pointer, format!("`{name}`: redirect `{status}` must not have a body"));
            }
        } else if status != "default" {
            report(&pointer, format!("`{name}`: status `{status}` is neither a success nor an error"));
        }
    }
    if !responses.keys().any(|status| status.starts_with('2') || status.starts_with('3')) {
        report(&responses_pointer, format!("`{name}` declares no success (2xx) or redirect (3xx) response"));
    }
    if success_schemas.len() > 1 {
        report(
            &responses_pointer,
            format!("`{name}`: all success responses must share one body type (a progenitor limit)"),
        );
    }
}

fn check_error_response(
    response: &Value,
    status: &str,
    name: &str,
    pointer: &str,
    report: &mut impl FnMut(&str, String),
) {
    let problem_schema = response.pointer(&format!("/content/{}/schema/$ref", PROBLEM_JSON.replace('/', "~1")));
    if problem_schema.and_then(Value::as_str) != Some(ERROR_SCHEMA) {
        report(
            pointer,
            format!("`{name}`: error response `{status}` must have an `{PROBLEM_JSON}` body using `{ERROR_SCHEMA}`"),
        );
    }
    let headers = response.get("headers").and_then(Value::as_object);
    let has_header = |header: &str| headers.is_some_and(|h| h.contains_key(header));
    if !has_header("ld-request") {
        report(pointer, format!("`{name}`: error response `{status}` must declare the `ld-request` header"));
    }
    if matches!(status, "429" | "503") && !has_header("retry-after") {
        report(pointer, format!("`{name}`: response `{status}` must declare the `retry-after` header"));
    }
}

/// A paged envelope is an object with `items`, `page`, `total_results` and `total_pages`.
pub fn is_paged_envelope(bundle: &Bundle, schema: &Value) -> bool {
    let schema = bundle.deref(schema);
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else { return false };
    ["items", "page", "total_results", "total_pages"].iter().all(|field| properties.contains_key(*field))
}

/// The schema of an operation's JSON success body, if it has one.
pub fn success_schema<'a>(bundle: &'a Bundle, operation: &Operation<'a>) -> Option<&'a Value> {
    let responses = operation.node.get("responses")?.as_object()?;
    responses
        .iter()
        .filter(|(status, _)| status.starts_with('2'))
        .find_map(|(_, response)| bundle.deref(response).pointer("/content/application~1json/schema"))
}

fn check_paging(bundle: &Bundle, operation: &Operation<'_>, name: &str, report: &mut impl FnMut(&str, String)) {
    let Some(schema) = success_schema(bundle, operation) else { return };
    if !is_paged_envelope(bundle, schema) {
        return;
    }
    let parameters = operation.parameters(&bundle.doc);
    for wanted in ["page", "results"] {
        let found = parameters.iter().any(|(_, p)| {
            p.get("name").and_then(Value::as_str) == Some(wanted)
                && p.get("in").and_then(Value::as_str) == Some("query")
        });
        if !found {
            report(&operation.pointer, format!("`{name}` returns a paged list but has no `{wanted}` query parameter"));
        }
    }
}

fn check_request_body(bundle: &Bundle, operation: &Operation<'_>, name: &str, report: &mut impl FnMut(&str, String)) {
    let Some(body) = operation.node.get("requestBody") else { return };
    let body = bundle.deref(body);
    let pointer = push_token(&operation.pointer, "requestBody");
    if let Some(content) = body.get("content").and_then(Value::as_object) {
        for media in content.keys().filter(|media| *media != "application/json") {
            report(
                &pointer,
                format!("`{name}`: request body type `{media}` is not typed by progenitor; use `application/json`"),
            );
        }
    }
}

/// The server remembers an `idempotency-key` per API key, for POST, PUT and PATCH only: the
/// header means nothing on an operation without an API key, or on a read or a delete.
fn check_idempotency(bundle: &Bundle, operation: &Operation<'_>, name: &str, report: &mut impl FnMut(&str, String)) {
    let Some((pointer, _)) = operation.parameters(&bundle.doc).into_iter().find(|(_, parameter)| {
        parameter.get("in").and_then(Value::as_str) == Some("header")
            && parameter.get("name").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case("idempotency-key"))
    }) else {
        return;
    };
    let security = operation.node.get("security").or_else(|| bundle.doc.get("security"));
    let public = security.and_then(Value::as_array).is_none_or(|requirements| requirements.is_empty());
    if public {
        report(
            &pointer,
            format!("`{name}` takes no API key, so `idempotency-key` has nothing to be remembered under; remove it"),
        );
    } else if !matches!(operation.method, "post" | "put" | "patch") {
        report(&pointer, format!("`{name}`: `idempotency-key` applies to POST, PUT and PATCH only"));
    }
}

fn is_snake_case(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !id.contains("__")
        && !id.ends_with('_')
}
