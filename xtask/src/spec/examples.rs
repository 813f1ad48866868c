//! Examples are documentation users copy from, and test fixtures we replay: each one must be
//! present where a body is described, and must validate against its schema.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::diagnostic::{Diagnostic, push_token};
use crate::spec::bundle::Bundle;
use crate::spec::rules::operations;

/// Every example in the document, with the schema it must satisfy.
pub struct Example<'a> {
    /// Where the example's value is.
    pub pointer: String,
    pub value: &'a Value,
    pub schema: &'a Value,
}

/// Finds every `example` and `examples` beside a `schema` (media types, parameters, headers)
/// and every `example` inside a schema.
pub fn collect(bundle: &Bundle) -> Vec<Example<'_>> {
    let mut found = Vec::new();
    walk(bundle, &bundle.doc, "", false, &mut found);
    found
}

fn walk<'a>(bundle: &'a Bundle, node: &'a Value, pointer: &str, in_schema: bool, found: &mut Vec<Example<'a>>) {
    match node {
        Value::Object(object) => {
            if let Some(schema) = object.get("schema").filter(|s| s.is_object()) {
                if let Some(value) = object.get("example") {
                    found.push(Example { pointer: push_token(pointer, "example"), value, schema });
                }
                for (name, example) in object.get("examples").and_then(Value::as_object).into_iter().flatten() {
                    let at = push_token(&push_token(pointer, "examples"), name);
                    if let Some(value) = bundle.deref(example).get("value") {
                        found.push(Example { pointer: push_token(&at, "value"), value, schema });
                    }
                }
            } else if in_schema && let Some(value) = object.get("example") {
                found.push(Example { pointer: push_token(pointer, "example"), value, schema: node });
            }
            for (key, child) in object {
                if matches!(key.as_str(), "example" | "examples") {
                    continue;
                }
                // Below `schema`, and below each entry of `components/schemas`, nodes are schemas.
                let child_in_schema = in_schema || key == "schema" || pointer == "/components/schemas";
                walk(bundle, child, &push_token(pointer, key), child_in_schema, found);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                walk(bundle, child, &push_token(pointer, &index.to_string()), in_schema, found);
            }
        }
        _ => {}
    }
}

/// Checks that every body has an example and that every example validates.
pub fn check(bundle: &Bundle) -> Vec<Diagnostic> {
    let mut errors = check_presence(bundle);
    let schemas = bundle.doc.pointer("/components/schemas").and_then(Value::as_object);
    let converted: Map<String, Value> =
        schemas.into_iter().flatten().map(|(name, schema)| (name.clone(), convert_schema(schema, false))).collect();
    // Validators are costly to build, and many examples share a schema (every error response
    // uses ErrorResponse): build one per distinct schema.
    let mut validators: HashMap<String, Result<jsonschema::Validator, String>> = HashMap::new();
    for example in collect(bundle) {
        let schema = convert_schema(example.schema, false);
        let key = schema.to_string();
        let validator = validators.entry(key).or_insert_with(|| compile_validator(&schema, &converted));
        let validator = match validator {
            Ok(validator) => validator,
            Err(error) => {
                errors.push(
                    bundle.diagnostic(&example.pointer, format!("the schema for this example is invalid: {error}")),
                );
                continue;
            }
        };
        for error in validator.iter_errors(example.value) {
            // The instance path is a JSON pointer into the example: report the offending value itself.
            let pointer = format!("{}{}", example.pointer, error.instance_path());
            errors.push(bundle.diagnostic(&pointer, format!("example does not match its schema: {error}")));
        }
    }
    errors
}

/// A validator for a JSON Schema 2020-12 `schema` whose `$ref`s name `#/components/schemas/*`
/// entries of `components` (formats checked). Only the components the schema reaches go into
/// its document: compiling every component for every schema made example checks the slowest
/// part of codegen.
pub fn compile_validator(schema: &Value, components: &Map<String, Value>) -> Result<jsonschema::Validator, String> {
    let mut reached = Map::new();
    let mut pending = vec![schema.clone()];
    while let Some(node) = pending.pop() {
        for name in referenced_schemas(&node) {
            if let (false, Some(target)) = (reached.contains_key(&name), components.get(&name)) {
                reached.insert(name, target.clone());
                pending.push(target.clone());
            }
        }
    }
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": { "schemas": reached },
        "allOf": [schema],
    });
    jsonschema::options().should_validate_formats(true).build(&root).map_err(|error| error.to_string())
}

/// The names of the component schemas a schema refers to directly.
fn referenced_schemas(node: &Value) -> Vec<String> {
    match node {
        Value::Object(object) => object
            .iter()
            .flat_map(|(key, value)| match (key.as_str(), value) {
                ("$ref", Value::String(reference)) => {
                    reference.strip_prefix("#/components/schemas/").map(str::to_owned).into_iter().collect()
                }
                _ => referenced_schemas(value),
            })
            .collect(),
        Value::Array(items) => items.iter().flat_map(referenced_schemas).collect(),
        _ => Vec::new(),
    }
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

/// Rewrites an OpenAPI 3.0 schema as JSON Schema 2020-12. `is_map` marks a map of schemas
/// (such as `components/schemas` or `properties`) rather than one schema.
fn convert_schema(schema: &Value, is_map: bool) -> Value {
    let Value::Object(object) = schema else { return schema.clone() };
    if is_map {
        return Value::Object(object.iter().map(|(name, s)| (name.clone(), convert_schema(s, false))).collect());
    }
    let mut out = Map::new();
    for (key, value) in object {
        let converted = match key.as_str() {
            "properties" | "patternProperties" => convert_schema(value, true),
            "items" | "additionalProperties" | "not" => convert_schema(value, false),
            "allOf" | "anyOf" | "oneOf" => {
                Value::Array(value.as_array().into_iter().flatten().map(|s| convert_schema(s, false)).collect())
            }
            // OpenAPI 3.0 marks exclusive bounds with booleans beside minimum/maximum.
            "exclusiveMinimum" | "exclusiveMaximum" => {
                let bound = if key == "exclusiveMinimum" { "minimum" } else { "maximum" };
                if value == &Value::Bool(true)
                    && let Some(limit) = object.get(bound)
                {
                    out.insert(key.clone(), limit.clone());
                }
                continue;
            }
            "minimum" | "maximum" => {
                let exclusive = if key == "minimum" { "exclusiveMinimum" } else { "exclusiveMaximum" };
                if object.get(exclusive) == Some(&Value::Bool(true)) {
                    continue;
                }
                value.clone()
            }
            // Annotations only OpenAPI knows; they do not constrain values.
            "nullable" | "example" | "discriminator" | "xml" | "externalDocs" | "readOnly" | "writeOnly"
            | "deprecated" => continue,
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    if object.get("nullable") != Some(&Value::Bool(true)) {
        return Value::Object(out);
    }
    match out.get("type").cloned() {
        Some(Value::String(kind)) => {
            out.insert("type".into(), json!([kind, "null"]));
            if let Some(Value::Array(values)) = out.get_mut("enum") {
                values.push(Value::Null);
            }
            Value::Object(out)
        }
        // A nullable schema without a type (such as `allOf: [$ref]`): null, or whatever it allows.
        _ => json!({ "anyOf": [{ "type": "null" }, Value::Object(out)] }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_types_accept_null() {
        assert_eq!(
            convert_schema(&json!({"type": "string", "nullable": true}), false),
            json!({"type": ["string", "null"]})
        );
        assert_eq!(
            convert_schema(&json!({"allOf": [{"$ref": "#/x"}], "nullable": true}), false),
            json!({"anyOf": [{"type": "null"}, {"allOf": [{"$ref": "#/x"}]}]})
        );
    }

    #[test]
    fn boolean_exclusive_bounds_become_numbers() {
        assert_eq!(
            convert_schema(&json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true}), false),
            json!({"type": "integer", "exclusiveMinimum": 0})
        );
    }
}
