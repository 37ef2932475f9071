//! Submissions and their pages: the `submissions` and `pages` tables — a student's scan as
//! imported, where its page files are, and the bookkeeping of page enhancement
//! (UPSCALE_SUBMISSION) that must finish before answers are cut from a page.

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;
use ts_rs::TS;

use super::ExamError;
use crate::store::now_ms;

/// One student's scan, as listed: how far its grading has come.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
pub struct SubmissionSummary {
    pub id: i64,
    pub exam_id: i64,
    pub student: String,
    /// The file the scan was imported from.
    pub file_name: String,
    pub pages: i64,
    /// Current answers boxed on the scan (re-cropped and deleted ones left out).
    pub items: i64,
    /// Of those, the answers graded.
    pub done: i64,
    /// The first page, whose thumbnail stands for the scan in lists (`gdimg://…/thumb/<id>`).
    pub first_page_id: Option<i64>,
}

/// A page's identity and pixel size; the UI draws boxes on its preview.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
pub struct PageInfo {
    pub id: i64,
    pub number: i64,
    pub width: u32,
    pub height: u32,
}

/// Where a page's files are, for cropping and serving previews.
#[derive(Debug, Clone)]
pub struct PageFiles {
    pub id: i64,
    /// The full-resolution page, which crops are cut from.
    pub path: String,
    /// The smaller image the window shows to draw boxes on.
    pub preview_path: String,
    pub width: u32,
    pub height: u32,
    /// A small preview for lists (pages imported before thumbnails existed have none).
    pub thumb_path: Option<String>,
    /// True while the page waits for its UPSCALE_SUBMISSION enhancement: crops must not be
    /// cut from it yet.
    pub enhancement_pending: bool,
}

/// A page waiting for enhancement, with what import measured about it.
#[derive(Debug, Clone)]
pub struct PendingEnhancement {
    pub page: PageFiles,
    pub number: i64,
    pub dpi: f64,
    pub skew_deg: f64,
}

/// The files of an enhanced page, replacing the imported ones in its row.
#[derive(Debug, Clone)]
pub struct EnhancedFiles {
    pub path: String,
    pub preview_path: String,
    pub thumb_path: String,
    pub width: u32,
    pub height: u32,
}

/// A page about to be stored: its files are already on disk.
pub struct NewPage {
    pub path: String,
    pub preview_path: String,
    pub width: u32,
    pub height: u32,
    /// The list thumbnail.
    pub thumb_path: Option<String>,
    /// Effective resolution import measured (pixels per inch of paper).
    pub dpi: Option<f64>,
    /// Angle of the text lines import measured, in degrees.
    pub skew_deg: Option<f64>,
    /// The page must be enhanced (UPSCALE_SUBMISSION) before crops are cut from it.
    pub needs_enhancement: bool,
}

impl NewPage {
    /// A page with its files and size, nothing measured about it (tests, tools).
    pub fn new(
        path: impl Into<String>,
        preview_path: impl Into<String>,
        width: u32,
        height: u32,
    ) -> Self {
        Self {
            path: path.into(),
            preview_path: preview_path.into(),
            width,
            height,
            thumb_path: None,
            dpi: None,
            skew_deg: None,
            needs_enhancement: false,
        }
    }
}

/// Stores a submission and its pages; the page files must already be in place.
pub fn insert_submission(
    tx: &Transaction,
    exam_id: i64,
    student: &str,
    file_name: &str,
    pages: &[NewPage],
) -> Result<i64, ExamError> {
    let numbered: Vec<(u32, &NewPage)> = (1..).zip(pages).collect();
    insert_submission_numbered(tx, exam_id, student, file_name, &numbered).map(|(id, _)| id)
}

/// [`insert_submission`] with each page's number given: a class import numbers a student's
/// pages by their template page, so a missing page 1 leaves page 2 numbered 2. Returns the
/// submission's id and its pages' ids, in the order given.
pub fn insert_submission_numbered(
    tx: &Transaction,
    exam_id: i64,
    student: &str,
    file_name: &str,
    pages: &[(u32, &NewPage)],
) -> Result<(i64, Vec<i64>), ExamError> {
    // Adds the submission.
    tx.execute(
        "INSERT INTO submissions (exam_id, student, file_name, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![exam_id, student, file_name, now_ms()],
    )?;
    let submission_id = tx.last_insert_rowid();
    let mut page_ids = Vec::with_capacity(pages.len());
    for &(number, page) in pages {
        // Adds one page, numbered from 1, with what import measured about it.
        tx.execute(
            "INSERT INTO pages (submission_id, number, path, preview_path, width, height,
                                thumb_path, dpi, skew_deg, enhancement)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                submission_id,
                number,
                page.path,
                page.preview_path,
                page.width,
                page.height,
                page.thumb_path,
                page.dpi,
                page.skew_deg,
                if page.needs_enhancement {
                    "pending"
                } else {
                    "none"
                }
            ],
        )?;
        page_ids.push(tx.last_insert_rowid());
    }
    Ok((submission_id, page_ids))
}

/// The revision of a page's image files: a digest of their names, which enhancement
/// replaces (the names, not the contents, so nothing is read to compute it).
pub fn files_rev(preview_path: &str, thumb_path: Option<&str>) -> String {
    use sha2::{Digest, Sha256};
    let mut digest = Sha256::new();
    digest.update(preview_path.as_bytes());
    digest.update([0]);
    digest.update(thumb_path.unwrap_or("").as_bytes());
    hex::encode(&digest.finalize()[..6])
}

/// How many submissions the exam has (a class import numbers its new students after them).
pub fn submission_count(conn: &Connection, exam_id: i64) -> Result<i64, ExamError> {
    // The exam's submissions, counted.
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM submissions WHERE exam_id = ?1",
        [exam_id],
        |r| r.get(0),
    )?)
}

/// Every submission with its page, answer and graded-answer counts and its first page; the
/// queries below add their WHERE and ORDER BY.
const SUBMISSION_SUMMARY_SQL: &str = "
    SELECT s.id, s.exam_id, s.student, s.file_name,
           (SELECT count(*) FROM pages p WHERE p.submission_id = s.id),
           (SELECT count(*) FROM items i WHERE i.submission_id = s.id AND i.superseded_at IS NULL),
           (SELECT count(*) FROM items i JOIN grades g ON g.item_id = i.id
             WHERE i.submission_id = s.id AND i.superseded_at IS NULL),
           (SELECT p.id FROM pages p WHERE p.submission_id = s.id ORDER BY p.number LIMIT 1)
    FROM submissions s";

/// Reads a row of `SUBMISSION_SUMMARY_SQL`.
fn summary_from_row(r: &Row) -> rusqlite::Result<SubmissionSummary> {
    Ok(SubmissionSummary {
        id: r.get(0)?,
        exam_id: r.get(1)?,
        student: r.get(2)?,
        file_name: r.get(3)?,
        pages: r.get(4)?,
        items: r.get(5)?,
        done: r.get(6)?,
        first_page_id: r.get(7)?,
    })
}

/// Every submission, by exam then import order.
pub fn list_submissions(conn: &Connection) -> Result<Vec<SubmissionSummary>, ExamError> {
    // Every submission's summary, by exam then import order.
    let sql = format!("{SUBMISSION_SUMMARY_SQL} ORDER BY s.exam_id, s.id");
    let rows = conn
        .prepare_cached(&sql)?
        .query_map([], summary_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// One submission's summary, or a clear "not found".
pub fn submission(conn: &Connection, submission_id: i64) -> Result<SubmissionSummary, ExamError> {
    // One submission's summary.
    let sql = format!("{SUBMISSION_SUMMARY_SQL} WHERE s.id = ?1");
    conn.query_row(&sql, [submission_id], summary_from_row)
        .optional()?
        .ok_or_else(|| {
            ExamError::NotFound(format!("there is no submission number {submission_id}"))
        })
}

/// Renames the student of a submission (the name read off the scan may be wrong).
pub fn rename_student(
    conn: &Connection,
    submission_id: i64,
    student: &str,
) -> Result<(), ExamError> {
    let student = student.trim();
    if student.is_empty() {
        return Err(ExamError::Invalid("enter the student's name".into()));
    }
    if student.chars().count() > 200 {
        return Err(ExamError::Invalid(
            "a student's name can be at most 200 characters".into(),
        ));
    }
    // Renames the submission's student.
    let changed = conn.execute(
        "UPDATE submissions SET student = ?2 WHERE id = ?1",
        params![submission_id, student],
    )?;
    if changed == 0 {
        return Err(ExamError::NotFound(format!(
            "there is no scan number {submission_id}"
        )));
    }
    Ok(())
}

/// The pages of a submission, in order.
pub fn pages(conn: &Connection, submission_id: i64) -> Result<Vec<PageInfo>, ExamError> {
    // The submission's pages with their sizes, in order.
    let rows = conn
        .prepare_cached(
            "SELECT id, number, width, height FROM pages WHERE submission_id = ?1 ORDER BY number",
        )?
        .query_map([submission_id], |r| {
            Ok(PageInfo {
                id: r.get(0)?,
                number: r.get(1)?,
                width: r.get(2)?,
                height: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Reads a row of `PAGE_FILES` (the first seven columns of `pending_enhancement` too).
fn page_files_from_row(r: &Row) -> rusqlite::Result<PageFiles> {
    Ok(PageFiles {
        id: r.get(0)?,
        path: r.get(1)?,
        preview_path: r.get(2)?,
        width: r.get(3)?,
        height: r.get(4)?,
        thumb_path: r.get(5)?,
        enhancement_pending: r.get::<_, String>(6)? == "pending",
    })
}

/// A page's files and enhancement state; the queries below add their WHERE.
const PAGE_FILES: &str =
    "SELECT id, path, preview_path, width, height, thumb_path, enhancement FROM pages";

/// A page still waiting for enhancement, or None once it is done (or never needed it).
pub fn pending_enhancement(
    conn: &Connection,
    page_id: i64,
) -> Result<Option<PendingEnhancement>, ExamError> {
    // The page's files and measurements, if it is still waiting for enhancement.
    Ok(conn
        .query_row(
            "SELECT id, path, preview_path, width, height, thumb_path, enhancement,
                    number, coalesce(dpi, 0), coalesce(skew_deg, 0)
             FROM pages WHERE id = ?1 AND enhancement = 'pending'",
            [page_id],
            |r| {
                Ok(PendingEnhancement {
                    page: page_files_from_row(r)?,
                    number: r.get(7)?,
                    dpi: r.get(8)?,
                    skew_deg: r.get(9)?,
                })
            },
        )
        .optional()?)
}

/// The pages of a submission still waiting for enhancement, in order.
pub fn pending_enhancement_pages(
    conn: &Connection,
    submission_id: i64,
) -> Result<Vec<i64>, ExamError> {
    // The submission's pages still waiting for enhancement, in order.
    let ids = conn
        .prepare_cached(
            "SELECT id FROM pages WHERE submission_id = ?1 AND enhancement = 'pending' ORDER BY number",
        )?
        .query_map([submission_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

/// Swaps an enhanced page's files into its row, keeping the imported page as
/// `original_path`. Only a page still pending is changed: returns false if another worker
/// got there first.
pub fn mark_page_enhanced(
    conn: &Connection,
    page_id: i64,
    files: &EnhancedFiles,
) -> Result<bool, ExamError> {
    // Puts the enhanced files in a pending page's row, the imported one kept as original_path.
    let changed = conn.execute(
        "UPDATE pages SET original_path = path, path = ?2, preview_path = ?3, thumb_path = ?4,
                width = ?5, height = ?6, enhancement = 'done'
         WHERE id = ?1 AND enhancement = 'pending'",
        params![
            page_id,
            files.path,
            files.preview_path,
            files.thumb_path,
            files.width,
            files.height
        ],
    )?;
    Ok(changed == 1)
}

/// A page by its number within a submission (pages count from 1).
pub fn page_by_number(
    conn: &Connection,
    submission_id: i64,
    number: i64,
) -> Result<PageFiles, ExamError> {
    // The files of the submission's page with this number.
    let page = conn
        .prepare_cached(&format!(
            "{PAGE_FILES} WHERE submission_id = ?1 AND number = ?2"
        ))?
        .query_row(params![submission_id, number], page_files_from_row)
        .optional()?;
    if let Some(page) = page {
        return Ok(page);
    }
    // Only now is it worth asking which was missing: the submission or its page.
    submission(conn, submission_id)?;
    Err({
        // Counts the submission's pages, for the message.
        let count: i64 = conn
            .query_row(
                "SELECT count(*) FROM pages WHERE submission_id = ?1",
                [submission_id],
                |r| r.get(0),
            )
            .unwrap_or(0);
        ExamError::NotFound(format!(
            "submission {submission_id} has no page {number} (it has {count} page{}; pages count from 1)",
            if count == 1 { "" } else { "s" }
        ))
    })
}

/// A page by id, for serving its preview to the window.
pub fn page_by_id(conn: &Connection, page_id: i64) -> Result<PageFiles, ExamError> {
    // The files of one page.
    conn.prepare_cached(&format!("{PAGE_FILES} WHERE id = ?1"))?
        .query_row([page_id], page_files_from_row)
        .optional()?
        .ok_or_else(|| ExamError::NotFound(format!("there is no page number {page_id}")))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::class;
    use super::*;

    /// Lists show a scan by its first page's thumbnail: the summary names page 1 (whose
    /// thumbnail is served by id), and the page lookup finds the thumbnail file.
    #[test]
    fn a_summary_names_its_first_page_for_the_thumbnail() {
        let (_dir, store, exam, _) = class(1);
        let mut conn = store.lock();
        let tx = conn.transaction().unwrap();
        let mut pages: Vec<NewPage> = (1..=3)
            .map(|n| NewPage::new(format!("p{n}.png"), format!("p{n}.jpg"), 10, 10))
            .collect();
        pages[0].thumb_path = Some("p1.thumb.jpg".into());
        let sub = insert_submission(&tx, exam, "Ada", "three.pdf", &pages).unwrap();
        tx.commit().unwrap();
        let summary = submission(&conn, sub).unwrap();
        let first = summary
            .first_page_id
            .expect("a scan with pages has a first page");
        let page = page_by_id(&conn, first).unwrap();
        assert_eq!(page.path, "p1.png");
        assert_eq!(page.thumb_path.as_deref(), Some("p1.thumb.jpg"));
        assert_eq!(page_by_number(&conn, sub, 1).unwrap().id, first);
    }

    #[test]
    fn a_student_is_renamed_trimmed_and_never_to_nothing() {
        let (_dir, store, _exam, _) = class(1);
        let conn = store.lock();
        let sub = list_submissions(&conn).unwrap()[0].id;
        rename_student(&conn, sub, "  Ada Lovelace ").unwrap();
        assert_eq!(submission(&conn, sub).unwrap().student, "Ada Lovelace");
        assert!(rename_student(&conn, sub, " ").is_err());
        assert!(matches!(
            rename_student(&conn, 9999, "x"),
            Err(ExamError::NotFound(_))
        ));
        assert_eq!(submission(&conn, sub).unwrap().student, "Ada Lovelace");
    }
}
