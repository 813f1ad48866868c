//! The API layers this project describes, and where each one's source and output live.

/// The file of components every layer shares.
pub const SHARED_SOURCE: &str = "openapi/shared.yaml";

/// The Rust types of the shared components, generated once for every layer's crate to use.
pub const SHARED_TYPES: &str = "crates/laserdata-core/src/shared.rs";

/// One API layer: one OpenAPI source, one generated client crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layer {
    /// The short name used on the command line (`--layer main`).
    pub name: &'static str,
    /// The hand-written OpenAPI source (its root file), relative to the project root.
    pub source: &'static str,
    /// A folder of part files, one per tag (`*.yaml`, merged in name order), if the layer has one.
    pub parts: Option<&'static str>,
    /// The generated client source, relative to the project root.
    pub client: &'static str,
    /// The generated typed `httpmock` extension, relative to the project root.
    pub mocks: &'static str,
    /// The bundled, self-contained document published for other languages (OpenAPI 3.0.3, JSON).
    pub bundle: &'static str,
    /// The same document in YAML.
    pub bundle_yaml: &'static str,
    /// The same document converted to OpenAPI 3.1 (JSON).
    pub bundle_31: &'static str,
    /// The OpenAPI 3.1 document again, inside the sandbox crate: the sandbox serves and
    /// validates by it, and a crate is packaged only with files from its own folder.
    pub sandbox_document: &'static str,
    /// A test-support module mapping each schema name to its generated Rust type.
    pub schema_index: &'static str,
    /// A test-support module with one round trip per operation, from the spec's examples.
    pub round_trips: &'static str,
    /// Whether every operation must say, in `x-laserdata-confidence`, if it was seen in a
    /// source (`seen`) or only inferred from a pattern (`inferred`): true for layers the vendor
    /// publishes no description of.
    pub requires_confidence: bool,
}

impl Layer {
    /// The published documents: OpenAPI 3.0.3 JSON and YAML, and OpenAPI 3.1 JSON.
    pub fn published(&self) -> [&'static str; 3] {
        [self.bundle, self.bundle_yaml, self.bundle_31]
    }

    /// Every file `cargo xtask codegen` writes for this layer, in the order it renders them.
    pub fn outputs(&self) -> [&'static str; 8] {
        [
            self.client,
            self.mocks,
            self.schema_index,
            self.round_trips,
            self.bundle,
            self.bundle_yaml,
            self.bundle_31,
            self.sandbox_document,
        ]
    }
}

pub const LAYERS: &[Layer] = &[
    Layer {
        name: "main",
        source: "openapi/main.yaml",
        parts: Some("openapi/main"),
        client: "crates/laserdata-main/src/generated.rs",
        mocks: "crates/laserdata-main-httpmock/src/generated.rs",
        bundle: "openapi/dist/laserdata-main.json",
        bundle_yaml: "openapi/dist/laserdata-main.yaml",
        bundle_31: "openapi/dist/laserdata-main.openapi-3.1.json",
        sandbox_document: "crates/laserdata-sandbox/openapi/laserdata-main.openapi-3.1.json",
        schema_index: "tests/src/main_schemas.rs",
        round_trips: "tests/src/main_round_trips.rs",
        requires_confidence: false,
    },
    Layer {
        name: "supervisor",
        source: "openapi/supervisor.yaml",
        parts: Some("openapi/supervisor"),
        client: "crates/laserdata-supervisor/src/generated.rs",
        mocks: "crates/laserdata-supervisor-httpmock/src/generated.rs",
        bundle: "openapi/dist/laserdata-supervisor.json",
        bundle_yaml: "openapi/dist/laserdata-supervisor.yaml",
        bundle_31: "openapi/dist/laserdata-supervisor.openapi-3.1.json",
        sandbox_document: "crates/laserdata-sandbox/openapi/laserdata-supervisor.openapi-3.1.json",
        schema_index: "tests/src/supervisor_schemas.rs",
        round_trips: "tests/src/supervisor_round_trips.rs",
        requires_confidence: true,
    },
    Layer {
        name: "audit",
        source: "openapi/audit.yaml",
        parts: None,
        client: "crates/laserdata-audit/src/generated.rs",
        mocks: "crates/laserdata-audit-httpmock/src/generated.rs",
        bundle: "openapi/dist/laserdata-audit.json",
        bundle_yaml: "openapi/dist/laserdata-audit.yaml",
        bundle_31: "openapi/dist/laserdata-audit.openapi-3.1.json",
        sandbox_document: "crates/laserdata-sandbox/openapi/laserdata-audit.openapi-3.1.json",
        schema_index: "tests/src/audit_schemas.rs",
        round_trips: "tests/src/audit_round_trips.rs",
        requires_confidence: false,
    },
];
