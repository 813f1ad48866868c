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
pub mod document;
pub mod fingerprint;
pub mod fuzz;
pub mod layers;
pub mod lint;
pub mod live_check;
pub mod outputs;
pub mod parallel;
pub mod publish;
pub mod release;
pub mod round_trips;
pub mod shape;
pub mod spec;
pub mod stress;
pub mod surface;
pub mod tools;
pub mod vendor;

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
    let files = layer_files(root, layer).into_iter().map(|path| Source::load(root, &path)).collect();
    let bundle = bundle_layer(files, shared.clone())?;
    let problems = check_layer(&bundle, layer);
    if problems.is_empty() { Ok(bundle) } else { Err(problems) }
}

/// A layer's root file, then its part files, relative to the root.
pub fn layer_files(root: &Path, layer: &Layer) -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from(layer.source)];
    files.extend(part_files(root, layer));
    files
}

/// Loads and bundles one layer without checking it (for tools that measure a document).
pub fn load_unchecked(root: &Path, layer: &Layer, shared: &Source) -> Result<spec::bundle::Bundle, Vec<Diagnostic>> {
    let files = layer_files(root, layer).into_iter().map(|path| Source::load(root, &path)).collect();
    bundle_layer(files, shared.clone())
}

/// Bundles a layer from its loaded files (root first), or returns every problem loading them.
fn bundle_layer(
    files: Vec<Result<Source, Diagnostic>>,
    shared: Source,
) -> Result<spec::bundle::Bundle, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut sources: Vec<Source> =
        files.into_iter().filter_map(|file| file.map_err(|error| problems.push(error)).ok()).collect();
    if !problems.is_empty() {
        return Err(problems);
    }
    let main = sources.remove(0);
    spec::bundle::bundle(main, sources, shared)
}

/// Every problem with a bundled layer, in file and line order.
fn check_layer(bundle: &spec::bundle::Bundle, layer: &Layer) -> Vec<Diagnostic> {
    let mut problems = spec::check(bundle, layer);
    problems.sort_by(|a, b| (&a.file, a.position).cmp(&(&b.file, b.position)));
    problems
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
    render_outputs(root, layers, true)
}

/// One piece of the work of rendering a layer; they are independent once the layer is bundled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Job {
    Client,
    Mocks,
    Check,
    Publish,
}

/// What a [`Job`] produced.
enum Product {
    Problems(Vec<Diagnostic>),
    /// Generated source, a message why progenitor could not generate it, or its panic.
    Source(std::thread::Result<Result<String, String>>),
    Outputs(Vec<Output>),
}

/// A bundled layer and, when clients are rendered, the document progenitor reads.
struct Prepared {
    bundle: spec::bundle::Bundle,
    spec: Option<Result<openapiv3::OpenAPI, String>>,
}

/// Like [`render`]; without `clients`, only the published documents. Every step runs on all
/// cores: first the source files are read, then each layer is bundled, then each layer's
/// checks, client, mocks and published documents are made side by side. Generation does not
/// wait for the checks; its result is dropped for a layer whose checks fail.
fn render_outputs(root: &Path, layers: &[Layer], clients: bool) -> Result<Vec<Output>, Vec<Diagnostic>> {
    let mut files = vec![PathBuf::from(SHARED_SOURCE)];
    let mut counts = Vec::with_capacity(layers.len());
    for layer in layers {
        let before = files.len();
        files.extend(layer_files(root, layer));
        counts.push(files.len() - before);
    }
    let mut loaded = parallel::map(files, |path| Source::load(root, &path)).into_iter();
    let shared = loaded.next().expect("the shared file comes first").map_err(|error| vec![error])?;
    let per_layer: Vec<Vec<Result<Source, Diagnostic>>> =
        counts.iter().map(|count| loaded.by_ref().take(*count).collect()).collect();

    let prepared: Vec<Result<Prepared, Vec<Diagnostic>>> = parallel::map(per_layer, |files| {
        let bundle = bundle_layer(files, shared.clone())?;
        let spec = clients.then(|| codegen::progenitor_spec(&bundle));
        Ok(Prepared { bundle, spec })
    });

    let kinds: &[Job] =
        if clients { &[Job::Client, Job::Mocks, Job::Check, Job::Publish] } else { &[Job::Check, Job::Publish] };
    // Longest first: every layer's client before any mocks, and so on.
    let jobs: Vec<(usize, Job)> = kinds
        .iter()
        .flat_map(|kind| (0..layers.len()).map(move |index| (index, *kind)))
        .filter(|(index, _)| prepared[*index].is_ok())
        .collect();
    let products = parallel::map(jobs.clone(), |(index, job)| {
        let Ok(Prepared { bundle, spec }) = &prepared[index] else { unreachable!("only bundled layers have jobs") };
        render_job(&layers[index], job, bundle, spec.as_ref(), clients)
    });

    let mut by_layer: Vec<Vec<(Job, Product)>> = layers.iter().map(|_| Vec::new()).collect();
    for ((index, job), product) in jobs.into_iter().zip(products) {
        by_layer[index].push((job, product));
    }
    let mut outputs = Vec::new();
    let mut problems = Vec::new();
    if clients {
        match codegen::generate_shared(&shared.doc) {
            Ok(contents) => outputs.push(Output { path: SHARED_TYPES.into(), contents }),
            Err(message) => problems.push(shared.diagnostic("", message)),
        }
    }
    for ((layer, prepared), mut products) in layers.iter().zip(prepared).zip(by_layer) {
        let bundle = match prepared {
            Ok(prepared) => prepared.bundle,
            Err(found) => {
                problems.extend(found);
                continue;
            }
        };
        if let Some((_, Product::Problems(found))) = products.iter_mut().find(|(job, _)| *job == Job::Check)
            && !found.is_empty()
        {
            // Whatever generation made of a broken layer (an error, even a panic) is moot.
            problems.append(found);
            continue;
        }
        // The list of departures names the Supervisor's inferred operations: it is written
        // with that layer.
        if layer.requires_confidence && clients {
            match vendor::departures::output(root, layer.name, &bundle.doc) {
                Ok(output) => outputs.push(output),
                Err(problem) => problems.push(problem),
            }
        }
        // In the order of `Layer::outputs`.
        products.sort_by_key(|(job, _)| *job);
        for (job, product) in products {
            match product {
                Product::Source(Ok(Ok(contents))) => {
                    let path = if job == Job::Client { layer.client } else { layer.mocks };
                    outputs.push(Output { path: path.into(), contents });
                }
                Product::Source(Ok(Err(message))) => problems.push(bundle.diagnostic("", message)),
                Product::Source(Err(panic)) => std::panic::resume_unwind(panic),
                Product::Outputs(published) => outputs.extend(published),
                Product::Problems(_) => {}
            }
        }
    }
    if problems.is_empty() { Ok(outputs) } else { Err(problems) }
}

fn render_job(
    layer: &Layer,
    job: Job,
    bundle: &spec::bundle::Bundle,
    spec: Option<&Result<openapiv3::OpenAPI, String>>,
    clients: bool,
) -> Product {
    type Generate = fn(&Layer, &spec::bundle::Bundle, &openapiv3::OpenAPI) -> Result<String, String>;
    let generate = |make: Generate| {
        // Caught, because a layer that fails its checks may make progenitor panic.
        Product::Source(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match spec {
            Some(Ok(spec)) => make(layer, bundle, spec),
            Some(Err(message)) => Err(message.clone()),
            None => unreachable!("clients are generated only with their document"),
        })))
    };
    match job {
        Job::Client => generate(codegen::generate),
        Job::Mocks => generate(codegen::generate_mocks),
        Job::Check => Product::Problems(check_layer(bundle, layer)),
        Job::Publish => {
            let mut outputs = Vec::new();
            if clients {
                let crate_path = format!("laserdata::{}", layer.name);
                outputs.push(Output {
                    path: layer.schema_index.into(),
                    contents: codegen::schema_index(layer, bundle, &crate_path),
                });
                outputs.push(Output { path: layer.round_trips.into(), contents: round_trips::generate(layer, bundle) });
            }
            outputs.extend(publish::outputs(layer, &bundle.doc));
            Product::Outputs(outputs)
        }
    }
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
    let outputs = render_outputs(root, layers, false)
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
