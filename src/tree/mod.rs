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
mod post_build;
mod projects;
pub(crate) mod proofs;
mod refs;
pub(crate) mod report;
mod sources;

use std::fmt;
use std::sync::Arc;

use serde_json::Value as Json;

use crate::source::{Source, Span};
use crate::spec::yaml::Node;

/// Where something was written: a file of the tree and a span of it.
#[derive(Clone, Debug)]
pub(crate) struct At {
    pub(crate) file: Arc<Source>,
    pub(crate) span: Span,
}

/// One object as it reaches a cluster.
#[derive(Clone, Debug)]
pub(crate) struct Object {
    /// The object after every transformation (patches, substitution) but a pending namespace;
    /// shared between the clusters and Kustomizations that apply it unchanged (copied on
    /// write, through [`Object::edit`]).
    body: Arc<Body>,
    /// The namespace a transformation (`targetNamespace`, an Application's destination) gave
    /// it, not yet written into `body`: a thousand clusters' copies of a folder differ only
    /// here, and share the rest.
    namespace: Option<Arc<str>>,
    /// The document it was read from; `node` is its YAML as written (`None` when an external
    /// kustomize built it, and `at` is then the folder's kustomization file).
    pub(crate) at: At,
    pub(crate) node: Option<Arc<Node>>,
}

/// An object's value and what the proofs ask of it on every cluster, read once.
#[derive(Clone, Debug)]
struct Body {
    value: Json,
    group: String,
    kind: String,
    namespace: String,
    name: String,
    /// Whether a string of it holds `${` (the rest need no substitution, and no copy), once
    /// asked.
    mentions_variable: std::sync::OnceLock<bool>,
}

impl Body {
    fn new(value: Json) -> Body {
        let api = text(&value, &["apiVersion"]);
        Body {
            group: api.rsplit_once('/').map_or("", |(g, _)| g).to_owned(),
            kind: text(&value, &["kind"]).to_owned(),
            namespace: text(&value, &["metadata", "namespace"]).to_owned(),
            name: text(&value, &["metadata", "name"]).to_owned(),
            mentions_variable: std::sync::OnceLock::new(),
            value,
        }
    }
}

/// Whether any string of `v` holds `${`.
fn mentions_variable(v: &Json) -> bool {
    use crate::subst::mentions_variable as holds;
    match v {
        Json::String(s) => holds(s),
        Json::Array(items) => items.iter().any(mentions_variable),
        Json::Object(m) => m.iter().any(|(k, v)| holds(k) || mentions_variable(v)),
        _ => false,
    }
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

/// A field of an object by its keys (`serde_json`'s `pointer` copies every key it reads).
pub(crate) trait Field {
    fn field(&self, path: &[&str]) -> Option<&Json>;
}

impl Field for Json {
    fn field(&self, path: &[&str]) -> Option<&Json> {
        path.iter().try_fold(self, |v, key| v.get(key))
    }
}

/// The text at `path` in `value`, or "".
pub(crate) fn text<'a>(value: &'a Json, path: &[&str]) -> &'a str {
    value.field(path).and_then(Json::as_str).unwrap_or("")
}

impl Object {
    pub(crate) fn new(value: Json, at: At, node: Option<Arc<Node>>) -> Object {
        Object {
            body: Arc::new(Body::new(value)),
            namespace: None,
            at,
            node,
        }
    }

    /// The object as read and transformed, but for a namespace given by
    /// [`Object::set_namespace`]: read its namespace with [`Object::namespace`], the whole
    /// object with [`Object::full`].
    pub(crate) fn value(&self) -> &Json {
        &self.body.value
    }

    /// The whole object as it reaches the cluster.
    pub(crate) fn full(&self) -> std::borrow::Cow<'_, Json> {
        match &self.namespace {
            None => std::borrow::Cow::Borrowed(&self.body.value),
            Some(ns) => {
                let mut v = self.body.value.clone();
                v["metadata"]["namespace"] = Json::String(ns.to_string());
                std::borrow::Cow::Owned(v)
            }
        }
    }

    /// Changes the object with `f` (its own copy from here on).
    pub(crate) fn edit<R>(&mut self, f: impl FnOnce(&mut Json) -> R) -> R {
        let mut value = match Arc::try_unwrap(std::mem::replace(
            &mut self.body,
            Arc::new(Body::new(Json::Null)),
        )) {
            Ok(body) => body.value,
            Err(shared) => shared.value.clone(),
        };
        if let Some(ns) = self.namespace.take() {
            value["metadata"]["namespace"] = Json::String(ns.to_string());
        }
        let out = f(&mut value);
        self.body = Arc::new(Body::new(value));
        out
    }

    /// Puts the object in namespace `ns`, without copying it.
    pub(crate) fn set_namespace(&mut self, ns: &Arc<str>) {
        self.namespace = (*self.body.namespace != **ns).then(|| Arc::clone(ns));
    }

    /// Whether a string of it holds `${` (a namespace given included).
    pub(crate) fn mentions_variable(&self) -> bool {
        *self
            .body
            .mentions_variable
            .get_or_init(|| mentions_variable(&self.body.value))
            || self
                .namespace
                .as_deref()
                .is_some_and(crate::subst::mentions_variable)
    }

    pub(crate) fn kind(&self) -> &str {
        &self.body.kind
    }

    /// The API group (`""` for the core group).
    pub(crate) fn group(&self) -> &str {
        &self.body.group
    }

    pub(crate) fn name(&self) -> &str {
        &self.body.name
    }

    pub(crate) fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or(&self.body.namespace)
    }

    pub(crate) fn id(&self) -> Id {
        Id {
            group: self.group().to_owned(),
            kind: self.kind().to_owned(),
            namespace: self.namespace().to_owned(),
            name: self.name().to_owned(),
        }
    }

    /// Whether this is a `kind` of the Flux API `group` prefix (e.g. `kustomize.toolkit`).
    pub(crate) fn is(&self, group: &str, kind: &str) -> bool {
        self.kind() == kind && self.group() == group
    }

    /// What `spec.dependsOn` names, in order: objects of this kind and group, in this
    /// object's namespace unless an entry says another.
    pub(crate) fn depends_on(&self) -> Vec<Id> {
        let Some(Json::Array(deps)) = self.value().field(&["spec", "dependsOn"]) else {
            return Vec::new();
        };
        deps.iter()
            .map(|d| Id {
                group: self.group().to_owned(),
                kind: self.kind().to_owned(),
                namespace: match text(d, &["namespace"]) {
                    "" => self.namespace(),
                    ns => ns,
                }
                .to_owned(),
                name: text(d, &["name"]).to_owned(),
            })
            .collect()
    }

    /// Where `path` was written in the document, else the document itself.
    pub(crate) fn span_of(&self, path: &[&str]) -> Span {
        self.node
            .as_ref()
            .and_then(|n| n.at(path.iter().copied()))
            .map_or(self.at.span, |n| n.span)
    }

    /// `at`, moved to `path` of the document.
    pub(crate) fn at_field(&self, path: &[&str]) -> At {
        At {
            file: Arc::clone(&self.at.file),
            span: self.span_of(path),
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
