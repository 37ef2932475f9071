//! The gradebook CSV: one row per answer, for the school's spreadsheet or LMS.

use std::path::Path;

use crate::error::CoreError;
use crate::exams::GradebookRow;

/// Writes the gradebook rows to `out` through a temporary file, so a failed export never
/// leaves half a file where the old one was. Blocking.
pub fn write_csv(rows: &[GradebookRow], out: &Path) -> Result<(), CoreError> {
    let fail = |e: &dyn std::fmt::Display| {
        CoreError::Io(format!("could not write {}: {e}", out.display()))
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
    std::fs::rename(&tmp, out).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(&e)
    })
}
