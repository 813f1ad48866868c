//! `cargo run -p laserdata-sandbox [-- --port PORT]`: serves the sandbox until interrupted.
//! The port comes from `--port`, else `LD_SANDBOX_PORT`, else any free one.

use laserdata_sandbox::{Config, Sandbox};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut port = std::env::var("LD_SANDBOX_PORT").ok();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = Some(args.next().ok_or("--port needs a value")?),
            other if other.starts_with("--port=") => port = Some(other["--port=".len()..].to_owned()),
            "-h" | "--help" => {
                println!("usage: laserdata-sandbox [--port PORT]   (or LD_SANDBOX_PORT)");
                return Ok(());
            }
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    let port = match port {
        Some(port) => port.trim().parse::<u16>().map_err(|_| format!("not a port: {port}"))?,
        None => 0,
    };
    let sandbox = Sandbox::start_with(Config::default(), port).await?;
    println!("LaserData sandbox listening");
    println!("LD_API_URL={}", sandbox.url());
    println!("LD_AUDIT_URL={}", sandbox.audit_url());
    println!("LD_API_KEY={}", sandbox.admin_key());
    println!("supervisor_url={}", sandbox.supervisor_url());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
