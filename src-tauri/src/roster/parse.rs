//! Roster files as schools export them: Canvas's gradebook, Moodle's participants, Google
//! Classroom's grades, or a plain list of names (with an ID and an email when there are).
//!
//! Teachers get these from different systems and spreadsheets, so the reader takes what
//! comes: UTF-8 with or without a BOM, UTF-16 with a BOM, or Latin-1/Windows-1252 (what
//! Excel writes on many machines); comma, semicolon or tab; names as "Last, First" or
//! "First Last". A row that cannot be a student is reported by its line with the reason,
//! never dropped silently, and never stops the rest from being read.

use std::collections::HashMap;

use serde::Serialize;
use ts_rs::TS;

/// One student of the file, as it names them.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct RosterRow {
    /// The file's line (from 1) the student was read from.
    pub line: usize,
    pub last_name: String,
    pub first_name: String,
    /// The school's student ID (Canvas's "SIS User ID", Moodle's "ID number", a plain
    /// list's ID): what a student writes in the ID box.
    pub student_id: Option<String>,
    /// The LMS's own user ID (Canvas's "ID"), which its grade import matches on.
    pub lms_id: Option<String>,
    /// Canvas's "SIS Login ID".
    pub login: Option<String>,
    pub email: Option<String>,
    pub section: Option<String>,
}

impl RosterRow {
    /// "Last, First" (or the one name there is): how a roster names a student.
    pub fn display(&self) -> String {
        display_name(&self.last_name, &self.first_name)
    }

    /// What the teacher names the student by: the school ID, else the LMS ID, else the
    /// email. None when the file gave none of them (the store numbers the student).
    pub fn natural_id(&self) -> Option<&str> {
        self.student_id
            .as_deref()
            .or(self.lms_id.as_deref())
            .or(self.email.as_deref())
    }
}

/// "Last, First", or whichever of the two there is.
pub fn display_name(last: &str, first: &str) -> String {
    match (last.trim(), first.trim()) {
        ("", first) => first.to_string(),
        (last, "") => last.to_string(),
        (last, first) => format!("{last}, {first}"),
    }
}

/// A line that was not taken, and why (shown to the teacher as it is).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct SkippedRow {
    pub line: usize,
    pub reason: String,
}

/// Which system the file came from, as its header shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RosterFormat {
    Canvas,
    Moodle,
    Classroom,
    /// A list with a header GradeDesk knows some columns of.
    Table,
    /// A list with no header: names, and IDs or emails where a column looks like them.
    Plain,
}

/// What a roster file held.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ParsedRoster {
    pub format: RosterFormat,
    pub rows: Vec<RosterRow>,
    pub skipped: Vec<SkippedRow>,
}

/// Why a whole file cannot be a roster.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RosterError {
    #[error("the roster file is empty")]
    Empty,
    #[error("the roster file could not be read as a table: {0}")]
    Unreadable(String),
    #[error("the roster file has no column of names (found: {0})")]
    NoNames(String),
}

/// The roles a column can play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    FullName,
    Last,
    First,
    StudentId,
    LmsId,
    Login,
    Email,
    Section,
}

/// Reads a roster file's bytes.
pub fn parse_roster(bytes: &[u8]) -> Result<ParsedRoster, RosterError> {
    let text = decode(bytes);
    if text.trim().is_empty() {
        return Err(RosterError::Empty);
    }
    let delimiter = sniff_delimiter(&text);
    let records = read_records(&text, delimiter)?;
    let Some((_, first)) = records.iter().find(|(_, r)| !is_empty_row(r)) else {
        return Err(RosterError::Empty);
    };
    let header = header_roles(first);
    let (format, roles, body_start) = match header {
        Some((format, roles)) => (format, roles, 1),
        None => (RosterFormat::Plain, plain_roles(&records, delimiter), 0),
    };
    if !roles
        .iter()
        .any(|r| matches!(r, Some(Role::FullName | Role::Last | Role::First)))
    {
        let found: Vec<String> = first.iter().map(|c| format!("\"{}\"", c.trim())).collect();
        return Err(RosterError::NoNames(found.join(", ")));
    }
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut seen_header = false;
    for (line, record) in &records {
        if is_empty_row(record) {
            continue;
        }
        if body_start == 1 && !seen_header {
            seen_header = true;
            continue;
        }
        match row_of(*line, record, &roles) {
            Ok(row) => {
                if let Some(id) = row.natural_id() {
                    let key = id.to_lowercase();
                    if let Some(first_line) = ids.get(&key) {
                        skipped.push(SkippedRow {
                            line: *line,
                            reason: format!(
                                "the ID {id} is already given to the student on line {first_line}"
                            ),
                        });
                        continue;
                    }
                    ids.insert(key, *line);
                }
                rows.push(row);
            }
            Err(reason) => skipped.push(SkippedRow {
                line: *line,
                reason,
            }),
        }
    }
    Ok(ParsedRoster {
        format,
        rows,
        skipped,
    })
}

/// Text from bytes: a BOM says UTF-8 or UTF-16; otherwise UTF-8 when it is valid, else
/// Windows-1252 (a superset of Latin-1's printable characters).
fn decode(bytes: &[u8]) -> String {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return text.into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned(),
    }
}

/// The delimiter whose fields are most consistent across the first lines: a tab or a
/// semicolon wins when it splits lines at all the same (names hold commas; the other two
/// rarely appear inside a field).
fn sniff_delimiter(text: &str) -> u8 {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(30)
        .collect();
    let mut best = (b',', 0usize);
    for delimiter in [b'\t', b';', b','] {
        let counts: Vec<usize> = lines
            .iter()
            .map(|l| count_outside_quotes(l, delimiter))
            .collect();
        let Some(&first) = counts.first() else {
            continue;
        };
        let agreeing = counts.iter().filter(|&&c| c == first && c > 0).count();
        if agreeing > best.1 {
            best = (delimiter, agreeing);
        }
    }
    best.0
}

fn count_outside_quotes(line: &str, delimiter: u8) -> usize {
    let mut quoted = false;
    let mut count = 0;
    for b in line.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if b == delimiter && !quoted {
            count += 1;
        }
    }
    count
}

/// Every record with the line it starts on.
fn read_records(text: &str, delimiter: u8) -> Result<Vec<(usize, Vec<String>)>, RosterError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| RosterError::Unreadable(e.to_string()))?;
        // From the byte offset: the reader's own line count skips blank lines.
        let line = record.position().map_or(0, |p| {
            let bytes = text.as_bytes();
            let mut at = (p.byte() as usize).min(bytes.len());
            // The position is where reading resumed: before any blank lines it skipped.
            while at < bytes.len() && matches!(bytes[at], b'\n' | b'\r') {
                at += 1;
            }
            bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1
        });
        out.push((line, record.iter().map(|f| f.trim().to_string()).collect()));
    }
    Ok(out)
}

fn is_empty_row(record: &[String]) -> bool {
    record.iter().all(|f| f.trim().is_empty())
}

/// A header cell reduced to its words: "E-mail Address" → "email address".
fn header_key(cell: &str) -> String {
    let lowered = cell.trim().trim_start_matches('\u{feff}').to_lowercase();
    let cleaned: String = lowered
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    cleaned
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("e mail", "email")
}

/// The roles of a header's columns and the format they show, or None when the first row
/// is not a header (no cell names a known column).
fn header_roles(first: &[String]) -> Option<(RosterFormat, Vec<Option<Role>>)> {
    let keys: Vec<String> = first.iter().map(|c| header_key(c)).collect();
    let has = |k: &str| keys.iter().any(|x| x == k);
    let canvas = has("student") && (has("sis user id") || has("sis login id"));
    let moodle = has("surname") && has("first name");
    let classroom = has("last name") && has("first name") && has("email address");
    let roles: Vec<Option<Role>> =
        keys.iter()
            .map(|k| match k.as_str() {
                "student" | "name" | "student name" | "full name" | "fullname" | "names"
                | "nom" | "nom complet" | "pupil" | "learner" => Some(Role::FullName),
                "last name" | "surname" | "family name" | "last" | "lastname"
                | "nom de famille" => Some(Role::Last),
                "first name" | "given name" | "given names" | "first" | "firstname" | "prenom"
                | "prénom" | "forename" => Some(Role::First),
                "sis user id"
                | "id number"
                | "idnumber"
                | "student id"
                | "student number"
                | "student no"
                | "matriculation number"
                | "matricule"
                | "sis id" => Some(Role::StudentId),
                "id" if canvas => Some(Role::LmsId),
                "id" => Some(Role::StudentId),
                "sis login id" | "username" | "login" | "user name" => Some(Role::Login),
                "email" | "email address" | "mail" | "emailaddress" => Some(Role::Email),
                "section" | "sections" | "class" | "group" | "groups" => Some(Role::Section),
                _ => None,
            })
            .collect();
    let names = roles
        .iter()
        .any(|r| matches!(r, Some(Role::FullName | Role::Last | Role::First)));
    if !names {
        return None;
    }
    let format = if canvas {
        RosterFormat::Canvas
    } else if moodle {
        RosterFormat::Moodle
    } else if classroom {
        RosterFormat::Classroom
    } else {
        RosterFormat::Table
    };
    Some((format, roles))
}

/// A headerless list's roles, from what its columns hold: an email column has '@', an ID
/// column has digits and no spaces, the rest are names. Two name columns split by commas
/// are "Last, First" (an unquoted "Dupont, Marie").
fn plain_roles(records: &[(usize, Vec<String>)], delimiter: u8) -> Vec<Option<Role>> {
    let width = records.iter().map(|(_, r)| r.len()).max().unwrap_or(0);
    let mut roles: Vec<Option<Role>> = Vec::with_capacity(width);
    for column in 0..width {
        let cells: Vec<&str> = records
            .iter()
            .filter_map(|(_, r)| r.get(column).map(String::as_str))
            .filter(|c| !c.trim().is_empty())
            .collect();
        let share = |test: &dyn Fn(&str) -> bool| {
            if cells.is_empty() {
                0.0
            } else {
                cells.iter().filter(|c| test(c)).count() as f64 / cells.len() as f64
            }
        };
        let role = if share(&|c| c.contains('@')) > 0.5 {
            Some(Role::Email)
        } else if share(&looks_like_id) > 0.5 {
            Some(Role::StudentId)
        } else if cells.is_empty() {
            None
        } else {
            Some(Role::FullName)
        };
        roles.push(role);
    }
    let name_columns: Vec<usize> = roles
        .iter()
        .enumerate()
        .filter(|(_, r)| **r == Some(Role::FullName))
        .map(|(i, _)| i)
        .collect();
    if name_columns.len() == 2 && delimiter == b',' {
        roles[name_columns[0]] = Some(Role::Last);
        roles[name_columns[1]] = Some(Role::First);
    } else if name_columns.len() >= 2 {
        // "First<TAB>Last" lists: the first name column first.
        roles[name_columns[0]] = Some(Role::First);
        roles[name_columns[1]] = Some(Role::Last);
        for &extra in &name_columns[2..] {
            roles[extra] = None;
        }
    }
    roles
}

fn looks_like_id(cell: &str) -> bool {
    let cell = cell.trim();
    !cell.is_empty()
        && !cell.contains(char::is_whitespace)
        && cell.chars().any(|c| c.is_ascii_digit())
        && cell
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// Labels that appear in a name column of exported gradebooks but are not students.
const NOT_STUDENTS: [&str; 6] = [
    "points possible",
    "points",
    "date",
    "class average",
    "average",
    "total",
];

/// One row as a student, or why it is not one.
fn row_of(line: usize, record: &[String], roles: &[Option<Role>]) -> Result<RosterRow, String> {
    let get = |role: Role| -> Option<String> {
        roles
            .iter()
            .position(|r| *r == Some(role))
            .and_then(|i| record.get(i))
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
    };
    let full = get(Role::FullName);
    let (mut last, mut first) = (get(Role::Last), get(Role::First));
    if let Some(full) = &full {
        if NOT_STUDENTS.contains(&header_key(full).as_str()) {
            return Err(format!(
                "\"{full}\" is not a student (a gradebook's label row)"
            ));
        }
    }
    if last.is_none() && first.is_none() {
        let Some(full) = full else {
            return Err("the row has no name".into());
        };
        let (l, f) = split_full_name(&full);
        last = Some(l);
        first = Some(f);
    }
    let last = last.unwrap_or_default();
    let first = first.unwrap_or_default();
    if NOT_STUDENTS.contains(&header_key(&display_name(&last, &first)).as_str()) {
        return Err(format!(
            "\"{}\" is not a student (a gradebook's label row)",
            display_name(&last, &first)
        ));
    }
    if !last.chars().chain(first.chars()).any(char::is_alphabetic) {
        return Err(format!("\"{}\" is not a name", display_name(&last, &first)));
    }
    let email = get(Role::Email);
    if let Some(email) = &email {
        if !email.contains('@') {
            return Err(format!("the email \"{email}\" is not an address"));
        }
    }
    Ok(RosterRow {
        line,
        last_name: last,
        first_name: first,
        student_id: get(Role::StudentId),
        lms_id: get(Role::LmsId),
        login: get(Role::Login),
        email,
        section: get(Role::Section),
    })
}

/// "Last, First" splits at the comma; "First Last" at the last space (one word is a last
/// name alone).
fn split_full_name(full: &str) -> (String, String) {
    if let Some((last, first)) = full.split_once(',') {
        return (last.trim().to_string(), first.trim().to_string());
    }
    let words: Vec<&str> = full.split_whitespace().collect();
    match words.split_last() {
        Some((last, [])) => (last.to_string(), String::new()),
        Some((last, rest)) => (last.to_string(), rest.join(" ")),
        None => (String::new(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(parsed: &ParsedRoster) -> Vec<String> {
        parsed.rows.iter().map(RosterRow::display).collect()
    }

    #[test]
    fn a_canvas_export_skips_points_possible_and_keeps_every_id() {
        let file = "Student,ID,SIS User ID,SIS Login ID,Section,Quiz 1 (123)\n    Points Possible,,,,,10\n\"Dupont, Marie\",4411,20231001,mdupont,Period 2,8\n\"O'Brien, Seán\",4412,20231002,sobrien,Period 2,\n";
        let parsed = parse_roster(file.as_bytes()).unwrap();
        assert_eq!(parsed.format, RosterFormat::Canvas);
        assert_eq!(names(&parsed), ["Dupont, Marie", "O'Brien, Seán"]);
        let marie = &parsed.rows[0];
        assert_eq!(marie.student_id.as_deref(), Some("20231001"));
        assert_eq!(marie.lms_id.as_deref(), Some("4411"));
        assert_eq!(marie.login.as_deref(), Some("mdupont"));
        assert_eq!(marie.section.as_deref(), Some("Period 2"));
        assert_eq!(marie.line, 3);
        assert_eq!(parsed.skipped.len(), 1);
        assert_eq!(parsed.skipped[0].line, 2);
        assert!(parsed.skipped[0].reason.contains("not a student"));
    }

    #[test]
    fn a_moodle_export_in_latin1_with_semicolons_keeps_its_accents() {
        let text = "First name;Surname;ID number;Email address\nZoë;Müller;S-17;zoe@school.de\nJosé;Núñez;S-18;jose@school.de\n";
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
        let parsed = parse_roster(&bytes).unwrap();
        assert_eq!(parsed.format, RosterFormat::Moodle);
        assert_eq!(names(&parsed), ["Müller, Zoë", "Núñez, José"]);
        assert_eq!(parsed.rows[1].email.as_deref(), Some("jose@school.de"));
        assert_eq!(parsed.rows[1].student_id.as_deref(), Some("S-18"));
    }

    #[test]
    fn utf8_with_a_bom_and_tabs_is_read_as_a_table() {
        let text = "\u{feff}Name\tStudent ID\tEmail\nAnna Lindqvist\t1001\tanna@x.se\n";
        let parsed = parse_roster(text.as_bytes()).unwrap();
        assert_eq!(parsed.format, RosterFormat::Table);
        assert_eq!(names(&parsed), ["Lindqvist, Anna"]);
        assert_eq!(parsed.rows[0].student_id.as_deref(), Some("1001"));
    }

    #[test]
    fn utf16_with_a_bom_is_read() {
        let text = "Last Name,First Name,Email Address\nChen,Wei,wei@x.org\n";
        let mut bytes = vec![0xFF, 0xFE];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let parsed = parse_roster(&bytes).unwrap();
        assert_eq!(parsed.format, RosterFormat::Classroom);
        assert_eq!(names(&parsed), ["Chen, Wei"]);
    }

    #[test]
    fn a_plain_list_takes_either_name_order_and_finds_ids_and_emails() {
        let parsed =
            parse_roster("Marie Dupont\n\"Curie, Pierre\"\nJean-Luc de la Tour\n".as_bytes())
                .unwrap();
        assert_eq!(parsed.format, RosterFormat::Plain);
        assert_eq!(
            names(&parsed),
            ["Dupont, Marie", "Curie, Pierre", "Tour, Jean-Luc de la"]
        );
        let unquoted = parse_roster("Dupont, Marie\nCurie, Pierre\n".as_bytes()).unwrap();
        assert_eq!(names(&unquoted), ["Dupont, Marie", "Curie, Pierre"]);
        let with_ids = parse_roster(
            "Marie Dupont;1001;marie@x.fr\nPierre Curie;1002;pierre@x.fr\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(with_ids.rows[1].student_id.as_deref(), Some("1002"));
        assert_eq!(with_ids.rows[1].email.as_deref(), Some("pierre@x.fr"));
    }

    #[test]
    fn bad_rows_are_reported_by_line_and_a_duplicate_id_is_refused() {
        let file = "Name,ID,Email\nAda Lovelace,7,ada@x.uk\n,8,\n12345,9,\nAlan Turing,7,alan@x.uk\nGrace Hopper,10,not-an-email\n\nKatherine Johnson,11,\n";
        let parsed = parse_roster(file.as_bytes()).unwrap();
        assert_eq!(names(&parsed), ["Lovelace, Ada", "Johnson, Katherine"]);
        let lines: Vec<usize> = parsed.skipped.iter().map(|s| s.line).collect();
        assert_eq!(lines, [3, 4, 5, 6]);
        assert!(
            parsed.skipped[2].reason.contains("already given"),
            "{:?}",
            parsed.skipped
        );
        assert!(parsed.skipped[2].reason.contains("line 2"));
        assert_eq!(parsed.rows[1].line, 8);
    }

    #[test]
    fn a_file_with_no_names_or_nothing_at_all_is_refused() {
        assert_eq!(parse_roster(b"").unwrap_err(), RosterError::Empty);
        assert_eq!(parse_roster(b"\n \n").unwrap_err(), RosterError::Empty);
        assert!(matches!(
            parse_roster(b"123\n456\n").unwrap_err(),
            RosterError::NoNames(_)
        ));
    }
}
