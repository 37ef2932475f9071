//! Running a helper program (poppler, libheif) with a time limit: a hostile or broken file
//! must never hang an import.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

use super::ImagingError;

/// What a helper printed, when it succeeded.
pub struct Output {
    pub stdout: Vec<u8>,
}

/// Why a helper did not succeed; the caller words it for the file at hand.
pub enum Failure {
    /// The program is not installed.
    Missing(String),
    /// It ran out of time and was killed.
    TimedOut,
    /// It exited with an error; its stderr, trimmed.
    Failed(String),
    /// Spawning or waiting failed for another reason.
    Other(ImagingError),
}

/// Runs `program args…`, killing it after `timeout`. Stdout is read to the end (it is small:
/// page counts and sizes); stderr is kept for the message.
pub fn run(program: &str, args: &[&std::ffi::OsStr], timeout: Duration) -> Result<Output, Failure> {
    let mut child = match Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Failure::Missing(program.to_string()))
        }
        Err(e) => {
            return Err(Failure::Other(ImagingError::Tool(format!(
                "could not start {program}: {e}"
            ))))
        }
    };
    // Drain both pipes on threads so a chatty helper cannot block on a full pipe.
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let out_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(out) = out.as_mut() {
            let _ = out.read_to_end(&mut buf);
        }
        buf
    });
    let err_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(err) = err.as_mut() {
            let _ = err.take(64 * 1024).read_to_end(&mut buf);
        }
        buf
    });
    let status = match child.wait_timeout(timeout) {
        Ok(Some(status)) => status,
        Ok(None) => {
            let _ = child.kill();
            let _ = child.wait();
            tracing::warn!(program, "helper timed out and was killed");
            return Err(Failure::TimedOut);
        }
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Failure::Other(ImagingError::Tool(format!(
                "could not wait for {program}: {e}"
            ))));
        }
    };
    let stdout = out_thread.join().unwrap_or_default();
    let stderr = err_thread.join().unwrap_or_default();
    if status.success() {
        Ok(Output { stdout })
    } else {
        let text = String::from_utf8_lossy(&stderr);
        let text = text.trim();
        let last = text.lines().rev().take(3).collect::<Vec<_>>();
        let mut reason: Vec<&str> = last.into_iter().rev().collect();
        if reason.is_empty() {
            reason.push("no message");
        }
        Err(Failure::Failed(reason.join(" / ")))
    }
}
