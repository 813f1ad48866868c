//! The bodies the loopback server answers, taken from the examples of the published Main API
//! document (`openapi/dist/laserdata-main.json`), and pages of deployments made from them.

use std::path::Path;

use bytes::Bytes;
use serde_json::Value;

/// The ids the benchmarks put in request paths: the ones the examples use.
pub const TENANT: i64 = 1042;
pub const DIVISION: i64 = 312;
pub const ENVIRONMENT: i64 = 5120;
pub const DEPLOYMENT: i64 = 88012;

/// The bundled Main API document.
pub fn main_spec() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/dist/laserdata-main.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).expect("the bundled document is JSON")
}

/// One operation of the document: where it is and its example exchange.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub status: u16,
    /// The success answer's example.
    pub response: Value,
    /// The request body's first example, for operations that take one.
    pub request: Option<Value>,
}

/// The example exchange of the operation with this operationId.
pub fn exchange(spec: &Value, operation_id: &str) -> Exchange {
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            if operation["operationId"] != operation_id {
                continue;
            }
            let (status, response) = operation["responses"]
                .as_object()
                .expect("responses")
                .iter()
                .find(|(status, _)| status.starts_with('2'))
                .expect("a success answer");
            let response = resolve(spec, response);
            let media = &response["content"]["application/json"];
            let request = operation.get("requestBody").map(|body| {
                let media = &resolve(spec, body)["content"]["application/json"];
                media.get("example").cloned().unwrap_or_else(|| {
                    let first = media["examples"].as_object().expect("examples").values().next().expect("an example");
                    resolve(spec, first)["value"].clone()
                })
            });
            return Exchange {
                method: method.to_uppercase(),
                path: path.clone(),
                status: status.parse().expect("a numeric status"),
                response: media["example"].clone(),
                request,
            };
        }
    }
    panic!("no operation `{operation_id}` in the document")
}

fn resolve<'a>(spec: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(reference) => resolve(spec, spec.pointer(&reference[1..]).expect("references resolve")),
        None => node,
    }
}

/// `total` deployments in the shape of the `get_deployments` example's first item (the one with
/// every optional field set), each with its own id, name, code and domain.
pub fn deployments(spec: &Value, total: usize) -> Vec<Value> {
    let template = exchange(spec, "get_deployments").response["items"][0].clone();
    (0..total)
        .map(|index| {
            let mut item = template.clone();
            let code = format!("d{index:05}x");
            item["id"] = Value::from(100_000 + index as i64);
            item["name"] = Value::from(format!("deployment-{index}"));
            item["domain"] = Value::from(format!("{code}.us-west-1.aws.laserdata.cloud"));
            item["code"] = Value::from(code);
            item
        })
        .collect()
}

/// Page `page` (from 1) of `items` in pages of `size`, encoded as the API sends it.
pub fn page_body(items: &[Value], page: usize, size: usize) -> Bytes {
    let start = ((page - 1) * size).min(items.len());
    let end = (start + size).min(items.len());
    let body = serde_json::json!({
        "items": &items[start..end],
        "page": page,
        "total_results": items.len(),
        "total_pages": items.len().div_ceil(size),
    });
    Bytes::from(serde_json::to_vec(&body).expect("JSON encodes"))
}

/// Every page of `items` in pages of `size`, encoded; index 0 is page 1.
pub fn page_bodies(items: &[Value], size: usize) -> Vec<Bytes> {
    (1..=items.len().div_ceil(size).max(1)).map(|page| page_body(items, page, size)).collect()
}
