//! The client under injected faults, over real loopback TCP: scripted 429s and 503s with and
//! without `retry-after`, connection resets, slow answers, and malformed bodies.
//!
//! No test here times a request. The clients take their waits from a recording clock that
//! skips them and lists them, so the waits are asserted exactly; the one test about a timeout
//! runs on tokio's paused clock, which moves on only when nothing else can run.

use std::time::{Duration, SystemTime};

use laserdata::clock::RecordingClock;
use laserdata::main::types;
use laserdata::{Error, RetryPolicy};
use laserdata_core::hooks::{ClientState, Operation, exec};
use laserdata_e2e::faults::{FaultServer, Step};
use laserdata_e2e::{client_at, client_with_clock, request_example, response_example};

const TENANT: i64 = 1042;

fn api_key_details() -> String {
    response_example("get_api_key", "200").to_string()
}

fn patient() -> RetryPolicy {
    RetryPolicy::default().with_max_attempts(5).with_budget(Duration::from_secs(20))
}

async fn get_key(client: &laserdata::Client) -> Result<types::ApiKeyDetails, Error> {
    client.main().get_api_key().tenant_id(TENANT).api_key_id(7302).send().await.map(|r| r.into_inner())
}

#[tokio::test]
async fn retry_after_is_waited_for_exactly() {
    let server = FaultServer::start(vec![
        Step::problem(429, "rate_limited").with_header("retry-after", "1"),
        Step::problem(503, "service_unavailable").with_header("retry-after", "1"),
        Step::json(200, &api_key_details()),
    ])
    .await;
    let (client, clock) = client_with_clock(&server.url, patient());

    let key = get_key(&client).await.unwrap();

    assert_eq!(key.id.get(), 7302);
    assert_eq!(server.received().len(), 3, "three attempts");
    assert_eq!(clock.sleeps(), [Duration::from_secs(1), Duration::from_secs(1)]);
}

#[tokio::test]
async fn an_http_date_retry_after_is_a_wait_until_that_date() {
    // The client's clock says it is this date, so the wait until a date two seconds later is exact.
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
    let in_two_seconds = httpdate::fmt_http_date(now + Duration::from_secs(2));
    let server = FaultServer::start(vec![
        Step::problem(503, "service_unavailable").with_header("retry-after", &in_two_seconds),
        Step::json(200, &api_key_details()),
    ])
    .await;
    let clock = RecordingClock::starting_at(now);
    let client = laserdata_e2e::builder_at(&server.url, patient()).clock(clock.clone()).build().unwrap();

    get_key(&client).await.unwrap();

    assert_eq!(server.received().len(), 2);
    assert_eq!(clock.sleeps(), [Duration::from_secs(2)]);
}

#[tokio::test]
async fn a_retry_after_beyond_the_budget_ends_the_call_at_once() {
    let server = FaultServer::start(vec![Step::problem(429, "rate_limited").with_header("retry-after", "30")]).await;
    let (client, clock) = client_with_clock(&server.url, patient().with_budget(Duration::from_secs(5)));

    let error = get_key(&client).await.unwrap_err();

    assert_eq!(clock.sleeps(), [], "no wait before failing");
    assert!(matches!(error, Error::RateLimited(_)), "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(error.request_id(), Some("req-429"));
    assert!(error.is_retryable());
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn backoff_never_outlasts_the_budget() {
    let server = FaultServer::start((0..20).map(|_| Step::problem(503, "service_unavailable")).collect()).await;
    // The recording clock makes these waits free. Each attempt's timeout is cut to what is left
    // of the budget on that clock but runs on real timers, so the budget is large enough that
    // the last attempt keeps seconds, not milliseconds, for a loopback round trip on a busy machine.
    let budget = Duration::from_secs(60);
    let policy = RetryPolicy::default()
        .with_max_attempts(20)
        .with_budget(budget)
        .with_backoff(Duration::from_secs(4), Duration::from_secs(16))
        .with_jitter_seed(2);
    let (client, clock) = client_with_clock(&server.url, policy.clone());

    let error = get_key(&client).await.unwrap_err();

    assert_eq!(error.status().map(|s| s.as_u16()), Some(503), "{error:?}");
    let waits = clock.sleeps();
    assert_eq!(server.received().len(), waits.len() + 1, "one attempt after each wait");
    assert!(waits.len() >= 3 && waits.len() < 19, "the budget, not max_attempts, ended {waits:?}");
    let waited: Duration = waits.iter().sum();
    assert!(waited < budget, "the waits {waits:?} reach past the budget");
    assert!(budget - waited >= Duration::from_secs(10), "seed 2 leaves the last attempt 12 s; {waits:?}");
    for (retry, wait) in (1..).zip(&waits) {
        assert!(*wait <= policy.backoff_ceiling(retry), "retry {retry} waited {wait:?}, above its ceiling");
    }
    // The same seed, the same waits.
    let server = FaultServer::start((0..20).map(|_| Step::problem(503, "service_unavailable")).collect()).await;
    let (client, again) = client_with_clock(&server.url, policy);
    get_key(&client).await.unwrap_err();
    assert_eq!(again.sleeps(), waits);
}

/// Sends one POST through the hook, for an operation that does or does not honour
/// `idempotency-key`, optionally with a key of the caller's.
async fn post_through_hook(
    server: &FaultServer,
    honours_key: bool,
    key: Option<&str>,
) -> reqwest::Result<reqwest::Response> {
    let operations = [Operation { id: "scripted_post", path: "/things", idempotency_key: honours_key }];
    let state = ClientState { retry: patient(), clock: std::sync::Arc::new(RecordingClock::new()) };
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
    let server = FaultServer::start(vec![Step::problem(503, "service_unavailable"), Step::status(201)]).await;

    let answer = post_through_hook(&server, false, None).await.unwrap();

    assert_eq!(answer.status().as_u16(), 503, "the 503 is returned, not retried");
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].header("idempotency-key"), None, "no key is added where the server does not honour one");
}

#[tokio::test]
async fn a_post_with_a_key_is_retried_with_the_same_key_each_time() {
    let server = FaultServer::start(vec![
        Step::problem(503, "service_unavailable"),
        Step::problem(502, "bad_gateway"),
        Step::json(201, &response_example("create_api_key", "201").to_string()),
    ])
    .await;
    let (client, _) = client_with_clock(&server.url, patient());
    let body: types::CreateApiKey = serde_json::from_value(request_example("create_api_key", "existing_role")).unwrap();

    let created = client.main().create_api_key().tenant_id(TENANT).body(body).send().await.unwrap();

    assert_eq!(created.status().as_u16(), 201);
    let keys: Vec<String> = server.received().iter().map(|r| r.header("idempotency-key").unwrap().to_owned()).collect();
    assert_eq!(keys.len(), 3);
    assert!(keys.iter().all(|k| *k == keys[0]), "the key changed between retries: {keys:?}");
    let key = &keys[0];
    assert_eq!((key.len(), &key[14..15]), (36, "4"), "{key} is not a UUID v4");

    // A caller's own key is kept, and a POST that does not honour keys gets none.
    let server = FaultServer::start(vec![Step::problem(503, "service_unavailable"), Step::status(201)]).await;
    post_through_hook(&server, true, Some("my-own-key")).await.unwrap();
    let keys: Vec<_> = server.received().iter().map(|r| r.header("idempotency-key").map(str::to_owned)).collect();
    assert_eq!(keys, vec![Some("my-own-key".to_owned()); 2]);
}

// On tokio's paused clock the slow answer's delay and the attempt's timeout are timers of one
// runtime, and time jumps from one to the next only when nothing else can run: the timeout fires
// first, at exactly five seconds, however busy the machine. (Loopback I/O is ready the moment it
// is written, so the runtime does not sit idle, and time does not jump, while a request is in
// flight.)
#[tokio::test(start_paused = true)]
async fn resets_and_slow_answers_are_retried_within_the_attempt_timeout() {
    let server = FaultServer::start(vec![
        Step::Reset,
        Step::Delay(Duration::from_secs(60), Box::new(Step::json(200, &api_key_details()))),
        Step::json(200, &api_key_details()),
    ])
    .await;
    let policy = patient()
        .with_budget(Duration::from_secs(120))
        .with_attempt_timeout(Duration::from_secs(5))
        .with_backoff(Duration::ZERO, Duration::ZERO);
    let client = client_at(&server.url, policy);
    let started = tokio::time::Instant::now();

    let key = get_key(&client).await.unwrap();

    assert_eq!(key.id.get(), 7302);
    assert_eq!(server.received().len(), 3, "a reset, a slow answer cut off, an answer");
    assert_eq!(started.elapsed(), Duration::from_secs(5), "the slow attempt was not cut off at its timeout");
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
            Step::problem(status, "scripted").with_header("retry-after", "0"),
            Step::problem(status, "scripted"),
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
        let server = FaultServer::start(vec![Step::problem(409, code)]).await;
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
    let server = FaultServer::start(vec![Step::problem(409, "name_taken")]).await;
    let client = client_at(&server.url, RetryPolicy::never());
    let error = get_key(&client).await.unwrap_err();
    assert!(matches!(error, Error::Api(_)), "a 409 of another kind is a plain API error: {error:?}");
}
