//! Turns a layer's sources plus the shared components file into one self-contained document.
//!
//! A layer is a root file (info, servers, security, tags) and, optionally, one file per tag
//! in a folder beside it, each holding `paths` and `components`; they are merged into one
//! document in which a local `$ref` (`#/components/...`) may name a component of any of them.
//!
//! A `$ref` into the shared file must name a whole component (`shared.yaml#/components/<kind>/<name>`).
//! That component is copied under the same name into the layer's `components`, together with
//! everything it references in turn, and the `$ref` is rewritten to the local copy. A layer
//! entry that only points at the shared component of the same name (as `securitySchemes`
//! entries must, since security requirements name schemes rather than referencing them) is
//! replaced by the copy.

use std::path::Path;

use laserdata_spec::pointer::decode_fragment;
use serde_json::{Map, Value};

use crate::diagnostic::{Diagnostic, push_token, tokens};
use crate::spec::source::Source;

/// The keys a per-tag part file may have.
const PART_KEYS: [&str; 2] = ["paths", "components"];

/// A bundled document and the knowledge of which file each part came from.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub doc: Value,
    /// The layer's root file first, then its parts, then the shared file.
    sources: Vec<Source>,
    /// Pointer prefixes (`/paths/<path>`, `/components/<kind>/<name>`) and the source each came from.
    origins: Vec<(String, usize)>,
}

impl Bundle {
    fn source_of(&self, pointer: &str) -> &Source {
        let index = self
            .origins
            .iter()
            .find(|(prefix, _)| {
                pointer.strip_prefix(prefix.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
            .map_or(0, |(_, index)| *index);
        &self.sources[index]
    }

    /// A diagnostic about the bundled node at `pointer`, placed in the file it came from.
    pub fn diagnostic(&self, pointer: &str, message: impl Into<String>) -> Diagnostic {
        self.source_of(pointer).diagnostic(pointer, message)
    }

    /// The bundled node at a local reference such as `#/components/schemas/Foo`.
    pub fn resolve_ref(&self, reference: &str) -> Option<&Value> {
        laserdata_spec::refs::resolve_ref(&self.doc, reference)
    }

    /// The names of the component schemas that were copied in from the shared file.
    pub fn shared_schemas(&self) -> Vec<&str> {
        let shared_index = self.sources.len() - 1;
        self.origins
            .iter()
            .filter(|(_, index)| *index == shared_index)
            .filter_map(|(pointer, _)| pointer.strip_prefix("/components/schemas/"))
            .collect()
    }

    /// Follows `$ref`s (within the bundle) until a node that is not a reference.
    pub fn deref<'a>(&'a self, node: &'a Value) -> &'a Value {
        laserdata_spec::refs::deref(&self.doc, node)
    }
}

/// Bundles a layer (its root file, then its part files) with the components it uses from `shared`.
pub fn bundle(root: Source, parts: Vec<Source>, shared: Source) -> Result<Bundle, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut doc = root.doc.clone();
    let mut origins = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        merge_part(&mut doc, part, index + 1, &mut origins, &mut errors);
    }
    let shared_index = parts.len() + 1;
    let mut sources = vec![root];
    sources.extend(parts);
    sources.push(shared);
    let mut bundle = Bundle { doc: Value::Null, sources, origins };
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut bundler =
        Bundler { bundle: &bundle, layer_doc: &doc, shared_index, wanted: Vec::new(), errors: Vec::new() };
    let mut rewritten = doc.clone();
    bundler.rewrite(&mut rewritten, "", false);

    let mut copied = Vec::new();
    while let Some((kind, name)) = bundler.wanted.pop() {
        let pointer = push_token(&push_token("/components", &kind), &name);
        if copied.contains(&pointer) {
            continue;
        }
        copied.push(pointer.clone());
        let mut component = bundler.bundle.sources[shared_index].doc.pointer(&pointer).cloned().unwrap_or(Value::Null);
        bundler.rewrite(&mut component, &pointer, true);
        let Some(section) = section_mut(&mut rewritten, &kind) else {
            bundler.errors.push(bundler.bundle.diagnostic(&format!("/components/{kind}"), "must be a mapping"));
            continue;
        };
        let local_ref = format!("#{pointer}");
        match section.get(&name) {
            Some(existing) if existing.get("$ref").and_then(Value::as_str) != Some(&local_ref) => {
                let shared_path = bundler.bundle.sources[shared_index].path.display().to_string();
                bundler.errors.push(bundler.bundle.diagnostic(
                    &pointer,
                    format!("`{name}` is defined here and in {shared_path}; rename one of them"),
                ));
            }
            _ => {
                section.insert(name, component);
            }
        }
    }
    let errors = bundler.errors;
    if !errors.is_empty() {
        return Err(errors);
    }
    bundle.origins.extend(copied.into_iter().map(|pointer| (pointer, shared_index)));
    bundle.doc = rewritten;
    Ok(bundle)
}

/// Adds a part's paths and components to the layer document, refusing duplicates.
fn merge_part(
    doc: &mut Value,
    part: &Source,
    index: usize,
    origins: &mut Vec<(String, usize)>,
    errors: &mut Vec<Diagnostic>,
) {
    let Some(object) = part.doc.as_object() else {
        errors.push(part.diagnostic("", "a part file must be a mapping with `paths` and `components`"));
        return;
    };
    for key in object.keys().filter(|key| !PART_KEYS.contains(&key.as_str())) {
        errors.push(
            part.diagnostic(
                &push_token("", key),
                format!("a part file holds only `paths` and `components`, not `{key}`"),
            ),
        );
    }
    let mut sections: Vec<(String, Option<&Map<String, Value>>)> =
        vec![("/paths".to_owned(), object.get("paths").and_then(Value::as_object))];
    for (kind, entries) in object.get("components").and_then(Value::as_object).into_iter().flatten() {
        sections.push((push_token("/components", kind), entries.as_object()));
    }
    for (section, entries) in sections {
        let target = match tokens(&section).as_slice() {
            [_, kind] => section_mut(doc, kind),
            _ => doc
                .as_object_mut()
                .and_then(|d| d.entry("paths").or_insert_with(|| Value::Object(Map::new())).as_object_mut()),
        };
        let (Some(entries), Some(target)) = (entries, target) else {
            if object.contains_key(tokens(&section)[0].as_str()) {
                errors.push(part.diagnostic(&section, "must be a mapping"));
            }
            continue;
        };
        for (name, value) in entries {
            let pointer = push_token(&section, name);
            if target.contains_key(name) {
                errors.push(
                    part.diagnostic(&pointer, format!("`{name}` is defined in more than one file of this layer")),
                );
                continue;
            }
            target.insert(name.clone(), value.clone());
            origins.push((pointer, index));
        }
    }
}

/// The `components/<kind>` mapping of a document, created when missing.
fn section_mut<'a>(doc: &'a mut Value, kind: &str) -> Option<&'a mut Map<String, Value>> {
    doc.as_object_mut()?
        .entry("components")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()?
        .entry(kind.to_owned())
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
}

struct Bundler<'a> {
    /// For positions and the sources' documents (its `doc` is not built yet).
    bundle: &'a Bundle,
    /// The merged layer document, before rewriting.
    layer_doc: &'a Value,
    shared_index: usize,
    wanted: Vec<(String, String)>,
    errors: Vec<Diagnostic>,
}

impl Bundler<'_> {
    /// Rewrites the references under `node`; `in_shared` tells whether it comes from the shared file.
    fn rewrite(&mut self, node: &mut Value, pointer: &str, in_shared: bool) {
        match node {
            Value::Object(object) => {
                if let Some(Value::String(reference)) = object.get("$ref") {
                    let reference = reference.clone();
                    let at = push_token(pointer, "$ref");
                    if let Some(local) = self.resolve(&reference, &at, in_shared) {
                        object.insert("$ref".into(), Value::String(local));
                    }
                }
                for (key, child) in object.iter_mut() {
                    if key != "$ref" {
                        self.rewrite(child, &push_token(pointer, key), in_shared);
                    }
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter_mut().enumerate() {
                    self.rewrite(child, &push_token(pointer, &index.to_string()), in_shared);
                }
            }
            _ => {}
        }
    }

    /// Checks one reference and returns what it becomes in the bundle.
    fn resolve(&mut self, reference: &str, at: &str, in_shared: bool) -> Option<String> {
        let bundle = self.bundle;
        let shared = &bundle.sources[self.shared_index];
        // Which file the reference is in matters only for a message: looked up when one is needed.
        let here = || if in_shared { shared } else { bundle.source_of(at) };
        let shared_name = file_name(&shared.path);
        let (file, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let to_shared = if file.is_empty() {
            in_shared
        } else if file_name(Path::new(file)) == shared_name {
            true
        } else {
            self.errors.push(here().diagnostic(
                at,
                format!("`{reference}` names a file other than {shared_name}; only that file may be referenced"),
            ));
            return None;
        };
        let pointer = decode_fragment(fragment);
        let (target_doc, target_name) = if to_shared {
            (&shared.doc, shared.path.display().to_string())
        } else {
            (self.layer_doc, "this layer".to_owned())
        };
        if target_doc.pointer(&pointer).is_none() {
            self.errors.push(here().diagnostic(
                at,
                format!("unresolved reference `{reference}`: {target_name} has nothing at #{pointer}"),
            ));
            return None;
        }
        if !to_shared {
            return Some(format!("#{pointer}"));
        }
        match tokens(&pointer).as_slice() {
            [components, kind, name] if components == "components" => {
                self.wanted.push((kind.clone(), name.clone()));
                Some(format!("#{pointer}"))
            }
            _ => {
                self.errors.push(here().diagnostic(
                    at,
                    format!(
                        "`{reference}` must name a whole component, as in `{shared_name}#/components/<kind>/<name>`"
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
        let bundle = bundle(layer, Vec::new(), source("openapi/shared.yaml", SHARED)).unwrap();
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
        let errors = bundle(layer, Vec::new(), source("openapi/shared.yaml", SHARED)).unwrap_err();
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
        let errors = bundle(layer, Vec::new(), source("openapi/shared.yaml", SHARED)).unwrap_err();
        assert!(errors[0].message.contains("`Id` is defined here and in"), "{}", errors[0]);
    }
}

#[cfg(test)]
mod part_tests {
    use super::*;
    use std::path::PathBuf;

    fn source(name: &str, text: &str) -> Source {
        Source::parse(PathBuf::from(name), text).unwrap()
    }

    #[test]
    fn parts_merge_and_report_against_their_own_file() {
        let root = source("openapi/l.yaml", "openapi: 3.0.3\npaths: {}\n");
        let a = source(
            "openapi/l/a.yaml",
            "paths:\n  /a:\n    get: {}\ncomponents:\n  schemas:\n    A: {$ref: '#/components/schemas/B'}\n",
        );
        let b = source(
            "openapi/l/b.yaml",
            "components:\n  schemas:\n    B:\n      $ref: '../shared.yaml#/components/schemas/Id'\n",
        );
        let shared = source("openapi/shared.yaml", "components:\n  schemas:\n    Id: {type: integer}\n");
        let bundle = bundle(root, vec![a, b], shared).unwrap();
        assert_eq!(bundle.doc["components"]["schemas"]["A"]["$ref"], "#/components/schemas/B");
        assert_eq!(bundle.doc["components"]["schemas"]["B"]["$ref"], "#/components/schemas/Id");
        assert_eq!(bundle.diagnostic("/paths/~1a/get", "x").file, PathBuf::from("openapi/l/a.yaml"));
        assert_eq!(bundle.diagnostic("/components/schemas/B", "x").file, PathBuf::from("openapi/l/b.yaml"));
        assert_eq!(bundle.diagnostic("/components/schemas/Id", "x").file, PathBuf::from("openapi/shared.yaml"));
        assert_eq!(bundle.diagnostic("/info", "x").file, PathBuf::from("openapi/l.yaml"));
    }

    #[test]
    fn a_name_defined_twice_in_a_layer_is_an_error() {
        let root = source("openapi/l.yaml", "components:\n  schemas:\n    A: {type: string}\n");
        let part = source("openapi/l/a.yaml", "components:\n  schemas:\n    A: {type: integer}\ninfo: {}\n");
        let errors = bundle(root, vec![part], source("openapi/shared.yaml", "{}")).unwrap_err();
        let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(
            messages.iter().any(|m| m.starts_with("openapi/l/a.yaml:3:5: `A` is defined in more than one file")),
            "{messages:?}"
        );
        assert!(messages.iter().any(|m| m.contains("not `info`")), "{messages:?}");
    }
}
