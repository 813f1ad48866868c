//! Reading a schema and the component schemas it reaches into [`Node`]s, once: every keyword
//! checked for its form, every `$ref` resolved to a node index, the `int32`/`int64` ranges
//! turned into bounds.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde_json::{Map, Number, Value};

use super::formats::Format;
use super::numbers::compare;
use crate::pointer::{push_token, tokens};
use crate::refs::SCHEMAS_PREFIX;

/// The JSON types `type` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Boolean,
    Integer,
    Number,
    String,
    Array,
    Object,
}

impl Kind {
    fn named(name: &str) -> Option<Kind> {
        Some(match name {
            "null" => Kind::Null,
            "boolean" => Kind::Boolean,
            "integer" => Kind::Integer,
            "number" => Kind::Number,
            "string" => Kind::String,
            "array" => Kind::Array,
            "object" => Kind::Object,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Boolean => "boolean",
            Kind::Integer => "integer",
            Kind::Number => "number",
            Kind::String => "string",
            Kind::Array => "array",
            Kind::Object => "object",
        }
    }
}

/// What an object may hold beyond its `properties`.
#[derive(Debug, Clone, Default)]
pub enum Additional {
    #[default]
    Anything,
    Nothing,
    Matching(usize),
}

/// One schema, its subschemas replaced by indices into the validator's nodes.
#[derive(Debug, Clone, Default)]
pub struct Node {
    /// The schema `false`.
    pub nothing: bool,
    pub reference: Option<usize>,
    pub all_of: Vec<usize>,
    pub any_of: Vec<usize>,
    pub one_of: Vec<usize>,
    pub not: Option<usize>,
    pub kinds: Option<Vec<Kind>>,
    pub enumeration: Option<Vec<Value>>,
    pub constant: Option<Value>,
    pub minimum: Option<Number>,
    pub maximum: Option<Number>,
    pub exclusive_minimum: Option<Number>,
    pub exclusive_maximum: Option<Number>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub format: Option<Format>,
    pub required: Vec<String>,
    pub properties: Vec<(String, usize)>,
    pub additional: Additional,
    pub items: Option<usize>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub unique_items: bool,
}

/// Formats that describe a value without constraining it beyond its type.
const DESCRIPTIVE_FORMATS: [&str; 6] = ["float", "double", "decimal", "password", "binary", "byte"];

/// The range each integer `format` of OpenAPI gives a number.
const INTEGER_FORMATS: [(&str, i64, i64); 2] =
    [("int32", i32::MIN as i64, i32::MAX as i64), ("int64", i64::MIN, i64::MAX)];

/// The nodes of `schema` (first) and of every component it reaches.
pub fn compile(components: &Map<String, Value>, schema: &Value) -> Result<Vec<Node>, String> {
    let mut compiler = Compiler { components, nodes: Vec::new(), where_: Vec::new(), by_name: HashMap::new() };
    compiler.node(schema, "#")?;
    compiler.refuse_reference_cycles()?;
    Ok(compiler.nodes)
}

struct Compiler<'a> {
    components: &'a Map<String, Value>,
    nodes: Vec<Node>,
    /// Where each node's schema is, for errors.
    where_: Vec<String>,
    by_name: HashMap<String, usize>,
}

impl Compiler<'_> {
    /// Reads the schema at `at` into a new node; returns its index.
    fn node(&mut self, schema: &Value, at: &str) -> Result<usize, String> {
        let index = self.nodes.len();
        self.nodes.push(Node::default());
        self.where_.push(at.to_owned());
        let node = match schema {
            Value::Bool(true) => Node::default(),
            Value::Bool(false) => Node { nothing: true, ..Node::default() },
            Value::Object(object) => self.object(object, at)?,
            other => return Err(format!("{at}: a schema is an object or a boolean, not {other}")),
        };
        self.nodes[index] = node;
        Ok(index)
    }

    fn object(&mut self, object: &Map<String, Value>, at: &str) -> Result<Node, String> {
        let mut node = Node::default();
        let mut integer_range = None;
        for (keyword, value) in object {
            let here = push_token(at, keyword);
            match keyword.as_str() {
                "$ref" => node.reference = Some(self.reference(value, &here)?),
                "allOf" => node.all_of = self.list(value, &here)?,
                "anyOf" => node.any_of = self.list(value, &here)?,
                "oneOf" => node.one_of = self.list(value, &here)?,
                "not" => node.not = Some(self.node(value, &here)?),
                "type" => node.kinds = Some(kinds(value, &here)?),
                "enum" => match value {
                    Value::Array(options) if !options.is_empty() => node.enumeration = Some(options.clone()),
                    _ => return Err(format!("{here}: `enum` is a list of at least one value")),
                },
                "const" => node.constant = Some(value.clone()),
                "minimum" => node.minimum = Some(number(value, &here)?),
                "maximum" => node.maximum = Some(number(value, &here)?),
                "exclusiveMinimum" => node.exclusive_minimum = Some(number(value, &here)?),
                "exclusiveMaximum" => node.exclusive_maximum = Some(number(value, &here)?),
                "minLength" => node.min_length = Some(count(value, &here)?),
                "maxLength" => node.max_length = Some(count(value, &here)?),
                "minItems" => node.min_items = Some(count(value, &here)?),
                "maxItems" => node.max_items = Some(count(value, &here)?),
                "uniqueItems" => node.unique_items = value.as_bool().ok_or(format!("{here}: not a boolean"))?,
                "format" => {
                    let name = value.as_str().ok_or(format!("{here}: `format` is a string"))?;
                    if let Some(format) = Format::named(name) {
                        node.format = Some(format);
                    } else if let Some((_, low, high)) = INTEGER_FORMATS.iter().find(|(known, ..)| *known == name) {
                        integer_range = Some((Number::from(*low), Number::from(*high)));
                    } else if !DESCRIPTIVE_FORMATS.contains(&name) {
                        return Err(format!("{here}: the format `{name}` is not one this validator knows"));
                    }
                }
                "required" => {
                    let names =
                        value.as_array().map(|names| names.iter().map(Value::as_str).collect::<Option<Vec<_>>>());
                    let names = names.flatten().ok_or(format!("{here}: `required` is a list of names"))?;
                    node.required = names.into_iter().map(str::to_owned).collect();
                }
                "properties" => {
                    let properties = value.as_object().ok_or(format!("{here}: `properties` is an object"))?;
                    for (name, schema) in properties {
                        let property = self.node(schema, &push_token(&here, name))?;
                        node.properties.push((name.clone(), property));
                    }
                }
                "additionalProperties" => {
                    node.additional = match value {
                        Value::Bool(true) => Additional::Anything,
                        Value::Bool(false) => Additional::Nothing,
                        schema => Additional::Matching(self.node(schema, &here)?),
                    }
                }
                "items" => node.items = Some(self.node(value, &here)?),
                // `discriminator` only names which `oneOf` member a value is; the members
                // themselves decide whether it holds.
                "discriminator" => {}
                _ if crate::openapi31::is_annotation(keyword) => {}
                _ => return Err(format!("{here}: `{keyword}` is not a keyword this validator knows")),
            }
        }
        // The range of an integer format is one more bound: the tighter one applies.
        if let Some((low, high)) = integer_range {
            node.minimum = Some(tighter(node.minimum, low, Ordering::Greater));
            node.maximum = Some(tighter(node.maximum, high, Ordering::Less));
        }
        Ok(node)
    }

    fn list(&mut self, value: &Value, at: &str) -> Result<Vec<usize>, String> {
        match value {
            Value::Array(schemas) if !schemas.is_empty() => schemas
                .iter()
                .enumerate()
                .map(|(index, schema)| self.node(schema, &push_token(at, &index.to_string())))
                .collect(),
            _ => Err(format!("{at}: a list of at least one schema")),
        }
    }

    /// The node of the component a `$ref` names, read on first use.
    fn reference(&mut self, value: &Value, at: &str) -> Result<usize, String> {
        let reference = value.as_str().ok_or(format!("{at}: `$ref` is a string"))?;
        let name = match reference.strip_prefix(SCHEMAS_PREFIX).map(|name| tokens(&format!("/{name}"))) {
            Some(tokens) if tokens.len() == 1 => tokens.into_iter().next().unwrap_or_default(),
            _ => {
                return Err(format!("{at}: `{reference}` is not a reference to `{SCHEMAS_PREFIX}<name>`"));
            }
        };
        if let Some(index) = self.by_name.get(&name) {
            return Ok(*index);
        }
        let schema = self.components.get(&name).ok_or(format!("{at}: unresolved reference `{reference}`"))?;
        // Known before it is read, so that a recursive schema refers to itself.
        self.by_name.insert(name.clone(), self.nodes.len());
        self.node(schema, &push_token(SCHEMAS_PREFIX.trim_end_matches('/'), &name))
    }

    /// Refuses a schema that applies itself to the same value again and again (`A: {$ref: A}`,
    /// or through `allOf` and the like), which checking a value would never finish.
    fn refuse_reference_cycles(&self) -> Result<(), String> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Open,
            Done,
        }
        fn visit(nodes: &[Node], index: usize, marks: &mut [Mark]) -> Result<(), usize> {
            match marks[index] {
                Mark::Done => return Ok(()),
                Mark::Open => return Err(index),
                Mark::New => {}
            }
            marks[index] = Mark::Open;
            let node = &nodes[index];
            let in_place =
                node.reference.iter().chain(&node.all_of).chain(&node.any_of).chain(&node.one_of).chain(&node.not);
            for next in in_place {
                visit(nodes, *next, marks)?;
            }
            marks[index] = Mark::Done;
            Ok(())
        }
        let mut marks = vec![Mark::New; self.nodes.len()];
        for index in 0..self.nodes.len() {
            visit(&self.nodes, index, &mut marks).map_err(|cycle| {
                format!("{}: refers to itself without reaching into the value (a cycle of `$ref`s)", self.where_[cycle])
            })?;
        }
        Ok(())
    }
}

fn kinds(value: &Value, at: &str) -> Result<Vec<Kind>, String> {
    let names: Vec<&Value> = match value {
        Value::Array(names) if !names.is_empty() => names.iter().collect(),
        Value::String(_) => vec![value],
        _ => return Err(format!("{at}: `type` is a type name or a list of them")),
    };
    names
        .into_iter()
        .map(|name| name.as_str().and_then(Kind::named).ok_or(format!("{at}: {name} is not a JSON type")))
        .collect()
}

fn number(value: &Value, at: &str) -> Result<Number, String> {
    match value {
        Value::Number(number) => Ok(number.clone()),
        other => Err(format!("{at}: {other} is not a number")),
    }
}

fn count(value: &Value, at: &str) -> Result<u64, String> {
    value.as_u64().ok_or(format!("{at}: {value} is not a count (a non-negative integer)"))
}

/// `bound`, or `implied` where that is tighter (`tighter` is the ordering that makes it so).
fn tighter(bound: Option<Number>, implied: Number, tighter: Ordering) -> Number {
    match bound {
        Some(bound) if compare(&implied, &bound) != tighter => bound,
        _ => implied,
    }
}
