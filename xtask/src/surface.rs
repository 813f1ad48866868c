//! A compact listing of what a layer offers, one line per operation and per generated type,
//! for reviewing changes: a snapshot of it shows in a diff what a spec change does to users.

use std::fmt::Write;

use serde_json::Value;
use syn::{Fields, ImplItem, Item};

use crate::spec::bundle::Bundle;
use crate::spec::rules::operations;

/// The operations of a bundled document as they appear on the wire.
pub fn operations_listing(bundle: &Bundle) -> String {
    let mut out = String::new();
    for operation in operations(&bundle.doc) {
        let id = operation.operation_id().unwrap_or("?");
        let mut parameters = Vec::new();
        for (_, parameter) in operation.parameters(&bundle.doc) {
            let name = parameter["name"].as_str().unwrap_or("?");
            let optional = if parameter["required"] == Value::Bool(true) { "" } else { "?" };
            let location = parameter["in"].as_str().unwrap_or("?");
            parameters.push(format!("{name}{optional}:{location}:{}", schema_name(&parameter["schema"])));
        }
        let body = operation
            .node
            .get("requestBody")
            .map(|body| bundle.deref(body))
            .and_then(|body| body.pointer("/content/application~1json/schema"))
            .map(|schema| format!(" body={}", schema_name(schema)))
            .unwrap_or_default();
        let mut responses = Vec::new();
        for (status, response) in operation.node["responses"].as_object().into_iter().flatten() {
            let response = bundle.deref(response);
            let schema = response
                .pointer("/content/application~1json/schema")
                .or_else(|| response.pointer("/content/application~1problem+json/schema"));
            let headers: Vec<&str> = response
                .get("headers")
                .and_then(Value::as_object)
                .map(|h| h.keys().map(String::as_str).collect())
                .unwrap_or_default();
            let mut entry = status.clone();
            if let Some(schema) = schema {
                write!(entry, " {}", schema_name(schema)).unwrap();
            }
            if !headers.is_empty() {
                write!(entry, " [{}]", headers.join(",")).unwrap();
            }
            responses.push(entry);
        }
        writeln!(
            out,
            "{id}: {} {} ({}){body} -> {}",
            operation.method.to_uppercase(),
            operation.path,
            parameters.join(", "),
            responses.join(" | ")
        )
        .unwrap();
    }
    out
}

fn schema_name(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return reference.rsplit('/').next().unwrap_or(reference).to_owned();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => format!("[{}]", schema_name(&schema["items"])),
        Some(kind) => kind.to_owned(),
        None => "any".to_owned(),
    }
}

/// The public Rust surface of a generated client: the types with their fields or variants
/// (ids and the shared types it re-exports marked as such), and every method of `Client` and
/// of the operation builders. For the shared types' file, its types.
pub fn rust_listing(generated: &str) -> Result<String, syn::Error> {
    let file = syn::parse_file(generated)?;
    let mut out = String::new();
    for item in &file.items {
        match item {
            Item::Struct(_) | Item::Enum(_) | Item::Macro(_) => list_item(&mut out, "shared", item),
            Item::Mod(module) if module.ident == "types" || module.ident == "builder" => {
                for item in module.content.iter().flat_map(|(_, items)| items) {
                    list_item(&mut out, &module.ident.to_string(), item);
                }
            }
            Item::Impl(block) if type_name(&block.self_ty) == "Client" && block.trait_.is_none() => {
                for method in methods(block) {
                    writeln!(out, "Client::{method}").unwrap();
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

fn list_item(out: &mut String, module: &str, item: &Item) {
    match item {
        Item::Struct(item) => {
            let fields: Vec<String> = match &item.fields {
                Fields::Named(named) => named
                    .named
                    .iter()
                    .filter(|field| matches!(field.vis, syn::Visibility::Public(_)))
                    .map(|field| format!("{}: {}", field.ident.as_ref().unwrap(), compact(&field.ty)))
                    .collect(),
                Fields::Unnamed(unnamed) => unnamed.unnamed.iter().map(|field| compact(&field.ty)).collect(),
                Fields::Unit => Vec::new(),
            };
            // Operation builders keep their state private; their methods are listed instead.
            if !(fields.is_empty() && module == "builder") {
                writeln!(out, "{module}::{} {{ {} }}", item.ident, fields.join(", ")).unwrap();
            }
        }
        Item::Enum(item) => {
            let variants: Vec<String> = item.variants.iter().map(|variant| variant.ident.to_string()).collect();
            writeln!(out, "{module}::{} = {}", item.ident, variants.join(" | ")).unwrap();
        }
        // `laserdata_core::id_type! { #[doc = ..] TenantId }`: the id's name is the last token.
        Item::Macro(item) if item.mac.path.segments.last().is_some_and(|s| s.ident == "id_type") => {
            let name = item.mac.tokens.clone().into_iter().last().map(|token| token.to_string()).unwrap_or_default();
            writeln!(out, "{module}::{name} (id)").unwrap();
        }
        Item::Use(item) => {
            let mut names = Vec::new();
            used_names(&item.tree, &mut names);
            for name in names {
                writeln!(out, "{module}::{name} (shared)").unwrap();
            }
        }
        Item::Impl(block) if block.trait_.is_none() && module == "builder" => {
            let name = type_name(&block.self_ty);
            for method in methods(block) {
                writeln!(out, "{module}::{name}::{method}").unwrap();
            }
        }
        _ => {}
    }
}

fn used_names(tree: &syn::UseTree, names: &mut Vec<String>) {
    match tree {
        syn::UseTree::Path(path) => used_names(&path.tree, names),
        syn::UseTree::Name(name) => names.push(name.ident.to_string()),
        syn::UseTree::Group(group) => group.items.iter().for_each(|tree| used_names(tree, names)),
        _ => {}
    }
}

fn methods(block: &syn::ItemImpl) -> Vec<String> {
    block
        .items
        .iter()
        .filter_map(|item| match item {
            ImplItem::Fn(function) if matches!(function.vis, syn::Visibility::Public(_)) => {
                Some(function.sig.ident.to_string())
            }
            _ => None,
        })
        .collect()
}

fn type_name(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default(),
        _ => String::new(),
    }
}

/// A type as written, without the absolute paths typify uses (`::std::vec::Vec<...>` becomes `Vec<...>`).
fn compact(ty: &syn::Type) -> String {
    let text = quote_type(ty);
    let text = strip_crate_paths(&text);
    [
        "::std::option::",
        "::std::vec::",
        "::std::string::",
        "::std::collections::",
        "::chrono::offset::",
        "::std::num::",
        "::chrono::",
    ]
    .iter()
    .fold(text, |text, prefix| text.replace(prefix, ""))
}

/// `::laserdata_core::shared::TenantId` and `::laserdata_main::types::Cloud` as `TenantId`
/// and `Cloud`: the listing says where each type comes from once, not at every use.
fn strip_crate_paths(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("::laserdata_") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let path_end = after.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(after.len());
        let path = &after[..path_end];
        let keep = match path.rsplit_once("::") {
            // `laserdata_core::Open<..>` and `laserdata_core::SecretString` keep their crate.
            Some((module, name)) if module.ends_with("::shared") || module.ends_with("::types") => name,
            _ => &rest[start..start + 2 + path_end],
        };
        out.push_str(keep);
        rest = &after[path_end..];
    }
    out.push_str(rest);
    out
}

fn quote_type(ty: &syn::Type) -> String {
    use quote::ToTokens;
    ty.to_token_stream().to_string().replace(' ', "").replace(",>", ">").replace(',', ", ")
}
