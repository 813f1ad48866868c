//! The HTTP side of `cargo xtask live-check`: reads the command line and the environment,
//! sends the requests `xtask::live_check` plans, and writes the report. The xtask binary starts
//! this one (`cargo run -p xtask-live-check`), so that building the xtask builds no HTTP client.

use std::path::{Path, PathBuf};
use std::time::Duration;

use xtask::layers::LAYERS;
use xtask::live_check::report::{JSON_FILE, MARKDOWN_FILE, Report};
use xtask::live_check::{Answer, Documents, Options, Request, Transport};

pub const USAGE: &str = "\
usage: cargo xtask live-check [--out DIR] [--tenant ID] [--deployment ID] [--supervisor-url URL]
                              [--allow-writes OP[,OP...]] [--spec-dir DIR]

environment: LD_API_KEY (required), LD_API_URL (default https://api.laserdata.cloud),
             LD_AUDIT_URL (default https://audit.laserdata.cloud), and LD_TENANT_ID,
             LD_DEPLOYMENT_ID, LD_SUPERVISOR_URL in place of the options
";

/// Where the requests go and what they are checked against, from the command line and the
/// environment (`env` looks a variable up).
pub struct Settings {
    pub key: String,
    pub options: Options,
    pub out: PathBuf,
    pub spec_dir: PathBuf,
}

impl Settings {
    pub fn parse(args: &[String], env: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let key = env("LD_API_KEY").filter(|key| !key.is_empty()).ok_or("LD_API_KEY is not set")?;
        let mut options = Options {
            main_url: env("LD_API_URL").unwrap_or_else(|| "https://api.laserdata.cloud".into()),
            audit_url: env("LD_AUDIT_URL").unwrap_or_else(|| "https://audit.laserdata.cloud".into()),
            tenant_id: env("LD_TENANT_ID"),
            deployment_id: env("LD_DEPLOYMENT_ID"),
            supervisor_url: env("LD_SUPERVISOR_URL"),
            allow_writes: Vec::new(),
        };
        let root = xtask::project_root();
        let here = std::env::current_dir().unwrap_or_else(|_| root.clone());
        let mut out = root.join("target/live-check");
        let mut spec_dir = root.join("openapi/dist");
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().cloned().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--out" => out = here.join(value()?),
                "--tenant" => options.tenant_id = Some(value()?),
                "--deployment" => options.deployment_id = Some(value()?),
                "--supervisor-url" => options.supervisor_url = Some(value()?),
                "--allow-writes" => options.allow_writes.extend(value()?.split(',').map(|id| id.trim().to_owned())),
                "--spec-dir" => spec_dir = here.join(value()?),
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(Settings { key, options, out, spec_dir })
    }
}

/// Our published OpenAPI 3.1 documents, from `dir` (`openapi/dist` unless told otherwise).
pub fn load_documents(dir: &Path) -> Result<Documents, String> {
    let mut documents = Documents::new();
    for layer in LAYERS {
        let name = Path::new(layer.bundle_31).file_name().expect("a file name");
        let path = dir.join(name);
        let text =
            std::fs::read_to_string(&path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        let doc = serde_json::from_str(&text).map_err(|error| format!("{} is not JSON: {error}", path.display()))?;
        documents.insert(layer.name.to_owned(), doc);
    }
    Ok(documents)
}

/// Requests over HTTP(S), with the key in `ld-api-key`; redirects are not followed, so that
/// the status the API gave is the one judged.
pub struct HttpTransport {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    key: String,
}

impl HttpTransport {
    pub fn new(key: &str) -> Result<HttpTransport, String> {
        // reqwest is built without a TLS crypto provider of its own (as in the laserdata crate).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| format!("cannot start the HTTP runtime: {error}"))?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("laserdata-rs live-check/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| format!("cannot build the HTTP client: {error}"))?;
        Ok(HttpTransport { runtime, client, key: key.to_owned() })
    }
}

impl Transport for HttpTransport {
    fn send(&mut self, request: &Request) -> Result<Answer, String> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|error| error.to_string())?;
        let mut builder = self
            .client
            .request(method, &request.url)
            .header("ld-api-key", &self.key)
            .header("accept", "application/json, application/problem+json");
        if let Some(body) = &request.body {
            builder = builder.json(body);
        }
        self.runtime.block_on(async {
            let failed = |error: reqwest::Error| format!("{} {}: {}", request.method, request.url, error.without_url());
            let response = builder.send().await.map_err(failed)?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(name, value)| {
                    (name.as_str().to_ascii_lowercase(), String::from_utf8_lossy(value.as_bytes()).into_owned())
                })
                .collect();
            let body = response.bytes().await.map_err(failed)?.to_vec();
            Ok(Answer { status, headers, body })
        })
    }

    fn pause(&mut self, seconds: u64) {
        std::thread::sleep(Duration::from_secs(seconds));
    }
}

/// Runs the check and writes `live-check.json` and `live-check.md` into `settings.out`.
pub fn check_and_write(settings: &Settings, transport: &mut dyn Transport) -> Result<Report, String> {
    let documents = load_documents(&settings.spec_dir)?;
    let mut report = xtask::live_check::run(&settings.options, &documents, transport)?;
    report.add_secret(&settings.key);
    std::fs::create_dir_all(&settings.out)
        .map_err(|error| format!("cannot create {}: {error}", settings.out.display()))?;
    for (name, text) in [(JSON_FILE, report.to_json()), (MARKDOWN_FILE, report.to_markdown())] {
        let path = settings.out.join(name);
        std::fs::write(&path, text).map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    }
    Ok(report)
}
