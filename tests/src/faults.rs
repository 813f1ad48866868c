//! A loopback HTTP/1.1 server that answers each request with the next step of a script:
//! normal answers, delays, connection resets, truncated or malformed bodies. wiremock cannot
//! reset a connection or send broken bytes, which is exactly what the retry logic must survive.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with one request.
#[derive(Debug, Clone)]
pub enum Step {
    /// Answer with this status, these headers and this body (sent as is, even if not JSON).
    Answer { status: u16, headers: Vec<(String, String)>, body: Vec<u8> },
    /// Wait, then take the next step for the same request.
    Delay(Duration, Box<Step>),
    /// Close the connection without answering (the client sees a reset or an early EOF).
    Reset,
    /// Promise `length` bytes in `content-length` but send only `body`, then close.
    Truncated { status: u16, length: usize, body: Vec<u8> },
    /// Answer with `transfer-encoding: chunked`, `body` cut into HTTP chunks of `size` bytes
    /// each written on its own, so that the client receives the body in pieces that far.
    Chunked { status: u16, headers: Vec<(String, String)>, body: Vec<u8>, size: usize },
}

impl Step {
    pub fn json(status: u16, body: &str) -> Step {
        Step::Answer {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// A problem+json answer with this status and error code, and `ld-request: req-<status>`.
    pub fn problem(status: u16, code: &str) -> Step {
        let body =
            format!(r#"{{"type":"about:blank","title":"t","status":{status},"code":"{code}","reason":"scripted"}}"#);
        Step::json(status, &body).with_header("ld-request", &format!("req-{status}"))
    }

    pub fn status(status: u16) -> Step {
        Step::Answer { status, headers: Vec::new(), body: Vec::new() }
    }

    pub fn with_header(self, name: &str, value: &str) -> Step {
        match self {
            Step::Answer { status, mut headers, body } => {
                headers.push((name.into(), value.into()));
                Step::Answer { status, headers, body }
            }
            other => other,
        }
    }
}

/// One request the server received. (Not when: tests assert counts and order, and take
/// waits from the client's clock.)
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// The running server. It stops when dropped.
pub struct FaultServer {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    steps: Arc<Mutex<std::vec::IntoIter<Step>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultServer {
    /// Starts serving `script`, one step per request; requests beyond the script get 500.
    pub async fn start(script: Vec<Step>) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let steps = Arc::new(Mutex::new(script.into_iter()));
        let (log, script) = (received.clone(), steps.clone());
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve_connection(socket, script.clone(), log.clone()));
            }
        });
        FaultServer { url, received, steps, task }
    }

    /// Starts over with a new script and forgets the requests received so far, so that one
    /// server (and one client) serves many exchanges in turn.
    pub fn restart(&self, script: Vec<Step>) {
        *self.steps.lock().unwrap() = script.into_iter();
        self.received.lock().unwrap().clear();
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn serve_connection(
    mut socket: TcpStream,
    steps: Arc<Mutex<std::vec::IntoIter<Step>>>,
    log: Arc<Mutex<Vec<Received>>>,
) {
    // Several requests may come over one kept-alive connection.
    let mut buffer = Vec::new();
    loop {
        let Some(request) = read_request(&mut socket, &mut buffer).await else { return };
        log.lock().unwrap().push(request);
        let step = steps.lock().unwrap().next().unwrap_or_else(|| Step::status(500));
        if !perform(&mut socket, step).await {
            return;
        }
    }
}

/// Carries out a step; false when the connection must be closed afterwards.
async fn perform(socket: &mut TcpStream, step: Step) -> bool {
    let mut step = step;
    while let Step::Delay(wait, next) = step {
        tokio::time::sleep(wait).await;
        step = *next;
    }
    match step {
        Step::Answer { status, headers, body } => {
            let mut head = format!("HTTP/1.1 {status} Scripted\r\ncontent-length: {}\r\n", body.len());
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            // One write: a second small one would wait for the client's delayed ACK (Nagle).
            let mut answer = head.into_bytes();
            answer.extend_from_slice(&body);
            socket.write_all(&answer).await.is_ok()
        }
        Step::Truncated { status, length, body } => {
            let head = format!(
                "HTTP/1.1 {status} Scripted\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n\r\n"
            );
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(&body).await;
            let _ = socket.shutdown().await;
            false
        }
        Step::Chunked { status, headers, body, size } => {
            let mut head = format!("HTTP/1.1 {status} Scripted\r\ntransfer-encoding: chunked\r\n");
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            // Many small writes: without this each would wait for the client's delayed ACK.
            let _ = socket.set_nodelay(true);
            if socket.write_all(head.as_bytes()).await.is_err() {
                return false;
            }
            for piece in body.chunks(size.max(1)) {
                let mut chunk = format!("{:x}\r\n", piece.len()).into_bytes();
                chunk.extend_from_slice(piece);
                chunk.extend_from_slice(b"\r\n");
                if socket.write_all(&chunk).await.is_err() {
                    return false;
                }
            }
            socket.write_all(b"0\r\n\r\n").await.is_ok()
        }
        Step::Reset => {
            // Linger 0 turns the close into a TCP reset. (Deprecated because a non-zero linger
            // blocks the thread on drop; a zero one does not.)
            #[allow(deprecated)]
            let _ = socket.set_linger(Some(Duration::ZERO));
            false
        }
        Step::Delay(..) => unreachable!("delays were unwrapped above"),
    }
}

async fn read_request(socket: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Received> {
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let read = socket.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let (method, path) = (request_line.next()?.to_owned(), request_line.next()?.to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize =
        headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    while buffer.len() < header_end + length {
        let read = socket.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    let body = buffer[header_end..header_end + length].to_vec();
    buffer.drain(..header_end + length);
    Some(Received { method, path, headers, body })
}
