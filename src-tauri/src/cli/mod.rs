//! The headless command line on the same core as the window: how teachers script batches,
//! and how `gradedesk worker` keeps grading with no window open.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

mod review;

use clap::{Args, Parser, Subcommand};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::batching::BatchConfig;
use crate::engine::{Engine, PoolOptions};
use crate::error::CoreError;
use crate::exams::{Bbox, ExamError, ItemState, QuestionInput, RegionKind};
use crate::export::Format;
use crate::grading::pricing::Price;
use crate::grading::ApiKey;
use crate::queue::batches::GradingMode;
use crate::queue::PauseScope;
use crate::settings::KeyStore;
use crate::stats::{self, ExamStats};
use crate::workspace::{ExamCreated, MatchChoice, Workspace};

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
    /// Import scans as submissions of an exam: one submission per file, or with --class one
    /// scanner PDF (or several files, or a folder) holding the whole class, split into
    /// students by the exam's template.
    Import {
        #[arg(long)]
        exam: i64,
        /// The files hold the whole class: identify every page against the template, split
        /// into students, align, and queue every region's answer.
        #[arg(long)]
        class: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Set an exam's template: the blank exam, whose regions are drawn once.
    #[command(subcommand)]
    Template(TemplateCommand),
    /// Draw or list the regions on an exam's template.
    #[command(subcommand)]
    Region(RegionCommand),
    /// Look at and correct how a class import split its pages into students.
    #[command(subcommand)]
    Split(SplitCommand),
    /// The exam's class roster: import the school's file, or list it.
    #[command(subcommand)]
    Roster(RosterCommand),
    /// Who wrote each script: the class matching's result, or the teacher's decision on
    /// one script (--submission with --student or --none).
    Match {
        #[arg(long)]
        exam: i64,
        /// Decide this script (its submission id).
        #[arg(long, requires = "decision")]
        submission: Option<i64>,
        /// The roster ID of the student who wrote it.
        #[arg(long, group = "decision", requires = "submission")]
        student: Option<String>,
        /// It is nobody on the roster (or take its student away).
        #[arg(long, group = "decision", requires = "submission")]
        none: bool,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Every current answer of an exam, with where it is on the imported page.
    Items {
        #[arg(long)]
        exam: i64,
        /// JSON (the only form).
        #[arg(long)]
        json: bool,
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
    /// Write an exam's gradebook: without --format, a row per answer (today's CSV); csv
    /// (a row per student), csv-long, canvas, moodle, classroom or xlsx.
    Export {
        #[arg(long)]
        exam: i64,
        #[arg(long)]
        format: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a feedback PDF per student and one for the class into a folder.
    Feedback {
        #[arg(long)]
        exam: i64,
        #[arg(long)]
        out: PathBuf,
    },
    /// The exam's statistics: per question, the totals, and the AI against the teacher.
    Stats {
        #[arg(long)]
        exam: i64,
        #[arg(long)]
        json: bool,
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
    /// Grade later, at half the price: send an exam's waiting answers as a Gemini batch,
    /// follow, cancel or wait for batches.
    #[command(subcommand)]
    Batch(BatchCommand),
    /// A question's rubric items: list them, edit them (every answer re-scored at once,
    /// without the model), or grade the question again.
    #[command(subcommand)]
    Rubric(review::RubricCommand),
    /// Each answer as review sees it (score, items, transcription, whether it waits for you
    /// and why), or the teacher's decision on one (--item with --accept, --apply, --transcription).
    Review(review::ReviewArgs),
    /// When answers may skip review: auto-accept, the confidence threshold, the agreement
    /// target, double grading.
    Routing(review::RoutingArgs),
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

/// `gradedesk roster ...`
#[derive(Debug, Subcommand)]
pub enum RosterCommand {
    /// Import the class list: a Canvas or Moodle export, Google Classroom's, or a plain
    /// list of names (with IDs and emails when there are). Prints the students stored and
    /// the lines left out, with why.
    Import {
        #[arg(long)]
        exam: i64,
        file: PathBuf,
    },
    /// The roster, each student with the script given to them (JSON).
    List {
        #[arg(long)]
        exam: i64,
        #[arg(long)]
        json: bool,
    },
}

/// `gradedesk template ...`
#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Set the template from the blank exam's file(s), pages in order, or from one imported
    /// submission's pages.
    Set {
        #[arg(long)]
        exam: i64,
        #[arg(long, conflicts_with = "files")]
        from_submission: Option<i64>,
        #[arg(required_unless_present = "from_submission")]
        files: Vec<PathBuf>,
    },
}

/// `gradedesk region ...`
#[derive(Debug, Subcommand)]
pub enum RegionCommand {
    /// Draw a region on a template page: a question's answer (--question) or where the
    /// student writes their name or ID (--kind).
    Add {
        #[arg(long)]
        exam: i64,
        /// Template page, counting from 1.
        #[arg(long)]
        page: u32,
        #[arg(long, conflicts_with = "kind", required_unless_present = "kind")]
        question: Option<String>,
        /// name or student_id.
        #[arg(long, value_parser = parse_region_kind)]
        kind: Option<RegionKind>,
        /// X,Y,W,H as fractions of the template page (origin top left).
        #[arg(long, value_parser = parse_bbox, allow_hyphen_values = true)]
        bbox: Bbox,
    },
    /// The exam's regions.
    List {
        #[arg(long)]
        exam: i64,
        /// JSON (the only form).
        #[arg(long)]
        json: bool,
    },
    /// Move or resize a region; every student's answer to its question is cut again and
    /// graded again.
    Move {
        #[arg(long)]
        region: i64,
        #[arg(long, value_parser = parse_bbox, allow_hyphen_values = true)]
        bbox: Bbox,
    },
    /// Delete a region; its question's answers are cut again from the regions left.
    Delete {
        #[arg(long)]
        region: i64,
    },
}

/// `gradedesk split ...`: the split review of a class import.
#[derive(Debug, Subcommand)]
pub enum SplitCommand {
    /// Every student's pages in template order with their flags, and the pages nobody got.
    Show {
        #[arg(long)]
        exam: i64,
        /// JSON (the only form).
        #[arg(long)]
        json: bool,
    },
    /// Set a student's page aside (it is listed with the pages nobody got).
    Aside {
        #[arg(long)]
        page: i64,
    },
    /// Give a page nobody got to a student (or a new one) as template page --slot.
    Place {
        #[arg(long)]
        unassigned: i64,
        #[arg(long, conflicts_with = "new", required_unless_present = "new")]
        student: Option<i64>,
        #[arg(long)]
        new: bool,
        #[arg(long)]
        slot: u32,
    },
    /// Move a student's page to another student (or a new one) as template page --slot.
    Move {
        #[arg(long)]
        page: i64,
        #[arg(long, conflicts_with = "new", required_unless_present = "new")]
        student: Option<i64>,
        #[arg(long)]
        new: bool,
        #[arg(long)]
        slot: u32,
    },
    /// Split a student in two: the pages from template page --from on become a new student.
    Divide {
        #[arg(long)]
        student: i64,
        #[arg(long)]
        from: u32,
    },
    /// Correct a page's alignment: its regions are moved by DX,DY page pixels (where the
    /// writing is), and its answers cut again.
    Shift {
        #[arg(long)]
        page: i64,
        #[arg(long, allow_hyphen_values = true)]
        dx: f64,
        #[arg(long, allow_hyphen_values = true)]
        dy: f64,
    },
    /// Add a piece of writing found outside the boxes (--index of page --page's list, as
    /// `split show` lists them) to answer --item, which is graded again.
    Outside {
        #[arg(long)]
        item: i64,
        #[arg(long)]
        page: i64,
        #[arg(long)]
        index: usize,
    },
    /// Say a piece of writing outside the boxes (--index of page --page's list) is no
    /// answer's: it is no longer listed or flagged.
    Ignore {
        #[arg(long)]
        page: i64,
        #[arg(long)]
        index: usize,
    },
    /// Turn a page --quarters quarter turns clockwise (1, 2 or 3) from the way it is read
    /// now, and fit it again that way up; its answers are cut again.
    Turn {
        #[arg(long)]
        page: i64,
        #[arg(long, default_value_t = 2)]
        quarters: u32,
    },
    /// Merge student --from into student --into.
    Merge {
        #[arg(long)]
        into: i64,
        #[arg(long)]
        from: i64,
    },
}

/// `gradedesk split ...`: each prints what it did as JSON.
async fn split(workspace: &Workspace, command: SplitCommand) -> Result<(), CoreError> {
    let json = |v: serde_json::Value| print_json(&v);
    match command {
        SplitCommand::Show { exam, .. } => {
            workspace.split_review(exam).await.map(|r| print_json(&r))
        }
        SplitCommand::Aside { page } => workspace
            .set_page_aside(page)
            .await
            .map(|()| json(serde_json::json!({ "set_aside": page }))),
        SplitCommand::Place {
            unassigned,
            student,
            slot,
            ..
        } => workspace
            .place_page(unassigned, student, slot)
            .await
            .map(|s| json(serde_json::json!({ "submission_id": s }))),
        SplitCommand::Move {
            page,
            student,
            slot,
            ..
        } => workspace
            .move_page(page, student, slot)
            .await
            .map(|s| json(serde_json::json!({ "submission_id": s }))),
        SplitCommand::Divide { student, from } => workspace
            .split_student(student, from)
            .await
            .map(|s| json(serde_json::json!({ "submission_id": s }))),
        SplitCommand::Shift { page, dx, dy } => workspace
            .shift_alignment(page, dx, dy)
            .await
            .map(|n| json(serde_json::json!({ "answers_recut": n }))),
        SplitCommand::Outside { item, page, index } => workspace
            .add_outside_writing(item, page, index)
            .await
            .map(|n| json(serde_json::json!({ "answers_recut": n }))),
        SplitCommand::Ignore { page, index } => workspace
            .dismiss_outside_writing(page, index)
            .await
            .map(|()| json(serde_json::json!({ "ignored": index }))),
        SplitCommand::Turn { page, quarters } => workspace
            .turn_page(page, quarters)
            .await
            .map(|n| json(serde_json::json!({ "answers_recut": n }))),
        SplitCommand::Merge { into, from } => workspace
            .merge_students(into, from)
            .await
            .map(|()| json(serde_json::json!({ "submission_id": into }))),
    }
}

fn parse_region_kind(text: &str) -> Result<RegionKind, String> {
    match text.trim() {
        "name" => Ok(RegionKind::Name),
        "student_id" | "student-id" | "id" => Ok(RegionKind::StudentId),
        other => Err(format!(
            "\"{other}\" is not a region kind: name or student_id (an answer region names its --question)"
        )),
    }
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Print the settings, the prices and where the key comes from (masked) as JSON.
    Show,
    /// Change one setting, e.g. `settings set model gemini-2.5-flash`. A base URL on a
    /// host other than Google's endpoint or this computer needs `--confirm-host HOST`.
    Set {
        name: String,
        value: String,
        /// Confirms that the API key (and the students' answers) may be sent to HOST: the
        /// host of the base URL being set (`base_url` or `openai_base_url`).
        #[arg(long, value_name = "HOST")]
        confirm_host: Option<String>,
    },
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
    /// How the exam's answers are graded: `now` (online, as soon as cropped) or `later`
    /// (they wait for a batch: `gradedesk batch send`). Answers nobody grades yet move too.
    Mode {
        #[arg(long)]
        exam: i64,
        #[arg(value_parser = parse_mode)]
        mode: GradingMode,
    },
}

/// `gradedesk batch ...`
#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Send the exam's answers waiting for a batch. Without --yes it prints the estimate
    /// and, on a terminal, asks; otherwise it exits with status 2 and sends nothing.
    Send {
        #[arg(long)]
        exam: i64,
        /// Send without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Every batch: state, counts, estimated and actual cost.
    Status {
        /// JSON (a list).
        #[arg(long)]
        json: bool,
    },
    /// Ask Gemini to cancel a batch; its answers go back to waiting.
    Cancel {
        #[arg(long)]
        batch: String,
    },
    /// Poll until every batch has ended and its results are stored.
    Wait {
        /// Give up after this many seconds (exit status 1).
        #[arg(long)]
        timeout: Option<u64>,
    },
}

fn parse_mode(text: &str) -> Result<GradingMode, String> {
    GradingMode::parse(text)
        .ok_or_else(|| format!("\"{text}\" is not a grading mode: now or later"))
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

/// Runs one subcommand; errors become a sentence on stderr and an exit status that says
/// what kind of failure it was (see [`crate::error::ErrorCode::exit_status`]).
pub async fn run(data_dir: &Path, command: Command) -> ExitCode {
    let workspace = match Workspace::open(data_dir) {
        Ok(ws) => ws,
        Err(e) => return fail(&e),
    };
    let result = match command {
        Command::Exam(ExamCommand::Create { name, questions }) => {
            create_exam(&workspace, name, &questions).await
        }
        Command::Exam(ExamCommand::Mode { exam, mode }) => {
            workspace.set_grading_mode(exam, mode).await.map(|moved| {
                eprintln!(
                    "exam {exam} is graded {}; {moved} answer(s) moved",
                    mode.as_str()
                )
            })
        }
        Command::Batch(command) => return batch(&workspace, command).await,
        Command::Import {
            exam,
            class: true,
            files,
        } => workspace
            .import_class(exam, files)
            .await
            .map(|report| print_json(&report)),
        Command::Import { exam, files, .. } => return import(&workspace, exam, &files).await,
        Command::Template(TemplateCommand::Set {
            exam,
            from_submission: Some(submission),
            ..
        }) => workspace
            .set_template_from_submission(exam, submission)
            .await
            .map(|set| print_json(&set)),
        Command::Template(TemplateCommand::Set { exam, files, .. }) => workspace
            .set_template(exam, files)
            .await
            .map(|set| print_json(&set)),
        Command::Region(RegionCommand::Add {
            exam,
            page,
            question,
            kind,
            bbox,
        }) => workspace
            .add_region(
                exam,
                page,
                kind.unwrap_or(RegionKind::Answer),
                question,
                bbox,
            )
            .await
            .map(|region_id| print_json(&serde_json::json!({ "region_id": region_id }))),
        Command::Region(RegionCommand::List { exam, .. }) => {
            workspace.regions(exam).await.map(|r| print_json(&r))
        }
        Command::Region(RegionCommand::Move { region, bbox }) => workspace
            .move_region(region, bbox)
            .await
            .map(|n| print_json(&serde_json::json!({ "answers_recut": n }))),
        Command::Region(RegionCommand::Delete { region }) => workspace
            .delete_region(region)
            .await
            .map(|n| print_json(&serde_json::json!({ "answers_recut": n }))),
        Command::Split(command) => split(&workspace, command).await,
        Command::Roster(RosterCommand::Import { exam, file }) => match std::fs::read(&file) {
            Ok(bytes) => workspace
                .import_roster(exam, bytes)
                .await
                .map(|report| print_json(&report)),
            Err(e) => Err(CoreError::BadFile(format!(
                "could not read {}: {e}",
                file.display()
            ))),
        },
        Command::Roster(RosterCommand::List { exam, .. }) => {
            workspace.roster(exam).await.map(|r| print_json(&r))
        }
        Command::Match {
            exam,
            submission: Some(submission),
            student,
            none,
            ..
        } => {
            let choice = match (student, none) {
                (Some(roster_id), false) => MatchChoice::Student(roster_id),
                _ => MatchChoice::Nobody,
            };
            workspace
                .set_match(exam, submission, choice)
                .await
                .map(|row| print_json(&row))
        }
        Command::Match { exam, json, .. } => workspace.match_rows(exam).await.map(|rows| {
            if json {
                print_json(&rows)
            } else {
                print_match_table(&rows)
            }
        }),
        Command::Items { exam, .. } => workspace.class_items(exam).await.map(|i| print_json(&i)),
        Command::Crop {
            submission,
            page,
            question,
            bbox,
        } => workspace
            .create_item(submission, page, &question, bbox)
            .await
            .map(|r| print_json(&r)),
        Command::Worker(pool) => worker(&workspace, pool).await,
        Command::Grade { pool, .. } => return grade(&workspace, pool).await,
        Command::Status { json } => status(&workspace, json).await,
        Command::Pause { exam, reason } => workspace
            .pause(scope(exam), reason)
            .await
            .map(|()| eprintln!("paused; running answers finish, no new ones start")),
        Command::Resume { exam } => workspace
            .resume(scope(exam))
            .await
            .map(|was| eprintln!("{}", if was { "resumed" } else { "nothing was paused" })),
        Command::Cancel { item, job } => match (item, job) {
            (Some(item), _) => workspace.cancel_item(item).await,
            (None, Some(job)) => workspace.cancel_job(job).await,
            (None, None) => Err(CoreError::Invalid("name an --item or a --job".into())),
        }
        .map(|()| eprintln!("cancelled")),
        Command::Prioritize { item } => workspace
            .prioritize_item(item)
            .await
            .map(|()| eprintln!("answer {item} is next")),
        Command::Dead { json } => dead(&workspace, json).await,
        Command::Retry { job, all } => retry(&workspace, job, all).await,
        Command::Settings(command) => settings(&workspace, command).await,
        Command::Key(command) => key(&workspace, command).await,
        Command::Estimate { exam } => workspace.estimate(exam).await.map(|e| print_json(&e)),
        Command::Rubric(command) => review::rubric(&workspace, command).await,
        Command::Review(args) => review::review(&workspace, args).await,
        Command::Routing(args) => review::routing(&workspace, args).await,
        Command::Override { item, score, note } => workspace
            .override_score(item, score, note)
            .await
            .map(|o| eprintln!("answer {item} now scores {}", o.score)),
        Command::Export { exam, format, out } => export(&workspace, exam, format, &out).await,
        Command::Feedback { exam, out } => workspace
            .feedback_pdfs(exam, &out)
            .await
            .map(|report| print_json(&report)),
        Command::Stats { exam, json } => workspace.exam_stats(exam).await.map(|stats| {
            if json {
                print_json(&stats);
            } else {
                print!("{}", stats_text(&stats));
            }
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// `export`: today's answer CSV without a format, else the named one.
async fn export(
    workspace: &Workspace,
    exam: i64,
    format: Option<String>,
    out: &Path,
) -> Result<(), CoreError> {
    let Some(format) = format else {
        let rows = workspace.export_csv(exam, out).await?;
        eprintln!("wrote {rows} answers to {}", out.display());
        return Ok(());
    };
    let format: Format = format.parse()?;
    let rows = workspace.export(exam, format, out).await?;
    eprintln!("wrote {rows} rows ({}) to {}", format.name(), out.display());
    Ok(())
}

/// The statistics as a teacher reads them in a terminal: the figures and text histograms.
fn stats_text(stats: &ExamStats) -> String {
    let f = |x: Option<f64>| x.map_or("–".to_string(), |x| format!("{x:.2}"));
    let mut out = String::new();
    for q in &stats.questions {
        let a = &q.agreement;
        out.push_str(&format!(
            "{} (out of {})  n {}  mean {}  median {}  sd {}  facility {}  discrimination {}{}  blank {}\n",
            q.label,
            stats::trim(q.max_points),
            q.n,
            f(q.mean),
            f(q.median),
            f(q.sd),
            f(q.facility),
            f(q.discrimination),
            if q.low_discrimination { " (low)" } else { "" },
            f(q.blank_share),
        ));
        out.push_str(&stats::text_histogram(&q.histogram, 30));
        out.push_str(&format!(
            "  AI against the teacher: {} reviewed  exact {}  within one {}  MAE {}  QWK {}\n\n",
            a.n,
            f(a.exact),
            f(a.within_one),
            f(a.mae),
            f(a.qwk)
        ));
    }
    let e = &stats.exam;
    out.push_str(&format!(
        "Exam (out of {})  n {}  mean {}  sd {}  Cronbach's alpha {}\n",
        stats::trim(e.max_points),
        e.n,
        f(e.mean),
        f(e.sd),
        f(e.alpha)
    ));
    out.push_str(&stats::text_histogram(&e.histogram, 30));
    out
}

fn scope(exam: Option<i64>) -> PauseScope {
    exam.map_or(PauseScope::All, PauseScope::Exam)
}

fn fail(error: &CoreError) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(error.code().exit_status())
}

/// `gradedesk match` without --json: one line per script.
fn print_match_table(rows: &[crate::exams::MatchRow]) {
    for row in rows {
        let status = serde_json::to_value(row.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let student = match (&row.student, &row.suggestion) {
            (Some(student), _) => student.clone(),
            (None, Some(s)) => format!("(suggested: {})", s.student),
            (None, None) => "-".into(),
        };
        println!(
            "{:>6}  {:<10}  {:<28}  {:<28}  {}",
            row.submission_id,
            status,
            row.read_name.as_deref().unwrap_or("(not read)"),
            student,
            row.source
        );
    }
}

fn print_json<T: serde::Serialize>(value: &T) {
    println!("{}", serde_json::to_string(value).unwrap_or_default());
}

async fn create_exam(workspace: &Workspace, name: String, path: &Path) -> Result<(), CoreError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CoreError::Invalid(format!(
            "could not read the questions file {}: {e}",
            path.display()
        ))
    })?;
    let questions: Vec<QuestionInput> = serde_json::from_str(&text).map_err(|e| {
        CoreError::Invalid(format!(
            "the questions file {} is not valid: {e}",
            path.display()
        ))
    })?;
    let exam_id = workspace.create_exam(name, questions).await?;
    print_json(&ExamCreated { exam_id });
    Ok(())
}

/// Imports each file on its own: good files are kept even when others fail. The exit
/// status is the first failure's.
async fn import(workspace: &Workspace, exam: i64, files: &[PathBuf]) -> ExitCode {
    let mut results = Vec::new();
    let mut first_failure = None;
    let mut failed = 0;
    for file in files {
        match workspace.import_path(exam, file).await {
            Ok(result) => results.push(result),
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
                let missing_exam = matches!(e, CoreError::Exam(ExamError::NotFound(_)));
                first_failure.get_or_insert(e.code());
                if missing_exam {
                    break;
                }
            }
        }
    }
    print_json(&results);
    match first_failure {
        Some(code) => {
            eprintln!("{failed} of {} files could not be imported", files.len());
            ExitCode::from(code.exit_status())
        }
        None => ExitCode::SUCCESS,
    }
}

fn pool_options(args: &PoolArgs) -> PoolOptions {
    PoolOptions {
        concurrency: Some(args.concurrency),
        requests_per_minute: Some(args.rpm),
        tokens_per_minute: args.tpm,
    }
}

async fn dead(workspace: &Workspace, as_json: bool) -> Result<(), CoreError> {
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

async fn retry(workspace: &Workspace, job: Option<i64>, all: bool) -> Result<(), CoreError> {
    let retried = workspace.retry_dead(if all { None } else { job }).await?;
    eprintln!("{retried} job(s) queued again");
    if retried == 0 && !all {
        return Err(CoreError::Invalid("that job is not a failed job".into()));
    }
    Ok(())
}

async fn worker(workspace: &Arc<Workspace>, args: PoolArgs) -> Result<(), CoreError> {
    let engine = Engine::start(
        workspace.clone(),
        KeyStore::default_location(),
        pool_options(&args),
    )
    .await?;
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    tracing::info!(concurrency = args.concurrency, "worker started");
    engine.run(shutdown).await;
    tracing::info!("worker stopped");
    Ok(())
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
    let engine = match Engine::start(
        workspace.clone(),
        KeyStore::default_location(),
        pool_options(&args),
    )
    .await
    {
        Ok(engine) => engine,
        Err(e) => return fail(&e),
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    let runner = tokio::spawn({
        let engine = engine.clone();
        let shutdown = shutdown.clone();
        async move { engine.run(shutdown).await }
    });
    let outcome = watch_until_drained(&engine, &shutdown).await;
    shutdown.cancel();
    let _ = runner.await;
    let halted = match outcome {
        Ok(halted) => halted,
        Err(e) => return fail(&e),
    };
    if let Some(reason) = halted {
        eprintln!("error: grading stopped: {reason}. The answers stay queued; run `gradedesk grade --wait` again once this is fixed.");
        return ExitCode::from(crate::error::ErrorCode::ApiKey.exit_status());
    }
    let items = match workspace.items(None).await {
        Ok(items) => items,
        Err(e) => return fail(&e),
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

/// Shows a progress bar until no job is queued or running; returns why grading stopped
/// early (a halt, or a pause that holds every queued answer), if it did.
async fn watch_until_drained(
    engine: &Engine,
    shutdown: &CancellationToken,
) -> Result<Option<String>, CoreError> {
    let workspace = engine.workspace();
    let start = workspace.counts().await?;
    let total = start.active() as u64;
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} answers graded  {msg}  [{elapsed}, ETA {eta}]",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let stopped = loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let counts = workspace.counts().await?;
        bar.set_length(total.max(counts.active() as u64));
        bar.set_position(total.saturating_sub(counts.active() as u64));
        bar.set_message(format!(
            "{} grading, {} failed",
            counts.running,
            counts.dead.saturating_sub(start.dead)
        ));
        if let Some(reason) = engine.halted() {
            break Some(reason);
        }
        if counts.running == 0 && counts.queued > 0 {
            if let Some(reason) = workspace.blocking_pause().await? {
                break Some(reason);
            }
        }
        if shutdown.is_cancelled() {
            break None;
        }
        // Names still being read (and pages enhanced) keep the command waiting too.
        if counts.active() == 0 && workspace.other_work().await? == 0 {
            break None;
        }
    };
    bar.finish_and_clear();
    Ok(stopped)
}

async fn status(workspace: &Workspace, as_json: bool) -> Result<(), CoreError> {
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

async fn settings(workspace: &Workspace, command: SettingsCommand) -> Result<(), CoreError> {
    match command {
        SettingsCommand::Show => {
            let view = workspace
                .settings_view(&KeyStore::default_location())
                .await?;
            print_json(&view);
            Ok(())
        }
        SettingsCommand::Set {
            name,
            value,
            confirm_host,
        } => workspace.set_setting(name, value, confirm_host).await,
        SettingsCommand::Price {
            prefix,
            input_per_mtok,
            output_per_mtok,
        } => {
            workspace
                .set_price(Price {
                    model_prefix: prefix,
                    input_per_mtok,
                    output_per_mtok,
                })
                .await
        }
    }
}

async fn key(workspace: &Workspace, command: KeyCommand) -> Result<(), CoreError> {
    use std::io::BufRead;
    let store = KeyStore::default_location();
    match command {
        KeyCommand::Set => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).map_err(|_| {
                CoreError::Invalid("could not read the key from standard input".into())
            })?;
            let source = store.save(&line)?;
            print_json(&json!({
                "stored_in": source,
                "api_key": crate::settings::mask(Some(line.trim())),
            }));
            Ok(())
        }
        KeyCommand::Clear => {
            store.clear();
            Ok(())
        }
        KeyCommand::Test => {
            let sentence = workspace.test_api_key(ApiKey::new(store.load().0)).await?;
            println!("{sentence}");
            Ok(())
        }
    }
}

fn cli_key() -> ApiKey {
    ApiKey::new(KeyStore::default_location().load().0)
}

fn money(value: Option<f64>) -> String {
    value.map_or("no price for this model".into(), |v| format!("${v:.4}"))
}

/// `batch ...`: thin calls into the workspace; see [`BatchCommand`].
async fn batch(workspace: &Arc<Workspace>, command: BatchCommand) -> ExitCode {
    let result = match command {
        BatchCommand::Send { exam, yes } => batch_send(workspace, exam, yes).await,
        BatchCommand::Status { json: as_json } => workspace.batches().await.map(|list| {
            if as_json {
                // Exactly the documented fields (the window's BatchSummary has more).
                let rows: Vec<_> = list
                    .iter()
                    .map(|b| {
                        json!({
                            "batch": b.batch, "exam_id": b.exam_id, "state": b.state,
                            "answers": b.answers, "succeeded": b.succeeded, "failed": b.failed,
                            "created_at": b.created_at, "cost_estimated": b.cost_estimated,
                            "cost_actual": b.cost_actual,
                        })
                    })
                    .collect();
                print_json(&rows);
            } else if list.is_empty() {
                println!("no batches");
            } else {
                for b in &list {
                    println!(
                        "{:<28} exam {:>4}  {:<10} {} answers, {} graded, {} back to waiting or refused  est. {}  actual {}",
                        if b.batch.is_empty() { "(sending)" } else { &b.batch },
                        b.exam_id,
                        b.state,
                        b.answers,
                        b.succeeded,
                        b.failed,
                        money(b.cost_estimated),
                        money(b.cost_actual)
                    );
                }
            }
        }),
        BatchCommand::Cancel { batch } => workspace
            .cancel_batch(&batch, cli_key())
            .await
            .map(|()| eprintln!("asked Gemini to cancel {batch}; its answers go back to waiting")),
        BatchCommand::Wait { timeout } => {
            match workspace
                .wait_for_batches(
                    cli_key(),
                    BatchConfig::from_env(),
                    timeout.map(Duration::from_secs),
                )
                .await
            {
                Ok(true) => {
                    eprintln!("every batch has ended and its results are stored");
                    Ok(())
                }
                Ok(false) => {
                    eprintln!("error: batches are still running after {} s; `gradedesk batch wait` again later (nothing is lost)", timeout.unwrap_or(0));
                    return ExitCode::FAILURE;
                }
                Err(e) => Err(e),
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// `batch send`: the estimate first; sent with --yes, or when the teacher says yes on a
/// terminal. Without either nothing is sent (exit status 2).
async fn batch_send(workspace: &Arc<Workspace>, exam: i64, yes: bool) -> Result<(), CoreError> {
    use std::io::IsTerminal;
    if !yes {
        let preview = workspace.batch_estimate(exam, cli_key()).await?;
        let e = &preview.estimate;
        eprintln!(
            "{} answers, about {} input and {} output tokens: {} online, {} in a batch. Results can take up to 24 hours.",
            preview.answers,
            e.input_tokens,
            e.output_tokens,
            money(e.cost_online),
            money(e.cost_batch)
        );
        if preview.answers == 0 {
            return Err(CoreError::Invalid(format!(
                "exam {exam} has no answers waiting for a batch"
            )));
        }
        let confirmed = std::io::stdin().is_terminal() && {
            eprint!("Send this batch? [y/N] ");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).is_ok()
                && matches!(line.trim(), "y" | "Y" | "yes")
        };
        if !confirmed {
            return Err(CoreError::Invalid(
                "nothing was sent: run `gradedesk batch send` again with --yes to send this batch"
                    .into(),
            ));
        }
    }
    let sent = workspace
        .send_batch(exam, cli_key(), &BatchConfig::from_env())
        .await?;
    print_json(&serde_json::json!({
        "batch": sent.batch,
        "answers": sent.answers,
        "estimate": {
            "input_tokens": sent.estimate.input_tokens,
            "output_tokens": sent.estimate.output_tokens,
            "cost_online": sent.estimate.cost_online,
            "cost_batch": sent.estimate.cost_batch,
        }
    }));
    Ok(())
}
