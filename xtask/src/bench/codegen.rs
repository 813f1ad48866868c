//! Section 1: `cargo xtask codegen`, warm, measured in this process; the same generation done
//! by bare progenitor on the same inputs, for the overhead ratio; and where a run's time goes.

use std::path::Path;
use std::time::{Duration, Instant};

use progenitor_impl::Generator;

use super::cpu::process_time;
use super::report::Row;
use super::stats::{Timing, format};
use crate::codegen as generation;
use crate::fingerprint::Fingerprint;
use crate::layers::{LAYERS, Layer, SHARED_SOURCE};
use crate::outputs::Output;
use crate::spec::bundle::Bundle;
use crate::spec::source::Source;

/// The most our codegen may cost, in CPU time, for each unit bare progenitor costs.
pub const OVERHEAD_TARGET: f64 = 1.3;

/// Wall time (and CPU time, where it can be read) of one run.
#[derive(Debug, Clone, Copy)]
struct Sample {
    wall: Duration,
    cpu: Option<Duration>,
}

fn measure<T>(work: impl FnOnce() -> T) -> (Sample, T) {
    let (cpu, started) = (process_time(), Instant::now());
    let result = work();
    let wall = started.elapsed();
    let cpu = process_time().zip(cpu).map(|(after, before)| after.saturating_sub(before));
    (Sample { wall, cpu }, result)
}

/// What bare progenitor gets for one layer: the document progenitor reads (from
/// `codegen::progenitor_spec`, as the real codegen makes it) and the same settings.
struct BareInput {
    layer: Layer,
    spec: openapiv3::OpenAPI,
    settings: progenitor_impl::GenerationSettings,
}

fn bare_inputs(root: &Path) -> Result<Vec<BareInput>, String> {
    let shared = Source::load(root, Path::new(SHARED_SOURCE)).map_err(|error| error.to_string())?;
    LAYERS
        .iter()
        .map(|layer| {
            let bundle = crate::load_layer(root, layer, &shared).map_err(|problems| format!("{problems:?}"))?;
            let spec = generation::progenitor_spec(&bundle)?;
            Ok(BareInput { layer: *layer, spec, settings: generation::layer_settings(layer, &bundle) })
        })
        .collect()
}

/// Bare progenitor: per layer, generate the client and the httpmock extension and format both
/// with `syn` and `prettyplease`. One thread, as a `build.rs` runs it. Reading the input is
/// left out (it is parsed before timing), which can only make the bare arm look faster.
fn bare_progenitor(inputs: &[BareInput]) -> Result<Vec<String>, String> {
    let mut sources = Vec::new();
    for input in inputs {
        let client = Generator::new(&input.settings).generate_tokens(&input.spec).map_err(|error| error.to_string())?;
        sources.push(generation::unparse(client)?);
        let mocks = Generator::new(&input.settings)
            .httpmock(&input.spec, &generation::client_crate(&input.layer))
            .map_err(|error| error.to_string())?;
        sources.push(generation::unparse(mocks)?);
    }
    Ok(sources)
}

/// Runs every case once unmeasured, then `runs` times, the cases taking turns.
pub fn rows(root: &Path, runs: usize) -> Result<Vec<Row>, String> {
    // Warm runs must find nothing to write: refuse to benchmark a stale tree rather than write to it.
    let fresh =
        crate::codegen(root, LAYERS, true).map_err(|failure| format!("run `cargo xtask codegen` first:\n{failure}"))?;
    // What the command line records after a run, for the shortcut case.
    Fingerprint::record(root, LAYERS, &fresh);
    let layer = |name: &str| *LAYERS.iter().find(|layer| layer.name == name).expect("a known layer");
    let cases: Vec<(String, Vec<Layer>, bool)> = vec![
        ("`cargo xtask codegen --layer main`".into(), vec![layer("main")], false),
        ("`cargo xtask codegen --layer supervisor`".into(), vec![layer("supervisor")], false),
        ("`cargo xtask codegen --layer audit`".into(), vec![layer("audit")], false),
        ("`cargo xtask codegen` (all layers)".into(), LAYERS.to_vec(), false),
        ("`cargo xtask codegen --check` (all layers)".into(), LAYERS.to_vec(), true),
    ];
    let bare = bare_inputs(root)?;
    let mut samples = vec![Vec::with_capacity(runs); cases.len()];
    let mut bare_samples = Vec::with_capacity(runs);
    let mut shortcut_samples = Vec::with_capacity(runs);
    for round in 0..=runs {
        eprintln!("codegen: round {round} of {runs}");
        for (index, (_, layers, check)) in cases.iter().enumerate() {
            let (sample, report) = measure(|| crate::codegen(root, layers, *check));
            let report = report.map_err(|failure| failure.to_string())?;
            if !report.changed.is_empty() {
                return Err(format!("codegen rewrote {:?} during the benchmark", report.changed));
            }
            if round > 0 {
                samples[index].push(sample);
            }
        }
        let (sample, generated) = measure(|| bare_progenitor(&bare));
        generated?;
        if round > 0 {
            bare_samples.push(sample);
        }
        let (sample, skipped) =
            measure(|| Fingerprint::of(root, LAYERS).and_then(|fingerprint| fingerprint.unchanged(root)));
        if skipped.is_none() {
            return Err("the fingerprint of an unchanged tree did not match".into());
        }
        if round > 0 {
            shortcut_samples.push(sample);
        }
    }
    let mut rows: Vec<Row> = cases
        .iter()
        .zip(&samples)
        .map(|((name, layers, check), samples)| {
            let timing = Timing::of(&walls(samples));
            let files = layers.iter().map(|layer| layer.outputs().len()).sum::<usize>();
            Row {
                section: 1,
                benchmark: format!("{name}, warm, in-process"),
                measure: format!(
                    "median wall time of {} in-process runs of `xtask::codegen` after one warm-up ({})",
                    timing.runs,
                    profile()
                ),
                result: format(timing.median),
                detail: format!(
                    "min–max {}–{}; CPU time {}; {} {files} files, none changed",
                    format(timing.min),
                    format(timing.max),
                    cpu_median(samples).map_or_else(|| "not measured".into(), format),
                    if *check { "compares" } else { "renders and compares (writes only changes)" },
                ),
                target: "< 1 s".into(),
                met: Some(timing.median < Duration::from_secs(1)),
            }
        })
        .collect();
    let ours = &samples[3];
    rows.push(overhead_row(ours, &bare_samples));
    rows.push(shortcut_row(&shortcut_samples, &bare_samples));
    rows.push(phases_row(root, runs)?);
    Ok(rows)
}

/// The command line's default on an unchanged tree: hash the sources and the generated files,
/// find them as the last run left them, and stop.
fn shortcut_row(shortcut: &[Sample], bare: &[Sample]) -> Row {
    let timing = Timing::of(&walls(shortcut));
    let bare_timing = Timing::of(&walls(bare));
    Row {
        section: 1,
        benchmark: "`cargo xtask codegen` (all layers), warm, nothing changed since the last run: the fingerprint shortcut (the command line's default)".into(),
        measure: format!(
            "median wall time of {} in-process runs of `Fingerprint::of` + `unchanged` (hash every file under openapi/, the xtask binary's size and time, every generated file), taking turns with the cases above ({})",
            timing.runs,
            profile()
        ),
        result: format(timing.median),
        detail: format!(
            "min–max {}–{}; ratio to bare progenitor on the same inputs (wall, one thread) {:.3}; `--full` runs every step instead (the rows above)",
            format(timing.min),
            format(timing.max),
            timing.median.as_secs_f64() / bare_timing.median.as_secs_f64()
        ),
        target: "< 1 s".into(),
        met: Some(timing.median < Duration::from_secs(1)),
    }
}

fn walls(samples: &[Sample]) -> Vec<Duration> {
    samples.iter().map(|sample| sample.wall).collect()
}

fn cpu_median(samples: &[Sample]) -> Option<Duration> {
    let cpu: Option<Vec<Duration>> = samples.iter().map(|sample| sample.cpu).collect();
    cpu.map(|cpu| Timing::of(&cpu).median)
}

fn profile() -> String {
    "the `dev` profile, as `cargo xtask` builds it".into()
}

fn overhead_row(ours: &[Sample], bare: &[Sample]) -> Row {
    let (ours_wall, bare_wall) = (Timing::of(&walls(ours)).median, Timing::of(&walls(bare)).median);
    let wall_ratio = ours_wall.as_secs_f64() / bare_wall.as_secs_f64();
    let cpu = cpu_median(ours).zip(cpu_median(bare));
    let (result, met, cpu_detail) = match cpu {
        Some((ours_cpu, bare_cpu)) => {
            let ratio = ours_cpu.as_secs_f64() / bare_cpu.as_secs_f64();
            (
                format!("{ratio:.2} (CPU time)"),
                ratio <= OVERHEAD_TARGET,
                format!("CPU time: ours {}, bare {}; ", format(ours_cpu), format(bare_cpu)),
            )
        }
        None => (format!("{wall_ratio:.2} (wall time)"), wall_ratio <= OVERHEAD_TARGET, String::new()),
    };
    Row {
        section: 1,
        benchmark: "Codegen overhead: `cargo xtask codegen` (all layers) / bare progenitor on the same inputs, warm"
            .into(),
        measure: format!(
            "ratio of medians of {} alternating in-process runs, same binary and profile ({}); bare progenitor takes each layer's progenitor input (parsed before timing), generates client and httpmock extension with the same `GenerationSettings` (`codegen::layer_settings`), formats both with `syn` + `prettyplease`, on one thread as a `build.rs` would; ours does all that plus loading, bundling, checking, publishing and comparing, on every core",
            ours.len(),
            profile()
        ),
        result,
        detail: format!(
            "{cpu_detail}wall time: ours {} (every core), bare {} (one thread), ratio {wall_ratio:.2}",
            format(ours_wall),
            format(bare_wall)
        ),
        target: format!("≤ {OVERHEAD_TARGET}"),
        met: Some(met),
    }
}

/// The work of all-layers runs, phase by phase, on one thread: where the time goes.
#[derive(Default)]
struct Phases {
    names: Vec<&'static str>,
    /// Per phase, the time of each finished run (every layer together).
    samples: Vec<Vec<Sample>>,
    /// Per phase, the time of the current run so far.
    current: Vec<Sample>,
}

impl Phases {
    fn time<T>(&mut self, name: &'static str, work: impl FnOnce() -> T) -> T {
        let (sample, result) = measure(work);
        let index = self.names.iter().position(|known| *known == name).unwrap_or_else(|| {
            self.names.push(name);
            self.samples.push(Vec::new());
            self.current.push(Sample { wall: Duration::ZERO, cpu: Some(Duration::ZERO) });
            self.names.len() - 1
        });
        let total = &mut self.current[index];
        total.wall += sample.wall;
        total.cpu = total.cpu.zip(sample.cpu).map(|(a, b)| a + b);
        result
    }

    /// Ends a run: its totals become one sample of each phase (or are dropped, for a warm-up).
    fn finish_run(&mut self, keep: bool) {
        for (samples, total) in self.samples.iter_mut().zip(&mut self.current) {
            let total = std::mem::replace(total, Sample { wall: Duration::ZERO, cpu: Some(Duration::ZERO) });
            if keep {
                samples.push(total);
            }
        }
    }
}

/// One all-layers run split into its phases, each timed over every layer.
fn run_phases(root: &Path, phases: &mut Phases) -> Result<(), String> {
    let files: Vec<Vec<std::path::PathBuf>> = LAYERS.iter().map(|layer| crate::layer_files(root, layer)).collect();
    let (shared, sources) = phases.time("YAML loading (saphyr, positions)", || {
        let shared = Source::load(root, Path::new(SHARED_SOURCE));
        let sources: Vec<Vec<Result<Source, _>>> =
            files.iter().map(|paths| paths.iter().map(|path| Source::load(root, path)).collect()).collect();
        (shared, sources)
    });
    let shared = shared.map_err(|error| error.to_string())?;
    let mut bundles: Vec<Bundle> = Vec::new();
    for layer_sources in sources {
        let mut layer_sources: Vec<Source> =
            layer_sources.into_iter().collect::<Result<_, _>>().map_err(|error| error.to_string())?;
        let main = layer_sources.remove(0);
        let shared = shared.clone();
        let bundle = phases.time("bundling", || crate::spec::bundle::bundle(main, layer_sources, shared));
        bundles.push(bundle.map_err(|problems| format!("{problems:?}"))?);
    }
    let mut outputs = Vec::new();
    for (layer, bundle) in LAYERS.iter().zip(&bundles) {
        phases.time("OpenAPI structure (openapiv3 via serde_path_to_error)", || crate::spec::check_structure(bundle));
        phases.time("our rules", || crate::spec::rules::check(bundle, layer));
        phases.time("examples (laserdata-spec validator)", || crate::spec::examples::check(bundle));
        let spec = phases.time("progenitor input (rewrite, parse)", || generation::progenitor_spec(bundle))?;
        let settings = generation::layer_settings(layer, bundle);
        let client = phases.time("progenitor: client", || Generator::new(&settings).generate_tokens(&spec));
        let mocks = phases.time("progenitor: httpmock", || {
            Generator::new(&settings).httpmock(&spec, &generation::client_crate(layer))
        });
        let (client, mocks) = (client.map_err(|error| error.to_string())?, mocks.map_err(|error| error.to_string())?);
        phases.time("syn + post-pass + prettyplease", || -> Result<(), String> {
            outputs.push(Output {
                path: layer.client.into(),
                contents: generation::finish_client(layer, bundle, client)?,
            });
            outputs.push(Output { path: layer.mocks.into(), contents: generation::finish_mocks(layer, mocks)? });
            Ok(())
        })?;
        let crate_path = format!("laserdata::{}", layer.name);
        phases.time("schema index", || {
            outputs.push(Output {
                path: layer.schema_index.into(),
                contents: generation::schema_index(layer, bundle, &crate_path),
            })
        });
        let published = phases.time("published JSON", || {
            let doc = crate::publish::published(layer, &bundle.doc);
            outputs.push(Output { path: layer.bundle.into(), contents: crate::publish::json(&doc) });
            doc
        });
        phases.time("YAML emission", || {
            let header = format!("# Generated by {}\n", crate::publish::marker(layer));
            outputs.push(Output {
                path: layer.bundle_yaml.into(),
                contents: crate::publish::yaml::to_yaml(&published, &header),
            })
        });
        phases.time("OpenAPI 3.1 conversion", || {
            let converted = crate::publish::openapi31::convert(&published);
            outputs.push(Output { path: layer.bundle_31.into(), contents: crate::publish::json(&converted) });
        });
    }
    phases.time("comparing with the files", || crate::outputs::stale(root, &outputs));
    Ok(())
}

fn phases_row(root: &Path, runs: usize) -> Result<Row, String> {
    let mut phases = Phases::default();
    for round in 0..=runs {
        run_phases(root, &mut phases)?;
        // The first round warms up and is dropped.
        phases.finish_run(round > 0);
    }
    let medians: Vec<(&str, Duration)> = phases
        .names
        .iter()
        .zip(&phases.samples)
        .map(|(name, samples)| (*name, cpu_median(samples).unwrap_or_else(|| Timing::of(&walls(samples)).median)))
        .collect();
    let total: Duration = medians.iter().map(|(_, duration)| *duration).sum();
    let bare: Duration = medians
        .iter()
        .filter(|(name, _)| name.starts_with("progenitor:") || *name == "syn + prettyplease")
        .map(|(_, duration)| *duration)
        .sum();
    let list: Vec<String> = medians
        .iter()
        .map(|(name, duration)| {
            format!("{name} {} ({:.0} %)", format(*duration), duration.as_secs_f64() / total.as_secs_f64() * 100.0)
        })
        .collect();
    Ok(Row {
        section: 1,
        benchmark: "Where an all-layers codegen spends its time, phase by phase on one thread".into(),
        measure: format!(
            "median CPU time of each phase over {runs} runs after one warm-up, every layer, on one thread ({})",
            profile()
        ),
        result: format!("{} in all", format(total)),
        detail: format!(
            "{}; progenitor and formatting (what bare progenitor does) {} of it",
            list.join(", "),
            format(bare)
        ),
        target: "reported".into(),
        met: None,
    })
}
