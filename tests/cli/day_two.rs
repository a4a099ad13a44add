//! Day two (issue 23): `diff --base REF`, what a change does to each cluster object by object,
//! compiled from the spec at a Git ref and the spec in the work tree.

use std::fs;
use std::path::Path;

use crate::{Synctl, git, root};

/// A git repository holding `folder` (an example or a test fleet, relative to the repository
/// root) with its generated tree, committed on `main`.
fn committed(folder: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = root().join(folder);
    for e in walkdir::WalkDir::new(&src).into_iter().flatten() {
        let dst = dir.path().join(e.path().strip_prefix(&src).unwrap());
        if e.file_type().is_dir() {
            fs::create_dir_all(&dst).unwrap();
        } else {
            fs::copy(e.path(), &dst).unwrap();
        }
    }
    git(dir.path(), &["init", "-q", "-b", "main"]);
    let run = Synctl::new()
        .dir(dir.path())
        .args(["generate", "-q", "--no-prove"])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "base"]);
    dir
}

fn edit(dir: &Path, from: &str, to: &str) {
    let spec = dir.join("fleet.yaml");
    let text = fs::read_to_string(&spec).unwrap();
    assert!(text.contains(from), "{from}");
    fs::write(&spec, text.replacen(from, to, 1)).unwrap();
}

fn diff(dir: &Path, args: &[&str]) -> crate::Run {
    Synctl::new()
        .dir(dir)
        .args(["diff", "--base", "main"])
        .args(args)
        .run()
}

#[test]
fn a_version_bump_is_reported_on_the_production_clusters_only() {
    let dir = committed("examples/cortex");
    let run = diff(dir.path(), &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "no cluster receives anything different from `main`\n"
    );
    edit(
        dir.path(),
        r#"production: {version: "1.16.2""#,
        r#"production: {version: "1.16.3""#,
    );
    let status_before = git(dir.path(), &["status", "--porcelain"]);
    let run = diff(dir.path(), &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "1 change(s) from `main`, on 1 cluster(s):\n\
         changed  HelmRelease production/cert-manager on 1 cluster(s): production\n\
         \x20          spec.chart.spec.version: \"1.16.2\" → \"1.16.3\"\n"
    );
    // The work tree is read, never written: the generated tree still holds the old version.
    assert_eq!(git(dir.path(), &["status", "--porcelain"]), status_before);
    assert_eq!(status_before, " M fleet.yaml\n");

    let run = diff(dir.path(), &["--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["changes"].as_array().unwrap().len(), 1);
    let change = &doc["changes"][0];
    assert_eq!(change["change"], "changed");
    assert_eq!(change["clusters"], serde_json::json!(["production"]));
    assert_eq!(
        change["fields"],
        serde_json::json!([{"path": "spec.chart.spec.version", "from": "\"1.16.2\"", "to": "\"1.16.3\""}])
    );
    assert_eq!(doc["clusters"]["production"]["changed"], 1);

    let run = diff(dir.path(), &["--format", "markdown", "--exit-code"]);
    assert_eq!(run.status, 1, "--exit-code: something changed");
    assert!(run.stdout.starts_with("### synctl:"), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "| changed | HelmRelease production/cert-manager | 1 (production) | `spec.chart.spec.version: \"1.16.2\" → \"1.16.3\"` |"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn a_new_component_and_a_removed_tenant_are_listed_per_cluster() {
    let dir = committed("examples/cortex");
    edit(
        dir.path(),
        "    - name: kyverno\n      wave: controllers\n",
        "    - name: trivy\n      wave: controllers\n      chart:\n        repository: https://aquasecurity.github.io/helm-charts/\n        name: trivy-operator\n        version: \"0.24.1\"\n    - name: kyverno\n      wave: controllers\n",
    );
    let spec = fs::read_to_string(dir.path().join("fleet.yaml")).unwrap();
    let start = spec.find("    - name: team-b\n").unwrap();
    let end = spec[start + 1..]
        .find("\n    - name:")
        .map_or(spec.len(), |i| start + 2 + i);
    fs::write(
        dir.path().join("fleet.yaml"),
        format!("{}{}", &spec[..start], &spec[end..]),
    )
    .unwrap();
    let run = diff(dir.path(), &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    // The chart reaches every cluster it is placed on, its source only the hub.
    assert!(
        lines.contains(&"added    HelmRelease trivy on 3 cluster(s): cortex, dev, production"),
        "{}",
        run.stdout
    );
    assert!(lines.contains(&"added    Namespace trivy on 3 cluster(s): cortex, dev, production"));
    assert!(lines.contains(&"added    HelmRepository trivy on 1 cluster(s): cortex"));
    // team-b lived on dev only: its namespaces, quota and Flux objects go there, its
    // account also from the hub.
    for removed in [
        "removed  Namespace team-b on 1 cluster(s): dev",
        "removed  Namespace team-b-jobs on 1 cluster(s): dev",
        "removed  Kustomization dev/tenant-team-b on 1 cluster(s): dev",
        "removed  ServiceAccount team-b on 2 cluster(s): cortex, dev",
    ] {
        assert!(lines.contains(&removed), "{removed}\n{}", run.stdout);
    }
    assert!(!run.stdout.contains("team-a"), "{}", run.stdout);
    assert!(
        !run.stdout.contains("changed "),
        "nothing else changes: {}",
        run.stdout
    );
}

#[test]
fn an_argo_cd_application_counts_for_its_destination() {
    let dir = committed("tests/fleets/argocd-fleet");
    edit(
        dir.path(),
        r#"prod: {version: "1.16.2""#,
        r#"prod: {version: "1.16.3""#,
    );
    let run = diff(dir.path(), &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "changed  Application argocd/eu-1-cert-manager on 1 cluster(s): eu-1\n           spec.source.targetRevision: \"1.16.2\" → \"1.16.3\"\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("argocd/us-1-cert-manager on 1 cluster(s): us-1")
    );
    assert!(
        run.stdout
            .starts_with("2 change(s) from `main`, on 2 cluster(s):")
    );
}

#[test]
fn a_bad_ref_or_a_bad_spec_at_the_ref_is_refused_and_changes_nothing() {
    let dir = committed("examples/homelab");
    let run = Synctl::new()
        .dir(dir.path())
        .args(["diff", "--base", "no-such-branch"])
        .run();
    assert_eq!(run.status, 2);
    assert!(
        run.stderr
            .contains("`no-such-branch` names no commit of this repository"),
        "{}",
        run.stderr
    );
    // A spec that does not validate at the ref.
    let spec = dir.path().join("fleet.yaml");
    let good = fs::read_to_string(&spec).unwrap();
    fs::write(
        &spec,
        good.replacen("kind: Fleet", "kind: Fleet\nbogus: 1", 1),
    )
    .unwrap();
    git(dir.path(), &["commit", "-q", "-am", "broken"]);
    fs::write(&spec, &good).unwrap();
    let run = diff(dir.path(), &[]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("the spec at `main` does not validate"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main:fleet.yaml"), "{}", run.stderr);
    assert_eq!(
        git(dir.path(), &["status", "--porcelain"]),
        " M fleet.yaml\n"
    );
    // --format markdown reports objects: it needs a base.
    let run = Synctl::new()
        .dir(dir.path())
        .args(["diff", "--format", "markdown"])
        .run();
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("needs --base REF"), "{}", run.stderr);
}

fn promote(dir: &Path, args: &[&str]) -> crate::Run {
    Synctl::new().dir(dir).args(["promote"]).args(args).run()
}

#[test]
fn a_promotion_changes_the_version_on_the_production_clusters_only() {
    let dir = committed("examples/cortex");
    git(dir.path(), &["config", "user.name", "Platform Bot"]);
    git(dir.path(), &["config", "user.email", "bot@example.com"]);
    // A dry run reports and changes nothing; it exits 1 because production is behind.
    let run = promote(
        dir.path(),
        &["--from", "dev", "--to", "production", "--check"],
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("cert-manager: production 1.16.2 → 1.16.* (as dev runs it)\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("kyverno: production already runs what dev runs\n")
    );
    assert!(
        run.stdout
            .contains("kyverno-policies: a path component has no version to promote\n")
    );
    assert!(
        run.stdout.contains(
            "changed  HelmRelease production/cert-manager on 1 cluster(s): production\n           spec.chart.spec.version: \"1.16.2\" → \"1.16.*\"\n"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(git(dir.path(), &["status", "--porcelain"]), "");

    let run = promote(
        dir.path(),
        &[
            "--from",
            "dev",
            "--to",
            "production",
            "cert-manager",
            "--commit",
        ],
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    let files = git(dir.path(), &["show", "--name-only", "--format=%s", "HEAD"]);
    let mut lines = files.lines();
    assert_eq!(lines.next(), Some("synctl: promote dev to production"));
    let changed: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    assert!(changed.contains(&"fleet.yaml"), "{changed:?}");
    assert!(
        changed
            .iter()
            .all(|f| *f == "fleet.yaml" || f.contains("production")),
        "only production's files change: {changed:?}"
    );
    // The spec's edit is the version alone, in place, its comments and layout kept.
    let spec_diff = git(
        dir.path(),
        &["diff", "HEAD~1", "HEAD", "--unified=0", "--", "fleet.yaml"],
    );
    let edits: Vec<&str> = spec_diff
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .collect();
    assert_eq!(
        edits,
        [
            r#"-        production: {version: "1.16.2", values: {replicaCount: 2}}"#,
            r#"+        production: {version: "1.16.*", values: {replicaCount: 2}}"#,
        ]
    );
    // Run again: production now runs what dev runs.
    let run = promote(
        dir.path(),
        &["--from", "dev", "--to", "production", "cert-manager"],
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "cert-manager: production already runs what dev runs\nnothing to promote\n"
    );
    let run = promote(
        dir.path(),
        &["--from", "dev", "--to", "production", "--format", "json"],
    );
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let crossplane = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "crossplane")
        .unwrap();
    // Crossplane runs on the hub only.
    assert_eq!(crossplane["outcome"], "not-in-source");
}

#[test]
fn a_promotion_with_values_writes_them_where_the_spec_keeps_environments() {
    let dir = committed("examples/cortex");
    let run = promote(
        dir.path(),
        &["--from", "production", "--to", "dev", "kyverno", "--values"],
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "changed  HelmRelease dev/kyverno on 1 cluster(s): dev\n           spec.values: (none) → {\"admissionController\":{\"replicas\":3}}\n"
        ),
        "{}",
        run.stdout
    );
    let spec = fs::read_to_string(dir.path().join("fleet.yaml")).unwrap();
    assert!(
        spec.contains("            admissionController: {replicas: 3}\n        dev: {version: \"3.3.*\", values: {admissionController: {replicas: 3}}}\n"),
        "{spec}"
    );
    let run = Synctl::new().dir(dir.path()).args(["validate"]).run();
    assert_eq!(
        run.status, 0,
        "the tree was generated with the spec: {}",
        run.stderr
    );
}

#[test]
fn an_unknown_environment_or_component_is_refused_and_changes_nothing() {
    let dir = committed("examples/cortex");
    for (args, says) in [
        (
            &["--from", "staging", "--to", "production"][..],
            "no cluster is in environment `staging` (environments: cortex, dev, production)",
        ),
        (
            &["--from", "dev", "--to", "production", "nope"][..],
            "no component is named `nope`",
        ),
        (
            &["--from", "dev", "--to", "dev"][..],
            "--from and --to name one environment",
        ),
    ] {
        let run = promote(dir.path(), args);
        assert_eq!(run.status, 2, "{args:?}");
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
    }
    assert_eq!(git(dir.path(), &["status", "--porcelain"]), "");
}
