//! What the teacher hands back, all through one entry point, [`export`]: the gradebooks
//! (today's answer CSV, wide and long CSV, the import layouts of Canvas, Moodle and Google
//! Classroom, an XLSX workbook) and, in [`feedback`], a PDF per student and one for the class.
//!
//! - `class.rs`: the class as every format sees it ([`ClassBook`]), built from the exams
//!   module's record; also the statistics' input.
//! - `cells.rs`: the one guard against spreadsheet formula injection every text cell of every
//!   format passes.
//! - `gradebooks.rs`: the CSV layouts as rows; `xlsx.rs`: the workbook; `feedback.rs`: PDFs.
//!
//! Every file is written to a temporary name and renamed, so a failed export never leaves
//! half a file where the old one was.

use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::CoreError;
use crate::exams::GradebookRow;

mod cells;
mod class;
pub mod feedback;
mod gradebooks;
mod xlsx;

pub use cells::{guard, is_safe};
pub use class::{percent, rubric_lines, BookAnswer, BookQuestion, BookStudent, ClassBook};
pub use gradebooks::{CANVAS_FIXED, LONG_HEADER};

/// The gradebook layouts `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Today's file: a row per answer (`submission, student, question, score, …`).
    Answers,
    /// A row per student: name, ID, email, each question's score, total, percent.
    Csv,
    /// A row per answer: score, AI score, teacher score, rubric lines, feedback, note.
    CsvLong,
    /// Canvas's gradebook import (with the "Points Possible" row).
    Canvas,
    /// Moodle's CSV grade import (matched by ID number or email).
    Moodle,
    /// Google Classroom's grade import (email and grade).
    Classroom,
    /// An XLSX workbook with a sheet per view.
    Xlsx,
}

impl Format {
    /// Every format, in the order menus list them.
    pub const ALL: [Format; 7] = [
        Format::Csv,
        Format::CsvLong,
        Format::Canvas,
        Format::Moodle,
        Format::Classroom,
        Format::Xlsx,
        Format::Answers,
    ];

    /// The name the CLI and the wire use (`csv-long`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Answers => "answers",
            Format::Csv => "csv",
            Format::CsvLong => "csv-long",
            Format::Canvas => "canvas",
            Format::Moodle => "moodle",
            Format::Classroom => "classroom",
            Format::Xlsx => "xlsx",
        }
    }

    /// The file extension the format's files take.
    pub fn extension(self) -> &'static str {
        if self == Format::Xlsx {
            "xlsx"
        } else {
            "csv"
        }
    }
}

impl std::str::FromStr for Format {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, CoreError> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
                CoreError::Invalid(format!(
                    "there is no export format {s:?}; use one of {}",
                    names.join(", ")
                ))
            })
    }
}

/// Writes the class's gradebook in `format` to `out`; returns the rows written (students,
/// or answers for the row-per-answer layouts). Blocking.
pub fn export(book: &ClassBook, format: Format, out: &Path) -> Result<usize, CoreError> {
    let rows = match format {
        Format::Answers => {
            let rows = book.answer_rows();
            write_csv(&rows, out)?;
            return Ok(rows.len());
        }
        Format::Xlsx => {
            let tmp = temp_path(out);
            xlsx::write(book, &tmp).map_err(|e| io_error(out, &e))?;
            rename(&tmp, out)?;
            return Ok(book.students.len());
        }
        Format::Csv => gradebooks::wide(book),
        Format::CsvLong => gradebooks::long(book),
        Format::Canvas => gradebooks::canvas(book),
        Format::Moodle => gradebooks::moodle(book),
        Format::Classroom => gradebooks::classroom(book),
    };
    write_rows(&rows, out)?;
    let headers = if format == Format::Canvas { 2 } else { 1 };
    Ok(rows.len() - headers)
}

fn io_error(out: &Path, e: &dyn std::fmt::Display) -> CoreError {
    CoreError::Io(format!("could not write {}: {e}", out.display()))
}

/// The temporary name a file is written under before it is renamed to `out`.
fn temp_path(out: &Path) -> std::path::PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    out.with_file_name(name)
}

fn rename(tmp: &Path, out: &Path) -> Result<(), CoreError> {
    std::fs::rename(tmp, out).map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        io_error(out, &e)
    })
}

/// Writes rows of cells as CSV (UTF-8, RFC 4180 quoting) through a temporary file.
fn write_rows(rows: &[gradebooks::Row], out: &Path) -> Result<(), CoreError> {
    let tmp = temp_path(out);
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_path(&tmp)
        .map_err(|e| io_error(out, &e))?;
    for row in rows {
        writer.write_record(row).map_err(|e| io_error(out, &e))?;
    }
    writer.flush().map_err(|e| io_error(out, &e))?;
    drop(writer);
    rename(&tmp, out)
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
        writer
            .write_record([
                row.submission_id.to_string(),
                guard(&row.student).into_owned(),
                guard(&row.question).into_owned(),
                row.score.map(|s| s.to_string()).unwrap_or_default(),
                row.max_points.to_string(),
                guard(&row.feedback).into_owned(),
                guard(&row.transcription).into_owned(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exams::ItemState;

    /// The answers CSV is the one layout with the transcription: the student's own writing,
    /// which the AI copies, formula and all.
    #[test]
    fn a_formula_in_any_cell_of_the_answers_csv_exports_as_inert_text() {
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
                assert!(is_safe(cell), "{cell:?} is live");
            }
        }
    }
}
