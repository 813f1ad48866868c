//! Round trips for every tag of the Supervisor API through the generated client, over loopback
//! HTTP: the server answers with the spec's example and checks that the request carries the
//! key, the right method and path, and exactly the spec's request example as its body. Every
//! paged list of the layer is walked once through its paging stream.

use futures::TryStreamExt;
use laserdata::PagedStream;
use laserdata::supervisor::types;
use laserdata_e2e::{client_for, serve_example};
use wiremock::{MockServer, Request};

const DEPLOYMENT: i64 = 88012;
const NODE_0: i64 = 610_809_900_976_570_889;
const NODE_1: i64 = 610_809_900_976_570_890;

async fn setup() -> (MockServer, laserdata::supervisor::Client) {
    let server = MockServer::start().await;
    let supervisor = client_for(&server).supervisor(&server.uri()).expect("a loopback URL is accepted");
    (server, supervisor)
}

/// The one request the server received with this method on a path ending in `suffix`.
async fn received(server: &MockServer, method: &str, suffix: &str) -> Request {
    let mut matching: Vec<Request> = server
        .received_requests()
        .await
        .expect("the server records requests")
        .into_iter()
        .filter(|request| request.method.as_str() == method && request.url.path().ends_with(suffix))
        .collect();
    assert_eq!(matching.len(), 1, "expected one {method} request to …{suffix}");
    matching.remove(0)
}

/// The value of a query parameter of a received request.
fn query(request: &Request, name: &str) -> Option<String> {
    request.url.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

/// Checks that a paging stream asked for the first page at the default page size.
fn assert_first_page(request: &Request) {
    assert_eq!(query(request, "page").as_deref(), Some("1"), "{}", request.url);
    assert_eq!(query(request, "results").as_deref(), Some("100"), "{}", request.url);
}

#[tokio::test]
async fn credentials_nodes_and_tasks() {
    let (server, supervisor) = setup().await;
    let credentials = serve_example(&server, "get_deployment_credentials").await;
    let nodes = serve_example(&server, "get_deployment_nodes").await;
    let tasks = serve_example(&server, "get_deployment_tasks").await;

    let login = supervisor.get_deployment_credentials().deployment_id(DEPLOYMENT).send().await.unwrap().into_inner();
    credentials.assert_answer(&login);
    let password = credentials.response.as_ref().unwrap()["password"].as_str().unwrap();
    assert_eq!(login.password.expose(), password);
    assert!(!format!("{login:?}").contains(password), "the Iggy password leaked into Debug output");

    let listed = supervisor.get_deployment_nodes().deployment_id(DEPLOYMENT).send().await.unwrap().into_inner();
    nodes.assert_answer(&listed);
    // Node ids exceed 2^53: they must survive as 64-bit integers, not floats.
    assert_eq!(listed.0[1]["id"].as_i64(), Some(NODE_1));

    let running = supervisor.get_deployment_tasks().deployment_id(DEPLOYMENT).send().await.unwrap().into_inner();
    tasks.assert_answer(&running);
    assert_eq!(received(&server, "GET", "/tasks").await.url.path(), "/deployments/88012/tasks");
}

#[tokio::test]
async fn configuration_versions_of_a_kind() {
    let (server, supervisor) = setup().await;
    let list = serve_example(&server, "get_configs").await;
    let schema = serve_example(&server, "get_config_schema").await;
    let primary = serve_example(&server, "get_primary_config").await;
    let versions = serve_example(&server, "get_config_versions").await;
    let version = serve_example(&server, "get_config_version").await;
    let create = serve_example(&server, "create_config").await;
    let _activate = serve_example(&server, "activate_config_version").await;
    let _delete = serve_example(&server, "delete_config").await;

    let rows: Vec<types::ConfigVersionInfo> =
        supervisor.get_configs().deployment_id(DEPLOYMENT).kind("iggy").stream().try_collect().await.unwrap();
    list.assert_items(&rows);
    assert_first_page(&received(&server, "GET", "/configs/iggy").await);

    let settings = supervisor.get_config_schema().deployment_id(DEPLOYMENT).kind("iggy").send().await.unwrap();
    schema.assert_answer(&settings.into_inner());
    let in_force = supervisor.get_primary_config().deployment_id(DEPLOYMENT).kind("iggy").send().await.unwrap();
    primary.assert_answer(&in_force.into_inner());
    let history = supervisor
        .get_config_versions()
        .deployment_id(DEPLOYMENT)
        .kind("iggy")
        .name("high-throughput")
        .send()
        .await
        .unwrap();
    versions.assert_answer(&history.into_inner());
    let first = supervisor
        .get_config_version()
        .deployment_id(DEPLOYMENT)
        .kind("iggy")
        .name("high-throughput")
        .version(1)
        .send()
        .await
        .unwrap();
    version.assert_answer(&first.into_inner());

    let created = supervisor
        .create_config()
        .deployment_id(DEPLOYMENT)
        .kind("iggy")
        .body(create.request_as::<types::CreateConfig>())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let activated = supervisor
        .activate_config_version()
        .deployment_id(DEPLOYMENT)
        .kind("iggy")
        .name("high-throughput")
        .version(2)
        .send()
        .await
        .unwrap();
    assert!(activated.status().is_success());
    assert_eq!(
        received(&server, "POST", "/activate").await.url.path(),
        "/deployments/88012/configs/iggy/high-throughput/versions/2/activate"
    );
    let deleted =
        supervisor.delete_config().deployment_id(DEPLOYMENT).kind("iggy").config_id(498).send().await.unwrap();
    assert!(deleted.status().is_success());
    assert_eq!(received(&server, "DELETE", "/498").await.url.path(), "/deployments/88012/configs/iggy/498");
}

#[tokio::test]
async fn configuration_of_iggy_through_its_own_routes() {
    let (server, supervisor) = setup().await;
    let schema = serve_example(&server, "get_iggy_config_schema").await;
    let create = serve_example(&server, "create_iggy_config").await;

    let settings = supervisor.get_iggy_config_schema().deployment_id(DEPLOYMENT).send().await.unwrap();
    let settings = settings.into_inner();
    schema.assert_answer(&settings);
    assert!(settings.contains_key("segment"), "{settings:?}");
    let created = supervisor
        .create_iggy_config()
        .deployment_id(DEPLOYMENT)
        .body(create.request_as::<types::CreateConfig>())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    // The client adds an idempotency key to every create that honours one.
    let sent = received(&server, "POST", "/configs/iggy").await;
    assert!(sent.headers.contains_key("idempotency-key"), "{:?}", sent.headers);
}

#[tokio::test]
async fn connector_instances() {
    let (server, supervisor) = setup().await;
    let list = serve_example(&server, "get_connector_instances").await;
    let _delete = serve_example(&server, "delete_connector_instance").await;

    let instances: Vec<types::ConnectorInstanceInfo> =
        supervisor.get_connector_instances().deployment_id(DEPLOYMENT).stream().try_collect().await.unwrap();
    list.assert_items(&instances);
    assert_first_page(&received(&server, "GET", "/connectors").await);
    let deleted = supervisor
        .delete_connector_instance()
        .deployment_id(DEPLOYMENT)
        .instance_id(instances[1].instance_id)
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success());
    assert_eq!(received(&server, "DELETE", "/73022").await.url.path(), "/deployments/88012/connectors/73022");
}

#[tokio::test]
async fn activities_are_accepted_then_listed() {
    let (server, supervisor) = setup().await;
    let create = serve_example(&server, "create_activity").await;
    let list = serve_example(&server, "get_activities").await;

    // Which named example is the first one depends on whether serde_json keeps key order (it
    // does when the whole workspace is built): the body is checked against it either way.
    let accepted = supervisor
        .create_activity()
        .deployment_id(DEPLOYMENT)
        .runtime("iggy")
        .action("reconfigure:512")
        .idempotency_key("reconfigure-512-once")
        .body(create.request_as::<types::CreateActivity>())
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status().as_u16(), 202);
    let sent = received(&server, "POST", "512").await;
    assert_eq!(sent.url.path().replace("%3A", ":"), "/deployments/88012/activities/iggy/reconfigure:512");
    assert_eq!(sent.headers["idempotency-key"], "reconfigure-512-once");

    let activities: Vec<types::ActivityInfo> =
        supervisor.get_activities().deployment_id(DEPLOYMENT).stream().try_collect().await.unwrap();
    list.assert_items(&activities);
    assert_first_page(&received(&server, "GET", "/activities").await);
}

#[tokio::test]
async fn networking_on_aws() {
    let (server, supervisor) = setup().await;
    let info = serve_example(&server, "get_network_info").await;
    let peerings = serve_example(&server, "get_aws_vpc_peerings").await;
    let peer = serve_example(&server, "create_aws_vpc_peering").await;
    let instructions = serve_example(&server, "get_aws_vpc_peering_instructions").await;
    let _unpeer = serve_example(&server, "delete_aws_vpc_peering").await;
    let links = serve_example(&server, "get_aws_private_links").await;
    let link = serve_example(&server, "create_aws_private_link").await;
    let _unlink = serve_example(&server, "delete_aws_private_link").await;

    let network = supervisor.get_network_info().deployment_id(DEPLOYMENT).send().await.unwrap();
    info.assert_answer(&network.into_inner());

    let created = supervisor
        .create_aws_vpc_peering()
        .deployment_id(DEPLOYMENT)
        .body(peer.request_as::<types::CreateAwsVpcPeering>())
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success());
    let listed = supervisor.get_aws_vpc_peerings().deployment_id(DEPLOYMENT).send().await.unwrap().into_inner();
    peerings.assert_answer(&listed);
    let peering = listed.0[0].id;
    let steps = supervisor
        .get_aws_vpc_peering_instructions()
        .deployment_id(DEPLOYMENT)
        .peering_id(peering)
        .send()
        .await
        .unwrap();
    instructions.assert_answer(&steps.into_inner());
    let deleted = supervisor.delete_aws_vpc_peering().deployment_id(DEPLOYMENT).peering_id(peering).send().await;
    assert!(deleted.unwrap().status().is_success());
    assert_eq!(
        received(&server, "DELETE", "/611204578301946881").await.url.path(),
        "/deployments/88012/network/aws/vpc_peering/611204578301946881"
    );

    let created = supervisor
        .create_aws_private_link()
        .deployment_id(DEPLOYMENT)
        .body(link.request_as::<types::CreateAwsPrivateLink>())
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success());
    let listed = supervisor.get_aws_private_links().deployment_id(DEPLOYMENT).send().await.unwrap().into_inner();
    links.assert_answer(&listed);
    let deleted = supervisor
        .delete_aws_private_link()
        .deployment_id(DEPLOYMENT)
        .private_link_id(listed.0[0].id)
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success());
    assert_eq!(
        received(&server, "DELETE", "/611204578301947101").await.url.path(),
        "/deployments/88012/network/aws/private_link/611204578301947101"
    );
}

#[tokio::test]
async fn networking_on_gcp() {
    let (server, supervisor) = setup().await;
    let peerings = serve_example(&server, "get_gcp_vpc_peerings").await;
    let peer = serve_example(&server, "create_gcp_vpc_peering").await;
    let _unpeer = serve_example(&server, "delete_gcp_vpc_peering").await;
    let attachments = serve_example(&server, "get_gcp_private_service_connects").await;
    let attach = serve_example(&server, "create_gcp_private_service_connect").await;
    let _detach = serve_example(&server, "delete_gcp_private_service_connect").await;

    let created = supervisor
        .create_gcp_vpc_peering()
        .deployment_id(DEPLOYMENT)
        .body(peer.request_as::<types::CreateGcpVpcPeering>())
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success());
    let listed = supervisor.get_gcp_vpc_peerings().deployment_id(DEPLOYMENT).send().await.unwrap().into_inner();
    peerings.assert_answer(&listed);
    let deleted =
        supervisor.delete_gcp_vpc_peering().deployment_id(DEPLOYMENT).peering_id(listed.0[0].id).send().await.unwrap();
    assert!(deleted.status().is_success());
    assert_eq!(
        received(&server, "DELETE", "/611204578301947034").await.url.path(),
        "/deployments/88012/network/gcp/vpc_peering/611204578301947034"
    );

    let created = supervisor
        .create_gcp_private_service_connect()
        .deployment_id(DEPLOYMENT)
        .body(attach.request_as::<types::CreateGcpPrivateServiceConnect>())
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success());
    let listed =
        supervisor.get_gcp_private_service_connects().deployment_id(DEPLOYMENT).send().await.unwrap().into_inner();
    attachments.assert_answer(&listed);
    let deleted = supervisor
        .delete_gcp_private_service_connect()
        .deployment_id(DEPLOYMENT)
        .private_service_connect_id(listed.0[0].id)
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success());
    assert_eq!(
        received(&server, "DELETE", "/611204578301947188").await.url.path(),
        "/deployments/88012/network/gcp/private_service_connect/611204578301947188"
    );
}

#[tokio::test]
async fn access_rules() {
    let (server, supervisor) = setup().await;
    let list = serve_example(&server, "get_access_rules").await;
    let create = serve_example(&server, "create_access_rule").await;
    let _delete = serve_example(&server, "delete_access_rule").await;

    let created = supervisor
        .create_access_rule()
        .deployment_id(DEPLOYMENT)
        .body(create.request_as::<types::CreateAccessRule>())
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success());
    let rules: Vec<types::AccessRuleInfo> =
        supervisor.get_access_rules().deployment_id(DEPLOYMENT).stream().try_collect().await.unwrap();
    list.assert_items(&rules);
    assert_first_page(&received(&server, "GET", "/access_rules").await);
    let deleted = supervisor.delete_access_rule().deployment_id(DEPLOYMENT).rules_id(rules[1].id).send().await;
    assert!(deleted.unwrap().status().is_success());
    assert_eq!(
        received(&server, "DELETE", "/611204578301948017").await.url.path(),
        "/deployments/88012/access_rules/611204578301948017"
    );
}

#[tokio::test]
async fn observability_summaries_and_node_histories() {
    let (server, supervisor) = setup().await;
    let summary = serve_example(&server, "get_deployment_metrics").await;
    let latest = serve_example(&server, "get_heartbeats").await;
    let metrics = serve_example(&server, "get_node_metrics").await;
    let heartbeats = serve_example(&server, "get_node_heartbeats").await;

    let answer = supervisor.get_deployment_metrics().deployment_id(DEPLOYMENT).send().await.unwrap();
    summary.assert_answer(&answer.into_inner());
    let answer = supervisor.get_heartbeats().deployment_id(DEPLOYMENT).send().await.unwrap();
    latest.assert_answer(&answer.into_inner());

    let from: chrono::DateTime<chrono::Utc> = "2026-01-31T00:00:00Z".parse().unwrap();
    let to: chrono::DateTime<chrono::Utc> = "2026-02-01T00:00:00Z".parse().unwrap();
    let samples: Vec<types::NodeMetrics> = supervisor
        .get_node_metrics()
        .deployment_id(DEPLOYMENT)
        .node_id(NODE_0)
        .runtime("iggy".to_owned())
        .from(from)
        .to(to)
        .stream()
        .try_collect()
        .await
        .unwrap();
    metrics.assert_items(&samples);
    let sent = received(&server, "GET", "/metrics/iggy").await;
    assert_eq!(sent.url.path(), "/deployments/88012/nodes/610809900976570889/metrics/iggy");
    assert_first_page(&sent);
    assert_eq!(query(&sent, "from").as_deref(), Some("2026-01-31T00:00:00Z"));
    assert_eq!(query(&sent, "to").as_deref(), Some("2026-02-01T00:00:00Z"));

    let beats: Vec<types::HeartbeatRecord> = supervisor
        .get_node_heartbeats()
        .deployment_id(DEPLOYMENT)
        .node_id(NODE_1)
        .runtime("iggy".to_owned())
        .stream()
        .try_collect()
        .await
        .unwrap();
    heartbeats.assert_items(&beats);
    let sent = received(&server, "GET", "/heartbeats/iggy").await;
    assert_eq!(sent.url.path(), "/deployments/88012/nodes/610809900976570890/heartbeats/iggy");
    assert_first_page(&sent);
}

#[tokio::test]
async fn observability_logs_with_filters() {
    let (server, supervisor) = setup().await;
    let logs = serve_example(&server, "get_logs").await;

    let lines: Vec<types::LogEntry> = supervisor
        .get_logs()
        .deployment_id(DEPLOYMENT)
        .runtime("iggy".to_owned())
        .node(NODE_0.to_string())
        .level("error")
        .message("segment")
        .stream()
        .try_collect()
        .await
        .unwrap();
    logs.assert_items(&lines);
    let sent = received(&server, "GET", "/logs").await;
    assert_first_page(&sent);
    for (name, value) in
        [("runtime", "iggy"), ("node", "610809900976570889"), ("level", "error"), ("message", "segment")]
    {
        assert_eq!(query(&sent, name).as_deref(), Some(value), "{}", sent.url);
    }
}

#[tokio::test]
async fn snapshots_keep_the_download_url_secret() {
    let (server, supervisor) = setup().await;
    let create = serve_example(&server, "create_snapshot").await;
    let list = serve_example(&server, "get_snapshots").await;
    let download = serve_example(&server, "get_snapshot_download").await;
    let _delete = serve_example(&server, "delete_snapshot").await;

    let created = supervisor
        .create_snapshot()
        .deployment_id(DEPLOYMENT)
        .body(create.request_as::<types::CreateSnapshot>())
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success());
    let snapshots: Vec<types::SnapshotInfo> =
        supervisor.get_snapshots().deployment_id(DEPLOYMENT).stream().try_collect().await.unwrap();
    list.assert_items(&snapshots);
    assert_first_page(&received(&server, "GET", "/snapshots").await);

    let link = supervisor
        .get_snapshot_download()
        .deployment_id(DEPLOYMENT)
        .snapshot_id(snapshots[1].id)
        .send()
        .await
        .unwrap()
        .into_inner();
    download.assert_answer(&link);
    let url = download.response.as_ref().unwrap()["url"].as_str().unwrap();
    assert_eq!(link.url.expose(), url);
    let shown = format!("{link:?}");
    assert!(!shown.contains(url) && !shown.contains("X-Amz-Signature"), "the presigned URL leaked: {shown}");
    assert_eq!(received(&server, "GET", "/download").await.url.path(), "/deployments/88012/snapshots/9274/download");

    let deleted = supervisor.delete_snapshot().deployment_id(DEPLOYMENT).snapshot_id(snapshots[1].id).send().await;
    assert!(deleted.unwrap().status().is_success());
    assert_eq!(received(&server, "DELETE", "/9274").await.url.path(), "/deployments/88012/snapshots/9274");
}

#[tokio::test]
async fn backups() {
    let (server, supervisor) = setup().await;
    let list = serve_example(&server, "get_backups").await;
    let create = serve_example(&server, "create_backup").await;
    let _restore = serve_example(&server, "restore_backup").await;
    let _delete = serve_example(&server, "delete_backup").await;

    let accepted = supervisor
        .create_backup()
        .deployment_id(DEPLOYMENT)
        .body(create.request_as::<types::CreateBackup>())
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status().as_u16(), 202);
    let backups = supervisor.get_backups().deployment_id(DEPLOYMENT).send().await.unwrap().into_inner();
    list.assert_answer(&backups);

    let restoring = supervisor.restore_backup().deployment_id(DEPLOYMENT).backup_id(backups[0].id).send().await;
    assert_eq!(restoring.unwrap().status().as_u16(), 202);
    assert_eq!(received(&server, "POST", "/restore").await.url.path(), "/deployments/88012/backups/4021/restore");
    let deleted = supervisor.delete_backup().deployment_id(DEPLOYMENT).backup_id(backups[0].id).send().await;
    assert!(deleted.unwrap().status().is_success());
    assert_eq!(received(&server, "DELETE", "/4021").await.url.path(), "/deployments/88012/backups/4021");
}
