//! Generating the Rust client of one layer from its bundled document.

use progenitor_impl::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl, TypePatch};
use serde_json::Value;

use crate::layers::{Layer, SHARED_SOURCE};
use crate::shape;
use crate::spec::bundle::Bundle;
use crate::spec::rules::{is_paged_envelope, operations, success_schema};

/// The document progenitor reads for `bundle` (see [`progenitor_input`]), parsed once and
/// shared by the client and the mock generation.
pub fn progenitor_spec(bundle: &Bundle) -> Result<openapiv3::OpenAPI, String> {
    serde_json::from_value(progenitor_input(&bundle.doc, &open_enum_schemas(&bundle.doc)))
        .map_err(|error| format!("the bundled document is not valid OpenAPI: {error}"))
}

/// Generates the client source of `layer`, formatted and with the do-not-edit header.
pub fn generate(layer: &Layer, bundle: &Bundle, spec: &openapiv3::OpenAPI) -> Result<String, String> {
    let tokens = Generator::new(&layer_settings(layer, bundle))
        .generate_tokens(spec)
        .map_err(|error| format!("progenitor cannot generate {}: {error}", layer.name))?;
    finish_client(layer, bundle, tokens)
}

/// The client source from progenitor's tokens: shaped (see [`shape`]), formatted, with the
/// paging implementations and the operations table.
pub fn finish_client(layer: &Layer, bundle: &Bundle, tokens: proc_macro2::TokenStream) -> Result<String, String> {
    let crate_name = client_crate(layer);
    let shared = bundle.shared_schemas();
    let home = Home::Layer { crate_name: &crate_name, shared: &shared };
    let mut file = parse(tokens)?;
    let paged = paged_operations(bundle)?;
    let mut surface = surface_of(&bundle.doc, home, Some(bundle));
    surface.paged_builders = paged.iter().map(|(builder, _, _)| builder.clone()).collect();
    shape::client(&mut file, &surface)?;
    let paging = paging_impls(&paged);
    let table = operations_table(bundle);
    Ok(format!("{}{}{}{}", header(layer.source), prettyplease::unparse(&file), paging, table))
}

/// Generates the typed `httpmock` extension of `layer`'s client: `server.<operation>(|when, then| ..)`
/// with typed bodies, for downstream tests.
pub fn generate_mocks(layer: &Layer, bundle: &Bundle, spec: &openapiv3::OpenAPI) -> Result<String, String> {
    let tokens = Generator::new(&layer_settings(layer, bundle))
        .httpmock(spec, &client_crate(layer))
        .map_err(|error| format!("progenitor cannot generate the mocks of {}: {error}", layer.name))?;
    finish_mocks(layer, tokens)
}

/// The mocks' source from progenitor's tokens: shaped (see [`shape::mocks`]) and formatted.
pub fn finish_mocks(layer: &Layer, tokens: proc_macro2::TokenStream) -> Result<String, String> {
    let mut file = parse(tokens)?;
    shape::mocks(&mut file);
    Ok(format!("{}{}", header(layer.source), prettyplease::unparse(&file)))
}

/// Generates `laserdata_core::shared`: the types of every schema of the shared components
/// file, which every layer's crate uses instead of generating its own copy.
pub fn generate_shared(shared: &Value) -> Result<String, String> {
    let schemas = shared.pointer("/components/schemas").cloned().unwrap_or_default();
    let doc = serde_json::json!({
        "openapi": "3.0.3",
        "info": shared.get("info").cloned().unwrap_or_default(),
        "paths": {},
        "components": { "schemas": schemas },
    });
    let spec: openapiv3::OpenAPI = serde_json::from_value(progenitor_input(&doc, &open_enum_schemas(&doc)))
        .map_err(|error| format!("the shared components are not valid OpenAPI: {error}"))?;
    let tokens = Generator::new(&settings(&doc, Home::Core))
        .generate_tokens(&spec)
        .map_err(|error| format!("progenitor cannot generate the shared types: {error}"))?;
    let mut file = parse(tokens)?;
    let types = shape::take_types_module(&mut file).ok_or("progenitor generated no `types` module")?;
    let mut shared_file = syn::File { shebang: None, frontmatter: None, attrs: Vec::new(), items: types };
    shape::types(&mut shared_file.items, &surface_of(&doc, Home::Core, None));
    Ok(format!("{}{}", header(SHARED_SOURCE), prettyplease::unparse(&shared_file)))
}

/// The settings a layer's client and mocks are generated with (also for the benchmark's bare
/// progenitor arm).
pub fn layer_settings(layer: &Layer, bundle: &Bundle) -> GenerationSettings {
    let crate_name = client_crate(layer);
    let shared = bundle.shared_schemas();
    settings(&bundle.doc, Home::Layer { crate_name: &crate_name, shared: &shared })
}

/// Formats generated tokens as Rust source, as they come from progenitor.
pub fn unparse(tokens: proc_macro2::TokenStream) -> Result<String, String> {
    Ok(prettyplease::unparse(&parse(tokens)?))
}

/// Parses generated tokens as a Rust file.
fn parse(tokens: proc_macro2::TokenStream) -> Result<syn::File, String> {
    syn::parse2(tokens).map_err(|error| format!("progenitor produced invalid Rust: {error}"))
}

/// The Rust name of a layer's client crate.
pub fn client_crate(layer: &Layer) -> String {
    format!("laserdata_{}", layer.name)
}

/// Which crate generated code is for, and so how it names the types it does not define.
#[derive(Clone, Copy)]
enum Home<'a> {
    /// A layer's client crate (`laserdata_main`): the shared schemas' types come from
    /// `laserdata_core::shared`.
    Layer { crate_name: &'a str, shared: &'a [&'a str] },
    /// `laserdata_core::shared` itself.
    Core,
}

impl Home<'_> {
    /// The path of `laserdata_core` as the generated code writes it.
    fn core(&self) -> &'static str {
        match self {
            Home::Layer { .. } => "::laserdata_core",
            Home::Core => "crate",
        }
    }

    /// Whether schema `name` is generated elsewhere (in `laserdata_core::shared`).
    fn is_shared(&self, name: &str) -> bool {
        matches!(self, Home::Layer { shared, .. } if shared.contains(&name))
    }

    /// The absolute path of the Rust type of schema `name`: valid in the client crate (which
    /// names itself with `extern crate self`), in its mock crate, and in `laserdata_core`.
    fn type_path(&self, name: &str) -> String {
        match self {
            _ if self.is_shared(name) => format!("::laserdata_core::shared::{}", type_name(name)),
            Home::Layer { crate_name, .. } => format!("::{crate_name}::types::{}", type_name(name)),
            Home::Core => format!("crate::shared::{}", type_name(name)),
        }
    }
}

/// What the post-pass adds to a generated `types` module (see [`shape`]).
fn surface_of<'a>(doc: &'a Value, home: Home, bundle: Option<&'a Bundle>) -> shape::Surface<'a> {
    let schemas = component_schemas(doc);
    let mut surface = shape::Surface { core: home.core(), ..shape::Surface::default() };
    let mut schemas = schemas;
    schemas.sort_by_key(|(name, _)| *name);
    for (name, schema) in &schemas {
        if let Some(description) = schema.get("description").and_then(Value::as_str) {
            surface.type_docs.push((type_name(name), description.trim().to_owned()));
        }
        // Its own properties, and those of the inline parts of an `allOf`.
        let parts = std::iter::once(*schema).chain(schema.get("allOf").and_then(Value::as_array).into_iter().flatten());
        let properties = parts.filter_map(|part| part.get("properties").and_then(Value::as_object)).flatten();
        for (property, node) in properties {
            // A `$ref` without a description of its own is described by the schema it names.
            let description = node
                .get("description")
                .or_else(|| laserdata_spec::refs::deref(doc, node).get("description"))
                .and_then(Value::as_str);
            if let Some(description) = description {
                surface.property_docs.insert((type_name(name), property.clone()), description.trim().to_owned());
            }
        }
        if home.is_shared(name) {
            surface.shared.push(type_name(name));
        } else if is_id(name, schema) {
            surface.ids.push((type_name(name), schema.get("description").and_then(Value::as_str)));
        }
    }
    if let Some(bundle) = bundle {
        surface.parameter_docs = parameter_docs(bundle);
        let sent = sent_schemas(&bundle.doc);
        surface.answer_only = schemas
            .iter()
            .filter(|(name, schema)| !sent.contains(*name) && kind(schema) == Some("object"))
            .map(|(name, _)| type_name(name))
            .collect();
    }
    surface
}

/// The component schemas a request can carry: those its parameters and bodies use, directly or
/// through other schemas.
fn sent_schemas(doc: &Value) -> std::collections::BTreeSet<String> {
    let mut pending = Vec::new();
    for operation in operations(doc) {
        for (_, parameter) in operation.parameters(doc) {
            laserdata_spec::refs::referenced_schemas(parameter, &mut pending);
        }
        if let Some(body) = operation.request_body(doc) {
            laserdata_spec::refs::referenced_schemas(body, &mut pending);
        }
    }
    let mut sent = std::collections::BTreeSet::new();
    while let Some(name) = pending.pop() {
        if sent.insert(name.clone())
            && let Some(schema) = doc.pointer(&format!("/components/schemas/{name}"))
        {
            laserdata_spec::refs::referenced_schemas(schema, &mut pending);
        }
    }
    sent
}

/// The settings every crate is generated with.
fn settings(doc: &Value, home: Home) -> GenerationSettings {
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        // One inherent method per operation on `Client`: no extension traits to import.
        .with_tag(TagStyle::Merged)
        // Each client crate implements `ClientHooks` by hand (to route requests through
        // `laserdata_core::hooks`); forgetting it must not compile.
        .with_hooks(HooksMode::Expected)
        // The retry policy travels with each client, for the hook to read.
        .with_inner_type(quote::quote!(::laserdata_core::hooks::ClientState))
        // Users compare answers (in their tests, say); every type can be compared.
        .with_derive("PartialEq");
    // Integers that are not ids (counts, sizes) are values users copy around, sort and hash.
    let mut integer_patch = TypePatch::default();
    for derive in ["Copy", "Eq", "Hash", "PartialOrd", "Ord"] {
        integer_patch.with_derive(derive);
    }
    let text_impls = || [TypeImpl::Display, TypeImpl::FromStr].into_iter();
    let core = home.core();
    for (name, schema) in component_schemas(doc) {
        if is_open_enum(schema) {
            // Wherever the enum is used, progenitor reads a stand-in (see `progenitor_input`),
            // replaced here by `Open<TheEnum>`. typify looks replacements up by the Rust name
            // it gives the schema.
            let open = format!("{core}::Open<{}>", home.type_path(name));
            settings.with_replacement(type_name(&open_name(name)), open, text_impls());
            if home.is_shared(name) {
                settings.with_replacement(type_name(name), home.type_path(name), text_impls());
            }
        } else if is_secret(schema) {
            settings.with_replacement(type_name(name), format!("{core}::SecretString"), std::iter::empty());
        } else if is_id(name, schema) || home.is_shared(name) {
            // Ids are defined by `laserdata_core::id_type!` (the post-pass adds them), shared
            // types by `laserdata_core::shared`; either way typify must not define its own.
            let impls: Vec<TypeImpl> = if kind(schema) == Some("object") { Vec::new() } else { text_impls().collect() };
            settings.with_replacement(type_name(name), home.type_path(name), impls.into_iter());
        } else if kind(schema) == Some("integer") {
            settings.with_patch(type_name(name), &integer_patch);
        }
    }
    settings
}

/// Whether a schema is an integer id: its own Rust type, which only an integer or the same id
/// converts into.
fn is_id(name: &str, schema: &Value) -> bool {
    kind(schema) == Some("integer") && schema.get("enum").is_none() && name.ends_with("Id")
}

/// Whether a schema is a string enum, which the Rust clients read as `Open<TheEnum>`: a value
/// added to the API later decodes as `Open::Unknown` instead of failing the whole answer.
fn is_open_enum(schema: &Value) -> bool {
    kind(schema) == Some("string") && schema.get("enum").is_some()
}

/// Whether a schema is a secret the API hands out or accepts (`format: password`).
fn is_secret(schema: &Value) -> bool {
    kind(schema) == Some("string") && schema.get("format").and_then(Value::as_str) == Some("password")
}

/// The named string enums of a document.
pub fn open_enum_schemas(doc: &Value) -> Vec<&str> {
    component_schemas(doc).into_iter().filter(|(_, schema)| is_open_enum(schema)).map(|(name, _)| name).collect()
}

/// The stand-in schema for the open form of enum `name`.
fn open_name(name: &str) -> String {
    format!("{name}_Open")
}

/// The Rust type of every secret: its `Debug` and `Display` print `[redacted]`.
pub const SECRET_TYPE: &str = "::laserdata_core::SecretString";

/// The named string schemas with `format: password`: secrets the API hands out or accepts.
pub fn secret_schemas(bundle: &Bundle) -> Vec<&str> {
    component_schemas(&bundle.doc).into_iter().filter(|(_, schema)| is_secret(schema)).map(|(name, _)| name).collect()
}

/// The component schemas of a document, by name.
fn component_schemas(doc: &Value) -> Vec<(&str, &Value)> {
    let Some(schemas) = doc.pointer("/components/schemas").and_then(Value::as_object) else { return Vec::new() };
    schemas.iter().map(|(name, schema)| (name.as_str(), schema)).collect()
}

/// A schema's `type`.
fn kind(schema: &Value) -> Option<&str> {
    schema.get("type").and_then(Value::as_str)
}

/// For each operation builder (by its Rust name), the description of each parameter: the
/// documentation of its setter.
fn parameter_docs(bundle: &Bundle) -> Vec<(String, String, String)> {
    let mut docs = Vec::new();
    for operation in operations(&bundle.doc) {
        let builder = type_name(operation.operation_id().unwrap_or_default());
        for (_, parameter) in operation.parameters(&bundle.doc) {
            let (Some(name), Some(description)) =
                (parameter.get("name").and_then(Value::as_str), parameter.get("description").and_then(Value::as_str))
            else {
                continue;
            };
            docs.push((builder.clone(), shape::setter_name(name), description.trim().to_owned()));
        }
    }
    docs
}

/// The header of every generated file.
pub fn header(source: &str) -> String {
    format!(
        "// This file is generated by `cargo xtask codegen` from {source}{}.\n// Do not edit it by hand: change the OpenAPI source and run the command again.\n\n",
        if source == SHARED_SOURCE { String::new() } else { format!(" and {SHARED_SOURCE}") },
    )
}

/// The document progenitor reads differs from the published one in two ways, both about
/// error responses:
///
/// - They keep only `application/problem+json`. Progenitor types an `application/json` error
///   body, and when such a body fails to decode (an HTML page from a proxy, say) its error
///   carries neither the status nor the headers. As an untyped body, every error reaches our
///   error decoder with status, `ld-request` and `retry-after` intact.
/// - Success statuses become one `2XX` range (see below).
/// - A status covered by `4XX` or `5XX` is dropped: all error bodies are handled alike, and
///   progenitor would otherwise emit match arms that the range makes unreachable.
pub fn progenitor_input(doc: &Value, open_enums: &[&str]) -> Value {
    let mut doc = doc.clone();
    // Every reference to a named string enum points at its open stand-in instead.
    let references: Vec<(String, String)> = open_enums
        .iter()
        .map(|name| (format!("#/components/schemas/{name}"), format!("#/components/schemas/{}", open_name(name))))
        .collect();
    redirect_refs(&mut doc, &references);
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for name in open_enums {
            schemas.insert(open_name(name), serde_json::json!({ "type": "string" }));
        }
    }
    if let Some(responses) = doc.pointer_mut("/components/responses").and_then(Value::as_object_mut) {
        responses.values_mut().for_each(keep_problem_json_only);
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            for operation in item.as_object_mut().into_iter().flat_map(|item| item.values_mut()) {
                let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) else { continue };
                // Success statuses collapse into one `2XX`: they share one body type (a rule),
                // and a server answering 200 where 204 is described (vendors' statuses drift,
                // and the Supervisor's are partly inferred) must not fail the call.
                let successes: Vec<String> = responses.keys().filter(|s| s.starts_with('2')).cloned().collect();
                if let Some(first) = successes.first() {
                    let response = responses[first].clone();
                    for status in &successes {
                        responses.shift_remove(status);
                    }
                    responses.insert("2XX".to_owned(), response);
                }
                let ranges: Vec<char> =
                    responses.keys().filter(|s| s.ends_with("XX")).filter_map(|s| s.chars().next()).collect();
                responses.retain(|status, _| status.ends_with("XX") || !status.starts_with(|c| ranges.contains(&c)));
                for (status, response) in responses.iter_mut() {
                    if status.starts_with(['4', '5']) {
                        keep_problem_json_only(response);
                    }
                }
            }
        }
    }
    doc
}

fn redirect_refs(node: &mut Value, references: &[(String, String)]) {
    match node {
        Value::Object(object) => {
            if let Some(Value::String(reference)) = object.get_mut("$ref")
                && let Some((_, to)) = references.iter().find(|(from, _)| from == reference)
            {
                *reference = to.clone();
            }
            object.values_mut().for_each(|child| redirect_refs(child, references));
        }
        Value::Array(items) => items.iter_mut().for_each(|child| redirect_refs(child, references)),
        _ => {}
    }
}

fn keep_problem_json_only(response: &mut Value) {
    if let Some(content) = response.get_mut("content").and_then(Value::as_object_mut)
        && content.contains_key("application/problem+json")
    {
        content.remove("application/json");
    }
}

/// Every paged list operation: the Rust names of its builder, envelope and item types.
fn paged_operations(bundle: &Bundle) -> Result<Vec<(String, String, String)>, String> {
    let mut paged = Vec::new();
    for operation in operations(&bundle.doc) {
        let Some(schema) = success_schema(bundle, &operation) else { continue };
        if !is_paged_envelope(bundle, schema) {
            continue;
        }
        let envelope =
            schema.get("$ref").and_then(Value::as_str).and_then(|r| r.rsplit('/').next()).ok_or_else(|| {
                format!("`{}` returns an inline paged envelope; give it a named schema", operation.path)
            })?;
        let item = bundle
            .deref(schema)
            .pointer("/properties/items/items/$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.rsplit('/').next())
            .ok_or_else(|| format!("the items of `{envelope}` must reference a named schema"))?;
        paged.push((type_name(operation.operation_id().unwrap_or_default()), type_name(envelope), type_name(item)));
    }
    Ok(paged)
}

/// For every paged list operation, lets `laserdata_core::paging` drive its builder page by
/// page, and read its envelope. `send_page` answers with the body unread (see
/// `shape::operation_builders`), so that the stream decodes the items as they arrive.
fn paging_impls(paged: &[(String, String, String)]) -> String {
    let mut envelopes = Vec::new();
    let mut out = String::new();
    for (builder, envelope, item) in paged {
        if !envelopes.contains(&envelope) {
            out.push_str(&format!(
                "\nimpl ::laserdata_core::paging::Page for types::{envelope} {{\n    type Item = types::{item};\n\n    fn total_pages(&self) -> u64 {{\n        u64::try_from(self.total_pages.0).unwrap_or_default()\n    }}\n\n    fn total_results(&self) -> u64 {{\n        u64::try_from(self.total_results.0).unwrap_or_default()\n    }}\n\n    fn into_items(self) -> ::std::vec::Vec<Self::Item> {{\n        self.items\n    }}\n}}\n",
            ));
            envelopes.push(envelope);
        }
        out.push_str(&format!(
            "\nimpl<'a> ::laserdata_core::paging::PagedRequest for builder::{builder}<'a> {{\n    type Page = types::{envelope};\n\n    fn at_page(self, page: ::std::num::NonZeroU64, results: ::std::num::NonZeroU64) -> Self {{\n        self.page(page).results(results)\n    }}\n\n    fn send_page(\n        self,\n    ) -> impl ::std::future::Future<Output = Result<ResponseValue<ByteStream>, ::laserdata_core::Error>> + Send {{\n        ::laserdata_core::error::finish(self.send_unread())\n    }}\n}}\n"
        ));
    }
    out
}

/// A module for the end-to-end tests: `round_trip(schema_name, json)` decodes the JSON as the
/// Rust type generated for that schema and encodes it again, so that a test can walk every
/// example of the spec without naming the types by hand.
pub fn schema_index(layer: &Layer, bundle: &Bundle, crate_path: &str) -> String {
    let secrets = secret_schemas(bundle);
    let mut arms = String::new();
    for name in bundle.doc.pointer("/components/schemas").and_then(Value::as_object).into_iter().flat_map(|s| s.keys())
    {
        let rust = if secrets.contains(&name.as_str()) {
            "laserdata::SecretString".to_owned()
        } else {
            format!("{crate_path}::types::{}", type_name(name))
        };
        arms.push_str(&format!("        {name:?} => crate::round_trip_as::<{rust}>(value),\n"));
    }
    format!(
        "{}//! Every schema of the {} layer by name, for tests that walk the spec's examples.\n\n\
         /// Decodes `value` as the type generated for `schema` and encodes it again; `None` for an unknown name.\n\
         pub fn round_trip(schema: &str, value: &serde_json::Value) -> Option<Result<serde_json::Value, serde_json::Error>> {{\n    \
         Some(match schema {{\n{arms}        _ => return None,\n    }})\n}}\n",
        header(layer.source),
        layer.name,
    )
}

/// The table `laserdata_core::hooks` looks operations up in: sorted by id, with the path
/// template (logged instead of the real path) and whether `idempotency-key` is honoured.
fn operations_table(bundle: &Bundle) -> String {
    let mut rows: Vec<(String, String, bool)> = operations(&bundle.doc)
        .iter()
        .map(|operation| {
            let honours_key = operation.parameters(&bundle.doc).iter().any(|(_, parameter)| {
                parameter.get("in").and_then(Value::as_str) == Some("header")
                    && parameter.get("name").and_then(Value::as_str) == Some("idempotency-key")
            });
            (operation.operation_id().unwrap_or_default().to_owned(), operation.path.to_owned(), honours_key)
        })
        .collect();
    rows.sort();
    let mut out = String::from(
        "\n/// Every operation of this API, sorted by id, for `laserdata_core::hooks`.\n#[doc(hidden)]\npub static OPERATIONS: &[::laserdata_core::hooks::Operation] = &[\n",
    );
    for (id, path, honours_key) in rows {
        out.push_str(&format!(
            "    ::laserdata_core::hooks::Operation {{ id: {id:?}, path: {path:?}, idempotency_key: {honours_key} }},\n"
        ));
    }
    out.push_str("];\n");
    out
}

/// The Rust name progenitor and typify give a schema or operation (`Paged_ApiKeyInfo` becomes
/// `PagedApiKeyInfo`, `get_api_keys` becomes `GetApiKeys`).
pub fn type_name(name: &str) -> String {
    name.split(['_', '-', ' '])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::type_name;

    #[test]
    fn type_names_follow_typify() {
        assert_eq!(type_name("Paged_ApiKeyInfo"), "PagedApiKeyInfo");
        assert_eq!(type_name("get_api_keys"), "GetApiKeys");
    }
}
