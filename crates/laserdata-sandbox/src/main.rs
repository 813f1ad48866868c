//! `cargo run -p laserdata-sandbox [-- --port PORT] [--rate-limit N]`: serves the sandbox until
//! interrupted. The port comes from `--port`, else `LD_SANDBOX_PORT`, else any free one.

use std::time::Duration;

use laserdata_sandbox::{Config, Sandbox};

const USAGE: &str = "usage: laserdata-sandbox [--port PORT] [--rate-limit N]
  --port PORT       listen on 127.0.0.1:PORT (or LD_SANDBOX_PORT; default: any free port)
  --rate-limit N    requests one key may make per second before 429 (default 20; 0: no limit)";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut port = std::env::var("LD_SANDBOX_PORT").ok();
    let mut config = Config::default();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| args.next()).ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--port" => port = Some(value()?),
            "--rate-limit" => {
                let text = value()?;
                config.rate_limit_per_second =
                    text.trim().parse().map_err(|_| format!("--rate-limit takes a number, not `{text}`"))?;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument `{other}`\n{USAGE}").into()),
        }
    }
    let port = match port {
        Some(port) => port.trim().parse::<u16>().map_err(|_| format!("not a port: {port}"))?,
        None => 0,
    };
    let sandbox = Sandbox::start_with(config.clone(), port).await?;
    println!("LaserData sandbox listening");
    println!("LD_API_URL={}", sandbox.url());
    println!("LD_AUDIT_URL={}", sandbox.audit_url());
    println!("LD_API_KEY={}", sandbox.admin_key());
    println!("LD_TENANT_ID={}", sandbox.tenant_id());
    println!("LD_DIVISION_ID={}", sandbox.division_id());
    println!("supervisor_url={}", sandbox.supervisor_url());
    match config.rate_limit_per_second {
        0 => println!("rate limit: off"),
        limit => println!("rate limit: {limit} requests per second per key"),
    }
    // Where the real API e-mails the codes that confirm deleting a protected resource, the
    // command line prints them.
    let mut printed = 0;
    let mut interrupted = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        tokio::select! {
            result = &mut interrupted => return Ok(result?),
            () = tokio::time::sleep(Duration::from_millis(200)) => {
                for (action, code) in sandbox.sent_codes().into_iter().skip(printed) {
                    println!("code for {action}: {code}");
                    printed += 1;
                }
            }
        }
    }
}
