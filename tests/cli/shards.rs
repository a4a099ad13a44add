//! A sharded hub (`spec.flux.sharding`, docs/sharding.md): every Flux object of a fleet cluster
//! labelled for one shard, no reference across shards (proven by `synctl check`), the shards
//! balanced, the FluxInstance valid against its CRD, and a stable assignment: adding or removing
//! a cluster changes only its own files and the listings.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use crate::{Synctl, assert_valid_manifests, git, yaml_docs};

const KEY: &str = "sharding.fluxcd.io/key";

/// A synthetic fleet of `clusters` fleet clusters, the hub sharded `shards` ways with the Flux
/// Operator, generated into `dir` and committed.
fn sharded(dir: &Path, clusters: usize, shards: u32) -> String {
    let spec = synctl::synthetic::fleet(clusters + 1, 3).replace(
        "  clusters:\n",
        &format!("  flux:\n    bootstrap: flux-operator\n    sharding: {{shards: {shards}}}\n  clusters:\n"),
    );
    fs::write(dir.join("fleet.yaml"), &spec).unwrap();
    let run = Synctl::new().dir(dir).args(["generate", "-q"]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(
        dir,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "commit",
            "-q",
            "-m",
            "fleet",
        ],
    );
    spec
}

/// The files `generate` would add, change and remove.
fn changed(dir: &Path) -> BTreeSet<String> {
    let run = Synctl::new()
        .dir(dir)
        .args(["diff", "--format", "json"])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["change"].as_str().unwrap(),
                f["path"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_thousand_clusters_on_eight_shards_labelled_balanced_and_proven() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sharded(d, 1000, 8);
    let instance = yaml_docs(&d.join("hub/flux-instance.yaml"));
    let shards: Vec<&str> = instance[0]["spec"]["sharding"]["shards"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(
        shards,
        (1..=8).map(|i| format!("shard{i}")).collect::<Vec<_>>()
    );
    assert_eq!(instance[0]["spec"]["sharding"]["key"], KEY);

    // Every Flux object of every fleet cluster's hub file carries its cluster's one shard; the
    // Kustomizations that apply to the hub (a wave's releases) label what they apply too.
    let mut per_shard: BTreeMap<String, usize> = BTreeMap::new();
    for i in 1..=1000 {
        let file = d.join(format!("hub/c{i}.yaml"));
        let mut mine = BTreeSet::new();
        for doc in yaml_docs(&file) {
            let kind = doc["kind"].as_str().unwrap();
            if !doc["apiVersion"]
                .as_str()
                .unwrap()
                .contains("toolkit.fluxcd.io")
            {
                continue;
            }
            let label = doc["metadata"]["labels"][KEY]
                .as_str()
                .unwrap_or_else(|| panic!("c{i}: {kind} unlabelled"));
            mine.insert(label.to_owned());
            *per_shard.entry(label.to_owned()).or_default() += 1;
            if kind == "Kustomization" && doc["spec"]["kubeConfig"].is_null() {
                assert_eq!(
                    doc["spec"]["commonMetadata"]["labels"][KEY].as_str(),
                    Some(label),
                    "c{i}"
                );
            }
        }
        assert_eq!(mine.len(), 1, "c{i}: {mine:?}");
    }
    assert_eq!(per_shard.len(), 8, "{per_shard:?}");
    let (min, max) = (
        per_shard.values().min().unwrap(),
        per_shard.values().max().unwrap(),
    );
    assert!(
        max * 100 <= min * 110,
        "shards differ by more than 10 %: {per_shard:?}"
    );
    // The hub's own objects stay on the main controllers.
    for doc in yaml_docs(&d.join("hub/kustomization.yaml")) {
        assert!(doc["metadata"]["labels"][KEY].is_null(), "{doc:?}");
    }

    // Read back as Flux reads it: no Kustomization or HelmRelease reads across shards.
    let check = Synctl::new().dir(d).args(["check", "."]).run();
    assert_eq!(check.status, 0, "{}{}", check.stdout, check.stderr);
    assert!(!check.stderr.contains("synctl::shard"), "{}", check.stderr);
}

/// The sharded hub's objects are valid against the upstream CRDs (the FluxInstance's
/// `sharding`, the labels, `commonMetadata`).
#[test]
fn a_sharded_hub_passes_validate_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sharded(d, 3, 2);
    assert_valid_manifests("a sharded hub", &[d.join("hub"), d.join("fleet")]);
}

/// Adding a cluster writes its own files and the listings, and moves no other cluster; so does
/// removing one.
#[test]
fn adding_or_removing_a_cluster_moves_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let spec = sharded(d, 200, 8);
    let added = spec.replace(
        "  components:\n",
        "    - name: newcomer\n      environment: env3\n      vars: {CLUSTER_DOMAIN: newcomer.example.com}\n  components:\n",
    );
    fs::write(d.join("fleet.yaml"), &added).unwrap();
    let got = changed(d);
    let want: BTreeSet<String> = ["added hub/newcomer.yaml", "changed hub/kustomization.yaml"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(got, want);

    let removed = spec.replace(
        "    - name: c57\n      environment: env5\n      vars: {CLUSTER_DOMAIN: c57.example.com}\n",
        "",
    );
    assert_ne!(removed, spec);
    fs::write(d.join("fleet.yaml"), &removed).unwrap();
    let got = changed(d);
    let want: BTreeSet<String> = ["removed hub/c57.yaml", "changed hub/kustomization.yaml"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(got, want);
}

/// Sharding is the hub's; a `flux bootstrap` hub must run the shards' controllers.
#[test]
fn sharding_a_standalone_cluster_without_tenants_and_a_bootstrap_hub_without_shard_controllers_are_refused()
 {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let spec = synctl::synthetic::fleet(4, 2).replace(
        "      environment: env0\n",
        "      environment: env0\n      role: standalone\n      flux: {sharding: {shards: 2}}\n",
    );
    fs::write(d.join("fleet.yaml"), &spec).unwrap();
    let run = Synctl::new()
        .dir(d)
        .args(["validate", "--format", "json"])
        .run();
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("which runs no tenant's Flux entries"),
        "{}",
        run.stdout
    );

    let spec = synctl::synthetic::fleet(4, 2).replace(
        "  clusters:\n",
        "  flux:\n    sharding: {shards: 2}\n  clusters:\n",
    );
    fs::write(d.join("fleet.yaml"), &spec).unwrap();
    let run = Synctl::new()
        .dir(d)
        .args(["validate", "--format", "json"])
        .run();
    assert!(
        run.stdout
            .contains("no `hub/flux-system/kustomization.yaml` yet"),
        "{}",
        run.stdout
    );
    fs::create_dir_all(d.join("hub/flux-system")).unwrap();
    fs::write(
        d.join("hub/flux-system/kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [gotk-components.yaml, gotk-sync.yaml]\n",
    )
    .unwrap();
    let run = Synctl::new()
        .dir(d)
        .args(["validate", "--format", "json"])
        .run();
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("its Flux runs without the main controllers' --watch-label-selector=!sharding.fluxcd.io/key, controllers for `shard1`, controllers for `shard2`"),
        "{}",
        run.stdout
    );
}

/// A fifth shard: `diff --base` names exactly the clusters that move (the fewest that balance
/// the shards), each object's label changing to the new shard, and no other change.
#[test]
fn a_new_shard_moves_the_fewest_clusters_and_diff_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let spec = sharded(d, 40, 4);
    fs::write(
        d.join("fleet.yaml"),
        spec.replace("{shards: 4}", "{shards: 5}"),
    )
    .unwrap();
    let run = Synctl::new()
        .dir(d)
        .args(["diff", "--base", "HEAD", "--format", "json"])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let mut moved = BTreeSet::new();
    for c in v["changes"].as_array().unwrap() {
        assert_eq!(c["change"], "changed", "{c}");
        if c["kind"] == "FluxInstance" {
            assert_eq!(c["fields"][0]["path"], "spec.sharding.shards", "{c}");
            continue;
        }
        let fields: Vec<&str> = c["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        for f in &c["fields"].as_array().unwrap()[..] {
            if f["path"].as_str().unwrap().starts_with("spec.patches[") {
                // A releases Kustomization's patch labelling its HelmCharts (shown cut short).
                assert!(f["to"].as_str().unwrap().contains("op: add"), "{c}");
                continue;
            }
            assert_eq!(f["to"], "\"shard5\"", "{c}");
        }
        assert!(
            fields
                .iter()
                .all(|p| p.contains(KEY) || p.starts_with("spec.patches[")),
            "only the shard label changes: {c}"
        );
        // Each moved object lives on the hub, in its cluster's namespace.
        for ns in c["namespaces"].as_array().unwrap() {
            moved.insert(ns.as_str().unwrap().to_owned());
        }
    }
    // 40 clusters, 10 a shard, to 8 a shard: two leave each of the four.
    assert_eq!(moved.len(), 8, "{moved:?}");
    // A moved cluster's HelmCharts move with it: its releases Kustomizations' chart patch.
    let run = Synctl::new().dir(d).args(["generate", "-q"]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    for c in &moved {
        let mut patched = 0;
        for doc in yaml_docs(&d.join(format!("hub/{c}.yaml"))) {
            for p in doc["spec"]["patches"].as_sequence().into_iter().flatten() {
                let text = p["patch"].as_str().unwrap();
                assert!(text.contains(&format!("{KEY}: shard5\n")), "{c}: {text}");
                patched += 1;
            }
        }
        assert!(patched > 0, "{c}: no chart patch");
    }
}

/// The messages of the `synctl::shard` errors `check .` finds in `dir` (which exits 1).
fn shard_errors(dir: &Path) -> Vec<String> {
    let run = Synctl::new()
        .dir(dir)
        .args(["check", ".", "--format", "json"])
        .run();
    assert_eq!(run.status, 1, "{}{}", run.stdout, run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "synctl::shard" && p["severity"] == "error")
        .map(|p| p["message"].as_str().unwrap().to_owned())
        .collect()
}

/// Rewrites every document of a YAML file with `edit`.
fn edit_docs(path: &Path, edit: impl Fn(&mut serde_yaml::Value)) {
    let out: Vec<String> = yaml_docs(path)
        .into_iter()
        .map(|mut d| {
            edit(&mut d);
            serde_yaml::to_string(&d).unwrap()
        })
        .collect();
    fs::write(path, out.join("---\n")).unwrap();
}

/// `check` proves a sharded tree as the controllers read it: a HelmChart away from its chart
/// source and a label no controllers select are errors; a `dependsOn` or `sourceRef` across
/// shards is not (kustomize-controller and helm-controller read those around their
/// label-filtered cache since Flux 2.4).
#[test]
fn check_proves_the_references_the_shards_controllers_cannot_follow() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sharded(d, 3, 2);
    let shard = |c: &str| {
        yaml_docs(&d.join(format!("hub/{c}.yaml")))[1]["metadata"]["labels"][KEY]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let other = |s: &str| if s == "shard1" { "shard2" } else { "shard1" };
    // c1's releases Kustomizations lose the patch that labels their HelmCharts.
    edit_docs(&d.join("hub/c1.yaml"), |k| {
        if let Some(spec) = k["spec"].as_mapping_mut() {
            spec.remove("patches");
        }
    });
    // c2's GitRepository is labelled for a shard nobody runs.
    edit_docs(&d.join("hub/c2.yaml"), |k| {
        if k["kind"] == "GitRepository" {
            k["metadata"]["labels"][KEY] = "shard9".into();
        }
    });
    // c3's Kustomizations that apply through its kubeconfig move to the other shard: they read
    // their GitRepository and wait for (and are waited for by) Kustomizations across shards.
    let (s3, o3) = (shard("c3"), other(&shard("c3")));
    edit_docs(&d.join("hub/c3.yaml"), |k| {
        if k["kind"] == "Kustomization" && !k["spec"]["kubeConfig"].is_null() {
            k["metadata"]["labels"][KEY] = o3.into();
        }
    });
    let check = shard_errors(d);
    let charts = check
        .iter()
        .filter(|e| e.starts_with("the HelmChart of HelmRelease/c1/"))
        .count();
    assert_eq!(charts, 3, "one per chart component of c1: {check:#?}");
    assert!(
        check
            .iter()
            .all(|e| !e.contains("/c3/") && !e.contains("HelmRelease/c2")),
        "{check:#?}"
    );
    let nobody: Vec<&String> = check.iter().filter(|e| e.contains("shard9")).collect();
    assert_eq!(nobody.len(), 1, "{check:#?}");
    assert!(
        nobody[0].starts_with("GitRepository/c2/c2 is labelled for shard `shard9`"),
        "{}",
        nobody[0]
    );
    assert_eq!(check.len(), 4, "{check:#?}");
    assert_ne!(s3, o3);

    // Before Flux 2.4 a `dependsOn` across shards is never found: c3's waves now wait across.
    edit_docs(&d.join("hub/flux-instance.yaml"), |i| {
        i["spec"]["distribution"]["version"] = "2.3.x".into();
    });
    let across: Vec<String> = shard_errors(d)
        .into_iter()
        .filter(|e| e.contains("looks `dependsOn` up among its shard's objects only"))
        .collect();
    assert!(!across.is_empty(), "no dependsOn across shards reported");
    assert!(
        across.iter().all(|e| e.starts_with("Kustomization/c3/")),
        "{across:#?}"
    );
}
