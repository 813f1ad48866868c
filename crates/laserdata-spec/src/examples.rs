//! Every example a document holds, with the schema it must satisfy.

use serde_json::Value;

use crate::pointer::push_token;
use crate::refs::deref;

/// Where an example sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Beside a `schema`: in a media type, a parameter or a header (`example`, or the `value`
    /// of an entry of `examples`).
    BesideSchema,
    /// Inside a schema (`example`).
    InSchema,
}

/// One example and the schema it must satisfy.
#[derive(Debug, Clone)]
pub struct Example<'a> {
    /// Where the example's value is.
    pub pointer: String,
    /// Where the object holding the example is (a media type, parameter, header or schema).
    pub owner: String,
    pub place: Place,
    pub value: &'a Value,
    pub schema: &'a Value,
}

/// Finds every `example` and `examples` beside a `schema` (media types, parameters, headers)
/// and every `example` inside a schema, in document order. Entries of `examples` may be
/// references (to `components/examples`).
pub fn collect(doc: &Value) -> Vec<Example<'_>> {
    let mut found = Vec::new();
    walk(doc, doc, "", false, &mut found);
    found
}

/// The example a media type, parameter or header shows first: its `example`, or else the
/// value of the first entry of its `examples`.
pub fn first<'a>(doc: &'a Value, owner: &'a Value) -> Option<&'a Value> {
    owner.get("example").or_else(|| {
        let first = owner.get("examples")?.as_object()?.values().next()?;
        deref(doc, first).get("value")
    })
}

fn walk<'a>(doc: &'a Value, node: &'a Value, pointer: &str, in_schema: bool, found: &mut Vec<Example<'a>>) {
    match node {
        Value::Object(object) => {
            let mut push = |at: String, place, value, schema| {
                found.push(Example { pointer: at, owner: pointer.to_owned(), place, value, schema })
            };
            if let Some(schema) = object.get("schema").filter(|s| s.is_object()) {
                if let Some(value) = object.get("example") {
                    push(push_token(pointer, "example"), Place::BesideSchema, value, schema);
                }
                for (name, example) in object.get("examples").and_then(Value::as_object).into_iter().flatten() {
                    let at = push_token(&push_token(pointer, "examples"), name);
                    if let Some(value) = deref(doc, example).get("value") {
                        push(push_token(&at, "value"), Place::BesideSchema, value, schema);
                    }
                }
            } else if in_schema && let Some(value) = object.get("example") {
                push(push_token(pointer, "example"), Place::InSchema, value, node);
            }
            for (key, child) in object {
                if matches!(key.as_str(), "example" | "examples") {
                    continue;
                }
                // Below `schema`, and below each entry of `components/schemas`, nodes are schemas.
                let child_in_schema = in_schema || key == "schema" || pointer == "/components/schemas";
                walk(doc, child, &push_token(pointer, key), child_in_schema, found);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                walk(doc, child, &push_token(pointer, &index.to_string()), in_schema, found);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_examples_beside_and_inside_schemas() {
        let doc = json!({
            "paths": {"/a": {"get": {"responses": {"200": {"content": {"application/json": {
                "schema": {"type": "object", "properties": {"n": {"type": "integer", "example": 3}}},
                "examples": {"one": {"$ref": "#/components/examples/One"}, "two": {"value": {"n": 2}}},
            }}}}}}},
            "components": {
                "examples": {"One": {"value": {"n": 1}}},
                "schemas": {"Name": {"type": "string", "example": "ada"}},
            },
        });
        let found = collect(&doc);
        let seen: Vec<(&str, Place, &Value)> = found.iter().map(|e| (e.pointer.as_str(), e.place, e.value)).collect();
        let media = "/paths/~1a/get/responses/200/content/application~1json";
        assert_eq!(
            seen,
            [
                (format!("{media}/examples/one/value").as_str(), Place::BesideSchema, &json!({"n": 1})),
                (format!("{media}/examples/two/value").as_str(), Place::BesideSchema, &json!({"n": 2})),
                (format!("{media}/schema/properties/n/example").as_str(), Place::InSchema, &json!(3)),
                ("/components/schemas/Name/example", Place::InSchema, &json!("ada")),
            ]
        );
        assert_eq!(found[0].owner, media);
        assert_eq!(found[0].schema["type"], "object");
        assert_eq!(first(&doc, doc.pointer(media).unwrap()), Some(&json!({"n": 1})));
    }
}
