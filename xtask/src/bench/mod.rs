//! `cargo xtask bench`: measures codegen here, in-process; runs the client benchmarks of the
//! `laserdata-bench` package (release profile) and the build-time benchmark through cargo; and
//! writes one table to `BENCHMARKS.md`.
//!
//! The xtask itself depends on none of the client crates: they are built only for the bench
//! binaries, which print their rows as JSON.

pub mod build;
pub mod codegen;
pub mod cpu;
pub mod report;
pub mod stats;

use std::path::Path;
use std::process::Stdio;

use report::{Machine, Row};

/// What to run, from the command line.
#[derive(Debug, Clone)]
pub struct Options {
    /// Skip the build-time benchmarks (section 5), keeping their rows from the last run.
    pub skip_build: bool,
    /// Skip the client benchmarks (sections 2 to 4), keeping their rows from the last run.
    pub skip_clients: bool,
    /// Repetitions of each codegen measurement (after one warm-up run).
    pub codegen_runs: usize,
    /// Clean builds of each generated crate and downstream program, and rebuilds each way.
    /// Five by default: on a shared 2-core machine single clean builds spread over 3–4 s, and
    /// the median of three moved the downstream rows by 2 s between runs.
    pub build_runs: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { skip_build: false, skip_clients: false, codegen_runs: 10, build_runs: 5 }
    }
}

/// The file the table is written to, at the repository root.
pub const OUTPUT: &str = "BENCHMARKS.md";

/// Runs every benchmark and writes `BENCHMARKS.md`; returns the table.
pub fn run(root: &Path, options: &Options) -> Result<String, String> {
    let machine = Machine::describe(root);
    let mut rows = codegen::rows(root, options.codegen_runs)?;
    let mut skipped = Vec::new();
    if options.skip_clients {
        skipped.extend([2, 3, 4]);
    } else {
        rows.extend(bench_binary(root, "laserdata-bench", &[])?);
        rows.extend(bench_binary(root, "laserdata-bench-memory", &[])?);
    }
    if options.skip_build {
        skipped.push(5);
    } else {
        rows.extend(build::rows(root, options.build_runs, &machine.date)?);
    }
    let output = root.join(OUTPUT);
    let existing = std::fs::read_to_string(&output).ok();
    let kept = existing.as_deref().map(|text| report::previous_lines(text, &skipped)).unwrap_or_default();
    let block = report::block(&machine, &rows, &skipped, &kept);
    let merged = report::merge(existing.as_deref(), &block, TEMPLATE);
    std::fs::write(&output, merged).map_err(|error| format!("{}: {error}", output.display()))?;
    Ok(block)
}

/// A new `BENCHMARKS.md`: the generated block, and room for notes written by hand.
const TEMPLATE: &str = "# Benchmarks\n\n`cargo xtask bench` measures and rewrites the block below; the rest of this file is written by hand.\n\n{{block}}\n\n## Notes\n";

/// Sections 2 to 4: builds and runs one binary of the `laserdata-bench` package with the
/// release profile and reads the rows it prints.
fn bench_binary(root: &Path, binary: &str, args: &[&str]) -> Result<Vec<Row>, String> {
    eprintln!("running {binary} (release profile; the first run builds it)");
    let output = crate::tools::cargo()
        .current_dir(root)
        .args(["run", "--release", "--quiet", "-p", "laserdata-bench", "--bin", binary, "--"])
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if !output.status.success() {
        return Err(format!("{binary} failed ({})", output.status));
    }
    serde_json::from_slice(&output.stdout).map_err(|error| format!("{binary} printed no table: {error}"))
}
