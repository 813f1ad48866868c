//! Paged streams read each page's items as the body arrives: over real HTTP on loopback, with
//! bodies sent in pieces as small as one byte, the stream yields what serde reads from the
//! whole body, and a page it cannot read fails as `send()` fails on it.

use futures::{StreamExt, TryStreamExt};
use laserdata::main::types;
use laserdata::{Error, PagedStream, RetryPolicy};
use laserdata_e2e::client_at;
use laserdata_e2e::faults::{FaultServer, Step};
use laserdata_e2e::response_example;
use serde_json::{Value, json};

const TENANT: i64 = 1042;

/// The example key with id `id` and a name full of what a careless scanner would take for
/// structure: brackets, commas, braces, escaped quotes and backslashes, and non-ASCII text.
fn key(id: i64) -> Value {
    let mut key = response_example("get_api_keys", "200")["items"][0].clone();
    key["id"] = json!(id);
    key["name"] = json!(format!("ci ]}}, {{\"[ \\\" \\\\ key {id} ✓ 日本 🚀 \u{7f}"));
    key["allowed_ips"] = json!(["10.0.0.0/8", "]", "\"],{"]);
    key
}

/// A page body with the fields in an unusual order (the list in the middle) and pretty-printed,
/// so that whitespace sits between every token.
fn page(keys: &[Value], page: u64, total_results: u64, total_pages: u64) -> Vec<u8> {
    let body = format!(
        "{{\n  \"total_pages\": {total_pages},\n  \"items\": {},\n  \"page\": {page},\n  \"total_results\": {total_results}\n}}",
        serde_json::to_string_pretty(keys).unwrap()
    );
    body.into_bytes()
}

fn chunked(body: Vec<u8>, size: usize) -> Step {
    Step::Chunked {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into()), ("ld-request".into(), "req-page".into())],
        body,
        size,
    }
}

#[tokio::test]
async fn items_arriving_in_tiny_pieces_are_read_as_serde_reads_the_whole_body() {
    let first: Vec<Value> = (1..=3).map(key).collect();
    let last: Vec<Value> = (4..=5).map(key).collect();
    let expected: Vec<types::ApiKeyInfo> =
        first.iter().chain(&last).map(|key| serde_json::from_value(key.clone()).unwrap()).collect();
    for size in [1, 2, 7, 100, usize::MAX] {
        // The server promises 3 pages, but the second is short: the walk stops there.
        let server =
            FaultServer::start(vec![chunked(page(&first, 1, 9, 3), size), chunked(page(&last, 2, 9, 3), size)]).await;
        let client = client_at(&server.url, RetryPolicy::never());

        let keys: Vec<types::ApiKeyInfo> = client
            .main()
            .get_api_keys()
            .tenant_id(TENANT)
            .stream_pages_of(3.try_into().unwrap())
            .try_collect()
            .await
            .unwrap_or_else(|error| panic!("pieces of {size} bytes: {error:?}"));

        assert_eq!(keys, expected, "pieces of {size} bytes");
        let pages: Vec<String> = server.received().iter().map(|request| request.path.clone()).collect();
        assert_eq!(pages.len(), 2, "no request after the short page: {pages:?}");
        assert!(pages[1].contains("page=2") && pages[1].contains("results=3"), "{pages:?}");
    }
}

/// What the stream and a plain `send()` make of the same page.
async fn both_errors(answer: Step) -> (Error, Error) {
    let server = FaultServer::start(vec![answer.clone(), answer]).await;
    let client = client_at(&server.url, RetryPolicy::never());
    let request = client.main().get_api_keys().tenant_id(TENANT);
    let streamed = request.clone().stream().next().await.expect("an error, not the end").unwrap_err();
    let sent = request.page(1u64).results(100u64).send().await.unwrap_err();
    (streamed, sent)
}

#[tokio::test]
async fn a_page_that_is_not_json_fails_as_send_fails_on_it() {
    // Longer than the part of a body an error keeps, and sent in pieces.
    let html = format!("<html><body>{}</body></html>", "maintenance ]}, ".repeat(600)).into_bytes();
    let envelope_cut_mid_item = {
        let mut body = page(&[key(1), key(2)], 1, 2, 1);
        body.truncate(body.len() / 2);
        body
    };
    let bad_item = page(&[key(1), json!({"id": "not a number"})], 1, 2, 1);
    for (what, body) in [("html", html), ("cut mid-item", envelope_cut_mid_item), ("bad item", bad_item)] {
        let (streamed, sent) = both_errors(chunked(body.clone(), 5)).await;
        let (Error::InvalidResponse(streamed), Error::InvalidResponse(sent)) = (&streamed, &sent) else {
            panic!("{what}: expected two invalid responses, got {streamed:?} and {sent:?}");
        };
        assert_eq!(streamed.status.map(|status| status.as_u16()), Some(200), "{what}");
        assert_eq!(streamed.status, sent.status, "{what}");
        assert_eq!(streamed.request_id.as_deref(), Some("req-page"), "{what}");
        assert_eq!(streamed.request_id, sent.request_id, "{what}");
        assert_eq!(streamed.raw_body, sent.raw_body, "{what}: the same start of the body is kept");
        assert!(streamed.raw_body.len() <= laserdata::RAW_BODY_LIMIT, "{what}");
        assert!(body.starts_with(streamed.raw_body.as_bytes()), "{what}");
        assert!(streamed.message.starts_with("the body does not match the API description"), "{what}: {streamed}");
    }
}

#[tokio::test]
async fn a_body_that_stops_arriving_mid_item_is_an_error_not_a_panic() {
    let body = page(&[key(1), key(2)], 1, 2, 1);
    let promised = body.len();
    let server = FaultServer::start(vec![Step::Truncated {
        status: 200,
        length: promised,
        body: body[..promised / 2].to_vec(),
    }])
    .await;
    let client = client_at(&server.url, RetryPolicy::never());

    let results: Vec<Result<types::ApiKeyInfo, Error>> =
        client.main().get_api_keys().tenant_id(TENANT).stream().collect().await;

    assert_eq!(results.len(), 1, "nothing of a page that failed is yielded: {results:?}");
    let error = results[0].as_ref().unwrap_err();
    // Whether hyper reports the early close as a body error or a connection error depends on
    // when it notices; either way the error is typed, and an invalid answer names its status.
    match error {
        Error::InvalidResponse(invalid) => assert_eq!(invalid.status.map(|status| status.as_u16()), Some(200)),
        Error::Transport(_) => {}
        other => panic!("unexpected kind {other:?}"),
    }
}

#[tokio::test]
async fn an_error_answer_for_page_two_follows_the_items_of_page_one() {
    let first: Vec<Value> = (1..=2).map(key).collect();
    let server =
        FaultServer::start(vec![chunked(page(&first, 1, 4, 2), 3), Step::problem(404, "tenant_not_found")]).await;
    let client = client_at(&server.url, RetryPolicy::never());

    let results: Vec<Result<types::ApiKeyInfo, Error>> =
        client.main().get_api_keys().tenant_id(TENANT).stream_pages_of(2.try_into().unwrap()).collect().await;

    assert_eq!(results.len(), 3, "{results:?}");
    let ids: Vec<i64> = results[..2].iter().map(|key| key.as_ref().unwrap().id.get()).collect();
    assert_eq!(ids, [1, 2]);
    let error = results[2].as_ref().unwrap_err().api().expect("the error answer");
    assert_eq!(
        (error.status.as_u16(), error.request_id.as_deref(), error.code()),
        (404, Some("req-404"), Some("tenant_not_found"))
    );
}
