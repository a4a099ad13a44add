//! Nothing is accepted and then ignored: every component field the schema accepts, with each
//! engine, component kind and cluster role, either changes what is generated or is a located
//! error — never a silent no-op.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::Synctl;

/// A value for each component field that differs from its default, valid for the field.
const COMPONENT: &[(&str, &str)] = &[
    ("namespace", "namespace: custom-ns"),
    ("values", "values: {replicas: 2}"),
    ("dependsOn", "dependsOn: [other]"),
    ("releaseName", "releaseName: custom-release"),
    ("serviceAccountName", "serviceAccountName: deployer"),
    ("interval", "interval: 7m"),
    ("timeout", "timeout: 7m"),
    ("retryInterval", "retryInterval: 7m"),
    ("helm", "helm: {crds: Skip}"),
    ("valuesFrom", "valuesFrom: [{kind: ConfigMap, name: extra}]"),
    (
        "patches",
        "patches: [{patch: '[{op: add, path: /metadata/labels/x, value: y}]', target: {kind: ConfigMap}}]",
    ),
    (
        "healthChecks",
        "healthChecks: [{kind: Deployment, name: x, namespace: y}]",
    ),
    ("wait", "wait: false"),
    ("project", "project: own"),
    ("plugin", "plugin: {name: avp}"),
    ("decryption", "decryption: {secretRef: sops}"),
    (
        "substituteFrom",
        "substituteFrom: [{kind: ConfigMap, name: vars}]",
    ),
    ("substitute", "substitute: false"),
    ("fluxSpec", "fluxSpec: {suspend: true}"),
    (
        "namespaceMetadata",
        "namespaceMetadata: {labels: {team: x}}",
    ),
    ("syncOptions", "syncOptions: [ServerSideApply=true]"),
    (
        "ignoreDifferences",
        "ignoreDifferences: [{kind: Deployment, jsonPointers: [/spec/replicas]}]",
    ),
    ("cascade", "cascade: false"),
    ("manifestGeneratePaths", "manifestGeneratePaths: ."),
    ("argocdSpec", "argocdSpec: {revisionHistoryLimit: 3}"),
];

/// A value for each field of an environment's overrides (`environments.<env>`).
const ENVIRONMENT: &[(&str, &str)] = &[
    ("version", "version: 9.9.9"),
    ("values", "values: {replicas: 3}"),
    ("valuesFrom", "valuesFrom: [{kind: ConfigMap, name: extra}]"),
    ("interval", "interval: 7m"),
    ("timeout", "timeout: 7m"),
    ("retryInterval", "retryInterval: 7m"),
    ("helm", "helm: {crds: Skip}"),
    (
        "patches",
        "patches: [{patch: '[{op: add, path: /metadata/labels/x, value: y}]', target: {kind: ConfigMap}}]",
    ),
    ("fluxSpec", "fluxSpec: {suspend: true}"),
];

/// Fields that place, name or constrain a component rather than configure its objects: they
/// are exercised by the placement, naming and capability tests.
const NOT_SETTINGS: &[&str] = &[
    "name",
    "wave",
    "chart",
    "path",
    "clusters",
    "selector",
    "environments",
    "provides",
    "requires",
];

fn spec(engine: &str, cluster: &str, component: &str) -> String {
    format!(
        "apiVersion: synctl.dev/v1alpha1\nkind: Fleet\nmetadata: {{name: t}}\nspec:\n  engine: {engine}\n  repository: {{url: https://github.com/acme/fleet}}\n  clusters:\n    - {{name: hub, role: hub}}\n    - {{name: dev}}\n    - {{name: edge, role: standalone}}\n  components:\n    - {{name: other, wave: config, path: other}}\n{component}      clusters: [{cluster}]\n"
    )
}

/// The component under test, with `kind` (`chart` or `path`) and `extra` lines.
fn component(kind: &str, extra: &str) -> String {
    let source = if kind == "chart" {
        "chart: {repository: https://charts.example.com, name: app}"
    } else {
        "path: app"
    };
    format!("    - name: app\n      wave: config\n      {source}\n{extra}")
}

/// What `generate` writes for `spec` in a fresh folder holding the manifests, or `None` when
/// it refuses the spec (exit 1, with a diagnostic).
fn generated(spec: &str) -> Option<BTreeMap<String, Vec<u8>>> {
    let dir = tempfile::tempdir().unwrap();
    for folder in ["app", "other"] {
        fs::create_dir_all(dir.path().join(folder)).unwrap();
        fs::write(
            dir.path().join(folder).join("configmap.yaml"),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {folder}, namespace: {folder}}}\n"),
        )
        .unwrap();
        fs::write(
            dir.path().join(folder).join("kustomization.yaml"),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [configmap.yaml]\n",
        )
        .unwrap();
    }
    fs::write(dir.path().join("fleet.yaml"), spec).unwrap();
    // The folders' ConfigMaps sit in namespaces nothing creates: this test is about the
    // settings, not the proofs of the tree (`tests/cli/check.rs`).
    let run = Synctl::new()
        .args(["generate", "--no-prove", "-f"])
        .args([dir.path().join("fleet.yaml")])
        .run();
    if run.status == 1 {
        assert!(
            run.stderr.contains("synctl::"),
            "no diagnostic: {}",
            run.stderr
        );
        return None;
    }
    assert_eq!(run.status, 0, "{spec}\n{}", run.stderr);
    let mut tree = BTreeMap::new();
    read_tree(dir.path(), dir.path(), &mut tree);
    Some(tree)
}

fn read_tree(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            read_tree(root, &p, out);
        } else if p.file_name().is_some_and(|n| n != "fleet.yaml") {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            out.insert(rel, fs::read(&p).unwrap());
        }
    }
}

#[test]
fn every_component_field_takes_effect_or_is_refused() {
    let schema: serde_json::Value = serde_json::from_str(synctl::spec::schema::SCHEMA).unwrap();
    let fields: Vec<&str> = schema["definitions"]["component"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for f in &fields {
        assert!(
            NOT_SETTINGS.contains(f) || COMPONENT.iter().any(|(n, _)| n == f),
            "no sample value for component field `{f}`"
        );
    }
    let env_fields = schema["definitions"]["override"]["properties"]
        .as_object()
        .unwrap();
    for f in env_fields.keys() {
        assert!(
            ENVIRONMENT.iter().any(|(n, _)| n == f),
            "no sample value for environment field `{f}`"
        );
    }
    let mut ignored = Vec::new();
    for engine in ["flux", "argocd"] {
        for kind in ["chart", "path"] {
            for cluster in ["hub", "dev", "edge"] {
                let base = generated(&spec(engine, cluster, &component(kind, "")))
                    .unwrap_or_else(|| panic!("{engine} {kind} on {cluster}: the base refused"));
                let env = if cluster == "hub" { "dev" } else { cluster };
                let cases = COMPONENT
                    .iter()
                    .map(|(f, line)| ((*f).to_owned(), format!("      {line}\n")))
                    .chain(ENVIRONMENT.iter().map(|(f, line)| {
                        (
                            format!("environments.{env}.{f}"),
                            format!("      environments:\n        {env}:\n          {line}\n"),
                        )
                    }));
                for (field, lines) in cases {
                    let text = spec(engine, cluster, &component(kind, &lines));
                    if generated(&text).is_some_and(|tree| tree == base) {
                        ignored.push(format!("{engine}, {kind} on {cluster}: `{field}`"));
                    }
                }
            }
        }
    }
    assert!(
        ignored.is_empty(),
        "accepted and ignored:\n{}",
        ignored.join("\n")
    );
}
