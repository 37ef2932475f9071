//! Rubric items and review routing, as both front ends ask them: editing a question's items
//! (every answer that has an item re-scored at once, no model call), the teacher's item
//! toggles, accepts and transcription corrections, an exam's routing policy, and grading a
//! question again after its rubric grew.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Workspace;
use crate::error::CoreError;
use crate::events::{Changed, EventBody};
use crate::exams::{
    self, ExamError, Override, Question, RegradeOffer, ReviewRouting, RubricChange,
};
use crate::queue::{self, NewJob};
use crate::rubric::routing::ReviewPolicy;
use crate::rubric::{RubricItemInput, Scoring};
use crate::store::now_ms;

/// A question after an edit, with what the edit did to its answers.
#[derive(Debug, Clone, Serialize, TS)]
pub struct QuestionEdited {
    pub question: Question,
    pub change: RubricChange,
    /// Set when items were added to a question with graded answers: what grading it again
    /// would cost (the teacher decides).
    pub regrade: Option<RegradeOffer>,
}

/// One change to a question's items, as the CLI names it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, TS)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum RubricEdit {
    /// A new item at the end.
    Add { text: String, points: f64 },
    /// An item's text or points (absent: unchanged).
    Change {
        id: i64,
        #[ts(optional)]
        text: Option<String>,
        #[ts(optional)]
        points: Option<f64>,
    },
    /// An item removed (answers that had it lose its points).
    Delete { id: i64 },
    /// How the items count.
    Scoring { scoring: Scoring },
}

/// The items after `edit`, or why it cannot apply.
fn apply_edit(question: &Question, edit: &RubricEdit) -> Result<Vec<RubricItemInput>, ExamError> {
    let mut items: Vec<RubricItemInput> = question
        .items
        .iter()
        .map(|i| RubricItemInput {
            id: Some(i.id),
            text: i.text.clone(),
            points: i.points,
        })
        .collect();
    let missing = |id: i64| {
        ExamError::NotFound(format!(
            "{} has no rubric item {id}: `gradedesk rubric list` shows its items",
            question.label
        ))
    };
    match edit {
        RubricEdit::Add { text, points } => items.push(RubricItemInput {
            id: None,
            text: text.clone(),
            points: *points,
        }),
        RubricEdit::Change { id, text, points } => {
            let item = items
                .iter_mut()
                .find(|i| i.id == Some(*id))
                .ok_or_else(|| missing(*id))?;
            if let Some(text) = text {
                item.text = text.clone();
            }
            if let Some(points) = points {
                item.points = *points;
            }
        }
        RubricEdit::Delete { id } => {
            let before = items.len();
            items.retain(|i| i.id != Some(*id));
            if items.len() == before {
                return Err(missing(*id));
            }
        }
        RubricEdit::Scoring { .. } => {}
    }
    Ok(items)
}

impl Workspace {
    /// The exam's question labelled `label` (case aside), with its items.
    pub async fn question_by_label(
        &self,
        exam_id: i64,
        label: String,
    ) -> Result<Question, CoreError> {
        let exams = self.exams().await?;
        let exam = exams
            .into_iter()
            .find(|e| e.id == exam_id)
            .ok_or_else(|| ExamError::NotFound(format!("there is no exam number {exam_id}")))?;
        let found = exam
            .questions
            .into_iter()
            .find(|q| q.label.eq_ignore_ascii_case(label.trim()));
        Ok(found.ok_or_else(|| {
            ExamError::NotFound(format!(
                "exam {exam_id} has no question labelled \"{}\"",
                label.trim()
            ))
        })?)
    }

    /// Edits a question; see [`exams::update_question`] for what may change when. The
    /// answers an item edit re-scored are sent to the front ends as they now stand.
    pub async fn update_question(
        &self,
        question_id: i64,
        question: exams::QuestionInput,
    ) -> Result<QuestionEdited, CoreError> {
        let edited = self
            .store
            .run(move |conn| -> Result<QuestionEdited, CoreError> {
                let tx = conn.transaction()?;
                let (question, change) = exams::update_question(&tx, question_id, &question)?;
                let regrade = if change.added > 0 && change.graded_before > 0 {
                    Some(exams::regrade_offer(&tx, question_id)?)
                } else {
                    None
                };
                tx.commit()?;
                Ok(QuestionEdited {
                    question,
                    change,
                    regrade,
                })
            })
            .await?;
        self.events.emit(EventBody::Changed {
            what: Changed::Exams,
        });
        for item_id in &edited.change.rescored {
            self.emit_item(*item_id).await;
        }
        Ok(edited)
    }

    /// One change to the items of the exam's question `label` (the CLI's `rubric edit`).
    pub async fn edit_rubric(
        &self,
        exam_id: i64,
        label: String,
        edit: RubricEdit,
    ) -> Result<QuestionEdited, CoreError> {
        let question = self.question_by_label(exam_id, label).await?;
        let items = apply_edit(&question, &edit)?;
        let scoring = match edit {
            RubricEdit::Scoring { scoring } => scoring,
            _ => question.scoring,
        };
        let input = exams::QuestionInput {
            label: question.label.clone(),
            prompt: question.prompt.clone(),
            max_points: question.max_points,
            rubric: question.rubric.clone(),
            reference_answer: question.reference_answer.clone(),
            scoring,
            items,
        };
        self.update_question(question.id, input).await
    }

    /// The teacher's decision by rubric items (number keys in review): the core scores them.
    pub async fn set_answer_items(
        &self,
        item_id: i64,
        rubric_item_ids: Vec<i64>,
        note: Option<String>,
    ) -> Result<Override, CoreError> {
        let saved = self
            .store
            .run(move |conn| {
                exams::set_teacher_items(conn, item_id, &rubric_item_ids, note.as_deref())
            })
            .await?;
        self.emit_item(item_id).await;
        Ok(saved)
    }

    /// The teacher accepts the AI's grade as it is.
    pub async fn accept_answer(&self, item_id: i64) -> Result<Override, CoreError> {
        let saved = self
            .store
            .run(move |conn| exams::accept_grade(conn, item_id))
            .await?;
        self.emit_item(item_id).await;
        Ok(saved)
    }

    /// The teacher's correction of an answer's transcription (blank: the model's again).
    pub async fn set_transcription(&self, item_id: i64, text: String) -> Result<(), CoreError> {
        self.store
            .run(move |conn| exams::set_transcription(conn, item_id, &text))
            .await?;
        self.emit_item(item_id).await;
        Ok(())
    }

    /// How a question's review is routed (counts, agreement, the policy).
    pub async fn review_routing(
        &self,
        exam_id: i64,
        label: String,
    ) -> Result<ReviewRouting, CoreError> {
        Ok(self
            .store
            .run(move |conn| exams::review_routing(conn, exam_id, &label))
            .await?)
    }

    /// An exam's routing policy.
    pub async fn review_policy(&self, exam_id: i64) -> Result<ReviewPolicy, CoreError> {
        Ok(self
            .store
            .run(move |conn| exams::review_policy(conn, exam_id))
            .await?)
    }

    /// Changes an exam's routing policy; the review lists re-route at once.
    pub async fn set_review_policy(
        &self,
        exam_id: i64,
        policy: ReviewPolicy,
    ) -> Result<ReviewPolicy, CoreError> {
        self.store
            .run(move |conn| exams::set_review_policy(conn, exam_id, &policy))
            .await?;
        self.events.emit(EventBody::Changed {
            what: Changed::Exams,
        });
        self.review_policy(exam_id).await
    }

    /// What grading a question again would cost.
    pub async fn regrade_offer(&self, question_id: i64) -> Result<RegradeOffer, CoreError> {
        Ok(self
            .store
            .run(move |conn| exams::regrade_offer(conn, question_id))
            .await?)
    }

    /// Grades a question's answers again (after its rubric grew): their AI grades are taken
    /// off and each is queued, in one transaction. Returns how many were queued.
    pub async fn regrade_question(&self, question_id: i64) -> Result<usize, CoreError> {
        let items = self
            .store
            .run(move |conn| -> Result<Vec<i64>, CoreError> {
                let tx = conn.transaction()?;
                let items = exams::clear_grades_for_regrade(&tx, question_id)?;
                let jobs: Vec<NewJob> = items.iter().map(|i| NewJob::grade_item(*i)).collect();
                queue::enqueue_many(&tx, &jobs, now_ms())?;
                tx.commit()?;
                Ok(items)
            })
            .await?;
        for item_id in &items {
            self.emit_item(*item_id).await;
        }
        self.events.emit(EventBody::Changed {
            what: Changed::Queue,
        });
        Ok(items.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rubric::RubricItem;

    fn question() -> Question {
        Question {
            id: 1,
            label: "Q1".into(),
            prompt: "p".into(),
            max_points: 4.0,
            rubric: String::new(),
            reference_answer: String::new(),
            scoring: Scoring::Positive,
            items: vec![
                RubricItem {
                    id: 5,
                    text: "formula".into(),
                    points: 2.0,
                },
                RubricItem {
                    id: 6,
                    text: "units".into(),
                    points: 1.0,
                },
            ],
        }
    }

    #[test]
    fn an_edit_keeps_the_other_items_and_their_ids() {
        let q = question();
        let added = apply_edit(
            &q,
            &RubricEdit::Add {
                text: "sign".into(),
                points: -1.0,
            },
        )
        .unwrap();
        assert_eq!(added.len(), 3);
        assert_eq!(added[2].id, None);
        let changed = apply_edit(
            &q,
            &RubricEdit::Change {
                id: 6,
                text: None,
                points: Some(1.5),
            },
        )
        .unwrap();
        assert_eq!(changed[1].points, 1.5);
        assert_eq!(changed[1].text, "units");
        let deleted = apply_edit(&q, &RubricEdit::Delete { id: 5 }).unwrap();
        assert_eq!(
            deleted.iter().map(|i| i.id).collect::<Vec<_>>(),
            vec![Some(6)]
        );
        assert!(apply_edit(&q, &RubricEdit::Delete { id: 9 })
            .unwrap_err()
            .to_string()
            .contains("no rubric item 9"));
    }
}
