//! Reading, bundling and checking the OpenAPI sources.

pub mod bundle;
pub mod descriptions;
pub mod examples;
pub mod rules;
pub mod source;

use crate::diagnostic::{Diagnostic, tokens};
use bundle::Bundle;

/// Every problem with a bundled document: OpenAPI structure, our rules, property
/// descriptions, and examples.
pub fn check(bundle: &Bundle, layer: &crate::layers::Layer) -> Vec<Diagnostic> {
    let mut problems: Vec<Diagnostic> = check_structure(bundle).into_iter().collect();
    problems.extend(rules::check(bundle, layer));
    problems.extend(descriptions::check(bundle));
    problems.extend(examples::check(bundle));
    problems
}

/// Whether the document is OpenAPI 3.0 as `openapiv3` reads it; if not, where it stops being so.
pub fn check_structure(bundle: &Bundle) -> Option<Diagnostic> {
    let error = serde_path_to_error::deserialize::<_, openapiv3::OpenAPI>(&bundle.doc).err()?;
    let pointer = crate::diagnostic::pointer_of(error.path());
    // Point at the deepest node that exists, so the position is as close as possible.
    let mut existing = String::new();
    for token in tokens(&pointer) {
        let next = crate::diagnostic::push_token(&existing, &token);
        if bundle.doc.pointer(&next).is_none() {
            break;
        }
        existing = next;
    }
    Some(bundle.diagnostic(&existing, format!("not valid OpenAPI 3.0: {}", error.inner())))
}
