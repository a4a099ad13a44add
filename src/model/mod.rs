//! The checked fleet: defaults applied (in one place, here), names resolved to indexes, and
//! every part keeping the span it was written at. References that name nothing are reported
//! as `synctl::unknown-ref` and left out, so later stages only see what resolved.

mod build;
pub(crate) mod defaults;
pub(crate) mod shards;

pub(crate) use build::build;

use std::collections::BTreeMap;

use serde_json::Value as Json;

pub(crate) use crate::spec::raw::{Bootstrap, Delivery, Engine, Isolation, Role};
use crate::spec::source::Span;
use crate::spec::yaml::Node;

/// How Flux runs on a hub or standalone cluster (`spec.flux` with the cluster's overrides).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FluxConfig {
    pub bootstrap: Bootstrap,
    /// `multitenant: true`; `false` is `auto` (locked when a tenant is placed on the cluster).
    pub multitenant: bool,
    pub version: String,
    pub registry: String,
    pub components: Vec<String>,
    pub size: Option<String>,
    /// FluxInstance `kustomize.patches` (the cluster's own `flux.patches`, else `spec.flux`'s)
    /// and where they were written.
    pub patches: Option<(Vec<Json>, Span)>,
    /// The Flux Operator's own fields written for this cluster (`version`, `registry`,
    /// `size`), each with whether the cluster's own `flux:` wrote it (else `spec.flux`): with
    /// `flux bootstrap` nothing reads them.
    pub operator_fields: Vec<(&'static str, bool)>,
    /// `sharding.shards` (`None`: `auto`) and where `sharding` is written.
    pub sharding: Option<(Option<u32>, Span)>,
    /// Whether the cluster's own `flux:` writes `sharding` (else `spec.flux`, or nobody).
    pub sharding_own: bool,
}

/// The checked fleet.
#[derive(Clone, Debug)]
pub struct Fleet {
    pub name: String,
    pub engine: Engine,
    pub repository: Repository,
    pub hub_source_ref: String,
    pub argocd_retry_limit: i64,
    pub argocd_namespace: String,
    pub defaults: Defaults,
    pub waves: Vec<Wave>,
    pub clusters: Vec<Cluster>,
    /// Where `spec.clusters` is written.
    pub clusters_span: Span,
    pub components: Vec<Component>,
    pub tenants: Vec<Tenant>,
}

/// Labels and annotations of a namespace synctl creates.
pub(crate) type NamespaceMeta = (BTreeMap<String, String>, BTreeMap<String, String>);

#[derive(Clone, Debug)]
pub struct Repository {
    pub url: String,
    pub url_span: Span,
    pub branch: String,
    pub secret_ref: Option<String>,
    /// Where the output root sits inside the repository, without `./` or a trailing `/`
    /// (empty at the root).
    pub path: String,
    /// Where `repository.path` is written (empty when defaulted).
    pub path_span: Span,
}

impl Repository {
    /// `path` (relative to the output root) as Flux and Argo CD read it: from the repository
    /// root.
    #[must_use]
    pub fn repo_path(&self, path: &str) -> String {
        let path = path.trim_start_matches("./").trim_end_matches('/');
        match (self.path.is_empty(), path.is_empty()) {
            (true, _) => path.to_owned(),
            (false, true) => self.path.clone(),
            (false, false) => format!("{}/{path}", self.path),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Defaults {
    pub interval: String,
    pub retry_interval: String,
    pub timeout: String,
}

#[derive(Clone, Debug)]
pub struct Wave {
    pub name: String,
    pub span: Span,
    /// The Argo CD sync-wave base (`syncWave`, default index × 10).
    pub base: i64,
    pub base_span: Span,
    /// Flux: further `.spec` fields of the wave's Kustomizations, merged in last.
    pub flux_spec: Option<Node>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kubeconfig {
    Secret { name: String, key: String },
    ConfigMap { name: String },
}

#[derive(Clone, Debug)]
pub struct Cluster {
    pub name: String,
    pub span: Span,
    pub role: Role,
    pub role_span: Span,
    /// How Flux runs there (meaningful on the hub and standalone clusters).
    pub flux: FluxConfig,
    /// Where `kubeconfig:` and `flux:` are written, when they are.
    pub kubeconfig_span: Option<Span>,
    pub flux_span: Option<Span>,
    pub environment: String,
    pub branch: String,
    pub kubeconfig: Kubeconfig,
    pub labels: BTreeMap<String, String>,
    pub vars: BTreeMap<String, String>,
    /// Merged last into each of the cluster's wave Kustomizations (over the wave's).
    pub flux_spec: Option<Node>,
    /// Folders of the repository its entry also lists, and where they were written.
    pub entry_resources: Option<(Vec<String>, Span)>,
    /// Components and tenants torn down from it (`synctl retire`), each where it is written.
    pub retired: Vec<(String, Span)>,
    /// The shard of the hub's Flux controllers that reconciles this fleet cluster's objects
    /// (`model::shards`), when the hub is sharded.
    pub shard: Option<String>,
    /// The shards (`shard1`…) of the Flux controllers running on this cluster: the hub's,
    /// over its fleet clusters; a standalone cluster's, over its tenants. Empty: unsharded.
    pub shards: Vec<String>,
    /// A sharded standalone cluster's shard of each tenant with Flux entries on it (by index).
    pub tenant_shards: BTreeMap<usize, String>,
}

/// A resolved reference to another item, with the span of the name that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ref {
    pub index: usize,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ComponentSource {
    Chart {
        repository: String,
        name: String,
        version: String,
    },
    Path(String),
}

#[derive(Clone, Debug, Default)]
pub struct Override {
    pub version: Option<String>,
    pub values: Option<Json>,
    /// The values as written, with spans.
    pub values_tree: Option<Node>,
    /// Knobs of the environment (fleet model K4): `valuesFrom` replaces the list, `helm` merges.
    pub values_from: Option<Json>,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub retry_interval: Option<String>,
    pub helm: Option<Json>,
    pub patches: Option<Vec<Json>>,
    /// Merged over the component's `flux_spec` for this environment.
    pub flux_spec: Option<Node>,
}

/// The per-object settings of a component (fleet model sections 1 and 5); `None` and empty
/// mean "the default" (each documented with its field).
#[derive(Clone, Debug, Default)]
pub struct Knobs {
    /// Helm release name (default: the component's name).
    pub release_name: String,
    pub release_name_span: Span,
    /// Flux: the account its HelmRelease or Kustomization runs as.
    pub service_account: Option<String>,
    pub interval: Option<String>,
    /// Flux, charts: the chart source's own interval (default: `interval`).
    pub source_interval: Option<String>,
    pub timeout: Option<String>,
    pub retry_interval: Option<String>,
    /// `helm:` as written (`crds`, `strategy`, `retries`, `test`, `driftDetection`).
    pub helm: Json,
    pub values_from: Json,
    pub patches: Vec<Json>,
    pub health_checks: Vec<Json>,
    /// Flux, `path:` components: whether the Kustomization waits (default: unless
    /// `health_checks`).
    pub wait: Option<bool>,
    pub decryption: Option<String>,
    pub substitute_from: Vec<Json>,
    /// Flux, `path:` components: `Some(false)` writes no `postBuild.substitute` (the
    /// manifests' `${…}` are applied as written).
    pub substitute: Option<bool>,
    /// Flux: further fields of the component's Kustomization or HelmRelease `.spec`, merged in
    /// last (the keys synctl owns are refused by `check`).
    pub flux_spec: Option<Node>,
    pub namespace_labels: BTreeMap<String, String>,
    pub namespace_annotations: BTreeMap<String, String>,
    pub namespace_metadata_span: Option<Span>,
    pub sync_options: Vec<String>,
    pub ignore_differences: Vec<Json>,
    /// Argo CD: `false` writes the Application without the resources finalizer (deleting it
    /// leaves what it installed).
    pub cascade: bool,
    /// Argo CD: the Application's `argocd.argoproj.io/manifest-generate-paths` annotation.
    pub manifest_generate_paths: Option<String>,
    /// Argo CD: the component's Applications belong to an AppProject of its own (`project:
    /// own`), which admits only their repositories and clusters.
    pub own_project: bool,
    /// Argo CD, `path:` components: the source's config management `plugin`, as written.
    pub plugin: Option<Node>,
    /// Argo CD: further fields of the component's Application `.spec`, merged in last (the
    /// keys synctl owns are refused by `check`).
    pub argocd_spec: Option<Node>,
}

/// A capability a component requires, and the components that provide it.
#[derive(Clone, Debug)]
pub struct Requirement {
    pub name: String,
    pub span: Span,
    pub providers: Vec<usize>,
}

#[derive(Clone, Debug)]
pub struct Component {
    pub name: String,
    pub span: Span,
    pub wave: usize,
    /// False when `wave` named no wave (already reported); order checks skip the component.
    pub wave_known: bool,
    /// Where it is installed: `namespace:`, else the component's name.
    pub namespace: String,
    pub namespace_span: Span,
    /// Whether `namespace:` was written: a `path:` component's Flux Kustomization then sets
    /// its `targetNamespace`.
    pub namespace_written: bool,
    pub source: ComponentSource,
    pub source_span: Span,
    pub values: Json,
    pub values_span: Span,
    /// The values as written, with spans (secrets and `${…}` are located in them).
    pub values_tree: Option<Node>,
    pub depends_on: Vec<Ref>,
    /// Indexes of the clusters the component is placed on, sorted (binary search is fine).
    pub clusters: Vec<usize>,
    pub placement_span: Span,
    pub environments: BTreeMap<String, Override>,
    pub provides: Vec<String>,
    pub requires: Vec<Requirement>,
    pub knobs: Knobs,
}

#[derive(Clone, Debug)]
pub struct Apps {
    /// The entry's name (`None`: the unnamed entry, `tenant-<tenant>`).
    pub name: Option<String>,
    /// Where the entry is written.
    pub span: Span,
    pub url: String,
    pub branch: String,
    pub path: String,
    pub secret_ref: Option<String>,
    /// Flux delivery: the GitRepository's own interval (default: the entry's).
    pub source_interval: Option<(String, Span)>,
    pub delivery: Delivery,
    pub delivery_span: Span,
    pub wave: usize,
    /// Where `apps.wave` is written (the tenant's name when defaulted).
    pub wave_span: Span,
    /// `targetNamespace` (default: the tenant's only namespace).
    pub namespace: Option<String>,
    /// The clusters it is placed on (a subset of the tenant's), sorted.
    pub clusters: Vec<usize>,
    pub placement_span: Span,
    /// Other entries of the tenant it waits for, by index.
    pub depends_on: Vec<Ref>,
    pub interval: Option<String>,
    pub retry_interval: Option<String>,
    pub timeout: Option<String>,
    pub substitute: bool,
    /// Flux delivery: further `.spec` fields of the entry's Kustomization, merged in last.
    pub flux_spec: Option<Node>,
    pub force_service_account: bool,
}

/// The ClusterRole a tenant is bound to (fleet model N2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TenantRole {
    /// `synctl-tenant-reconciler`, which synctl generates (the default).
    Reconciler,
    /// Any other ClusterRole, bound in each tenant namespace.
    ClusterRole(String),
    /// `cluster-admin`, bound cluster-wide (a privileged infrastructure tenant).
    ClusterAdmin,
}

impl TenantRole {
    /// The ClusterRole's name.
    #[must_use]
    pub fn cluster_role(&self) -> &str {
        match self {
            TenantRole::Reconciler => defaults::TENANT_ROLE,
            TenantRole::ClusterRole(r) => r,
            TenantRole::ClusterAdmin => "cluster-admin",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Tenant {
    pub name: String,
    pub span: Span,
    pub clusters: Vec<usize>,
    pub placement_span: Span,
    pub namespaces: Vec<(String, Span)>,
    pub quota: BTreeMap<String, String>,
    pub isolation: Isolation,
    /// Its repositories (entries), in spec order.
    pub apps: Vec<Apps>,
    pub role: TenantRole,
    pub role_span: Span,
    /// Further RBAC subjects of its role bindings.
    pub subjects: Vec<Json>,
    /// `fluxNamespace: tenant`: its Flux entries live in their own namespace (where written).
    pub in_own_namespace: Option<Span>,
    pub namespace_labels: BTreeMap<String, String>,
    pub namespace_annotations: BTreeMap<String, String>,
}

impl Tenant {
    /// The namespace of entry `e`'s GitRepository and Kustomization: `flux-system`, or with
    /// `fluxNamespace: tenant` the entry's target namespace (`None` when it has none: an error
    /// `check` reports).
    #[must_use]
    pub fn flux_namespace(&self, e: usize) -> Option<String> {
        if self.in_own_namespace.is_none() {
            return Some("flux-system".to_owned());
        }
        self.apps[e]
            .namespace
            .clone()
            .or_else(|| (self.namespaces.len() == 1).then(|| self.namespaces[0].0.clone()))
    }

    /// The name of entry `e`'s Kustomization, GitRepository or Application.
    #[must_use]
    pub fn entry_name(&self, e: usize) -> String {
        match &self.apps[e].name {
            None => format!("tenant-{}", self.name),
            Some(n) => format!("tenant-{}-{n}", self.name),
        }
    }
}

impl Cluster {
    /// The cluster's own folder, `fleet/<environment>/clusters/<name>` (relative to the
    /// output root): a standalone cluster's entry, a fleet cluster's branch split.
    #[must_use]
    pub fn folder(&self) -> String {
        format!("fleet/{}/clusters/{}", self.environment, self.name)
    }

    /// Whether its `retired` list names the component or tenant `item`.
    #[must_use]
    pub fn retires(&self, item: &str) -> bool {
        self.retired.iter().any(|(n, _)| n == item)
    }

    /// Whether this is the hub.
    #[must_use]
    pub fn is_hub(&self) -> bool {
        self.role == Role::Hub
    }

    /// Whether this cluster runs its own Flux (or Argo CD) and reads its entry under `fleet/`.
    #[must_use]
    pub fn is_standalone(&self) -> bool {
        self.role == Role::Standalone
    }

    /// Whether this cluster is reconciled from the hub.
    #[must_use]
    pub fn is_fleet(&self) -> bool {
        self.role == Role::Fleet
    }

    /// The substitution variables the cluster gets: the built-ins (`CLUSTER_NAME`,
    /// `ENVIRONMENT`, `GIT_BRANCH`, the kubeconfig reference of a fleet cluster) and its `vars`.
    #[must_use]
    pub fn variables(&self) -> BTreeMap<String, String> {
        let mut vars = BTreeMap::new();
        vars.insert("CLUSTER_NAME".to_owned(), self.name.clone());
        vars.insert("ENVIRONMENT".to_owned(), self.environment.clone());
        vars.insert("GIT_BRANCH".to_owned(), self.branch.clone());
        if self.is_fleet() {
            match &self.kubeconfig {
                Kubeconfig::Secret { name, key } => {
                    vars.insert("KUBECONFIG_SECRET".to_owned(), name.clone());
                    vars.insert("KUBECONFIG_KEY".to_owned(), key.clone());
                }
                Kubeconfig::ConfigMap { name } => {
                    vars.insert("KUBECONFIG_CONFIGMAP".to_owned(), name.clone());
                }
            }
        }
        vars.extend(self.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        vars
    }
}

impl Fleet {
    /// The hub cluster (validation guarantees exactly one before rendering).
    #[must_use]
    pub fn hub(&self) -> Option<&Cluster> {
        self.clusters.iter().find(|c| c.is_hub())
    }

    /// The hub's index.
    #[must_use]
    pub fn hub_index(&self) -> Option<usize> {
        self.clusters.iter().position(Cluster::is_hub)
    }

    /// Whether cluster `c` is locked down for tenants (fleet model section 3): it runs Flux and
    /// has `multitenant: true`, or a tenant placed on it.
    #[must_use]
    pub fn locked(&self, c: usize) -> bool {
        let cluster = &self.clusters[c];
        !cluster.is_fleet()
            && self.engine == Engine::Flux
            && (cluster.flux.multitenant
                || self
                    .tenants
                    .iter()
                    .any(|t| t.clusters.binary_search(&c).is_ok()))
    }

    /// The `namespaceMetadata` of namespace `ns`, merged over the components sharing it.
    #[must_use]
    pub fn namespace_meta(&self) -> BTreeMap<&str, NamespaceMeta> {
        let mut out: BTreeMap<&str, NamespaceMeta> = BTreeMap::new();
        for c in self
            .components
            .iter()
            .filter(|c| c.knobs.namespace_metadata_span.is_some())
        {
            let entry = out.entry(c.namespace.as_str()).or_default();
            entry.0.extend(c.knobs.namespace_labels.clone());
            entry.1.extend(c.knobs.namespace_annotations.clone());
        }
        out
    }

    /// Environment name → indexes of its clusters (fleet and standalone), sorted by environment.
    #[must_use]
    pub fn environments(&self) -> BTreeMap<&str, Vec<usize>> {
        let mut out: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, c) in self
            .clusters
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.is_hub())
        {
            out.entry(c.environment.as_str()).or_default().push(i);
        }
        out
    }
}
