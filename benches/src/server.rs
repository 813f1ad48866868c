//! A tiny HTTP/1.1 loopback server for benchmarks: keep-alive connections, fixed answers, and
//! no allocation per request once a connection is open (its buffers are reused), so that it
//! neither slows the clients down nor shows up in the memory benchmark's counts.
//!
//! It runs on its own thread with its own single-threaded runtime, apart from the clients.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server answers to one request.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// Sent as `application/json`; cloning `Bytes` shares the buffer.
    pub body: Bytes,
}

/// Chooses the answer from the request's method and target (path and query).
pub type Handler = Arc<dyn Fn(&str, &str) -> Answer + Send + Sync>;

/// The running server; it stops when dropped.
pub struct Server {
    pub url: String,
    /// When set, the head of the next request is stored in `last_head` (for checking what
    /// the clients send; it allocates, so it is off while measuring).
    record: Arc<Mutex<Option<String>>>,
    recording: Arc<std::sync::atomic::AtomicBool>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub fn start(handler: Handler) -> Server {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        std_listener.set_nonblocking(true).expect("a non-blocking listener");
        let url = format!("http://{}", std_listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let record = Arc::new(Mutex::new(None));
        let recording = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (log, flag) = (record.clone(), recording.clone());
        let thread = std::thread::Builder::new()
            .name("bench-server".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(std_listener).expect("a tokio listener");
                    let accept = async {
                        while let Ok((socket, _)) = listener.accept().await {
                            tokio::spawn(serve(socket, handler.clone(), log.clone(), flag.clone()));
                        }
                    };
                    tokio::select! {
                        _ = accept => {}
                        _ = stopped => {}
                    }
                });
            })
            .expect("a server thread");
        Server { url, record, recording, stop: Some(stop), thread: Some(thread) }
    }

    /// Records the head of the next request; read it with [`Server::recorded`].
    pub fn record_next(&self) {
        *self.record.lock().unwrap() = None;
        self.recording.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The header names of the recorded request, lower case and sorted.
    pub fn recorded_header_names(&self) -> Vec<String> {
        let head = self.record.lock().unwrap().clone().unwrap_or_default();
        let mut names: Vec<String> = head
            .split("\r\n")
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .map(|(name, _)| name.trim().to_ascii_lowercase())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    mut socket: TcpStream,
    handler: Handler,
    record: Arc<Mutex<Option<String>>>,
    recording: Arc<std::sync::atomic::AtomicBool>,
) {
    let _ = socket.set_nodelay(true);
    let mut buffer: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut head = String::with_capacity(256);
    let mut chunk = [0u8; 8192];
    loop {
        // Read a whole request: its head, then as many body bytes as it announces.
        let (head_end, body_length) = loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break (end + 4, content_length(&buffer[..end]));
            }
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(read) => buffer.extend_from_slice(&chunk[..read]),
            }
        };
        while buffer.len() < head_end + body_length {
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(read) => buffer.extend_from_slice(&chunk[..read]),
            }
        }
        let Ok(request_head) = std::str::from_utf8(&buffer[..head_end]) else { return };
        if recording.swap(false, std::sync::atomic::Ordering::SeqCst) {
            *record.lock().unwrap() = Some(request_head.to_owned());
        }
        let mut request_line = request_head.split(' ');
        let (method, target) = (request_line.next().unwrap_or(""), request_line.next().unwrap_or(""));
        let answer = handler(method, target);
        buffer.drain(..head_end + body_length);
        head.clear();
        let _ = write!(
            head,
            "HTTP/1.1 {} Bench\r\ncontent-type: application/json\r\ncontent-length: {}\r\nld-request: req-bench\r\n\r\n",
            answer.status,
            answer.body.len()
        );
        if write_both(&mut socket, head.as_bytes(), &answer.body).await.is_err() {
            return;
        }
    }
}

/// Writes the head and the body with as few system calls as the socket allows (one, usually), so
/// that the answer reaches the client's socket in one piece: how many reads the client needs
/// then depends on the client, not on how the server's writes and the client's reads interleave.
async fn write_both(socket: &mut TcpStream, head: &[u8], body: &[u8]) -> std::io::Result<()> {
    let (mut head, mut body) = (head, body);
    while !head.is_empty() {
        let written = socket.write_vectored(&[std::io::IoSlice::new(head), std::io::IoSlice::new(body)]).await?;
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        let from_head = written.min(head.len());
        head = &head[from_head..];
        body = &body[written - from_head..];
    }
    socket.write_all(body).await
}

fn content_length(head: &[u8]) -> usize {
    let head = std::str::from_utf8(head).unwrap_or("");
    head.split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0)
}

/// The value of a query parameter in a request target (`/path?page=2&results=100`).
pub fn query_param<'a>(target: &'a str, name: &str) -> Option<&'a str> {
    let (_, query) = target.split_once('?')?;
    query.split('&').filter_map(|pair| pair.split_once('=')).find(|(key, _)| *key == name).map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters() {
        assert_eq!(query_param("/x?page=2&results=100", "page"), Some("2"));
        assert_eq!(query_param("/x?page=2&results=100", "results"), Some("100"));
        assert_eq!(query_param("/x?page=2", "results"), None);
        assert_eq!(query_param("/x", "page"), None);
    }

    #[test]
    fn answers_requests_over_one_connection() {
        let server = Server::start(Arc::new(|method: &str, target: &str| Answer {
            status: 200,
            body: Bytes::from(format!("{{\"method\":\"{method}\",\"target\":\"{target}\"}}")),
        }));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        laserdata::install_crypto_provider();
        runtime.block_on(async {
            let http = reqwest::Client::new();
            for page in 1..=3 {
                let url = format!("{}/items?page={page}", server.url);
                let body: serde_json::Value = http.post(url).body("{}").send().await.unwrap().json().await.unwrap();
                assert_eq!(body["method"], "POST");
                assert_eq!(body["target"], format!("/items?page={page}"));
            }
            server.record_next();
            http.get(&server.url).header("x-probe", "1").send().await.unwrap();
        });
        assert!(server.recorded_header_names().contains(&"x-probe".to_owned()));
    }
}
