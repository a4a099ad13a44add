//! Integration tests over the real `synctl` binary: a small builder for runs (fixture spec,
//! args, scrubbed environment), the corpus of bad specs, the examples and every command.

mod bad;
mod ci;
mod commands;
mod fleet_model;
mod generate;
mod git;
mod hostile;
mod real_trees;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The outcome of one run.
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// A `synctl` invocation with a scrubbed environment: no colour, a temporary HOME, git
/// isolated from the user's configuration, fixed author and time.
pub struct Synctl {
    cmd: Command,
    _home: tempfile::TempDir,
}

impl Synctl {
    #[allow(clippy::new_without_default)] // reason: a fresh temp HOME per run, not a default value
    pub fn new() -> Synctl {
        let home = tempfile::tempdir().unwrap();
        let mut cmd = Command::cargo_bin("synctl").unwrap();
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("NO_COLOR", "1")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", home.path().join("gitconfig"))
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .current_dir(root());
        Synctl { cmd, _home: home }
    }

    pub fn args<I, S>(mut self, args: I) -> Synctl
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Synctl {
        self.cmd.env(k, v);
        self
    }

    pub fn dir(mut self, dir: &Path) -> Synctl {
        self.cmd.current_dir(dir);
        self
    }

    pub fn run(mut self) -> Run {
        let out = self.cmd.output().unwrap();
        Run {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Whether golden files should be rewritten (`SYNCTL_BLESS=1`).
pub fn bless() -> bool {
    std::env::var_os("SYNCTL_BLESS").is_some()
}
