//! Every default of the spec, in one place, typed: the model and the layout apply them from
//! here (no other code writes a default's value), and tests check that the JSON Schema's
//! `default`s and `docs/spec.md` say the same.

use super::{Bootstrap, Delivery, Engine, Isolation, Role};

/// `spec.engine`.
pub(crate) const ENGINE: Engine = Engine::Flux;
/// `spec.repository.branch`.
pub(crate) const BRANCH: &str = "main";
/// `spec.repository.path`: the output root is the repository root.
pub(crate) const REPOSITORY_PATH: &str = "./";
/// `spec.hub.sourceRef`: the bootstrap GitRepository.
pub(crate) const HUB_SOURCE_REF: &str = "flux-system";
/// `spec.argocd.retryLimit` (-1: Argo CD retries forever).
pub(crate) const ARGOCD_RETRY_LIMIT: i64 = -1;
/// `components[].cascade` (Argo CD): the Application deletes what it installed when it goes.
pub(crate) const CASCADE: bool = true;
/// `spec.argocd.namespace`.
pub(crate) const ARGOCD_NAMESPACE: &str = "argocd";
/// `spec.defaults.interval`.
pub(crate) const INTERVAL: &str = "10m";
/// `spec.defaults.retryInterval`.
pub(crate) const RETRY_INTERVAL: &str = "2m";
/// `spec.defaults.timeout`.
pub(crate) const TIMEOUT: &str = "5m";
/// `spec.waves` when none are written.
pub(crate) const WAVES: &[&str] = &["tenants", "controllers", "config"];
/// The Argo CD sync-wave base of the wave at index i: `i × WAVE_STEP`.
pub(crate) const WAVE_STEP: i64 = 10;
/// `spec.flux.bootstrap`.
pub(crate) const BOOTSTRAP: Bootstrap = Bootstrap::FluxCli;
/// `spec.flux.version` (FluxInstance `distribution.version`).
pub(crate) const FLUX_VERSION: &str = "2.x";
/// `spec.flux.registry` (FluxInstance `distribution.registry`).
pub(crate) const FLUX_REGISTRY: &str = "ghcr.io/fluxcd";
/// `spec.flux.components`: Flux's default controllers.
pub(crate) const FLUX_COMPONENTS: &[&str] = &[
    "source-controller",
    "kustomize-controller",
    "helm-controller",
    "notification-controller",
];
/// `clusters[].role`.
pub(crate) const ROLE: Role = Role::Fleet;
/// `components[].chart.version`.
pub(crate) const CHART_VERSION: &str = "*";
/// `tenants[].isolation`.
pub(crate) const ISOLATION: Isolation = Isolation::Namespace;
/// `tenants[].apps.repository.branch`.
pub(crate) const APPS_BRANCH: &str = "main";
/// `tenants[].apps.repository.path`.
pub(crate) const APPS_PATH: &str = "./";
/// `tenants[].apps.delivery`.
pub(crate) const DELIVERY: Delivery = Delivery::Flux;
/// The label every tenant namespace gets unless its `namespaceMetadata` says otherwise.
pub(crate) const TENANT_POD_SECURITY: (&str, &str) =
    ("pod-security.kubernetes.io/enforce", "baseline");
/// `tenants[].role`.
pub(crate) const TENANT_ROLE: &str = "synctl-tenant-reconciler";
/// The key of a kubeconfig Secret (`clusters[].kubeconfig.key`).
pub(crate) const KUBECONFIG_KEY: &str = "value";

/// `components[].helm.crds`: the CRD policy of a HelmRelease's install and upgrade.
pub(crate) const HELM_CRDS: &str = "CreateReplace";
/// `components[].helm.retries`: remediation retries (with `RemediateOnFailure`).
pub(crate) const HELM_RETRIES: i64 = 3;
/// `components[].helm.test`.
pub(crate) const HELM_TEST: bool = false;
/// The namespace a tenant's Kustomizations run in on a cluster that runs Flux (A(K)); fleet
/// overlays patch it to the cluster's namespace on the hub.
pub(crate) const TENANT_ACCOUNT_NAMESPACE: &str = "flux-system";
/// The label that names a tenant on its namespaces (Flux's multi-tenancy convention).
pub(crate) const TENANT_LABEL: &str = "toolkit.fluxcd.io/tenant";

/// The kubeconfig Secret of cluster `name` when none is written.
#[must_use]
pub(crate) fn kubeconfig_secret(name: &str) -> String {
    format!("{name}-kubeconfig")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A typed default as the spec writes it (`flux`, `flux-cli`).
    fn name<T: serde::Serialize>(value: T) -> String {
        serde_json::to_value(value)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    fn schema_default(pointer: &str) -> serde_json::Value {
        let schema: serde_json::Value = serde_json::from_str(crate::spec::schema::SCHEMA).unwrap();
        schema
            .pointer(&format!("{pointer}/default"))
            .unwrap_or_else(|| panic!("no default at {pointer}"))
            .clone()
    }

    #[test]
    fn the_schema_states_the_same_defaults() {
        let spec = "/properties/spec/properties";
        let cases: &[(&str, serde_json::Value)] = &[
            (&format!("{spec}/engine"), name(ENGINE).into()),
            (
                &format!("{spec}/repository/properties/branch"),
                BRANCH.into(),
            ),
            (
                &format!("{spec}/hub/properties/sourceRef"),
                HUB_SOURCE_REF.into(),
            ),
            (
                &format!("{spec}/argocd/properties/retryLimit"),
                ARGOCD_RETRY_LIMIT.into(),
            ),
            (
                &format!("{spec}/argocd/properties/namespace"),
                ARGOCD_NAMESPACE.into(),
            ),
            (
                &format!("{spec}/defaults/properties/interval"),
                INTERVAL.into(),
            ),
            (
                &format!("{spec}/defaults/properties/retryInterval"),
                RETRY_INTERVAL.into(),
            ),
            (
                &format!("{spec}/defaults/properties/timeout"),
                TIMEOUT.into(),
            ),
        ];
        for (pointer, want) in cases {
            assert_eq!(&schema_default(pointer), want, "{pointer}");
        }
        let schema = crate::spec::schema::SCHEMA;
        for (what, value) in [
            ("role", name(ROLE)),
            ("flux bootstrap", name(BOOTSTRAP)),
            ("flux version", FLUX_VERSION.to_owned()),
            ("flux registry", FLUX_REGISTRY.to_owned()),
            ("chart version", CHART_VERSION.to_owned()),
            ("isolation", name(ISOLATION)),
            ("apps path", APPS_PATH.to_owned()),
            ("delivery", name(DELIVERY)),
        ] {
            assert!(
                schema.contains(&format!("\"default\": \"{value}\"")),
                "the schema has no default {value:?} for {what}"
            );
        }
    }

    #[test]
    fn docs_spec_md_states_the_same_defaults() {
        let doc = include_str!("../../docs/spec.md");
        let row = |field: &str| {
            doc.lines()
                .find(|l| l.starts_with(&format!("| `{field}`")))
                .unwrap_or_else(|| panic!("docs/spec.md has no row for `{field}`"))
                .to_owned()
        };
        let has = |field: &str, value: &str| {
            let r = row(field);
            assert!(
                r.contains(&format!("`{value}`")),
                "docs/spec.md `{field}`: {r}"
            );
        };
        has("engine", &name(ENGINE));
        has("repository.branch", BRANCH);
        has("repository.path", REPOSITORY_PATH);
        has("hub.sourceRef", HUB_SOURCE_REF);
        has("argocd.retryLimit", &ARGOCD_RETRY_LIMIT.to_string());
        has("argocd.namespace", ARGOCD_NAMESPACE);
        has("cascade", &CASCADE.to_string());
        let d = row("defaults.interval");
        assert!(
            d.contains(&format!("`{INTERVAL}` / `{RETRY_INTERVAL}` / `{TIMEOUT}`")),
            "{d}"
        );
        assert!(row("waves[]").contains(&WAVES.join(", ")));
        assert!(row("waves[]").contains(&format!("index × {WAVE_STEP}")));
        has("role", &name(ROLE));
        has("isolation", &name(ISOLATION));
        has("apps[].delivery", &name(DELIVERY));
        let pod_security = format!("{}: {}", TENANT_POD_SECURITY.0, TENANT_POD_SECURITY.1);
        assert!(
            doc.lines()
                .filter(|l| l.starts_with("| `namespaceMetadata`"))
                .any(|l| l.contains(&pod_security)),
            "docs/spec.md: the tenants' namespaceMetadata default"
        );
        let role = doc
            .lines()
            .filter(|l| l.starts_with("| `role`"))
            .any(|l| l.contains(&format!("`{TENANT_ROLE}`")));
        assert!(role, "docs/spec.md: the tenants' role default");
        let k = row("kubeconfig");
        assert!(
            k.contains(&kubeconfig_secret("<name>"))
                && k.contains(&format!("key: {KUBECONFIG_KEY}")),
            "{k}"
        );
        let c = row("chart.name");
        assert!(c.contains(&format!("`{CHART_VERSION}`")), "{c}");
        let a = row("apps[].repository");
        assert!(
            a.contains(&format!("branch: {APPS_BRANCH}"))
                && a.contains(&format!("path: {APPS_PATH}")),
            "{a}"
        );
    }
}
