//! What a failed check reports: where in the value, what is wrong, and a message that shows the
//! value.

use std::fmt;

use serde_json::{Number, Value};

use crate::pointer::push_token;

/// One step into a value: an object member or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Member(String),
    Index(usize),
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Member(name) => f.write_str(name),
            Segment::Index(index) => write!(f, "{index}"),
        }
    }
}

/// One way a value fails its schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// Where the failing value is, from the root of the value checked.
    pub path: Vec<Segment>,
    pub problem: Problem,
    /// The failing value as JSON, cut short when long: messages show it.
    shown: String,
}

/// What is wrong, by the keyword that says so.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// `type`: the value is none of these JSON types.
    Type {
        expected: Vec<&'static str>,
    },
    /// `required`: the object lacks this member (the issue's path is the object's).
    Required {
        property: String,
    },
    /// `additionalProperties: false`: the object has this member, which its schema does not
    /// list (the issue's path is the member's).
    NotAllowed {
        property: String,
    },
    Enum {
        options: Vec<Value>,
    },
    Const {
        expected: Value,
    },
    Minimum {
        limit: Number,
    },
    Maximum {
        limit: Number,
    },
    ExclusiveMinimum {
        limit: Number,
    },
    ExclusiveMaximum {
        limit: Number,
    },
    MinLength {
        limit: u64,
    },
    MaxLength {
        limit: u64,
    },
    MinItems {
        limit: u64,
    },
    MaxItems {
        limit: u64,
    },
    UniqueItems,
    /// A string that is not of this `format`.
    Format {
        format: &'static str,
    },
    /// No branch of an `anyOf` holds; the issues of each branch, in order.
    AnyOf {
        branches: Vec<Vec<Issue>>,
    },
    /// No branch of a `oneOf` holds; the issues of each branch, in order.
    OneOf {
        branches: Vec<Vec<Issue>>,
    },
    /// More than one branch of a `oneOf` holds.
    OneOfSeveral,
    /// The schema of a `not` holds.
    Not,
    /// The schema `false`, which no value satisfies.
    Nothing,
}

/// Values longer than this (as JSON, in characters) are cut short in messages.
const SHOWN_CHARS: usize = 80;

/// `value` as JSON for a message: whole, or its first [`SHOWN_CHARS`] characters and `…`.
fn shown(value: &Value) -> String {
    let json = start_of_json(value);
    match json.char_indices().nth(SHOWN_CHARS) {
        Some((end, _)) => format!("{}…", &json[..end]),
        None => json,
    }
}

/// `value` as JSON, whole or at least its first `SHOWN_CHARS + 1` characters: the writing stops
/// there, so an issue about a large value (a failed `anyOf` branch over a whole object, which
/// is usually dropped) costs no more than one about a small one.
fn start_of_json(value: &Value) -> String {
    /// Enough bytes for `SHOWN_CHARS + 1` characters of up to 4 bytes each.
    const LIMIT: usize = (SHOWN_CHARS + 2) * 4;
    struct Bounded(Vec<u8>);
    impl std::io::Write for Bounded {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let room = LIMIT - self.0.len();
            if room == 0 {
                return Err(std::io::Error::other("enough of the value"));
            }
            let taken = bytes.len().min(room);
            self.0.extend_from_slice(&bytes[..taken]);
            Ok(taken)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Bounded(Vec::new());
    // Stopping early is the point; the error only says so.
    let _ = serde_json::to_writer(&mut out, value);
    match String::from_utf8(out.0) {
        Ok(text) => text,
        // Cut inside a character: the characters before it.
        Err(error) => {
            let valid = error.utf8_error().valid_up_to();
            let mut bytes = error.into_bytes();
            bytes.truncate(valid);
            String::from_utf8(bytes).unwrap_or_default()
        }
    }
}

impl Issue {
    pub(super) fn new(path: &[Segment], value: &Value, problem: Problem) -> Issue {
        Issue { path: path.to_vec(), problem, shown: shown(value) }
    }

    /// The keyword that failed, as the schema spells it.
    pub fn keyword(&self) -> &'static str {
        match &self.problem {
            Problem::Type { .. } => "type",
            Problem::Required { .. } => "required",
            Problem::NotAllowed { .. } => "additionalProperties",
            Problem::Enum { .. } => "enum",
            Problem::Const { .. } => "const",
            Problem::Minimum { .. } => "minimum",
            Problem::Maximum { .. } => "maximum",
            Problem::ExclusiveMinimum { .. } => "exclusiveMinimum",
            Problem::ExclusiveMaximum { .. } => "exclusiveMaximum",
            Problem::MinLength { .. } => "minLength",
            Problem::MaxLength { .. } => "maxLength",
            Problem::MinItems { .. } => "minItems",
            Problem::MaxItems { .. } => "maxItems",
            Problem::UniqueItems => "uniqueItems",
            Problem::Format { .. } => "format",
            Problem::AnyOf { .. } => "anyOf",
            Problem::OneOf { .. } | Problem::OneOfSeveral => "oneOf",
            Problem::Not => "not",
            Problem::Nothing => "false",
        }
    }

    /// The issue's path as a JSON pointer (`/allowed_ips/0`; empty for the root).
    pub fn pointer(&self) -> String {
        self.path.iter().fold(String::new(), |pointer, segment| push_token(&pointer, &segment.to_string()))
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = &self.shown;
        let plural = |limit: &u64, one: &'static str, many: &'static str| if *limit == 1 { one } else { many };
        match &self.problem {
            Problem::Type { expected } => write!(f, "{value} is not of type {}", quoted_choice(expected)),
            Problem::Required { property } => write!(f, "{} is a required property", Value::from(property.as_str())),
            Problem::NotAllowed { property } => {
                write!(f, "{} is not a property this object may have", Value::from(property.as_str()))
            }
            Problem::Enum { options } => {
                let options: Vec<String> = options.iter().map(Value::to_string).collect();
                write!(f, "{value} is not one of {}", choice(&options))
            }
            Problem::Const { expected } => write!(f, "{value} is not the one allowed value, {expected}"),
            Problem::Minimum { limit } => write!(f, "{value} is less than the minimum of {limit}"),
            Problem::Maximum { limit } => write!(f, "{value} is greater than the maximum of {limit}"),
            Problem::ExclusiveMinimum { limit } => {
                write!(f, "{value} is not greater than the exclusive minimum of {limit}")
            }
            Problem::ExclusiveMaximum { limit } => {
                write!(f, "{value} is not less than the exclusive maximum of {limit}")
            }
            Problem::MinLength { limit } => {
                write!(f, "{value} is shorter than {limit} {}", plural(limit, "character", "characters"))
            }
            Problem::MaxLength { limit } => {
                write!(f, "{value} is longer than {limit} {}", plural(limit, "character", "characters"))
            }
            Problem::MinItems { limit } => {
                write!(f, "{value} has fewer than {limit} {}", plural(limit, "item", "items"))
            }
            Problem::MaxItems { limit } => {
                write!(f, "{value} has more than {limit} {}", plural(limit, "item", "items"))
            }
            Problem::UniqueItems => write!(f, "{value} has an item more than once"),
            Problem::Format { format } => write!(f, "{value} is not a \"{format}\""),
            Problem::AnyOf { .. } => write!(f, "{value} is valid under none of the schemas of `anyOf`"),
            Problem::OneOf { .. } => write!(f, "{value} is valid under none of the schemas of `oneOf`"),
            Problem::OneOfSeveral => write!(f, "{value} is valid under more than one of the schemas of `oneOf`"),
            Problem::Not => write!(f, "{value} is valid under the schema of `not`, which it must not be"),
            Problem::Nothing => write!(f, "{value} is not allowed here: the schema is `false`"),
        }
    }
}

/// `"a"`, `"a" or "b"`, `"a", "b" or "c"`.
fn quoted_choice(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("\"{name}\"")).collect();
    choice(&quoted)
}

fn choice(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The issues to show for `issues`: each failed `anyOf` or `oneOf` is replaced by the issues of
/// its closest branch, what the value most likely meant to be. Closest is the branch whose
/// failures do not include a wrong type at the value itself (the value is at least of that
/// kind), then the one with the fewest issues, then the first.
pub fn closest(issues: &[Issue]) -> Vec<&Issue> {
    let mut shown = Vec::new();
    for issue in issues {
        match &issue.problem {
            Problem::AnyOf { branches } | Problem::OneOf { branches } => {
                let rank = |branch: &Vec<Issue>| {
                    let wrong_kind = branch
                        .iter()
                        .any(|inner| inner.path == issue.path && matches!(inner.problem, Problem::Type { .. }));
                    (wrong_kind, branch.len())
                };
                match branches.iter().filter(|branch| !branch.is_empty()).min_by_key(|branch| rank(branch)) {
                    Some(branch) => shown.extend(closest(branch)),
                    None => shown.push(issue),
                }
            }
            _ => shown.push(issue),
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What `shown` gives, from the whole JSON text.
    fn shown_from_whole(value: &Value) -> String {
        let json = value.to_string();
        match json.char_indices().nth(SHOWN_CHARS) {
            Some((end, _)) => format!("{}…", &json[..end]),
            None => json,
        }
    }

    #[test]
    fn a_value_is_shown_as_from_its_whole_json_though_only_its_start_is_written() {
        let long: Vec<Value> = (0..500).map(|index| json!({"id": index, "name": "ünïcödé 🚀 名前"})).collect();
        let mut values = vec![json!(null), json!("short"), json!(long), json!({"items": long})];
        // Texts around the cut, of one-, two-, three- and four-byte characters.
        for piece in ["a", "é", "名", "🚀"] {
            for count in 76..=84 {
                values.push(json!(piece.repeat(count)));
            }
        }
        for value in &values {
            assert_eq!(shown(value), shown_from_whole(value));
        }
        assert!(shown(&json!(long)).ends_with('…'));
    }
}
