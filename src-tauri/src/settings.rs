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

use crate::grading::endpoint::{valid_model_id, ClientError, Endpoint};
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
    /// The host the teacher confirmed the API key may be sent to, when `base_url` is
    /// neither Google's endpoint nor this computer. A confirmation names one host: a
    /// base URL on another host needs a new one.
    pub base_url_confirmed_host: Option<String>,
    /// OpenAI-compatible base URL including /v1, e.g. http://127.0.0.1:11434/v1.
    pub openai_base_url: String,
    /// Like `base_url_confirmed_host`, for `openai_base_url`.
    pub openai_base_url_confirmed_host: Option<String>,
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
            base_url_confirmed_host: None,
            openai_base_url: "http://127.0.0.1:11434/v1".into(),
            openai_base_url_confirmed_host: None,
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

/// The two base URLs a key may be sent to, with the setting holding each one's
/// confirmation: `(url field, confirmation field, what it is)`.
const BASE_URLS: [(&str, &str, &str); 2] = [
    (
        "base_url",
        "base_url_confirmed_host",
        "your API key and the students' answers",
    ),
    (
        "openai_base_url",
        "openai_base_url_confirmed_host",
        "the students' answers (and GRADEDESK_OPENAI_API_KEY, if set)",
    ),
];

impl Settings {
    fn url_and_confirmation(&self, field: &str) -> (&str, Option<&str>) {
        if field == "base_url" {
            (&self.base_url, self.base_url_confirmed_host.as_deref())
        } else {
            (
                &self.openai_base_url,
                self.openai_base_url_confirmed_host.as_deref(),
            )
        }
    }

    fn confirmation_mut(&mut self, field: &str) -> &mut Option<String> {
        if field == "base_url" {
            &mut self.base_url_confirmed_host
        } else {
            &mut self.openai_base_url_confirmed_host
        }
    }

    /// Checks values a teacher could mistype, with a sentence saying what is wrong. A base
    /// URL must be https (http only to this computer), and one on a host other than
    /// Google's endpoint or this computer needs a confirmation naming that host.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let bad = |m: &str| Err(SettingsError::Invalid(m.into()));
        if !valid_model_id(&self.model) {
            return bad("the model must be a Gemini model id such as gemini-2.5-flash (letters, digits, '.', '_' and '-', optionally after models/)");
        }
        let openai_model = self.openai_model.trim();
        if openai_model.is_empty()
            || openai_model.len() > 200
            || openai_model.chars().any(char::is_control)
        {
            return bad("the local model must be a model name such as qwen2.5vl:7b");
        }
        for (field, _, _) in BASE_URLS {
            self.check_base_url(field)?;
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

    /// Checks one base URL (`base_url` or `openai_base_url`): https, or http to this
    /// computer; and on a host other than Google's or this computer, a confirmation naming
    /// that host.
    pub fn check_base_url(&self, field: &str) -> Result<(), SettingsError> {
        let (url, confirmed) = self.url_and_confirmation(field);
        let what = BASE_URLS
            .iter()
            .find(|(f, _, _)| *f == field)
            .map_or("your API key", |(_, _, what)| *what);
        let endpoint =
            Endpoint::parse(url).map_err(|e| SettingsError::Invalid(format!("{field}: {e}")))?;
        if endpoint.needs_confirmation() && confirmed != Some(endpoint.host()) {
            let host = endpoint.host();
            return Err(SettingsError::Invalid(format!(
                "{what} will be sent to {host}: confirm that host to use this base URL (tick the confirmation in Settings, or run `gradedesk settings set {field} {url} --confirm-host {host}`){}",
                match confirmed {
                    Some(other) => format!("; the confirmation stored is for {other}"),
                    None => String::new(),
                }
            )));
        }
        Ok(())
    }

    /// Checks the base URL of the provider that grades (see [`Settings::check_base_url`]).
    pub fn check_active_base_url(&self) -> Result<(), SettingsError> {
        self.check_base_url(match self.provider {
            Provider::Gemini => "base_url",
            Provider::Openai => "openai_base_url",
        })
    }

    /// The settings without confirmations no base URL needs (a confirmation of a host the
    /// base URL has left must not linger, to be reused without asking when it comes back).
    pub fn without_stale_confirmations(mut self) -> Self {
        for (field, _, _) in BASE_URLS {
            let (url, _) = self.url_and_confirmation(field);
            let needed = Endpoint::parse(url)
                .ok()
                .filter(Endpoint::needs_confirmation);
            let confirmation = self.confirmation_mut(field);
            if needed.is_none_or(|e| confirmation.as_deref() != Some(e.host())) {
                *confirmation = None;
            }
        }
        self
    }

    /// Validates and stores the settings.
    pub fn save(&self, conn: &Connection) -> Result<(), SettingsError> {
        self.validate()?;
        let stored = self.clone().without_stale_confirmations();
        let text =
            serde_json::to_string(&stored).map_err(|e| SettingsError::Invalid(e.to_string()))?;
        conn.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES ('grading', ?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            params![text, crate::store::now_ms()],
        )?;
        Ok(())
    }

    /// Changes one setting by name; `value` is JSON when it parses as JSON, else a string.
    pub fn with(&self, name: &str, value: &str) -> Result<Self, SettingsError> {
        self.with_confirmed(name, value, None)
    }

    /// Changes one setting by name, as [`Settings::with`]; `confirm_host` is the teacher's
    /// confirmation that the key may be sent to that host (the CLI's `--confirm-host`),
    /// for `base_url` and `openai_base_url` only, and it must name the URL's host.
    pub fn with_confirmed(
        &self,
        name: &str,
        value: &str,
        confirm_host: Option<&str>,
    ) -> Result<Self, SettingsError> {
        if BASE_URLS
            .iter()
            .any(|(_, confirmation, _)| *confirmation == name)
        {
            let field = BASE_URLS
                .iter()
                .find(|(_, c, _)| *c == name)
                .map_or("base_url", |(f, _, _)| *f);
            return Err(SettingsError::Invalid(format!(
                "{name} is set with the base URL it confirms: `gradedesk settings set {field} URL --confirm-host HOST`"
            )));
        }
        let next = self.with_unchecked(name, value)?;
        let next = match confirm_host {
            None => next,
            Some(host) => next.confirmed(name, host)?,
        };
        next.validate()?;
        Ok(next)
    }

    /// Records the teacher's confirmation that `field`'s URL may receive the key; refused
    /// when `host` is not that URL's host.
    fn confirmed(mut self, field: &str, host: &str) -> Result<Self, SettingsError> {
        if !BASE_URLS.iter().any(|(f, _, _)| *f == field) {
            return Err(SettingsError::Invalid(
                "--confirm-host goes with base_url or openai_base_url".into(),
            ));
        }
        let (url, _) = self.url_and_confirmation(field);
        let endpoint =
            Endpoint::parse(url).map_err(|e| SettingsError::Invalid(format!("{field}: {e}")))?;
        let host = host.trim().to_ascii_lowercase();
        if host != endpoint.host() {
            return Err(SettingsError::Invalid(format!(
                "--confirm-host names {host}, but the base URL's host is {}: confirm the host the key will be sent to",
                endpoint.host()
            )));
        }
        *self.confirmation_mut(field) = Some(host);
        Ok(self)
    }

    fn with_unchecked(&self, name: &str, value: &str) -> Result<Self, SettingsError> {
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
        serde_json::from_value(all)
            .map_err(|e| SettingsError::Invalid(format!("\"{value}\" does not fit {name}: {e}")))
    }

    /// The settings with `GEMINI_BASE_URL` and `GRADEDESK_MODEL` applied: the environment
    /// wins for a session (scripts, tests, a proxy for one run). A base URL from the
    /// environment is the operator's explicit choice, so it counts as confirmed; the
    /// clients still refuse plain http to anything but this computer.
    pub fn with_env_overrides(mut self) -> Self {
        let non_empty = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let host = |url: &str| Endpoint::parse(url).ok().map(|e| e.host().to_string());
        if let Some(url) = non_empty("GEMINI_BASE_URL") {
            self.base_url_confirmed_host = host(&url);
            self.base_url = url;
        }
        if let Some(model) = non_empty("GRADEDESK_MODEL") {
            self.model = model;
        }
        if let Some(url) = non_empty("GRADEDESK_OPENAI_BASE_URL") {
            self.openai_base_url_confirmed_host = host(&url);
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

/// The grader for settings whose base URL may not receive the key (settings stored before
/// confirmations existed, or a plain-http `GEMINI_BASE_URL`): every answer waits for the
/// teacher, with the reason, and nothing is sent anywhere.
struct Refusing(String);

#[async_trait::async_trait]
impl Grader for Refusing {
    async fn grade(
        &self,
        _request: &crate::grading::GradeRequest,
    ) -> Result<crate::grading::GradeOutcome, crate::grading::GradeError> {
        Err(crate::grading::GradeError::NeedsTeacher {
            message: self.0.clone(),
        })
    }

    async fn read_name(
        &self,
        _request: &crate::grading::NameRequest,
    ) -> Result<crate::grading::NameOutcome, crate::grading::GradeError> {
        Err(crate::grading::GradeError::NeedsTeacher {
            message: self.0.clone(),
        })
    }
}

/// Builds the grader the settings choose. The Gemini key is read through `key` on every
/// request, so setting it later needs no rebuild. When the active base URL may not
/// receive the key, the grader refuses every answer with the reason (the window still
/// opens, so the teacher can fix it in Settings).
pub fn build_grader(settings: &Settings, key: ApiKey) -> Result<Arc<dyn Grader>, SettingsError> {
    if let Err(refused) = settings.check_active_base_url() {
        tracing::warn!(reason = %refused, "the base URL may not receive the key; grading waits");
        return Ok(Arc::new(Refusing(refused.to_string())));
    }
    let http_error = |e: ClientError| SettingsError::Invalid(e.to_string());
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
        crate::store::create_private_dir(&self.config_dir).map_err(io)?;
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
    fn a_base_url_off_google_and_this_computer_needs_a_confirmation_naming_its_host() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL)").unwrap();
        let s = Settings::default();
        let refused = s
            .with("base_url", "https://proxy.school.example/gemini")
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains(
                "your API key and the students' answers will be sent to proxy.school.example"
            ) && refused.contains("--confirm-host proxy.school.example"),
            "{refused}"
        );
        let host = Some("proxy.school.example");
        let ok = s
            .with_confirmed("base_url", "https://proxy.school.example/gemini", host)
            .unwrap();
        assert_eq!(ok.base_url_confirmed_host.as_deref(), host);
        ok.save(&conn).unwrap();
        // Another path on the confirmed host is fine; another host needs a new confirmation.
        assert!(ok
            .with("base_url", "https://PROXY.school.example/v2")
            .is_ok());
        let moved = ok.with("base_url", "https://other.example").unwrap_err();
        assert!(
            moved
                .to_string()
                .contains("stored is for proxy.school.example"),
            "{moved}"
        );
        // The confirmation must name the URL's own host, and is not a setting of its own.
        assert!(s
            .with_confirmed("base_url", "https://a.example", Some("b.example"))
            .is_err());
        assert!(s.with("base_url_confirmed_host", "evil.example").is_err());
        // Google's endpoint and this computer need none; plain http elsewhere is refused
        // even when confirmed.
        for url in [
            "http://127.0.0.1:8765",
            "https://generativelanguage.googleapis.com/",
        ] {
            assert!(s.with("base_url", url).is_ok(), "{url}");
        }
        assert!(s
            .with_confirmed("base_url", "http://192.168.1.5:8080", Some("192.168.1.5"))
            .is_err());
        let lan = s.with("openai_base_url", "http://192.168.1.5:11434/v1");
        assert!(lan.unwrap_err().to_string().contains("plain http"));
        let remote = s
            .with("openai_base_url", "https://llm.school.example/v1")
            .unwrap_err();
        assert!(
            remote.to_string().contains("llm.school.example"),
            "{remote}"
        );
        // A confirmation leaves with its host: back on Google, none is stored, so coming
        // back to the proxy asks again.
        let back = Settings::load(&conn)
            .unwrap()
            .with("base_url", DEFAULT_BASE_URL)
            .unwrap();
        back.save(&conn).unwrap();
        let stored = Settings::load(&conn).unwrap();
        assert_eq!(stored.base_url_confirmed_host, None);
        assert!(stored
            .with("base_url", "https://proxy.school.example/gemini")
            .is_err());
        // Settings saved whole (the window) are checked the same way.
        let unconfirmed = Settings {
            base_url: "https://proxy.school.example".into(),
            ..Settings::default()
        };
        assert!(unconfirmed.save(&conn).is_err());
        let wrong = Settings {
            base_url_confirmed_host: Some("other.example".into()),
            ..unconfirmed.clone()
        };
        assert!(wrong.validate().is_err());
        let right = Settings {
            base_url_confirmed_host: Some("proxy.school.example".into()),
            ..unconfirmed
        };
        right.validate().unwrap();
    }

    #[test]
    fn model_ids_are_checked() {
        let s = Settings::default();
        assert!(s.with("model", "models/gemini-2.5-pro").is_ok());
        for bad in ["../../v1/files", "gemini-2.5-flash?alt=sse", "a b", ""] {
            assert!(s.with("model", bad).is_err(), "{bad}");
        }
        assert!(s.with("openai_model", "qwen2.5vl:7b").is_ok());
        assert!(s.with("openai_model", "\"a\\nb\"").is_err());
    }

    #[tokio::test]
    async fn a_stored_base_url_that_may_not_receive_the_key_grades_nothing() {
        let stale = Settings {
            base_url: "https://proxy.school.example".into(),
            ..Settings::default()
        };
        let grader = build_grader(&stale, ApiKey::new(Some("k".into()))).unwrap();
        let request = crate::grading::GradeRequest {
            image: vec![1, 2, 3],
            mime_type: "image/png".into(),
            question: crate::exams::Question {
                id: 1,
                label: "Q1".into(),
                prompt: "p".into(),
                max_points: 1.0,
                rubric: String::new(),
                reference_answer: String::new(),
                scoring: Default::default(),
                items: Vec::new(),
            },
            sample: 0,
        };
        match grader.grade(&request).await {
            Err(crate::grading::GradeError::NeedsTeacher { message }) => {
                assert!(message.contains("confirm"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        let openai = Settings {
            provider: Provider::Openai,
            ..stale
        };
        // The OpenAI provider's own URL (this computer) is what counts for it.
        openai.check_active_base_url().unwrap();
    }

    #[test]
    fn key_file_is_private_and_masked() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config").join("app.gradedesk.desktop");
        let store = KeyStore::new(&config, false);
        std::env::remove_var("GEMINI_API_KEY");
        assert_eq!(store.save("AIzaSyExampleKey1234").unwrap(), KeySource::File);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&config.join(KEY_FILE)), 0o600);
            assert_eq!(mode(&config), 0o700, "the config dir is private");
            assert_eq!(mode(config.parent().unwrap()), 0o700);
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
