//! API keys: who is calling, what the key may do, and how often it may call.

use std::time::Duration;

// tokio's clock, so that a test on a paused clock decides which requests share a rate-limit window.
use tokio::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::reply::{Reply, problem};
use crate::state::Data;

#[derive(Clone, Debug)]
pub enum Permissions {
    All,
    Only(Vec<String>),
}

impl Permissions {
    pub fn allows(&self, needed: &str) -> bool {
        match self {
            Permissions::All => true,
            // `x:manage` implies `x:read`.
            Permissions::Only(list) => list.iter().any(|p| {
                p == needed || needed.strip_suffix(":read").is_some_and(|base| *p == format!("{base}:manage"))
            }),
        }
    }
}

pub struct ApiKey {
    pub id: u64,
    pub name: String,
    pub permissions: Permissions,
    /// The permissions as `ApiKeyDetails` shows them.
    pub permissions_body: Value,
    pub division_id: Option<u64>,
    pub validate_ip: bool,
    pub allowed_ips: Vec<String>,
    pub expiry_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// The admin key cannot be deleted, as a protected resource of the real API.
    pub protected: bool,
    /// The start of the current one-second window and the requests made in it.
    pub window: (Instant, u32),
}

/// The key a request was made with, once it was found valid.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The key's secret (replays are kept per key).
    pub secret: String,
    pub permissions: Permissions,
    /// The division the key is limited to, if any.
    pub division: Option<u64>,
}

/// Checks a key and counts the request against its rate limit (`rate_limit` requests a
/// second; 0 for no limit).
pub fn authenticate(data: &mut Data, secret: Option<&str>, rate_limit: u32) -> Result<Caller, Reply> {
    let Some(secret) = secret else { return Err(problem(401, "unauthorized", "The ld-api-key header is missing.")) };
    let Some(key) = data.keys.get_mut(secret) else {
        return Err(problem(401, "unauthorized", "The API key is not valid."));
    };
    if key.expiry_at <= Utc::now() {
        return Err(problem(401, "unauthorized", "The API key has expired."));
    }
    if rate_limit > 0 {
        let now = Instant::now();
        if now.duration_since(key.window.0) >= Duration::from_secs(1) {
            key.window = (now, 0);
        }
        key.window.1 = key.window.1.saturating_add(1);
        if key.window.1 > rate_limit {
            return Err(problem(429, "rate_limited", "Too many requests with this key; retry later.")
                .with_header("retry-after", "1"));
        }
    }
    Ok(Caller { secret: secret.to_owned(), permissions: key.permissions.clone(), division: key.division_id })
}
