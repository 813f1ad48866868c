//! The quick start, for real: a starter deployment, its details until it runs, then its Iggy
//! login from its Supervisor.
//!
//! `cargo run -p laserdata-sandbox --example quickstart` starts a sandbox in this process and
//! runs against it. With `LD_API_KEY` set (and `LD_API_URL` when not the production API) it
//! starts nothing and runs against that API instead, unchanged; `LD_TENANT_ID` and
//! `LD_DIVISION_ID` then name where to deploy.

use std::time::Duration;

use laserdata::ResponseExt;
use laserdata::main::types::{Cloud, DeployStarter, Region};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Against the real API when a key is given; otherwise against a sandbox of our own.
    let (_sandbox, client) = if std::env::var("LD_API_KEY").is_ok_and(|key| !key.trim().is_empty()) {
        (None, laserdata::ClientBuilder::from_env().build()?)
    } else {
        let sandbox = laserdata_sandbox::Sandbox::start().await?;
        println!("sandbox at {}", sandbox.url());
        let client = laserdata::Client::builder()
            .api_key(sandbox.admin_key())
            .main_url(sandbox.url())
            .audit_url(sandbox.audit_url())
            .build()?;
        (Some(sandbox), client)
    };
    // Any ids do in a sandbox; against a real API they must name your tenant and division.
    let number = |name: &str, sandbox_default: i64| -> Result<i64, String> {
        match std::env::var(name) {
            Ok(value) => value.trim().parse().map_err(|_| format!("{name} is not a number: {value}")),
            Err(_) if _sandbox.is_some() => Ok(sandbox_default),
            Err(_) => Err(format!("set {name} to deploy with LD_API_KEY")),
        }
    };
    let (tenant, division) = (number("LD_TENANT_ID", 1042)?, number("LD_DIVISION_ID", 312)?);

    // 1. A free starter deployment; the answer's headers name its environment and itself.
    let body = DeployStarter::builder().cloud(Cloud::Aws).region(Region("us-west-1".into()));
    let accepted = client.main().deploy_starter().tenant_id(tenant).division_id(division).body(body).send().await?;
    let ids = accepted.created_ids();
    let (environment, deployment) =
        (ids.environment.ok_or("no ld-environment")?, ids.deployment.ok_or("no ld-deployment")?);
    println!("deployment {} in environment {} is provisioning", deployment, environment);

    // 2. Its details, until a Supervisor is assigned (the deployment is running).
    let details = loop {
        let details = client
            .main()
            .get_deployment()
            .tenant_id(tenant)
            .division_id(division)
            .environment_id(environment)
            .deployment_id(deployment)
            .send()
            .await?
            .into_inner();
        if details.supervisor_url.is_some() {
            break details;
        }
        println!("still provisioning...");
        tokio::time::sleep(Duration::from_millis(if _sandbox.is_some() { 200 } else { 5000 })).await;
    };
    println!("running; its Supervisor is {}", details.supervisor_url.as_deref().unwrap_or_default());

    // 3. The Iggy login, from the deployment's Supervisor.
    let supervisor = client.supervisor_for(&details)?;
    let login = supervisor.get_deployment_credentials().deployment_id(deployment).send().await?;
    println!("username: {}", login.username);
    println!("password: {}", login.password.expose());
    Ok(())
}
