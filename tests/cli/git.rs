//! `generate --commit` and `add-env` against the real `git` command line: what git sees must
//! agree with what synctl reported, and the user's other work must be left alone.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::{Synctl, copy_example, git, root};

/// A git repository holding a copy of `example`'s spec and user folders (no generated tree).
fn repo(example: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_example(example, dir.path(), false);
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["config", "user.name", "Platform Bot"]);
    git(dir.path(), &["config", "user.email", "bot@example.com"]);
    dir
}

fn synctl(dir: &Path) -> Synctl {
    Synctl::new().dir(dir)
}

#[test]
fn commit_in_an_empty_repository_records_exactly_what_synctl_reported() {
    let dir = repo("homelab");
    let run = synctl(dir.path()).args(["generate", "--commit"]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    let reported: usize = run
        .stderr
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert!(run.stderr.starts_with("committed "), "{}", run.stderr);
    let log = git(dir.path(), &["log", "--format=%an <%ae>|%s"]);
    assert_eq!(
        log,
        "Platform Bot <bot@example.com>|synctl: generate from fleet.yaml\n"
    );
    let files = git(dir.path(), &["show", "--name-only", "--format=", "HEAD"]);
    let files: Vec<&str> = files.lines().collect();
    assert_eq!(files.len(), reported, "{files:?}");
    assert!(files.contains(&"fleet.yaml") && files.contains(&"hub/willingham-k8s.yaml"));
    assert!(files.iter().all(|f| {
        *f == "fleet.yaml"
            || ["hub/", "deploy/", "platform/", "fleet/"]
                .iter()
                .any(|p| f.starts_with(p))
    }));
    git(dir.path(), &["fsck", "--strict"]);
    // The user's own folders were not committed.
    assert!(git(dir.path(), &["status", "--porcelain"]).contains("?? namespaces/"));

    let run = synctl(dir.path()).args(["generate", "--commit"]).run();
    assert_eq!(run.status, 0);
    assert!(run.stderr.contains("nothing to commit"), "{}", run.stderr);
    assert_eq!(git(dir.path(), &["rev-list", "--count", "HEAD"]), "1\n");
}

#[test]
fn the_users_staged_and_unstaged_changes_stay_as_they_were() {
    let dir = repo("cortex");
    fs::write(dir.path().join("README.md"), "first\n").unwrap();
    git(dir.path(), &["add", "README.md", "policies"]);
    git(dir.path(), &["commit", "-q", "-m", "start"]);
    fs::write(dir.path().join("README.md"), "staged\n").unwrap();
    git(dir.path(), &["add", "README.md"]);
    fs::write(dir.path().join("README.md"), "staged\nunstaged\n").unwrap();
    fs::write(
        dir.path().join("policies/kyverno/extra.yaml"),
        "# new, unstaged\n",
    )
    .unwrap();
    let before = git(dir.path(), &["diff", "--cached", "README.md"]);

    let run = synctl(dir.path())
        .args([
            "generate",
            "--commit",
            "-m",
            "platform: compile",
            "--author",
            "CI <ci@example.com>",
        ])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        git(dir.path(), &["log", "-1", "--format=%an <%ae>|%s"]),
        "CI <ci@example.com>|platform: compile\n"
    );
    let committed = git(dir.path(), &["show", "--name-only", "--format=", "HEAD"]);
    assert!(
        !committed.contains("README.md") && !committed.contains("extra.yaml"),
        "{committed}"
    );
    assert_eq!(
        git(dir.path(), &["diff", "--cached", "README.md"]),
        before,
        "the staged change is still staged"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("README.md")).unwrap(),
        "staged\nunstaged\n"
    );
    let status = git(dir.path(), &["status", "--porcelain"]);
    assert!(status.contains("MM README.md"), "{status}");
    assert!(
        status.contains("?? policies/kyverno/extra.yaml"),
        "{status}"
    );
    assert!(
        !status.contains("hub/"),
        "generated files are committed and clean: {status}"
    );
    let body = git(dir.path(), &["log", "-1", "--format=%b"]);
    assert!(
        body.contains("Clusters touched: cortex, dev, production"),
        "{body}"
    );
    // Every generated file of the example, and the spec.
    let generated = walkdir::WalkDir::new(root().join("examples/cortex"))
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .filter(|e| {
            let rel = e
                .path()
                .strip_prefix(root().join("examples/cortex"))
                .unwrap();
            ["hub", "deploy", "platform", "fleet"]
                .iter()
                .any(|r| rel.starts_with(r))
        })
        .count();
    assert!(
        body.contains(&format!("Added ({}):", generated + 1)),
        "{body}"
    );
    git(dir.path(), &["fsck", "--strict"]);
}

#[test]
fn commit_refuses_during_a_merge_and_without_an_identity_and_writes_nothing() {
    let dir = repo("homelab");
    git(dir.path(), &["config", "--unset", "user.name"]);
    git(dir.path(), &["config", "--unset", "user.email"]);
    let run = synctl(dir.path()).args(["generate", "--commit"]).run();
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("no git identity"), "{}", run.stderr);
    assert!(
        !dir.path().join("hub").exists(),
        "nothing may be written when the commit cannot be made"
    );

    git(dir.path(), &["config", "user.name", "Platform Bot"]);
    git(dir.path(), &["config", "user.email", "bot@example.com"]);
    fs::write(dir.path().join("MERGE_HEAD_MARKER"), "").unwrap();
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "base"]);
    let head = git(dir.path(), &["rev-parse", "HEAD"]);
    fs::write(dir.path().join(".git/MERGE_HEAD"), head).unwrap();
    let run = synctl(dir.path()).args(["generate", "--commit"]).run();
    assert_eq!(run.status, 2);
    assert!(
        run.stderr.contains("in the middle of Merge"),
        "{}",
        run.stderr
    );
}

#[test]
fn commit_works_in_a_worktree() {
    let dir = repo("homelab");
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "spec"]);
    let wt = dir.path().join("wt");
    git(
        dir.path(),
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "feature",
            wt.to_str().unwrap(),
        ],
    );
    let run = synctl(&wt).args(["generate", "--commit"]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        git(&wt, &["log", "-1", "--format=%s"]),
        "synctl: generate from fleet.yaml\n"
    );
    assert_eq!(
        git(dir.path(), &["log", "-1", "--format=%s", "main"]),
        "spec\n",
        "main is untouched"
    );
    git(dir.path(), &["fsck", "--strict"]);
}

#[test]
fn add_env_adds_only_the_new_clusters_lines_and_passes_check() {
    let dir = repo("cortex");
    // A heavily commented spec: comments everywhere must survive.
    let spec = dir.path().join("fleet.yaml");
    let text = fs::read_to_string(&spec).unwrap().replace(
        "  clusters:\n",
        "  clusters:   # every cluster of the fleet\n    # the hub first\n",
    );
    fs::write(&spec, &text).unwrap();
    let run = synctl(dir.path()).args(["generate", "--commit"]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);

    let run = synctl(dir.path())
        .args([
            "add-env",
            "qa",
            "--environment",
            "qa",
            "--label",
            "tier=qa",
            "--var",
            "CLUSTER_DOMAIN=qa.synapse.dev",
        ])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stdout.contains("kubectl --context cortex -n qa create secret generic qa-kubeconfig --from-file=value=./qa.kubeconfig"), "{}", run.stdout);
    assert_eq!(
        git(dir.path(), &["log", "-1", "--format=%s"]),
        "synctl: add environment qa\n"
    );
    let changed = crate::committed_edit(dir.path(), "fleet.yaml");
    assert_eq!(
        changed,
        // `environment: qa` is the default for a cluster named `qa`, so it is not written.
        [
            "+    - name: qa",
            "+      labels: {tier: qa}",
            "+      vars: {CLUSTER_DOMAIN: qa.synapse.dev}"
        ]
    );
    let files = git(dir.path(), &["show", "--name-only", "--format=", "HEAD"]);
    assert!(
        files.contains("hub/qa.yaml") && files.contains("hub/kustomization.yaml"),
        "{files}"
    );
    let run = synctl(dir.path()).args(["generate", "--check"]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    git(dir.path(), &["fsck", "--strict"]);
}

#[test]
fn add_env_refuses_bad_input_and_changes_nothing() {
    let dir = repo("d1");
    let spec = dir.path().join("fleet.yaml");
    let before = fs::read(&spec).unwrap();
    for (args, want) in [
        (vec!["add-env", "staging"], "already exists"),
        (vec!["add-env", "Prod_D"], "not a valid cluster name"),
        (
            vec!["add-env", "production-d", "--like", "production-z"],
            "no such cluster",
        ),
        (vec!["add-env", "flux-system"], "synctl::reserved"),
    ] {
        let run = synctl(dir.path()).args(&args).run();
        assert_ne!(run.status, 0, "{args:?}");
        assert!(run.stderr.contains(want), "{args:?}: {}", run.stderr);
        assert_eq!(
            fs::read(&spec).unwrap(),
            before,
            "{args:?} changed the spec"
        );
        assert!(!dir.path().join("hub").exists(), "{args:?} wrote files");
    }
}

#[test]
fn add_env_like_joins_the_model_clusters_lists() {
    let dir = repo("cortex");
    let run = synctl(dir.path())
        .args([
            "add-env",
            "production-2",
            "--like",
            "production",
            "--var",
            "CLUSTER_DOMAIN=p2.synapse.dev",
            "--no-commit",
        ])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    let spec = fs::read_to_string(dir.path().join("fleet.yaml")).unwrap();
    assert!(
        spec.contains("    - name: production-2\n      environment: production\n"),
        "{spec}"
    );
    assert!(
        spec.contains("clusters: [dev, production, production-2]"),
        "{spec}"
    );
    assert!(dir.path().join("hub/production-2.yaml").is_file());
    assert_eq!(
        git(dir.path(), &["rev-list", "--all", "--count"]),
        "0\n",
        "--no-commit commits nothing"
    );
}

#[test]
fn add_env_like_a_standalone_cluster_copies_role_branch_and_prints_its_bootstrap() {
    let dir = repo("d1");
    // The production clusters follow their own branch here.
    let spec = dir.path().join("fleet.yaml");
    let text = fs::read_to_string(&spec).unwrap();
    let text = text.replace(
        "    - name: prod-us\n      role: standalone\n      environment: production\n",
        "    - name: prod-us\n      role: standalone\n      environment: production\n      branch: prod\n",
    );
    assert!(text.contains("branch: prod"));
    fs::write(&spec, text).unwrap();
    let run = synctl(dir.path())
        .args([
            "add-env",
            "prod-ap",
            "--like",
            "prod-us",
            "--var",
            "CLUSTER_DOMAIN=ap.example.com",
        ])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    let spec = fs::read_to_string(dir.path().join("fleet.yaml")).unwrap();
    assert!(
        spec.contains("    - name: prod-ap\n      role: standalone\n      environment: production\n      branch: prod\n"),
        "{spec}"
    );
    let entry = dir.path().join("fleet/production/clusters/prod-ap");
    assert!(
        entry.join("flux-instance.yaml").is_file() && entry.join("kustomizations.yaml").is_file()
    );
    assert!(
        !dir.path().join("hub").exists(),
        "no hub/ for standalone clusters"
    );
    assert!(
        run.stdout.contains("kubectl --context prod-ap apply -f fleet/production/clusters/prod-ap/flux-instance.yaml"),
        "{}",
        run.stdout
    );
    assert!(git(dir.path(), &["log", "--format=%s"]).contains("synctl: add environment prod-ap"));
}

#[test]
fn add_env_standalone_flux_cli_prints_flux_bootstrap_and_refuses_a_kubeconfig() {
    let dir = repo("cortex");
    let refused = synctl(dir.path())
        .args([
            "add-env",
            "edge",
            "--role",
            "standalone",
            "--kubeconfig-secret",
            "x",
            "--no-commit",
        ])
        .run();
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    let run = synctl(dir.path())
        .args([
            "add-env",
            "edge",
            "--role",
            "standalone",
            "--bootstrap",
            "flux-cli",
            "--var",
            "CLUSTER_DOMAIN=edge.synapse.dev",
            "--no-commit",
        ])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("flux bootstrap git --context edge --url=ssh://git@github.com/synapse/cortex --branch=main --path=fleet/edge/clusters/edge --private-key-file=./deploy-key\n"),
        "{}",
        run.stdout
    );
    assert!(
        dir.path()
            .join("fleet/edge/clusters/edge/kustomizations.yaml")
            .is_file()
    );
}

#[test]
fn the_pre_commit_framework_refuses_a_commit_with_a_broken_spec() {
    let python = std::env::var("SYNCTL_VALIDATOR_PYTHON").unwrap_or_else(|_| {
        root()
            .join(".venv/bin/python")
            .to_string_lossy()
            .into_owned()
    });
    let pre_commit = Path::new(&python).with_file_name("pre-commit");
    assert!(
        pre_commit.is_file(),
        "{} is missing: .ci/run installs pre-commit into the venv",
        pre_commit.display()
    );
    let dir = repo("homelab");
    let home = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_synctl");
    fs::write(
        dir.path().join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: local\n    hooks:\n      - id: synctl-validate\n        name: synctl validate\n        entry: {bin} validate\n        language: system\n        files: (^|/)fleet\\.ya?ml$|^(hub|deploy|platform|fleet)/\n        pass_filenames: false\n"
        ),
    )
    .unwrap();
    let spec = dir.path().join("fleet.yaml");
    let good = fs::read_to_string(&spec).unwrap();
    fs::write(
        &spec,
        good.replace("dependsOn: [observability]", "dependsOn: [observabilty]"),
    )
    .unwrap();
    let run = |args: &[&str], cmd: &Path| {
        Command::new(cmd)
            .args(args)
            .current_dir(dir.path())
            .env("PRE_COMMIT_HOME", home.path())
            .env("HOME", home.path())
            .env("NO_COLOR", "1")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap()
    };
    let out = run(&["install"], &pre_commit);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    git(
        dir.path(),
        &["add", "fleet.yaml", ".pre-commit-config.yaml"],
    );
    let out = run(&["commit", "-m", "broken spec"], Path::new("git"));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "the commit must be refused:\n{all}");
    assert!(
        all.contains("synctl validate") && all.contains("Failed"),
        "{all}"
    );
    assert!(
        all.contains("synctl::unknown-ref") && all.contains("did you mean `observability`?"),
        "{all}"
    );
    assert!(
        !run(&["rev-parse", "--verify", "HEAD"], Path::new("git"))
            .status
            .success(),
        "nothing was committed"
    );

    fs::write(&spec, &good).unwrap();
    git(dir.path(), &["add", "fleet.yaml"]);
    let out = run(&["commit", "-m", "fixed spec"], Path::new("git"));
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn add_env_extends_a_flow_style_cluster_list() {
    let dir = repo("aphex");
    let spec = dir.path().join("fleet.yaml");
    let text = fs::read_to_string(&spec).unwrap().replace(
        "  clusters:\n    - name: aphex\n      role: hub\n      vars: {DOMAIN: aphex.example.com}\n",
        "  clusters: [{name: aphex, role: hub, vars: {DOMAIN: aphex.example.com}}]  # one cluster for now\n",
    );
    fs::write(&spec, &text).unwrap();
    let run = synctl(dir.path())
        .args([
            "add-env",
            "edge",
            "--var",
            "DOMAIN=edge.example.com",
            "--no-commit",
        ])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    let after = fs::read_to_string(&spec).unwrap();
    assert!(
        after.contains("  clusters: [{name: aphex, role: hub, vars: {DOMAIN: aphex.example.com}}, {name: edge, vars: {DOMAIN: edge.example.com}}]  # one cluster for now\n"),
        "{after}"
    );
    assert!(run.stdout.contains("argocd cluster add"), "{}", run.stdout);
    assert!(
        dir.path()
            .join("fleet/edge/apps/edge/kustomization.yaml")
            .is_file()
    );
}

#[test]
fn add_env_like_joins_tenant_entries_and_reports_json() {
    // d1: `update` (a tenant entry) is placed on staging only; a cluster like staging must
    // join that list too, or the environment would be split and the spec refused.
    let dir = repo("d1");
    let run = synctl(dir.path()).args(["generate", "--commit"]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    let run = synctl(dir.path())
        .args(["add-env", "qa", "--like", "staging", "--format", "json"])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    let out: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout));
    assert_eq!(out["cluster"], "qa");
    assert_eq!(out["environment"], "staging");
    assert_eq!(out["role"], "standalone");
    assert_eq!(out["committed"], true);
    assert_eq!(out["entry"], "fleet/staging/clusters/qa");
    let added: Vec<&str> = out["added"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(
        added.contains(&"fleet/staging/clusters/qa/flux-instance.yaml"),
        "{added:?}"
    );
    for p in &added {
        assert!(dir.path().join(p).is_file(), "{p} reported but not written");
    }
    let steps = out["steps"].as_array().unwrap();
    assert!(
        steps.iter().any(|s| s["commands"][0]
            == "kubectl --context qa apply -f fleet/staging/clusters/qa/flux-instance.yaml"),
        "{steps:?}"
    );
    let secrets: Vec<&str> = out["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(secrets, ["flux-apps", "flux-system"]);

    let diff = git(dir.path(), &["diff", "HEAD~1", "HEAD", "--", "fleet.yaml"]);
    assert_eq!(
        diff.matches("+          clusters: [staging, qa]").count(),
        1,
        "the tenant entry joins qa:\n{diff}"
    );
    assert!(diff.contains("+      clusters: [staging, qa]"), "{diff}");
    let run = synctl(dir.path()).args(["generate", "--check"]).run();
    assert_eq!(run.status, 0, "{}{}", run.stdout, run.stderr);
}

/// Every command `add-env` prints runs as printed: a known program, the cluster's context on
/// each, no `...`, no `<placeholder>` (a shell would read it as a redirection), valid shell
/// syntax (`bash -n`). Checked on a fleet cluster, both standalone bootstraps, a workload-
/// identity cluster and an Argo CD fleet.
#[test]
fn every_command_add_env_prints_runs_as_printed() {
    let cases: [(&str, &[&str]); 5] = [
        ("examples/cortex", &["add-env", "qa", "--like", "dev"]),
        (
            "examples/cortex",
            &[
                "add-env",
                "edge",
                "--role",
                "standalone",
                "--bootstrap",
                "flux-cli",
            ],
        ),
        (
            "examples/cortex",
            &[
                "add-env",
                "edge",
                "--role",
                "standalone",
                "--bootstrap",
                "flux-operator",
            ],
        ),
        (
            "examples/d1",
            &[
                "add-env",
                "prod-ap",
                "--like",
                "prod-eu",
                "--var",
                "RELEASE_BRANCH=production",
                "--var",
                "CLUSTER_DOMAIN=ap.example.com",
            ],
        ),
        (
            "tests/fleets/argocd-fleet",
            &["add-env", "ap-1", "--like", "eu-1"],
        ),
    ];
    for (folder, args) in cases {
        let dir = tempfile::tempdir().unwrap();
        crate::copy_folder(folder, dir.path(), true);
        let run = synctl(dir.path())
            .args(args)
            .args(["--no-commit", "--format", "json"])
            .run();
        assert_eq!(run.status, 0, "{args:?}: {}", run.stderr);
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let context = doc["context"].as_str().unwrap().to_owned();
        let mut commands: Vec<String> = Vec::new();
        for step in doc["steps"].as_array().unwrap() {
            for key in ["commands", "or"] {
                for c in step[key].as_array().into_iter().flatten() {
                    commands.extend(c.as_str().map(str::to_owned));
                }
            }
        }
        for s in doc["secrets"].as_array().into_iter().flatten() {
            commands.extend(s["command"].as_str().map(str::to_owned));
        }
        assert!(!commands.is_empty(), "{args:?}");
        for line in &commands {
            for part in line.split(" && ") {
                let program = part.split_whitespace().next().unwrap();
                assert!(
                    ["kubectl", "flux", "helm", "argocd"].contains(&program),
                    "{line}"
                );
                let has_context = part.contains(" --context ")
                    || part.contains(" --kube-context ")
                    || part.starts_with("argocd cluster add ");
                assert!(has_context, "{args:?}: no context: {line}");
            }
            assert!(!line.contains("..."), "{line}");
            let unquoted: String = line.split('"').step_by(2).collect();
            assert!(
                !unquoted.contains(['<', '>', '(', '|']),
                "{args:?}: a placeholder or prose: {line}"
            );
            let syntax = Command::new("bash")
                .args(["-n", "-c", line])
                .output()
                .unwrap();
            assert!(syntax.status.success(), "{line}");
        }
        // The steps' own context is the one the first step names.
        assert!(commands.iter().any(|c| c.contains(&context)), "{args:?}");
    }
}

/// The editor schema `init` writes beside the spec is brought up to date by `generate` and
/// committed with the spec; a `fleet.schema.json` that is not synctl's is left alone.
#[test]
fn generate_keeps_the_editor_schema_current_and_commits_it() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["config", "user.name", "Platform Bot"]);
    git(dir.path(), &["config", "user.email", "bot@example.com"]);
    assert_eq!(synctl(dir.path()).args(["init"]).run().status, 0);
    let schema = dir.path().join("fleet.schema.json");
    let current = fs::read_to_string(&schema).unwrap();
    // An older synctl's copy: same `$id`, other content.
    let old = current.replacen(
        "\"description\"",
        "\"$comment\": \"old\", \"description\"",
        1,
    );
    assert_ne!(old, current);
    fs::write(&schema, &old).unwrap();
    let run = synctl(dir.path()).args(["generate", "--commit"]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(fs::read_to_string(&schema).unwrap(), current);
    let files = git(dir.path(), &["show", "--name-only", "--format=", "HEAD"]);
    assert!(files.lines().any(|f| f == "fleet.schema.json"), "{files}");
    // A person's own file of that name stays as it is.
    fs::write(&schema, "{\"$id\": \"https://example.com/mine.json\"}\n").unwrap();
    let run = synctl(dir.path()).args(["generate"]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        fs::read_to_string(&schema).unwrap(),
        "{\"$id\": \"https://example.com/mine.json\"}\n"
    );
}
