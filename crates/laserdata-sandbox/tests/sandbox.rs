//! The sandbox driven through the generated clients, over real HTTP on loopback.

use std::time::Duration;

use futures::TryStreamExt;
use laserdata::main::types::{
    Cloud, CreateApiKey, CreateApiKeyWithPermissions, DeployStarter, Region, RolePermissions, UpdateApiKeySecurity,
};
use laserdata::{Error, PagedStream, ResponseExt, RetryPolicy};
use laserdata_sandbox::{Config, Sandbox};

const TENANT: i64 = 1042;
const DIVISION: i64 = 312;

fn client(sandbox: &Sandbox, key: &str) -> laserdata::Client {
    laserdata::Client::builder()
        .api_key(key)
        .main_url(sandbox.url())
        .audit_url(sandbox.audit_url())
        .retry(RetryPolicy::never())
        .build()
        .unwrap()
}

fn key_with(permissions: &[&str]) -> CreateApiKey {
    let permissions = RolePermissions::builder().tenant(Some(permissions.iter().map(|p| p.to_string()).collect()));
    let body = CreateApiKeyWithPermissions::builder()
        .name("ci")
        .expiry_at(chrono::Utc::now() + chrono::Duration::days(30))
        .validate_ip(false)
        .permissions(permissions);
    CreateApiKey::Permissions(body.try_into().unwrap())
}

async fn create_key(client: &laserdata::Client, permissions: &[&str]) -> (i64, String) {
    let created = client.main().create_api_key().tenant_id(TENANT).body(key_with(permissions)).send().await.unwrap();
    assert_eq!(created.status(), 201);
    (created.id.get(), created.token.expose().to_owned())
}

/// A plain reqwest client, for bodies the typed client cannot send.
fn raw() -> reqwest::Client {
    // reqwest is built without a default crypto provider in this workspace.
    laserdata::install_crypto_provider();
    reqwest::Client::new()
}

#[tokio::test]
async fn quick_start() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = client(&sandbox, sandbox.admin_key());
    let body = DeployStarter::builder().cloud(Cloud::Aws).region(Region("us-west-1".into()));
    let accepted =
        client.main().deploy_starter().tenant_id(TENANT).division_id(DIVISION).body(body).send().await.unwrap();
    assert_eq!(accepted.status(), 202);
    let ids = accepted.created_ids();
    let (environment, deployment) = (ids.environment.unwrap(), ids.deployment.unwrap());
    let mut reads = Vec::new();
    let details = loop {
        let details = client
            .main()
            .get_deployment()
            .tenant_id(TENANT)
            .division_id(DIVISION)
            .environment_id(environment)
            .deployment_id(deployment)
            .send()
            .await
            .unwrap()
            .into_inner();
        reads.push(details.supervisor_url.is_some());
        if details.supervisor_url.is_some() {
            break details;
        }
        assert!(reads.len() < 10, "never running");
    };
    assert_eq!(reads, [false, false, true], "provisioning twice, then running");
    assert_eq!(details.supervisor_url.as_deref(), Some(sandbox.supervisor_url().as_str()));
    let supervisor = client.supervisor_for(&details).unwrap();
    let login = supervisor.get_deployment_credentials().deployment_id(deployment).send().await.unwrap();
    assert_eq!(login.username, "iggy");
    assert!(!login.password.expose().is_empty());
}

#[tokio::test]
async fn api_keys_lifecycle() {
    let sandbox = Sandbox::start().await.unwrap();
    let admin = client(&sandbox, sandbox.admin_key());
    let (id, token) = create_key(&admin, &["api_key:read", "deployment:read"]).await;

    let keys: Vec<_> = admin.main().get_api_keys().tenant_id(TENANT).stream().try_collect().await.unwrap();
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().any(|key| key.id.get() == id && *key.name == "ci"));
    let page = admin.main().get_api_keys().tenant_id(TENANT).page(1).results(1).send().await.unwrap();
    assert_eq!((page.items.len(), *page.total_results, *page.total_pages), (1, 2, 2));

    let own = client(&sandbox, &token);
    let context = own.main().get_api_key_context().tenant_id(TENANT).send().await.unwrap();
    assert_eq!(context.id.get(), id);
    assert_eq!(context.permissions.tenant, vec!["api_key:read".to_owned(), "deployment:read".to_owned()]);

    let restrict = UpdateApiKeySecurity::builder().validate_ip(Some(true)).allowed_ips(Some(vec!["10.0.0.0/8".into()]));
    admin.main().update_api_key_security().tenant_id(TENANT).api_key_id(id).body(restrict).send().await.unwrap();
    let key = admin.main().get_api_key().tenant_id(TENANT).api_key_id(id).send().await.unwrap();
    assert!(key.validate_ip);
    assert_eq!(key.allowed_ips, vec!["10.0.0.0/8".to_owned()]);

    let deleted = admin.main().delete_api_key().tenant_id(TENANT).api_key_id(id).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    let error = own.main().get_api_key_context().tenant_id(TENANT).send().await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(error.api().unwrap().problem.as_ref().unwrap().code, "unauthorized");
    let keys: Vec<_> = admin.main().get_api_keys().tenant_id(TENANT).stream().try_collect().await.unwrap();
    assert_eq!(keys.len(), 1);
}

#[tokio::test]
async fn a_key_without_the_permission_gets_403() {
    let sandbox = Sandbox::start().await.unwrap();
    let admin = client(&sandbox, sandbox.admin_key());
    let (_, token) = create_key(&admin, &["api_key:read"]).await;
    let reader = client(&sandbox, &token);
    // Reading keys is allowed...
    reader.main().get_api_keys().tenant_id(TENANT).send().await.unwrap();
    // ...creating one or a deployment is not.
    let error = reader.main().create_api_key().tenant_id(TENANT).body(key_with(&[])).send().await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(403));
    assert_eq!(error.api().unwrap().problem.as_ref().unwrap().code, "insufficient_permissions");
    let body = DeployStarter::builder().cloud(Cloud::Aws).region(Region("us-west-1".into()));
    let error =
        reader.main().deploy_starter().tenant_id(TENANT).division_id(DIVISION).body(body).send().await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(403));
}

// On a paused clock the burst cannot straddle two one-second windows, however slowly it runs.
#[tokio::test(start_paused = true)]
async fn a_burst_gets_429_with_retry_after() {
    let config = Config { rate_limit_per_second: 5, ..Config::default() };
    let sandbox = Sandbox::start_with(config, 0).await.unwrap();
    let admin = client(&sandbox, sandbox.admin_key());
    let mut answers = Vec::new();
    for _ in 0..6 {
        answers.push(admin.main().get_api_key_context().tenant_id(TENANT).send().await);
    }
    assert!(answers[..5].iter().all(Result::is_ok), "the first five are within the limit: {answers:?}");
    let error = answers.pop().unwrap().expect_err("the sixth request in one second is limited");
    assert!(matches!(error, Error::RateLimited(_)), "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(1)));
}

#[tokio::test]
async fn a_bad_body_gets_400_with_field_issues() {
    let sandbox = Sandbox::start().await.unwrap();
    // The typed client cannot send a wrong type, so this one goes by hand.
    let answer = raw()
        .post(format!("{}/tenants/{TENANT}/api_keys", sandbox.url()))
        .header("ld-api-key", sandbox.admin_key())
        .json(&serde_json::json!({
            "name": "ci",
            "expiry_at": "2027-01-01T00:00:00Z",
            "validate_ip": "yes",
            "allowed_ips": [7],
            "permissions": {"tenant": ["api_key:read"]},
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    assert!(answer.headers().contains_key("ld-request"));
    assert_eq!(answer.headers()["content-type"], "application/problem+json");
    let problem: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(problem["code"], "validation_failed");
    let paths: Vec<&str> =
        problem["field_issues"].as_array().unwrap().iter().map(|i| i["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"validate_ip"), "{problem}");
    assert!(paths.contains(&"allowed_ips.0"), "{problem}");
    for issue in problem["field_issues"].as_array().unwrap() {
        assert!(issue["code"].is_string() && issue["reason"].is_string(), "{issue}");
    }

    // A missing required field names the field itself.
    let client = client(&sandbox, sandbox.admin_key());
    let raw = raw()
        .post(format!("{}/tenants/{TENANT}/divisions/{DIVISION}/deployments/starter", sandbox.url()))
        .header("ld-api-key", sandbox.admin_key())
        .json(&serde_json::json!({"cloud": "aws"}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    let problem: serde_json::Value = raw.json().await.unwrap();
    assert_eq!(problem["field_issues"][0]["path"], "region", "{problem}");
    assert_eq!(problem["field_issues"][0]["code"], "required", "{problem}");
    drop(client);
}

#[tokio::test]
async fn other_operations_answer_their_spec_example() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = client(&sandbox, sandbox.admin_key());
    // The Audit layer, under its prefix, and a Main operation the sandbox has no handler for.
    let tenant = client.main().get_tenant().tenant_id(TENANT).send().await.unwrap();
    assert_eq!(tenant.status(), 200);
    let types = client.audit().get_tenant_audit_types().send().await.unwrap();
    assert_eq!(types.status(), 200);
    let nobody = laserdata::Client::builder()
        .api_key("not-a-key")
        .main_url(sandbox.url())
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    let error = nobody.main().get_tenant().tenant_id(TENANT).send().await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
}

#[tokio::test]
async fn a_repeated_idempotency_key_replays_the_first_answer() {
    let sandbox = Sandbox::start().await.unwrap();
    let send = |idempotency: &str, region: &str| {
        raw()
            .post(format!("{}/tenants/{TENANT}/divisions/{DIVISION}/deployments/starter", sandbox.url()))
            .header("ld-api-key", sandbox.admin_key())
            .header("idempotency-key", idempotency)
            .json(&serde_json::json!({"cloud": "aws", "region": region}))
            .send()
    };
    let first = send("k1", "us-west-1").await.unwrap();
    let again = send("k1", "us-west-1").await.unwrap();
    assert_eq!((first.status().as_u16(), again.status().as_u16()), (202, 202));
    assert_eq!(first.headers()["ld-deployment"], again.headers()["ld-deployment"]);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let conflict = send("k1", "eu-west-1").await.unwrap();
    assert_eq!(conflict.status(), 409);
    let other = send("k2", "us-west-1").await.unwrap();
    assert_ne!(first.headers()["ld-deployment"], other.headers()["ld-deployment"]);
}

#[tokio::test]
async fn a_key_limited_to_a_division_gets_403_elsewhere() {
    let sandbox = Sandbox::start().await.unwrap();
    let admin = client(&sandbox, sandbox.admin_key());
    let CreateApiKey::Permissions(mut body) = key_with(&["deployment:manage"]) else { unreachable!() };
    body.division_id = Some(DIVISION.into());
    let created = admin.main().create_api_key().tenant_id(TENANT).body(body).send().await.unwrap();
    let limited = client(&sandbox, created.token.expose());
    let starter = || DeployStarter::builder().cloud(Cloud::Aws).region(Region("us-west-1".into()));
    let main = limited.main();
    main.deploy_starter().tenant_id(TENANT).division_id(DIVISION).body(starter()).send().await.unwrap();
    let error =
        main.deploy_starter().tenant_id(TENANT).division_id(DIVISION + 1).body(starter()).send().await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(403));
}

#[tokio::test]
async fn an_expired_or_missing_key_gets_401() {
    let sandbox = Sandbox::start().await.unwrap();
    let admin = client(&sandbox, sandbox.admin_key());
    let CreateApiKey::Permissions(mut body) = key_with(&["api_key:read"]) else { unreachable!() };
    body.expiry_at = chrono::Utc::now() - chrono::Duration::seconds(1);
    let created = admin.main().create_api_key().tenant_id(TENANT).body(body).send().await.unwrap();
    let expired = client(&sandbox, created.token.expose());
    let error = expired.main().get_api_keys().tenant_id(TENANT).send().await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(error.api().unwrap().problem.as_ref().unwrap().reason, "The API key has expired.");
    let answer = raw().get(format!("{}/tenants/{TENANT}/api_keys", sandbox.url())).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 401);
    assert_eq!(answer.headers()["content-type"], "application/problem+json");
}
