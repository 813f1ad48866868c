//! The transport `cargo xtask live-check` uses: the `xtask-http` program (package
//! `xtask/http`) as a child process, which sends each request and answers on its standard
//! output, one JSON line per request. The HTTP stack is built for that small program alone,
//! never for the xtask; the child reads the key from its environment, so it never passes
//! through a pipe or a command line.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Answer, Request, Transport};

/// One request, as a line to the child.
#[derive(Debug, Serialize, Deserialize)]
pub struct WireRequest {
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub body: Option<Value>,
}

/// One answer, as a line from the child: the answer, or why there is none.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WireAnswer {
    Answered {
        status: u16,
        headers: Vec<(String, String)>,
        /// The body as text (bytes that are not UTF-8 replaced): what is judged is JSON.
        body: String,
    },
    Failed {
        error: String,
    },
}

pub struct ChildTransport {
    child: Child,
    to_child: Option<ChildStdin>,
    from_child: BufReader<ChildStdout>,
}

impl ChildTransport {
    /// Starts `command` (the `xtask-http` program, or `cargo run` of it) with pipes to talk to it.
    pub fn spawn(mut command: Command) -> Result<ChildTransport, String> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| format!("cannot start the HTTP helper: {error}"))?;
        let to_child = child.stdin.take();
        let from_child = BufReader::new(child.stdout.take().expect("stdout is piped"));
        Ok(ChildTransport { child, to_child, from_child })
    }
}

impl Transport for ChildTransport {
    fn send(&mut self, request: &Request) -> Result<Answer, String> {
        let wire = WireRequest { method: request.method.clone(), url: request.url.clone(), body: request.body.clone() };
        let mut line = serde_json::to_string(&wire).expect("requests serialize");
        line.push('\n');
        let to_child = self.to_child.as_mut().expect("open until dropped");
        to_child
            .write_all(line.as_bytes())
            .and_then(|()| to_child.flush())
            .map_err(|error| format!("the HTTP helper stopped: {error}"))?;
        let mut answer = String::new();
        match self.from_child.read_line(&mut answer) {
            Ok(0) => return Err("the HTTP helper stopped without answering".into()),
            Ok(_) => {}
            Err(error) => return Err(format!("cannot read the HTTP helper's answer: {error}")),
        }
        match serde_json::from_str::<WireAnswer>(&answer) {
            Ok(WireAnswer::Answered { status, headers, body }) => {
                Ok(Answer { status, headers, body: body.into_bytes() })
            }
            Ok(WireAnswer::Failed { error }) => Err(error),
            Err(error) => Err(format!("the HTTP helper answered something else than an answer: {error}")),
        }
    }

    fn pause(&mut self, seconds: u64) {
        std::thread::sleep(std::time::Duration::from_secs(seconds));
    }
}

impl Drop for ChildTransport {
    fn drop(&mut self) {
        // End of input: the child finishes its loop and exits.
        drop(self.to_child.take());
        let _ = self.child.wait();
    }
}
