//! Files the window hands the core by their bytes (its file chooser gives no paths), kept
//! under the data dir until the template or class import that needs them by path has run.
//! The window names them by token only: a token is checked to be one of ours, so a page
//! cannot make the core read any other file.

use std::path::PathBuf;

use super::{random_token, sanitize_name, Workspace};
use crate::error::CoreError;

impl Workspace {
    /// Keeps one chosen file's bytes; returns the token that names it.
    pub async fn stage_upload(&self, file_name: &str, bytes: Vec<u8>) -> Result<String, CoreError> {
        let token = random_token();
        let name = sanitize_name(file_name).replace(['/', '\\'], "_");
        let name = if name.is_empty() || name.starts_with('.') {
            format!("upload{name}")
        } else {
            name
        };
        let dir = self.uploads_dir().join(&token);
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::write(dir.join(name), bytes))
                .map_err(|e| CoreError::Io(format!("could not keep the chosen file: {e}")))
        })
        .await
        .map_err(|_| CoreError::Io("the file could not be kept".into()))??;
        Ok(token)
    }

    /// The files the tokens name, in order.
    pub fn uploaded_paths(&self, tokens: &[String]) -> Result<Vec<PathBuf>, CoreError> {
        tokens
            .iter()
            .map(|token| {
                let ours = token.len() == 12 && token.chars().all(|c| c.is_ascii_hexdigit());
                let dir = self.uploads_dir().join(token);
                let file = ours
                    .then(|| std::fs::read_dir(&dir).ok()?.flatten().next())
                    .flatten();
                file.map(|entry| entry.path()).ok_or_else(|| {
                    CoreError::Invalid(
                        "a chosen file is no longer there: choose it again".to_string(),
                    )
                })
            })
            .collect()
    }

    /// Forgets the tokens' files (after the import that used them, whatever its outcome).
    pub fn discard_uploads(&self, tokens: &[String]) {
        for token in tokens {
            if token.len() == 12 && token.chars().all(|c| c.is_ascii_hexdigit()) {
                let _ = std::fs::remove_dir_all(self.uploads_dir().join(token));
            }
        }
    }

    fn uploads_dir(&self) -> PathBuf {
        self.data_dir.join("uploads")
    }
}
