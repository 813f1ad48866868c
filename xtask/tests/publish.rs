//! The published documents: the OpenAPI 3.1 conversion, the YAML form, the marker, and
//! determinism.

use std::fs;

use serde_json::{Value, json};
use xtask::layers::LAYERS;
use xtask::publish::{self, MARKER_KEY, openapi31, yaml};
use xtask::{project_root, render};

/// A 3.0 document with one schema in every place a schema can be.
fn document(schema: Value) -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/things/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": schema, "example": 7}],
            "get": {
                "operationId": "get_thing",
                "parameters": [{"name": "q", "in": "query", "schema": schema}],
                "requestBody": {"content": {"application/json": {"schema": schema, "example": {"a": 1}}}},
                "responses": {"200": {
                    "description": "ok",
                    "headers": {"h": {"schema": schema}},
                    "content": {"application/json": {"schema": schema}}
                }}
            }
        }},
        "components": {
            "schemas": {"S": schema},
            "parameters": {"P": {"name": "p", "in": "query", "schema": schema}},
            "headers": {"H": {"schema": schema}},
            "responses": {"R": {"description": "r", "content": {"application/json": {"schema": schema}}}},
            "requestBodies": {"B": {"content": {"application/json": {"schema": schema}}}}
        }
    })
}

/// Every schema position of a converted [`document`] holds `expected`.
fn assert_everywhere(converted: &Value, expected: &Value) {
    for pointer in [
        "/paths/~1things~1{id}/parameters/0/schema",
        "/paths/~1things~1{id}/get/parameters/0/schema",
        "/paths/~1things~1{id}/get/requestBody/content/application~1json/schema",
        "/paths/~1things~1{id}/get/responses/200/headers/h/schema",
        "/paths/~1things~1{id}/get/responses/200/content/application~1json/schema",
        "/components/schemas/S",
        "/components/parameters/P/schema",
        "/components/headers/H/schema",
        "/components/responses/R/content/application~1json/schema",
        "/components/requestBodies/B/content/application~1json/schema",
    ] {
        assert_eq!(converted.pointer(pointer), Some(expected), "at {pointer}");
    }
}

fn convert_schema(schema: Value) -> Value {
    let converted = openapi31::convert(&document(schema));
    converted.pointer("/components/schemas/S").unwrap().clone()
}

#[test]
fn the_version_becomes_3_1_and_everything_else_is_kept() {
    let schema = json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "integer", "minimum": 0}}});
    let original = document(schema.clone());
    let converted = openapi31::convert(&original);
    assert_eq!(converted["openapi"], "3.1.0");
    let mut expected = original.clone();
    expected["openapi"] = json!("3.1.0");
    assert_eq!(converted, expected);
    assert_everywhere(&converted, &schema);
    // The order of keys is kept too.
    assert_eq!(serde_json::to_string(&converted).unwrap(), serde_json::to_string(&expected).unwrap());
}

#[test]
fn nullable_types_become_type_arrays() {
    let converted = openapi31::convert(&document(json!({"type": "string", "format": "date-time", "nullable": true})));
    assert_everywhere(&converted, &json!({"type": ["string", "null"], "format": "date-time"}));
    assert_eq!(
        convert_schema(json!({"type": "string", "enum": ["a", "b"], "nullable": true})),
        json!({"type": ["string", "null"], "enum": ["a", "b", null]})
    );
    assert_eq!(
        convert_schema(json!({"type": "array", "items": {"type": "integer", "nullable": true}, "nullable": true})),
        json!({"type": ["array", "null"], "items": {"type": ["integer", "null"]}})
    );
    assert_eq!(convert_schema(json!({"type": "string", "nullable": false})), json!({"type": "string"}));
}

#[test]
fn nullable_references_become_any_of_with_null() {
    // The 3.0 idiom `allOf: [$ref]` + `nullable` becomes the reference or null, with the
    // annotations beside the `anyOf`, in their places.
    assert_eq!(
        convert_schema(json!({
            "description": "The parent, if any.",
            "allOf": [{"$ref": "#/components/schemas/Parent"}],
            "nullable": true,
            "example": null,
            "x-note": 1
        })),
        json!({
            "description": "The parent, if any.",
            "anyOf": [{"$ref": "#/components/schemas/Parent"}, {"type": "null"}],
            "examples": [null],
            "x-note": 1
        })
    );
    // Any other schema without a type is wrapped whole.
    assert_eq!(
        convert_schema(
            json!({"oneOf": [{"$ref": "#/a"}, {"$ref": "#/b"}], "discriminator": {"propertyName": "k"}, "nullable": true})
        ),
        json!({"anyOf": [{"oneOf": [{"$ref": "#/a"}, {"$ref": "#/b"}], "discriminator": {"propertyName": "k"}}, {"type": "null"}]})
    );
    assert_eq!(
        convert_schema(json!({"allOf": [{"$ref": "#/a"}, {"$ref": "#/b"}], "nullable": true})),
        json!({"anyOf": [{"allOf": [{"$ref": "#/a"}, {"$ref": "#/b"}]}, {"type": "null"}]})
    );
}

#[test]
fn schema_examples_become_example_arrays_and_other_examples_stay() {
    let converted = openapi31::convert(&document(json!({"type": "integer", "example": 3})));
    assert_everywhere(&converted, &json!({"type": "integer", "examples": [3]}));
    // Parameter and media type examples are not schemas: 3.1 keeps `example` there.
    assert_eq!(converted.pointer("/paths/~1things~1{id}/parameters/0/example"), Some(&json!(7)));
    assert_eq!(
        converted.pointer("/paths/~1things~1{id}/get/requestBody/content/application~1json/example"),
        Some(&json!({"a": 1}))
    );
    // Properties named like keywords are properties.
    assert_eq!(
        convert_schema(json!({
            "type": "object",
            "properties": {
                "example": {"type": "string", "example": "e"},
                "nullable": {"type": "boolean", "nullable": true}
            },
            "example": {"example": "e", "nullable": null}
        })),
        json!({
            "type": "object",
            "properties": {
                "example": {"type": "string", "examples": ["e"]},
                "nullable": {"type": ["boolean", "null"]}
            },
            "examples": [{"example": "e", "nullable": null}]
        })
    );
    // Deep schemas: items, additionalProperties, allOf/oneOf/anyOf members, not.
    assert_eq!(
        convert_schema(json!({
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string", "example": "x", "nullable": true}},
            "allOf": [{"example": 1}],
            "oneOf": [{"example": 2}],
            "anyOf": [{"example": 3}],
            "not": {"example": 4}
        })),
        json!({
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": ["string", "null"], "examples": ["x"]}},
            "allOf": [{"examples": [1]}],
            "oneOf": [{"examples": [2]}],
            "anyOf": [{"examples": [3]}],
            "not": {"examples": [4]}
        })
    );
}

#[test]
fn boolean_exclusive_bounds_become_numbers() {
    assert_eq!(
        convert_schema(
            json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true, "maximum": 10, "exclusiveMaximum": true})
        ),
        json!({"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10})
    );
    // The flag before its bound, a false flag, a flag without a bound.
    assert_eq!(
        convert_schema(
            json!({"type": "number", "exclusiveMinimum": true, "minimum": 1.5, "exclusiveMaximum": false, "maximum": 2})
        ),
        json!({"type": "number", "exclusiveMinimum": 1.5, "maximum": 2})
    );
    assert_eq!(convert_schema(json!({"type": "number", "exclusiveMaximum": true})), json!({"type": "number"}));
    // Already numeric (3.1 style) stays.
    assert_eq!(
        convert_schema(json!({"type": "number", "exclusiveMinimum": 0})),
        json!({"type": "number", "exclusiveMinimum": 0})
    );
}

/// No 3.0-only construct is left anywhere in the published 3.1 documents.
#[test]
fn published_3_1_documents_have_no_3_0_constructs() {
    fn walk(node: &Value, pointer: &str, found: &mut Vec<String>) {
        match node {
            Value::Object(object) => {
                let in_properties = pointer.ends_with("/properties");
                if !in_properties {
                    if object.contains_key("nullable") {
                        found.push(format!("{pointer}: nullable"));
                    }
                    for flag in ["exclusiveMinimum", "exclusiveMaximum"] {
                        if object.get(flag).is_some_and(Value::is_boolean) {
                            found.push(format!("{pointer}: boolean {flag}"));
                        }
                    }
                    // A schema has a type or a composition; media types and parameters may keep `example`.
                    let is_schema = ["type", "allOf", "anyOf", "oneOf", "$ref", "properties"]
                        .iter()
                        .any(|key| object.contains_key(*key))
                        && !object.contains_key("schema");
                    if is_schema && object.contains_key("example") {
                        found.push(format!("{pointer}: example in a schema"));
                    }
                }
                for (key, value) in object {
                    walk(value, &format!("{pointer}/{key}"), found);
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    walk(item, &format!("{pointer}/{index}"), found);
                }
            }
            _ => {}
        }
    }
    for layer in LAYERS {
        let text = fs::read_to_string(project_root().join(layer.bundle_31)).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let mut found = Vec::new();
        walk(&doc, "", &mut found);
        assert!(found.is_empty(), "{}: {found:#?}", layer.bundle_31);
        // Same paths and operations as the 3.0 document.
        let original: Value =
            serde_json::from_str(&fs::read_to_string(project_root().join(layer.bundle)).unwrap()).unwrap();
        let keys = |doc: &Value| doc["paths"].as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&doc), keys(&original));
    }
}

#[test]
fn every_published_document_carries_the_marker() {
    for layer in LAYERS {
        let marker = publish::marker(layer);
        for path in [layer.bundle, layer.bundle_31] {
            let doc: Value = serde_json::from_str(&fs::read_to_string(project_root().join(path)).unwrap()).unwrap();
            assert_eq!(doc["info"][MARKER_KEY], json!(marker), "{path}");
            assert!(marker.contains("Do not edit"));
        }
        let text = fs::read_to_string(project_root().join(layer.bundle_yaml)).unwrap();
        assert!(text.starts_with(&format!("# Generated by {marker}\n")), "{}", layer.bundle_yaml);
    }
}

/// The YAML file is the JSON document, value for value.
#[test]
fn yaml_documents_read_back_as_the_json_ones() {
    for layer in LAYERS {
        let json: Value =
            serde_json::from_str(&fs::read_to_string(project_root().join(layer.bundle)).unwrap()).unwrap();
        let yaml = yaml::parse(&fs::read_to_string(project_root().join(layer.bundle_yaml)).unwrap()).unwrap();
        assert!(yaml == json, "{} differs from {}", layer.bundle_yaml, layer.bundle);
        // Same key order too.
        assert_eq!(serde_json::to_string(&yaml).unwrap(), serde_json::to_string(&json).unwrap());
    }
}

#[test]
fn strings_other_yaml_parsers_could_misread_are_quoted() {
    for text in [
        "yes",
        "No",
        "ON",
        "off",
        "y",
        "N",
        "true",
        "Null",
        "~",
        "",
        " lead",
        "trail ",
        "2024-01-31",
        "12:30:00",
        "1_000",
        "0x1F",
        "0o17",
        "017",
        "1e3",
        ".5",
        "+1",
        "-1",
        "-",
        "- item",
        "? q",
        "a: b",
        "a #b",
        "#x",
        "{a}",
        "[a]",
        "&anchor",
        "*alias",
        "!tag",
        "|",
        ">",
        "'q'",
        "\"q\"",
        "%x",
        "@x",
        "`x`",
        "tab\there",
        ".inf",
        "NaN",
        "=",
        "<<",
    ] {
        assert!(!yaml::is_safe_plain(text), "{text:?} would be written plain");
    }
    for text in ["deployment_created", "Deployment Created", "application/json", "4XX", "ld-api-key", "$ref", "v1.2"] {
        assert!(yaml::is_safe_plain(text), "{text:?} would be quoted");
    }
    // Whatever the string, it reads back as itself.
    let strings = json!([
        "yes",
        "2024-01-31",
        "a: b",
        "line one\nline two\n",
        "  indented\nblock",
        "ends with two\n\n",
        "spaces only\n   \nafter",
        "\n",
        "tab\there",
        "unicode é ✓",
        "quote \" and \\ backslash",
        "---\nnot a document",
        "...",
        "200"
    ]);
    let doc = json!({"strings": strings, "200": {"nested": [1, -2, 2.5, true, null, {}, []]}, "": "empty key"});
    let text = yaml::to_yaml(&doc, "# header\n");
    assert!(text.starts_with("# header\n"));
    assert_eq!(yaml::parse(&text).unwrap(), doc, "{text}");
}

/// Rendering twice gives the same bytes, and the same bytes as the checked-in files.
#[test]
fn publishing_is_deterministic() {
    let root = project_root();
    let first = render(&root, LAYERS).unwrap();
    let second = render(&root, LAYERS).unwrap();
    assert_eq!(first.len(), second.len());
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a.path, b.path);
        assert!(a.contents == b.contents, "{} differs between two runs", a.path.display());
    }
    for layer in LAYERS {
        for path in layer.published() {
            let output = first.iter().find(|output| output.path.to_str() == Some(path)).unwrap();
            assert_eq!(fs::read_to_string(root.join(path)).unwrap(), output.contents, "{path} is stale");
        }
    }
}

/// redocly lints every published document (each is an API of `redocly.yaml`), and the one
/// rule spectral has silenced is silenced for the OpenAPI 3.0 documents only.
#[test]
fn every_published_document_is_linted() {
    let root = project_root();
    let redocly = fs::read_to_string(root.join("redocly.yaml")).unwrap();
    let spectral = fs::read_to_string(root.join(".spectral.yaml")).unwrap();
    for layer in LAYERS {
        for path in layer.published() {
            assert!(redocly.contains(&format!("    root: {path}\n")), "redocly.yaml does not lint {path}");
        }
        for path in [layer.bundle, layer.bundle_yaml] {
            assert!(spectral.contains(&format!("- \"{path}\"\n")), ".spectral.yaml has no override for {path}");
        }
        assert!(!spectral.contains(layer.bundle_31), "nothing is silenced for {}", layer.bundle_31);
    }
    assert_eq!(xtask::lint::published_documents().len(), 3 * LAYERS.len());
}
