//! The codegen pipeline end to end: freshness of the checked-in output, refusal of broken
//! sources without touching anything, and determinism.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use xtask::layers::{LAYERS, SHARED_SOURCE, SHARED_TYPES};
use xtask::vendor::departures;
use xtask::{Failure, codegen, project_root};

/// The part of the Main layer the tests break on purpose.
const API_KEYS: &str = "openapi/main/api-keys.yaml";

/// A copy of the sources and generated files in a temporary directory, to break at will.
fn scratch_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = project_root();
    let mut files: Vec<PathBuf> =
        vec![SHARED_SOURCE.into(), SHARED_TYPES.into(), departures::SOURCE.into(), departures::OUTPUT.into()];
    for layer in LAYERS {
        files.push(layer.source.into());
        files.extend(layer.outputs().map(PathBuf::from));
        files.extend(xtask::part_files(&root, layer));
    }
    for file in files {
        let file = file.as_path();
        let target = dir.path().join(file);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::copy(root.join(file), target).unwrap();
    }
    dir
}

fn snapshot_of_outputs(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    LAYERS
        .iter()
        .flat_map(|layer| layer.outputs())
        .chain([SHARED_TYPES])
        .map(|file| (PathBuf::from(file), fs::read(root.join(file)).unwrap()))
        .collect()
}

fn replace_in(root: &Path, file: &str, from: &str, to: &str) {
    let path = root.join(file);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} does not contain {from:?}");
    fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

fn line_of(root: &Path, file: &str, needle: &str) -> usize {
    fs::read_to_string(root.join(file)).unwrap().lines().position(|line| line.contains(needle)).unwrap() + 1
}

fn invalid(result: Result<xtask::Report, Failure>) -> String {
    match result {
        Err(failure @ Failure::Invalid(_)) => failure.to_string(),
        other => panic!("expected the sources to be rejected, got {other:?}"),
    }
}

/// `cargo test` fails when someone edits a source and forgets to regenerate.
#[test]
fn checked_in_output_is_fresh() {
    if let Err(failure) = codegen(&project_root(), LAYERS, true) {
        panic!("{failure}");
    }
}

#[test]
fn broken_yaml_is_reported_with_file_and_line_and_nothing_is_written() {
    let dir = scratch_copy();
    let before = snapshot_of_outputs(dir.path());
    replace_in(dir.path(), API_KEYS, "      summary: List API keys\n", "      summary: [List API keys\n");
    let line = line_of(dir.path(), API_KEYS, "summary: [List API keys");

    let message = invalid(codegen(dir.path(), LAYERS, false));

    assert!(message.contains(&format!("{API_KEYS}:")), "{message}");
    assert!(message.contains("invalid YAML"), "{message}");
    let reported_line: usize =
        message.split(&format!("{API_KEYS}:")).nth(1).unwrap().split(':').next().unwrap().parse().unwrap();
    assert!(
        (line..=line + 2).contains(&reported_line),
        "line {reported_line} reported for a break at {line}: {message}"
    );
    assert_eq!(snapshot_of_outputs(dir.path()), before, "generated files changed although the sources are broken");
}

#[test]
fn an_unresolved_reference_names_file_line_and_pointer() {
    let dir = scratch_copy();
    let before = snapshot_of_outputs(dir.path());
    replace_in(
        dir.path(),
        API_KEYS,
        "$ref: '#/components/schemas/Paged_ApiKeyInfo'",
        "$ref: '#/components/schemas/Paged_ApiKey'",
    );
    let line = line_of(dir.path(), API_KEYS, "Paged_ApiKey'");

    let message = invalid(codegen(dir.path(), LAYERS, false));

    assert!(message.contains(&format!("{API_KEYS}:{line}:")), "{message}");
    assert!(message.contains("unresolved reference `#/components/schemas/Paged_ApiKey`"), "{message}");
    assert!(
        message.contains(
            "(at #/paths/~1tenants~1{tenant_id}~1api_keys/get/responses/200/content/application~1json/schema/$ref)"
        ),
        "{message}"
    );
    assert_eq!(snapshot_of_outputs(dir.path()), before);
}

#[test]
fn rule_violations_and_bad_examples_are_all_reported_at_once() {
    let dir = scratch_copy();
    let before = snapshot_of_outputs(dir.path());
    // A paged list without `results`, an example of the wrong type, a `default` response...
    replace_in(dir.path(), API_KEYS, "        - $ref: '../shared.yaml#/components/parameters/Results'\n", "");
    replace_in(dir.path(), API_KEYS, "                total_pages: 1\n", "                total_pages: one\n");
    replace_in(
        dir.path(),
        API_KEYS,
        "        '5XX':\n          $ref: '../shared.yaml#/components/responses/ServerError'\n",
        "        default:\n          $ref: '../shared.yaml#/components/responses/ServerError'\n",
    );
    let example_line = line_of(dir.path(), API_KEYS, "total_pages: one");
    // An `idempotency-key` on a public operation: nothing to remember it under.
    replace_in(
        dir.path(),
        "openapi/main/account.yaml",
        "      operationId: sign_in\n",
        "      operationId: sign_in\n      parameters:\n        - $ref: '../shared.yaml#/components/parameters/IdempotencyKey'\n",
    );

    let message = invalid(codegen(dir.path(), LAYERS, false));

    assert!(message.contains("`get_api_keys` returns a paged list but has no `results` query parameter"), "{message}");
    assert!(message.contains(&format!("{API_KEYS}:{example_line}:")), "{message}");
    assert!(message.contains("\"one\" is not of type \"integer\""), "{message}");
    assert!(message.contains("uses a `default` response"), "{message}");
    assert!(message.contains("must declare a `5XX` response"), "{message}");
    assert!(message.contains("`sign_in` takes no API key, so `idempotency-key`"), "{message}");
    assert_eq!(snapshot_of_outputs(dir.path()), before);
}

#[test]
fn an_undescribed_property_is_refused_with_file_line_and_pointer() {
    let dir = scratch_copy();
    let before = snapshot_of_outputs(dir.path());
    let line = line_of(dir.path(), API_KEYS, "description: When the key stops working.") - 3;
    replace_in(dir.path(), API_KEYS, "          description: When the key stops working.\n", "");

    let message = invalid(codegen(dir.path(), LAYERS, false));

    assert!(
        message.contains(&format!(
            "{API_KEYS}:{line}:9: property `expiry_at` of `ApiKeyInfo` has no description; say what it holds"
        )),
        "{message}"
    );
    assert!(message.contains("(at #/components/schemas/ApiKeyInfo/properties/expiry_at)"), "{message}");
    assert_eq!(snapshot_of_outputs(dir.path()), before);
}

#[test]
fn a_broken_shared_file_is_reported_against_that_file() {
    let dir = scratch_copy();
    replace_in(
        dir.path(),
        SHARED_SOURCE,
        "        minimum: 1\n        maximum: 100\n        default: 10\n",
        "        minimum: 1\n        maximum: 100\n        default: 10\n      example: lots\n",
    );
    let message = invalid(codegen(dir.path(), LAYERS, false));
    assert!(message.contains("openapi/shared.yaml:"), "{message}");
}

#[test]
fn generation_is_deterministic_and_check_names_stale_files() {
    let dir = scratch_copy();
    // Regenerating from the checked-in sources changes nothing, twice over.
    for _ in 0..2 {
        let report = codegen(dir.path(), LAYERS, false).unwrap();
        assert!(report.changed.is_empty(), "{:?}", report.changed);
    }
    // A real change to a source makes check mode name exactly the affected outputs...
    replace_in(dir.path(), API_KEYS, "summary: Delete an API key", "summary: Revoke an API key");
    let before = snapshot_of_outputs(dir.path());
    match codegen(dir.path(), LAYERS, true) {
        Err(Failure::Stale(paths)) => {
            // Only the Main layer's outputs: the other layers do not use the changed file.
            let mut expected = vec![PathBuf::from(LAYERS[0].client)];
            expected.extend(LAYERS[0].published().map(PathBuf::from));
            expected.push(LAYERS[0].sandbox_document.into());
            assert_eq!(paths, expected);
        }
        other => panic!("expected stale files, got {other:?}"),
    }
    assert_eq!(snapshot_of_outputs(dir.path()), before, "check mode wrote something");
    // ...which a normal run then rewrites, leaving no temporary files behind.
    let report = codegen(dir.path(), LAYERS, false).unwrap();
    assert_eq!(report.changed.len(), 5);
    assert!(fs::read_to_string(dir.path().join(LAYERS[0].client)).unwrap().contains("Revoke an API key"));
    let leftovers: Vec<_> = fs::read_dir(dir.path().join("crates/laserdata-main/src"))
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
    codegen(dir.path(), LAYERS, true).unwrap();
}

#[test]
fn every_generated_file_starts_with_the_do_not_edit_header() {
    for layer in LAYERS {
        let text = fs::read_to_string(project_root().join(layer.client)).unwrap();
        assert!(text.starts_with("// This file is generated by `cargo xtask codegen`"), "{}", layer.client);
        assert!(text.lines().nth(1).unwrap().contains("Do not edit it by hand"));
    }
}

/// `cargo xtask bundle` checks and writes the published documents only.
#[test]
fn bundle_writes_only_the_published_documents() {
    let dir = scratch_copy();
    replace_in(dir.path(), API_KEYS, "summary: Delete an API key", "summary: Revoke an API key");
    let published: Vec<PathBuf> = LAYERS[0].published().map(PathBuf::from).to_vec();
    match xtask::bundle(dir.path(), LAYERS, true) {
        Err(Failure::Stale(paths)) => assert_eq!(paths, published),
        other => panic!("expected stale documents, got {other:?}"),
    }
    let report = xtask::bundle(dir.path(), LAYERS, false).unwrap();
    assert_eq!(report.changed, published);
    xtask::bundle(dir.path(), LAYERS, true).unwrap();
    // The client crate and the sandbox's copy were left alone, so codegen still finds them stale.
    match codegen(dir.path(), LAYERS, true) {
        Err(Failure::Stale(paths)) => {
            assert_eq!(paths, [PathBuf::from(LAYERS[0].client), PathBuf::from(LAYERS[0].sandbox_document)])
        }
        other => panic!("expected the client to be stale, got {other:?}"),
    }
}

/// Makes a scratch copy look like a checkout to the xtask: the workspace manifest and `xtask/`.
fn mark_as_checkout(root: &Path) {
    fs::write(root.join("Cargo.toml"), "[workspace]\nmembers = [\"xtask\"]\n").unwrap();
    fs::create_dir_all(root.join("xtask")).unwrap();
    fs::write(root.join("xtask/Cargo.toml"), "[package]\nname = \"xtask\"\n").unwrap();
}

/// Runs the xtask binary cargo built for this test, from `dir`.
fn run_xtask(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).current_dir(dir).output().unwrap()
}

/// With one CARGO_TARGET_DIR shared by two checkouts, cargo runs the xtask built in one checkout
/// from the other. It must work on the checkout it is run in, not on the one it was built in:
/// this test runs the binary built here in a copy, and breaks the copy.
#[test]
fn the_binary_works_on_the_checkout_it_is_run_in() {
    let dir = scratch_copy();
    mark_as_checkout(dir.path());
    let below = dir.path().join("openapi/main");

    let fresh = run_xtask(&below, &["codegen", "--check"]);
    assert!(fresh.status.success(), "{}", String::from_utf8_lossy(&fresh.stderr));

    replace_in(dir.path(), API_KEYS, "      summary: List API keys\n", "      summary: [List API keys\n");
    let broken = run_xtask(&below, &["codegen", "--check"]);
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(!broken.status.success(), "the copy's broken YAML was not read");
    assert!(stderr.contains("api-keys.yaml"), "{stderr}");

    // Outside any checkout it says so and does nothing.
    let elsewhere = tempfile::tempdir().unwrap();
    let lost = run_xtask(elsewhere.path(), &["codegen", "--check"]);
    let stderr = String::from_utf8_lossy(&lost.stderr);
    assert!(!lost.status.success());
    assert!(stderr.contains("no laserdata-rs checkout here"), "{stderr}");
}

#[test]
fn the_project_root_is_the_nearest_checkout_upwards() {
    let dir = tempfile::tempdir().unwrap();
    let outer = dir.path();
    mark_as_checkout(outer);
    fs::create_dir_all(outer.join("openapi/main")).unwrap();
    // A directory with only some of the markers is not a checkout.
    let inner = outer.join("crates/nested");
    fs::create_dir_all(inner.join("openapi")).unwrap();
    fs::write(inner.join("Cargo.toml"), "[package]\n").unwrap();

    assert_eq!(xtask::find_project_root(outer).as_deref(), Some(outer));
    assert_eq!(xtask::find_project_root(&outer.join("openapi/main")).as_deref(), Some(outer));
    assert_eq!(xtask::find_project_root(&inner).as_deref(), Some(outer));
    fs::remove_file(outer.join("xtask/Cargo.toml")).unwrap();
    assert_eq!(xtask::find_project_root(&inner), None);
}
