//! Turns a layer source plus the shared components file into one self-contained document.
//!
//! A `$ref` into the shared file must name a whole component (`shared.yaml#/components/<kind>/<name>`).
//! That component is copied under the same name into the layer's `components`, together with
//! everything it references in turn, and the `$ref` is rewritten to the local copy. A layer
//! entry that only points at the shared component of the same name (as `securitySchemes`
//! entries must, since security requirements name schemes rather than referencing them) is
//! replaced by the copy.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::diagnostic::{Diagnostic, push_token, tokens};
use crate::spec::source::Source;

/// A bundled document and the knowledge of which file each part came from.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub doc: Value,
    layer: Source,
    shared: Source,
    /// Pointers (`/components/<kind>/<name>`) of the components copied from the shared file.
    copied: BTreeSet<String>,
}

impl Bundle {
    /// A diagnostic about the bundled node at `pointer`, placed in the file it came from.
    pub fn diagnostic(&self, pointer: &str, message: impl Into<String>) -> Diagnostic {
        let from_shared =
            self.copied.iter().any(|prefix| pointer == prefix || pointer.starts_with(&format!("{prefix}/")));
        if from_shared { &self.shared } else { &self.layer }.diagnostic(pointer, message)
    }

    /// The bundled node at a local reference such as `#/components/schemas/Foo`.
    pub fn resolve_ref(&self, reference: &str) -> Option<&Value> {
        self.doc.pointer(&decode_fragment(reference.strip_prefix('#')?))
    }

    /// Follows `$ref`s (within the bundle) until a node that is not a reference.
    pub fn deref<'a>(&'a self, mut node: &'a Value) -> &'a Value {
        // A bound on the hops guards against reference cycles.
        for _ in 0..32 {
            match node.get("$ref").and_then(Value::as_str).and_then(|r| self.resolve_ref(r)) {
                Some(target) => node = target,
                None => break,
            }
        }
        node
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    Layer,
    Shared,
}

struct Bundler<'a> {
    layer: &'a Source,
    shared: &'a Source,
    shared_name: String,
    wanted: Vec<(String, String)>,
    errors: Vec<Diagnostic>,
}

/// Bundles `layer` with the components it uses from `shared`.
pub fn bundle(layer: &Source, shared: &Source) -> Result<Bundle, Vec<Diagnostic>> {
    let shared_name = file_name(&shared.path);
    let mut bundler = Bundler { layer, shared, shared_name, wanted: Vec::new(), errors: Vec::new() };
    let mut doc = layer.doc.clone();
    bundler.rewrite(&mut doc, "", Origin::Layer);

    let mut copied = BTreeSet::new();
    while let Some((kind, name)) = bundler.wanted.pop() {
        let pointer = push_token(&push_token("/components", &kind), &name);
        if !copied.insert(pointer.clone()) {
            continue;
        }
        let mut component = shared.doc.pointer(&pointer).cloned().unwrap_or(Value::Null);
        bundler.rewrite(&mut component, &pointer, Origin::Shared);
        let section = doc
            .as_object_mut()
            .expect("an OpenAPI document is a mapping")
            .entry("components")
            .or_insert_with(|| Value::Object(Default::default()))
            .as_object_mut()
            .and_then(|components| {
                components.entry(kind.clone()).or_insert_with(|| Value::Object(Default::default())).as_object_mut()
            });
        let Some(section) = section else {
            bundler.errors.push(layer.diagnostic(&format!("/components/{kind}"), "must be a mapping"));
            continue;
        };
        let local_ref = format!("#{pointer}");
        match section.get(&name) {
            Some(existing) if existing.get("$ref").and_then(Value::as_str) != Some(&local_ref) => {
                bundler.errors.push(layer.diagnostic(
                    &pointer,
                    format!("`{name}` is defined here and in {}; rename one of them", shared.path.display()),
                ));
            }
            _ => {
                section.insert(name, component);
            }
        }
    }
    if !bundler.errors.is_empty() {
        return Err(bundler.errors);
    }
    Ok(Bundle { doc, layer: layer.clone(), shared: shared.clone(), copied })
}

impl Bundler<'_> {
    fn rewrite(&mut self, node: &mut Value, pointer: &str, origin: Origin) {
        match node {
            Value::Object(object) => {
                if let Some(Value::String(reference)) = object.get("$ref") {
                    let reference = reference.clone();
                    let at = push_token(pointer, "$ref");
                    if let Some(local) = self.resolve(&reference, &at, origin) {
                        object.insert("$ref".into(), Value::String(local));
                    }
                }
                for (key, child) in object.iter_mut() {
                    if key != "$ref" {
                        self.rewrite(child, &push_token(pointer, key), origin);
                    }
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter_mut().enumerate() {
                    self.rewrite(child, &push_token(pointer, &index.to_string()), origin);
                }
            }
            _ => {}
        }
    }

    /// Checks one reference and returns what it becomes in the bundle.
    fn resolve(&mut self, reference: &str, at: &str, origin: Origin) -> Option<String> {
        let source = match origin {
            Origin::Layer => self.layer,
            Origin::Shared => self.shared,
        };
        let (file, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let target = if file.is_empty() {
            origin
        } else if file.trim_start_matches("./") == self.shared_name {
            Origin::Shared
        } else {
            self.errors.push(source.diagnostic(
                at,
                format!("`{reference}` names a file other than {}; only that file may be referenced", self.shared_name),
            ));
            return None;
        };
        let target_source = match target {
            Origin::Layer => self.layer,
            Origin::Shared => self.shared,
        };
        let pointer = decode_fragment(fragment);
        if target_source.doc.pointer(&pointer).is_none() {
            self.errors.push(source.diagnostic(
                at,
                format!(
                    "unresolved reference `{reference}`: {} has nothing at #{pointer}",
                    target_source.path.display()
                ),
            ));
            return None;
        }
        if target == Origin::Layer {
            return Some(format!("#{pointer}"));
        }
        match tokens(&pointer).as_slice() {
            [components, kind, name] if components == "components" => {
                self.wanted.push((kind.clone(), name.clone()));
                Some(format!("#{pointer}"))
            }
            _ => {
                self.errors.push(source.diagnostic(
                    at,
                    format!(
                        "`{reference}` must name a whole component, as in `{}#/components/<kind>/<name>`",
                        self.shared_name
                    ),
                ));
                None
            }
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Undoes the percent-encoding a URI fragment may use (`%7B` for `{`), leaving a JSON pointer.
fn decode_fragment(fragment: &str) -> String {
    let bytes = fragment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes.get(index + 1..index + 3).and_then(|pair| std::str::from_utf8(pair).ok());
        match (bytes[index], hex.and_then(|pair| u8::from_str_radix(pair, 16).ok())) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn source(name: &str, text: &str) -> Source {
        Source::parse(PathBuf::from(name), text).unwrap()
    }

    const SHARED: &str = "components:\n  schemas:\n    Id: {type: integer}\n    Wrapper:\n      type: object\n      properties:\n        id: {$ref: '#/components/schemas/Id'}\n  securitySchemes:\n    key: {type: apiKey, in: header, name: k}\n";

    #[test]
    fn copies_referenced_shared_components_transitively() {
        let layer = source(
            "openapi/l.yaml",
            "paths: {}\ncomponents:\n  schemas:\n    Local:\n      $ref: 'shared.yaml#/components/schemas/Wrapper'\n  securitySchemes:\n    key: {$ref: 'shared.yaml#/components/securitySchemes/key'}\n",
        );
        let bundle = bundle(&layer, &source("openapi/shared.yaml", SHARED)).unwrap();
        let schemas = &bundle.doc["components"]["schemas"];
        assert_eq!(schemas["Local"]["$ref"], "#/components/schemas/Wrapper");
        assert_eq!(schemas["Wrapper"]["properties"]["id"]["$ref"], "#/components/schemas/Id");
        assert_eq!(schemas["Id"]["type"], "integer");
        assert_eq!(bundle.doc["components"]["securitySchemes"]["key"]["type"], "apiKey");
        // Messages about copied parts point into the shared file.
        assert_eq!(bundle.diagnostic("/components/schemas/Id/type", "x").file, PathBuf::from("openapi/shared.yaml"));
        assert_eq!(bundle.diagnostic("/components/schemas/Local", "x").file, PathBuf::from("openapi/l.yaml"));
    }

    #[test]
    fn unresolved_references_name_file_line_and_pointer() {
        let layer = source("openapi/l.yaml", "paths: {}\nx:\n  y:\n    $ref: 'shared.yaml#/components/schemas/Nope'\n");
        let errors = bundle(&layer, &source("openapi/shared.yaml", SHARED)).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].pointer, "/x/y/$ref");
        assert_eq!(errors[0].position.map(|p| p.line), Some(4));
        assert!(errors[0].message.contains("unresolved reference"), "{}", errors[0]);
    }

    #[test]
    fn a_clash_between_layer_and_shared_names_is_an_error() {
        let layer = source(
            "openapi/l.yaml",
            "components:\n  schemas:\n    Id: {type: string}\n    Use: {$ref: 'shared.yaml#/components/schemas/Id'}\n",
        );
        let errors = bundle(&layer, &source("openapi/shared.yaml", SHARED)).unwrap_err();
        assert!(errors[0].message.contains("`Id` is defined here and in"), "{}", errors[0]);
    }

    #[test]
    fn fragments_are_percent_decoded() {
        assert_eq!(decode_fragment("/paths/~1a~1%7Bid%7D"), "/paths/~1a~1{id}");
    }
}
