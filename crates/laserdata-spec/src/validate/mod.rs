//! Checking JSON values against the schemas of an OpenAPI 3.1 document (JSON Schema 2020-12,
//! as [`crate::openapi31::json_schema`] writes them), with the component schemas they refer to.
//!
//! It knows the keywords the laserdata-rs documents use, and refuses a schema with any other:
//! a keyword it skipped would let wrong values through unnoticed.
//!
//! - applicators: `$ref` (to `#/components/schemas/<name>`), `allOf`, `anyOf`, `oneOf`, `not`,
//!   `properties`, `additionalProperties`, `items`, and the schemas `true` and `false`;
//! - any value: `type` (one name or several), `enum`, `const`;
//! - objects: `required`; arrays: `minItems`, `maxItems`, `uniqueItems`;
//! - numbers: `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, compared exactly
//!   (an int64 bound holds for integers beyond 2^53);
//! - strings: `minLength`, `maxLength` (in characters), and `format`: `date-time`, `date`,
//!   `time`, `email`, `uri` and `uuid` are checked; `int32` and `int64` bound the number (JSON
//!   Schema leaves them to the application; OpenAPI defines their ranges); `float`, `double`,
//!   `decimal`, `password`, `binary` and `byte` describe a value without constraining it;
//! - annotations, which change nothing: `title`, `description`, `default`, `examples`,
//!   `readOnly`, `writeOnly`, `deprecated`, `$comment`, `externalDocs`, `xml`, `discriminator`
//!   and every `x-` extension.

mod compile;
mod formats;
mod issue;
mod numbers;
mod run;

use serde_json::{Map, Value};

pub use issue::{Issue, Problem, Segment, closest};

/// A schema made ready to check values: every keyword read once, every `$ref` resolved.
#[derive(Debug, Clone)]
pub struct Validator {
    /// The schema is the first node; the component schemas it reaches follow.
    nodes: Vec<compile::Node>,
}

/// Prepares `schema`, whose `$ref`s name entries of `components` (`#/components/schemas/<name>`,
/// as in the document both come from). Only the components the schema reaches are read. A
/// keyword this module does not know, a malformed keyword, a reference to no component and a
/// cycle of references that never reaches into the value are errors, named by where they are
/// (`#/components/schemas/Name/...`, or `#/...` within `schema`).
pub fn compile(components: &Map<String, Value>, schema: &Value) -> Result<Validator, String> {
    compile::compile(components, schema).map(|nodes| Validator { nodes })
}

impl Validator {
    /// Every way `value` fails the schema, in the order the schema's keywords are checked; empty
    /// when it is valid. A failed `anyOf` or `oneOf` is one issue that holds each branch's issues.
    pub fn issues(&self, value: &Value) -> Vec<Issue> {
        run::issues(&self.nodes, value)
    }

    pub fn is_valid(&self, value: &Value) -> bool {
        self.issues(value).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn components() -> Map<String, Value> {
        let schemas = json!({
            "Id": {"type": "integer", "format": "int64", "minimum": 0},
            "Count": {"type": "integer", "format": "int32"},
            "Name": {"type": "string", "minLength": 1, "maxLength": 5},
            "Pair": {
                "type": "object",
                "required": ["id"],
                "properties": {"id": {"$ref": "#/components/schemas/Id"}, "name": {"$ref": "#/components/schemas/Name"}},
                "additionalProperties": false,
            },
            "Tree": {
                "type": "object",
                "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}}},
            },
            "Loop": {"allOf": [{"$ref": "#/components/schemas/Loop"}]},
            "Unused": {"pattern": "^a"},
        });
        schemas.as_object().unwrap().clone()
    }

    fn validator(schema: Value) -> Validator {
        compile(&components(), &schema).unwrap_or_else(|error| panic!("{error}"))
    }

    /// Each issue as `pointer: message`.
    fn issues(schema: Value, value: Value) -> Vec<String> {
        validator(schema).issues(&value).iter().map(|issue| format!("{}: {issue}", issue.pointer())).collect()
    }

    #[test]
    fn types_one_or_several_and_integers_by_value() {
        assert_eq!(issues(json!({"type": "integer"}), json!("one")), [r#": "one" is not of type "integer""#]);
        assert!(issues(json!({"type": "integer"}), json!(7.0)).is_empty(), "7.0 is an integer");
        assert_eq!(issues(json!({"type": "integer"}), json!(7.5)), [r#": 7.5 is not of type "integer""#]);
        assert!(issues(json!({"type": "number"}), json!(7)).is_empty());
        let nullable = json!({"type": ["string", "null"]});
        assert!(issues(nullable.clone(), json!(null)).is_empty());
        assert!(issues(nullable.clone(), json!("x")).is_empty());
        assert_eq!(issues(nullable, json!(5)), [r#": 5 is not of type "string" or "null""#]);
        let three = json!({"type": ["boolean", "array", "object"]});
        assert_eq!(issues(three, json!(null)), [r#": null is not of type "boolean", "array" or "object""#]);
        for (kind, value) in [
            ("null", json!(null)),
            ("boolean", json!(true)),
            ("string", json!("")),
            ("array", json!([])),
            ("object", json!({})),
        ] {
            assert!(issues(json!({"type": kind}), value.clone()).is_empty(), "{kind}");
            assert_eq!(issues(json!({"type": kind}), json!(1)).len(), 1, "{kind}");
        }
    }

    #[test]
    fn int32_and_int64_bound_their_values() {
        let count = validator(json!({"$ref": "#/components/schemas/Count"}));
        assert!(count.is_valid(&json!(i32::MAX)));
        assert!(count.is_valid(&json!(i32::MIN)));
        assert_eq!(
            count.issues(&json!(2147483648_i64))[0].to_string(),
            "2147483648 is greater than the maximum of 2147483647"
        );
        assert_eq!(count.issues(&json!(-2147483649_i64))[0].keyword(), "minimum");
        let id = validator(json!({"$ref": "#/components/schemas/Id"}));
        assert!(id.is_valid(&json!(i64::MAX)));
        assert!(!id.is_valid(&json!(i64::MAX as u64 + 1)));
        assert!(!id.is_valid(&json!(u64::MAX)));
        assert!(!id.is_valid(&json!(1e19)));
        assert!(!id.is_valid(&json!(i64::MAX as f64)), "2^63 as a float is beyond int64 too");
        assert_eq!(id.issues(&json!(-1))[0].to_string(), "-1 is less than the minimum of 0", "a tighter bound stays");
        // A looser bound gives way to the format's range; a format without a type bounds numbers only.
        let loose = validator(json!({"format": "int32", "minimum": -1e12, "maximum": 1e12}));
        assert_eq!(
            loose.issues(&json!(1e10))[0].to_string(),
            "10000000000.0 is greater than the maximum of 2147483647"
        );
        assert!(loose.is_valid(&json!("text")));
    }

    #[test]
    fn numeric_bounds_inclusive_and_exclusive() {
        let schema = json!({"type": "number", "minimum": 1, "maximum": 100});
        assert!(issues(schema.clone(), json!(1)).is_empty());
        assert!(issues(schema.clone(), json!(100.0)).is_empty());
        assert_eq!(issues(schema.clone(), json!(0.5)), [": 0.5 is less than the minimum of 1"]);
        assert_eq!(issues(schema, json!(101)), [": 101 is greater than the maximum of 100"]);
        let exclusive = json!({"exclusiveMinimum": 0, "exclusiveMaximum": 1.5});
        assert!(issues(exclusive.clone(), json!(1)).is_empty());
        assert_eq!(issues(exclusive.clone(), json!(0)), [": 0 is not greater than the exclusive minimum of 0"]);
        assert_eq!(issues(exclusive.clone(), json!(1.5)), [": 1.5 is not less than the exclusive maximum of 1.5"]);
        assert!(issues(exclusive, json!("not a number")).is_empty(), "bounds apply to numbers only");
    }

    #[test]
    fn string_lengths_count_characters() {
        let name = json!({"$ref": "#/components/schemas/Name"});
        assert!(issues(name.clone(), json!("ééééé")).is_empty(), "five characters, ten bytes");
        assert_eq!(issues(name.clone(), json!("")), [r#": "" is shorter than 1 character"#]);
        assert_eq!(issues(name.clone(), json!("abcdef")), [r#": "abcdef" is longer than 5 characters"#]);
        assert!(issues(json!({"maxLength": 1}), json!(123456)).is_empty(), "lengths apply to strings only");
        assert_eq!(issues(name, json!(123456)).len(), 1);
        assert_eq!(issues(json!({"minLength": 2}), json!("a")), [r#": "a" is shorter than 2 characters"#]);
    }

    #[test]
    fn formats_are_checked_on_strings_and_descriptive_ones_pass() {
        assert_eq!(
            issues(json!({"type": "string", "format": "date-time"}), json!("yesterday")),
            [r#": "yesterday" is not a "date-time""#]
        );
        assert!(issues(json!({"format": "date-time"}), json!("2026-10-01T00:00:00Z")).is_empty());
        assert!(issues(json!({"format": "date-time"}), json!(20261001)).is_empty(), "formats apply to strings only");
        for (format, good, bad) in [
            ("date", "2026-10-01", "2026-10-32"),
            ("time", "23:59:59Z", "24:00:00Z"),
            ("email", "ops@example.com", "ops at example.com"),
            ("uri", "https://example.com/a", "example.com/a"),
            ("uuid", "0b9f1c1e-6a1d-4c8e-9a3b-2f4d5e6a7b8c", "0b9f1c1e"),
        ] {
            let schema = json!({"format": format});
            assert!(issues(schema.clone(), json!(good)).is_empty(), "{format}: {good}");
            assert_eq!(issues(schema, json!(bad)), [format!(r#": "{bad}" is not a "{format}""#)]);
        }
        for format in ["password", "binary", "byte", "float", "double", "decimal"] {
            assert!(issues(json!({"format": format}), json!("anything")).is_empty(), "{format}");
        }
        let error = compile(&components(), &json!({"format": "hostname"})).unwrap_err();
        assert_eq!(error, "#/format: the format `hostname` is not one this validator knows");
    }

    #[test]
    fn enum_and_const_compare_by_value() {
        let states = json!({"enum": ["ready", "failed", null]});
        assert!(issues(states.clone(), json!(null)).is_empty());
        assert_eq!(issues(states, json!("Ready")), [r#": "Ready" is not one of "ready", "failed" or null"#]);
        assert!(issues(json!({"enum": [1, 2]}), json!(2.0)).is_empty());
        assert!(issues(json!({"const": {"a": [1]}}), json!({"a": [1.0]})).is_empty());
        assert_eq!(
            issues(json!({"const": "iggy"}), json!("kafka")),
            [r#": "kafka" is not the one allowed value, "iggy""#]
        );
    }

    #[test]
    fn objects_required_properties_and_additional_ones() {
        let pair = json!({"$ref": "#/components/schemas/Pair"});
        assert!(issues(pair.clone(), json!({"id": 7, "name": "x"})).is_empty());
        assert_eq!(issues(pair.clone(), json!({"name": "x"})), [r#": "id" is a required property"#]);
        assert_eq!(
            issues(pair.clone(), json!({"id": "7", "name": "", "extra": 1, "other/key": 2})),
            [
                r#"/id: "7" is not of type "integer""#,
                r#"/name: "" is shorter than 1 character"#,
                r#"/extra: "extra" is not a property this object may have"#,
                r#"/other~1key: "other/key" is not a property this object may have"#,
            ]
        );
        let issue = &validator(pair.clone()).issues(&json!({"id": 1, "extra": 1}))[0];
        assert_eq!(
            (issue.keyword(), &issue.problem),
            ("additionalProperties", &Problem::NotAllowed { property: "extra".into() })
        );
        assert_eq!(issues(pair, json!([1])), [r#": [1] is not of type "object""#]);
        // Additional members checked against a schema; required ignores what is not an object.
        let map = json!({"type": "object", "additionalProperties": {"type": "integer"}, "required": ["a"]});
        assert_eq!(issues(map.clone(), json!({"a": 1, "b": "two"})), [r#"/b: "two" is not of type "integer""#]);
        assert!(issues(json!({"required": ["a"]}), json!("not an object")).is_empty());
    }

    #[test]
    fn arrays_items_counts_and_uniqueness_with_nested_paths() {
        let schema = json!({
            "type": "object",
            "properties": {"allowed_ips": {"type": "array", "minItems": 1, "maxItems": 3, "uniqueItems": true, "items": {"type": "string"}}},
        });
        assert!(issues(schema.clone(), json!({"allowed_ips": ["10.0.0.1"]})).is_empty());
        assert_eq!(
            issues(schema.clone(), json!({"allowed_ips": ["a", 7, "c", "a"]})),
            [
                r#"/allowed_ips: ["a",7,"c","a"] has more than 3 items"#,
                r#"/allowed_ips: ["a",7,"c","a"] has an item more than once"#,
                r#"/allowed_ips/1: 7 is not of type "string""#,
            ]
        );
        assert_eq!(issues(schema, json!({"allowed_ips": []})), ["/allowed_ips: [] has fewer than 1 item"]);
        let tree = json!({"$ref": "#/components/schemas/Tree"});
        assert!(issues(tree.clone(), json!({"children": [{"children": []}]})).is_empty());
        let found = validator(tree).issues(&json!({"children": [{}, {"children": [{"children": 5}]}]}));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].pointer(), "/children/1/children/0/children");
        assert_eq!(
            found[0].path,
            [
                Segment::Member("children".into()),
                Segment::Index(1),
                Segment::Member("children".into()),
                Segment::Index(0),
                Segment::Member("children".into())
            ]
        );
    }

    #[test]
    fn all_of_any_of_one_of_and_not() {
        let both = json!({"allOf": [{"type": "integer"}, {"minimum": 10}]});
        assert_eq!(issues(both, json!(5)), [": 5 is less than the minimum of 10"]);
        let nullable = json!({"anyOf": [{"$ref": "#/components/schemas/Pair"}, {"type": "null"}]});
        assert!(issues(nullable.clone(), json!(null)).is_empty());
        assert!(issues(nullable.clone(), json!({"id": 1})).is_empty());
        let found = validator(nullable).issues(&json!({"id": "x"}));
        assert_eq!(found.len(), 1);
        let Problem::AnyOf { branches } = &found[0].problem else { panic!("{found:?}") };
        assert_eq!(branches.len(), 2);
        assert_eq!(found[0].to_string(), r#"{"id":"x"} is valid under none of the schemas of `anyOf`"#);
        // The closest branch is the object, whose kind matches, not `null` with one issue.
        let shown: Vec<String> = closest(&found).iter().map(|issue| format!("{}: {issue}", issue.pointer())).collect();
        assert_eq!(shown, [r#"/id: "x" is not of type "integer""#]);
        let one = json!({"oneOf": [{"type": "integer"}, {"minimum": 0}]});
        assert!(issues(one.clone(), json!(-1)).is_empty());
        assert!(issues(one.clone(), json!(2.5)).is_empty());
        assert_eq!(issues(one.clone(), json!(3)), [": 3 is valid under more than one of the schemas of `oneOf`"]);
        assert_eq!(validator(one).issues(&json!(-0.5))[0].keyword(), "oneOf");
        assert_eq!(
            issues(json!({"not": {"type": "null"}}), json!(null)),
            [": null is valid under the schema of `not`, which it must not be"]
        );
        assert!(issues(json!({"not": {"type": "null"}}), json!(0)).is_empty());
    }

    #[test]
    fn boolean_schemas() {
        assert!(issues(json!(true), json!({"anything": [1]})).is_empty());
        assert_eq!(issues(json!(false), json!(1)), [": 1 is not allowed here: the schema is `false`"]);
        assert_eq!(issues(json!({"items": false}), json!([1])), ["/0: 1 is not allowed here: the schema is `false`"]);
    }

    #[test]
    fn long_values_are_cut_short_in_messages() {
        let long = "k".repeat(300);
        let message = validator(json!({"maxLength": 255})).issues(&json!(long))[0].to_string();
        assert!(message.starts_with(&format!("\"{}…", "k".repeat(79))), "{message}");
        assert!(message.ends_with(" is longer than 255 characters"), "{message}");
    }

    #[test]
    fn annotations_and_extensions_change_nothing() {
        let schema = json!({
            "type": "string", "title": "t", "description": "d", "default": "x", "examples": ["y"], "readOnly": true,
            "writeOnly": false, "deprecated": true, "$comment": "c", "externalDocs": {}, "xml": {}, "discriminator": {},
            "x-enum-varnames": ["A"],
        });
        assert!(issues(schema.clone(), json!("z")).is_empty());
        assert_eq!(issues(schema, json!(1)).len(), 1);
    }

    #[test]
    fn malformed_schemas_are_refused_with_their_place() {
        let refused = |schema: Value| compile(&components(), &schema).unwrap_err();
        assert_eq!(refused(json!({"pattern": "^a"})), "#/pattern: `pattern` is not a keyword this validator knows");
        assert_eq!(
            refused(json!({"$ref": "#/components/schemas/Unused"})),
            "#/components/schemas/Unused/pattern: `pattern` is not a keyword this validator knows"
        );
        assert_eq!(
            refused(json!({"properties": {"a": {"$ref": "#/components/schemas/Missing"}}})),
            "#/properties/a/$ref: unresolved reference `#/components/schemas/Missing`"
        );
        assert!(refused(json!({"$ref": "other.yaml#/components/schemas/Id"})).contains("is not a reference to"));
        assert_eq!(refused(json!({"type": "int"})), r#"#/type: "int" is not a JSON type"#);
        assert_eq!(refused(json!({"minLength": -1})), "#/minLength: -1 is not a count (a non-negative integer)");
        assert_eq!(refused(json!({"anyOf": []})), "#/anyOf: a list of at least one schema");
        assert_eq!(refused(json!({"required": [1]})), "#/required: `required` is a list of names");
        assert_eq!(
            refused(json!({"properties": {"a": 7}})),
            "#/properties/a: a schema is an object or a boolean, not 7"
        );
        assert_eq!(
            refused(json!({"$ref": "#/components/schemas/Loop"})),
            "#/components/schemas/Loop: refers to itself without reaching into the value (a cycle of `$ref`s)"
        );
    }

    #[test]
    fn only_reached_components_are_read() {
        // `Unused` and `Loop` would be refused; nothing here reaches them.
        assert!(compile(&components(), &json!({"$ref": "#/components/schemas/Pair"})).is_ok());
        assert!(
            compile(&components(), &json!({"$ref": "#/components/schemas/Tree"})).is_ok(),
            "recursion into values is fine"
        );
    }
}
