//! The `gradedesk` binary as a real process, in an environment of its own: nothing of the
//! machine it runs on (the user's keyring, config dir, API key, data dir) can change what a
//! test sees, and nothing a test stores lands there.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The gradedesk binary built for these tests.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_gradedesk")
}

/// Variables a CLI test passes through from the test's own environment: finding programs
/// (poppler, libheif) and debugging a failure. Everything else is cleared.
const PASSED_THROUGH: &[&str] = &["PATH", "TMPDIR", "RUST_BACKTRACE", "GRADEDESK_LOG"];

/// Runs `gradedesk --data-dir DATA …` with a private home: HOME, the XDG dirs and the app's
/// config dir (`GRADEDESK_CONFIG_DIR`, where a key is stored as a file) in a temporary dir;
/// the OS keyring off (`GRADEDESK_KEYRING=off`) and out of reach anyway (no D-Bus session
/// address, an empty `XDG_RUNTIME_DIR`, no display); no `GEMINI_API_KEY` unless a call gives one.
pub struct Cli {
    pub data: PathBuf,
    home: tempfile::TempDir,
    vars: Vec<(String, OsString)>,
}

impl Cli {
    /// The CLI on a data dir, grading against the Gemini at `base_url` (the fake).
    pub fn new(data: &Path, base_url: &str) -> Self {
        let home = tempfile::tempdir().expect("a temporary home");
        for dir in [".config", ".local/share", ".cache", "run"] {
            std::fs::create_dir_all(home.path().join(dir)).unwrap();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let run = home.path().join("run");
            std::fs::set_permissions(run, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        Self {
            data: data.to_path_buf(),
            home,
            vars: vec![("GEMINI_BASE_URL".into(), base_url.into())],
        }
    }

    /// Sets one more variable for every run (e.g. `GRADEDESK_MODEL`).
    pub fn env(mut self, name: &str, value: impl Into<OsString>) -> Self {
        self.vars.push((name.into(), value.into()));
        self
    }

    /// Where `key set` stores the key as a file (the keyring being off).
    pub fn config_dir(&self) -> PathBuf {
        self.home.path().join(".config/app.gradedesk.desktop")
    }

    /// The isolated command for `args`, with `GEMINI_API_KEY` set only if `key` is given.
    pub fn command(&self, args: &[&str], key: Option<&str>) -> Command {
        let home = self.home.path();
        let mut cmd = Command::new(binary());
        cmd.env_clear();
        for name in PASSED_THROUGH {
            if let Some(value) = std::env::var_os(name) {
                cmd.env(name, value);
            }
        }
        cmd.env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_RUNTIME_DIR", home.join("run"))
            .env("GRADEDESK_CONFIG_DIR", self.config_dir())
            .env("GRADEDESK_KEYRING", "off");
        for (name, value) in &self.vars {
            cmd.env(name, value);
        }
        if let Some(key) = key {
            cmd.env("GEMINI_API_KEY", key);
        }
        cmd.arg("--data-dir").arg(&self.data).args(args);
        cmd
    }

    /// Runs `gradedesk ARGS` to the end (off the async runtime) and returns what it printed.
    pub async fn run(&self, args: &[&str], key: Option<&str>) -> Output {
        self.run_with_stdin(args, key, None).await
    }

    /// As [`Cli::run`], writing `stdin` to the process first.
    pub async fn run_with_stdin(
        &self,
        args: &[&str],
        key: Option<&str>,
        stdin: Option<&str>,
    ) -> Output {
        let mut cmd = self.command(args, key);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let stdin = stdin.map(str::to_string);
        tokio::task::spawn_blocking(move || {
            let mut child = cmd.spawn().expect("gradedesk runs");
            let mut pipe = child.stdin.take().unwrap();
            if let Some(text) = stdin {
                pipe.write_all(text.as_bytes()).unwrap();
            }
            drop(pipe);
            child.wait_with_output().unwrap()
        })
        .await
        .unwrap()
    }

    /// Starts `gradedesk worker` in the background (output discarded).
    pub fn spawn_worker(&self, concurrency: u32, lease_ms: u64, key: Option<&str>) -> Child {
        self.command(&["worker", "--concurrency", &concurrency.to_string()], key)
            .env("GRADEDESK_LEASE_MS", lease_ms.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("worker starts")
    }
}

/// stdout parsed as JSON, after checking the command succeeded (else both outputs are shown).
pub fn stdout_json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

/// stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Sends a signal to a child process by pid.
pub fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Fails if `key` occurs in any file under `dir`. The dir must exist and hold files: a
/// search of nothing finds nothing, and would pass whatever was written where.
pub fn assert_no_key_in(dir: &Path, key: &str) {
    fn files(dir: &Path, found: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot search {} for the key: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, found);
            } else {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    files(dir, &mut found);
    assert!(
        !found.is_empty(),
        "no files in {} to search for the key",
        dir.display()
    );
    for path in found {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!("cannot read {} to search for the key: {e}", path.display())
        });
        assert!(
            !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
            "the API key was written to {}",
            path.display()
        );
    }
}
