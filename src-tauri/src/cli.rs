//! The headless command line on the same core as the window: how teachers script batches,
//! and how `gradedesk worker` keeps grading with no window open.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::exams::{self, Bbox, ItemState, QuestionInput};
use crate::export;
use crate::pacing::RateLimits;
use crate::queue::{self, PauseScope};
use crate::store::now_ms;
use crate::worker::{GradingRunner, Pool, PoolConfig};
use crate::workspace::{DeskError, Workspace};

/// GradeDesk: grade scanned, handwritten exams. With no subcommand, opens the window.
#[derive(Debug, Parser)]
#[command(name = "gradedesk", version, about)]
pub struct Cli {
    /// The data folder (database, scans, crops, logs). Default: the app's data folder.
    #[arg(long, global = true, env = "GRADEDESK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create exams.
    #[command(subcommand)]
    Exam(ExamCommand),
    /// Import scans (JPEG or PNG pages) as submissions of an exam.
    Import {
        #[arg(long)]
        exam: i64,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Cut an answer out of a page and queue it for grading.
    Crop {
        #[arg(long)]
        submission: i64,
        /// Page number, counting from 1.
        #[arg(long)]
        page: i64,
        /// The question's label, e.g. Q1.
        #[arg(long)]
        question: String,
        /// X,Y,W,H as fractions of the page (origin top left), e.g. 0.1,0.2,0.8,0.15
        #[arg(long, value_parser = parse_bbox, allow_hyphen_values = true)]
        bbox: Bbox,
    },
    /// Grade queued answers until stopped with Ctrl-C or SIGTERM.
    Worker(PoolArgs),
    /// Grade until nothing is queued or running, with a progress bar.
    Grade {
        /// Wait for the queue to drain (the default and only mode).
        #[arg(long)]
        wait: bool,
        #[command(flatten)]
        pool: PoolArgs,
    },
    /// Show job counts and each answer's state.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Stop starting new grading jobs (all, or one exam's) in every process until resumed.
    Pause {
        #[arg(long)]
        exam: Option<i64>,
        #[arg(long, default_value = "paused by the teacher")]
        reason: String,
    },
    /// Lift a pause.
    Resume {
        #[arg(long)]
        exam: Option<i64>,
    },
    /// Cancel an answer's grading (queued or running).
    Cancel {
        #[arg(long, conflicts_with = "job", required_unless_present = "job")]
        item: Option<i64>,
        #[arg(long)]
        job: Option<i64>,
    },
    /// Grade this answer next, ahead of the queue.
    Prioritize {
        #[arg(long)]
        item: i64,
    },
    /// List the jobs given up on, with their reasons.
    Dead {
        #[arg(long)]
        json: bool,
    },
    /// Give dead jobs a fresh set of attempts.
    Retry {
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        job: Option<i64>,
        #[arg(long)]
        all: bool,
    },
    /// Write an exam's gradebook as CSV.
    Export {
        #[arg(long)]
        exam: i64,
        #[arg(long)]
        out: PathBuf,
    },
    // --- Grading settings, key and cost (issue #4) ---
    /// Show or change the grading settings and prices.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Store, test or forget the Gemini API key (kept in the OS keyring or a private file).
    #[command(subcommand)]
    Key(KeyCommand),
    /// Estimate the tokens and cost of the answers still to grade, and show what graded
    /// answers actually cost.
    Estimate {
        #[arg(long)]
        exam: Option<i64>,
    },
    /// Set the teacher's score for an answer (the export uses it instead of the AI's).
    Override {
        #[arg(long)]
        item: i64,
        #[arg(long)]
        score: f64,
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Print the settings, the prices and where the key comes from (masked) as JSON.
    Show,
    /// Change one setting, e.g. `settings set model gemini-2.5-flash`.
    Set { name: String, value: String },
    /// Set the price per million tokens for models starting with PREFIX.
    Price {
        prefix: String,
        input_per_mtok: f64,
        output_per_mtok: f64,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Read the key from standard input (never from the command line, where `ps` shows it).
    Set,
    /// Ask Gemini whether the key and the model work.
    Test,
    /// Forget the stored key.
    Clear,
}

#[derive(Debug, Subcommand)]
pub enum ExamCommand {
    /// Create an exam from a questions file.
    Create {
        #[arg(long)]
        name: String,
        /// JSON: [{"label", "prompt", "max_points", "rubric", "reference_answer"}]
        #[arg(long)]
        questions: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct PoolArgs {
    /// How many answers are graded at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// The provider's requests-per-minute limit (0: none; 429s are honoured either way).
    #[arg(long, env = "GRADEDESK_RPM", default_value_t = 0)]
    pub rpm: u32,
    /// The provider's tokens-per-minute limit (0: none).
    #[arg(long, env = "GRADEDESK_TPM", default_value_t = 0)]
    pub tpm: u32,
}

fn parse_bbox(text: &str) -> Result<Bbox, String> {
    let values: Vec<f64> = text
        .split(',')
        .map(|v| v.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("\"{text}\" is not four numbers X,Y,W,H"))?;
    match values[..] {
        [x, y, w, h] => Ok(Bbox { x, y, w, h }),
        _ => Err(format!("\"{text}\" needs exactly four numbers X,Y,W,H")),
    }
}

/// The window's binary, installed beside this one.
const WINDOW_BINARY: &str = "gradedesk-desktop";

/// Replaces this process with the window (same arguments, same environment), so that
/// `gradedesk` alone still opens the app as it always did.
pub fn open_window() -> ExitCode {
    use std::os::unix::process::CommandExt;
    let window = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(WINDOW_BINARY)))
        .filter(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from(WINDOW_BINARY));
    let error = std::process::Command::new(&window)
        .args(std::env::args_os().skip(1))
        .exec();
    eprintln!(
        "error: could not open the window ({}): {error}",
        window.display()
    );
    ExitCode::FAILURE
}

/// The default data folder, the same one the window uses (`<data dir>/<app identifier>`).
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("app.gradedesk.desktop")
}

/// Runs one subcommand; errors become a sentence on stderr and a non-zero exit.
pub async fn run(data_dir: &Path, command: Command) -> ExitCode {
    let workspace = match Workspace::open(data_dir) {
        Ok(ws) => ws,
        Err(e) => return fail(&e),
    };
    let result = match command {
        Command::Exam(ExamCommand::Create { name, questions }) => {
            create_exam(&workspace, name, &questions).await
        }
        Command::Import { exam, files } => return import(&workspace, exam, &files).await,
        Command::Crop {
            submission,
            page,
            question,
            bbox,
        } => workspace
            .create_item(submission, page, &question, bbox)
            .await
            .map(|r| print_json(&r)),
        Command::Worker(pool) => {
            worker(&workspace, pool).await;
            Ok(())
        }
        Command::Grade { pool, .. } => return grade(&workspace, pool).await,
        Command::Status { json } => status(&workspace, json).await,
        Command::Pause { exam, reason } => workspace
            .pause(exam.map_or(PauseScope::All, PauseScope::Exam), reason)
            .await
            .map(|()| eprintln!("paused; running answers finish, no new ones start")),
        Command::Resume { exam } => workspace
            .resume(exam.map_or(PauseScope::All, PauseScope::Exam))
            .await
            .map(|was| eprintln!("{}", if was { "resumed" } else { "nothing was paused" })),
        Command::Cancel { item, job } => cancel(&workspace, item, job).await,
        Command::Prioritize { item } => workspace
            .prioritize_item(item)
            .await
            .map(|()| eprintln!("answer {item} is next")),
        Command::Dead { json } => dead(&workspace, json).await,
        Command::Retry { job, all } => retry(&workspace, job, all).await,
        Command::Settings(command) => return grading_cli::settings(&workspace, command).await,
        Command::Key(command) => return grading_cli::key(&workspace, command).await,
        Command::Estimate { exam } => return grading_cli::estimate(&workspace, exam).await,
        Command::Override { item, score, note } => workspace
            .store
            .run(move |conn| {
                crate::exams::set_override(conn, item, score, note.as_deref())
                    .map_err(DeskError::from)
            })
            .await
            .map(|o| eprintln!("answer {item} now scores {}", o.score)),
        Command::Export { exam, out } => {
            export::export_csv(&workspace, exam, &out)
                .await
                .map(|rows| {
                    eprintln!("wrote {rows} answers to {}", out.display());
                })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(error: &DeskError) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
}

fn print_json<T: serde::Serialize>(value: &T) {
    println!("{}", serde_json::to_string(value).unwrap_or_default());
}

async fn create_exam(workspace: &Workspace, name: String, path: &Path) -> Result<(), DeskError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        DeskError::Invalid(format!(
            "could not read the questions file {}: {e}",
            path.display()
        ))
    })?;
    let questions: Vec<QuestionInput> = serde_json::from_str(&text).map_err(|e| {
        DeskError::Invalid(format!(
            "the questions file {} is not valid: {e}",
            path.display()
        ))
    })?;
    let exam_id = workspace.create_exam(name, questions).await?;
    print_json(&json!({ "exam_id": exam_id }));
    Ok(())
}

/// Imports each file on its own: good files are kept even when others fail.
async fn import(workspace: &Workspace, exam: i64, files: &[PathBuf]) -> ExitCode {
    let mut results = Vec::new();
    let mut failed = 0;
    for file in files {
        match workspace.import_path(exam, file).await {
            Ok(result) => results.push(result),
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
                if matches!(e, DeskError::Exam(exams::ExamError::NotFound(_))) {
                    break;
                }
            }
        }
    }
    print_json(&results);
    if failed > 0 {
        eprintln!("{failed} of {} files could not be imported", files.len());
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn start_pool(workspace: &Arc<Workspace>, args: &PoolArgs) -> Result<Arc<Pool>, DeskError> {
    let grader = grading_cli::grader_from_settings(workspace)?;
    // The command line's limit wins; else the one in the settings.
    let saved_rpm = crate::settings::Settings::load(&workspace.store.lock())
        .map(|s| s.requests_per_minute)
        .unwrap_or(0);
    let config = PoolConfig {
        concurrency: usize::from(args.concurrency),
        limits: RateLimits {
            requests_per_minute: if args.rpm > 0 { args.rpm } else { saved_rpm },
            tokens_per_minute: args.tpm,
        },
        ..PoolConfig::default()
    };
    let runner = GradingRunner::new(workspace, grader);
    Ok(Pool::new(workspace.clone(), Arc::new(runner), config))
}

async fn cancel(
    workspace: &Workspace,
    item: Option<i64>,
    job: Option<i64>,
) -> Result<(), DeskError> {
    match (item, job) {
        (Some(item), _) => workspace.cancel_item(item).await?,
        (None, Some(job)) => {
            let cancelled = workspace
                .store
                .run(move |conn| queue::cancel(conn, job, now_ms()))
                .await?;
            if !cancelled {
                return Err(DeskError::Invalid(format!(
                    "job {job} is not queued or running"
                )));
            }
        }
        (None, None) => return Err(DeskError::Invalid("name an --item or a --job".into())),
    }
    eprintln!("cancelled");
    Ok(())
}

async fn dead(workspace: &Workspace, as_json: bool) -> Result<(), DeskError> {
    let jobs = workspace.dead_jobs().await?;
    if as_json {
        print_json(&jobs);
    } else if jobs.is_empty() {
        println!("no failed jobs");
    } else {
        for job in &jobs {
            println!(
                "job {:>6}  item {:>6}  after {} attempt(s): {}",
                job.job_id,
                job.item_id.map(|i| i.to_string()).unwrap_or_default(),
                job.attempts,
                job.error
            );
        }
    }
    Ok(())
}

async fn retry(workspace: &Workspace, job: Option<i64>, all: bool) -> Result<(), DeskError> {
    let retried = workspace.retry_dead(if all { None } else { job }).await?;
    eprintln!("{retried} job(s) queued again");
    if retried == 0 && !all {
        return Err(DeskError::Invalid("that job is not a failed job".into()));
    }
    Ok(())
}

async fn worker(workspace: &Arc<Workspace>, args: PoolArgs) {
    let pool = match start_pool(workspace, &args) {
        Ok(pool) => pool,
        Err(e) => {
            eprintln!("error: {e}");
            return;
        }
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    tracing::info!(concurrency = args.concurrency, "worker started");
    pool.run(shutdown).await;
    tracing::info!("worker stopped");
}

async fn cancel_on_signal(token: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    token.cancel();
}

/// Runs a pool until the queue is empty (other processes' running jobs included).
async fn grade(workspace: &Arc<Workspace>, args: PoolArgs) -> ExitCode {
    let pool = match start_pool(workspace, &args) {
        Ok(pool) => pool,
        Err(e) => return fail(&e),
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    let runner = tokio::spawn(pool.clone().run(shutdown.clone()));
    let start = match workspace.counts().await {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let total = start.active() as u64;
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} answers graded  {msg}  [{elapsed}, ETA {eta}]",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut halted = None;
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let counts = match workspace.counts().await {
            Ok(c) => c,
            Err(e) => {
                shutdown.cancel();
                let _ = runner.await;
                return fail(&e);
            }
        };
        bar.set_length(total.max(counts.active() as u64));
        bar.set_position(total.saturating_sub(counts.active() as u64));
        bar.set_message(format!(
            "{} grading, {} failed",
            counts.running,
            counts.dead.saturating_sub(start.dead)
        ));
        if let Some(reason) = pool.halted() {
            halted = Some(reason);
            break;
        }
        if counts.running == 0 && counts.queued > 0 {
            let blocking = workspace
                .store
                .run(|conn| queue::blocking_pauses(conn, now_ms()))
                .await
                .unwrap_or_default();
            if let Some(pause) = blocking.first() {
                halted = Some(match pause.until_ms {
                    Some(until) => format!("{} (until {})", pause.reason, clock_time(until)),
                    None => format!("{}; `gradedesk resume` lifts the pause", pause.reason),
                });
                break;
            }
        }
        if counts.active() == 0 || shutdown.is_cancelled() {
            break;
        }
    }
    shutdown.cancel();
    let _ = runner.await;
    bar.finish_and_clear();
    if let Some(reason) = halted {
        eprintln!("error: grading stopped: {reason}. The answers stay queued; run `gradedesk grade --wait` again once this is fixed.");
        return ExitCode::from(3);
    }
    let items = workspace
        .store
        .run(|conn| exams::item_views(conn, None))
        .await;
    let items = match items {
        Ok(items) => items,
        Err(e) => return fail(&e.into()),
    };
    let failed: Vec<_> = items
        .iter()
        .filter(|i| i.state == ItemState::Failed)
        .collect();
    let done = items.iter().filter(|i| i.state == ItemState::Done).count();
    eprintln!("{done} answers graded, {} failed", failed.len());
    for item in &failed {
        eprintln!(
            "  submission {} {}: {}",
            item.submission_id,
            item.question_label,
            item.error.as_deref().unwrap_or("failed")
        );
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// A time of day in UTC for messages ("14:05 UTC"): the CLI has no time-zone database.
fn clock_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let day_secs = secs.rem_euclid(86_400);
    format!("{:02}:{:02} UTC", day_secs / 3600, (day_secs % 3600) / 60)
}

async fn status(workspace: &Workspace, as_json: bool) -> Result<(), DeskError> {
    let snapshot = workspace.snapshot().await?;
    if as_json {
        print_json(&json!({ "counts": snapshot.counts, "items": snapshot.items }));
    } else {
        let c = &snapshot.counts;
        println!(
            "queued {}  running {}  succeeded {}  dead {}  cancelled {}",
            c.queued, c.running, c.succeeded, c.dead, c.cancelled
        );
        for item in &snapshot.items {
            let state = serde_json::to_value(item.state).unwrap_or_default();
            let score = item
                .score
                .map(|s| format!("{s} / {}", item.max_points))
                .unwrap_or_default();
            println!(
                "  item {:>5}  submission {:>4}  {:<6} {:<10} {} {}",
                item.item_id,
                item.submission_id,
                item.question_label,
                state.as_str().unwrap_or(""),
                score,
                item.error.as_deref().unwrap_or("")
            );
        }
    }
    Ok(())
}

/// The grading subcommands (issue #4): settings, key, estimate, and building the grader.
mod grading_cli {
    use std::io::BufRead;
    use std::process::ExitCode;
    use std::sync::Arc;

    use serde_json::json;

    use super::{print_json, KeyCommand, SettingsCommand};
    use crate::grading::gemini::GeminiGrader;
    use crate::grading::{estimate, pricing, ApiKey, Grader};
    use crate::settings::{self, KeyStore, Settings};
    use crate::workspace::{DeskError, Workspace};

    fn invalid(e: impl std::fmt::Display) -> DeskError {
        DeskError::Invalid(e.to_string())
    }

    fn report(result: Result<(), DeskError>) -> ExitCode {
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    }

    /// The stored settings with the environment's overrides.
    pub async fn load_settings(workspace: &Workspace) -> Result<Settings, DeskError> {
        workspace
            .store
            .run(|conn| Settings::load(conn).map_err(invalid))
            .await
            .map(Settings::with_env_overrides)
    }

    /// The grader the settings choose, with the key from the environment, keyring or file.
    pub fn grader_from_settings(workspace: &Workspace) -> Result<Arc<dyn Grader>, DeskError> {
        let settings = {
            let conn = workspace.store.lock();
            Settings::load(&conn).map_err(invalid)?.with_env_overrides()
        };
        let (key, _) = KeyStore::default_location().load();
        settings::build_grader(&settings, ApiKey::new(key)).map_err(invalid)
    }

    pub async fn settings(workspace: &Workspace, command: SettingsCommand) -> ExitCode {
        let result = async {
            match command {
                SettingsCommand::Show => {
                    let stored = workspace
                        .store
                        .run(|conn| Settings::load(conn).map_err(invalid))
                        .await?;
                    let prices = workspace
                        .store
                        .run(|conn| pricing::list_prices(conn).map_err(invalid))
                        .await?;
                    let (key, source) = KeyStore::default_location().load();
                    print_json(&json!({
                        "settings": stored,
                        "effective": stored.clone().with_env_overrides(),
                        "prices": prices,
                        "api_key": settings::mask(key.as_deref()),
                        "api_key_source": source,
                    }));
                    Ok(())
                }
                SettingsCommand::Set { name, value } => {
                    workspace
                        .store
                        .run(move |conn| {
                            let next = Settings::load(conn)
                                .map_err(invalid)?
                                .with(&name, &value)
                                .map_err(invalid)?;
                            next.save(conn).map_err(invalid)
                        })
                        .await
                }
                SettingsCommand::Price {
                    prefix,
                    input_per_mtok,
                    output_per_mtok,
                } => {
                    if !(input_per_mtok >= 0.0 && output_per_mtok >= 0.0) {
                        return Err(invalid("prices are dollars per million tokens, 0 or more"));
                    }
                    let price = pricing::Price {
                        model_prefix: prefix,
                        input_per_mtok,
                        output_per_mtok,
                    };
                    workspace
                        .store
                        .run(move |conn| pricing::set_price(conn, &price).map_err(invalid))
                        .await
                }
            }
        };
        report(result.await)
    }

    pub async fn key(workspace: &Workspace, command: KeyCommand) -> ExitCode {
        let store = KeyStore::default_location();
        match command {
            KeyCommand::Set => {
                let mut line = String::new();
                if std::io::stdin().lock().read_line(&mut line).is_err() {
                    return report(Err(invalid("could not read the key from standard input")));
                }
                match store.save(&line) {
                    Ok(source) => {
                        print_json(
                            &json!({"stored_in": source, "api_key": settings::mask(Some(line.trim()))}),
                        );
                        ExitCode::SUCCESS
                    }
                    Err(e) => report(Err(invalid(e))),
                }
            }
            KeyCommand::Clear => {
                store.clear();
                ExitCode::SUCCESS
            }
            KeyCommand::Test => {
                let settings = match load_settings(workspace).await {
                    Ok(s) => s,
                    Err(e) => return report(Err(e)),
                };
                let (key, _) = store.load();
                let grader = match GeminiGrader::new(settings.gemini_config(ApiKey::new(key))) {
                    Ok(g) => g,
                    Err(e) => return report(Err(invalid(e))),
                };
                match grader.test_key().await {
                    Ok(()) => {
                        println!("the API key works with {}", settings.model);
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        ExitCode::from(3)
                    }
                }
            }
        }
    }

    pub async fn estimate(workspace: &Workspace, exam: Option<i64>) -> ExitCode {
        let settings = match load_settings(workspace).await {
            Ok(s) => s,
            Err(e) => return report(Err(e)),
        };
        let model = settings.active_model().to_string();
        let result = workspace
            .store
            .run(move |conn| {
                let pending = estimate::estimate_pending(
                    conn,
                    exam,
                    &model,
                    &settings.media_resolution,
                    settings.thinking_budget,
                )
                .map_err(invalid)?;
                let graded = estimate::actual(conn, exam).map_err(invalid)?;
                Ok::<_, DeskError>(json!({"to_grade": pending, "graded": graded}))
            })
            .await;
        match result {
            Ok(value) => {
                print_json(&value);
                ExitCode::SUCCESS
            }
            Err(e) => report(Err(e)),
        }
    }
}
