//! `cargo xtask bench`: measures codegen here, in-process; runs the client benchmarks of the
//! `laserdata-bench` package (release profile) and the build-time benchmark through cargo; and
//! writes one table to `BENCHMARKS.md`.
//!
//! The xtask itself depends on none of the client crates: they are built only for the bench
//! binaries, which print their rows as JSON.

pub mod report;
pub mod stats;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::layers::{LAYERS, Layer, SHARED_SOURCE};
use crate::spec::source::Source;
use report::{Machine, Row};
use stats::{Timing, format};

/// What to run, from the command line.
#[derive(Debug, Clone)]
pub struct Options {
    /// Skip the build-time benchmark (section 5), keeping its rows from the last run.
    pub skip_build: bool,
    /// Repetitions of each codegen measurement (after one warm-up run).
    pub codegen_runs: usize,
    /// Clean builds of each generated crate.
    pub build_runs: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { skip_build: false, codegen_runs: 10, build_runs: 3 }
    }
}

/// The file the table is written to, at the repository root.
pub const OUTPUT: &str = "BENCHMARKS.md";

/// Runs every benchmark and writes `BENCHMARKS.md`; returns the table.
pub fn run(root: &Path, options: &Options) -> Result<String, String> {
    let machine = Machine::describe(root);
    let mut rows = codegen(root, options.codegen_runs)?;
    rows.extend(bench_binary(root, "laserdata-bench", &[])?);
    rows.extend(bench_binary(root, "laserdata-bench-memory", &[])?);
    rows.sort_by_key(|row| row.section);
    let output = root.join(OUTPUT);
    let existing = std::fs::read_to_string(&output).ok();
    let kept = if options.skip_build {
        Some(existing.as_deref().map(report::previous_build_lines).unwrap_or_default())
    } else {
        rows.extend(build_times(root, options.build_runs, &machine.date)?);
        None
    };
    let block = report::block(&machine, &rows, kept.as_deref());
    let merged = report::merge(existing.as_deref(), &block, TEMPLATE);
    std::fs::write(&output, merged).map_err(|error| format!("{}: {error}", output.display()))?;
    Ok(block)
}

/// A new `BENCHMARKS.md`: the generated block, and room for notes written by hand.
const TEMPLATE: &str = "# Benchmarks\n\n`cargo xtask bench` measures and rewrites the block below; the rest of this file is written by hand.\n\n{{block}}\n\n## Notes\n";

/// Section 1: `cargo xtask codegen` as the library does it, in this process, warm. Every case
/// runs once unmeasured, then `runs` times, the cases taking turns.
fn codegen(root: &Path, runs: usize) -> Result<Vec<Row>, String> {
    // Warm runs must find nothing to write: refuse to benchmark a stale tree rather than write to it.
    crate::codegen(root, LAYERS, true).map_err(|failure| format!("run `cargo xtask codegen` first:\n{failure}"))?;
    let layer = |name: &str| *LAYERS.iter().find(|layer| layer.name == name).expect("a known layer");
    let cases: Vec<(String, Vec<Layer>, bool)> = vec![
        ("`cargo xtask codegen --layer main`".into(), vec![layer("main")], false),
        ("`cargo xtask codegen --layer supervisor`".into(), vec![layer("supervisor")], false),
        ("`cargo xtask codegen --layer audit`".into(), vec![layer("audit")], false),
        ("`cargo xtask codegen` (all layers)".into(), LAYERS.to_vec(), false),
        ("`cargo xtask codegen --check` (all layers)".into(), LAYERS.to_vec(), true),
    ];
    let mut samples = vec![Vec::with_capacity(runs); cases.len()];
    for round in 0..=runs {
        eprintln!("codegen: round {round} of {runs}");
        for (index, (_, layers, check)) in cases.iter().enumerate() {
            let started = Instant::now();
            let report = crate::codegen(root, layers, *check).map_err(|failure| failure.to_string())?;
            let elapsed = started.elapsed();
            if !report.changed.is_empty() {
                return Err(format!("codegen rewrote {:?} during the benchmark", report.changed));
            }
            if round > 0 {
                samples[index].push(elapsed);
            }
        }
    }
    let phases = phases(root, runs)?;
    let profile = if cfg!(debug_assertions) { "dev profile, as `cargo xtask` builds it" } else { "release profile" };
    Ok(cases
        .iter()
        .zip(&samples)
        .map(|((name, layers, check), samples)| {
            let timing = Timing::of(samples);
            let files = layers.len() * 3;
            Row {
                section: 1,
                benchmark: format!("{name}, warm"),
                measure: format!(
                    "median wall time of {} in-process runs of `xtask::codegen` after one warm-up ({profile})",
                    timing.runs
                ),
                result: format(timing.median),
                detail: format!(
                    "min–max {}–{}; {} {files} files, none changed{}",
                    format(timing.min),
                    format(timing.max),
                    if *check { "compares" } else { "renders and compares (writes only changes)" },
                    if layers.len() == LAYERS.len() && !check { &phases } else { "" }
                ),
                target: "< 1 s".into(),
                met: Some(timing.median < Duration::from_secs(1)),
            }
        })
        .collect())
}

/// Where the time of an all-layers run goes: loading, bundling and checking the sources, and
/// generating the clients (progenitor, then prettyplease). Medians of `runs` runs.
fn phases(root: &Path, runs: usize) -> Result<String, String> {
    let (mut load, mut generate) = (Vec::new(), Vec::new());
    for _ in 0..=runs {
        let started = Instant::now();
        let shared = Source::load(root, Path::new(SHARED_SOURCE)).map_err(|error| error.to_string())?;
        let bundles = LAYERS
            .iter()
            .map(|layer| crate::load_layer(root, layer, &shared).map_err(|problems| format!("{problems:?}")))
            .collect::<Result<Vec<_>, _>>()?;
        load.push(started.elapsed());
        let started = Instant::now();
        for (layer, bundle) in LAYERS.iter().zip(&bundles) {
            let spec = crate::codegen::progenitor_spec(bundle)?;
            crate::codegen::generate(layer, bundle, &spec)?;
        }
        generate.push(started.elapsed());
    }
    // The first run of each was the warm-up.
    let (load, generate) = (Timing::of(&load[1..]), Timing::of(&generate[1..]));
    Ok(format!(
        "; of which loading, bundling and checking the sources {}, generating the clients (progenitor and prettyplease) {}",
        format(load.median),
        format(generate.median)
    ))
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Sections 2 to 4: builds and runs one binary of the `laserdata-bench` package with the
/// release profile and reads the rows it prints.
fn bench_binary(root: &Path, binary: &str, args: &[&str]) -> Result<Vec<Row>, String> {
    eprintln!("running {binary} (release profile; the first run builds it)");
    let output = cargo()
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

/// Section 5: a clean debug build of each generated crate alone, its dependencies built
/// beforehand in a target folder of its own, per 100 operations.
fn build_times(root: &Path, runs: usize, date: &str) -> Result<Vec<Row>, String> {
    let target = root.join("target").join("bench-build");
    let shared = Source::load(root, Path::new(SHARED_SOURCE)).map_err(|error| error.to_string())?;
    let mut rows = Vec::new();
    for layer in LAYERS {
        let package = format!("laserdata-{}", layer.name);
        let bundle = crate::load_layer(root, layer, &shared)
            .map_err(|problems| format!("{} problem(s) in the {} layer", problems.len(), layer.name))?;
        let operations = crate::spec::rules::operations(&bundle.doc).len();
        eprintln!("build: {package} and its dependencies (not timed)");
        build(root, &target, &package)?;
        let mut samples = Vec::with_capacity(runs);
        for run in 1..=runs {
            eprintln!("build: clean build {run} of {runs} of {package}");
            let status = cargo()
                .current_dir(root)
                .args(["clean", "--quiet", "-p", &package, "--target-dir"])
                .arg(&target)
                .status()
                .map_err(|error| format!("cannot run cargo: {error}"))?;
            if !status.success() {
                return Err(format!("cargo clean -p {package} failed"));
            }
            let started = Instant::now();
            build(root, &target, &package)?;
            samples.push(started.elapsed());
        }
        let timing = Timing::of(&samples);
        let per_hundred = |duration: Duration| duration.mul_f64(100.0 / operations as f64);
        rows.push(Row {
            section: 5,
            benchmark: format!("Clean debug build of `{package}` ({operations} operations)"),
            measure: format!(
                "median wall time of {} `cargo build -p {package}` after `cargo clean -p {package}`, dependencies already built, without incremental compilation, ÷ operations × 100",
                timing.runs
            ),
            result: format!("{} per 100 operations", format(per_hundred(timing.median))),
            detail: format!(
                "whole crate {} (min–max {}–{}); measured in the run of {date}",
                format(timing.median),
                format(timing.min),
                format(timing.max)
            ),
            target: "reported".into(),
            met: None,
        });
    }
    Ok(rows)
}

/// `cargo build -p package` in the benchmark's target folder, as a dependency is built (the
/// workspace's dev profile, no incremental compilation).
fn build(root: &Path, target: &PathBuf, package: &str) -> Result<(), String> {
    let status = cargo()
        .current_dir(root)
        .env("CARGO_INCREMENTAL", "0")
        .args(["build", "--quiet", "-p", package, "--target-dir"])
        .arg(target)
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if status.success() { Ok(()) } else { Err(format!("cargo build -p {package} failed")) }
}
