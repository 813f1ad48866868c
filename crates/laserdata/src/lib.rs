//! Rust client for the LaserData Cloud API (managed Apache Iggy).
//!
//! The clients of each API layer are generated from this project's OpenAPI description; this
//! crate builds them with authentication and sane timeouts, and adds what takes more than one
//! call: paging streams, Supervisor discovery, activity waits and downloads. Every call of
//! every layer fails with one [`Error`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use futures::TryStreamExt;
//! use laserdata::PagedStream;
//!
//! // The key comes from LD_API_KEY; LD_API_URL may point the client elsewhere.
//! let client = laserdata::ClientBuilder::from_env().build()?;
//!
//! let me = client.main().get_api_key_context().tenant_id(1042).send().await?;
//! println!("signed in as key {} with role {}", me.id, me.role_name);
//!
//! let mut keys = client.main().get_api_keys().tenant_id(1042).stream();
//! while let Some(key) = keys.try_next().await? {
//!     println!("{}: {}", key.id, key.name);
//! }
//! # Ok(()) }
//! ```
//!
//! # Layers and types
//!
//! [`main`], [`supervisor`] and [`audit`] hold each layer's generated client and its request
//! and response types (`laserdata::main::types::DeployStarter`, ...). The types every layer
//! shares are one type wherever they appear: a [`DeploymentId`](main::types::DeploymentId)
//! read from the Main API goes to the Supervisor as it is. Ids are their own types: an integer
//! converts into any of them, a string or an id of another kind does not compile:
//!
//! ```compile_fail,E0277
//! # async fn demo(client: laserdata::Client) -> Result<(), laserdata::Error> {
//! client.main().get_api_keys().tenant_id("1042").send().await?;
//! # Ok(()) }
//! ```
//!
//! ```compile_fail,E0277
//! # async fn demo(client: laserdata::Client, division: laserdata::main::types::DivisionId) -> Result<(), laserdata::Error> {
//! client.main().get_api_keys().tenant_id(division).send().await?;
//! # Ok(()) }
//! ```
//!
//! Request bodies take their type or its builder; a body that is one of several shapes (such
//! as [`CreateApiKey`](main::types::CreateApiKey): a role, or inline permissions) takes the
//! builder of any of them. A builder missing a required field fails the call with
//! [`Error::InvalidRequest`] before anything is sent.
//!
//! Each layer is a cargo feature (`main`, `supervisor`, `audit`, all on by default): a program
//! that never calls a layer can leave its generated crate out of the build. The builders of
//! the types only answers hold (a `DeploymentDetails`, a page of keys) need the
//! `answer-builders` feature: a program reads answers and never builds one, and those builders
//! are a third of each layer's code. Tests that make answers up enable it in
//! `[dev-dependencies]` (the `-httpmock` crates enable it for theirs).
//!
//! # Errors
//!
//! `send()` fails with [`Error`]: [`Error::Api`] for an error answer (its status, the decoded
//! problem document with `code`, `reason` and every `field_issues` entry, or the raw body cut
//! to 4 KiB when it is not one), [`Error::RateLimited`] (429, with `retry_after`),
//! [`Error::IdempotencyConflict`], [`Error::Transport`], [`Error::Timeout`],
//! [`Error::InvalidResponse`] (a success whose body does not decode) and
//! [`Error::InvalidRequest`]. Every kind that came from an answer keeps its status and
//! `ld-request` id.
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
//! # Timeouts
//!
//! Three bounds, each set in one place: [`ClientBuilder::connect_timeout`] limits opening a
//! connection (default 10 s); [`RetryPolicy::attempt_timeout`] limits one attempt, from
//! sending the request to the end of the answer (default 30 s); [`RetryPolicy::budget`] limits
//! the whole call, every attempt and wait included (default 60 s). An attempt never outlasts
//! what is left of the budget. A call that runs out of time fails with [`Error::Timeout`].
//!
//! ```no_run
//! use std::time::Duration;
//! use laserdata::RetryPolicy;
//!
//! # fn demo() -> Result<(), laserdata::BuildError> {
//! let client = laserdata::ClientBuilder::from_env()
//!     .retry(
//!         RetryPolicy::default()
//!             .with_max_attempts(5)
//!             .with_budget(Duration::from_secs(30))
//!             .with_attempt_timeout(Duration::from_secs(10)),
//!     )
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! The waits come from the client's [`clock`]: tokio's, so that a test under a paused tokio
//! clock (`#[tokio::test(start_paused = true)]`) runs them without waiting, or one you pass to
//! [`ClientBuilder::clock`], such as a [`clock::RecordingClock`], which skips every wait and
//! lists them. [`RetryPolicy::with_jitter_seed`] makes the backoff's jitter repeatable.
//!
//! # Security
//!
//! The API key is sent only over https (plain http is accepted for loopback addresses, for
//! local sandboxes) and never appears in `Debug` or `Display` output or in errors. Secrets the
//! API hands out, such as a new key's token, are [`SecretString`]s, which show as `[redacted]`
//! until read with [`SecretString::expose`].
#![deny(missing_docs)]

#[cfg(doctest)]
mod compile_fail;
mod config;
mod created;
pub mod paging;
#[cfg(feature = "supervisor")]
pub mod supervisor_ext;

use std::fmt;

use laserdata_core::hooks::ClientState;

pub use config::{
    API_KEY_ENV, API_URL_ENV, AUDIT_URL_ENV, BuildError, ClientBuilder, DEFAULT_AUDIT_URL, DEFAULT_MAIN_URL,
    install_crypto_provider,
};
pub use created::{CreatedIds, ResponseExt};
/// The clock behind retries and waits, and a recording one for tests.
pub use laserdata_core::clock;
pub use laserdata_core::error::{ApiError, Error, InvalidResponse, RAW_BODY_LIMIT, Response};
pub use laserdata_core::retry::RetryPolicy;
pub use laserdata_core::shared::{ErrorResponse, FieldIssue};
pub use laserdata_core::{Open, SecretString};
pub use paging::{Paged, PagedStream};
#[cfg(feature = "supervisor")]
pub use supervisor_ext::{
    ActivityOutcome, ActivityWait, StartedActivity, download_snapshot, run_activity, wait_for_activity,
};

/// The date and time types of the API's timestamps (`chrono::DateTime<Utc>`), re-exported so
/// that filling a required timestamp needs no dependency of your own.
pub use chrono;

/// The Main API: tenants, divisions, environments, deployments, members, roles, API keys,
/// clouds, billing, connectors and notifications. [`Client::main`] returns its client.
#[cfg(feature = "main")]
#[doc(inline)]
pub use laserdata_main as main;

/// The Supervisor API of one deployment's region: configuration, networking, metrics and
/// logs, runtime activities, snapshots, backups and credentials. [`Client::supervisor_for`]
/// returns its client.
#[cfg(feature = "supervisor")]
#[doc(inline)]
pub use laserdata_supervisor as supervisor;

/// The Audit API: the tenant's audit log. [`Client::audit`] returns its client.
#[cfg(feature = "audit")]
#[doc(inline)]
pub use laserdata_audit as audit;

// The generated crates under their own names too: compiler messages about a generated type
// name it through its crate (`laserdata::laserdata_main::types::CreateApiKey`), and such a path
// must be one a user can write. Hidden: `main`, `supervisor` and `audit` are the documented names.
#[cfg(feature = "audit")]
#[doc(hidden)]
pub use laserdata_audit;
#[cfg(feature = "main")]
#[doc(hidden)]
pub use laserdata_main;
#[cfg(feature = "supervisor")]
#[doc(hidden)]
pub use laserdata_supervisor;

/// A configured connection to LaserData Cloud: one HTTP client (connection pool, key,
/// timeouts) shared by the client of every API layer. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    #[cfg(feature = "main")]
    main: laserdata_main::Client,
    #[cfg(feature = "audit")]
    audit: laserdata_audit::Client,
    main_url: String,
    audit_url: String,
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
            #[cfg(feature = "main")]
            main: laserdata_main::Client::new_with_client(&main_url, http.clone(), state.clone()),
            #[cfg(feature = "audit")]
            audit: laserdata_audit::Client::new_with_client(&audit_url, http.clone(), state.clone()),
            main_url,
            audit_url,
            http,
            state,
        }
    }

    /// The Main API: tenants, divisions, environments, deployments, API keys, billing, ...
    #[cfg(feature = "main")]
    pub fn main(&self) -> &laserdata_main::Client {
        &self.main
    }

    /// The Audit API: the tenant's audit log.
    #[cfg(feature = "audit")]
    pub fn audit(&self) -> &laserdata_audit::Client {
        &self.audit
    }

    /// A client for the Supervisor API at `supervisor_url`, with the same key, timeouts and
    /// connection pool. The URL must be https (or plain http on loopback), as for the Main API.
    #[cfg(feature = "supervisor")]
    pub fn supervisor(&self, supervisor_url: &str) -> Result<laserdata_supervisor::Client, BuildError> {
        let url = config::checked_base_url(supervisor_url)?;
        Ok(laserdata_supervisor::Client::new_with_client(&url, self.http.clone(), self.state.clone()))
    }

    /// The Supervisor client for a deployment, from the `supervisor_url` the Main API returned
    /// with it (in `get_deployment`, `get_deployments` or the tenant structure).
    #[cfg(feature = "supervisor")]
    pub fn supervisor_for(&self, deployment: &impl HasSupervisor) -> Result<laserdata_supervisor::Client, BuildError> {
        let url = deployment.supervisor_url().ok_or(BuildError::NoSupervisor)?;
        self.supervisor(url)
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("main_url", &self.main_url)
            .field("audit_url", &self.audit_url)
            .finish_non_exhaustive()
    }
}

/// A Main API answer that names the Supervisor of a deployment.
pub trait HasSupervisor {
    /// The deployment's `supervisor_url`; `None` while the deployment has none yet.
    fn supervisor_url(&self) -> Option<&str>;
}

impl<T: HasSupervisor> HasSupervisor for Response<T> {
    fn supervisor_url(&self) -> Option<&str> {
        (**self).supervisor_url()
    }
}

#[cfg(feature = "main")]
macro_rules! has_supervisor {
    ($($ty:ty),*) => {$(
        impl HasSupervisor for $ty {
            fn supervisor_url(&self) -> Option<&str> {
                self.supervisor_url.as_deref()
            }
        }
    )*};
}

#[cfg(feature = "main")]
has_supervisor!(main::types::DeploymentInfo, main::types::DeploymentDetails, main::types::DeploymentStructure);

/// The README's examples are compiled as doc tests so that they cannot rot.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
