//! `cargo xtask live-check` (started by the xtask binary): see `xtask_live_check::USAGE`.

use std::process::ExitCode;

use xtask_live_check::{HttpTransport, Settings, USAGE, check_and_write};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "-h" || arg == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let settings = match Settings::parse(&args, |name| std::env::var(name).ok()) {
        Ok(settings) => settings,
        Err(message) => {
            eprint!("{message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = HttpTransport::new(&settings.key).and_then(|mut transport| check_and_write(&settings, &mut transport));
    let report = match result {
        Ok(report) => report,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
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
    println!(
        "wrote {} and {}",
        settings.out.join("live-check.json").display(),
        settings.out.join("live-check.md").display()
    );
    if summary.differing > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
