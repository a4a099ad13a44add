//! What a generated file holds, as data: the documents and kustomize files the layout decided
//! on, finished — every name, path, reference, default, knob and per-environment override
//! already applied. The renderers turn these into text and nothing else, and read nothing
//! but these; the typed structs here are the template contexts.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

/// The body of one file.
#[derive(Clone, Debug)]
pub enum Content {
    /// YAML documents joined by `---`, after an optional comment; `empty` is the body when
    /// there are no documents.
    Docs {
        comment: Option<String>,
        docs: Vec<Doc>,
        empty: Option<&'static str>,
    },
    /// A kustomize `kustomization.yaml`.
    Kustomize {
        resources: Vec<String>,
        patches: Vec<Patch>,
    },
    /// A file of fleet cluster `cluster` (`hub/<cluster>.yaml`, and its folder's files when it
    /// tracks another branch): built when it is rendered ([`super::Layout::content`]), so a
    /// fleet of thousands of clusters never holds all their documents at once.
    Cluster { cluster: usize },
}

impl Content {
    /// Documents without a comment.
    #[must_use]
    pub fn docs(docs: Vec<Doc>) -> Content {
        Content::Docs {
            comment: None,
            docs,
            empty: None,
        }
    }

    /// A kustomization without patches.
    #[must_use]
    pub fn resources(resources: Vec<String>) -> Content {
        Content::Kustomize {
            resources,
            patches: Vec::new(),
        }
    }
}

/// One YAML document (or, for `Release` and `Tenant`, the fixed group of documents of one
/// component or tenant).
#[derive(Clone, Debug)]
pub enum Doc {
    Namespace {
        name: String,
        labels: BTreeMap<String, String>,
        annotations: BTreeMap<String, String>,
    },
    /// A ServiceAccount (a tenant's account where its Kustomizations run).
    ServiceAccount {
        name: String,
        namespace: String,
        labels: BTreeMap<String, String>,
    },
    // The large variants are boxed: a Doc is as large as its largest variant, and a big
    // fleet holds tens of thousands of them (mostly Namespaces).
    GitRepository(Box<GitRepository>),
    Kustomization(Box<Kustomization>),
    /// The chart source and HelmRelease of a chart component.
    Release(Box<Release>),
    /// The ClusterRole every tenant's RoleBinding refers to.
    TenantRole,
    /// Namespaces, RoleBindings, quota, limits, isolation and account of a tenant.
    Tenant(Box<Tenant>),
    Application(Box<Application>),
    AppProject {
        name: String,
        namespace: String,
        sync_wave: Option<i64>,
        /// `(destination cluster name, namespace)` pairs.
        destinations: Vec<(String, String)>,
        /// The tenant's repositories (`sourceRepos`).
        repos: Vec<String>,
        /// A `cluster-admin` tenant: every kind allowed, nothing denied.
        cluster_admin: bool,
        /// A component's own project (`project: own`): its repositories and clusters, any
        /// namespace and kind there (a chart writes where it writes).
        component: bool,
    },
    /// A ConfigMap of string data.
    ConfigMap {
        name: String,
        namespace: String,
        data: BTreeMap<String, String>,
    },
    /// `argocd-cm` with the Application health check, for an Argo CD installed elsewhere.
    HealthConfigMap {
        namespace: String,
    },
    /// The Flux Operator's FluxInstance of a cluster.
    FluxInstance(Box<FluxInstance>),
    /// A ClusterRoleBinding of a tenant's accounts to a ClusterRole (`cluster-admin` tenants).
    ClusterRoleBinding {
        name: String,
        cluster_role: String,
        /// `(account, namespace)` pairs.
        subjects: Vec<(String, String)>,
        labels: BTreeMap<String, String>,
    },
    /// A RoleBinding of one ServiceAccount to a ClusterRole.
    RoleBinding {
        name: String,
        namespace: String,
        cluster_role: String,
        account: String,
        account_namespace: String,
        labels: BTreeMap<String, String>,
    },
}

/// A FluxInstance `flux` in `flux-system` (template `flux/fluxinstance.yaml.j2`).
#[derive(Clone, Debug, Serialize)]
pub struct FluxInstance {
    pub version: String,
    pub registry: String,
    /// Only when not Flux's default four.
    pub components: Option<Vec<String>>,
    pub multitenant: bool,
    pub size: Option<String>,
    pub url: String,
    pub branch: String,
    /// The entry folder, from the repository root.
    pub path: String,
    pub pull_secret: Option<String>,
    /// Only when the bootstrap GitRepository is not named `flux-system`.
    pub sync_name: Option<String>,
    /// `kustomize.patches` (`flux.patches`), when written.
    pub patches: Option<Vec<serde_json::Value>>,
    /// `sharding.shards`: the hub's shards, when it is sharded.
    pub shards: Vec<String>,
}

/// A Flux GitRepository (template `flux/gitrepository.yaml.j2`).
#[derive(Clone, Debug, Serialize)]
pub struct GitRepository {
    pub name: String,
    pub namespace: String,
    /// The `sharding.fluxcd.io/key` label: the hub's shard that reconciles it.
    pub shard: Option<String>,
    pub interval: String,
    pub branch: String,
    pub secret_ref: Option<String>,
    pub sparse: Option<Vec<String>>,
    pub url: String,
}

/// A `dependsOn` entry of a Flux Kustomization.
#[derive(Clone, Debug, Serialize)]
pub struct DependsOn {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A Flux Kustomization (template `flux/kustomization.yaml.j2`).
#[derive(Clone, Debug, Serialize)]
pub struct Kustomization {
    pub name: String,
    pub namespace: String,
    /// The `sharding.fluxcd.io/key` label: the shard that reconciles it.
    pub shard: Option<String>,
    /// With a `shard`, label what it applies for the shard too (`commonMetadata`): where it
    /// applies synctl's own Flux objects on the hub (a wave's releases: the HelmReleases, their
    /// sources and the tenants' entries; the entry of a cluster on another branch), not a
    /// tenant's repository (its HelmCharts would lose their sources: docs/sharding.md).
    pub label_applied: bool,
    pub depends_on: Vec<DependsOn>,
    pub interval: String,
    pub retry_interval: String,
    pub timeout: String,
    /// `secretRef`/`configMapRef` of the cluster the Kustomization applies to.
    /// Shared by the Kustomizations of one cluster (a fleet holds thousands of them).
    pub kubeconfig: Option<Arc<serde_json::Value>>,
    pub path: String,
    pub service_account: Option<String>,
    pub source: String,
    pub target_namespace: Option<String>,
    pub wait: bool,
    /// Shared by the Kustomizations of one cluster, as `kubeconfig`.
    pub substitute: Option<Arc<BTreeMap<String, String>>>,
    /// `path:` components' knobs (fleet model K3).
    pub patches: Vec<serde_json::Value>,
    pub decryption: Option<String>,
    pub substitute_from: Vec<serde_json::Value>,
    pub health_checks: Vec<serde_json::Value>,
    /// `fluxSpec`: further `.spec` fields, merged over the written object last (by render,
    /// whichever writer wrote it).
    #[serde(skip)]
    pub extra: Option<serde_json::Value>,
}

/// The source of an Argo CD Application.
#[derive(Clone, Debug)]
pub enum AppSource {
    /// A folder of a Git repository.
    Git {
        repo_url: String,
        path: String,
        revision: String,
    },
    /// The Helm source of a component on one cluster (`repoURL`, `chart`, `targetRevision`,
    /// `helm`), its environment's values merged and `${…}` resolved.
    Helm(serde_json::Value),
}

/// A chart component's source (templates `flux/helmrepository.yaml.j2` and
/// `flux/ocirepository.yaml.j2`).
#[derive(Clone, Debug, Serialize)]
pub struct ChartSource {
    pub name: String,
    pub interval: String,
    /// The Helm repository, or the OCI artifact (`<repository>/<chart>`).
    pub url: String,
    pub version: String,
    pub oci: bool,
}

/// A chart component's HelmRelease (template `flux/helmrelease.yaml.j2`).
#[derive(Clone, Debug, Serialize)]
pub struct HelmRelease {
    pub name: String,
    pub oci: bool,
    pub chart: String,
    pub version: String,
    /// The HelmReleases of its wave it waits for.
    pub depends_on: Vec<DependsOn>,
    pub interval: String,
    pub namespace: String,
    pub timeout: String,
    pub values: Option<serde_json::Value>,
    pub release_name: String,
    pub service_account: Option<String>,
    /// The CRD policy of install and upgrade.
    pub crds: String,
    /// Remediation retries (none with `RetryOnFailure`).
    pub retries: Option<i64>,
    pub strategy: Option<String>,
    pub test: bool,
    pub drift_detection: Option<serde_json::Value>,
    pub values_from: Option<serde_json::Value>,
    /// `fluxSpec`, as [`Kustomization::extra`].
    #[serde(skip)]
    pub extra: Option<serde_json::Value>,
}

/// The documents of a chart component.
#[derive(Clone, Debug)]
pub struct Release {
    pub source: ChartSource,
    pub release: HelmRelease,
}

/// A tenant's boundaries on a cluster (template `k8s/tenant.yaml.j2`).
#[derive(Clone, Debug, Serialize)]
#[expect(
    clippy::struct_field_names,
    reason = "the template's context calls the tenant's name `tenant`"
)]
pub struct Tenant {
    pub tenant: String,
    pub namespaces: Vec<String>,
    /// Where the tenant's Kustomizations run (`""`: in the tenant's own namespaces).
    pub account_namespace: String,
    pub quota: Option<BTreeMap<String, String>>,
    pub isolation: bool,
    /// The ClusterRole its RoleBindings refer to.
    pub role: String,
    pub cluster_admin: bool,
    /// Further subjects of its role bindings.
    pub subjects: Vec<serde_json::Value>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// An Argo CD Application (template `argocd/application.yaml.j2`, with the source rendered).
#[derive(Clone, Debug)]
pub struct Application {
    pub name: String,
    pub namespace: String,
    pub sync_wave: Option<i64>,
    pub project: String,
    pub destination_name: String,
    pub destination_namespace: Option<String>,
    pub source: AppSource,
    pub sync_options: Vec<String>,
    /// `syncPolicy.managedNamespaceMetadata` (with `CreateNamespace=true`).
    pub namespace_metadata: Option<serde_json::Value>,
    pub ignore_differences: Vec<serde_json::Value>,
    /// `source.kustomize.patches` of a `path:` component.
    pub kustomize_patches: Vec<serde_json::Value>,
    /// `source.plugin` of a `path:` component (`components[].plugin`).
    pub plugin: Option<serde_json::Value>,
    /// `syncPolicy.retry.limit` (`spec.argocd.retryLimit`).
    pub retry_limit: i64,
    /// Whether the resources finalizer is written (`components[].cascade`).
    pub cascade: bool,
    /// The `argocd.argoproj.io/manifest-generate-paths` annotation.
    pub manifest_generate_paths: Option<String>,
    /// `argocdSpec`: further `.spec` fields, merged over the written object last (by render).
    pub extra: Option<serde_json::Value>,
}

impl Application {
    /// An Application named `name` in `namespace` (Argo CD's), of `project`, sending `source`
    /// to `destination` (a cluster name and maybe a namespace), with synctl's sync policy and
    /// no knobs of a component.
    pub(super) fn new(
        name: String,
        namespace: String,
        project: String,
        destination: (String, Option<String>),
        source: AppSource,
        retry_limit: i64,
    ) -> Application {
        Application {
            name,
            namespace,
            sync_wave: None,
            project,
            destination_name: destination.0,
            destination_namespace: destination.1,
            source,
            sync_options: Vec::new(),
            namespace_metadata: None,
            ignore_differences: Vec::new(),
            kustomize_patches: Vec::new(),
            plugin: None,
            retry_limit,
            cascade: true,
            manifest_generate_paths: None,
            extra: None,
        }
    }
}

/// A kustomize patch of an overlay: its target and the patch (a strategic-merge object, or a
/// JSON 6902 list of operations), written as kustomize's `patches` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Patch {
    pub target: serde_json::Value,
    pub patch: serde_json::Value,
}
