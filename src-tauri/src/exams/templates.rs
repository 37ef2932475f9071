//! The class workflow's tables: `template_pages` (an exam's blank exam, page by page),
//! `regions` (what the teacher drew on it once), `unassigned_pages` (class-import pages
//! that belong to no student), and the class facts kept on `pages` (where a student's page
//! came from, which template page it is, how it lines up) and `items` (an answer cut from
//! the regions: its quad on the page).

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{Bbox, ExamError};
use crate::store::now_ms;

/// A template page to store: its files as import wrote them.
#[derive(Debug, Clone)]
pub struct NewTemplatePage {
    pub path: String,
    pub preview_path: String,
    pub thumb_path: Option<String>,
    pub width: u32,
    pub height: u32,
}

/// A template page as stored (the class import registers scans against `path`).
#[derive(Debug, Clone)]
pub struct TemplatePageFiles {
    pub id: i64,
    pub number: u32,
    pub path: String,
    pub width: u32,
    pub height: u32,
}

/// What a region on the template is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RegionKind {
    /// A question's answer (graded).
    Answer,
    /// Where the student writes their name.
    Name,
    /// Where the student writes their ID.
    StudentId,
}

impl RegionKind {
    fn as_sql(self) -> &'static str {
        match self {
            RegionKind::Answer => "answer",
            RegionKind::Name => "name",
            RegionKind::StudentId => "student_id",
        }
    }

    fn from_sql(text: &str) -> Self {
        match text {
            "name" => RegionKind::Name,
            "student_id" => RegionKind::StudentId,
            _ => RegionKind::Answer,
        }
    }
}

/// A region drawn once on the template: `bbox` in fractions of its template page.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Region {
    pub region_id: i64,
    /// Template page, from 1.
    pub page: u32,
    pub kind: RegionKind,
    /// The question an answer region belongs to (None for name and ID regions).
    pub question_label: Option<String>,
    pub question_id: Option<i64>,
    /// Order among the question's regions (its crops go to the model in this order).
    pub position: u32,
    pub bbox: Bbox,
}

/// Replaces the exam's template pages. Regions on pages the new template does not have
/// are refused (the teacher deletes them first), so no region ever points past the end.
pub fn replace_template(
    tx: &Transaction,
    exam_id: i64,
    pages: &[NewTemplatePage],
) -> Result<(), ExamError> {
    super::require_exam(tx, exam_id)?;
    // The highest template page a region is drawn on.
    let last_used: Option<i64> = tx.query_row(
        "SELECT MAX(page_number) FROM regions WHERE exam_id = ?1",
        [exam_id],
        |r| r.get(0),
    )?;
    if let Some(last) = last_used.filter(|&last| last > pages.len() as i64) {
        return Err(ExamError::Invalid(format!(
            "the new template has {} page(s) but a region is drawn on page {last}: delete the regions past page {} first",
            pages.len(),
            pages.len()
        )));
    }
    // Drops the old template pages.
    tx.execute("DELETE FROM template_pages WHERE exam_id = ?1", [exam_id])?;
    for (index, page) in pages.iter().enumerate() {
        // Adds one template page, numbered from 1.
        tx.execute(
            "INSERT INTO template_pages (exam_id, number, path, preview_path, thumb_path, width, height)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                exam_id,
                index as i64 + 1,
                page.path,
                page.preview_path,
                page.thumb_path,
                page.width,
                page.height
            ],
        )?;
    }
    Ok(())
}

/// The exam's template pages in order (empty when it has no template).
pub fn template_pages(
    conn: &Connection,
    exam_id: i64,
) -> Result<Vec<TemplatePageFiles>, ExamError> {
    // Every template page of the exam, in page order.
    let pages = conn
        .prepare_cached(
            "SELECT id, number, path, width, height FROM template_pages
             WHERE exam_id = ?1 ORDER BY number",
        )?
        .query_map([exam_id], |r| {
            Ok(TemplatePageFiles {
                id: r.get(0)?,
                number: r.get(1)?,
                path: r.get(2)?,
                width: r.get(3)?,
                height: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(pages)
}

/// A region's box must lie on its page: finite, positive, inside 0..1 (a hair of rounding
/// allowed), so every student's crop is cut from paper, not from beyond it.
pub(super) fn check_region_box(bbox: Bbox) -> Result<(), ExamError> {
    let Bbox { x, y, w, h } = bbox;
    let finite = [x, y, w, h].iter().all(|v| v.is_finite());
    if !finite || w <= 0.0 || h <= 0.0 {
        return Err(ExamError::Invalid(format!(
            "the region {x},{y},{w},{h} is empty: give X,Y,W,H with a width and height above 0"
        )));
    }
    const SLACK: f64 = 1e-6;
    if x < -SLACK || y < -SLACK || x + w > 1.0 + SLACK || y + h > 1.0 + SLACK {
        return Err(ExamError::Invalid(format!(
            "the region {x},{y},{w},{h} is off the page: X,Y,W,H are fractions of the template page, with X+W and Y+H at most 1"
        )));
    }
    Ok(())
}

/// Adds a region on template page `page`. An answer region names its question by label;
/// a question's further regions come after its earlier ones.
pub fn insert_region(
    conn: &Connection,
    exam_id: i64,
    page: u32,
    kind: RegionKind,
    question_label: Option<&str>,
    bbox: Bbox,
) -> Result<i64, ExamError> {
    super::require_exam(conn, exam_id)?;
    let pages = template_pages(conn, exam_id)?;
    if pages.is_empty() {
        return Err(ExamError::Invalid(format!(
            "exam {exam_id} has no template yet: set one first (`gradedesk template set --exam {exam_id} FILE`)"
        )));
    }
    if page == 0 || page as usize > pages.len() {
        return Err(ExamError::Invalid(format!(
            "the template of exam {exam_id} has {} page(s); there is no page {page} (pages count from 1)",
            pages.len()
        )));
    }
    check_region_box(bbox)?;
    // Within the slack the check allows, onto the page exactly (the table's CHECK is strict).
    let x = bbox.x.clamp(0.0, 1.0);
    let y = bbox.y.clamp(0.0, 1.0);
    let bbox = Bbox {
        x,
        y,
        w: bbox.w.min(1.0 - x),
        h: bbox.h.min(1.0 - y),
    };
    let question_id = match (kind, question_label) {
        (RegionKind::Answer, Some(label)) => Some(question_of_exam(conn, exam_id, label)?),
        (RegionKind::Answer, None) => {
            return Err(ExamError::Invalid(
                "an answer region needs its question (--question LABEL)".into(),
            ))
        }
        (_, Some(_)) => {
            return Err(ExamError::Invalid(
                "a name or student ID region belongs to no question: leave out --question".into(),
            ))
        }
        (_, None) => None,
    };
    // The next position among this question's regions (or this kind's).
    let position: i64 = conn.query_row(
        "SELECT COUNT(*) FROM regions WHERE exam_id = ?1 AND kind = ?2 AND question_id IS ?3",
        params![exam_id, kind.as_sql(), question_id],
        |r| r.get(0),
    )?;
    // Adds the region.
    conn.execute(
        "INSERT INTO regions (exam_id, page_number, kind, question_id, position, x, y, w, h, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            exam_id,
            page,
            kind.as_sql(),
            question_id,
            position,
            bbox.x,
            bbox.y,
            bbox.w,
            bbox.h,
            now_ms()
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The question of `exam_id` labelled `label` (case aside).
fn question_of_exam(conn: &Connection, exam_id: i64, label: &str) -> Result<i64, ExamError> {
    // The question's id by its label in this exam.
    conn.prepare_cached(
        "SELECT id FROM questions WHERE exam_id = ?1 AND label = ?2 COLLATE NOCASE",
    )?
    .query_row(params![exam_id, label.trim()], |r| r.get(0))
    .optional()?
    .ok_or_else(|| {
        ExamError::NotFound(format!(
            "exam {exam_id} has no question labelled \"{}\"",
            label.trim()
        ))
    })
}

/// Every region of the exam: by page, then question order, then position.
pub fn regions(conn: &Connection, exam_id: i64) -> Result<Vec<Region>, ExamError> {
    super::require_exam(conn, exam_id)?;
    // The exam's regions with their questions' labels.
    let regions = conn
        .prepare_cached(
            "SELECT r.id, r.page_number, r.kind, q.label, r.question_id, r.position, r.x, r.y, r.w, r.h
             FROM regions r LEFT JOIN questions q ON q.id = r.question_id
             WHERE r.exam_id = ?1
             ORDER BY r.page_number, q.position, r.position, r.id",
        )?
        .query_map([exam_id], |r| {
            Ok(Region {
                region_id: r.get(0)?,
                page: r.get(1)?,
                kind: RegionKind::from_sql(&r.get::<_, String>(2)?),
                question_label: r.get(3)?,
                question_id: r.get(4)?,
                position: r.get(5)?,
                bbox: Bbox::from_row(r, 6)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(regions)
}

/// Where a student's page came from and how it lines up with its template page.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassPage {
    pub source_file: String,
    /// The page within that file, from 1.
    pub source_page: u32,
    pub template_page: u32,
    /// Template pixels (edge convention) to this page's pixels, row-major.
    pub homography: [[f64; 3]; 3],
    /// Share of the template's patches found where the fit puts them, 0..1.
    pub quality: f64,
    pub residual_px: f64,
    pub flagged: bool,
    pub upside_down: bool,
    /// Writing outside every region, if any: boxes [x, y, w, h] in template-page fractions.
    pub outside_ink: Vec<[f64; 4]>,
}

/// Records a class page's origin and alignment on its `pages` row.
pub fn set_class_page(tx: &Transaction, page_id: i64, page: &ClassPage) -> Result<(), ExamError> {
    let homography = serde_json::to_string(&page.homography).unwrap_or_default();
    let outside = (!page.outside_ink.is_empty())
        .then(|| serde_json::to_string(&page.outside_ink).unwrap_or_default());
    // Stores where the page came from and its fitted transform.
    tx.execute(
        "UPDATE pages SET source_file = ?2, source_page = ?3, template_page = ?4, homography = ?5,
                          align_quality = ?6, align_residual_px = ?7, align_flagged = ?8, upside_down = ?9,
                          outside_ink = ?10
         WHERE id = ?1",
        params![
            page_id,
            page.source_file,
            page.source_page,
            page.template_page,
            homography,
            page.quality,
            page.residual_px,
            page.flagged,
            page.upside_down,
            outside
        ],
    )?;
    Ok(())
}

/// Marks an item as cut from the template's regions, with its first region's corners on
/// the page (pixel centres: top-left, top-right, bottom-right, bottom-left).
pub fn set_item_quad(
    tx: &Transaction,
    item_id: i64,
    quad: &[[f64; 2]; 4],
) -> Result<(), ExamError> {
    // Stores the answer's quad.
    tx.execute(
        "UPDATE items SET from_template = 1, source_quad = ?2 WHERE id = ?1",
        params![item_id, serde_json::to_string(quad).unwrap_or_default()],
    )?;
    Ok(())
}

/// A class-import page that belongs to no student, kept and listed.
#[derive(Debug, Clone, Serialize, TS)]
pub struct UnassignedPage {
    pub file: String,
    pub page: u32,
    pub reason: String,
}

/// The files import wrote for a page no student got, when it could be read.
#[derive(Debug, Clone)]
pub struct LooseFiles {
    pub path: String,
    pub preview_path: String,
    pub thumb_path: Option<String>,
    pub width: u32,
    pub height: u32,
}

/// Keeps a page no student got (its files, when it could be read, stay on disk). Returns
/// its id.
pub fn insert_unassigned(
    tx: &Transaction,
    exam_id: i64,
    page: &UnassignedPage,
    files: Option<&LooseFiles>,
) -> Result<i64, ExamError> {
    // Adds the unassigned page.
    tx.execute(
        "INSERT INTO unassigned_pages (exam_id, source_file, source_page, reason, path, width, height,
                                       preview_path, thumb_path, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            exam_id,
            page.file,
            page.page,
            page.reason,
            files.map(|f| &f.path),
            files.map(|f| f.width),
            files.map(|f| f.height),
            files.map(|f| &f.preview_path),
            files.and_then(|f| f.thumb_path.as_ref()),
            now_ms()
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

/// A page of the file the teacher imported.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct SourcePage {
    pub file: String,
    /// From 1.
    pub page: u32,
}

/// How well a page lines up with its template page.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Alignment {
    /// Share of the template's patches found where the fit puts them, 0..1.
    pub quality: f64,
    /// Root-mean-square distance between where the fit puts them and where they are, in
    /// template pixels.
    pub residual_px: f64,
    /// "Check alignment": the teacher should look at this page.
    pub flagged: bool,
}

/// One current answer as the class workflow sees it: where on which imported page it is.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ClassItem {
    pub item_id: i64,
    pub submission_id: i64,
    pub question_label: String,
    pub source: SourcePage,
    /// The page's size in the imported file, in pixels.
    pub source_size: [u32; 2],
    /// The answer's corners on that page (the region's top-left, top-right, bottom-right,
    /// bottom-left), pixel centres at integer coordinates. A hand-drawn box's corners.
    pub source_quad: [[f64; 2]; 4],
    /// None for pages imported one by one (no template).
    pub alignment: Option<Alignment>,
}

/// Every current answer of the exam with its source page and quad, in submission and
/// question order.
pub fn class_items(conn: &Connection, exam_id: i64) -> Result<Vec<ClassItem>, ExamError> {
    super::require_exam(conn, exam_id)?;
    // The exam's current answers, each with its page's origin and alignment.
    let mut stmt = conn.prepare_cached(
        "SELECT i.id, i.submission_id, q.label, COALESCE(p.source_file, s.file_name),
                COALESCE(p.source_page, p.number), p.width, p.height, i.source_quad,
                i.x, i.y, i.w, i.h, p.homography IS NOT NULL, p.align_quality,
                p.align_residual_px, p.align_flagged
         FROM items i
         JOIN submissions s ON s.id = i.submission_id
         JOIN pages p ON p.id = i.page_id
         JOIN questions q ON q.id = i.question_id
         WHERE s.exam_id = ?1 AND i.superseded_at IS NULL
         ORDER BY i.submission_id, q.position, i.id",
    )?;
    let rows = stmt
        .query_map([exam_id], |r| {
            let (width, height): (u32, u32) = (r.get(5)?, r.get(6)?);
            let stored: Option<String> = r.get(7)?;
            let bbox = Bbox::from_row(r, 8)?;
            let quad = stored
                .and_then(|q| serde_json::from_str::<[[f64; 2]; 4]>(&q).ok())
                .unwrap_or_else(|| box_quad(bbox, width, height));
            let aligned: bool = r.get(12)?;
            let alignment = if aligned {
                Some(Alignment {
                    quality: r.get::<_, Option<f64>>(13)?.unwrap_or(0.0),
                    residual_px: r.get::<_, Option<f64>>(14)?.unwrap_or(0.0),
                    flagged: r.get(15)?,
                })
            } else {
                None
            };
            Ok(ClassItem {
                item_id: r.get(0)?,
                submission_id: r.get(1)?,
                question_label: r.get(2)?,
                source: SourcePage {
                    file: r.get(3)?,
                    page: r.get(4)?,
                },
                source_size: [width, height],
                source_quad: quad,
                alignment,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// A page-fraction box's corners in pixel-centre coordinates of a `width` × `height` page.
pub fn box_quad(bbox: Bbox, width: u32, height: u32) -> [[f64; 2]; 4] {
    let (w, h) = (f64::from(width), f64::from(height));
    let (x0, y0) = (bbox.x * w - 0.5, bbox.y * h - 0.5);
    let (x1, y1) = ((bbox.x + bbox.w) * w - 0.5, (bbox.y + bbox.h) * h - 0.5);
    [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
}

#[cfg(test)]
mod tests {
    use super::super::test_support::class;
    use super::*;

    fn page(n: u32) -> NewTemplatePage {
        NewTemplatePage {
            path: format!("/t/{n}.png"),
            preview_path: format!("/t/{n}-p.png"),
            thumb_path: None,
            width: 1000,
            height: 1400,
        }
    }

    #[test]
    fn regions_need_a_template_page_a_question_and_a_box_on_the_page() {
        let (_dir, store, exam_id, _) = class(0);
        let conn = store.lock();
        let bbox = Bbox {
            x: 0.1,
            y: 0.2,
            w: 0.5,
            h: 0.2,
        };
        let err = insert_region(&conn, exam_id, 1, RegionKind::Answer, Some("Q1"), bbox);
        assert!(err.unwrap_err().to_string().contains("no template"));
        drop(conn);
        let mut conn = store.lock();
        let tx = conn.transaction().unwrap();
        replace_template(&tx, exam_id, &[page(1), page(2)]).unwrap();
        tx.commit().unwrap();
        let off = Bbox { x: 0.8, ..bbox };
        let err = insert_region(&conn, exam_id, 1, RegionKind::Answer, Some("Q1"), off);
        assert!(err.unwrap_err().to_string().contains("off the page"));
        let empty = Bbox { w: 0.0, ..bbox };
        let err = insert_region(&conn, exam_id, 1, RegionKind::Answer, Some("Q1"), empty);
        assert!(err.unwrap_err().to_string().contains("empty"));
        let err = insert_region(&conn, exam_id, 3, RegionKind::Answer, Some("Q1"), bbox);
        assert!(err.unwrap_err().to_string().contains("no page 3"));
        let err = insert_region(&conn, exam_id, 1, RegionKind::Answer, Some("Q9"), bbox);
        assert!(err.unwrap_err().to_string().contains("Q9"));
        let err = insert_region(&conn, exam_id, 1, RegionKind::Name, Some("Q1"), bbox);
        assert!(err.unwrap_err().to_string().contains("no question"));
        let first = insert_region(&conn, exam_id, 1, RegionKind::Answer, Some("q1"), bbox).unwrap();
        let name = insert_region(&conn, exam_id, 1, RegionKind::Name, None, bbox).unwrap();
        let second =
            insert_region(&conn, exam_id, 2, RegionKind::Answer, Some("Q1"), bbox).unwrap();
        let listed = regions(&conn, exam_id).unwrap();
        let q1: Vec<(i64, u32)> = listed
            .iter()
            .filter(|r| r.kind == RegionKind::Answer)
            .map(|r| (r.region_id, r.position))
            .collect();
        assert_eq!(q1, vec![(first, 0), (second, 1)]);
        assert!(listed
            .iter()
            .any(|r| r.region_id == name && r.question_label.is_none()));
        // A shorter template would orphan the page-2 region: refused.
        let tx = conn.transaction().unwrap();
        let err = replace_template(&tx, exam_id, &[page(1)]).unwrap_err();
        assert!(err.to_string().contains("page 2"), "{err}");
    }

    #[test]
    fn a_box_quad_is_in_pixel_centres() {
        let quad = box_quad(
            Bbox {
                x: 0.0,
                y: 0.0,
                w: 0.5,
                h: 1.0,
            },
            100,
            200,
        );
        assert_eq!(
            quad,
            [[-0.5, -0.5], [49.5, -0.5], [49.5, 199.5], [-0.5, 199.5]]
        );
    }
}
