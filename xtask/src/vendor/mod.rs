//! `cargo xtask vendor-diff FILE...`: what the vendor's OpenAPI documents say differently from
//! our description, layer by layer, each difference either recorded (a departure listed with
//! its reason in `openapi/vendor-departures.yaml`) or new.
//!
//! The vendor publishes several documents (Main API "core", notifier, Audit); each is matched
//! to the layer of ours that shares the most operations with it (by operationId, else by
//! method and path), so the core and notifier documents both compare with our Main layer.

pub mod compare;
pub mod departures;

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::document::{Operation, operations};
use crate::layers::{LAYERS, Layer, SHARED_SOURCE};
use crate::spec::source::Source;
use compare::Finding;
use departures::{Departures, Pattern, glob_matches};

/// A vendor document and the layer it was compared with.
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    pub file: PathBuf,
    pub title: String,
    pub version: String,
    pub layer: String,
    pub operations: usize,
    /// Of its operations, how many ours has under the same operationId.
    pub shared: usize,
}

/// A finding, and the departure that records it if one does.
#[derive(Debug, Serialize)]
pub struct Classified {
    #[serde(flatten)]
    pub finding: Finding,
    pub text: String,
    /// `Section: first cell` of the recording departure; `None` for a new finding.
    pub recorded_by: Option<String>,
}

/// What `vendor-diff` found.
#[derive(Debug, Serialize)]
pub struct Outcome {
    pub documents: Vec<Document>,
    pub findings: Vec<Classified>,
    /// Patterns of the compared layers that matched no finding: departures these documents
    /// no longer show (the vendor may have caught up, or the record is out of date).
    pub unused_patterns: Vec<String>,
}

impl Outcome {
    pub fn new_findings(&self) -> impl Iterator<Item = &Classified> {
        self.findings.iter().filter(|finding| finding.recorded_by.is_none())
    }
}

/// Reads a vendor document: JSON, or YAML.
pub fn read_document(file: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(file).map_err(|error| format!("cannot read {}: {error}", file.display()))?;
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(&text).map_err(|error| format!("{} is not valid JSON: {error}", file.display()));
    }
    let source = Source::parse(file.to_path_buf(), &text).map_err(|diagnostic| diagnostic.to_string())?;
    Ok(source.doc)
}

/// Compares `files` with our description. `layer` forces the layer of every file; otherwise
/// each file's layer is the one sharing the most operations with it.
pub fn run(root: &Path, files: &[PathBuf], layer: Option<&str>) -> Result<Outcome, String> {
    let shared = Source::load(root, Path::new(SHARED_SOURCE)).map_err(|error| error.to_string())?;
    let mut ours: Vec<(&Layer, Value)> = Vec::new();
    for layer in LAYERS {
        let bundle = crate::load_layer(root, layer, &shared).map_err(|problems| {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            format!("our {} description is broken:\n{}", layer.name, lines.join("\n"))
        })?;
        ours.push((layer, bundle.doc));
    }
    let mut vendor_docs = Vec::new();
    for file in files {
        vendor_docs.push((file.clone(), read_document(file)?));
    }
    let mut documents = Vec::new();
    for (file, doc) in &vendor_docs {
        let chosen = match layer {
            Some(name) => name.to_owned(),
            None => match_layer(file, doc, &ours)?,
        };
        let theirs = operations(doc);
        let our_ids: BTreeSet<String> = ours
            .iter()
            .filter(|(layer, _)| layer.name == chosen)
            .flat_map(|(_, doc)| operations(doc).into_iter().map(|operation| operation.id))
            .collect();
        let text = |pointer: &str| doc.pointer(pointer).and_then(Value::as_str).unwrap_or("?").to_owned();
        documents.push(Document {
            file: file.clone(),
            title: text("/info/title"),
            version: text("/info/version"),
            layer: chosen,
            operations: theirs.len(),
            shared: theirs.iter().filter(|operation| our_ids.contains(&operation.id)).count(),
        });
    }
    let mut findings = Vec::new();
    for (layer, our_doc) in &ours {
        let theirs: Vec<Operation<'_>> = vendor_docs
            .iter()
            .zip(&documents)
            .filter(|(_, document)| document.layer == layer.name)
            .flat_map(|((_, doc), _)| operations(doc))
            .collect();
        if !documents.iter().any(|document| document.layer == layer.name) {
            continue;
        }
        findings.extend(compare::compare(layer.name, &theirs, &operations(our_doc)));
    }
    let departures = Departures::load(root).map_err(|diagnostic| diagnostic.to_string())?;
    Ok(classify(findings, &departures.patterns(), &documents))
}

/// The layer of ours that shares the most operations with `doc`.
fn match_layer(file: &Path, doc: &Value, ours: &[(&Layer, Value)]) -> Result<String, String> {
    let theirs = operations(doc);
    let overlap = |our_doc: &Value| {
        let mine = operations(our_doc);
        theirs
            .iter()
            .filter(|operation| {
                mine.iter()
                    .any(|our| our.id == operation.id || (our.method == operation.method && our.path == operation.path))
            })
            .count()
    };
    let mut scores: Vec<(usize, &str)> = ours.iter().map(|(layer, doc)| (overlap(doc), layer.name)).collect();
    scores.sort_by_key(|(score, _)| std::cmp::Reverse(*score));
    match scores.as_slice() {
        [(best, name), rest @ ..] if *best > 0 && rest.first().is_none_or(|(next, _)| next < best) => {
            Ok((*name).to_owned())
        }
        _ => Err(format!(
            "cannot tell which layer {} describes: it shares no operation (by operationId or route) with one layer more than with the others; name the layer with --layer",
            file.display()
        )),
    }
}

fn classify(findings: Vec<Finding>, patterns: &[Pattern], documents: &[Document]) -> Outcome {
    let mut used = vec![false; patterns.len()];
    let findings = findings
        .into_iter()
        .map(|finding| {
            let text = finding.to_string();
            let recorded = patterns.iter().position(|pattern| glob_matches(&pattern.pattern, &text));
            if let Some(index) = recorded {
                used[index] = true;
            }
            Classified { finding, text, recorded_by: recorded.map(|index| patterns[index].departure.clone()) }
        })
        .collect();
    let compared: BTreeSet<&str> = documents.iter().map(|document| document.layer.as_str()).collect();
    let unused_patterns = patterns
        .iter()
        .zip(used)
        .filter(|(pattern, used)| {
            let layer = pattern.pattern.split(' ').next().unwrap_or_default();
            !used && (compared.contains(layer) || layer == "*")
        })
        .map(|(pattern, _)| pattern.pattern.clone())
        .collect();
    Outcome { documents: documents.to_vec(), findings, unused_patterns }
}

/// The report for people: the documents, the new findings in full, the recorded ones counted
/// per departure, and how many recorded patterns matched nothing (with `all`, each of these listed).
pub fn human_report(outcome: &Outcome, all: bool) -> String {
    let mut text = String::from("Vendor documents:\n");
    for document in &outcome.documents {
        writeln!(
            text,
            "  {}: {} {} -> {} ({} operations, {} under our operationIds)",
            document.file.display(),
            document.title,
            document.version,
            document.layer,
            document.operations,
            document.shared
        )
        .unwrap();
    }
    let new: Vec<&Classified> = outcome.new_findings().collect();
    let recorded = outcome.findings.len() - new.len();
    writeln!(
        text,
        "\n{} finding(s): {} new, {recorded} recorded in {}",
        outcome.findings.len(),
        new.len(),
        departures::SOURCE
    )
    .unwrap();
    if !new.is_empty() {
        text.push_str("\nNew (fix openapi/ or record the departure with its reason):\n");
        for finding in &new {
            writeln!(text, "  {}", finding.text).unwrap();
        }
    }
    if recorded > 0 {
        text.push_str("\nRecorded:\n");
        let mut departures: Vec<(&str, Vec<&str>)> = Vec::new();
        for finding in &outcome.findings {
            let Some(departure) = &finding.recorded_by else { continue };
            match departures.iter_mut().find(|(name, _)| name == departure) {
                Some((_, texts)) => texts.push(&finding.text),
                None => departures.push((departure, vec![&finding.text])),
            }
        }
        for (departure, texts) in departures {
            writeln!(text, "  {:>4}  {departure}", texts.len()).unwrap();
            if all {
                for finding in texts {
                    writeln!(text, "          {finding}").unwrap();
                }
            }
        }
    }
    match outcome.unused_patterns.len() {
        0 => {}
        unused if !all => writeln!(
            text,
            "\n{unused} recorded departure pattern(s) match nothing in these documents (--all lists them)"
        )
        .unwrap(),
        _ => {
            text.push_str("\nRecorded departures these documents do not show (drop them if the vendor caught up):\n");
            for pattern in &outcome.unused_patterns {
                writeln!(text, "  {pattern}").unwrap();
            }
        }
    }
    text
}
