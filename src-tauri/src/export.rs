//! The gradebook CSV: one row per answer, for the school's spreadsheet or LMS.
//!
//! Every cell goes through [`spreadsheet_safe`]: a transcription or a name is a stranger's
//! text, and a spreadsheet runs a cell starting with `=` as a formula. Any later export
//! format writes its cells through the same function.

use std::borrow::Cow;
use std::path::Path;

use crate::error::CoreError;
use crate::exams::GradebookRow;

/// A cell a spreadsheet shows as the text it is: one starting with `=`, `+`, `-`, `@`, a
/// tab or a carriage return (what Excel, LibreOffice and Google Sheets read as the start
/// of a formula) gets a leading `'`, which they show as nothing and which keeps it text.
pub fn spreadsheet_safe(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

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
        let cells = [
            row.submission_id.to_string(),
            row.student.clone(),
            row.question.clone(),
            row.score.map(|s| s.to_string()).unwrap_or_default(),
            row.max_points.to_string(),
            row.feedback.clone(),
            row.transcription.clone(),
            state,
            row.ai_score.map(|s| s.to_string()).unwrap_or_default(),
        ];
        writer
            .write_record(cells.iter().map(|c| spreadsheet_safe(c).into_owned()))
            .map_err(|e| fail(&e))?;
    }
    writer.flush().map_err(|e| fail(&e))?;
    drop(writer);
    std::fs::rename(&tmp, out).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(&e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exams::ItemState;

    #[test]
    fn a_formula_in_any_cell_exports_as_inert_text() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("book.csv");
        let row = GradebookRow {
            submission_id: 1,
            student: "@SUM(1+1)*cmd|' /C calc'!A0".into(),
            question: "+Q1".into(),
            score: Some(2.0),
            ai_score: Some(1.5),
            max_points: 2.0,
            feedback: "-2+3".into(),
            transcription: "=HYPERLINK(\"http://x\",\"y\")".into(),
            state: ItemState::Done,
        };
        let tabbed = GradebookRow {
            student: "\t=1+1".into(),
            question: "\r=1+1".into(),
            feedback: "F = ma, so =2".into(),
            transcription: "a=b".into(),
            ..row.clone()
        };
        write_csv(&[row, tabbed], &out).unwrap();
        let mut reader = csv::Reader::from_path(&out).unwrap();
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(&rows[0][6], "'=HYPERLINK(\"http://x\",\"y\")");
        assert_eq!(&rows[0][1], "'@SUM(1+1)*cmd|' /C calc'!A0");
        assert_eq!(&rows[0][2], "'+Q1");
        assert_eq!(&rows[0][5], "'-2+3");
        assert_eq!(&rows[1][1], "'\t=1+1");
        assert_eq!(&rows[1][2], "'\r=1+1");
        // Text that only contains such characters, and the numbers, are left alone.
        assert_eq!(&rows[1][5], "F = ma, so =2");
        assert_eq!(&rows[1][6], "a=b");
        assert_eq!((&rows[0][3], &rows[0][4], &rows[0][8]), ("2", "2", "1.5"));
        for row in &rows {
            for cell in row {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{cell:?} is live"
                );
            }
        }
    }
}
