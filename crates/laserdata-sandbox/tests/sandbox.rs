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

/// A request by hand, signed with the admin key.
async fn send(sandbox: &Sandbox, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    raw().request(method, format!("{}{path}", sandbox.url())).header("ld-api-key", sandbox.admin_key())
}

async fn problem_of(answer: reqwest::Response) -> serde_json::Value {
    assert_eq!(answer.headers()["content-type"], "application/problem+json");
    answer.json().await.unwrap()
}

fn issue_paths(problem: &serde_json::Value) -> Vec<String> {
    let issues = problem["field_issues"].as_array().cloned().unwrap_or_default();
    issues.iter().map(|issue| issue["path"].as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test]
async fn the_largest_page_number_neither_crashes_nor_wedges_the_sandbox() {
    let sandbox = Sandbox::start().await.unwrap();
    let path = format!("/tenants/{TENANT}/api_keys?page=9223372036854775807&results=100");
    let answer = send(&sandbox, reqwest::Method::GET, &path).await.send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let page: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(page["items"], serde_json::json!([]));
    assert_eq!(page["total_results"], 1);
    // The next request with a key is answered as usual.
    let client = client(&sandbox, sandbox.admin_key());
    let context = client.main().get_api_key_context().tenant_id(TENANT).send().await.unwrap();
    assert_eq!(context.id.get(), 1);
}

#[tokio::test]
async fn every_parameter_is_validated_with_one_issue_per_problem() {
    let sandbox = Sandbox::start().await.unwrap();
    let get = |path: String| {
        let sandbox = &sandbox;
        async move { send(sandbox, reqwest::Method::GET, &path).await.send().await.unwrap() }
    };
    let answer = get("/tenants/abc/api_keys?results=101&page=0".into()).await;
    assert_eq!(answer.status(), 400);
    let problem = problem_of(answer).await;
    assert_eq!(problem["code"], "validation_failed");
    assert_eq!(issue_paths(&problem), ["path.tenant_id", "query.page", "query.results"], "{problem}");
    // Beyond int64.
    let problem = problem_of(get("/tenants/9223372036854775808/api_keys/context".into()).await).await;
    assert_eq!(issue_paths(&problem), ["path.tenant_id"], "{problem}");
    // A header beyond its maxLength.
    let answer = send(&sandbox, reqwest::Method::POST, &format!("/tenants/{TENANT}/divisions"))
        .await
        .header("idempotency-key", "k".repeat(256))
        .json(&serde_json::json!({"name": "analytics"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    assert_eq!(issue_paths(&problem_of(answer).await), ["header.idempotency-key"]);
    // A body integer beyond its int32 format.
    let path = format!("/tenants/{TENANT}/divisions/{DIVISION}/environments/5120/deployments/88012/retention");
    let body = serde_json::json!({"retention": {"telemetry_days": 2147483648_i64}});
    let answer = send(&sandbox, reqwest::Method::PUT, &path).await.json(&body).send().await.unwrap();
    assert_eq!(answer.status(), 400);
    let problem = problem_of(answer).await;
    assert_eq!(issue_paths(&problem), ["retention.telemetry_days"], "{problem}");
}

#[tokio::test]
async fn bodies_media_types_sizes_and_methods_are_answered_as_documented() {
    let sandbox = Sandbox::start().await.unwrap();
    // An optional body may be left out.
    let restart = "/supervisor/deployments/88012/activities/server/restart";
    let answer = send(&sandbox, reqwest::Method::POST, restart).await.send().await.unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
    // Another media type.
    let divisions = format!("/tenants/{TENANT}/divisions");
    let answer = send(&sandbox, reqwest::Method::POST, &divisions)
        .await
        .header("content-type", "text/plain")
        .body(r#"{"name": "analytics"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 415);
    // Above the documented size limit.
    let huge = format!(r#"{{"name": "{}"}}"#, "x".repeat(laserdata_sandbox::MAX_BODY_BYTES));
    let answer = send(&sandbox, reqwest::Method::POST, &divisions)
        .await
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 413);
    assert_eq!(problem_of(answer).await["code"], "payload_too_large");
    // A path without the method lists the ones it has.
    let answer = send(&sandbox, reqwest::Method::PATCH, &divisions).await.send().await.unwrap();
    assert_eq!(answer.status(), 405);
    assert_eq!(answer.headers()["allow"], "GET, POST");
    // `/api_keys/context` is not a key id: DELETE is not one of its methods.
    let answer = send(&sandbox, reqwest::Method::DELETE, &format!("/tenants/{TENANT}/api_keys/context")).await;
    let answer = answer.send().await.unwrap();
    assert_eq!((answer.status().as_u16(), answer.headers()["allow"].to_str().unwrap()), (405, "GET"));
    // A redirect.
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answer = no_redirects.get(format!("{}/account/auth/callback?id=1", sandbox.url())).send().await.unwrap();
    assert_eq!(answer.status(), 307);
    assert!(answer.headers()["location"].to_str().unwrap().starts_with("http"));
    // A download has its documented media type.
    let pdf = send(&sandbox, reqwest::Method::GET, &format!("/tenants/{TENANT}/billing/invoices/90412/pdf")).await;
    let answer = pdf.send().await.unwrap();
    assert_eq!(answer.headers()["content-type"], "application/pdf");
    assert!(answer.bytes().await.unwrap().starts_with(b"%PDF"));
}

#[tokio::test]
async fn audit_filters_apply_to_the_entries_returned() {
    let sandbox = Sandbox::start().await.unwrap();
    let entries = |query: &'static str| {
        let sandbox = &sandbox;
        async move {
            let answer = raw()
                .get(format!("{}/audit/tenants/{TENANT}?{query}", sandbox.audit_url()))
                .header("ld-api-key", sandbox.admin_key())
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200, "{query}");
            let page: serde_json::Value = answer.json().await.unwrap();
            let types: Vec<String> =
                page["items"].as_array().unwrap().iter().map(|i| i["type"].as_str().unwrap().to_owned()).collect();
            (types, page["total_results"].as_u64().unwrap())
        }
    };
    assert_eq!(entries("").await.1, 2);
    assert_eq!(entries("types=api_key_created").await, (vec!["api_key_created".to_owned()], 1));
    assert_eq!(entries("from=2026-10-12T00:00:00Z").await, (vec!["deployment_created".to_owned()], 1));
    assert_eq!(entries("deployment=88012&types=deployment_created,api_key_created").await.1, 1);
    assert_eq!(entries("to=2026-01-01T00:00:00Z").await.1, 0);
}

#[tokio::test]
async fn divisions_environments_and_deployments_are_kept() {
    let sandbox = Sandbox::start().await.unwrap();
    let created = send(&sandbox, reqwest::Method::POST, &format!("/tenants/{TENANT}/divisions"))
        .await
        .json(&serde_json::json!({"name": "analytics", "description": "Dashboards"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let division = created.headers()["ld-division"].to_str().unwrap().to_owned();
    let at = format!("/tenants/{TENANT}/divisions/{division}");
    let read = |path: String| {
        let sandbox = &sandbox;
        async move { send(sandbox, reqwest::Method::GET, &path).await.send().await.unwrap() }
    };
    let details: serde_json::Value = read(at.clone()).await.json().await.unwrap();
    assert_eq!((details["name"].as_str(), details["description"].as_str()), (Some("analytics"), Some("Dashboards")));
    let list: serde_json::Value = read(format!("/tenants/{TENANT}/divisions")).await.json().await.unwrap();
    assert_eq!(list["total_results"], 2);
    let update = send(&sandbox, reqwest::Method::PUT, &at).await.json(&serde_json::json!({"name": "bi"})).send().await;
    assert_eq!(update.unwrap().status(), 204);
    let details: serde_json::Value = read(at.clone()).await.json().await.unwrap();
    assert_eq!(details["name"], "bi");

    let created = send(&sandbox, reqwest::Method::POST, &format!("{at}/environments"))
        .await
        .json(&serde_json::json!({"name": "staging"}))
        .send()
        .await
        .unwrap();
    let environment = created.headers()["ld-environment"].to_str().unwrap().to_owned();
    let deployments = format!("{at}/environments/{environment}/deployments");
    let created = send(&sandbox, reqwest::Method::POST, &format!("{deployments}/managed"))
        .await
        .json(&unprotected(crate_example("deploy_to_managed_cloud")))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 202);
    let deployment = created.headers()["ld-deployment"].to_str().unwrap().to_owned();
    let list: serde_json::Value = read(deployments.clone()).await.json().await.unwrap();
    assert_eq!(list["items"][0]["id"].to_string(), deployment);
    let update = send(&sandbox, reqwest::Method::PUT, &format!("{deployments}/{deployment}"))
        .await
        .json(&serde_json::json!({"description": "orders"}))
        .send()
        .await
        .unwrap();
    assert_eq!(update.status(), 200);
    let details: serde_json::Value = read(format!("{deployments}/{deployment}")).await.json().await.unwrap();
    assert_eq!(details["description"], "orders");
    let deleted = send(&sandbox, reqwest::Method::DELETE, &format!("{deployments}/{deployment}")).await.send().await;
    assert_eq!(deleted.unwrap().status(), 202);
    assert_eq!(read(format!("{deployments}/{deployment}")).await.status(), 404);
    // Deleting the division takes its environments along.
    let deleted = send(&sandbox, reqwest::Method::DELETE, &at).await.send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(read(at.clone()).await.status(), 404);
    assert_eq!(read(format!("{at}/environments/{environment}")).await.status(), 404);
    // Other tenants are not there.
    assert_eq!(read("/tenants/9/divisions".into()).await.status(), 404);
}

/// A create body without deletion protection (the documented examples ask for it).
fn unprotected(mut body: serde_json::Value) -> serde_json::Value {
    body["protected"] = false.into();
    body
}

/// The request example an operation documents, from the sandbox's own copy of the documents.
fn crate_example(operation_id: &str) -> serde_json::Value {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../openapi/laserdata-main.openapi-3.1.json")).unwrap();
    let operation = laserdata_spec::operations::find(&doc, operation_id).unwrap();
    let media = &operation.request_body(&doc).unwrap()["content"]["application/json"];
    laserdata_spec::examples::first(&doc, media).unwrap().clone()
}

#[tokio::test]
async fn the_admin_key_is_protected_and_a_protected_division_needs_its_code() {
    let sandbox = Sandbox::start().await.unwrap();
    let answer = send(&sandbox, reqwest::Method::DELETE, &format!("/tenants/{TENANT}/api_keys/1")).await;
    let answer = answer.send().await.unwrap();
    assert_eq!(answer.status(), 403);
    assert_eq!(problem_of(answer).await["code"], "resource_protected");
    let client = client(&sandbox, sandbox.admin_key());
    client.main().get_api_key_context().tenant_id(TENANT).send().await.unwrap();

    let created = send(&sandbox, reqwest::Method::POST, &format!("/tenants/{TENANT}/divisions"))
        .await
        .json(&serde_json::json!({"name": "vault", "protected": true}))
        .send()
        .await
        .unwrap();
    let division: u64 = created.headers()["ld-division"].to_str().unwrap().parse().unwrap();
    let at = format!("/tenants/{TENANT}/divisions/{division}");
    let refused = send(&sandbox, reqwest::Method::DELETE, &at).await.send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let request = serde_json::json!({"action": {"action_type": "delete_division", "payload": {"tenant_id": TENANT, "division_id": division}}});
    let sent = send(&sandbox, reqwest::Method::PUT, &format!("/tenants/{TENANT}/request_code")).await;
    assert_eq!(sent.json(&request).send().await.unwrap().status(), 204);
    let codes = sandbox.sent_codes();
    assert_eq!(codes.len(), 1);
    assert_eq!(codes[0].0, format!("delete_division {division}"));
    let wrong = send(&sandbox, reqwest::Method::DELETE, &format!("{at}?code=000000x")).await.send().await.unwrap();
    assert_eq!(wrong.status(), 403);
    let deleted = send(&sandbox, reqwest::Method::DELETE, &format!("{at}?code={}", codes[0].1)).await;
    assert_eq!(deleted.send().await.unwrap().status(), 204);
}

#[tokio::test]
async fn a_rate_limit_of_zero_is_no_limit() {
    let config = Config { rate_limit_per_second: 0, ..Config::default() };
    let sandbox = Sandbox::start_with(config, 0).await.unwrap();
    let admin = client(&sandbox, sandbox.admin_key());
    for _ in 0..40 {
        admin.main().get_api_key_context().tenant_id(TENANT).send().await.unwrap();
    }
}

#[tokio::test]
async fn the_command_line_takes_a_rate_limit_and_prints_the_ids_to_use() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_laserdata-sandbox"))
        .args(["--port", "0", "--rate-limit", "0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The banner ends with the rate limit; the sandbox then serves until it is stopped.
    let mut lines = Vec::new();
    for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let last = line.starts_with("rate limit:");
        lines.push(line);
        if last {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    for expected in ["LD_TENANT_ID=1042", "LD_DIVISION_ID=312", "rate limit: off"] {
        assert!(lines.iter().any(|line| line == expected), "{expected} in {lines:#?}");
    }
    assert!(lines.iter().any(|line| line.starts_with("LD_API_KEY=ldsk_admin_")), "{lines:#?}");
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_laserdata-sandbox"))
        .args(["--rate-limit", "many"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--rate-limit takes a number"));
}
