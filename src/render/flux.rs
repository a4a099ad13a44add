//! Flux output: hub-and-spoke. Flux objects only ever live on the hub; what lands on a fleet
//! cluster goes through its kubeconfig (`spec.kubeConfig`). Per cluster the waves apply in
//! order, each wave's Kustomizations depending on the previous wave's.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value as Json, json};

use super::tenants;
use super::{Renderer, Tree, documents, kustomization, merge};
use crate::diag::Problem;
use crate::graph::Graph;
use crate::model::{Cluster, ComponentSource, Delivery, Fleet, Kubeconfig};
use crate::naming::{WavePlan, cluster_waves};

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

/// The `postBuild.substitute` of cluster `c`.
pub(super) fn substitutions(fleet: &Fleet, c: &Cluster) -> Json {
    let mut vars = BTreeMap::new();
    vars.insert("CLUSTER_NAME".to_owned(), c.name.clone());
    vars.insert("ENVIRONMENT".to_owned(), c.environment.clone());
    vars.insert("GIT_BRANCH".to_owned(), c.branch.clone());
    if !c.hub {
        match &c.kubeconfig {
            Kubeconfig::Secret { name, key } => {
                vars.insert("KUBECONFIG_SECRET".to_owned(), name.clone());
                vars.insert("KUBECONFIG_KEY".to_owned(), key.clone());
            }
            Kubeconfig::ConfigMap { name } => {
                vars.insert("KUBECONFIG_CONFIGMAP".to_owned(), name.clone());
            }
        }
    }
    let _ = fleet;
    for (k, v) in &c.vars {
        vars.insert(k.clone(), v.clone());
    }
    json!(vars)
}

/// The names of the Kustomizations one wave of a cluster produces (what the next wave waits for).
fn wave_names(fleet: &Fleet, plan: &WavePlan, hub: bool) -> Vec<String> {
    let w = &fleet.waves[plan.wave].name;
    let mut out = Vec::new();
    if has_remote(fleet, plan, hub) {
        out.push(w.clone());
    }
    if !hub && has_releases(fleet, plan) {
        out.push(format!("{w}-releases"));
    }
    out.extend(plan.paths.iter().map(|&p| fleet.components[p].name.clone()));
    out
}

/// Whether the wave's own Kustomization exists (hub: anything but paths; fleet: what reaches the cluster).
fn has_remote(fleet: &Fleet, plan: &WavePlan, hub: bool) -> bool {
    if hub {
        plan.has_main()
    } else {
        plan.has_remote(fleet)
    }
}

fn has_releases(fleet: &Fleet, plan: &WavePlan) -> bool {
    plan.has_releases(fleet)
}

fn clean_path(p: &str) -> String {
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
fn namespaces_per_wave(
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
        substitute: substitutions(fleet, cluster),
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
            docs.push(path_kustomization(fleet, r, &ks, p, &prev, plans, true)?);
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
fn path_kustomization(
    fleet: &Fleet,
    r: &Renderer,
    ks: &Ks<'_>,
    c: usize,
    prev: &[String],
    plans: &[WavePlan],
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
    let _ = plans;
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

fn env_overlays(
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
        if has_releases(fleet, plan) {
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
    json!({"target": {"kind": "HelmRelease"}, "patch": super::to_yaml(&patch, 0) + "\n"})
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
        out.push(json!({"target": {"kind": "HelmRelease", "name": comp.name}, "patch": super::to_yaml(&patch, 0) + "\n"}));
    }
    if let (Some(v), true) = (&o.version, oci) {
        let patch = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository", "metadata": {"name": comp.name}, "spec": {"ref": {"semver": v}}});
        out.push(json!({"target": {"kind": "OCIRepository", "name": comp.name}, "patch": super::to_yaml(&patch, 0) + "\n"}));
    }
    out
}

fn fleet_cluster(
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
        substitute: substitutions(fleet, cluster),
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
        if has_releases(fleet, plan) {
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
            waves.push(path_kustomization(fleet, r, &ks, p, &prev, plans, false)?);
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
