//! Times the client against a hand-built `reqwest` request, and the generated types' decoding
//! against a hand-written struct. Options: `--rounds N` (samples per arm), `--batch N`
//! (requests per sample), `--decode-batch N` (decodes per sample).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use laserdata::main::types;
use laserdata_bench::fixtures::{self, DEPLOYMENT, DIVISION, ENVIRONMENT, TENANT};
use laserdata_bench::server::{Answer, Server};
use laserdata_bench::stats::{Summary, interleaved, seconds};
use laserdata_bench::{API_KEY, Row, arg, emit, minimal};
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};

/// The `user-agent` a `laserdata::Client` sends.
const USER_AGENT: &str = "laserdata-rs/0.1.0";

/// The `api-version` header the generated clients send: the document's `info.version`.
fn api_version(spec: &serde_json::Value) -> String {
    spec["info"]["version"].as_str().expect("info.version").to_owned()
}

fn main() {
    let rounds = arg("--rounds", 31);
    let batch = arg("--batch", 200);
    let decode_batch = arg("--decode-batch", 50);
    let spec = fixtures::main_spec();
    let mut rows = client_overhead(&spec, rounds, batch);
    rows.push(decoding(&spec, rounds, decode_batch));
    emit(&rows);
}

fn client_overhead(spec: &serde_json::Value, rounds: usize, batch: usize) -> Vec<Row> {
    let get = fixtures::exchange(spec, "get_deployment");
    let post = fixtures::exchange(spec, "create_api_key");
    let (get_status, post_status) = (get.status, post.status);
    let get_body = Bytes::from(serde_json::to_vec(&get.response).unwrap());
    let post_body = Bytes::from(serde_json::to_vec(&post.response).unwrap());
    let server = Server::start(Arc::new(move |method: &str, _target: &str| match method {
        "POST" => Answer { status: post_status, body: post_body.clone() },
        _ => Answer { status: get_status, body: get_body.clone() },
    }));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");

    // Ours, as the README shows it: the builder's defaults (retry policy included), typed errors.
    let ours =
        laserdata::Client::builder().api_key(API_KEY).main_url(&server.url).audit_url(&server.url).build().unwrap();
    // Bare: one reqwest client with the same default headers and timeouts, each request built by hand.
    let mut headers = HeaderMap::new();
    headers.insert("ld-api-key", HeaderValue::from_static(API_KEY));
    let bare = reqwest::Client::builder()
        .default_headers(headers)
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let version = api_version(spec);
    let base = server.url.clone();
    let new_key: types::CreateApiKey = serde_json::from_value(post.request.clone().expect("a request body")).unwrap();

    let ours_get = || async {
        let answer = ours
            .main()
            .get_deployment()
            .tenant_id(TENANT)
            .division_id(DIVISION)
            .environment_id(ENVIRONMENT)
            .deployment_id(DEPLOYMENT)
            .send()
            .await
            .expect("the example answer");
        black_box(answer.into_inner());
    };
    let bare_get = || async {
        let url =
            format!("{base}/tenants/{TENANT}/divisions/{DIVISION}/environments/{ENVIRONMENT}/deployments/{DEPLOYMENT}");
        let response = bare
            .get(url)
            .header(ACCEPT, "application/json")
            .header("api-version", version.as_str())
            .send()
            .await
            .expect("an answer");
        assert!(response.status().is_success());
        black_box(response.json::<types::DeploymentDetails>().await.expect("the example answer"));
    };
    let ours_post = || async {
        let answer = ours
            .main()
            .create_api_key()
            .tenant_id(TENANT)
            .body(new_key.clone())
            .send()
            .await
            .expect("the example answer");
        black_box(answer.into_inner());
    };
    let bare_post = || async {
        let body = new_key.clone();
        let response = bare
            .post(format!("{base}/tenants/{TENANT}/api_keys"))
            .header(ACCEPT, "application/json")
            .header("api-version", version.as_str())
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .json(&body)
            .send()
            .await
            .expect("an answer");
        assert!(response.status().is_success());
        black_box(response.json::<types::ApiKeyToken>().await.expect("the example answer"));
    };

    // Both arms must send the same request: compare the header names the server saw.
    let ours_get_headers = headers_of(&server, &runtime, &ours_get);
    assert_eq!(ours_get_headers, headers_of(&server, &runtime, &bare_get), "the GET arms send different headers");
    let ours_post_headers = headers_of(&server, &runtime, &ours_post);
    assert_eq!(ours_post_headers, headers_of(&server, &runtime, &bare_post), "the POST arms send different headers");

    let mut rows = Vec::new();
    for (name, method, headers) in
        [("get_deployment", "GET", &ours_get_headers), ("create_api_key", "POST", &ours_post_headers)]
    {
        eprintln!("client overhead: {name}, {rounds} rounds of {batch} requests per arm");
        let samples = if method == "GET" {
            interleaved(
                3,
                rounds,
                &mut [&mut || per_request(&runtime, batch, &ours_get), &mut || per_request(&runtime, batch, &bare_get)],
            )
        } else {
            interleaved(
                3,
                rounds,
                &mut [&mut || per_request(&runtime, batch, &ours_post), &mut || {
                    per_request(&runtime, batch, &bare_post)
                }],
            )
        };
        let (ours, bare) = (Summary::of(&samples[0]), Summary::of(&samples[1]));
        let ratio = ours.median / bare.median;
        rows.push(Row {
            section: 2,
            benchmark: format!("Client overhead, `{name}` ({method})"),
            measure: format!(
                "ratio of medians, laserdata / bare reqwest; {rounds} alternating samples per arm, each the mean of {batch} requests"
            ),
            result: format!("{ratio:.3}"),
            detail: format!(
                "laserdata {} per request (IQR {}–{}); bare {} (IQR {}–{}); both decode into `{}`; same headers: {}",
                seconds(ours.median),
                seconds(ours.q1),
                seconds(ours.q3),
                seconds(bare.median),
                seconds(bare.q1),
                seconds(bare.q3),
                if method == "GET" { "types::DeploymentDetails" } else { "types::ApiKeyToken" },
                headers.join(", ")
            ),
            target: "≤ 1.05".into(),
            met: Some(ratio <= 1.05),
        });
    }
    rows
}

/// The header names of the request `call` sends, as the server received them.
fn headers_of<F: std::future::Future<Output = ()>>(
    server: &Server,
    runtime: &tokio::runtime::Runtime,
    call: &impl Fn() -> F,
) -> Vec<String> {
    server.record_next();
    runtime.block_on(call());
    server.recorded_header_names()
}

/// The mean time of `batch` calls made one after the other.
fn per_request<F: std::future::Future<Output = ()>>(
    runtime: &tokio::runtime::Runtime,
    batch: usize,
    call: &impl Fn() -> F,
) -> f64 {
    runtime.block_on(async {
        let started = Instant::now();
        for _ in 0..batch {
            call().await;
        }
        started.elapsed().as_secs_f64() / batch as f64
    })
}

fn decoding(spec: &serde_json::Value, rounds: usize, batch: usize) -> Row {
    let items = fixtures::deployments(spec, 100);
    let body = fixtures::page_body(&items, 1, 100);
    // Both decoders must accept the page, and see the same items.
    let generated: types::PagedDeploymentInfo = serde_json::from_slice(&body).expect("the generated types decode it");
    let hand: minimal::Page = serde_json::from_slice(&body).expect("the hand-written types decode it");
    assert_eq!(generated.items.len(), 100);
    assert_eq!(hand.items.len(), 100);
    eprintln!("decoding: {rounds} rounds of {batch} decodes per arm");
    let time = |decode: &dyn Fn(&[u8])| {
        let started = Instant::now();
        for _ in 0..batch {
            decode(black_box(&body));
        }
        started.elapsed().as_secs_f64() / batch as f64
    };
    let samples = interleaved(
        3,
        rounds,
        &mut [
            &mut || {
                time(&|bytes| drop(black_box(serde_json::from_slice::<types::PagedDeploymentInfo>(bytes).unwrap())))
            },
            &mut || time(&|bytes| drop(black_box(serde_json::from_slice::<minimal::Page>(bytes).unwrap()))),
        ],
    );
    let (generated, hand) = (Summary::of(&samples[0]), Summary::of(&samples[1]));
    let ratio = generated.median / hand.median;
    Row {
        section: 4,
        benchmark: "Decode a page of 100 deployments".into(),
        measure: format!(
            "ratio of medians, generated `PagedDeploymentInfo` / hand-written struct (same fields, enums as `String`); {rounds} alternating samples per arm, each the mean of {batch} decodes of the same {} body",
            laserdata_bench::stats::bytes(body.len() as f64)
        ),
        result: format!("{ratio:.3}"),
        detail: format!(
            "generated {} per page (IQR {}–{}); hand-written {} (IQR {}–{})",
            seconds(generated.median),
            seconds(generated.q1),
            seconds(generated.q3),
            seconds(hand.median),
            seconds(hand.q1),
            seconds(hand.q3)
        ),
        target: "≤ 1.10".into(),
        met: Some(ratio <= 1.10),
    }
}
