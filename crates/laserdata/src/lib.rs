//! Rust client for the LaserData Cloud API (managed Apache Iggy).
//!
//! The clients of each API layer are generated from this project's OpenAPI description; this
//! crate builds them with authentication and sane timeouts, turns every failure into one
//! [`Error`], and walks paged lists as streams.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use futures::TryStreamExt;
//! use laserdata::{PagedStream, TypedErrors};
//!
//! // The key comes from LD_API_KEY; LD_API_URL may point the client elsewhere.
//! let client = laserdata::ClientBuilder::from_env().build()?;
//! let tenant_id = 1042;
//!
//! let me = client.main().get_api_key_context().tenant_id(tenant_id).send().typed_errors().await?;
//! println!("signed in as key {} with role {}", *me.id, *me.role_name);
//!
//! let keys: Vec<_> = client.main().get_api_keys().tenant_id(tenant_id).stream().try_collect().await?;
//! println!("{} keys in the tenant", keys.len());
//! # Ok(()) }
//! ```
//!
//! # Retries and idempotency
//!
//! Every call of every layer goes through one hook that retries transient failures
//! (connection failures and resets, timeouts, 408, 429, 502, 503, 504), but only when sending
//! the request again cannot do the work twice: GET, PUT and DELETE always, POST and PATCH only
//! with an `idempotency-key`. The client adds a fresh UUID v4 key to every POST and PATCH of an
//! operation the server honours keys on and keeps it for that call's retries (a key you set
//! with `.idempotency_key(..)` is kept as is); the server then replays its first answer rather
//! than acting twice, and [`ResponseExt::idempotent_replayed`] tells you so.
//!
//! Before a retry the client waits as long as the server's `retry-after` says (seconds or an
//! HTTP date), or else an exponential backoff with full jitter. It gives up after
//! [`RetryPolicy::max_attempts`] attempts or as soon as the next wait would end beyond the
//! call's [`RetryPolicy::budget`]: a `retry-after` longer than the budget fails the call at once
//! with [`Error::RateLimited`]. [`Error::is_retryable`] says which failures the policy retries.
//!
//! ```no_run
//! use std::time::Duration;
//! use laserdata::RetryPolicy;
//!
//! # fn demo() -> Result<(), laserdata::BuildError> {
//! let client = laserdata::ClientBuilder::from_env()
//!     .retry(RetryPolicy::default().with_max_attempts(5).with_budget(Duration::from_secs(30)))
//!     .timeout(Duration::from_secs(10)) // each attempt
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! The waits come from the client's [`clock`]: tokio's, so that a test under a paused tokio
//! clock (`#[tokio::test(start_paused = true)]`) runs them without waiting, or one you pass to
//! [`ClientBuilder::clock`], such as a [`clock::RecordingClock`], which skips every wait and
//! lists them. [`RetryPolicy::with_jitter_seed`] makes the backoff's jitter repeatable.
//!
//! Security: the API key is sent only over https (plain http is accepted for loopback
//! addresses, for local sandboxes) and never appears in `Debug` or `Display` output or in
//! errors. Secrets the API hands out, such as a new key's token, are [`SecretString`]s, which
//! show as `[redacted]` until read with [`SecretString::expose`].

mod call;
mod config;
mod created;
mod error;
pub mod paging;
pub mod supervisor_ext;

use std::fmt;

use laserdata_core::hooks::ClientState;

pub use call::TypedErrors;
pub use config::{
    API_KEY_ENV, API_URL_ENV, AUDIT_URL_ENV, BuildError, ClientBuilder, DEFAULT_AUDIT_URL, DEFAULT_MAIN_URL,
    install_crypto_provider,
};
pub use created::{CreatedIds, ResponseExt};
pub use error::{ApiError, Error, FieldIssue, InvalidResponse, Problem, RAW_BODY_LIMIT, Response};
pub use laserdata_core::SecretString;
/// The clock behind retries and waits, and a recording one for tests.
pub use laserdata_core::clock;
pub use laserdata_core::retry::RetryPolicy;
pub use paging::PagedStream;
pub use supervisor_ext::{ActivityWait, StartedActivity, download_snapshot, run_activity, wait_for_activity};

/// The generated Audit API client and its types.
pub use laserdata_audit as audit;
/// The generated Main API client and its types (`laserdata::main::types::ApiKeyInfo`, ...).
pub use laserdata_main as main;
/// The generated Supervisor API client and its types; get a client with [`Client::supervisor`].
pub use laserdata_supervisor as supervisor;

/// A configured connection to LaserData Cloud: one HTTP client (connection pool, key,
/// timeouts) shared by the client of every API layer. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    main: laserdata_main::Client,
    audit: laserdata_audit::Client,
    /// The HTTP client (key, timeouts, connection pool) every layer's client shares.
    http: reqwest::Client,
    /// The retry policy every layer's client shares.
    state: ClientState,
}

impl Client {
    /// Settings with nothing filled in but the defaults; see also [`ClientBuilder::from_env`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    pub(crate) fn from_parts(http: reqwest::Client, state: ClientState, main_url: String, audit_url: String) -> Self {
        Client {
            main: laserdata_main::Client::new_with_client(&main_url, http.clone(), state.clone()),
            audit: laserdata_audit::Client::new_with_client(&audit_url, http.clone(), state.clone()),
            http,
            state,
        }
    }

    /// The Main API: tenants, divisions, environments, deployments, API keys, billing, ...
    pub fn main(&self) -> &laserdata_main::Client {
        &self.main
    }

    /// The Audit API: the tenant's audit log.
    pub fn audit(&self) -> &laserdata_audit::Client {
        &self.audit
    }

    /// A client for the Supervisor API at `supervisor_url`, with the same key, timeouts and
    /// connection pool. The URL must be https (or plain http on loopback), as for the Main API.
    pub fn supervisor(&self, supervisor_url: &str) -> Result<laserdata_supervisor::Client, BuildError> {
        let url = config::checked_base_url(supervisor_url)?;
        Ok(laserdata_supervisor::Client::new_with_client(&url, self.http.clone(), self.state.clone()))
    }

    /// The Supervisor client for a deployment, from the `supervisor_url` the Main API returned
    /// with it (in `get_deployment`, `get_deployments` or the tenant structure).
    pub fn supervisor_for(&self, deployment: &impl HasSupervisor) -> Result<laserdata_supervisor::Client, BuildError> {
        let url = deployment.supervisor_url().ok_or(BuildError::NoSupervisor)?;
        self.supervisor(url)
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("main_url", &progenitor_client::ClientInfo::baseurl(&self.main))
            .field("audit_url", &progenitor_client::ClientInfo::baseurl(&self.audit))
            .finish_non_exhaustive()
    }
}

/// A Main API answer that names the Supervisor of a deployment.
pub trait HasSupervisor {
    /// The deployment's `supervisor_url`; `None` while the deployment has none yet.
    fn supervisor_url(&self) -> Option<&str>;
}

macro_rules! has_supervisor {
    ($($ty:ty),*) => {$(
        impl HasSupervisor for $ty {
            fn supervisor_url(&self) -> Option<&str> {
                self.supervisor_url.as_deref()
            }
        }
    )*};
}

has_supervisor!(main::types::DeploymentInfo, main::types::DeploymentDetails, main::types::DeploymentStructure);

/// The README's examples are compiled as doc tests so that they cannot rot.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
