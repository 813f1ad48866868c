//! What the generated round trips (`round_trips.rs`) do not show, through the generated
//! clients over loopback HTTP: secrets that stay out of `Debug` output, ids read from the
//! headers of an answer, paging streams, byte streams, idempotency keys the client adds, and
//! enum values added to the API later.

use std::fmt::Debug;

use futures::{StreamExt, TryStreamExt};
use laserdata::main::types;
use laserdata::{PagedStream, ResponseExt};
use laserdata_e2e::{client_for, serve_example};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TENANT: i64 = 1042;
const DIVISION: i64 = 312;
const ENVIRONMENT: i64 = 5120;
const DEPLOYMENT: i64 = 88012;

async fn setup() -> (MockServer, laserdata::Client) {
    let server = MockServer::start().await;
    let client = client_for(&server);
    (server, client)
}

/// Checks that the secret `field` of the served example is in the decoded `answer`, but not in
/// its `Debug` output.
fn assert_redacted(answer: &(impl Debug + serde::Serialize), example: Option<&serde_json::Value>, field: &str) {
    let secret = example.and_then(|example| example[field].as_str()).expect("the example has the secret");
    assert_eq!(serde_json::to_value(answer).unwrap()[field], secret, "the secret itself is kept");
    let shown = format!("{answer:?}");
    assert!(!shown.contains(secret), "`{field}` leaked into Debug output: {shown}");
}

/// The one request the server received on `path`.
async fn received_on(server: &MockServer, path: &str) -> Request {
    let requests = server.received_requests().await.expect("the server records requests");
    let mut matching: Vec<Request> = requests.into_iter().filter(|request| request.url.path() == path).collect();
    assert_eq!(matching.len(), 1, "expected one request to {path}");
    matching.remove(0)
}

#[tokio::test]
async fn secrets_in_main_answers_stay_out_of_debug_output() {
    let (server, client) = setup().await;
    let sign_in = serve_example(&server, "sign_in").await;
    let channel = serve_example(&server, "get_tenant_channel").await;
    let intent = serve_example(&server, "create_setup_intent").await;

    let session = client.main().sign_in().body(sign_in.request_as::<types::SignIn>()).send().await.unwrap();
    assert_redacted(&session.into_inner(), sign_in.response.as_ref(), "csrf_token");
    let found = client.main().get_tenant_channel().tenant_id(TENANT).channel_id(2201).send().await.unwrap();
    assert_redacted(&found.into_inner(), channel.response.as_ref(), "destination");
    let created = client.main().create_setup_intent().tenant_id(TENANT).send().await.unwrap();
    assert_redacted(&created.into_inner(), intent.response.as_ref(), "client_secret");
}

#[tokio::test]
async fn a_snapshot_download_url_stays_out_of_debug_output() {
    let server = MockServer::start().await;
    let supervisor = client_for(&server).supervisor(&server.uri()).expect("a loopback URL is accepted");
    let download = serve_example(&server, "get_snapshot_download").await;

    let link = supervisor.get_snapshot_download().deployment_id(DEPLOYMENT).snapshot_id(9274).send().await.unwrap();
    let link = link.into_inner();
    assert_redacted(&link, download.response.as_ref(), "url");
    assert!(!format!("{link:?}").contains("X-Amz-Signature"), "the presigned URL's signature leaked");
}

#[tokio::test]
async fn the_quick_start_reads_the_created_ids_and_the_supervisor_url() {
    let (server, client) = setup().await;
    let starter = serve_example(&server, "deploy_starter").await;
    serve_example(&server, "get_deployment").await;

    let accepted = client
        .main()
        .deploy_starter()
        .tenant_id(TENANT)
        .division_id(DIVISION)
        .body(starter.request_as::<types::DeployStarter>())
        .send()
        .await
        .unwrap();
    let created = accepted.created_ids();
    let (environment, deployment) = (created.environment.unwrap(), created.deployment.unwrap());
    assert_eq!((environment.get(), deployment.get()), (ENVIRONMENT, DEPLOYMENT));

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
    assert!(details.supervisor_url.as_deref().is_some_and(|url| url.starts_with("https://")));
}

#[tokio::test]
async fn an_invoice_pdf_streams_in_chunks_to_the_last_byte() {
    let (server, client) = setup().await;
    let pdf = b"%PDF-1.7\n% a small stand-in for an invoice\n%%EOF\n".repeat(100);
    Mock::given(method("GET"))
        .and(path(format!("/tenants/{TENANT}/billing/invoices/9001/pdf")))
        .respond_with(
            ResponseTemplate::new(200).insert_header("content-type", "application/pdf").set_body_bytes(pdf.clone()),
        )
        .expect(1)
        .mount(&server)
        .await;

    let download = client.main().download_invoice_pdf().tenant_id(TENANT).invoice_id(9001).send().await.unwrap();
    let mut body = download.into_inner().into_inner();
    let mut received = Vec::new();
    while let Some(chunk) = body.next().await {
        received.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(received, pdf);
}

#[tokio::test]
async fn a_create_that_honours_idempotency_keys_gets_one_without_asking() {
    let server = MockServer::start().await;
    let supervisor = client_for(&server).supervisor(&server.uri()).expect("a loopback URL is accepted");
    let create = serve_example(&server, "create_iggy_config").await;

    let body = create.request_as::<laserdata::supervisor::types::CreateConfig>();
    supervisor.create_iggy_config().deployment_id(DEPLOYMENT).body(body).send().await.unwrap();
    let sent = received_on(&server, "/deployments/88012/configs/iggy").await;
    assert!(sent.headers.contains_key("idempotency-key"), "{:?}", sent.headers);
}

#[tokio::test]
async fn a_node_history_streams_with_its_filters_from_the_first_page() {
    let server = MockServer::start().await;
    let supervisor = client_for(&server).supervisor(&server.uri()).expect("a loopback URL is accepted");
    let metrics = serve_example(&server, "get_node_metrics").await;

    let from: chrono::DateTime<chrono::Utc> = "2026-01-31T00:00:00Z".parse().unwrap();
    let to: chrono::DateTime<chrono::Utc> = "2026-02-01T00:00:00Z".parse().unwrap();
    let samples: Vec<laserdata::supervisor::types::NodeMetrics> = supervisor
        .get_node_metrics()
        .deployment_id(DEPLOYMENT)
        .node_id(610_809_900_976_570_889_i64)
        .runtime("iggy")
        .from(from)
        .to(to)
        .stream()
        .try_collect()
        .await
        .unwrap();
    metrics.assert_items(&samples);
    let sent = received_on(&server, "/deployments/88012/nodes/610809900976570889/metrics/iggy").await;
    let query: Vec<(String, String)> = sent.url.query_pairs().into_owned().collect();
    for pair in [("page", "1"), ("results", "100"), ("from", "2026-01-31T00:00:00Z"), ("to", "2026-02-01T00:00:00Z")] {
        assert!(query.contains(&(pair.0.to_owned(), pair.1.to_owned())), "{pair:?} is not in {query:?}");
    }
}

#[tokio::test]
async fn enum_values_added_to_the_api_later_do_not_break_decoding() {
    use laserdata::main::types::Cloud;
    use laserdata_core::Open;

    let (server, client) = setup().await;
    let mut page = laserdata_e2e::response_example("get_deployments", "200");
    page["items"][0]["cloud"] = "azure".into();
    page["items"][0]["brand_new_field"] = serde_json::json!({"added": "later"});
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200).set_body_json(&page)).mount(&server).await;

    let deployments: Vec<types::DeploymentInfo> = client
        .main()
        .get_deployments()
        .tenant_id(TENANT)
        .division_id(DIVISION)
        .environment_id(ENVIRONMENT)
        .stream()
        .try_collect()
        .await
        .unwrap();

    assert_eq!(deployments[0].cloud, Open::Unknown("azure".to_owned()));
    assert_eq!(
        serde_json::to_value(&deployments[0]).unwrap()["cloud"],
        "azure",
        "an unknown value encodes back unchanged"
    );
    if let Some(second) = deployments.get(1) {
        assert!(second.cloud.is_known());
    }
    let known: Open<Cloud> = Cloud::Aws.into();
    assert!(known.is_known() && known.known() == Some(&Cloud::Aws));
}

/// The futures of every kind of `send()` (a decoded answer, no body, a body left to stream, a
/// paged list) can move to another thread, as `tokio::spawn` on a multi-threaded runtime needs.
#[tokio::test]
async fn every_kind_of_send_future_is_send() {
    fn assert_send<T: Send>(_: T) {}
    let (_server, client) = setup().await;
    let main = client.main();
    assert_send(
        main.get_deployment()
            .tenant_id(TENANT)
            .division_id(DIVISION)
            .environment_id(ENVIRONMENT)
            .deployment_id(DEPLOYMENT)
            .send(),
    );
    assert_send(main.delete_api_key().tenant_id(TENANT).api_key_id(7).send());
    assert_send(main.download_invoice_pdf().tenant_id(TENANT).invoice_id(7).send());
    assert_send(main.get_api_keys().tenant_id(TENANT).send());
    assert_send(main.get_api_keys().tenant_id(TENANT).stream());
}
