//! What the sandbox remembers: API keys, the tenant's divisions, environments and
//! deployments, answers to replay, deletions of resources answered from examples, and the
//! codes that deleting a protected resource needs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::auth::ApiKey;
use crate::idempotency::Replays;

/// The one tenant of a sandbox, and the division, environment and running deployment it
/// starts with: the ids the documents' examples use. The three are protected (as the examples
/// show them), so that deleting them by mistake needs a code.
pub const TENANT: u64 = 1042;
pub const DIVISION: u64 = 312;
pub const ENVIRONMENT: u64 = 5120;
pub const DEPLOYMENT: u64 = 88012;

/// Locks shared state. A panic while the lock is held cannot make the state unusable: the
/// sandbox answers 500 for that request and carries on with what the state holds (every
/// change is a single insert or field update, so it is never half made).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub struct Division {
    pub name: String,
    pub description: Option<String>,
    pub email: Option<String>,
    pub protected: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub struct Environment {
    pub division: u64,
    pub name: String,
    pub description: Option<String>,
    pub protected: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub struct Deployment {
    pub division: u64,
    pub environment: u64,
    pub name: String,
    pub description: Option<String>,
    pub protected: bool,
    /// `starter`, `managed` or `byoc`.
    pub variant: &'static str,
    pub cloud: Value,
    pub region: Value,
    pub tier: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many times it was read; it runs once this exceeds `Config::provisioning_reads`.
    pub reads: u32,
}

/// A resource that needs a code to be deleted, as `request_resource_code` names it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProtectedResource {
    /// `delete_division`, `delete_environment` or `delete_deployment`.
    pub action: String,
    pub id: u64,
}

pub struct Data {
    /// By secret.
    pub keys: HashMap<String, ApiKey>,
    pub replays: Replays,
    pub divisions: BTreeMap<u64, Division>,
    pub environments: BTreeMap<u64, Environment>,
    pub deployments: BTreeMap<u64, Deployment>,
    /// Paths deleted through operations answered from examples: they answer 404 from then on.
    pub deleted_paths: BTreeSet<String>,
    /// The codes "e-mailed" by `request_resource_code`, in the order they were sent.
    pub codes: Vec<(ProtectedResource, String)>,
}

impl Data {
    pub fn new(admin_key: &str, admin: ApiKey) -> Data {
        let now = Utc::now();
        let mut data = Data {
            keys: HashMap::from([(admin_key.to_owned(), admin)]),
            replays: Replays::default(),
            divisions: BTreeMap::new(),
            environments: BTreeMap::new(),
            deployments: BTreeMap::new(),
            deleted_paths: BTreeSet::new(),
            codes: Vec::new(),
        };
        data.divisions.insert(
            DIVISION,
            Division {
                name: "Platform".into(),
                description: Some("The sandbox's first division.".into()),
                email: Some("platform@example.com".into()),
                protected: true,
                created_at: now,
                updated_at: now,
            },
        );
        data.environments.insert(
            ENVIRONMENT,
            Environment {
                division: DIVISION,
                name: "production".into(),
                description: None,
                protected: true,
                created_at: now,
                updated_at: now,
            },
        );
        data.deployments.insert(
            DEPLOYMENT,
            Deployment {
                division: DIVISION,
                environment: ENVIRONMENT,
                name: "orders-stream".into(),
                description: None,
                protected: true,
                variant: "starter",
                cloud: "aws".into(),
                region: "us-west-1".into(),
                tier: "free".into(),
                created_at: now,
                updated_at: now,
                reads: u32::MAX,
            },
        );
        data
    }

    /// Whether the deletion of a protected resource was confirmed with the code sent for it;
    /// a code is used up by the deletion it confirms.
    pub fn take_code(&mut self, resource: &ProtectedResource, code: Option<&str>) -> bool {
        let Some(code) = code else { return false };
        match self.codes.iter().position(|(named, sent)| named == resource && sent == code) {
            Some(index) => {
                self.codes.remove(index);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_locked_leaves_the_state_usable() {
        let shared = std::sync::Arc::new(Mutex::new(1));
        let holder = shared.clone();
        let panicked = std::thread::spawn(move || {
            let _guard = lock(&holder);
            panic!("a bug while the lock is held");
        })
        .join();
        assert!(panicked.is_err());
        assert!(shared.is_poisoned());
        *lock(&shared) += 1;
        assert_eq!(*lock(&shared), 2);
    }
}
