//! The generated typed mocks, used the way a downstream crate would: mock the LaserData API in
//! its own tests with `server.<operation>(|when, then| ..)` and the client's own types.

use httpmock::MockServer;
use laserdata::RetryPolicy;
use laserdata::main::types::{ApiKeyDetails, ApiKeyId, TenantId};
use laserdata_e2e::{client_at, response_example};
use laserdata_main_httpmock::MockServerExt as _;
use laserdata_supervisor_httpmock::MockServerExt as _;

#[tokio::test]
async fn a_downstream_test_mocks_the_main_api_with_typed_values() {
    let server = MockServer::start_async().await;
    let details: ApiKeyDetails = serde_json::from_value(response_example("get_api_key", "200")).unwrap();
    let mock = server.get_api_key(|when, then| {
        when.tenant_id(&TenantId(1042)).api_key_id(&ApiKeyId(7302));
        then.success(200, &details);
    });
    let client = client_at(&server.base_url(), RetryPolicy::never());

    let answer = client.main().get_api_key().tenant_id(1042).api_key_id(7302).send().await.unwrap();

    mock.assert_async().await;
    assert_eq!(answer.into_inner(), details);
    // Another id matches no mock: httpmock answers 404, a typed error.
    let missing = client.main().get_api_key().tenant_id(1042).api_key_id(1).send().await.unwrap_err();
    assert_eq!(missing.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn errors_can_be_mocked_too() {
    let server = MockServer::start_async().await;
    let problem = response_example("get_deployment_credentials", "403");
    server.get_deployment_credentials(|when, then| {
        when.deployment_id(&laserdata::supervisor::types::DeploymentId(88012));
        then.client_error(403, problem.clone());
    });
    let client = client_at(&server.base_url(), RetryPolicy::never());
    let supervisor = client.supervisor(&server.base_url()).unwrap();

    let error = supervisor.get_deployment_credentials().deployment_id(88012).send().await.unwrap_err();

    let api = error.api().unwrap();
    assert!(api.is_forbidden());
    assert_eq!(api.code(), problem["code"].as_str());
}
