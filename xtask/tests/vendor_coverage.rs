//! The description covers the vendor's API: every operation an API key (or no credential) can
//! call is present with the vendor's operationId, method and path; every session-only one is
//! absent and its omission explained; and nothing is invented.

use std::collections::BTreeMap;
use std::path::Path;

use xtask::layers::{LAYERS, SHARED_SOURCE};
use xtask::spec::rules::operations;
use xtask::spec::source::Source;
use xtask::{load_layer, project_root};

struct VendorOperation {
    layer: String,
    method: String,
    path: String,
    auth: String,
}

fn vendor_operations() -> BTreeMap<String, VendorOperation> {
    let text = std::fs::read_to_string(project_root().join("openapi/vendor-operations.tsv")).unwrap();
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let [layer, id, method, path, auth] = fields[..] else { panic!("malformed line: {line}") };
            (
                id.to_owned(),
                VendorOperation { layer: layer.into(), method: method.into(), path: path.into(), auth: auth.into() },
            )
        })
        .collect()
}

/// Which of our layers describes each vendor document: the notifier is served by the Main host.
fn our_layer(vendor_layer: &str) -> &'static str {
    match vendor_layer {
        "core" | "notifier" => "main",
        "audit" => "audit",
        other => panic!("unknown vendor layer {other}"),
    }
}

#[test]
fn every_callable_vendor_operation_is_described_as_the_vendor_names_it() {
    let vendor = vendor_operations();
    let changes = std::fs::read_to_string(project_root().join("openapi/CHANGES-FROM-VENDOR.md")).unwrap();
    let shared = Source::load(&project_root(), Path::new(SHARED_SOURCE)).unwrap();
    let mut problems = Vec::new();
    let mut described = 0;
    for layer in LAYERS {
        let bundle = load_layer(&project_root(), layer, &shared).unwrap_or_else(|p| panic!("{p:?}"));
        let ours: BTreeMap<String, (String, String)> = operations(&bundle.doc)
            .iter()
            .map(|op| (op.operation_id().unwrap().to_owned(), (op.method.to_uppercase(), op.path.to_owned())))
            .collect();
        // The vendor describes no Supervisor API: its layer is ours alone.
        if layer.requires_confidence {
            continue;
        }
        for (id, (method, path)) in &ours {
            match vendor.get(id) {
                None => problems.push(format!("{}: `{id}` is not a vendor operation", layer.name)),
                Some(v) if (v.method.as_str(), v.path.as_str()) != (method.as_str(), path.as_str()) => {
                    problems.push(format!("`{id}`: ours is {method} {path}, the vendor's {} {}", v.method, v.path))
                }
                Some(_) => described += 1,
            }
        }
        for (id, v) in vendor.iter().filter(|(_, v)| our_layer(&v.layer) == layer.name) {
            match (v.auth.as_str(), ours.contains_key(id)) {
                ("session", true) => problems.push(format!("`{id}` needs a browser session and must not be described")),
                ("session", false) if !changes.contains(&format!("`{id}`")) => {
                    problems.push(format!("`{id}` is left out but CHANGES-FROM-VENDOR.md does not say why"))
                }
                ("apikey" | "public", false) => problems.push(format!("`{id}` ({} {}) is missing", v.method, v.path)),
                _ => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(described > 100, "only {described} operations described");
}
