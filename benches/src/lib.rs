//! Benchmarks of the LaserData clients, run by `cargo xtask bench` (which builds this package
//! with the release profile and writes the table to `BENCHMARKS.md`).
//!
//! Each binary prints its results on standard output as one JSON array of [`Row`]s and its
//! progress on standard error.

pub mod fixtures;
pub mod minimal;
pub mod server;
pub mod stats;

use serde::Serialize;

/// The API key the benchmark clients send (any well-formed one does: the server ignores it).
pub const API_KEY: &str = "ld_api_key_bench_0123456789abcdef";

/// One line of the results table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The item of the benchmark plan (1 codegen, 2 client overhead, 3 paging memory, 4 decoding, 5 build).
    pub section: u8,
    pub benchmark: String,
    /// How the result was obtained.
    pub measure: String,
    pub result: String,
    /// The figures behind the result: medians and spreads.
    pub detail: String,
    pub target: String,
    /// Whether the target was met; `None` for figures that are reported, not judged.
    pub met: Option<bool>,
}

/// Prints the rows for `cargo xtask bench` to read.
pub fn emit(rows: &[Row]) {
    println!("{}", serde_json::to_string(rows).expect("rows encode"));
}

/// The value after `--name` on the command line, parsed, or `default`.
pub fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|arg| arg == name)
        .and_then(|index| args.get(index + 1))
        .map(|value| value.parse().unwrap_or_else(|_| panic!("{name} takes a number, not `{value}`")))
        .unwrap_or(default)
}
