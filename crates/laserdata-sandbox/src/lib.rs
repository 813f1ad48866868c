//! A LaserData Cloud API on loopback, from in-memory state: the Main API at `/`, the Supervisor
//! API under `/supervisor` and the Audit API under `/audit`.
//!
//! Routes come from the bundled spec (`openapi/dist/`), so the sandbox cannot drift from the
//! clients. The quick start (starter deployment, its details, its Supervisor's credentials) and
//! API keys are handled by hand; every other operation answers its spec example after the
//! key is checked. Every request body is validated against the spec's request schema.

mod spec;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
// tokio's clock, so that a test on a paused clock decides which requests share a rate-limit window.
use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};
use tokio::time::Instant;

use spec::{AUDIT_PREFIX, Layer, Route, SUPERVISOR_PREFIX, Spec};

/// Settings of a sandbox.
#[derive(Clone, Debug)]
pub struct Config {
    /// Requests one key may make per second before it gets 429 (default 20).
    pub rate_limit_per_second: u32,
    /// How many reads of a new deployment show it still provisioning (default 2).
    pub provisioning_reads: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config { rate_limit_per_second: 20, provisioning_reads: 2 }
    }
}

/// A running sandbox; it stops when dropped.
pub struct Sandbox {
    addr: SocketAddr,
    admin_key: String,
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
        let state = Arc::new(State::new(config, format!("http://{addr}"), &admin_key));
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let state = state.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = state.clone();
                        async move { Ok::<_, std::convert::Infallible>(state.handle(request).await) }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        Ok(Sandbox { addr, admin_key, task })
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

    /// A pre-made key with every permission.
    pub fn admin_key(&self) -> &str {
        &self.admin_key
    }
}

fn token() -> String {
    (0..32).map(|_| fastrand::alphanumeric()).collect()
}

#[derive(Clone)]
enum Permissions {
    All,
    Only(Vec<String>),
}

impl Permissions {
    fn allows(&self, needed: &str) -> bool {
        match self {
            Permissions::All => true,
            // `x:manage` implies `x:read`.
            Permissions::Only(list) => list.iter().any(|p| {
                p == needed || needed.strip_suffix(":read").is_some_and(|base| *p == format!("{base}:manage"))
            }),
        }
    }
}

struct ApiKey {
    id: u64,
    name: String,
    permissions: Permissions,
    permissions_body: Value,
    division_id: Option<u64>,
    validate_ip: bool,
    allowed_ips: Vec<String>,
    expiry_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    deleted: bool,
    window: (Instant, u32),
}

struct Deployment {
    tenant: u64,
    division: u64,
    environment: u64,
    name: String,
    cloud: Value,
    region: Value,
    created_at: DateTime<Utc>,
    reads: u32,
}

#[derive(Default)]
struct Data {
    keys: HashMap<String, ApiKey>,
    /// Answers to POST and PATCH requests that carried an `idempotency-key`, by calling key and
    /// idempotency key, with the body they were given.
    replays: HashMap<(String, String), (Bytes, Reply)>,
    deployments: HashMap<u64, Deployment>,
}

struct State {
    spec: Spec,
    config: Config,
    base_url: String,
    next_id: AtomicU64,
    data: Mutex<Data>,
}

type Answer = Response<Full<Bytes>>;

/// An answer the handler wants to send, success or problem.
#[derive(Clone)]
struct Reply {
    status: u16,
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply { status, body: Some(body), headers: Vec::new() }
    }
    fn empty(status: u16) -> Reply {
        Reply { status, body: None, headers: Vec::new() }
    }
}

fn problem(status: u16, code: &str, reason: &str) -> Reply {
    let title = StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error");
    Reply::json(
        status,
        json!({
            "type": "about:blank",
            "title": title,
            "status": status,
            "code": code,
            "reason": reason,
            "retryable": status == 429 || status == 503,
        }),
    )
}

impl State {
    fn new(config: Config, base_url: String, admin_key: &str) -> State {
        let now = Utc::now();
        let mut data = Data::default();
        data.keys.insert(
            admin_key.to_owned(),
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
                deleted: false,
                window: (Instant::now(), 0),
            },
        );
        State { spec: Spec::load(), config, base_url, next_id: AtomicU64::new(7000), data: Mutex::new(data) }
    }

    fn id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    async fn handle(&self, request: Request<Incoming>) -> Answer {
        let request_id = format!("SBX{:023}", self.id());
        let method = request.method().as_str().to_owned();
        let path = request.uri().path().to_owned();
        let query = request.uri().query().unwrap_or_default().to_owned();
        let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let (key, idempotency_key) = (header("ld-api-key"), header("idempotency-key"));
        let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let replay_key = match (&key, idempotency_key) {
            (Some(key), Some(idempotency)) if method == "POST" || method == "PATCH" => Some((key.clone(), idempotency)),
            _ => None,
        };
        let earlier = replay_key.as_ref().and_then(|k| {
            // Replayed only to a key that still works (a deleted one gets its 401).
            let data = self.data.lock().unwrap();
            let usable = data.keys.get(&k.0).is_some_and(|record| !record.deleted && record.expiry_at > Utc::now());
            data.replays.get(k).filter(|_| usable).cloned()
        });
        let reply = match earlier {
            Some((earlier_body, _)) if earlier_body != body => {
                problem(409, "idempotency_error", "The idempotency-key was already used with another body.")
            }
            Some((_, mut reply)) => {
                reply.headers.push(("idempotent-replayed", "true".into()));
                reply
            }
            None => {
                let reply = self.dispatch(&method, &path, &query, key.as_deref(), &body);
                // Only work that was done is replayed; a refusal may be retried.
                if let Some(replay_key) = replay_key.filter(|_| reply.status < 300) {
                    self.data.lock().unwrap().replays.insert(replay_key, (body.clone(), reply.clone()));
                }
                reply
            }
        };
        let mut builder = Response::builder().status(reply.status).header("ld-request", &request_id);
        for (name, value) in &reply.headers {
            builder = builder.header(*name, value);
        }
        let body = match reply.body {
            Some(mut body) => {
                let content_type = if reply.status >= 400 {
                    body["instance"] = json!(request_id);
                    "application/problem+json"
                } else {
                    "application/json"
                };
                builder = builder.header("content-type", content_type);
                Bytes::from(body.to_string())
            }
            None => Bytes::new(),
        };
        builder.body(Full::new(body)).expect("a valid response")
    }

    fn dispatch(&self, method: &str, path: &str, query: &str, key: Option<&str>, body: &[u8]) -> Reply {
        let (layer, rest) = if let Some(rest) = path.strip_prefix(SUPERVISOR_PREFIX).filter(|r| r.starts_with('/')) {
            (Layer::Supervisor, rest)
        } else if let Some(rest) = path.strip_prefix(AUDIT_PREFIX).filter(|r| r.starts_with('/')) {
            (Layer::Audit, rest)
        } else {
            (Layer::Main, path)
        };
        let (operation, params) = match self.spec.route(layer, method, rest) {
            Route::Found(operation, params) => (operation, params),
            Route::MethodNotAllowed => return problem(405, "method_not_allowed", "The path has no such method."),
            Route::NotFound => return problem(404, "not_found", "No operation has this path."),
        };
        // Authentication and the per-key rate limit come first, as on the real API.
        let Some(key) = key else { return problem(401, "unauthorized", "The ld-api-key header is missing.") };
        let caller = match self.authenticate(key) {
            Ok(caller) => caller,
            Err(reply) => return reply,
        };
        if let Some(needed) = required_permission(&operation.id)
            && !caller.1.allows(needed)
        {
            return problem(403, "insufficient_permissions", &format!("The key lacks the `{needed}` permission."));
        }
        if let (Some(limit), Some(division)) = (caller.2, params.get("division_id"))
            && *division != limit.to_string()
        {
            return problem(403, "insufficient_permissions", "The key is limited to another division.");
        }
        let body: Value = if body.is_empty() {
            Value::Null
        } else {
            match serde_json::from_slice(body) {
                Ok(body) => body,
                Err(error) => return problem(400, "invalid_body", &format!("The body is not JSON: {error}")),
            }
        };
        if operation.operation.get("requestBody").is_some() {
            let issues = self.spec.validate_body(operation, &body);
            if !issues.is_empty() {
                let mut reply = problem(400, "validation_failed", "The request body has invalid fields.");
                reply.body.as_mut().unwrap()["field_issues"] = Value::Array(issues);
                return reply;
            }
        }
        let param = |name: &str| params.get(name).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        let query: HashMap<&str, &str> = query.split('&').filter_map(|pair| pair.split_once('=')).collect();
        match operation.id.as_str() {
            "deploy_starter" => self.deploy_starter(param("tenant_id"), param("division_id"), &body),
            "get_deployment" => self.get_deployment(operation, &params, param("deployment_id")),
            "get_deployment_credentials" => self.credentials(param("deployment_id")),
            "create_api_key" => self.create_api_key(&body),
            "get_api_keys" => self.list_api_keys(&query),
            "get_api_key" => self.api_key_by_id(param("api_key_id"), |key| self.key_details(key)),
            "get_api_key_context" => {
                let data = self.data.lock().unwrap();
                Reply::json(200, self.key_details(&data.keys[&caller.0]))
            }
            "update_api_key_security" => self.update_security(param("api_key_id"), &body),
            "delete_api_key" => self.delete_api_key(param("api_key_id")),
            _ => match self.spec.success(operation) {
                (status, Some(example)) => Reply::json(status, example),
                (status, None) => Reply::empty(status),
            },
        }
    }

    /// The calling key's token, permissions and division limit, or the 401/429 to answer.
    fn authenticate(&self, key: &str) -> Result<(String, Permissions, Option<u64>), Reply> {
        let mut data = self.data.lock().unwrap();
        let Some(record) = data.keys.get_mut(key) else {
            return Err(problem(401, "unauthorized", "The API key is not valid."));
        };
        if record.deleted {
            return Err(problem(401, "unauthorized", "The API key was deleted."));
        }
        if record.expiry_at <= Utc::now() {
            return Err(problem(401, "unauthorized", "The API key has expired."));
        }
        let now = Instant::now();
        if now.duration_since(record.window.0) >= Duration::from_secs(1) {
            record.window = (now, 0);
        }
        record.window.1 += 1;
        if record.window.1 > self.config.rate_limit_per_second {
            let mut reply = problem(429, "rate_limited", "Too many requests with this key; retry later.");
            reply.headers.push(("retry-after", "1".into()));
            return Err(reply);
        }
        Ok((key.to_owned(), record.permissions.clone(), record.division_id))
    }

    fn deploy_starter(&self, tenant: u64, division: u64, body: &Value) -> Reply {
        let environment = body["environment_id"].as_u64().unwrap_or_else(|| self.id());
        let id = self.id();
        let name = body["deployment_name"].as_str().map(str::to_owned).unwrap_or_else(|| format!("starter-{id}"));
        let deployment = Deployment {
            tenant,
            division,
            environment,
            name,
            cloud: body["cloud"].clone(),
            region: body["region"].clone(),
            created_at: Utc::now(),
            reads: 0,
        };
        self.data.lock().unwrap().deployments.insert(id, deployment);
        let mut reply = Reply::empty(202);
        reply.headers.push(("ld-environment", environment.to_string()));
        reply.headers.push(("ld-deployment", id.to_string()));
        reply
    }

    /// The deployment, built on the spec's example. The spec has no status field: a deployment
    /// is provisioning while its `supervisor_url` is null, and running once it names one.
    fn get_deployment(&self, operation: &spec::Operation, params: &HashMap<String, String>, id: u64) -> Reply {
        let mut data = self.data.lock().unwrap();
        let same = |name: &str, value: u64| params.get(name).is_some_and(|v| *v == value.to_string());
        let Some(deployment) = data.deployments.get_mut(&id).filter(|d| {
            same("tenant_id", d.tenant) && same("division_id", d.division) && same("environment_id", d.environment)
        }) else {
            return problem(404, "not_found", "No such deployment.");
        };
        deployment.reads += 1;
        let running = deployment.reads > self.config.provisioning_reads;
        let (_, example) = self.spec.success(operation);
        let mut details = example.unwrap_or_else(|| json!({}));
        let created = deployment.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let code = format!("sbx{id}");
        details["id"] = json!(id);
        details["name"] = json!(deployment.name);
        details["description"] = Value::Null;
        details["code"] = json!(code);
        details["domain"] = json!("127.0.0.1");
        details["variant"] = json!("starter");
        details["cloud"] = deployment.cloud.clone();
        details["region"] = deployment.region.clone();
        details["tier"] = Value::Null;
        details["nodes_count"] = json!(1);
        details["dedicated"] = json!(false);
        details["shared"] = json!(true);
        details["can_upgrade"] = json!(false);
        details["upgrades"] = json!([]);
        details["upgraded_at"] = Value::Null;
        details["created_at"] = json!(created);
        details["updated_at"] = json!(created);
        details["supervisor_url"] =
            if running { json!(format!("{}{SUPERVISOR_PREFIX}", self.base_url)) } else { Value::Null };
        Reply::json(200, details)
    }

    fn credentials(&self, id: u64) -> Reply {
        let data = self.data.lock().unwrap();
        match data.deployments.get(&id) {
            Some(d) if d.reads > self.config.provisioning_reads => {
                Reply::json(200, json!({"username": "iggy", "password": format!("sbx-{id}-{}", &token()[..16])}))
            }
            Some(_) => problem(409, "deployment_not_ready", "The deployment is still provisioning."),
            None => problem(404, "not_found", "No such deployment."),
        }
    }

    fn create_api_key(&self, body: &Value) -> Reply {
        let (permissions, permissions_body) = match body.get("permissions").filter(|p| !p.is_null()) {
            Some(inline) => {
                let mut list = Vec::new();
                for scope in ["tenant", "division", "environment"] {
                    list.extend(
                        inline[scope].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned),
                    );
                }
                for division in inline["divisions"].as_object().into_iter().flatten().map(|(_, d)| d) {
                    for scope in ["permissions", "environment"] {
                        list.extend(
                            division[scope]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter_map(Value::as_str)
                                .map(str::to_owned),
                        );
                    }
                }
                let shown = json!({
                    "tenant": inline["tenant"].as_array().cloned().unwrap_or_default(),
                    "division": inline["division"].as_array().cloned().unwrap_or_default(),
                    "environment": inline["environment"].as_array().cloned().unwrap_or_default(),
                    "divisions": {},
                });
                (Permissions::Only(list), shown)
            }
            // The sandbox has no roles: a key made with a role gets every permission.
            None => (Permissions::All, json!({"tenant": [], "division": [], "environment": [], "divisions": {}})),
        };
        let expiry_at = body["expiry_at"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok());
        let Some(expiry_at) = expiry_at else {
            return problem(400, "validation_failed", "expiry_at is not a date-time.");
        };
        let id = self.id();
        let secret = format!("ldsk_{}", token());
        let key = ApiKey {
            id,
            name: body["name"].as_str().unwrap_or_default().to_owned(),
            permissions,
            permissions_body,
            division_id: body["division_id"].as_u64(),
            validate_ip: body["validate_ip"].as_bool().unwrap_or(false),
            allowed_ips: strings(&body["allowed_ips"]),
            expiry_at: expiry_at.with_timezone(&Utc),
            created_at: Utc::now(),
            deleted: false,
            window: (Instant::now(), 0),
        };
        self.data.lock().unwrap().keys.insert(secret.clone(), key);
        Reply::json(201, json!({"id": id, "token": secret}))
    }

    fn key_info(&self, key: &ApiKey) -> Value {
        let format = |t: &DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        json!({
            "id": key.id,
            "name": key.name,
            "role_id": key.id,
            "role_name": if matches!(key.permissions, Permissions::All) { "admin".to_owned() } else { format!("key-{}", key.id) },
            "division_id": key.division_id,
            "division_name": key.division_id.map(|d| format!("division-{d}")),
            "user_id": 1,
            "validate_ip": key.validate_ip,
            "allowed_ips": key.allowed_ips,
            "expiry_at": format(&key.expiry_at),
            "created_at": format(&key.created_at),
        })
    }

    fn key_details(&self, key: &ApiKey) -> Value {
        let mut details = self.key_info(key);
        details["permissions"] = key.permissions_body.clone();
        details
    }

    fn live_keys(data: &Data) -> Vec<&ApiKey> {
        let mut keys: Vec<&ApiKey> = data.keys.values().filter(|k| !k.deleted).collect();
        keys.sort_by_key(|k| k.id);
        keys
    }

    fn list_api_keys(&self, query: &HashMap<&str, &str>) -> Reply {
        let page = query.get("page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(1).max(1);
        let results = query.get("results").and_then(|p| p.parse::<usize>().ok()).unwrap_or(10).clamp(1, 100);
        let data = self.data.lock().unwrap();
        let keys = Self::live_keys(&data);
        let items: Vec<Value> =
            keys.iter().skip((page - 1) * results).take(results).map(|k| self.key_info(k)).collect();
        Reply::json(
            200,
            json!({"items": items, "page": page, "total_results": keys.len(), "total_pages": keys.len().div_ceil(results)}),
        )
    }

    fn api_key_by_id(&self, id: u64, show: impl Fn(&ApiKey) -> Value) -> Reply {
        let data = self.data.lock().unwrap();
        match data.keys.values().find(|k| k.id == id && !k.deleted) {
            Some(key) => Reply::json(200, show(key)),
            None => problem(404, "not_found", "No such API key."),
        }
    }

    fn update_security(&self, id: u64, body: &Value) -> Reply {
        let mut data = self.data.lock().unwrap();
        let Some(key) = data.keys.values_mut().find(|k| k.id == id && !k.deleted) else {
            return problem(404, "not_found", "No such API key.");
        };
        if let Some(validate) = body["validate_ip"].as_bool() {
            key.validate_ip = validate;
        }
        if body["allowed_ips"].is_array() {
            key.allowed_ips = strings(&body["allowed_ips"]);
        }
        Reply::empty(204)
    }

    fn delete_api_key(&self, id: u64) -> Reply {
        let mut data = self.data.lock().unwrap();
        match data.keys.values_mut().find(|k| k.id == id && !k.deleted) {
            Some(key) => {
                key.deleted = true;
                Reply::empty(204)
            }
            None => problem(404, "not_found", "No such API key."),
        }
    }
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

/// The permission an operation the sandbox implements needs; every other operation needs only
/// a valid key.
fn required_permission(operation_id: &str) -> Option<&'static str> {
    Some(match operation_id {
        "get_api_keys" | "get_api_key" => "api_key:read",
        "create_api_key" | "update_api_key_security" | "delete_api_key" => "api_key:manage",
        "deploy_starter" => "deployment:manage",
        "get_deployment" => "deployment:read",
        "get_deployment_credentials" => "deployment:credentials:read",
        _ => return None,
    })
}
