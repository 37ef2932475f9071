//! What a grade costs, and what a batch will cost before it is sent.
//!
//! Token rules follow Google's documentation: on Gemini 2.x an image with both sides at most
//! 384 px is 258 tokens, a larger one is cut into 768×768 tiles of 258 tokens each; on
//! Gemini 3.x an image costs a fixed budget set by the media resolution (low 280, medium 560,
//! high 1120). Prices are per million tokens and live in the `model_prices` table, where
//! the teacher can change them when Google does; thinking tokens are billed as output.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::prompt::{system_instruction, user_text};
use crate::exams::Question;

/// Tokens per image tile (Gemini 2.x) and per small image.
pub const TOKENS_PER_TILE: u64 = 258;
/// Side of one Gemini 2.x image tile.
pub const TILE_SIDE: u32 = 768;

/// The model families whose request and token rules differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Gemini 2.0 / 2.5: tiles, `thinkingBudget`.
    Gemini2,
    /// Gemini 3.x: media resolution levels, `thinkingLevel`.
    Gemini3,
    /// Any other model (an OpenAI-compatible local model): tokens are the server's business.
    Other,
}

impl Family {
    /// The family of a model id such as `gemini-2.5-flash` or `models/gemini-3-pro-preview`.
    pub fn of(model: &str) -> Self {
        let model = model.trim_start_matches("models/");
        if model.starts_with("gemini-3") {
            Family::Gemini3
        } else if model.starts_with("gemini-2") || model.starts_with("gemini-1") {
            Family::Gemini2
        } else {
            Family::Other
        }
    }
}

/// Gemini 2.x image tokens for a `width`×`height` image.
pub fn tile_tokens(width: u32, height: u32) -> u64 {
    if width <= 384 && height <= 384 {
        return TOKENS_PER_TILE;
    }
    let cols = u64::from(width.div_ceil(TILE_SIDE).max(1));
    let rows = u64::from(height.div_ceil(TILE_SIDE).max(1));
    cols * rows * TOKENS_PER_TILE
}

/// Gemini 3.x image tokens for a media resolution name (`low`, `medium`, `high`, or the
/// API's `MEDIA_RESOLUTION_*` spelling). Unknown or unset means the default, high.
pub fn media_resolution_tokens(level: &str) -> u64 {
    match level
        .trim()
        .to_ascii_lowercase()
        .trim_start_matches("media_resolution_")
    {
        "low" => 280,
        "medium" => 560,
        "ultra_high" => 2240,
        _ => 1120,
    }
}

/// Image tokens for a model.
pub fn image_tokens(model: &str, width: u32, height: u32, media_resolution: &str) -> u64 {
    match Family::of(model) {
        Family::Gemini3 => media_resolution_tokens(media_resolution),
        _ => tile_tokens(width, height),
    }
}

/// Text tokens, by Google's rule of thumb of about four characters a token. Only used for
/// estimates; the bill uses the counts the API reports.
pub fn text_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

/// A price per million tokens for the models whose id starts with `model_prefix`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Price {
    pub model_prefix: String,
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

/// The price that applies to `model`: the longest matching prefix.
pub fn price_for(conn: &Connection, model: &str) -> rusqlite::Result<Option<Price>> {
    conn.query_row(
        "SELECT model_prefix, input_per_mtok, output_per_mtok FROM model_prices
         WHERE ?1 LIKE model_prefix || '%' ORDER BY length(model_prefix) DESC LIMIT 1",
        [model.trim_start_matches("models/")],
        |r| {
            Ok(Price {
                model_prefix: r.get(0)?,
                input_per_mtok: r.get(1)?,
                output_per_mtok: r.get(2)?,
            })
        },
    )
    .optional()
}

/// Every price, for the settings page.
pub fn list_prices(conn: &Connection) -> rusqlite::Result<Vec<Price>> {
    let mut stmt = conn.prepare(
        "SELECT model_prefix, input_per_mtok, output_per_mtok FROM model_prices ORDER BY model_prefix",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Price {
            model_prefix: r.get(0)?,
            input_per_mtok: r.get(1)?,
            output_per_mtok: r.get(2)?,
        })
    })?;
    rows.collect()
}

/// Adds or changes a price; grades already stored keep the cost they were given.
pub fn set_price(conn: &Connection, price: &Price) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO model_prices (model_prefix, input_per_mtok, output_per_mtok, updated_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (model_prefix) DO UPDATE SET input_per_mtok = excluded.input_per_mtok,
             output_per_mtok = excluded.output_per_mtok, updated_at = excluded.updated_at",
        params![
            price.model_prefix,
            price.input_per_mtok,
            price.output_per_mtok,
            crate::store::now_ms()
        ],
    )?;
    Ok(())
}

/// Dollars for a number of input and output (answer + thinking) tokens.
pub fn cost(price: &Price, input_tokens: u64, output_tokens: u64) -> f64 {
    (input_tokens as f64 * price.input_per_mtok + output_tokens as f64 * price.output_per_mtok)
        / 1_000_000.0
}

/// Output tokens a grade typically takes: the transcription, the feedback and the JSON
/// around them. A long transcription costs more; this is the planning figure.
pub const EXPECTED_ANSWER_TOKENS: u64 = 250;

/// Thinking tokens to plan for: what the budget or level usually spends on one answer.
pub fn expected_thinking_tokens(model: &str, thinking_budget: i64) -> u64 {
    match Family::of(model) {
        Family::Gemini2 if thinking_budget > 0 => (thinking_budget as u64) / 2,
        Family::Gemini3 => 400,
        _ => 0,
    }
}

/// The estimate for one answer before it is sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AnswerEstimate {
    pub text_tokens: u64,
    pub image_tokens: u64,
    pub output_tokens: u64,
    pub thinking_tokens: u64,
}

impl AnswerEstimate {
    /// Input tokens: what `promptTokenCount` will report.
    pub fn prompt_tokens(&self) -> u64 {
        self.text_tokens + self.image_tokens
    }
}

/// The estimate for one answer of `question` whose prepared image is `width`×`height`.
pub fn estimate_answer(
    model: &str,
    question: &Question,
    width: u32,
    height: u32,
    media_resolution: &str,
    thinking_budget: i64,
) -> AnswerEstimate {
    AnswerEstimate {
        text_tokens: text_tokens(&system_instruction(question)) + text_tokens(&user_text(question)),
        image_tokens: image_tokens(model, width, height, media_resolution),
        output_tokens: EXPECTED_ANSWER_TOKENS,
        thinking_tokens: expected_thinking_tokens(model, thinking_budget),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_tokens_follow_googles_rules() {
        assert_eq!(tile_tokens(384, 384), 258);
        assert_eq!(tile_tokens(385, 100), 258);
        assert_eq!(tile_tokens(768, 768), 258);
        assert_eq!(tile_tokens(769, 768), 516);
        assert_eq!(tile_tokens(1600, 900), 3 * 2 * 258);
        assert_eq!(image_tokens("gemini-3-flash-preview", 4000, 4000, ""), 1120);
        assert_eq!(image_tokens("gemini-3-pro-preview", 10, 10, "low"), 280);
        assert_eq!(media_resolution_tokens("MEDIA_RESOLUTION_MEDIUM"), 560);
        assert_eq!(Family::of("models/gemini-2.5-pro"), Family::Gemini2);
        assert_eq!(Family::of("qwen2.5vl:7b"), Family::Other);
    }
}
