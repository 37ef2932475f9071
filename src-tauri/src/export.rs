//! The gradebook CSV: one row per answer, for the school's spreadsheet or LMS.

use std::path::Path;

use crate::exams::{self, GradebookRow};
use crate::workspace::{DeskError, Workspace};

/// Writes the exam's gradebook to `out` (through a temporary file, so a failed export never
/// leaves half a file where the old one was). Returns the number of rows.
pub async fn export_csv(
    workspace: &Workspace,
    exam_id: i64,
    out: &Path,
) -> Result<usize, DeskError> {
    let rows = workspace
        .store
        .run(move |conn| exams::gradebook(conn, exam_id).map_err(DeskError::from))
        .await?;
    let out = out.to_path_buf();
    let count = rows.len();
    tokio::task::spawn_blocking(move || write_csv(&rows, &out))
        .await
        .map_err(|_| DeskError::Invalid("the export stopped unexpectedly".into()))??;
    Ok(count)
}

fn write_csv(rows: &[GradebookRow], out: &Path) -> Result<(), DeskError> {
    let fail = |e: &dyn std::fmt::Display| {
        DeskError::Invalid(format!("could not write {}: {e}", out.display()))
    };
    let tmp = out.with_extension("csv.tmp");
    let mut writer = csv::Writer::from_path(&tmp).map_err(|e| fail(&e))?;
    writer
        .write_record([
            "submission",
            "student",
            "question",
            "score",
            "max_points",
            "feedback",
            "transcription",
            "state",
            "ai_score",
        ])
        .map_err(|e| fail(&e))?;
    for row in rows {
        let state = serde_json::to_value(row.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        writer
            .write_record([
                row.submission_id.to_string(),
                row.student.clone(),
                row.question.clone(),
                row.score.map(|s| s.to_string()).unwrap_or_default(),
                row.max_points.to_string(),
                row.feedback.clone(),
                row.transcription.clone(),
                state,
                row.ai_score.map(|s| s.to_string()).unwrap_or_default(),
            ])
            .map_err(|e| fail(&e))?;
    }
    writer.flush().map_err(|e| fail(&e))?;
    drop(writer);
    std::fs::rename(&tmp, out).map_err(|e| fail(&e))
}
