//! One round trip per tag of the Main API through the generated client, over loopback HTTP:
//! the server answers with the spec's example and checks that the request carries the key,
//! the right method and path, and exactly the spec's request example as its body.

use futures::TryStreamExt;
use laserdata::main::types;
use laserdata::{PagedStream, ResponseExt};
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

    let answer = client.main().get_tenant().tenant_id(TENANT).send().await.unwrap();
    tenant.assert_answer(&answer.into_inner());
    let updated = client
        .main()
        .update_tenant()
        .tenant_id(TENANT)
        .body(update.request_as::<types::UpdateTenant>())
        .send()
        .await
        .unwrap();
    assert!(updated.status().is_success());
    let tree = client.main().get_tenant_structure().tenant_id(TENANT).send().await.unwrap();
    structure.assert_answer(&tree.into_inner());
    client
        .main()
        .request_resource_code()
        .tenant_id(TENANT)
        .body(code.request_as::<types::RequestResourceCode>())
        .send()
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
    list.assert_items(&divisions);
    let created = client
        .main()
        .create_division()
        .tenant_id(TENANT)
        .body(create.request_as::<types::CreateDivision>())
        .send()
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
        .await
        .unwrap();
    get.assert_answer(&environment.into_inner());
}

#[tokio::test]
async fn account_sign_in_needs_no_key_but_keeps_the_csrf_token_secret() {
    let (server, client) = setup().await;
    let sign_in = serve_example(&server, "sign_in").await;

    let session =
        client.main().sign_in().body(sign_in.request_as::<types::SignIn>()).send().await.unwrap().into_inner();
    sign_in.assert_answer(&session);
    let shown = format!("{session:?}");
    let token = sign_in.response.as_ref().unwrap()["csrf_token"].as_str().unwrap();
    assert!(!shown.contains(token), "the CSRF token leaked into Debug output: {shown}");
}

#[tokio::test]
async fn members() {
    let (server, client) = setup().await;
    let list = serve_example(&server, "get_members").await;
    let update = serve_example(&server, "update_member").await;

    let members = client.main().get_members().tenant_id(TENANT).send().await.unwrap();
    list.assert_answer(&members.into_inner());
    client
        .main()
        .update_member()
        .tenant_id(TENANT)
        .member_id(608_123_456_789_012_345_i64)
        .body(update.request_as::<types::UpdateMember>())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn invitations() {
    let (server, client) = setup().await;
    let invite = serve_example(&server, "invite_member").await;
    let list = serve_example(&server, "get_tenant_invitations").await;

    client
        .main()
        .invite_member()
        .tenant_id(TENANT)
        .body(invite.request_as::<types::InviteMember>())
        .send()
        .await
        .unwrap();
    let invitations = client.main().get_tenant_invitations().tenant_id(TENANT).send().await.unwrap();
    list.assert_answer(&invitations.into_inner());
}

#[tokio::test]
async fn roles() {
    let (server, client) = setup().await;
    let add = serve_example(&server, "add_role").await;
    let get = serve_example(&server, "get_role").await;

    let added =
        client.main().add_role().tenant_id(TENANT).body(add.request_as::<types::AddRole>()).send().await.unwrap();
    assert_eq!(added.created_ids().role, Some(types::RoleId(4410)));
    let role = client.main().get_role().tenant_id(TENANT).role_id(4410).send().await.unwrap();
    get.assert_answer(&role.into_inner());
}

#[tokio::test]
async fn clouds() {
    let (server, client) = setup().await;
    let regions = serve_example(&server, "get_regions").await;
    let tiers = serve_example(&server, "get_tiers").await;

    let answer = client.main().get_regions().tenant_id(TENANT).cloud(types::Cloud::Aws).send().await.unwrap();
    regions.assert_answer(&answer.into_inner());
    let answer = client
        .main()
        .get_tiers()
        .tenant_id(TENANT)
        .cloud(types::Cloud::Gcp)
        .region(types::Region("europe-west3".into()))
        .send()
        .await
        .unwrap();
    tiers.assert_answer(&answer.into_inner());
}

#[tokio::test]
async fn cloud_accounts() {
    let (server, client) = setup().await;
    let create = serve_example(&server, "create_cloud_account").await;
    let get = serve_example(&server, "get_cloud_account").await;

    client
        .main()
        .create_cloud_account()
        .tenant_id(TENANT)
        .body(create.request_as::<types::CreateCloudAccount>())
        .send()
        .await
        .unwrap();
    let account = client.main().get_cloud_account().tenant_id(TENANT).cloud_account_id(77).send().await.unwrap();
    get.assert_answer(&account.into_inner());
}

#[tokio::test]
async fn notification_channels_keep_their_destination_secret() {
    let (server, client) = setup().await;
    let create = serve_example(&server, "create_tenant_channel").await;
    let get = serve_example(&server, "get_tenant_channel").await;

    client
        .main()
        .create_tenant_channel()
        .tenant_id(TENANT)
        .body(create.request_as::<types::CreateChannel>())
        .send()
        .await
        .unwrap();
    let channel = client.main().get_tenant_channel().tenant_id(TENANT).channel_id(2201).send().await.unwrap();
    let channel = channel.into_inner();
    get.assert_answer(&channel);
    let destination = get.response.as_ref().unwrap()["destination"].as_str().unwrap();
    assert!(!format!("{channel:?}").contains(destination), "the destination leaked into Debug output");
}

#[tokio::test]
async fn notification_subscriptions() {
    let (server, client) = setup().await;
    let set = serve_example(&server, "set_division_subscriptions").await;
    let list = serve_example(&server, "get_division_subscriptions").await;

    client
        .main()
        .set_division_subscriptions()
        .tenant_id(TENANT)
        .division_id(DIVISION)
        .channel_id(2201)
        .body(set.request_as::<types::SetSubscriptions>())
        .send()
        .await
        .unwrap();
    let subscriptions: Vec<types::NotificationSubscriptionInfo> = client
        .main()
        .get_division_subscriptions()
        .tenant_id(TENANT)
        .division_id(DIVISION)
        .channel_id(2201)
        .stream()
        .try_collect()
        .await
        .unwrap();
    list.assert_items(&subscriptions);
}

#[tokio::test]
async fn notifications() {
    let (server, client) = setup().await;
    let types_example = serve_example(&server, "get_notification_types").await;
    let sent = serve_example(&server, "get_user_notifications").await;

    let kinds = client.main().get_notification_types().send().await.unwrap();
    types_example.assert_answer(&kinds.into_inner());
    let notifications = client
        .main()
        .get_user_notifications()
        .user_id(608_123_456_789_012_345_i64)
        .channel_id(2201)
        .send()
        .await
        .unwrap();
    sent.assert_answer(&notifications.into_inner());
}

#[tokio::test]
async fn deployments_quick_start_reads_the_created_ids_and_the_supervisor_url() {
    let (server, client) = setup().await;
    let starter = serve_example(&server, "deploy_starter").await;
    let get = serve_example(&server, "get_deployment").await;

    let accepted = client
        .main()
        .deploy_starter()
        .tenant_id(TENANT)
        .division_id(DIVISION)
        .body(starter.request_as::<types::DeployStarter>())
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status().as_u16(), 202);
    let created = accepted.created_ids();
    let (environment, deployment) = (created.environment.unwrap(), created.deployment.unwrap());
    assert_eq!((environment.get(), deployment.get()), (ENVIRONMENT, 88012));

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
    get.assert_answer(&details);
    assert!(details.supervisor_url.as_deref().is_some_and(|url| url.starts_with("https://")));
}

#[tokio::test]
async fn connectors() {
    let (server, client) = setup().await;
    let list = serve_example(&server, "get_connectors").await;
    let activate = serve_example(&server, "activate_connector").await;

    let connectors: Vec<types::ConnectorInfo> = client
        .main()
        .get_connectors()
        .tenant_id(TENANT)
        .division_id(DIVISION)
        .environment_id(ENVIRONMENT)
        .deployment_id(88012)
        .stream()
        .try_collect()
        .await
        .unwrap();
    list.assert_items(&connectors);
    client
        .main()
        .activate_connector()
        .tenant_id(TENANT)
        .division_id(DIVISION)
        .environment_id(ENVIRONMENT)
        .deployment_id(88012)
        .body(activate.request_as::<types::ActivateConnector>())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn billing_and_its_pdf_download_as_a_byte_stream() {
    use futures::StreamExt;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};

    let (server, client) = setup().await;
    let pricing = serve_example(&server, "get_pricing").await;
    let invoices = serve_example(&server, "get_invoices").await;
    let pdf = b"%PDF-1.7\n% a small stand-in for an invoice\n%%EOF\n".repeat(100);
    Mock::given(method("GET"))
        .and(path(format!("/tenants/{TENANT}/billing/invoices/9001/pdf")))
        .respond_with(
            ResponseTemplate::new(200).insert_header("content-type", "application/pdf").set_body_bytes(pdf.clone()),
        )
        .expect(1)
        .mount(&server)
        .await;

    let prices = client.main().get_pricing().send().await.unwrap();
    pricing.assert_answer(&prices.into_inner());
    let listed: Vec<types::CustomerInvoiceInfo> =
        client.main().get_invoices().tenant_id(TENANT).stream().try_collect().await.unwrap();
    invoices.assert_items(&listed);
    let download = client.main().download_invoice_pdf().tenant_id(TENANT).invoice_id(9001).send().await.unwrap();
    let mut body = download.into_inner().into_inner();
    let mut received = Vec::new();
    while let Some(chunk) = body.next().await {
        received.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(received, pdf);
}

#[tokio::test]
async fn payments_keep_the_setup_intent_secret() {
    let (server, client) = setup().await;
    let intent = serve_example(&server, "create_setup_intent").await;
    let method_info = serve_example(&server, "get_payment_info").await;

    let created = client.main().create_setup_intent().tenant_id(TENANT).send().await.unwrap().into_inner();
    intent.assert_answer(&created);
    let secret = intent.response.as_ref().unwrap()["client_secret"].as_str().unwrap();
    assert!(!format!("{created:?}").contains(secret), "the client secret leaked into Debug output");
    assert_eq!(created.client_secret.expose(), secret);
    let info = client.main().get_payment_info().tenant_id(TENANT).send().await.unwrap();
    method_info.assert_answer(&info.into_inner());
}

#[tokio::test]
async fn enum_values_added_to_the_api_later_do_not_break_decoding() {
    use laserdata::main::types::Cloud;
    use laserdata_core::Open;
    use wiremock::matchers::method;
    use wiremock::{Mock, ResponseTemplate};

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
