//! `cargo xtask stress`: the whole test suite, several times over, while busy loops hold every
//! core, to find the tests that pass on an idle machine and fail on a loaded one (CI runs on
//! two busy cores).
//!
//! The tests are built first, without the load, so that each run runs tests and compiles
//! nothing. Each run is `cargo test --workspace --no-fail-fast` (or the arguments given), so a
//! failing test does not hide the ones after it; the log of a failing run is kept.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What to run and how often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub runs: usize,
    /// What follows `cargo test`; by default `--workspace`, the README's test command.
    pub test_args: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options { runs: 5, test_args: vec!["--workspace".into()] }
    }
}

/// How one run of the test suite went.
#[derive(Debug)]
pub struct Run {
    pub number: usize,
    pub elapsed: Duration,
    pub passed: bool,
    /// The tests that failed, as `binary::test`.
    pub failed_tests: Vec<String>,
    /// Where the output of a failed run was saved.
    pub log: Option<PathBuf>,
}

/// Builds the tests, then runs them `options.runs` times under load; prints a line per run.
pub fn stress(root: &Path, options: &Options) -> Result<Vec<Run>, String> {
    eprintln!("building the tests (before the load starts)");
    let built = cargo_test(root, &options.test_args).arg("--no-run").status();
    match built {
        Ok(status) if status.success() => {}
        Ok(status) => return Err(format!("building the tests failed ({status})")),
        Err(error) => return Err(format!("cannot run cargo: {error}")),
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let load = BusyLoops::start(cores);
    eprintln!("{cores} busy loop(s) started, one per core");
    let mut runs = Vec::new();
    for number in 1..=options.runs {
        let run = run_once(root, options, number)?;
        match (&run.log, run.passed) {
            (_, true) => eprintln!("run {number}/{}: passed in {:.0?}", options.runs, run.elapsed),
            (log, false) => eprintln!(
                "run {number}/{}: FAILED in {:.0?}: {}{}",
                options.runs,
                run.elapsed,
                if run.failed_tests.is_empty() {
                    "no test named (see the log)".into()
                } else {
                    run.failed_tests.join(", ")
                },
                log.as_ref().map(|log| format!("; log: {}", log.display())).unwrap_or_default()
            ),
        }
        runs.push(run);
    }
    drop(load);
    Ok(runs)
}

fn cargo_test(root: &Path, test_args: &[String]) -> Command {
    let mut command = crate::tools::cargo();
    command.current_dir(root).arg("test").args(test_args).stdin(Stdio::null());
    command
}

fn run_once(root: &Path, options: &Options, number: usize) -> Result<Run, String> {
    // One pipe for both streams keeps cargo's "Running <binary>" lines (stderr) in order with
    // the test results (stdout), which is how a failed test is tied to its binary.
    let (mut reader, writer) = std::io::pipe().map_err(|error| format!("cannot make a pipe: {error}"))?;
    let started = Instant::now();
    let mut command = cargo_test(root, &options.test_args);
    command.arg("--no-fail-fast").stdout(writer.try_clone().map_err(|error| error.to_string())?).stderr(writer);
    let mut child = command.spawn().map_err(|error| format!("cannot run cargo: {error}"))?;
    // The parent's copies of the writer went with `command`; drop it so the pipe ends with the child.
    drop(command);
    let mut output = String::new();
    let read = reader.read_to_string(&mut output);
    let status = child.wait().map_err(|error| format!("cargo test did not finish: {error}"))?;
    read.map_err(|error| format!("cannot read the output of cargo test: {error}"))?;
    let elapsed = started.elapsed();
    let passed = status.success();
    let log = if passed {
        None
    } else {
        let dir = crate::tools::target_dir(root).join("stress");
        let path = dir.join(format!("run-{number}.log"));
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&path, &output))
            .map_err(|error| format!("cannot keep the log in {}: {error}", path.display()))?;
        Some(path)
    };
    Ok(Run { number, elapsed, passed, failed_tests: failed_tests(&output), log })
}

/// The failed tests in the output of `cargo test`, as `binary::test`, in order.
pub fn failed_tests(output: &str) -> Vec<String> {
    let mut binary = String::from("?");
    let mut failed = Vec::new();
    for line in output.lines() {
        let line = line.trim_end();
        if let Some(running) = line.trim_start().strip_prefix("Running ") {
            binary = binary_name(running);
        } else if let Some(crate_name) = line.trim_start().strip_prefix("Doc-tests ") {
            binary = format!("{crate_name} (doc)");
        } else if let Some(test) = line.strip_prefix("test ").and_then(|rest| rest.strip_suffix(" ... FAILED")) {
            failed.push(format!("{binary}::{test}"));
        }
    }
    failed
}

/// `tests/resilience.rs (target/debug/deps/resilience-0a1b2c)` → `resilience`; for unit tests
/// the crate's name (`laserdata_core`).
fn binary_name(running: &str) -> String {
    let executable = running.rsplit_once('(').map_or(running, |(_, rest)| rest.trim_end_matches(')'));
    let file = Path::new(executable).file_name().and_then(|name| name.to_str()).unwrap_or(executable);
    file.rsplit_once('-').map_or(file, |(name, _hash)| name).to_owned()
}

/// Threads that spin until dropped, one per core: the load a busy CI machine puts on the tests.
struct BusyLoops {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl BusyLoops {
    fn start(count: usize) -> BusyLoops {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..count)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut state = 1u64;
                    while !stop.load(Ordering::Relaxed) {
                        state = std::hint::black_box(state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
                    }
                })
            })
            .collect();
        BusyLoops { stop, threads }
    }
}

impl Drop for BusyLoops {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_tests_are_named_with_their_binary() {
        let output = "\
   Compiling laserdata-e2e v0.0.0
     Running unittests src/lib.rs (target/debug/deps/laserdata_core-056f6a11032fa1a6)
test retry::tests::only_transient_statuses_are_retryable ... ok
test hooks::tests::retries_stop_after_max_attempts ... FAILED
     Running tests/resilience.rs (target/debug/deps/resilience-a4a47f3562041191)
test retry_after_is_waited_for_exactly ... ok
test backoff_never_outlasts_the_budget ... FAILED

failures:
    backoff_never_outlasts_the_budget
   Doc-tests laserdata
test crates/laserdata/src/lib.rs - (line 8) ... FAILED
";
        assert_eq!(
            failed_tests(output),
            [
                "laserdata_core::hooks::tests::retries_stop_after_max_attempts",
                "resilience::backoff_never_outlasts_the_budget",
                "laserdata (doc)::crates/laserdata/src/lib.rs - (line 8)",
            ]
        );
        assert_eq!(failed_tests("test a ... ok\ntest b ... ignored\n"), Vec::<String>::new());
    }

    #[test]
    fn busy_loops_stop_when_dropped() {
        let load = BusyLoops::start(2);
        let stop = load.stop.clone();
        drop(load);
        assert!(stop.load(Ordering::Relaxed));
    }
}
