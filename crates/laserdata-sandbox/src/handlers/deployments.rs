//! Deployments: created (starter, managed cloud, your own cloud), provisioning for a few
//! reads then running, listed, read, updated and deleted; the Iggy login of a running one.

use chrono::Utc;
use serde_json::{Value, json};

use super::tenancy::unconfirmed;
use super::{Call, example_of, page_of, timestamp};
use crate::documents::SUPERVISOR_PREFIX;
use crate::reply::{Reply, not_found, problem};
use crate::server::{State, token};
use crate::state::{Deployment, Environment, lock};

fn create(state: &State, call: &Call<'_>, variant: &'static str, environment: u64) -> u64 {
    let now = Utc::now();
    let id = state.id();
    let body = &call.body;
    let name = body["deployment_name"].as_str().or(body["name"].as_str());
    let deployment = Deployment {
        division: call.id("division_id"),
        environment,
        name: name.map_or_else(|| format!("{variant}-{id}"), str::to_owned),
        description: None,
        protected: body["protected"].as_bool().unwrap_or(false),
        variant,
        cloud: body["cloud"].clone(),
        region: body["region"].clone(),
        tier: if variant == "starter" { json!("free") } else { body["tier"].clone() },
        created_at: now,
        updated_at: now,
        reads: 0,
    };
    lock(&state.data).deployments.insert(id, deployment);
    id
}

/// The quick start: a free deployment, in the environment named or in a new one.
pub fn deploy_starter(state: &State, call: &Call<'_>) -> Reply {
    let division = call.id("division_id");
    let named = call.body["environment_id"].as_u64();
    let environment = {
        let mut data = lock(&state.data);
        match named {
            Some(id) if data.environments.get(&id).is_some_and(|e| e.division == division) => id,
            Some(_) => return not_found("environment"),
            None => {
                let now = Utc::now();
                let id = state.id();
                let name =
                    call.body["environment_name"].as_str().map_or_else(|| format!("starter-{id}"), str::to_owned);
                let environment = Environment {
                    division,
                    name,
                    description: None,
                    protected: false,
                    created_at: now,
                    updated_at: now,
                };
                data.environments.insert(id, environment);
                id
            }
        }
    };
    let id = create(state, call, "starter", environment);
    Reply::empty(202)
        .with_header("ld-environment", environment.to_string())
        .with_header("ld-deployment", id.to_string())
}

pub fn deploy_to_managed_cloud(state: &State, call: &Call<'_>) -> Reply {
    let id = create(state, call, "managed", call.id("environment_id"));
    Reply::empty(202).with_header("ld-deployment", id.to_string())
}

pub fn deploy_to_your_own_cloud(state: &State, call: &Call<'_>) -> Reply {
    let id = create(state, call, "byoc", call.id("environment_id"));
    Reply::empty(202).with_header("ld-deployment", id.to_string())
}

/// A deployment as the documents show it, built on the operation's example. The documents have
/// no status field: a deployment is provisioning while its `supervisor_url` is null, and
/// running once it names one.
fn deployment_json(state: &State, operation_id: &str, id: u64, deployment: &Deployment) -> Value {
    let mut out = example_of(state, operation_id);
    if let Some(first) = out.get("items").and_then(|items| items.get(0)).cloned() {
        out = first;
    }
    let running = deployment.reads > state.config.provisioning_reads;
    let set = |out: &mut Value, field: &str, value: &Value| {
        if !value.is_null() {
            out[field] = value.clone();
        }
    };
    out["id"] = json!(id);
    out["name"] = json!(deployment.name);
    out["code"] = json!(format!("sbx{id}"));
    out["domain"] = json!("127.0.0.1");
    // Starters run on LaserData's infrastructure, shared, on one node.
    out["variant"] = json!(if deployment.variant == "byoc" { "byoc" } else { "managed" });
    if deployment.variant == "starter" {
        out["shared"] = json!(true);
        out["dedicated"] = json!(false);
        out["nodes_count"] = json!(1);
    }
    set(&mut out, "cloud", &deployment.cloud);
    set(&mut out, "region", &deployment.region);
    set(&mut out, "tier", &deployment.tier);
    out["protected"] = json!(deployment.protected);
    out["created_at"] = json!(timestamp(&deployment.created_at));
    out["updated_at"] = json!(timestamp(&deployment.updated_at));
    if let Some(object) = out.as_object_mut() {
        match &deployment.description {
            Some(description) => drop(object.insert("description".into(), json!(description))),
            None => drop(object.shift_remove("description")),
        }
    }
    out["supervisor_url"] = if running { json!(format!("{}{SUPERVISOR_PREFIX}", state.base_url)) } else { Value::Null };
    out
}

pub fn list(state: &State, call: &Call<'_>) -> Reply {
    let data = lock(&state.data);
    let environment = call.id("environment_id");
    let items = data
        .deployments
        .iter()
        .filter(|(_, deployment)| deployment.environment == environment)
        .map(|(id, deployment)| deployment_json(state, "get_deployments", *id, deployment))
        .collect();
    Reply::json(200, page_of(items, call))
}

pub fn get(state: &State, call: &Call<'_>) -> Reply {
    let mut data = lock(&state.data);
    let id = call.id("deployment_id");
    let Some(deployment) = data.deployments.get_mut(&id) else { return not_found("deployment") };
    deployment.reads = deployment.reads.saturating_add(1);
    Reply::json(200, deployment_json(state, "get_deployment", id, deployment))
}

pub fn update(state: &State, call: &Call<'_>) -> Reply {
    let mut data = lock(&state.data);
    let Some(deployment) = data.deployments.get_mut(&call.id("deployment_id")) else {
        return not_found("deployment");
    };
    if let Some(description) = call.body["description"].as_str() {
        deployment.description = Some(description.to_owned());
    }
    if let Some(protected) = call.body["protected"].as_bool() {
        deployment.protected = protected;
    }
    deployment.updated_at = Utc::now();
    Reply::empty(200)
}

/// Starts deleting a deployment (it is gone at once in the sandbox); a protected one only
/// with its code.
pub fn delete(state: &State, call: &Call<'_>) -> Reply {
    let id = call.id("deployment_id");
    let mut data = lock(&state.data);
    let Some(protected) = data.deployments.get(&id).map(|found| found.protected) else {
        return not_found("deployment");
    };
    if let Some(refusal) = unconfirmed(&mut data, call, "deployment", id, protected) {
        return refusal;
    }
    data.deployments.remove(&id);
    Reply::empty(202)
}

/// The Supervisor's Iggy login for a running deployment.
pub fn credentials(state: &State, call: &Call<'_>) -> Reply {
    let id = call.id("deployment_id");
    let data = lock(&state.data);
    match data.deployments.get(&id) {
        Some(deployment) if deployment.reads > state.config.provisioning_reads => {
            Reply::json(200, json!({"username": "iggy", "password": format!("sbx-{id}-{}", &token()[..16])}))
        }
        Some(_) => problem(409, "deployment_not_ready", "The deployment is still provisioning."),
        None => not_found("deployment"),
    }
}
