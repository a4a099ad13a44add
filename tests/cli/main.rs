//! Integration tests over the real `synctl` binary: a small builder for runs (fixture spec,
//! args, scrubbed environment), the corpus of bad specs, the examples and every command.

// A test reads as its scenario from top to bottom; the 80-line bar is for the product's code.
#![allow(
    clippy::too_many_lines,
    reason = "a test is one scenario, read top to bottom"
)]

mod bad;
mod check;
mod ci;
mod commands;
mod day_two;
mod fleet_model;
mod generate;
mod git;
mod hatch;
mod hostile;
mod ignored;
mod limits;
mod real_trees;
mod shards;
mod tables;
mod tenant_shards;
mod values;

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

    #[must_use]
    pub fn args<I, S>(mut self, args: I) -> Synctl
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    #[must_use]
    pub fn env(mut self, k: &str, v: &str) -> Synctl {
        self.cmd.env(k, v);
        self
    }

    /// Kills the run after `secs` (its status is then -1): a guard against a run without end,
    /// far above what the run takes; never a measure of speed.
    #[must_use]
    pub fn within(mut self, secs: u64) -> Synctl {
        self.cmd.timeout(std::time::Duration::from_secs(secs));
        self
    }

    #[must_use]
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

/// Copies `examples/<example>` to `to`; without `with_tree`, only the spec and the folders a
/// person writes (no generated `hub/`, `deploy/`, `platform/`, `fleet/`).
pub fn copy_example(example: &str, to: &Path, with_tree: bool) {
    copy_folder(&format!("examples/{example}"), to, with_tree);
}

/// [`copy_example`] for any folder of the repository (`tests/fleets/argocd-fleet`).
pub fn copy_folder(folder: &str, to: &Path, with_tree: bool) {
    let src = root().join(folder);
    for e in walkdir::WalkDir::new(&src).into_iter().flatten() {
        let rel = e.path().strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .unwrap_or_default();
        if !with_tree && ["hub", "deploy", "platform", "fleet"].contains(&top.as_str()) {
            continue;
        }
        let dst = to.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}

/// Every YAML document of a file (empty documents left out).
pub fn yaml_docs(path: &Path) -> Vec<serde_yaml::Value> {
    use serde::Deserialize as _;
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde_yaml::Value::deserialize(d).unwrap())
        .filter(|v| !v.is_null())
        .collect()
}

/// `../shared/tools/validate-manifests DIRS --kustomize-build` (with the Python of
/// `SYNCTL_VALIDATOR_PYTHON`, else `python3`) passes: every object valid against the upstream
/// CRDs and every overlay built. `what` names the run in a failure.
pub fn assert_valid_manifests(what: &str, dirs: &[PathBuf]) {
    let tool = root().join("../shared/tools/validate-manifests");
    assert!(
        tool.is_file(),
        "{} is missing: ../shared must sit beside the repository",
        tool.display()
    );
    let python = std::env::var("SYNCTL_VALIDATOR_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let out = std::process::Command::new(python)
        .arg(&tool)
        .args(dirs)
        .arg("--kustomize-build")
        .output()
        .expect("python3 must be installed to run validate-manifests");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(" 0 failed"),
        "{what}:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs git in `dir`, away from the machine's and the user's configuration, with a fixed
/// identity for the commits tests make themselves; fails the test when git fails. Returns stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("git must be installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The lines the last commit in `dir` added to and removed from `path` (`+…`, `-…`, no hunk
/// headers): what an edit of the spec's text changed.
pub fn committed_edit(dir: &Path, path: &str) -> Vec<String> {
    git(dir, &["diff", "-U0", "HEAD~1", "HEAD", "--", path])
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .map(str::to_owned)
        .collect()
}

/// `kubectl kustomize dir` (the real kustomize v5); fails the test when the build fails.
/// Returns the built YAML.
pub fn kustomize(dir: &Path) -> String {
    let out = std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("kubectl (with kustomize v5) must be installed");
    assert!(
        out.status.success(),
        "kustomize {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether golden files should be rewritten (`SYNCTL_BLESS=1`).
pub fn bless() -> bool {
    std::env::var_os("SYNCTL_BLESS").is_some()
}
