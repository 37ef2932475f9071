//! Whether an answer may be accepted without the teacher: only when nothing flagged it, its
//! confidence reaches the exam's threshold, and the AI has *measured* agreement with the
//! teacher on its question (on enough reviewed answers). Everything else waits in review,
//! with the reason. Decided when read, so the answers of a question are accepted the moment
//! the teacher's reviews prove the AI right on it, and go back to review if they stop doing so.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Reviewed answers a question needs before its agreement counts.
pub const MIN_REVIEWED: u32 = 10;

/// An exam's routing settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ReviewPolicy {
    /// Off (the default) until the teacher turns it on: every answer waits for them.
    pub auto_accept: bool,
    /// The model's confidence an answer needs (0..1).
    pub confidence_threshold: f64,
    /// The share of reviewed answers on which the AI gave the teacher's score (0..1).
    pub agreement_target: f64,
    /// Grade every answer twice; a disagreement beyond one point goes to review.
    pub double_grading: bool,
}

impl Default for ReviewPolicy {
    fn default() -> Self {
        Self {
            auto_accept: false,
            confidence_threshold: 0.8,
            agreement_target: 0.9,
            double_grading: false,
        }
    }
}

/// How the AI has done against the teacher on a question so far.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MeasuredAgreement {
    /// Answers the teacher accepted or overrode.
    pub reviewed: u32,
    /// Of those, the ones where the AI's score was the teacher's.
    pub exact: u32,
}

impl MeasuredAgreement {
    /// The share of exact agreement, once there is a review.
    pub fn share(&self) -> Option<f64> {
        (self.reviewed > 0).then(|| f64::from(self.exact) / f64::from(self.reviewed))
    }
}

/// What is known about one graded answer for routing.
#[derive(Debug, Clone, Default)]
pub struct AnswerEvidence {
    /// The teacher accepted or overrode it.
    pub decided_by_teacher: bool,
    /// The core's own flag (see `guard`).
    pub core_flag: Option<String>,
    /// Two gradings more than a point apart: (first, second).
    pub disagreement: Option<(f64, f64)>,
    /// The model asked for review, and why.
    pub model_flag: Option<String>,
    pub confidence: Option<f64>,
}

/// Where an answer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Something is wrong with it: the teacher must look (shown first).
    Flagged,
    /// Waiting for the teacher because the evidence does not allow skipping them.
    Waiting,
    /// Accepted without review, on the measured evidence.
    AutoAccepted,
    /// The teacher accepted or overrode it.
    Teacher,
}

/// The decision and the sentence that explains it.
#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    pub route: Route,
    pub reason: Option<String>,
}

impl Routing {
    /// Whether the answer still waits for the teacher.
    pub fn needs_review(&self) -> bool {
        matches!(self.route, Route::Flagged | Route::Waiting)
    }
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// Routes one graded answer of question `label`.
pub fn route(
    evidence: &AnswerEvidence,
    agreement: MeasuredAgreement,
    policy: &ReviewPolicy,
    label: &str,
) -> Routing {
    let flag = evidence.core_flag.clone().or_else(|| {
        evidence
            .disagreement
            .map(|(a, b)| format!("the two gradings disagree ({a} and {b} points)"))
    });
    let flag = flag.or_else(|| evidence.model_flag.clone());
    if evidence.decided_by_teacher {
        return Routing {
            route: Route::Teacher,
            reason: flag,
        };
    }
    if let Some(reason) = flag {
        return Routing {
            route: Route::Flagged,
            reason: Some(reason),
        };
    }
    let waiting = |reason: String| Routing {
        route: Route::Waiting,
        reason: Some(reason),
    };
    if !policy.auto_accept {
        return waiting("auto-accept is off: every answer waits for you".into());
    }
    let Some(confidence) = evidence.confidence else {
        return waiting("the model gave no confidence".into());
    };
    if confidence < policy.confidence_threshold {
        return waiting(format!(
            "confidence {confidence:.2} is below the exam's {:.2}",
            policy.confidence_threshold
        ));
    }
    if agreement.reviewed < MIN_REVIEWED {
        return waiting(format!(
            "agreement on {label} is not known yet ({} of {MIN_REVIEWED} answers reviewed)",
            agreement.reviewed
        ));
    }
    let share = agreement.share().unwrap_or(0.0);
    if share < policy.agreement_target {
        return waiting(format!(
            "the AI gave your score on {} of {} reviewed {label} answers ({}), below the {} target",
            agreement.exact,
            agreement.reviewed,
            percent(share),
            percent(policy.agreement_target)
        ));
    }
    Routing {
        route: Route::AutoAccepted,
        reason: Some(format!(
            "accepted: confidence {confidence:.2} ≥ {:.2} and the AI gave your score on {} of {} reviewed {label} answers ({})",
            policy.confidence_threshold,
            agreement.exact,
            agreement.reviewed,
            percent(share)
        )),
    }
}

/// Two scores disagree when they are more than a point apart.
pub fn disagree(first: f64, second: f64) -> bool {
    (first - second).abs() > 1.0 + 1e-9
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on() -> ReviewPolicy {
        ReviewPolicy {
            auto_accept: true,
            ..ReviewPolicy::default()
        }
    }

    fn confident(c: f64) -> AnswerEvidence {
        AnswerEvidence {
            confidence: Some(c),
            ..AnswerEvidence::default()
        }
    }

    const GOOD: MeasuredAgreement = MeasuredAgreement {
        reviewed: 10,
        exact: 9,
    };

    #[test]
    fn only_confident_answers_of_a_question_with_measured_agreement_skip_review() {
        let accepted = route(&confident(0.9), GOOD, &on(), "Q1");
        assert_eq!(accepted.route, Route::AutoAccepted);
        assert!(!accepted.needs_review());
        assert!(accepted.reason.unwrap().contains("9 of 10"));

        let off = route(&confident(0.9), GOOD, &ReviewPolicy::default(), "Q1");
        assert_eq!(off.route, Route::Waiting);
        assert!(off.reason.unwrap().contains("auto-accept is off"));

        let unsure = route(&confident(0.7), GOOD, &on(), "Q1");
        assert_eq!(
            unsure.reason.unwrap(),
            "confidence 0.70 is below the exam's 0.80"
        );

        let few = MeasuredAgreement {
            reviewed: 9,
            exact: 9,
        };
        assert!(route(&confident(0.9), few, &on(), "Q1")
            .reason
            .unwrap()
            .contains("9 of 10 answers reviewed"));

        let poor = MeasuredAgreement {
            reviewed: 20,
            exact: 17,
        };
        let waiting = route(&confident(0.99), poor, &on(), "Q2");
        assert_eq!(waiting.route, Route::Waiting);
        assert!(waiting
            .reason
            .unwrap()
            .contains("17 of 20 reviewed Q2 answers (85%), below the 90% target"));

        assert_eq!(
            route(&AnswerEvidence::default(), GOOD, &on(), "Q1").route,
            Route::Waiting
        );
    }

    #[test]
    fn flags_always_reach_the_teacher_and_their_decision_ends_review() {
        let injected = AnswerEvidence {
            core_flag: Some("the answer addresses the grader".into()),
            confidence: Some(1.0),
            ..AnswerEvidence::default()
        };
        let r = route(&injected, GOOD, &on(), "Q1");
        assert_eq!(r.route, Route::Flagged);
        assert!(r.needs_review());
        let split = AnswerEvidence {
            disagreement: Some((3.0, 1.0)),
            confidence: Some(0.95),
            ..AnswerEvidence::default()
        };
        assert_eq!(
            route(&split, GOOD, &on(), "Q1").reason.unwrap(),
            "the two gradings disagree (3 and 1 points)"
        );
        let decided = AnswerEvidence {
            decided_by_teacher: true,
            ..injected
        };
        let r = route(&decided, GOOD, &ReviewPolicy::default(), "Q1");
        assert_eq!(r.route, Route::Teacher);
        assert!(!r.needs_review());
        assert!(disagree(3.0, 1.5));
        assert!(!disagree(3.0, 2.0));
    }
}
