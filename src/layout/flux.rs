//! Flux, hub and spoke: the bases under `deploy/`, the hub's waves under `platform/` and its
//! Kustomizations in `hub/<hub>.yaml`. Fleet clusters are in [`super::flux_fleet`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value as Json, json};

use super::docs::{Content, DependsOn, Doc, Kustomization};
use super::tenants::tenant_bases;
use super::waves::{WavePlan, cluster_waves};
use super::{Builder, Item, system_namespace};
use super::{flux_fleet, flux_local};
use crate::duration::{format_duration, parse_duration};
use crate::graph::Graph;
use crate::model::{ComponentSource, Fleet};

pub(super) fn lay_out(b: &mut Builder<'_>, graph: &Graph, listing: &dyn Fn(&str) -> Vec<String>) {
    let fleet = b.fleet;
    bases(b);
    tenant_bases(b);

    // Computed once: a lookup per cluster would make the layout quadratic in clusters.
    let environments = fleet.environments();
    let hub_branch = fleet
        .hub()
        .map_or(fleet.repository.branch.as_str(), |h| h.branch.as_str());
    let mut envs_done = BTreeSet::new();
    let recorded = record_fleet_clusters(b, graph, hub_branch, &environments, &mut envs_done);
    // Room for every recorded object at once, made before the first replay (after the hub's
    // own, which come first): a vector doubling its way to tens of thousands of objects
    // copies them into fresh memory each time.
    let mut unreserved = Some(
        recorded
            .iter()
            .flatten()
            .filter(|r| matches!(r, super::Recorded::Object(_)))
            .count(),
    );
    let mut recorded = recorded.into_iter();
    for (ci, cluster) in fleet.clusters.iter().enumerate() {
        if cluster.is_fleet() {
            if let Some(objects) = unreserved.take() {
                b.layout.objects.reserve(objects);
            }
            b.replay(recorded.next().unwrap_or_default());
            continue;
        }
        let plans = cluster_waves(fleet, &graph.order, ci);
        // What the cluster's own Flux holds: itself (a fleet cluster's is on the hub).
        b.scope = Some(ci);
        // The sync Kustomization `flux bootstrap` (or the FluxInstance) writes.
        b.object(
            "Kustomization",
            "flux-system",
            &fleet.hub_source_ref,
            "flux-system/",
            Item::Fleet,
        );
        if cluster.is_hub() {
            flux_local::hub(b, ci, &plans);
        } else if cluster.is_standalone() {
            let env = cluster.environment.as_str();
            if envs_done.insert(env) {
                let members = environments.get(env).map_or(&[][..], Vec::as_slice);
                flux_local::standalone_overlays(b, ci, members, &plans);
            }
            let entry = cluster.folder();
            flux_local::standalone(b, ci, &plans, &listing(&entry));
        }
    }
}

/// Fleet clusters only record files and objects: they are laid out on every core, each with
/// its environment's overlays when it is the first of it (`envs_done` then holds it), to be
/// replayed in cluster order.
fn record_fleet_clusters<'f>(
    b: &mut Builder<'f>,
    graph: &Graph,
    hub_branch: &str,
    environments: &BTreeMap<&'f str, Vec<usize>>,
    envs_done: &mut BTreeSet<&'f str>,
) -> Vec<Vec<super::Recorded>> {
    let fleet = b.fleet;
    let jobs: Vec<(usize, Option<&[usize]>)> = fleet
        .clusters
        .iter()
        .enumerate()
        .filter(|(_, c)| c.is_fleet())
        .map(|(ci, c)| {
            let env = c.environment.as_str();
            let first = envs_done.insert(env);
            let members = first.then(|| environments.get(env).map_or(&[][..], Vec::as_slice));
            (ci, members)
        })
        .collect();
    let hub = fleet.hub_index();
    if !jobs.is_empty() {
        b.defer_with(&graph.order, hub_branch);
    }
    crate::par::map(&jobs, |&(ci, members)| {
        let plans = cluster_waves(fleet, &graph.order, ci);
        // A fleet cluster's Flux objects are held by the hub's Flux.
        let mut local = Builder::recording(fleet, Some(hub.unwrap_or(ci))).deferring();
        if let Some(members) = members {
            flux_fleet::env_overlays(&mut local, ci, members, &plans);
        }
        flux_fleet::fleet_cluster(&mut local, ci, hub_branch, &plans);
        local.into_recorded()
    })
}

/// `deploy/<wave>/<component>/`: the chart source and the HelmRelease, as on the hub.
fn bases(b: &mut Builder<'_>) {
    let fleet = b.fleet;
    for (ci, comp) in fleet.components.iter().enumerate() {
        if !matches!(comp.source, ComponentSource::Chart { .. }) || comp.clusters.is_empty() {
            continue;
        }
        let depends_on: Vec<String> = comp
            .depends_on
            .iter()
            .map(|dep| &fleet.components[dep.index])
            .filter(|dc| dc.wave == comp.wave && matches!(dc.source, ComponentSource::Chart { .. }))
            .map(|dc| dc.name.clone())
            .collect();
        let dir = format!("deploy/{}/{}", fleet.waves[comp.wave].name, comp.name);
        let owner = Item::Component(ci);
        let sources = [Item::Wave(comp.wave)];
        let release = format!("{dir}/release.yaml");
        b.object("HelmRelease", "flux-system", &comp.name, &release, owner);
        let docs = super::release::release(fleet, ci, depends_on)
            .map(|r| Doc::Release(Box::new(r)))
            .into_iter()
            .collect();
        b.file(
            release,
            owner,
            sources,
            comp.clusters.iter().copied(),
            Content::docs(docs),
        );
        b.file(
            format!("{dir}/kustomization.yaml"),
            owner,
            sources,
            comp.clusters.iter().copied(),
            Content::resources(vec!["release.yaml".to_owned()]),
        );
    }
}

/// Settings shared by every Kustomization of one cluster.
pub(super) struct Ks<'a> {
    pub fleet: &'a Fleet,
    pub namespace: String,
    pub source: String,
    pub kubeconfig: Option<std::sync::Arc<Json>>,
    pub substitute: Option<std::sync::Arc<std::collections::BTreeMap<String, String>>>,
    /// The account every Kustomization of the cluster runs as (fleet model section 3).
    pub account: Option<String>,
    /// The hub's shard that reconciles the cluster's objects (a sharded hub's fleet cluster).
    pub shard: Option<String>,
}

impl Ks<'_> {
    /// One wave or component Kustomization of `path` (relative to the output root): `wait`,
    /// with twice the HelmReleases' timeout.
    pub(super) fn object(
        &self,
        name: &str,
        path: &str,
        deps: &[String],
        remote: bool,
        target_namespace: Option<&str>,
    ) -> Kustomization {
        let d = &self.fleet.defaults;
        Kustomization {
            name: name.to_owned(),
            namespace: self.namespace.clone(),
            shard: self.shard.clone(),
            // Without a kubeconfig it applies on the hub.
            label_applied: !remote,
            depends_on: deps
                .iter()
                .map(|n| DependsOn {
                    name: n.clone(),
                    namespace: None,
                })
                .collect(),
            interval: d.interval.clone(),
            retry_interval: d.retry_interval.clone(),
            timeout: format_duration(parse_duration(&d.timeout) * 2),
            kubeconfig: if remote {
                self.kubeconfig.clone()
            } else {
                None
            },
            // Relative to the output root in, from the repository root out (R1).
            path: format!("./{}", self.fleet.repository.repo_path(path)),
            service_account: self.account.clone(),
            source: self.source.clone(),
            target_namespace: target_namespace.map(str::to_owned),
            wait: true,
            substitute: self.substitute.clone(),
            patches: Vec::new(),
            decryption: None,
            substitute_from: Vec::new(),
            health_checks: Vec::new(),
            extra: None,
        }
    }
}

/// The timeout of a wave's Kustomization (fleet model K5): twice the longest HelmRelease
/// action it applies (its `timeout`, doubled when Helm tests run), at least twice
/// `defaults.timeout`.
pub(super) fn wave_timeout(fleet: &Fleet, plan: &WavePlan, env: Option<&str>) -> String {
    let floor = parse_duration(&fleet.defaults.timeout);
    let longest = plan
        .charts
        .iter()
        .map(|&c| {
            let comp = &fleet.components[c];
            let over = env.and_then(|e| comp.environments.get(e));
            let timeout = over
                .and_then(|o| o.timeout.clone())
                .or_else(|| comp.knobs.timeout.clone())
                .map_or(floor, |t| parse_duration(&t));
            let test = over
                .and_then(|o| o.helm.as_ref())
                .and_then(|h| h["test"].as_bool())
                .or_else(|| comp.knobs.helm["test"].as_bool())
                .unwrap_or(false);
            if test { timeout * 2 } else { timeout }
        })
        .max()
        .unwrap_or(floor);
    format_duration(2 * longest.max(floor))
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

/// Namespace objects for the charts of each wave, each created in the first wave that needs
/// it; namespaces Kubernetes or Flux own are never objects of a Kustomization (pruning them
/// would take the cluster, or Flux itself, down).
pub(super) fn namespaces_per_wave(fleet: &Fleet, plans: &[WavePlan]) -> Vec<Vec<Doc>> {
    let mut created = BTreeSet::new();
    let meta = fleet.namespace_meta();
    plans
        .iter()
        .map(|plan| {
            let names: BTreeSet<&str> = plan
                .charts
                .iter()
                .map(|&c| fleet.components[c].namespace.as_str())
                .collect();
            names
                .into_iter()
                .filter(|ns| !system_namespace(ns) && created.insert(*ns))
                .map(|ns| {
                    // `namespaceMetadata` of every component sharing it (K6; conflicts are
                    // reported by the duplicate rule).
                    let (labels, annotations) = meta.get(ns).cloned().unwrap_or_default();
                    Doc::Namespace {
                        name: ns.to_owned(),
                        labels,
                        annotations,
                    }
                })
                .collect()
        })
        .collect()
}

/// The Kustomization of a `path:` component on `cluster`: after its dependencies and the
/// previous wave, with the component's knobs and its environment's (fleet model K3, K4).
/// `plan` is its wave and `main` the wave's Kustomization that creates the namespaces of its
/// charts: a component whose `namespace:` is one of them waits for it too.
pub(super) fn path_kustomization(
    fleet: &Fleet,
    ks: &Ks<'_>,
    (c, cluster): (usize, usize),
    prev: &[String],
    (plan, main): (&WavePlan, Option<&str>),
    hub: bool,
) -> Kustomization {
    let comp = &fleet.components[c];
    let path = match &comp.source {
        ComponentSource::Path(path) => clean_path(path),
        ComponentSource::Chart { .. } => String::new(),
    };
    let mut deps: BTreeSet<String> = prev.iter().cloned().collect();
    let shares = |&x: &usize| fleet.components[x].namespace == comp.namespace;
    if let Some(main) = main.filter(|_| comp.namespace_written && plan.charts.iter().any(shares)) {
        deps.insert(main.to_owned());
    }
    for dep in &comp.depends_on {
        let d = &fleet.components[dep.index];
        deps.insert(match d.source {
            ComponentSource::Path(_) => d.name.clone(),
            ComponentSource::Chart { .. } if hub => fleet.waves[d.wave].name.clone(),
            ComponentSource::Chart { .. } => format!("{}-releases", fleet.waves[d.wave].name),
        });
    }
    let deps: Vec<String> = deps.into_iter().collect();
    let mut k = ks.object(&comp.name, &path, &deps, !hub, None);
    let target = &fleet.clusters[cluster];
    let env = comp
        .environments
        .get(&target.environment)
        .filter(|_| !target.is_hub());
    with_knobs(&mut k, comp, env, &target.variables());
    k
}

/// Component `comp`'s knobs on its Kustomization `k`, and its environment's (`env`); `${…}`
/// in patches and `fluxSpec` resolved with `vars`.
fn with_knobs(
    k: &mut Kustomization,
    comp: &crate::model::Component,
    env: Option<&crate::model::Override>,
    vars: &std::collections::BTreeMap<String, String>,
) {
    let knobs = &comp.knobs;
    let pick = |base: &Option<String>, over: Option<&Option<String>>| {
        over.and_then(Clone::clone).or_else(|| base.clone())
    };
    if let Some(v) = pick(&knobs.interval, env.map(|o| &o.interval)) {
        k.interval = v;
    }
    if let Some(v) = pick(&knobs.retry_interval, env.map(|o| &o.retry_interval)) {
        k.retry_interval = v;
    }
    if let Some(v) = pick(&knobs.timeout, env.map(|o| &o.timeout)) {
        k.timeout = v;
    }
    if let Some(sa) = &knobs.service_account {
        k.service_account = Some(sa.clone());
    }
    // `namespace:` on a `path:` component: its namespaced objects land there, whatever their
    // manifests say (kustomize-controller's `targetNamespace`).
    if comp.namespace_written {
        k.target_namespace = Some(comp.namespace.clone());
    }
    // Patches sit in per-cluster entries that nothing substitutes: resolve `${…}` here
    // (unresolved ones are left; the substitution rule reports them).
    k.patches = knobs
        .patches
        .iter()
        .chain(env.and_then(|o| o.patches.as_ref()).into_iter().flatten())
        .map(|p| {
            let mut p = p.clone();
            crate::subst::substitute_value(&mut p, vars, &mut Vec::new());
            p
        })
        .collect();
    k.decryption.clone_from(&knobs.decryption);
    k.substitute_from.clone_from(&knobs.substitute_from);
    if knobs.substitute == Some(false) {
        k.substitute = None;
    }
    if !knobs.health_checks.is_empty() {
        // `wait: true` ignores healthChecks (kustomize-controller).
        k.health_checks.clone_from(&knobs.health_checks);
        k.wait = false;
    }
    if let Some(wait) = knobs.wait {
        k.wait = wait;
    }
    // `fluxSpec`, then the environment's, last; `${…}` resolved as in the patches.
    let mut extra = knobs
        .flux_spec
        .as_ref()
        .map(crate::spec::yaml::Node::to_json);
    if let Some(over) = env.and_then(|o| o.flux_spec.as_ref()) {
        crate::json::merge(extra.get_or_insert_with(|| json!({})), &over.to_json());
    }
    if let Some(x) = &mut extra {
        crate::subst::substitute_value(x, vars, &mut Vec::new());
    }
    k.extra = extra;
}

/// `fluxSpec` of wave `wave`, then of `cluster`: merged last into each of the wave's
/// Kustomizations for that cluster.
pub(super) fn wave_spec(
    fleet: &Fleet,
    wave: usize,
    cluster: &crate::model::Cluster,
) -> Option<Json> {
    let mut extra = fleet.waves[wave]
        .flux_spec
        .as_ref()
        .map(crate::spec::yaml::Node::to_json);
    if let Some(over) = &cluster.flux_spec {
        crate::json::merge(extra.get_or_insert_with(|| json!({})), &over.to_json());
    }
    extra
}

/// The kubeconfig reference of a Kustomization or HelmRelease that reaches a fleet cluster.
pub(super) fn kubeconfig_ref(kc: &crate::model::Kubeconfig) -> Json {
    match kc {
        crate::model::Kubeconfig::Secret { name, key } => {
            json!({"secretRef": {"name": name, "key": key}})
        }
        crate::model::Kubeconfig::ConfigMap { name } => json!({"configMapRef": {"name": name}}),
    }
}
