//! The class roster and who wrote each script: reading the school's roster files, comparing
//! a name read from a page with a roster entry, and matching the whole class at once.
//!
//! Pure: no SQL, no I/O. The exams module stores what this decides; the workspace runs it.

pub mod matching;
pub mod names;
pub mod parse;

pub use matching::{match_class, Assignment, Candidate, MatchInput, Script};
pub use parse::{parse_roster, ParsedRoster, RosterError, RosterFormat, RosterRow, SkippedRow};
