//! Tenants in the Flux layout: their bases under `deploy/` (namespaces, accounts, role
//! bindings, quota, network policy), their entries' sources and Kustomizations (or Argo CD
//! Applications), and the accounts and variables those read.

use std::collections::BTreeSet;

use serde_json::{Value as Json, json};

use super::docs::{Content, DependsOn, Doc, GitRepository, Kustomization};
use super::waves::WavePlan;
use super::{Builder, Item};
use crate::model::{Delivery, Fleet, Tenant, defaults};

/// `deploy/tenant-role/` and `deploy/tenants/<t>/` for every placed tenant (both engines).
pub(super) fn tenant_bases(b: &mut Builder<'_>) {
    let fleet = b.fleet;
    let placed: Vec<usize> = (0..fleet.tenants.len())
        .filter(|&t| !fleet.tenants[t].clusters.is_empty())
        .collect();
    if placed.is_empty() {
        return;
    }
    let everywhere: BTreeSet<usize> = placed
        .iter()
        .flat_map(|&t| fleet.tenants[t].clusters.iter().copied())
        .collect();
    // The generated ClusterRole, for the tenants bound to it (the default role).
    let reconcilers: Vec<usize> = placed
        .iter()
        .copied()
        .filter(|&t| fleet.tenants[t].role == crate::model::TenantRole::Reconciler)
        .collect();
    if !reconcilers.is_empty() {
        let sources: Vec<Item> = reconcilers.iter().map(|&t| Item::Tenant(t)).collect();
        b.file(
            "deploy/tenant-role/role.yaml".to_owned(),
            Item::Fleet,
            sources.clone(),
            everywhere.clone(),
            Content::docs(vec![Doc::TenantRole]),
        );
        b.file(
            "deploy/tenant-role/kustomization.yaml".to_owned(),
            Item::Fleet,
            sources,
            everywhere,
            Content::resources(vec!["role.yaml".to_owned()]),
        );
    }
    for t in placed {
        let tenant = &fleet.tenants[t];
        let dir = format!("deploy/tenants/{}", tenant.name);
        let owner = Item::Tenant(t);
        let clusters = tenant.clusters.iter().copied();
        b.file(
            format!("{dir}/tenant.yaml"),
            owner,
            [],
            clusters.clone(),
            Content::docs(vec![Doc::Tenant(Box::new(tenant_doc(tenant)))]),
        );
        b.file(
            format!("{dir}/kustomization.yaml"),
            owner,
            [],
            clusters,
            Content::resources(vec!["tenant.yaml".to_owned()]),
        );
    }
}

/// Tenant `t`'s namespaces and what is in each (template `k8s/tenant.yaml.j2`).
fn tenant_doc(t: &Tenant) -> super::docs::Tenant {
    let mut labels = t.namespace_labels.clone();
    labels.insert(defaults::TENANT_LABEL.to_owned(), t.name.clone());
    super::docs::Tenant {
        tenant: t.name.clone(),
        namespaces: t.namespaces.iter().map(|(n, _)| n.clone()).collect(),
        // With `fluxNamespace: tenant` the accounts in the tenant's namespaces are the ones.
        account_namespace: if t.in_own_namespace.is_some() {
            String::new()
        } else {
            defaults::TENANT_ACCOUNT_NAMESPACE.to_owned()
        },
        quota: (!t.quota.is_empty()).then(|| t.quota.clone()),
        isolation: t.isolation == crate::model::Isolation::Namespace,
        role: t.role.cluster_role().to_owned(),
        cluster_admin: t.role == crate::model::TenantRole::ClusterAdmin,
        subjects: t.subjects.clone(),
        labels,
        annotations: t.namespace_annotations.clone(),
    }
}

/// With `forceServiceAccount` (N6): every HelmRelease and Kustomization the entry applies runs
/// as the tenant.
fn account_patches(t: &Tenant, force: bool) -> Vec<Json> {
    if !force {
        return Vec::new();
    }
    vec![json!({
        "target": {"kind": "(HelmRelease|Kustomization)"},
        "patch": format!("- op: add\n  path: /spec/serviceAccountName\n  value: {}\n", t.name),
    })]
}

/// The GitRepository and Kustomization of entry `e` of tenant `t` (`tenant-<t>[-<e>]`),
/// reconciled under the tenant's account (fleet model N3–N6). `deps` is what the entry's wave
/// waits for; the entry also waits for the entries it `dependsOn`. `on_shard`: the shard of a
/// standalone cluster's controllers that reconciles the tenant's entries.
pub(super) fn tenant_flux_apps(
    fleet: &Fleet,
    t: &Tenant,
    e: usize,
    namespace: &str,
    deps: &[String],
    kubeconfig: Option<Json>,
    on_shard: Option<&str>,
) -> Vec<Doc> {
    let apps = &t.apps[e];
    let d = &fleet.defaults;
    let name = t.entry_name(e);
    // Entries of one tenant with one repository (and placement) share the first's source.
    let shared = t.apps[..e].iter().position(|o| {
        (&o.url, &o.branch, &o.secret_ref) == (&apps.url, &apps.branch, &apps.secret_ref)
            && o.clusters == apps.clusters
            && o.delivery == apps.delivery
    });
    let source = shared.map_or_else(|| name.clone(), |f| t.entry_name(f));
    let mut docs = Vec::new();
    if shared.is_none() {
        docs.push(Doc::GitRepository(Box::new(GitRepository {
            name: name.clone(),
            namespace: namespace.to_owned(),
            // (On a fleet cluster, the hub's wave applying it labels it for the cluster's shard.)
            shard: on_shard.map(str::to_owned),
            interval: apps.source_interval.as_ref().map_or_else(
                || apps.interval.clone().unwrap_or_else(|| d.interval.clone()),
                |s| s.0.clone(),
            ),
            branch: apps.branch.clone(),
            secret_ref: apps.secret_ref.clone(),
            sparse: None,
            url: apps.url.clone(),
        })));
    }
    let target = apps
        .namespace
        .clone()
        .or_else(|| (t.namespaces.len() == 1).then(|| t.namespaces[0].0.clone()));
    let patches = account_patches(t, apps.force_service_account);
    let ks = Kustomization {
        name,
        namespace: namespace.to_owned(),
        shard: on_shard.map(str::to_owned),
        // What the tenant's repository holds stays on the main controllers.
        label_applied: false,
        depends_on: entry_depends_on(t, e, deps),
        interval: apps.interval.clone().unwrap_or_else(|| d.interval.clone()),
        retry_interval: apps
            .retry_interval
            .clone()
            .unwrap_or_else(|| d.retry_interval.clone()),
        timeout: apps.timeout.clone().unwrap_or_else(|| d.timeout.clone()),
        kubeconfig: kubeconfig.map(std::sync::Arc::new),
        path: apps.path.clone(),
        service_account: Some(t.name.clone()),
        source,
        target_namespace: target,
        wait: false,
        substitute: None,
        patches,
        decryption: None,
        substitute_from: if apps.substitute {
            vec![serde_json::json!({"kind": "ConfigMap", "name": SYNCTL_VARS})]
        } else {
            Vec::new()
        },
        health_checks: Vec::new(),
        extra: apps
            .flux_spec
            .as_ref()
            .map(crate::spec::yaml::Node::to_json),
    };
    docs.push(Doc::Kustomization(Box::new(ks)));
    docs
}

/// What entry `e` of tenant `t` waits for: `deps` (the waves before it), then the entries it
/// names in `dependsOn`.
fn entry_depends_on(t: &Tenant, e: usize, deps: &[String]) -> Vec<DependsOn> {
    let mut depends_on: Vec<String> = deps.to_vec();
    for dep in &t.apps[e].depends_on {
        let n = t.entry_name(dep.index);
        if !depends_on.contains(&n) {
            depends_on.push(n);
        }
    }
    depends_on
        .into_iter()
        .map(|name| DependsOn {
            name,
            namespace: None,
        })
        .collect()
}

/// The ConfigMap of a cluster's built-ins and vars that `substitute: true` entries read (N4).
pub(super) const SYNCTL_VARS: &str = "synctl-vars";

/// ConfigMap `synctl-vars` in `namespace` when an entry placed on `cluster` substitutes.
pub(super) fn synctl_vars(fleet: &Fleet, cluster: usize, namespace: &str) -> Option<Doc> {
    let substitutes = fleet.tenants.iter().any(|t| {
        t.apps
            .iter()
            .any(|a| a.substitute && a.clusters.binary_search(&cluster).is_ok())
    });
    if !substitutes {
        return None;
    }
    let c = &fleet.clusters[cluster];
    let mut data = c.variables();
    data.retain(|k, _| !k.starts_with("KUBECONFIG_"));
    Some(Doc::ConfigMap {
        name: SYNCTL_VARS.to_owned(),
        namespace: namespace.to_owned(),
        data,
    })
}

/// The AppProject of a tenant and the Application of its entry `e`, for the Argo CD of the
/// cluster it runs on (`project`: whether this file also carries the AppProject).
pub(super) fn tenant_argocd_apps(fleet: &Fleet, t: &Tenant, e: usize, project: bool) -> Vec<Doc> {
    let apps = &t.apps[e];
    let ns = &fleet.argocd_namespace;
    let mut docs = Vec::new();
    if project {
        docs.push(Doc::AppProject {
            name: t.name.clone(),
            namespace: ns.clone(),
            sync_wave: None,
            destinations: t
                .namespaces
                .iter()
                .map(|(n, _)| ("in-cluster".to_owned(), n.clone()))
                .collect(),
            repos: tenant_repos(t),
            cluster_admin: t.role == crate::model::TenantRole::ClusterAdmin,
            component: false,
        });
    }
    let target = apps
        .namespace
        .clone()
        .or_else(|| t.namespaces.first().map(|(n, _)| n.clone()));
    let source = super::AppSource::Git {
        repo_url: apps.url.clone(),
        path: apps.path.clone(),
        revision: apps.branch.clone(),
    };
    docs.push(Doc::Application(Box::new(super::Application::new(
        t.entry_name(e),
        ns.clone(),
        t.name.clone(),
        ("in-cluster".to_owned(), target),
        source,
        fleet.argocd_retry_limit,
    ))));
    docs
}

/// The repositories a tenant's AppProject admits: its entries' URLs, each once.
pub(super) fn tenant_repos(t: &Tenant) -> Vec<String> {
    let mut repos: Vec<String> = Vec::new();
    for a in &t.apps {
        if !repos.contains(&a.url) {
            repos.push(a.url.clone());
        }
    }
    repos
}

/// Whether any of `tenants` is bound to the generated ClusterRole.
pub(super) fn needs_tenant_role(fleet: &Fleet, tenants: &[usize]) -> bool {
    tenants
        .iter()
        .any(|&t| fleet.tenants[t].role == crate::model::TenantRole::Reconciler)
}

/// What a tenant entry waits for (N5): every Kustomization of the cluster's first wave (its
/// namespaces and account) and of the last non-empty wave before its own (the controllers its
/// manifests need).
pub(super) fn tenant_deps(first: &[String], prev: &[String]) -> Vec<String> {
    let mut out: Vec<String> = first.to_vec();
    for p in prev {
        if !out.contains(p) {
            out.push(p.clone());
        }
    }
    out
}

/// The ServiceAccounts of the tenants placed on a cluster, in the namespace its Kustomizations
/// live in (A(K)); never pruned, since a Kustomization's finalizer needs its account.
pub(super) fn tenant_accounts(fleet: &Fleet, cluster: usize, namespace: &str) -> Vec<Doc> {
    fleet
        .tenants
        .iter()
        // With `fluxNamespace: tenant` the account in each tenant namespace is the one used.
        .filter(|t| t.clusters.binary_search(&cluster).is_ok() && t.in_own_namespace.is_none())
        .map(|t| Doc::ServiceAccount {
            name: t.name.clone(),
            namespace: namespace.to_owned(),
            labels: [
                (
                    "kustomize.toolkit.fluxcd.io/prune".to_owned(),
                    "disabled".to_owned(),
                ),
                ("toolkit.fluxcd.io/tenant".to_owned(), t.name.clone()),
            ]
            .into(),
        })
        .collect()
}

/// Tenant entries of a Flux-running cluster delivered in this wave: by Flux, source and
/// Kustomization in `flux-system` (where their account is) or, with `fluxNamespace: tenant`,
/// in the entry's own namespace; by Argo CD, AppProject (with the
/// tenant's first such entry on the cluster) + Application.
pub(super) fn local_tenant_apps(
    fleet: &Fleet,
    cluster: usize,
    plan: &WavePlan,
    deps: &[String],
) -> Vec<Doc> {
    let mut docs = Vec::new();
    for &(ti, e) in &plan.apps {
        let t = &fleet.tenants[ti];
        // A sharded standalone cluster's shard of the tenant (the hub's shards take fleet
        // clusters: its own tenants stay on the main controllers).
        let shard = fleet.clusters[cluster]
            .tenant_shards
            .get(&ti)
            .map(String::as_str);
        match t.apps[e].delivery {
            // In the tenant's own namespace, the entry waits only for the wave that applies
            // it (no reference leaves the namespace: Flux's `--no-cross-namespace-refs`).
            Delivery::Flux => match t.flux_namespace(e) {
                Some(ns) if ns == "flux-system" => {
                    docs.extend(tenant_flux_apps(fleet, t, e, &ns, deps, None, shard));
                }
                Some(ns) => docs.extend(tenant_flux_apps(fleet, t, e, &ns, &[], None, shard)),
                None => {}
            },
            Delivery::ArgoCd => {
                let project = first_argocd_entry(t, cluster) == Some(e);
                docs.extend(tenant_argocd_apps(fleet, t, e, project));
            }
        }
    }
    docs
}

/// The tenant's first Argo CD entry placed on `cluster` (its file carries the AppProject).
pub(super) fn first_argocd_entry(t: &Tenant, cluster: usize) -> Option<usize> {
    t.apps
        .iter()
        .position(|a| a.delivery == Delivery::ArgoCd && a.clusters.binary_search(&cluster).is_ok())
}

/// Records the objects of entry `e` of tenant `t` on the cluster being laid out.
pub(super) fn record_tenant_apps(
    b: &mut Builder<'_>,
    t: usize,
    e: usize,
    namespace: &str,
    file: &str,
) {
    let fleet = b.fleet;
    let tenant = &fleet.tenants[t];
    let name = tenant.entry_name(e);
    match tenant.apps[e].delivery {
        Delivery::Flux => {
            b.object("GitRepository", namespace, &name, file, Item::Tenant(t));
            b.object("Kustomization", namespace, &name, file, Item::Tenant(t));
        }
        Delivery::ArgoCd => {
            let ns = &fleet.argocd_namespace;
            b.object("Application", ns, &name, file, Item::Tenant(t));
        }
    }
}

/// Fleet-cluster tenants of this wave delivered by `delivery`: by Flux, in the hub namespace
/// of the cluster (the releases overlay sets it), reaching the cluster through its kubeconfig;
/// by Argo CD, as plain manifests for the Argo CD running on that cluster (seed 000).
pub(super) fn remote_tenant_apps(
    fleet: &Fleet,
    cluster: usize,
    plan: &WavePlan,
    delivery: Delivery,
    deps: &[String],
) -> Vec<Doc> {
    let mut docs = Vec::new();
    for &(ti, e) in &plan.apps {
        let t = &fleet.tenants[ti];
        if t.apps[e].delivery != delivery {
            continue;
        }
        docs.extend(match delivery {
            Delivery::Flux => {
                let kube = json!({"secretRef": {"name": "${KUBECONFIG_SECRET}", "key": "${KUBECONFIG_KEY}"}});
                tenant_flux_apps(fleet, t, e, "flux-system", deps, Some(kube), None)
            }
            Delivery::ArgoCd => {
                let project = first_argocd_entry(t, cluster) == Some(e);
                tenant_argocd_apps(fleet, t, e, project)
            }
        });
    }
    docs
}
