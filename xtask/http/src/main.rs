//! `xtask-http`: the HTTP side of `cargo xtask live-check`, which starts it and writes one
//! request per line to its standard input (`{"method", "url", "body"}`); it answers each on
//! its standard output, in order, with one line: `{"status", "headers", "body"}` or
//! `{"error"}`. The other end is `xtask::live_check::child`.
//!
//! The key comes from `LD_API_KEY` and goes into every request's `ld-api-key` header; it is
//! never written anywhere. Redirects are not followed, so that the status judged is the one
//! the API gave.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Deserialize)]
struct WireRequest {
    method: String,
    url: String,
    #[serde(default)]
    body: Option<Value>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum WireAnswer {
    Answered { status: u16, headers: Vec<(String, String)>, body: String },
    Failed { error: String },
}

fn main() -> ExitCode {
    let Some(key) = std::env::var("LD_API_KEY").ok().filter(|key| !key.is_empty()) else {
        eprintln!("xtask-http: LD_API_KEY is not set");
        return ExitCode::from(2);
    };
    // reqwest is built without a TLS crypto provider of its own (as in the laserdata crate).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a Tokio runtime");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("laserdata-rs live-check/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("an HTTP client");
    let mut out = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let answer = match serde_json::from_str::<WireRequest>(&line) {
            Ok(request) => runtime.block_on(send(&client, &key, request)),
            Err(error) => WireAnswer::Failed { error: format!("not a request: {error}") },
        };
        let written = serde_json::to_string(&answer).expect("answers serialize");
        if writeln!(out, "{written}").and_then(|()| out.flush()).is_err() {
            break;
        }
    }
    ExitCode::SUCCESS
}

async fn send(client: &reqwest::Client, key: &str, request: WireRequest) -> WireAnswer {
    let method = match reqwest::Method::from_bytes(request.method.as_bytes()) {
        Ok(method) => method,
        Err(error) => return WireAnswer::Failed { error: format!("not a method: {error}") },
    };
    let mut builder = client
        .request(method, &request.url)
        .header("ld-api-key", key)
        .header("accept", "application/json, application/problem+json");
    if let Some(body) = &request.body {
        builder = builder.json(body);
    }
    let failed = |error: reqwest::Error| WireAnswer::Failed {
        error: format!("{} {}: {}", request.method, request.url, error.without_url()),
    };
    let response = match builder.send().await {
        Ok(response) => response,
        Err(error) => return failed(error),
    };
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (name.as_str().to_ascii_lowercase(), String::from_utf8_lossy(value.as_bytes()).into_owned())
        })
        .collect();
    match response.bytes().await {
        Ok(body) => WireAnswer::Answered { status, headers, body: String::from_utf8_lossy(&body).into_owned() },
        Err(error) => failed(error),
    }
}
