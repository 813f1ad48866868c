//! The operations of a document and the parameters that apply to each.

use serde_json::Value;

use crate::pointer::push_token;
use crate::refs::deref;

/// The keys of a path item that are operations, in the order OpenAPI lists them.
pub const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// One operation of a document, with the pointers needed to report on it.
#[derive(Debug, Clone)]
pub struct Operation<'a> {
    /// The path template, such as `/tenants/{tenant_id}/api_keys`.
    pub path: &'a str,
    /// The method in lower case, as the document spells it.
    pub method: &'static str,
    /// Where the operation is (`/paths/<path>/<method>`).
    pub pointer: String,
    /// Where its path item is (`/paths/<path>`).
    pub item_pointer: String,
    pub node: &'a Value,
    pub item: &'a Value,
}

/// Every operation of the document, in document order.
pub fn operations(doc: &Value) -> Vec<Operation<'_>> {
    let mut found = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else { return found };
    for (path, item) in paths {
        let item_pointer = push_token("/paths", path);
        for method in METHODS {
            if let Some(node) = item.get(method) {
                found.push(Operation {
                    path,
                    method,
                    pointer: push_token(&item_pointer, method),
                    item_pointer: item_pointer.clone(),
                    node,
                    item,
                });
            }
        }
    }
    found
}

/// The operation with this `operationId`, if the document has exactly one.
pub fn find<'a>(doc: &'a Value, operation_id: &str) -> Option<Operation<'a>> {
    let mut found = operations(doc).into_iter().filter(|operation| operation.operation_id() == Some(operation_id));
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

impl<'a> Operation<'a> {
    pub fn operation_id(&self) -> Option<&'a str> {
        self.node.get("operationId").and_then(Value::as_str)
    }

    /// The parameters that apply, path-item ones first, each resolved, with its pointer.
    /// An operation-level parameter overrides a path-level one of the same name and location.
    pub fn parameters(&self, doc: &'a Value) -> Vec<(String, &'a Value)> {
        let mut merged: Vec<(String, &Value)> = Vec::new();
        for (owner, owner_pointer) in [(self.item, &self.item_pointer), (self.node, &self.pointer)] {
            let Some(list) = owner.get("parameters").and_then(Value::as_array) else { continue };
            for (index, parameter) in list.iter().enumerate() {
                let pointer = push_token(&push_token(owner_pointer, "parameters"), &index.to_string());
                let parameter = deref(doc, parameter);
                let key = |p: &Value| (p.get("name").cloned(), p.get("in").cloned());
                merged.retain(|(_, existing)| key(existing) != key(parameter));
                merged.push((pointer, parameter));
            }
        }
        merged
    }

    /// The request body, resolved, if the operation takes one.
    pub fn request_body(&self, doc: &'a Value) -> Option<&'a Value> {
        self.node.get("requestBody").map(|body| deref(doc, body))
    }

    /// The documented responses by status (`200`, `4XX`, ...), each resolved, in document order.
    pub fn responses(&self, doc: &'a Value) -> Vec<(&'a str, &'a Value)> {
        let responses = self.node.get("responses").and_then(Value::as_object);
        responses.into_iter().flatten().map(|(status, response)| (status.as_str(), deref(doc, response))).collect()
    }

    /// The first success (2xx) or, failing that, redirect (3xx) response: what the operation
    /// answers when all goes well.
    pub fn success(&self, doc: &'a Value) -> Option<(&'a str, &'a Value)> {
        let responses = self.responses(doc);
        let first = |class: char| responses.iter().copied().find(|(status, _)| status.starts_with(class));
        first('2').or_else(|| first('3'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operation_parameters_override_path_parameters_and_are_resolved() {
        let doc = json!({
            "components": {"parameters": {"Id": {"name": "id", "in": "path", "schema": {"type": "integer"}}}},
            "paths": {"/things/{id}": {
                "parameters": [{"$ref": "#/components/parameters/Id"}, {"name": "q", "in": "query"}],
                "get": {
                    "operationId": "get_thing",
                    "parameters": [{"name": "q", "in": "query", "required": true}],
                    "responses": {"404": {}, "200": {"description": "ok"}},
                },
                "delete": {"operationId": "delete_thing", "responses": {"307": {}, "4XX": {}}},
            }},
        });
        let all = operations(&doc);
        assert_eq!(all.iter().map(|o| o.method).collect::<Vec<_>>(), ["get", "delete"]);
        let get = find(&doc, "get_thing").unwrap();
        assert_eq!(get.pointer, "/paths/~1things~1{id}/get");
        let parameters = get.parameters(&doc);
        assert_eq!(parameters.len(), 2);
        assert_eq!(parameters[0].1["schema"]["type"], "integer");
        assert_eq!(parameters[1].1["required"], true);
        assert_eq!(parameters[1].0, "/paths/~1things~1{id}/get/parameters/0");
        assert_eq!(get.success(&doc).map(|(status, _)| status), Some("200"));
        assert_eq!(find(&doc, "delete_thing").unwrap().success(&doc).map(|(status, _)| status), Some("307"));
        assert!(find(&doc, "nothing").is_none());
    }
}
