//! Validators of JSON Schema 2020-12 schemas (the schemas of an OpenAPI 3.1 document), with
//! the component schemas they refer to.

use serde_json::{Map, Value, json};

/// The range each integer `format` of OpenAPI implies. JSON Schema leaves `int32` and `int64`
/// to the application, so they become `minimum` and `maximum` here (tighter bounds stay).
const INTEGER_FORMATS: [(&str, i64, i64); 2] =
    [("int32", i32::MIN as i64, i32::MAX as i64), ("int64", i64::MIN, i64::MAX)];

/// Compiles a validator for `schema`, whose `$ref`s name entries of `components`
/// (`#/components/schemas/<name>`, as in the document both come from). Only the components the
/// schema reaches go into the validator: compiling every component for every schema is slow.
/// Formats are checked (`date-time`, `email`, ...), and the `int32`/`int64` ranges too.
pub fn compile(components: &Map<String, Value>, schema: &Value) -> Result<jsonschema::Validator, String> {
    let mut reached = Map::new();
    let mut pending = vec![schema];
    while let Some(node) = pending.pop() {
        for name in referenced_schemas(node) {
            if let (false, Some(target)) = (reached.contains_key(&name), components.get(&name)) {
                reached.insert(name, with_integer_ranges(target));
                pending.push(target);
            }
        }
    }
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": { "schemas": reached },
        "allOf": [with_integer_ranges(schema)],
    });
    jsonschema::options().should_validate_formats(true).build(&root).map_err(|error| error.to_string())
}

/// The names of the component schemas a schema refers to directly.
pub fn referenced_schemas(node: &Value) -> Vec<String> {
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

/// A schema in which every `int32`/`int64` format also bounds the value.
fn with_integer_ranges(schema: &Value) -> Value {
    match schema {
        Value::Object(object) => {
            let mut out: Map<String, Value> =
                object.iter().map(|(key, value)| (key.clone(), with_integer_ranges(value))).collect();
            let format = object.get("format").and_then(Value::as_str);
            if let Some((_, low, high)) = INTEGER_FORMATS.iter().find(|(name, _, _)| Some(*name) == format) {
                let number = |key: &str| object.get(key).and_then(Value::as_f64);
                if number("minimum").is_none_or(|bound| bound < *low as f64) && number("exclusiveMinimum").is_none() {
                    out.insert("minimum".into(), json!(low));
                }
                if number("maximum").is_none_or(|bound| bound > *high as f64) && number("exclusiveMaximum").is_none() {
                    out.insert("maximum".into(), json!(high));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(with_integer_ranges).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn components() -> Map<String, Value> {
        let schemas = json!({
            "Id": {"type": "integer", "format": "int64", "minimum": 0},
            "Count": {"type": "integer", "format": "int32"},
            "Pair": {"type": "object", "properties": {"id": {"$ref": "#/components/schemas/Id"}}},
            "Unused": {"$ref": "#/components/schemas/Missing"},
        });
        schemas.as_object().unwrap().clone()
    }

    #[test]
    fn integer_formats_bound_their_values() {
        let count = compile(&components(), &json!({"$ref": "#/components/schemas/Count"})).unwrap();
        assert!(count.is_valid(&json!(2147483647)));
        assert!(!count.is_valid(&json!(2147483648_i64)));
        assert!(!count.is_valid(&json!(-2147483649_i64)));
        let id = compile(&components(), &json!({"$ref": "#/components/schemas/Id"})).unwrap();
        assert!(id.is_valid(&json!(i64::MAX)));
        assert!(!id.is_valid(&json!(i64::MAX as u64 + 1)));
        assert!(!id.is_valid(&json!(-1)), "a tighter minimum stays");
        assert!(!id.is_valid(&json!(1e19)));
    }

    #[test]
    fn only_reached_components_are_compiled_and_formats_are_checked() {
        // `Unused` refers to nothing; compiling it would fail.
        let pair = compile(&components(), &json!({"$ref": "#/components/schemas/Pair"})).unwrap();
        assert!(pair.is_valid(&json!({"id": 7})));
        assert!(!pair.is_valid(&json!({"id": "7"})));
        let date = compile(&components(), &json!({"type": "string", "format": "date-time"})).unwrap();
        assert!(date.is_valid(&json!("2026-10-01T00:00:00Z")));
        assert!(!date.is_valid(&json!("yesterday")));
        assert!(compile(&components(), &json!({"$ref": "#/components/schemas/Unused"})).is_err());
    }
}
