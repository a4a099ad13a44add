//! The spec as written: a serde mirror of the schema, every field optional where the schema
//! allows it (`Option`, never a flag beside a value), enums for the closed sets, and
//! [`Spanned`] on every value a diagnostic may point at. Deserialized once, straight from the
//! YAML nodes, after the schema check passed; defaults are applied by the model, from
//! [`crate::model::defaults`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::de::Spanned;
use super::yaml::Node;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Fleet {
    #[expect(
        dead_code,
        reason = "read so the mirror holds every schema field; the schema checks the value"
    )]
    pub api_version: String,
    #[expect(
        dead_code,
        reason = "read so the mirror holds every schema field; the schema checks the value"
    )]
    pub kind: String,
    pub metadata: Metadata,
    pub spec: Spec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Metadata {
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Spec {
    pub engine: Option<Engine>,
    pub repository: Repository,
    pub hub: Option<Hub>,
    pub argocd: Option<ArgoCd>,
    pub flux: Option<Flux>,
    pub defaults: Option<Defaults>,
    pub waves: Option<Vec<Wave>>,
    pub clusters: Spanned<Vec<Cluster>>,
    /// Read by [`super::load_source`] with [`super::de::items`] (a fleet may have 100,000).
    #[serde(default, deserialize_with = "super::de::read_apart")]
    pub components: Vec<Component>,
    #[serde(default)]
    pub tenants: Vec<Tenant>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Repository {
    pub url: Spanned<String>,
    pub branch: Option<String>,
    pub secret_ref: Option<String>,
    pub path: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Hub {
    pub source_ref: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ArgoCd {
    pub retry_limit: Option<i64>,
    pub namespace: Option<String>,
}

/// `spec.flux` and `clusters[].flux`: every field optional (the cluster's overrides the fleet's).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Flux {
    pub bootstrap: Option<Bootstrap>,
    pub multitenant: Option<Multitenant>,
    pub version: Option<String>,
    pub registry: Option<String>,
    pub components: Option<Vec<String>>,
    pub size: Option<String>,
    pub patches: Option<Spanned<Vec<serde_json::Value>>>,
    pub sharding: Option<Spanned<Sharding>>,
}

/// `flux.sharding`: how many shards of Flux controllers reconcile the fleet clusters' objects.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Sharding {
    pub shards: Shards,
}

/// `shards: N | auto`.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Shards {
    Count(u32),
    Auto(AutoWord),
}

/// `multitenant: auto | true`.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Multitenant {
    On(bool),
    Auto(AutoWord),
}

/// The word `auto`.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AutoWord {
    Auto,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Defaults {
    pub interval: Option<String>,
    pub retry_interval: Option<String>,
    pub timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[expect(clippy::struct_field_names, reason = "the spec's own name, `syncWave`")]
pub(crate) struct Wave {
    pub name: Spanned<String>,
    pub sync_wave: Option<Spanned<i64>>,
    pub flux_spec: Option<Node>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Cluster {
    pub name: Spanned<String>,
    pub role: Option<Spanned<Role>>,
    pub flux: Option<Spanned<Flux>>,
    pub environment: Option<String>,
    pub branch: Option<String>,
    pub kubeconfig: Option<Spanned<Kubeconfig>>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    pub flux_spec: Option<Node>,
    pub entry_resources: Option<Spanned<Vec<String>>>,
    pub retired: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Kubeconfig {
    pub secret_ref: Option<String>,
    pub key: Option<String>,
    pub config_map_ref: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Selector {
    #[serde(rename = "matchLabels")]
    pub match_labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Chart {
    pub repository: String,
    pub name: String,
    pub version: Option<String>,
    pub interval: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Override {
    pub version: Option<String>,
    pub values: Option<Node>,
    pub values_from: Option<Vec<serde_json::Value>>,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub retry_interval: Option<String>,
    pub helm: Option<serde_json::Value>,
    pub patches: Option<Vec<serde_json::Value>>,
    pub flux_spec: Option<Node>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Component {
    pub name: Spanned<String>,
    pub wave: Spanned<String>,
    pub namespace: Option<Spanned<String>>,
    pub chart: Option<Spanned<Chart>>,
    pub path: Option<Spanned<String>>,
    /// The values as written, spans included (secrets and `${…}` are located in them).
    pub values: Option<Node>,
    #[serde(default)]
    pub depends_on: Vec<Spanned<String>>,
    pub clusters: Option<Spanned<Vec<Spanned<String>>>>,
    pub selector: Option<Spanned<Selector>>,
    #[serde(default)]
    pub environments: Spanned<BTreeMap<Spanned<String>, Override>>,
    #[serde(default)]
    pub provides: Vec<String>,
    #[serde(default)]
    pub requires: Vec<Spanned<String>>,
    pub release_name: Option<Spanned<String>>,
    pub service_account_name: Option<String>,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub retry_interval: Option<String>,
    pub helm: Option<serde_json::Value>,
    #[serde(default)]
    pub values_from: Vec<serde_json::Value>,
    #[serde(default)]
    pub patches: Vec<serde_json::Value>,
    #[serde(default)]
    pub health_checks: Vec<serde_json::Value>,
    pub wait: Option<bool>,
    pub decryption: Option<Decryption>,
    #[serde(default)]
    pub substitute_from: Vec<serde_json::Value>,
    pub substitute: Option<bool>,
    /// Further fields of the Flux object's `.spec`, as written (keys are checked at their spans).
    pub flux_spec: Option<Node>,
    pub namespace_metadata: Option<Spanned<NamespaceMetadata>>,
    #[serde(default)]
    pub sync_options: Vec<String>,
    #[serde(default)]
    pub ignore_differences: Vec<serde_json::Value>,
    pub cascade: Option<bool>,
    pub manifest_generate_paths: Option<String>,
    /// Argo CD: `default` or `own` (an AppProject of its own).
    pub project: Option<String>,
    /// Argo CD: the config management plugin that renders a `path:` component, as written.
    pub plugin: Option<Node>,
    /// Further fields of the Argo CD Application's `.spec`, as written.
    pub argocd_spec: Option<Node>,
}

/// `decryption: {secretRef}` (SOPS).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Decryption {
    pub secret_ref: String,
}

/// `namespaceMetadata`: labels and annotations of a namespace synctl creates.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct NamespaceMetadata {
    /// `None` when not written: a tenant's namespaces then get the default label.
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Tenant {
    pub name: Spanned<String>,
    pub clusters: Option<Spanned<Vec<Spanned<String>>>>,
    pub selector: Option<Spanned<Selector>>,
    pub namespaces: Option<Vec<Spanned<String>>>,
    pub quota: Option<BTreeMap<String, serde_json::Value>>,
    pub isolation: Option<Isolation>,
    /// One entry (the old form) or a list of them; read into [`Apps`] by the model.
    pub apps: Option<Node>,
    pub role: Option<Spanned<String>>,
    pub role_scope: Option<Spanned<RoleScope>>,
    pub flux_namespace: Option<Spanned<FluxNamespace>>,
    #[serde(default)]
    pub subjects: Vec<serde_json::Value>,
    pub namespace_metadata: Option<NamespaceMetadata>,
}

/// Where a tenant's Flux entries live (`tenants[].fluxNamespace`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub(crate) enum FluxNamespace {
    #[serde(rename = "flux-system")]
    FluxSystem,
    #[serde(rename = "tenant")]
    Tenant,
}

/// Where a tenant's role is bound (`tenants[].roleScope`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum RoleScope {
    Namespaces,
    Cluster,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Apps {
    pub repository: AppsRepository,
    pub delivery: Option<Spanned<Delivery>>,
    pub wave: Option<Spanned<String>>,
    pub name: Option<Spanned<String>>,
    pub namespace: Option<String>,
    pub clusters: Option<Spanned<Vec<Spanned<String>>>>,
    pub selector: Option<Spanned<Selector>>,
    #[serde(default)]
    pub depends_on: Vec<Spanned<String>>,
    pub interval: Option<String>,
    pub retry_interval: Option<String>,
    pub timeout: Option<String>,
    #[serde(default)]
    pub substitute: bool,
    pub flux_spec: Option<Node>,
    #[serde(default)]
    pub force_service_account: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct AppsRepository {
    pub url: String,
    pub branch: Option<String>,
    pub path: Option<String>,
    pub secret_ref: Option<String>,
    pub interval: Option<Spanned<String>>,
}

/// What reconciles the platform layers (`spec.engine`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Flux,
    ArgoCd,
}

/// How a tenant's own repository is delivered (`apps.delivery`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    Flux,
    ArgoCd,
}

/// What a cluster is to the fleet (`clusters[].role`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Runs Flux (or Argo CD) for the fleet.
    Hub,
    /// Reconciled from the hub.
    Fleet,
    /// Runs its own Flux (or Argo CD), bootstrapped at its entry `fleet/<env>/clusters/<name>/`.
    Standalone,
}

/// Who installs Flux on a cluster that runs it (`flux.bootstrap`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bootstrap {
    /// `flux bootstrap`, which owns `<entry>/flux-system/`.
    FluxCli,
    /// The Flux Operator: synctl writes the FluxInstance.
    FluxOperator,
}

/// A tenant's network boundary (`tenants[].isolation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Isolation {
    /// A NetworkPolicy admits only the tenant's namespaces and the ingress/monitoring ones.
    Namespace,
    /// No NetworkPolicy.
    None,
}

#[cfg(test)]
mod tests {
    use serde::de::DeserializeOwned;

    /// The fields `T` reads, from serde's refusal of an unknown one ("expected one of …").
    fn fields<T: DeserializeOwned>() -> Vec<String> {
        let err = serde_json::from_value::<T>(serde_json::json!({"~unknown": 0}))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        let list = err
            .split("expected one of ")
            .nth(1)
            .or_else(|| err.split("expected ").nth(1));
        let mut out: Vec<String> = list
            .unwrap_or_default()
            .split(", ")
            .map(|f| {
                f.trim_matches(|c: char| c == '`' || c.is_whitespace())
                    .to_owned()
            })
            .filter(|f| !f.is_empty())
            .collect();
        out.sort();
        out
    }

    fn schema_fields(pointer: &str) -> Vec<String> {
        let schema: serde_json::Value =
            serde_json::from_str(crate::spec::schema::SCHEMA).expect("JSON");
        let mut out: Vec<String> = schema
            .pointer(pointer)
            .and_then(serde_json::Value::as_object)
            .unwrap_or_else(|| panic!("{pointer}"))
            .keys()
            .cloned()
            .collect();
        out.sort();
        out
    }

    /// Every field of the schema has its serde mirror here, and nothing more: a field added to
    /// one and not the other fails (with `deny_unknown_fields`, a spec using it would pass the
    /// schema and stop in the model).
    #[test]
    fn the_mirror_reads_exactly_the_schemas_fields() {
        let cases: [(Vec<String>, &str); 8] = [
            (fields::<super::Spec>(), "/properties/spec/properties"),
            (fields::<super::Flux>(), "/definitions/flux/properties"),
            (
                fields::<super::Cluster>(),
                "/definitions/cluster/properties",
            ),
            (
                fields::<super::Component>(),
                "/definitions/component/properties",
            ),
            (
                fields::<super::Override>(),
                "/definitions/override/properties",
            ),
            (fields::<super::Tenant>(), "/definitions/tenant/properties"),
            (
                fields::<super::Apps>(),
                "/definitions/tenantEntry/properties",
            ),
            (
                fields::<super::Repository>(),
                "/properties/spec/properties/repository/properties",
            ),
        ];
        for (mirror, pointer) in cases {
            assert!(mirror.len() > 1, "{pointer}: {mirror:?}");
            assert_eq!(mirror, schema_fields(pointer), "{pointer}");
        }
    }
}
