//! `fluxSpec` and `argocdSpec`: further fields of the objects synctl writes for components,
//! waves and tenant entries, in the CRDs' words — except what synctl owns for correctness or
//! safety: the object's source, where it applies, as whom, and after what.

use crate::diag::{Code, Problem};
use crate::model::{ComponentSource, Fleet};
use crate::spec::yaml::Node;

/// The `.spec` fields of a Kustomization synctl owns, and where the spec sets them instead.
const KUSTOMIZATION: &[(&str, &str)] = &[
    (
        "sourceRef",
        "the source is the fleet's repository, from `path:`",
    ),
    ("path", "set `path:`"),
    (
        "dependsOn",
        "set `dependsOn:` (synctl orders waves and dependencies)",
    ),
    ("kubeConfig", "set the cluster's `kubeconfig`"),
    ("serviceAccountName", "set `serviceAccountName:`"),
    ("targetNamespace", "set `namespace:`"),
];

/// The `.spec` fields of a HelmRelease synctl owns.
const HELM_RELEASE: &[(&str, &str)] = &[
    ("chart", "set `chart:`"),
    ("chartRef", "set `chart:`"),
    ("releaseName", "set `releaseName:`"),
    ("targetNamespace", "set `namespace:`"),
    ("storageNamespace", "set `namespace:`"),
    (
        "dependsOn",
        "set `dependsOn:` (synctl orders waves and dependencies)",
    ),
    ("kubeConfig", "set the cluster's `kubeconfig`"),
    ("serviceAccountName", "set `serviceAccountName:`"),
];

/// The `.spec` fields of `kustomize.toolkit.fluxcd.io/v1` Kustomization (the upstream CRD's;
/// tested against it): a key outside them would be pruned by the API server, unread.
const KUSTOMIZATION_FIELDS: &[&str] = &[
    "buildMetadata",
    "commonMetadata",
    "components",
    "decryption",
    "deletionPolicy",
    "dependsOn",
    "force",
    "healthCheckExprs",
    "healthChecks",
    "ignore",
    "ignoreMissingComponents",
    "images",
    "interval",
    "kubeConfig",
    "namePrefix",
    "nameSuffix",
    "patches",
    "path",
    "postBuild",
    "prune",
    "retryInterval",
    "serviceAccountName",
    "sourceRef",
    "suspend",
    "targetNamespace",
    "timeout",
    "wait",
];

/// The `.spec` fields of `helm.toolkit.fluxcd.io/v2` HelmRelease (the upstream CRD's).
const HELM_RELEASE_FIELDS: &[&str] = &[
    "chart",
    "chartRef",
    "commonMetadata",
    "dependsOn",
    "driftDetection",
    "healthCheckExprs",
    "install",
    "interval",
    "kubeConfig",
    "maxHistory",
    "persistentClient",
    "postRenderStrategy",
    "postRenderers",
    "releaseName",
    "rollback",
    "serviceAccountName",
    "storageNamespace",
    "suspend",
    "targetNamespace",
    "test",
    "timeout",
    "uninstall",
    "upgrade",
    "values",
    "valuesFrom",
    "waitStrategy",
];

/// The `.spec` fields of `argoproj.io/v1alpha1` Application (the upstream CRD's).
const APPLICATION_FIELDS: &[&str] = &[
    "destination",
    "ignoreDifferences",
    "info",
    "project",
    "revisionHistoryLimit",
    "source",
    "sourceHydrator",
    "sources",
    "syncPolicy",
];

/// The `.spec` fields of an Application synctl owns.
const APPLICATION: &[(&str, &str)] = &[
    ("project", "synctl places the Application in its project"),
    (
        "destination",
        "set the component's `clusters` and `namespace`",
    ),
    ("source", "set `path:` or `chart:`"),
    ("sources", "set `path:` or `chart:`"),
    ("sourceHydrator", "set `path:` or `chart:`"),
];

/// A tenant entry's Kustomization: besides what synctl owns on any Kustomization, what would
/// let the entry read or decrypt with the platform's Secrets (its Kustomization runs where
/// Flux keeps them).
const TENANT_ENTRY: &[(&str, &str)] = &[
    (
        "postBuild",
        "set `substitute: true` for the cluster's variables",
    ),
    (
        "decryption",
        "a tenant does not decrypt with the platform's keys",
    ),
];

pub(super) fn check(fleet: &Fleet, problems: &mut Vec<Problem>) {
    components(fleet, problems);
    for comp in &fleet.components {
        if let Some(spec) = &comp.knobs.argocd_spec {
            let what = format!("`{}`", comp.name);
            unknown(spec, "Application", APPLICATION_FIELDS, problems);
            owned(spec, &what, "Application", APPLICATION, problems);
        }
    }
    let argocd = fleet.engine == crate::model::Engine::ArgoCd;
    // A wave's Kustomizations and a cluster's (its entry): the same object, the same rules.
    let waves = fleet
        .waves
        .iter()
        .map(|w| ("wave", w.name.as_str(), w.flux_spec.as_ref()));
    let clusters = fleet
        .clusters
        .iter()
        .map(|c| ("cluster", c.name.as_str(), c.flux_spec.as_ref()));
    for (kind, name, spec) in waves.chain(clusters) {
        let Some(spec) = spec else { continue };
        if argocd {
            problems.push(nothing_here(spec, "this fleet runs engine argocd"));
            continue;
        }
        let what = format!("{kind} `{name}`");
        unknown(spec, "Kustomization", KUSTOMIZATION_FIELDS, problems);
        owned(spec, &what, "Kustomization", KUSTOMIZATION, problems);
        builtins(spec, name, problems);
    }
    for t in &fleet.tenants {
        for (e, apps) in t.apps.iter().enumerate() {
            if let (Some((_, span)), crate::model::Delivery::ArgoCd) =
                (&apps.source_interval, apps.delivery)
            {
                problems.push(
                    Problem::error(
                        Code::Schema,
                        "`repository.interval` does nothing here: this entry is delivered by Argo CD",
                    )
                    .at(*span, "no GitRepository reads it")
                    .help("remove it (Argo CD polls repositories on its own schedule)"),
                );
            }
            let Some(spec) = &apps.flux_spec else {
                continue;
            };
            if apps.delivery == crate::model::Delivery::ArgoCd {
                problems.push(nothing_here(spec, "this entry is delivered by Argo CD"));
                continue;
            }
            let what = format!("`{}`", t.entry_name(e));
            unknown(spec, "Kustomization", KUSTOMIZATION_FIELDS, problems);
            owned(spec, &what, "Kustomization", KUSTOMIZATION, problems);
            owned(spec, &what, "Kustomization", TENANT_ENTRY, problems);
        }
    }
}

/// `fluxSpec` where no Flux object reads it.
fn nothing_here(spec: &Node, when: &str) -> Problem {
    Problem::error(
        Code::Schema,
        format!("`fluxSpec` does nothing here: {when}"),
    )
    .at(spec.span, "no Flux object reads it")
    .help("remove `fluxSpec`")
}

/// The keys of `spec` synctl owns (`owned`), each with where the spec sets it instead.
fn owned(spec: &Node, what: &str, kind: &str, owned: &[(&str, &str)], problems: &mut Vec<Problem>) {
    let field = if kind == "Application" {
        "argocdSpec"
    } else {
        "fluxSpec"
    };
    for (key, instead) in owned {
        if let Some(entry) = spec.entry(key) {
            problems.push(
                Problem::error(
                    Code::Reserved,
                    format!("`{field}.{key}` of {what}: synctl writes the {kind}'s `{key}`"),
                )
                .at(entry.key_span, "synctl's to write")
                .help(format!("remove it; {instead}")),
            );
        }
    }
}

/// Components' `fluxSpec`, and their environments'.
fn components(fleet: &Fleet, problems: &mut Vec<Problem>) {
    for comp in &fleet.components {
        let (kind, owned, fields) = match comp.source {
            ComponentSource::Path(_) => ("Kustomization", KUSTOMIZATION, KUSTOMIZATION_FIELDS),
            ComponentSource::Chart { .. } => ("HelmRelease", HELM_RELEASE, HELM_RELEASE_FIELDS),
        };
        let specs = comp.knobs.flux_spec.iter().chain(
            comp.environments
                .values()
                .filter_map(|o| o.flux_spec.as_ref()),
        );
        let what = format!("`{}`", comp.name);
        for spec in specs {
            unknown(spec, kind, fields, problems);
            self::owned(spec, &what, kind, owned, problems);
            if kind == "Kustomization" {
                builtins(spec, &comp.name, problems);
            }
        }
    }
}

/// Keys of `spec` that are no field of the object's spec.
fn unknown(spec: &Node, kind: &str, fields: &[&str], problems: &mut Vec<Problem>) {
    let field = if kind == "Application" {
        "argocdSpec"
    } else {
        "fluxSpec"
    };
    let crate::spec::yaml::Value::Map(entries) = &spec.value else {
        return;
    };
    for e in entries.iter().filter(|e| !fields.contains(&e.key.as_str())) {
        let help = match crate::suggest::did_you_mean(&e.key, fields.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("the fields of a {kind}'s spec: {}", fields.join(", ")),
        };
        problems.push(
            Problem::error(
                Code::Schema,
                format!("`{field}.{}` is not a field of a {kind}'s spec", e.key),
            )
            .at(e.key_span, "the API server would drop it")
            .help(help),
        );
    }
}

/// `postBuild.substitute` may add variables, not replace a built-in one.
fn builtins(spec: &Node, component: &str, problems: &mut Vec<Problem>) {
    let Some(substitute) = spec.get("postBuild").and_then(|p| p.get("substitute")) else {
        return;
    };
    let Some(first) = crate::subst::BUILT_INS
        .iter()
        .find_map(|b| substitute.entry(b))
    else {
        return;
    };
    problems.push(
        Problem::error(
            Code::Reserved,
            format!(
                "`fluxSpec.postBuild.substitute.{}` of `{component}` replaces a built-in variable",
                first.key
            ),
        )
        .at(first.key_span, "synctl sets it from the cluster")
        .help("give the variable another name (built-ins come from the cluster's name, environment, branch and kubeconfig)"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The field lists are the upstream CRDs' (`../shared/crds`), so a new Flux field is found.
    #[test]
    fn the_field_lists_are_the_upstream_crds() {
        let crds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/crds/flux");
        for (file, version, ours) in [
            (
                "kustomize.toolkit.fluxcd.io_kustomizations.yaml",
                "v1",
                KUSTOMIZATION_FIELDS,
            ),
            (
                "helm.toolkit.fluxcd.io_helmreleases.yaml",
                "v2",
                HELM_RELEASE_FIELDS,
            ),
        ] {
            let text = std::fs::read_to_string(crds.join(file)).expect("../shared/crds beside");
            let crd: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
            let spec = crd["spec"]["versions"]
                .as_sequence()
                .unwrap()
                .iter()
                .find(|v| v["name"].as_str() == Some(version))
                .unwrap()["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
                .as_mapping()
                .unwrap()
                .keys()
                .map(|k| k.as_str().unwrap().to_owned())
                .collect::<Vec<_>>();
            let mut theirs = spec;
            theirs.sort();
            let mine: Vec<String> = ours.iter().map(|s| (*s).to_owned()).collect();
            assert_eq!(mine, theirs, "{file}");
            for (owned, _) in KUSTOMIZATION.iter().chain(HELM_RELEASE) {
                assert!(
                    KUSTOMIZATION_FIELDS.contains(owned) || HELM_RELEASE_FIELDS.contains(owned),
                    "{owned}"
                );
            }
        }
    }
}
