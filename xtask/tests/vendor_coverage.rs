//! The description covers the vendor's API: compared with the vendor's 0.0.66 documents
//! (`openapi/vendor/`), every difference is a departure recorded with its reason, and every
//! recorded departure still shows. So every operation an API key (or no credential) can call is
//! described under the vendor's operationId, method and path; every session-only one is absent
//! and its omission explained; and nothing is invented.

use std::path::PathBuf;

use xtask::project_root;
use xtask::vendor;

const VENDOR_DOCUMENTS: &str = "openapi/vendor/0.0.66";

fn vendor_documents() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(project_root().join(VENDOR_DOCUMENTS))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_difference_from_the_vendor_is_recorded_and_every_record_still_applies() {
    let outcome = vendor::run(&project_root(), &vendor_documents(), None).unwrap();
    let layers: Vec<(&str, &str)> = outcome
        .documents
        .iter()
        .map(|document| (document.file.file_name().unwrap().to_str().unwrap(), document.layer.as_str()))
        .collect();
    assert_eq!(layers, [("audit.json", "audit"), ("core.json", "main"), ("notifier.json", "main")]);
    let new: Vec<&str> = outcome.new_findings().map(|finding| finding.text.as_str()).collect();
    assert!(
        new.is_empty(),
        "differences from the vendor that openapi/vendor-departures.yaml does not record:\n{}",
        new.join("\n")
    );
    assert!(
        outcome.unused_patterns.is_empty(),
        "recorded departures that the vendor's documents do not show:\n{}",
        outcome.unused_patterns.join("\n")
    );
}

#[test]
fn operations_callable_with_an_api_key_are_all_described() {
    let outcome = vendor::run(&project_root(), &vendor_documents(), None).unwrap();
    for finding in &outcome.findings {
        let text = &finding.text;
        if text.contains(" operation ") {
            // Only session-only operations may be missing, and we add none of our own.
            assert!(text.ends_with(", session): only in the vendor's"), "{text}");
        }
    }
    let described: usize = outcome.documents.iter().map(|document| document.shared).sum();
    assert!(described > 100, "only {described} vendor operations are described");
}
