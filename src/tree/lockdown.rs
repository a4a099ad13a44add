//! Tenant lockdown, verified rather than assumed (`synctl::lockdown`): a Kustomization that
//! runs as a tenant's account (a `serviceAccountName` that is not one of Flux's controllers,
//! granted by RoleBindings of the tree) may only apply namespaced objects in the namespaces
//! where a RoleBinding grants that account (anywhere, when a ClusterRoleBinding does; an
//! account no binding of the tree names is granted outside it and not judged); its account must exist where it runs; and on a
//! cluster locked for tenants (Flux's `--no-cross-namespace-refs`, or a FluxInstance with
//! `multitenant: true`) its `sourceRef` may not leave its namespace.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use super::flux::{Applier, Plan};
use super::{Finding, Object, text};
use crate::diag::{Code, Problem};

/// The accounts Flux's own controllers run as (`flux-system`).
const CONTROLLERS: &[&str] = &[
    "kustomize-controller",
    "helm-controller",
    "source-controller",
    "notification-controller",
    "image-reflector-controller",
    "image-automation-controller",
    "source-watcher",
];

/// Kinds of Kubernetes' own groups without a namespace (RBAC refuses them to a namespaced
/// grant).
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "IngressClass",
    "RuntimeClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
];

/// Every lockdown proof over `plan`; `locked` says whether the entry's cluster runs Flux
/// locked for tenants.
pub(super) fn check(plan: &Plan, locked: bool, out: &mut Vec<Finding>) {
    for a in &plan.appliers {
        let Some(k) = &a.object else {
            continue;
        };
        let account = text(&k.value, &["spec", "serviceAccountName"]);
        if account.is_empty() || CONTROLLERS.contains(&account) {
            continue;
        }
        account_exists(plan, a, k, account, out);
        if locked {
            cross_namespace_source(k, out);
        }
        // With `kubeConfig`, the account is impersonated on the cluster the objects go to.
        let Some(allowed) = granted(plan, &a.target, k.namespace(), account) else {
            continue;
        };
        for o in &a.objects {
            outside(o, a, account, &allowed, out);
        }
    }
}

/// The namespaces `account` (in `namespace`) may write on `cluster`; `None` for anywhere (a
/// ClusterRoleBinding grants it) or unknown (no binding in the tree names it: it is granted
/// outside, as a fleet cluster's platform account is at bootstrap).
fn granted(plan: &Plan, cluster: &str, namespace: &str, account: &str) -> Option<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let bindings = plan
        .appliers
        .iter()
        .filter(|b| b.target == cluster)
        .flat_map(|b| b.objects.iter())
        .filter(|o| o.group() == "rbac.authorization.k8s.io");
    for b in bindings {
        let names_it = b
            .value
            .get("subjects")
            .and_then(Json::as_array)
            .is_some_and(|s| {
                s.iter().any(|s| {
                    text(s, &["kind"]) == "ServiceAccount"
                        && text(s, &["name"]) == account
                        && text(s, &["namespace"]) == namespace
                })
            });
        match (b.kind(), names_it) {
            ("ClusterRoleBinding", true) => return None,
            ("RoleBinding", true) => {
                out.insert(b.namespace().to_owned());
            }
            _ => {}
        }
    }
    (!out.is_empty()).then_some(out)
}

fn account_exists(plan: &Plan, a: &Applier, k: &Object, account: &str, out: &mut Vec<Finding>) {
    // The account is looked up where the Kustomization lives (its finalizer needs it there
    // even when `kubeConfig` sends the objects elsewhere).
    let exists = plan
        .appliers
        .iter()
        .filter(|b| b.target == a.home)
        .flat_map(|b| b.objects.iter())
        .any(|o| {
            o.kind() == "ServiceAccount" && o.name() == account && o.namespace() == k.namespace()
        });
    if !exists {
        out.push(Finding::new(
            &k.at_field(&["spec", "serviceAccountName"]),
            Problem::error(
                Code::Lockdown,
                format!(
                    "{} runs as ServiceAccount {}/{account}, which nothing applies on cluster {}",
                    k.id(),
                    k.namespace(),
                    a.home
                ),
            )
            .help("create the account (and its RoleBindings) in the Kustomization's namespace before it: kustomize-controller cannot impersonate an account that does not exist"),
            "this account",
        ));
    }
}

fn cross_namespace_source(k: &Object, out: &mut Vec<Finding>) {
    let ns = text(&k.value, &["spec", "sourceRef", "namespace"]);
    if !ns.is_empty() && ns != k.namespace() {
        out.push(Finding::new(
            &k.at_field(&["spec", "sourceRef", "namespace"]),
            Problem::error(
                Code::Lockdown,
                format!(
                    "{} reads its source from namespace `{ns}`; a cluster locked for tenants refuses references across namespaces",
                    k.id()
                ),
            )
            .help("put the source in the Kustomization's own namespace (`--no-cross-namespace-refs`)"),
            "another namespace",
        ));
    }
}

/// An object applied by a tenant's Kustomization outside what its account may write.
fn outside(
    o: &Object,
    a: &Applier,
    account: &str,
    allowed: &BTreeSet<String>,
    out: &mut Vec<Finding>,
) {
    let builtin = !o.group().contains('.') || o.group().ends_with(".k8s.io");
    let scoped = builtin && CLUSTER_SCOPED.contains(&o.kind());
    let ns = o.namespace();
    let what = if scoped {
        format!("the cluster-scoped {}", o.id())
    } else if !ns.is_empty() && !allowed.contains(ns) {
        format!("{} in namespace `{ns}`", o.id())
    } else {
        return;
    };
    let grants: Vec<&str> = allowed.iter().map(String::as_str).collect();
    let id = a.id.clone();
    out.push(Finding::new(
        &o.at,
        Problem::error(
            Code::Lockdown,
            format!(
                "{id} runs as tenant account `{account}` but applies {what}; its account may write only in `{}`",
                grants.join("`, `")
            ),
        )
        .help("move the object to the platform's Kustomizations, or grant the tenant that namespace (a RoleBinding for its account there)"),
        "outside the tenant",
    ));
}

/// Whether the entry's cluster runs Flux locked for tenants: the lockdown patch in its
/// `flux-system/kustomization.yaml`, or a FluxInstance with `multitenant: true`.
pub(crate) fn locked(plan: &Plan, entry_kustomization: Option<&str>) -> bool {
    let patched = entry_kustomization.is_some_and(|t| t.contains("--no-cross-namespace-refs=true"));
    let instance = plan
        .appliers
        .iter()
        .flat_map(|a| a.objects.iter())
        .any(|o| {
            o.kind() == "FluxInstance"
                && o.value
                    .pointer("/spec/cluster/multitenant")
                    .and_then(Json::as_bool)
                    == Some(true)
        });
    patched || instance
}
