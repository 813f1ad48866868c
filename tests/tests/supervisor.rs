//! Discovering a deployment's Supervisor from the Main API, and the Supervisor operations
//! through the generated client, over loopback HTTP.

use laserdata_e2e::{API_KEY, client_for, response_example, serve_example};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_deployment_leads_to_its_supervisor_with_the_same_key() {
    let main = MockServer::start().await;
    let supervisor = MockServer::start().await;
    let client = client_for(&main);
    let mut deployment = response_example("get_deployment", "200");
    deployment["supervisor_url"] = supervisor.uri().into();
    Mock::given(method("GET"))
        .and(path("/tenants/1042/divisions/312/environments/5120/deployments/88012"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&deployment))
        .mount(&main)
        .await;
    let credentials = serve_example(&supervisor, "get_deployment_credentials").await;

    let details = client
        .main()
        .get_deployment()
        .tenant_id(1042)
        .division_id(312)
        .environment_id(5120)
        .deployment_id(88012)
        .send()
        .await
        .unwrap()
        .into_inner();
    let supervisor_client = client.supervisor_for(&details).unwrap();
    let login = supervisor_client.get_deployment_credentials().deployment_id(88012).send().await.unwrap().into_inner();

    credentials.assert_answer(&login);
    let password = credentials.response.as_ref().unwrap()["password"].as_str().unwrap();
    assert_eq!(login.password.expose(), password);
    assert!(!format!("{login:?}").contains(password), "the Iggy password leaked into Debug output");
    let request = &supervisor.received_requests().await.unwrap()[0];
    assert_eq!(request.headers["ld-api-key"], API_KEY);
    assert_eq!(request.url.path(), "/deployments/88012/credentials");
}

#[tokio::test]
async fn a_deployment_without_a_supervisor_yet_is_a_clear_error() {
    let server = MockServer::start().await;
    let client = client_for(&server);
    let mut deployment: laserdata::main::types::DeploymentInfo =
        serde_json::from_value(response_example("get_deployments", "200")["items"][0].clone()).unwrap();
    deployment.supervisor_url = None;
    let error = client.supervisor_for(&deployment).unwrap_err();
    assert!(matches!(error, laserdata::BuildError::NoSupervisor), "{error}");
    let insecure = client.supervisor("http://supervisor-aws-us.laserdata.cloud").unwrap_err();
    assert!(matches!(insecure, laserdata::BuildError::InsecureUrl { .. }), "{insecure}");
}

#[tokio::test]
async fn supervisor_errors_are_typed_like_main_ones() {
    let server = MockServer::start().await;
    let client = client_for(&server);
    Mock::given(method("GET"))
        .and(header("ld-api-key", API_KEY))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("ld-request", "req-sup-403")
                .insert_header("content-type", "application/problem+json")
                .set_body_json(response_example("get_deployment_credentials", "403")),
        )
        .mount(&server)
        .await;
    let supervisor = client.supervisor(&server.uri()).unwrap();
    let error = supervisor.get_deployment_credentials().deployment_id(88012).send().await.unwrap_err();
    let api = error.api().unwrap();
    assert!(api.is_forbidden());
    assert_eq!(api.request_id.as_deref(), Some("req-sup-403"));
}
