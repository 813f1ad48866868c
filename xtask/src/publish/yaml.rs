//! Writing a JSON document as YAML that every common parser reads back as the same JSON.
//!
//! Strings are written plain only when neither YAML 1.2 nor YAML 1.1 (PyYAML, older Java and
//! JavaScript parsers) could read them as anything else: no `yes`/`no`/`on`/`off`/`y`/`n`, no
//! dates, numbers or sexagesimals, nothing that starts with an indicator. Every other
//! single-line string is double-quoted with JSON's escapes (valid in YAML); a multi-line string
//! is a literal block when YAML can hold it as one.

use std::borrow::Cow;

use saphyr::{Mapping, Scalar, ScalarStyle, Yaml, YamlEmitter};
use serde_json::Value;

/// The document as YAML, after `header` (comment lines, each ending in a line break).
pub fn to_yaml(doc: &Value, header: &str) -> String {
    let yaml = to_node(doc);
    let mut body = String::new();
    let mut emitter = YamlEmitter::new(&mut body);
    emitter.multiline(true);
    emitter.dump(&yaml).expect("writing YAML to a string cannot fail");
    let body = body.strip_prefix("---\n").unwrap_or(&body);
    // The emitter indents the empty lines of literal blocks; without that trailing whitespace
    // they mean the same. Only a multi-line string with a line that ends in a space (a line of
    // only spaces, say) is written in a block whose trailing spaces are content.
    let mut out = String::with_capacity(header.len() + body.len());
    out.push_str(header);
    if has_line_ending_in_space(doc) {
        out.push_str(body.trim_end_matches('\n'));
        out.push('\n');
    } else {
        for line in body.lines() {
            out.push_str(line.trim_end_matches(' '));
            out.push('\n');
        }
    }
    out
}

/// Whether a multi-line string of `doc` (a key or a value) has a line that ends in a space.
fn has_line_ending_in_space(doc: &Value) -> bool {
    let multi_line_with_trailing_space =
        |text: &str| text.contains('\n') && text.split('\n').any(|line| line.ends_with(' '));
    match doc {
        Value::String(text) => multi_line_with_trailing_space(text),
        Value::Array(items) => items.iter().any(has_line_ending_in_space),
        Value::Object(entries) => {
            entries.iter().any(|(key, value)| multi_line_with_trailing_space(key) || has_line_ending_in_space(value))
        }
        _ => false,
    }
}

/// Reads a YAML document as JSON (the tests check with it what [`to_yaml`] writes).
pub fn parse(text: &str) -> Result<Value, String> {
    use saphyr::LoadableYamlNode;
    let documents = Yaml::load_from_str(text).map_err(|error| error.to_string())?;
    match documents.as_slice() {
        [document] => to_json(document),
        other => Err(format!("expected one YAML document, found {}", other.len())),
    }
}

fn to_json(node: &Yaml) -> Result<Value, String> {
    Ok(match node {
        Yaml::Value(Scalar::Null) => Value::Null,
        Yaml::Value(Scalar::Boolean(value)) => Value::Bool(*value),
        Yaml::Value(Scalar::Integer(value)) => Value::from(*value),
        Yaml::Value(Scalar::FloatingPoint(value)) => {
            serde_json::Number::from_f64(**value).map(Value::Number).ok_or("a non-finite float")?
        }
        Yaml::Value(Scalar::String(text)) => Value::String(text.to_string()),
        // Integers beyond i64 stay unresolved; JSON reads them.
        Yaml::Representation(text, ScalarStyle::Plain, None) => {
            serde_json::from_str(text).map_err(|_| format!("an unresolved scalar `{text}`"))?
        }
        Yaml::Sequence(items) => Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        Yaml::Mapping(entries) => {
            let mut object = serde_json::Map::new();
            for (key, value) in entries {
                let Yaml::Value(Scalar::String(key)) = key else {
                    return Err(format!("a key that is not a string: {key:?}"));
                };
                object.insert(key.to_string(), to_json(value)?);
            }
            Value::Object(object)
        }
        other => return Err(format!("a node JSON cannot hold: {other:?}")),
    })
}

fn to_node(value: &Value) -> Yaml<'static> {
    match value {
        Value::Null => plain("null"),
        Value::Bool(value) => Yaml::Value(Scalar::Boolean(*value)),
        Value::Number(number) => match number.as_i64() {
            Some(integer) => Yaml::Value(Scalar::Integer(integer)),
            // Beyond i64 (a large u64) or a float: the JSON spelling is valid YAML.
            None if number.is_u64() => plain(&number.to_string()),
            None => plain(&float(number.as_f64().unwrap_or_default())),
        },
        Value::String(text) => string(text),
        Value::Array(items) => Yaml::Sequence(items.iter().map(to_node).collect()),
        Value::Object(entries) => {
            let mut mapping = Mapping::new();
            for (key, value) in entries {
                mapping.insert(string(key), to_node(value));
            }
            Yaml::Mapping(mapping)
        }
    }
}

fn plain(text: &str) -> Yaml<'static> {
    Yaml::Representation(Cow::Owned(text.to_owned()), ScalarStyle::Plain, None)
}

/// A float in positional notation with a dot (`1.5`, `3.0`): YAML 1.1 reads an exponent
/// without a dot, or a number without one, as something else.
fn float(value: f64) -> String {
    let text = if value.is_finite() { value.to_string() } else { "0".to_owned() };
    if text.contains('.') { text } else { format!("{text}.0") }
}

fn string(text: &str) -> Yaml<'static> {
    if text.contains('\n') {
        // The emitter writes a literal block, or a quoted string when a block cannot hold it.
        return Yaml::Value(Scalar::String(Cow::Owned(text.to_owned())));
    }
    if is_safe_plain(text) {
        plain(text)
    } else {
        // The representation is written as it is: a JSON string literal is a YAML
        // double-quoted scalar with the same value.
        plain(&serde_json::to_string(text).expect("strings serialize"))
    }
}

/// Whether `text` reads back as this same string when written without quotes, in YAML 1.2 and
/// in YAML 1.1, as a value and as a mapping key.
pub fn is_safe_plain(text: &str) -> bool {
    const RESERVED: [&str; 22] = [
        "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", "nan", ".nan", "inf", ".inf", "-.inf",
        "+.inf", "<<", "=", "-", "?", ":", "",
    ];
    let Some(first) = text.chars().next() else { return false };
    let lower = text.to_ascii_lowercase();
    if RESERVED.contains(&lower.as_str()) {
        return false;
    }
    // Indicators that start something other than a plain scalar.
    if "-?:,[]{}#&*!|>'\"%@`. ".contains(first) {
        return false;
    }
    if text.ends_with(' ') || text.ends_with(':') || text.contains(": ") || text.contains(" #") {
        return false;
    }
    if text.chars().any(|c| c.is_control() || matches!(c, '\u{feff}' | '\u{85}' | '\u{2028}' | '\u{2029}')) {
        return false;
    }
    // Numbers, dates, times and sexagesimals, in any YAML version: digits with signs, dots,
    // underscores, colons, dashes, exponents, hex/octal/binary prefixes.
    let numeric_like = first.is_ascii_digit() || first == '+' || first == '.';
    let only = |allowed: &str| text.chars().all(|c| c.is_ascii_digit() || allowed.contains(c));
    let radix = ["0x", "0o", "0b", "+0x", "-0x"].iter().any(|prefix| lower.starts_with(prefix));
    let bytes = text.as_bytes();
    let date = bytes.len() >= 5 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-';
    if numeric_like && (only("+-._: ") || only("+-.eE_") || radix || date) {
        return false;
    }
    // Quoting anything with flow indicators or quote characters keeps the rules simple.
    !text.contains(['{', '}', '[', ']', ',', '#', '`', '"', '\'', '\\', '|', '>', '&', '*', '!', '%', '@'])
}
