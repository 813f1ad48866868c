//! The sandbox's lifecycle: binding, serving connections, reading requests within the size
//! limit, and writing answers. A panic while answering becomes a 500 for that request only.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
// tokio's clock, so that a test on a paused clock decides which requests share a rate-limit window.
use tokio::time::Instant;

use bytes::Bytes;
use chrono::Utc;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming as IncomingBody;
use hyper::{Request, Response};
use serde_json::{Value, json};

use crate::Config;
use crate::auth::{ApiKey, Permissions};
use crate::documents::{AUDIT_PREFIX, Documents, SUPERVISOR_PREFIX};
use crate::reply::{Body, Reply, problem};
use crate::routing::{self, Incoming};
use crate::state::{DIVISION, Data, ProtectedResource, TENANT, lock};
use crate::validation::Validators;

/// The largest request body accepted, as the documents state (`4XX`: 413 above 1 MiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Everything a running sandbox shares between its connections.
pub struct State {
    pub config: Config,
    pub documents: Documents,
    pub validators: Validators,
    pub base_url: String,
    next_id: AtomicU64,
    pub data: Mutex<Data>,
}

impl State {
    /// A new id for something the sandbox creates.
    pub fn id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// A running sandbox; it stops when dropped.
pub struct Sandbox {
    addr: SocketAddr,
    admin_key: String,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sandbox {
    /// Starts a sandbox with the default settings on `127.0.0.1` at a free port.
    pub async fn start() -> std::io::Result<Sandbox> {
        Self::start_with(Config::default(), 0).await
    }

    /// Starts a sandbox on `127.0.0.1:port` (0 for any free port).
    pub async fn start_with(config: Config, port: u16) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let admin_key = format!("ldsk_admin_{}", token());
        let documents = Documents::load();
        let validators = Validators::new(&documents);
        let state = Arc::new(State {
            config,
            documents,
            validators,
            base_url: format!("http://{addr}"),
            next_id: AtomicU64::new(7000),
            data: Mutex::new(Data::new(&admin_key, admin())),
        });
        let serving = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let state = serving.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = state.clone();
                        async move { Ok::<_, std::convert::Infallible>(serve(&state, request).await) }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        Ok(Sandbox { addr, admin_key, state, task })
    }

    /// The Main API's base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The Supervisor API's base URL (what deployments name as `supervisor_url`).
    pub fn supervisor_url(&self) -> String {
        format!("http://{}{SUPERVISOR_PREFIX}", self.addr)
    }

    /// The Audit API's base URL.
    pub fn audit_url(&self) -> String {
        format!("http://{}{AUDIT_PREFIX}", self.addr)
    }

    /// The address the sandbox listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A pre-made key with every permission; it cannot be deleted.
    pub fn admin_key(&self) -> &str {
        &self.admin_key
    }

    /// The sandbox's one tenant.
    pub fn tenant_id(&self) -> i64 {
        TENANT as i64
    }

    /// The division the sandbox starts with.
    pub fn division_id(&self) -> i64 {
        DIVISION as i64
    }

    /// The codes `request_resource_code` has sent (where the real API e-mails them), oldest
    /// first, each with the deletion it confirms (`delete_division 312`).
    pub fn sent_codes(&self) -> Vec<(String, String)> {
        let data = lock(&self.state.data);
        data.codes
            .iter()
            .map(|(ProtectedResource { action, id }, code)| (format!("{action} {id}"), code.clone()))
            .collect()
    }
}

fn admin() -> ApiKey {
    let now = Utc::now();
    ApiKey {
        id: 1,
        name: "sandbox-admin".into(),
        permissions: Permissions::All,
        permissions_body: json!({"tenant": [], "division": [], "environment": [], "divisions": {}}),
        division_id: None,
        validate_ip: false,
        allowed_ips: Vec::new(),
        expiry_at: now + chrono::Duration::days(365),
        created_at: now,
        protected: true,
        window: (Instant::now(), 0),
    }
}

/// A random secret.
pub fn token() -> String {
    (0..32).map(|_| fastrand::alphanumeric()).collect()
}

async fn serve(state: &State, request: Request<IncomingBody>) -> Response<Full<Bytes>> {
    let request_id = format!("SBX{:023}", state.id());
    let (parts, body) = request.into_parts();
    let reply = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => {
            let incoming = Incoming {
                method: parts.method.as_str().to_owned(),
                path: parts.uri.path().to_owned(),
                query: parts.uri.query().unwrap_or_default().to_owned(),
                headers: parts.headers,
                body: collected.to_bytes(),
            };
            // The answer is made synchronously, holding locks only briefly; a bug that panics
            // costs this one request a 500, never the sandbox.
            std::panic::catch_unwind(AssertUnwindSafe(|| routing::answer(state, &incoming)))
                .unwrap_or_else(|_| problem(500, "internal_error", "The sandbox failed to answer this request."))
        }
        Err(error) if error.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            problem(413, "payload_too_large", &format!("The request body is larger than {MAX_BODY_BYTES} bytes."))
        }
        Err(_) => problem(400, "invalid_body", "The request body could not be read."),
    };
    render(reply, &request_id)
}

fn render(reply: Reply, request_id: &str) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(reply.status).header("ld-request", request_id);
    for (name, value) in &reply.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let body = match reply.body {
        Body::Json(mut body) => {
            let content_type = if reply.status >= 400 {
                if let Value::Object(problem) = &mut body {
                    problem.insert("instance".into(), json!(request_id));
                }
                "application/problem+json"
            } else {
                "application/json"
            };
            builder = builder.header("content-type", content_type);
            Bytes::from(body.to_string())
        }
        Body::Bytes(content_type, bytes) => {
            builder = builder.header("content-type", content_type);
            bytes
        }
        Body::Empty => Bytes::new(),
    };
    builder.body(Full::new(body)).unwrap_or_else(|_| {
        // Only a header value the sandbox made up could be invalid; answer without it.
        let mut fallback = Response::new(Full::new(Bytes::new()));
        *fallback.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}
