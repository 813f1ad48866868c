//! `cargo xtask lint`: the quality gates of the published documents, in one command.
//!
//! | Gate | What passes |
//! |---|---|
//! | `validate` | openapi-spec-validator accepts every published document; each YAML file reads (PyYAML, YAML 1.1) as its JSON twin |
//! | `redocly` | `redocly lint` (every API of `redocly.yaml`) reports no error and no warning |
//! | `spectral` | `spectral lint` (`.spectral.yaml`) reports nothing at all, on every published document |
//! | `typescript` | openapi-typescript's types of every layer (3.0 and 3.1 documents), and every documented example typed with them, compile with `tsc --strict`; so do the types with int64 as `bigint`, and a client using them reads and sends back ids above 2^53 exactly (loopback) |
//! | `python` | a client from openapi-python-client for every layer imports and makes one real call against a loopback server |
//! | `fuzz` | schemathesis (`--checks all`, fixed seed, bounded examples) finds no failure in the sandbox for any layer's 3.1 document; the checks left out are named, with their reason, in `xtask/src/fuzz.rs` |
//! | `html` | the HTML reference of every layer renders in headless Chromium with every operation of every tag (`cargo test -p xtask --test html_reference -- --ignored`) |
//! | `generators` | openapi-generator's `go`, `python` and `typescript-fetch` clients of every layer, with the generator's defaults, build: `go build` (Debian's `golang-go`), every Python module imports, `tsc --strict` |
//!
//! Every gate runs even when an earlier one failed; the summary gives each one's time. The
//! tools are the pinned ones under `tools/`, installed first when missing or out of date.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use laserdata_spec::refs::deref;
use serde_json::Value;

use crate::layers::{LAYERS, Layer};
use crate::tools::{Tools, run};

/// Where the gates put what they generate (TypeScript, Python clients, pages, screenshots).
pub const ARTIFACTS: &str = "target-artifacts";

/// The gates, in the order they run.
pub const GATES: [&str; 8] = ["validate", "redocly", "spectral", "typescript", "python", "fuzz", "html", "generators"];

/// The operation each layer's Python client calls in the `python` gate: a GET with path
/// parameters (and, where the operation is paged, `page` and `results`) and a JSON example.
pub const PYTHON_CALLS: [(&str, &str); 3] =
    [("main", "get_api_keys"), ("supervisor", "get_deployment_credentials"), ("audit", "get_tenant_audit")];

/// The outcome of one gate.
#[derive(Debug)]
pub struct GateResult {
    pub name: &'static str,
    pub elapsed: Duration,
    pub outcome: Result<(), String>,
}

/// Runs the named gates (all of them when `names` is empty), installing the tools first.
pub fn lint(root: &Path, names: &[String]) -> Result<Vec<GateResult>, String> {
    for name in names {
        if !GATES.contains(&name.as_str()) {
            return Err(format!("unknown gate `{name}`; gates: {}", GATES.join(", ")));
        }
    }
    let started = Instant::now();
    let tools = Tools::ensure(root)?;
    eprintln!("tools ready in {:.1?}", started.elapsed());
    let mut results = Vec::new();
    for name in GATES.iter().copied().filter(|gate| names.is_empty() || names.iter().any(|n| n == gate)) {
        eprintln!("\n== gate: {name}");
        let started = Instant::now();
        let outcome = match name {
            "validate" => validate(root, &tools),
            "redocly" => redocly(root, &tools),
            "spectral" => spectral(root, &tools),
            "typescript" => typescript(root, &tools),
            "python" => python(root, &tools),
            "fuzz" => crate::fuzz::fuzz(root, &tools),
            "html" => html(root),
            "generators" => generators(root, &tools),
            _ => unreachable!("gate names are checked above"),
        };
        let result = GateResult { name, elapsed: started.elapsed(), outcome };
        match &result.outcome {
            Ok(()) => eprintln!("== {name}: ok in {:.1?}", result.elapsed),
            Err(message) => eprintln!("== {name}: FAILED in {:.1?}: {message}", result.elapsed),
        }
        results.push(result);
    }
    Ok(results)
}

/// Every published document, relative to the root.
pub fn published_documents() -> Vec<&'static str> {
    LAYERS.iter().flat_map(Layer::published).collect()
}

fn validate(root: &Path, tools: &Tools) -> Result<(), String> {
    run(
        tools.python().arg(tools.file("validate_specs.py")).args(published_documents()).current_dir(root),
        "openapi-spec-validator",
    )
}

fn redocly(root: &Path, tools: &Tools) -> Result<(), String> {
    // The JSON report gives the totals (one report per API); the readable one is printed when
    // there is anything to read.
    let output = tools
        .node("redocly")
        .args(["lint", "--format", "json", "--lint-config", "error"])
        .current_dir(root)
        .stderr(Stdio::null())
        .output()
        .map_err(|error| format!("cannot start redocly: {error}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let (mut reports, mut errors, mut warnings) = (0, 0, 0);
    for report in serde_json::Deserializer::from_str(&text).into_iter::<Value>() {
        let report = report.map_err(|error| format!("unreadable redocly report: {error}"))?;
        reports += 1;
        errors += report.pointer("/totals/errors").and_then(Value::as_u64).unwrap_or(1);
        warnings += report.pointer("/totals/warnings").and_then(Value::as_u64).unwrap_or(1);
    }
    let expected = published_documents().len();
    if output.status.success() && errors == 0 && warnings == 0 && reports == expected {
        println!("redocly lint: {reports} documents, no error, no warning");
        return Ok(());
    }
    let _ = tools.node("redocly").args(["lint", "--format", "stylish"]).current_dir(root).status();
    Err(format!("{errors} error(s), {warnings} warning(s) in {reports} report(s) (expected {expected})"))
}

fn spectral(root: &Path, tools: &Tools) -> Result<(), String> {
    run(
        tools
            .node("spectral")
            .args(["lint", "--ruleset", ".spectral.yaml", "--fail-severity", "hint", "--format", "text"])
            .args(published_documents())
            .current_dir(root),
        "spectral lint",
    )
    .map(|()| println!("spectral lint: {} documents, no problem", published_documents().len()))
}

fn typescript(root: &Path, tools: &Tools) -> Result<(), String> {
    let out = root.join(ARTIFACTS).join("ts");
    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(|error| format!("cannot clear {}: {error}", out.display()))?;
    }
    std::fs::create_dir_all(&out).map_err(|error| format!("cannot create {}: {error}", out.display()))?;
    let mut files = Vec::new();
    for layer in LAYERS {
        for (document, module) in
            [(layer.bundle, layer.name.to_owned()), (layer.bundle_31, format!("{}-3.1", layer.name))]
        {
            let types = format!("laserdata-{module}.ts");
            // Run inside the output folder: openapi-typescript would otherwise read the
            // project's redocly.yaml as its own list of documents.
            run(
                tools.node("openapi-typescript").arg(root.join(document)).arg("--output").arg(&types).current_dir(&out),
                &format!("openapi-typescript {document}"),
            )?;
            let doc = read_json(&root.join(document))?;
            let examples = format!("examples-{module}.ts");
            std::fs::write(out.join(&examples), typescript_examples(&doc, &format!("./laserdata-{module}")))
                .map_err(|error| format!("cannot write {examples}: {error}"))?;
            files.extend([types, examples]);
        }
    }
    run(
        tools
            .node("tsc")
            .args(["--strict", "--noEmit", "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler"])
            .args(&files)
            .current_dir(&out),
        "tsc --strict",
    )?;
    println!("tsc --strict: {} files compile", files.len());
    typescript_bigint(root, tools, &out.join("bigint"))
}

/// int64 as `bigint`: every layer's types from `tools/openapi_typescript_bigint.mjs` compile
/// with the client in `tools/bigint_client.ts`, and that client, run by
/// `tools/bigint_roundtrip.mjs` against a loopback server, sends ids above 2^53 back exactly.
fn typescript_bigint(root: &Path, tools: &Tools, dir: &Path) -> Result<(), String> {
    fresh_dir(dir)?;
    // The compiled client is an ES module importing lossless-json from the tools.
    std::os::unix::fs::symlink(tools.file("node_modules"), dir.join("node_modules"))
        .and_then(|()| std::fs::write(dir.join("package.json"), "{\"type\": \"module\"}\n"))
        .and_then(|()| std::fs::copy(tools.file("bigint_client.ts"), dir.join("bigint_client.ts")).map(drop))
        .map_err(|error| format!("cannot prepare {}: {error}", dir.display()))?;
    let mut files = vec!["bigint_client.ts".to_owned()];
    for layer in LAYERS {
        let types = format!("laserdata-{}.bigint.ts", layer.name);
        run(
            tools
                .node_script("openapi_typescript_bigint.mjs")
                .arg(root.join(layer.bundle))
                .arg(&types)
                .current_dir(dir),
            &format!("openapi-typescript (int64 as bigint) {}", layer.bundle),
        )?;
        files.push(types);
    }
    run(
        tools
            .node("tsc")
            .args(["--strict", "--target", "es2022", "--lib", "es2022,dom", "--module", "esnext"])
            .args(["--moduleResolution", "bundler", "--outDir", "build"])
            .args(&files)
            .current_dir(dir),
        "tsc --strict (int64 as bigint)",
    )?;
    println!("tsc --strict: {} files with int64 as bigint compile", files.len());
    let supervisor = LAYERS.iter().find(|layer| layer.name == "supervisor").expect("a known layer");
    run(
        tools
            .node_script("bigint_roundtrip.mjs")
            .arg(dir.join("build/bigint_client.js"))
            .arg(root.join(supervisor.bundle))
            .current_dir(dir),
        "the JavaScript round trip of 64-bit ids",
    )
}

/// A TypeScript module that types every documented JSON example of `doc` (request and
/// success bodies) with the types openapi-typescript generated in `module`: an example that
/// does not fit its type, or a type that cannot hold the example, fails `tsc --strict`.
pub fn typescript_examples(doc: &Value, module: &str) -> String {
    let mut text = format!(
        "// Generated by cargo xtask lint: every documented example, typed.\nimport type {{ paths }} from \"{module}\";\n\n"
    );
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else { return text };
    for (path, item) in paths {
        let Some(item) = item.as_object() else { continue };
        for (method, operation) in item {
            let Some(id) = operation.get("operationId").and_then(Value::as_str) else { continue };
            let base = format!("paths[{}][{}]", js_string(path), js_string(method));
            if let Some(body) = operation.get("requestBody").map(|body| deref(doc, body)) {
                let ty = format!("NonNullable<{base}[\"requestBody\"]>[\"content\"][\"application/json\"]");
                write_examples(&mut text, doc, &format!("{id}_request"), &ty, body);
            }
            for (status, response) in operation.get("responses").and_then(Value::as_object).into_iter().flatten() {
                if !status.starts_with('2') {
                    continue;
                }
                let key = status.parse::<u16>().map_or_else(|_| js_string(status), |code| code.to_string());
                let ty = format!("{base}[\"responses\"][{key}][\"content\"][\"application/json\"]");
                write_examples(&mut text, doc, &format!("{id}_{status}"), &ty, deref(doc, response));
            }
        }
    }
    text
}

fn write_examples(text: &mut String, doc: &Value, name: &str, ty: &str, body: &Value) {
    let Some(media) = body.pointer("/content/application~1json") else { return };
    let mut examples: Vec<(String, &Value)> = Vec::new();
    if let Some(example) = media.get("example") {
        examples.push((name.to_owned(), example));
    }
    for (key, example) in media.get("examples").and_then(Value::as_object).into_iter().flatten() {
        if let Some(value) = deref(doc, example).get("value") {
            examples.push((format!("{name}_{}", identifier(key)), value));
        }
    }
    for (name, value) in examples {
        let literal = serde_json::to_string_pretty(value).expect("JSON values serialize");
        let _ = writeln!(text, "export const {}: {ty} = {literal};\n", identifier(&name));
    }
}

fn identifier(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

fn js_string(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialize")
}

fn python(root: &Path, tools: &Tools) -> Result<(), String> {
    let mut command = tools.python();
    command.arg(tools.file("python_client_check.py")).arg(root.join(ARTIFACTS).join("python"));
    for (name, operation) in PYTHON_CALLS {
        let layer = LAYERS.iter().find(|layer| layer.name == name).expect("a known layer");
        command.arg(format!("{name}={}:{operation}", root.join(layer.bundle).display()));
    }
    run(command.current_dir(root), "the Python client check")
}

fn html(root: &Path) -> Result<(), String> {
    run(
        crate::tools::cargo()
            .args(["test", "--quiet", "--package", "xtask", "--test", "html_reference", "--", "--ignored"])
            .current_dir(root),
        "the HTML reference test",
    )
}

/// The openapi-generator generators whose clients the `generators` gate builds.
pub const OPENAPI_GENERATORS: [&str; 3] = ["go", "python", "typescript-fetch"];

/// Generates every layer's client with each of [`OPENAPI_GENERATORS`] (defaults, no
/// documentation or test files) in one openapi-generator batch, then builds each client.
fn generators(root: &Path, tools: &Tools) -> Result<(), String> {
    let out = root.join(ARTIFACTS).join("generators");
    fresh_dir(&out)?;
    let mut configs = Vec::new();
    for layer in LAYERS {
        for generator in OPENAPI_GENERATORS {
            let config = out.join(format!("{}-{generator}.json", layer.name));
            let settings = serde_json::json!({
                "generatorName": generator,
                "inputSpec": root.join(layer.bundle),
                "outputDir": out.join(layer.name).join(generator),
                "globalProperties": {"apiTests": "false", "modelTests": "false", "apiDocs": "false", "modelDocs": "false"},
            });
            std::fs::write(&config, settings.to_string())
                .map_err(|error| format!("cannot write {}: {error}", config.display()))?;
            configs.push(config);
        }
    }
    let started = Instant::now();
    let output = tools
        .venv_command("openapi-generator-cli")
        .args(["batch", "--fail-fast"])
        .args(&configs)
        .output()
        .map_err(|error| format!("cannot start openapi-generator-cli: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "openapi-generator batch failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    println!("openapi-generator: {} clients generated in {:.1?}", configs.len(), started.elapsed());
    let mut failures = Vec::new();
    for layer in LAYERS {
        let dir = out.join(layer.name);
        for generator in OPENAPI_GENERATORS {
            let started = Instant::now();
            let client = dir.join(generator);
            let built = match generator {
                "go" => build_go_client(root, &client),
                "python" => import_python_client(tools, &client),
                _ => compile_typescript_client(tools, &client),
            };
            match built {
                Ok(what) => println!("{} {generator}: {what} ({:.1?})", layer.name, started.elapsed()),
                Err(message) => failures.push(format!("{} {generator}: {message}", layer.name)),
            }
        }
    }
    if failures.is_empty() { Ok(()) } else { Err(failures.join("\n")) }
}

/// `go build ./...` offline: the one module the client imports, `gopkg.in/validator.v2`,
/// is replaced by the local stand-in under `tools/go-validator-stub`.
fn build_go_client(root: &Path, client: &Path) -> Result<String, String> {
    let stub = root.join(crate::tools::TOOLS_DIR).join("go-validator-stub");
    let go = |args: &[&str], what: &str| {
        let output = Command::new("go")
            .args(args)
            .envs([("GOPROXY", "off"), ("GOFLAGS", "-mod=mod"), ("GOTOOLCHAIN", "local"), ("GOSUMDB", "off")])
            .current_dir(client)
            .output()
            .map_err(|error| format!("cannot start go ({error}): apt-get install -y golang-go"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{what} failed:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    };
    go(&["mod", "edit", &format!("-replace=gopkg.in/validator.v2={}", stub.display())], "go mod edit")?;
    go(&["build", "./..."], "go build")?;
    Ok(format!("{} Go files build", count_files(client, "go")))
}

fn import_python_client(tools: &Tools, client: &Path) -> Result<String, String> {
    let output = tools
        .python()
        .arg(tools.file("import_generated_python.py"))
        .arg(client)
        .arg("openapi_client")
        .output()
        .map_err(|error| format!("cannot start python: {error}"))?;
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    if output.status.success() { Ok(text.trim().to_owned()) } else { Err(text) }
}

fn compile_typescript_client(tools: &Tools, client: &Path) -> Result<String, String> {
    let output = tools
        .node("tsc")
        .args(["--strict", "--noEmit", "--target", "es2022", "--lib", "es2022,dom", "--module", "esnext"])
        .args(["--moduleResolution", "bundler", "index.ts"])
        .current_dir(client)
        .output()
        .map_err(|error| format!("cannot start tsc: {error}"))?;
    if output.status.success() {
        Ok(format!("{} TypeScript files compile with tsc --strict", count_files(client, "ts")))
    } else {
        Err(format!("tsc --strict failed:\n{}", String::from_utf8_lossy(&output.stdout)))
    }
}

/// How many files under `dir` end in `.extension`.
fn count_files(dir: &Path, extension: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|entry| entry.path())
        .map(|path| {
            if path.is_dir() {
                count_files(&path, extension)
            } else {
                usize::from(path.extension().is_some_and(|found| found == extension))
            }
        })
        .sum()
}

fn fresh_dir(dir: &Path) -> Result<(), String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|error| format!("cannot clear {}: {error}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).map_err(|error| format!("cannot create {}: {error}", dir.display()))
}

pub fn read_json(path: &PathBuf) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    serde_json::from_str(&text).map_err(|error| format!("{} is not JSON: {error}", path.display()))
}
