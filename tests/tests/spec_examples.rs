//! Every example in the published spec decodes through the generated Rust type of its schema
//! and encodes back to the same JSON: the examples document the types truthfully, and the types
//! lose nothing a real answer carries.

use laserdata_e2e::{LAYERS, audit_schemas, main_schemas, spec, supervisor_schemas, without_nulls};
use laserdata_spec::examples::{self, Place};
use laserdata_spec::refs::schema_name;
use serde_json::Value;

/// An example and the named schema it must round-trip through.
struct Case {
    pointer: String,
    schema: String,
    value: Value,
}

/// The name of a `$ref`'d schema, looking through arrays: `(name, is_array)`.
fn named_schema(schema: &Value) -> Option<(String, bool)> {
    if let Some(name) = schema_name(schema) {
        return Some((name.to_owned(), false));
    }
    if schema.get("type").and_then(Value::as_str) == Some("array") {
        return named_schema(&schema["items"]).map(|(name, _)| (name, true));
    }
    None
}

/// The examples beside a schema (bodies, parameters, headers) as cases of their named schema
/// (each item of an array example on its own), and the places whose schema has no name.
fn cases(spec: &Value) -> (Vec<Case>, Vec<String>) {
    let mut cases = Vec::new();
    let mut unnamed = Vec::new();
    for example in examples::collect(spec).into_iter().filter(|example| example.place == Place::BesideSchema) {
        match (named_schema(example.schema), example.value) {
            (Some((name, true)), Value::Array(items)) => cases.extend(items.iter().enumerate().map(|(index, item)| {
                Case { pointer: format!("{}/{index}", example.pointer), schema: name.clone(), value: item.clone() }
            })),
            (Some((name, _)), value) => {
                cases.push(Case { pointer: example.pointer, schema: name, value: value.clone() })
            }
            (None, _) if !unnamed.contains(&example.owner) => unnamed.push(example.owner),
            (None, _) => {}
        }
    }
    (cases, unnamed)
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
        let (cases, unnamed) = cases(spec(layer));
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
