//! The types that cross IPC to the UI, generated into TypeScript from the Rust structs so
//! they are written once. `ui/src/api/generated.ts` is this module's output; a test fails
//! when it is stale, and `make types` (or `GRADEDESK_WRITE_TYPES=1 cargo test --lib wire`)
//! writes it again.

use ts_rs::{Config, TS};

/// Where the generated file lives, from the repo root.
pub const GENERATED_TS: &str = "ui/src/api/generated.ts";

/// Appends one type's doc comment and `export` declaration.
fn declare<T: TS + ?Sized>(cfg: &Config, out: &mut String) {
    if let Some(docs) = T::docs() {
        out.push_str(&docs);
    }
    out.push_str("export ");
    out.push_str(&T::decl(cfg));
    out.push_str("\n\n");
}

macro_rules! declare_all {
    ($cfg:expr, $out:expr, $($ty:ty),+ $(,)?) => {
        $(declare::<$ty>($cfg, $out);)+
    };
}

/// The whole generated file: every IPC type, ids and counts as `number` (JSON numbers;
/// no id or count here comes near 2^53).
pub fn typescript() -> String {
    use crate::{
        batching, engine, error, events, exams, export, grading, pacing, queue, roster, rubric,
        settings, split, stats, workspace,
    };
    let cfg = Config::new().with_large_int("number");
    let mut out = String::from(
        "// Generated from the Rust types by src-tauri/src/wire.rs: do not edit by hand.\n\
         // `make types` writes it again; a test fails when it is stale.\n\n",
    );
    declare_all!(
        &cfg,
        &mut out,
        exams::Bbox,
        exams::Question,
        exams::QuestionInput,
        exams::Exam,
        exams::SubmissionSummary,
        exams::PageInfo,
        exams::ItemState,
        exams::ItemView,
        exams::HistoryEntry,
        exams::Override,
        exams::ReviewRow,
        rubric::Scoring,
        rubric::RubricItem,
        rubric::RubricItemInput,
        rubric::AppliedItem,
        rubric::routing::Route,
        rubric::routing::ReviewPolicy,
        exams::ReviewRouting,
        exams::RubricChange,
        exams::RegradeOffer,
        exams::SecondOpinion,
        workspace::QuestionEdited,
        workspace::RubricEdit,
        exams::RosterEntry,
        exams::MatchStatus,
        exams::MatchSuggestion,
        exams::ReadState,
        exams::MatchRow,
        roster::SkippedRow,
        workspace::RosterImport,
        queue::Counts,
        queue::Progress,
        queue::PauseScope,
        queue::Pause,
        queue::JobKind,
        queue::DeadJob,
        queue::QueueStatus,
        pacing::Hold,
        pacing::GateStatus,
        events::Changed,
        events::EventBody,
        events::Event,
        settings::Provider,
        settings::Settings,
        settings::KeySource,
        grading::pricing::Price,
        grading::estimate::BatchEstimate,
        grading::estimate::BatchActual,
        workspace::ExamCreated,
        workspace::ImportResult,
        workspace::FileNote,
        workspace::DropReport,
        workspace::CropResult,
        workspace::SubmissionView,
        workspace::PageView,
        workspace::Snapshot,
        workspace::SubmissionDetail,
        workspace::SettingsView,
        workspace::Estimate,
        engine::DeskSnapshot,
        error::ErrorCode,
        error::ErrorReply,
        export::Format,
        export::feedback::FeedbackReport,
        workspace::ExportDone,
        stats::Bin,
        stats::Agreement,
        stats::QuestionStats,
        stats::TotalStats,
        stats::ExamStats,
        exams::RegionKind,
        exams::Region,
        exams::SourcePage,
        exams::Alignment,
        exams::ClassItem,
        exams::UnassignedPage,
        split::FlagKind,
        split::Flag,
        workspace::TemplateSet,
        workspace::ClassSubmission,
        workspace::ClassImport,
        exams::TemplatePageView,
        exams::SplitPage,
        exams::LoosePage,
        exams::OutsideWriting,
        workspace::TemplateView,
        workspace::RegionImpact,
        workspace::SplitStudent,
        workspace::SplitReview,
        queue::batches::GradingMode,
        queue::batches::BatchSummary,
        batching::SendEstimate,
        batching::BatchPreview,
        batching::BatchSent,
        workspace::ExamBatching,
        workspace::BatchOverview,
    );
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn generated_typescript_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(GENERATED_TS);
        let fresh = typescript();
        if std::env::var_os("GRADEDESK_WRITE_TYPES").is_some() {
            std::fs::write(&path, &fresh).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "{} is stale: the Rust wire types changed. Run `make types` and commit the result.",
            path.display()
        );
    }
}
