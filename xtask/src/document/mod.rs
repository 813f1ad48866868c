//! Reading an OpenAPI 3.0 or 3.1 document, ours or the vendor's: its operations, their
//! parameters, bodies and success responses, and (in [`shape`]) what its schemas allow.

pub mod shape;

use std::collections::BTreeMap;

use serde_json::Value;

use laserdata_spec::refs::deref;
use shape::Node;

/// One operation of a document, with what is needed to compare it.
#[derive(Debug, Clone)]
pub struct Operation<'a> {
    pub doc: &'a Value,
    pub id: String,
    pub method: String,
    pub path: String,
    /// `apikey` (accepts the `ld-api-key` header), `session` (a browser session only) or `public`.
    pub auth: String,
    pub node: &'a Value,
    pub item: &'a Value,
}

/// Every operation of a document, in document order.
pub fn operations(doc: &Value) -> Vec<Operation<'_>> {
    laserdata_spec::operations::operations(doc)
        .into_iter()
        .map(|operation| {
            let method = operation.method.to_uppercase();
            let id = operation
                .node
                .get("operationId")
                .and_then(Value::as_str)
                .map_or_else(|| format!("{method} {}", operation.path), str::to_owned);
            Operation {
                doc,
                id,
                method,
                path: operation.path.to_owned(),
                auth: auth(doc, operation.node),
                node: operation.node,
                item: operation.item,
            }
        })
        .collect()
}

/// How an operation authenticates, from its security requirements (or the document's).
fn auth(doc: &Value, operation: &Value) -> String {
    let requirements = operation.get("security").or_else(|| doc.get("security"));
    let Some(requirements) = requirements.and_then(Value::as_array) else { return "public".into() };
    // `{}` among the alternatives means "no credentials" too.
    if requirements.is_empty() || requirements.iter().any(|r| r.as_object().is_some_and(|r| r.is_empty())) {
        return "public".into();
    }
    let schemes: Vec<&str> =
        requirements.iter().filter_map(Value::as_object).flat_map(|r| r.keys()).map(String::as_str).collect();
    let place = |name: &str| {
        doc.pointer(&format!("/components/securitySchemes/{name}"))
            .and_then(|scheme| scheme.get("in").or_else(|| scheme.get("type")))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    if schemes.iter().any(|name| matches!(place(name).as_str(), "header" | "query" | "http")) {
        "apikey".into()
    } else {
        "session".into()
    }
}

impl<'a> Operation<'a> {
    pub fn route(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The parameters that apply, path-level ones overridden by operation-level ones, by
    /// location and name (header names in lower case, as HTTP compares them).
    pub fn parameters(&self) -> BTreeMap<(String, String), &'a Value> {
        let mut merged = BTreeMap::new();
        for owner in [self.item, self.node] {
            for parameter in owner.get("parameters").and_then(Value::as_array).into_iter().flatten() {
                let parameter = deref(self.doc, parameter);
                let text = |key: &str| parameter.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
                let place = text("in");
                let name = if place == "header" { text("name").to_ascii_lowercase() } else { text("name") };
                merged.insert((place, name), parameter);
            }
        }
        merged
    }

    pub fn request_schema(&self) -> Option<Node<'a>> {
        let body = deref(self.doc, self.node.get("requestBody")?);
        Some(body_schema(self.doc, body))
    }

    /// Success (2xx and 3xx) responses by status, each with its body schema if it has a body.
    pub fn successes(&self) -> BTreeMap<String, Option<Node<'a>>> {
        self.node
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(status, _)| status.starts_with('2') || status.starts_with('3'))
            .map(|(status, response)| {
                let response = deref(self.doc, response);
                let has_body = response.get("content").and_then(Value::as_object).is_some_and(|c| !c.is_empty());
                (status.clone(), has_body.then(|| body_schema(self.doc, response)))
            })
            .collect()
    }
}

/// The schema of a request or response body: its JSON media type's, else its first one's.
fn body_schema<'a>(doc: &'a Value, body: &'a Value) -> Node<'a> {
    let content = body.get("content").and_then(Value::as_object);
    let media = content
        .and_then(|content| content.iter().find(|(name, _)| name.contains("json")).or_else(|| content.iter().next()))
        .map(|(_, media)| media);
    match media.and_then(|media| media.get("schema")) {
        Some(schema) => Node::new(doc, schema),
        None => Node::any(doc),
    }
}
