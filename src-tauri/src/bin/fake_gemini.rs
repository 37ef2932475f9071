//! `fake-gemini`: the Gemini stand-in as a process, for the end-to-end test and demos.
//! Prints `listening on http://127.0.0.1:PORT` once it accepts connections.

use std::time::Duration;

use clap::Parser;
use gradedesk::fake_gemini::{FakeConfig, FakeGemini};

/// A local stand-in for Gemini's generateContent REST API.
#[derive(Parser)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The API key it accepts.
    #[arg(long, default_value = "test-key")]
    key: String,
    /// Delay before each answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Share of requests answered with a transient fault (0..1).
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// Requests allowed per rolling minute (429 beyond).
    #[arg(long)]
    rpm_limit: Option<u32>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let config = FakeConfig {
        api_key: args.key,
        latency: Duration::from_millis(args.latency_ms),
        fault_rate: args.fault_rate,
        rpm_limit: args.rpm_limit,
    };
    let fake = FakeGemini::start(config, args.port).await?;
    println!("listening on {}", fake.base_url());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
