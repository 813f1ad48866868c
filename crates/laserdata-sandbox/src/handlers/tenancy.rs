//! The tenant's divisions and environments, and the codes that deleting a protected one needs.

use chrono::Utc;
use serde_json::{Value, json};

use super::{Call, example_of, page_of, timestamp};
use crate::reply::{Reply, not_found, problem};
use crate::routing::query_text;
use crate::server::State;
use crate::state::{Data, Division, Environment, ProtectedResource, lock};

/// A field of an update body: absent and null both keep the current value.
fn text(body: &Value, field: &str) -> Option<String> {
    body[field].as_str().map(str::to_owned)
}

fn division_json(state: &State, operation_id: &str, id: u64, division: &Division) -> Value {
    let mut out = example_of(state, operation_id);
    if let Some(first) = out.get("items").and_then(|items| items.get(0)).cloned() {
        out = first;
    }
    out["id"] = json!(id);
    out["name"] = json!(division.name);
    out["protected"] = json!(division.protected);
    out["created_at"] = json!(timestamp(&division.created_at));
    out["updated_at"] = json!(timestamp(&division.updated_at));
    if out.get("email").is_some() {
        out["description"] = json!(division.description.clone().unwrap_or_default());
        out["email"] = json!(division.email.clone().unwrap_or_else(|| format!("division-{id}@sandbox.example")));
    }
    out
}

pub fn create_division(state: &State, call: &Call<'_>) -> Reply {
    let now = Utc::now();
    let id = state.id();
    let division = Division {
        name: text(&call.body, "name").unwrap_or_default(),
        description: text(&call.body, "description"),
        email: text(&call.body, "email"),
        protected: call.body["protected"].as_bool().unwrap_or(false),
        created_at: now,
        updated_at: now,
    };
    lock(&state.data).divisions.insert(id, division);
    Reply::empty(201).with_header("ld-division", id.to_string())
}

pub fn list_divisions(state: &State, call: &Call<'_>) -> Reply {
    let data = lock(&state.data);
    let items = data.divisions.iter().map(|(id, d)| division_json(state, "get_divisions", *id, d)).collect();
    Reply::json(200, page_of(items, call))
}

pub fn get_division(state: &State, call: &Call<'_>) -> Reply {
    let id = call.id("division_id");
    match lock(&state.data).divisions.get(&id) {
        Some(division) => Reply::json(200, division_json(state, "get_division", id, division)),
        None => not_found("division"),
    }
}

pub fn update_division(state: &State, call: &Call<'_>) -> Reply {
    let mut data = lock(&state.data);
    let Some(division) = data.divisions.get_mut(&call.id("division_id")) else { return not_found("division") };
    let body = &call.body;
    if let Some(name) = text(body, "name") {
        division.name = name;
    }
    if let Some(description) = text(body, "description") {
        division.description = Some(description);
    }
    if let Some(email) = text(body, "email") {
        division.email = Some(email);
    }
    if let Some(protected) = body["protected"].as_bool() {
        division.protected = protected;
    }
    division.updated_at = Utc::now();
    Reply::empty(204)
}

/// Deletes a division with its environments and their deployments; a protected one only with
/// the code `request_resource_code` sent for it.
pub fn delete_division(state: &State, call: &Call<'_>) -> Reply {
    let id = call.id("division_id");
    let mut data = lock(&state.data);
    let Some(protected) = data.divisions.get(&id).map(|found| found.protected) else { return not_found("division") };
    if let Some(refusal) = unconfirmed(&mut data, call, "division", id, protected) {
        return refusal;
    }
    data.divisions.remove(&id);
    let environments: Vec<u64> =
        data.environments.iter().filter(|(_, e)| e.division == id).map(|(environment, _)| *environment).collect();
    for environment in environments {
        data.environments.remove(&environment);
    }
    data.deployments.retain(|_, deployment| deployment.division != id);
    Reply::empty(204)
}

/// The refusal to delete a protected `what` (`division`, ...) without the confirmation code
/// sent for it; `None` when it may be deleted (the code, if any, is used up).
pub fn unconfirmed(data: &mut Data, call: &Call<'_>, what: &str, id: u64, protected: bool) -> Option<Reply> {
    let resource = ProtectedResource { action: format!("delete_{what}"), id };
    if !protected || data.take_code(&resource, query_text(call, "code")) {
        return None;
    }
    Some(problem(
        403,
        "resource_protected",
        &format!("The {what} is protected: pass the code from request_resource_code as `code` to delete it."),
    ))
}

fn environment_json(
    state: &State,
    operation_id: &str,
    id: u64,
    environment: &Environment,
    deployments: usize,
) -> Value {
    let mut out = example_of(state, operation_id);
    if let Some(first) = out.get("items").and_then(|items| items.get(0)).cloned() {
        out = first;
    }
    out["id"] = json!(id);
    out["name"] = json!(environment.name);
    out["protected"] = json!(environment.protected);
    out["deployments_count"] = json!(deployments);
    out["created_at"] = json!(timestamp(&environment.created_at));
    out["updated_at"] = json!(timestamp(&environment.updated_at));
    if out.get("description").is_some() {
        out["description"] = json!(environment.description.clone().unwrap_or_default());
    }
    out
}

pub fn create_environment(state: &State, call: &Call<'_>) -> Reply {
    let now = Utc::now();
    let id = state.id();
    let environment = Environment {
        division: call.id("division_id"),
        name: text(&call.body, "name").unwrap_or_default(),
        description: text(&call.body, "description"),
        protected: call.body["protected"].as_bool().unwrap_or(false),
        created_at: now,
        updated_at: now,
    };
    lock(&state.data).environments.insert(id, environment);
    Reply::empty(201).with_header("ld-environment", id.to_string())
}

pub fn list_environments(state: &State, call: &Call<'_>) -> Reply {
    let data = lock(&state.data);
    let division = call.id("division_id");
    let items = data
        .environments
        .iter()
        .filter(|(_, environment)| environment.division == division)
        .map(|(id, environment)| {
            let count = data.deployments.values().filter(|d| d.environment == *id).count();
            environment_json(state, "get_environments", *id, environment, count)
        })
        .collect();
    Reply::json(200, page_of(items, call))
}

pub fn get_environment(state: &State, call: &Call<'_>) -> Reply {
    let data = lock(&state.data);
    let id = call.id("environment_id");
    match data.environments.get(&id) {
        Some(environment) => {
            let count = data.deployments.values().filter(|d| d.environment == id).count();
            Reply::json(200, environment_json(state, "get_environment", id, environment, count))
        }
        None => not_found("environment"),
    }
}

pub fn update_environment(state: &State, call: &Call<'_>) -> Reply {
    let mut data = lock(&state.data);
    let Some(environment) = data.environments.get_mut(&call.id("environment_id")) else {
        return not_found("environment");
    };
    if let Some(name) = text(&call.body, "name") {
        environment.name = name;
    }
    if let Some(description) = text(&call.body, "description") {
        environment.description = Some(description);
    }
    if let Some(protected) = call.body["protected"].as_bool() {
        environment.protected = protected;
    }
    environment.updated_at = Utc::now();
    Reply::empty(204)
}

/// Deletes an environment with its deployments; a protected one only with its code.
pub fn delete_environment(state: &State, call: &Call<'_>) -> Reply {
    let id = call.id("environment_id");
    let mut data = lock(&state.data);
    let Some(protected) = data.environments.get(&id).map(|found| found.protected) else {
        return not_found("environment");
    };
    if let Some(refusal) = unconfirmed(&mut data, call, "environment", id, protected) {
        return refusal;
    }
    data.environments.remove(&id);
    data.deployments.retain(|_, deployment| deployment.environment != id);
    Reply::empty(204)
}

/// Sends a one-time code for deleting a protected division, environment or deployment. The
/// real API e-mails it; the sandbox keeps it for `Sandbox::sent_codes` (and prints it when
/// run from the command line). Deleting the tenant is possible in the console only.
pub fn request_resource_code(state: &State, call: &Call<'_>) -> Reply {
    let action = call.body["action"]["action_type"].as_str().unwrap_or_default().to_owned();
    let payload = &call.body["action"]["payload"];
    let id = |name: &str| payload[name].as_u64();
    let mut data = lock(&state.data);
    if id("tenant_id") != Some(crate::state::TENANT) {
        return not_found("tenant");
    }
    let found = match action.as_str() {
        "delete_division" => id("division_id").filter(|d| data.divisions.contains_key(d)),
        "delete_environment" => id("environment_id").filter(|e| {
            data.environments.get(e).is_some_and(|environment| Some(environment.division) == id("division_id"))
        }),
        "delete_deployment" => id("deployment_id").filter(|d| {
            data.deployments.get(d).is_some_and(|deployment| {
                Some(deployment.division) == id("division_id") && Some(deployment.environment) == id("environment_id")
            })
        }),
        _ => return problem(403, "console_only", "The tenant can be deleted in the console only."),
    };
    let Some(id) = found else { return not_found("resource") };
    let code = format!("{:06}", fastrand::u32(0..1_000_000));
    data.codes.push((ProtectedResource { action, id }, code));
    Reply::empty(204)
}
