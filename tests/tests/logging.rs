//! What the client writes to `tracing`, read back through a capturing subscriber.
//!
//! This binary holds ONE test on purpose; do not add others here. `tracing` decides once per
//! callsite, for the whole process, whether that callsite is wanted, and while a single
//! subscriber exists it asks only the subscriber of the thread that reaches the callsite
//! first. A sibling test running the client's `info_span!` on a thread with no subscriber
//! would settle "never" for every thread, and this test's span and retry events would vanish
//! from its log (it failed that way under load). Alone in its binary, this test's thread
//! installs its subscriber before any callsite of the client is reached.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use laserdata::RetryPolicy;
use laserdata_e2e::faults::{FaultServer, Step};
use laserdata_e2e::{API_KEY, client_at, response_example};

/// A `tracing` writer that keeps everything written to it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_key_never_appears_in_any_output_or_log() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let details = response_example("get_api_key", "200").to_string();
    let server = FaultServer::start(vec![
        Step::problem(503, "service_unavailable").with_header("retry-after", "0"),
        Step::json(200, &details).with_header("ld-request", "req-ok"),
        Step::problem(401, "unauthorized"),
        Step::Reset,
    ])
    .await;
    let builder = laserdata::Client::builder().api_key(API_KEY).main_url(&server.url).audit_url(&server.url);
    let client = builder.clone().retry(RetryPolicy::default().with_budget(Duration::from_secs(20))).build().unwrap();
    let get_key = |client: laserdata::Client| async move {
        client.main().get_api_key().tenant_id(1042).api_key_id(7302).send().await
    };
    let success = get_key(client.clone()).await;
    let unauthorized = get_key(client.clone()).await;
    let reset = get_key(client_at(&server.url, RetryPolicy::never())).await;
    let insecure =
        laserdata::Client::builder().api_key(API_KEY).main_url("http://api.laserdata.cloud").build().unwrap_err();

    let mut outputs = vec![
        format!("{builder:?}"),
        format!("{client:?}"),
        format!("{:?}", client.main()),
        format!("{success:?}"),
        format!("{insecure} {insecure:?}"),
    ];
    for error in [unauthorized.as_ref().unwrap_err(), reset.as_ref().unwrap_err()] {
        outputs.push(format!("{error} {error:?}"));
    }
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    outputs.push(log.clone());
    for output in &outputs {
        assert!(!output.contains(API_KEY) && !output.contains("T0pS3cret"), "the key leaked into: {output}");
    }
    // The log is not empty: it has the call's span with the path template, not the ids.
    assert!(log.contains("operation=\"get_api_key\"") || log.contains("operation=get_api_key"), "{log}");
    assert!(log.contains("/tenants/{tenant_id}/api_keys/{api_key_id}"), "{log}");
    assert!(log.contains("attempt=2"), "the retry is not in the log: {log}");
    // The key did travel, in its header.
    assert!(server.received().iter().all(|r| r.header("ld-api-key") == Some(API_KEY)));
}
