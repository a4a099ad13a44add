//! The fleet-cluster half of the Flux output: the environment overlays under `fleet/<env>/`
//! (shared by the environment's clusters; per-cluster values come from substitution) and
//! `hub/<cluster>.yaml` with the cluster's wave Kustomizations.

use std::collections::BTreeSet;

use serde_json::{Value as Json, json};

use super::super::tenants;
use super::super::{Renderer, Tree, documents, kustomization, merge};
use super::{Ks, clean_path, has_remote, namespaces_per_wave, path_kustomization, wave_names};
use crate::diag::Problem;
use crate::model::{ComponentSource, Delivery, Fleet, Kubeconfig};
use crate::naming::WavePlan;

pub(super) fn env_overlays(
    fleet: &Fleet,
    r: &Renderer,
    tree: &mut Tree,
    ci: usize,
    plans: &[WavePlan],
) -> Result<(), Problem> {
    let cluster = &fleet.clusters[ci];
    let env = &cluster.environment;
    let namespaces = namespaces_per_wave(fleet, r, plans)?;
    let first_wave = plans
        .first()
        .map_or("", |p| fleet.waves[p.wave].name.as_str());
    for (plan, ns_doc) in plans.iter().zip(namespaces) {
        let wave = &fleet.waves[plan.wave].name;
        let base = format!("fleet/{env}/{wave}");
        if has_remote(fleet, plan, false) {
            let mut resources = Vec::new();
            let mut patches = Vec::new();
            if let Some(ns_doc) = ns_doc {
                tree.insert(format!("{base}/remote/namespaces.yaml"), ns_doc);
                resources.push("namespaces.yaml".to_owned());
            }
            if !plan.tenants.is_empty() {
                tree.insert(
                    format!("{base}/remote/tenant-accounts.yaml"),
                    tenants::accounts_namespace(r)?,
                );
                resources.push("tenant-accounts.yaml".to_owned());
                resources.push("../../../../deploy/tenant-role".to_owned());
                for &t in &plan.tenants {
                    resources.push(format!(
                        "../../../../deploy/tenants/{}",
                        fleet.tenants[t].name
                    ));
                    patches.extend(tenants::remote_account_patches(&fleet.tenants[t]));
                }
            }
            if let Some(doc) = tenants::remote_apps(fleet, r, plan, Delivery::ArgoCd, first_wave)? {
                tree.insert(format!("{base}/remote/tenant-apps.yaml"), doc);
                resources.push("tenant-apps.yaml".to_owned());
            }
            tree.insert(
                format!("{base}/remote/kustomization.yaml"),
                kustomization(&resources, &patches),
            );
        }
        if plan.has_releases(fleet) {
            let mut resources: Vec<String> = plan
                .charts
                .iter()
                .map(|&c| format!("../../../../deploy/{wave}/{}", fleet.components[c].name))
                .collect();
            let mut patches = Vec::new();
            if !plan.charts.is_empty() {
                patches.push(kubeconfig_patch(&cluster.kubeconfig));
            }
            for &c in &plan.charts {
                patches.extend(env_patches(fleet, c, env));
            }
            if let Some(doc) = tenants::remote_apps(fleet, r, plan, Delivery::Flux, first_wave)? {
                tree.insert(format!("{base}/releases/tenant-apps.yaml"), doc);
                resources.push("tenant-apps.yaml".to_owned());
            }
            tree.insert(
                format!("{base}/releases/kustomization.yaml"),
                kustomization(&resources, &patches),
            );
        }
    }
    Ok(())
}

/// Points every HelmRelease of a releases overlay at the fleet cluster's kubeconfig.
fn kubeconfig_patch(kc: &Kubeconfig) -> Json {
    let kube = match kc {
        Kubeconfig::Secret { .. } => {
            json!({"secretRef": {"name": "${KUBECONFIG_SECRET}", "key": "${KUBECONFIG_KEY}"}})
        }
        Kubeconfig::ConfigMap { .. } => {
            json!({"configMapRef": {"name": "${KUBECONFIG_CONFIGMAP}"}})
        }
    };
    let patch = json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "all"}, "spec": {"kubeConfig": kube}});
    json!({"target": {"kind": "HelmRelease"}, "patch": super::super::to_yaml(&patch, 0) + "\n"})
}

/// The environment's overrides of component `c`: values (deep merge) and version.
fn env_patches(fleet: &Fleet, c: usize, env: &str) -> Vec<Json> {
    let comp = &fleet.components[c];
    let Some(o) = comp.environments.get(env) else {
        return Vec::new();
    };
    let ComponentSource::Chart { repository, .. } = &comp.source else {
        return Vec::new();
    };
    let oci = repository.starts_with("oci://");
    let mut spec = json!({});
    if let Some(values) = &o.values {
        merge(&mut spec, &json!({"values": values}));
    }
    if let (Some(v), false) = (&o.version, oci) {
        merge(&mut spec, &json!({"chart": {"spec": {"version": v}}}));
    }
    let mut out = Vec::new();
    if spec.as_object().is_some_and(|m| !m.is_empty()) {
        let patch = json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": comp.name}, "spec": spec});
        out.push(json!({"target": {"kind": "HelmRelease", "name": comp.name}, "patch": super::super::to_yaml(&patch, 0) + "\n"}));
    }
    if let (Some(v), true) = (&o.version, oci) {
        let patch = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository", "metadata": {"name": comp.name}, "spec": {"ref": {"semver": v}}});
        out.push(json!({"target": {"kind": "OCIRepository", "name": comp.name}, "patch": super::super::to_yaml(&patch, 0) + "\n"}));
    }
    out
}

pub(super) fn fleet_cluster(
    fleet: &Fleet,
    r: &Renderer,
    tree: &mut Tree,
    ci: usize,
    plans: &[WavePlan],
) -> Result<(), Problem> {
    let cluster = &fleet.clusters[ci];
    let env = &cluster.environment;
    let kubeconfig = match &cluster.kubeconfig {
        Kubeconfig::Secret { name, key } => json!({"secretRef": {"name": name, "key": key}}),
        Kubeconfig::ConfigMap { name } => json!({"configMapRef": {"name": name}}),
    };
    let ks = Ks {
        fleet,
        namespace: cluster.name.clone(),
        source: cluster.name.clone(),
        kubeconfig: Some(kubeconfig),
        substitute: json!(cluster.variables()),
    };
    let mut waves = Vec::new();
    let mut prev: Vec<String> = Vec::new();
    let mut sparse: BTreeSet<String> = ["deploy".to_owned(), format!("fleet/{env}")].into();
    for plan in plans {
        let wave = &fleet.waves[plan.wave].name;
        let mut this = Vec::new();
        if has_remote(fleet, plan, false) {
            waves.push(ks.object(
                r,
                wave,
                &format!("./fleet/{env}/{wave}/remote"),
                &prev,
                true,
                None,
            )?);
            this.push(wave.clone());
        }
        if plan.has_releases(fleet) {
            let deps: Vec<String> = prev.iter().chain(&this).cloned().collect();
            waves.push(ks.object(
                r,
                &format!("{wave}-releases"),
                &format!("./fleet/{env}/{wave}/releases"),
                &deps,
                false,
                Some(&cluster.name),
            )?);
        }
        for &p in &plan.paths {
            if let ComponentSource::Path(path) = &fleet.components[p].source {
                sparse.insert(clean_path(path));
            }
            waves.push(path_kustomization(fleet, r, &ks, p, &prev, false)?);
        }
        prev = wave_names(fleet, plan, false);
    }
    let hub_branch = fleet
        .hub()
        .map_or(fleet.repository.branch.as_str(), |h| h.branch.as_str());
    let split = cluster.branch != hub_branch;
    if split {
        sparse.insert(format!("fleet/{env}/clusters/{}", cluster.name));
    }
    let ns = r.object(
        "k8s/namespace.yaml.j2",
        &json!({"name": cluster.name, "labels": {"kustomize.toolkit.fluxcd.io/prune": "disabled"}}),
    )?;
    let git = r.object(
        "flux/gitrepository.yaml.j2",
        &json!({
            "name": cluster.name, "namespace": cluster.name, "interval": fleet.defaults.interval,
            "branch": cluster.branch, "secret_ref": fleet.repository.secret_ref, "sparse": sparse,
            "url": fleet.repository.url,
        }),
    )?;
    let mut docs = vec![ns, git];
    if split {
        let dir = format!("fleet/{env}/clusters/{}", cluster.name);
        let body = if waves.is_empty() {
            "# No waves hold anything for this cluster.\n".to_owned()
        } else {
            documents(&waves)
        };
        tree.insert(format!("{dir}/kustomizations.yaml"), body);
        tree.insert(
            format!("{dir}/kustomization.yaml"),
            kustomization(&["kustomizations.yaml".to_owned()], &[]),
        );
        let hub_ks = Ks {
            substitute: Json::Null,
            ..ks
        };
        docs.push(hub_ks.object(r, &cluster.name, &format!("./{dir}"), &[], false, None)?);
    } else {
        docs.extend(waves);
    }
    let header = format!(
        "# Fleet cluster `{}` (environment `{env}`, branch `{}`): reconciled from the hub through the\n# kubeconfig Secret it names; its Flux objects live in the hub namespace `{}`.\n",
        cluster.name, cluster.branch, cluster.name
    );
    tree.insert(
        format!("hub/{}.yaml", cluster.name),
        format!("{header}{}", documents(&docs)),
    );
    Ok(())
}
