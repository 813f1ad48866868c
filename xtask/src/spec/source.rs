//! Loading one YAML source file into JSON while remembering where every node came from.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde_json::{Map, Number, Value};

use crate::diagnostic::{Diagnostic, Position, push_token};

/// A parsed source file: its content as JSON and the position of each node.
#[derive(Debug, Clone)]
pub struct Source {
    /// The path as shown in messages, relative to the project root.
    pub path: PathBuf,
    pub doc: Value,
    positions: HashMap<String, Position>,
}

impl Source {
    /// Reads and parses `relative` under `root`.
    pub fn load(root: &Path, relative: &Path) -> Result<Source, Diagnostic> {
        let text = std::fs::read_to_string(root.join(relative)).map_err(|error| Diagnostic {
            file: relative.to_path_buf(),
            position: None,
            pointer: String::new(),
            message: format!("cannot read the file: {error}"),
        })?;
        Source::parse(relative.to_path_buf(), &text)
    }

    /// Parses YAML text; `path` is only used in messages.
    pub fn parse(path: PathBuf, text: &str) -> Result<Source, Diagnostic> {
        let fail = |position: Option<Position>, pointer: &str, message: String| Diagnostic {
            file: path.clone(),
            position,
            pointer: pointer.to_owned(),
            message,
        };
        let documents = MarkedYaml::load_from_str(text).map_err(|error| {
            let marker = error.marker();
            fail(
                Some(Position { line: marker.line(), column: marker.col() + 1 }),
                "",
                format!("invalid YAML: {}", error.info()),
            )
        })?;
        let mut documents = documents.into_iter();
        let Some(root) = documents.next() else {
            return Err(fail(None, "", "the file holds no YAML document".into()));
        };
        if let Some(extra) = documents.next() {
            return Err(fail(Some(position_of(&extra)), "", "the file holds more than one YAML document".into()));
        }
        let mut positions = HashMap::new();
        let doc = convert(&root, "", &mut positions)
            .map_err(|(position, pointer, message)| fail(Some(position), &pointer, message))?;
        Ok(Source { path, doc, positions })
    }

    /// The position of the node at `pointer`, or of its nearest ancestor that has one.
    pub fn position(&self, pointer: &str) -> Option<Position> {
        let mut pointer = pointer;
        loop {
            if let Some(position) = self.positions.get(pointer) {
                return Some(*position);
            }
            pointer = &pointer[..pointer.rfind('/')?];
        }
    }

    /// A diagnostic about the node at `pointer` in this file.
    pub fn diagnostic(&self, pointer: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: self.path.clone(),
            position: self.position(pointer),
            pointer: pointer.to_owned(),
            message: message.into(),
        }
    }
}

fn position_of(node: &MarkedYaml<'_>) -> Position {
    Position { line: node.span.start.line(), column: node.span.start.col() + 1 }
}

type ConvertError = (Position, String, String);

fn convert(
    node: &MarkedYaml<'_>,
    pointer: &str,
    positions: &mut HashMap<String, Position>,
) -> Result<Value, ConvertError> {
    let position = position_of(node);
    positions.insert(pointer.to_owned(), position);
    let unsupported =
        |what: &str| Err((position, pointer.to_owned(), format!("{what} are not supported in OpenAPI sources")));
    Ok(match &node.data {
        YamlData::Value(scalar) => scalar_to_json(scalar).ok_or_else(|| {
            (position, pointer.to_owned(), "a number that JSON cannot represent (NaN or infinity)".to_owned())
        })?,
        // The loader resolves plain scalars; anything left unresolved is kept as text.
        YamlData::Representation(text, _, _) => Value::String(text.to_string()),
        YamlData::Sequence(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| convert(item, &push_token(pointer, &index.to_string()), positions))
                .collect::<Result<_, _>>()?,
        ),
        YamlData::Mapping(entries) => {
            let mut object = Map::new();
            for (key_node, value) in entries {
                let key = match &key_node.data {
                    YamlData::Value(Scalar::String(text)) => text.to_string(),
                    YamlData::Value(Scalar::Integer(number)) => number.to_string(),
                    YamlData::Value(Scalar::Boolean(flag)) => flag.to_string(),
                    YamlData::Representation(text, _, _) => text.to_string(),
                    _ => {
                        return Err((
                            position_of(key_node),
                            pointer.to_owned(),
                            "mapping keys must be plain strings or numbers".to_owned(),
                        ));
                    }
                };
                let child = push_token(pointer, &key);
                let value = convert(value, &child, positions)?;
                // Point at the key, where an editor shows the entry, rather than at its value.
                positions.insert(child, position_of(key_node));
                object.insert(key, value);
            }
            Value::Object(object)
        }
        YamlData::Tagged(..) => return unsupported("YAML tags"),
        YamlData::Alias(_) => return unsupported("YAML anchors and aliases"),
        YamlData::BadValue => {
            return Err((position, pointer.to_owned(), "a value the YAML loader could not read".to_owned()));
        }
    })
}

fn scalar_to_json(scalar: &Scalar<'_>) -> Option<Value> {
    Some(match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(flag) => Value::Bool(*flag),
        Scalar::Integer(number) => Value::Number((*number).into()),
        Scalar::FloatingPoint(number) => Value::Number(Number::from_f64(number.into_inner())?),
        Scalar::String(text) => Value::String(text.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Source, Diagnostic> {
        Source::parse(PathBuf::from("openapi/x.yaml"), text)
    }

    #[test]
    fn converts_to_json_and_keeps_positions_of_keys() {
        let source = parse("a:\n  b: [1, two]\n  '200': {x: null}\n").unwrap();
        assert_eq!(source.doc, serde_json::json!({"a": {"b": [1, "two"], "200": {"x": null}}}));
        assert_eq!(source.position("/a/b"), Some(Position { line: 2, column: 3 }));
        assert_eq!(source.position("/a/200/x"), Some(Position { line: 3, column: 11 }));
        // A pointer below a leaf falls back to the nearest known ancestor.
        assert_eq!(source.position("/a/b/7/c"), Some(Position { line: 2, column: 3 }));
    }

    #[test]
    fn invalid_yaml_names_file_and_line() {
        let error = parse("a:\n  b: [1, 2\nc: d\n").unwrap_err();
        assert_eq!(error.file, PathBuf::from("openapi/x.yaml"));
        assert!(error.position.is_some_and(|p| p.line >= 2), "{error}");
        assert!(error.message.starts_with("invalid YAML"), "{error}");
    }

    #[test]
    fn aliases_resolve_to_the_anchored_value() {
        let source = parse("a: &x {k: 1}\nb: *x\n").unwrap();
        assert_eq!(source.doc["b"], serde_json::json!({"k": 1}));
    }

    #[test]
    fn an_empty_file_is_an_error() {
        assert!(parse("").unwrap_err().message.contains("no YAML document"));
    }
}
