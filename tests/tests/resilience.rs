//! The client under injected faults, over real loopback TCP: scripted 429s and 503s with and
//! without `retry-after`, connection resets, slow answers, and malformed bodies. Timings are
//! asserted as figures (the server timestamps each request), with tolerances for a busy machine.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use laserdata::main::types;
use laserdata::{Error, RetryPolicy};
use laserdata_core::hooks::{ClientState, Operation, exec};
use laserdata_e2e::faults::{FaultServer, Step};
use laserdata_e2e::{API_KEY, client_at, request_example, response_example};

const TENANT: i64 = 1042;

fn problem(status: u16, code: &str) -> Step {
    let body = format!(r#"{{"type":"about:blank","title":"t","status":{status},"code":"{code}","reason":"scripted"}}"#);
    Step::json(status, &body).with_header("ld-request", &format!("req-{status}"))
}

fn api_key_details() -> String {
    response_example("get_api_key", "200").to_string()
}

fn patient() -> RetryPolicy {
    RetryPolicy::default().with_max_attempts(5).with_budget(Duration::from_secs(20))
}

async fn get_key(client: &laserdata::Client) -> Result<types::ApiKeyDetails, Error> {
    client.main().get_api_key().tenant_id(TENANT).api_key_id(7302).send().await.map(|r| r.into_inner())
}

fn gaps(server: &FaultServer) -> Vec<Duration> {
    server.received().windows(2).map(|pair| pair[1].at - pair[0].at).collect()
}

#[tokio::test]
async fn retry_after_is_honoured_within_ten_percent() {
    let server = FaultServer::start(vec![
        problem(429, "rate_limited").with_header("retry-after", "1"),
        problem(503, "service_unavailable").with_header("retry-after", "1"),
        Step::json(200, &api_key_details()),
    ])
    .await;
    let client = client_at(&server.url, patient());

    let key = get_key(&client).await.unwrap();

    assert_eq!(key.id.get(), 7302);
    let waits = gaps(&server);
    eprintln!("waits for retry-after 1 s: {waits:?}");
    assert_eq!(waits.len(), 2, "three attempts");
    for wait in waits {
        assert!(
            wait >= Duration::from_millis(1000) && wait <= Duration::from_millis(1100),
            "waited {wait:?} for a retry-after of 1 s"
        );
    }
}

#[tokio::test]
async fn an_http_date_retry_after_is_honoured_too() {
    let in_two_seconds = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
    let server = FaultServer::start(vec![
        problem(503, "service_unavailable").with_header("retry-after", &in_two_seconds),
        Step::json(200, &api_key_details()),
    ])
    .await;
    let client = client_at(&server.url, patient());

    get_key(&client).await.unwrap();

    // An HTTP date has whole-second precision: the wait is between 1 and 2 seconds.
    let wait = gaps(&server)[0];
    assert!(wait >= Duration::from_millis(1000) && wait <= Duration::from_millis(2200), "waited {wait:?}");
}

#[tokio::test]
async fn a_retry_after_beyond_the_budget_ends_the_call_at_once() {
    let server = FaultServer::start(vec![problem(429, "rate_limited").with_header("retry-after", "30")]).await;
    let client = client_at(&server.url, patient().with_budget(Duration::from_secs(5)));

    let started = Instant::now();
    let error = get_key(&client).await.unwrap_err();

    assert!(started.elapsed() < Duration::from_millis(500), "took {:?} instead of failing at once", started.elapsed());
    assert!(matches!(error, Error::RateLimited(_)), "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(error.request_id(), Some("req-429"));
    assert!(error.is_retryable());
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn backoff_never_outlasts_the_budget() {
    let server = FaultServer::start((0..20).map(|_| problem(503, "service_unavailable")).collect()).await;
    let policy = RetryPolicy::default()
        .with_max_attempts(20)
        .with_budget(Duration::from_millis(1500))
        .with_backoff(Duration::from_millis(100), Duration::from_millis(400));
    let client = client_at(&server.url, policy);

    let started = Instant::now();
    let error = get_key(&client).await.unwrap_err();
    let elapsed = started.elapsed();

    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    // No wait reaches past the budget; the last attempt may still be answering when it ends
    // (each attempt's timeout is cut to what is left), so allow 50 ms for timers and decoding.
    assert!(elapsed <= Duration::from_millis(1550), "the call took {elapsed:?}, beyond its 1.5 s budget");
    let last_wait_ended = server.received().last().unwrap().at - started;
    assert!(
        last_wait_ended <= Duration::from_millis(1500),
        "a retry was sent at {last_wait_ended:?}, after the budget"
    );
    let waits = gaps(&server);
    eprintln!("backoff waits: {waits:?}; call ended after {elapsed:?} of a 1.5 s budget");
    assert!(waits.len() >= 3, "only {} retries within the budget", waits.len());
    for (retry, wait) in waits.iter().enumerate() {
        let cap = Duration::from_millis((100u64 << retry).min(400));
        // The cap bounds the jittered backoff; allow 50 ms for scheduling on a loaded machine.
        assert!(*wait <= cap + Duration::from_millis(50), "retry {} waited {wait:?}, above its cap {cap:?}", retry + 1);
    }
}

/// Sends one POST through the hook, for an operation that does or does not honour
/// `idempotency-key`, optionally with a key of the caller's.
async fn post_through_hook(
    server: &FaultServer,
    honours_key: bool,
    key: Option<&str>,
) -> reqwest::Result<reqwest::Response> {
    let operations = [Operation { id: "scripted_post", path: "/things", idempotency_key: honours_key }];
    let state = ClientState { retry: patient().with_backoff(Duration::from_millis(10), Duration::from_millis(20)) };
    laserdata::install_crypto_provider();
    let http = reqwest::Client::new();
    let mut request = http.post(format!("{}/things", server.url)).body("{}");
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    exec(&http, &state, &operations, request.build().unwrap(), "scripted_post").await
}

#[tokio::test]
async fn a_post_without_an_idempotency_key_is_sent_exactly_once() {
    let server = FaultServer::start(vec![problem(503, "service_unavailable"), Step::status(201)]).await;

    let answer = post_through_hook(&server, false, None).await.unwrap();

    assert_eq!(answer.status().as_u16(), 503, "the 503 is returned, not retried");
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].header("idempotency-key"), None, "no key is added where the server does not honour one");
}

#[tokio::test]
async fn a_post_with_a_key_is_retried_with_the_same_key_each_time() {
    let server = FaultServer::start(vec![
        problem(503, "service_unavailable"),
        problem(502, "bad_gateway"),
        Step::json(201, &response_example("create_api_key", "201").to_string()),
    ])
    .await;
    let client = client_at(&server.url, patient().with_backoff(Duration::from_millis(10), Duration::from_millis(20)));
    let body: types::CreateApiKey = serde_json::from_value(request_example("create_api_key", "existing_role")).unwrap();

    let created = client.main().create_api_key().tenant_id(TENANT).body(body).send().await.unwrap();

    assert_eq!(created.status().as_u16(), 201);
    let keys: Vec<String> = server.received().iter().map(|r| r.header("idempotency-key").unwrap().to_owned()).collect();
    assert_eq!(keys.len(), 3);
    assert!(keys.iter().all(|k| *k == keys[0]), "the key changed between retries: {keys:?}");
    let key = &keys[0];
    assert_eq!((key.len(), &key[14..15]), (36, "4"), "{key} is not a UUID v4");

    // A caller's own key is kept, and a POST that does not honour keys gets none.
    let server = FaultServer::start(vec![problem(503, "service_unavailable"), Step::status(201)]).await;
    post_through_hook(&server, true, Some("my-own-key")).await.unwrap();
    let keys: Vec<_> = server.received().iter().map(|r| r.header("idempotency-key").map(str::to_owned)).collect();
    assert_eq!(keys, vec![Some("my-own-key".to_owned()); 2]);
}

#[tokio::test]
async fn resets_and_slow_answers_are_retried_within_the_attempt_timeout() {
    let server = FaultServer::start(vec![
        Step::Reset,
        Step::Delay(Duration::from_secs(3), Box::new(Step::json(200, &api_key_details()))),
        Step::json(200, &api_key_details()),
    ])
    .await;
    let policy = patient()
        .with_attempt_timeout(Duration::from_millis(400))
        .with_backoff(Duration::from_millis(10), Duration::from_millis(20));
    let client = client_at(&server.url, policy);

    let started = Instant::now();
    let key = get_key(&client).await.unwrap();

    assert_eq!(key.id.get(), 7302);
    assert_eq!(server.received().len(), 3);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "took {:?}: the slow attempt was not cut off",
        started.elapsed()
    );
}

#[tokio::test]
async fn malformed_bodies_become_typed_errors_never_panics() {
    let garbage: Vec<u8> = (0..=255u8).cycle().take(2048).map(|b| b.wrapping_mul(37)).collect();
    let cases: Vec<(Step, u16)> = vec![
        (Step::Truncated { status: 200, length: 400, body: br#"{"id": 7302, "name": "graf"#.to_vec() }, 200),
        (
            Step::Answer {
                status: 200,
                headers: vec![("content-type".into(), "text/html".into()), ("ld-request".into(), "req-html".into())],
                body: b"<html><body>maintenance</body></html>".to_vec(),
            },
            200,
        ),
        (Step::json(200, "").with_header("ld-request", "req-empty"), 200),
        (Step::Answer { status: 200, headers: vec![], body: garbage.clone() }, 200),
        (Step::Answer { status: 500, headers: vec![], body: garbage.clone() }, 500),
        (Step::json(502, "").with_header("ld-request", "req-502"), 502),
        (Step::json(400, r#"{"code": 17, "field_issues": "nope"}"#), 400),
    ];
    for (step, status) in cases {
        let description = format!("{step:?}").chars().take(80).collect::<String>();
        let server = FaultServer::start(vec![step]).await;
        let client = client_at(&server.url, RetryPolicy::never());
        let error = get_key(&client).await.unwrap_err();
        match &error {
            Error::InvalidResponse(invalid) => {
                assert!(invalid.raw_body.len() <= laserdata::RAW_BODY_LIMIT);
                if status == 200 && !description.contains("Truncated") {
                    assert_eq!(invalid.status.map(|s| s.as_u16()), Some(200), "{description}");
                }
            }
            Error::Api(api) => {
                assert_eq!(api.status.as_u16(), status, "{description}");
                assert!(api.raw_body.as_ref().is_none_or(|b| b.len() <= laserdata::RAW_BODY_LIMIT));
            }
            Error::Transport(_) => assert!(description.contains("Truncated"), "{description}: {error:?}"),
            other => panic!("{description}: unexpected kind {other:?}"),
        }
        // Every error renders without panicking.
        let _ = (format!("{error}"), format!("{error:?}"));
    }
}

#[tokio::test]
async fn is_retryable_agrees_with_the_retry_policy() {
    for status in [400, 401, 403, 404, 408, 409, 422, 429, 500, 502, 503, 504] {
        let server = FaultServer::start(vec![
            problem(status, "scripted").with_header("retry-after", "0"),
            problem(status, "scripted"),
        ])
        .await;
        let client = client_at(&server.url, RetryPolicy::default().with_max_attempts(2));
        let error = get_key(&client).await.unwrap_err();
        let retried = server.received().len() == 2;
        assert_eq!(error.is_retryable(), retried, "status {status}: is_retryable() says {}", error.is_retryable());
    }
    // A refused connection is a transport error, retryable, and retried.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let client = client_at(&format!("http://{closed}"), RetryPolicy::never());
    let error = get_key(&client).await.unwrap_err();
    assert!(matches!(error, Error::Transport(_)) && error.is_retryable(), "{error:?}");
}

#[tokio::test]
async fn idempotency_conflicts_are_their_own_kind() {
    for code in ["idempotency_error", "idempotent_request_in_progress"] {
        let server = FaultServer::start(vec![problem(409, code)]).await;
        let client = client_at(&server.url, RetryPolicy::never());
        let body: types::UpdateApiKeySecurity =
            serde_json::from_value(request_example("update_api_key_security", "")).unwrap();
        let error = client
            .main()
            .update_api_key_security()
            .tenant_id(TENANT)
            .api_key_id(7301)
            .body(body)
            .send()
            .await
            .unwrap_err();
        assert!(matches!(error, Error::IdempotencyConflict(_)), "{code}: {error:?}");
        assert_eq!(error.api().and_then(|api| api.code()), Some(code));
        assert!(!error.is_retryable());
    }
    let server = FaultServer::start(vec![problem(409, "name_taken")]).await;
    let client = client_at(&server.url, RetryPolicy::never());
    let error = get_key(&client).await.unwrap_err();
    assert!(matches!(error, Error::Api(_)), "a 409 of another kind is a plain API error: {error:?}");
}

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

    let server = FaultServer::start(vec![
        problem(503, "service_unavailable").with_header("retry-after", "0"),
        Step::json(200, &api_key_details()).with_header("ld-request", "req-ok"),
        problem(401, "unauthorized"),
        Step::Reset,
    ])
    .await;
    let builder = laserdata::Client::builder().api_key(API_KEY).main_url(&server.url).audit_url(&server.url);
    let client = builder.clone().retry(patient()).build().unwrap();
    let success = get_key(&client).await;
    let unauthorized = get_key(&client).await;
    let reset = get_key(&laserdata_e2e::client_at(&server.url, RetryPolicy::never())).await;
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
