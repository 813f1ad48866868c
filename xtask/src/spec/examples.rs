//! Examples are documentation users copy from, and test fixtures we replay: each one must be
//! present where a body is described, and must validate against its schema.

use std::collections::HashMap;

use laserdata_spec::examples::collect;
use laserdata_spec::openapi31::json_schema;
use laserdata_spec::validate::{self, Validator, closest};
use serde_json::{Map, Value};

use crate::diagnostic::{Diagnostic, push_token};
use crate::spec::bundle::Bundle;
use crate::spec::rules::operations;

/// Checks that every body has an example and that every example validates.
pub fn check(bundle: &Bundle) -> Vec<Diagnostic> {
    let mut errors = check_presence(bundle);
    // Schemas are checked as JSON Schema 2020-12, in the form the OpenAPI 3.1 documents publish.
    let schemas = bundle.doc.pointer("/components/schemas").and_then(Value::as_object);
    let converted: Map<String, Value> =
        schemas.into_iter().flatten().map(|(name, schema)| (name.clone(), json_schema(schema))).collect();
    // Validators are costly to build, and many examples share a schema (every error response
    // uses ErrorResponse): build one per distinct schema.
    let mut validators: HashMap<String, Result<Validator, String>> = HashMap::new();
    for example in collect(&bundle.doc) {
        let schema = json_schema(example.schema);
        let validator = validators.entry(schema.to_string()).or_insert_with(|| validate::compile(&converted, &schema));
        let validator = match validator {
            Ok(validator) => validator,
            Err(error) => {
                errors.push(
                    bundle.diagnostic(&example.pointer, format!("the schema for this example is invalid: {error}")),
                );
                continue;
            }
        };
        // An issue's path is a JSON pointer into the example: report the offending value itself.
        // A failed `anyOf`/`oneOf` (a nullable reference is one) is told by its closest branch.
        for issue in closest(&validator.issues(example.value)) {
            let pointer = format!("{}{}", example.pointer, issue.pointer());
            errors.push(bundle.diagnostic(&pointer, format!("example does not match its schema: {issue}")));
        }
    }
    errors
}

/// Every request body and every success response body needs at least one example.
fn check_presence(bundle: &Bundle) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    for operation in operations(&bundle.doc) {
        let name = operation.operation_id().unwrap_or("<no operationId>");
        let mut bodies = Vec::new();
        if let Some(body) = operation.node.get("requestBody") {
            bodies.push((push_token(&operation.pointer, "requestBody"), bundle.deref(body), "request"));
        }
        for (status, response) in operation.node.get("responses").and_then(Value::as_object).into_iter().flatten() {
            let pointer = push_token(&push_token(&operation.pointer, "responses"), status);
            bodies.push((pointer, bundle.deref(response), "response"));
        }
        for (pointer, body, kind) in bodies {
            let Some(content) = body.get("content").and_then(Value::as_object) else { continue };
            // A download (`format: binary`) has bytes, not JSON, to show; it needs no example.
            let is_download = |media: &Value| media.pointer("/schema/format").and_then(Value::as_str) == Some("binary");
            let has_example = content
                .values()
                .any(|media| media.get("example").is_some() || media.get("examples").is_some() || is_download(media));
            if !has_example {
                errors.push(bundle.diagnostic(&pointer, format!("`{name}`: this {kind} body has no example")));
            }
        }
    }
    errors
}
