//! The OpenAPI 3.1 documents the sandbox serves, compiled in: the operations of each layer,
//! their parameters, bodies and documented answers, and routing a request to one of them.

use serde_json::Value;

use laserdata_spec::refs::deref;

/// The three layers as `cargo xtask codegen` publishes them (in OpenAPI 3.1, whose schemas are
/// JSON Schema 2020-12); copies kept inside this crate so that it is packaged with them.
const MAIN: &str = include_str!("../openapi/laserdata-main.openapi-3.1.json");
const SUPERVISOR: &str = include_str!("../openapi/laserdata-supervisor.openapi-3.1.json");
const AUDIT: &str = include_str!("../openapi/laserdata-audit.openapi-3.1.json");

/// Where each layer is served: the Main API at the root, the others under a prefix.
pub const SUPERVISOR_PREFIX: &str = "/supervisor";
pub const AUDIT_PREFIX: &str = "/audit";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layer {
    Main,
    Supervisor,
    Audit,
}

impl Layer {
    const ALL: [Layer; 3] = [Layer::Main, Layer::Supervisor, Layer::Audit];

    /// The layer a request path is for, and the path below the layer's prefix.
    pub fn of(path: &str) -> (Layer, &str) {
        let below = |prefix: &str| path.strip_prefix(prefix).filter(|rest| rest.starts_with('/'));
        if let Some(rest) = below(SUPERVISOR_PREFIX) {
            (Layer::Supervisor, rest)
        } else if let Some(rest) = below(AUDIT_PREFIX) {
            (Layer::Audit, rest)
        } else {
            (Layer::Main, path)
        }
    }
}

/// Where a parameter is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    Path,
    Query,
    Header,
}

impl Location {
    pub fn name(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
        }
    }
}

/// A documented parameter.
#[derive(Debug)]
pub struct Parameter {
    pub name: String,
    pub location: Location,
    pub required: bool,
    /// Its schema, as the document has it (JSON Schema 2020-12).
    pub schema: Value,
}

/// A documented request body.
#[derive(Debug)]
pub struct RequestBody {
    pub required: bool,
    /// The media types it may be sent as.
    pub media_types: Vec<String>,
    /// The schema of its JSON form.
    pub schema: Option<Value>,
}

/// The answer an operation documents for when all goes well.
#[derive(Debug)]
pub struct Success {
    pub status: u16,
    /// The media type of its body, if it has one.
    pub media_type: Option<String>,
    /// The example it shows (`example`, or the first of `examples`).
    pub example: Option<Value>,
    /// Its headers, by name, each with its resolved description.
    pub headers: Vec<(String, Value)>,
}

/// One operation of a layer.
#[derive(Debug)]
pub struct Operation {
    pub layer: Layer,
    pub id: String,
    pub method: String,
    /// The path template split at `/`.
    segments: Vec<Segment>,
    pub parameters: Vec<Parameter>,
    pub body: Option<RequestBody>,
    /// Whether a key is needed (an operation with `security: []` needs none).
    pub needs_key: bool,
    pub success: Success,
}

impl Operation {
    /// The raw (still percent-encoded) value of each `{parameter}` of a path this operation
    /// matched, by name.
    pub fn path_values<'p>(&self, path: &'p str) -> Vec<(&str, &'p str)> {
        let parts = path.trim_start_matches('/').split('/');
        self.segments
            .iter()
            .zip(parts)
            .filter_map(|(segment, part)| match segment {
                Segment::Parameter(name) => Some((name.as_str(), part)),
                Segment::Literal(_) => None,
            })
            .collect()
    }
}

/// One `/`-separated part of a path template.
#[derive(Debug)]
enum Segment {
    Literal(String),
    Parameter(String),
}

/// The documents and their operations.
pub struct Documents {
    documents: Vec<(Layer, Value)>,
    pub operations: Vec<Operation>,
}

/// Where a request goes.
pub enum Route<'a> {
    Found(&'a Operation),
    /// The path exists with other methods, listed for `Allow`.
    MethodNotAllowed(Vec<&'a str>),
    NotFound,
}

impl Documents {
    pub fn load() -> Documents {
        let mut documents = Vec::new();
        let mut operations = Vec::new();
        for (layer, text) in Layer::ALL.into_iter().zip([MAIN, SUPERVISOR, AUDIT]) {
            let document: Value = serde_json::from_str(text).expect("the compiled-in documents are JSON");
            operations.extend(
                laserdata_spec::operations::operations(&document)
                    .iter()
                    .map(|operation| Operation::read(layer, &document, operation)),
            );
            documents.push((layer, document));
        }
        Documents { documents, operations }
    }

    pub fn document(&self, layer: Layer) -> &Value {
        &self.documents.iter().find(|(l, _)| *l == layer).expect("every layer is loaded").1
    }

    /// The operation a request's method and path (below its layer's prefix) match.
    ///
    /// Templates can overlap (`/api_keys/context` and `/api_keys/{api_key_id}`). A template
    /// whose `{parameter}` stands where another has a literal segment is set aside when the
    /// value there is not a valid value of the parameter (`context` is no key id), as
    /// `accepts` tells; of the rest, the one with most literal segments that has the method
    /// wins. `Allow` lists the methods of all of the rest.
    pub fn route(
        &self,
        layer: Layer,
        method: &str,
        path: &str,
        accepts: &dyn Fn(&Operation, &str, &str) -> bool,
    ) -> Route<'_> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut matching: Vec<(&Operation, usize)> = Vec::new();
        for operation in self.operations.iter().filter(|op| op.layer == layer && op.segments.len() == parts.len()) {
            let literal = operation.segments.iter().zip(&parts).try_fold(0, |count, (segment, part)| match segment {
                Segment::Literal(text) if text == part => Some(count + 1),
                Segment::Literal(_) => None,
                Segment::Parameter(_) if part.is_empty() => None,
                Segment::Parameter(_) => Some(count),
            });
            if let Some(literal) = literal {
                matching.push((operation, literal));
            }
        }
        let shadowed = |operation: &Operation| {
            operation.segments.iter().zip(&parts).enumerate().any(|(index, (segment, part))| {
                let Segment::Parameter(name) = segment else { return false };
                let literal_elsewhere = matching.iter().any(
                    |(other, _)| matches!(other.segments.get(index), Some(Segment::Literal(text)) if text == part),
                );
                literal_elsewhere && !accepts(operation, name, part)
            })
        };
        let kept: Vec<(&Operation, usize)> =
            matching.iter().copied().filter(|(operation, _)| !shadowed(operation)).collect();
        if kept.is_empty() {
            return Route::NotFound;
        }
        let best = kept.iter().filter(|(operation, _)| operation.method == method).max_by_key(|(_, literal)| *literal);
        match best {
            Some((operation, _)) => Route::Found(operation),
            None => {
                let mut allowed: Vec<&str> = Vec::new();
                for (operation, _) in &kept {
                    if !allowed.contains(&operation.method.as_str()) {
                        allowed.push(&operation.method);
                    }
                }
                Route::MethodNotAllowed(allowed)
            }
        }
    }
}

impl Operation {
    fn read(layer: Layer, doc: &Value, operation: &laserdata_spec::operations::Operation<'_>) -> Operation {
        let text = |value: &Value| value.as_str().map(str::to_owned);
        let parameters = operation
            .parameters(doc)
            .into_iter()
            .filter_map(|(_, parameter)| {
                let location = match parameter["in"].as_str()? {
                    "path" => Location::Path,
                    "query" => Location::Query,
                    "header" => Location::Header,
                    _ => return None,
                };
                Some(Parameter {
                    name: text(&parameter["name"])?,
                    location,
                    required: parameter["required"] == Value::Bool(true),
                    schema: parameter.get("schema").cloned().unwrap_or(Value::Bool(true)),
                })
            })
            .collect();
        let body = operation.request_body(doc).map(|body| {
            let content = body["content"].as_object();
            RequestBody {
                required: body["required"] == Value::Bool(true),
                media_types: content.into_iter().flatten().map(|(media, _)| media.clone()).collect(),
                schema: body.pointer("/content/application~1json/schema").cloned(),
            }
        });
        // An operation's own `security` wins over the document's; `[]` means none is needed.
        let security = operation.node.get("security").or_else(|| doc.get("security"));
        let needs_key = security.and_then(Value::as_array).is_some_and(|requirements| !requirements.is_empty());
        let success = match operation.success(doc) {
            Some((status, response)) => {
                let media = response["content"].as_object().and_then(|content| content.iter().next());
                Success {
                    status: status.parse().unwrap_or(200),
                    media_type: media.map(|(name, _)| name.clone()),
                    example: media.and_then(|(_, media)| laserdata_spec::examples::first(doc, media)).cloned(),
                    headers: response["headers"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(name, header)| (name.to_ascii_lowercase(), deref(doc, header).clone()))
                        .collect(),
                }
            }
            None => Success { status: 204, media_type: None, example: None, headers: Vec::new() },
        };
        let segments = operation
            .path
            .trim_start_matches('/')
            .split('/')
            .map(|segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Segment::Parameter(name.to_owned()),
                None => Segment::Literal(segment.to_owned()),
            })
            .collect();
        Operation {
            layer,
            id: operation.operation_id().unwrap_or_default().to_owned(),
            method: operation.method.to_ascii_uppercase(),
            segments,
            parameters,
            body,
            needs_key,
            success,
        }
    }
}
