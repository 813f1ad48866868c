//! The HTML reference of each layer, opened in headless Chromium: every tag's section shows
//! every operation of that tag, each operation's own page renders its summary, and the page
//! loads nothing but itself. A screenshot of each layer's page goes to
//! `target-artifacts/screenshots/` (not in git).
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
    check_layer(&LAYERS[0]);
}

#[test]
#[ignore = "needs Chromium and the tools under tools/; run by `cargo xtask lint`"]
fn supervisor_reference() {
    check_layer(&LAYERS[1]);
}

#[test]
#[ignore = "needs Chromium and the tools under tools/; run by `cargo xtask lint`"]
fn audit_reference() {
    check_layer(&LAYERS[2]);
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

fn check_layer(layer: &Layer) {
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

    let screenshots = root.join("target-artifacts/screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    let shot = screenshots.join(format!("laserdata-{}.png", layer.name));
    let image = browser.call("Page.captureScreenshot", json!({"format": "png"}), Some(&session));
    std::fs::write(&shot, decode_base64(image["data"].as_str().unwrap())).unwrap();
    browser.close();

    let count: usize = expected.values().map(Vec::len).sum();
    assert!(problems.is_empty(), "{}: {} problem(s):\n{}", page.display(), problems.len(), problems.join("\n"));
    println!("{}: {} tags, {count} operations rendered; screenshot {}", page.display(), expected.len(), shot.display());
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
  return {{ sections, skipped }};
}})()"##
    )
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
