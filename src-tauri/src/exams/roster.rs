//! The `roster_entries` and `name_reads` tables and the match columns of `submissions`:
//! an exam's class list, what was read from each script's name and ID boxes, and which
//! roster entry each script belongs to.
//!
//! A matched script's `student` is the roster's "Last, First", so every list, the review
//! and the exports name it the same; the name it had before is kept in `placeholder` and
//! comes back when it is unmatched. The schema gives no entry two scripts.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;
use ts_rs::TS;

use super::{require_exam, ExamError};
use crate::roster::{self, Assignment, Candidate, MatchInput, RosterRow, Script};
use crate::store::now_ms;

/// One student of an exam's roster.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
pub struct RosterEntry {
    pub id: i64,
    /// What the teacher and the CLI name the student by (the school ID when there is one).
    pub roster_id: String,
    /// "Last, First".
    pub name: String,
    pub last_name: String,
    pub first_name: String,
    pub student_id: Option<String>,
    pub lms_id: Option<String>,
    pub login: Option<String>,
    pub email: Option<String>,
    pub section: Option<String>,
    /// The script given to this student, if any.
    pub submission_id: Option<i64>,
}

/// How a script's student was decided.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "snake_case")]
pub enum MatchStatus {
    /// The class matching made it: confident and unambiguous.
    Auto,
    /// The teacher chose it.
    Confirmed,
    /// No student yet (or the teacher said it is nobody on the roster).
    Unmatched,
}

/// A roster entry the matching suggests for a script it did not match by itself.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
pub struct MatchSuggestion {
    pub entry_id: i64,
    pub roster_id: String,
    pub student: String,
}

/// Where a script's name reading stands.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "snake_case")]
pub enum ReadState {
    /// The exam has no name or ID region, or the script was not cut from a template.
    None,
    Queued,
    Reading,
    Read,
    /// The reading failed for good (the matching screen still works by hand).
    Failed,
}

/// One script on the matching screen and in `gradedesk match --json`.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
pub struct MatchRow {
    pub submission_id: i64,
    /// The file (and page) the script came from: shown beside the student's name.
    pub source: String,
    pub read_name: Option<String>,
    pub read_id: Option<String>,
    /// The roster's "Last, First" when matched.
    pub student: Option<String>,
    pub roster_id: Option<String>,
    /// The match's (or the suggestion's) similarity, 0..1.
    pub confidence: Option<f64>,
    pub status: MatchStatus,
    /// The teacher said this script is nobody on the roster.
    pub no_student: bool,
    pub suggestion: Option<MatchSuggestion>,
    pub read_state: ReadState,
    /// The name-reading job's last error, when it failed.
    pub read_error: Option<String>,
    /// The crops of the name and ID boxes (gdimg paths), when there are.
    pub name_crop: Option<String>,
    pub id_crop: Option<String>,
}

/// What a name-reading job found.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNameRead {
    pub read_name: String,
    pub read_id: String,
    pub confidence: Option<f64>,
    pub model: String,
}

/// Stores an import's rows as the exam's roster: a student already there (same ID, or the
/// same name when the file gives no ID) is updated in place, so a script keeps its match;
/// students not in the file go, unless a script is theirs. Returns how many were stored.
pub fn import_roster(
    tx: &Transaction,
    exam_id: i64,
    rows: &[RosterRow],
) -> Result<usize, ExamError> {
    require_exam(tx, exam_id)?;
    let now = now_ms();
    let mut kept: Vec<i64> = Vec::with_capacity(rows.len());
    for (position, row) in rows.iter().enumerate() {
        let existing: Option<i64> = match row.natural_id() {
            // The entry of this ID.
            Some(id) => tx
                .query_row(
                    "SELECT id FROM roster_entries WHERE exam_id = ?1 AND roster_id = ?2",
                    params![exam_id, id],
                    |r| r.get(0),
                )
                .optional()?,
            // The entry of this name that has no ID of its own.
            None => tx
                .query_row(
                    "SELECT id FROM roster_entries
                     WHERE exam_id = ?1 AND last_name = ?2 AND first_name = ?3
                       AND student_id IS NULL AND lms_id IS NULL AND email IS NULL",
                    params![exam_id, row.last_name, row.first_name],
                    |r| r.get(0),
                )
                .optional()?,
        };
        let id = match existing {
            Some(id) => {
                // Updates the student in place.
                tx.execute(
                    "UPDATE roster_entries SET position = ?2, last_name = ?3, first_name = ?4,
                            student_id = ?5, lms_id = ?6, login = ?7, email = ?8, section = ?9
                     WHERE id = ?1",
                    params![
                        id,
                        position as i64,
                        row.last_name,
                        row.first_name,
                        row.student_id,
                        row.lms_id,
                        row.login,
                        row.email,
                        row.section
                    ],
                )?;
                id
            }
            None => {
                let roster_id = match row.natural_id() {
                    Some(id) => id.to_string(),
                    None => numbered_id(tx, exam_id)?,
                };
                // Adds the student.
                tx.execute(
                    "INSERT INTO roster_entries (exam_id, position, roster_id, last_name, first_name,
                                                 student_id, lms_id, login, email, section, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    params![
                        exam_id,
                        position as i64,
                        roster_id,
                        row.last_name,
                        row.first_name,
                        row.student_id,
                        row.lms_id,
                        row.login,
                        row.email,
                        row.section,
                        now
                    ],
                )?;
                tx.last_insert_rowid()
            }
        };
        kept.push(id);
    }
    let kept_json = serde_json::to_string(&kept).unwrap_or_else(|_| "[]".into());
    // Removes the students the new file no longer lists, unless a script is theirs.
    tx.execute(
        "DELETE FROM roster_entries
         WHERE exam_id = ?1 AND id NOT IN (SELECT value FROM json_each(?2))
           AND id NOT IN (SELECT roster_entry_id FROM submissions WHERE roster_entry_id IS NOT NULL)",
        params![exam_id, kept_json],
    )?;
    // Names of matched scripts follow their entry's (a corrected spelling in the file).
    tx.execute(
        "UPDATE submissions SET student = (
             SELECT CASE WHEN r.first_name = '' THEN r.last_name
                         WHEN r.last_name = '' THEN r.first_name
                         ELSE r.last_name || ', ' || r.first_name END
             FROM roster_entries r WHERE r.id = submissions.roster_entry_id)
         WHERE exam_id = ?1 AND roster_entry_id IS NOT NULL",
        params![exam_id],
    )?;
    Ok(rows.len())
}

/// A roster ID for a student the file gave no ID: "R1", "R2", … (the first one free).
fn numbered_id(tx: &Transaction, exam_id: i64) -> Result<String, ExamError> {
    let mut n: i64 = tx.query_row(
        // How many students the roster has.
        "SELECT count(*) FROM roster_entries WHERE exam_id = ?1",
        params![exam_id],
        |r| r.get(0),
    )?;
    loop {
        n += 1;
        let candidate = format!("R{n}");
        let taken: bool = tx.query_row(
            // Whether the ID is taken.
            "SELECT EXISTS (SELECT 1 FROM roster_entries WHERE exam_id = ?1 AND roster_id = ?2)",
            params![exam_id, candidate],
            |r| r.get(0),
        )?;
        if !taken {
            return Ok(candidate);
        }
    }
}

/// The exam's roster in the file's order.
pub fn roster_entries(conn: &Connection, exam_id: i64) -> Result<Vec<RosterEntry>, ExamError> {
    require_exam(conn, exam_id)?;
    // Every student with the script given to them.
    let mut stmt = conn.prepare_cached(
        "SELECT r.id, r.roster_id, r.last_name, r.first_name, r.student_id, r.lms_id, r.login,
                r.email, r.section, (SELECT s.id FROM submissions s WHERE s.roster_entry_id = r.id)
         FROM roster_entries r WHERE r.exam_id = ?1 ORDER BY r.position, r.id",
    )?;
    let rows = stmt
        .query_map(params![exam_id], |r| {
            let (last, first): (String, String) = (r.get(2)?, r.get(3)?);
            Ok(RosterEntry {
                id: r.get(0)?,
                roster_id: r.get(1)?,
                name: roster::parse::display_name(&last, &first),
                last_name: last,
                first_name: first,
                student_id: r.get(4)?,
                lms_id: r.get(5)?,
                login: r.get(6)?,
                email: r.get(7)?,
                section: r.get(8)?,
                submission_id: r.get(9)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The script's exam, or `NotFound`.
pub fn submission_exam_id(conn: &Connection, submission_id: i64) -> Result<i64, ExamError> {
    conn.query_row(
        // The script's exam.
        "SELECT exam_id FROM submissions WHERE id = ?1",
        params![submission_id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| ExamError::NotFound(format!("script {submission_id} does not exist")))
}

/// Keeps the crops of a script's name and ID boxes (what its reading job sends).
pub fn set_name_crops(
    conn: &Connection,
    submission_id: i64,
    name_crop: Option<&str>,
    id_crop: Option<&str>,
) -> Result<(), ExamError> {
    conn.execute(
        // Records where the crops are.
        "UPDATE submissions SET name_crop_path = ?2, id_crop_path = ?3 WHERE id = ?1",
        params![submission_id, name_crop, id_crop],
    )?;
    Ok(())
}

/// The crops a reading job sends, or None when the script has neither.
pub fn name_crops(
    conn: &Connection,
    submission_id: i64,
) -> Result<(Option<String>, Option<String>), ExamError> {
    conn.query_row(
        // The script's name and ID crops.
        "SELECT name_crop_path, id_crop_path FROM submissions WHERE id = ?1",
        params![submission_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or_else(|| ExamError::NotFound(format!("script {submission_id} does not exist")))
}

/// Stores what was read from a script (replacing an earlier reading) and matches its
/// class again, in the caller's transaction.
pub fn store_name_read(
    conn: &Connection,
    submission_id: i64,
    read: &NewNameRead,
) -> Result<(), ExamError> {
    let exam_id = submission_exam_id(conn, submission_id)?;
    conn.execute(
        // Stores the reading.
        "INSERT INTO name_reads (submission_id, read_name, read_id, confidence, model, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (submission_id) DO UPDATE SET read_name = excluded.read_name,
             read_id = excluded.read_id, confidence = excluded.confidence,
             model = excluded.model, created_at = excluded.created_at",
        params![
            submission_id,
            read.read_name,
            read.read_id,
            read.confidence,
            read.model,
            now_ms()
        ],
    )?;
    rematch(conn, exam_id)
}

/// Matches the exam's class again: every script the teacher has not decided, against
/// every roster entry no decided script holds. Safe pairs are made (`auto`); the others
/// keep a suggestion. Runs in the caller's transaction.
pub fn rematch(conn: &Connection, exam_id: i64) -> Result<(), ExamError> {
    let input = match_input(conn, exam_id)?;
    let assignments = roster::match_class(&input);
    apply_matching(conn, exam_id, &assignments)
}

fn match_input(conn: &Connection, exam_id: i64) -> Result<MatchInput, ExamError> {
    // The scripts the teacher has not decided that have a reading.
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, n.read_name, n.read_id FROM submissions s
         JOIN name_reads n ON n.submission_id = s.id
         WHERE s.exam_id = ?1 AND (s.match_status IS NULL OR s.match_status = 'auto')
         ORDER BY s.id",
    )?;
    let scripts = stmt
        .query_map(params![exam_id], |r| {
            Ok(Script {
                submission_id: r.get(0)?,
                read_name: r.get(1)?,
                read_id: r.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    // The entries no teacher-decided script holds.
    let mut stmt = conn.prepare_cached(
        "SELECT r.id, r.last_name, r.first_name, r.student_id FROM roster_entries r
         WHERE r.exam_id = ?1 AND NOT EXISTS (
             SELECT 1 FROM submissions s WHERE s.roster_entry_id = r.id AND s.match_status = 'confirmed')
         ORDER BY r.position, r.id",
    )?;
    let entries = stmt
        .query_map(params![exam_id], |r| {
            let (last, first): (String, String) = (r.get(1)?, r.get(2)?);
            Ok(Candidate {
                entry_id: r.get(0)?,
                name: roster::parse::display_name(&last, &first),
                student_id: r.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(MatchInput { scripts, entries })
}

/// The SQL that gives a script its entry's name ("Last, First"), keeping the old name.
const GIVE_ENTRY_NAME: &str = "placeholder = coalesce(placeholder, student),
    student = (SELECT CASE WHEN r.first_name = '' THEN r.last_name
                           WHEN r.last_name = '' THEN r.first_name
                           ELSE r.last_name || ', ' || r.first_name END
               FROM roster_entries r WHERE r.id = ?2)";

fn apply_matching(
    conn: &Connection,
    exam_id: i64,
    assignments: &[Assignment],
) -> Result<(), ExamError> {
    // Undoes the class matching's earlier pairs (the scripts get their old names back).
    conn.execute(
        "UPDATE submissions SET roster_entry_id = NULL, match_status = NULL,
                student = coalesce(placeholder, student), match_confidence = NULL,
                suggested_entry_id = NULL
         WHERE exam_id = ?1 AND (match_status IS NULL OR match_status = 'auto')",
        params![exam_id],
    )?;
    for a in assignments {
        match (a.entry_id, a.auto) {
            (Some(entry), true) => {
                // Gives the script its student.
                conn.execute(
                    &format!(
                        "UPDATE submissions SET roster_entry_id = ?2, match_status = 'auto',
                                match_confidence = ?3, {GIVE_ENTRY_NAME}
                         WHERE id = ?1"
                    ),
                    params![a.submission_id, entry, a.similarity],
                )?;
            }
            (Some(entry), false) => {
                // Keeps the suggestion for the teacher.
                conn.execute(
                    "UPDATE submissions SET suggested_entry_id = ?2, match_confidence = ?3 WHERE id = ?1",
                    params![a.submission_id, entry, a.similarity],
                )?;
            }
            (None, _) => {}
        }
    }
    Ok(())
}

/// The roster entry an exam knows by this roster ID.
pub fn entry_by_roster_id(
    conn: &Connection,
    exam_id: i64,
    roster_id: &str,
) -> Result<i64, ExamError> {
    conn.query_row(
        // The entry of this ID.
        "SELECT id FROM roster_entries WHERE exam_id = ?1 AND roster_id = ?2",
        params![exam_id, roster_id.trim()],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| {
        ExamError::NotFound(format!(
            "nobody on this exam's roster has the ID \"{}\"",
            roster_id.trim()
        ))
    })
}

/// The teacher gives a script a roster entry. An entry the class matching had given
/// another script is taken from it; one the teacher gave another script is refused (say
/// which, so they can change that one first). The rest of the class is matched again.
pub fn confirm_match(tx: &Transaction, submission_id: i64, entry_id: i64) -> Result<(), ExamError> {
    let exam_id = submission_exam_id(tx, submission_id)?;
    let entry_exam: Option<i64> = tx
        .query_row(
            // The entry's exam.
            "SELECT exam_id FROM roster_entries WHERE id = ?1",
            params![entry_id],
            |r| r.get(0),
        )
        .optional()?;
    if entry_exam != Some(exam_id) {
        return Err(ExamError::NotFound(format!(
            "roster entry {entry_id} is not on this exam's roster"
        )));
    }
    let holder: Option<(i64, Option<String>, String)> = tx
        .query_row(
            // The script that holds the entry, if any.
            "SELECT id, match_status, file_name FROM submissions WHERE roster_entry_id = ?1",
            params![entry_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    if let Some((holder, status, file)) = holder {
        if holder != submission_id && status.as_deref() == Some("confirmed") {
            return Err(ExamError::Invalid(format!(
                "this student is already given script {holder} ({file}); change that script first"
            )));
        }
        if holder != submission_id {
            release(tx, holder, None)?;
        }
    }
    release(tx, submission_id, Some("confirmed"))?;
    // Gives the script its student, as the teacher chose.
    tx.execute(
        &format!(
            "UPDATE submissions SET roster_entry_id = ?2, match_status = 'confirmed',
                    match_confidence = coalesce(
                        (SELECT CASE WHEN suggested_entry_id = ?2 THEN match_confidence END), match_confidence),
                    {GIVE_ENTRY_NAME}
             WHERE id = ?1"
        ),
        params![submission_id, entry_id],
    )?;
    rematch(tx, exam_id)
}

/// The teacher says a script is nobody on the roster (or takes its student away): it stays
/// unmatched, and the class matching leaves it alone.
pub fn set_no_student(tx: &Transaction, submission_id: i64) -> Result<(), ExamError> {
    let exam_id = submission_exam_id(tx, submission_id)?;
    release(tx, submission_id, Some("none"))?;
    rematch(tx, exam_id)
}

/// Takes a script's entry away (its old name comes back) and sets how it is decided.
fn release(conn: &Connection, submission_id: i64, status: Option<&str>) -> Result<(), ExamError> {
    conn.execute(
        "UPDATE submissions SET roster_entry_id = NULL, match_status = ?2,
                student = coalesce(placeholder, student), suggested_entry_id = NULL,
                match_confidence = CASE WHEN ?2 = 'none' THEN NULL ELSE match_confidence END
         WHERE id = ?1",
        params![submission_id, status],
    )?;
    Ok(())
}

/// Every script of the exam with its reading and its student, in import order.
pub fn match_rows(conn: &Connection, exam_id: i64) -> Result<Vec<MatchRow>, ExamError> {
    require_exam(conn, exam_id)?;
    // Each script, what was read, its entry or suggestion, and its latest reading job.
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.file_name, n.read_name, n.read_id, s.match_status, s.match_confidence,
                r.roster_id, r.last_name, r.first_name,
                g.id, g.roster_id, g.last_name, g.first_name,
                j.state, j.last_error, s.name_crop_path, s.id_crop_path
         FROM submissions s
         LEFT JOIN name_reads n ON n.submission_id = s.id
         LEFT JOIN roster_entries r ON r.id = s.roster_entry_id
         LEFT JOIN roster_entries g ON g.id = s.suggested_entry_id
         LEFT JOIN jobs j ON j.id = (SELECT max(id) FROM jobs
                                     WHERE kind = 'READ_NAME' AND submission_id = s.id)
         WHERE s.exam_id = ?1 ORDER BY s.id",
    )?;
    let rows = stmt
        .query_map(params![exam_id], |r| {
            let status: Option<String> = r.get(4)?;
            let roster_id: Option<String> = r.get(6)?;
            let student = match (
                r.get::<_, Option<String>>(7)?,
                r.get::<_, Option<String>>(8)?,
            ) {
                (Some(last), Some(first)) => Some(roster::parse::display_name(&last, &first)),
                _ => None,
            };
            let suggestion = match r.get::<_, Option<i64>>(9)? {
                Some(entry_id) => Some(MatchSuggestion {
                    entry_id,
                    roster_id: r.get(10)?,
                    student: roster::parse::display_name(
                        &r.get::<_, String>(11)?,
                        &r.get::<_, String>(12)?,
                    ),
                }),
                None => None,
            };
            let read_name: Option<String> = r.get(2)?;
            let job_state: Option<String> = r.get(13)?;
            let read_state = match job_state.as_deref() {
                Some("queued") => ReadState::Queued,
                Some("running") => ReadState::Reading,
                Some("dead") if read_name.is_none() => ReadState::Failed,
                _ if read_name.is_some() => ReadState::Read,
                _ => ReadState::None,
            };
            Ok(MatchRow {
                submission_id: r.get(0)?,
                source: r.get(1)?,
                read_id: r.get(3)?,
                read_name,
                status: match status.as_deref() {
                    Some("auto") if roster_id.is_some() => MatchStatus::Auto,
                    Some("confirmed") if roster_id.is_some() => MatchStatus::Confirmed,
                    _ => MatchStatus::Unmatched,
                },
                no_student: status.as_deref() == Some("none"),
                confidence: r.get(5)?,
                student,
                roster_id,
                suggestion,
                read_state,
                read_error: if read_state == ReadState::Failed {
                    r.get(14)?
                } else {
                    None
                },
                name_crop: r.get(15)?,
                id_crop: r.get(16)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The roster entry of each matched script of an exam (for the exports).
pub fn matched_entries(
    conn: &Connection,
    exam_id: i64,
) -> Result<Vec<(i64, RosterEntry)>, ExamError> {
    Ok(roster_entries(conn, exam_id)?
        .into_iter()
        .filter_map(|e| Some((e.submission_id?, e)))
        .collect())
}
