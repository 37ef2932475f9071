//! `fake-gemini`: the Gemini stand-in as a process, for the end-to-end test and demos.
//! Prints the seed of its random faults (stderr), then `listening on http://127.0.0.1:PORT`
//! once it accepts connections.

use std::time::Duration;

use clap::Parser;
use fake_gemini::{FakeConfig, FakeGemini, Fault};

/// A local stand-in for Gemini's generateContent REST API, Batch Mode and Files API (and an
/// OpenAI-compatible chat-completions endpoint), with fault injection by rate and by script.
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
    /// Share of requests answered with a fault drawn from --faults (0..1).
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// Seed of the random faults (default: random, printed at start so a run can be replayed).
    #[arg(long, env = "FAKE_GEMINI_SEED")]
    seed: Option<u64>,
    /// Requests allowed per rolling minute (429 beyond).
    #[arg(long)]
    rpm_limit: Option<u32>,
    /// The faults drawn at --fault-rate, comma separated (snake_case names, e.g.
    /// overloaded,rate_limited,internal,malformed,empty_parts,max_tokens,reset).
    #[arg(long, value_delimiter = ',', default_value = "overloaded,rate_limited")]
    faults: Vec<String>,
    /// RetryInfo delay sent with a 429, e.g. 2s or 45.837s.
    #[arg(long, default_value = "2s")]
    retry_delay: String,
    /// Answer MAX_TOKENS when maxOutputTokens is below this.
    #[arg(long)]
    min_output_tokens: Option<i64>,
    /// Faults answered first, in order, before any by rate (e.g. bad_key or safety); a
    /// batch's requests take them in request order too.
    #[arg(long, value_delimiter = ',')]
    script: Vec<String>,
    /// Polls a batch answers PENDING before it runs (a batch that stays pending long).
    #[arg(long, default_value_t = 1)]
    batch_pending_polls: u32,
    /// Batch results come back in another order than the requests.
    #[arg(long)]
    batch_shuffle: bool,
    /// Inline batch responses come back without their metadata (keys).
    #[arg(long)]
    batch_drop_metadata: bool,
    /// How batches end instead of succeeding: FAILED or EXPIRED.
    #[arg(long)]
    batch_end_state: Option<String>,
    /// Batch states spelled JOB_STATE_* instead of BATCH_STATE_*.
    #[arg(long)]
    batch_job_state_names: bool,
    /// The first batch-file upload's connection drops after this many bytes.
    #[arg(long)]
    batch_drop_upload_after: Option<usize>,
    /// What name boxes read as: a JSON object from the student number printed in the box
    /// to {"name", "student_id", "confidence"} (make_demo.py --class writes names.json).
    #[arg(long)]
    names: Option<std::path::PathBuf>,
    /// Scripted grades, answered in order to the first grading requests: a JSON list of
    /// {"transcription", "items" | "positions", "score", "confidence", "needs_review", …}.
    #[arg(long)]
    grades: Option<std::path::PathBuf>,
}

/// Reads a JSON file the fake is given, or stops with a clear error.
fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path, what: &str) -> T {
    match std::fs::read(path).map(|b| serde_json::from_slice(&b)) {
        Ok(Ok(value)) => value,
        Ok(Err(e)) => {
            eprintln!("error: {} is not {what}: {e}", path.display());
            std::process::exit(2);
        }
        Err(e) => {
            eprintln!("error: could not read {}: {e}", path.display());
            std::process::exit(2);
        }
    }
}

fn parse_faults(names: &[String]) -> Result<Vec<Fault>, String> {
    names
        .iter()
        .filter(|n| !n.trim().is_empty())
        .map(|n| {
            serde_json::from_value(serde_json::Value::String(n.trim().to_string()))
                .map_err(|_| format!("unknown fault \"{n}\""))
        })
        .collect()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let (random_faults, script) = match (parse_faults(&args.faults), parse_faults(&args.script)) {
        (Ok(r), Ok(s)) => (r, s),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let config = FakeConfig {
        api_key: args.key,
        latency: Duration::from_millis(args.latency_ms),
        fault_rate: args.fault_rate,
        seed: args.seed.unwrap_or_else(rand::random),
        rpm_limit: args.rpm_limit,
        random_faults,
        retry_delay: args.retry_delay,
        min_output_tokens: args.min_output_tokens,
        ..FakeConfig::default()
    };
    let names: fake_gemini::NameTable = match &args.names {
        Some(path) => read_json(path, "a names table"),
        None => fake_gemini::NameTable::new(),
    };
    let grades: Vec<fake_gemini::GradeScript> = match &args.grades {
        Some(path) => read_json(path, "a list of scripted grades"),
        None => Vec::new(),
    };
    let fake = FakeGemini::start(config, args.port).await?;
    fake.script(&script);
    fake.set_names(names);
    fake.script_grades(&grades);
    fake.set_batch_faults(fake_gemini::BatchFaults {
        pending_polls: args.batch_pending_polls,
        shuffle: args.batch_shuffle,
        drop_metadata: args.batch_drop_metadata,
        end_state: args.batch_end_state,
        job_state_names: args.batch_job_state_names,
        drop_upload_after: args.batch_drop_upload_after,
        ..fake_gemini::BatchFaults::default()
    });
    println!("listening on {}", fake.base_url());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
