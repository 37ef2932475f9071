//! Grading, as the fake does it. It reads the request the way a model would: the maximum
//! points and the rubric items (`[item N] +P pts: …`) from the system instruction, the
//! answer's form from the response schema (a score, or the items that apply). A real model
//! reads the handwriting; the fake derives its reading from the image's bytes, or answers
//! with a grade a test scripted (`POST /_fake/grades`, `--grades FILE`), consumed in order:
//! the items it names (valid or not), its transcription (an injected instruction, say), its
//! confidence.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// A scripted grade: every field left out is the fake's usual answer for the image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeScript {
    #[serde(default)]
    pub transcription: Option<String>,
    /// Rubric item ids to name, sent as they are (an unknown id tests the client).
    #[serde(default)]
    pub items: Option<Vec<i64>>,
    /// Rubric items to name by their place in the rubric (1 = first).
    #[serde(default)]
    pub positions: Option<Vec<usize>>,
    /// The score, for a question without items (or to send one anyway).
    #[serde(default)]
    pub score: Option<f64>,
    #[serde(default)]
    pub confidence: Option<f64>,
    #[serde(default)]
    pub needs_review: Option<bool>,
    #[serde(default)]
    pub review_reason: Option<String>,
    #[serde(default)]
    pub feedback: Option<String>,
}

/// The rubric items the system instruction lists: (id, points), in order.
pub fn rubric_items(system: &str) -> Vec<(i64, f64)> {
    system
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("[item ")?;
            let (id, rest) = rest.split_once(']')?;
            let points = rest.split_whitespace().next()?;
            Some((id.trim().parse().ok()?, points.parse().ok()?))
        })
        .collect()
}

/// The question's points: the schema's score maximum, else the system instruction's
/// "Maximum points: N".
pub fn max_points(schema: &Value, system: &str) -> f64 {
    schema["properties"]["score"]["maximum"]
        .as_f64()
        .or_else(|| {
            system
                .lines()
                .find_map(|l| l.trim().strip_prefix("Maximum points:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(1.0)
}

/// The grade the fake gives an image: derived from its bytes, in half points within 0..=max.
pub fn expected_grade(image: &[u8], max_points: f64) -> (f64, String, String) {
    let digest = Sha256::digest(image);
    let steps = (max_points * 2.0).floor().max(0.0) as u64;
    let score = (u64::from(digest[0]) % (steps + 1)) as f64 / 2.0;
    let tag = hex::encode(&digest[..4]);
    (
        score,
        format!("fake transcription {tag}"),
        format!("fake feedback {tag}"),
    )
}

/// The items the fake "sees" in an image (each item by one bit of its digest), and its
/// confidence in them (0.55..0.99, from another byte).
pub fn expected_items(image: &[u8], items: &[(i64, f64)]) -> (Vec<i64>, f64) {
    let digest = Sha256::digest(image);
    let bits = u64::from_le_bytes(digest[8..16].try_into().unwrap_or([0; 8]));
    let applied = items
        .iter()
        .enumerate()
        .filter(|(k, _)| bits >> (k % 64) & 1 == 1)
        .map(|(_, (id, _))| *id)
        .collect();
    (applied, 0.55 + f64::from(digest[3] % 45) / 100.0)
}

/// The JSON text of the model's answer for `image`, as the schema asks.
pub fn reply_text(
    script: Option<GradeScript>,
    image: &[u8],
    schema: &Value,
    system: &str,
) -> String {
    let script = script.unwrap_or_default();
    let max = max_points(schema, system);
    let (score, transcription, feedback) = expected_grade(image, max);
    let transcription = script.transcription.unwrap_or(transcription);
    let feedback = script.feedback.unwrap_or(feedback);
    let mut answer = json!({"transcription": transcription});
    let wants_items = schema["properties"].get("applied_items").is_some();
    let mut confidence = 0.8;
    if wants_items {
        let listed = rubric_items(system);
        let (seen, seen_confidence) = expected_items(image, &listed);
        confidence = seen_confidence;
        let ids: Vec<i64> = match (script.items, script.positions) {
            (Some(ids), _) => ids,
            (None, Some(positions)) => positions
                .iter()
                .filter_map(|p| listed.get(p.wrapping_sub(1)).map(|(id, _)| *id))
                .collect(),
            (None, None) => seen,
        };
        answer["applied_items"] = ids
            .iter()
            .map(|id| json!({"id": id, "evidence": format!("evidence for item {id}")}))
            .collect();
        if let Some(score) = script.score {
            answer["score"] = json!(score);
        }
    } else {
        answer["score"] = json!(script.score.unwrap_or(score));
    }
    answer["feedback"] = json!(feedback);
    answer["confidence"] = json!(script.confidence.unwrap_or(confidence));
    answer["needs_review"] = json!(script.needs_review.unwrap_or(false));
    if let Some(reason) = script.review_reason {
        answer["review_reason"] = json!(reason);
    }
    answer.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_and_points_are_read_from_the_instruction() {
        let system = "rules\n<<<QUESTION>>>\nQuestion Q1: p\nMaximum points: 4\n<<<END QUESTION>>>\n[item 12] +2 pts: formula\n[item 13] -0.5 pts: sign\n";
        assert_eq!(rubric_items(system), vec![(12, 2.0), (13, -0.5)]);
        assert_eq!(max_points(&json!({}), system), 4.0);
        let schema = json!({"properties": {"applied_items": {}}});
        let scripted = GradeScript {
            positions: Some(vec![2]),
            confidence: Some(0.95),
            ..Default::default()
        };
        let reply: Value =
            serde_json::from_str(&reply_text(Some(scripted), b"img", &schema, system)).unwrap();
        assert_eq!(reply["applied_items"][0]["id"], 13);
        assert_eq!(reply["confidence"], 0.95);
        assert!(reply.get("score").is_none());
    }
}
