//! Helpers for the end-to-end tests: the published spec's examples as fixtures, and clients
//! pointed at a loopback server.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;
use wiremock::MockServer;

#[rustfmt::skip]
pub mod main_schemas;

/// A key that looks real, so that tests can search every output for it.
pub const API_KEY: &str = "ld_api_key_e2e_T0pS3cretValue_9f8e7d6c";

/// Decodes `value` as `T` and encodes it again.
pub fn round_trip_as<T: serde::de::DeserializeOwned + serde::Serialize>(
    value: &Value,
) -> Result<Value, serde_json::Error> {
    let decoded: T = serde_json::from_value(value.clone())?;
    serde_json::to_value(&decoded)
}
/// The bundled Main API document that `cargo xtask codegen` publishes.
pub fn main_spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/dist/laserdata-main.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        serde_json::from_str(&text).expect("the bundled spec is JSON")
    })
}

/// The operation with this operationId.
pub fn operation(spec: &'static Value, operation_id: &str) -> &'static Value {
    spec["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
        .find(|operation| operation["operationId"] == operation_id)
        .unwrap_or_else(|| panic!("no operation `{operation_id}` in the spec"))
}

/// Follows a local `$ref`.
fn deref(spec: &'static Value, node: &'static Value) -> &'static Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(reference) => deref(spec, spec.pointer(&reference[1..]).expect("refs in the bundle resolve")),
        None => node,
    }
}

/// The example of the body answered with `status` by `operation_id`.
pub fn response_example(operation_id: &str, status: &str) -> Value {
    let spec = main_spec();
    let response = deref(spec, &operation(spec, operation_id)["responses"][status]);
    let content = response["content"].as_object().expect("the response has a body");
    content
        .values()
        .find_map(|media| media.get("example"))
        .cloned()
        .unwrap_or_else(|| panic!("`{operation_id}` {status} has no example"))
}

/// The named example of the request body of `operation_id`.
pub fn request_example(operation_id: &str, name: &str) -> Value {
    let spec = main_spec();
    let body = deref(spec, &operation(spec, operation_id)["requestBody"]);
    let media = &body["content"]["application/json"];
    match name {
        "" => media["example"].clone(),
        name => deref(spec, &media["examples"][name])["value"].clone(),
    }
}

/// A client signed with [`API_KEY`] whose Main API is the given loopback server.
pub fn client_for(server: &MockServer) -> laserdata::Client {
    laserdata::Client::builder().api_key(API_KEY).main_url(server.uri()).build().expect("a loopback URL is accepted")
}
