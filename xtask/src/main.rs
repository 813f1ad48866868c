//! `cargo xtask <command>`: see `cargo xtask help`.

use std::process::ExitCode;
use std::time::Instant;

use xtask::diff::{self, Kind, Revision};
use xtask::release;

const USAGE: &str = "\
usage: cargo xtask codegen [--check] [--layer NAME]...
       cargo xtask bench [--skip-build] [--skip-clients] [--runs N] [--build-runs N]
       cargo xtask bundle [--check] [--layer NAME]...
       cargo xtask docs [--out DIR]
       cargo xtask lint [--gate NAME]...
       cargo xtask diff OLD-REF [NEW-REF] [--deny-breaking]
       cargo xtask stress [--runs N] [-- CARGO-TEST-ARGS...]
       cargo xtask semver [--baseline REF]
       cargo xtask changelog [--baseline REF]
       cargo xtask package
       cargo xtask vendor-diff FILE... [--json] [--deny-new] [--all] [--layer NAME]
       cargo xtask live-check [--out DIR] [--tenant ID] [--deployment ID] [--supervisor-url URL]
                              [--allow-writes OP,...] [--spec-dir DIR]
       cargo xtask live-check --apply [REPORT]

  codegen    bundle and check the OpenAPI sources in openapi/, then regenerate
             openapi/dist/ and the generated client crates in crates/
  bundle     only openapi/dist/: each layer's document as OpenAPI 3.0.3 (JSON, YAML)
             and OpenAPI 3.1 (JSON); codegen writes these too
  --check    write nothing; fail and name every generated file that is out of date
  --full     codegen: run every step even when nothing changed since the last run (by
             default a run whose sources, generated files and xtask are as the last
             successful run left them is skipped, as cargo skips an unchanged build script)
  --layer    only this layer (repeatable); default: every layer

  bench         measure codegen (and its overhead over bare progenitor), client
                overhead, paging memory, decoding, the first run, the rebuild after a
                spec change and the build time of the generated crates; print the table and write it to
                BENCHMARKS.md (the client benchmarks run with the release profile)
  --skip-build  skip the slow build benchmarks (first run, rebuild, clean builds) and
                keep their rows from the last run
  --skip-clients  skip the client benchmarks (overhead, paging, decoding) and keep
                their rows from the last run
  --runs        repetitions of each codegen measurement (default 10)
  --build-runs  clean builds of each generated crate and of each downstream program, and
                rebuilds after a one-line spec change each way (default 5: single
                builds on a shared 2-core machine spread over seconds)
  docs       build the HTML reference of every layer from openapi/dist/ with the pinned
             Redocly CLI (self-contained pages) into DIR (default target-artifacts/docs)

  lint       run the quality gates on openapi/dist/ with the pinned tools under tools/
             (installed first when missing or out of date): validate, redocly, spectral,
             typescript, python, fuzz, html, generators; --gate runs only the named
             ones (repeatable)

  diff       list the breaking and the additive changes of the published documents
             between two git revisions (NEW-REF defaults to the working tree);
             --deny-breaking exits with 1 when there is a breaking change

  stress     build the tests, then run them N times (default 5) while one busy loop
             per core loads the machine; name every test that failed in each run.
             Runs `cargo test --workspace --no-fail-fast`, or with the arguments
             after `--` in place of `--workspace` (`-- -p laserdata-e2e --test resilience`)
  semver     compare the working tree with the baseline (the last release tag, else
             HEAD~1; --baseline names another): the spec diff, the version, and
             cargo-semver-checks on every publishable crate; fails when a breaking
             change comes without a breaking version bump (0.x: the minor version)
  changelog  the same comparison, then a draft of the next CHANGELOG.md entry
  package    cargo package, with verification, of every publishable crate

  vendor-diff  compare the vendor's OpenAPI documents (3.0 or 3.1, JSON or YAML) with our
               description, layer by layer: operations, parameters, request and response
               fields, enum values, success statuses. Each difference is recorded (a
               departure in openapi/vendor-departures.yaml) or new. --json prints the
               findings as JSON; --deny-new exits with 1 when one is new; --all lists the
               recorded ones, and the records that match nothing; --layer compares every
               FILE with that layer instead of the one sharing the most operations with it

  live-check   call the read-only operations of the real API (or any LD_API_URL) with
               LD_API_KEY and check every answer against our description: status, body
               schema, undeclared fields, the ld-request header, and whether the inferred
               Supervisor routes exist. Writes live-check.json and live-check.md into DIR
               (default target/live-check). Needs a tenant (--tenant or LD_TENANT_ID, else
               the key's first); the Supervisor needs --deployment (its supervisor_url is
               looked up, or give --supervisor-url). Never prints the key or secret values;
               calls a mutating operation only when --allow-writes names it (with its
               documented request example). --spec-dir checks against other copies of the
               published 3.1 documents (default openapi/dist). Exits with 1 when an answer
               differs from the description. LD_API_URL, LD_AUDIT_URL default to LaserData's.
               --apply marks the inferred Supervisor operations that REPORT (default
               target/live-check/live-check.json) confirmed as seen in openapi/supervisor/
               and lists the refuted ones; run `cargo xtask codegen` afterwards
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("codegen") => codegen(&args[1..], xtask::codegen, true),
        Some("bundle") => codegen(&args[1..], xtask::bundle, false),
        Some("docs") => docs(&args[1..]),
        Some("lint") => lint(&args[1..]),
        Some("diff") => diff(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("stress") => stress(&args[1..]),
        Some("semver") => semver(&args[1..], false),
        Some("changelog") => semver(&args[1..], true),
        Some("package") => package(&args[1..]),
        Some("vendor-diff") => vendor_diff(&args[1..]),
        Some("live-check") => live_check(&args[1..]),
        Some("help" | "--help" | "-h") | None => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprint!("unknown command `{other}`\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

type Run = fn(&std::path::Path, &[xtask::layers::Layer], bool) -> Result<xtask::Report, xtask::Failure>;

/// `codegen` and `bundle`; `skippable`: the run may be skipped when a fingerprint says its
/// result is on disk already.
fn codegen(args: &[String], run: Run, skippable: bool) -> ExitCode {
    let mut check = false;
    let mut full = !skippable;
    let mut names = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--full" if skippable => full = true,
            "--layer" => match args.next() {
                Some(name) => names.push(name.clone()),
                None => return usage_error("--layer needs a layer name"),
            },
            other => return usage_error(&format!("unknown argument `{other}`")),
        }
    }
    let layers = match xtask::select_layers(&names) {
        Ok(layers) => layers,
        Err(message) => return usage_error(&message),
    };
    let Some(root) = project_root() else { return ExitCode::FAILURE };
    let started = Instant::now();
    let fingerprint = if full { None } else { xtask::fingerprint::Fingerprint::of(&root, &layers) };
    let skipped = fingerprint.as_ref().and_then(|fingerprint| fingerprint.unchanged(&root));
    let unchanged = skipped.is_some();
    let result = match skipped {
        Some(report) => Ok(report),
        None => run(&root, &layers, check),
    };
    match result {
        Ok(report) => {
            // Whether written or checked, the files on disk are now what these sources make.
            if skippable && !unchanged {
                xtask::fingerprint::Fingerprint::record(&root, &layers, &report);
            }
            for path in &report.changed {
                println!("wrote {}", path.display());
            }
            let verb = if check { "checked" } else { "generated" };
            let how = if unchanged { " (nothing changed since the last run; --full runs every step)" } else { "" };
            println!(
                "{verb} {} file(s), {} changed, in {:.2?}{how}",
                report.outputs.len(),
                report.changed.len(),
                started.elapsed()
            );
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("{failure}");
            ExitCode::FAILURE
        }
    }
}

fn bench(args: &[String]) -> ExitCode {
    let mut options = xtask::bench::Options::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut count = |name: &str| match args.next().map(|value| value.parse::<usize>()) {
            Some(Ok(count)) if count > 0 => Ok(count),
            _ => Err(usage_error(&format!("{name} needs a number above zero"))),
        };
        match arg.as_str() {
            "--skip-build" => options.skip_build = true,
            "--skip-clients" => options.skip_clients = true,
            "--runs" => match count("--runs") {
                Ok(runs) => options.codegen_runs = runs,
                Err(code) => return code,
            },
            "--build-runs" => match count("--build-runs") {
                Ok(runs) => options.build_runs = runs,
                Err(code) => return code,
            },
            other => return usage_error(&format!("unknown argument `{other}`")),
        }
    }
    let Some(root) = project_root() else { return ExitCode::FAILURE };
    match xtask::bench::run(&root, &options) {
        Ok(table) => {
            println!("{table}");
            println!("written to {}", xtask::bench::OUTPUT);
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn stress(args: &[String]) -> ExitCode {
    let mut options = xtask::stress::Options::default();
    let (ours, test_args) = match args.iter().position(|arg| arg == "--") {
        Some(split) => (&args[..split], Some(args[split + 1..].to_vec())),
        None => (args, None),
    };
    match ours {
        [] => {}
        [flag, runs] if flag == "--runs" => match runs.parse::<usize>() {
            Ok(runs) if runs > 0 => options.runs = runs,
            _ => return usage_error("--runs needs a number above zero"),
        },
        _ => return usage_error("stress takes --runs N, then optionally -- and arguments for cargo test"),
    }
    if let Some(test_args) = test_args {
        options.test_args = test_args;
    }
    let Some(root) = project_root() else { return ExitCode::FAILURE };
    let runs = match xtask::stress::stress(&root, &options) {
        Ok(runs) => runs,
        Err(message) => return failure(&message),
    };
    let failed = runs.iter().filter(|run| !run.passed).count();
    println!("stress: {} run(s), {failed} failed", runs.len());
    for run in runs.iter().filter(|run| !run.passed) {
        println!("  run {}: {}", run.number, run.failed_tests.join(", "));
    }
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn docs(args: &[String]) -> ExitCode {
    let Some(root) = project_root() else { return ExitCode::FAILURE };
    let out = match args {
        [] => root.join(xtask::docs::DEFAULT_OUT),
        // Relative to where the command was run (the tools run from the project root).
        [flag, dir] if flag == "--out" => std::env::current_dir().unwrap_or_default().join(dir),
        _ => return usage_error("docs takes only --out DIR"),
    };
    let tools = match xtask::tools::Tools::ensure(&root) {
        Ok(tools) => tools,
        Err(message) => return failure(&message),
    };
    for layer in xtask::layers::LAYERS {
        match xtask::docs::build(&root, &tools, layer, &out) {
            Ok(page) => println!("wrote {}", page.display()),
            Err(message) => return failure(&message),
        }
    }
    ExitCode::SUCCESS
}

fn lint(args: &[String]) -> ExitCode {
    let mut gates = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--gate", Some(name)) => gates.push(name.clone()),
            _ => return usage_error(&format!("unknown argument `{arg}`")),
        }
    }
    let Some(root) = project_root() else { return ExitCode::FAILURE };
    let started = Instant::now();
    let results = match xtask::lint::lint(&root, &gates) {
        Ok(results) => results,
        Err(message) => return failure(&message),
    };
    println!("\ngate         result  time");
    for result in &results {
        let outcome = if result.outcome.is_ok() { "ok" } else { "FAILED" };
        println!("{:<12} {:<7} {:>6.1}s", result.name, outcome, result.elapsed.as_secs_f64());
    }
    let failed = results.iter().filter(|result| result.outcome.is_err()).count();
    println!("lint: {} passed, {failed} failed", results.len() - failed);
    println!("(in {:.1}s, tool installation included)", started.elapsed().as_secs_f64());
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn diff(args: &[String]) -> ExitCode {
    let mut deny = false;
    let mut refs = Vec::new();
    for arg in args {
        match arg.as_str() {
            "--deny-breaking" => deny = true,
            flag if flag.starts_with("--") => return usage_error(&format!("unknown argument `{flag}`")),
            reference => refs.push(reference.to_owned()),
        }
    }
    let (old, new) = match refs.as_slice() {
        [old] => (Revision::Git(old.clone()), Revision::WorkingTree),
        [old, new] => (Revision::Git(old.clone()), Revision::Git(new.clone())),
        _ => return usage_error("diff takes one or two git revisions"),
    };
    let Some(root) = project_root() else { return ExitCode::FAILURE };
    match diff::diff_revisions(&root, &old, &new) {
        Ok(changes) => {
            print!("{}", diff::report(&old, &new, &changes));
            let breaking = changes.iter().any(|change| change.kind == Kind::Breaking);
            if deny && breaking { ExitCode::FAILURE } else { ExitCode::SUCCESS }
        }
        Err(message) => failure(&message),
    }
}

/// The checkout to work on, found from the current directory; says why when there is none.
fn project_root() -> Option<std::path::PathBuf> {
    match xtask::locate_project_root() {
        Ok(root) => Some(root),
        Err(message) => {
            eprintln!("error: {message}");
            None
        }
    }
}

/// `cargo xtask semver` (a verdict) and `cargo xtask changelog` (a draft of the next entry).
fn semver(args: &[String], draft: bool) -> ExitCode {
    let Some(root) = project_root() else { return ExitCode::FAILURE };
    let baseline = match args {
        [] => match release::baseline(&root) {
            Ok(Some(baseline)) => baseline,
            Ok(None) => {
                println!("no baseline (no release tag and no previous commit): nothing to compare");
                return ExitCode::SUCCESS;
            }
            Err(message) => return failure(&message),
        },
        [flag, revision] if flag == "--baseline" => {
            release::Baseline { revision: revision.clone(), why: "named on the command line".into() }
        }
        _ => return usage_error("takes only --baseline REF"),
    };
    println!("baseline: {} ({})\n", baseline.revision, baseline.why);
    let review = match release::review(&root, &baseline) {
        Ok(review) => review,
        Err(message) => return failure(&message),
    };
    let problems = review.problems();
    if draft {
        println!(
            "\n{}",
            release::changelog_draft(&baseline, &review.changes, &review.semver.findings, review.suggested_version())
        );
        for problem in &problems {
            eprintln!("note: {problem}");
        }
        return ExitCode::SUCCESS;
    }
    if problems.is_empty() {
        println!("semver: version {} fits every change since {}", review.new, baseline.revision);
        return ExitCode::SUCCESS;
    }
    for problem in &problems {
        eprintln!("error: {problem}");
    }
    ExitCode::FAILURE
}

fn package(args: &[String]) -> ExitCode {
    if !args.is_empty() {
        return usage_error("package takes no arguments");
    }
    let Some(root) = project_root() else { return ExitCode::FAILURE };
    let packages = match release::publishable_crates(&root) {
        Ok(packages) => packages,
        Err(message) => return failure(&message),
    };
    let names: Vec<&str> = packages.iter().map(|package| package.name.as_str()).collect();
    println!("packaging {} publishable crate(s): {}", names.len(), names.join(", "));
    let started = Instant::now();
    match release::package(&root, &packages) {
        Ok(()) => {
            println!("packaged and verified {} crate(s) in {:.1}s", names.len(), started.elapsed().as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(message) => failure(&message),
    }
}

fn vendor_diff(args: &[String]) -> ExitCode {
    let (mut json, mut deny, mut all, mut layer) = (false, false, false, None);
    let mut files = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => json = true,
            "--deny-new" => deny = true,
            "--all" => all = true,
            "--layer" => match args.next() {
                Some(name) if xtask::select_layers(std::slice::from_ref(name)).is_ok() => layer = Some(name.clone()),
                _ => return usage_error("--layer needs a layer name (main, supervisor, audit)"),
            },
            flag if flag.starts_with("--") => return usage_error(&format!("unknown argument `{flag}`")),
            // Relative to where the command was run.
            file => files.push(std::env::current_dir().unwrap_or_default().join(file)),
        }
    }
    if files.is_empty() {
        return usage_error("vendor-diff needs at least one vendor document");
    }
    let Some(root) = project_root() else { return ExitCode::FAILURE };
    let outcome = match xtask::vendor::run(&root, &files, layer.as_deref()) {
        Ok(outcome) => outcome,
        Err(message) => return failure(&message),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&outcome).expect("findings serialize"));
    } else {
        print!("{}", xtask::vendor::human_report(&outcome, all));
    }
    if deny && outcome.new_findings().next().is_some() { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

/// The requests go through `xtask-http`, a small program with the HTTP client this one goes
/// without, started with `cargo run` (built on first use); `--apply` needs no HTTP at all.
fn live_check(args: &[String]) -> ExitCode {
    use xtask::live_check::{child::ChildTransport, settings};
    if args.first().is_some_and(|arg| arg == "--apply") {
        return live_check_apply(&args[1..]);
    }
    if args.iter().any(|arg| arg == "-h" || arg == "--help") {
        print!("{}", settings::USAGE);
        return ExitCode::SUCCESS;
    }
    let here = std::env::current_dir().unwrap_or_default();
    let settings = match settings::Settings::parse(args, |name| std::env::var(name).ok(), &here) {
        Ok(settings) => settings,
        Err(message) => {
            eprint!("{message}\n\n{}", settings::USAGE);
            return ExitCode::from(2);
        }
    };
    let Some(root) = project_root() else { return ExitCode::FAILURE };
    let mut http = xtask::tools::cargo();
    http.args(["run", "--quiet", "--manifest-path"]).arg(root.join("Cargo.toml")).args(["--package", "xtask-http"]);
    let report =
        ChildTransport::spawn(http).and_then(|mut transport| settings::check_and_write(&settings, &mut transport));
    let report = match report {
        Ok(report) => report,
        Err(message) => return failure(&message),
    };
    let summary = &report.summary;
    println!(
        "{} operations called: {} as described, {} differ; {} not called",
        summary.called, summary.conforming, summary.differing, summary.skipped
    );
    println!(
        "inferred Supervisor routes: {} confirmed, {} refuted, {} inconclusive, {} not checked",
        summary.routes_confirmed, summary.routes_refuted, summary.routes_inconclusive, summary.routes_not_checked
    );
    let written = |name: &str| settings.out.join(name).display().to_string();
    println!(
        "wrote {} and {}",
        written(xtask::live_check::report::JSON_FILE),
        written(xtask::live_check::report::MARKDOWN_FILE)
    );
    if summary.differing > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

fn live_check_apply(args: &[String]) -> ExitCode {
    let Some(root) = project_root() else { return ExitCode::FAILURE };
    let report = match args {
        [] => root.join("target/live-check").join(xtask::live_check::report::JSON_FILE),
        [path] => std::env::current_dir().unwrap_or_default().join(path),
        _ => return usage_error("--apply takes at most one report"),
    };
    let text = match std::fs::read_to_string(&report) {
        Ok(text) => text,
        Err(error) => return failure(&format!("cannot read {}: {error}", report.display())),
    };
    let applied = xtask::live_check::report::Report::from_json(&text)
        .and_then(|report| xtask::live_check::apply::apply(&root, &report));
    let applied = match applied {
        Ok(applied) => applied,
        Err(message) => return failure(&message),
    };
    for (id, file, line) in &applied.marked {
        println!("seen now: {id} ({}:{line})", file.display());
    }
    for id in &applied.already_seen {
        println!("already seen: {id}");
    }
    for (id, why) in &applied.refuted {
        println!("refuted: {id}: {why}");
    }
    if applied.marked.is_empty() {
        println!("nothing to mark: the report confirmed no operation that is still inferred");
    } else {
        println!("{} operation(s) marked seen; run `cargo xtask codegen` and review the diff", applied.marked.len());
    }
    if !applied.refuted.is_empty() {
        println!("the refuted routes need a person: fix their path in openapi/supervisor/ or remove them");
    }
    ExitCode::SUCCESS
}

fn failure(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

fn usage_error(message: &str) -> ExitCode {
    eprint!("{message}\n\n{USAGE}");
    ExitCode::from(2)
}
