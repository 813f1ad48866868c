//! The flows against an in-process sandbox, over real HTTP on loopback.

use laserdata::main::types::{ApiKeyId, CreateApiKeyWithRole};
use laserdata::{Error, RetryPolicy};
use laserdata_downstream::{Scope, audit_log, explain, keys, quick_start, whoami};
use laserdata_sandbox::{Config, Sandbox};

/// Where the sandbox lets its admin key act.
fn scope(sandbox: &Sandbox) -> Scope {
    Scope { tenant: sandbox.tenant_id().into(), division: sandbox.division_id().into() }
}

fn client(sandbox: &Sandbox, key: &str) -> laserdata::Client {
    laserdata::Client::builder()
        .api_key(key)
        .main_url(sandbox.url())
        .audit_url(sandbox.audit_url())
        .retry(RetryPolicy::never())
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_readme_flows_run_against_the_sandbox() {
    let sandbox = Sandbox::start().await.unwrap();
    let admin = client(&sandbox, sandbox.admin_key());
    let scope = scope(&sandbox);

    assert!(whoami(&admin, scope).await.unwrap().contains("acts as role"));

    let (secrets, listed) = keys(&admin, scope, 3.into()).await.unwrap();
    assert_eq!(secrets.len(), 2);
    assert!(secrets.iter().all(|secret| format!("{secret:?}").contains("redacted") && !secret.expose().is_empty()));
    let names: Vec<&str> = listed.iter().map(|key| key.name.as_str()).collect();
    assert!(names.contains(&"deployer") && names.contains(&"reader"), "{names:?}");

    let (deployment, user) = quick_start(&admin, scope).await.unwrap();
    assert!(deployment.get() > 0);
    assert_eq!(user, "iggy");

    audit_log(&admin, scope).await.unwrap();
}

#[tokio::test]
async fn error_answers_are_told_apart() {
    let sandbox = Sandbox::start_with(Config { rate_limit_per_second: 3, ..Config::default() }, 0).await.unwrap();
    let admin = client(&sandbox, sandbox.admin_key());
    let scope = scope(&sandbox);

    let missing = admin.main().get_api_key().tenant_id(scope.tenant).api_key_id(ApiKeyId(424_242)).send().await;
    let missing = missing.unwrap_err();
    assert!(matches!(&missing, Error::Api(answer) if answer.is_not_found()), "{missing:?}");
    assert_eq!(explain(&missing), "no such thing");
    assert!(missing.request_id().is_some(), "every answer names its request");

    // A builder missing a required field fails before anything is sent.
    let incomplete = CreateApiKeyWithRole::builder().name("no-role");
    let error = admin.main().create_api_key().tenant_id(scope.tenant).body(incomplete).send().await.unwrap_err();
    assert!(matches!(error, Error::InvalidRequest(_)), "{error:?}");

    let mut limited = None;
    for _ in 0..10 {
        if let Err(error) = admin.main().get_api_key_context().tenant_id(scope.tenant).send().await {
            limited = Some(error);
            break;
        }
    }
    let limited = limited.expect("the sandbox limits three requests a second");
    assert!(explain(&limited).starts_with("slow down"), "{limited:?}");
}
