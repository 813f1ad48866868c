//! The HTML reference of each layer, opened in headless Chromium: every tag's section shows
//! every operation of that tag, each operation's own page renders its summary, example ids
//! beyond 2^53 show and copy digit for digit, nothing throws, and the page loads nothing but
//! itself. A screenshot of each layer's page goes to `target-artifacts/screenshots/` (not in
//! git), and one of the Supervisor's `create_activity` example beside it.
//!
//! Needs Chromium (Debian's `chromium`, or the binary named by `LASERDATA_CHROMIUM`) and the
//! tools under `tools/`, so it is ignored by a plain `cargo test`; `cargo xtask lint` (and so
//! CI) runs it: `cargo test -p xtask --test html_reference -- --ignored`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use xtask::docs;
use xtask::layers::{LAYERS, Layer};
use xtask::project_root;
use xtask::tools::Tools;

#[test]
#[ignore = "needs Chromium and the tools under tools/; run by `cargo xtask lint`"]
fn main_reference() {
    check_layer(&LAYERS[0], None);
}

#[test]
#[ignore = "needs Chromium and the tools under tools/; run by `cargo xtask lint`"]
fn supervisor_reference() {
    // Its example names two nodes whose ids a JavaScript number would round to one.
    check_layer(&LAYERS[1], Some("create_activity"));
}

#[test]
#[ignore = "needs Chromium and the tools under tools/; run by `cargo xtask lint`"]
fn audit_reference() {
    check_layer(&LAYERS[2], None);
}

/// The flags every run needs: as root, without a GPU or a display, with a fresh profile, and
/// with no way to reach any host (every name resolves to nothing).
const CHROMIUM_FLAGS: [&str; 10] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--window-size=1280,1000",
];

/// The tools, installed once for every test of this file (they run in parallel).
fn tools() -> &'static Tools {
    static TOOLS: OnceLock<Tools> = OnceLock::new();
    TOOLS.get_or_init(|| Tools::ensure(&project_root()).unwrap_or_else(|error| panic!("{error}")))
}

/// Checks the page of `layer`; `spotlight` names an operation whose request example holds ids
/// beyond 2^53, to be seen rendered as numbers and copied exactly.
fn check_layer(layer: &Layer, spotlight: Option<&str>) {
    let root = project_root();
    let page = docs::build(&root, tools(), layer, &root.join(docs::DEFAULT_OUT)).unwrap();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(root.join(layer.bundle)).unwrap()).unwrap();
    let expected = operations_by_tag(&doc);

    let profile = tempfile::tempdir().unwrap();
    let mut browser = Browser::launch(profile.path());
    // Network events are recorded from the start: the page must not even try to load
    // anything from elsewhere.
    let session = browser.open(&format!("file://{}", page.display()));

    let report = browser.evaluate(&session, &walk_script(&expected), Duration::from_secs(600));
    let sections: BTreeMap<String, Value> = serde_json::from_value(report["sections"].clone()).unwrap();
    let mut problems = Vec::new();
    for (tag, operations) in &expected {
        let Some(section) = sections.get(tag) else {
            problems.push(format!("no section for tag `{tag}` (other sections: {})", report["skipped"]));
            continue;
        };
        let linked: BTreeSet<String> = section["operations"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|href| href.as_str()?.rsplit('/').next().map(str::to_owned))
            .collect();
        for (id, summary) in operations {
            if !linked.contains(id) {
                problems.push(format!("`{tag}` lists no `{id}`"));
            }
            if section["rendered"][id] != json!(true) {
                problems.push(format!("the page of `{id}` does not show its summary {summary:?}"));
            }
        }
        let unknown: Vec<_> = linked.iter().filter(|id| !operations.iter().any(|(known, _)| known == *id)).collect();
        if !unknown.is_empty() {
            problems.push(format!("`{tag}` lists operations of other tags: {unknown:?}"));
        }
    }
    let hrefs: BTreeMap<String, String> = sections
        .values()
        .flat_map(|section| section["operations"].as_array().unwrap())
        .filter_map(|href| {
            let href = href.as_str()?;
            Some((href.rsplit('/').next()?.to_owned(), href.to_owned()))
        })
        .collect();
    let exact = ExactIds::of(&doc, &hrefs, spotlight);
    let exact_report = browser.evaluate(&session, &exact.script(), Duration::from_secs(600));
    problems.extend(exact.problems(&exact_report));

    let requests: Vec<String> = browser
        .events
        .iter()
        .filter(|event| event["method"] == "Network.requestWillBeSent")
        .filter_map(|event| event.pointer("/params/request/url").and_then(Value::as_str).map(str::to_owned))
        .filter(|url| !(url.starts_with("file:") || url.starts_with("data:") || url.starts_with("blob:")))
        .collect();
    if !requests.is_empty() {
        problems.push(format!("the page requested {requests:?}"));
    }
    problems.extend(browser.events.iter().filter_map(page_error));

    let screenshots = root.join("target-artifacts/screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    let mut shots = Vec::new();
    if let Some(operation) = spotlight {
        // The exact-id check ended on the spotlight's example.
        let shot = screenshots.join(format!("laserdata-{}-{operation}.png", layer.name));
        browser.screenshot(&session, &shot);
        shots.push(shot);
    }
    // Back to the first operation's page, where the walk ended.
    let back = format!("location.hash = {}; new Promise(done => setTimeout(done, 800))", report["first"]);
    browser.evaluate(&session, &back, Duration::from_secs(60));
    let shot = screenshots.join(format!("laserdata-{}.png", layer.name));
    browser.screenshot(&session, &shot);
    shots.push(shot);
    browser.close();

    let count: usize = expected.values().map(Vec::len).sum();
    assert!(problems.is_empty(), "{}: {} problem(s):\n{}", page.display(), problems.len(), problems.join("\n"));
    println!(
        "{}: {} tags, {count} operations rendered; {} example ids beyond 2^53 exact; screenshots {}",
        page.display(),
        expected.len(),
        exact.all.len(),
        shots.iter().map(|shot| shot.display().to_string()).collect::<Vec<_>>().join(", ")
    );
}

/// Each tag's operations (operationId and summary), in document order.
fn operations_by_tag(doc: &Value) -> BTreeMap<String, Vec<(String, String)>> {
    let mut tags: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            let (Some(id), Some(tag)) = (operation["operationId"].as_str(), operation.pointer("/tags/0")) else {
                continue;
            };
            let summary = operation["summary"].as_str().unwrap_or(id).to_owned();
            tags.entry(tag.as_str().unwrap().to_owned()).or_default().push((id.to_owned(), summary));
        }
    }
    assert!(!tags.is_empty());
    tags
}

/// The script that walks the page: for each tag's section (found by its heading), scroll it
/// into view until Redoc mounts it, expand its operation list, collect the operation links,
/// then open each operation's page (`#/<tag>/<operationId>`) and wait for its summary. Ends on
/// the first operation's page, which the screenshot shows.
fn walk_script(expected: &BTreeMap<String, Vec<(String, String)>>) -> String {
    let expected = serde_json::to_string(expected).unwrap();
    format!(
        r##"(async () => {{
  const expected = {expected};
  const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
  const until = async (test, ms) => {{
    for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) {{
      const value = test();
      if (value) return value;
    }}
    return test();
  }};
  await until(() => document.querySelector('[data-section-id]'), 30000);
  const ids = [...new Set([...document.querySelectorAll('[data-section-id]')].map(e => e.getAttribute('data-section-id')))];
  const mounted = id => [...document.querySelectorAll('[data-section-id]')]
    .find(e => e.getAttribute('data-section-id') === id && e.childElementCount > 0);
  const sections = {{}};
  const skipped = [];
  for (const id of ids) {{
    const element = await until(() => {{
      const found = mounted(id);
      if (!found) document.querySelector(`[data-section-id="${{id}}"]`).scrollIntoView();
      return found;
    }}, 10000);
    if (!element) {{
      skipped.push(`${{id}}: never mounted`);
      continue;
    }}
    // textContent: a mounted section out of view may not be laid out, and has no innerText.
    const title = element.querySelector('h1, h2, h3');
    const heading = title ? title.textContent.trim() : '';
    if (!(heading in expected)) {{
      skipped.push(`${{id}}: ${{JSON.stringify(heading || element.textContent.slice(0, 80))}}`);
      continue;
    }}
    // Long lists show a few operations and a "Show N more..." button: press it until every
    // operation of the tag is listed (or time runs out, and the check below says what is missing).
    const links = () => [...(mounted(id) || element).querySelectorAll('a[href^="#/"]')]
      .map(a => a.getAttribute('href'))
      .filter(href => href.split('/').length === 3);
    await until(() => {{
      for (const button of (mounted(id) || element).querySelectorAll('button')) {{
        if (/^Show \d+ more/.test(button.textContent.trim())) button.click();
      }}
      return links().length >= expected[heading].length;
    }}, 15000);
    sections[heading] = {{ id, operations: links(), rendered: {{}} }};
  }}
  let first = null;
  for (const [tag, section] of Object.entries(sections)) {{
    for (const href of section.operations) {{
      const operationId = href.split('/')[2];
      const wanted = (expected[tag].find(([known]) => known === operationId) || [null, null])[1];
      if (wanted === null) continue;
      first = first || href;
      location.hash = href;
      section.rendered[operationId] = !!(await until(() => {{
        const main = document.querySelector('main') || document.body;
        return main.innerText.includes(wanted);
      }}, 10000));
    }}
  }}
  if (first) {{
    location.hash = first;
    await sleep(800);
  }}
  return {{ sections, skipped, first }};
}})()"##
    )
}

/// The example ids of a document that a JavaScript number cannot hold (integers beyond 2^53
/// that JavaScript would write back differently), and what the page must show of them.
struct ExactIds {
    /// Every such id of the document, once.
    all: BTreeSet<String>,
    /// Per operation with such ids in its examples (its own or those it refers to): its link
    /// (`#/<tag>/<operationId>`) and the ids.
    operations: BTreeMap<String, (String, BTreeSet<String>)>,
    spotlight: Option<Spotlight>,
}

/// An operation whose request example the page's example panel must show with every id as a
/// number, and copy exactly.
struct Spotlight {
    href: String,
    example: Value,
    ids: BTreeSet<String>,
}

impl ExactIds {
    fn of(doc: &Value, hrefs: &BTreeMap<String, String>, spotlight: Option<&str>) -> ExactIds {
        let mut exact = ExactIds { all: BTreeSet::new(), operations: BTreeMap::new(), spotlight: None };
        for operation in laserdata_spec::operations::operations(doc) {
            let Some(id) = operation.operation_id() else { continue };
            let mut ids = BTreeSet::new();
            let mut seen = BTreeSet::new();
            inexact_example_integers(doc, &operation.item["parameters"], false, &mut seen, &mut ids);
            inexact_example_integers(doc, operation.node, false, &mut seen, &mut ids);
            let href = hrefs.get(id).cloned().unwrap_or_else(|| panic!("the page lists no `{id}`"));
            if spotlight == Some(id) {
                let media = &operation.node["requestBody"]["content"]["application/json"];
                let example = laserdata_spec::examples::first(doc, media).cloned().unwrap_or_default();
                let mut ids = BTreeSet::new();
                inexact_example_integers(doc, &example, true, &mut BTreeSet::new(), &mut ids);
                assert!(ids.len() >= 2, "`{id}`'s request example holds no two ids beyond 2^53");
                exact.spotlight = Some(Spotlight { href: href.clone(), example, ids });
            }
            if !ids.is_empty() {
                exact.all.extend(ids.iter().cloned());
                exact.operations.insert(id.to_owned(), (href, ids));
            }
        }
        assert!(spotlight.is_none() || exact.spotlight.is_some(), "no operation {spotlight:?}");
        exact
    }

    /// The page script that visits each operation with such ids and reports what it shows and
    /// copies; its input is the operations, every id, and the spotlight.
    fn script(&self) -> String {
        let operations: BTreeMap<_, _> =
            self.operations.iter().map(|(id, (href, ids))| (id, json!({"href": href, "ids": ids}))).collect();
        let spotlight = self.spotlight.as_ref().map(|spotlight| json!({"href": spotlight.href, "ids": spotlight.ids}));
        let input = json!({"operations": operations, "all": self.all, "spotlight": spotlight});
        format!("({EXACT_IDS_SCRIPT})({input})")
    }

    fn problems(&self, report: &Value) -> Vec<String> {
        let mut problems = Vec::new();
        let rounded = |text: &str| -> Vec<String> {
            report["rounded"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .filter(|form| text.contains(form))
                .map(str::to_owned)
                .collect()
        };
        for (id, (_, ids)) in &self.operations {
            let seen = &report["operations"][id];
            let Some(copied) = seen["pageCopy"].as_str() else {
                problems.push(format!("`{id}`: no section, or its \"Copy\" action copied nothing ({seen})"));
                continue;
            };
            let missing: Vec<_> = ids.iter().filter(|exact| !copied.contains(exact.as_str())).collect();
            if !missing.is_empty() {
                problems.push(format!("`{id}`: the page's \"Copy\" action lacks {missing:?}"));
            }
            let shown = [seen["text"].as_str().unwrap(), copied, &seen["viewerCopies"].to_string()].concat();
            let wrong = rounded(&shown);
            if !wrong.is_empty() {
                problems.push(format!("`{id}` shows or copies rounded ids {wrong:?}"));
            }
            if let Some(tokens) = seen["stringTokens"].as_array().filter(|tokens| !tokens.is_empty()) {
                problems.push(format!("`{id}` shows ids as strings: {tokens:?}"));
            }
        }
        let Some(Spotlight { href, example, ids }) = &self.spotlight else { return problems };
        let seen = &report["spotlight"];
        if seen["found"] != json!(true) {
            problems
                .push(format!("{href}: no example panel shows every id of {example} as a number: {}", seen["text"]));
            return problems;
        }
        let text = seen["text"].as_str().unwrap();
        for exact in ids {
            if !text.contains(exact.as_str()) {
                problems.push(format!("{href}: the example panel does not show {exact}: {text:?}"));
            }
        }
        let wrong = rounded(text);
        if !wrong.is_empty() {
            problems.push(format!("{href}: the example panel shows rounded ids {wrong:?}: {text:?}"));
        }
        for (class, color) in seen["classes"].as_array().unwrap().iter().zip(seen["colors"].as_array().unwrap()) {
            if class.as_str().unwrap().contains("string") || *color != json!(SENTINEL_COLOR) {
                problems.push(format!(
                    "{href}: an id is not styled as a number: class {class}, colour {color} (numbers: {SENTINEL_COLOR})"
                ));
            }
        }
        if seen["stringColor"] == json!(SENTINEL_COLOR) {
            problems.push(format!("{href}: strings have the numbers' colour too, so colours prove nothing"));
        }
        match serde_json::from_str::<Value>(seen["copied"].as_str().unwrap_or_default()) {
            Ok(copied) if copied == *example => {}
            _ => problems
                .push(format!("{href}: the example's \"Copy\" button copied {} instead of {example}", seen["copied"])),
        }
        problems
    }
}

/// The colour the check gives numbers in the spotlight's example panel, which no theme uses.
const SENTINEL_COLOR: &str = "rgb(1, 2, 3)";

/// Collects into `ids` the integers beyond 2^53 that JavaScript would write differently
/// (`610809900976570889` comes back as `610809900976570900`) inside `value`'s examples (or in
/// all of it when `in_example`), following local `$ref`s once each.
fn inexact_example_integers(
    doc: &Value,
    value: &Value,
    in_example: bool,
    seen: &mut BTreeSet<String>,
    ids: &mut BTreeSet<String>,
) {
    match value {
        Value::Number(number) if in_example => {
            let written = number.to_string();
            let as_double = number.as_u64().map(|n| n as f64).or_else(|| number.as_i64().map(|n| n as f64));
            if as_double.is_some_and(|double| double.to_string() != written) {
                ids.insert(written);
            }
        }
        Value::Array(items) => {
            for item in items {
                inexact_example_integers(doc, item, in_example, seen, ids);
            }
        }
        Value::Object(members) => {
            if let Some(reference) = members.get("$ref").and_then(Value::as_str)
                && seen.insert(reference.to_owned())
                && let Some(target) = laserdata_spec::refs::resolve_ref(doc, reference)
            {
                inexact_example_integers(doc, target, in_example, seen, ids);
            }
            for (key, member) in members {
                let in_example = in_example || key == "example" || key == "examples";
                inexact_example_integers(doc, member, in_example, seen, ids);
            }
        }
        _ => {}
    }
}

/// The page script of [`ExactIds::script`]. Redoc's "Copy" buttons select their text and run
/// the `copy` command (with `window.prompt` as the fallback); the script takes what they
/// select instead, so no clipboard is needed.
const EXACT_IDS_SCRIPT: &str = r#"async ({ operations, all, spotlight }) => {
  const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
  const until = async (test, ms) => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) {
      const value = test();
      if (value) return value;
    }
    return test();
  };
  const copies = [];
  document.execCommand = command => {
    if (command !== 'copy') return false;
    const selection = getSelection();
    copies.push(selection.rangeCount ? selection.getRangeAt(0).toString() : '');
    return true;
  };
  window.prompt = (message, text) => { copies.push(text); return null; };
  const copy = async button => {
    if (!button) return null;
    const before = copies.length;
    button.click();
    return (await until(() => copies.length > before, 15000)) ? copies.slice(before).join('\n') : null;
  };
  const section = (href, ready) => until(() => {
    const found = [...document.querySelectorAll('[data-section-id]')].find(e => e.getAttribute('data-section-id') === href.slice(1));
    return found && ready(found) && found;
  }, 15000);
  const pageCopyButton = found => [...found.querySelectorAll('[data-testid="page-actions"] button')].find(b => b.textContent.trim() === 'Copy');
  const rounded = all.map(id => String(Number(id))).filter(form => !all.includes(form));
  const report = { rounded, operations: {}, spotlight: null };
  for (const [operationId, { href, ids }] of Object.entries(operations)) {
    location.hash = href;
    const found = await section(href, pageCopyButton);
    if (!found) continue;
    const pageCopy = await copy(pageCopyButton(found));
    const viewerCopies = [];
    for (const button of found.querySelectorAll('[data-testid="json-viewer"] [data-testid="copy-button"]')) {
      viewerCopies.push(await copy(button));
    }
    const stringTokens = [...found.querySelectorAll('.token')]
      .filter(token => ids.includes(token.textContent.replace(/"/g, '')) && /string/.test(token.className))
      .map(token => `${token.className}: ${token.textContent}`);
    report.operations[operationId] = { pageCopy, viewerCopies, text: found.innerText, stringTokens };
  }
  if (spotlight) {
    location.hash = spotlight.href;
    const found = await section(spotlight.href, found => found.querySelector('[data-testid="json-viewer"]'));
    const tokensOf = viewer => spotlight.ids.map(id => [...viewer.querySelectorAll('.token')].find(token => token.textContent === id));
    // Expands every collapsed level of each example panel until one shows every id.
    const viewer = found && await until(() => [...found.querySelectorAll('[data-testid="json-viewer"]')].find(viewer => {
      viewer.querySelectorAll('button[aria-label="collapse"]:not(.expanded)').forEach(button => button.click());
      return tokensOf(viewer).every(Boolean);
    }), 15000);
    if (!viewer) {
      const panels = found ? [...found.querySelectorAll('[data-testid="json-viewer"]')].map(viewer => viewer.innerText) : [];
      report.spotlight = { found: false, text: found ? panels.join('\n---\n') || 'no example panel' : 'no section' };
    } else {
      viewer.scrollIntoView({ block: 'center' });
      const tokens = tokensOf(viewer);
      const pre = viewer.querySelector('pre') || viewer;
      pre.style.setProperty('--code-block-tokens-number-color', 'rgb(1, 2, 3)');
      const colors = tokens.map(token => getComputedStyle(token).color);
      const string = viewer.querySelector('.token.string');
      const stringColor = string ? getComputedStyle(string).color : null;
      pre.style.removeProperty('--code-block-tokens-number-color');
      const copied = await copy(viewer.querySelector('[data-testid="copy-button"]'));
      report.spotlight = { found: true, classes: tokens.map(token => token.className), colors, stringColor, text: viewer.innerText, copied };
    }
  }
  return report;
}"#;

/// A problem the page reported while the checks ran: an uncaught exception or a console error.
fn page_error(event: &Value) -> Option<String> {
    match event["method"].as_str()? {
        "Runtime.exceptionThrown" => Some(format!("the page threw {}", event["params"]["exceptionDetails"])),
        "Runtime.consoleAPICalled" if event["params"]["type"] == "error" => {
            Some(format!("the page logged an error: {}", event["params"]["args"]))
        }
        _ => None,
    }
}

/// A minimal Chrome DevTools Protocol client over `--remote-debugging-pipe`: requests go to
/// Chromium's fd 3 and answers come from its fd 4, each message a JSON text ended by NUL.
struct Browser {
    child: Child,
    input: ChildStdin,
    messages: Receiver<Value>,
    next_id: u64,
    events: Vec<Value>,
}

impl Browser {
    fn launch(profile: &Path) -> Browser {
        let chromium = std::env::var("LASERDATA_CHROMIUM").unwrap_or_else(|_| "chromium".into());
        if let Err(error) =
            Command::new(&chromium).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status()
        {
            panic!("cannot run `{chromium}` ({error}): apt-get install -y chromium, or set LASERDATA_CHROMIUM");
        }
        // The shell hands our stdin to Chromium as fd 3 and our stdout as fd 4.
        let mut child = Command::new("sh")
            .args(["-c", r#"exec "$@" 3<&0 4>&1 </dev/null >/dev/null"#, "sh", &chromium])
            .args(CHROMIUM_FLAGS)
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(["--remote-debugging-pipe", "about:blank"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {chromium}: {error}"));
        let input = child.stdin.take().unwrap();
        let mut output = BufReader::new(child.stdout.take().unwrap());
        let (sender, messages) = channel();
        std::thread::spawn(move || {
            let mut message = Vec::new();
            while output.read_until(0, &mut message).is_ok_and(|read| read > 0) {
                message.pop_if(|byte| *byte == 0);
                if let Ok(value) = serde_json::from_slice::<Value>(&message)
                    && sender.send(value).is_err()
                {
                    break;
                }
                message.clear();
            }
        });
        Browser { child, input, messages, next_id: 0, events: Vec::new() }
    }

    fn send(&mut self, method: &str, params: Value, session: Option<&str>) -> u64 {
        self.next_id += 1;
        let mut message = json!({"id": self.next_id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.input.write_all(&bytes).and_then(|()| self.input.flush()).expect("Chromium closed its pipe");
        self.next_id
    }

    /// The next message that satisfies `wanted`, keeping every event on the way.
    fn wait_for(&mut self, timeout: Duration, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(message) => {
                    let matched = wanted(&message);
                    if message.get("method").is_some() {
                        self.events.push(message.clone());
                    }
                    if matched {
                        return message;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!("Chromium: no {what} within {timeout:?}"),
                Err(RecvTimeoutError::Disconnected) => panic!("Chromium exited while waiting for {what}"),
            }
        }
    }

    fn call_with_timeout(&mut self, method: &str, params: Value, session: Option<&str>, timeout: Duration) -> Value {
        let id = self.send(method, params, session);
        let answer = self.wait_for(timeout, method, |message| message["id"] == json!(id));
        if let Some(error) = answer.get("error") {
            panic!("Chromium: {method} failed: {error}");
        }
        answer["result"].clone()
    }

    fn call(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        self.call_with_timeout(method, params, session, Duration::from_secs(60))
    }

    /// Attaches to the page, navigates it to `url` and waits for its load event.
    fn open(&mut self, url: &str) -> String {
        let targets = self.call("Target.getTargets", json!({}), None);
        let page = targets["targetInfos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|target| target["type"] == "page")
            .expect("Chromium opened a page")["targetId"]
            .clone();
        let attached = self.call("Target.attachToTarget", json!({"targetId": page, "flatten": true}), None);
        let session = attached["sessionId"].as_str().unwrap().to_owned();
        self.call("Page.enable", json!({}), Some(&session));
        self.call("Network.enable", json!({}), Some(&session));
        self.call("Runtime.enable", json!({}), Some(&session));
        self.call("Page.navigate", json!({"url": url}), Some(&session));
        self.wait_for(Duration::from_secs(60), "load event", |message| message["method"] == "Page.loadEventFired");
        session
    }

    /// Runs an async script in the page and returns its value.
    fn evaluate(&mut self, session: &str, script: &str, timeout: Duration) -> Value {
        let result = self.call_with_timeout(
            "Runtime.evaluate",
            json!({"expression": script, "awaitPromise": true, "returnByValue": true}),
            Some(session),
            timeout,
        );
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("the page script failed: {exception}");
        }
        result["result"]["value"].clone()
    }

    fn screenshot(&mut self, session: &str, path: &Path) {
        let image = self.call("Page.captureScreenshot", json!({"format": "png"}), Some(session));
        std::fs::write(path, decode_base64(image["data"].as_str().unwrap())).unwrap();
    }

    fn close(mut self) {
        let _ = self.send("Browser.close", json!({}), None);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Standard base64 (the screenshot's encoding), without padding checks.
fn decode_base64(text: &str) -> Vec<u8> {
    let value = |byte: u8| match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a' + 26),
        b'0'..=b'9' => Some(byte - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut bytes = Vec::with_capacity(text.len() / 4 * 3);
    let (mut buffer, mut bits) = (0u32, 0);
    for sextet in text.bytes().filter_map(value) {
        buffer = (buffer << 6) | u32::from(sextet);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
        }
    }
    bytes
}

#[test]
fn base64_decodes() {
    assert_eq!(decode_base64("aGVsbG8gd29ybGQ="), b"hello world");
    assert_eq!(decode_base64("AAEC/w=="), [0, 1, 2, 255]);
}
