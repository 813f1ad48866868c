//! A LaserData Cloud API on loopback, from in-memory state: the Main API at `/`, the Supervisor
//! API under `/supervisor` and the Audit API under `/audit`.
//!
//! Everything comes from the published OpenAPI 3.1 documents (compiled in): the routes, the
//! parameters and bodies every request is checked against, and the answers of the operations
//! the sandbox keeps no state for. API keys, divisions, environments and deployments are kept
//! in memory and can be created, listed, read, updated and deleted.

// The modules, one job each: `server` (lifecycle), `routing` (a request from arrival to
// answer), `auth` (keys and the rate limit), `validation`, `idempotency` (replays), `handlers`
// (one row per operation with state), `documents` and `state`.
mod auth;
mod documents;
mod handlers;
mod idempotency;
mod reply;
mod routing;
mod server;
mod state;
mod validation;

pub use server::{MAX_BODY_BYTES, Sandbox};

/// Settings of a sandbox.
#[derive(Clone, Debug)]
pub struct Config {
    /// Requests one key may make per second before it gets 429 (default 20; 0 for no limit).
    pub rate_limit_per_second: u32,
    /// How many reads of a new deployment show it still provisioning (default 2).
    pub provisioning_reads: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config { rate_limit_per_second: 20, provisioning_reads: 2 }
    }
}
