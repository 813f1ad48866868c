//! Every example in the published spec decodes through the generated Rust type of its schema
//! and encodes back to the same JSON: the examples document the types truthfully, and the types
//! lose nothing a real answer carries.

use laserdata_e2e::{LAYERS, audit_schemas, main_schemas, spec, supervisor_schemas, without_nulls};
use serde_json::Value;

/// An example and the named schema it must round-trip through.
struct Case {
    pointer: String,
    schema: String,
    value: Value,
}

/// The name of a `$ref`'d schema, looking through arrays: `(name, is_array)`.
fn named_schema(schema: &Value) -> Option<(String, bool)> {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return reference.strip_prefix("#/components/schemas/").map(|name| (name.to_owned(), false));
    }
    if schema.get("type").and_then(Value::as_str) == Some("array") {
        return named_schema(&schema["items"]).map(|(name, _)| (name, true));
    }
    None
}

fn collect(node: &Value, pointer: &str, cases: &mut Vec<Case>, unnamed: &mut Vec<String>) {
    let Value::Object(object) = node else {
        if let Value::Array(items) = node {
            for (index, item) in items.iter().enumerate() {
                collect(item, &format!("{pointer}/{index}"), cases, unnamed);
            }
        }
        return;
    };
    if let Some(schema) = object.get("schema") {
        let mut values: Vec<(String, &Value)> = Vec::new();
        if let Some(example) = object.get("example") {
            values.push((format!("{pointer}/example"), example));
        }
        for (name, example) in object.get("examples").and_then(Value::as_object).into_iter().flatten() {
            if let Some(value) = example.get("value") {
                values.push((format!("{pointer}/examples/{name}/value"), value));
            }
        }
        match named_schema(schema) {
            Some((name, is_array)) => {
                for (at, value) in values {
                    match (is_array, value) {
                        (true, Value::Array(items)) => cases.extend(items.iter().enumerate().map(|(index, item)| {
                            Case { pointer: format!("{at}/{index}"), schema: name.clone(), value: item.clone() }
                        })),
                        _ => cases.push(Case { pointer: at, schema: name.clone(), value: value.clone() }),
                    }
                }
            }
            None if !values.is_empty() => unnamed.push(pointer.to_owned()),
            None => {}
        }
    }
    for (key, child) in object {
        if key != "example" && key != "examples" {
            collect(child, &format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1")), cases, unnamed);
        }
    }
}

#[test]
fn every_example_round_trips_through_its_generated_type() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for layer in LAYERS {
        let round_trip = match layer {
            "main" => main_schemas::round_trip,
            "supervisor" => supervisor_schemas::round_trip,
            _ => audit_schemas::round_trip,
        };
        let spec = spec(layer);
        let mut cases = Vec::new();
        let mut unnamed = Vec::new();
        collect(&spec["paths"], "/paths", &mut cases, &mut unnamed);
        collect(&spec["components"], "/components", &mut cases, &mut unnamed);
        for case in &cases {
            let at = format!("{layer}: {}", case.pointer);
            match round_trip(&case.schema, &case.value) {
                None => failures.push(format!("{at}: no generated type for schema `{}`", case.schema)),
                Some(Err(error)) => failures.push(format!("{at}: does not decode as `{}`: {error}", case.schema)),
                Some(Ok(encoded)) if without_nulls(&encoded) != without_nulls(&case.value) => failures.push(format!(
                    "{at}: `{}` changes the example:\n  was {}\n  now {}",
                    case.schema, case.value, encoded
                )),
                Some(Ok(_)) => {}
            }
        }
        // Bodies with inline schemas would get names made up by the generator; every example's
        // schema must be a named one (binary downloads have no example).
        let unnamed_bodies: Vec<&String> = unnamed.iter().filter(|p| p.contains("/content/")).collect();
        assert!(unnamed_bodies.is_empty(), "{layer}: examples of bodies with inline schemas: {unnamed_bodies:#?}");
        checked += cases.len();
    }
    assert!(failures.is_empty(), "{} of {checked} examples fail:\n{}", failures.len(), failures.join("\n"));
    assert!(checked >= 100, "only {checked} examples found; is the walk broken?");
}
