//! Logging: readable lines on stderr and a daily rolling file in the data dir's `logs/`
//! (the seed's `job_worker.log`). Never pass the API key or image bytes to a log macro.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Installs the subscriber; keep the guard alive for the process's life so lines are flushed.
pub fn init(log_dir: &Path, to_stderr: bool) -> Option<WorkerGuard> {
    let filter = || {
        EnvFilter::try_from_env("GRADEDESK_LOG")
            .unwrap_or_else(|_| EnvFilter::new("gradedesk=info,warn"))
    };
    // The appender prunes old files by listing the folder: it must exist first. The logs
    // say what was graded and for whom: readable by the user only.
    let _ = crate::store::create_private_dir(log_dir);
    let file_appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("gradedesk")
        .filename_suffix("log")
        .max_log_files(14)
        .build(log_dir)
        .ok();
    let (file_layer, guard) = match file_appender {
        Some(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            (
                Some(
                    fmt::layer()
                        .with_ansi(false)
                        .with_writer(writer)
                        .with_filter(filter()),
                ),
                Some(guard),
            )
        }
        None => (None, None),
    };
    let stderr_layer = to_stderr.then(|| {
        fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_filter(filter())
    });
    let _ = tracing_subscriber::registry()
        .with(file_layer)
        .with(stderr_layer)
        .try_init();
    guard
}

#[cfg(all(test, unix))]
mod tests {
    #[test]
    fn the_log_folder_and_the_data_dir_above_it_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let _guard = super::init(&data.join("logs"), false);
        for d in [data.join("logs"), data] {
            let mode = std::fs::metadata(&d).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "{}", d.display());
        }
    }
}
