//! A standalone cluster with many tenants, sharded (`flux.sharding`, docs/sharding.md): each
//! tenant's entries on one shard of the cluster's controllers, its waves on the main ones, the
//! clusters of an environment alike, the shards balanced, and a tenant keeps its shard (adding
//! one moves no other).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use crate::{Synctl, assert_valid_manifests, git, yaml_docs};

const KEY: &str = "sharding.fluxcd.io/key";

/// Two standalone environments (`staging`: one cluster, `production`: two) running `tenants`
/// tenants, each with two Flux entries from one repository (the second waits for the first),
/// sharded `flux` (the `spec.flux.sharding` value).
fn spec(tenants: usize, sharding: &str) -> String {
    let mut s = format!(
        "apiVersion: synctl.dev/v1alpha1\nkind: Fleet\nmetadata:\n  name: many\nspec:\n  repository:\n    url: https://github.com/acme/fleet\n  flux:\n    bootstrap: flux-operator\n    sharding: {sharding}\n  waves:\n    - name: infra\n    - name: apps\n  clusters:\n    - {{name: staging, role: standalone}}\n    - {{name: prod-eu, role: standalone, environment: production}}\n    - {{name: prod-us, role: standalone, environment: production}}\n  tenants:\n"
    );
    for t in 1..=tenants {
        s.push_str(&format!(
            "    - name: team{t}\n      namespaces: [team{t}]\n      apps:\n        - name: api\n          repository: {{url: https://github.com/acme/team{t}, path: ./api}}\n          wave: apps\n        - name: web\n          repository: {{url: https://github.com/acme/team{t}, path: ./web}}\n          wave: apps\n          dependsOn: [api]\n"
        ));
    }
    s
}

/// Generates `spec` into `dir` (exit 0).
fn generate(dir: &Path, spec: &str) {
    fs::write(dir.join("fleet.yaml"), spec).unwrap();
    let run = Synctl::new().dir(dir).args(["generate", "-q"]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
}

/// Each tenant's shard in `fleet/<env>/apps/tenant-apps.yaml`, checking that all its entries
/// (GitRepository and Kustomizations) carry the one label and nothing they apply is labelled.
fn tenant_shards(dir: &Path, env: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for doc in yaml_docs(&dir.join(format!("fleet/{env}/apps/tenant-apps.yaml"))) {
        let name = doc["metadata"]["name"].as_str().unwrap();
        let tenant = name
            .trim_start_matches("tenant-")
            .split('-')
            .next()
            .unwrap();
        let label = doc["metadata"]["labels"][KEY]
            .as_str()
            .unwrap_or_else(|| panic!("{name} unlabelled"));
        assert!(doc["spec"]["commonMetadata"].is_null(), "{name}");
        let was = out
            .entry(tenant.to_owned())
            .or_insert_with(|| label.to_owned());
        assert_eq!(was, label, "{name}: one tenant, one shard");
    }
    out
}

#[test]
fn a_standalone_clusters_tenants_spread_over_its_shards() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    generate(d, &spec(40, "{shards: 4}"));
    for c in [
        "staging/clusters/staging",
        "production/clusters/prod-eu",
        "production/clusters/prod-us",
    ] {
        let instance = yaml_docs(&d.join(format!("fleet/{c}/flux-instance.yaml")));
        assert_eq!(instance[0]["spec"]["sharding"]["key"], KEY, "{c}");
        assert_eq!(
            instance[0]["spec"]["sharding"]["shards"],
            serde_yaml::from_str::<serde_yaml::Value>("[shard1, shard2, shard3, shard4]").unwrap(),
            "{c}"
        );
        // The cluster's waves stay on the main controllers.
        for k in yaml_docs(&d.join(format!("fleet/{c}/kustomizations.yaml"))) {
            assert!(k["metadata"]["labels"][KEY].is_null(), "{c}: {k:?}");
        }
    }
    let staging = tenant_shards(d, "staging");
    assert_eq!(staging.len(), 40);
    // A tenant's shard is the same in every environment (it depends on its name and the shards).
    assert_eq!(staging, tenant_shards(d, "production"));
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for s in staging.values() {
        *per.entry(s).or_default() += 1;
    }
    assert_eq!(per.len(), 4, "every shard takes tenants: {per:?}");
    // Equal tenants (two entries each) from an empty tree: the shards differ by one at most.
    let (min, max) = (per.values().min().unwrap(), per.values().max().unwrap());
    assert!(max - min <= 1, "{per:?}");

    // As Flux reads it: the entries' sources on their shard, their labels run by the
    // FluxInstance; their `dependsOn` on the waves crosses shards, which Flux 2.4 follows.
    let check = Synctl::new().dir(d).args(["check", "."]).run();
    assert_eq!(check.status, 0, "{}{}", check.stdout, check.stderr);
    assert!(!check.stderr.contains("synctl::shard"), "{}", check.stderr);
    assert_valid_manifests("a sharded standalone cluster", &[d.join("fleet")]);
}

#[test]
fn a_new_tenant_moves_no_other_and_a_new_shard_takes_only_what_it_wins() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    generate(d, &spec(40, "{shards: 4}"));
    let before = tenant_shards(d, "staging");
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["add", "-A"]);
    git(
        d,
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

    generate(d, &spec(41, "{shards: 4}"));
    let after = tenant_shards(d, "staging");
    assert_eq!(after.len(), 41);
    for (t, s) in &before {
        assert_eq!(after[t], *s, "{t} moved");
    }
    // Only the new tenant's objects are new: nothing else changes.
    let diff = Synctl::new()
        .dir(d)
        .args(["diff", "--base", "HEAD", "--format", "json"])
        .run();
    assert_eq!(diff.status, 0, "{}", diff.stderr);
    let v: serde_json::Value = serde_json::from_str(&diff.stdout).unwrap();
    let names: BTreeSet<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["group"]
                .as_str()
                .is_some_and(|g| g.ends_with("toolkit.fluxcd.io"))
        })
        .map(|c| {
            assert_eq!(c["change"], "added", "{c}");
            c["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["tenant-team41-api", "tenant-team41-web"]),
        "{}",
        diff.stdout
    );

    // A fifth shard takes as many tenants as balance needs (41 on 4, 10 or 11 a shard, to 8 or
    // 9 a shard: two from each), all from the other four, and moves nothing between them.
    generate(d, &spec(41, "{shards: 5}"));
    let five = tenant_shards(d, "staging");
    let moved: Vec<&String> = after.keys().filter(|t| five[*t] != after[*t]).collect();
    assert!((7..=9).contains(&moved.len()), "{moved:?}");
    for t in &moved {
        assert_eq!(five[*t], "shard5", "{t}");
    }
}

#[test]
fn tenant_sharding_needs_one_sharding_per_environment_and_flux_2_4() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |spec: String| {
        fs::write(d.join("fleet.yaml"), spec).unwrap();
        Synctl::new()
            .dir(d)
            .args(["validate", "--format", "json"])
            .run()
    };
    let r = run(spec(6, "{shards: 2}").replace(
        "{name: prod-us, role: standalone, environment: production}",
        "{name: prod-us, role: standalone, environment: production, flux: {sharding: {shards: 3}}}",
    ));
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains(
            "`prod-us` runs 3 shards, but `prod-eu`, of the same environment `production`, 2"
        ),
        "{}",
        r.stdout
    );
    let r = run(spec(6, "{shards: 2}").replace(
        "    bootstrap: flux-operator\n",
        "    bootstrap: flux-operator\n    version: 2.3.x\n",
    ));
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("does not follow `dependsOn` across shards"),
        "{}",
        r.stdout
    );
    let r = run(spec(6, "{shards: 2}"));
    assert_eq!(r.status, 0, "{}{}", r.stdout, r.stderr);
}
