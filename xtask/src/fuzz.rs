//! The `fuzz` gate of `cargo xtask lint`: schemathesis (pinned in `tools/requirements.txt`)
//! against a running sandbox, for every layer's published OpenAPI 3.1 document, with every
//! check schemathesis has (what `--checks all` selects), a fixed seed and a bounded number of
//! examples per operation, in all four phases (examples, coverage, fuzzing, stateful). It
//! passes with no failure at all.
//!
//! The checks are enabled in the configuration file the gate writes rather than with
//! `--checks all` on the command line, because a check named on the command line cannot be
//! left out for one operation: [`EXCLUSIONS`] lists the only ones left out, each with its
//! reason. The file also makes the generated ids name, most of the time, the tenant, division,
//! environment and deployment the sandbox has, so that requests get past the 404 and reach
//! the operations' logic (the other draws still cover unknown and invalid ids).
//!
//! The sandbox runs with no rate limit (the fuzzer is one key sending thousands of requests);
//! schemathesis runs with one worker, so that a run is reproducible from its seed.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use serde_json::Value;

use crate::layers::LAYERS;
use crate::lint::ARTIFACTS;
use crate::tools::Tools;

/// The seed of every run: the same cases each time.
pub const SEED: u64 = 20261130;

/// How many cases schemathesis draws per operation in its fuzzing phase (its examples,
/// coverage and stateful phases add their own, bounded by the documents).
pub const MAX_EXAMPLES: u32 = 10;

/// A check left out for some operations, and why.
pub struct Exclusion {
    /// The path template of the operations it is left out for.
    pub path: &'static str,
    pub check: &'static str,
    pub reason: &'static str,
}

/// The checks left out. Every other check runs on every operation.
pub const EXCLUSIONS: &[Exclusion] = &[Exclusion {
    path: "/deployments/{deployment_id}/configs/iggy",
    check: "allow_header_conformance",
    reason: "`/configs/iggy` (POST) is also `/configs/{kind}` (GET, POST) with kind `iggy`: one URL, two \
             documented resources. The sandbox's `Allow` there lists both (GET, POST), which is what \
             the URL supports and what the `{kind}` operation's check expects; this operation's check \
             would want POST alone",
}];

/// Where each layer is served by the sandbox, below its base URL.
fn prefix(layer: &str) -> &'static str {
    match layer {
        "supervisor" => "/supervisor",
        "audit" => "/audit",
        _ => "",
    }
}

pub fn fuzz(root: &Path, tools: &Tools) -> Result<(), String> {
    let out = root.join(ARTIFACTS).join("fuzz");
    std::fs::create_dir_all(&out).map_err(|error| format!("cannot create {}: {error}", out.display()))?;
    let sandbox = RunningSandbox::start(root)?;
    let mut failures = Vec::new();
    for layer in LAYERS {
        let started = Instant::now();
        let report = out.join(format!("{}.txt", layer.name));
        let log =
            std::fs::File::create(&report).map_err(|error| format!("cannot write {}: {error}", report.display()))?;
        let config = out.join(format!("{}.toml", layer.name));
        let document = crate::lint::read_json(&root.join(layer.bundle_31))?;
        std::fs::write(&config, config_file(&document))
            .map_err(|error| format!("cannot write {}: {error}", config.display()))?;
        let status = Command::new(tools.file(".venv/bin/schemathesis"))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .arg("--config-file")
            .arg(&config)
            .arg("run")
            .arg(root.join(layer.bundle_31))
            .args(["--url", &format!("{}{}", sandbox.url, prefix(layer.name))])
            .args(["--header", &format!("ld-api-key: {}", sandbox.key)])
            .args(["--seed", &SEED.to_string(), "--max-examples", &MAX_EXAMPLES.to_string()])
            .args(["--workers", "1", "--generation-database", "none", "--no-color"])
            .current_dir(&out)
            .stdout(log.try_clone().map_err(|error| error.to_string())?)
            .stderr(log)
            .status()
            .map_err(|error| format!("cannot start schemathesis: {error}"))?;
        let text = std::fs::read_to_string(&report).unwrap_or_default();
        let cases = text.lines().find(|line| line.contains(" generated")).map_or("", str::trim);
        println!("fuzz {}: {cases} ({:.0?}; report in {})", layer.name, started.elapsed(), report.display());
        if !status.success() {
            print_failures(&text);
            failures.push(layer.name);
        }
    }
    if failures.is_empty() { Ok(()) } else { Err(format!("schemathesis found failures in: {}", failures.join(", "))) }
}

/// The ids of what the sandbox starts with (its tenant, division, environment, deployment),
/// by path parameter.
const SANDBOX_IDS: [(&str, u64); 4] =
    [("tenant_id", 1042), ("division_id", 312), ("environment_id", 5120), ("deployment_id", 88012)];

/// How often a generated path id is one of [`SANDBOX_IDS`] rather than a drawn one.
const SANDBOX_ID_PROBABILITY: f64 = 0.8;

/// The schemathesis configuration for one layer's document: every check, the sandbox's ids,
/// and the exclusions for the operations of this document.
fn config_file(document: &Value) -> String {
    let mut text = String::from(
        "# Written by `cargo xtask lint --gate fuzz` (xtask/src/fuzz.rs, which gives the reasons).\n\n[checks]\nenabled = true\n",
    );
    for (name, id) in SANDBOX_IDS {
        text.push_str(&format!("\n[dictionaries.{name}]\nvalues = [{id}]\n"));
    }
    text.push_str("\n[parameters]\n");
    for (name, _) in SANDBOX_IDS {
        text.push_str(&format!(
            "\"path.{name}\" = {{ dictionary = \"{name}\", probability = {SANDBOX_ID_PROBABILITY} }}\n"
        ));
    }
    let paths = document.get("paths").and_then(Value::as_object);
    for exclusion in EXCLUSIONS.iter().filter(|exclusion| paths.is_some_and(|paths| paths.contains_key(exclusion.path)))
    {
        text.push_str(&format!(
            "\n[[operations]]\ninclude-path = {:?}\nchecks.{}.enabled = false\n",
            exclusion.path, exclusion.check
        ));
    }
    text
}

/// The failures section of a schemathesis report, for the log.
fn print_failures(report: &str) {
    let start = report.find("= FAILURES =").or_else(|| report.find("= ERRORS =")).unwrap_or(0);
    let section: String = report[start..].lines().take(200).map(|line| format!("{line}\n")).collect();
    eprint!("{section}");
}

/// The sandbox's command-line server, built and started; stopped when dropped.
struct RunningSandbox {
    child: Child,
    url: String,
    key: String,
}

impl RunningSandbox {
    fn start(root: &Path) -> Result<RunningSandbox, String> {
        let binary = build_sandbox(root)?;
        let mut child = Command::new(&binary)
            .args(["--port", "0", "--rate-limit", "0"])
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", binary.display()))?;
        let mut lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
        let (mut url, mut key) = (None, None);
        while url.is_none() || key.is_none() {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                return Err("the sandbox stopped before printing its URL and key".into());
            };
            if let Some(value) = line.strip_prefix("LD_API_URL=") {
                url = Some(value.to_owned());
            } else if let Some(value) = line.strip_prefix("LD_API_KEY=") {
                key = Some(value.to_owned());
            }
        }
        // The sandbox goes on printing (the codes it "e-mails"); keep reading so that it never
        // blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(RunningSandbox { child, url: url.unwrap_or_default(), key: key.unwrap_or_default() })
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builds the sandbox's binary and returns its path.
fn build_sandbox(root: &Path) -> Result<PathBuf, String> {
    let output = crate::tools::cargo()
        .args(["build", "--quiet", "--package", "laserdata-sandbox", "--bin", "laserdata-sandbox"])
        .args(["--message-format", "json-render-diagnostics"])
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| format!("cannot start cargo build: {error}"))?;
    if !output.status.success() {
        return Err("cargo build of the sandbox failed".into());
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact" && message["target"]["name"] == "laserdata-sandbox")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo built no laserdata-sandbox binary".into())
}
