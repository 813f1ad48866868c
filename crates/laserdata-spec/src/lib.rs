//! One model of the LaserData Cloud OpenAPI documents, shared by everything that reads them:
//! the code generator (`xtask`), the loopback sandbox (`laserdata-sandbox`) and the end-to-end
//! tests.
//!
//! - [`pointer`](mod@pointer): JSON pointers (RFC 6901) and URI fragments;
//! - [`refs`]: local `$ref` resolution;
//! - [`operations`]: the operations of a document and the parameters that apply to each;
//! - [`examples`]: every example a document holds, with the schema it must satisfy;
//! - [`openapi31`]: the OpenAPI 3.0 to 3.1 conversion, whose schemas are JSON Schema 2020-12;
//! - [`validate`]: validators of JSON Schema 2020-12 schemas within their document.
//!
//! Documents are plain [`serde_json::Value`]s: bundled (every `$ref` local), as
//! `cargo xtask codegen` writes them to `openapi/dist/`.

pub mod examples;
pub mod openapi31;
pub mod operations;
pub mod pointer;
pub mod refs;
pub mod validate;
