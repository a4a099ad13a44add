//! Reading a GitOps tree the way the controllers read it (`synctl check`): from each cluster's
//! entry, every Flux Kustomization's source and path, built as kustomize builds it
//! ([`kustomize`]), then the Kustomization's own `targetNamespace`, `patches`, `images` and
//! `postBuild` substitution, and so on down the Kustomizations found ([`flux`]). The result is
//! a [`flux::Plan`] per entry: which Kustomization applies which object on which cluster, in
//! the order the controllers reach them, and the problems found on the way ([`proofs`]).
//!
//! Works on any repository, synctl's own tree included; reads only inside the tree's root.

pub(crate) mod argocd;
mod external;
pub(crate) mod flux;
pub(crate) mod kustomize;
pub(crate) mod lockdown;
mod native;
mod object;
mod post_build;
mod projects;
pub(crate) mod proofs;
mod refs;
pub(crate) mod report;
mod shards;
mod sources;

use std::fmt;
use std::sync::Arc;

pub(crate) use object::{Field, Object, text};

use crate::source::{Source, Span};

/// Where something was written: a file of the tree and a span of it.
#[derive(Clone, Debug)]
pub(crate) struct At {
    pub(crate) file: Arc<Source>,
    pub(crate) span: Span,
}

/// What names an object on a cluster: API group, kind, namespace, name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Id {
    pub(crate) group: String,
    pub(crate) kind: String,
    pub(crate) namespace: String,
    pub(crate) name: String,
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.kind, self.name)
        } else {
            write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// API groups of Kubernetes itself (`""`, `apps`, `*.k8s.io`).
pub(crate) fn builtin_group(group: &str) -> bool {
    !group.contains('.') || group.ends_with(".k8s.io")
}

/// Kinds of Kubernetes' own groups that have no namespace (kustomize's list).
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "StorageClass",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "PriorityClass",
    "RuntimeClass",
    "IngressClass",
    "CertificateSigningRequest",
    "ComponentStatus",
    "PodSecurityPolicy",
    "FlowSchema",
    "PriorityLevelConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "CustomResourceDefinition",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
];

/// Whether `o` is a cluster-scoped kind of Kubernetes' own groups.
pub(crate) fn cluster_scoped(o: &Object) -> bool {
    builtin_group(o.group()) && CLUSTER_SCOPED.contains(&o.kind())
}

/// Custom kinds the common controllers define without a namespace, known when their CRD is not
/// in the tree (one that is says so itself: the proofs read its `scope`).
const CLUSTER_SCOPED_CUSTOM: &[&str] = &[
    "GatewayClass",
    "ClusterIssuer",
    "ClusterPolicy",
    "ClusterSecretStore",
];

/// Whether `o` is of a kind known to have no namespace: Kubernetes' own, or a common
/// controller's.
pub(crate) fn known_cluster_scoped(o: &Object) -> bool {
    cluster_scoped(o) || CLUSTER_SCOPED_CUSTOM.contains(&o.kind())
}

/// The Flux API groups.
pub(crate) const KUSTOMIZE_GROUP: &str = "kustomize.toolkit.fluxcd.io";
pub(crate) const HELM_GROUP: &str = "helm.toolkit.fluxcd.io";
pub(crate) const SOURCE_GROUP: &str = "source.toolkit.fluxcd.io";

/// A problem found in a tree, located in the file it is about.
#[derive(Clone, Debug)]
pub(crate) struct Finding {
    pub(crate) file: Arc<Source>,
    pub(crate) problem: crate::diag::Problem,
}

impl Finding {
    /// `problem`, pointed at `at` with `label`.
    pub(crate) fn new(at: &At, problem: crate::diag::Problem, label: &str) -> Finding {
        Finding {
            file: Arc::clone(&at.file),
            problem: problem.at(at.span, label),
        }
    }
}
