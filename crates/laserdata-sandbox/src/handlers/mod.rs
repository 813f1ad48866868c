//! What the sandbox does for each operation. The operations it keeps state for are in
//! [`HANDLED`], one row each (operation id, the permission it needs, its handler); every other
//! operation answers as its document shows ([`documented`]).

mod api_keys;
mod deployments;
pub mod documented;
mod tenancy;

use serde_json::Value;

use crate::auth::Caller;
use crate::documents::Operation;
use crate::reply::Reply;
use crate::server::State;
use crate::validation::Parameters;

/// A request that passed every check, for its handler.
pub struct Call<'a> {
    pub operation: &'a Operation,
    /// The path below the layer's prefix.
    pub path: &'a str,
    pub parameters: Parameters,
    /// The JSON body (null when the operation takes none or it was left out).
    pub body: Value,
    /// The key it was made with (none for operations that need no key).
    pub caller: Option<Caller>,
}

impl Call<'_> {
    /// A path parameter that is an id; the router only calls handlers whose paths have it.
    pub fn id(&self, name: &str) -> u64 {
        self.parameters.id(name).unwrap_or_default()
    }
}

pub type Handler = fn(&State, &Call<'_>) -> Reply;

/// An operation the sandbox keeps state for.
pub struct Handled {
    pub id: &'static str,
    /// The permission a key needs for it (every key may call the others).
    pub permission: Option<&'static str>,
    pub handler: Handler,
}

const fn row(id: &'static str, permission: &'static str, handler: Handler) -> Handled {
    Handled { id, permission: Some(permission), handler }
}

pub static HANDLED: &[Handled] = &[
    row("create_api_key", "api_key:manage", api_keys::create),
    row("get_api_keys", "api_key:read", api_keys::list),
    row("get_api_key", "api_key:read", api_keys::get),
    Handled { id: "get_api_key_context", permission: None, handler: api_keys::context },
    row("update_api_key_security", "api_key:manage", api_keys::update_security),
    row("delete_api_key", "api_key:manage", api_keys::delete),
    Handled { id: "create_division", permission: None, handler: tenancy::create_division },
    Handled { id: "get_divisions", permission: None, handler: tenancy::list_divisions },
    Handled { id: "get_division", permission: None, handler: tenancy::get_division },
    Handled { id: "update_division", permission: None, handler: tenancy::update_division },
    Handled { id: "delete_division", permission: None, handler: tenancy::delete_division },
    Handled { id: "create_environment", permission: None, handler: tenancy::create_environment },
    row("get_environments", "environment:read", tenancy::list_environments),
    row("get_environment", "environment:read", tenancy::get_environment),
    Handled { id: "update_environment", permission: None, handler: tenancy::update_environment },
    Handled { id: "delete_environment", permission: None, handler: tenancy::delete_environment },
    Handled { id: "request_resource_code", permission: None, handler: tenancy::request_resource_code },
    row("deploy_starter", "deployment:manage", deployments::deploy_starter),
    row("deploy_to_managed_cloud", "deployment:manage", deployments::deploy_to_managed_cloud),
    row("deploy_to_your_own_cloud", "deployment:manage", deployments::deploy_to_your_own_cloud),
    row("get_deployments", "deployment:read", deployments::list),
    row("get_deployment", "deployment:read", deployments::get),
    row("update_deployment", "deployment:manage", deployments::update),
    row("delete_deployment", "deployment:manage", deployments::delete),
    row("get_deployment_credentials", "deployment:credentials:read", deployments::credentials),
];

pub fn find(operation_id: &str) -> Option<&'static Handled> {
    HANDLED.iter().find(|handled| handled.id == operation_id)
}

/// One page of `items`: the `Paged_*` envelope every list answers with.
pub fn page_of(items: Vec<Value>, call: &Call<'_>) -> Value {
    let number = |name: &str, default: u64| {
        call.parameters.query(name).and_then(Value::as_u64).filter(|n| *n > 0).unwrap_or(default)
    };
    let (page, results) = (number("page", 1), number("results", 10));
    let total = items.len() as u64;
    // Checked: a page number as large as the schema allows must not overflow.
    let skip = page.saturating_sub(1).checked_mul(results).and_then(|skip| usize::try_from(skip).ok());
    let take = usize::try_from(results).unwrap_or(usize::MAX);
    let items: Vec<Value> = match skip {
        Some(skip) => items.into_iter().skip(skip).take(take).collect(),
        None => Vec::new(),
    };
    serde_json::json!({ "items": items, "page": page, "total_results": total, "total_pages": total.div_ceil(results) })
}

/// RFC 3339 with seconds, as the documents show times.
pub fn timestamp(time: &chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A copy of the example the operation documents, to build an answer on (so that every
/// field the schema requires is there).
pub fn example_of(state: &State, operation_id: &str) -> Value {
    let operation = state.documents.operations.iter().find(|operation| operation.id == operation_id);
    operation
        .and_then(|operation| operation.success.example.clone())
        .unwrap_or_else(|| Value::Object(Default::default()))
}
