//! Running the generated round trips (`<layer>_round_trips.rs`, from `cargo xtask codegen`):
//! each operation's call goes through the generated client to a loopback server that serves
//! the spec's example answer, and is checked both ways:
//!
//! - the request the client sent is the one the examples describe: method, path (byte for
//!   byte: the values substituted and percent-encoded as progenitor does), query pairs (in
//!   any order), header parameters, the API key, and the JSON body;
//! - the answer the client decoded encodes back to the served example.
//!
//! JSON bodies are compared as values after [`without_nulls`]: a member that is `null` or an
//! empty list counts as absent. The generated types leave out `None` and empty optional lists
//! when encoding, and the spec allows an optional member to be absent, `null` or (for a list)
//! empty alike; every other difference (a renamed member, a changed value, a dropped field)
//! is a mismatch. Schema defaults are not filled in: a member the example leaves out but the
//! type writes with its default value is a mismatch too, so examples write defaulted members
//! out, as the client sends them (`spec_examples.rs` holds every example to the same rule).
//! The spec gives no example for the bytes of a download, so those answers are stand-in bytes,
//! which must arrive unchanged.

use std::collections::BTreeSet;
use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;

use futures::TryStreamExt;
use laserdata::main::{ByteStream, ResponseValue};
use serde_json::Value;

use crate::faults::{self, FaultServer, Step};
use crate::{API_KEY, client_at, spec, without_nulls};

/// One operation's exchange, built by the xtask from the spec's examples.
pub struct RoundTrip<C: 'static> {
    pub operation: &'static str,
    /// What the client must send.
    pub request: Request,
    /// What the server answers.
    pub answer: Answer,
    /// The call through the generated client (it reads its body from `request`).
    pub call: Call<C>,
}

/// A call through a layer's client `C`.
pub type Call<C> =
    for<'a> fn(&'a C, &'static RoundTrip<C>) -> Pin<Box<dyn Future<Output = Result<Received, Failure>> + 'a>>;

/// The request an operation's examples describe.
pub struct Request {
    pub method: &'static str,
    /// The path as sent: example values substituted and percent-encoded.
    pub path: &'static str,
    /// Decoded query pairs.
    pub query: &'static [(&'static str, &'static str)],
    /// Header parameters.
    pub headers: &'static [(&'static str, &'static str)],
    /// The request example (JSON).
    pub body: Option<&'static str>,
}

/// The answer the server serves.
pub enum Answer {
    /// The response example (JSON).
    Json { status: u16, body: &'static str },
    /// No body.
    Empty { status: u16 },
    /// A download: [`STAND_IN_BYTES`] with this content type.
    Bytes { status: u16, content_type: &'static str },
    /// A redirect to [`AFTER_REDIRECT`] on the same server, which serves [`STAND_IN_BYTES`].
    Redirect { status: u16 },
}

/// The bytes served for a download: not JSON, not UTF-8, with a zero byte.
pub const STAND_IN_BYTES: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n\x00\xff stand-in bytes, not a real document\n%%EOF\n";

/// Where a redirect answer sends the client.
pub const AFTER_REDIRECT: &str = "/round-trip/after-redirect";

/// What the client handed back: the status and the decoded answer (as JSON), or the bytes.
pub struct Received {
    status: u16,
    body: ReceivedBody,
}

enum ReceivedBody {
    Json(Value),
    Bytes(Vec<u8>),
}

/// Why a call produced no answer to compare.
#[derive(Debug)]
pub struct Failure(String);

impl<E: Display> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure(error.to_string())
    }
}

/// Parses an example value into the type a setter takes (an enum, a time).
pub fn parse<T: std::str::FromStr<Err: Display>>(text: &str) -> Result<T, Failure> {
    text.parse().map_err(|error| Failure(format!("the example `{text}` does not parse: {error}")))
}

impl Request {
    /// The request example decoded as the body type.
    pub fn body_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, Failure> {
        let body = self.body.ok_or_else(|| Failure("the operation has no request example".into()))?;
        serde_json::from_str(body).map_err(|error| Failure(format!("the request example does not decode: {error}")))
    }

    fn mismatches(&self, sent: &faults::Received) -> Vec<String> {
        let mut found = Vec::new();
        let (path, query) = sent.path.split_once('?').unwrap_or((&sent.path, ""));
        if (sent.method.as_str(), path) != (self.method, self.path) {
            found.push(format!("sent {} {path}, expected {} {}", sent.method, self.method, self.path));
        }
        let mut sent_query: Vec<(String, String)> = reqwest::Url::parse(&format!("http://loopback/?{query}"))
            .map(|url| url.query_pairs().into_owned().collect())
            .unwrap_or_default();
        let mut expected_query: Vec<(String, String)> =
            self.query.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect();
        sent_query.sort();
        expected_query.sort();
        if sent_query != expected_query {
            found.push(format!("sent the query {sent_query:?}, expected {expected_query:?}"));
        }
        for (name, value) in self.headers.iter().chain([&("ld-api-key", API_KEY)]) {
            if sent.header(name) != Some(*value) {
                found.push(format!("sent header {name}: {:?}, expected {value:?}", sent.header(name)));
            }
        }
        match self.body {
            None if sent.body.is_empty() => {}
            None => found.push(format!("sent a body, expected none: {}", String::from_utf8_lossy(&sent.body))),
            Some(expected) => {
                if sent.header("content-type") != Some("application/json") {
                    found.push(format!(
                        "sent content-type {:?}, expected application/json",
                        sent.header("content-type")
                    ));
                }
                match serde_json::from_slice::<Value>(&sent.body) {
                    Ok(body) => found.extend(json_mismatch("sent the body", &body, expected)),
                    Err(error) => found.push(format!("sent a body that is not JSON ({error})")),
                }
            }
        }
        found
    }
}

impl Answer {
    /// What the server does with each request, in order.
    fn script(&self) -> Vec<Step> {
        let bytes = |status, content_type: &str| Step::Answer {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: STAND_IN_BYTES.to_vec(),
        };
        match *self {
            Answer::Json { status, body } => vec![Step::json(status, body)],
            Answer::Empty { status } => vec![Step::status(status)],
            Answer::Bytes { status, content_type } => vec![bytes(status, content_type)],
            Answer::Redirect { status } => {
                vec![Step::status(status).with_header("location", AFTER_REDIRECT), bytes(200, "text/html")]
            }
        }
    }

    fn mismatches(&self, received: &Received) -> Vec<String> {
        let (status, expected) = match *self {
            Answer::Json { status, body } => (status, Ok(body)),
            Answer::Empty { status } => (status, Ok("null")),
            Answer::Bytes { status, .. } => (status, Err(STAND_IN_BYTES)),
            // The client follows the redirect; what it returns is the page it was sent to.
            Answer::Redirect { .. } => (200, Err(STAND_IN_BYTES)),
        };
        let mut found = Vec::new();
        if received.status != status {
            found.push(format!("the client reported status {}, the server answered {status}", received.status));
        }
        match (&received.body, expected) {
            (ReceivedBody::Json(answer), Ok(example)) => {
                found.extend(json_mismatch("decoded the answer to", answer, example))
            }
            (ReceivedBody::Bytes(bytes), Err(served)) if bytes == served => {}
            (ReceivedBody::Bytes(bytes), Err(_)) => {
                found.push(format!("received {} bytes that differ from the served ones", bytes.len()))
            }
            (ReceivedBody::Json(_), Err(_)) => found.push("decoded bytes as JSON".into()),
            (ReceivedBody::Bytes(_), Ok(_)) => found.push("handed back bytes for a JSON answer".into()),
        }
        found
    }

    fn is_redirect(&self) -> bool {
        matches!(self, Answer::Redirect { .. })
    }
}

/// Compares JSON `actual` with the JSON text `expected` (see the module documentation).
fn json_mismatch(what: &str, actual: &Value, expected: &str) -> Option<String> {
    let expected: Value = serde_json::from_str(expected).expect("the generated table holds JSON");
    (without_nulls(actual) != without_nulls(&expected))
        .then(|| format!("{what}\n      {actual}\n    expected\n      {expected}"))
}

impl Received {
    /// A JSON (or empty) answer, encoded back to JSON.
    pub fn json<T: serde::Serialize>(response: ResponseValue<T>) -> Result<Received, Failure> {
        let status = response.status().as_u16();
        Ok(Received { status, body: ReceivedBody::Json(serde_json::to_value(response.into_inner())?) })
    }

    /// A byte-stream answer, read to the end.
    pub async fn bytes(response: ResponseValue<ByteStream>) -> Result<Received, Failure> {
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        let mut stream = response.into_inner().into_inner();
        while let Some(chunk) = stream.try_next().await? {
            bytes.extend_from_slice(&chunk);
        }
        Ok(Received { status, body: ReceivedBody::Bytes(bytes) })
    }
}

/// Runs every round trip of `layer` and fails with every mismatch found (not just the first),
/// and when an operation of the layer's published document has no round trip. `client_of`
/// picks the layer's client from a client pointed at the loopback server `url`.
pub async fn check_layer<C>(
    layer: &str,
    trips: &'static [RoundTrip<C>],
    not_generated: &[(&str, &str)],
    client_of: impl Fn(&laserdata::Client, &str) -> C,
) {
    let server = FaultServer::start(Vec::new()).await;
    let client = client_at(&server.url, laserdata::RetryPolicy::never());
    let client = client_of(&client, &server.url);
    let mut failures = Vec::new();
    for trip in trips {
        server.restart(trip.answer.script());
        let outcome = (trip.call)(&client, trip).await;
        let sent = server.received();
        let mut found = match sent.first() {
            Some(first) => trip.request.mismatches(first),
            None => vec!["sent no request".to_owned()],
        };
        let followed: Vec<&str> = sent.iter().skip(1).map(|request| request.path.as_str()).collect();
        let expected: &[&str] = if trip.answer.is_redirect() { &[AFTER_REDIRECT] } else { &[] };
        if followed != expected {
            found.push(format!("then sent requests to {followed:?}, expected {expected:?}"));
        }
        match outcome {
            Ok(received) => found.extend(trip.answer.mismatches(&received)),
            Err(Failure(error)) => found.push(format!("the call failed: {error}")),
        }
        failures.extend(found.into_iter().map(|problem| format!("{}: {problem}", trip.operation)));
    }

    let covered: Vec<&str> = trips.iter().map(|trip| trip.operation).collect();
    let unique: BTreeSet<&str> = covered.iter().copied().collect();
    if unique.len() != covered.len() {
        failures.push("an operation has more than one round trip".into());
    }
    for operation in operation_ids(spec(layer)).into_iter().filter(|id| !unique.contains(id.as_str())) {
        failures.push(match not_generated.iter().find(|(id, _)| *id == operation) {
            Some((_, why)) => {
                format!("{operation}: no round trip: {why} (fix the spec, then run `cargo xtask codegen`)")
            }
            None => format!("{operation}: no round trip; run `cargo xtask codegen`"),
        });
    }
    assert!(
        failures.is_empty(),
        "{layer}: {} problem(s) in {} round trips:\n  {}",
        failures.len(),
        trips.len(),
        failures.join("\n  ")
    );
}

/// The id of every operation of a bundled document.
fn operation_ids(doc: &Value) -> Vec<String> {
    let paths = doc["paths"].as_object().into_iter().flat_map(|paths| paths.values());
    paths
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
        .filter_map(|operation| operation.get("operationId").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}
