//! Breaking-change detection (`cargo xtask diff`) on small in-memory documents: each kind of
//! change, in each direction, is classified as breaking or additive.

use serde_json::{Value, json};
use xtask::diff::{Change, Kind, compare};

/// A document with one operation, `GET /things/{thing_id}` (`get_thing`), plus a `PUT` with a
/// request body, and the `Thing` schema both use.
fn base() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/things/{thing_id}": {
                "parameters": [{"name": "thing_id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64"}}],
                "get": {
                    "operationId": "get_thing",
                    "parameters": [
                        {"name": "verbose", "in": "query", "schema": {"type": "boolean"}},
                        {"$ref": "#/components/parameters/Kind"}
                    ],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "headers": {"ld-request": {"schema": {"type": "string"}}},
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}
                        },
                        "4XX": {"description": "error"}
                    }
                },
                "put": {
                    "operationId": "update_thing",
                    "requestBody": {
                        "required": true,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UpdateThing"}}}
                    },
                    "responses": {"204": {"description": "done"}}
                }
            }
        },
        "components": {
            "parameters": {
                "Kind": {"name": "kind", "in": "query", "schema": {"$ref": "#/components/schemas/ThingKind"}}
            },
            "schemas": {
                "ThingKind": {"type": "string", "enum": ["small", "large"]},
                "Thing": {
                    "type": "object",
                    "required": ["id", "name"],
                    "properties": {
                        "id": {"type": "integer", "format": "int64"},
                        "name": {"type": "string"},
                        "kind": {"$ref": "#/components/schemas/ThingKind"},
                        "parent": {"allOf": [{"$ref": "#/components/schemas/Thing"}], "nullable": true},
                        "tags": {"type": "array", "items": {"type": "string"}}
                    }
                },
                "UpdateThing": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "kind": {"$ref": "#/components/schemas/ThingKind"},
                        "note": {"type": "string", "nullable": true}
                    }
                }
            }
        }
    })
}

/// The changes after `edit`, as (kind, "location: message") pairs.
fn changes(edit: impl FnOnce(&mut Value)) -> Vec<(Kind, String)> {
    let old = base();
    let mut new = base();
    edit(&mut new);
    compare(&old, &new).into_iter().map(|change: Change| (change.kind, change.to_string())).collect()
}

fn at<'a>(doc: &'a mut Value, pointer: &str) -> &'a mut Value {
    doc.pointer_mut(pointer).unwrap_or_else(|| panic!("no {pointer}"))
}

const THING: &str = "/paths/~1things~1{thing_id}";
const THING_SCHEMA: &str = "/components/schemas/Thing";
const UPDATE_SCHEMA: &str = "/components/schemas/UpdateThing";

fn breaking(message: &str) -> (Kind, String) {
    (Kind::Breaking, message.to_owned())
}

fn additive(message: &str) -> (Kind, String) {
    (Kind::Additive, message.to_owned())
}

#[test]
fn identical_documents_have_no_changes() {
    assert_eq!(changes(|_| {}), []);
    // Descriptions, examples, error responses and parameter names in templates are not compared.
    assert_eq!(
        changes(|doc| {
            at(doc, &format!("{THING}/get"))["summary"] = json!("Get a thing");
            at(doc, &format!("{THING}/get/responses"))["5XX"] = json!({"description": "server"});
            at(doc, THING_SCHEMA)["example"] = json!({"id": 1, "name": "n"});
        }),
        []
    );
}

#[test]
fn a_removed_operation_is_breaking_and_a_new_one_additive() {
    assert_eq!(
        changes(|doc| {
            at(doc, THING).as_object_mut().unwrap().remove("put");
        }),
        [breaking("PUT /things/{thing_id}: operation `update_thing` removed")]
    );
    assert_eq!(
        changes(|doc| {
            at(doc, "/paths").as_object_mut().unwrap().insert(
                "/things".into(),
                json!({"get": {"operationId": "get_things", "responses": {"200": {"description": "ok"}}}}),
            );
        }),
        [additive("GET /things: new operation `get_things`")]
    );
}

#[test]
fn a_renamed_path_parameter_is_the_same_operation() {
    let found = changes(|doc| {
        let paths = at(doc, "/paths").as_object_mut().unwrap();
        let mut item = paths.remove("/things/{thing_id}").unwrap();
        item["parameters"][0]["name"] = json!("id");
        paths.insert("/things/{id}".into(), item);
    });
    assert!(found.contains(&breaking("GET /things/{thing_id}: path parameter `thing_id` removed")), "{found:?}");
    assert!(found.contains(&breaking("GET /things/{thing_id}: new required path parameter `id`")), "{found:?}");
    assert!(!found.iter().any(|(_, message)| message.contains("operation")), "{found:?}");
}

#[test]
fn parameters_removed_added_and_made_required() {
    assert_eq!(
        changes(|doc| {
            at(doc, &format!("{THING}/get/parameters")).as_array_mut().unwrap().remove(0);
        }),
        [breaking("GET /things/{thing_id}: query parameter `verbose` removed")]
    );
    assert_eq!(
        changes(|doc| {
            at(doc, &format!("{THING}/get/parameters"))
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "region", "in": "query", "required": true, "schema": {"type": "string"}}));
        }),
        [breaking("GET /things/{thing_id}: new required query parameter `region`")]
    );
    assert_eq!(
        changes(|doc| {
            at(doc, &format!("{THING}/get/parameters"))
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "page", "in": "query", "schema": {"type": "integer"}}));
        }),
        [additive("GET /things/{thing_id}: new optional query parameter `page`")]
    );
    assert_eq!(
        changes(|doc| at(doc, &format!("{THING}/get/parameters/0"))["required"] = json!(true)),
        [breaking("GET /things/{thing_id}: query parameter `verbose` is now required")]
    );
}

#[test]
fn type_and_format_changes_are_breaking() {
    assert_eq!(
        changes(|doc| at(doc, &format!("{THING_SCHEMA}/properties/name"))["type"] = json!("integer")),
        [breaking("GET /things/{thing_id}: response 200: `name`: type changed from string to integer")]
    );
    assert_eq!(
        changes(|doc| at(doc, &format!("{THING}/get/parameters/0/schema"))["type"] = json!("string")),
        [breaking("GET /things/{thing_id}: query parameter `verbose`: type changed from boolean to string")]
    );
    assert_eq!(
        changes(|doc| at(doc, &format!("{THING}/parameters/0/schema"))["format"] = json!("int32")),
        [
            breaking("GET /things/{thing_id}: path parameter `thing_id`: format changed from int64 to int32"),
            breaking("PUT /things/{thing_id}: path parameter `thing_id`: format changed from int64 to int32"),
        ]
    );
    assert_eq!(
        changes(|doc| at(doc, &format!("{THING_SCHEMA}/properties/tags/items"))["type"] = json!("integer")),
        [breaking("GET /things/{thing_id}: response 200: `tags[]`: type changed from string to integer")]
    );
}

#[test]
fn response_fields_removed_added_made_optional_or_nullable() {
    assert_eq!(
        changes(|doc| {
            at(doc, &format!("{THING_SCHEMA}/properties")).as_object_mut().unwrap().remove("tags");
        }),
        [breaking("GET /things/{thing_id}: response 200: response field `tags` removed")]
    );
    assert_eq!(
        changes(|doc| {
            at(doc, &format!("{THING_SCHEMA}/properties"))["created_at"] =
                json!({"type": "string", "format": "date-time"});
        }),
        [additive("GET /things/{thing_id}: response 200: new response field `created_at`")]
    );
    assert_eq!(
        changes(|doc| at(doc, THING_SCHEMA)["required"] = json!(["id"])),
        [breaking("GET /things/{thing_id}: response 200: response field `name` may now be absent")]
    );
    assert_eq!(
        changes(|doc| at(doc, &format!("{THING_SCHEMA}/properties/name"))["nullable"] = json!(true)),
        [breaking("GET /things/{thing_id}: response 200: `name`: may now be null")]
    );
    // The whole answer removed, or a header the client reads.
    assert_eq!(
        changes(|doc| {
            at(doc, &format!("{THING}/get/responses/200")).as_object_mut().unwrap().remove("headers");
        }),
        [breaking("GET /things/{thing_id}: response 200: header `ld-request` removed")]
    );
    assert_eq!(
        changes(|doc| {
            let responses = at(doc, &format!("{THING}/put/responses")).as_object_mut().unwrap();
            responses.remove("204");
            responses.insert("200".into(), json!({"description": "done"}));
        }),
        [
            breaking("PUT /things/{thing_id}: response 204 removed"),
            additive("PUT /things/{thing_id}: new response 200"),
        ]
    );
}

#[test]
fn request_fields_new_required_removed_or_made_required() {
    assert_eq!(
        changes(|doc| {
            at(doc, &format!("{UPDATE_SCHEMA}/properties"))["size"] = json!({"type": "integer"});
            at(doc, UPDATE_SCHEMA)["required"] = json!(["name", "size"]);
        }),
        [breaking("PUT /things/{thing_id}: request body: new required request field `size`")]
    );
    assert_eq!(
        changes(|doc| at(doc, &format!("{UPDATE_SCHEMA}/properties"))["size"] = json!({"type": "integer"})),
        [additive("PUT /things/{thing_id}: request body: new request field `size`")]
    );
    assert_eq!(
        changes(|doc| at(doc, UPDATE_SCHEMA)["required"] = json!(["name", "kind"])),
        [breaking("PUT /things/{thing_id}: request body: request field `kind` is now required")]
    );
    assert_eq!(
        changes(|doc| {
            at(doc, &format!("{UPDATE_SCHEMA}/properties")).as_object_mut().unwrap().remove("note");
        }),
        [breaking("PUT /things/{thing_id}: request body: request field `note` removed")]
    );
    assert_eq!(
        changes(|doc| {
            at(doc, &format!("{UPDATE_SCHEMA}/properties/note")).as_object_mut().unwrap().remove("nullable");
        }),
        [breaking("PUT /things/{thing_id}: request body: `note`: no longer accepts null")]
    );
    assert_eq!(
        changes(|doc| {
            at(doc, &format!("{THING}/get"))["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": {"type": "object"}}}});
        }),
        [breaking("GET /things/{thing_id}: new required request body")]
    );
}

#[test]
fn enums_narrowed_are_breaking_and_widened_additive() {
    // ThingKind is a query parameter, a request field and a response field at once.
    assert_eq!(
        changes(|doc| at(doc, "/components/schemas/ThingKind")["enum"] = json!(["small"])),
        [
            breaking("GET /things/{thing_id}: query parameter `kind`: enum narrowed: \"large\" removed"),
            breaking("GET /things/{thing_id}: response 200: `kind`: enum narrowed: \"large\" removed"),
            breaking("PUT /things/{thing_id}: request body: `kind`: enum narrowed: \"large\" removed"),
        ]
    );
    assert_eq!(
        changes(|doc| at(doc, "/components/schemas/ThingKind")["enum"] = json!(["small", "large", "huge"])),
        [
            additive("GET /things/{thing_id}: query parameter `kind`: enum widened: \"huge\" added"),
            additive("GET /things/{thing_id}: response 200: `kind`: enum widened: \"huge\" added"),
            additive("PUT /things/{thing_id}: request body: `kind`: enum widened: \"huge\" added"),
        ]
    );
    // A free-form request value limited to a list.
    assert_eq!(
        changes(|doc| at(doc, &format!("{UPDATE_SCHEMA}/properties/name"))["enum"] = json!(["a", "b"])),
        [breaking("PUT /things/{thing_id}: request body: `name`: enum narrowed: only listed values are accepted now")]
    );
}

#[test]
fn nullable_references_and_recursion_are_followed() {
    // `parent` is `allOf: [$ref Thing]` + nullable: a change inside Thing is reported once at
    // the top level, and the recursion through `parent` ends.
    let found = changes(|doc| {
        at(doc, &format!("{THING_SCHEMA}/properties")).as_object_mut().unwrap().remove("name");
    });
    assert!(
        found.contains(&breaking("GET /things/{thing_id}: response 200: response field `name` removed")),
        "{found:?}"
    );
    // Making the nullable reference non-nullable is fine for readers.
    assert_eq!(
        changes(|doc| {
            at(doc, &format!("{THING_SCHEMA}/properties/parent")).as_object_mut().unwrap().remove("nullable");
        }),
        [additive("GET /things/{thing_id}: response 200: `parent`: is no longer null")]
    );
}

#[test]
fn one_of_variants_depend_on_the_direction() {
    let with_variants = |doc: &mut Value, variants: Value| {
        at(doc, "/components/schemas")["Small"] = json!({"type": "object", "properties": {"s": {"type": "string"}}});
        at(doc, "/components/schemas")["Large"] = json!({"type": "object", "properties": {"l": {"type": "string"}}});
        at(doc, &format!("{THING_SCHEMA}/properties"))["shape"] = json!({"oneOf": variants.clone()});
        at(doc, &format!("{UPDATE_SCHEMA}/properties"))["shape"] = json!({"oneOf": variants});
    };
    let old = {
        let mut doc = base();
        with_variants(
            &mut doc,
            json!([{"$ref": "#/components/schemas/Small"}, {"$ref": "#/components/schemas/Large"}]),
        );
        doc
    };
    let mut new = base();
    with_variants(&mut new, json!([{"$ref": "#/components/schemas/Small"}]));
    let found: Vec<_> = compare(&old, &new).into_iter().map(|change| (change.kind, change.to_string())).collect();
    assert_eq!(
        found,
        [
            breaking("PUT /things/{thing_id}: request body: `shape`: variant `Large` removed"),
            additive("GET /things/{thing_id}: response 200: `shape`: variant `Large` no longer returned"),
        ]
    );
    let back: Vec<_> = compare(&new, &old).into_iter().map(|change| (change.kind, change.to_string())).collect();
    assert_eq!(
        back,
        [
            breaking("GET /things/{thing_id}: response 200: `shape`: new variant `Large` may be returned"),
            additive("PUT /things/{thing_id}: request body: `shape`: new variant `Large` accepted"),
        ]
    );
}

/// The published documents compared with themselves: nothing changes, and nothing hangs on
/// their recursive schemas.
#[test]
fn published_documents_compare_equal_to_themselves() {
    for layer in xtask::layers::LAYERS {
        let text = std::fs::read_to_string(xtask::project_root().join(layer.bundle)).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(compare(&doc, &doc), [], "{}", layer.bundle);
    }
}

#[test]
fn the_report_lists_breaking_changes_apart() {
    use xtask::diff::{Revision, report};
    let changes = vec![
        Change { kind: Kind::Breaking, location: "main: GET /a".into(), message: "operation `a` removed".into() },
        Change { kind: Kind::Additive, location: "main: GET /b".into(), message: "new operation `b`".into() },
    ];
    let text = report(&Revision::Git("HEAD~1".into()), &Revision::WorkingTree, &changes);
    assert_eq!(
        text,
        "API changes from HEAD~1 to the working tree\n\nBreaking changes (1):\n  - main: GET /a: operation `a` removed\n\nAdditive changes (1):\n  - main: GET /b: new operation `b`\n"
    );
}
