//! The rule that every schema property is described: what counts as described, where a
//! missing description is reported, and the coverage of the real sources.

use std::path::{Path, PathBuf};

use xtask::layers::{LAYERS, SHARED_SOURCE};
use xtask::project_root;
use xtask::spec::bundle::{Bundle, bundle};
use xtask::spec::descriptions::{self, Coverage};
use xtask::spec::source::Source;

const LAYER_FILE: &str = "openapi/layer.yaml";
const SHARED_FILE: &str = "openapi/shared.yaml";

/// A shared file with one described schema and one without a description.
const SHARED: &str = "\
components:
  schemas:
    DescribedId:
      description: Identifies a thing.
      type: integer
      format: int64
    BareId:
      type: integer
      format: int64
";

fn bundle_of(layer: &str) -> Bundle {
    let source = |path: &str, text: &str| Source::parse(PathBuf::from(path), text).unwrap();
    bundle(source(LAYER_FILE, layer), Vec::new(), source(SHARED_FILE, SHARED)).unwrap()
}

/// A layer whose one schema has one property, written as `property` (YAML, indented to fit).
fn layer_with_property(property: &str) -> String {
    format!(
        "openapi: 3.0.3\npaths: {{}}\ncomponents:\n  schemas:\n    Thing:\n      description: A thing.\n      type: object\n      properties:\n        field:\n{property}"
    )
}

fn problems_for(property: &str) -> Vec<String> {
    descriptions::check(&bundle_of(&layer_with_property(property))).iter().map(ToString::to_string).collect()
}

#[test]
fn a_property_without_a_description_is_reported_with_file_line_and_pointer() {
    let problems = problems_for("          type: string\n");
    assert_eq!(
        problems,
        vec![format!(
            "{LAYER_FILE}:9:9: property `field` of `Thing` has no description; say what it holds (a `$ref` to a described schema counts, an array or a map needs its own) (at #/components/schemas/Thing/properties/field)"
        )]
    );
}

#[test]
fn a_blank_description_does_not_count() {
    assert_eq!(problems_for("          type: string\n          description: '  '\n").len(), 1);
}

#[test]
fn a_reference_to_a_described_schema_counts_as_described() {
    let plain = "          $ref: 'shared.yaml#/components/schemas/DescribedId'\n";
    let nullable = "          nullable: true\n          allOf:\n            - $ref: 'shared.yaml#/components/schemas/DescribedId'\n";
    assert_eq!(problems_for(plain), Vec::<String>::new());
    assert_eq!(problems_for(nullable), Vec::<String>::new());
}

#[test]
fn a_reference_to_an_undescribed_schema_does_not_count() {
    let problems = problems_for("          $ref: 'shared.yaml#/components/schemas/BareId'\n");
    assert_eq!(problems.len(), 1, "{problems:?}");
}

#[test]
fn a_description_beside_a_reference_does_not_count() {
    let problems = problems_for(
        "          $ref: 'shared.yaml#/components/schemas/BareId'\n          description: Ignored by OpenAPI 3.0.\n",
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("beside a `$ref`, where OpenAPI 3.0 ignores it"), "{problems:?}");
}

#[test]
fn an_array_of_described_elements_needs_its_own_description() {
    let array =
        "          type: array\n          items:\n            $ref: 'shared.yaml#/components/schemas/DescribedId'\n";
    assert_eq!(problems_for(array).len(), 1);
    let described = format!("          description: The things' ids.\n{array}");
    assert_eq!(problems_for(&described), Vec::<String>::new());
}

#[test]
fn properties_of_inline_body_schemas_and_nested_objects_are_checked() {
    let layer = "\
openapi: 3.0.3
paths:
  /things:
    post:
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                outer:
                  description: Holds an inner object.
                  type: object
                  properties:
                    inner: {type: string}
            example: {outer: {inner: x}}
";
    let problems = descriptions::check(&bundle_of(layer));
    let pointers: Vec<&str> = problems.iter().map(|problem| problem.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        ["/paths/~1things/post/requestBody/content/application~1json/schema/properties/outer/properties/inner"]
    );
    assert_eq!(problems[0].position.map(|position| position.line), Some(15));
}

/// The coverage of each layer's bundled document; run with `--nocapture` to see the figures.
#[test]
fn every_property_of_every_layer_is_described() {
    let root = project_root();
    let shared = Source::load(&root, Path::new(SHARED_SOURCE)).unwrap();
    let mut undescribed = Vec::new();
    for layer in LAYERS {
        let bundle = xtask::load_unchecked(&root, layer, &shared).unwrap();
        let Coverage { total, described, with_own_description } = descriptions::coverage(&bundle);
        println!(
            "{}: {described}/{total} properties described ({with_own_description} by a description of their own)",
            layer.name
        );
        undescribed.extend(descriptions::check(&bundle).iter().map(ToString::to_string));
    }
    assert!(undescribed.is_empty(), "{} undescribed:\n{}", undescribed.len(), undescribed.join("\n"));
}
