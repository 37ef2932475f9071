//! `gradedesk rubric`, `gradedesk review` and `gradedesk routing`: a question's rubric items
//! (listed, edited — every answer re-scored without the model — and graded again), each
//! answer as review sees it, the teacher's decisions, and the exam's review routing.

use clap::{Args, Subcommand};
use serde::Serialize;

use crate::error::CoreError;
use crate::exams::{Question, ReviewRow, SecondOpinion};
use crate::rubric::routing::{ReviewPolicy, Route};
use crate::rubric::Scoring;
use crate::workspace::{RubricEdit, Workspace};

/// `gradedesk rubric ...`
#[derive(Debug, Subcommand)]
pub enum RubricCommand {
    /// A question's rubric items: id, points, text, and how many answers have each.
    List {
        #[arg(long)]
        exam: i64,
        #[arg(long)]
        question: String,
    },
    /// Change a question's items: --add TEXT --points P, --item ID [--text T] [--points P],
    /// --delete ID, or --scoring positive|negative. Every answer with an edited item is
    /// re-scored at once (the model is not asked); after --add, the cost of grading the
    /// question again is shown (`rubric regrade` does it).
    Edit {
        #[arg(long)]
        exam: i64,
        #[arg(long)]
        question: String,
        #[command(flatten)]
        change: EditArgs,
    },
    /// Grade a question's answers again (after its rubric grew). Without --yes it prints
    /// what it would cost and grades nothing.
    Regrade {
        #[arg(long)]
        exam: i64,
        #[arg(long)]
        question: String,
        #[arg(long)]
        yes: bool,
    },
}

/// What `rubric edit` changes.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// A new item's text (with --points).
    #[arg(long, conflicts_with_all = ["item", "delete", "scoring"], requires = "points")]
    add: Option<String>,
    /// The item to change (with --text and/or --points).
    #[arg(long, conflicts_with_all = ["delete", "scoring"])]
    item: Option<i64>,
    #[arg(long, requires = "item")]
    text: Option<String>,
    /// Points: positive to award, negative to deduct.
    #[arg(long, allow_hyphen_values = true)]
    points: Option<f64>,
    /// The item to remove.
    #[arg(long, conflicts_with = "scoring")]
    delete: Option<i64>,
    /// positive (start at 0, items add) or negative (start at full marks, items deduct).
    #[arg(long, value_parser = parse_scoring)]
    scoring: Option<Scoring>,
}

fn parse_scoring(text: &str) -> Result<Scoring, String> {
    match text {
        "positive" => Ok(Scoring::Positive),
        "negative" => Ok(Scoring::Negative),
        _ => Err(format!("\"{text}\" is not a scoring: positive or negative")),
    }
}

/// The rubric item ids of `--apply`: one value, so `--apply ""` (what a script writes for
/// "none of them") means none rather than an unparsable id.
#[derive(Debug, Clone, PartialEq)]
struct ItemIds(Vec<i64>);

fn parse_item_ids(text: &str) -> Result<ItemIds, String> {
    text.split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| {
            id.parse::<i64>()
                .map_err(|_| format!("\"{id}\" is not a rubric item id"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(ItemIds)
}

fn parse_switch(text: &str) -> Result<bool, String> {
    match text {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err(format!("\"{text}\" is not on or off")),
    }
}

impl EditArgs {
    fn edit(&self) -> Result<RubricEdit, CoreError> {
        if let Some(text) = &self.add {
            return Ok(RubricEdit::Add {
                text: text.clone(),
                points: self.points.unwrap_or_default(),
            });
        }
        if let Some(id) = self.item {
            if self.text.is_none() && self.points.is_none() {
                return Err(CoreError::Invalid(
                    "say what changes: --text and/or --points".into(),
                ));
            }
            return Ok(RubricEdit::Change {
                id,
                text: self.text.clone(),
                points: self.points,
            });
        }
        if let Some(id) = self.delete {
            return Ok(RubricEdit::Delete { id });
        }
        if let Some(scoring) = self.scoring {
            return Ok(RubricEdit::Scoring { scoring });
        }
        Err(CoreError::Invalid(
            "say what to change: --add, --item, --delete or --scoring".into(),
        ))
    }
}

/// `gradedesk review`: list a question's (or every question's) answers, or decide one.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    #[arg(long)]
    exam: i64,
    /// One question (default: every question of the exam).
    #[arg(long)]
    question: Option<String>,
    /// Print JSON (one array of answers).
    #[arg(long)]
    json: bool,
    /// An answer to decide: with --accept, --apply or --transcription.
    #[arg(long)]
    item: Option<i64>,
    /// Accept the AI's grade as it is.
    #[arg(long, requires = "item")]
    accept: bool,
    /// The rubric items that apply (ids, comma separated; empty or "" for none): the core
    /// scores them.
    #[arg(long, requires = "item", num_args = 0..=1, default_missing_value = "", value_parser = parse_item_ids)]
    apply: Option<ItemIds>,
    /// The answer's transcription as it should read (empty: the model's again).
    #[arg(long, requires = "item")]
    transcription: Option<String>,
}

/// `gradedesk routing`: show or change when answers may skip review.
#[derive(Debug, Args)]
pub struct RoutingArgs {
    #[arg(long)]
    exam: i64,
    /// on: accept answers without review when the evidence allows; off: every answer waits.
    #[arg(long, value_parser = parse_switch)]
    auto_accept: Option<bool>,
    /// The confidence an answer needs (0..1).
    #[arg(long)]
    confidence: Option<f64>,
    /// The exact agreement with you a question needs, on at least 10 reviewed answers (0..1).
    #[arg(long)]
    target: Option<f64>,
    /// on: grade every answer twice; a disagreement beyond one point goes to review.
    #[arg(long, value_parser = parse_switch)]
    double_grading: Option<bool>,
}

/// One rubric item as `rubric list` prints it.
#[derive(Serialize)]
struct ListedItem {
    id: i64,
    position: usize,
    points: f64,
    text: String,
}

/// An item applied to an answer, as `review --json` prints it.
#[derive(Serialize)]
struct ReviewItem {
    id: i64,
    text: String,
    points: f64,
    /// The model's evidence, when the model applied it.
    evidence: Option<String>,
}

/// One answer as `review --json` prints it.
#[derive(Serialize)]
struct ReviewAnswer {
    item_id: i64,
    submission_id: i64,
    student: String,
    question: String,
    state: crate::exams::ItemState,
    score: Option<f64>,
    ai_score: Option<f64>,
    teacher_score: Option<f64>,
    max_points: f64,
    /// The items the final score is made of: the teacher's when they chose items, else the AI's.
    items: Vec<ReviewItem>,
    /// The items the AI applied.
    ai_items: Vec<ReviewItem>,
    transcription: Option<String>,
    transcription_edited: bool,
    confidence: Option<f64>,
    needs_review: bool,
    review_reason: Option<String>,
    route: Route,
    accepted: bool,
    decision: Option<String>,
    second_opinion: Option<SecondOpinion>,
}

fn review_answer(row: ReviewRow, question: &Question) -> ReviewAnswer {
    let item = |id: i64, evidence: Option<String>| {
        question
            .items
            .iter()
            .find(|i| i.id == id)
            .map(|i| ReviewItem {
                id,
                text: i.text.clone(),
                points: i.points,
                evidence,
            })
    };
    let ai_items: Vec<ReviewItem> = row
        .applied
        .iter()
        .filter_map(|a| item(a.item_id, Some(a.evidence.clone())))
        .collect();
    let items = match &row.teacher_items {
        Some(ids) => ids.iter().filter_map(|id| item(*id, None)).collect(),
        None => row
            .applied
            .iter()
            .filter_map(|a| item(a.item_id, Some(a.evidence.clone())))
            .collect(),
    };
    ReviewAnswer {
        item_id: row.item_id,
        submission_id: row.submission_id,
        student: row.student,
        question: row.question_label,
        state: row.state,
        score: row.score,
        ai_score: row.ai_score,
        teacher_score: row.teacher_score,
        max_points: row.max_points,
        items,
        ai_items,
        transcription: row.transcription,
        transcription_edited: row.transcription_edited,
        confidence: row.confidence,
        needs_review: row.needs_review,
        review_reason: row.review_reason,
        route: row.route,
        accepted: row.accepted,
        decision: row.decision,
        second_opinion: row.second_opinion,
    }
}

/// Runs `rubric ...`.
pub async fn rubric(workspace: &Workspace, command: RubricCommand) -> Result<(), CoreError> {
    match command {
        RubricCommand::List { exam, question } => {
            let q = workspace.question_by_label(exam, question).await?;
            let items: Vec<ListedItem> = q
                .items
                .iter()
                .enumerate()
                .map(|(k, i)| ListedItem {
                    id: i.id,
                    position: k + 1,
                    points: i.points,
                    text: i.text.clone(),
                })
                .collect();
            super::print_json(&serde_json::json!({
                "question": q.label, "max_points": q.max_points, "scoring": q.scoring, "items": items
            }));
            Ok(())
        }
        RubricCommand::Edit {
            exam,
            question,
            change,
        } => {
            let edited = workspace
                .edit_rubric(exam, question, change.edit()?)
                .await?;
            if let Some(offer) = &edited.regrade {
                eprintln!(
                    "{} answers were graded before the new item; `gradedesk rubric regrade --exam {exam} --question {}` grades them again{}",
                    offer.answers,
                    offer.question_label,
                    offer
                        .estimated_usd
                        .map(|c| format!(" (about ${c:.4})"))
                        .unwrap_or_default()
                );
            }
            super::print_json(&edited);
            Ok(())
        }
        RubricCommand::Regrade {
            exam,
            question,
            yes,
        } => {
            let q = workspace.question_by_label(exam, question).await?;
            let offer = workspace.regrade_offer(q.id).await?;
            if !yes {
                super::print_json(&offer);
                eprintln!(
                    "nothing graded: add --yes to grade {} answers again",
                    offer.answers
                );
                return Ok(());
            }
            let queued = workspace.regrade_question(q.id).await?;
            super::print_json(&serde_json::json!({"queued": queued, "offer": offer}));
            Ok(())
        }
    }
}

/// Runs `review ...`.
pub async fn review(workspace: &Workspace, args: ReviewArgs) -> Result<(), CoreError> {
    if let Some(item) = args.item {
        let decided = if args.accept {
            Some(workspace.accept_answer(item).await?)
        } else if let Some(ItemIds(ids)) = args.apply.clone() {
            Some(workspace.set_answer_items(item, ids, None).await?)
        } else {
            None
        };
        if let Some(text) = args.transcription.clone() {
            workspace.set_transcription(item, text).await?;
        }
        if decided.is_none() && args.transcription.is_none() {
            return Err(CoreError::Invalid(
                "say what to decide: --accept, --apply or --transcription".into(),
            ));
        }
        if let Some(o) = decided {
            eprintln!("answer {item} now scores {}", o.score);
        }
    }
    let exams = workspace.exams().await?;
    let exam = exams
        .into_iter()
        .find(|e| e.id == args.exam)
        .ok_or_else(|| CoreError::NotFound(format!("there is no exam number {}", args.exam)))?;
    let mut answers = Vec::new();
    for question in &exam.questions {
        if let Some(label) = &args.question {
            if !question.label.eq_ignore_ascii_case(label.trim()) {
                continue;
            }
        }
        for row in workspace
            .review_items(exam.id, question.label.clone())
            .await?
        {
            answers.push(review_answer(row, question));
        }
    }
    if let Some(label) = &args.question {
        if !exam
            .questions
            .iter()
            .any(|q| q.label.eq_ignore_ascii_case(label.trim()))
        {
            return Err(CoreError::NotFound(format!(
                "exam {} has no question labelled \"{label}\"",
                exam.id
            )));
        }
    }
    if args.json || args.item.is_none() {
        if args.json {
            super::print_json(&answers);
        } else {
            for a in &answers {
                println!(
                    "{:>6}  {:<4} {:<28} {:>5} / {:<4} {:<13} {}",
                    a.item_id,
                    a.question,
                    a.student,
                    a.score.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                    a.max_points,
                    format!("{:?}", a.route).to_lowercase(),
                    a.review_reason.clone().unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

/// Runs `routing ...`: prints the exam's policy after any change.
pub async fn routing(workspace: &Workspace, args: RoutingArgs) -> Result<(), CoreError> {
    let current = workspace.review_policy(args.exam).await?;
    let wanted = ReviewPolicy {
        auto_accept: args.auto_accept.unwrap_or(current.auto_accept),
        confidence_threshold: args.confidence.unwrap_or(current.confidence_threshold),
        agreement_target: args.target.unwrap_or(current.agreement_target),
        double_grading: args.double_grading.unwrap_or(current.double_grading),
    };
    let policy = if wanted != current {
        workspace.set_review_policy(args.exam, wanted).await?
    } else {
        current
    };
    super::print_json(&policy);
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    /// What `gradedesk review --item 7 <apply...>` asks the core to apply.
    fn applied(apply: &[&str]) -> Result<Option<ItemIds>, String> {
        let args = ["gradedesk", "review", "--exam", "1", "--item", "7"];
        let cli = Cli::try_parse_from(args.iter().chain(apply)).map_err(|e| e.to_string())?;
        match cli.command {
            Some(Command::Review(review)) => Ok(review.apply),
            other => panic!("not a review: {other:?}"),
        }
    }

    #[test]
    fn apply_takes_a_comma_separated_list_and_an_empty_one_means_none() {
        assert_eq!(applied(&["--apply", "3,5"]), Ok(Some(ItemIds(vec![3, 5]))));
        assert_eq!(
            applied(&["--apply", " 3 , 5 "]),
            Ok(Some(ItemIds(vec![3, 5])))
        );
        assert_eq!(applied(&["--apply", ""]), Ok(Some(ItemIds(vec![]))));
        assert_eq!(applied(&["--apply"]), Ok(Some(ItemIds(vec![]))));
        assert_eq!(applied(&[]), Ok(None));
        let refused = applied(&["--apply", "3,x"]).unwrap_err();
        assert!(
            refused.contains("\"x\" is not a rubric item id"),
            "{refused}"
        );
    }
}
