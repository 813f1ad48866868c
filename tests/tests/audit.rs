//! Exporting the audit log through the generated client's paging stream, over loopback HTTP
//! (each operation's round trip is in `round_trips.rs`).

use futures::TryStreamExt;
use laserdata::PagedStream;
use laserdata::audit::types;
use laserdata_e2e::{API_KEY, client_for, response_example};
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_filtered_log_is_exported_by_walking_every_page_with_the_filters_on_each_request() {
    let server = MockServer::start().await;
    let client = client_for(&server);
    let entry = response_example("get_tenant_audit", "200")["items"][0].clone();
    for page in 1..=3 {
        Mock::given(method("GET"))
            .and(path("/audit/tenants/1042"))
            .and(header("ld-api-key", API_KEY))
            .and(query_param("page", page.to_string()))
            .and(query_param("results", "2"))
            .and(query_param("from", "2026-10-01T00:00:00Z"))
            .and(query_param("deployment", "88012"))
            .and(query_param("types", "deployment_created,deployment_deleted"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "items": if page < 3 { vec![entry.clone(), entry.clone()] } else { vec![entry.clone()] },
                "page": page, "total_results": 5, "total_pages": 3,
            })))
            .expect(1)
            .mount(&server)
            .await;
    }

    let from: chrono::DateTime<chrono::Utc> = "2026-10-01T00:00:00Z".parse().unwrap();
    let entries: Vec<types::TenantAuditInfo> = client
        .audit()
        .get_tenant_audit()
        .tenant_id(1042)
        .from(from)
        .deployment(88012)
        .types("deployment_created,deployment_deleted")
        .stream_pages_of(2.try_into().unwrap())
        .try_collect()
        .await
        .unwrap();

    assert_eq!(entries.len(), 5);
    assert!(entries.iter().all(|e| e.type_ == "deployment_created"));
}
