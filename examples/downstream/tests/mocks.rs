//! A test written with the typed mocks: the program's code against a mocked Main API.

use httpmock::MockServer;
use laserdata::main::types::{ApiKeyId, ErrorResponse, FieldIssue, TenantId};
use laserdata::{Error, RetryPolicy};
use laserdata_main_httpmock::MockServerExt;

#[tokio::test]
async fn a_mocked_problem_answer_reaches_the_program_typed() {
    let server = MockServer::start_async().await;
    let problem = ErrorResponse::builder()
        .title("Bad Request")
        .code("validation_failed")
        .reason("The request body has invalid fields.")
        .field_issues(vec![FieldIssue::builder().code("required").reason("must not be empty").path(Some("name".to_owned())).try_into().unwrap()]);
    let problem: ErrorResponse = problem.try_into().unwrap();
    let mock = server.get_api_key(|when, then| {
        when.tenant_id(&TenantId(1042)).api_key_id(&ApiKeyId(7));
        then.problem(400, &problem);
    });
    let client = laserdata::Client::builder()
        .api_key("test-key")
        .main_url(server.base_url())
        .retry(RetryPolicy::never())
        .build()
        .unwrap();

    let error = client.main().get_api_key().tenant_id(1042).api_key_id(7).send().await.unwrap_err();

    mock.assert();
    assert_eq!(laserdata_downstream::explain(&error), "rejected fields: name: required");
    let Error::Api(answer) = error else { panic!("expected an error answer") };
    assert_eq!(answer.problem.as_ref(), Some(&problem));
}
