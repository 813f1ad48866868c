//! Compares the vendor's documents for one layer with our description of it, and lists every
//! difference that a client would notice: operations, parameters, request and response fields,
//! success statuses. Descriptions, examples, error responses and headers are not compared.
//!
//! Each difference is a [`Finding`] with a stable one-line text, which is also what
//! `openapi/vendor-departures.yaml` matches against to mark a difference as recorded.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::document::Operation;
use crate::document::shape::{Node, Shape, variant_names};

/// Which document has something the other lacks, or how the two differ.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Detail {
    OnlyInVendor,
    OnlyInOurs,
    Differs { aspect: String, vendor: String, ours: String },
}

/// One difference between the vendor's document and ours, on one layer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    pub layer: String,
    /// What differs: `operation get_tenant`, `parameter get_roles query kind`, `schema UpdateTenant.email`, ...
    pub subject: String,
    #[serde(flatten)]
    pub detail: Detail,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Finding { layer, subject, detail } = self;
        match detail {
            Detail::OnlyInVendor => write!(f, "{layer} {subject}: only in the vendor's"),
            Detail::OnlyInOurs => write!(f, "{layer} {subject}: only in ours"),
            Detail::Differs { aspect, vendor, ours } => {
                write!(f, "{layer} {subject} {aspect}: vendor {vendor}, ours {ours}")
            }
        }
    }
}

fn parameter_schema<'a>(doc: &'a Value, parameter: &'a Value) -> Node<'a> {
    parameter.get("schema").map_or_else(|| Node::any(doc), |schema| Node::new(doc, schema))
}

/// Every difference between the vendor's operations for a layer (from one or more documents)
/// and our description of that layer, sorted.
pub fn compare(layer: &str, vendor: &[Operation<'_>], ours: &[Operation<'_>]) -> Vec<Finding> {
    let mut comparison =
        Comparison { layer, findings: BTreeSet::new(), compared: HashSet::new(), compared_fields: HashSet::new() };
    let mut unmatched: Vec<&Operation<'_>> = ours.iter().collect();
    let mut pairs = Vec::new();
    let mut vendor_only = Vec::new();
    // Operations pair up by operationId, else by route (a renamed operation).
    for operation in vendor {
        match unmatched.iter().position(|mine| mine.id == operation.id) {
            Some(index) => pairs.push((operation, unmatched.remove(index))),
            None => vendor_only.push(operation),
        }
    }
    for operation in vendor_only {
        match unmatched.iter().position(|mine| mine.route() == operation.route()) {
            Some(index) => pairs.push((operation, unmatched.remove(index))),
            None => comparison.push(presence_subject(operation), Detail::OnlyInVendor),
        }
    }
    for operation in unmatched {
        comparison.push(presence_subject(operation), Detail::OnlyInOurs);
    }
    for (theirs, mine) in pairs {
        comparison.operation(theirs, mine);
    }
    comparison.findings.into_iter().collect()
}

fn presence_subject(operation: &Operation<'_>) -> String {
    format!("operation {} ({}, {})", operation.id, operation.route(), operation.auth)
}

struct Comparison<'l> {
    layer: &'l str,
    findings: BTreeSet<Finding>,
    /// The pairs of named schemas compared already: each is compared once, and recursion ends.
    compared: HashSet<(String, String)>,
    /// The fields (`Component.field`) compared already, for fields many schemas inherit.
    compared_fields: HashSet<String>,
}

impl Comparison<'_> {
    fn push(&mut self, subject: String, detail: Detail) {
        self.findings.insert(Finding { layer: self.layer.to_owned(), subject, detail });
    }

    fn differs(&mut self, subject: &str, aspect: &str, vendor: String, ours: String) {
        if vendor != ours {
            self.push(subject.to_owned(), Detail::Differs { aspect: aspect.into(), vendor, ours });
        }
    }

    fn operation(&mut self, theirs: &Operation<'_>, mine: &Operation<'_>) {
        let subject = format!("operation {}", theirs.id);
        self.differs(&subject, "operationId", theirs.id.clone(), mine.id.clone());
        self.differs(&subject, "route", theirs.route(), mine.route());
        self.parameters(theirs, mine);
        match (theirs.request_schema(), mine.request_schema()) {
            (Some(vendor), Some(ours)) => self.schema(&format!("{} request", theirs.id), vendor, ours),
            (Some(_), None) => self.push(format!("schema {} request", theirs.id), Detail::OnlyInVendor),
            (None, Some(_)) => self.push(format!("schema {} request", theirs.id), Detail::OnlyInOurs),
            (None, None) => {}
        }
        let (vendor_answers, our_answers) = (theirs.successes(), mine.successes());
        let list = |answers: &BTreeMap<String, _>| answers.keys().cloned().collect::<Vec<_>>().join(" ");
        self.differs(&subject, "success statuses", list(&vendor_answers), list(&our_answers));
        for (status, vendor) in &vendor_answers {
            let Some(ours) = our_answers.get(status) else { continue };
            let label = format!("{} response {status}", theirs.id);
            match (vendor, ours) {
                (Some(vendor), Some(ours)) => self.schema(&label, *vendor, *ours),
                (Some(_), None) => self.push(format!("schema {label}"), Detail::OnlyInVendor),
                (None, Some(_)) => self.push(format!("schema {label}"), Detail::OnlyInOurs),
                (None, None) => {}
            }
        }
    }

    fn parameters(&mut self, theirs: &Operation<'_>, mine: &Operation<'_>) {
        let (vendor, ours) = (theirs.parameters(), mine.parameters());
        for key @ (place, name) in vendor.keys().chain(ours.keys()).collect::<BTreeSet<_>>() {
            let subject = format!("parameter {} {place} {name}", theirs.id);
            let (vendor_parameter, our_parameter) = match (vendor.get(key), ours.get(key)) {
                (Some(v), Some(o)) => (*v, *o),
                (Some(_), None) => {
                    self.push(subject, Detail::OnlyInVendor);
                    continue;
                }
                (None, _) => {
                    self.push(subject, Detail::OnlyInOurs);
                    continue;
                }
            };
            let required = |parameter: &Value| (parameter.get("required") == Some(&Value::Bool(true))).to_string();
            self.differs(&subject, "required", required(vendor_parameter), required(our_parameter));
            let vendor_schema = Shape::of(parameter_schema(theirs.doc, vendor_parameter));
            let our_schema = Shape::of(parameter_schema(mine.doc, our_parameter));
            self.values(&subject, &vendor_schema, &our_schema);
        }
    }

    /// What a value may be: its type, whether it may be null, and its allowed values.
    fn values(&mut self, subject: &str, vendor: &Shape<'_>, ours: &Shape<'_>) {
        if vendor.variants.is_empty() && ours.variants.is_empty() {
            self.differs(subject, "type", vendor.type_text(), ours.type_text());
        }
        self.differs(subject, "nullable", vendor.nullable.to_string(), ours.nullable.to_string());
        match (&vendor.enumeration, &ours.enumeration) {
            (Some(vendor_values), Some(our_values)) => {
                for value in vendor_values.difference(our_values) {
                    self.push(format!("{subject} enum value {value}"), Detail::OnlyInVendor);
                }
                for value in our_values.difference(vendor_values) {
                    self.push(format!("{subject} enum value {value}"), Detail::OnlyInOurs);
                }
            }
            (vendor_values, our_values) => {
                let show = |values: &Option<BTreeSet<String>>| {
                    values
                        .as_ref()
                        .map_or_else(|| "-".to_owned(), |values| values.iter().cloned().collect::<Vec<_>>().join("|"))
                };
                self.differs(subject, "enum", show(vendor_values), show(our_values));
            }
        }
    }

    /// Compares two schemas found at `label` (an operation's body, or a field path below one).
    fn schema(&mut self, label: &str, vendor: Node<'_>, ours: Node<'_>) {
        let (theirs, mine) = (Shape::of(vendor), Shape::of(ours));
        // A named schema is reported under its name (once, however many places use it) when
        // both sides name the same component or when it has fields of its own; otherwise
        // under the path that reached it, so that a plain value narrowed in one place shows there.
        let label = match &theirs.name {
            Some(name) if mine.name.as_ref() == Some(name) || theirs.is_structured() => {
                if !self.compared.insert((name.clone(), mine.name.clone().unwrap_or_default())) {
                    return;
                }
                name.clone()
            }
            _ => label.to_owned(),
        };
        self.fields(&label, &theirs, &mine);
        self.variants(&label, &theirs, &mine);
    }

    /// What two flattened schemas allow, and their fields, items and map values.
    fn fields(&mut self, label: &str, theirs: &Shape<'_>, mine: &Shape<'_>) {
        let subject = format!("schema {label}");
        self.values(&subject, theirs, mine);
        for name in theirs.properties.keys().chain(mine.properties.keys()).collect::<BTreeSet<_>>() {
            let (vendor, ours) = (theirs.properties.get(name), mine.properties.get(name));
            // A field is named after the component declaring it, so that a field inherited
            // through `allOf` is reported once, under its parent.
            let owner = vendor.or(ours).and_then(|property| property.owner);
            let field = owner.map_or_else(|| format!("{label}.{name}"), |owner| format!("{owner}.{name}"));
            match (vendor, ours) {
                (Some(vendor), Some(ours)) => {
                    let inherited = owner.is_some() && vendor.owner == ours.owner;
                    if inherited && !self.compared_fields.insert(field.clone()) {
                        continue;
                    }
                    let required = |shape: &Shape<'_>| shape.required.contains(name).to_string();
                    self.differs(&format!("schema {field}"), "required", required(theirs), required(mine));
                    self.schema(&field, vendor.node, ours.node);
                }
                (Some(_), None) => self.push(format!("schema {field}"), Detail::OnlyInVendor),
                (None, _) => self.push(format!("schema {field}"), Detail::OnlyInOurs),
            }
        }
        if let (Some(vendor), Some(ours)) = (theirs.items, mine.items) {
            self.schema(&format!("{label}[]"), vendor, ours);
        }
        if let (Some(vendor), Some(ours)) = (theirs.additional, mine.additional) {
            self.schema(&format!("{label}{{}}"), vendor, ours);
        }
    }

    /// `oneOf` alternatives, paired by tag value, component name or title. When only one side
    /// has alternatives, the other side's single schema is compared with each of them.
    fn variants(&mut self, label: &str, theirs: &Shape<'_>, mine: &Shape<'_>) {
        let named = |variants: &[Node<'_>]| -> Vec<String> {
            variants
                .iter()
                .enumerate()
                .map(|(index, variant)| variant_names(*variant).into_iter().next().unwrap_or(format!("#{index}")))
                .collect()
        };
        let subject = format!("schema {label}");
        match (theirs.variants.is_empty(), mine.variants.is_empty()) {
            (true, true) => {}
            (false, false) => {
                let mut unmatched: Vec<(usize, Vec<String>)> =
                    mine.variants.iter().map(|variant| variant_names(*variant)).enumerate().collect();
                for (index, variant) in theirs.variants.iter().enumerate() {
                    let names = variant_names(*variant);
                    let shown = names.first().cloned().unwrap_or(format!("#{index}"));
                    let paired =
                        unmatched.iter().position(|(_, candidates)| names.iter().any(|name| candidates.contains(name)));
                    match paired {
                        Some(position) => {
                            let (our_index, _) = unmatched.remove(position);
                            self.schema(&format!("{label}<{shown}>"), *variant, mine.variants[our_index]);
                        }
                        None => self.push(format!("{subject} variant {shown}"), Detail::OnlyInVendor),
                    }
                }
                for (index, names) in unmatched {
                    let shown = names.first().cloned().unwrap_or(format!("#{index}"));
                    self.push(format!("{subject} variant {shown}"), Detail::OnlyInOurs);
                }
            }
            (true, false) => {
                self.differs(&subject, "variants", "-".into(), named(&mine.variants).join("|"));
                for (name, variant) in named(&mine.variants).iter().zip(&mine.variants) {
                    self.fields(&format!("{label}<{name}>"), theirs, &Shape::of(*variant));
                }
            }
            (false, true) => {
                self.differs(&subject, "variants", named(&theirs.variants).join("|"), "-".into());
                for (name, variant) in named(&theirs.variants).iter().zip(&theirs.variants) {
                    self.fields(&format!("{label}<{name}>"), &Shape::of(*variant), mine);
                }
            }
        }
    }
}
