//! The grading side of a data dir that both front ends share: settings and prices, the
//! cost estimate, the review of a question's answers, the teacher's overrides and names,
//! and the gradebook export. Each change tells every front end through the event hub, so
//! the window's live view stays right whoever made the change.

use std::path::Path;

use serde::Serialize;
use ts_rs::TS;

use super::Workspace;
use crate::error::CoreError;
use crate::events::{Changed, EventBody};
use crate::exams::{self, ExamError, ItemView, Override, ReviewRow};
use crate::grading::estimate::{self, BatchActual, BatchEstimate};
use crate::grading::gemini::GeminiGrader;
use crate::grading::pricing::{self, Price};
use crate::grading::ApiKey;
use crate::queue;
use crate::settings::{self, KeySource, KeyStore, Settings, SettingsError};
use crate::store::{now_ms, StoreError};

/// The settings page's view: no key, only its masked tail and where it is kept.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SettingsView {
    /// As stored in the data dir.
    pub settings: Settings,
    /// What grading uses: the stored settings with the environment's overrides.
    pub effective: Settings,
    pub prices: Vec<Price>,
    /// The key's last four characters ("••••1234"), or null when there is none.
    pub api_key: Option<String>,
    pub api_key_source: KeySource,
}

/// What the answers still to grade should cost, and what graded ones did.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Estimate {
    pub to_grade: BatchEstimate,
    pub graded: BatchActual,
}

impl Workspace {
    /// The stored settings with the environment's overrides: what grading uses.
    pub async fn settings(&self) -> Result<Settings, CoreError> {
        Ok(self
            .store
            .run(|conn| Settings::load(conn))
            .await?
            .with_env_overrides())
    }

    /// The settings page's view, with the key from `keys` masked.
    pub async fn settings_view(&self, keys: &KeyStore) -> Result<SettingsView, CoreError> {
        let (stored, prices) = self
            .store
            .run(|conn| -> Result<_, SettingsError> {
                Ok((Settings::load(conn)?, pricing::list_prices(conn)?))
            })
            .await?;
        let (key, source) = keys.load();
        Ok(SettingsView {
            effective: stored.clone().with_env_overrides(),
            settings: stored,
            prices,
            api_key: settings::mask(key.as_deref()),
            api_key_source: source,
        })
    }

    /// Stores the settings (checked first) and the prices, in one transaction.
    pub async fn save_settings(
        &self,
        settings: Settings,
        prices: Vec<Price>,
    ) -> Result<(), CoreError> {
        for price in &prices {
            validate_price(price)?;
        }
        self.store
            .run(move |conn| -> Result<(), SettingsError> {
                let tx = conn.transaction()?;
                settings.save(&tx)?;
                for price in &prices {
                    pricing::set_price(&tx, price)?;
                }
                Ok(tx.commit()?)
            })
            .await?;
        Ok(())
    }

    /// Changes one setting by name (`model`, `concurrency`, …), as the CLI's `settings set`;
    /// `confirm_host` confirms that a new base URL's host may receive the API key.
    pub async fn set_setting(
        &self,
        name: String,
        value: String,
        confirm_host: Option<String>,
    ) -> Result<(), CoreError> {
        self.store
            .run(move |conn| {
                Settings::load(conn)?
                    .with_confirmed(&name, &value, confirm_host.as_deref())?
                    .save(conn)
            })
            .await?;
        Ok(())
    }

    /// Sets the price per million tokens for the models whose id starts with the prefix.
    pub async fn set_price(&self, price: Price) -> Result<(), CoreError> {
        validate_price(&price)?;
        self.store
            .run(move |conn| -> Result<(), SettingsError> { Ok(pricing::set_price(conn, &price)?) })
            .await?;
        Ok(())
    }

    /// Asks Gemini whether `key` and the configured model work; the error says what to fix.
    pub async fn test_api_key(&self, key: ApiKey) -> Result<String, CoreError> {
        let settings = self.settings().await?;
        settings.check_base_url("base_url")?;
        let grader = GeminiGrader::new(settings.gemini_config(key))
            .map_err(|e| CoreError::Invalid(e.to_string()))?;
        grader
            .test_key()
            .await
            .map_err(|e| CoreError::ApiKey(e.to_string()))?;
        Ok(format!("the API key works with {}", settings.model))
    }

    /// The estimate for the answers still to grade (one exam or all) and the cost so far.
    /// Decodes each crop the way the worker will, so it runs off the executor.
    pub async fn estimate(&self, exam_id: Option<i64>) -> Result<Estimate, CoreError> {
        let settings = self.settings().await?;
        self.store
            .run(move |conn| -> Result<Estimate, ExamError> {
                Ok(Estimate {
                    to_grade: estimate::estimate_pending(
                        conn,
                        exam_id,
                        settings.active_model(),
                        &settings.media_resolution,
                        settings.thinking_budget,
                    )?,
                    graded: estimate::actual(conn, exam_id)?,
                })
            })
            .await
            .map_err(CoreError::from)
    }

    /// One question's answers across the class, flagged ones first.
    pub async fn review_items(
        &self,
        exam_id: i64,
        question_label: String,
    ) -> Result<Vec<ReviewRow>, CoreError> {
        Ok(self
            .store
            .run(move |conn| exams::review_rows(conn, exam_id, &question_label))
            .await?)
    }

    /// The teacher's score for an answer (refused outside 0..max points); every front end
    /// gets the answer's new view.
    pub async fn override_score(
        &self,
        item_id: i64,
        score: f64,
        note: Option<String>,
    ) -> Result<Override, CoreError> {
        let saved = self
            .store
            .run(move |conn| exams::set_override(conn, item_id, score, note.as_deref()))
            .await?;
        self.emit_item(item_id).await;
        Ok(saved)
    }

    /// Corrects the student's name of a scan; front ends refetch their lists.
    pub async fn rename_student(
        &self,
        submission_id: i64,
        student: String,
    ) -> Result<(), CoreError> {
        self.store
            .run(move |conn| exams::rename_student(conn, submission_id, &student))
            .await?;
        self.events.emit(EventBody::Changed {
            what: Changed::Submissions,
        });
        Ok(())
    }

    /// Every answer (or one submission's), as the lists show them.
    pub async fn items(&self, submission_id: Option<i64>) -> Result<Vec<ItemView>, CoreError> {
        Ok(self
            .store
            .run(move |conn| exams::item_views(conn, submission_id))
            .await?)
    }

    /// One answer's view.
    pub async fn item(&self, item_id: i64) -> Result<ItemView, CoreError> {
        Ok(self
            .store
            .run(move |conn| exams::item_view(conn, item_id))
            .await?)
    }

    /// Cancels a job by its id (the CLI's `cancel --job`); refused when it is not live.
    pub async fn cancel_job(&self, job_id: i64) -> Result<(), CoreError> {
        let cancelled = self
            .store
            .run(move |conn| queue::cancel(conn, job_id, now_ms()))
            .await?;
        if !cancelled {
            return Err(CoreError::Invalid(format!(
                "job {job_id} is not queued or running"
            )));
        }
        self.events.emit(EventBody::Changed { what: Changed::All });
        Ok(())
    }

    /// Why queued answers cannot start now, if a pause holds them all (a teacher's pause or
    /// a daily quota), in a sentence.
    pub async fn blocking_pause(&self) -> Result<Option<String>, CoreError> {
        let pauses = self
            .store
            .run(|conn| queue::blocking_pauses(conn, now_ms()))
            .await?;
        Ok(pauses.first().map(|pause| match pause.until_ms {
            Some(until) => format!("{} (until {})", pause.reason, clock_time(until)),
            None => format!("{}; `gradedesk resume` lifts the pause", pause.reason),
        }))
    }

    /// Writes the exam's gradebook CSV to `out`; returns the number of rows.
    pub async fn export_csv(&self, exam_id: i64, out: &Path) -> Result<usize, CoreError> {
        let rows = self
            .store
            .run(move |conn| exams::gradebook(conn, exam_id))
            .await?;
        let out = out.to_path_buf();
        let count = rows.len();
        tokio::task::spawn_blocking(move || crate::export::write_csv(&rows, &out))
            .await
            .map_err(|_| CoreError::Store(StoreError::Join))??;
        Ok(count)
    }
}

fn validate_price(price: &Price) -> Result<(), CoreError> {
    if price.input_per_mtok >= 0.0 && price.output_per_mtok >= 0.0 {
        Ok(())
    } else {
        Err(CoreError::Invalid(
            "prices are dollars per million tokens, 0 or more".into(),
        ))
    }
}

/// A time of day in UTC for messages ("14:05 UTC"): there is no time-zone database here.
fn clock_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let day_secs = secs.rem_euclid(86_400);
    format!("{:02}:{:02} UTC", day_secs / 3600, (day_secs % 3600) / 60)
}
