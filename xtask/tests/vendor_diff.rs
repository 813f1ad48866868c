//! `cargo xtask vendor-diff` on documents made from our own published ones: unchanged they
//! differ in nothing; with planted differences (an added operation, a new field, a new enum
//! value, a removed field, a changed type) exactly those are reported, and as new.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use xtask::layers::LAYERS;
use xtask::project_root;
use xtask::vendor::{self, Outcome};

fn published_31(layer: &str) -> PathBuf {
    let layer = LAYERS.iter().find(|candidate| candidate.name == layer).unwrap();
    project_root().join(layer.bundle_31)
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn new_texts(outcome: &Outcome) -> Vec<String> {
    outcome.new_findings().map(|finding| finding.text.clone()).collect()
}

#[test]
fn our_own_documents_differ_in_nothing_in_either_openapi_version() {
    let files_31: Vec<PathBuf> = LAYERS.iter().map(|layer| published_31(layer.name)).collect();
    // The OpenAPI 3.0.3 form too, where nullable is written differently.
    let files_30: Vec<PathBuf> = LAYERS.iter().map(|layer| project_root().join(layer.bundle)).collect();
    for files in [files_31, files_30] {
        let outcome = vendor::run(&project_root(), &files, None).unwrap();
        let layers: Vec<&str> = outcome.documents.iter().map(|document| document.layer.as_str()).collect();
        assert_eq!(layers, ["main", "supervisor", "audit"]);
        let texts: Vec<&str> = outcome.findings.iter().map(|finding| finding.text.as_str()).collect();
        assert!(texts.is_empty(), "{texts:#?}");
    }
}

/// Our Main document with one of each kind of difference planted, as the vendor might publish it.
fn planted_main() -> Value {
    let mut doc = read(&published_31("main"));
    let widgets = json!({
        "get": {
            "operationId": "get_widgets",
            "tags": ["Tenants"],
            "parameters": [{"name": "tenant_id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64"}}],
            "responses": {"200": {"description": "The widgets.", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "string"}}}}}}
        }
    });
    doc["paths"]["/tenants/{tenant_id}/widgets"] = widgets;
    let schemas = &mut doc["components"]["schemas"];
    schemas["DivisionInfo"]["properties"]["color"] = json!({"type": "string"});
    schemas["DeploymentTier"]["enum"].as_array_mut().unwrap().push(json!("32xlarge"));
    schemas["TenantInfo"]["properties"].as_object_mut().unwrap().shift_remove("remarks").unwrap();
    schemas["EnvironmentInfo"]["properties"]["deployments_count"] = json!({"type": "string"});
    doc
}

const PLANTED: [&str; 5] = [
    "main operation get_widgets (GET /tenants/{tenant_id}/widgets, apikey): only in the vendor's",
    "main schema DeploymentTier enum value 32xlarge: only in the vendor's",
    "main schema DivisionInfo.color: only in the vendor's",
    "main schema EnvironmentInfo.deployments_count type: vendor string, ours integer/int32",
    "main schema TenantInfo.remarks: only in ours",
];

#[test]
fn planted_differences_are_found_and_new_in_json_and_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let doc = planted_main();
    let json_file = dir.path().join("core.json");
    std::fs::write(&json_file, serde_json::to_string(&doc).unwrap()).unwrap();
    let yaml_file = dir.path().join("core.yaml");
    std::fs::write(&yaml_file, xtask::publish::yaml::to_yaml(&doc, "# planted\n")).unwrap();
    for file in [json_file, yaml_file] {
        let outcome = vendor::run(&project_root(), std::slice::from_ref(&file), None).unwrap();
        assert_eq!(outcome.documents[0].layer, "main");
        assert_eq!(new_texts(&outcome), PLANTED, "{}", file.display());
        assert_eq!(outcome.findings.len(), PLANTED.len());
    }
}

/// A difference we made on purpose is recorded, not new: the vendor's plain string where our
/// `Money` says `format: decimal`.
#[test]
fn a_difference_listed_in_the_departures_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = read(&published_31("main"));
    doc["components"]["schemas"]["Money"] = json!({"type": "string"});
    let file = dir.path().join("core.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let outcome = vendor::run(&project_root(), &[file], None).unwrap();
    assert!(new_texts(&outcome).is_empty(), "{:#?}", new_texts(&outcome));
    assert!(!outcome.findings.is_empty());
    for finding in &outcome.findings {
        assert!(finding.text.ends_with("type: vendor string, ours string/decimal"), "{}", finding.text);
        assert!(finding.recorded_by.as_deref().unwrap().starts_with("Main API: Amounts"), "{finding:?}");
    }
}

#[test]
fn a_document_sharing_no_operation_with_any_layer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("other.json");
    let doc = json!({"openapi": "3.1.0", "info": {"title": "x", "version": "1"}, "paths": {
        "/elsewhere": {"get": {"operationId": "nothing_of_ours", "responses": {"200": {"description": "ok"}}}}
    }});
    std::fs::write(&file, doc.to_string()).unwrap();
    let error = vendor::run(&project_root(), std::slice::from_ref(&file), None).unwrap_err();
    assert!(error.contains("cannot tell which layer") && error.contains("--layer"), "{error}");
    // Named explicitly, it is compared: its operation is new, and all of ours are missing from it.
    let outcome = vendor::run(&project_root(), &[file], Some("audit")).unwrap();
    let texts = new_texts(&outcome);
    assert!(texts.contains(&"audit operation nothing_of_ours (GET /elsewhere, public): only in the vendor's".into()));
    assert!(
        texts
            .iter()
            .any(|text| text.starts_with("audit operation get_tenant_audit ") && text.ends_with("only in ours"))
    );
}

#[test]
fn the_command_prints_json_and_fails_on_new_findings_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("core.json");
    std::fs::write(&file, planted_main().to_string()).unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_xtask")).arg("vendor-diff").args(args).arg(&file).output().unwrap()
    };

    let human = run(&[]);
    assert!(human.status.success());
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(text.contains("5 finding(s): 5 new, 0 recorded"), "{text}");
    assert!(text.contains(PLANTED[0]), "{text}");

    let denied = run(&["--deny-new", "--json"]);
    assert_eq!(denied.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&denied.stdout).unwrap();
    let finding =
        report["findings"].as_array().unwrap().iter().find(|f| f["subject"] == "schema DivisionInfo.color").unwrap();
    assert_eq!(finding["kind"], "only_in_vendor");
    assert_eq!(finding["recorded_by"], Value::Null);
    assert_eq!(report["documents"][0]["layer"], "main");

    // Our own document has nothing new: --deny-new passes.
    let ours = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["vendor-diff", "--deny-new"])
        .arg(published_31("main"))
        .output()
        .unwrap();
    assert!(ours.status.success(), "{}", String::from_utf8_lossy(&ours.stdout));
}
