//! Flux output: hub-and-spoke. Flux objects only ever live on the hub; what lands on a fleet
//! cluster goes through its kubeconfig (`spec.kubeConfig`). Per cluster the waves apply in
//! order, each wave's Kustomizations depending on the previous wave's.

use std::collections::BTreeSet;

use serde_json::{Value as Json, json};

use super::tenants;
use super::{Renderer, Tree, documents, kustomization};
use crate::diag::Problem;
use crate::graph::Graph;
use crate::model::{ComponentSource, Fleet};
use crate::naming::{WavePlan, cluster_waves};

mod fleet;
use fleet::{env_overlays, fleet_cluster};

/// Settings shared by every Kustomization of one cluster.
pub(super) struct Ks<'a> {
    pub fleet: &'a Fleet,
    pub namespace: String,
    pub source: String,
    pub kubeconfig: Option<Json>,
    pub substitute: Json,
}

impl Ks<'_> {
    /// One Flux Kustomization.
    pub fn object(
        &self,
        r: &Renderer,
        name: &str,
        path: &str,
        deps: &[String],
        remote: bool,
        target_ns: Option<&str>,
    ) -> Result<String, Problem> {
        let d = &self.fleet.defaults;
        let timeout = super::format_duration(super::parse_duration(&d.timeout) * 2);
        r.object(
            "flux/kustomization.yaml.j2",
            &json!({
                "name": name,
                "namespace": self.namespace,
                "depends_on": deps.iter().map(|n| json!({"name": n})).collect::<Vec<_>>(),
                "interval": d.interval,
                "retry_interval": d.retry_interval,
                "timeout": timeout,
                "kubeconfig": if remote { self.kubeconfig.clone() } else { None },
                "path": path,
                "service_account": Json::Null,
                "source": self.source,
                "target_namespace": target_ns,
                "wait": true,
                "substitute": self.substitute,
            }),
        )
    }
}

/// The names of the Kustomizations one wave of a cluster produces (what the next wave waits for).
pub(super) fn wave_names(fleet: &Fleet, plan: &WavePlan, hub: bool) -> Vec<String> {
    let w = &fleet.waves[plan.wave].name;
    let mut out = Vec::new();
    if has_remote(fleet, plan, hub) {
        out.push(w.clone());
    }
    if !hub && plan.has_releases(fleet) {
        out.push(format!("{w}-releases"));
    }
    out.extend(plan.paths.iter().map(|&p| fleet.components[p].name.clone()));
    out
}

/// Whether the wave's own Kustomization exists (hub: anything but paths; fleet: what reaches the cluster).
pub(super) fn has_remote(fleet: &Fleet, plan: &WavePlan, hub: bool) -> bool {
    if hub {
        plan.has_main()
    } else {
        plan.has_remote(fleet)
    }
}

pub(super) fn clean_path(p: &str) -> String {
    p.trim_start_matches("./").trim_end_matches('/').to_owned()
}

/// Renders the Flux tree.
pub(super) fn render(
    fleet: &Fleet,
    graph: &Graph,
    r: &Renderer,
    tree: &mut Tree,
) -> Result<(), Vec<Problem>> {
    let mut problems = Vec::new();
    let mut run = |res: Result<(), Problem>| {
        if let Err(p) = res {
            problems.push(p);
        }
    };
    run(bases(fleet, r, tree));
    run(tenants::bases(fleet, r, tree));
    let mut envs_done = BTreeSet::new();
    for (ci, cluster) in fleet.clusters.iter().enumerate() {
        let plans = cluster_waves(fleet, &graph.order, ci);
        if cluster.hub {
            run(hub_cluster(fleet, r, tree, ci, &plans));
        } else {
            if envs_done.insert(cluster.environment.clone()) {
                run(env_overlays(fleet, r, tree, ci, &plans));
            }
            run(fleet_cluster(fleet, r, tree, ci, &plans));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// `deploy/<wave>/<component>/`: the chart source and the HelmRelease, as on the hub.
fn bases(fleet: &Fleet, r: &Renderer, tree: &mut Tree) -> Result<(), Problem> {
    let d = &fleet.defaults;
    for comp in &fleet.components {
        let ComponentSource::Chart {
            repository,
            name,
            version,
        } = &comp.source
        else {
            continue;
        };
        if comp.clusters.is_empty() {
            continue;
        }
        let oci = repository.starts_with("oci://");
        let source = if oci {
            r.object(
                "flux/ocirepository.yaml.j2",
                &json!({"name": comp.name, "interval": d.interval, "url": format!("{repository}/{name}"), "version": version}),
            )?
        } else {
            r.object(
                "flux/helmrepository.yaml.j2",
                &json!({"name": comp.name, "interval": d.interval, "url": repository}),
            )?
        };
        let deps: Vec<Json> = comp
            .depends_on
            .iter()
            .map(|dep| &fleet.components[dep.index])
            .filter(|dc| dc.wave == comp.wave && matches!(dc.source, ComponentSource::Chart { .. }))
            .map(|dc| json!({"name": dc.name}))
            .collect();
        let values = if comp.values.as_object().is_some_and(|m| !m.is_empty()) {
            comp.values.clone()
        } else {
            Json::Null
        };
        let release = r.object(
            "flux/helmrelease.yaml.j2",
            &json!({
                "name": comp.name, "oci": oci, "chart": name, "version": version, "depends_on": deps,
                "interval": d.interval, "namespace": comp.namespace, "timeout": d.timeout, "values": values,
            }),
        )?;
        let dir = format!("deploy/{}/{}", fleet.waves[comp.wave].name, comp.name);
        tree.insert(format!("{dir}/release.yaml"), documents(&[source, release]));
        tree.insert(
            format!("{dir}/kustomization.yaml"),
            kustomization(&["release.yaml".to_owned()], &[]),
        );
    }
    Ok(())
}

/// Namespaces that exist before synctl and must never become objects of a Kustomization.
const SYSTEM_NAMESPACES: &[&str] = &["default", "flux-system"];

/// Namespace objects for the charts of each wave of `cluster`, each created in the first wave
/// that needs it.
pub(super) fn namespaces_per_wave(
    fleet: &Fleet,
    r: &Renderer,
    plans: &[WavePlan],
) -> Result<Vec<Option<String>>, Problem> {
    let mut created = BTreeSet::new();
    let mut out = Vec::new();
    for plan in plans {
        let mut docs = Vec::new();
        let names: BTreeSet<&str> = plan
            .charts
            .iter()
            .map(|&c| fleet.components[c].namespace.as_str())
            .collect();
        for ns in names {
            // Namespaces Kubernetes or Flux own are never made objects of a Kustomization:
            // pruning them would take the cluster (or Flux itself) down.
            if SYSTEM_NAMESPACES.contains(&ns) || ns.starts_with("kube-") {
                continue;
            }
            if created.insert(ns) {
                docs.push(r.object("k8s/namespace.yaml.j2", &json!({"name": ns, "labels": {}}))?);
            }
        }
        out.push(if docs.is_empty() {
            None
        } else {
            Some(documents(&docs))
        });
    }
    Ok(out)
}

fn hub_cluster(
    fleet: &Fleet,
    r: &Renderer,
    tree: &mut Tree,
    ci: usize,
    plans: &[WavePlan],
) -> Result<(), Problem> {
    let cluster = &fleet.clusters[ci];
    let ks = Ks {
        fleet,
        namespace: "flux-system".to_owned(),
        source: fleet.hub_source_ref.clone(),
        kubeconfig: None,
        substitute: json!(cluster.variables()),
    };
    let namespaces = namespaces_per_wave(fleet, r, plans)?;
    let mut docs = Vec::new();
    let mut prev: Vec<String> = Vec::new();
    for (plan, ns_doc) in plans.iter().zip(namespaces) {
        let wave = &fleet.waves[plan.wave].name;
        if plan.has_main() {
            let dir = format!("platform/{wave}");
            let mut resources = Vec::new();
            if let Some(ns_doc) = ns_doc {
                tree.insert(format!("{dir}/namespaces.yaml"), ns_doc);
                resources.push("namespaces.yaml".to_owned());
            }
            if !plan.tenants.is_empty() {
                resources.push("../../deploy/tenant-role".to_owned());
            }
            resources.extend(
                plan.tenants
                    .iter()
                    .map(|&t| format!("../../deploy/tenants/{}", fleet.tenants[t].name)),
            );
            resources.extend(
                plan.charts
                    .iter()
                    .map(|&c| format!("../../deploy/{wave}/{}", fleet.components[c].name)),
            );
            if let Some(apps) = tenants::hub_apps(fleet, r, plan, &plans[0])? {
                tree.insert(format!("{dir}/tenant-apps.yaml"), apps);
                resources.push("tenant-apps.yaml".to_owned());
            }
            tree.insert(
                format!("{dir}/kustomization.yaml"),
                kustomization(&resources, &[]),
            );
            docs.push(ks.object(r, wave, &format!("./{dir}"), &prev, false, None)?);
        }
        for &p in &plan.paths {
            docs.push(path_kustomization(fleet, r, &ks, p, &prev, true)?);
        }
        prev = wave_names(fleet, plan, true);
    }
    let header = format!(
        "# Flux Kustomizations of the hub cluster `{}`, one per wave, applied in order.\n",
        cluster.name
    );
    let body = if docs.is_empty() {
        "# No waves hold anything for this cluster.\n".to_owned()
    } else {
        documents(&docs)
    };
    tree.insert(
        format!("hub/{}.yaml", cluster.name),
        format!("{header}{body}"),
    );
    Ok(())
}

/// The Kustomization of a `path:` component: after its dependencies and the previous wave.
pub(super) fn path_kustomization(
    fleet: &Fleet,
    r: &Renderer,
    ks: &Ks<'_>,
    c: usize,
    prev: &[String],
    hub: bool,
) -> Result<String, Problem> {
    let comp = &fleet.components[c];
    let ComponentSource::Path(path) = &comp.source else {
        return Err(Problem::error(
            crate::diag::Code::Internal,
            "a chart was rendered as a path: this is a bug in synctl",
        ));
    };
    let mut deps: BTreeSet<String> = prev.iter().cloned().collect();
    for dep in &comp.depends_on {
        let d = &fleet.components[dep.index];
        match d.source {
            ComponentSource::Path(_) => deps.insert(d.name.clone()),
            ComponentSource::Chart { .. } => {
                let w = &fleet.waves[d.wave].name;
                deps.insert(if hub {
                    w.clone()
                } else {
                    format!("{w}-releases")
                })
            }
        };
    }
    let deps: Vec<String> = deps.into_iter().collect();
    ks.object(
        r,
        &comp.name,
        &format!("./{}", clean_path(path)),
        &deps,
        !hub,
        None,
    )
}
