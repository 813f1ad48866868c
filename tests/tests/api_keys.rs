//! The API Keys operations through the generated client, over real HTTP on loopback.

use std::time::Duration;

use futures::TryStreamExt;
use laserdata::main::types;
use laserdata::{Error, PagedStream};
use laserdata_e2e::{API_KEY, client_for, request_example, response_example};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TENANT: i64 = 1042;

fn problem(status: u16, request_id: &str, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/problem+json")
        .insert_header("ld-request", request_id)
        .set_body_json(body)
}

#[tokio::test]
async fn create_returns_the_secret_once_and_it_stays_redacted() {
    let server = MockServer::start().await;
    let body = request_example("create_api_key", "existing_role");
    let created = response_example("create_api_key", "201");
    Mock::given(method("POST"))
        .and(path(format!("/tenants/{TENANT}/api_keys")))
        .and(header("ld-api-key", API_KEY))
        .and(header("idempotency-key", "7c0e2a9e-1b7d-4d0a-9a51-2f7f0c4b7e11"))
        .and(body_json(&body))
        .respond_with(ResponseTemplate::new(201).insert_header("ld-request", "req-create").set_body_json(&created))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/tenants/{TENANT}/api_keys/7301")))
        .respond_with(ResponseTemplate::new(200).set_body_json(response_example("get_api_key", "200")))
        .mount(&server)
        .await;
    let client = client_for(&server);

    let request: types::CreateApiKey = serde_json::from_value(body).unwrap();
    assert!(matches!(request, types::CreateApiKey::Role(_)), "the role example is the role variant");
    let response = client
        .main()
        .create_api_key()
        .tenant_id(TENANT)
        .idempotency_key("7c0e2a9e-1b7d-4d0a-9a51-2f7f0c4b7e11")
        .body(request)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(response.headers()["ld-request"], "req-create");
    let token = response.token.clone();
    assert_eq!(token.expose(), created["token"].as_str().unwrap());
    let shown = format!("{:?} {token} {token:?}", response.into_inner());
    assert!(!shown.contains(created["token"].as_str().unwrap()), "secret leaked into {shown}");
    assert!(shown.contains("[redacted]"));

    // Reading the key back never returns the secret: the type has no field for it.
    let fetched = client.main().get_api_key().tenant_id(TENANT).api_key_id(7302).send().await;
    // 7302 is not mounted: wiremock answers 404 without a body.
    let error = fetched.unwrap_err();
    assert!(error.api().is_some_and(|api| api.is_not_found()), "{error}");
    let fetched = client.main().get_api_key().tenant_id(TENANT).api_key_id(7301).send().await.unwrap();
    let as_json = serde_json::to_value(fetched.into_inner()).unwrap();
    assert!(as_json.get("token").is_none() && as_json.get("secret").is_none());
}

#[tokio::test]
async fn inline_permissions_are_the_other_variant_of_create() {
    let body = request_example("create_api_key", "inline_permissions");
    let request: types::CreateApiKey = serde_json::from_value(body.clone()).unwrap();
    let types::CreateApiKey::Permissions(inline) = &request else { panic!("expected the inline variant: {request:?}") };
    assert_eq!(inline.permissions.tenant.as_deref(), Some(&["info:read".to_owned(), "member:read".to_owned()][..]));
    assert_eq!(serde_json::to_value(&request).unwrap(), body, "the body is sent exactly as described");
}

#[tokio::test]
async fn listing_streams_every_page_in_order() {
    let server = MockServer::start().await;
    let template = response_example("get_api_keys", "200")["items"][0].clone();
    let all: Vec<Value> = (0..7)
        .map(|n| {
            let mut key = template.clone();
            key["id"] = json!(8000 + n);
            key["name"] = json!(format!("key-{n}"));
            key
        })
        .collect();
    for (page, chunk) in all.chunks(3).enumerate() {
        let page = page + 1;
        Mock::given(method("GET"))
            .and(path(format!("/tenants/{TENANT}/api_keys")))
            .and(query_param("page", page.to_string()))
            .and(query_param("results", "3"))
            .and(header("ld-api-key", API_KEY))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "items": chunk, "page": page, "total_results": 7, "total_pages": 3,
            })))
            .expect(1)
            .mount(&server)
            .await;
    }
    let client = client_for(&server);

    let keys: Vec<types::ApiKeyInfo> = client
        .main()
        .get_api_keys()
        .tenant_id(TENANT)
        .stream_pages_of(3.try_into().unwrap())
        .try_collect()
        .await
        .unwrap();

    let ids: Vec<i64> = keys.iter().map(|key| key.id.get()).collect();
    assert_eq!(ids, (8000..8007).collect::<Vec<_>>());
    assert_eq!(server.received_requests().await.unwrap().len(), 3, "one request per page, none after the last");
}

#[tokio::test]
async fn a_failing_page_ends_the_stream_with_the_typed_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "items": [response_example("get_api_keys", "200")["items"][0]], "page": 1, "total_results": 2, "total_pages": 2,
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("page", "2"))
        .respond_with(problem(503, "req-p2", response_example("get_api_keys", "503")).insert_header("retry-after", "7"))
        .mount(&server)
        .await;
    let client = client_for(&server);

    let results: Vec<Result<types::ApiKeyInfo, Error>> =
        client.main().get_api_keys().tenant_id(TENANT).stream_pages_of(1.try_into().unwrap()).collect_vec().await;
    assert_eq!(results.len(), 2);
    assert!(results[0].is_ok());
    let error = results[1].as_ref().unwrap_err().api().expect("an API error");
    assert_eq!(error.status.as_u16(), 503);
    assert_eq!(error.retry_after, Some(Duration::from_secs(7)));
    assert_eq!(error.request_id.as_deref(), Some("req-p2"));
}

/// `futures::StreamExt::collect` without importing the trait's name clash with TryStreamExt.
trait CollectVec: futures::Stream + Sized {
    async fn collect_vec(self) -> Vec<Self::Item> {
        futures::StreamExt::collect(self).await
    }
}
impl<S: futures::Stream> CollectVec for S {}

#[tokio::test]
async fn validation_errors_carry_every_field_issue() {
    let server = MockServer::start().await;
    let body = response_example("create_api_key", "400");
    Mock::given(method("POST")).respond_with(problem(400, "req-400", body.clone())).mount(&server).await;
    let client = client_for(&server);
    let request: types::CreateApiKey =
        serde_json::from_value(request_example("create_api_key", "inline_permissions")).unwrap();

    let error = client.main().create_api_key().tenant_id(TENANT).body(request).send().await.unwrap_err();

    let Error::Api(api) = &error else { panic!("expected an API error, got {error:?}") };
    assert_eq!(api.status.as_u16(), 400);
    assert_eq!(api.code(), Some("validation_failed"));
    assert_eq!(api.request_id.as_deref(), Some("req-400"));
    assert_eq!(error.request_id(), Some("req-400"));
    let issues: Vec<(&str, Option<&str>)> =
        api.field_issues().iter().map(|i| (i.code.as_str(), i.path.as_deref())).collect();
    let expected: Vec<(&str, Option<&str>)> = body["field_issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["code"].as_str().unwrap(), i["path"].as_str()))
        .collect();
    assert_eq!(issues, expected);
    assert_eq!(issues.len(), 2);
}

#[tokio::test]
async fn unauthorized_and_forbidden_are_told_apart() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/tenants/{TENANT}/api_keys/context")))
        .respond_with(problem(401, "req-401", response_example("get_api_key_context", "401")))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(problem(403, "req-403", response_example("delete_api_key", "403")))
        .mount(&server)
        .await;
    let client = client_for(&server);

    let unauthorized = client.main().get_api_key_context().tenant_id(TENANT).send().await.unwrap_err();
    let forbidden = client.main().delete_api_key().tenant_id(TENANT).api_key_id(7301).send().await.unwrap_err();

    let (unauthorized, forbidden) = (unauthorized.api().unwrap(), forbidden.api().unwrap());
    assert!(unauthorized.is_unauthorized() && !unauthorized.is_forbidden());
    assert!(forbidden.is_forbidden() && !forbidden.is_unauthorized());
    assert_eq!(unauthorized.code(), Some("unauthorized"));
    assert_eq!(forbidden.code(), Some("insufficient_permissions"));
}

#[tokio::test]
async fn an_html_bad_gateway_is_a_typed_error_not_a_panic() {
    let server = MockServer::start().await;
    let html = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(502)
                .insert_header("content-type", "text/html")
                .insert_header("ld-request", "req-502")
                .set_body_string(html),
        )
        .mount(&server)
        .await;
    let client = client_for(&server);

    let error = client.main().get_api_key().tenant_id(TENANT).api_key_id(1).send().await.unwrap_err();

    let api = error.api().expect("an API error");
    assert_eq!(api.status.as_u16(), 502);
    assert!(api.problem.is_none());
    assert_eq!(api.raw_body.as_deref(), Some(html));
    assert_eq!(api.request_id.as_deref(), Some("req-502"));
    assert!(error.to_string().contains("502"), "{error}");
}

#[tokio::test]
async fn a_success_body_that_does_not_decode_keeps_status_and_request_id() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/json")
                .insert_header("ld-request", "req-trunc")
                .set_body_string(r#"{"id": 7301, "name": "ci-de"#),
        )
        .mount(&server)
        .await;
    let client = client_for(&server);

    let error = client.main().get_api_key().tenant_id(TENANT).api_key_id(7301).send().await.unwrap_err();

    let Error::InvalidResponse(invalid) = &error else { panic!("expected an invalid response, got {error:?}") };
    assert_eq!(invalid.status.map(|s| s.as_u16()), Some(200));
    assert_eq!(invalid.request_id.as_deref(), Some("req-trunc"));
    assert!(invalid.raw_body.starts_with(r#"{"id": 7301"#));
}

#[tokio::test]
async fn a_missing_required_parameter_is_an_invalid_request_without_any_traffic() {
    let server = MockServer::start().await;
    let client = client_for(&server);
    let error = client.main().get_api_key().tenant_id(TENANT).send().await.unwrap_err();
    assert!(matches!(error, Error::InvalidRequest(_)), "{error:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_key_never_shows_in_debug_or_display_output() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(problem(401, "req-401", response_example("get_api_key_context", "401")))
        .mount(&server)
        .await;
    let builder = laserdata::Client::builder().api_key(API_KEY).main_url(server.uri());
    let client = builder.clone().build().unwrap();
    let error = client.main().get_api_key_context().tenant_id(TENANT).send().await.unwrap_err();
    let insecure =
        laserdata::Client::builder().api_key(API_KEY).main_url("http://api.laserdata.cloud").build().unwrap_err();

    let outputs = [
        format!("{builder:?}"),
        format!("{client:?}"),
        format!("{:?}", client.main()),
        format!("{error:?}"),
        format!("{error}"),
        format!("{insecure:?}"),
        format!("{insecure}"),
    ];
    for output in &outputs {
        assert!(!output.contains(API_KEY), "the key leaked into: {output}");
        assert!(!output.contains("T0pS3cret"), "part of the key leaked into: {output}");
    }
    // The key did travel, in the header.
    let request = &server.received_requests().await.unwrap()[0];
    assert_eq!(request.headers["ld-api-key"], API_KEY);
    assert!(request.headers["user-agent"].to_str().unwrap().starts_with("laserdata-rs/"));
}
