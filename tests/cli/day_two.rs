//! Day two (issue 23): `diff --base REF`, what a change does to each cluster object by object,
//! compiled from the spec at a Git ref and the spec in the work tree.

use std::fs;
use std::path::Path;

use crate::{Synctl, git};

/// A git repository holding `folder` (an example or a test fleet, relative to the repository
/// root) with its generated tree, committed on `main`.
fn committed(folder: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    crate::copy_folder(folder, dir.path(), true);
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
    assert!(!run.stdout.contains("warning:"), "{}", run.stdout);

    // Removing a component with the one it depends on, in one change, is flagged: the
    // controllers would delete both at once.
    let spec = fs::read_to_string(dir.path().join("fleet.yaml")).unwrap();
    let cut = |s: &str, from: &str, to: &str| {
        let i = s.find(from).unwrap();
        let j = s[i..].find(to).map_or(s.len(), |j| i + j);
        format!("{}{}", &s[..i], &s[j..])
    };
    let spec = cut(&spec, "    - name: kyverno\n", "    - name: crossplane\n");
    let spec = cut(
        &spec,
        "    - name: kyverno-policies\n",
        "    - name: gateway\n",
    );
    fs::write(dir.path().join("fleet.yaml"), spec).unwrap();
    let run = diff(dir.path(), &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout.ends_with(
            "warning: `kyverno-policies` and `kyverno`, which it depends on, leave cortex, dev, production in one change: the controllers delete both at once, in no order; remove `kyverno-policies` first and `kyverno` in a later commit\n"
        ),
        "{}",
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
    let edits = crate::committed_edit(dir.path(), "fleet.yaml");
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

/// Retires `cluster` of the committed `folder` stage by stage with `--commit`, asserting
/// after every stage that the tree is proven, that nothing still placed on the cluster
/// depends on something taken off it, and that each stage is one commit. Returns the stages'
/// first lines and the repository.
fn retire_all(folder: &str, cluster: &str) -> (Vec<String>, tempfile::TempDir) {
    let dir = committed(folder);
    git(dir.path(), &["config", "user.name", "Platform Bot"]);
    git(dir.path(), &["config", "user.email", "bot@example.com"]);
    let plan = Synctl::new()
        .dir(dir.path())
        .args(["retire", cluster, "--plan"])
        .run();
    assert_eq!(plan.status, 0, "{}", plan.stderr);
    let planned = plan.stdout.lines().count() - 1;
    // Every check it prints runs as printed, against a named context.
    let json = Synctl::new()
        .dir(dir.path())
        .args(["retire", cluster, "--plan", "--format", "json"])
        .run();
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let stages = json["stages"].as_array().unwrap();
    assert_eq!(stages.len(), planned);
    for line in stages.iter().flat_map(|s| s["verify"].as_array().unwrap()) {
        let line = line.as_str().unwrap();
        let program = line.split_whitespace().next().unwrap();
        assert!(["kubectl", "flux", "argocd"].contains(&program), "{line}");
        assert!(
            line.contains(" --context ") || line.starts_with("argocd cluster rm "),
            "{line}"
        );
        let syntax = std::process::Command::new("bash")
            .args(["-n", "-c", line])
            .output()
            .unwrap();
        assert!(syntax.status.success(), "{line}");
    }
    let mut done = Vec::new();
    for stage in 1..=planned {
        let run = Synctl::new()
            .dir(dir.path())
            .args(["retire", cluster, "--commit"])
            .run();
        assert_eq!(run.status, 0, "stage {stage}: {}", run.stderr);
        done.push(run.stdout.lines().next().unwrap().to_owned());
        assert_eq!(
            git(dir.path(), &["rev-list", "--count", "HEAD"]).trim(),
            (stage + 1).to_string(),
            "one commit per stage"
        );
        assert_eq!(
            git(dir.path(), &["status", "--porcelain"]),
            "",
            "stage {stage}"
        );
        // What stays on the cluster needs nothing that left it (the dependency graph as
        // `graph` prints it).
        let graph = Synctl::new()
            .dir(dir.path())
            .args(["graph", "--format", "json"])
            .run();
        let graph: serde_json::Value = serde_json::from_str(&graph.stdout).unwrap();
        let on = |name: &serde_json::Value| {
            graph["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| &n["name"] == name)
                .is_some_and(|n| {
                    n["clusters"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|c| c == cluster)
                })
        };
        for e in graph["edges"].as_array().unwrap() {
            assert!(
                !on(&e["to"]) || on(&e["from"]),
                "stage {stage}: {} stays on {cluster} but {} left it",
                e["to"],
                e["from"]
            );
        }
        // The tree as the controllers read it: CRDs before their custom resources, namespaces
        // before what is in them, every dependsOn found.
        let check = Synctl::new().dir(dir.path()).args(["check", "."]).run();
        assert_eq!(
            check.status, 0,
            "stage {stage}: {}{}",
            check.stdout, check.stderr
        );
    }
    let spec = fs::read_to_string(dir.path().join("fleet.yaml")).unwrap();
    assert!(!spec.contains(&format!("name: {cluster}\n")), "{spec}");
    let run = Synctl::new()
        .dir(dir.path())
        .args(["retire", cluster])
        .run();
    assert_eq!(run.status, 2);
    assert!(
        run.stderr
            .contains(&format!("no cluster is named `{cluster}`"))
    );
    (done, dir)
}

#[test]
fn a_fleet_cluster_is_retired_stage_by_stage() {
    let (done, dir) = retire_all("examples/cortex", "dev");
    assert_eq!(
        done,
        [
            "retire tenants team-a, team-b: written and committed",
            "retire components gateway, kyverno-policies, synapse-stack: written and committed",
            "retire components argo-cd, cert-manager, kgateway, kyverno, tailscale-operator: written and committed",
            "retire components kgateway-crds: written and committed",
            "remove cluster `dev` from the spec (its entry, hub namespace and kubeconfig reference): written and committed",
        ]
    );
    // Its hub objects went last, and nothing of it is left in the tree.
    assert!(!dir.path().join("hub/dev.yaml").exists());
    assert!(!dir.path().join("fleet/dev").exists());
    // Until the last stage the hub kept the cluster's namespace (never pruned: it holds the
    // kubeconfig Secret) and its source; the wave Kustomizations left with their waves.
    let before_last = git(dir.path(), &["show", "HEAD~1:hub/dev.yaml"]);
    assert!(
        before_last.contains("kind: Namespace\nmetadata:\n  name: dev\n  labels:\n    kustomize.toolkit.fluxcd.io/prune: disabled\n")
            && before_last.contains("kind: GitRepository")
            && !before_last.contains("kind: Kustomization"),
        "{before_last}"
    );
}

#[test]
fn a_standalone_cluster_is_retired_stage_by_stage() {
    let (done, dir) = retire_all("examples/d1", "staging");
    assert_eq!(done.len(), 3, "{done:?}");
    assert!(done[0].starts_with("retire tenants flux-infra, flux-apps"));
    assert!(!dir.path().join("fleet/staging").exists());
}

#[test]
fn an_argo_cd_cluster_is_retired_stage_by_stage() {
    let (done, _dir) = retire_all("tests/fleets/argocd-fleet", "sandbox");
    // Issuers (custom resources) go before cert-manager, which installs their CRDs.
    assert_eq!(
        done,
        [
            "retire tenants shop, data: written and committed",
            "retire components external-dns, ingress-nginx: written and committed",
            "retire components issuers: written and committed",
            "retire components cert-manager: written and committed",
            "remove cluster `sandbox` from the spec (its entry, hub namespace and kubeconfig reference): written and committed",
        ]
    );
}

#[test]
fn retiring_the_hub_or_one_cluster_of_a_shared_environment_is_refused() {
    let dir = committed("tests/fleets/argocd-fleet");
    for (cluster, says) in [
        ("mgmt", "`mgmt` is the hub"),
        (
            "eu-1",
            "`eu-1` shares environment `prod` (and its overlay) with us-1",
        ),
        ("nope", "no cluster is named `nope`"),
    ] {
        let run = Synctl::new()
            .dir(dir.path())
            .args(["retire", cluster])
            .run();
        assert_eq!(run.status, 2, "{cluster}");
        assert!(run.stderr.contains(says), "{cluster}: {}", run.stderr);
    }
    assert_eq!(git(dir.path(), &["status", "--porcelain"]), "");
}

#[test]
fn a_spec_in_a_subfolder_is_compared_from_the_ref_s_subfolder() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    crate::copy_example("cortex", &repo.join("gitops"), true);
    fs::write(repo.join("README.md"), "not part of the tree\n").unwrap();
    git(repo, &["init", "-q", "-b", "main"]);
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "base"]);
    edit(
        &repo.join("gitops"),
        r#"production: {version: "1.16.2""#,
        r#"production: {version: "1.16.3""#,
    );
    let run = Synctl::new()
        .dir(repo)
        .args(["diff", "--base", "main", "-f", "gitops/fleet.yaml"])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(
            "1 change(s) from `main`, on 1 cluster(s):\nchanged  HelmRelease production/cert-manager on 1 cluster(s): production\n"
        ),
        "{}",
        run.stdout
    );
}
