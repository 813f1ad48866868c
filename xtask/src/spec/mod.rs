//! Reading, bundling and checking the OpenAPI sources.

pub mod bundle;
pub mod examples;
pub mod rules;
pub mod source;

use crate::diagnostic::{Diagnostic, tokens};
use bundle::Bundle;

/// Every problem with a bundled document: OpenAPI structure, our rules, and examples.
pub fn check(bundle: &Bundle, layer: &crate::layers::Layer) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    if let Err(error) = serde_path_to_error::deserialize::<_, openapiv3::OpenAPI>(&bundle.doc) {
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
        problems.push(bundle.diagnostic(&existing, format!("not valid OpenAPI 3.0: {}", error.inner())));
    }
    problems.extend(rules::check(bundle, layer));
    problems.extend(examples::check(bundle));
    problems
}
