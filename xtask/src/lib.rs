//! Automation for this repository: `cargo xtask codegen [--check]` and `cargo xtask bench`.
//!
//! Codegen loads each layer's OpenAPI source and the shared components, bundles them into one
//! document, checks it (OpenAPI structure, our own rules, every example), and only when every
//! layer passes writes the bundled documents and the generated client crates.

pub mod bench;
pub mod codegen;
pub mod diagnostic;
pub mod diff;
pub mod docs;
pub mod layers;
pub mod lint;
pub mod outputs;
pub mod publish;
pub mod round_trips;
pub mod shape;
pub mod spec;
pub mod stress;
pub mod surface;
pub mod tools;

use std::path::{Path, PathBuf};

use diagnostic::Diagnostic;
use layers::{LAYERS, Layer, SHARED_SOURCE, SHARED_TYPES};
use outputs::Output;
use spec::source::Source;

/// The repository to work on: the nearest directory from the current one upwards that holds
/// the workspace's `Cargo.toml`, `xtask/` and `openapi/`.
///
/// Found at run time, never from where the xtask was compiled: with one `CARGO_TARGET_DIR`
/// shared by two checkouts, cargo may run the xtask built in the other checkout, which would
/// then read and write that checkout's files.
pub fn locate_project_root() -> Result<PathBuf, String> {
    let here = std::env::current_dir().map_err(|error| format!("cannot read the current directory: {error}"))?;
    find_project_root(&here).ok_or_else(|| {
        format!(
            "no laserdata-rs checkout here: neither {} nor a directory above it holds Cargo.toml, xtask/ and openapi/",
            here.display()
        )
    })
}

/// [`locate_project_root`], for tests (cargo runs them in `xtask/`): panics outside a checkout.
pub fn project_root() -> PathBuf {
    locate_project_root().unwrap_or_else(|message| panic!("{message}"))
}

/// The nearest directory from `start` upwards that looks like the root of this repository.
pub fn find_project_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find(|dir| is_project_root(dir)).map(Path::to_path_buf)
}

fn is_project_root(dir: &Path) -> bool {
    dir.join("Cargo.toml").is_file() && dir.join("xtask/Cargo.toml").is_file() && dir.join("openapi").is_dir()
}

/// Why a codegen run failed.
#[derive(Debug)]
pub enum Failure {
    /// The sources are broken; nothing was written.
    Invalid(Vec<Diagnostic>),
    /// Check mode found generated files that differ from what the sources produce.
    Stale(Vec<PathBuf>),
    /// Writing the outputs failed.
    Io(std::io::Error),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Invalid(diagnostics) => {
                for diagnostic in diagnostics {
                    writeln!(f, "error: {diagnostic}")?;
                }
                write!(f, "{} problem(s) in the OpenAPI sources; nothing was written", diagnostics.len())
            }
            Failure::Stale(paths) => {
                for path in paths {
                    writeln!(f, "stale: {}", path.display())?;
                }
                write!(f, "generated files are out of date; run `cargo xtask codegen` and commit the result")
            }
            Failure::Io(error) => write!(f, "cannot write the generated files: {error}"),
        }
    }
}

/// What a successful run did.
#[derive(Debug)]
pub struct Report {
    /// Every output the sources produce.
    pub outputs: Vec<PathBuf>,
    /// The outputs that were (or, in check mode, would be) rewritten.
    pub changed: Vec<PathBuf>,
}

/// Loads, bundles and checks one layer.
pub fn load_layer(root: &Path, layer: &Layer, shared: &Source) -> Result<spec::bundle::Bundle, Vec<Diagnostic>> {
    let bundle = bundle_layer(root, layer, shared)?;
    let mut problems = spec::check(&bundle, layer);
    problems.sort_by(|a, b| (&a.file, a.position).cmp(&(&b.file, b.position)));
    if problems.is_empty() { Ok(bundle) } else { Err(problems) }
}

/// Loads and bundles one layer without checking it (for tools that measure a document).
pub fn bundle_layer(root: &Path, layer: &Layer, shared: &Source) -> Result<spec::bundle::Bundle, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut load = |path: &Path| Source::load(root, path).map_err(|error| problems.push(error)).ok();
    let main = load(Path::new(layer.source));
    let parts: Vec<Source> = part_files(root, layer).iter().filter_map(|path| load(path)).collect();
    let Some(main) = main.filter(|_| problems.is_empty()) else { return Err(problems) };
    spec::bundle::bundle(main, parts, shared.clone())
}

/// The part files of a layer, relative to the root, in name order.
pub fn part_files(root: &Path, layer: &Layer) -> Vec<PathBuf> {
    let Some(folder) = layer.parts else { return Vec::new() };
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(folder))
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok())
        .map(|entry| Path::new(folder).join(entry.file_name()))
        .filter(|path| path.extension().is_some_and(|extension| extension == "yaml"))
        .collect();
    files.sort();
    files
}

/// Produces every output of every layer in memory, or every problem found.
pub fn render(root: &Path, layers: &[Layer]) -> Result<Vec<Output>, Vec<Diagnostic>> {
    let shared = Source::load(root, Path::new(SHARED_SOURCE)).map_err(|error| vec![error])?;
    let mut outputs = Vec::new();
    let mut problems = Vec::new();
    match codegen::generate_shared(&shared.doc) {
        Ok(contents) => outputs.push(Output { path: SHARED_TYPES.into(), contents }),
        Err(message) => problems.push(shared.diagnostic("", message)),
    }
    for layer in layers {
        let bundle = match load_layer(root, layer, &shared) {
            Ok(bundle) => bundle,
            Err(mut found) => {
                problems.append(&mut found);
                continue;
            }
        };
        // The client and its mocks are generated independently from one parsed document: one
        // thread each.
        let (client, mocks) = match codegen::progenitor_spec(&bundle) {
            Ok(spec) => std::thread::scope(|scope| {
                let mocks = scope.spawn(|| codegen::generate_mocks(layer, &bundle, &spec));
                let client = codegen::generate(layer, &bundle, &spec);
                (client, mocks.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            }),
            Err(message) => (Err(message.clone()), Err(message)),
        };
        for (path, generated) in [(layer.client, client), (layer.mocks, mocks)] {
            match generated {
                Ok(contents) => outputs.push(Output { path: path.into(), contents }),
                Err(message) => problems.push(bundle.diagnostic("", message)),
            }
        }
        let crate_path = format!("laserdata::{}", layer.name);
        outputs.push(Output {
            path: layer.schema_index.into(),
            contents: codegen::schema_index(layer, &bundle, &crate_path),
        });
        outputs.push(Output { path: layer.round_trips.into(), contents: round_trips::generate(layer, &bundle) });
        outputs.extend(publish::outputs(layer, &bundle.doc));
    }
    if problems.is_empty() { Ok(outputs) } else { Err(problems) }
}

/// Regenerates (or, with `check`, verifies) every output. Writes nothing unless every layer
/// is valid.
pub fn codegen(root: &Path, layers: &[Layer], check: bool) -> Result<Report, Failure> {
    let outputs = render(root, layers).map_err(Failure::Invalid)?;
    write_outputs(root, outputs, check)
}

/// Like [`codegen`], for the published documents only (`openapi/dist/`): the same checks,
/// the same atomic writes, without touching the client crates.
pub fn bundle(root: &Path, layers: &[Layer], check: bool) -> Result<Report, Failure> {
    let published: Vec<&str> = layers.iter().flat_map(Layer::published).collect();
    let outputs = render(root, layers)
        .map_err(Failure::Invalid)?
        .into_iter()
        .filter(|output| output.path.to_str().is_some_and(|path| published.contains(&path)))
        .collect();
    write_outputs(root, outputs, check)
}

fn write_outputs(root: &Path, outputs: Vec<Output>, check: bool) -> Result<Report, Failure> {
    let paths = outputs.iter().map(|output| output.path.clone()).collect();
    let changed = if check {
        let stale = outputs::stale(root, &outputs);
        if !stale.is_empty() {
            return Err(Failure::Stale(stale));
        }
        stale
    } else {
        outputs::write(root, &outputs).map_err(Failure::Io)?
    };
    Ok(Report { outputs: paths, changed })
}

/// The layers named on the command line, or all of them.
pub fn select_layers(names: &[String]) -> Result<Vec<Layer>, String> {
    if names.is_empty() {
        return Ok(LAYERS.to_vec());
    }
    names
        .iter()
        .map(|name| {
            LAYERS.iter().copied().find(|layer| layer.name == name).ok_or_else(|| {
                let known: Vec<_> = LAYERS.iter().map(|layer| layer.name).collect();
                format!("unknown layer `{name}`; known layers: {}", known.join(", "))
            })
        })
        .collect()
}
