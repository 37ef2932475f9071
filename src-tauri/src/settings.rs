//! Grading settings and the API key.
//!
//! Non-secret settings (provider, model, base URLs, concurrency, limits) live in the data
//! dir's SQLite `settings` table, so the window, the CLI and a headless worker on the same
//! data dir agree. The API key never goes there: it lives in the OS keyring when one is
//! available, else in a file only the user can read in the config dir; `GEMINI_API_KEY`
//! overrides both (scripts, CI).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use crate::grading::gemini::{GeminiConfig, GeminiGrader, DEFAULT_BASE_URL, DEFAULT_MODEL};
use crate::grading::openai::{OpenAiConfig, OpenAiGrader};
use crate::grading::{ApiKey, Grader};

/// Which service grades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Google Gemini's generateContent API.
    Gemini,
    /// An OpenAI-compatible server (a local Ollama, LM Studio or vLLM vision model).
    Openai,
}

/// The teacher's grading settings. Every field has a default, so an old settings row with a
/// field missing still loads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub provider: Provider,
    /// Gemini model id, e.g. gemini-2.5-flash.
    pub model: String,
    /// Gemini base URL (a proxy, or the test fake).
    pub base_url: String,
    /// OpenAI-compatible base URL including /v1, e.g. http://127.0.0.1:11434/v1.
    pub openai_base_url: String,
    /// The local vision model's name, e.g. qwen2.5vl:7b.
    pub openai_model: String,
    /// Answers graded at once.
    pub concurrency: u16,
    /// Requests per minute the pool may send (the provider's tier limit); 0 = no limit.
    pub requests_per_minute: u32,
    /// Requests per day (free tiers); 0 = no limit.
    pub requests_per_day: u32,
    /// Seconds before a request counts as timed out.
    pub request_timeout_secs: u64,
    /// Gemini 2.x thinking budget in tokens.
    pub thinking_budget: i64,
    /// Gemini 3.x thinking level.
    pub thinking_level: String,
    /// Gemini 3.x media resolution: low, medium or high.
    pub media_resolution: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            provider: Provider::Gemini,
            model: DEFAULT_MODEL.into(),
            base_url: DEFAULT_BASE_URL.into(),
            openai_base_url: "http://127.0.0.1:11434/v1".into(),
            openai_model: "qwen2.5vl:7b".into(),
            concurrency: 4,
            requests_per_minute: 0,
            requests_per_day: 0,
            request_timeout_secs: 120,
            thinking_budget: 1024,
            thinking_level: "low".into(),
            media_resolution: "high".into(),
        }
    }
}

/// Why settings or the key could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0}")]
    Invalid(String),
    #[error("the settings could not be stored: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("the API key could not be stored in {path}: {source}")]
    KeyFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Settings {
    /// Checks values a teacher could mistype, with a sentence saying what is wrong.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let bad = |m: &str| Err(SettingsError::Invalid(m.into()));
        if self.model.trim().is_empty()
            || self.model.contains('/') && !self.model.starts_with("models/")
        {
            return bad("the model must be a Gemini model id such as gemini-2.5-flash");
        }
        for url in [&self.base_url, &self.openai_base_url] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return bad("a base URL must start with https:// or http://");
            }
        }
        if !(1..=64).contains(&self.concurrency) {
            return bad("concurrency must be between 1 and 64");
        }
        if !(1..=3600).contains(&self.request_timeout_secs) {
            return bad("the request timeout must be between 1 and 3600 seconds");
        }
        if !(-1..=32_768).contains(&self.thinking_budget) {
            return bad("the thinking budget must be between -1 (dynamic) and 32768 tokens");
        }
        if !["minimal", "low", "medium", "high"].contains(&self.thinking_level.as_str()) {
            return bad("the thinking level must be minimal, low, medium or high");
        }
        if !["low", "medium", "high"].contains(&self.media_resolution.as_str()) {
            return bad("the media resolution must be low, medium or high");
        }
        Ok(())
    }

    /// The settings stored in the data dir (defaults when none are).
    pub fn load(conn: &Connection) -> Result<Self, SettingsError> {
        let stored: Option<String> = conn
            .query_row(
                "SELECT value FROM settings WHERE key = 'grading'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        match stored {
            None => Ok(Self::default()),
            Some(text) => serde_json::from_str(&text).map_err(|e| {
                SettingsError::Invalid(format!(
                    "the stored settings could not be read ({e}); save them again"
                ))
            }),
        }
    }

    /// Validates and stores the settings.
    pub fn save(&self, conn: &Connection) -> Result<(), SettingsError> {
        self.validate()?;
        let text =
            serde_json::to_string(self).map_err(|e| SettingsError::Invalid(e.to_string()))?;
        conn.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES ('grading', ?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            params![text, crate::store::now_ms()],
        )?;
        Ok(())
    }

    /// Changes one setting by name; `value` is JSON when it parses as JSON, else a string.
    pub fn with(&self, name: &str, value: &str) -> Result<Self, SettingsError> {
        let mut all =
            serde_json::to_value(self).map_err(|e| SettingsError::Invalid(e.to_string()))?;
        let Some(map) = all.as_object_mut() else {
            return Err(SettingsError::Invalid("settings are not an object".into()));
        };
        if !map.contains_key(name) {
            let names: Vec<&String> = map.keys().collect();
            return Err(SettingsError::Invalid(format!(
                "there is no setting \"{name}\"; the settings are {names:?}"
            )));
        }
        let parsed =
            serde_json::from_str::<Value>(value).unwrap_or_else(|_| Value::String(value.into()));
        map.insert(name.to_string(), parsed);
        let next: Self = serde_json::from_value(all)
            .map_err(|e| SettingsError::Invalid(format!("\"{value}\" does not fit {name}: {e}")))?;
        next.validate()?;
        Ok(next)
    }

    /// The settings with `GEMINI_BASE_URL` and `GRADEDESK_MODEL` applied: the environment
    /// wins for a session (scripts, tests, a proxy for one run).
    pub fn with_env_overrides(mut self) -> Self {
        let non_empty = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if let Some(url) = non_empty("GEMINI_BASE_URL") {
            self.base_url = url;
        }
        if let Some(model) = non_empty("GRADEDESK_MODEL") {
            self.model = model;
        }
        if let Some(url) = non_empty("GRADEDESK_OPENAI_BASE_URL") {
            self.openai_base_url = url;
        }
        self
    }

    /// The Gemini client configuration these settings describe.
    pub fn gemini_config(&self, key: ApiKey) -> GeminiConfig {
        let mut config = GeminiConfig::new(self.base_url.clone(), self.model.clone(), key);
        config.timeout = Duration::from_secs(self.request_timeout_secs);
        config.thinking_budget = self.thinking_budget;
        config.thinking_level = self.thinking_level.clone();
        config.media_resolution = self.media_resolution.clone();
        config
    }

    /// The model whose prices and token rules apply.
    pub fn active_model(&self) -> &str {
        match self.provider {
            Provider::Gemini => &self.model,
            Provider::Openai => &self.openai_model,
        }
    }
}

/// Builds the grader the settings choose. The Gemini key is read through `key` on every
/// request, so setting it later needs no rebuild.
pub fn build_grader(settings: &Settings, key: ApiKey) -> Result<Arc<dyn Grader>, SettingsError> {
    let http_error = |e: reqwest::Error| {
        SettingsError::Invalid(format!("could not set up the HTTP client: {e}"))
    };
    Ok(match settings.provider {
        Provider::Gemini => {
            Arc::new(GeminiGrader::new(settings.gemini_config(key)).map_err(http_error)?)
        }
        Provider::Openai => {
            let key = ApiKey::new(std::env::var("GRADEDESK_OPENAI_API_KEY").ok());
            Arc::new(
                OpenAiGrader::new(OpenAiConfig {
                    base_url: settings.openai_base_url.clone(),
                    model: settings.openai_model.clone(),
                    api_key: key,
                    timeout: Duration::from_secs(settings.request_timeout_secs),
                    max_tokens: 4096,
                })
                .map_err(http_error)?,
            )
        }
    })
}

/// Where the key came from, for the settings page ("from the keyring").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    Environment,
    Keyring,
    File,
    None,
}

const KEYRING_SERVICE: &str = "app.gradedesk.desktop";
const KEYRING_USER: &str = "gemini-api-key";
const KEY_FILE: &str = "gemini-api-key";

/// The API key's home: the OS keyring if one answers, else a 0600 file in the config dir.
#[derive(Debug, Clone)]
pub struct KeyStore {
    config_dir: PathBuf,
    use_keyring: bool,
}

impl KeyStore {
    /// A store in `config_dir`; `use_keyring` false keeps tests away from the user's keyring.
    pub fn new(config_dir: &Path, use_keyring: bool) -> Self {
        Self {
            config_dir: config_dir.to_path_buf(),
            use_keyring,
        }
    }

    /// The app's config dir (`GRADEDESK_CONFIG_DIR` overrides); `GRADEDESK_KEYRING=off`
    /// skips the OS keyring.
    pub fn default_location() -> Self {
        let dir = std::env::var_os("GRADEDESK_CONFIG_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                dirs::config_dir()
                    .unwrap_or_else(|| PathBuf::from("."))
                    .join("app.gradedesk.desktop")
            });
        let keyring = std::env::var("GRADEDESK_KEYRING")
            .map(|v| v != "off")
            .unwrap_or(true);
        Self::new(&dir, keyring)
    }

    fn file(&self) -> PathBuf {
        self.config_dir.join(KEY_FILE)
    }

    fn entry(&self) -> Option<keyring::Entry> {
        if !self.use_keyring {
            return None;
        }
        keyring::Entry::new(KEYRING_SERVICE, KEYRING_USER).ok()
    }

    /// The key and where it came from.
    pub fn load(&self) -> (Option<String>, KeySource) {
        if let Some(key) = std::env::var("GEMINI_API_KEY")
            .ok()
            .filter(|k| !k.trim().is_empty())
        {
            return (Some(key), KeySource::Environment);
        }
        if let Some(key) = self.entry().and_then(|e| e.get_password().ok()) {
            if !key.trim().is_empty() {
                return (Some(key), KeySource::Keyring);
            }
        }
        match std::fs::read_to_string(self.file()) {
            Ok(key) if !key.trim().is_empty() => (Some(key.trim().to_string()), KeySource::File),
            _ => (None, KeySource::None),
        }
    }

    /// Stores the key: the keyring if it accepts it (and then no file is left behind), else
    /// the file, created readable by the user only.
    pub fn save(&self, key: &str) -> Result<KeySource, SettingsError> {
        let key = key.trim();
        if key.is_empty() || key.chars().any(char::is_whitespace) {
            return Err(SettingsError::Invalid(
                "an API key is one word with no spaces".into(),
            ));
        }
        if let Some(entry) = self.entry() {
            if entry.set_password(key).is_ok() && entry.get_password().ok().as_deref() == Some(key)
            {
                let _ = std::fs::remove_file(self.file());
                return Ok(KeySource::Keyring);
            }
        }
        let path = self.file();
        let io = |source| SettingsError::KeyFile {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&self.config_dir).map_err(io)?;
        write_private(&path, key).map_err(io)?;
        Ok(KeySource::File)
    }

    /// Forgets the stored key (keyring and file).
    pub fn clear(&self) {
        if let Some(entry) = self.entry() {
            let _ = entry.delete_credential();
        }
        let _ = std::fs::remove_file(self.file());
    }
}

#[cfg(unix)]
fn write_private(path: &Path, key: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    // Written beside and renamed, so a crash never leaves half a key; 0600 from creation.
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(key.as_bytes())?;
    file.sync_all()?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    std::fs::rename(&tmp, path)
}

#[cfg(not(unix))]
fn write_private(path: &Path, key: &str) -> std::io::Result<()> {
    // On Windows the per-user config dir is already private to the user.
    std::fs::write(path, key)
}

/// The key as the UI may show it: the last four characters only.
pub fn mask(key: Option<&str>) -> Option<String> {
    key.map(|k| {
        let tail: String = k
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if k.chars().count() <= 8 {
            "••••".to_string()
        } else {
            format!("••••{tail}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_reject_nonsense() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL)").unwrap();
        assert_eq!(Settings::load(&conn).unwrap(), Settings::default());
        let changed = Settings::default()
            .with("model", "gemini-3-flash-preview")
            .unwrap();
        let changed = changed.with("concurrency", "8").unwrap();
        changed.save(&conn).unwrap();
        assert_eq!(Settings::load(&conn).unwrap().concurrency, 8);
        assert!(Settings::default().with("concurrency", "0").is_err());
        assert!(Settings::default().with("colour", "blue").is_err());
        assert!(Settings::default().with("base_url", "ftp://x").is_err());
        assert!(Settings::default().with("provider", "openai").is_ok());
    }

    #[test]
    fn key_file_is_private_and_masked() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::new(dir.path(), false);
        std::env::remove_var("GEMINI_API_KEY");
        assert_eq!(store.save("AIzaSyExampleKey1234").unwrap(), KeySource::File);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            store.load(),
            (Some("AIzaSyExampleKey1234".into()), KeySource::File)
        );
        assert_eq!(mask(Some("AIzaSyExampleKey1234")).unwrap(), "••••1234");
        store.clear();
        assert_eq!(store.load().1, KeySource::None);
    }
}
