//! What a generated file holds, as data: the documents and kustomize files the layout decided
//! on, with every name, path and reference already resolved. The renderers turn these into
//! text and nothing else; the typed structs here are the template contexts.

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
    /// The chart source and HelmRelease of a chart component, with the names of the
    /// HelmReleases of its wave it depends on.
    Release {
        component: usize,
        depends_on: Vec<String>,
    },
    /// The ClusterRole every tenant's RoleBinding refers to.
    TenantRole,
    /// Namespaces, RoleBindings, quota, limits, isolation and account of a tenant.
    Tenant {
        tenant: usize,
    },
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
}

/// A Flux GitRepository (template `flux/gitrepository.yaml.j2`).
#[derive(Clone, Debug, Serialize)]
pub struct GitRepository {
    pub name: String,
    pub namespace: String,
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
    /// The chart of a component, with the values it gets on a cluster (resolved when rendered).
    Chart { component: usize, cluster: usize },
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
}

/// A kustomize patch of an overlay.
#[derive(Clone, Debug)]
pub enum Patch {
    /// Every HelmRelease of a fleet overlay targets the cluster's kubeconfig (Secret or
    /// ConfigMap reference, from substitution).
    Kubeconfig { config_map: bool },
    /// An environment's values and version of a component.
    Environment {
        component: usize,
        environment: String,
    },
    /// The tenant's RoleBindings name its account in the namespace named like the fleet cluster.
    TenantAccount { tenant: usize },
    /// A component's HelmRelease runs as `account` (fleet model section 3).
    ReleaseAccount { component: usize, account: String },
}
