//! The escape hatch (`fluxSpec`, `argocdSpec`) as a way in (issue "Hostile inputs, round
//! two"): every field synctl owns for correctness or safety — the object's source, where it
//! applies, as whom and after what, and what a tenant entry would read or decrypt with — is
//! refused where it is written, in Flux and Argo CD form, through every place the hatch is
//! offered, and so is every spelling Flux or Argo CD would not read. Nothing is written.

use std::path::Path;

use crate::Synctl;

/// A Flux fleet offering the hatch everywhere: a cluster's entry, a wave, a `path:` and a chart
/// component, each per environment too, and a tenant entry. `{X}` marks where each place's `fluxSpec` goes.
const FLUX: &str = "apiVersion: synctl.dev/v1alpha1
kind: Fleet
metadata: {name: t}
spec:
  repository: {url: https://github.com/acme/fleet}
  clusters:
    - {name: hub, role: hub}
    - {name: dev, environment: dev, fluxSpec: {CLUSTER}}
  waves:
    - {name: apps, fluxSpec: {WAVE}}
  components:
    - {name: web, wave: apps, path: web, fluxSpec: {PATH}, environments: {dev: {fluxSpec: {PATH_ENV}}}}
    - {name: api, wave: apps, chart: {repository: https://c.example.com, name: c, version: 1.0.0}, fluxSpec: {CHART}, environments: {dev: {fluxSpec: {CHART_ENV}}}}
  tenants:
    - name: team
      clusters: [dev]
      namespaces: [team]
      apps: {repository: {url: https://github.com/acme/team}, wave: apps, fluxSpec: {TENANT}}
";

/// An Argo CD fleet with `argocdSpec` on a chart and a `path:` component.
const ARGOCD: &str = "apiVersion: synctl.dev/v1alpha1
kind: Fleet
metadata: {name: t}
spec:
  engine: argocd
  repository: {url: https://github.com/acme/fleet}
  clusters:
    - {name: hub, role: hub}
  components:
    - {name: api, wave: controllers, chart: {repository: https://c.example.com, name: c, version: 1.0.0}, argocdSpec: {CHART}}
    - {name: web, wave: controllers, path: web, argocdSpec: {PATH}}
";

/// What each place holds when it is not the one under test.
const HARMLESS: &[(&str, &str)] = &[
    ("{CLUSTER}", "{interval: 30m}"),
    ("{WAVE}", "{timeout: 5m}"),
    ("{PATH}", "{wait: true}"),
    ("{PATH_ENV}", "{wait: false}"),
    ("{CHART}", "{timeout: 5m}"),
    ("{CHART_ENV}", "{timeout: 6m}"),
    ("{TENANT}", "{wait: true}"),
];

const ARGOCD_HARMLESS: &[(&str, &str)] = &[
    ("{CHART}", "{revisionHistoryLimit: 3}"),
    ("{PATH}", "{revisionHistoryLimit: 3}"),
];

/// The owned fields of a Kustomization, each with a value that would take over.
const KUSTOMIZATION: &[(&str, &str)] = &[
    (
        "sourceRef",
        "{kind: GitRepository, name: evil, namespace: flux-system}",
    ),
    ("path", "./somewhere-else"),
    ("dependsOn", "[{name: nothing}]"),
    ("kubeConfig", "{secretRef: {name: another-cluster}}"),
    ("serviceAccountName", "kustomize-controller"),
    ("targetNamespace", "kube-system"),
];

const HELM_RELEASE: &[(&str, &str)] = &[
    (
        "chart",
        "{spec: {chart: evil, sourceRef: {kind: HelmRepository, name: evil}}}",
    ),
    ("chartRef", "{kind: OCIRepository, name: evil}"),
    ("releaseName", "evil"),
    ("targetNamespace", "kube-system"),
    ("storageNamespace", "kube-system"),
    ("dependsOn", "[{name: nothing}]"),
    ("kubeConfig", "{secretRef: {name: another-cluster}}"),
    ("serviceAccountName", "helm-controller"),
];

/// What a tenant entry's Kustomization may not do besides.
const TENANT_ENTRY: &[(&str, &str)] = &[
    (
        "postBuild",
        "{substituteFrom: [{kind: Secret, name: flux-system}]}",
    ),
    (
        "decryption",
        "{provider: sops, secretRef: {name: sops-age}}",
    ),
];

const APPLICATION: &[(&str, &str)] = &[
    ("project", "default"),
    (
        "destination",
        "{server: https://evil.example.com, namespace: kube-system}",
    ),
    (
        "source",
        "{repoURL: https://github.com/evil/x, path: ., targetRevision: HEAD}",
    ),
    (
        "sources",
        "[{repoURL: https://github.com/evil/x, path: ., targetRevision: HEAD}]",
    ),
    (
        "sourceHydrator",
        "{drySource: {repoURL: https://github.com/evil/x, path: ., targetRevision: HEAD}}",
    ),
];

/// Spellings of owned fields that Flux and Argo CD would not read (the API server prunes
/// them): accepted, they would be ignored, so they are unknown fields.
const MISSPELLED: &[&str] = &["SourceRef", "sourceref", "source_ref", "sourceRef ", "spec"];

/// Writes `template` with `place` holding `{key: value}` and the others harmless, into a
/// fresh folder with the `web` component's folder; runs `generate`. Returns the run and
/// whether anything was written.
fn generate(
    template: &str,
    harmless: &[(&str, &str)],
    place: &str,
    key: &str,
    value: &str,
) -> (crate::Run, bool) {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = template.to_owned();
    for (mark, text) in harmless {
        let text = if *mark == place {
            format!("{{{key:?}: {value}}}")
        } else {
            (*text).to_owned()
        };
        spec = spec.replace(mark, &text);
    }
    std::fs::write(dir.path().join("fleet.yaml"), spec).unwrap();
    std::fs::create_dir_all(dir.path().join("web")).unwrap();
    std::fs::write(
        dir.path().join("web/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n",
    )
    .unwrap();
    let run = Synctl::new()
        .dir(dir.path())
        .args(["generate", "-f", "fleet.yaml"])
        .run();
    let written = ["hub", "deploy", "platform", "fleet"]
        .iter()
        .any(|top| Path::new(&dir.path().join(top)).exists());
    (run, written)
}

/// Fields and hostile values.
type Fields = [(&'static str, &'static str)];
/// A place of the hatch and the owned fields it refuses.
type Places = [(&'static str, &'static [&'static Fields])];

/// Every owned field through every place: a located `synctl::reserved` naming the field.
#[test]
fn the_escape_hatch_never_reaches_what_synctl_owns() {
    let flux_places: &Places = &[
        ("{CLUSTER}", &[KUSTOMIZATION]),
        ("{WAVE}", &[KUSTOMIZATION]),
        ("{PATH}", &[KUSTOMIZATION]),
        ("{PATH_ENV}", &[KUSTOMIZATION]),
        ("{CHART}", &[HELM_RELEASE]),
        ("{CHART_ENV}", &[HELM_RELEASE]),
        ("{TENANT}", &[KUSTOMIZATION, TENANT_ENTRY]),
    ];
    let argocd_places: &Places = &[("{CHART}", &[APPLICATION]), ("{PATH}", &[APPLICATION])];
    let mut scenarios = 0;
    for (template, harmless, places) in [
        (FLUX, HARMLESS, flux_places),
        (ARGOCD, ARGOCD_HARMLESS, argocd_places),
    ] {
        // The fleet as it stands is valid: each refusal below is the field's alone.
        let (run, written) = generate(template, harmless, "", "", "");
        assert_eq!(run.status, 0, "{}", run.stderr);
        assert!(written);
        for (place, tables) in places {
            for (key, value) in tables.iter().flat_map(|t| t.iter()) {
                let (run, written) = generate(template, harmless, place, key, value);
                let at = format!("{place} `{key}`");
                assert_eq!(run.status, 1, "{at}: {}", run.stderr);
                assert!(
                    run.stderr.contains("synctl::reserved"),
                    "{at}: {}",
                    run.stderr
                );
                assert!(
                    run.stderr.contains(&format!("`{key}`")),
                    "{at}: {}",
                    run.stderr
                );
                assert!(run.stderr.contains("fleet.yaml:"), "{at}: located");
                assert!(!written, "{at}: nothing is written");
                scenarios += 1;
            }
            for key in MISSPELLED {
                let (run, written) = generate(template, harmless, place, key, "{}");
                let at = format!("{place} `{key}`");
                assert_eq!(run.status, 1, "{at}: {}", run.stderr);
                assert!(
                    run.stderr.contains("synctl::schema"),
                    "{at}: {}",
                    run.stderr
                );
                assert!(!written, "{at}: nothing is written");
                scenarios += 1;
            }
        }
    }
    // Four Kustomization places, two HelmRelease ones, the tenant entry, two Applications.
    assert_eq!(scenarios, 4 * (6 + 5) + 2 * (8 + 5) + (8 + 5) + 2 * (5 + 5));
}
