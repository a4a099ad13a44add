//! The fleet model beyond one hub (`../shared/DESIGN-fleet-model.md`): repository facts,
//! tenants' accounts and order, and the invariants every example tree must keep.

use std::fs;

use crate::{Synctl, git, kustomize, root};

const SPEC: &str = "apiVersion: synctl.dev/v1alpha1\nkind: Fleet\nmetadata: {name: t}\nspec:\n  repository: {url: https://github.com/acme/fleet, secretRef: git-auth}\n  clusters:\n    - {name: hub, role: hub}\n    - {name: dev}\n  components:\n    - {name: policies, wave: config, path: policies}\n";

/// R1/R2: a spec in a subfolder of the repository its `origin` names must say where it sits,
/// and then every path synctl writes starts there.
#[test]
fn a_spec_in_a_subfolder_of_its_repository_needs_repository_path_and_gets_it_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(
        dir.path(),
        &["remote", "add", "origin", "git@github.com:acme/fleet.git"],
    );
    let sub = dir.path().join("clusters/fleet");
    fs::create_dir_all(sub.join("policies")).unwrap();
    fs::write(
        sub.join("policies/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: default}\n",
    )
    .unwrap();
    let spec = sub.join("fleet.yaml");
    fs::write(&spec, SPEC).unwrap();
    let run = Synctl::new().args(["validate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stderr.contains("synctl::repository"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("set `repository.path: ./clusters/fleet`"),
        "{}",
        run.stderr
    );

    let fixed = SPEC.replace(
        "secretRef: git-auth}",
        "secretRef: git-auth, path: ./clusters/fleet}",
    );
    fs::write(&spec, fixed).unwrap();
    let run = Synctl::new().args(["generate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    let dev = fs::read_to_string(sub.join("hub/dev.yaml")).unwrap();
    for want in [
        "    - clusters/fleet/deploy\n",
        "    - clusters/fleet/fleet/dev\n",
        "    - clusters/fleet/policies\n",
        "  path: ./clusters/fleet/policies\n",
    ] {
        assert!(dev.contains(want), "{want:?} missing in\n{dev}");
    }
    let hub = fs::read_to_string(sub.join("hub/hub.yaml")).unwrap();
    assert!(hub.contains("  path: ./clusters/fleet/policies\n"), "{hub}");
    // Every Flux path names a folder that exists from the repository root.
    for text in [&dev, &hub] {
        for line in text.lines().filter(|l| l.starts_with("  path: ./")) {
            let p = line.trim_start_matches("  path: ./");
            assert!(
                dir.path().join(p).is_dir(),
                "{p} does not exist from the repository root"
            );
        }
    }
}

/// A repository elsewhere (another `origin`, or none) is not this spec's: nothing to check.
#[test]
fn a_spec_inside_another_repository_is_not_checked_against_it() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(
        dir.path(),
        &[
            "remote",
            "add",
            "origin",
            "https://github.com/acme/monorepo",
        ],
    );
    let sub = dir.path().join("examples/fleet");
    fs::create_dir_all(sub.join("policies")).unwrap();
    fs::write(
        sub.join("policies/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    )
    .unwrap();
    fs::write(sub.join("fleet.yaml"), SPEC).unwrap();
    let run = Synctl::new()
        .args(["validate", "-f"])
        .args([sub.join("fleet.yaml")])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
}

/// Section 7's invariants over every example tree: no `${` under `hub/`; every `sourceRef`,
/// `chartRef` and `dependsOn` stays in the object's namespace.
#[test]
fn example_trees_keep_references_in_their_namespace() {
    for ex in [
        "examples/cortex",
        "examples/d1",
        "examples/aphex",
        "examples/homelab",
        "tests/fleets/argocd-fleet",
        "tests/fleets/flux-kitchen",
        "tests/fleets/flux2-kustomize-helm",
        "tests/fleets/flux2-hub-spoke",
    ] {
        for e in walkdir::WalkDir::new(root().join(ex)).into_iter().flatten() {
            let p = e.path();
            if !e.file_type().is_file()
                || p.extension().is_none_or(|x| x != "yaml")
                || p.ends_with("fleet.yaml")
            {
                continue;
            }
            let rel = p
                .strip_prefix(root().join(ex))
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if !["hub/", "deploy/", "platform/", "fleet/"]
                .iter()
                .any(|r| rel.starts_with(r))
            {
                continue;
            }
            let text = fs::read_to_string(p).unwrap();
            if rel.starts_with("hub/") {
                assert!(!text.contains("${"), "{ex}/{rel} holds ${{");
            }
            for doc in serde_yaml::Deserializer::from_str(&text) {
                let v: serde_yaml::Value = serde::Deserialize::deserialize(doc).unwrap();
                let spec = &v["spec"];
                for r in [&spec["sourceRef"], &spec["chartRef"]] {
                    assert!(
                        r["namespace"].is_null(),
                        "{ex}/{rel}: cross-namespace reference {r:?}"
                    );
                }
                if let Some(deps) = spec["dependsOn"].as_sequence() {
                    for d in deps {
                        let ns = d["namespace"].as_str();
                        assert!(
                            ns.is_none() || ns == v["metadata"]["namespace"].as_str(),
                            "{ex}/{rel}: cross-namespace dependsOn {d:?}"
                        );
                    }
                }
            }
        }
    }
}

const LOCKED: &str = "apiVersion: synctl.dev/v1alpha1\nkind: Fleet\nmetadata: {name: t}\nspec:\n  repository: {url: https://github.com/acme/fleet}\n  clusters:\n    - {name: edge, role: standalone, environment: prod}\n  tenants:\n    - name: team-a\n      apps: {repository: {url: https://github.com/acme/team-a}}\n";

/// Section 3: a `flux-cli` cluster with a tenant is locked, and only its own
/// `flux-system/kustomization.yaml` can set the controller flags; `validate` checks it.
#[test]
fn a_locked_flux_cli_cluster_needs_the_lockdown_patches() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fleet.yaml");
    fs::write(&spec, LOCKED).unwrap();
    // Before `flux bootstrap`: a warning with the block to add.
    let run = Synctl::new().args(["validate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("synctl::lockdown") && run.stderr.contains("--no-remote-bases=true"),
        "{}",
        run.stderr
    );
    // Bootstrapped without the lockdown: an error naming what is missing.
    let fs_dir = dir.path().join("fleet/prod/clusters/edge/flux-system");
    fs::create_dir_all(&fs_dir).unwrap();
    fs::write(fs_dir.join("kustomization.yaml"), "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [gotk-components.yaml, gotk-sync.yaml]\n").unwrap();
    let run = Synctl::new().args(["validate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("--default-service-account"),
        "{}",
        run.stderr
    );
    // With the four patches of the Flux documentation: clean, and generate lists flux-system.
    let block = include_str!("../../src/check/bootstrap.rs")
        .split("const LOCKDOWN_BLOCK: &str = \"")
        .nth(1)
        .unwrap()
        .split("\";")
        .next()
        .unwrap()
        .replace("\\\"", "\"");
    fs::write(fs_dir.join("kustomization.yaml"), format!("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [gotk-components.yaml, gotk-sync.yaml]\n{block}\n")).unwrap();
    let run = Synctl::new().args(["generate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("lockdown"), "{}", run.stderr);
    let entry = fs::read_to_string(
        dir.path()
            .join("fleet/prod/clusters/edge/kustomization.yaml"),
    )
    .unwrap();
    assert!(
        entry.contains("  - flux-system\n  - kustomizations.yaml\n"),
        "{entry}"
    );
    let waves = fs::read_to_string(
        dir.path()
            .join("fleet/prod/clusters/edge/kustomizations.yaml"),
    )
    .unwrap();
    // The tenant's account where its Kustomization runs, kept from pruning.
    assert!(
        waves.contains(
            "kind: ServiceAccount\nmetadata:\n  name: team-a\n  namespace: flux-system\n"
        ),
        "{waves}"
    );
}

/// T6: with the Flux Operator, the entry holds the FluxInstance syncing it, multitenant when
/// locked.
#[test]
fn a_flux_operator_cluster_gets_its_flux_instance() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fleet.yaml");
    let text = LOCKED.replace("role: standalone, environment: prod}", "role: standalone, environment: prod, branch: prod, flux: {bootstrap: flux-operator, version: \"2.7.x\"}}");
    fs::write(&spec, text).unwrap();
    let run = Synctl::new().args(["generate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    let instance = fs::read_to_string(
        dir.path()
            .join("fleet/prod/clusters/edge/flux-instance.yaml"),
    )
    .unwrap();
    for want in [
        "kind: FluxInstance",
        "    kustomize.toolkit.fluxcd.io/prune: disabled\n",
        "    version: \"2.7.x\"\n",
        "    multitenant: true\n    tenantDefaultServiceAccount: default\n",
        "    ref: refs/heads/prod\n",
        "    path: fleet/prod/clusters/edge\n",
    ] {
        assert!(instance.contains(want), "{want:?} in\n{instance}");
    }
    let entry = fs::read_to_string(
        dir.path()
            .join("fleet/prod/clusters/edge/kustomization.yaml"),
    )
    .unwrap();
    assert!(
        entry.contains("  - flux-instance.yaml\n  - kustomizations.yaml\n"),
        "{entry}"
    );
    assert!(
        !dir.path().join("hub").exists(),
        "a fleet of standalone clusters has no hub/"
    );
}

/// T8: with `engine: argocd`, a standalone cluster runs its own Argo CD: its root Application
/// is in its entry (applied once with `kubectl apply -k`), its children — tenant AppProjects
/// included — in `fleet/<env>/apps/<name>/`, every destination `in-cluster`.
#[test]
fn argocd_on_a_standalone_cluster_is_rooted_at_its_entry() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fleet.yaml");
    fs::write(
        &spec,
        "apiVersion: synctl.dev/v1alpha1\nkind: Fleet\nmetadata: {name: t}\nspec:\n  engine: argocd\n  repository: {url: https://github.com/acme/fleet}\n  clusters:\n    - {name: edge, role: standalone, environment: lab}\n  components:\n    - {name: web, wave: controllers, chart: {repository: https://charts.example.com, name: web}}\n  tenants:\n    - name: team-a\n      apps: {repository: {url: https://github.com/acme/team-a}, delivery: argocd}\n",
    )
    .unwrap();
    let run = Synctl::new().args(["generate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(!dir.path().join("hub").exists(), "no hub/ without a hub");
    let entry = dir.path().join("fleet/lab/clusters/edge");
    let root = fs::read_to_string(entry.join("root.yaml")).unwrap();
    assert!(root.contains("    path: fleet/lab/apps/edge\n"), "{root}");
    let listing = fs::read_to_string(entry.join("kustomization.yaml")).unwrap();
    assert!(
        listing.contains("  - root.yaml\n  - argocd-cm-health.yaml\n"),
        "{listing}"
    );
    let children = dir.path().join("fleet/lab/apps/edge");
    let web = fs::read_to_string(children.join("web.yaml")).unwrap();
    assert!(web.contains("    name: in-cluster\n"), "{web}");
    let project = fs::read_to_string(children.join("project-team-a.yaml")).unwrap();
    assert!(
        project.contains("    - name: in-cluster\n      namespace: team-a\n"),
        "{project}"
    );
    kustomize(&entry);
}

/// Section 7's invariant over every example: every Flux object applied on a cluster that runs
/// Flux names the account it runs as (built with the real kustomize, overlays' patches applied).
#[test]
fn every_flux_object_on_a_flux_running_cluster_names_its_account() {
    for ex in [
        "examples/cortex",
        "examples/d1",
        "examples/homelab",
        "tests/fleets/flux-kitchen",
        "tests/fleets/flux2-kustomize-helm",
        "tests/fleets/flux2-hub-spoke",
    ] {
        let base = root().join(ex);
        let mut dirs: Vec<std::path::PathBuf> = Vec::new();
        for top in ["platform", "fleet"] {
            for e in walkdir::WalkDir::new(base.join(top))
                .min_depth(1)
                .max_depth(2)
                .into_iter()
                .flatten()
            {
                let p = e.path();
                let rel = p
                    .strip_prefix(&base)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                // The overlays of clusters running Flux: platform/<wave>, fleet/<env>/<wave> of a
                // standalone environment (fleet clusters' overlays split into remote/releases).
                if p.join("kustomization.yaml").is_file() && !rel.contains("/clusters") {
                    dirs.push(p.to_path_buf());
                }
            }
        }
        let mut entries: Vec<String> = Vec::new();
        for e in walkdir::WalkDir::new(&base).into_iter().flatten() {
            let rel = e
                .path()
                .strip_prefix(&base)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let hub_entry = rel.starts_with("hub/")
                && std::path::Path::new(&rel)
                    .extension()
                    .is_some_and(|e| e == "yaml");
            if hub_entry || rel.ends_with("/kustomizations.yaml") {
                entries.push(fs::read_to_string(e.path()).unwrap());
            }
        }
        for d in &dirs {
            entries.push(kustomize(d));
        }
        for text in entries {
            for doc in serde_yaml::Deserializer::from_str(&text) {
                let v: serde_yaml::Value = serde::Deserialize::deserialize(doc).unwrap();
                let kind = v["kind"].as_str().unwrap_or_default();
                let ns = v["metadata"]["namespace"].as_str().unwrap_or_default();
                // flux-system: objects of a Flux-running cluster (fleet clusters' live in their
                // hub namespace and run as the kubeconfig's identity unless the hub is locked).
                if ns == "flux-system" && matches!(kind, "Kustomization" | "HelmRelease") {
                    assert!(
                        v["spec"]["serviceAccountName"].as_str().is_some(),
                        "{ex}: {kind} {} names no account",
                        v["metadata"]["name"].as_str().unwrap_or_default()
                    );
                }
            }
        }
    }
}

/// `entryResources`: the entry of a standalone cluster and the hub's list the team's own
/// folder or file, and what the cluster's Flux applies from the entry includes its objects
/// (read back with `synctl check`); a fleet cluster has no entry, and a missing or escaping
/// path is refused at its line.
#[test]
fn entry_resources_join_the_entry_of_clusters_running_their_own_flux() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join("platform/operator")).unwrap();
    fs::write(
        d.join("platform/operator/resourceset.yaml"),
        "apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSet\nmetadata:\n  name: flux-operator\n  namespace: flux-system\nspec:\n  resources: []\n",
    )
    .unwrap();
    fs::write(
        d.join("platform/operator/kustomization.yaml"),
        "resources: [resourceset.yaml]\n",
    )
    .unwrap();
    fs::create_dir_all(d.join("platform/plain")).unwrap();
    fs::create_dir_all(d.join("platform/hub")).unwrap();
    fs::write(
        d.join("platform/hub/policy.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hub-policy\n  namespace: flux-system\n",
    )
    .unwrap();
    fs::write(
        d.join("platform/hub/kustomization.yaml"),
        "resources: [policy.yaml]\n",
    )
    .unwrap();
    let spec = "apiVersion: synctl.dev/v1alpha1\nkind: Fleet\nmetadata: {name: t}\nspec:\n  repository: {url: https://github.com/acme/fleet}\n  flux: {bootstrap: flux-operator}\n  clusters:\n    - name: hub\n      role: hub\n      entryResources: [platform/hub]\n    - name: edge\n      role: standalone\n      entryResources: [platform/operator]\n  components:\n    - {name: podinfo, wave: config, chart: {repository: https://stefanprodan.github.io/podinfo, name: podinfo, version: 6.x}}\n";
    fs::write(d.join("fleet.yaml"), spec).unwrap();
    let run = Synctl::new().dir(d).args(["generate"]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    let entry = fs::read_to_string(d.join("fleet/edge/clusters/edge/kustomization.yaml")).unwrap();
    assert!(
        entry.contains("  - ../../../../platform/operator\n"),
        "{entry}"
    );
    let hub = fs::read_to_string(d.join("hub/kustomization.yaml")).unwrap();
    assert!(hub.contains("  - ../platform/hub\n"), "{hub}");
    // Both entries build, and carry the team's objects.
    assert!(kustomize(&d.join("fleet/edge/clusters/edge")).contains("kind: ResourceSet"));
    assert!(kustomize(&d.join("hub")).contains("name: hub-policy"));

    for (bad, code) in [
        (
            "entryResources: [platform/operator]\n  components",
            "synctl::schema",
        ),
        ("entryResources: [platform/nowhere]", "synctl::unknown-ref"),
        ("entryResources: [../outside]", "synctl::unknown-ref"),
        ("entryResources: [platform/plain]", "synctl::unknown-ref"),
        (
            "entryResources: [platform/hub/policy.yaml]",
            "synctl::unknown-ref",
        ),
    ] {
        let text = if code == "synctl::schema" {
            spec.replace("      role: hub\n      entryResources: [platform/hub]\n", "      role: hub\n")
                .replace("    - name: edge\n      role: standalone\n      entryResources: [platform/operator]\n", "    - name: edge\n      entryResources: [platform/operator]\n")
        } else {
            spec.replace("entryResources: [platform/operator]", bad)
        };
        fs::write(d.join("fleet.yaml"), &text).unwrap();
        let run = Synctl::new().dir(d).args(["validate"]).run();
        assert_eq!(run.status, 1, "{bad}: {}", run.stderr);
        assert!(run.stderr.contains(code), "{bad}: {}", run.stderr);
        assert!(
            run.stderr.contains("entryResources"),
            "{bad}: {}",
            run.stderr
        );
    }
}
