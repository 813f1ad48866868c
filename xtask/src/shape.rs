//! The post-pass over progenitor's output that gives the generated crates their SDK surface.
//!
//! Progenitor and typify are configured as far as their settings go (see `codegen`); what no
//! setting reaches is done here, on the parsed output, before it is formatted:
//!
//! - ids are `laserdata_core::id_type!`s (an integer or the same id converts into one, a string
//!   or another kind of id does not), and the types of the shared components are re-exported
//!   from `laserdata_core::shared`, so that `types::DeploymentId` names one type in every layer;
//! - string newtypes accept `&str` as well as `String`;
//! - a `oneOf` body accepts the builder of any of its variants, as struct bodies accept theirs;
//! - every operation's `send()` fails with `laserdata_core::Error` (progenitor's own `send` is
//!   kept, private, as `send_raw`);
//! - setters, builders and enum values that progenitor leaves bare get documentation, from the
//!   spec where it says something;
//! - each mocked answer can be the API's problem document, typed.
//!
//! Each step only adds items or renames progenitor's `send`; a progenitor upgrade that changes
//! the shapes relied on here shows up in the snapshot tests.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use syn::{Attribute, Fields, ImplItem, Item, ReturnType, Type, Visibility, parse_quote};

/// What the post-pass adds to one generated `types` module.
#[derive(Debug, Default)]
pub struct Surface<'a> {
    /// The path of `laserdata_core` from the generated code (`::laserdata_core`, or `crate`
    /// inside it).
    pub core: &'static str,
    /// The Rust names of the shared types the layer uses, re-exported from `laserdata_core::shared`.
    pub shared: Vec<String>,
    /// The ids this module defines, with their descriptions.
    pub ids: Vec<(String, Option<&'a str>)>,
    /// For each operation builder, setter and its documentation (the parameter's description).
    pub parameter_docs: Vec<(String, String, String)>,
    /// The description of each named type (by Rust name), for the fields that hold one and
    /// have no description of their own.
    pub type_docs: Vec<(String, String)>,
    /// The description of each property of a named type, by Rust type name and property name,
    /// for the fields whose description the generator dropped (a property typed by a
    /// replacement such as `SecretString`).
    pub property_docs: BTreeMap<(String, String), String>,
    /// The object types no request carries (by Rust name): only answers hold them, so only
    /// code that makes up answers (tests, mocks) needs their builders, which are built only
    /// with the crate's `answer-builders` feature.
    pub answer_only: BTreeSet<String>,
    /// The builders of the paged list operations, whose request can also be sent with the
    /// body left unread (`send_unread`), for `laserdata_core::paging::read_page`.
    pub paged_builders: Vec<String>,
}

/// The cargo feature that builds the builders of the types only answers hold.
const ANSWER_BUILDERS: &str = "answer-builders";

/// Shapes a generated client: its `types` module and its operation builders.
pub fn client(file: &mut syn::File, surface: &Surface) -> Result<(), String> {
    make_progenitor_error_private(&mut file.items);
    let types = module_items(&mut file.items, "types").ok_or("progenitor generated no `types` module")?;
    self::types(types, surface);
    let builders = module_items(&mut file.items, "builder").ok_or("progenitor generated no `builder` module")?;
    operation_builders(builders, surface)
}

/// Removes a generated `types` module from `file` and returns its items.
pub fn take_types_module(file: &mut syn::File) -> Option<Vec<Item>> {
    let position = file.items.iter().position(|item| matches!(item, Item::Mod(module) if module.ident == "types"))?;
    match file.items.remove(position) {
        Item::Mod(module) => module.content.map(|(_, items)| items),
        _ => None,
    }
}

/// Shapes the items of a `types` module (a layer's, or `laserdata_core::shared`).
pub fn types(items: &mut Vec<Item>, surface: &Surface) {
    let core: syn::Path = syn::parse_str(surface.core).expect("the core path is a path");
    if !surface.shared.is_empty() {
        let names = surface.shared.iter().map(|name| format_ident!("{name}"));
        items.insert(0, parse_quote!(pub use ::laserdata_core::shared::{#(#names),*};));
    }
    for (name, description) in &surface.ids {
        let name = format_ident!("{name}");
        let doc = description.map(str::trim).unwrap_or("An id.");
        items.push(parse_quote!(#core::id_type! { #[doc = #doc] #name }));
    }
    let added = [string_conversions(items), one_of_builders(items)].concat();
    items.extend(added);
    document_types(items, &surface.type_docs, &surface.property_docs);
    gate_answer_builders(items, &surface.answer_only);
}

/// Puts the builders of the types only answers hold behind the `answer-builders` feature. They
/// are half the generated code of a layer, and a program that only calls the API never builds
/// an answer; the httpmock crates, which make up answers, turn the feature on.
fn gate_answer_builders(items: &mut [Item], answer_only: &BTreeSet<String>) {
    if answer_only.is_empty() {
        return;
    }
    let gate: Attribute = parse_quote!(#[cfg(feature = #ANSWER_BUILDERS)]);
    for item in items.iter_mut() {
        match item {
            // `impl Widget { pub fn builder() -> builder::Widget }`
            Item::Impl(implementation)
                if implementation.trait_.is_none()
                    && type_ident(&implementation.self_ty).is_some_and(|name| answer_only.contains(&name)) =>
            {
                for member in &mut implementation.items {
                    if let ImplItem::Fn(function) = member
                        && function.sig.ident == "builder"
                    {
                        let note = format!(" Built with the `{ANSWER_BUILDERS}` feature: only answers hold this type.");
                        function.attrs.push(parse_quote!(#[doc = ""]));
                        function.attrs.push(parse_quote!(#[doc = #note]));
                        function.attrs.push(gate.clone());
                    }
                }
            }
            Item::Mod(module) if module.ident == "builder" => {
                for item in module.content.iter_mut().flat_map(|(_, items)| items.iter_mut()) {
                    if builder_item_subject(item).is_some_and(|name| answer_only.contains(&name)) {
                        item_attrs(item).push(gate.clone());
                    }
                }
            }
            _ => {}
        }
    }
}

/// The type a builder-module item is about: the builder struct itself, or the builder an impl
/// is for (`impl Default for Widget`, `impl TryFrom<Widget> for super::Widget`).
fn builder_item_subject(item: &Item) -> Option<String> {
    match item {
        Item::Struct(structure) => Some(structure.ident.to_string()),
        Item::Impl(implementation) => {
            let own = type_ident(&implementation.self_ty);
            let converted =
                implementation.trait_.as_ref().and_then(|(path, _)| match &path.segments.last()?.arguments {
                    syn::PathArguments::AngleBracketed(arguments) => match arguments.args.first()? {
                        syn::GenericArgument::Type(ty) => type_ident(ty),
                        _ => None,
                    },
                    _ => None,
                });
            // `impl TryFrom<Widget> for super::Widget` names the builder in its trait.
            own.or(converted)
        }
        _ => None,
    }
}

fn item_attrs(item: &mut Item) -> &mut Vec<Attribute> {
    match item {
        Item::Struct(item) => &mut item.attrs,
        Item::Impl(item) => &mut item.attrs,
        Item::Enum(item) => &mut item.attrs,
        Item::Fn(item) => &mut item.attrs,
        Item::Mod(item) => &mut item.attrs,
        Item::Use(item) => &mut item.attrs,
        Item::Macro(item) => &mut item.attrs,
        Item::Const(item) => &mut item.attrs,
        Item::Type(item) => &mut item.attrs,
        _ => unreachable!("typify's builder module holds structs and impls"),
    }
}

/// For every string newtype: `From<&str>` where typify gave only `From<String>` (the ones
/// without constraints), so that `.role_name("reader")` works like `.name("ci")`; and
/// `Display` where typify gave none (the constrained ones), so that every name prints.
fn string_conversions(items: &[Item]) -> Vec<Item> {
    let mut from_string = BTreeSet::new();
    let mut from_str = BTreeSet::new();
    let mut strings = BTreeSet::new();
    let mut display = BTreeSet::new();
    for item in items {
        let Item::Impl(implementation) = item else { continue };
        let (Some((trait_path, _)), Some(self_name)) = (&implementation.trait_, type_ident(&implementation.self_ty))
        else {
            continue;
        };
        let Some(last) = trait_path.segments.last() else { continue };
        if last.ident == "Display" {
            display.insert(self_name);
            continue;
        }
        let argument = match &last.arguments {
            syn::PathArguments::AngleBracketed(arguments) => arguments.args.first(),
            _ => None,
        };
        let Some(syn::GenericArgument::Type(argument)) = argument else { continue };
        let is_string =
            matches!(argument, Type::Path(path) if path.path.segments.last().is_some_and(|s| s.ident == "String"));
        let is_str = matches!(argument, Type::Reference(reference)
            if matches!(&*reference.elem, Type::Path(path) if path.path.is_ident("str")));
        match last.ident.to_string().as_str() {
            "From" if is_string => {
                from_string.insert(self_name.clone());
                strings.insert(self_name);
            }
            "TryFrom" if is_string => {
                strings.insert(self_name);
            }
            "TryFrom" | "From" if is_str => {
                from_str.insert(self_name);
            }
            _ => {}
        }
    }
    let newtypes = string_newtypes(items);
    let conversions = from_string.difference(&from_str).filter(|name| newtypes.contains(*name)).map(|name| {
        let name = format_ident!("{name}");
        parse_quote! {
            impl ::std::convert::From<&str> for #name {
                fn from(value: &str) -> Self {
                    Self(value.to_owned())
                }
            }
        }
    });
    let displays = strings.difference(&display).filter(|name| newtypes.contains(*name)).map(|name| {
        let name = format_ident!("{name}");
        parse_quote! {
            impl ::std::fmt::Display for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    ::std::fmt::Display::fmt(&self.0, f)
                }
            }
        }
    });
    conversions.chain(displays).collect()
}

/// The tuple structs with one `String` field.
fn string_newtypes(items: &[Item]) -> BTreeSet<String> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Struct(structure) => match &structure.fields {
                Fields::Unnamed(fields)
                    if fields.unnamed.len() == 1
                        && matches!(&fields.unnamed[0].ty, Type::Path(path)
                            if path.path.segments.last().is_some_and(|s| s.ident == "String")) =>
                {
                    Some(structure.ident.to_string())
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// For every enum whose variants each hold one struct with a builder (a `oneOf` of named
/// objects), `TryFrom<builder::Variant>`: a body setter then takes the variant's builder.
fn one_of_builders(items: &[Item]) -> Vec<Item> {
    let builders = builder_structs(items);
    let mut added = Vec::new();
    for item in items {
        let Item::Enum(enumeration) = item else { continue };
        let payloads: Vec<(syn::Ident, String)> = enumeration
            .variants
            .iter()
            .filter_map(|variant| match &variant.fields {
                Fields::Unnamed(fields) if fields.unnamed.len() == 1 => {
                    type_ident(&fields.unnamed[0].ty).map(|payload| (variant.ident.clone(), payload))
                }
                _ => None,
            })
            .collect();
        for (variant, payload) in &payloads {
            let unique = payloads.iter().filter(|(_, other)| other == payload).count() == 1;
            if !unique || !builders.contains(payload) {
                continue;
            }
            let (name, payload) = (&enumeration.ident, format_ident!("{payload}"));
            added.push(parse_quote! {
                impl ::std::convert::TryFrom<builder::#payload> for #name {
                    type Error = error::ConversionError;

                    fn try_from(value: builder::#payload) -> ::std::result::Result<Self, error::ConversionError> {
                        Ok(Self::#variant(value.try_into()?))
                    }
                }
            });
        }
    }
    added
}

/// The names of the structs in a `types` module's `builder` module.
fn builder_structs(items: &[Item]) -> BTreeSet<String> {
    items
        .iter()
        .find_map(|item| match item {
            Item::Mod(module) if module.ident == "builder" => module.content.as_ref(),
            _ => None,
        })
        .map(|(_, items)| {
            items
                .iter()
                .filter_map(|item| match item {
                    Item::Struct(structure) => Some(structure.ident.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Documents what typify leaves bare: enum values (by their text on the wire), `builder()`
/// functions, builder structs and their setters (with the field's own documentation).
/// The name a field has in JSON: its `#[serde(rename = "..")]`, else its own (without `r#`).
fn wire_field_name(ident: &syn::Ident, attrs: &[Attribute]) -> String {
    wire_name(attrs).unwrap_or_else(|| ident.to_string().trim_start_matches("r#").to_owned())
}

fn document_types(
    items: &mut [Item],
    type_docs: &[(String, String)],
    property_docs: &BTreeMap<(String, String), String>,
) {
    let mut field_docs: Vec<(String, String, Vec<Attribute>)> = Vec::new();
    for item in items.iter_mut() {
        match item {
            // A field that is a named type, with no description of its own, is described by its
            // type's description (as the spec's description rule counts it).
            Item::Struct(structure) if matches!(structure.fields, Fields::Named(_)) => {
                let Fields::Named(fields) = &mut structure.fields else { continue };
                let owner = structure.ident.to_string();
                for field in fields.named.iter_mut().filter(|field| !has_doc(&field.attrs)) {
                    let property = field.ident.as_ref().map(|ident| wire_field_name(ident, &field.attrs));
                    let own = property.and_then(|property| property_docs.get(&(owner.clone(), property)));
                    let named = named_type(&field.ty);
                    let of_type = type_docs.iter().find(|(name, _)| Some(name) == named.as_ref()).map(|(_, doc)| doc);
                    let flattened = is_flattened(&field.attrs);
                    let doc = match (own.or(of_type), flattened) {
                        (Some(doc), _) => doc.clone(),
                        // `additionalProperties`: typify keeps what the schema does not name here.
                        (None, true) => "The members the schema does not name, as they came.".to_owned(),
                        (None, false) => continue,
                    };
                    field.attrs.insert(0, parse_quote!(#[doc = #doc]));
                }
                let Fields::Named(fields) = &structure.fields else { continue };
                for field in &fields.named {
                    let docs: Vec<Attribute> =
                        field.attrs.iter().filter(|a| a.path().is_ident("doc")).cloned().collect();
                    if let Some(name) = &field.ident {
                        field_docs.push((structure.ident.to_string(), name.to_string(), docs));
                    }
                }
            }
            Item::Enum(enumeration) => {
                for variant in &mut enumeration.variants {
                    if !has_doc(&variant.attrs) {
                        let doc = match wire_name(&variant.attrs) {
                            Some(text) => format!("`{text}`"),
                            None => format!("A `{}`.", type_text(&variant.fields)),
                        };
                        variant.attrs.insert(0, parse_quote!(#[doc = #doc]));
                    }
                }
            }
            Item::Impl(implementation) if implementation.trait_.is_none() => {
                for member in &mut implementation.items {
                    if let ImplItem::Fn(function) = member
                        && function.sig.ident == "builder"
                        && !has_doc(&function.attrs)
                    {
                        function.attrs.push(parse_quote!(#[doc = "A builder for this type: set the fields one by one; it converts into the type (with `try_into()`) or goes where the type is expected."]));
                    }
                }
            }
            _ => {}
        }
    }
    let Some(builder_items) = items.iter_mut().find_map(|item| match item {
        Item::Mod(module) if module.ident == "builder" => module.content.as_mut().map(|(_, items)| items),
        _ => None,
    }) else {
        return;
    };
    for item in builder_items {
        match item {
            Item::Struct(structure) if !has_doc(&structure.attrs) => {
                let doc = format!("A builder for [`super::{}`].", structure.ident);
                structure.attrs.push(parse_quote!(#[doc = #doc]));
            }
            Item::Impl(implementation) if implementation.trait_.is_none() => {
                let Some(owner) = type_ident(&implementation.self_ty) else { continue };
                for member in &mut implementation.items {
                    let ImplItem::Fn(function) = member else { continue };
                    if has_doc(&function.attrs) {
                        continue;
                    }
                    let field = function.sig.ident.to_string();
                    match field_docs.iter().find(|(structure, name, _)| *structure == owner && *name == field) {
                        Some((_, _, docs)) if !docs.is_empty() => function.attrs.extend(docs.iter().cloned()),
                        _ => {
                            let doc = format!("Sets `{field}`.");
                            function.attrs.push(parse_quote!(#[doc = #doc]));
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Reshapes progenitor's operation builders: `send()` fails with `laserdata_core::Error`, and
/// setters are documented with their parameter's description. The builder of a paged list
/// keeps progenitor's request as `send_unread`, answering with the body unread, and its
/// `send()` decodes that body whole.
fn operation_builders(items: &mut Vec<Item>, surface: &Surface) -> Result<(), String> {
    let core: syn::Path = syn::parse_str(surface.core).expect("the core path is a path");
    let tails = ExchangeTails::new();
    let mut shared = false;
    for item in items.iter_mut() {
        let Item::Impl(implementation) = item else { continue };
        if implementation.trait_.is_some() {
            continue;
        }
        let Some(builder) = type_ident(&implementation.self_ty) else { continue };
        let mut typed_send = None;
        for member in &mut implementation.items {
            let ImplItem::Fn(function) = member else { continue };
            let name = function.sig.ident.to_string();
            match name.as_str() {
                "send" => {
                    let Some(success) = success_type(&function.sig.output) else { continue };
                    let docs: Vec<Attribute> =
                        function.attrs.iter().filter(|a| a.path().is_ident("doc")).cloned().collect();
                    function.attrs.retain(|a| !a.path().is_ident("doc"));
                    function.vis = Visibility::Inherited;
                    let paged = surface.paged_builders.contains(&builder);
                    share_the_exchange(function, &tails, paged)
                        .map_err(|why| format!("cannot share the exchange of `{builder}`: {why}"))?;
                    shared = true;
                    if paged {
                        become_send_unread(function);
                    } else {
                        function.sig.ident = format_ident!("send_raw");
                    }
                    typed_send = Some(send_with_typed_errors(&core, &docs, &success, paged));
                }
                "new" if !has_doc(&function.attrs) => {
                    let operation = snake_case(&builder);
                    let doc = format!(
                        "A request on `client`; [`Client::{operation}`](super::Client::{operation}) is the usual way to start one."
                    );
                    function.attrs.push(parse_quote!(#[doc = #doc]));
                }
                "body" if !has_doc(&function.attrs) => {
                    function.attrs.push(parse_quote!(#[doc = "The request body: the body type, or its builder."]));
                }
                "body_map" if !has_doc(&function.attrs) => {
                    function.attrs.push(parse_quote!(#[doc = "Changes the request body through its builder, starting from the one set so far (or an empty one)."]));
                }
                _ if !has_doc(&function.attrs) => {
                    if let Some((_, _, doc)) =
                        // A parameter named after a keyword gets a setter with a `_` after it.
                        surface.parameter_docs.iter().find(|(owner, setter, _)| {
                            *owner == builder && (*setter == name || format!("{setter}_") == name)
                        })
                    {
                        function.attrs.push(parse_quote!(#[doc = #doc]));
                    }
                }
                _ => {}
            }
        }
        if let Some(send) = typed_send {
            implementation.items.push(send);
        }
    }
    if shared {
        items.push(exchange_function());
    }
    Ok(())
}

/// How a `send` of progenitor's treats a success answer: the last statements of its body, from
/// the `pre` hook to the status match, are the same in every operation but for the 2xx arm.
#[derive(Clone, Copy)]
enum Success {
    /// `ResponseValue::from_response(response).await`: the body decoded as JSON.
    Decoded,
    /// `Ok(ResponseValue::empty(response))`: no body.
    Empty,
    /// `Ok(ResponseValue::stream(response))`: the body left unread.
    Unread,
}

impl Success {
    const ALL: [Success; 3] = [Success::Decoded, Success::Empty, Success::Unread];

    /// The 2xx arm's expression, on the `response` it matched.
    fn arm(self) -> TokenStream {
        match self {
            Success::Decoded => quote!(ResponseValue::from_response(response).await),
            Success::Empty => quote!(Ok(ResponseValue::empty(response))),
            Success::Unread => quote!(Ok(ResponseValue::stream(response))),
        }
    }

    /// The same expression on the response `exchange` hands back.
    fn on_exchange(self) -> syn::Expr {
        let response = quote!(exchange(client, request, &info).await?);
        match self {
            Success::Decoded => parse_quote!(ResponseValue::from_response(#response).await),
            Success::Empty => parse_quote!(Ok(ResponseValue::empty(#response))),
            Success::Unread => parse_quote!(Ok(ResponseValue::stream(#response))),
        }
    }
}

/// The text of the statements progenitor ends a `send` with, for each kind of success arm.
struct ExchangeTails(Vec<(Success, Vec<String>)>);

impl ExchangeTails {
    fn new() -> Self {
        let tails = Success::ALL.map(|success| {
            let arm = success.arm();
            let statements: Vec<syn::Stmt> = parse_quote! {
                client.pre(&mut request, &info).await?;
                let result = client.exec(request, &info).await;
                client.post(&result, &info).await?;
                let response = result?;
                match response.status().as_u16() {
                    200..=299 => { #arm }
                    400u16..=499u16 => { Err(Error::ErrorResponse(ResponseValue::stream(response))) }
                    500u16..=599u16 => { Err(Error::ErrorResponse(ResponseValue::stream(response))) }
                    _ => Err(Error::UnexpectedResponse(response)),
                }
            };
            (success, statements.iter().map(|statement| statement.to_token_stream().to_string()).collect())
        });
        ExchangeTails(tails.into())
    }
}

/// Replaces the end of a `send` body (hooks, status match) with a call of the one `exchange`
/// function every send shares ([`exchange_function`]), followed by the operation's own 2xx
/// handling; a paged list's `send` (`paged`) must decode its success body, and leaves it
/// unread instead, for `laserdata_core::paging::read_page`. The statements are compared with
/// progenitor's exact text, so that a generator change that alters them fails codegen instead
/// of being dropped. Each operation then type-checks two `await`s and no match instead of four
/// and a match: about 6 % of the Main crate's compile time. The nesting of futures stays as
/// deep as before (send, exchange, hook instead of send, hook), so a call's future does not
/// grow.
fn share_the_exchange(function: &mut syn::ImplItemFn, tails: &ExchangeTails, paged: bool) -> Result<(), String> {
    let statements = &mut function.block.stmts;
    let start = statements.len().checked_sub(5).ok_or("fewer statements than the hooks need")?;
    let tail: Vec<String> =
        statements[start..].iter().map(|statement| statement.to_token_stream().to_string()).collect();
    let (success, _) = tails
        .0
        .iter()
        .find(|(_, expected)| *expected == tail)
        .ok_or("the hooks and status match are not progenitor's usual ones")?;
    let success = match (paged, *success) {
        (false, success) => success,
        (true, Success::Decoded) => Success::Unread,
        (true, _) => return Err("a paged list's `send` does not decode its success body".into()),
    };
    statements.truncate(start);
    statements.push(syn::Stmt::Expr(success.on_exchange(), None));
    Ok(())
}

/// The function every `send` ends with (see [`share_the_exchange`]), added once to the
/// `builder` module. It takes the concrete client, so the hooks' futures stay `Send`.
fn exchange_function() -> Item {
    parse_quote! {
        /// Runs the hooks around `request` and sorts the answer by status: a 2xx answer comes
        /// back, a 4xx or 5xx one is an error answer with its body unread, any other status is
        /// unexpected.
        async fn exchange(
            client: &super::Client,
            mut request: ::reqwest::Request,
            info: &OperationInfo,
        ) -> Result<::reqwest::Response, Error<ByteStream>> {
            client.pre(&mut request, info).await?;
            let result = client.exec(request, info).await;
            client.post(&result, info).await?;
            let response = result?;
            match response.status().as_u16() {
                200..=299 => Ok(response),
                400u16..=599u16 => Err(Error::ErrorResponse(ResponseValue::stream(response))),
                _ => Err(Error::UnexpectedResponse(response)),
            }
        }
    }
}

/// Turns a paged list's `send`, once [`share_the_exchange`] left its success body unread, into
/// `send_unread`.
fn become_send_unread(function: &mut syn::ImplItemFn) {
    function.sig.ident = format_ident!("send_unread");
    // For the crate's `PagedRequest` implementation, outside the `builder` module.
    function.vis = parse_quote!(pub(crate));
    function.sig.output = parse_quote!(-> Result<ResponseValue<ByteStream>, Error<ByteStream>>);
}

/// The public `send()`: progenitor's request, failing with `laserdata_core::Error`; for a paged
/// list, `send_unread` and the whole body decoded.
fn send_with_typed_errors(core: &syn::Path, docs: &[Attribute], success: &Type, paged: bool) -> ImplItem {
    let note = " Fails with [`Error`](laserdata_core::Error): an error answer (its status, problem \
                document and `ld-request` id), a transport failure or timeout after the client's \
                retries, or a body that does not match the API description.";
    let call: syn::Expr = if paged {
        parse_quote!(async move { #core::paging::read_whole(self.send_unread().await?).await })
    } else {
        parse_quote!(self.send_raw())
    };
    parse_quote! {
        #(#docs)*
        #[doc = ""]
        #[doc = #note]
        pub async fn send(self) -> ::std::result::Result<ResponseValue<#success>, #core::Error> {
            #core::error::finish(#call).await
        }
    }
}

/// `T` of a `Result<ResponseValue<T>, _>` return type.
fn success_type(output: &ReturnType) -> Option<Type> {
    let ReturnType::Type(_, output) = output else { return None };
    let response_value = first_generic(output)?;
    first_generic(&response_value)
}

/// The first generic type argument of a path type (`T` of `Foo<T, U>`).
fn first_generic(ty: &Type) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    match &path.path.segments.last()?.arguments {
        syn::PathArguments::AngleBracketed(arguments) => arguments.args.iter().find_map(|argument| match argument {
            syn::GenericArgument::Type(ty) => Some(ty.clone()),
            _ => None,
        }),
        _ => None,
    }
}

/// Progenitor re-exports its own `Error` from the crate root; the crate's calls fail with
/// `laserdata_core::Error`, so the other one would only mislead. It stays imported privately,
/// for the generated code that names it.
fn make_progenitor_error_private(items: &mut Vec<Item>) {
    let Some(position) = items.iter().position(|item| {
        matches!(item, Item::Use(declaration) if matches!(declaration.vis, Visibility::Public(_))
            && quote!(#declaration).to_string().contains("progenitor_client"))
    }) else {
        return;
    };
    let Item::Use(declaration) = &items[position] else { return };
    let tree = quote!(#declaration).to_string();
    if !tree.contains("Error") {
        return;
    }
    let Item::Use(mut public) = items.remove(position) else { return };
    remove_use_name(&mut public.tree, "Error");
    items.insert(position, Item::Use(public));
    items.insert(
        position + 1,
        parse_quote!(
            #[allow(unused_imports)]
            use progenitor_client::Error;
        ),
    );
}

/// Removes `name` from a `use a::{b, name, c}` tree.
fn remove_use_name(tree: &mut syn::UseTree, name: &str) {
    match tree {
        syn::UseTree::Path(path) => remove_use_name(&mut path.tree, name),
        syn::UseTree::Group(group) => {
            group.items = group
                .items
                .iter()
                .filter(|item| !matches!(item, syn::UseTree::Name(used) if used.ident == name))
                .cloned()
                .collect();
        }
        _ => {}
    }
}

/// Adds `problem(status, &ErrorResponse)` to every mocked answer (`*Then`): the API's error
/// body, typed, with the content type the API sends it with.
pub fn mocks(file: &mut syn::File) {
    visit_impls(&mut file.items, &mut |implementation| {
        if implementation.trait_.is_some()
            || !type_ident(&implementation.self_ty).is_some_and(|name| name.ends_with("Then"))
        {
            return;
        }
        implementation.items.push(parse_quote! {
            /// Answers `status` (a 4xx or 5xx) with the API's problem document, as
            /// `application/problem+json`.
            pub fn problem(self, status: u16, problem: &::laserdata_core::shared::ErrorResponse) -> Self {
                assert!((400..600).contains(&status), "a problem answer has a 4xx or 5xx status");
                Self(
                    self.0
                        .status(status)
                        .header("content-type", "application/problem+json")
                        .json_body_obj(problem),
                )
            }
        });
    });
}

fn visit_impls(items: &mut [Item], visit: &mut impl FnMut(&mut syn::ItemImpl)) {
    for item in items {
        match item {
            Item::Impl(implementation) => visit(implementation),
            Item::Mod(module) => {
                if let Some((_, items)) = &mut module.content {
                    visit_impls(items, visit);
                }
            }
            _ => {}
        }
    }
}

/// The items of the top-level module `name`.
fn module_items<'a>(items: &'a mut [Item], name: &str) -> Option<&'a mut Vec<Item>> {
    items.iter_mut().find_map(|item| match item {
        Item::Mod(module) if module.ident == name => module.content.as_mut().map(|(_, items)| items),
        _ => None,
    })
}

/// The name of a type written as one identifier, possibly with lifetimes (`GetApiKeys<'a>`).
fn type_ident(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(path) if path.qself.is_none() && path.path.segments.len() == 1 => {
            Some(path.path.segments[0].ident.to_string())
        }
        _ => None,
    }
}

/// The name of the type a field holds, looking through `Option` and `Open` (`Option<::x::TenantId>`
/// is `TenantId`); `None` for lists, maps and built-in types.
fn named_type(ty: &Type) -> Option<String> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    match last.ident.to_string().as_str() {
        "Option" | "Open" => first_generic(ty).and_then(|inner| named_type(&inner)),
        "Vec" | "HashMap" | "BTreeMap" | "String" | "DateTime" | "Value" | "SecretString" => None,
        name => Some(name.to_owned()),
    }
}

fn has_doc(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attribute| attribute.path().is_ident("doc"))
}

/// The text of `#[serde(rename = "...")]`, the value as the API writes it.
fn wire_name(attrs: &[Attribute]) -> Option<String> {
    serde_items(attrs).into_iter().find_map(|(name, value)| if name == "rename" { value } else { None })
}

/// Whether a field carries `#[serde(flatten)]`.
fn is_flattened(attrs: &[Attribute]) -> bool {
    serde_items(attrs).iter().any(|(name, _)| name == "flatten")
}

/// Every `name` and `name = value` of the `#[serde(..)]` attributes, with the value when it is
/// a string literal. Every value is read, so that one before `rename` does not end the walk.
fn serde_items(attrs: &[Attribute]) -> Vec<(String, Option<String>)> {
    let mut items = Vec::new();
    for attribute in attrs.iter().filter(|attribute| attribute.path().is_ident("serde")) {
        let _ = attribute.parse_nested_meta(|meta| {
            let name = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
            let value = if meta.input.peek(syn::Token![=]) {
                match meta.value()?.parse::<syn::Expr>()? {
                    syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(text), .. }) => Some(text.value()),
                    _ => None,
                }
            } else {
                None
            };
            items.push((name, value));
            Ok(())
        });
    }
    items
}

fn type_text(fields: &Fields) -> String {
    let tokens: TokenStream = match fields {
        Fields::Unnamed(fields) => fields.unnamed.iter().map(|field| field.ty.clone()).map(|ty| quote!(#ty)).collect(),
        _ => TokenStream::new(),
    };
    tokens.to_string().replace(' ', "")
}

/// The setter progenitor names after a parameter (`idempotency-key` becomes `idempotency_key`).
pub fn setter_name(parameter: &str) -> String {
    parameter.replace(['-', '.'], "_").to_lowercase()
}

/// `GetApiKeys` as `get_api_keys`.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (index, character) in name.chars().enumerate() {
        if character.is_ascii_uppercase() {
            if index > 0 {
                out.push('_');
            }
            out.push(character.to_ascii_lowercase());
        } else {
            out.push(character);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_undoes_the_operation_builder_name() {
        assert_eq!(snake_case("GetApiKeys"), "get_api_keys");
        assert_eq!(setter_name("idempotency-key"), "idempotency_key");
    }

    /// A `send` as progenitor 0.15 ends it, with `arm` as its 2xx arm and `extra` as its last
    /// arm before the catch-all.
    fn progenitor_send(arm: TokenStream, extra: TokenStream) -> syn::ImplItemFn {
        parse_quote! {
            async fn send(self) -> Result<ResponseValue<types::Widget>, Error<ByteStream>> {
                let Self { client } = self;
                let mut request = client.client.get("http://widgets").build()?;
                let info = OperationInfo { operation_id: "get_widget" };
                client.pre(&mut request, &info).await?;
                let result = client.exec(request, &info).await;
                client.post(&result, &info).await?;
                let response = result?;
                match response.status().as_u16() {
                    200..=299 => { #arm }
                    400u16..=499u16 => { Err(Error::ErrorResponse(ResponseValue::stream(response))) }
                    500u16..=599u16 => { Err(Error::ErrorResponse(ResponseValue::stream(response))) }
                    #extra
                    _ => Err(Error::UnexpectedResponse(response)),
                }
            }
        }
    }

    fn text(function: &syn::ImplItemFn) -> String {
        function.block.to_token_stream().to_string()
    }

    #[test]
    fn a_send_ends_in_the_shared_exchange_with_its_own_success_handling() {
        let tails = ExchangeTails::new();
        for (arm, ending) in [
            (
                quote!(ResponseValue::from_response(response).await),
                quote!(ResponseValue::from_response(exchange(client, request, &info).await?).await),
            ),
            (
                quote!(Ok(ResponseValue::empty(response))),
                quote!(Ok(ResponseValue::empty(exchange(client, request, &info).await?))),
            ),
            (
                quote!(Ok(ResponseValue::stream(response))),
                quote!(Ok(ResponseValue::stream(exchange(client, request, &info).await?))),
            ),
        ] {
            let mut send = progenitor_send(arm, quote!());
            share_the_exchange(&mut send, &tails, false).unwrap();
            assert_eq!(send.block.stmts.len(), 4, "{}", text(&send));
            assert!(text(&send).ends_with(&format!("{ending} }}")), "{}", text(&send));
        }
    }

    /// A paged list's `send` decodes its body; for paging, the body is left unread instead.
    #[test]
    fn a_paged_send_leaves_its_decoded_body_unread_and_nothing_else_is_paged() {
        let tails = ExchangeTails::new();
        let mut send = progenitor_send(quote!(ResponseValue::from_response(response).await), quote!());
        share_the_exchange(&mut send, &tails, true).unwrap();
        let ending = quote!(Ok(ResponseValue::stream(exchange(client, request, &info).await?)));
        assert!(text(&send).ends_with(&format!("{ending} }}")), "{}", text(&send));

        let mut send = progenitor_send(quote!(Ok(ResponseValue::empty(response))), quote!());
        let before = text(&send);
        let refusal = share_the_exchange(&mut send, &tails, true).unwrap_err();
        assert!(refusal.contains("does not decode its success body"), "{refusal}");
        assert_eq!(text(&send), before);
    }

    /// A progenitor that answers some other way (here: a 3xx arm) must stop codegen, not lose
    /// the arm.
    #[test]
    fn a_send_progenitor_ends_differently_is_refused_and_left_alone() {
        let tails = ExchangeTails::new();
        let mut send = progenitor_send(
            quote!(ResponseValue::from_response(response).await),
            quote!(300u16..=399u16 => { Ok(ResponseValue::empty(response)) }),
        );
        let before = text(&send);
        let refusal = share_the_exchange(&mut send, &tails, false).unwrap_err();
        assert!(refusal.contains("not progenitor's usual ones"), "{refusal}");
        assert_eq!(text(&send), before);
    }
}
