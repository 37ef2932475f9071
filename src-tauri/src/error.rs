//! The one error type at the core's boundary, with a stable code.
//!
//! Every operation a front end calls returns [`CoreError`]. Its [`ErrorCode`] is what the
//! UI branches on (the wire form is [`ErrorReply`]) and what picks the CLI's exit status,
//! so neither front end parses sentences. A failure of the database or the disk keeps its
//! own code (`storage`, `io`): it is never reported as the teacher's mistake (`invalid`).

use serde::Serialize;
use ts_rs::TS;

use crate::exams::ExamError;
use crate::imaging::ImagingError;
use crate::settings::SettingsError;
use crate::store::StoreError;

/// What kind of failure it was, for the UI and the CLI's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The teacher asked for something that cannot be done as asked (fix the input).
    Invalid,
    /// The exam, scan, answer or job named does not exist.
    NotFound,
    /// A scan file is unreadable, damaged, too large or not a scan.
    BadFile,
    /// An answer box cannot be cut from its page (empty, off the page).
    BadBox,
    /// The API key is missing or was refused, or the provider could not be reached to check it.
    ApiKey,
    /// The database could not be read or written.
    Storage,
    /// A file in the data folder (or a helper program) failed.
    Io,
}

impl ErrorCode {
    /// The process exit status the CLI uses for this kind of failure (documented in the
    /// README): scripts can tell "fix your input" from "the disk failed".
    pub fn exit_status(self) -> u8 {
        match self {
            ErrorCode::Invalid => 2,
            ErrorCode::ApiKey => 3,
            ErrorCode::NotFound => 4,
            ErrorCode::BadFile | ErrorCode::BadBox => 5,
            ErrorCode::Storage | ErrorCode::Io => 6,
        }
    }
}

/// Every error a front end may show: a sentence for the teacher plus its [`ErrorCode`].
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Exam(#[from] ExamError),
    #[error(transparent)]
    Imaging(#[from] ImagingError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The provider refused the key or the model, or could not be reached to test it.
    #[error("{0}")]
    ApiKey(String),
    /// A file outside the data folder (an export's destination) could not be written.
    #[error("{0}")]
    Io(String),
    /// The request itself is wrong; the sentence says how.
    #[error("{0}")]
    Invalid(String),
    /// A file the teacher gave cannot be what it should be (a roster that lists nobody).
    #[error("{0}")]
    BadFile(String),
    /// What the request names does not exist.
    #[error("{0}")]
    NotFound(String),
}

impl From<rusqlite::Error> for CoreError {
    fn from(e: rusqlite::Error) -> Self {
        CoreError::Store(StoreError::Sqlite(e))
    }
}

impl CoreError {
    /// The stable kind of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            CoreError::Exam(ExamError::NotFound(_)) | CoreError::NotFound(_) => ErrorCode::NotFound,
            CoreError::BadFile(_) => ErrorCode::BadFile,
            CoreError::Exam(ExamError::Invalid(_)) | CoreError::Invalid(_) => ErrorCode::Invalid,
            CoreError::Exam(ExamError::Store(_)) | CoreError::Store(_) => ErrorCode::Storage,
            CoreError::Imaging(ImagingError::BadInput { .. }) => ErrorCode::BadFile,
            CoreError::Imaging(ImagingError::BadBox(_)) => ErrorCode::BadBox,
            CoreError::Imaging(ImagingError::Store(_)) => ErrorCode::Storage,
            CoreError::Imaging(_) => ErrorCode::Io,
            CoreError::Settings(SettingsError::Invalid(_)) => ErrorCode::Invalid,
            CoreError::Settings(SettingsError::Sqlite(_) | SettingsError::Store(_)) => {
                ErrorCode::Storage
            }
            CoreError::Settings(SettingsError::KeyFile { .. }) => ErrorCode::Io,
            CoreError::ApiKey(_) => ErrorCode::ApiKey,
            CoreError::Io(_) => ErrorCode::Io,
        }
    }

    /// The form a front end sends on: code and sentence.
    pub fn reply(&self) -> ErrorReply {
        ErrorReply {
            code: self.code(),
            message: self.to_string(),
        }
    }
}

/// What the UI receives when a command fails.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ErrorReply {
    pub code: ErrorCode,
    pub message: String,
}

impl From<CoreError> for ErrorReply {
    fn from(e: CoreError) -> Self {
        e.reply()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_failures_are_not_the_teachers_mistake() {
        let sqlite = CoreError::from(rusqlite::Error::InvalidQuery);
        assert_eq!(sqlite.code(), ErrorCode::Storage);
        let settings = CoreError::from(SettingsError::Sqlite(rusqlite::Error::InvalidQuery));
        assert_eq!(settings.code(), ErrorCode::Storage);
        let key_file = CoreError::from(SettingsError::KeyFile {
            path: "/x".into(),
            source: std::io::Error::other("disk full"),
        });
        assert_eq!(key_file.code(), ErrorCode::Io);
        assert_eq!(
            CoreError::Invalid("no".into()).code().exit_status(),
            2,
            "invalid input exits 2, like a usage error"
        );
    }

    #[test]
    fn the_reply_carries_the_code_in_snake_case() {
        let reply = CoreError::Exam(ExamError::NotFound("exam 3 does not exist".into())).reply();
        let json = serde_json::to_value(&reply).unwrap();
        assert_eq!(json["code"], "not_found");
        assert_eq!(json["message"], "exam 3 does not exist");
    }
}
