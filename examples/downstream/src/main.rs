//! Runs the README's flows against the API the environment names: `LD_API_KEY`, `LD_API_URL`
//! (and `LD_AUDIT_URL`), `LD_TENANT_ID`, `LD_DIVISION_ID` and `LD_ROLE_ID` (a role to give a
//! new key). Point it at a sandbox (`cargo run -p laserdata-sandbox`), not at production: it
//! creates keys and a deployment.

use laserdata_downstream::{Scope, audit_log, explain, keys, quick_start, whoami};

fn id(name: &str) -> Result<i64, String> {
    let value = std::env::var(name).map_err(|_| format!("set {name}"))?;
    value.trim().parse().map_err(|_| format!("{name} is not a number: {value}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = laserdata::ClientBuilder::from_env().build()?;
    let scope = Scope { tenant: id("LD_TENANT_ID")?.into(), division: id("LD_DIVISION_ID")?.into() };

    println!("{}", whoami(&client, scope).await?);
    let (secrets, listed) = keys(&client, scope, id("LD_ROLE_ID")?.into()).await?;
    println!("created {} keys (secrets {:?}); the tenant has {}", secrets.len(), secrets, listed.len());
    let (deployment, user) = quick_start(&client, scope).await?;
    println!("deployment {deployment} is running; log in to Iggy as {user}");
    match audit_log(&client, scope).await {
        Ok(entries) => println!("{} audit entries since yesterday", entries.len()),
        Err(error) => println!("audit log: {}", explain(&error)),
    }
    Ok(())
}
