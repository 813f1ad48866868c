//! Section 5, builds: the first `cargo xtask codegen` on a fresh clone, the rebuild after a
//! one-line change of a spec, a clean build of each generated crate, and what depending on
//! `laserdata` adds to a user's clean build.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::cpu::children_time;
use super::report::Row;
use super::stats::{Timing, format};
use crate::layers::{LAYERS, SHARED_SOURCE};
use crate::spec::source::Source;
use crate::tools::cargo;

/// The slowest acceptable first `cargo xtask codegen`, everything built from nothing.
const FIRST_RUN_TARGET: Duration = Duration::from_secs(120);
/// The slowest acceptable codegen and `cargo build -p laserdata` after a one-line spec change.
const REBUILD_TARGET: Duration = Duration::from_secs(10);
/// The most a program's clean debug build may grow by depending on `laserdata` with every
/// layer, and with the Main layer only, over the same program on bare reqwest.
const DOWNSTREAM_ALL_TARGET: Duration = Duration::from_secs(15);
const DOWNSTREAM_MAIN_TARGET: Duration = Duration::from_secs(10);

pub fn rows(root: &Path, runs: usize, date: &str) -> Result<Vec<Row>, String> {
    let mut rows = vec![first_run(root, date)?, rebuild(root, runs, date)?];
    rows.extend(clean_builds(root, runs, date)?);
    rows.extend(downstream_builds(root, runs, date)?);
    Ok(rows)
}

/// Runs a command in the project root; an error names it.
fn run(root: &Path, args: &[&str], target: Option<&Path>) -> Result<(), String> {
    let mut command = cargo();
    command.current_dir(root).args(args);
    if let Some(target) = target {
        command.env("CARGO_TARGET_DIR", target);
    }
    let status = command.status().map_err(|error| format!("cannot run cargo: {error}"))?;
    if status.success() { Ok(()) } else { Err(format!("`cargo {}` failed ({status})", args.join(" "))) }
}

/// `cargo xtask codegen --check` as a newcomer's first command: an empty target folder, the
/// crates already downloaded.
fn first_run(root: &Path, date: &str) -> Result<Row, String> {
    let target = root.join("target").join("bench-first-run");
    match std::fs::remove_dir_all(&target) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(format!("{}: {error}", target.display())),
    }
    eprintln!("build: the first `cargo xtask codegen --check`, from an empty target folder");
    let cpu_before = children_time();
    let started = Instant::now();
    run(root, &["xtask", "codegen", "--check"], Some(&target))?;
    let elapsed = started.elapsed();
    let cpu = children_time().zip(cpu_before).map(|(after, before)| after.saturating_sub(before));
    Ok(Row {
        section: 5,
        benchmark: "First `cargo xtask codegen` on a fresh clone (crates downloaded, nothing built)".into(),
        measure: "wall time of one `cargo xtask codegen --check` with an empty target folder: building the xtask and its dependencies, then running it".into(),
        result: format(elapsed),
        detail: format!(
            "CPU time of the build and run, every core: {}; measured in the run of {date}",
            cpu.map_or_else(|| "not measured".into(), format)
        ),
        target: format!("≤ {}", format(FIRST_RUN_TARGET)),
        met: Some(elapsed <= FIRST_RUN_TARGET),
    })
}

/// A spec file with one line changed for as long as it lives; the original is put back (and
/// the generated files made from it again) when it is dropped, even after an error.
struct EditedSpec<'a> {
    root: &'a Path,
    path: PathBuf,
    original: String,
}

impl Drop for EditedSpec<'_> {
    fn drop(&mut self) {
        if std::fs::read_to_string(&self.path).ok().as_deref() != Some(&self.original) {
            let _ = std::fs::write(&self.path, &self.original);
            let _ = run(self.root, &["xtask", "codegen"], None);
        }
    }
}

/// The first operation summary of the Main layer's first part file, and that file's text with
/// the summary changed: a one-line change that reaches the generated client's documentation.
fn one_line_change(root: &Path) -> Result<(PathBuf, String, String), String> {
    let main = LAYERS.iter().find(|layer| layer.name == "main").ok_or("no Main layer")?;
    let file = crate::part_files(root, main).into_iter().next().ok_or("the Main layer has no part files")?;
    let path = root.join(&file);
    let original = std::fs::read_to_string(&path).map_err(|error| format!("{}: {error}", path.display()))?;
    let line = original
        .lines()
        .find(|line| line.trim_start().starts_with("summary: "))
        .ok_or_else(|| format!("{} has no `summary:` line", file.display()))?;
    let edited = original.replacen(line, &format!("{line} (edited)"), 1);
    Ok((path, original, edited))
}

/// Codegen and `cargo build -p laserdata` after a one-line spec change, with everything built
/// before; the change is made and undone `runs` times each, and both directions are timed.
fn rebuild(root: &Path, runs: usize, date: &str) -> Result<Row, String> {
    eprintln!("build: `cargo build -p laserdata` and the xtask (not timed)");
    run(root, &["xtask", "codegen", "--check"], None)?;
    run(root, &["build", "--quiet", "-p", "laserdata"], None)?;
    let (path, original, edited) = one_line_change(root)?;
    let spec = EditedSpec { root, path, original };
    let mut samples = Vec::with_capacity(2 * runs);
    for run_index in 0..2 * runs {
        let text = if run_index % 2 == 0 { &edited } else { &spec.original };
        std::fs::write(&spec.path, text).map_err(|error| format!("{}: {error}", spec.path.display()))?;
        eprintln!("build: rebuild {} of {}", run_index + 1, 2 * runs);
        let started = Instant::now();
        run(root, &["xtask", "codegen"], None)?;
        run(root, &["build", "--quiet", "-p", "laserdata"], None)?;
        samples.push(started.elapsed());
    }
    drop(spec);
    let timing = Timing::of(&samples);
    Ok(Row {
        section: 5,
        benchmark: "Rebuild after a one-line spec change: `cargo xtask codegen` + `cargo build -p laserdata`".into(),
        measure: format!(
            "median wall time of {} runs, alternately changing an operation summary of the Main layer and changing it back; dev profile, incremental, everything built before",
            timing.runs
        ),
        result: format(timing.median),
        detail: format!("min–max {}–{}; measured in the run of {date}", format(timing.min), format(timing.max)),
        target: format!("≤ {}", format(REBUILD_TARGET)),
        met: Some(timing.median <= REBUILD_TARGET),
    })
}

/// A clean debug build of each generated crate alone, its dependencies built beforehand in
/// a target folder of its own, per 100 operations.
fn clean_builds(root: &Path, runs: usize, date: &str) -> Result<Vec<Row>, String> {
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

/// One of the programs a downstream build is measured with: the same small program (one GET,
/// its JSON answer decoded) on bare reqwest, or on `laserdata`.
struct Program {
    name: &'static str,
    dependencies: String,
    main: &'static str,
}

/// The floor: what any async HTTPS JSON client builds anyway, with the TLS and reqwest
/// features `laserdata` itself uses.
const FLOOR_MAIN: &str = r#"#[derive(serde::Deserialize, Debug)]
struct Key {
    id: i64,
    name: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    rustls::crypto::ring::default_provider().install_default().ok();
    let client = reqwest::Client::builder().build()?;
    let key: Key = client.get("https://api.laserdata.cloud/tenants/1/api_keys/context").send().await?.json().await?;
    println!("{} {}", key.id, key.name);
    Ok(())
}
"#;

const LASERDATA_MAIN: &str = r#"#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = laserdata::ClientBuilder::from_env().build()?;
    let key = client.main().get_api_key_context().tenant_id(1).send().await?;
    println!("{} {}", key.id, key.name);
    Ok(())
}
"#;

fn programs(root: &Path) -> [Program; 3] {
    let laserdata = root.join("crates/laserdata");
    let laserdata = laserdata.display();
    let tokio = r#"tokio = { version = "1", features = ["macros", "rt-multi-thread"] }"#;
    [
        Program {
            name: "floor",
            dependencies: format!(
                r#"reqwest = {{ version = "0.13", default-features = false, features = ["json", "query", "stream", "rustls-no-provider"] }}
rustls = {{ version = "0.23", default-features = false, features = ["ring", "std", "tls12"] }}
serde = {{ version = "1", features = ["derive"] }}
{tokio}"#
            ),
            main: FLOOR_MAIN,
        },
        Program {
            name: "laserdata",
            dependencies: format!("laserdata = {{ path = \"{laserdata}\" }}\n{tokio}"),
            main: LASERDATA_MAIN,
        },
        Program {
            name: "laserdata-main-only",
            dependencies: format!(
                "laserdata = {{ path = \"{laserdata}\", default-features = false, features = [\"rustls\", \"main\"] }}\n{tokio}"
            ),
            main: LASERDATA_MAIN,
        },
    ]
}

/// A clean debug build of a small program on bare reqwest (the floor) and of the same program
/// on `laserdata`, all layers and Main only, taking turns; each program is a package of its
/// own with the workspace's lock file, as a user's crate would be.
fn downstream_builds(root: &Path, runs: usize, date: &str) -> Result<Vec<Row>, String> {
    let base = root.join("target").join("bench-downstream");
    let programs = programs(root);
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).map_err(|error| format!("Cargo.lock: {error}"))?;
    for program in &programs {
        let dir = base.join(program.name);
        std::fs::create_dir_all(dir.join("src")).map_err(|error| format!("{}: {error}", dir.display()))?;
        let manifest = format!(
            "[package]\nname = \"bench-{}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[workspace]\n\n[dependencies]\n{}\n",
            program.name, program.dependencies
        );
        for (file, text) in
            [("Cargo.toml", manifest.as_str()), ("src/main.rs", program.main), ("Cargo.lock", lock.as_str())]
        {
            std::fs::write(dir.join(file), text).map_err(|error| format!("{}: {error}", dir.join(file).display()))?;
        }
        // Resolve (and download) once, untimed: the lock file keeps the workspace's versions.
        eprintln!("build: {} (not timed)", program.name);
        downstream_build(&dir)?;
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs); programs.len()];
    for run in 0..runs {
        // Rotate which program goes first, so that no arm always meets the same machine load.
        for offset in 0..programs.len() {
            let index = (run + offset) % programs.len();
            let dir = base.join(programs[index].name);
            let _ = std::fs::remove_dir_all(dir.join("target"));
            eprintln!("build: clean build {} of {runs} of {}", run + 1, programs[index].name);
            let started = Instant::now();
            downstream_build(&dir)?;
            samples[index].push(started.elapsed());
        }
    }
    let floor = Timing::of(&samples[0]);
    let mut rows = Vec::new();
    for (index, (label, target)) in [
        (1, ("every layer (default features)", DOWNSTREAM_ALL_TARGET)),
        (2, ("the Main layer only", DOWNSTREAM_MAIN_TARGET)),
    ] {
        let timing = Timing::of(&samples[index]);
        let added = timing.median.saturating_sub(floor.median);
        rows.push(Row {
            section: 5,
            benchmark: format!("What depending on `laserdata` adds to a clean debug build: {label}"),
            measure: format!(
                "median wall time of {} clean `cargo build` of a one-call program on `laserdata`, minus the same program on bare reqwest (json, query, stream; rustls with ring) + serde + tokio; builds take turns; dev profile, no incremental, crates downloaded",
                timing.runs
            ),
            result: format!("+{}", format(added)),
            detail: format!(
                "on `laserdata` {} (min–max {}–{}); floor {} (min–max {}–{}); ratio {:.2}; measured in the run of {date}",
                format(timing.median),
                format(timing.min),
                format(timing.max),
                format(floor.median),
                format(floor.min),
                format(floor.max),
                timing.median.as_secs_f64() / floor.median.as_secs_f64()
            ),
            target: format!("≤ +{}", format(target)),
            met: Some(added <= target),
        });
    }
    Ok(rows)
}

/// `cargo build` of a downstream program in its own folder and target folder.
fn downstream_build(dir: &Path) -> Result<(), String> {
    let status = cargo()
        .current_dir(dir)
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("CARGO_TARGET_DIR")
        .args(["build", "--quiet"])
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if status.success() { Ok(()) } else { Err(format!("cargo build in {} failed", dir.display())) }
}
