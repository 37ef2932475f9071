//! Rubric items and what the core does with them, as pure functions: the score an answer's
//! applied items are worth (the model's arithmetic is never trusted), the answers the core
//! flags on its own (`guard`), and whether an answer may skip the teacher (`routing`).

pub mod guard;
pub mod routing;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// How a question's items count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "lowercase")]
pub enum Scoring {
    /// Start at 0; each applied item adds its points (Gradescope's "positive scoring").
    #[default]
    Positive,
    /// Start at full marks; items are deductions (negative points) taken off.
    Negative,
}

impl Scoring {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            Scoring::Positive => "positive",
            Scoring::Negative => "negative",
        }
    }

    /// The stored word read back (anything unknown is positive, the default).
    pub fn parse(text: &str) -> Self {
        if text == "negative" {
            Scoring::Negative
        } else {
            Scoring::Positive
        }
    }
}

/// One rubric item of a question: what the model is asked about and the teacher toggles.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct RubricItem {
    /// Stable across edits: the model names items by it and answers keep it.
    pub id: i64,
    pub text: String,
    /// Positive to award, negative to deduct.
    pub points: f64,
}

/// A rubric item as the teacher or a questions file writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct RubricItemInput {
    /// The item this edits; absent for a new item.
    #[serde(default)]
    #[ts(optional)]
    pub id: Option<i64>,
    pub text: String,
    pub points: f64,
}

/// An item the model applied to an answer, with the words it quoted as evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AppliedItem {
    pub item_id: i64,
    pub evidence: String,
}

/// The score of an answer with `applied` items (ids; unknown and repeated ones count once or
/// not at all): the scoring's start plus the items' points, bounded to `0..=max_points`.
pub fn score_from_items(
    items: &[RubricItem],
    applied: &[i64],
    scoring: Scoring,
    max_points: f64,
) -> f64 {
    let start = match scoring {
        Scoring::Positive => 0.0,
        Scoring::Negative => max_points,
    };
    let sum: f64 = items
        .iter()
        .filter(|item| applied.contains(&item.id))
        .map(|item| item.points)
        .sum();
    // Half-point rubrics add up exactly in binary; rounding to 1e-9 removes the rest.
    let score = ((start + sum) * 1e9).round() / 1e9;
    score.clamp(0.0, max_points)
}

/// Why a teacher's or a questions file's item is refused: no text, or points that are not a
/// finite number within ±`max_points`.
pub fn check_item(input: &RubricItemInput, max_points: f64) -> Result<(), String> {
    if input.text.trim().is_empty() {
        return Err("a rubric item needs some text".into());
    }
    if input.text.chars().count() > 2000 {
        return Err("a rubric item's text is limited to 2000 characters".into());
    }
    if !input.points.is_finite() || input.points.abs() > max_points {
        return Err(format!(
            "\"{}\" is worth {} points, outside -{max_points}..{max_points}",
            input.text.trim(),
            input.points
        ));
    }
    Ok(())
}

/// Reads rubric text whose every line is "- text (N pts)" (the form questions files were
/// written down in before items existed) as items; None when any line is not one.
pub fn items_from_lines(rubric: &str) -> Option<Vec<RubricItemInput>> {
    let lines: Vec<&str> = rubric
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return None;
    }
    lines
        .into_iter()
        .map(|line| {
            let body = line.strip_prefix("- ")?.trim();
            let open = body.rfind('(')?;
            let inside = body[open + 1..].strip_suffix(')')?.trim();
            let number = inside
                .strip_suffix("pts")
                .or_else(|| inside.strip_suffix("pt"))?
                .trim();
            let points: f64 = number.parse().ok()?;
            let text = body[..open].trim();
            (!text.is_empty() && points.is_finite()).then(|| RubricItemInput {
                id: None,
                text: text.to_string(),
                points,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: i64, points: f64) -> RubricItem {
        RubricItem {
            id,
            text: format!("item {id}"),
            points,
        }
    }

    #[test]
    fn items_add_up_from_the_scorings_start_and_stay_within_the_points() {
        let items = [item(1, 2.0), item(2, 1.5), item(3, -1.0)];
        assert_eq!(
            score_from_items(&items, &[1, 2], Scoring::Positive, 4.0),
            3.5
        );
        assert_eq!(
            score_from_items(&items, &[1, 2, 2], Scoring::Positive, 4.0),
            3.5
        );
        assert_eq!(
            score_from_items(&items, &[1, 99], Scoring::Positive, 4.0),
            2.0
        );
        assert_eq!(score_from_items(&items, &[3], Scoring::Positive, 4.0), 0.0);
        assert_eq!(
            score_from_items(&items, &[1, 2], Scoring::Positive, 3.0),
            3.0
        );
        assert_eq!(score_from_items(&items, &[], Scoring::Negative, 4.0), 4.0);
        assert_eq!(score_from_items(&items, &[3], Scoring::Negative, 4.0), 3.0);
        let tenths = [item(1, 0.1), item(2, 0.2)];
        assert_eq!(
            score_from_items(&tenths, &[1, 2], Scoring::Positive, 1.0),
            0.3
        );
    }

    #[test]
    fn item_lines_are_read_back_and_anything_else_is_not() {
        let items = items_from_lines(
            "- correct formula (2 pts)\n- units (1 pt)\n\n- sign error (-0.5 pts)",
        )
        .unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].text, "correct formula");
        assert_eq!(items[1].points, 1.0);
        assert_eq!(items[2].points, -0.5);
        assert!(items_from_lines("Award 2 points for the formula").is_none());
        assert!(items_from_lines("- formula (2 pts)\nbe generous").is_none());
        assert!(items_from_lines("").is_none());
        assert!(check_item(&items[0], 4.0).is_ok());
        let big = RubricItemInput {
            id: None,
            text: "x".into(),
            points: 9.0,
        };
        assert!(check_item(&big, 4.0).unwrap_err().contains("outside"));
        let blank = RubricItemInput {
            id: None,
            text: " ".into(),
            points: 1.0,
        };
        assert!(check_item(&blank, 4.0).is_err());
    }
}
