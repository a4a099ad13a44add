//! `synctl check`: real repositories nobody here wrote, read as Flux reads them; each proof
//! found on a mutated copy at the right line; synctl's own trees proven; hostile trees refused.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{Run, Synctl, root};

fn realtree(name: &str) -> PathBuf {
    root().join("../shared/realtrees").join(name)
}

/// A writable copy of `src` in a temporary folder.
fn copy_tree(src: &Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for e in walkdir::WalkDir::new(src).into_iter().flatten() {
        let rel = e.path().strip_prefix(src).unwrap();
        let dst = tmp.path().join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
        } else {
            std::fs::write(&dst, std::fs::read(e.path()).unwrap()).unwrap();
        }
    }
    tmp
}

/// A tree whose entry `clusters/c` was bootstrapped by `flux bootstrap` (the placeholder
/// `flux-system/gotk-sync.yaml` it commits).
fn bootstrapped() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let sync = tmp.path().join("clusters/c/flux-system/gotk-sync.yaml");
    std::fs::create_dir_all(sync.parent().unwrap()).unwrap();
    std::fs::write(sync, "# placeholder\n").unwrap();
    tmp
}

fn check(dir: &Path, extra: &[&str]) -> Run {
    Synctl::new()
        .args(["check"])
        .args([dir.to_str().unwrap()])
        .args(extra)
        .within(300)
        .run()
}

fn json(dir: &Path, extra: &[&str]) -> (i32, Value) {
    let run = check(
        dir,
        &[&["--format", "json", "--objects"][..], extra].concat(),
    );
    let v: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    (run.status, v)
}

/// The plan of `entry`.
fn entry<'a>(plan: &'a Value, entry: &str) -> &'a Value {
    plan["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entry"] == entry)
        .unwrap_or_else(|| panic!("no entry {entry}"))
}

/// The object `kind/namespace/name` as it reaches `cluster` of `entry`.
fn object<'a>(plan: &'a Value, entry: &str, kind: &str, ns: &str, name: &str) -> &'a Value {
    self::entry(plan, entry)["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["appliers"].as_array().unwrap())
        .flat_map(|a| a["objects"].as_array().unwrap())
        .find(|o| o["kind"] == kind && o["namespace"] == ns && o["name"] == name)
        .map_or_else(
            || panic!("no {kind}/{ns}/{name} in {entry}"),
            |o| &o["object"],
        )
}

/// The codes of the problems, with file and line.
fn problems(plan: &Value) -> Vec<(String, String, u64)> {
    plan["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_owned(),
                p["file"].as_str().unwrap().to_owned(),
                p["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn flux2_kustomize_helm_example_is_read_through_its_artifact_generator_with_each_clusters_patch() {
    let (status, plan) = json(&realtree("flux2-kustomize-helm-example"), &[]);
    assert_eq!(status, 0, "{plan:#}");
    assert!(problems(&plan).is_empty(), "{:?}", problems(&plan));
    // Each cluster's infra-configs patch replaces the ACME server (upstream's comment says so).
    let staging = object(
        &plan,
        "clusters/staging",
        "ClusterIssuer",
        "",
        "letsencrypt",
    );
    let production = object(
        &plan,
        "clusters/production",
        "ClusterIssuer",
        "",
        "letsencrypt",
    );
    assert_eq!(
        staging["spec"]["acme"]["server"],
        "https://acme-staging-v02.api.letsencrypt.org/directory"
    );
    assert_eq!(
        production["spec"]["acme"]["server"],
        "https://acme-v02.api.letsencrypt.org/directory"
    );
    // apps/staging patches the base HelmRelease (kustomize's own patch, through the artifact
    // folder `staging` → apps/staging).
    let podinfo = object(
        &plan,
        "clusters/staging",
        "HelmRelease",
        "podinfo",
        "podinfo",
    );
    assert_eq!(podinfo["spec"]["test"]["enable"], false, "{podinfo:#}");
}

#[test]
fn flux2_multi_tenancy_reads_the_tenant_repository_when_given() {
    let tree = realtree("flux2-multi-tenancy");
    let given = format!(
        "https://github.com/fluxcd/flux2-multi-tenancy@dev-team={}",
        realtree("flux2-multi-tenancy-dev-team").display()
    );
    let (status, plan) = json(&tree, &["--source", &given]);
    // Only API-version warnings: upstream still writes v1beta2 sources and a v2beta1 release.
    assert_eq!(status, 0, "{:?}", problems(&plan));
    assert!(
        problems(&plan).iter().all(|p| p.0 == "synctl::api-version"),
        "{:?}",
        problems(&plan)
    );
    let release = object(&plan, "clusters/staging", "HelmRelease", "apps", "podinfo");
    assert_eq!(release["spec"]["chart"]["spec"]["chart"], "podinfo");
    // Without the tenant repository, the tenant's Kustomization is named, not read.
    let run = check(&tree, &["--entry", "clusters/staging"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "Kustomization/apps/dev-team (not read: its source GitRepository/apps/dev-team"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn d1_fleet_and_the_hub_and_spoke_example_are_read_per_cluster() {
    let (status, plan) = json(&realtree("d1-fleet"), &[]);
    assert_eq!(status, 0, "{:?}", problems(&plan));
    let entries: Vec<&str> = plan["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["entry"].as_str().unwrap())
        .collect();
    assert_eq!(
        entries,
        ["clusters/prod-eu", "clusters/prod-us", "clusters/staging"]
    );
    let (status, plan) = json(&realtree("flux2-hub-spoke-example"), &[]);
    assert_eq!(status, 0, "{:?}", problems(&plan));
    // The spokes' objects go to the cluster their kubeconfig Secret names.
    let clusters: Vec<&str> = plan["entries"][0]["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        clusters,
        [
            "hub",
            "kubeConfig production/cluster-kubeconfig",
            "kubeConfig staging/cluster-kubeconfig"
        ]
    );
    // Its HelmReleases are v2beta2: a warning each, at the apiVersion line.
    assert!(problems(&plan).iter().any(|p| p.0 == "synctl::api-version"));
}

/// Mutations of a real repository: each found with its code at its line; the original passes.
#[test]
fn each_mutation_of_a_real_repository_is_found_at_its_line() {
    let src = realtree("flux2-kustomize-helm-example");
    let cases: &[(&str, &str, &str, &str, &str, u64)] = &[
        // (file, from, to, code, file reported, line)
        (
            "clusters/staging/infrastructure.yaml",
            "    - name: infra-controllers",
            "    - name: infra-controlers",
            "synctl::depends-on",
            "clusters/staging/infrastructure.yaml",
            25,
        ),
        (
            "clusters/staging/infrastructure.yaml",
            "  sourceRef:\n    kind: ExternalArtifact\n    name: infrastructure\n  path: ./controllers",
            "  dependsOn:\n    - name: apps\n  sourceRef:\n    kind: ExternalArtifact\n    name: infrastructure\n  path: ./controllers",
            "synctl::cycle",
            "clusters/staging/apps.yaml",
            9,
        ),
        (
            "infrastructure/configs/gateway.yaml",
            "kind: Gateway\nmetadata:\n  name: envoy\n  namespace: envoy-gateway-system",
            "kind: Gateway\nmetadata:\n  name: envoy\n  namespace: envoy-gateways",
            "synctl::namespace-order",
            "infrastructure/configs/gateway.yaml",
            0,
        ),
        (
            "clusters/staging/infrastructure.yaml",
            "  path: ./configs",
            "  path: ./configs\n  postBuild:\n    substitute:\n      A: b",
            "synctl::substitution",
            "infrastructure/configs/cluster-issuers.yaml",
            0,
        ),
        (
            "clusters/staging/apps.yaml",
            "  path: ./staging",
            "  path: ./nowhere",
            "synctl::build",
            "clusters/staging/apps.yaml",
            16,
        ),
    ];
    for (file, from, to, code, at, line) in cases {
        let tmp = copy_tree(&src);
        let path = tmp.path().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} lacks {from:?}");
        let mut text = text.replacen(from, to, 1);
        if *code == "synctl::substitution" {
            let issuer = tmp
                .path()
                .join("infrastructure/configs/cluster-issuers.yaml");
            let t = std::fs::read_to_string(&issuer).unwrap();
            std::fs::write(
                &issuer,
                t.replacen("letsencrypt", "letsencrypt-${REGION}", 1),
            )
            .unwrap();
        }
        if !text.ends_with('\n') {
            text.push('\n');
        }
        std::fs::write(&path, text).unwrap();
        let (status, plan) = json(tmp.path(), &["--entry", "clusters/staging"]);
        assert_eq!(status, 1, "{code}: {:?}", problems(&plan));
        let found = problems(&plan);
        assert!(
            found
                .iter()
                .any(|p| p.0 == *code && p.1 == *at && (*line == 0 || p.2 == *line)),
            "{code} at {at}:{line}: {found:?}"
        );
    }
}

#[test]
fn a_crd_applied_after_its_custom_resources_and_one_object_applied_twice_are_found() {
    let tmp = bootstrapped();
    let w = |p: &str, t: &str| {
        let path = tmp.path().join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, t).unwrap();
    };
    let ks = |name: &str, path: &str, deps: &str| {
        format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: {path}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n{deps}"
        )
    };
    w(
        "clusters/c/all.yaml",
        &format!(
            "{}---\n{}",
            ks("crds", "./crds", ""),
            ks("widgets", "./widgets", "")
        ),
    );
    w(
        "crds/crd.yaml",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.acme.io\nspec:\n  group: acme.io\n  scope: Namespaced\n  names: {kind: Widget, plural: widgets}\n  versions: []\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
    );
    w(
        "widgets/w.yaml",
        "apiVersion: acme.io/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: default\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
    );
    let (status, plan) = json(tmp.path(), &[]);
    assert_eq!(status, 1);
    let found = problems(&plan);
    assert!(
        found.contains(&("synctl::crd-order".into(), "widgets/w.yaml".into(), 1)),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.0 == "synctl::conflict" && p.1.ends_with("w.yaml")
                || p.1.ends_with("crd.yaml")),
        "{found:?}"
    );
    // With the dependency, the order holds (the conflict stays).
    w(
        "clusters/c/all.yaml",
        &format!(
            "{}---\n{}",
            ks("crds", "./crds", ""),
            ks("widgets", "./widgets", "  dependsOn:\n    - name: crds\n")
        ),
    );
    let (_, plan) = json(tmp.path(), &[]);
    let found = problems(&plan);
    assert!(
        !found.iter().any(|p| p.0 == "synctl::crd-order"),
        "{found:?}"
    );
    assert!(found.iter().any(|p| p.0 == "synctl::conflict"), "{found:?}");
}

#[test]
fn a_tree_cannot_make_check_read_outside_it_or_reach_the_network() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("secret.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stolen\n",
    )
    .unwrap();
    let cases: Vec<(&str, String)> = vec![
        ("path", "../..".to_owned()),
        (
            "resource",
            format!("{}/secret.yaml", outside.path().display()),
        ),
        (
            "generator",
            "configMapGenerator:\n  - name: x\n    files: [/etc/hostname]\n".to_owned(),
        ),
        (
            "remote",
            "https://github.com/acme/base//deploy?ref=main".to_owned(),
        ),
        ("link", String::new()),
    ];
    for (case, what) in cases {
        let tmp = bootstrapped();
        let t = tmp.path();
        let path = if case == "path" {
            what.clone()
        } else {
            "./app".to_owned()
        };
        std::fs::write(
            t.join("clusters/c/app.yaml"),
            format!("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: {path}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"),
        )
        .unwrap();
        std::fs::create_dir_all(t.join("app")).unwrap();
        let kustomization = match case {
            "generator" => {
                format!("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n{what}")
            }
            "link" => {
                std::os::unix::fs::symlink(
                    outside.path().join("secret.yaml"),
                    t.join("app/cm.yaml"),
                )
                .unwrap();
                "resources: [cm.yaml]\n".to_owned()
            }
            _ => format!("resources:\n  - {what}\n"),
        };
        std::fs::write(t.join("app/kustomization.yaml"), kustomization).unwrap();
        let (status, plan) = json(t, &[]);
        assert_eq!(status, 1, "{case}: {plan:#}");
        let found = problems(&plan);
        assert!(
            found.iter().any(|p| p.0 == "synctl::build"),
            "{case}: {found:?}"
        );
        assert!(
            !plan.to_string().contains("stolen"),
            "{case}: read outside the tree"
        );
    }
}

/// synctl's own trees, read as Flux reads them, pass every proof — except one listed finding.
#[test]
fn synctl_trees_pass_every_proof() {
    for dir in [
        "examples/aphex",
        "examples/cortex",
        "examples/d1",
        "examples/homelab",
        "tests/fleets/argocd-fleet",
        "tests/fleets/flux-kitchen",
        "tests/fleets/flux2-kustomize-helm",
    ] {
        let (status, plan) = json(&root().join(dir), &[]);
        assert_eq!(status, 0, "{dir}: {:?}", problems(&plan));
        let found = problems(&plan);
        if dir == "examples/cortex" {
            // The gen0sec API key is a Secret the team creates on the hub, outside Git.
            assert_eq!(
                found,
                [
                    (
                        "synctl::missing-ref".into(),
                        "deploy/config/synapse-stack/release.yaml".into(),
                        53
                    ),
                    (
                        "synctl::missing-ref".into(),
                        "deploy/config/synapse-stack/release.yaml".into(),
                        53
                    ),
                ],
                "{plan:#}"
            );
            assert!(
                plan["problems"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|p| p["severity"] == "warning")
            );
        } else {
            assert!(found.is_empty(), "{dir}: {found:?}");
        }
    }
    // A `path:` component targeting the namespace its wave's charts create waits for the
    // wave's Kustomization that creates it (podinfo-access; before, it raced it).
    let (status, plan) = json(&root().join("tests/fleets/flux2-hub-spoke"), &[]);
    assert_eq!(status, 0, "{:?}", problems(&plan));
    assert!(problems(&plan).is_empty(), "{:?}", problems(&plan));
}

/// A fleet whose `path:` folder applies an object into a namespace nothing creates.
fn fleet_with_a_stray_namespace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("fleet.yaml"),
        "apiVersion: synctl.dev/v1alpha1\nkind: Fleet\nmetadata:\n  name: stray\nspec:\n  repository:\n    url: https://github.com/acme/fleet\n  clusters:\n    - name: hub\n      role: hub\n  components:\n    - name: settings\n      wave: controllers\n      path: settings\n",
    )
    .unwrap();
    std::fs::create_dir_all(tmp.path().join("settings")).unwrap();
    std::fs::write(
        tmp.path().join("settings/settings.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: nowhere\n",
    )
    .unwrap();
    tmp
}

#[test]
fn generate_and_validate_prove_the_tree_they_wrote() {
    let tmp = fleet_with_a_stray_namespace();
    let spec = tmp.path().join("fleet.yaml");
    let spec = spec.to_str().unwrap();
    let run = Synctl::new().args(["generate", "-f", spec]).run();
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("synctl::namespace-order"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("settings/settings.yaml:1:1"),
        "{}",
        run.stderr
    );
    // The tree is written (it shows the problem), and validate finds the same.
    assert!(tmp.path().join("hub/kustomization.yaml").is_file());
    let run = Synctl::new().args(["validate", "-f", spec]).run();
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("synctl::namespace-order"),
        "{}",
        run.stderr
    );
    let run = Synctl::new()
        .args(["validate", "--format", "json", "-f", spec])
        .run();
    assert_eq!(run.status, 1);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let found = v["problems"]
        .as_array()
        .or_else(|| v.as_array())
        .unwrap()
        .iter()
        .any(|p| p["code"] == "synctl::namespace-order");
    assert!(found, "{v:#}");
    // --no-prove skips the reading back.
    let run = Synctl::new()
        .args(["validate", "--no-prove", "-f", spec])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    // With the namespace created in the folder, both pass.
    std::fs::write(
        tmp.path().join("settings/namespace.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: nowhere\n",
    )
    .unwrap();
    let run = Synctl::new().args(["generate", "-f", spec]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    let run = Synctl::new().args(["validate", "-f", spec]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
}

#[test]
fn a_release_reading_a_configmap_nothing_applies_fails_and_a_missing_secret_warns() {
    let tmp = bootstrapped();
    let t = tmp.path();
    let release = |from: &str| {
        format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: charts\n  namespace: web\nspec:\n  url: https://charts.example.com\n---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\n  namespace: web\nspec:\n  chart:\n    spec:\n      chart: web\n      sourceRef:\n        kind: HelmRepository\n        name: charts\n  valuesFrom:\n    - kind: {from}\n      name: web-values\n"
        )
    };
    std::fs::write(t.join("clusters/c/web.yaml"), release("ConfigMap")).unwrap();
    let (status, plan) = json(t, &[]);
    assert_eq!(status, 1);
    assert_eq!(
        problems(&plan),
        [(
            "synctl::missing-ref".into(),
            "clusters/c/web.yaml".into(),
            27
        )]
    );
    std::fs::write(t.join("clusters/c/web.yaml"), release("Secret")).unwrap();
    let (status, plan) = json(t, &[]);
    assert_eq!(status, 0);
    assert_eq!(plan["problems"][0]["severity"], "warning");
    // A chart source that nothing applies is an error.
    let text = release("Secret").replace(
        "name: charts\n  namespace: web",
        "name: other\n  namespace: web",
    );
    std::fs::write(t.join("clusters/c/web.yaml"), text).unwrap();
    let (status, plan) = json(t, &[]);
    assert_eq!(status, 1);
    assert!(
        problems(&plan).contains(&(
            "synctl::missing-ref".into(),
            "clusters/c/web.yaml".into(),
            24
        )),
        "{:?}",
        problems(&plan)
    );
}

/// A tenant's repository that applies a ClusterRole, or writes into another namespace, and a
/// tenant Kustomization that reads its source across namespaces on a locked cluster: each a
/// `synctl::lockdown` error at its line; the tenant as written passes.
#[test]
fn a_tenant_reaching_outside_its_namespace_is_found() {
    let tree = realtree("flux2-multi-tenancy");
    let tenant = copy_tree(&realtree("flux2-multi-tenancy-dev-team"));
    let given = format!(
        "https://github.com/fluxcd/flux2-multi-tenancy@dev-team={}",
        tenant.path().display()
    );
    let args = ["--entry", "clusters/staging", "--source", given.as_str()];
    let lockdown = |plan: &Value| -> Vec<(String, u64)> {
        problems(plan)
            .into_iter()
            .filter(|p| p.0 == "synctl::lockdown")
            .map(|p| (p.1, p.2))
            .collect()
    };
    let (status, plan) = json(&tree, &args);
    assert_eq!(status, 0, "{:?}", problems(&plan));
    assert!(lockdown(&plan).is_empty());
    // The tenant's repository grows a ClusterRole and a ConfigMap in kube-system.
    std::fs::write(
        tenant.path().join("base/escape.yaml"),
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: escape\nrules: []\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: escape\n  namespace: kube-system\n",
    )
    .unwrap();
    let base = tenant.path().join("base/kustomization.yaml");
    let text = std::fs::read_to_string(&base).unwrap();
    std::fs::write(
        &base,
        text.replace("resources:\n", "resources:\n  - escape.yaml\n"),
    )
    .unwrap();
    let (status, plan) = json(&tree, &args);
    assert_eq!(status, 1);
    assert_eq!(
        lockdown(&plan),
        [
            ("base/escape.yaml".to_owned(), 1),
            ("base/escape.yaml".to_owned(), 7)
        ],
        "{:?}",
        problems(&plan)
    );
    // The platform points the tenant at flux-system's source: refused on this locked cluster.
    let platform = copy_tree(&tree);
    let sync = platform.path().join("tenants/base/dev-team/sync.yaml");
    let text = std::fs::read_to_string(&sync).unwrap();
    std::fs::write(
        &sync,
        text.replace(
            "    name: dev-team\n  prune",
            "    name: dev-team\n    namespace: flux-system\n  prune",
        ),
    )
    .unwrap();
    let (_, plan) = json(platform.path(), &args);
    assert!(
        lockdown(&plan).contains(&("tenants/base/dev-team/sync.yaml".to_owned(), 23)),
        "{:?}",
        problems(&plan)
    );
}

#[test]
fn the_plan_is_drawn_as_mermaid_and_dot() {
    let tree = realtree("flux2-kustomize-helm-example");
    let run = check(
        &tree,
        &["--entry", "clusters/staging", "--format", "mermaid"],
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("flowchart LR\n"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("[\"clusters/staging: Kustomization/flux-system/infra-configs\"]"),
        "{}",
        run.stdout
    );
    // infra-configs waits for infra-controllers: one dependsOn edge between their nodes.
    let id = |name: &str| {
        run.stdout
            .lines()
            .find(|l| l.contains(&format!("Kustomization/flux-system/{name}\"]")))
            .and_then(|l| l.trim().split('[').next())
            .unwrap()
            .to_owned()
    };
    let edge = format!(
        "{} -->|dependsOn| {}",
        id("infra-controllers"),
        id("infra-configs")
    );
    assert!(run.stdout.contains(&edge), "{edge}\n{}", run.stdout);
    let run = check(&tree, &["--entry", "clusters/staging", "--format", "dot"]);
    assert!(
        run.stdout.contains("\"clusters/staging: Kustomization/flux-system/infra-controllers\" -> \"clusters/staging: Kustomization/flux-system/infra-configs\" [label=\"dependsOn\"];"),
        "{}",
        run.stdout
    );
}

/// The applier `kind/namespace/name` of `entry`'s plan and the cluster its objects reach.
fn applier<'a>(plan: &'a Value, entry: &str, name: &str) -> (&'a str, &'a Value) {
    self::entry(plan, entry)["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            let cluster = c["name"].as_str().unwrap();
            c["appliers"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |a| (cluster, a))
        })
        .find(|(_, a)| a["name"] == name)
        .unwrap_or_else(|| panic!("no applier {name}"))
}

#[test]
fn argo_cd_applications_are_followed_to_their_clusters_in_sync_waves() {
    let dir = root().join("tests/fleets/argocd-fleet");
    let (status, plan) = json(&dir, &[]);
    assert_eq!(status, 0, "{:?}", problems(&plan));
    // The hub's entry is applied by hand; each root Application reads the cluster's folder.
    let (cluster, entry) = applier(&plan, "hub", "hub");
    assert_eq!((cluster, entry["kind"].as_str()), ("hub", Some("Entry")));
    let (cluster, eu) = applier(&plan, "hub", "eu-1-root");
    assert_eq!(
        (cluster, eu["path"].as_str()),
        ("hub", Some("fleet/prod/apps/eu-1"))
    );
    // A child Application's objects reach its destination cluster, in its namespace.
    let (cluster, tenant) = applier(&plan, "hub", "eu-1-tenant-shop");
    assert_eq!(cluster, "eu-1");
    assert_eq!(tenant["home"], "hub");
    let quota = object(&plan, "hub", "ResourceQuota", "shop", "shop");
    assert_eq!(quota["kind"], "ResourceQuota");
    // argo-cd's values hold the Application health check: wave 1 waits for wave 0.
    let level = |name: &str| applier(&plan, "hub", name).1["level"].as_u64().unwrap();
    assert!(level("eu-1-issuers") > level("eu-1-cert-manager"));
    assert!(level("eu-1-ingress-nginx") > level("eu-1-issuers"));
    // A chart is named, not rendered.
    let (_, chart) = applier(&plan, "hub", "eu-1-cert-manager");
    assert!(
        chart["unread"]
            .as_str()
            .unwrap()
            .contains("the chart `cert-manager`")
    );
}

#[test]
fn an_application_outside_its_project_is_found_at_its_line() {
    let src = root().join("tests/fleets/argocd-fleet");
    let file = "fleet/prod/apps/eu-1/tenant-shop-apps.yaml";
    let cases: &[(&str, &str, &str, u64)] = &[
        // (from, to, code, line)
        (
            "    namespace: shop\n",
            "    namespace: kube-system\n",
            "synctl::project",
            14,
        ),
        (
            "  project: shop\n",
            "  project: shopp\n",
            "synctl::missing-ref",
            16,
        ),
        (
            "    repoURL: https://github.com/acme/shop-deploy\n",
            "    repoURL: https://github.com/acme/platform\n",
            "synctl::project",
            19,
        ),
    ];
    for (from, to, code, line) in cases {
        let tmp = copy_tree(&src);
        let path = tmp.path().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} lacks {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
        let (status, plan) = json(tmp.path(), &[]);
        assert_eq!(status, 1, "{code}: {:?}", problems(&plan));
        let found = problems(&plan);
        assert!(
            found
                .iter()
                .any(|p| p.0 == *code && p.1 == file && p.2 == *line),
            "{code} at {file}:{line}: {found:?}"
        );
    }
}

/// A hand-written Argo CD repository: a root Application applied by hand, a tenant project,
/// two child Applications in two sync waves and no Application health check.
fn argo_repository() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(tmp.path()).unwrap();
    repo.remote("origin", "git@example.com:acme/gitops.git")
        .unwrap();
    let files: &[(&str, &str)] = &[
        (
            "bootstrap/root.yaml",
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: root\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://example.com/acme/gitops.git\n    path: apps\n  destination:\n    name: in-cluster\n    namespace: argocd\n",
        ),
        (
            "apps/project.yaml",
            "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: team\n  namespace: argocd\nspec:\n  sourceRepos: [\"https://example.com/acme/*\"]\n  destinations:\n    - name: in-cluster\n      namespace: team\n",
        ),
        (
            "apps/infra.yaml",
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: infra\n  namespace: argocd\n  annotations:\n    argocd.argoproj.io/sync-wave: \"0\"\nspec:\n  source:\n    repoURL: https://example.com/acme/gitops\n    path: infra\n  destination:\n    server: https://kubernetes.default.svc\n",
        ),
        (
            "apps/team.yaml",
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: team\n  namespace: argocd\n  annotations:\n    argocd.argoproj.io/sync-wave: \"1\"\nspec:\n  project: team\n  source:\n    repoURL: https://example.com/acme/gitops\n    path: team\n  destination:\n    name: in-cluster\n    namespace: team\n  syncPolicy:\n    syncOptions: [CreateNamespace=true]\n",
        ),
        (
            "infra/namespace.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: monitoring\n",
        ),
        (
            "team/app.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: team-admin\n",
        ),
        (
            "team/nested/ignored.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nested\n",
        ),
    ];
    for (path, text) in files {
        let p = tmp.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    tmp
}

#[test]
fn a_hand_written_argo_cd_repository_is_read_and_its_project_enforced() {
    let tmp = argo_repository();
    let (status, plan) = json(tmp.path(), &["--entry", "bootstrap"]);
    assert_eq!(status, 1, "{plan:#}");
    // Argo CD gives the destination namespace to namespaced objects that have none, and reads
    // a directory without its sub-folders unless `recurse`.
    let cm = object(&plan, "bootstrap", "ConfigMap", "team", "app");
    assert_eq!(cm["metadata"]["namespace"], "team");
    let (_, team) = applier(&plan, "bootstrap", "team");
    let names: Vec<&str> = team["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["app", "team-admin"]);
    let found = problems(&plan);
    assert_eq!(
        found,
        [
            (
                "synctl::argocd-health".to_owned(),
                "apps/team.yaml".to_owned(),
                7
            ),
            ("synctl::project".to_owned(), "team/app.yaml".to_owned(), 6),
        ],
        "{plan:#}"
    );
    // Without the health check the waves are not awaited: both children at one level.
    let level = |name: &str| {
        applier(&plan, "bootstrap", name).1["level"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(level("team"), level("infra"));
    // With `recurse`, the nested file is read too.
    let team_app = tmp.path().join("apps/team.yaml");
    let text = std::fs::read_to_string(&team_app).unwrap();
    std::fs::write(
        &team_app,
        text.replace(
            "    path: team\n",
            "    path: team\n    directory:\n      recurse: true\n",
        ),
    )
    .unwrap();
    let (_, plan) = json(tmp.path(), &["--entry", "bootstrap"]);
    let nested = object(&plan, "bootstrap", "ConfigMap", "team", "nested");
    assert_eq!(nested["metadata"]["name"], "nested");
}

#[test]
fn a_tree_in_a_subfolder_of_its_repository_is_proven_from_the_repository_root() {
    let repo = tempfile::tempdir().unwrap();
    let tmp = fleet_with_a_stray_namespace();
    let gitops = repo.path().join("gitops");
    std::fs::create_dir_all(gitops.join("settings")).unwrap();
    let spec = std::fs::read_to_string(tmp.path().join("fleet.yaml"))
        .unwrap()
        .replace(
            "    url: https://github.com/acme/fleet\n",
            "    url: https://github.com/acme/fleet\n    path: gitops\n",
        );
    std::fs::write(gitops.join("fleet.yaml"), spec).unwrap();
    std::fs::copy(
        tmp.path().join("settings/settings.yaml"),
        gitops.join("settings/settings.yaml"),
    )
    .unwrap();
    let run = Synctl::new()
        .dir(repo.path())
        .args(["generate", "-f", "gitops/fleet.yaml"])
        .run();
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("gitops/settings/settings.yaml:1:1"),
        "{}",
        run.stderr
    );
}
