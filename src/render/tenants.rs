//! Tenants: their boundaries (namespaces, account, RoleBinding, quota, limits, isolation) in
//! `deploy/tenants/<t>/`, and the delivery of their own repository — a Flux Kustomization
//! impersonating the tenant account, or an Argo CD AppProject + Application.

use serde_json::{Value as Json, json};

use super::{Renderer, Tree, documents, kustomization};
use crate::diag::{Code, Problem};
use crate::model::{Delivery, Fleet, Tenant};
use crate::naming::WavePlan;

/// `deploy/tenant-role/` and `deploy/tenants/<t>/` for every placed tenant.
pub(super) fn bases(fleet: &Fleet, r: &Renderer, tree: &mut Tree) -> Result<(), Problem> {
    if fleet.tenants.iter().any(|t| !t.clusters.is_empty()) {
        tree.insert(
            "deploy/tenant-role/role.yaml".to_owned(),
            r.object("k8s/tenant-role.yaml.j2", &json!({}))?,
        );
        tree.insert(
            "deploy/tenant-role/kustomization.yaml".to_owned(),
            kustomization(&["role.yaml".to_owned()], &[]),
        );
    }
    for t in fleet.tenants.iter().filter(|t| !t.clusters.is_empty()) {
        let namespaces: Vec<&str> = t.namespaces.iter().map(|(n, _)| n.as_str()).collect();
        let body = r.object(
            "k8s/tenant.yaml.j2",
            &json!({
                "tenant": t.name,
                "namespaces": namespaces,
                "account_namespace": namespaces[0],
                "quota": if t.quota.is_empty() { Json::Null } else { json!(t.quota) },
                "isolation": t.isolation,
            }),
        )?;
        let dir = format!("deploy/tenants/{}", t.name);
        tree.insert(format!("{dir}/tenant.yaml"), body);
        tree.insert(
            format!("{dir}/kustomization.yaml"),
            kustomization(&["tenant.yaml".to_owned()], &[]),
        );
    }
    Ok(())
}

/// On a fleet cluster Flux impersonates `system:serviceaccount:<cluster>:<tenant>`, so the
/// account lives in the namespace named like the cluster: move it there.
pub(super) fn remote_account_patches(t: &Tenant) -> Vec<Json> {
    let sa = "- op: replace\n  path: /metadata/namespace\n  value: ${CLUSTER_NAME}\n";
    let rb = "- op: replace\n  path: /subjects/0/namespace\n  value: ${CLUSTER_NAME}\n";
    vec![
        json!({"target": {"kind": "ServiceAccount", "name": t.name}, "patch": sa}),
        json!({"target": {"kind": "RoleBinding", "name": format!("{}-reconciler", t.name)}, "patch": rb}),
    ]
}

/// The namespace on a fleet cluster holding its tenants' accounts.
pub(super) fn accounts_namespace(r: &Renderer) -> Result<String, Problem> {
    r.object(
        "k8s/namespace.yaml.j2",
        &json!({"name": "${CLUSTER_NAME}", "labels": {"synctl.dev/tenant-accounts": "true"}}),
    )
}

fn flux_apps(
    fleet: &Fleet,
    r: &Renderer,
    t: &Tenant,
    namespace: Option<&str>,
    dep: Json,
    kubeconfig: Option<Json>,
) -> Result<String, Problem> {
    let Some(apps) = &t.apps else {
        return Ok(String::new());
    };
    let d = &fleet.defaults;
    let name = format!("tenant-{}", t.name);
    let ns = namespace.unwrap_or("flux-system");
    let git = r.object(
        "flux/gitrepository.yaml.j2",
        &json!({"name": name, "namespace": ns, "interval": d.interval, "branch": apps.branch,
                "secret_ref": apps.secret_ref, "sparse": Json::Null, "url": apps.url}),
    )?;
    let target = if t.namespaces.len() == 1 {
        Some(t.namespaces[0].0.as_str())
    } else {
        None
    };
    let ks = r.object(
        "flux/kustomization.yaml.j2",
        &json!({
            "name": name, "namespace": ns, "depends_on": [dep], "interval": d.interval,
            "retry_interval": d.retry_interval, "timeout": d.timeout, "kubeconfig": kubeconfig,
            "path": apps.path, "service_account": t.name, "source": name,
            "target_namespace": target, "wait": false, "substitute": Json::Null,
        }),
    )?;
    Ok(documents(&[git, ks]))
}

/// Hub tenants delivered by Flux in this wave: source and Kustomization in the tenant's first
/// namespace, after the hub's tenants wave.
pub(super) fn hub_apps(
    fleet: &Fleet,
    r: &Renderer,
    plan: &WavePlan,
    first: &WavePlan,
) -> Result<Option<String>, Problem> {
    let first_wave = &fleet.waves[first.wave].name;
    let mut docs = Vec::new();
    for &ti in &plan.apps {
        let t = &fleet.tenants[ti];
        match t.apps.as_ref().map(|a| a.delivery) {
            Some(Delivery::Flux) => docs.push(flux_apps(
                fleet,
                r,
                t,
                Some(&t.namespaces[0].0),
                json!({"name": first_wave, "namespace": "flux-system"}),
                None,
            )?),
            Some(Delivery::ArgoCd) => docs.push(argocd_apps(fleet, r, t)?),
            None => {}
        }
    }
    Ok(if docs.is_empty() {
        None
    } else {
        Some(documents(&docs))
    })
}

/// Fleet-cluster tenants of this wave delivered by `delivery`: by Flux, in the hub namespace
/// of the cluster (the releases overlay sets it), reaching the cluster through its kubeconfig;
/// by Argo CD, as plain manifests for the Argo CD running on that cluster (seed 000).
pub(super) fn remote_apps(
    fleet: &Fleet,
    r: &Renderer,
    plan: &WavePlan,
    delivery: Delivery,
    first_wave: &str,
) -> Result<Option<String>, Problem> {
    let mut docs = Vec::new();
    for &ti in &plan.apps {
        let t = &fleet.tenants[ti];
        if t.apps.as_ref().is_none_or(|a| a.delivery != delivery) {
            continue;
        }
        docs.push(match delivery {
            Delivery::Flux => {
                let kube = json!({"secretRef": {"name": "${KUBECONFIG_SECRET}", "key": "${KUBECONFIG_KEY}"}});
                flux_apps(fleet, r, t, None, json!({"name": first_wave}), Some(kube))?
            }
            Delivery::ArgoCd => argocd_apps(fleet, r, t)?,
        });
    }
    Ok(if docs.is_empty() {
        None
    } else {
        Some(documents(&docs))
    })
}

/// AppProject + Application of a tenant, for the Argo CD of the cluster it runs on.
pub(super) fn argocd_apps(fleet: &Fleet, r: &Renderer, t: &Tenant) -> Result<String, Problem> {
    let Some(apps) = &t.apps else {
        return Ok(String::new());
    };
    let ns = &fleet.argocd_namespace;
    let destinations: Vec<Json> = t
        .namespaces
        .iter()
        .map(|(n, _)| json!({"name": "in-cluster", "namespace": n}))
        .collect();
    let project = r.object(
        "argocd/appproject.yaml.j2",
        &json!({"name": t.name, "namespace": ns, "destinations": destinations, "repo": apps.url}),
    )?;
    let app = r.object(
        "argocd/application.yaml.j2",
        &json!({
            "name": format!("tenant-{}", t.name), "namespace": ns, "sync_wave": Json::Null, "project": t.name,
            "destination": {"name": "in-cluster", "namespace": t.namespaces[0].0},
            "source": {"repoURL": apps.url, "path": apps.path, "targetRevision": apps.branch},
            "retry": true, "retry_limit": fleet.argocd_retry_limit, "sync_options": Json::Null,
        }),
    )?;
    Ok(documents(&[project, app]))
}

/// Nothing under `hub/` may contain `${…}`: the bootstrap Kustomization has no postBuild.
pub(super) fn check_hub_substitutions(tree: &Tree) -> Vec<Problem> {
    tree.iter()
        .filter(|(p, body)| p.starts_with("hub/") && body.contains("${"))
        .map(|(p, _)| {
            Problem::error(
                Code::Substitution,
                "a `${…}` reached hub/, which Flux applies without substitution",
            )
            .in_file(p.clone())
            .help("this is a bug in synctl; please report it with the spec")
        })
        .collect()
}
