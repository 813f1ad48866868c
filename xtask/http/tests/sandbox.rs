//! `cargo xtask live-check` end to end against the sandbox, its requests sent by this
//! package's `xtask-http` over loopback: a run in which every answer is as described; a run
//! against a copy of the description with planted differences, which finds them and refutes a
//! route that does not exist, followed by `--apply`; and that no mutating operation is called
//! unless named, and no secret is written.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use xtask::live_check::child::ChildTransport;
use xtask::live_check::report::{Outcome, Report, RouteVerdict, WRITE_REASON};
use xtask::live_check::settings::{Settings, check_and_write};
use xtask::live_check::{Answer, Request, Transport};

/// `xtask-http` with `key`, as `cargo xtask live-check` starts it.
fn http(key: &str) -> ChildTransport {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask-http"));
    command.env("LD_API_KEY", key);
    ChildTransport::spawn(command).unwrap()
}

/// A sandbox served from its own thread and runtime, so that the check (which blocks) can run
/// on the test's thread.
struct RunningSandbox {
    url: String,
    audit_url: String,
    supervisor_url: String,
    key: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningSandbox {
    fn start() -> RunningSandbox {
        let (started, addresses) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let sandbox = laserdata_sandbox::Sandbox::start().await.unwrap();
                let urls =
                    (sandbox.url(), sandbox.audit_url(), sandbox.supervisor_url(), sandbox.admin_key().to_owned());
                started.send(urls).unwrap();
                let _ = stopped.await;
            });
        });
        let (url, audit_url, supervisor_url, key) = addresses.recv().unwrap();
        RunningSandbox { url, audit_url, supervisor_url, key, stop: Some(stop), thread: Some(thread) }
    }

    fn send(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let mut transport = http(&self.key);
        transport.send(&Request { method: method.into(), url: format!("{}{path}", self.url), body }).unwrap()
    }

    /// A starter deployment, read until it runs (so that its Supervisor hands out credentials).
    fn running_deployment(&self) -> String {
        let created = self.send(
            "POST",
            "/tenants/1042/divisions/312/deployments/starter",
            Some(json!({"cloud": "aws", "region": "us-west-1"})),
        );
        assert_eq!(created.status, 202);
        let deployment = created.header("ld-deployment").unwrap().to_owned();
        let environment = created.header("ld-environment").unwrap().to_owned();
        let path = format!("/tenants/1042/divisions/312/environments/{environment}/deployments/{deployment}");
        for _ in 0..10 {
            let details: Value = serde_json::from_slice(&self.send("GET", &path, None).body).unwrap();
            if !details["supervisor_url"].is_null() {
                return deployment;
            }
        }
        panic!("the deployment never ran");
    }

    /// Runs the live check against this sandbox, as `cargo xtask live-check ARGS` would.
    fn live_check(&self, args: &[&str]) -> Report {
        let env = |name: &str| match name {
            "LD_API_KEY" => Some(self.key.clone()),
            "LD_API_URL" => Some(self.url.clone()),
            "LD_AUDIT_URL" => Some(self.audit_url.clone()),
            _ => None,
        };
        let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        let settings = Settings::parse(&args, env, Path::new("/")).unwrap();
        check_and_write(&settings, &mut http(&self.key)).unwrap()
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        let _ = self.stop.take().unwrap().send(());
        let _ = self.thread.take().unwrap().join();
    }
}

fn read_report(dir: &Path) -> (Report, String, String) {
    let json = std::fs::read_to_string(dir.join("live-check.json")).unwrap();
    let markdown = std::fs::read_to_string(dir.join("live-check.md")).unwrap();
    (Report::from_json(&json).unwrap(), json, markdown)
}

fn result<'a>(report: &'a Report, id: &str) -> &'a xtask::live_check::report::OperationResult {
    report.operations.iter().find(|result| result.operation_id == id).unwrap_or_else(|| panic!("no {id} in the report"))
}

fn status_of(report: &Report, id: &str) -> Option<u16> {
    match &result(report, id).outcome {
        Outcome::Called(called) => Some(called.status),
        Outcome::Skipped { .. } => None,
    }
}

#[test]
fn against_the_sandbox_every_answer_is_as_described_and_no_secret_is_written() {
    let sandbox = RunningSandbox::start();
    let deployment = sandbox.running_deployment();
    let out = tempfile::tempdir().unwrap();
    let returned = sandbox.live_check(&[
        "--tenant",
        "1042",
        "--deployment",
        &deployment,
        "--supervisor-url",
        &sandbox.supervisor_url,
        "--out",
        out.path().to_str().unwrap(),
    ]);
    let (report, json, markdown) = read_report(out.path());
    assert_eq!(returned.summary.called, report.summary.called);

    let differing: Vec<&str> = report
        .operations
        .iter()
        .filter(|result| matches!(&result.outcome, Outcome::Called(called) if !called.conforms))
        .map(|result| result.operation_id.as_str())
        .collect();
    assert!(differing.is_empty(), "{differing:?}\n{markdown}");
    assert!(report.summary.called >= 70, "{markdown}");
    assert!(markdown.contains("## Answers that differ from the description\n\nNone."), "{markdown}");
    // Every layer was reached, the Supervisor's credentials included (they hold a password).
    for id in ["get_tenant", "get_tenant_audit", "get_deployment_metrics"] {
        assert_eq!(status_of(&report, id), Some(200), "{id}");
    }
    assert_eq!(status_of(&report, "get_deployment_credentials"), Some(200));
    for result in &report.operations {
        // Read-only: nothing else was called.
        if let Outcome::Called(_) = result.outcome {
            assert_eq!(result.method, "GET", "{} was called", result.operation_id);
        } else if result.method != "GET" {
            assert!(matches!(&result.outcome, Outcome::Skipped { reason } if reason.starts_with(WRITE_REASON)));
        }
        // The sandbox serves every route of the description: each inferred read is confirmed.
        if result.confidence.as_deref() == Some("inferred") && result.method == "GET" {
            assert!(matches!(result.route, Some(RouteVerdict::Confirmed { .. })), "{result:?}");
        }
    }
    // The key, and the deployment's password (`sbx-<id>-...` in the sandbox), are nowhere.
    let password_prefix = format!("sbx-{deployment}-");
    for text in [&json, &markdown] {
        assert!(!text.contains(&sandbox.key), "the key leaked");
        assert!(!text.contains(&password_prefix), "the deployment's password leaked");
    }
}

/// A copy of our published documents with differences planted: a field the answers carry is
/// no longer declared, another changes type, and an inferred route moves to a path the
/// sandbox does not serve.
fn planted_spec(dir: &Path) {
    let dist = xtask::project_root().join("openapi/dist");
    for layer in xtask::layers::LAYERS {
        let name = Path::new(layer.bundle_31).file_name().unwrap();
        let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(dist.join(name)).unwrap()).unwrap();
        if layer.name == "main" {
            let info = &mut doc["components"]["schemas"]["ApiKeyInfo"];
            info["properties"].as_object_mut().unwrap().shift_remove("name").unwrap();
            info["required"].as_array_mut().unwrap().retain(|field| field != "name");
            info["properties"]["validate_ip"] = json!({"type": "string"});
        }
        if layer.name == "supervisor" {
            let paths = doc["paths"].as_object_mut().unwrap();
            let tasks = paths.shift_remove("/deployments/{deployment_id}/tasks").unwrap();
            paths.insert("/deployments/{deployment_id}/task_list".into(), tasks);
        }
        std::fs::write(dir.join(name), doc.to_string()).unwrap();
    }
}

#[test]
fn planted_differences_are_found_and_apply_marks_only_confirmed_routes() {
    let sandbox = RunningSandbox::start();
    let spec = tempfile::tempdir().unwrap();
    planted_spec(spec.path());
    let out = tempfile::tempdir().unwrap();
    sandbox.live_check(&[
        "--tenant",
        "1042",
        "--deployment",
        "42",
        "--supervisor-url",
        &sandbox.supervisor_url,
        "--spec-dir",
        spec.path().to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
    ]);
    let (report, _, markdown) = read_report(out.path());
    assert!(report.summary.differing >= 2, "{markdown}");

    let Outcome::Called(context) = &result(&report, "get_api_key_context").outcome else { panic!("not called") };
    assert!(!context.conforms);
    assert_eq!(context.undeclared_fields, ["/name"]);
    assert_eq!(context.schema_differences, ["`/validate_ip` is a boolean, the schema wants string"]);
    let Outcome::Called(list) = &result(&report, "get_api_keys").outcome else { panic!("not called") };
    assert_eq!(list.undeclared_fields, ["/items/*/name"]);
    assert!(markdown.contains("| main | `get_api_key_context` | 200 |"), "{markdown}");
    assert!(markdown.contains("undeclared field `/name`"), "{markdown}");

    let tasks = result(&report, "get_deployment_tasks");
    assert_eq!(tasks.path, "/deployments/{deployment_id}/task_list");
    assert!(matches!(&tasks.route, Some(RouteVerdict::Refuted { why }) if why.contains("cannot exist")), "{tasks:?}");
    assert!(
        markdown.contains("| `get_deployment_tasks` | `GET /deployments/{deployment_id}/task_list` | refuted |"),
        "{markdown}"
    );

    // --apply on a copy of the Supervisor sources: confirmed routes become `seen`, by one word
    // on one line each; the refuted one stays `inferred`.
    let root = tempfile::tempdir().unwrap();
    let layer = xtask::layers::LAYERS.iter().find(|layer| layer.requires_confidence).unwrap();
    let mut files = vec![PathBuf::from(layer.source)];
    files.extend(xtask::part_files(&xtask::project_root(), layer));
    for file in &files {
        std::fs::create_dir_all(root.path().join(file).parent().unwrap()).unwrap();
        std::fs::copy(xtask::project_root().join(file), root.path().join(file)).unwrap();
    }
    let applied = xtask::live_check::apply::apply(root.path(), &report).unwrap();
    assert_eq!(applied.refuted.len(), 1);
    assert_eq!(applied.refuted[0].0, "get_deployment_tasks");
    let confirmed = report.summary.routes_confirmed;
    assert!(confirmed >= 10, "{markdown}");
    assert_eq!(applied.marked.len(), confirmed);
    let mut changed_lines = 0;
    for file in &files {
        let before = std::fs::read_to_string(xtask::project_root().join(file)).unwrap();
        let after = std::fs::read_to_string(root.path().join(file)).unwrap();
        assert_eq!(before.lines().count(), after.lines().count());
        for (old, new) in before.lines().zip(after.lines()).filter(|(old, new)| old != new) {
            assert_eq!(old.replace("x-laserdata-confidence: inferred", "x-laserdata-confidence: seen"), new);
            changed_lines += 1;
        }
    }
    assert_eq!(changed_lines, confirmed);
    let tasks_file = std::fs::read_to_string(root.path().join("openapi/supervisor/nodes.yaml")).unwrap();
    let tasks_block = &tasks_file[tasks_file.find("operationId: get_deployment_tasks").unwrap()..];
    assert!(tasks_block.lines().find(|line| line.contains("x-laserdata-confidence")).unwrap().ends_with("inferred"));
    // A second run changes nothing more.
    let again = xtask::live_check::apply::apply(root.path(), &report).unwrap();
    assert!(again.marked.is_empty());
    assert_eq!(again.already_seen.len(), confirmed);
}

/// The HTTP transport, with every request it sends written down.
struct Recording {
    inner: ChildTransport,
    sent: Vec<(String, String)>,
}

impl Transport for Recording {
    fn send(&mut self, request: &Request) -> Result<Answer, String> {
        self.sent.push((request.method.clone(), request.url.clone()));
        self.inner.send(request)
    }
    fn pause(&mut self, seconds: u64) {
        self.inner.pause(seconds);
    }
}

#[test]
fn a_mutating_operation_is_called_only_when_named_and_its_secret_is_not_written() {
    let sandbox = RunningSandbox::start();
    let out = tempfile::tempdir().unwrap();
    let env = |name: &str| match name {
        "LD_API_KEY" => Some(sandbox.key.clone()),
        "LD_API_URL" => Some(sandbox.url.clone()),
        "LD_AUDIT_URL" => Some(sandbox.audit_url.clone()),
        _ => None,
    };
    let run = |extra: &[&str]| {
        let mut args: Vec<String> =
            ["--tenant", "1042", "--out", out.path().to_str().unwrap()].map(String::from).to_vec();
        args.extend(extra.iter().map(|arg| arg.to_string()));
        let settings = Settings::parse(&args, env, Path::new("/")).unwrap();
        let mut recording = Recording { inner: http(&settings.key), sent: Vec::new() };
        let report = check_and_write(&settings, &mut recording).unwrap();
        (report, recording.sent)
    };

    let (_, sent) = run(&[]);
    assert!(sent.len() > 40);
    assert!(sent.iter().all(|(method, _)| method == "GET"), "{sent:?}");

    let (report, sent) = run(&["--allow-writes", "create_api_key"]);
    let writes: Vec<&(String, String)> = sent.iter().filter(|(method, _)| method != "GET").collect();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].0, "POST");
    assert!(writes[0].1.ends_with("/tenants/1042/api_keys"), "{writes:?}");
    assert_eq!(status_of(&report, "create_api_key"), Some(201));
    // The new key's token came back in the answer; neither it nor the admin key is written.
    let (_, json, markdown) = read_report(out.path());
    assert!(!json.contains("ldsk_") && !markdown.contains("ldsk_"), "a key leaked:\n{json}");
    // Without the Supervisor's address, its operations are listed as not called, with why.
    let Outcome::Skipped { reason } = &result(&report, "get_deployment_metrics").outcome else { panic!("called") };
    assert!(reason.contains("--deployment"), "{reason}");
}

#[test]
fn settings_need_a_key_and_refuse_plain_http_beyond_loopback() {
    let missing = Settings::parse(&[], |_| None, Path::new("/"));
    assert_eq!(missing.err().as_deref(), Some("LD_API_KEY is not set"));
    let args = ["--tenant", "7", "--out", "report"].map(String::from);
    let settings = Settings::parse(
        &args,
        |name| match name {
            "LD_API_KEY" => Some("ldsk_not_used".into()),
            "LD_API_URL" => Some("http://api.example.com".into()),
            _ => None,
        },
        Path::new("/somewhere"),
    )
    .unwrap();
    assert_eq!(settings.options.tenant_id.as_deref(), Some("7"));
    assert_eq!(settings.out, Path::new("/somewhere/report"));
    let error = check_and_write(&settings, &mut http(&settings.key)).unwrap_err();
    assert!(error.contains("only https"), "{error}");

    // Nothing listens on port 9 of loopback: when nothing answers at all, the run fails.
    let unreachable = Settings::parse(
        &[],
        |name| match name {
            "LD_API_KEY" => Some("ldsk_not_used".into()),
            "LD_API_URL" | "LD_AUDIT_URL" => Some("http://127.0.0.1:9".into()),
            _ => None,
        },
        Path::new("/"),
    )
    .unwrap();
    let error = check_and_write(&unreachable, &mut http(&unreachable.key)).unwrap_err();
    assert!(error.starts_with("GET http://127.0.0.1:9/"), "{error}");
}

/// The wire between the xtask and `xtask-http`: a failure is an answer too, and the helper
/// refuses to start without a key.
#[test]
fn the_http_helper_reports_failures_and_needs_a_key() {
    let mut transport = http("ldsk_not_used");
    // Nothing listens on port 9 of loopback (discard): the request fails, the helper goes on.
    let refused = transport.send(&Request { method: "GET".into(), url: "http://127.0.0.1:9/x".into(), body: None });
    assert!(refused.unwrap_err().starts_with("GET http://127.0.0.1:9/x: "));
    let sandbox = RunningSandbox::start();
    let answer =
        transport.send(&Request { method: "GET".into(), url: format!("{}/tenants", sandbox.url), body: None }).unwrap();
    assert_eq!(answer.status, 401, "the helper sent its own key, which the sandbox does not know");
    assert!(answer.header("ld-request").is_some());

    let without_key = Command::new(env!("CARGO_BIN_EXE_xtask-http")).env_remove("LD_API_KEY").output().unwrap();
    assert_eq!(without_key.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&without_key.stderr).contains("LD_API_KEY is not set"));
}
