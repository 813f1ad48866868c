//! Helpers for the end-to-end tests: the published spec's examples as fixtures, and clients
//! pointed at a loopback server.

use std::path::Path;
use std::sync::OnceLock;

use laserdata::clock::RecordingClock;
use laserdata_spec::examples::first as first_example;
use laserdata_spec::operations::Operation;
use laserdata_spec::refs::deref;
use serde_json::Value;
use wiremock::MockServer;

pub mod faults;
pub mod round_trip;
#[rustfmt::skip]
pub mod main_round_trips;
#[rustfmt::skip]
pub mod supervisor_round_trips;
#[rustfmt::skip]
pub mod audit_round_trips;
#[rustfmt::skip]
pub mod main_schemas;
#[rustfmt::skip]
pub mod supervisor_schemas;
#[rustfmt::skip]
pub mod audit_schemas;

/// A key that looks real, so that tests can search every output for it.
pub const API_KEY: &str = "ld_api_key_e2e_T0pS3cretValue_9f8e7d6c";

/// Decodes `value` as `T` and encodes it again.
pub fn round_trip_as<T: serde::de::DeserializeOwned + serde::Serialize>(
    value: &Value,
) -> Result<Value, serde_json::Error> {
    let decoded: T = serde_json::from_value(value.clone())?;
    serde_json::to_value(&decoded)
}
/// The layers whose bundled documents `cargo xtask codegen` publishes, by name.
pub const LAYERS: [&str; 3] = ["main", "supervisor", "audit"];

/// The bundled document of a layer (`main`, `supervisor` or `audit`).
pub fn spec(layer: &str) -> &'static Value {
    static SPECS: OnceLock<Vec<(&'static str, Value)>> = OnceLock::new();
    let specs = SPECS.get_or_init(|| {
        LAYERS
            .iter()
            .map(|name| {
                let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../openapi/dist/laserdata-{name}.json"));
                let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
                (*name, serde_json::from_str(&text).expect("the bundled spec is JSON"))
            })
            .collect()
    });
    &specs.iter().find(|(name, _)| *name == layer).unwrap_or_else(|| panic!("no layer `{layer}`")).1
}

/// The bundled Main API document.
pub fn main_spec() -> &'static Value {
    spec("main")
}

/// The document that has the operation with this operationId, and the operation.
fn find(operation_id: &str) -> (&'static Value, Operation<'static>) {
    let found: Vec<_> = LAYERS
        .iter()
        .map(|layer| spec(layer))
        .filter_map(|spec| laserdata_spec::operations::find(spec, operation_id).map(|operation| (spec, operation)))
        .collect();
    match <[_; 1]>::try_from(found) {
        Ok([one]) => one,
        Err(found) if found.is_empty() => panic!("no operation `{operation_id}` in any layer"),
        Err(_) => panic!("`{operation_id}` is the id of operations in several layers"),
    }
}

/// The example of the body answered with `status` by `operation_id`.
pub fn response_example(operation_id: &str, status: &str) -> Value {
    let (spec, operation) = find(operation_id);
    let response = deref(spec, &operation.node["responses"][status]);
    let content = response["content"].as_object().expect("the response has a body");
    content
        .values()
        .find_map(|media| media.get("example"))
        .cloned()
        .unwrap_or_else(|| panic!("`{operation_id}` {status} has no example"))
}

/// The named example of the request body of `operation_id`.
pub fn request_example(operation_id: &str, name: &str) -> Value {
    let (spec, operation) = find(operation_id);
    let body = operation.request_body(spec).expect("the operation takes a body");
    let media = &body["content"]["application/json"];
    match name {
        "" => media["example"].clone(),
        name => deref(spec, &media["examples"][name])["value"].clone(),
    }
}

/// A client signed with [`API_KEY`] whose Main and Audit APIs are the given loopback server
/// (and whose Supervisor is too, through `client.supervisor(&server.uri())`). It does not
/// retry, so that each test sees exactly the answers it scripted; the retry tests build their own.
pub fn client_for(server: &MockServer) -> laserdata::Client {
    client_at(&server.uri(), laserdata::RetryPolicy::never())
}

/// A client signed with [`API_KEY`] for every layer at `base_url`, with this retry policy.
pub fn client_at(base_url: &str, retry: laserdata::RetryPolicy) -> laserdata::Client {
    builder_at(base_url, retry).build().expect("a loopback URL is accepted")
}

/// Like [`client_at`], with a clock that skips every wait and records it: over real sockets,
/// tests take the waits from the clock instead of timing the requests.
pub fn client_with_clock(base_url: &str, retry: laserdata::RetryPolicy) -> (laserdata::Client, RecordingClock) {
    let clock = RecordingClock::new();
    let client = builder_at(base_url, retry).clock(clock.clone()).build().expect("a loopback URL is accepted");
    (client, clock)
}

/// The settings [`client_at`] builds from, for a test that changes one more.
pub fn builder_at(base_url: &str, retry: laserdata::RetryPolicy) -> laserdata::ClientBuilder {
    laserdata::Client::builder().api_key(API_KEY).main_url(base_url).audit_url(base_url).retry(retry)
}

/// The values the loopback server sends in created-id headers: the ids the examples use.
pub const CREATED_IDS: [(&str, i64); 6] = [
    ("ld-tenant", 1042),
    ("ld-division", 312),
    ("ld-environment", 5120),
    ("ld-deployment", 88012),
    ("ld-role", 4410),
    ("ld-config", 512),
];

/// Where an operation lives: its method, path template and success answer.
struct Route {
    method: String,
    path: String,
    status: u16,
    response: Option<Value>,
    request: Option<Value>,
    created_headers: Vec<&'static str>,
}

fn route(operation_id: &str) -> Route {
    let (spec, operation) = find(operation_id);
    let (status, response) =
        operation.success(spec).filter(|(status, _)| status.starts_with('2')).expect("a success response");
    let example = response["content"]
        .as_object()
        .and_then(|content| content.values().find_map(|m| first_example(spec, m).cloned()));
    let request = operation
        .request_body(spec)
        .map(|body| first_example(spec, &body["content"]["application/json"]).cloned().expect("a request example"));
    let headers = response["headers"].as_object();
    let created_headers = CREATED_IDS
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| headers.is_some_and(|h| h.contains_key(*name)))
        .collect();
    Route {
        method: operation.method.to_uppercase(),
        path: operation.path.to_owned(),
        status: status.parse().unwrap(),
        response: example,
        request,
        created_headers,
    }
}

/// Makes the loopback server answer `operation_id` as the spec's example shows, and only when
/// the request has the right method, path shape, API key and (for operations with a body)
/// exactly the spec's request example. Returns what the client should get back and the request body to send.
pub async fn serve_example(server: &MockServer, operation_id: &str) -> Example {
    use wiremock::matchers::{body_json, header, method, path_regex};
    use wiremock::{Mock, ResponseTemplate};

    let route = route(operation_id);
    let pattern = format!(
        "^{}$",
        route
            .path
            .split('/')
            .map(|segment| if segment.starts_with('{') { "[^/]+".to_owned() } else { regex_escape(segment) })
            .collect::<Vec<_>>()
            .join("/")
    );
    let mut answer = ResponseTemplate::new(route.status).insert_header("ld-request", format!("req-{operation_id}"));
    if let Some(body) = &route.response {
        answer = answer.set_body_json(body);
    }
    for name in &route.created_headers {
        let id = CREATED_IDS.iter().find(|(n, _)| n == name).unwrap().1;
        answer = answer.insert_header(*name, id.to_string());
    }
    let mut mock =
        Mock::given(method(route.method.as_str())).and(path_regex(pattern)).and(header("ld-api-key", API_KEY));
    if let Some(body) = &route.request {
        mock = mock.and(body_json(body));
    }
    mock.respond_with(answer).expect(1).named(operation_id).mount(server).await;
    Example { response: route.response, request: route.request }
}

/// The bodies of an operation's example exchange.
pub struct Example {
    /// What the server answers (None for an answer without a body).
    pub response: Option<Value>,
    /// What the client must send (None for an operation without a body).
    pub request: Option<Value>,
}

impl Example {
    /// The request example, decoded as the body type the builder takes.
    pub fn request_as<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.request.clone().expect("the operation has a request body"))
            .expect("the request example decodes")
    }

    /// Checks that a decoded answer encodes back to the example (nulls and absent fields alike).
    pub fn assert_answer<T: serde::Serialize>(&self, answer: &T) {
        let expected = without_nulls(self.response.as_ref().expect("the operation answers with a body"));
        let actual = without_nulls(&serde_json::to_value(answer).unwrap());
        assert_eq!(actual, expected, "the decoded answer differs from the spec's example");
    }
}

impl Example {
    /// Checks that the items a paging stream yielded are the example page's items.
    pub fn assert_items<T: serde::Serialize>(&self, items: &[T]) {
        let expected = without_nulls(&self.response.as_ref().expect("the operation answers with a body")["items"]);
        let actual = without_nulls(&serde_json::to_value(items).unwrap());
        assert_eq!(actual, expected, "the streamed items differ from the spec's example page");
    }
}

/// For an optional field, absent, `null` and (for a list) `[]` mean the same: the generated
/// types leave out `None` and empty optional lists when encoding, so comparisons ignore them.
pub fn without_nulls(value: &Value) -> Value {
    let is_empty = |v: &Value| v.is_null() || v.as_array().is_some_and(Vec::is_empty);
    match value {
        Value::Object(object) => Value::Object(
            object.iter().filter(|(_, v)| !is_empty(v)).map(|(k, v)| (k.clone(), without_nulls(v))).collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c.to_string() } else { format!("\\{c}") })
        .collect()
}
