//! The bundled documents: routes, spec examples and request-body validation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

/// The three layers, as `cargo xtask codegen` bundles them (the same files the clients come from).
const MAIN: &str = include_str!("../../../openapi/dist/laserdata-main.json");
const SUPERVISOR: &str = include_str!("../../../openapi/dist/laserdata-supervisor.json");
const AUDIT: &str = include_str!("../../../openapi/dist/laserdata-audit.json");

/// Where each layer is served: the Main API at the root, the others under a prefix.
pub const SUPERVISOR_PREFIX: &str = "/supervisor";
pub const AUDIT_PREFIX: &str = "/audit";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    Main,
    Supervisor,
    Audit,
}

/// One operation of a layer.
pub struct Operation {
    pub layer: Layer,
    pub id: String,
    pub method: String,
    /// The path template split at `/`; `None` for a `{parameter}` segment.
    segments: Vec<Option<String>>,
    names: Vec<String>,
    pub operation: Value,
}

pub struct Spec {
    documents: HashMap<&'static str, Value>,
    operations: Vec<Operation>,
    /// Compiled validators of request bodies, by operation id (compiled on first use).
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

pub enum Route<'a> {
    Found(&'a Operation, HashMap<String, String>),
    MethodNotAllowed,
    NotFound,
}

fn layer_key(layer: Layer) -> &'static str {
    match layer {
        Layer::Main => "main",
        Layer::Supervisor => "supervisor",
        Layer::Audit => "audit",
    }
}

impl Spec {
    pub fn load() -> Spec {
        let mut documents = HashMap::new();
        let mut operations = Vec::new();
        for (layer, text) in [(Layer::Main, MAIN), (Layer::Supervisor, SUPERVISOR), (Layer::Audit, AUDIT)] {
            let document: Value = serde_json::from_str(text).expect("the bundled spec is JSON");
            for (template, item) in document["paths"].as_object().into_iter().flatten() {
                for (method, operation) in item.as_object().into_iter().flatten() {
                    let Some(id) = operation.get("operationId").and_then(Value::as_str) else { continue };
                    let mut segments = Vec::new();
                    let mut names = Vec::new();
                    for segment in template.trim_start_matches('/').split('/') {
                        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                            segments.push(None);
                            names.push(name.to_owned());
                        } else {
                            segments.push(Some(segment.to_owned()));
                        }
                    }
                    operations.push(Operation {
                        layer,
                        id: id.to_owned(),
                        method: method.to_ascii_uppercase(),
                        segments,
                        names,
                        operation: operation.clone(),
                    });
                }
            }
            documents.insert(layer_key(layer), document);
        }
        Spec { documents, operations, validators: Mutex::new(HashMap::new()) }
    }

    pub fn document(&self, layer: Layer) -> &Value {
        &self.documents[layer_key(layer)]
    }

    /// The operation a request's method and path (below its layer's prefix) match. A template
    /// with more literal segments wins (`/api_keys/context` over `/api_keys/{api_key_id}`).
    pub fn route(&self, layer: Layer, method: &str, path: &str) -> Route<'_> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut best: Option<(&Operation, usize)> = None;
        let mut path_matched = false;
        for operation in self.operations.iter().filter(|op| op.layer == layer) {
            if operation.segments.len() != parts.len() {
                continue;
            }
            let literal = operation.segments.iter().zip(&parts).try_fold(0, |count, (segment, part)| match segment {
                Some(text) if text == part => Some(count + 1),
                Some(_) => None,
                None if part.is_empty() => None,
                None => Some(count),
            });
            let Some(literal) = literal else { continue };
            path_matched = true;
            if operation.method == method && best.is_none_or(|(_, count)| literal > count) {
                best = Some((operation, literal));
            }
        }
        match best {
            Some((operation, _)) => {
                let values = operation.segments.iter().zip(&parts).filter(|(segment, _)| segment.is_none());
                let params = operation.names.iter().cloned().zip(values.map(|(_, part)| (*part).to_owned())).collect();
                Route::Found(operation, params)
            }
            None if path_matched => Route::MethodNotAllowed,
            None => Route::NotFound,
        }
    }

    /// The first 2xx of an operation, with its JSON example when it has one.
    pub fn success(&self, operation: &Operation) -> (u16, Option<Value>) {
        let responses = operation.operation["responses"].as_object();
        let mut codes: Vec<(&String, &Value)> =
            responses.into_iter().flatten().filter(|(code, _)| code.starts_with('2')).collect();
        codes.sort_by(|a, b| a.0.cmp(b.0));
        let Some((code, response)) = codes.first() else { return (204, None) };
        let status = code.parse().unwrap_or(200);
        let response = self.resolve(operation.layer, response);
        let media = &response["content"]["application/json"];
        // One `example`, or the first of named `examples`.
        let first_named = media["examples"].as_object().and_then(|all| all.values().next());
        let example = match first_named {
            Some(named) if media["example"].is_null() => self.resolve(operation.layer, named)["value"].clone(),
            _ => media["example"].clone(),
        };
        (status, (!example.is_null()).then_some(example))
    }

    fn resolve<'a>(&'a self, layer: Layer, mut node: &'a Value) -> &'a Value {
        while let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            let pointer = reference.trim_start_matches('#');
            match self.document(layer).pointer(pointer) {
                Some(target) => node = target,
                None => break,
            }
        }
        node
    }

    /// Checks a request body against the operation's request schema: every issue found, each
    /// as a `FieldIssue` (`code`, `reason`, dotted `path`). Empty when the body is valid.
    pub fn validate_body(&self, operation: &Operation, body: &Value) -> Vec<Value> {
        let Some(validator) = self.validator(operation) else { return Vec::new() };
        let mut issues = Vec::new();
        let errors: Vec<_> = validator.iter_errors(body).collect();
        collect_issues(&errors, &mut issues);
        issues
    }

    fn validator(&self, operation: &Operation) -> Option<Arc<jsonschema::Validator>> {
        let mut cache = self.validators.lock().unwrap();
        if let Some(validator) = cache.get(&operation.id) {
            return Some(validator.clone());
        }
        let body = self.resolve(operation.layer, &operation.operation["requestBody"]);
        let schema = body["content"]["application/json"]["schema"].clone();
        if schema.is_null() {
            return None;
        }
        let components = convert_schema(&self.document(operation.layer)["components"]["schemas"], true);
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": { "schemas": components },
            "allOf": [convert_schema(&schema, false)],
        });
        let validator = Arc::new(jsonschema::options().should_validate_formats(true).build(&root).ok()?);
        cache.insert(operation.id.clone(), validator.clone());
        Some(validator)
    }
}

fn collect_issues(errors: &[jsonschema::ValidationError<'_>], issues: &mut Vec<Value>) {
    use jsonschema::error::ValidationErrorKind as Kind;
    for error in errors {
        let kind = error.kind();
        // A failed `oneOf`/`anyOf` says only "no branch matched": report the issues of the branch
        // that came closest, which is what the caller meant to send.
        let branches = match kind {
            Kind::OneOfNotValid { context } | Kind::AnyOf { context } => Some(context),
            _ => None,
        };
        if let Some(best) =
            branches.and_then(|branches| branches.iter().filter(|b| !b.is_empty()).min_by_key(|b| b.len()))
        {
            collect_issues(best, issues);
            continue;
        }
        let mut path: Vec<String> = error.instance_path().into_iter().map(|chunk| chunk.to_string()).collect();
        let code = match kind {
            Kind::Required { property } => {
                path.push(property.as_str().unwrap_or_default().to_owned());
                "required".to_owned()
            }
            Kind::Type { .. } => "invalid_type".to_owned(),
            Kind::Format { format } => format!("invalid_{}", format.replace('-', "_")),
            other => format!("invalid_{}", to_snake(other.keyword())),
        };
        let path = path.join(".");
        let issue = json!({ "code": code, "reason": error.to_string(), "path": path });
        if !issues.contains(&issue) {
            issues.push(issue);
        }
    }
}

fn to_snake(keyword: &str) -> String {
    let mut out = String::new();
    for c in keyword.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Rewrites an OpenAPI 3.0 schema as JSON Schema 2020-12. `is_map` marks a map of schemas
/// (such as `components/schemas` or `properties`) rather than one schema.
///
/// A copy of `convert_schema` in `xtask/src/spec/examples.rs` (the sandbox must not depend on
/// the xtask); keep the two in step.
fn convert_schema(schema: &Value, is_map: bool) -> Value {
    let Value::Object(object) = schema else { return schema.clone() };
    if is_map {
        return Value::Object(object.iter().map(|(name, s)| (name.clone(), convert_schema(s, false))).collect());
    }
    let mut out = Map::new();
    for (key, value) in object {
        let converted = match key.as_str() {
            "properties" | "patternProperties" => convert_schema(value, true),
            "items" | "additionalProperties" | "not" => convert_schema(value, false),
            "allOf" | "anyOf" | "oneOf" => {
                Value::Array(value.as_array().into_iter().flatten().map(|s| convert_schema(s, false)).collect())
            }
            // OpenAPI 3.0 marks exclusive bounds with booleans beside minimum/maximum.
            "exclusiveMinimum" | "exclusiveMaximum" => {
                let bound = if key == "exclusiveMinimum" { "minimum" } else { "maximum" };
                if value == &Value::Bool(true)
                    && let Some(limit) = object.get(bound)
                {
                    out.insert(key.clone(), limit.clone());
                }
                continue;
            }
            "minimum" | "maximum" => {
                let exclusive = if key == "minimum" { "exclusiveMinimum" } else { "exclusiveMaximum" };
                if object.get(exclusive) == Some(&Value::Bool(true)) {
                    continue;
                }
                value.clone()
            }
            // Annotations only OpenAPI knows; they do not constrain values.
            "nullable" | "example" | "discriminator" | "xml" | "externalDocs" | "readOnly" | "writeOnly"
            | "deprecated" => continue,
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    if object.get("nullable") != Some(&Value::Bool(true)) {
        return Value::Object(out);
    }
    match out.get("type").cloned() {
        Some(Value::String(kind)) => {
            out.insert("type".into(), json!([kind, "null"]));
            if let Some(Value::Array(values)) = out.get_mut("enum") {
                values.push(Value::Null);
            }
            Value::Object(out)
        }
        // A nullable schema without a type (such as `allOf: [$ref]`): null, or whatever it allows.
        _ => json!({ "anyOf": [{ "type": "null" }, Value::Object(out)] }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_prefer_literal_segments_and_read_parameters() {
        let spec = Spec::load();
        let Route::Found(operation, _) = spec.route(Layer::Main, "GET", "/tenants/1042/api_keys/context") else {
            panic!("no route")
        };
        assert_eq!(operation.id, "get_api_key_context");
        let Route::Found(operation, params) = spec.route(Layer::Main, "DELETE", "/tenants/1042/api_keys/7") else {
            panic!("no route")
        };
        assert_eq!(operation.id, "delete_api_key");
        assert_eq!(params["tenant_id"], "1042");
        assert_eq!(params["api_key_id"], "7");
        assert!(matches!(spec.route(Layer::Main, "PATCH", "/tenants/1042/api_keys/context"), Route::MethodNotAllowed));
        assert!(matches!(spec.route(Layer::Main, "GET", "/nowhere"), Route::NotFound));
        assert!(matches!(spec.route(Layer::Main, "GET", "/tenants//api_keys"), Route::NotFound));
        let Route::Found(operation, _) = spec.route(Layer::Supervisor, "GET", "/deployments/9/credentials") else {
            panic!("no route")
        };
        assert_eq!(operation.id, "get_deployment_credentials");
    }

    #[test]
    fn every_documented_request_example_passes_validation() {
        // The sandbox must accept what the spec documents; the codegen checks the same.
        let spec = Spec::load();
        for operation in &spec.operations {
            let body = spec.resolve(operation.layer, &operation.operation["requestBody"]);
            let example = &body["content"]["application/json"]["example"];
            if !example.is_null() {
                assert_eq!(spec.validate_body(operation, example), Vec::<Value>::new(), "{}", operation.id);
            }
        }
    }
}

#[cfg(test)]
mod copy_tests {
    /// `convert_schema` is a copy of the xtask's: fail when the two drift apart.
    #[test]
    fn convert_schema_matches_the_xtask_copy() {
        fn body(source: &str) -> &str {
            let start = source.find("fn convert_schema(").expect("convert_schema is there");
            let end = start + source[start..].find("\n}\n").expect("and ends");
            &source[start..end]
        }
        let ours = include_str!("spec.rs");
        let xtask = include_str!("../../../xtask/src/spec/examples.rs");
        assert_eq!(body(ours), body(xtask), "keep convert_schema in step with xtask/src/spec/examples.rs");
    }
}
