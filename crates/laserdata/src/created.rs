//! The ids of resources a request created, read from the answer's `ld-*` headers.
//!
//! Creates that answer without a body (a division, an environment, a role, a deployment)
//! name what they created in headers; the starter deployment names two things at once, its
//! new environment and its deployment.

use laserdata_core::shared::{DeploymentId, DivisionId, EnvironmentId, RoleId, TenantId};
use progenitor_client::ResponseValue;
use reqwest::header::HeaderMap;

/// The resources an answer says were created. Each is `None` when its header is absent (or
/// is not a number).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreatedIds {
    /// `ld-tenant`
    pub tenant: Option<TenantId>,
    /// `ld-division`
    pub division: Option<DivisionId>,
    /// `ld-environment`
    pub environment: Option<EnvironmentId>,
    /// `ld-deployment`
    pub deployment: Option<DeploymentId>,
    /// `ld-role`
    pub role: Option<RoleId>,
    /// `ld-config`: the row id of a Supervisor configuration version.
    #[cfg(feature = "supervisor")]
    pub config: Option<laserdata_supervisor::types::ConfigId>,
}

impl CreatedIds {
    /// Reads the `ld-*` headers of an answer.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let id = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<i64>().ok();
        CreatedIds {
            tenant: id("ld-tenant").map(TenantId),
            division: id("ld-division").map(DivisionId),
            environment: id("ld-environment").map(EnvironmentId),
            deployment: id("ld-deployment").map(DeploymentId),
            role: id("ld-role").map(RoleId),
            #[cfg(feature = "supervisor")]
            config: id("ld-config").map(laserdata_supervisor::types::ConfigId),
        }
    }
}

/// What every answer can tell besides its body: the created ids, whether it is a replay of
/// an earlier request with the same `idempotency-key`, and the server's request id.
///
/// ```no_run
/// # async fn demo(client: laserdata::Client) -> Result<(), laserdata::Error> {
/// use laserdata::ResponseExt;
/// use laserdata::main::types::{AddRole, RolePermissions};
///
/// let body = AddRole::builder().name("reader").permissions(RolePermissions::default());
/// let answer = client.main().add_role().tenant_id(1042).body(body).send().await?;
/// if let Some(role) = answer.created_ids().role {
///     println!("created role {role}");
/// }
/// # Ok(()) }
/// ```
pub trait ResponseExt {
    /// The ids in the `ld-*` created-id headers.
    fn created_ids(&self) -> CreatedIds;

    /// True when the server replayed the answer to an earlier request with the same
    /// `idempotency-key` (`idempotent-replayed: true`) instead of doing the work again.
    fn idempotent_replayed(&self) -> bool;

    /// The server's id for the request (`ld-request`).
    fn request_id(&self) -> Option<&str>;
}

impl<T> ResponseExt for ResponseValue<T> {
    fn created_ids(&self) -> CreatedIds {
        CreatedIds::from_headers(self.headers())
    }

    fn idempotent_replayed(&self) -> bool {
        self.headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    fn request_id(&self) -> Option<&str> {
        self.headers().get(laserdata_core::hooks::REQUEST_ID_HEADER).and_then(|v| v.to_str().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn reads_every_id_header_and_ignores_garbage() {
        let mut headers = HeaderMap::new();
        headers.insert("ld-environment", HeaderValue::from_static("5120"));
        headers.insert("ld-deployment", HeaderValue::from_static(" 608123456789012345 "));
        headers.insert("ld-role", HeaderValue::from_static("not-a-number"));
        let ids = CreatedIds::from_headers(&headers);
        assert_eq!(ids.environment, Some(EnvironmentId(5120)));
        assert_eq!(ids.deployment, Some(DeploymentId(608_123_456_789_012_345)));
        assert_eq!(ids.role, None);
        assert_eq!(ids.tenant, None);
    }
}
