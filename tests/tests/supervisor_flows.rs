//! Multi-call Supervisor work: waiting for a runtime action, and streaming a snapshot download.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use laserdata::supervisor::types::{ActivityStatus, CreateActivity};
use laserdata::{ActivityOutcome, ActivityWait, Error, RetryPolicy, run_activity};
use laserdata_e2e::faults::{FaultServer, Step};
use laserdata_e2e::{API_KEY, client_for, client_with_clock};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn page_of(statuses: &[&str]) -> Step {
    let items: Vec<_> = statuses
        .iter()
        .enumerate()
        .map(|(node, status)| {
            json!({
                "id": 9100 + node, "tenant_id": 1042, "node_id": 610809900976570889_i64 + node as i64,
                "runtime": "iggy", "action": "restart", "status": status,
                "created_at": chrono::Utc::now().to_rfc3339(),
            })
        })
        .collect();
    let older = json!({"id": 9000, "tenant_id": 1042, "runtime": "iggy", "action": "restart", "status": "rejected",
                       "created_at": "2026-01-01T00:00:00Z"});
    let mut all = items;
    all.push(older);
    Step::json(
        200,
        &json!({"items": all, "page": 1, "total_results": statuses.len() + 1, "total_pages": 1}).to_string(),
    )
}

fn quick_wait() -> ActivityWait {
    ActivityWait {
        first_interval: Duration::from_millis(100),
        max_interval: Duration::from_millis(200),
        timeout: Duration::from_secs(3),
        clock_skew: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn an_activity_is_awaited_through_processing_until_completed() {
    let server = FaultServer::start(vec![
        Step::status(202),
        page_of(&["processing", "processing"]),
        page_of(&["completed", "processing"]),
        page_of(&["completed", "completed"]),
    ])
    .await;
    let (client, clock) = client_with_clock(&server.url, RetryPolicy::never());
    let supervisor = client.supervisor(&server.url).unwrap();

    let outcome =
        run_activity(&supervisor, 88012, "iggy", "restart", CreateActivity::default(), &quick_wait()).await.unwrap();

    let ActivityOutcome::Completed(entries) = outcome else { panic!("expected completion, got {outcome:?}") };
    assert_eq!(entries.len(), 2, "one entry per node; the older rejected entry is not part of it");
    let received = server.received();
    assert_eq!(received.len(), 4, "one action and three polls, no busy loop");
    assert_eq!(received[0].method, "POST");
    assert_eq!(received[0].path, "/deployments/88012/activities/iggy/restart");
    assert!(
        received[1..].iter().all(|poll| poll.method == "GET" && poll.path.starts_with("/deployments/88012/activities"))
    );
    // Polls back off: 100 ms, then 200 ms (the longest pause).
    assert_eq!(clock.sleeps(), [Duration::from_millis(100), Duration::from_millis(200)]);
}

#[tokio::test]
async fn a_rejected_activity_is_a_clear_outcome() {
    let server = FaultServer::start(vec![
        Step::status(202),
        page_of(&["processing", "processing"]),
        page_of(&["completed", "rejected"]),
    ])
    .await;
    let (client, _) = client_with_clock(&server.url, RetryPolicy::never());
    let supervisor = client.supervisor(&server.url).unwrap();

    let outcome =
        run_activity(&supervisor, 88012, "iggy", "restart", CreateActivity::default(), &quick_wait()).await.unwrap();

    let ActivityOutcome::Rejected(entries) = &outcome else { panic!("expected a rejection, got {outcome:?}") };
    assert_eq!(entries.len(), 2);
    assert!(!outcome.is_completed());
    let rejected = entries.iter().filter(|entry| entry.status == ActivityStatus::Rejected).count();
    assert_eq!(rejected, 1);
}

#[tokio::test]
async fn waiting_gives_up_after_its_timeout() {
    let polls = (0..50).map(|_| page_of(&["processing"])).collect::<Vec<_>>();
    let server = FaultServer::start([vec![Step::status(202)], polls].concat()).await;
    let (client, clock) = client_with_clock(&server.url, RetryPolicy::never());
    let supervisor = client.supervisor(&server.url).unwrap();
    let wait = ActivityWait { timeout: Duration::from_millis(800), ..quick_wait() };

    let error =
        run_activity(&supervisor, 88012, "iggy", "restart", CreateActivity::default(), &wait).await.unwrap_err();

    // Polls at 0, 100, 300, 500 and 700 ms; one more pause would end at 900 ms, past the timeout.
    let Error::WaitTimedOut { waited, .. } = &error else { panic!("expected a timeout, got {error:?}") };
    assert_eq!(*waited, Duration::from_millis(700));
    assert_eq!(clock.sleeps(), [100, 200, 200, 200].map(Duration::from_millis));
    assert_eq!(server.received().len(), 1 + 5, "the action and five polls");
}

/// A writer that records how the data arrived.
#[derive(Default)]
struct ChunkRecorder {
    bytes: Vec<u8>,
    writes: usize,
    largest_write: usize,
}

impl tokio::io::AsyncWrite for ChunkRecorder {
    fn poll_write(mut self: Pin<&mut Self>, _: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        self.writes += 1;
        self.largest_write = self.largest_write.max(data.len());
        self.bytes.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn a_snapshot_streams_to_a_writer_and_the_key_stays_home() {
    let supervisor_server = MockServer::start().await;
    let storage = MockServer::start().await;
    let report: Vec<u8> = (0..4 * 1024 * 1024).map(|i: u32| (i % 251) as u8).collect();
    Mock::given(method("GET"))
        .and(path("/deployments/88012/snapshots/4411/download"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "url": format!("{}/snapshots/report-4411.zip?X-Amz-Signature=abc123", storage.uri())
        })))
        .expect(1)
        .mount(&supervisor_server)
        .await;
    Mock::given(method("GET"))
        .and(path("/snapshots/report-4411.zip"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(report.clone()))
        .expect(1)
        .mount(&storage)
        .await;
    let client = client_for(&supervisor_server);
    let supervisor = client.supervisor(&supervisor_server.uri()).unwrap();

    let mut destination = ChunkRecorder::default();
    let written = laserdata::download_snapshot(&supervisor, 88012, 4411, &mut destination).await.unwrap();

    assert_eq!(written, report.len() as u64);
    assert!(destination.bytes == report, "the file arrived changed");
    assert!(
        destination.writes > 1 && destination.largest_write < report.len() / 4,
        "not streamed: {} writes",
        destination.writes
    );
    let to_storage = &storage.received_requests().await.unwrap()[0];
    assert!(!to_storage.headers.contains_key("ld-api-key"), "the API key was sent to the storage host");
    let to_supervisor = &supervisor_server.received_requests().await.unwrap()[0];
    assert_eq!(to_supervisor.headers["ld-api-key"], API_KEY);
}

#[tokio::test]
async fn a_download_link_over_plain_http_elsewhere_is_refused_without_showing_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"url": "http://storage.example.com/r.zip?sig=s3cr3t"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client_for(&server);
    let supervisor = client.supervisor(&server.uri()).unwrap();

    let error = laserdata::download_snapshot(&supervisor, 88012, 4411, &mut Vec::new()).await.unwrap_err();

    assert!(matches!(error, Error::InvalidRequest(_)), "{error:?}");
    assert!(!format!("{error} {error:?}").contains("s3cr3t"), "the presigned link leaked into the error");
}
