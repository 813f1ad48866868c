//! `cargo xtask <command>`: see `cargo xtask help`.

use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "\
usage: cargo xtask codegen [--check] [--layer NAME]...
       cargo xtask bench [--skip-build] [--runs N] [--build-runs N]

  codegen    bundle and check the OpenAPI sources in openapi/, then regenerate
             openapi/dist/ and the generated client crates in crates/
  --check    write nothing; fail and name every generated file that is out of date
  --layer    only this layer (repeatable); default: every layer

  bench         measure codegen, client overhead, paging memory, decoding and the
                build time of the generated crates; print the table and write it to
                BENCHMARKS.md (the client benchmarks run with the release profile)
  --skip-build  skip the slow build-time benchmark and keep its rows from the last run
  --runs        repetitions of each codegen measurement (default 10)
  --build-runs  clean builds of each generated crate (default 3)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("codegen") => codegen(&args[1..]),
        Some("bench") => bench(&args[1..]),
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

fn codegen(args: &[String]) -> ExitCode {
    let mut check = false;
    let mut names = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
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
    let started = Instant::now();
    match xtask::codegen(&xtask::project_root(), &layers, check) {
        Ok(report) => {
            for path in &report.changed {
                println!("wrote {}", path.display());
            }
            let verb = if check { "checked" } else { "generated" };
            println!(
                "{verb} {} file(s), {} changed, in {:.2?}",
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
    match xtask::bench::run(&xtask::project_root(), &options) {
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

fn usage_error(message: &str) -> ExitCode {
    eprint!("{message}\n\n{USAGE}");
    ExitCode::from(2)
}
