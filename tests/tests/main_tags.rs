//! One round trip per tag of the Main API through the generated client, over loopback HTTP:
//! the server answers with the spec's example and checks that the request carries the key,
//! the right method and path, and exactly the spec's request example as its body.

use futures::TryStreamExt;
use laserdata::main::types;
use laserdata::{Created, PagedStream, TypedErrors};
use laserdata_e2e::{client_for, serve_example};
use wiremock::MockServer;

const TENANT: i64 = 1042;
const DIVISION: i64 = 312;
const ENVIRONMENT: i64 = 5120;

async fn setup() -> (MockServer, laserdata::Client) {
    let server = MockServer::start().await;
    let client = client_for(&server);
    (server, client)
}

#[tokio::test]
async fn tenants() {
    let (server, client) = setup().await;
    let tenant = serve_example(&server, "get_tenant").await;
    let update = serve_example(&server, "update_tenant").await;
    let structure = serve_example(&server, "get_tenant_structure").await;
    let code = serve_example(&server, "request_resource_code").await;

    let answer = client.main().get_tenant().tenant_id(TENANT).send().typed_errors().await.unwrap();
    tenant.assert_answer(&answer.into_inner());
    let updated = client
        .main()
        .update_tenant()
        .tenant_id(TENANT)
        .body(update.request_as::<types::UpdateTenant>())
        .send()
        .typed_errors()
        .await
        .unwrap();
    assert!(updated.status().is_success());
    let tree = client.main().get_tenant_structure().tenant_id(TENANT).send().typed_errors().await.unwrap();
    structure.assert_answer(&tree.into_inner());
    client
        .main()
        .request_resource_code()
        .tenant_id(TENANT)
        .body(code.request_as::<types::RequestResourceCode>())
        .send()
        .typed_errors()
        .await
        .unwrap();
}

#[tokio::test]
async fn divisions() {
    let (server, client) = setup().await;
    let list = serve_example(&server, "get_divisions").await;
    let create = serve_example(&server, "create_division").await;

    let divisions: Vec<types::DivisionInfo> =
        client.main().get_divisions().tenant_id(TENANT).stream().try_collect().await.unwrap();
    let listed = list.response.as_ref().unwrap()["items"].as_array().unwrap().len();
    assert_eq!(divisions.len(), listed);
    let created = client
        .main()
        .create_division()
        .tenant_id(TENANT)
        .body(create.request_as::<types::CreateDivision>())
        .send()
        .typed_errors()
        .await
        .unwrap();
    assert_eq!(created.created_ids().division, Some(types::DivisionId(DIVISION)));
}

#[tokio::test]
async fn environments() {
    let (server, client) = setup().await;
    let create = serve_example(&server, "create_environment").await;
    let get = serve_example(&server, "get_environment").await;

    let created = client
        .main()
        .create_environment()
        .tenant_id(TENANT)
        .division_id(DIVISION)
        .body(create.request_as::<types::CreateEnvironment>())
        .send()
        .typed_errors()
        .await
        .unwrap();
    assert_eq!(created.created_ids().environment, Some(types::EnvironmentId(ENVIRONMENT)));
    let environment = client
        .main()
        .get_environment()
        .tenant_id(TENANT)
        .division_id(DIVISION)
        .environment_id(ENVIRONMENT)
        .send()
        .typed_errors()
        .await
        .unwrap();
    get.assert_answer(&environment.into_inner());
}

#[tokio::test]
async fn account_sign_in_needs_no_key_but_keeps_the_csrf_token_secret() {
    let (server, client) = setup().await;
    let sign_in = serve_example(&server, "sign_in").await;

    let session = client
        .main()
        .sign_in()
        .body(sign_in.request_as::<types::SignIn>())
        .send()
        .typed_errors()
        .await
        .unwrap()
        .into_inner();
    sign_in.assert_answer(&session);
    let shown = format!("{session:?}");
    let token = sign_in.response.as_ref().unwrap()["csrf_token"].as_str().unwrap();
    assert!(!shown.contains(token), "the CSRF token leaked into Debug output: {shown}");
}
