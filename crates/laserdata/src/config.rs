//! Building a client: where the API is, which key signs requests, and how long to wait.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use laserdata_core::SecretString;
use laserdata_core::clock::{Clock, default_clock};
use laserdata_core::hooks::ClientState;
use laserdata_core::retry::RetryPolicy;
use reqwest::header::{HeaderMap, HeaderValue};
use url::Url;

/// The environment variable [`ClientBuilder::from_env`] reads the API key from.
pub const API_KEY_ENV: &str = "LD_API_KEY";
/// The environment variable that overrides the Main API's address (for a sandbox, say).
pub const API_URL_ENV: &str = "LD_API_URL";
/// The production Main API.
pub const DEFAULT_MAIN_URL: &str = "https://api.laserdata.cloud";
/// The environment variable that overrides the Audit API's address.
pub const AUDIT_URL_ENV: &str = "LD_AUDIT_URL";
/// The production Audit API.
pub const DEFAULT_AUDIT_URL: &str = "https://audit.laserdata.cloud";

const API_KEY_HEADER: &str = "ld-api-key";
const USER_AGENT: &str = concat!("laserdata-rs/", env!("CARGO_PKG_VERSION"));

/// Why a client could not be built. Never contains the API key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No key was given, and `LD_API_KEY` is not set.
    #[error("no API key: call `api_key(...)` or set the {API_KEY_ENV} environment variable")]
    MissingApiKey,
    /// The key cannot travel in an HTTP header.
    #[error("the API key is not usable in an HTTP header (it contains control characters or non-ASCII text)")]
    InvalidApiKey,
    /// A base URL does not parse, or has parts a base URL cannot have.
    #[error("`{url}` is not a valid URL: {reason}")]
    InvalidUrl {
        /// The URL as given (a presigned download URL is never repeated).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A base URL uses plain http on a host that is not loopback.
    #[error(
        "`{url}` uses plain http; the API key may only travel over https (plain http is allowed for loopback addresses only)"
    )]
    InsecureUrl {
        /// The URL as given (a presigned download URL is never repeated).
        url: String,
    },
    /// The deployment has no Supervisor yet.
    #[error("the deployment has no supervisor_url yet (it is still being provisioned)")]
    NoSupervisor,
    /// reqwest could not build its client (no TLS backend, say).
    #[error("the HTTP client could not be built: {0}")]
    Http(#[source] reqwest::Error),
}

/// Settings for a [`Client`](crate::Client). Start from [`Client::builder`](crate::Client::builder)
/// or [`ClientBuilder::from_env`].
#[derive(Clone)]
pub struct ClientBuilder {
    api_key: Option<SecretString>,
    main_url: String,
    audit_url: String,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    connect_timeout: Duration,
    user_agent: String,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            api_key: None,
            main_url: DEFAULT_MAIN_URL.to_owned(),
            audit_url: DEFAULT_AUDIT_URL.to_owned(),
            retry: RetryPolicy::default(),
            clock: default_clock(),
            connect_timeout: Duration::from_secs(10),
            user_agent: USER_AGENT.to_owned(),
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("main_url", &self.main_url)
            .field("audit_url", &self.audit_url)
            .field("retry", &self.retry)
            .field("clock", &self.clock)
            .field("connect_timeout", &self.connect_timeout)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

impl ClientBuilder {
    /// Settings taken from the environment: the key from `LD_API_KEY` and, when set, the Main
    /// API's address from `LD_API_URL` and the Audit API's from `LD_AUDIT_URL`. Anything can still be overridden afterwards.
    pub fn from_env() -> Self {
        let mut builder = ClientBuilder::default();
        if let Some(key) = std::env::var(API_KEY_ENV).ok().filter(|key| !key.trim().is_empty()) {
            builder.api_key = Some(SecretString::new(key.trim()));
        }
        if let Some(url) = std::env::var(API_URL_ENV).ok().filter(|url| !url.trim().is_empty()) {
            builder.main_url = url.trim().to_owned();
        }
        if let Some(url) = std::env::var(AUDIT_URL_ENV).ok().filter(|url| !url.trim().is_empty()) {
            builder.audit_url = url.trim().to_owned();
        }
        builder
    }

    /// The API key that signs every request.
    pub fn api_key(mut self, key: impl Into<SecretString>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Where the Main API is (default `https://api.laserdata.cloud`).
    pub fn main_url(mut self, url: impl Into<String>) -> Self {
        self.main_url = url.into();
        self
    }

    /// Where the Audit API is (default `https://audit.laserdata.cloud`).
    pub fn audit_url(mut self, url: impl Into<String>) -> Self {
        self.audit_url = url.into();
        self
    }

    /// How calls are retried and how long they may take (see [`RetryPolicy`], and the crate
    /// documentation's "Timeouts"); `RetryPolicy::never()` turns retries off.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Where retries and [`wait_for_activity`](crate::wait_for_activity) take the time and
    /// their waits from. The default is tokio's clock, which a paused tokio test clock drives
    /// as well; a test may pass a [`RecordingClock`](crate::clock::RecordingClock) to skip the
    /// waits and assert on them. The timeouts of each attempt stay on tokio's timers.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The longest opening a connection to the server may take (default 10 s). The other two
    /// bounds, on one attempt and on a whole call, are part of the [`RetryPolicy`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Appends `product` (such as `my-deployer/1.2`) to the `user-agent` header, so that the
    /// requests of your tool can be told apart.
    pub fn user_agent_product(mut self, product: &str) -> Self {
        self.user_agent = format!("{USER_AGENT} {product}");
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<crate::Client, BuildError> {
        let api_key = self.api_key.ok_or(BuildError::MissingApiKey)?;
        let main_url = checked_base_url(&self.main_url)?;
        let audit_url = checked_base_url(&self.audit_url)?;
        let mut key_header = HeaderValue::from_str(api_key.expose()).map_err(|_| BuildError::InvalidApiKey)?;
        // Marked sensitive, the value is shown as "Sensitive" by Debug and kept out of HTTP/2 header compression tables.
        key_header.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(API_KEY_HEADER, key_header);
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(self.user_agent.clone())
            // Each attempt gets its own timeout (set per request by the retry loop).
            .connect_timeout(self.connect_timeout)
            .build()
            .map_err(BuildError::Http)?;
        Ok(crate::Client::from_parts(http, ClientState { retry: self.retry, clock: self.clock }, main_url, audit_url))
    }
}

/// Accepts `https://` anywhere and `http://` only on loopback, and drops a trailing slash
/// (the generated clients append paths that start with one).
pub(crate) fn checked_base_url(raw: &str) -> Result<String, BuildError> {
    let url =
        Url::parse(raw).map_err(|error| BuildError::InvalidUrl { url: raw.to_owned(), reason: error.to_string() })?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => return Err(BuildError::InsecureUrl { url: raw.to_owned() }),
        other => {
            return Err(BuildError::InvalidUrl {
                url: raw.to_owned(),
                reason: format!("unsupported scheme `{other}`"),
            });
        }
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(BuildError::InvalidUrl {
            url: raw.to_owned(),
            reason: "a base URL has no credentials, query or fragment".into(),
        });
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Accepts a download URL (presigned, so it may carry a query) if it is https, or plain http
/// on loopback. The error never repeats the URL: a presigned URL is a credential.
pub(crate) fn checked_download_url(raw: &str) -> Result<(), BuildError> {
    let redacted = || "<presigned download URL>".to_owned();
    let url = Url::parse(raw).map_err(|error| BuildError::InvalidUrl { url: redacted(), reason: error.to_string() })?;
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        _ => Err(BuildError::InsecureUrl { url: redacted() }),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Makes ring the process's default rustls crypto provider, unless one is installed already.
///
/// With the default `rustls` feature, reqwest is built without a provider of its own (to skip
/// aws-lc's C build). Building a `laserdata::Client` calls this; call it yourself before
/// building a `reqwest::Client` of your own if nothing else in your program enables a provider.
pub fn install_crypto_provider() {
    #[cfg(feature = "rustls")]
    {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_required_except_on_loopback() {
        assert_eq!(checked_base_url("https://api.laserdata.cloud/").unwrap(), "https://api.laserdata.cloud");
        assert!(checked_base_url("http://127.0.0.1:8080").is_ok());
        assert!(checked_base_url("http://127.10.0.1:8080").is_ok());
        assert!(checked_base_url("http://[::1]:8080/").is_ok());
        assert!(checked_base_url("http://localhost:3000").is_ok());
        assert!(matches!(checked_base_url("http://api.laserdata.cloud"), Err(BuildError::InsecureUrl { .. })));
        assert!(matches!(checked_base_url("http://10.0.0.8"), Err(BuildError::InsecureUrl { .. })));
        assert!(matches!(checked_base_url("ftp://example.com"), Err(BuildError::InvalidUrl { .. })));
        assert!(matches!(checked_base_url("https://user:pw@example.com"), Err(BuildError::InvalidUrl { .. })));
        assert!(matches!(checked_base_url("not a url"), Err(BuildError::InvalidUrl { .. })));
    }

    #[test]
    fn a_missing_key_is_reported_without_building() {
        let error = ClientBuilder::default().build().unwrap_err();
        assert!(matches!(error, BuildError::MissingApiKey));
        assert!(error.to_string().contains(API_KEY_ENV));
    }

    #[test]
    fn debug_output_hides_the_key() {
        let builder = ClientBuilder::default().api_key("ld_api_key_secret_value");
        assert!(!format!("{builder:?}").contains("secret_value"));
        let client = builder.build().unwrap();
        assert!(!format!("{client:?}").contains("secret_value"), "{client:?}");
        assert!(!format!("{:?}", client.main()).contains("secret_value"));
    }
}
