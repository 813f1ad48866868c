//! `cargo xtask diff <old-ref> [<new-ref>]`: what changed in the published documents between
//! two git revisions, breaking changes listed apart from additive ones.
//!
//! Each layer's OpenAPI 3.0.3 document (`openapi/dist/laserdata-<layer>.json`) is read with
//! `git show <ref>:<path>` (without `<new-ref>`, from the working tree) and compared operation
//! by operation; operations are matched by method and path template (parameter names aside).
//!
//! Breaking, for a client written against the old document:
//! - an operation, parameter, request body, success response, response header, media type,
//!   response field or request field removed;
//! - a type or format changed;
//! - a new required parameter, request body or request field; an optional one made required;
//! - a response field that was always there made optional, or one that was never null made
//!   nullable; a request value that could be null no longer nullable;
//! - an enum narrowed (a value removed, or an enum put on a request value that had none);
//! - a request `oneOf`/`anyOf` variant removed, or a response one added.
//!
//! Additive: the opposite of each of these (new operations, optional parameters and fields,
//! wider enums, ...). Anything else (descriptions, examples, error responses) is not compared.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::process::Command;

use laserdata_spec::refs::deref;
use serde_json::{Map, Value};

use crate::layers::LAYERS;

/// Whether a change can break a client written against the old document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Breaking,
    Additive,
}

/// One change, found at `location` (an operation, then where in it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    pub kind: Kind,
    pub location: String,
    pub message: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Which way values travel: a client sends requests and reads responses, so the same edit
/// (say, a new enum value) can break one direction and not the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Direction {
    Request,
    Response,
}

/// Every change from `old` to `new` (two OpenAPI 3.0 documents), sorted, without duplicates.
pub fn compare(old: &Value, new: &Value) -> Vec<Change> {
    let mut differ = Differ { old, new, changes: BTreeSet::new(), visiting: BTreeSet::new() };
    let (old_ops, new_ops) = (operations(old), operations(new));
    for (key, (path, method, operation)) in &old_ops {
        let location = format!("{} {path}", method.to_uppercase());
        match new_ops.get(key) {
            None => differ.push(Kind::Breaking, &location, format!("operation `{}` removed", operation_id(operation))),
            Some((_, _, new_operation)) => differ.operation(&location, operation, new_operation),
        }
    }
    for (key, (path, method, operation)) in &new_ops {
        if !old_ops.contains_key(key) {
            let location = format!("{} {path}", method.to_uppercase());
            differ.push(Kind::Additive, &location, format!("new operation `{}`", operation_id(operation)));
        }
    }
    differ.changes.into_iter().collect()
}

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Operations by (normalized path template, method), each with its path-level parameters
/// merged in (operation-level ones win).
fn operations(doc: &Value) -> BTreeMap<(String, String), (String, String, Value)> {
    let mut found = BTreeMap::new();
    for (path, item) in doc.get("paths").and_then(Value::as_object).into_iter().flatten() {
        for method in METHODS {
            let Some(operation) = item.get(method) else { continue };
            let mut operation = operation.clone();
            if let Some(shared) = item.get("parameters").and_then(Value::as_array) {
                let own = operation.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
                let mut merged = own.clone();
                for parameter in shared {
                    let key = parameter_key(doc, parameter);
                    if !own.iter().any(|mine| parameter_key(doc, mine) == key) {
                        merged.push(parameter.clone());
                    }
                }
                operation["parameters"] = Value::Array(merged);
            }
            found.insert((normalize_path(path), method.to_owned()), (path.clone(), method.to_owned(), operation));
        }
    }
    found
}

/// `/a/{x}/b` and `/a/{y}/b` are the same route.
fn normalize_path(path: &str) -> String {
    let mut normalized = String::new();
    let mut in_name = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_name = true;
                normalized.push_str("{}");
            }
            '}' => in_name = false,
            _ if in_name => {}
            _ => normalized.push(c),
        }
    }
    normalized
}

fn operation_id(operation: &Value) -> &str {
    operation.get("operationId").and_then(Value::as_str).unwrap_or("(no operationId)")
}

fn parameter_key(doc: &Value, parameter: &Value) -> (String, String) {
    let parameter = deref(doc, parameter);
    let text = |key: &str| parameter.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
    (text("in"), text("name"))
}

fn is_required(node: &Value) -> bool {
    node.get("required").and_then(Value::as_bool).unwrap_or(false)
}

/// A schema seen through the OpenAPI 3.0 idioms: `allOf` members merged into one object view,
/// `allOf: [$ref]` + `nullable` read as that reference, nullable.
#[derive(Debug, Default)]
struct View {
    kind: Option<String>,
    format: Option<String>,
    nullable: bool,
    enumeration: Option<Vec<Value>>,
    properties: Map<String, Value>,
    required: BTreeSet<String>,
    items: Option<Value>,
    additional: Option<Value>,
    variants: Vec<Value>,
    /// The component names the view was built from, to recognize recursion.
    refs: Vec<String>,
}

impl View {
    fn of(doc: &Value, schema: &Value) -> View {
        let mut view = View::default();
        view.absorb(doc, schema, 0);
        view
    }

    fn absorb(&mut self, doc: &Value, schema: &Value, depth: usize) {
        if depth > 16 {
            return;
        }
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            self.refs.push(reference.to_owned());
        }
        let schema = deref(doc, schema);
        let text = |key: &str| schema.get(key).and_then(Value::as_str).map(str::to_owned);
        self.kind = self.kind.take().or_else(|| text("type"));
        self.format = self.format.take().or_else(|| text("format"));
        self.nullable |= schema.get("nullable") == Some(&Value::Bool(true));
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            self.enumeration = Some(values.clone());
        }
        for (name, property) in schema.get("properties").and_then(Value::as_object).into_iter().flatten() {
            self.properties.insert(name.clone(), property.clone());
        }
        for name in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            if let Some(name) = name.as_str() {
                self.required.insert(name.to_owned());
            }
        }
        if let Some(items) = schema.get("items") {
            self.items = Some(items.clone());
        }
        if let Some(additional) = schema.get("additionalProperties").filter(|value| value.is_object()) {
            self.additional = Some(additional.clone());
        }
        for member in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            self.absorb(doc, member, depth + 1);
        }
        for key in ["oneOf", "anyOf"] {
            self.variants.extend(schema.get(key).and_then(Value::as_array).into_iter().flatten().cloned());
        }
    }
}

struct Differ<'a> {
    old: &'a Value,
    new: &'a Value,
    changes: BTreeSet<Change>,
    /// (old refs, new refs, direction) of the schemas being compared, against recursion.
    visiting: BTreeSet<(Vec<String>, Vec<String>, Direction)>,
}

impl Differ<'_> {
    fn push(&mut self, kind: Kind, location: &str, message: String) {
        self.changes.insert(Change { kind, location: location.to_owned(), message });
    }

    fn operation(&mut self, location: &str, old: &Value, new: &Value) {
        self.parameters(location, old, new);
        self.request_body(location, old, new);
        self.responses(location, old, new);
    }

    fn parameters(&mut self, location: &str, old: &Value, new: &Value) {
        let collect = |doc: &Value, operation: &Value| -> BTreeMap<(String, String), Value> {
            operation
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|parameter| (parameter_key(doc, parameter), deref(doc, parameter).clone()))
                .collect()
        };
        let (old_parameters, new_parameters) = (collect(self.old, old), collect(self.new, new));
        for ((place, name), parameter) in &old_parameters {
            match new_parameters.get(&(place.clone(), name.clone())) {
                None => self.push(Kind::Breaking, location, format!("{place} parameter `{name}` removed")),
                Some(new_parameter) => {
                    match (is_required(parameter), is_required(new_parameter)) {
                        (false, true) => {
                            self.push(Kind::Breaking, location, format!("{place} parameter `{name}` is now required"))
                        }
                        (true, false) => {
                            self.push(Kind::Additive, location, format!("{place} parameter `{name}` is now optional"))
                        }
                        _ => {}
                    }
                    let empty = Value::Object(Map::new());
                    let old_schema = parameter.get("schema").unwrap_or(&empty);
                    let new_schema = new_parameter.get("schema").unwrap_or(&empty);
                    let at = format!("{location}: {place} parameter `{name}`");
                    self.schema(&at, "", old_schema, new_schema, Direction::Request);
                }
            }
        }
        for ((place, name), parameter) in &new_parameters {
            if !old_parameters.contains_key(&(place.clone(), name.clone())) {
                if is_required(parameter) {
                    self.push(Kind::Breaking, location, format!("new required {place} parameter `{name}`"));
                } else {
                    self.push(Kind::Additive, location, format!("new optional {place} parameter `{name}`"));
                }
            }
        }
    }

    fn request_body(&mut self, location: &str, old: &Value, new: &Value) {
        let old_body = old.get("requestBody").map(|body| deref(self.old, body));
        let new_body = new.get("requestBody").map(|body| deref(self.new, body));
        match (old_body, new_body) {
            (None, None) => {}
            (Some(_), None) => self.push(Kind::Breaking, location, "request body removed".into()),
            (None, Some(body)) => {
                let (kind, which) =
                    if is_required(body) { (Kind::Breaking, "required") } else { (Kind::Additive, "optional") };
                self.push(kind, location, format!("new {which} request body"));
            }
            (Some(old_body), Some(new_body)) => {
                match (is_required(old_body), is_required(new_body)) {
                    (false, true) => self.push(Kind::Breaking, location, "the request body is now required".into()),
                    (true, false) => self.push(Kind::Additive, location, "the request body is now optional".into()),
                    _ => {}
                }
                let at = format!("{location}: request body");
                self.content(&at, old_body, new_body, Direction::Request);
            }
        }
    }

    fn responses(&mut self, location: &str, old: &Value, new: &Value) {
        let successes = |doc: &Value, operation: &Value| -> BTreeMap<String, Value> {
            operation
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter(|(status, _)| status.starts_with('2'))
                .map(|(status, response)| (status.clone(), deref(doc, response).clone()))
                .collect()
        };
        let (old_responses, new_responses) = (successes(self.old, old), successes(self.new, new));
        for (status, response) in &old_responses {
            let Some(new_response) = new_responses.get(status) else {
                self.push(Kind::Breaking, location, format!("response {status} removed"));
                continue;
            };
            let at = format!("{location}: response {status}");
            let headers = |response: &Value| -> BTreeSet<String> {
                response
                    .get("headers")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .map(|(name, _)| name.to_ascii_lowercase())
                    .collect()
            };
            let (old_headers, new_headers) = (headers(response), headers(new_response));
            for header in old_headers.difference(&new_headers) {
                self.push(Kind::Breaking, &at, format!("header `{header}` removed"));
            }
            for header in new_headers.difference(&old_headers) {
                self.push(Kind::Additive, &at, format!("new header `{header}`"));
            }
            self.content(&at, response, new_response, Direction::Response);
        }
        for status in new_responses.keys().filter(|status| !old_responses.contains_key(*status)) {
            self.push(Kind::Additive, location, format!("new response {status}"));
        }
    }

    /// The media types of a body, and the schema of each one both sides have.
    fn content(&mut self, location: &str, old: &Value, new: &Value, direction: Direction) {
        let media = |body: &Value| body.get("content").and_then(Value::as_object).cloned().unwrap_or_default();
        let (old_media, new_media) = (media(old), media(new));
        for (name, old_type) in &old_media {
            match new_media.get(name) {
                None => self.push(Kind::Breaking, location, format!("media type `{name}` removed")),
                Some(new_type) => {
                    let empty = Value::Object(Map::new());
                    let old_schema = old_type.get("schema").unwrap_or(&empty);
                    let new_schema = new_type.get("schema").unwrap_or(&empty);
                    self.schema(location, "body", old_schema, new_schema, direction);
                }
            }
        }
        for name in new_media.keys().filter(|name| !old_media.contains_key(*name)) {
            self.push(Kind::Additive, location, format!("new media type `{name}`"));
        }
    }

    /// Compares two schemas at `field` (a path such as `body.items[].name`).
    fn schema(&mut self, location: &str, field: &str, old: &Value, new: &Value, direction: Direction) {
        let (old_view, new_view) = (View::of(self.old, old), View::of(self.new, new));
        // A schema already being compared further up (a recursive one) is compared here only
        // for what the reference itself says (type, nullability, enum), not descended into.
        let key = (old_view.refs.clone(), new_view.refs.clone(), direction);
        let descend = key.0.is_empty() || self.visiting.insert(key.clone());
        self.compare_views(location, field, &old_view, &new_view, direction, descend);
        if descend && !key.0.is_empty() {
            self.visiting.remove(&key);
        }
    }

    fn compare_views(
        &mut self,
        location: &str,
        field: &str,
        old: &View,
        new: &View,
        direction: Direction,
        descend: bool,
    ) {
        let here = |what: &str| if field.is_empty() { what.to_owned() } else { format!("`{field}`: {what}") };
        if let (Some(old_kind), Some(new_kind)) = (&old.kind, &new.kind)
            && old_kind != new_kind
        {
            self.push(Kind::Breaking, location, here(&format!("type changed from {old_kind} to {new_kind}")));
            return;
        }
        if old.format != new.format && old.kind.is_some() {
            let show = |format: &Option<String>| format.clone().unwrap_or_else(|| "none".into());
            let message = format!("format changed from {} to {}", show(&old.format), show(&new.format));
            self.push(Kind::Breaking, location, here(&message));
        }
        match (direction, old.nullable, new.nullable) {
            (Direction::Response, false, true) => self.push(Kind::Breaking, location, here("may now be null")),
            (Direction::Request, true, false) => self.push(Kind::Breaking, location, here("no longer accepts null")),
            (Direction::Response, true, false) => self.push(Kind::Additive, location, here("is no longer null")),
            (Direction::Request, false, true) => self.push(Kind::Additive, location, here("now accepts null")),
            _ => {}
        }
        self.enumerations(location, &here, old, new, direction);
        if !descend {
            return;
        }
        self.properties(location, field, old, new, direction);
        let child = |suffix: &str| {
            if field.is_empty() { suffix.trim_start_matches('.').to_owned() } else { format!("{field}{suffix}") }
        };
        if let (Some(old_items), Some(new_items)) = (&old.items, &new.items) {
            self.schema(location, &child("[]"), old_items, new_items, direction);
        }
        if let (Some(old_values), Some(new_values)) = (&old.additional, &new.additional) {
            self.schema(location, &child("{}"), old_values, new_values, direction);
        }
        self.variants(location, field, old, new, direction);
    }

    fn enumerations(
        &mut self,
        location: &str,
        here: &dyn Fn(&str) -> String,
        old: &View,
        new: &View,
        direction: Direction,
    ) {
        let show = |values: &[&Value]| values.iter().map(|value| value.to_string()).collect::<Vec<_>>().join(", ");
        match (&old.enumeration, &new.enumeration) {
            (Some(old_values), Some(new_values)) => {
                let removed: Vec<&Value> = old_values.iter().filter(|value| !new_values.contains(value)).collect();
                let added: Vec<&Value> = new_values.iter().filter(|value| !old_values.contains(value)).collect();
                if !removed.is_empty() {
                    self.push(Kind::Breaking, location, here(&format!("enum narrowed: {} removed", show(&removed))));
                }
                if !added.is_empty() {
                    self.push(Kind::Additive, location, here(&format!("enum widened: {} added", show(&added))));
                }
            }
            (None, Some(_)) if direction == Direction::Request => {
                self.push(Kind::Breaking, location, here("enum narrowed: only listed values are accepted now"));
            }
            (None, Some(_)) => self.push(Kind::Additive, location, here("now one of a list of values")),
            (Some(_), None) => self.push(Kind::Additive, location, here("no longer limited to a list of values")),
            (None, None) => {}
        }
    }

    fn properties(&mut self, location: &str, field: &str, old: &View, new: &View, direction: Direction) {
        let name_of =
            |name: &str| if field.is_empty() || field == "body" { name.to_owned() } else { format!("{field}.{name}") };
        let side = if direction == Direction::Request { "request" } else { "response" };
        for (name, old_property) in &old.properties {
            let path = name_of(name);
            let Some(new_property) = new.properties.get(name) else {
                self.push(Kind::Breaking, location, format!("{side} field `{path}` removed"));
                continue;
            };
            let (was, is) = (old.required.contains(name), new.required.contains(name));
            match (direction, was, is) {
                (Direction::Request, false, true) => {
                    self.push(Kind::Breaking, location, format!("request field `{path}` is now required"))
                }
                (Direction::Request, true, false) => {
                    self.push(Kind::Additive, location, format!("request field `{path}` is now optional"))
                }
                (Direction::Response, true, false) => {
                    self.push(Kind::Breaking, location, format!("response field `{path}` may now be absent"))
                }
                (Direction::Response, false, true) => {
                    self.push(Kind::Additive, location, format!("response field `{path}` is now always present"))
                }
                _ => {}
            }
            self.schema(location, &path, old_property, new_property, direction);
        }
        for name in new.properties.keys().filter(|name| !old.properties.contains_key(*name)) {
            let path = name_of(name);
            match (direction, new.required.contains(name)) {
                (Direction::Request, true) => {
                    self.push(Kind::Breaking, location, format!("new required request field `{path}`"))
                }
                _ => self.push(Kind::Additive, location, format!("new {side} field `{path}`")),
            }
        }
    }

    /// `oneOf`/`anyOf` variants, matched by the component they reference (else by position).
    fn variants(&mut self, location: &str, field: &str, old: &View, new: &View, direction: Direction) {
        let name = |variant: &Value, index: usize| {
            variant.get("$ref").and_then(Value::as_str).map_or_else(
                || format!("#{index}"),
                |reference| reference.rsplit('/').next().unwrap_or(reference).to_owned(),
            )
        };
        let old_variants: BTreeMap<String, &Value> =
            old.variants.iter().enumerate().map(|(index, variant)| (name(variant, index), variant)).collect();
        let new_variants: BTreeMap<String, &Value> =
            new.variants.iter().enumerate().map(|(index, variant)| (name(variant, index), variant)).collect();
        let at = if field.is_empty() { String::new() } else { format!("`{field}`: ") };
        for (variant, schema) in &old_variants {
            match new_variants.get(variant) {
                None if direction == Direction::Request => {
                    self.push(Kind::Breaking, location, format!("{at}variant `{variant}` removed"))
                }
                None => self.push(Kind::Additive, location, format!("{at}variant `{variant}` no longer returned")),
                Some(new_schema) => {
                    let path = if field.is_empty() { format!("<{variant}>") } else { format!("{field}<{variant}>") };
                    self.schema(location, &path, schema, new_schema, direction);
                }
            }
        }
        for variant in new_variants.keys().filter(|variant| !old_variants.contains_key(*variant)) {
            if direction == Direction::Response {
                self.push(Kind::Breaking, location, format!("{at}new variant `{variant}` may be returned"));
            } else {
                self.push(Kind::Additive, location, format!("{at}new variant `{variant}` accepted"));
            }
        }
    }
}

/// A revision to read the documents from: a git ref, or the working tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revision {
    Git(String),
    WorkingTree,
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Revision::Git(reference) => write!(f, "{reference}"),
            Revision::WorkingTree => write!(f, "the working tree"),
        }
    }
}

/// A file at a revision, or `None` when the revision has no such file.
pub fn read_at(root: &Path, revision: &Revision, path: &str) -> Result<Option<String>, String> {
    match revision {
        Revision::WorkingTree => match std::fs::read_to_string(root.join(path)) {
            Ok(text) => Ok(Some(text)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(format!("cannot read {path}: {error}")),
        },
        Revision::Git(reference) => {
            let exists = Command::new("git")
                .args(["cat-file", "-e", &format!("{reference}:{path}")])
                .current_dir(root)
                .stderr(std::process::Stdio::null())
                .status()
                .map_err(|error| format!("cannot run git: {error}"))?;
            if !exists.success() {
                return Ok(None);
            }
            let output = Command::new("git")
                .args(["show", &format!("{reference}:{path}")])
                .current_dir(root)
                .output()
                .map_err(|error| format!("cannot run git: {error}"))?;
            if !output.status.success() {
                return Err(format!("git show {reference}:{path}: {}", String::from_utf8_lossy(&output.stderr).trim()));
            }
            String::from_utf8(output.stdout).map(Some).map_err(|_| format!("{reference}:{path} is not UTF-8"))
        }
    }
}

/// Checks that a git revision names a commit.
pub fn check_revision(root: &Path, reference: &str) -> Result<(), String> {
    let status = Command::new("git")
        .args(["rev-parse", "--verify", "--quiet", &format!("{reference}^{{commit}}")])
        .current_dir(root)
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|error| format!("cannot run git: {error}"))?;
    if status.success() { Ok(()) } else { Err(format!("`{reference}` is not a commit of this repository")) }
}

/// The changes of every layer between two revisions, each change's location prefixed with
/// its layer.
pub fn diff_revisions(root: &Path, old: &Revision, new: &Revision) -> Result<Vec<Change>, String> {
    for revision in [old, new] {
        if let Revision::Git(reference) = revision {
            check_revision(root, reference)?;
        }
    }
    let parse = |text: String, revision: &Revision, path: &str| -> Result<Value, String> {
        serde_json::from_str(&text).map_err(|error| format!("{path} at {revision} is not JSON: {error}"))
    };
    let mut changes = Vec::new();
    for layer in LAYERS {
        let old_text = read_at(root, old, layer.bundle)?;
        let new_text = read_at(root, new, layer.bundle)?;
        let found = match (old_text, new_text) {
            (None, None) => continue,
            (None, Some(_)) => {
                vec![Change { kind: Kind::Additive, location: layer.bundle.into(), message: "new document".into() }]
            }
            (Some(_), None) => {
                vec![Change { kind: Kind::Breaking, location: layer.bundle.into(), message: "document removed".into() }]
            }
            (Some(old_text), Some(new_text)) => {
                compare(&parse(old_text, old, layer.bundle)?, &parse(new_text, new, layer.bundle)?)
            }
        };
        changes.extend(
            found
                .into_iter()
                .map(|change| Change { location: format!("{}: {}", layer.name, change.location), ..change }),
        );
    }
    Ok(changes)
}

/// The report `cargo xtask diff` prints.
pub fn report(old: &Revision, new: &Revision, changes: &[Change]) -> String {
    let mut text = format!("API changes from {old} to {new}\n");
    for (kind, title) in [(Kind::Breaking, "Breaking changes"), (Kind::Additive, "Additive changes")] {
        let listed: Vec<_> = changes.iter().filter(|change| change.kind == kind).collect();
        text.push_str(&format!("\n{title} ({}):\n", listed.len()));
        if listed.is_empty() {
            text.push_str("  none\n");
        }
        for change in listed {
            text.push_str(&format!("  - {change}\n"));
        }
    }
    text
}
