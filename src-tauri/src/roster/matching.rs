//! Who wrote which script: one optimal one-to-one assignment of the whole class's scripts
//! to the roster, and the rule that decides which of its pairs are safe to make alone.
//!
//! Matching each script alone gives two scripts that read "Emma" the same Emma; matching
//! the class at once (as Plom does) gives each roster entry at most one script and lets the
//! clear matches settle the doubtful ones. A pair is made automatically only when it is
//! confident *and* unambiguous: clearly better than the script's next-best entry and than
//! the entry's next-best script. Everything else is a suggestion the teacher confirms.

use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix;

use super::names::script_similarity;

/// A pair is made automatically only at or above this similarity...
pub const AUTO_MIN: f64 = 0.85;
/// ...and only this far ahead of both runner-ups.
pub const AUTO_MARGIN: f64 = 0.1;
/// Below this a roster entry is not even suggested: the script stays unmatched.
pub const SUGGEST_MIN: f64 = 0.5;

/// A script to match: what was read from its name and ID boxes.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    pub submission_id: i64,
    pub read_name: String,
    pub read_id: String,
}

/// A roster entry the matching may give a script.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub entry_id: i64,
    /// "Last, First".
    pub name: String,
    pub student_id: Option<String>,
}

/// The class to match: the scripts the teacher has not decided and the entries no decided
/// script holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatchInput {
    pub scripts: Vec<Script>,
    pub entries: Vec<Candidate>,
}

/// What the matching decided for one script.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub submission_id: i64,
    /// The entry it was given (None: no entry is similar enough).
    pub entry_id: Option<i64>,
    pub similarity: f64,
    /// The pair is confident and unambiguous: made without asking.
    pub auto: bool,
}

/// Integer weights for the assignment (it needs an exact ordering).
fn weight(similarity: f64) -> i64 {
    (similarity * 1_000_000.0).round() as i64
}

/// Matches the class: maximises the total similarity over one-to-one pairs, where a script
/// may also go unmatched (worth [`SUGGEST_MIN`]), then marks the safe pairs.
pub fn match_class(input: &MatchInput) -> Vec<Assignment> {
    let (n, m) = (input.scripts.len(), input.entries.len());
    if n == 0 {
        return Vec::new();
    }
    let similarity: Vec<Vec<f64>> = input
        .scripts
        .iter()
        .map(|s| {
            input
                .entries
                .iter()
                .map(|e| {
                    script_similarity(&s.read_name, &s.read_id, &e.name, e.student_id.as_deref())
                })
                .collect()
        })
        .collect();
    // Columns: the entries, then one "nobody" per script (so rows ≤ columns always).
    let rows: Vec<Vec<i64>> = similarity
        .iter()
        .map(|row| {
            row.iter()
                .map(|&s| weight(s))
                .chain(std::iter::repeat_n(weight(SUGGEST_MIN), n))
                .collect()
        })
        .collect();
    let matrix = Matrix::from_rows(rows).expect("every row has m + n columns");
    let (_, columns) = kuhn_munkres(&matrix);
    columns
        .iter()
        .enumerate()
        .map(|(i, &j)| {
            let submission_id = input.scripts[i].submission_id;
            if j >= m {
                return Assignment {
                    submission_id,
                    entry_id: None,
                    similarity: 0.0,
                    auto: false,
                };
            }
            let v = similarity[i][j];
            let other_entry = (0..m)
                .filter(|&k| k != j)
                .map(|k| similarity[i][k])
                .fold(0.0, f64::max);
            let other_script = (0..n)
                .filter(|&k| k != i)
                .map(|k| similarity[k][j])
                .fold(0.0, f64::max);
            let runner_up = other_entry.max(other_script);
            Assignment {
                submission_id,
                entry_id: Some(input.entries[j].entry_id),
                similarity: v,
                auto: v >= AUTO_MIN && v - runner_up >= AUTO_MARGIN,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(id: i64, name: &str, student_id: &str) -> Script {
        Script {
            submission_id: id,
            read_name: name.into(),
            read_id: student_id.into(),
        }
    }

    fn entry(id: i64, name: &str, student_id: &str) -> Candidate {
        Candidate {
            entry_id: id,
            name: name.into(),
            student_id: Some(student_id.into()),
        }
    }

    fn roster() -> Vec<Candidate> {
        vec![
            entry(1, "Müller, Zoë", "1001"),
            entry(2, "Schmidt, Emma", "1002"),
            entry(3, "Weber, Emma", "1003"),
            entry(4, "Núñez, José", "1004"),
            entry(5, "Absent, Always", "1005"),
        ]
    }

    fn by_script(result: &[Assignment], id: i64) -> &Assignment {
        result.iter().find(|a| a.submission_id == id).unwrap()
    }

    #[test]
    fn legible_names_match_by_themselves_and_the_absent_entry_gets_nothing() {
        let input = MatchInput {
            scripts: vec![
                script(10, "Zoe Mulker", ""),
                script(11, "Emma Schmidt", ""),
                script(12, "Weber, Emma", ""),
                script(13, "J. Nunez", "1004"),
            ],
            entries: roster(),
        };
        let result = match_class(&input);
        let expected = [(10, 1), (11, 2), (12, 3), (13, 4)];
        for (script, entry) in expected {
            let a = by_script(&result, script);
            assert_eq!(a.entry_id, Some(entry), "{a:?}");
            assert!(a.auto, "{a:?}");
        }
        assert!(!result.iter().any(|a| a.entry_id == Some(5)));
    }

    #[test]
    fn two_scripts_that_read_the_same_name_are_never_both_given_it_nor_auto_matched() {
        let input = MatchInput {
            scripts: vec![
                script(10, "Emma Schmidt", ""),
                script(11, "Emma Schmidt", ""),
            ],
            entries: roster(),
        };
        let result = match_class(&input);
        let schmidt: Vec<_> = result.iter().filter(|a| a.entry_id == Some(2)).collect();
        assert_eq!(schmidt.len(), 1);
        assert!(result.iter().all(|a| !a.auto), "{result:?}");
    }

    #[test]
    fn a_blank_name_box_stays_unmatched_and_a_wrong_id_digit_is_tolerated() {
        let input = MatchInput {
            scripts: vec![
                script(10, "", ""),
                // The name says Zoë; the ID has one digit wrong (nobody's ID).
                script(11, "Zoe Muller", "1009"),
                script(12, "Emma Schmidt", "1002"),
            ],
            entries: roster(),
        };
        let result = match_class(&input);
        let blank = by_script(&result, 10);
        assert_eq!(blank.entry_id, None);
        assert!(!blank.auto);
        assert_eq!(by_script(&result, 11).entry_id, Some(1));
        assert!(by_script(&result, 11).auto);
        assert_eq!(by_script(&result, 12).entry_id, Some(2));
        assert!(by_script(&result, 12).auto);
    }

    #[test]
    fn a_misread_id_that_is_another_students_makes_both_wait() {
        let input = MatchInput {
            scripts: vec![
                // The name says Zoë; the misread ID is exactly Emma Schmidt's.
                script(11, "Zoe Muller", "1002"),
                script(12, "Emma Schmidt", "1002"),
            ],
            entries: roster(),
        };
        let result = match_class(&input);
        assert_eq!(by_script(&result, 11).entry_id, Some(1));
        assert_eq!(by_script(&result, 12).entry_id, Some(2));
        assert!(!by_script(&result, 12).auto, "{result:?}");
    }

    #[test]
    fn an_exact_id_wins_over_a_scrawled_name() {
        let input = MatchInput {
            scripts: vec![script(10, "Jsoe Nnz", "1004")],
            entries: roster(),
        };
        let a = &match_class(&input)[0];
        assert_eq!(a.entry_id, Some(4));
        assert!(a.auto, "{a:?}");
    }
}
