//! Converting a bundled OpenAPI 3.0.3 document to OpenAPI 3.1, and one 3.0 schema to JSON
//! Schema 2020-12 (which 3.1 schemas are).
//!
//! OpenAPI 3.1 schemas are JSON Schema 2020-12, so the 3.0-only schema keywords change:
//!
//! - `nullable: true` becomes a type array (`type: [string, "null"]`, with `null` added to an
//!   `enum`), or, for a schema without a `type` (such as `allOf: [$ref]`),
//!   `anyOf: [<the schema>, {type: "null"}]` with the annotations (description, default, ...)
//!   kept beside it; `nullable: false` is dropped;
//! - `example` becomes `examples: [example]`;
//! - boolean `exclusiveMinimum`/`exclusiveMaximum` become the numeric bound (replacing
//!   `minimum`/`maximum`), or disappear when `false`;
//! - `openapi` becomes `3.1.0`.
//!
//! Everything else is kept as it is, in the same order. Only schema positions are rewritten:
//! an `example` of a parameter or media type stays (3.1 keeps it there), and a property that
//! happens to be named `example` or `nullable` is a property, not a keyword.

use serde_json::{Map, Value, json};

/// The OpenAPI version of converted documents.
pub const VERSION: &str = "3.1.0";

/// Keywords that annotate a schema rather than constrain it: they stay beside the `anyOf`
/// that a nullable schema without a type becomes, and the example validator skips them.
const ANNOTATIONS: [&str; 10] = [
    "title",
    "description",
    "default",
    "examples",
    "readOnly",
    "writeOnly",
    "deprecated",
    "externalDocs",
    "xml",
    "$comment",
];

/// Whether a schema keyword only annotates: one of [`ANNOTATIONS`] or an `x-` extension.
pub(crate) fn is_annotation(keyword: &str) -> bool {
    ANNOTATIONS.contains(&keyword) || keyword.starts_with("x-")
}

/// The OpenAPI 3.1 form of an OpenAPI 3.0 document.
pub fn convert(doc: &Value) -> Value {
    let mut doc = doc.clone();
    let Some(root) = doc.as_object_mut() else { return doc };
    root.insert("openapi".into(), Value::String(VERSION.into()));
    if let Some(paths) = root.get_mut("paths").and_then(Value::as_object_mut) {
        paths.values_mut().for_each(path_item);
    }
    if let Some(components) = root.get_mut("components").and_then(Value::as_object_mut) {
        for (kind, entries) in components.iter_mut() {
            let Some(entries) = entries.as_object_mut() else { continue };
            for entry in entries.values_mut() {
                match kind.as_str() {
                    "schemas" => schema(entry),
                    "parameters" | "headers" => parameter(entry),
                    "responses" => response(entry),
                    "requestBodies" => content_of(entry),
                    "callbacks" => callback(entry),
                    "pathItems" => path_item(entry),
                    _ => {}
                }
            }
        }
    }
    if let Some(webhooks) = root.get_mut("webhooks").and_then(Value::as_object_mut) {
        webhooks.values_mut().for_each(path_item);
    }
    doc
}

fn path_item(item: &mut Value) {
    let Some(item) = item.as_object_mut() else { return };
    for (key, value) in item.iter_mut() {
        match key.as_str() {
            "parameters" => each(value, parameter),
            "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace" => operation(value),
            _ => {}
        }
    }
}

fn operation(operation: &mut Value) {
    let Some(operation) = operation.as_object_mut() else { return };
    if let Some(parameters) = operation.get_mut("parameters") {
        each(parameters, parameter);
    }
    if let Some(body) = operation.get_mut("requestBody") {
        content_of(body);
    }
    if let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) {
        responses.values_mut().for_each(response);
    }
    if let Some(callbacks) = operation.get_mut("callbacks").and_then(Value::as_object_mut) {
        callbacks.values_mut().for_each(callback);
    }
}

fn callback(callback: &mut Value) {
    if let Some(callback) = callback.as_object_mut() {
        callback.values_mut().for_each(path_item);
    }
}

/// A parameter or a header: a `schema`, or a `content` map.
fn parameter(parameter: &mut Value) {
    if let Some(found) = parameter.get_mut("schema") {
        schema(found);
    }
    content_of(parameter);
}

fn response(response: &mut Value) {
    if let Some(headers) = response.get_mut("headers").and_then(Value::as_object_mut) {
        headers.values_mut().for_each(parameter);
    }
    content_of(response);
}

/// The media types of the `content` of a request body, response or parameter.
fn content_of(node: &mut Value) {
    let Some(content) = node.get_mut("content").and_then(Value::as_object_mut) else { return };
    for media in content.values_mut() {
        if let Some(found) = media.get_mut("schema") {
            schema(found);
        }
        if let Some(encodings) = media.get_mut("encoding").and_then(Value::as_object_mut) {
            for encoding in encodings.values_mut() {
                if let Some(headers) = encoding.get_mut("headers").and_then(Value::as_object_mut) {
                    headers.values_mut().for_each(parameter);
                }
            }
        }
    }
}

fn each(list: &mut Value, mut visit: impl FnMut(&mut Value)) {
    if let Some(list) = list.as_array_mut() {
        list.iter_mut().for_each(&mut visit);
    }
}

/// The JSON Schema 2020-12 form of an OpenAPI 3.0 schema.
pub fn json_schema(schema_3_0: &Value) -> Value {
    let mut converted = schema_3_0.clone();
    schema(&mut converted);
    converted
}

/// Converts one schema, and every schema inside it, in place.
pub fn schema(node: &mut Value) {
    let Value::Object(object) = node else { return };
    for (key, value) in object.iter_mut() {
        match key.as_str() {
            "properties" | "patternProperties" | "$defs" | "dependentSchemas" => {
                if let Some(map) = value.as_object_mut() {
                    map.values_mut().for_each(schema);
                }
            }
            "items"
            | "additionalProperties"
            | "not"
            | "contains"
            | "propertyNames"
            | "if"
            | "then"
            | "else"
            | "unevaluatedItems"
            | "unevaluatedProperties"
            | "additionalItems" => {
                if value.is_array() {
                    each(value, schema);
                } else {
                    schema(value);
                }
            }
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => each(value, schema),
            _ => {}
        }
    }
    let mut out = Map::new();
    for (key, value) in std::mem::take(object) {
        if key == "example" {
            out.insert("examples".into(), json!([value]));
        } else {
            out.insert(key, value);
        }
    }
    for (flag, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        match out.get(flag) {
            Some(Value::Bool(true)) => match out.shift_remove(bound) {
                // Inserting under an existing key keeps its place.
                Some(limit) => drop(out.insert(flag.into(), limit)),
                None => drop(out.shift_remove(flag)),
            },
            Some(Value::Bool(false)) => drop(out.shift_remove(flag)),
            _ => {}
        }
    }
    let nullable = out.shift_remove("nullable") == Some(Value::Bool(true));
    *object = if nullable { make_nullable(out) } else { out };
}

/// A schema that also accepts null.
fn make_nullable(mut schema: Map<String, Value>) -> Map<String, Value> {
    match schema.get_mut("type") {
        Some(Value::String(kind)) => {
            let kind = std::mem::take(kind);
            schema.insert("type".into(), json!([kind, "null"]));
            if let Some(Value::Array(values)) = schema.get_mut("enum")
                && !values.contains(&Value::Null)
            {
                values.push(Value::Null);
            }
            return schema;
        }
        Some(Value::Array(kinds)) => {
            if !kinds.contains(&json!("null")) {
                kinds.push(json!("null"));
            }
            if let Some(Value::Array(values)) = schema.get_mut("enum")
                && !values.contains(&Value::Null)
            {
                values.push(Value::Null);
            }
            return schema;
        }
        _ => {}
    }
    // No type: the schema's constraints go into an `anyOf` with null, at the place of the
    // first of them; its annotations stay beside it.
    let mut outer = Map::new();
    let mut inner = Map::new();
    for (key, value) in schema {
        if is_annotation(&key) {
            outer.insert(key, value);
        } else {
            if inner.is_empty() {
                outer.insert("anyOf".into(), Value::Null);
            }
            inner.insert(key, value);
        }
    }
    // `allOf` with a single member (the 3.0 way to put `nullable` beside a `$ref`) is that member.
    let alone = match inner.get("allOf") {
        Some(Value::Array(members)) if inner.len() == 1 && members.len() == 1 => Some(members[0].clone()),
        _ => None,
    };
    let inner = alone.unwrap_or(Value::Object(inner));
    let any_of = json!([inner, {"type": "null"}]);
    // With only annotations there is no `anyOf`: any value, null included, was already allowed.
    if let Some(slot) = outer.get_mut("anyOf") {
        *slot = any_of;
    }
    outer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_types_accept_null() {
        assert_eq!(json_schema(&json!({"type": "string", "nullable": true})), json!({"type": ["string", "null"]}));
        assert_eq!(
            json_schema(&json!({"type": "string", "enum": ["a"], "nullable": true})),
            json!({"type": ["string", "null"], "enum": ["a", null]})
        );
        assert_eq!(
            json_schema(&json!({"description": "d", "allOf": [{"$ref": "#/x"}], "nullable": true})),
            json!({"description": "d", "anyOf": [{"$ref": "#/x"}, {"type": "null"}]})
        );
    }

    #[test]
    fn boolean_exclusive_bounds_become_numbers_and_examples_a_list() {
        assert_eq!(
            json_schema(&json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true, "example": 1})),
            json!({"type": "integer", "exclusiveMinimum": 0, "examples": [1]})
        );
        assert_eq!(json_schema(&json!({"maximum": 9, "exclusiveMaximum": false})), json!({"maximum": 9}));
    }

    #[test]
    fn properties_named_like_keywords_stay_properties() {
        let converted = json_schema(&json!({"properties": {"example": {"type": "string", "example": "x"}}}));
        assert_eq!(converted, json!({"properties": {"example": {"type": "string", "examples": ["x"]}}}));
    }
}
