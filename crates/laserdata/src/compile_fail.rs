//! Mistakes the compiler catches, as doc tests that must fail to compile with the error code
//! given (so that they cannot pass for another reason). Built only by `cargo test --doc`.

/// An id where another kind of id belongs, in a helper:
///
/// ```compile_fail,E0277
/// # async fn demo(supervisor: laserdata::supervisor::Client, snapshot: laserdata::supervisor::types::SnapshotId) -> Result<(), laserdata::Error> {
/// laserdata::download_snapshot(&supervisor, snapshot, snapshot, &mut Vec::new()).await?;
/// # Ok(()) }
/// ```
///
/// A string where a number-only id belongs, in a helper:
///
/// ```compile_fail,E0277
/// # async fn demo(supervisor: laserdata::supervisor::Client) -> Result<(), laserdata::Error> {
/// laserdata::download_snapshot(&supervisor, "88012", 4411, &mut Vec::new()).await?;
/// # Ok(()) }
/// ```
///
/// A body of another operation:
///
/// ```compile_fail,E0277
/// # async fn demo(client: laserdata::Client) -> Result<(), laserdata::Error> {
/// use laserdata::main::types::AddRole;
/// let body = AddRole::builder().name("reader");
/// client.main().create_api_key().tenant_id(1042).body(body).send().await?;
/// # Ok(()) }
/// ```
///
/// A Supervisor id on the Main API:
///
/// ```compile_fail,E0277
/// # async fn demo(client: laserdata::Client, node: laserdata::supervisor::types::DeploymentNodeId) -> Result<(), laserdata::Error> {
/// client.main().get_deployments().tenant_id(1042).division_id(312).environment_id(node).send().await?;
/// # Ok(()) }
/// ```
///
/// An id is not a number (taking the number out is explicit, with `get()`):
///
/// ```compile_fail,E0614
/// # fn demo(id: laserdata::main::types::TenantId) -> i64 {
/// *id
/// # }
/// ```
///
/// And what does compile: integers, the same id from another layer, names from `&str`, the
/// builder of either shape of a `oneOf` body.
///
/// ```no_run
/// # async fn demo(client: laserdata::Client, deployment: laserdata::supervisor::types::DeploymentId) -> Result<(), laserdata::Error> {
/// use laserdata::chrono::{Duration, Utc};
/// use laserdata::main::types::{AddRole, CreateApiKeyWithRole, RolePermissions};
/// let details = client
///     .main()
///     .get_deployment()
///     .tenant_id(1042)
///     .division_id(312)
///     .environment_id(5120)
///     .deployment_id(deployment)
///     .send()
///     .await?;
/// let role = AddRole::builder().name("reader").permissions(RolePermissions::default());
/// client.main().add_role().tenant_id(1042).body(role).send().await?;
/// let key = CreateApiKeyWithRole::builder()
///     .name("ci")
///     .role_id(7)
///     .expiry_at(Utc::now() + Duration::days(30))
///     .validate_ip(false);
/// client.main().create_api_key().tenant_id(details.id.get()).body(key).send().await?;
/// # Ok(()) }
/// ```
pub struct Mistakes;
