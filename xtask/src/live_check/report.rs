//! The live check's report: JSON for tools (and `--apply`), Markdown for people to read and to
//! attach to an issue. Neither holds a value from an answer (except a value an enum rejected),
//! and both pass through a last redaction of every secret seen, the key included.

use std::fmt::Write;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::document::Operation;

/// The file names written into the output folder.
pub const JSON_FILE: &str = "live-check.json";
pub const MARKDOWN_FILE: &str = "live-check.md";

/// How the reason for not calling a mutating operation begins.
pub const WRITE_REASON: &str = "changes data";

/// What replaces a secret that slipped into the text.
const REDACTED: &str = "[redacted]";
/// Shorter "secrets" would redact ordinary words.
const SHORTEST_SECRET: usize = 6;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub targets: Vec<Target>,
    pub summary: Summary,
    pub operations: Vec<OperationResult>,
    /// Values never to write: the key, secret fields and presigned URLs seen in answers.
    #[serde(skip)]
    secrets: Vec<String>,
}

/// Where a layer was checked; `None` when it was not.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Target {
    pub layer: String,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    pub called: usize,
    pub conforming: usize,
    pub differing: usize,
    pub skipped: usize,
    pub routes_confirmed: usize,
    pub routes_refuted: usize,
    pub routes_inconclusive: usize,
    pub routes_not_checked: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OperationResult {
    pub layer: String,
    pub operation_id: String,
    pub method: String,
    pub path: String,
    /// `x-laserdata-confidence`, where the description says.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub confidence: Option<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// For an inferred operation: whether its route exists.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub route: Option<RouteVerdict>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Called(Called),
    Skipped { reason: String },
}

/// The judgement of an answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Called {
    pub status: u16,
    pub conforms: bool,
    /// The first differences between the body and its schema.
    pub schema_differences: Vec<String>,
    /// Fields the schema does not declare, as JSON pointers (`*` for any array index or map key).
    pub undeclared_fields: Vec<String>,
    pub missing_headers: Vec<String>,
    /// Anything else: an undeclared status, a body that is not JSON, ...
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum RouteVerdict {
    Confirmed { why: String },
    Refuted { why: String },
    Inconclusive { why: String },
    NotChecked,
}

impl OperationResult {
    pub fn new(layer: &str, operation: &Operation<'_>) -> OperationResult {
        OperationResult {
            layer: layer.to_owned(),
            operation_id: operation.id.clone(),
            method: operation.method.clone(),
            path: operation.path.clone(),
            confidence: operation.node.get("x-laserdata-confidence").and_then(Value::as_str).map(str::to_owned),
            outcome: Outcome::Skipped { reason: String::new() },
            route: None,
        }
    }

    fn called(&self) -> Option<&Called> {
        match &self.outcome {
            Outcome::Called(called) => Some(called),
            Outcome::Skipped { .. } => None,
        }
    }
}

impl Report {
    pub fn new(targets: Vec<Target>, operations: Vec<OperationResult>, secrets: &[String]) -> Report {
        let mut summary = Summary::default();
        for result in &operations {
            match result.called() {
                Some(called) => {
                    summary.called += 1;
                    if called.conforms {
                        summary.conforming += 1;
                    } else {
                        summary.differing += 1;
                    }
                }
                None => summary.skipped += 1,
            }
            match &result.route {
                Some(RouteVerdict::Confirmed { .. }) => summary.routes_confirmed += 1,
                Some(RouteVerdict::Refuted { .. }) => summary.routes_refuted += 1,
                Some(RouteVerdict::Inconclusive { .. }) => summary.routes_inconclusive += 1,
                Some(RouteVerdict::NotChecked) => summary.routes_not_checked += 1,
                None => {}
            }
        }
        let mut report = Report { targets, summary, operations, secrets: Vec::new() };
        for secret in secrets {
            report.add_secret(secret);
        }
        report
    }

    /// A value that must not appear in what is written (such as the key).
    pub fn add_secret(&mut self, secret: &str) {
        if secret.len() >= SHORTEST_SECRET && !self.secrets.iter().any(|known| known == secret) {
            self.secrets.push(secret.to_owned());
        }
    }

    pub fn from_json(text: &str) -> Result<Report, String> {
        serde_json::from_str(text).map_err(|error| format!("not a live-check report: {error}"))
    }

    pub fn to_json(&self) -> String {
        self.redact(serde_json::to_string_pretty(self).expect("reports serialize") + "\n")
    }

    fn redact(&self, mut text: String) -> String {
        // Longest first, so that a secret containing another is replaced whole.
        let mut secrets: Vec<&String> = self.secrets.iter().collect();
        secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        for secret in secrets {
            text = text.replace(secret.as_str(), REDACTED);
            // JSON escapes some characters: look for the escaped form too.
            let escaped = serde_json::to_string(secret).expect("strings serialize");
            text = text.replace(escaped.trim_matches('"'), REDACTED);
        }
        text
    }

    pub fn to_markdown(&self) -> String {
        let mut text = String::from("# Live check of the LaserData Cloud API against the laserdata-rs description\n\n");
        for target in &self.targets {
            match &target.url {
                Some(url) => writeln!(text, "- {}: {url}", target.layer).unwrap(),
                None => writeln!(text, "- {}: not checked", target.layer).unwrap(),
            }
        }
        let summary = &self.summary;
        writeln!(
            text,
            "\n{} operations called: {} answered as described, {} differ; {} not called.",
            summary.called, summary.conforming, summary.differing, summary.skipped
        )
        .unwrap();
        let routes = summary.routes_confirmed
            + summary.routes_refuted
            + summary.routes_inconclusive
            + summary.routes_not_checked;
        if routes > 0 {
            writeln!(
                text,
                "Inferred Supervisor routes: {} confirmed, {} refuted, {} inconclusive, {} not checked.",
                summary.routes_confirmed,
                summary.routes_refuted,
                summary.routes_inconclusive,
                summary.routes_not_checked
            )
            .unwrap();
        }

        let differing: Vec<(&OperationResult, &Called)> = self
            .operations
            .iter()
            .filter_map(|result| result.called().filter(|c| !c.conforms).map(|c| (result, c)))
            .collect();
        text.push_str("\n## Answers that differ from the description\n\n");
        if differing.is_empty() {
            text.push_str("None.\n");
        } else {
            text.push_str("| Layer | Operation | Status | What differs |\n|---|---|---|---|\n");
            for (result, called) in differing {
                let mut notes: Vec<String> = called.problems.clone();
                notes.extend(called.schema_differences.iter().cloned());
                notes.extend(called.undeclared_fields.iter().map(|field| format!("undeclared field `{field}`")));
                notes.extend(called.missing_headers.iter().map(|header| format!("no `{header}` header")));
                writeln!(
                    text,
                    "| {} | `{}` | {} | {} |",
                    result.layer,
                    result.operation_id,
                    called.status,
                    cell(&notes.join("; "))
                )
                .unwrap();
            }
        }

        let mut inferred: Vec<&OperationResult> =
            self.operations.iter().filter(|result| result.route.is_some()).collect();
        // Confirmed first, then refuted, inconclusive, not checked: what a maintainer acts on first.
        inferred.sort_by_key(|result| match result.route {
            Some(RouteVerdict::Confirmed { .. }) => 0,
            Some(RouteVerdict::Refuted { .. }) => 1,
            Some(RouteVerdict::Inconclusive { .. }) => 2,
            _ => 3,
        });
        if !inferred.is_empty() {
            text.push_str(
                "\n## Inferred Supervisor routes\n\n| Operation | Method and path | Route | Why |\n|---|---|---|---|\n",
            );
            for result in inferred {
                let (verdict, why) = match result.route.as_ref().expect("filtered") {
                    RouteVerdict::Confirmed { why } => ("confirmed", why.as_str()),
                    RouteVerdict::Refuted { why } => ("refuted", why.as_str()),
                    RouteVerdict::Inconclusive { why } => ("inconclusive", why.as_str()),
                    RouteVerdict::NotChecked => ("not checked", skip_reason(result)),
                };
                writeln!(
                    text,
                    "| `{}` | `{} {}` | {verdict} | {} |",
                    result.operation_id,
                    result.method,
                    result.path,
                    cell(why)
                )
                .unwrap();
            }
        }

        text.push_str("\n## Every call\n\n| Layer | Operation | Status | As described |\n|---|---|---|---|\n");
        for result in &self.operations {
            if let Some(called) = result.called() {
                let ok = if called.conforms { "yes" } else { "no" };
                writeln!(text, "| {} | `{}` | {} | {ok} |", result.layer, result.operation_id, called.status).unwrap();
            }
        }
        let (writes, skipped): (Vec<&OperationResult>, Vec<&OperationResult>) = self
            .operations
            .iter()
            .filter(|result| result.called().is_none())
            .partition(|result| skip_reason(result).starts_with(WRITE_REASON));
        if !skipped.is_empty() {
            text.push_str("\n## Not called\n\n| Layer | Operation | Why |\n|---|---|---|\n");
            for result in skipped {
                writeln!(text, "| {} | `{}` | {} |", result.layer, result.operation_id, cell(skip_reason(result)))
                    .unwrap();
            }
        }
        if !writes.is_empty() {
            let names: Vec<String> = writes.iter().map(|result| format!("`{}`", result.operation_id)).collect();
            writeln!(
                text,
                "\nNot called because they change data ({}; `--allow-writes` names those to call): {}.",
                writes.len(),
                names.join(", ")
            )
            .unwrap();
        }
        text.push_str(
            "\nWritten by `cargo xtask live-check`. It holds no key, secret field or presigned URL, and no value from \
             an answer except an enum value the description does not list.\n",
        );
        self.redact(text)
    }
}

fn skip_reason(result: &OperationResult) -> &str {
    match &result.outcome {
        Outcome::Skipped { reason } => reason,
        Outcome::Called(_) => "",
    }
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_even_in_their_json_escaped_form() {
        let result = OperationResult {
            layer: "main".into(),
            operation_id: "leaky".into(),
            method: "GET".into(),
            path: "/x".into(),
            confidence: None,
            outcome: Outcome::Skipped { reason: "saw ldsk_123456 and a\"quoted\"secret".into() },
            route: None,
        };
        let report =
            Report::new(Vec::new(), vec![result], &["ldsk_123456".into(), "a\"quoted\"secret".into(), "abc".into()]);
        for text in [report.to_json(), report.to_markdown()] {
            assert!(!text.contains("ldsk_123456") && !text.contains("quoted"), "{text}");
            assert!(text.contains("[redacted]"), "{text}");
        }
        // Too short to be told from ordinary words: not a secret.
        assert!(report.to_markdown().contains("saw"));
        let back = Report::from_json(&report.to_json()).unwrap();
        assert_eq!(back.operations[0].operation_id, "leaky");
    }
}
