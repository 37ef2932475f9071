//! Running a helper program (poppler, libheif) on a file a stranger made: found at an
//! absolute path in the system's program folders (never through `PATH`), with a minimal
//! environment (the API key and everything else of ours stays behind), stdin closed,
//! stdout capped and a time limit: a hostile or broken file must never hang an import,
//! fill memory, or see a secret.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

use super::ImagingError;

/// Where helper programs are looked for, in order: the system's own folders, then the
/// administrator's (Homebrew's on a Mac). A folder a user can write to is never searched.
const PROGRAM_DIRS: &[&str] = &["/usr/bin", "/bin", "/usr/local/bin", "/opt/homebrew/bin"];

/// The `PATH` a helper gets (a helper that runs another program finds only system ones).
const HELPER_PATH: &str = "/usr/bin:/bin";

/// Most bytes a helper may print on stdout (page counts and sizes: a few per page).
pub const MAX_STDOUT: u64 = 8 * 1024 * 1024;

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

/// The absolute path of `program` in the system's program folders, if it is installed.
pub fn locate(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return None;
    }
    PROGRAM_DIRS
        .iter()
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.is_file())
}

/// The environment a helper runs with: a fixed `PATH`, the C locale (stable messages to
/// parse), and `HOME` and `TMPDIR` (fontconfig's cache, temporary files). Nothing else of
/// ours is inherited: not the API keys, not `LD_PRELOAD`, not the display.
pub fn helper_env() -> Vec<(&'static str, std::ffi::OsString)> {
    let mut env = vec![("PATH", HELPER_PATH.into()), ("LC_ALL", "C".into())];
    for name in ["HOME", "TMPDIR"] {
        if let Some(value) = std::env::var_os(name).filter(|v| Path::new(v).is_absolute()) {
            env.push((name, value));
        }
    }
    env
}

/// A file argument that a helper can never read as an option: absolute (a file named
/// `-h.pdf` is then `/…/-h.pdf`). Callers also put `--` before it where the tool allows.
pub fn file_arg(path: &Path) -> std::io::Result<PathBuf> {
    if path.is_absolute() {
        Ok(path.to_path_buf())
    } else {
        Ok(std::env::current_dir()?.join(path))
    }
}

/// Runs `program args…`, killing it after `timeout`. Stdout is read up to [`MAX_STDOUT`]
/// (more is a failure: no helper of ours prints that much about a good file); stderr is
/// kept, capped, for the message.
pub fn run(program: &str, args: &[&OsStr], timeout: Duration) -> Result<Output, Failure> {
    let Some(path) = locate(program) else {
        return Err(Failure::Missing(program.to_string()));
    };
    let mut child = match Command::new(&path)
        .args(args)
        .env_clear()
        .envs(helper_env())
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
    // Drain both pipes on threads so a chatty helper cannot block on a full pipe; past the
    // cap the rest of stdout is read and dropped, and the run counts as failed.
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let out_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut overflow = false;
        if let Some(out) = out.as_mut() {
            let _ = out.take(MAX_STDOUT).read_to_end(&mut buf);
            overflow = std::io::copy(out, &mut std::io::sink()).unwrap_or(0) > 0;
        }
        (buf, overflow)
    });
    let err_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(err) = err.as_mut() {
            let _ = err.take(64 * 1024).read_to_end(&mut buf);
            let _ = std::io::copy(err, &mut std::io::sink());
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
    let (stdout, overflow) = out_thread.join().unwrap_or_default();
    let stderr = err_thread.join().unwrap_or_default();
    if overflow {
        tracing::warn!(program, "helper printed more than the cap");
        return Err(Failure::Failed(format!(
            "{program} printed more than {} MB",
            MAX_STDOUT / 1024 / 1024
        )));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_are_found_only_in_system_folders() {
        assert!(locate("sh").is_some_and(|p| p.is_absolute()));
        assert_eq!(locate("./sh"), None);
        assert_eq!(locate("/tmp/pdftoppm"), None);
        assert!(locate("no-such-helper-gradedesk").is_none());
        assert!(matches!(
            run("no-such-helper-gradedesk", &[], Duration::from_secs(1)),
            Err(Failure::Missing(_))
        ));
    }

    #[test]
    fn a_helper_that_prints_too_much_fails_instead_of_filling_memory() {
        // 100 MB of output: with the cap, at most MAX_STDOUT is held.
        let big = run(
            "head",
            &[
                OsStr::new("-c"),
                OsStr::new("100000000"),
                OsStr::new("/dev/zero"),
            ],
            Duration::from_secs(30),
        );
        match big {
            Err(Failure::Failed(why)) => assert!(why.contains("printed more than"), "{why}"),
            Err(_) => panic!("failed for another reason"),
            Ok(out) => panic!("{} bytes were kept", out.stdout.len()),
        }
        let small = run(
            "head",
            &[
                OsStr::new("-c"),
                OsStr::new("1000"),
                OsStr::new("/dev/zero"),
            ],
            Duration::from_secs(30),
        );
        assert_eq!(small.ok().map(|o| o.stdout.len()), Some(1000));
    }

    #[test]
    fn file_arguments_are_absolute() {
        assert!(file_arg(Path::new("-h.pdf")).unwrap().is_absolute());
        assert_eq!(
            file_arg(Path::new("/x/-h.pdf")).unwrap(),
            PathBuf::from("/x/-h.pdf")
        );
    }
}
