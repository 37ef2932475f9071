//! What the teacher hands back, for both front ends: the gradebook in any export format,
//! the feedback PDFs and the exam's statistics. Reads the class through
//! `crate::exams::class_record`, then calls the export and stats modules off the executor.

use std::path::{Path, PathBuf};

use serde::Serialize;
use ts_rs::TS;

use super::Workspace;
use crate::error::CoreError;
use crate::exams;
use crate::export::feedback::{self, FeedbackReport};
use crate::export::{self as gradebook_export, ClassBook, Format};
use crate::stats::{self, ExamStats};
use crate::store::StoreError;

/// What an export from the window wrote.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ExportDone {
    /// Rows written: students, or answers for the row-per-answer layouts.
    pub rows: usize,
    pub path: String,
}

/// The folder the window suggests for exports: `GradeDesk` in the user's Downloads folder
/// (else their home, else the data dir's `exports`).
pub fn default_export_dir(data_dir: &Path) -> PathBuf {
    dirs::download_dir()
        .or_else(dirs::home_dir)
        .map(|d| d.join("GradeDesk"))
        .unwrap_or_else(|| data_dir.join("exports"))
}

impl Workspace {
    /// The exam's class as the hand-back reads it.
    pub async fn class_book(&self, exam_id: i64) -> Result<ClassBook, CoreError> {
        let record = self
            .store
            .run(move |conn| exams::class_record(conn, exam_id))
            .await?;
        Ok(ClassBook::from_record(record))
    }

    /// Writes the exam's gradebook in `format` to `out`; returns the rows written.
    pub async fn export(
        &self,
        exam_id: i64,
        format: Format,
        out: &Path,
    ) -> Result<usize, CoreError> {
        let book = self.class_book(exam_id).await?;
        let out = out.to_path_buf();
        blocking(move || gradebook_export::export(&book, format, &out)).await
    }

    /// Writes each student's feedback PDF and the class's into `dir`.
    pub async fn feedback_pdfs(
        &self,
        exam_id: i64,
        dir: &Path,
    ) -> Result<FeedbackReport, CoreError> {
        let book = self.class_book(exam_id).await?;
        let dir: PathBuf = dir.to_path_buf();
        blocking(move || feedback::write_feedback(&book, &dir)).await
    }

    /// The exam's statistics.
    pub async fn exam_stats(&self, exam_id: i64) -> Result<ExamStats, CoreError> {
        let book = self.class_book(exam_id).await?;
        Ok(stats::exam_stats(&book.stats_data()))
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CoreError> + Send + 'static,
) -> Result<T, CoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| CoreError::Store(StoreError::Join))?
}
