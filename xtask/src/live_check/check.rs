//! Judging one answer against our description: is its status declared, does its body validate
//! against the schema declared for that status, does it carry fields the schema does not
//! declare, are the headers we promise there. What is reported names places (JSON pointers),
//! keywords and types, never a value, except one of the values an enum allows.

use std::collections::{BTreeSet, HashMap};

use laserdata_spec::validate::{Issue, Problem, Validator};
use serde_json::{Map, Value};

use super::Answer;
use super::report::Called;
use crate::document::Operation;
use laserdata_spec::refs::deref;

/// How many schema differences are listed per answer.
const FIRST_DIFFERENCES: usize = 5;
/// How many undeclared fields are listed per answer.
const FIRST_UNDECLARED: usize = 10;

/// Judges answers against one layer's published OpenAPI 3.1 document.
pub struct Judge {
    doc: Value,
    components: Map<String, Value>,
    validators: HashMap<String, Result<Validator, String>>,
}

/// The judgement of one answer.
pub struct Verdict {
    pub called: Called,
    /// The body, when it is JSON (to learn parameter values from).
    pub body: Option<Value>,
    /// Secret values seen in the body (fields with `format: password`, presigned URLs).
    pub secrets: Vec<String>,
}

impl Judge {
    pub fn new(doc: &Value) -> Judge {
        let components = doc.pointer("/components/schemas").and_then(Value::as_object).cloned().unwrap_or_default();
        Judge { doc: doc.clone(), components, validators: HashMap::new() }
    }

    pub fn judge(&mut self, operation: &Operation<'_>, answer: &Answer) -> Verdict {
        let mut verdict = self.judge_parts(operation, answer);
        let called = &mut verdict.called;
        called.conforms = called.problems.is_empty()
            && called.schema_differences.is_empty()
            && called.undeclared_fields.is_empty()
            && called.missing_headers.is_empty();
        verdict
    }

    fn judge_parts(&mut self, operation: &Operation<'_>, answer: &Answer) -> Verdict {
        let mut called = Called { status: answer.status, ..Called::default() };
        let responses = operation.node.get("responses").and_then(Value::as_object);
        let status = answer.status.to_string();
        let range = format!("{}XX", &status[..1]);
        let declared = responses.and_then(|all| all.get(&status).or_else(|| all.get(&range)));
        let Some(declared) = declared.map(|response| deref(&self.doc, response).clone()) else {
            called.problems.push(format!("status {status} is not declared"));
            return Verdict { called, body: None, secrets: Vec::new() };
        };
        for (name, header) in declared.get("headers").and_then(Value::as_object).into_iter().flatten() {
            let name = name.to_ascii_lowercase();
            let required = deref(&self.doc, header).get("required") == Some(&Value::Bool(true));
            if (name == "ld-request" || required) && answer.header(&name).is_none() {
                called.missing_headers.push(name);
            }
        }
        let content = declared.get("content").and_then(Value::as_object);
        let Some((media, schema)) =
            content.and_then(|content| content.iter().next()).map(|(media, m)| (media, m.get("schema")))
        else {
            if !answer.body.is_empty() {
                called.problems.push("a body where none is declared".into());
            }
            return Verdict { called, body: None, secrets: Vec::new() };
        };
        if !media.contains("json") {
            // A download: bytes, nothing to validate.
            return Verdict { called, body: None, secrets: Vec::new() };
        }
        let body = match serde_json::from_slice::<Value>(&answer.body) {
            Ok(body) => body,
            Err(_) if answer.body.is_empty() => {
                called.problems.push(format!("an empty body where {media} is declared"));
                return Verdict { called, body: None, secrets: Vec::new() };
            }
            Err(_) => {
                called.problems.push(format!("the body is not JSON (declared {media})"));
                return Verdict { called, body: None, secrets: Vec::new() };
            }
        };
        let schema = schema.cloned().unwrap_or(Value::Bool(true));
        let mut secrets = Vec::new();
        collect_secrets(&self.doc, &schema, &body, &mut secrets, 0);
        let key = schema.to_string();
        let components = &self.components;
        match self.validators.entry(key).or_insert_with(|| laserdata_spec::validate::compile(components, &schema)) {
            Ok(validator) => {
                let differences: Vec<String> =
                    validator.issues(&body).iter().map(|issue| describe(issue, &body, &secrets)).collect();
                called.schema_differences = differences.into_iter().take(FIRST_DIFFERENCES).collect();
            }
            Err(error) => called.problems.push(format!("our schema for this answer does not compile: {error}")),
        }
        let mut undeclared = BTreeSet::new();
        find_undeclared(&self.doc, &schema, &body, "", &mut undeclared, 0);
        called.undeclared_fields = undeclared.into_iter().take(FIRST_UNDECLARED).collect();
        Verdict { called, body: Some(body), secrets }
    }
}

/// A schema difference in words, without the value (an enum's offending value aside, when it
/// is short, plain, and not a secret).
fn describe(issue: &Issue, body: &Value, secrets: &[String]) -> String {
    let pointer = issue.pointer();
    let at = generic_pointer(&pointer);
    let at = if at.is_empty() { "the body".to_owned() } else { format!("`{at}`") };
    let instance = body.pointer(&pointer).unwrap_or(&Value::Null);
    let what = match &issue.problem {
        Problem::Type { expected } => {
            format!("is {}, the schema wants {}", json_type(instance), expected.join(" or "))
        }
        Problem::Required { property } => format!("lacks the required field `{property}`"),
        Problem::Enum { .. } | Problem::Const { .. } => match instance {
            Value::String(text) if is_showable(text, secrets) => format!("has `{text}`, which the enum does not list"),
            Value::Bool(_) | Value::Number(_) => format!("has `{instance}`, which the enum does not list"),
            _ => "has a value the enum does not list".to_owned(),
        },
        Problem::Format { format } => format!("is not a valid `{format}`"),
        Problem::AnyOf { .. } | Problem::OneOf { .. } => "matches none of the alternatives".to_owned(),
        Problem::OneOfSeveral => "matches more than one alternative".to_owned(),
        _ => format!("fails `{}`", issue.keyword()),
    };
    format!("{at} {what}")
}

/// Short plain words may be shown; anything that could carry a credential may not.
fn is_showable(text: &str, secrets: &[String]) -> bool {
    text.len() <= 40
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "_-. ".contains(c))
        && !secrets.iter().any(|secret| secret == text)
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(number) if number.is_i64() || number.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `/items/3/name` as `/items/*/name`: one line per field, however many items.
fn generic_pointer(pointer: &str) -> String {
    pointer
        .split('/')
        .map(|token| if !token.is_empty() && token.chars().all(|c| c.is_ascii_digit()) { "*" } else { token })
        .collect::<Vec<_>>()
        .join("/")
}

/// The schemas that apply to a value: the schema itself, its `allOf` members, and the
/// `anyOf`/`oneOf` alternatives (all of them: a field any alternative declares is declared).
fn applicable<'a>(doc: &'a Value, schema: &'a Value, depth: usize) -> Vec<&'a Value> {
    if depth > 32 {
        return Vec::new();
    }
    let schema = deref(doc, schema);
    let mut found = vec![schema];
    for key in ["allOf", "anyOf", "oneOf"] {
        for member in schema.get(key).and_then(Value::as_array).into_iter().flatten() {
            found.extend(applicable(doc, member, depth + 1));
        }
    }
    found
}

/// Fields of `value` that no applicable schema declares (as generic pointers).
fn find_undeclared(doc: &Value, schema: &Value, value: &Value, at: &str, found: &mut BTreeSet<String>, depth: usize) {
    if depth > 64 {
        return;
    }
    let schemas = applicable(doc, schema, 0);
    match value {
        Value::Object(object) => {
            let declares_fields = schemas.iter().any(|schema| schema.get("properties").is_some());
            // A map (`additionalProperties`) allows any key; its values follow that schema.
            let map_values: Vec<&Value> = schemas
                .iter()
                .filter_map(|schema| schema.get("additionalProperties"))
                .filter(|values| **values != Value::Bool(false))
                .collect();
            for (name, field) in object {
                let declared: Vec<&Value> = schemas
                    .iter()
                    .filter_map(|schema| schema.get("properties").and_then(|properties| properties.get(name)))
                    .collect();
                if !declared.is_empty() {
                    for field_schema in declared {
                        find_undeclared(doc, field_schema, field, &format!("{at}/{name}"), found, depth + 1);
                    }
                } else if !map_values.is_empty() {
                    for values in &map_values {
                        find_undeclared(doc, values, field, &format!("{at}/*"), found, depth + 1);
                    }
                } else if declares_fields {
                    found.insert(format!("{at}/{name}"));
                }
            }
        }
        Value::Array(items) => {
            let item_schemas: Vec<&Value> = schemas.iter().filter_map(|schema| schema.get("items")).collect();
            for item in items {
                for item_schema in &item_schemas {
                    find_undeclared(doc, item_schema, item, &format!("{at}/*"), found, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// Secret values in a body: strings where the schema says `format: password`, and URLs with a
/// query (presigned download links carry their signature there).
fn collect_secrets(doc: &Value, schema: &Value, value: &Value, found: &mut Vec<String>, depth: usize) {
    if depth > 64 {
        return;
    }
    let schemas = applicable(doc, schema, 0);
    match value {
        Value::String(text) => {
            let password =
                schemas.iter().any(|schema| schema.get("format").and_then(Value::as_str) == Some("password"));
            if password || (text.contains("://") && text.contains('?')) {
                found.push(text.clone());
            }
        }
        Value::Object(object) => {
            for (name, field) in object {
                let mut field_schemas: Vec<&Value> = schemas
                    .iter()
                    .filter_map(|schema| schema.get("properties").and_then(|properties| properties.get(name)))
                    .collect();
                field_schemas.extend(schemas.iter().filter_map(|schema| schema.get("additionalProperties")));
                if field_schemas.is_empty() {
                    collect_secrets(doc, &Value::Bool(true), field, found, depth + 1);
                }
                for field_schema in field_schemas {
                    collect_secrets(doc, field_schema, field, found, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            let item_schemas: Vec<&Value> = schemas.iter().filter_map(|schema| schema.get("items")).collect();
            for item in items {
                if item_schemas.is_empty() {
                    collect_secrets(doc, &Value::Bool(true), item, found, depth + 1);
                }
                for item_schema in &item_schemas {
                    collect_secrets(doc, item_schema, item, found, depth + 1);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn doc() -> Value {
        json!({"components": {"schemas": {
            "Key": {"type": "object", "required": ["id", "token"], "properties": {
                "id": {"type": "integer"},
                "token": {"type": "string", "format": "password"},
                "kind": {"type": "string", "enum": ["a", "b"]},
                "tags": {"type": "object", "additionalProperties": {"type": "string"}}
            }},
            "Keys": {"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Key"}}}}
        }}})
    }

    #[test]
    fn undeclared_fields_are_found_through_references_and_lists_but_not_in_maps() {
        let doc = doc();
        let body = json!({"items": [
            {"id": 1, "token": "s3cr3t", "extra": 1, "tags": {"any": "thing"}},
            {"id": 2, "token": "other", "extra": 2}
        ], "more": true});
        let mut found = BTreeSet::new();
        find_undeclared(&doc, &json!({"$ref": "#/components/schemas/Keys"}), &body, "", &mut found, 0);
        assert_eq!(found.into_iter().collect::<Vec<_>>(), ["/items/*/extra", "/more"]);
    }

    #[test]
    fn secrets_are_collected_from_password_fields_and_signed_urls() {
        let doc = doc();
        let body =
            json!({"id": 1, "token": "s3cr3t", "tags": {"link": "https://bucket.example/x?X-Amz-Signature=abc"}});
        let mut found = Vec::new();
        collect_secrets(&doc, &json!({"$ref": "#/components/schemas/Key"}), &body, &mut found, 0);
        assert_eq!(found, ["s3cr3t", "https://bucket.example/x?X-Amz-Signature=abc"]);
    }

    #[test]
    fn differences_name_the_place_and_never_a_secret_value() {
        let doc = doc();
        let schema = json!({"$ref": "#/components/schemas/Key"});
        let validator = laserdata_spec::validate::compile(
            doc.pointer("/components/schemas").unwrap().as_object().unwrap(),
            &schema,
        )
        .unwrap();
        let body = json!({"id": "s3cr3t-as-id", "kind": "c"});
        let secrets = vec!["s3cr3t-as-id".to_owned()];
        let mut described: Vec<String> =
            validator.issues(&body).iter().map(|issue| describe(issue, &body, &secrets)).collect();
        described.sort();
        assert_eq!(
            described,
            [
                "`/id` is a string, the schema wants integer",
                "`/kind` has `c`, which the enum does not list",
                "the body lacks the required field `token`",
            ]
        );
    }
}
