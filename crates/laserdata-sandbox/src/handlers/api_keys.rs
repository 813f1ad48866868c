//! API keys: created with a secret handed out once, listed, read, restricted by IP, deleted.

// tokio's clock, so that a test on a paused clock decides which requests share a rate-limit window.
use tokio::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Call, page_of, timestamp};
use crate::auth::{ApiKey, Permissions};
use crate::reply::{Reply, field_issue, not_found, problem, validation_failed};
use crate::routing::query_text;
use crate::server::{State, token};
use crate::state::lock;

pub fn create(state: &State, call: &Call<'_>) -> Reply {
    let body = &call.body;
    let (permissions, permissions_body) = match body.get("permissions").filter(|p| !p.is_null()) {
        Some(inline) => {
            let mut list = Vec::new();
            for scope in ["tenant", "division", "environment"] {
                list.extend(strings(&inline[scope]));
            }
            for division in inline["divisions"].as_object().into_iter().flatten().map(|(_, d)| d) {
                for scope in ["permissions", "environment"] {
                    list.extend(strings(&division[scope]));
                }
            }
            let shown = json!({
                "tenant": strings(&inline["tenant"]),
                "division": strings(&inline["division"]),
                "environment": strings(&inline["environment"]),
                "divisions": {},
            });
            (Permissions::Only(list), shown)
        }
        // The sandbox has no roles: a key made with a role gets every permission.
        None => (Permissions::All, json!({"tenant": [], "division": [], "environment": [], "divisions": {}})),
    };
    // The schema says `date-time`; the validator checked it already.
    let Some(expiry_at) = body["expiry_at"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()) else {
        let issue = field_issue("invalid_date_time", "expiry_at is not a date-time.", "expiry_at");
        return validation_failed("The request body has invalid fields.", vec![issue]);
    };
    let id = state.id();
    let secret = format!("ldsk_{}", token());
    let key = ApiKey {
        id,
        name: body["name"].as_str().unwrap_or_default().to_owned(),
        permissions,
        permissions_body,
        division_id: body["division_id"].as_u64(),
        validate_ip: body["validate_ip"].as_bool().unwrap_or(false),
        allowed_ips: strings(&body["allowed_ips"]),
        expiry_at: expiry_at.with_timezone(&Utc),
        created_at: Utc::now(),
        protected: false,
        window: (Instant::now(), 0),
    };
    lock(&state.data).keys.insert(secret.clone(), key);
    Reply::json(201, json!({"id": id, "token": secret}))
}

pub fn list(state: &State, call: &Call<'_>) -> Reply {
    let data = lock(&state.data);
    let mut keys: Vec<&ApiKey> = data.keys.values().collect();
    keys.sort_by_key(|key| key.id);
    let name = query_text(call, "name");
    let items = keys.into_iter().filter(|key| name.is_none_or(|name| key.name == name)).map(info).collect();
    Reply::json(200, page_of(items, call))
}

pub fn get(state: &State, call: &Call<'_>) -> Reply {
    let data = lock(&state.data);
    match data.keys.values().find(|key| key.id == call.id("api_key_id")) {
        Some(key) => Reply::json(200, details(key)),
        None => not_found("API key"),
    }
}

/// The calling key itself.
pub fn context(state: &State, call: &Call<'_>) -> Reply {
    let data = lock(&state.data);
    match call.caller.as_ref().and_then(|caller| data.keys.get(&caller.secret)) {
        Some(key) => Reply::json(200, details(key)),
        None => not_found("API key"),
    }
}

pub fn update_security(state: &State, call: &Call<'_>) -> Reply {
    let mut data = lock(&state.data);
    let Some(key) = data.keys.values_mut().find(|key| key.id == call.id("api_key_id")) else {
        return not_found("API key");
    };
    if let Some(validate) = call.body["validate_ip"].as_bool() {
        key.validate_ip = validate;
    }
    if call.body["allowed_ips"].is_array() {
        key.allowed_ips = strings(&call.body["allowed_ips"]);
    }
    Reply::empty(204)
}

/// Deletes a key; requests signed with it get 401 from then on. The admin key is protected:
/// as the real API refuses to delete a protected resource without a confirmation code (and
/// API keys have none to give), deleting it is refused with 403 `resource_protected`.
pub fn delete(state: &State, call: &Call<'_>) -> Reply {
    let mut data = lock(&state.data);
    let id = call.id("api_key_id");
    let Some((secret, key)) = data.keys.iter().find(|(_, key)| key.id == id) else { return not_found("API key") };
    if key.protected {
        return problem(403, "resource_protected", "The sandbox's admin key is protected and cannot be deleted.");
    }
    let secret = secret.clone();
    data.keys.remove(&secret);
    Reply::empty(204)
}

fn info(key: &ApiKey) -> Value {
    json!({
        "id": key.id,
        "name": key.name,
        "role_id": key.id,
        "role_name": if matches!(key.permissions, Permissions::All) { "admin".to_owned() } else { format!("key-{}", key.id) },
        "division_id": key.division_id,
        "division_name": key.division_id.map(|d| format!("division-{d}")),
        "user_id": 1,
        "validate_ip": key.validate_ip,
        "allowed_ips": key.allowed_ips,
        "expiry_at": timestamp(&key.expiry_at),
        "created_at": timestamp(&key.created_at),
    })
}

fn details(key: &ApiKey) -> Value {
    let mut details = info(key);
    details["permissions"] = key.permissions_body.clone();
    details
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}
