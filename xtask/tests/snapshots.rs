//! Snapshots (insta) of what the generator makes of our sources. A change to a spec, to our
//! generation settings or to progenitor shows up here as a reviewable diff; `cargo test` fails
//! until the new snapshot is accepted (`cargo insta review`, or INSTA_UPDATE=always).

use std::path::Path;

use xtask::layers::{LAYERS, Layer, SHARED_SOURCE, SHARED_TYPES};
use xtask::spec::source::Source;
use xtask::{codegen, load_layer, project_root, surface};

fn shared() -> Source {
    Source::load(&project_root(), Path::new(SHARED_SOURCE)).unwrap()
}

/// Per layer: every operation as it appears on the wire, and the generated Rust surface.
#[test]
fn layer_surfaces() {
    for layer in LAYERS {
        let bundle = load_layer(&project_root(), layer, &shared()).unwrap_or_else(|problems| panic!("{problems:?}"));
        insta::assert_snapshot!(format!("{}_operations", layer.name), surface::operations_listing(&bundle));
        let generated = std::fs::read_to_string(project_root().join(layer.client)).unwrap();
        insta::assert_snapshot!(format!("{}_rust_surface", layer.name), surface::rust_listing(&generated).unwrap());
    }
    let shared = std::fs::read_to_string(project_root().join(SHARED_TYPES)).unwrap();
    insta::assert_snapshot!("shared_rust_surface", surface::rust_listing(&shared).unwrap());
}

/// The whole generated client of a small fixture that uses each construct the layers rely on
/// (paging, created-id headers, problem bodies, nullable references, one-of bodies, secrets).
#[test]
fn fixture_client() {
    let layer = Layer {
        name: "fixture",
        source: "xtask/tests/fixtures/fixture.yaml",
        parts: None,
        client: "unused",
        mocks: "unused",
        bundle: "unused",
        bundle_yaml: "unused",
        bundle_31: "unused",
        sandbox_document: "unused",
        schema_index: "unused",
        round_trips: "unused",
        requires_confidence: false,
    };
    let bundle = load_layer(&project_root(), &layer, &shared()).unwrap_or_else(|problems| panic!("{problems:?}"));
    let spec = codegen::progenitor_spec(&bundle).unwrap();
    let generated = codegen::generate(&layer, &bundle, &spec).unwrap();
    insta::assert_snapshot!("fixture_client", generated);
}

/// The round-trip table generated from the same fixture: the calls, requests and answers its
/// examples give, and the operations they cannot drive.
#[test]
fn fixture_round_trips() {
    let layer = Layer { name: "fixture", source: "xtask/tests/fixtures/fixture.yaml", parts: None, ..LAYERS[0] };
    let bundle = load_layer(&project_root(), &layer, &shared()).unwrap_or_else(|problems| panic!("{problems:?}"));
    insta::assert_snapshot!("fixture_round_trips", xtask::round_trips::generate(&layer, &bundle));
}
