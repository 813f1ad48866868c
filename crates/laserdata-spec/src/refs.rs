//! Local `$ref` resolution within one bundled document.

use serde_json::Value;

use crate::pointer::decode_fragment;

/// The node a local reference such as `#/components/schemas/Foo` names, if it exists.
pub fn resolve_ref<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(&decode_fragment(reference.strip_prefix('#')?))
}

/// Follows `$ref`s from `node` until a node that is not a (resolvable) reference.
pub fn deref<'a>(doc: &'a Value, mut node: &'a Value) -> &'a Value {
    // A bound on the hops guards against reference cycles.
    for _ in 0..32 {
        match node.get("$ref").and_then(Value::as_str).and_then(|reference| resolve_ref(doc, reference)) {
            Some(target) => node = target,
            None => break,
        }
    }
    node
}

/// What a reference to a component schema starts with, before the schema's name.
pub const SCHEMAS_PREFIX: &str = "#/components/schemas/";

/// The name of the component schema a schema refers to (`#/components/schemas/<name>`).
pub fn schema_name(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.strip_prefix(SCHEMAS_PREFIX)
}

/// Pushes the name of every component schema `node` or anything inside it refers to.
pub fn referenced_schemas(node: &Value, names: &mut Vec<String>) {
    if let Some(name) = schema_name(node) {
        names.push(name.to_owned());
    }
    match node {
        Value::Object(object) => object.values().for_each(|child| referenced_schemas(child, names)),
        Value::Array(items) => items.iter().for_each(|child| referenced_schemas(child, names)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn follows_chains_and_stops_at_cycles_and_dead_ends() {
        let doc = json!({
            "components": {"schemas": {
                "A": {"$ref": "#/components/schemas/B"},
                "B": {"type": "integer"},
                "Loop": {"$ref": "#/components/schemas/Loop"},
            }},
            "paths": {"/a/{id}": {"x": 1}},
        });
        assert_eq!(deref(&doc, &json!({"$ref": "#/components/schemas/A"})), &json!({"type": "integer"}));
        assert_eq!(deref(&doc, &doc["components"]["schemas"]["Loop"]), &doc["components"]["schemas"]["Loop"]);
        let dead = json!({"$ref": "#/nowhere"});
        assert_eq!(deref(&doc, &dead), &dead);
        assert_eq!(resolve_ref(&doc, "#/paths/~1a~1%7Bid%7D/x"), Some(&json!(1)));
        assert_eq!(resolve_ref(&doc, "other.yaml#/paths"), None);
        assert_eq!(schema_name(&json!({"$ref": "#/components/schemas/A"})), Some("A"));
        let mut names = Vec::new();
        referenced_schemas(&doc["components"], &mut names);
        assert_eq!(names, ["B", "Loop"]);
    }
}
