//! What a schema says about the values it allows, read the same way from OpenAPI 3.0 (`nullable`,
//! `allOf: [$ref]`) and OpenAPI 3.1 (`type: [T, "null"]`, `oneOf: [{type: null}, X]`) documents,
//! so that the vendor's 3.1 documents and our 3.0 description can be compared field by field.

use std::collections::{BTreeMap, BTreeSet};

use laserdata_spec::refs::{deref, resolve_ref};
use serde_json::Value;

/// A schema and the document its `$ref`s resolve in.
#[derive(Debug, Clone, Copy)]
pub struct Node<'a> {
    pub doc: &'a Value,
    pub schema: &'a Value,
}

const EMPTY: &Value = &Value::Null;

impl<'a> Node<'a> {
    pub fn new(doc: &'a Value, schema: &'a Value) -> Node<'a> {
        Node { doc, schema }
    }

    /// A schema that allows anything (a missing `schema`, or `{}`).
    pub fn any(doc: &'a Value) -> Node<'a> {
        Node { doc, schema: EMPTY }
    }
}

/// The component name a `$ref` points at (`#/components/schemas/Foo` is `Foo`).
fn component_name(reference: &str) -> String {
    reference.rsplit('/').next().unwrap_or(reference).replace("~1", "/").replace("~0", "~")
}

/// A field of a flattened schema, and the component that declares it (for a field inherited
/// through `allOf`, the parent's name), if a named one does.
#[derive(Debug, Clone, Copy)]
pub struct Property<'a> {
    pub node: Node<'a>,
    pub owner: Option<&'a str>,
}

/// A schema flattened: `allOf` members merged, nullable wrappers unwrapped, `$ref`s followed.
#[derive(Debug, Default)]
pub struct Shape<'a> {
    /// The component the schema is (a possibly nullable wrapper of a reference to).
    pub name: Option<String>,
    pub title: Option<String>,
    /// JSON types other than `null`; empty when the schema does not say.
    pub types: BTreeSet<String>,
    pub format: Option<String>,
    pub nullable: bool,
    /// The allowed values other than `null`, as JSON text (strings without quotes).
    pub enumeration: Option<BTreeSet<String>>,
    pub properties: BTreeMap<String, Property<'a>>,
    pub required: BTreeSet<String>,
    pub items: Option<Node<'a>>,
    pub additional: Option<Node<'a>>,
    /// The alternatives of a `oneOf`/`anyOf` that are not just `null`.
    pub variants: Vec<Node<'a>>,
}

impl<'a> Shape<'a> {
    pub fn of(node: Node<'a>) -> Shape<'a> {
        let mut shape = Shape::default();
        shape.absorb(node.doc, node.schema, true, None, 0);
        shape
    }

    /// Whether the schema has fields or alternatives to descend into (rather than being a
    /// plain value such as a string or an enum).
    pub fn is_structured(&self) -> bool {
        !self.properties.is_empty() || self.additional.is_some() || self.items.is_some() || !self.variants.is_empty()
    }

    /// The type as shown in findings: `string`, `integer/int64`, `object`, `any`, ...
    pub fn type_text(&self) -> String {
        let mut types = self.types.clone();
        if types.is_empty() {
            if !self.properties.is_empty() || self.additional.is_some() {
                types.insert("object".into());
            } else if self.items.is_some() {
                types.insert("array".into());
            }
        }
        if types.is_empty() {
            return "any".into();
        }
        let joined = types.into_iter().collect::<Vec<_>>().join("|");
        match &self.format {
            Some(format) => format!("{joined}/{format}"),
            None => joined,
        }
    }

    /// Adds what `schema` says; `naming` when it may give the whole its name, `owner` the
    /// component being read (if any).
    fn absorb(&mut self, doc: &'a Value, schema: &'a Value, naming: bool, owner: Option<&'a str>, depth: usize) {
        if depth > 32 {
            return;
        }
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            if naming && self.name.is_none() {
                self.name = Some(component_name(reference));
            }
            if let Some(target) = resolve_ref(doc, reference) {
                let owner = reference.rsplit('/').next();
                self.absorb(doc, target, false, owner, depth + 1);
            }
            // OpenAPI 3.1 allows keywords beside `$ref`; they apply too (read below).
        }
        let Some(object) = schema.as_object() else { return };
        if let Some(title) = object.get("title").and_then(Value::as_str) {
            self.title.get_or_insert_with(|| title.to_owned());
        }
        match object.get("type") {
            Some(Value::String(kind)) if kind == "null" => self.nullable = true,
            Some(Value::String(kind)) => {
                self.types.insert(kind.clone());
            }
            Some(Value::Array(kinds)) => {
                for kind in kinds.iter().filter_map(Value::as_str) {
                    if kind == "null" {
                        self.nullable = true;
                    } else {
                        self.types.insert(kind.to_owned());
                    }
                }
            }
            _ => {}
        }
        if object.get("nullable") == Some(&Value::Bool(true)) {
            self.nullable = true;
        }
        if let Some(format) = object.get("format").and_then(Value::as_str) {
            self.format.get_or_insert_with(|| format.to_owned());
        }
        let values = match (object.get("enum"), object.get("const")) {
            (Some(Value::Array(values)), _) => Some(values.iter().collect::<Vec<_>>()),
            (_, Some(value)) => Some(vec![value]),
            _ => None,
        };
        if let Some(values) = values {
            let mut allowed = BTreeSet::new();
            for value in values {
                match value {
                    Value::Null => self.nullable = true,
                    Value::String(text) => {
                        allowed.insert(text.clone());
                    }
                    other => {
                        allowed.insert(other.to_string());
                    }
                }
            }
            self.enumeration = Some(allowed);
        }
        for (name, property) in object.get("properties").and_then(Value::as_object).into_iter().flatten() {
            self.properties.insert(name.clone(), Property { node: Node::new(doc, property), owner });
        }
        for name in object.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            self.required.insert(name.to_owned());
        }
        if let Some(items) = object.get("items").filter(|items| items.is_object()) {
            self.items = Some(Node::new(doc, items));
        }
        match object.get("additionalProperties") {
            Some(Value::Bool(true)) => self.additional = Some(Node::any(doc)),
            Some(values @ Value::Object(_)) => self.additional = Some(Node::new(doc, values)),
            _ => {}
        }
        if let Some(members) = object.get("allOf").and_then(Value::as_array) {
            // `allOf: [$ref]` (with `nullable` beside it) is how OpenAPI 3.0 writes a nullable reference.
            let single = members.len() == 1;
            for member in members {
                self.absorb(doc, member, naming && single, owner, depth + 1);
            }
        }
        for key in ["oneOf", "anyOf"] {
            let Some(members) = object.get(key).and_then(Value::as_array) else { continue };
            let (nulls, others): (Vec<&Value>, Vec<&Value>) =
                members.iter().partition(|member| is_null_only(doc, member));
            if !nulls.is_empty() {
                self.nullable = true;
            }
            match others.as_slice() {
                // `oneOf: [{type: null}, X]` is X, nullable.
                [only] => self.absorb(doc, only, naming, owner, depth + 1),
                several => self.variants.extend(several.iter().map(|member| Node::new(doc, member))),
            }
        }
    }
}

/// A schema that allows only `null`.
fn is_null_only(doc: &Value, schema: &Value) -> bool {
    let schema = deref(doc, schema);
    match schema.get("type") {
        Some(Value::String(kind)) => kind == "null",
        Some(Value::Array(kinds)) => kinds.iter().all(|kind| kind == "null"),
        _ => schema.get("enum").and_then(Value::as_array).is_some_and(|values| values.iter().all(Value::is_null)),
    }
}

/// The name a `oneOf` alternative goes by, most telling first: the value of its tag (a
/// property with one allowed value, as in an adjacently tagged union), its component name,
/// its title.
pub fn variant_names(node: Node<'_>) -> Vec<String> {
    let shape = Shape::of(node);
    let mut names = Vec::new();
    for property in shape.properties.values() {
        let tag = Shape::of(property.node);
        if let Some(values) = tag.enumeration.filter(|values| values.len() == 1) {
            names.extend(values);
            break;
        }
    }
    names.extend(shape.name);
    names.extend(shape.title);
    names
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn shape_of(doc: &Value, schema: &Value) -> (String, bool, Option<String>) {
        let shape = Shape::of(Node::new(doc, schema));
        (shape.type_text(), shape.nullable, shape.name)
    }

    #[test]
    fn nullable_references_read_alike_in_both_versions() {
        let doc = json!({"components": {"schemas": {"Id": {"type": "integer", "format": "int64"}}}});
        let reference = json!({"$ref": "#/components/schemas/Id"});
        let expected = ("integer/int64".to_owned(), true, Some("Id".to_owned()));
        assert_eq!(shape_of(&doc, &json!({"allOf": [reference], "nullable": true})), expected);
        assert_eq!(shape_of(&doc, &json!({"oneOf": [{"type": "null"}, reference]})), expected);
        assert_eq!(shape_of(&doc, &json!({"anyOf": [reference, {"type": "null"}]})), expected);
        assert_eq!(shape_of(&doc, &json!({"type": ["string", "null"]})), ("string".into(), true, None));
        assert_eq!(shape_of(&doc, &json!({"type": "string", "nullable": true})), ("string".into(), true, None));
    }

    #[test]
    fn all_of_members_merge_and_null_is_not_an_enum_value() {
        let doc = json!({"components": {"schemas": {
            "Base": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
        }}});
        let schema = json!({"allOf": [
            {"$ref": "#/components/schemas/Base"},
            {"type": "object", "required": ["kind"], "properties": {"kind": {"enum": ["a", "b", null]}}}
        ]});
        let shape = Shape::of(Node::new(&doc, &schema));
        assert_eq!(shape.properties.keys().collect::<Vec<_>>(), ["id", "kind"]);
        assert_eq!(shape.required.iter().collect::<Vec<_>>(), ["id", "kind"]);
        // Two members: not a wrapper, so the whole has no single name.
        assert_eq!(shape.name, None);
        assert_eq!(shape.properties["id"].owner, Some("Base"));
        assert_eq!(shape.properties["kind"].owner, None);
        let kind = Shape::of(shape.properties["kind"].node);
        assert!(kind.nullable);
        assert_eq!(kind.enumeration.unwrap().into_iter().collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn tagged_variants_are_named_by_their_tag() {
        let doc = json!({});
        let variant = json!({"title": "DeleteTenant", "properties": {"action_type": {"const": "delete_tenant"}}});
        assert_eq!(variant_names(Node::new(&doc, &variant)), ["delete_tenant", "DeleteTenant"]);
    }
}
