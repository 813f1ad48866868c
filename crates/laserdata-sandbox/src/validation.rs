//! Checking a request against its operation: every parameter (path, query, header) and the
//! body, against the schemas of the OpenAPI 3.1 documents. Every problem becomes one
//! `FieldIssue` whose `path` says where: `query.results`, `path.tenant_id`,
//! `header.idempotency-key`, or a dotted path into the body (`allowed_ips.0`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use laserdata_spec::refs::deref;
use laserdata_spec::validate::{Issue, Problem, Validator, closest};

use crate::documents::{Documents, Layer, Location, Operation};
use crate::reply::field_issue;
use crate::state::lock;

/// Compiled validators, built on first use and kept.
pub struct Validators {
    components: HashMap<Layer, Map<String, Value>>,
    cache: Mutex<HashMap<(Layer, String), Arc<Validator>>>,
}

/// The values of a request's parameters, read as their schemas' types.
#[derive(Debug, Default)]
pub struct Parameters {
    values: HashMap<(&'static str, String), Value>,
}

impl Parameters {
    pub fn get(&self, location: Location, name: &str) -> Option<&Value> {
        self.values.get(&(location.name(), name.to_owned()))
    }

    /// A path parameter that is an id (every id is a non-negative int64).
    pub fn id(&self, name: &str) -> Option<u64> {
        self.get(Location::Path, name).and_then(Value::as_u64)
    }

    pub fn query(&self, name: &str) -> Option<&Value> {
        self.get(Location::Query, name)
    }
}

impl Validators {
    pub fn new(documents: &Documents) -> Validators {
        let components = [Layer::Main, Layer::Supervisor, Layer::Audit]
            .into_iter()
            .map(|layer| {
                let schemas = documents.document(layer).pointer("/components/schemas").and_then(Value::as_object);
                (layer, schemas.cloned().unwrap_or_default())
            })
            .collect();
        Validators { components, cache: Mutex::new(HashMap::new()) }
    }

    /// Every issue of `value` against `schema` (of `layer`'s document), each with a path that
    /// starts with `prefix`.
    pub fn issues(&self, layer: Layer, schema: &Value, value: &Value, prefix: &str) -> Vec<Value> {
        let key = (layer, schema.to_string());
        let cached = lock(&self.cache).get(&key).cloned();
        let validator = match cached {
            Some(validator) => validator,
            None => match laserdata_spec::validate::compile(&self.components[&layer], schema) {
                Ok(validator) => {
                    let validator = Arc::new(validator);
                    lock(&self.cache).insert(key, validator.clone());
                    validator
                }
                // The documents are checked by the codegen; an uncompilable schema accepts all.
                Err(_) => return Vec::new(),
            },
        };
        field_issues(&validator.issues(value), prefix)
    }

    /// Whether `raw` (a path segment, still percent-encoded) is a valid value of the path
    /// parameter `name` of `operation`.
    pub fn accepts_path_value(&self, documents: &Documents, operation: &Operation, name: &str, raw: &str) -> bool {
        let Some(parameter) = operation.parameters.iter().find(|p| p.location == Location::Path && p.name == name)
        else {
            return false;
        };
        let text = laserdata_spec::pointer::decode_fragment(raw);
        let value = read_as_schema(documents.document(operation.layer), &parameter.schema, &[text]);
        self.issues(operation.layer, &parameter.schema, &value, "").is_empty()
    }

    /// Reads and checks every parameter of `operation`: the raw path values, the query pairs
    /// and the headers of the request.
    pub fn parameters(
        &self,
        documents: &Documents,
        operation: &Operation,
        path_values: &[(&str, String)],
        query: &[(String, String)],
        header: &dyn Fn(&str) -> Option<Result<String, ()>>,
    ) -> Result<Parameters, Vec<Value>> {
        let doc = documents.document(operation.layer);
        let mut parameters = Parameters::default();
        let mut issues = Vec::new();
        for parameter in &operation.parameters {
            let at = format!("{}.{}", parameter.location.name(), parameter.name);
            let raw: Vec<String> = match parameter.location {
                Location::Path => {
                    path_values.iter().filter(|(name, _)| *name == parameter.name).map(|(_, v)| v.clone()).collect()
                }
                Location::Query => {
                    query.iter().filter(|(name, _)| *name == parameter.name).map(|(_, v)| v.clone()).collect()
                }
                Location::Header => match header(&parameter.name) {
                    Some(Ok(value)) => vec![value],
                    Some(Err(())) => {
                        issues.push(field_issue("invalid_type", "The header is not visible ASCII text.", &at));
                        continue;
                    }
                    None => Vec::new(),
                },
            };
            if raw.is_empty() {
                if parameter.required {
                    issues.push(field_issue("required", format!("`{}` is required.", parameter.name), &at));
                }
                continue;
            }
            let value = read_as_schema(doc, &parameter.schema, &raw);
            let found = self.issues(operation.layer, &parameter.schema, &value, &at);
            if found.is_empty() {
                parameters.values.insert((parameter.location.name(), parameter.name.clone()), value);
            }
            issues.extend(found);
        }
        if issues.is_empty() { Ok(parameters) } else { Err(issues) }
    }
}

/// The JSON value text sent in a path, query or header means, read as its schema's type; text
/// that is not of that type stays text, for the schema to reject.
fn read_as_schema(doc: &Value, schema: &Value, raw: &[String]) -> Value {
    let kinds = kinds(doc, schema);
    if kinds.contains(&"array") {
        let items = deref(doc, schema).get("items").cloned().unwrap_or(Value::Bool(true));
        // Repeated (`a=1&a=2`) or comma-separated (`a=1,2`).
        let values: Vec<String> =
            if raw.len() > 1 { raw.to_vec() } else { raw[0].split(',').map(str::to_owned).collect() };
        return Value::Array(values.iter().map(|value| read_scalar(&kinds_of_items(doc, &items), value)).collect());
    }
    read_scalar(&kinds, raw.last().map(String::as_str).unwrap_or_default())
}

fn kinds_of_items<'a>(doc: &'a Value, items: &'a Value) -> Vec<&'a str> {
    kinds(doc, items)
}

fn read_scalar(kinds: &[&str], text: &str) -> Value {
    if kinds.contains(&"integer") {
        if let Ok(number) = text.parse::<i64>() {
            return Value::from(number);
        }
        if let Ok(number) = text.parse::<u64>() {
            return Value::from(number);
        }
    }
    if kinds.contains(&"number")
        && let Some(number) = text.parse::<f64>().ok().and_then(serde_json::Number::from_f64)
    {
        return Value::Number(number);
    }
    if kinds.contains(&"boolean") && matches!(text, "true" | "false") {
        return Value::Bool(text == "true");
    }
    Value::String(text.to_owned())
}

/// The JSON types a schema allows, looking through `$ref`, `allOf`, `anyOf` and `oneOf`.
fn kinds<'a>(doc: &'a Value, schema: &'a Value) -> Vec<&'a str> {
    let schema = deref(doc, schema);
    let mut found: Vec<&str> = match schema.get("type") {
        Some(Value::String(kind)) => vec![kind],
        Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    for key in ["allOf", "anyOf", "oneOf"] {
        for member in schema.get(key).and_then(Value::as_array).into_iter().flatten() {
            found.extend(kinds(doc, member));
        }
    }
    if found.is_empty() && schema.get("enum").is_some() {
        found.push("string");
    }
    found
}

/// One `FieldIssue` per problem, each failed `anyOf`/`oneOf` told by its closest branch (what the
/// caller most likely meant to send); a missing member's path names the member.
fn field_issues(found: &[Issue], prefix: &str) -> Vec<Value> {
    let mut issues = Vec::new();
    for issue in closest(found) {
        let mut path: Vec<String> = Vec::new();
        if !prefix.is_empty() {
            path.push(prefix.to_owned());
        }
        path.extend(issue.path.iter().map(ToString::to_string));
        let code = match &issue.problem {
            Problem::Required { property } => {
                path.push(property.clone());
                "required".to_owned()
            }
            Problem::Format { format } => format!("invalid_{}", format.replace('-', "_")),
            _ => format!("invalid_{}", to_snake(issue.keyword())),
        };
        let issue = field_issue(&code, issue.to_string(), &path.join("."));
        if !issues.contains(&issue) {
            issues.push(issue);
        }
    }
    issues
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::Route;

    fn route<'a>(
        documents: &'a Documents,
        validators: &Validators,
        layer: Layer,
        method: &str,
        path: &str,
    ) -> Route<'a> {
        let accepts = |operation: &Operation, name: &str, raw: &str| {
            validators.accepts_path_value(documents, operation, name, raw)
        };
        documents.route(layer, method, path, &accepts)
    }

    #[test]
    fn routes_prefer_literal_segments_and_list_the_methods_a_path_has() {
        let documents = Documents::load();
        let validators = Validators::new(&documents);
        let found = |layer, method, path| match route(&documents, &validators, layer, method, path) {
            Route::Found(operation) => operation.id.clone(),
            Route::MethodNotAllowed(allowed) => format!("405 {}", allowed.join(", ")),
            Route::NotFound => "404".into(),
        };
        assert_eq!(found(Layer::Main, "GET", "/tenants/1042/api_keys/context"), "get_api_key_context");
        assert_eq!(found(Layer::Main, "DELETE", "/tenants/1042/api_keys/7"), "delete_api_key");
        // `context` is no key id, so `/api_keys/{api_key_id}` does not name it.
        assert_eq!(found(Layer::Main, "DELETE", "/tenants/1042/api_keys/context"), "405 GET");
        // A bad id in a path no other template matches is still routed, to be answered 400.
        assert_eq!(found(Layer::Main, "GET", "/tenants/abc/api_keys"), "get_api_keys");
        assert_eq!(found(Layer::Main, "GET", "/nowhere"), "404");
        assert_eq!(found(Layer::Main, "GET", "/tenants//api_keys"), "404");
        assert_eq!(found(Layer::Supervisor, "GET", "/deployments/9/configs/iggy"), "get_configs");
        assert_eq!(found(Layer::Supervisor, "POST", "/deployments/9/configs/iggy"), "create_iggy_config");
        assert_eq!(found(Layer::Supervisor, "PUT", "/deployments/9/configs/iggy"), "405 POST, GET");
    }

    #[test]
    fn every_parameter_and_body_schema_compiles() {
        // A schema that does not compile would accept everything (see `Validators::issues`).
        let documents = Documents::load();
        let validators = Validators::new(&documents);
        for operation in &documents.operations {
            let components = &validators.components[&operation.layer];
            let body = operation.body.as_ref().and_then(|body| body.schema.as_ref());
            for schema in operation.parameters.iter().map(|parameter| &parameter.schema).chain(body) {
                if let Err(error) = laserdata_spec::validate::compile(components, schema) {
                    panic!("{}: {error}", operation.id);
                }
            }
        }
    }

    #[test]
    fn every_documented_request_example_passes_validation() {
        // The sandbox must accept what the documents show; the codegen checks the same.
        let documents = Documents::load();
        let validators = Validators::new(&documents);
        for operation in &documents.operations {
            let doc = documents.document(operation.layer);
            let spec_operation = laserdata_spec::operations::find(doc, &operation.id).unwrap();
            let Some(body) = spec_operation.request_body(doc) else { continue };
            let media = &body["content"]["application/json"];
            // The examples beside the body's schema (`example`, every `examples` entry).
            let beside = laserdata_spec::examples::collect(media);
            for example in
                beside.iter().filter(|e| e.owner.is_empty() && e.place == laserdata_spec::examples::Place::BesideSchema)
            {
                let schema = operation.body.as_ref().and_then(|b| b.schema.as_ref()).unwrap();
                let issues = validators.issues(operation.layer, schema, example.value, "");
                assert_eq!(issues, Vec::<Value>::new(), "{} {}", operation.id, example.pointer);
            }
        }
    }
}
