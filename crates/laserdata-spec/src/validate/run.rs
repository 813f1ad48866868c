//! Checking a value against compiled nodes. Every keyword is checked on its own, as JSON
//! Schema has it: a keyword about another type (`minimum` for a string) holds.

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

use super::compile::{Additional, Kind, Node};
use super::issue::{Issue, Problem, Segment};
use super::numbers::{compare, equal, is_integer};

pub fn issues(nodes: &[Node], value: &Value) -> Vec<Issue> {
    let mut found = Vec::new();
    Run { nodes, path: Vec::new() }.check(0, value, &mut found);
    found
}

struct Run<'a> {
    nodes: &'a [Node],
    /// Where the value being checked is.
    path: Vec<Segment>,
}

impl Run<'_> {
    fn check(&mut self, index: usize, value: &Value, found: &mut Vec<Issue>) {
        let nodes = self.nodes;
        let node = &nodes[index];
        let mut report = |problem| found.push(Issue::new(&self.path, value, problem));
        if node.nothing {
            report(Problem::Nothing);
        }
        if let Some(kinds) = &node.kinds
            && !kinds.iter().any(|kind| is_of(value, *kind))
        {
            report(Problem::Type { expected: kinds.iter().map(|kind| kind.name()).collect() });
        }
        if let Some(options) = &node.enumeration
            && !options.iter().any(|option| equal(option, value))
        {
            report(Problem::Enum { options: options.clone() });
        }
        if let Some(expected) = &node.constant
            && !equal(expected, value)
        {
            report(Problem::Const { expected: expected.clone() });
        }
        match value {
            Value::Number(number) => {
                let beyond = |limit: &Option<Number>, failing: &[Ordering]| {
                    limit.as_ref().filter(|limit| failing.contains(&compare(number, limit))).cloned()
                };
                if let Some(limit) = beyond(&node.minimum, &[Ordering::Less]) {
                    report(Problem::Minimum { limit });
                }
                if let Some(limit) = beyond(&node.maximum, &[Ordering::Greater]) {
                    report(Problem::Maximum { limit });
                }
                if let Some(limit) = beyond(&node.exclusive_minimum, &[Ordering::Less, Ordering::Equal]) {
                    report(Problem::ExclusiveMinimum { limit });
                }
                if let Some(limit) = beyond(&node.exclusive_maximum, &[Ordering::Greater, Ordering::Equal]) {
                    report(Problem::ExclusiveMaximum { limit });
                }
            }
            Value::String(text) => {
                let length = || text.chars().count() as u64;
                if let Some(limit) = node.min_length
                    && length() < limit
                {
                    report(Problem::MinLength { limit });
                }
                if let Some(limit) = node.max_length
                    && length() > limit
                {
                    report(Problem::MaxLength { limit });
                }
                if let Some(format) = node.format
                    && !format.holds(text)
                {
                    report(Problem::Format { format: format.name() });
                }
            }
            Value::Array(items) => {
                let count = items.len() as u64;
                if let Some(limit) = node.min_items
                    && count < limit
                {
                    report(Problem::MinItems { limit });
                }
                if let Some(limit) = node.max_items
                    && count > limit
                {
                    report(Problem::MaxItems { limit });
                }
                if node.unique_items
                    && items.iter().enumerate().any(|(at, item)| items[..at].iter().any(|earlier| equal(earlier, item)))
                {
                    report(Problem::UniqueItems);
                }
            }
            _ => {}
        }
        if let Value::Object(object) = value {
            self.object(node, value, object, found);
        }
        if let (Value::Array(items), Some(schema)) = (value, node.items) {
            for (at, item) in items.iter().enumerate() {
                self.path.push(Segment::Index(at));
                self.check(schema, item, found);
                self.path.pop();
            }
        }
        self.applicators(node, value, found);
    }

    fn object(&mut self, node: &Node, value: &Value, object: &Map<String, Value>, found: &mut Vec<Issue>) {
        for property in node.required.iter().filter(|name| !object.contains_key(name.as_str())) {
            found.push(Issue::new(&self.path, value, Problem::Required { property: property.clone() }));
        }
        for (name, schema) in &node.properties {
            if let Some(member) = object.get(name) {
                self.path.push(Segment::Member(name.clone()));
                self.check(*schema, member, found);
                self.path.pop();
            }
        }
        if matches!(node.additional, Additional::Anything) {
            return;
        }
        let listed = |name: &String| node.properties.iter().any(|(known, _)| known == name);
        for (name, member) in object.iter().filter(|(name, _)| !listed(name)) {
            self.path.push(Segment::Member(name.clone()));
            match node.additional {
                Additional::Matching(schema) => self.check(schema, member, found),
                _ => found.push(Issue::new(&self.path, member, Problem::NotAllowed { property: name.clone() })),
            }
            self.path.pop();
        }
    }

    /// `$ref`, `allOf`, `anyOf`, `oneOf` and `not`: other schemas applied to the same value.
    fn applicators(&mut self, node: &Node, value: &Value, found: &mut Vec<Issue>) {
        for schema in node.reference.iter().chain(&node.all_of) {
            self.check(*schema, value, found);
        }
        if !node.any_of.is_empty() {
            let any_of = self.branches(&node.any_of, value);
            if !any_of.iter().any(Vec::is_empty) {
                found.push(Issue::new(&self.path, value, Problem::AnyOf { branches: any_of }));
            }
        }
        if !node.one_of.is_empty() {
            let one_of = self.branches(&node.one_of, value);
            match one_of.iter().filter(|branch| branch.is_empty()).count() {
                0 => found.push(Issue::new(&self.path, value, Problem::OneOf { branches: one_of })),
                1 => {}
                _ => found.push(Issue::new(&self.path, value, Problem::OneOfSeveral)),
            }
        }
        if let Some(schema) = node.not
            && self.branches(&[schema], value)[0].is_empty()
        {
            found.push(Issue::new(&self.path, value, Problem::Not));
        }
    }

    /// The issues of each schema, applied to the same value.
    fn branches(&mut self, schemas: &[usize], value: &Value) -> Vec<Vec<Issue>> {
        schemas
            .iter()
            .map(|schema| {
                let mut branch = Vec::new();
                self.check(*schema, value, &mut branch);
                branch
            })
            .collect()
    }
}

fn is_of(value: &Value, kind: Kind) -> bool {
    match (kind, value) {
        (Kind::Null, Value::Null)
        | (Kind::Boolean, Value::Bool(_))
        | (Kind::Number, Value::Number(_))
        | (Kind::String, Value::String(_))
        | (Kind::Array, Value::Array(_))
        | (Kind::Object, Value::Object(_)) => true,
        (Kind::Integer, Value::Number(number)) => is_integer(number),
        _ => false,
    }
}
