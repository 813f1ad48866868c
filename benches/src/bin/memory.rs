//! Peak live heap while `PagedStream::stream_pages_of` walks a list, compared with the heap of
//! one decoded page. Every allocation of the process goes through a counting allocator, so the
//! figures are exact byte counts, not samples of the resident set. Options: `--runs N`,
//! `--totals 1000,10000`, `--page-size N`.
//!
//! It also counts the allocations of one call through the client and through a bare `reqwest`
//! request, which explains most of the client-overhead ratio without timing noise.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::num::NonZeroU64;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::TryStreamExt;
use laserdata::PagedStream;
use laserdata::main::types;
use laserdata_bench::fixtures::{self, DIVISION, ENVIRONMENT, TENANT};
use laserdata_bench::server::{Answer, Server, query_param};
use laserdata_bench::stats::{Summary, bytes};
use laserdata_bench::{API_KEY, Row, arg, emit};

/// The system allocator, counting the bytes live now and the most ever live since the last reset.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// Allocations (and reallocations) made so far.
static CALLS: AtomicUsize = AtomicUsize::new(0);

fn grew(size: usize) {
    CALLS.fetch_add(1, Ordering::Relaxed);
    let now = LIVE.fetch_add(size, Ordering::Relaxed) + size;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(size: usize) {
    LIVE.fetch_sub(size, Ordering::Relaxed);
}

// SAFETY: every call is passed on to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            grew(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            grew(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            // Counted as a new block next to the old one, then the old one freed: the peak
            // includes the moment of copying even when the block grew in place (conservative).
            grew(new_size);
            shrank(layout.size());
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::SeqCst)
}

/// Starts a new peak at the current live count.
fn reset_peak() {
    PEAK.store(live(), Ordering::SeqCst);
}

fn main() {
    let runs = arg("--runs", 7);
    let page_size = arg("--page-size", 100usize);
    let totals: String = arg("--totals", "1000,10000".to_owned());
    let spec = fixtures::main_spec();
    let rows: Vec<Row> = totals
        .split(',')
        .map(|total| total.trim().parse().expect("--totals takes numbers"))
        .flat_map(|total| paging(&spec, total, page_size, runs))
        .chain(allocations(&spec))
        .collect();
    emit(&rows);
}

fn paging(spec: &serde_json::Value, total: usize, page_size: usize, runs: usize) -> Vec<Row> {
    eprintln!("paging memory: {total} items in pages of {page_size}, {runs} runs per arm");
    // Every page is encoded before counting starts; the server answers from these buffers
    // without copying them, so the counts below are the client's (and the server's per-request
    // bookkeeping, which allocates nothing once a connection is open).
    let items = fixtures::deployments(spec, total);
    let pages = Arc::new(fixtures::page_bodies(&items, page_size));
    drop(items);

    // The heap one decoded page takes (measured before the server's thread starts allocating).
    let one_page = (0..3)
        .map(|_| {
            let before = live();
            let decoded: types::PagedDeploymentInfo = serde_json::from_slice(&pages[0]).expect("a page decodes");
            let size = live() - before;
            drop(black_box(decoded));
            size
        })
        .min()
        .unwrap();
    let body = pages[0].len();

    let served = pages.clone();
    let server = Server::start(Arc::new(move |_method: &str, target: &str| {
        let page: usize = query_param(target, "page").and_then(|page| page.parse().ok()).unwrap_or(1);
        Answer { status: 200, body: served[page - 1].clone() }
    }));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let client =
        laserdata::Client::builder().api_key(API_KEY).main_url(&server.url).audit_url(&server.url).build().unwrap();
    let http = reqwest::Client::builder().default_headers(client_headers()).build().unwrap();
    let size = NonZeroU64::new(page_size as u64).expect("a page size above zero");

    let ours = || async {
        let stream = client
            .main()
            .get_deployments()
            .tenant_id(TENANT)
            .division_id(DIVISION)
            .environment_id(ENVIRONMENT)
            .stream_pages_of(size);
        let mut stream = std::pin::pin!(stream);
        let mut count = 0;
        while let Some(item) = stream.try_next().await.expect("every page arrives") {
            black_box(&item);
            count += 1;
        }
        count
    };
    // The same walk written by hand with reqwest and serde_json: what any client built on them
    // needs at least.
    let by_hand = || async {
        let (mut count, mut page) = (0, 1);
        loop {
            let url = format!(
                "{}/tenants/{TENANT}/divisions/{DIVISION}/environments/{ENVIRONMENT}/deployments?page={page}&results={page_size}",
                server.url
            );
            let body = http.get(url).send().await.expect("an answer").bytes().await.expect("a body");
            let decoded: types::PagedDeploymentInfo = serde_json::from_slice(&body).expect("a page decodes");
            drop(body);
            let last = page >= decoded.total_pages.0;
            for item in decoded.items {
                black_box(&item);
                count += 1;
            }
            if last {
                return count;
            }
            page += 1;
        }
    };
    let ours = peak_growth(&runtime, total, runs, &ours);
    let by_hand = peak_growth(&runtime, total, runs, &by_hand);
    let ratio = ours.median / one_page as f64;
    let reference = by_hand.median / one_page as f64;
    vec![
        Row {
            section: 3,
            benchmark: format!("Paging: stream {} deployments in pages of {page_size}", thousands(total)),
            measure: format!(
                "peak live heap growth during `stream_pages_of` ÷ live heap of one decoded page; counting allocator, median of {runs} walks"
            ),
            result: format!("{ratio:.2} pages"),
            detail: format!(
                "peak growth {} (min–max {}–{}); one decoded page {}; one page body {}",
                bytes(ours.median),
                bytes(ours.min),
                bytes(ours.max),
                bytes(one_page as f64),
                bytes(body as f64)
            ),
            target: "≤ 2 pages, independent of the total".into(),
            met: Some(ratio <= 2.0),
        },
        Row {
            section: 3,
            benchmark: format!(
                "Paging by hand (reference): {} deployments, reqwest + `serde_json::from_slice`",
                thousands(total)
            ),
            measure: "the same walk written by hand, same measure".into(),
            result: format!("{reference:.2} pages"),
            detail: format!(
                "peak growth {} (min–max {}–{})",
                bytes(by_hand.median),
                bytes(by_hand.min),
                bytes(by_hand.max)
            ),
            target: "reported".into(),
            met: None,
        },
    ]
}

/// Allocations per call of `get_deployment` and `create_api_key`: through the client (default
/// retry policy, and without retries), and as a bare `reqwest` request like the timing benchmark's.
fn allocations(spec: &serde_json::Value) -> Vec<Row> {
    eprintln!("allocations per call");
    let get = fixtures::exchange(spec, "get_deployment");
    let post = fixtures::exchange(spec, "create_api_key");
    let (get_body, post_body) = (
        bytes::Bytes::from(serde_json::to_vec(&get.response).unwrap()),
        bytes::Bytes::from(serde_json::to_vec(&post.response).unwrap()),
    );
    let server = Server::start(Arc::new(move |method: &str, _target: &str| match method {
        "POST" => Answer { status: post.status, body: post_body.clone() },
        _ => Answer { status: get.status, body: get_body.clone() },
    }));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let client = |retry| {
        laserdata::Client::builder()
            .api_key(API_KEY)
            .main_url(&server.url)
            .audit_url(&server.url)
            .retry(retry)
            .build()
            .unwrap()
    };
    let (ours, never) = (client(laserdata::RetryPolicy::default()), client(laserdata::RetryPolicy::never()));
    let http = reqwest::Client::builder()
        .default_headers(client_headers())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let new_key: types::CreateApiKey = serde_json::from_value(post.request.expect("a request body")).unwrap();
    let version = spec["info"]["version"].as_str().expect("info.version");
    let ours_get = || get_once(&ours);
    let never_get = || get_once(&never);
    let ours_post = || post_once(&ours, &new_key);
    let never_post = || post_once(&never, &new_key);
    let bare_get = || async {
        let url = format!(
            "{}/tenants/{TENANT}/divisions/{DIVISION}/environments/{ENVIRONMENT}/deployments/{}",
            server.url,
            fixtures::DEPLOYMENT
        );
        let request = http.get(url).header("accept", "application/json").header("api-version", version);
        let response = request.send().await.expect("an answer");
        drop(black_box(response.json::<types::DeploymentDetails>().await.expect("a body")));
    };
    let bare_post = || async {
        let body = new_key.clone();
        let request = http
            .post(format!("{}/tenants/{TENANT}/api_keys", server.url))
            .header("accept", "application/json")
            .header("api-version", version)
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .json(&body);
        let response = request.send().await.expect("an answer");
        drop(black_box(response.json::<types::ApiKeyToken>().await.expect("a body")));
    };
    let get_counts = [
        count_allocations(&runtime, &ours_get),
        count_allocations(&runtime, &never_get),
        count_allocations(&runtime, &bare_get),
    ];
    let post_counts = [
        count_allocations(&runtime, &ours_post),
        count_allocations(&runtime, &never_post),
        count_allocations(&runtime, &bare_post),
    ];
    [("get_deployment", get_counts), ("create_api_key", post_counts)]
        .into_iter()
        .map(|(name, [ours, never, bare])| Row {
            section: 2,
            benchmark: format!("Allocations per `{name}` call (diagnostic)"),
            measure: "heap allocations per call, counting allocator, mean of 1 000 calls; client and server together".into(),
            result: format!("{ours:.0} vs {bare:.0}"),
            detail: format!(
                "laserdata {ours:.0} (default retry policy; {never:.0} with `RetryPolicy::never()`, which keeps no copy of the request for a retry); bare reqwest {bare:.0}"
            ),
            target: "reported".into(),
            met: None,
        })
        .collect()
}

async fn get_once(client: &laserdata::Client) {
    let call = client.main().get_deployment().tenant_id(TENANT).division_id(DIVISION).environment_id(ENVIRONMENT);
    let answer = call.deployment_id(fixtures::DEPLOYMENT).send().await;
    drop(black_box(answer.expect("an answer")));
}

async fn post_once(client: &laserdata::Client, body: &types::CreateApiKey) {
    let answer = client.main().create_api_key().tenant_id(TENANT).body(body.clone()).send().await;
    drop(black_box(answer.expect("an answer")));
}

/// The mean number of allocations of one call, over 1 000 calls after 20 unmeasured ones.
fn count_allocations<F: std::future::Future<Output = ()>>(
    runtime: &tokio::runtime::Runtime,
    call: &impl Fn() -> F,
) -> f64 {
    for _ in 0..20 {
        runtime.block_on(call());
    }
    let before = CALLS.load(Ordering::SeqCst);
    for _ in 0..1000 {
        runtime.block_on(call());
    }
    (CALLS.load(Ordering::SeqCst) - before) as f64 / 1000.0
}

/// The growth of the peak live heap over the live heap before a walk, for `runs` walks that
/// each must yield `total` items.
fn peak_growth<F: std::future::Future<Output = usize>>(
    runtime: &tokio::runtime::Runtime,
    total: usize,
    runs: usize,
    walk: &impl Fn() -> F,
) -> Summary {
    // One walk unmeasured: the connection, the runtime's and tracing's lazily built state.
    assert_eq!(runtime.block_on(walk()), total);
    let growth: Vec<f64> = (0..runs)
        .map(|_| {
            let baseline = live();
            reset_peak();
            assert_eq!(runtime.block_on(walk()), total);
            PEAK.load(Ordering::SeqCst).saturating_sub(baseline) as f64
        })
        .collect();
    Summary::of(&growth)
}

/// The `ld-api-key` header, for the hand-written walk.
fn client_headers() -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("ld-api-key", reqwest::header::HeaderValue::from_static(API_KEY));
    headers
}

/// 10000 as "10 000".
fn thousands(value: usize) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(digit);
    }
    out
}
