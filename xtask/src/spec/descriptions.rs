//! Every schema property must say what it holds: its description becomes the field's doc
//! comment in every generated client and the first thing a reader of the published documents
//! sees.
//!
//! A property counts as described when
//! - it has a non-empty `description` of its own, or
//! - it is a `$ref` to a described schema (a `description` beside a `$ref` does not count:
//!   OpenAPI 3.0 ignores everything beside a reference), or
//! - it wraps one reference to a described schema in `allOf: [{$ref}]`, OpenAPI 3.0's way of
//!   marking a reference `nullable`: the wrapper adds only "may be null".
//!
//! An array or a map (`items` or `additionalProperties`) needs a description of its own even
//! when its elements are described: the element's description says what one element is, not
//! what the collection holds, in what order, or what an empty one means.

use serde_json::Value;

use crate::diagnostic::{Diagnostic, push_token, tokens};
use crate::spec::bundle::Bundle;

/// One schema property of a bundled document.
pub struct Property<'a> {
    /// Where the property's schema is (`.../properties/<name>`).
    pub pointer: String,
    pub schema: &'a Value,
}

/// How many properties a document has and how many of them are described.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    pub total: usize,
    /// Described by any of the ways this module accepts.
    pub described: usize,
    /// Described by a `description` of their own.
    pub with_own_description: usize,
}

/// Every property of every schema in the document: in components, parameters, headers, and
/// request and response bodies, at any depth.
pub fn properties(bundle: &Bundle) -> Vec<Property<'_>> {
    let mut found = Vec::new();
    walk(&bundle.doc, "", &mut found);
    found
}

/// Whether a property says what it holds, by itself or through the schema it refers to.
pub fn is_described(bundle: &Bundle, property: &Value) -> bool {
    if property.get("$ref").is_some() {
        return refers_to_described(bundle, property);
    }
    if has_description(property) {
        return true;
    }
    let reference = match property.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
        Some([only]) => only,
        _ => property,
    };
    reference.get("$ref").is_some() && refers_to_described(bundle, reference)
}

/// How many of the document's properties are described, and how.
pub fn coverage(bundle: &Bundle) -> Coverage {
    let all = properties(bundle);
    Coverage {
        total: all.len(),
        described: all.iter().filter(|property| is_described(bundle, property.schema)).count(),
        with_own_description: all
            .iter()
            .filter(|property| property.schema.get("$ref").is_none() && has_description(property.schema))
            .count(),
    }
}

/// One diagnostic per property that is not described.
pub fn check(bundle: &Bundle) -> Vec<Diagnostic> {
    properties(bundle)
        .into_iter()
        .filter(|property| !is_described(bundle, property.schema))
        .map(|property| {
            let name = name_of(&property.pointer);
            let message = if property.schema.get("$ref").is_some() && has_description(property.schema) {
                format!(
                    "{name} has its description beside a `$ref`, where OpenAPI 3.0 ignores it; describe the referenced schema, or wrap the reference in `allOf`"
                )
            } else {
                format!(
                    "{name} has no description; say what it holds (a `$ref` to a described schema counts, an array or a map needs its own)"
                )
            };
            bundle.diagnostic(&property.pointer, message)
        })
        .collect()
}

fn has_description(node: &Value) -> bool {
    node.get("description").and_then(Value::as_str).is_some_and(|text| !text.trim().is_empty())
}

/// Follows a chain of references (a component may itself be an alias of another) until a
/// node that is not a reference, and tells whether that one is described.
fn refers_to_described<'a>(bundle: &'a Bundle, node: &'a Value) -> bool {
    let target = bundle.deref(node);
    target.get("$ref").is_none() && has_description(target)
}

/// Finds the schemas of the document (below a `schema` key and in `components/schemas`) and
/// collects their properties; examples hold values, not schemas, and are skipped.
fn walk<'a>(node: &'a Value, pointer: &str, found: &mut Vec<Property<'a>>) {
    match node {
        Value::Object(object) => {
            for (key, child) in object {
                let at = push_token(pointer, key);
                if key == "schema" || pointer == "/components/schemas" {
                    walk_schema(child, &at, found);
                } else if !matches!(key.as_str(), "example" | "examples") {
                    walk(child, &at, found);
                }
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                walk(child, &push_token(pointer, &index.to_string()), found);
            }
        }
        _ => {}
    }
}

/// Collects the properties of one schema and of the schemas nested in it.
fn walk_schema<'a>(schema: &'a Value, pointer: &str, found: &mut Vec<Property<'a>>) {
    let Value::Object(object) = schema else { return };
    for (key, child) in object {
        let at = push_token(pointer, key);
        match key.as_str() {
            "properties" => {
                for (name, property) in child.as_object().into_iter().flatten() {
                    let property_pointer = push_token(&at, name);
                    walk_schema(property, &property_pointer, found);
                    found.push(Property { pointer: property_pointer, schema: property });
                }
            }
            "items" | "additionalProperties" | "not" => walk_schema(child, &at, found),
            "allOf" | "anyOf" | "oneOf" => {
                for (index, member) in child.as_array().into_iter().flatten().enumerate() {
                    walk_schema(member, &push_token(&at, &index.to_string()), found);
                }
            }
            _ => {}
        }
    }
}

/// A readable name for the property at `pointer`: `` `name` of `Schema` `` for a component's
/// property, `` `name` `` elsewhere.
fn name_of(pointer: &str) -> String {
    let tokens = tokens(pointer);
    let property = tokens.last().cloned().unwrap_or_default();
    match tokens.as_slice() {
        [components, schemas, schema, ..] if components == "components" && schemas == "schemas" => {
            format!("property `{property}` of `{schema}`")
        }
        _ => format!("property `{property}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_say_which_component_a_property_belongs_to() {
        assert_eq!(name_of("/components/schemas/Key/properties/name"), "property `name` of `Key`");
        assert_eq!(
            name_of("/paths/~1keys/post/requestBody/content/application~1json/schema/properties/a~1b"),
            "property `a/b`"
        );
    }
}
