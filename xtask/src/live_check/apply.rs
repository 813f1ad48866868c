//! `cargo xtask live-check --apply`: marks the inferred Supervisor operations whose route a
//! report confirmed as `seen`, by changing that one word in the YAML source (comments,
//! formatting and everything else stay as they are), so that a maintainer reviews one diff;
//! and lists the routes the report refuted, which need a person to decide.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::report::{Report, RouteVerdict};
use crate::diagnostic::push_token;
use crate::document::operations;
use crate::layers::LAYERS;
use crate::spec::source::Source;

const CONFIDENCE: &str = "x-laserdata-confidence";

/// What `--apply` did and found.
#[derive(Debug, Default)]
pub struct Applied {
    /// Operations now marked `seen`, with the file and line changed.
    pub marked: Vec<(String, PathBuf, usize)>,
    /// Confirmed operations that were not `inferred` in the sources (any more).
    pub already_seen: Vec<String>,
    /// Operations whose route the report refuted, with why.
    pub refuted: Vec<(String, String)>,
}

pub fn apply(root: &Path, report: &Report) -> Result<Applied, String> {
    let mut applied = Applied::default();
    let mut confirmed = Vec::new();
    for result in report.operations.iter().filter(|result| result.layer == "supervisor") {
        match &result.route {
            Some(RouteVerdict::Confirmed { .. }) => confirmed.push(result.operation_id.clone()),
            Some(RouteVerdict::Refuted { why }) => applied.refuted.push((result.operation_id.clone(), why.clone())),
            _ => {}
        }
    }
    let layer = LAYERS.iter().find(|layer| layer.requires_confidence).expect("the Supervisor layer");
    let mut files = vec![PathBuf::from(layer.source)];
    files.extend(crate::part_files(root, layer));
    // Each confirmed operation: the file, and the line of its confidence, to change.
    let mut edits: BTreeMap<PathBuf, Vec<(usize, String)>> = BTreeMap::new();
    for file in &files {
        let source = Source::load(root, file).map_err(|diagnostic| diagnostic.to_string())?;
        for operation in operations(&source.doc) {
            if !confirmed.contains(&operation.id) {
                continue;
            }
            if operation.node.get(CONFIDENCE).and_then(Value::as_str) != Some("inferred") {
                applied.already_seen.push(operation.id.clone());
                continue;
            }
            let pointer = push_token(
                &push_token(&push_token("/paths", &operation.path), &operation.method.to_lowercase()),
                CONFIDENCE,
            );
            let line = source.position(&pointer).map(|position| position.line).ok_or_else(|| {
                format!("{}: cannot find where `{}` says its confidence", file.display(), operation.id)
            })?;
            edits.entry(file.clone()).or_default().push((line, operation.id.clone()));
        }
    }
    for (file, lines) in edits {
        let path = root.join(&file);
        let text =
            std::fs::read_to_string(&path).map_err(|error| format!("cannot read {}: {error}", file.display()))?;
        let mut rewritten: Vec<String> = text.split('\n').map(str::to_owned).collect();
        for (line, id) in lines {
            let current = &rewritten[line - 1];
            let Some(at) = current.find(CONFIDENCE) else {
                return Err(format!("{}:{line}: expected `{CONFIDENCE}: inferred` for `{id}`", file.display()));
            };
            let (key, value) = current.split_at(at + CONFIDENCE.len());
            let Some(value) = value.strip_prefix(": inferred") else {
                return Err(format!("{}:{line}: expected `{CONFIDENCE}: inferred` for `{id}`", file.display()));
            };
            rewritten[line - 1] = format!("{key}: seen{value}");
            applied.marked.push((id, file.clone(), line));
        }
        std::fs::write(&path, rewritten.join("\n"))
            .map_err(|error| format!("cannot write {}: {error}", file.display()))?;
    }
    applied.marked.sort();
    Ok(applied)
}
