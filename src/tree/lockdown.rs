//! Tenant lockdown, verified rather than assumed (`synctl::lockdown`): a Kustomization that
//! runs as a tenant's account (a `serviceAccountName` that is not one of Flux's controllers,
//! granted by RoleBindings of the tree) may only apply namespaced objects in the namespaces
//! where a RoleBinding grants that account (anywhere, when a ClusterRoleBinding does; an
//! account no binding of the tree names is granted outside it and not judged); its account
//! must exist where it runs; and on a cluster locked for tenants (Flux's
//! `--no-cross-namespace-refs`, or a FluxInstance with `multitenant: true`) its `sourceRef` may
//! not leave its namespace.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::Value as Json;

use super::Field as _;

use super::flux::{Applier, Plan};
use super::{Finding, Object, text};
use crate::diag::{Code, Problem};

/// Every lockdown proof over `plan`; `locked` says whether the entry's cluster runs Flux
/// locked for tenants.
pub(super) fn check(plan: &Plan, locked: bool, out: &mut Vec<Finding>) {
    let rbac = Rbac::of(plan);
    for a in &plan.appliers {
        let Some(k) = &a.object else {
            continue;
        };
        let account = text(k.value(), &["spec", "serviceAccountName"]);
        if account.is_empty() || crate::spec::schema::flux_component(account) {
            continue;
        }
        // The account is looked up where the Kustomization lives (its finalizer needs it there
        // even when `kubeConfig` sends the objects elsewhere).
        if !rbac
            .accounts
            .contains(&(a.home.as_str(), k.namespace(), account))
        {
            missing_account(a, k, account, out);
        }
        if locked {
            cross_namespace_source(k, out);
        }
        // With `kubeConfig`, the account is impersonated on the cluster the objects go to.
        let Some(allowed) = rbac.granted(&a.target, k.namespace(), account) else {
            continue;
        };
        for o in &a.objects {
            outside(o, a, account, allowed, out);
        }
    }
}

/// The accounts and what the bindings grant them, per cluster, read once from the plan.
struct Rbac<'a> {
    /// (cluster, namespace, name) of every ServiceAccount applied.
    accounts: HashSet<(&'a str, &'a str, &'a str)>,
    /// (cluster, namespace, name) of an account a binding names → whether a
    /// ClusterRoleBinding does, and the namespaces of the RoleBindings that do.
    grants: HashMap<(&'a str, &'a str, &'a str), (bool, BTreeSet<String>)>,
}

impl<'a> Rbac<'a> {
    fn of(plan: &'a Plan) -> Rbac<'a> {
        let mut rbac = Rbac {
            accounts: HashSet::new(),
            grants: HashMap::new(),
        };
        for b in &plan.appliers {
            let cluster = b.target.as_str();
            for o in &b.objects {
                if o.kind() == "ServiceAccount" && o.group().is_empty() {
                    rbac.accounts.insert((cluster, o.namespace(), o.name()));
                }
                let binding = matches!(o.kind(), "RoleBinding" | "ClusterRoleBinding");
                if !binding || o.group() != "rbac.authorization.k8s.io" {
                    continue;
                }
                let subjects = o.value().get("subjects").and_then(Json::as_array);
                for s in subjects.into_iter().flatten() {
                    if text(s, &["kind"]) != "ServiceAccount" {
                        continue;
                    }
                    let key = (cluster, text(s, &["namespace"]), text(s, &["name"]));
                    let grant = rbac.grants.entry(key).or_default();
                    if o.kind() == "ClusterRoleBinding" {
                        grant.0 = true;
                    } else {
                        grant.1.insert(o.namespace().to_owned());
                    }
                }
            }
        }
        rbac
    }

    /// The namespaces `account` (in `namespace`) may write on `cluster`; `None` for anywhere
    /// (a ClusterRoleBinding grants it) or unknown (no binding in the tree names it: it is
    /// granted outside, as a fleet cluster's platform account is at bootstrap).
    fn granted(
        &self,
        cluster: &'a str,
        namespace: &'a str,
        account: &'a str,
    ) -> Option<&BTreeSet<String>> {
        match self.grants.get(&(cluster, namespace, account)) {
            Some((false, namespaces)) if !namespaces.is_empty() => Some(namespaces),
            _ => None,
        }
    }
}

fn missing_account(a: &Applier, k: &Object, account: &str, out: &mut Vec<Finding>) {
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

fn cross_namespace_source(k: &Object, out: &mut Vec<Finding>) {
    let ns = text(k.value(), &["spec", "sourceRef", "namespace"]);
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
    let scoped = super::cluster_scoped(o);
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
                && o.value()
                    .field(&["spec", "cluster", "multitenant"])
                    .and_then(Json::as_bool)
                    == Some(true)
        });
    patched || instance
}
