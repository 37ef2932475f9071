//! The class as every hand-back format sees it: the exam's questions, one row per student
//! (with the places the roster's ID and email will fill, empty until there is a roster)
//! and each student's answer to each question. Built once from the exams module's class
//! record; the gradebooks, the XLSX, the feedback PDFs and the statistics all read it.

use std::path::PathBuf;

use crate::exams::{ClassRecord, GradebookRow, ItemState};
use crate::rubric::RubricItem;
use crate::stats::QuestionData;

/// A question as the hand-back shows it.
#[derive(Debug, Clone)]
pub struct BookQuestion {
    pub label: String,
    pub prompt: String,
    pub max_points: f64,
    /// The free rubric's lines without their "- " bullets (guidance for the grader; which
    /// of them applied is not recorded).
    pub rubric_lines: Vec<String>,
    /// The rubric items the core scores (which of them applied is recorded per answer).
    pub items: Vec<RubricItem>,
}

/// One student's answer to one question.
#[derive(Debug, Clone)]
pub struct BookAnswer {
    pub item_id: i64,
    pub state: ItemState,
    /// The final score: the teacher's when there is one, else the AI's.
    pub score: Option<f64>,
    pub ai_score: Option<f64>,
    pub teacher_score: Option<f64>,
    pub teacher_note: Option<String>,
    pub feedback: String,
    pub transcription: String,
    pub crop_path: PathBuf,
    /// The rubric items the final score is made of, as the student reads them:
    /// "States F = ma (+2 pts)".
    pub applied: Vec<String>,
}

impl BookAnswer {
    /// Nothing was written: graded with an empty transcription.
    pub fn is_blank(&self) -> bool {
        self.score.is_some() && self.transcription.trim().is_empty()
    }
}

/// What an LMS import matches a student on, as the roster gave it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LmsIds {
    pub lms_id: Option<String>,
    pub student_id: Option<String>,
    pub login: Option<String>,
    pub section: Option<String>,
}

/// One student of the class.
#[derive(Debug, Clone)]
pub struct BookStudent {
    pub submission_id: i64,
    /// The name: the roster's when there is one, else the name the scan was given.
    pub name: String,
    /// The roster's ID of the student (the school's student ID when it has one); None
    /// until the script is matched to the roster.
    pub roster_id: Option<String>,
    /// The student's email, from the roster.
    pub email: Option<String>,
    /// The LMS's own IDs and section, from the roster (Canvas's "ID", "SIS User ID",
    /// "SIS Login ID", "Section").
    pub lms: LmsIds,
    /// One entry per question, in the exam's order; None when no answer is boxed for it.
    pub answers: Vec<Option<BookAnswer>>,
}

impl BookStudent {
    /// The sum of the final scores so far.
    pub fn total(&self) -> f64 {
        self.answers.iter().flatten().filter_map(|a| a.score).sum()
    }

    /// Every question has a final score (or was left unboxed, which scores 0).
    pub fn is_complete(&self) -> bool {
        self.answers
            .iter()
            .all(|a| a.as_ref().is_none_or(|a| a.score.is_some()))
    }
}

/// The whole class of an exam.
#[derive(Debug, Clone)]
pub struct ClassBook {
    pub exam_id: i64,
    pub exam_name: String,
    pub questions: Vec<BookQuestion>,
    pub students: Vec<BookStudent>,
}

impl ClassBook {
    /// The book from the exams module's record, in submission order.
    pub fn from_record(record: ClassRecord) -> Self {
        let questions: Vec<BookQuestion> = record
            .exam
            .questions
            .iter()
            .map(|q| BookQuestion {
                label: q.label.clone(),
                prompt: q.prompt.clone(),
                max_points: q.max_points,
                rubric_lines: rubric_lines(&q.rubric),
                items: q.items.clone(),
            })
            .collect();
        let mut students: Vec<BookStudent> = record
            .students
            .into_iter()
            .map(|s| {
                let roster = s.roster;
                BookStudent {
                    submission_id: s.submission_id,
                    name: s.student,
                    roster_id: roster.as_ref().map(|r| r.roster_id.clone()),
                    email: roster.as_ref().and_then(|r| r.email.clone()),
                    lms: roster
                        .map(|r| LmsIds {
                            lms_id: r.lms_id,
                            student_id: r.student_id,
                            login: r.login,
                            section: r.section,
                        })
                        .unwrap_or_default(),
                    answers: vec![None; questions.len()],
                }
            })
            .collect();
        for answer in record.answers {
            let Some(student) = students
                .iter_mut()
                .find(|s| s.submission_id == answer.submission_id)
            else {
                continue;
            };
            let Some(slot) = questions.iter().position(|q| q.label == answer.question) else {
                continue;
            };
            student.answers[slot] = Some(BookAnswer {
                item_id: answer.item_id,
                state: answer.state,
                score: answer.teacher_score.or(answer.ai_score),
                ai_score: answer.ai_score,
                teacher_score: answer.teacher_score,
                teacher_note: answer.teacher_note,
                feedback: answer.feedback,
                transcription: answer.transcription,
                crop_path: PathBuf::from(answer.crop_path),
                applied: applied_lines(&questions[slot].items, &answer.applied),
            });
        }
        ClassBook {
            exam_id: record.exam.id,
            exam_name: record.exam.name,
            questions,
            students,
        }
    }

    /// The exam's points.
    pub fn max_total(&self) -> f64 {
        self.questions.iter().map(|q| q.max_points).sum()
    }

    /// Today's answer rows (`write_csv`'s input), in submission and question order.
    pub fn answer_rows(&self) -> Vec<GradebookRow> {
        let mut rows = Vec::new();
        for student in &self.students {
            for (q, answer) in self.questions.iter().zip(&student.answers) {
                let Some(a) = answer else { continue };
                rows.push(GradebookRow {
                    submission_id: student.submission_id,
                    student: student.name.clone(),
                    question: q.label.clone(),
                    score: a.score,
                    ai_score: a.ai_score,
                    max_points: q.max_points,
                    feedback: a.feedback.clone(),
                    transcription: a.transcription.clone(),
                    state: a.state,
                });
            }
        }
        rows
    }

    /// The statistics' input: per question, each student's final score (0 when blank, None
    /// while still being graded), blanks, and the (AI, teacher) pairs the teacher reviewed.
    /// A scan with no answer boxed yet is not started, not blank: it is left out.
    pub fn stats_data(&self) -> Vec<QuestionData> {
        let started: Vec<&BookStudent> = self
            .students
            .iter()
            .filter(|s| s.answers.iter().any(Option::is_some))
            .collect();
        self.questions
            .iter()
            .enumerate()
            .map(|(j, q)| {
                let answers = started.iter().map(|s| s.answers[j].as_ref());
                QuestionData {
                    label: q.label.clone(),
                    max_points: q.max_points,
                    scores: answers
                        .clone()
                        .map(|a| match a {
                            None => Some(0.0),
                            Some(a) => a.score,
                        })
                        .collect(),
                    blank: answers
                        .clone()
                        .map(|a| a.is_none_or(BookAnswer::is_blank))
                        .collect(),
                    pairs: answers
                        .flatten()
                        .filter_map(|a| Some((a.ai_score?, a.teacher_score?)))
                        .collect(),
                }
            })
            .collect()
    }
}

/// The items an answer has, as lines a student reads: "text (+2 pts)", "text (−1 pt)".
pub fn applied_lines(items: &[RubricItem], applied: &[i64]) -> Vec<String> {
    items
        .iter()
        .filter(|i| applied.contains(&i.id))
        .map(|i| {
            let size = i.points.abs();
            let unit = if (size - 1.0).abs() < 1e-9 {
                "pt"
            } else {
                "pts"
            };
            let sign = if i.points < 0.0 { "−" } else { "+" };
            format!("{} ({sign}{size} {unit})", i.text)
        })
        .collect()
}

/// The rubric's lines, "- " bullets and blank lines dropped.
pub fn rubric_lines(rubric: &str) -> Vec<String> {
    rubric
        .lines()
        .map(|l| l.trim().trim_start_matches(['-', '*', '•']).trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// A percentage with one decimal (72.5), or empty for an exam worth nothing.
pub fn percent(total: f64, max: f64) -> Option<f64> {
    (max > 0.0).then(|| (total / max * 1000.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(score: Option<f64>, transcription: &str) -> Option<BookAnswer> {
        Some(BookAnswer {
            item_id: 1,
            state: ItemState::Done,
            score,
            ai_score: score,
            teacher_score: None,
            teacher_note: None,
            feedback: String::new(),
            transcription: transcription.into(),
            crop_path: PathBuf::new(),
            applied: Vec::new(),
        })
    }

    fn student(answers: Vec<Option<BookAnswer>>) -> BookStudent {
        BookStudent {
            submission_id: 1,
            name: "s".into(),
            roster_id: None,
            email: None,
            lms: LmsIds::default(),
            answers,
        }
    }

    #[test]
    fn statistics_count_blanks_at_zero_and_leave_out_scans_not_started() {
        let q = |label: &str| BookQuestion {
            label: label.into(),
            prompt: String::new(),
            max_points: 2.0,
            rubric_lines: Vec::new(),
            items: Vec::new(),
        };
        let book = ClassBook {
            exam_id: 1,
            exam_name: "e".into(),
            questions: vec![q("Q1"), q("Q2")],
            students: vec![
                student(vec![answer(Some(2.0), "F = ma"), None]),
                student(vec![answer(Some(0.0), "  "), answer(None, "")]),
                student(vec![None, None]),
            ],
        };
        let data = book.stats_data();
        assert_eq!(data[0].scores, [Some(2.0), Some(0.0)]);
        assert_eq!(data[0].blank, [false, true]);
        assert_eq!(
            data[1].scores,
            [Some(0.0), None],
            "unboxed: 0; not graded: left out"
        );
        assert_eq!(data[1].blank, [true, false]);
        assert!(!book.students[1].is_complete());
        assert_eq!(
            rubric_lines("- a (1 pt)\n\n* b\n• c"),
            ["a (1 pt)", "b", "c"]
        );
        let items = [
            RubricItem {
                id: 7,
                text: "States F = ma".into(),
                points: 2.0,
            },
            RubricItem {
                id: 8,
                text: "Sign error".into(),
                points: -1.0,
            },
            RubricItem {
                id: 9,
                text: "Units".into(),
                points: 0.5,
            },
        ];
        assert_eq!(
            applied_lines(&items, &[9, 7, 8]),
            [
                "States F = ma (+2 pts)",
                "Sign error (−1 pt)",
                "Units (+0.5 pts)"
            ]
        );
        assert_eq!(percent(2.0, 3.0), Some(66.7));
        assert_eq!(percent(1.0, 0.0), None);
    }
}
