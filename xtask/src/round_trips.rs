//! The round-trip table of a layer: for every operation, a call through the generated client
//! built from the spec's examples, the request that call must send and the answer a loopback
//! server serves back. `tests/tests/round_trips.rs` runs the table (see `tests/src/round_trip.rs`).
//!
//! Examples are chosen here, once, where serde_json keeps document order: a parameter's or
//! media type's `example`, else the first of its named `examples` in document order, else (for
//! a parameter) its schema's `example`. The table holds the chosen values themselves, so which
//! example a test sees never depends on how cargo unified serde_json's features in the tests.

use std::fmt::Write;

use serde_json::Value;

use crate::codegen::{header, type_name};
use crate::layers::Layer;
use crate::shape::setter_name;
use crate::spec::bundle::Bundle;
use crate::spec::rules::{Operation, operations};

/// Generates `layer.round_trips`: the module `tests/` declares as `<layer>_round_trips`.
pub fn generate(layer: &Layer, bundle: &Bundle) -> String {
    let mut entries = String::new();
    let mut not_generated = String::new();
    for operation in operations(&bundle.doc) {
        let id = operation.operation_id().unwrap_or_default();
        match exchange(layer, bundle, &operation) {
            Ok(exchange) => entries.push_str(&exchange.render(id)),
            Err(reason) => {
                let _ = writeln!(not_generated, "    ({id:?}, {reason:?}),");
            }
        }
    }
    format!(
        "{header}//! One round trip per operation of the {name} layer, built from the spec's examples: the call\n\
         //! through the generated client, the request it must send and the answer the server serves.\n\
         //! `crate::round_trip` runs and checks them.\n\n\
         use crate::round_trip::{{Answer, Received, Request, RoundTrip}};\n\n\
         /// The operations the examples cannot drive, and why (the round-trip test fails while one is listed).\n\
         pub static NOT_GENERATED: &[(&str, &str)] = &[\n{not_generated}];\n\n\
         /// Every other operation, in document order.\n\
         pub static ROUND_TRIPS: &[RoundTrip<laserdata::{name}::Client>] = &[\n{entries}];\n",
        header = header(layer.source),
        name = layer.name,
    )
}

/// One operation's exchange, from its examples.
struct Exchange {
    /// The builder chain after `client`: the operation, one setter per parameter, the body.
    call: Vec<String>,
    /// Whether the call reads the request body from its table entry.
    reads_body: bool,
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<String>,
    answer: Answer,
}

/// What the server answers.
enum Answer {
    /// A JSON body: the response example.
    Json { status: u16, body: String },
    /// No body.
    Empty { status: u16 },
    /// Bytes the spec shows no example of (a download); the test serves stand-in bytes.
    Bytes { status: u16, content_type: String },
    /// A redirect (a browser flow); the client follows it to a page of stand-in bytes.
    Redirect { status: u16 },
}

fn exchange(layer: &Layer, bundle: &Bundle, operation: &Operation<'_>) -> Result<Exchange, String> {
    let id = operation.operation_id().ok_or("the operation has no operationId")?;
    let mut call = vec![format!("{id}()")];
    let mut path = operation.path.to_owned();
    let (mut query, mut headers) = (Vec::new(), Vec::new());
    for (_, parameter) in operation.parameters(&bundle.doc) {
        let name = parameter.get("name").and_then(Value::as_str).unwrap_or_default();
        let place = parameter.get("in").and_then(Value::as_str).unwrap_or_default();
        let Some(example) = parameter_example(bundle, parameter) else {
            if parameter.get("required").and_then(Value::as_bool) == Some(true) || place == "path" {
                return Err(format!("required {place} parameter `{name}` has no example"));
            }
            // An optional parameter without an example is left out of the call.
            continue;
        };
        let schema = parameter.get("schema").ok_or_else(|| format!("parameter `{name}` has no schema"))?;
        call.push(format!("{}({})", setter(name), argument(layer, bundle, schema, example)?));
        let text = as_text(example).ok_or_else(|| format!("the example of parameter `{name}` is not a scalar"))?;
        match place {
            "path" => path = path.replace(&format!("{{{name}}}"), &encode_path(&text)),
            "query" => query.push((name.to_owned(), text)),
            "header" => headers.push((name.to_owned(), text)),
            other => return Err(format!("parameter `{name}` is in `{other}`, which the round trips do not send")),
        }
    }
    let body = match operation.node.get("requestBody") {
        Some(body) => {
            let media = bundle
                .deref(body)
                .pointer("/content/application~1json")
                .ok_or("the request body is not application/json")?;
            let schema = media.pointer("/schema/$ref").and_then(Value::as_str);
            let schema = schema
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .ok_or("the request body has an inline schema")?;
            let example = media_example(bundle, media).ok_or("the request body has no example")?;
            call.push(format!(
                "body(trip.request.body_as::<laserdata::{}::types::{}>()?)",
                layer.name,
                type_name(schema)
            ));
            Some(example.to_string())
        }
        None => None,
    };
    call.push("send()".to_owned());
    Ok(Exchange {
        call,
        reads_body: body.is_some(),
        method: operation.method.to_uppercase(),
        path,
        query,
        headers,
        body,
        answer: answer(bundle, operation)?,
    })
}

/// The answer to serve: the lowest success status and its example, or else the lowest redirect.
fn answer(bundle: &Bundle, operation: &Operation<'_>) -> Result<Answer, String> {
    let responses =
        operation.node.get("responses").and_then(Value::as_object).ok_or("the operation has no responses")?;
    let lowest = |class: char| {
        responses
            .iter()
            .filter(|(status, _)| status.len() == 3 && status.starts_with(class))
            .filter_map(|(status, response)| Some((status.parse::<u16>().ok()?, bundle.deref(response))))
            .min_by_key(|(status, _)| *status)
    };
    if let Some((status, response)) = lowest('2') {
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            return Ok(Answer::Empty { status });
        };
        if let Some(media) = content.get("application/json") {
            let example = media_example(bundle, media).ok_or_else(|| format!("the {status} body has no example"))?;
            return Ok(Answer::Json { status, body: example.to_string() });
        }
        let content_type = content.keys().next().ok_or_else(|| format!("the {status} body has no media type"))?;
        return Ok(Answer::Bytes { status, content_type: content_type.clone() });
    }
    lowest('3')
        .map(|(status, _)| Answer::Redirect { status })
        .ok_or_else(|| "no success or redirect response".to_owned())
}

/// A parameter's example (see the module documentation for the order).
fn parameter_example<'a>(bundle: &'a Bundle, parameter: &'a Value) -> Option<&'a Value> {
    parameter
        .get("example")
        .or_else(|| first_named(bundle, parameter.get("examples")))
        .or_else(|| bundle.deref(parameter.get("schema")?).get("example"))
}

/// A media type's `example`, or else its first named example in document order.
fn media_example<'a>(bundle: &'a Bundle, media: &'a Value) -> Option<&'a Value> {
    media.get("example").or_else(|| first_named(bundle, media.get("examples")))
}

fn first_named<'a>(bundle: &'a Bundle, examples: Option<&'a Value>) -> Option<&'a Value> {
    bundle.deref(examples?.as_object()?.values().next()?).get("value")
}

/// The Rust expression passed to a parameter's setter: integers, strings and booleans as
/// literals (the setter converts them: an integer into an id, a `&str` into a string newtype);
/// enums and times parsed into their type, which the setter takes.
fn argument(layer: &Layer, bundle: &Bundle, schema: &Value, example: &Value) -> Result<String, String> {
    let resolved = bundle.deref(schema);
    let kind = resolved.get("type").and_then(Value::as_str);
    match (kind, example) {
        (Some("integer"), Value::Number(number)) if number.is_i64() || number.is_u64() => Ok(number.to_string()),
        (Some("boolean"), Value::Bool(value)) => Ok(value.to_string()),
        (Some("string"), Value::String(text)) if resolved.get("enum").is_some() => {
            let name = schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .ok_or("an enum parameter needs a named schema")?;
            Ok(format!("crate::round_trip::parse::<laserdata::{}::types::{}>({text:?})?", layer.name, type_name(name)))
        }
        (Some("string"), Value::String(text))
            if resolved.get("format").and_then(Value::as_str) == Some("date-time") =>
        {
            Ok(format!("crate::round_trip::parse::<laserdata::chrono::DateTime<laserdata::chrono::Utc>>({text:?})?"))
        }
        (Some("string"), Value::String(text)) => Ok(format!("{text:?}")),
        _ => Err(format!("a parameter of type {} with example {example} has no literal", kind.unwrap_or("(none)"))),
    }
}

/// A scalar example as it travels in a path, query or header.
fn as_text(example: &Value) -> Option<String> {
    match example {
        Value::String(text) => Some(text.clone()),
        Value::Number(_) | Value::Bool(_) => Some(example.to_string()),
        _ => None,
    }
}

/// The name of a parameter's setter, as progenitor gives it (a Rust keyword gets a `_`).
fn setter(parameter: &str) -> String {
    let name = setter_name(parameter);
    const KEYWORDS: [&str; 12] =
        ["as", "crate", "fn", "impl", "in", "match", "mod", "ref", "self", "static", "type", "use"];
    if KEYWORDS.contains(&name.as_str()) { format!("{name}_") } else { name }
}

/// A path parameter's value as progenitor's `encode_path` writes it: controls, non-ASCII bytes
/// and `` "#<>?`{}/% `` (and space) percent-encoded.
fn encode_path(text: &str) -> String {
    let mut encoded = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_control() || !byte.is_ascii() || b" \"#<>?`{}/%".contains(&byte) {
            let _ = write!(encoded, "%{byte:02X}");
        } else {
            encoded.push(char::from(byte));
        }
    }
    encoded
}

/// `text` as a raw string literal, with enough `#`s.
fn raw_string(text: &str) -> String {
    let mut hashes = "#".to_owned();
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}\"{text}\"{hashes}")
}

fn pairs(pairs: &[(String, String)]) -> String {
    let rendered: Vec<String> = pairs.iter().map(|(name, value)| format!("({name:?}, {value:?})")).collect();
    format!("&[{}]", rendered.join(", "))
}

impl Exchange {
    fn render(&self, id: &str) -> String {
        let body = self.body.as_deref().map_or("None".to_owned(), |body| format!("Some({})", raw_string(body)));
        let (answer, receive) = match &self.answer {
            Answer::Json { status, body } => {
                (format!("Answer::Json {{ status: {status}, body: {} }}", raw_string(body)), "Received::json(")
            }
            Answer::Empty { status } => (format!("Answer::Empty {{ status: {status} }}"), "Received::json("),
            Answer::Bytes { status, content_type } => {
                (format!("Answer::Bytes {{ status: {status}, content_type: {content_type:?} }}"), "Received::bytes(")
            }
            Answer::Redirect { status } => (format!("Answer::Redirect {{ status: {status} }}"), "Received::bytes("),
        };
        let awaited = if receive == "Received::bytes(" { ".await" } else { "" };
        let trip = if self.reads_body { "trip" } else { "_" };
        let chain: String = self.call.iter().map(|step| format!("\n                        .{step}")).collect();
        format!(
            "    RoundTrip {{\n        operation: {id:?},\n        request: Request {{\n            method: {method:?},\n            path: {path:?},\n            query: {query},\n            headers: {headers},\n            body: {body},\n        }},\n        answer: {answer},\n        call: |client, {trip}| {{\n            Box::pin(async move {{\n                {receive}\n                    client{chain}\n                        .await?,\n                ){awaited}\n            }})\n        }},\n    }},\n",
            method = self.method,
            path = self.path,
            query = pairs(&self.query),
            headers = pairs(&self.headers),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::{encode_path, raw_string};

    #[test]
    fn path_values_are_encoded_like_progenitor() {
        assert_eq!(encode_path("reconfigure:512"), "reconfigure:512");
        assert_eq!(encode_path("a b/c%d?é"), "a%20b%2Fc%25d%3F%C3%A9");
    }

    #[test]
    fn raw_strings_outlast_their_contents() {
        assert_eq!(raw_string(r#"{"a":1}"#), r##"r#"{"a":1}"#"##);
        assert_eq!(raw_string(r##"say "#hi""##), r###"r##"say "#hi""##"###);
    }
}
