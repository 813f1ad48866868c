//! The flows of the README, written the way a program depending on `laserdata` writes them:
//! only `laserdata`'s public surface, `?` on every call, no helper from this repository.
//!
//! `main.rs` runs them against the API named by `LD_API_URL` (a sandbox, say); the tests run
//! them against an in-process sandbox and through the typed mocks.

use std::time::Duration;

use futures::TryStreamExt;
use laserdata::audit::types::TenantAuditInfo;
use laserdata::chrono::{Duration as Days, Utc};
use laserdata::main::types::{
    ApiKeyInfo, Cloud, CreateApiKeyWithPermissions, CreateApiKeyWithRole, DeployStarter, DivisionId, RoleId,
    RolePermissions, TenantId,
};
use laserdata::supervisor::types::DeploymentId;
use laserdata::{Error, PagedStream, ResponseExt, SecretString};

/// Where the flows act.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    /// The tenant.
    pub tenant: TenantId,
    /// A division of the tenant, for the deployment.
    pub division: DivisionId,
}

/// What the key the client signs with may do.
pub async fn whoami(client: &laserdata::Client, scope: Scope) -> Result<String, Error> {
    let me = client.main().get_api_key_context().tenant_id(scope.tenant).send().await?;
    Ok(format!("key {} ({}) acts as role {}", me.id, me.name, me.role_name))
}

/// Creates a key with an existing role and one with inline permissions, then lists every key
/// of the tenant. The secrets are handed out once; they print as `[redacted]`.
pub async fn keys(
    client: &laserdata::Client,
    scope: Scope,
    role: RoleId,
) -> Result<(Vec<SecretString>, Vec<ApiKeyInfo>), Error> {
    let expiry = Utc::now() + Days::days(30);
    let with_role =
        CreateApiKeyWithRole::builder().name("deployer").role_id(role).expiry_at(expiry).validate_ip(false);
    let by_role = client.main().create_api_key().tenant_id(scope.tenant).body(with_role).send().await?;

    let permissions = RolePermissions::builder().tenant(Some(vec!["api_key:read".to_owned()]));
    let inline =
        CreateApiKeyWithPermissions::builder().name("reader").permissions(permissions).expiry_at(expiry).validate_ip(false);
    let by_permissions = client.main().create_api_key().tenant_id(scope.tenant).body(inline).send().await?;

    let mut listed = Vec::new();
    let mut all = client.main().get_api_keys().tenant_id(scope.tenant).stream();
    while let Some(key) = all.try_next().await? {
        listed.push(key);
    }
    Ok((vec![by_role.into_inner().token, by_permissions.into_inner().token], listed))
}

/// The quick start: a free starter deployment, its details until its Supervisor is known,
/// then the Iggy login from that Supervisor. Returns the deployment and the Iggy user name.
pub async fn quick_start(client: &laserdata::Client, scope: Scope) -> Result<(DeploymentId, String), Error> {
    let body = DeployStarter::builder().cloud(Cloud::Aws).region("us-west-1");
    let accepted =
        client.main().deploy_starter().tenant_id(scope.tenant).division_id(scope.division).body(body).send().await?;
    let ids = accepted.created_ids();
    let (Some(environment), Some(deployment)) = (ids.environment, ids.deployment) else {
        return Err(Error::InvalidRequest("the answer named no environment or deployment".into()));
    };
    let mut polls = 0;
    let details = loop {
        let details = client
            .main()
            .get_deployment()
            .tenant_id(scope.tenant)
            .division_id(scope.division)
            .environment_id(environment)
            .deployment_id(deployment)
            .send()
            .await?;
        if details.supervisor_url.is_some() {
            break details;
        }
        polls += 1;
        if polls == 30 {
            return Err(Error::WaitTimedOut { waited: Duration::from_secs(30), what: "the Supervisor URL".into() });
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let supervisor = client.supervisor_for(&details).map_err(|error| Error::InvalidRequest(error.to_string()))?;
    // The id read from the Main API goes to the Supervisor as it is.
    let login = supervisor.get_deployment_credentials().deployment_id(deployment).send().await?;
    Ok((deployment, login.username.clone()))
}

/// The tenant's audit log since yesterday, every page.
pub async fn audit_log(client: &laserdata::Client, scope: Scope) -> Result<Vec<TenantAuditInfo>, Error> {
    client.audit().get_tenant_audit().tenant_id(scope.tenant).from(Utc::now() - Days::days(1)).stream().try_collect().await
}

/// How a program tells the error answers apart.
pub fn explain(error: &Error) -> String {
    match error {
        Error::RateLimited(answer) => {
            format!("slow down: retry after {:?}", answer.retry_after.unwrap_or_default())
        }
        Error::Api(answer) if answer.is_not_found() => "no such thing".to_owned(),
        Error::Api(answer) if answer.is_forbidden() => {
            format!("not allowed: {}", answer.code().unwrap_or("no code"))
        }
        Error::Api(answer) if !answer.field_issues().is_empty() => {
            let fields: Vec<String> = answer
                .field_issues()
                .iter()
                .map(|issue| format!("{}: {}", issue.path.as_deref().unwrap_or("?"), issue.code))
                .collect();
            format!("rejected fields: {}", fields.join(", "))
        }
        other => format!("failed: {other} (request {})", other.request_id().unwrap_or("unknown")),
    }
}
