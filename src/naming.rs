//! Names of the objects synctl generates and what lands where, shared by validation (which
//! must refuse collisions before anything is written) and rendering (which writes them).

use std::collections::BTreeMap;

use crate::model::{ComponentSource, Delivery, Engine, Fleet};
use crate::spec::source::Span;

/// What a generated object stands for, for collision messages.
#[derive(Clone, Debug)]
pub struct Owner {
    pub what: String,
    pub span: Span,
}

/// What one wave holds on one cluster.
#[derive(Clone, Debug, Default)]
pub struct WavePlan {
    pub wave: usize,
    /// Components with a chart placed on the cluster in this wave, in dependency order.
    pub charts: Vec<usize>,
    /// `path:` components placed on the cluster in this wave, in dependency order.
    pub paths: Vec<usize>,
    /// Tenants whose boundaries this wave creates (the first wave only).
    pub tenants: Vec<usize>,
    /// Tenants whose own repository is delivered in this wave.
    pub apps: Vec<usize>,
}

impl WavePlan {
    /// Whether the wave's own Kustomization (namespaces, boundaries, charts on the hub) exists.
    #[must_use]
    pub fn has_main(&self) -> bool {
        !self.charts.is_empty() || !self.tenants.is_empty() || !self.apps.is_empty()
    }

    /// Whether a fleet cluster's wave applies anything to the cluster itself.
    #[must_use]
    pub fn has_remote(&self, fleet: &Fleet) -> bool {
        !self.charts.is_empty()
            || !self.tenants.is_empty()
            || self.apps.iter().any(|&t| {
                fleet.tenants[t]
                    .apps
                    .as_ref()
                    .is_some_and(|a| a.delivery == Delivery::ArgoCd)
            })
    }

    /// Whether a fleet cluster's wave applies objects on the hub (charts, Flux-delivered apps).
    #[must_use]
    pub fn has_releases(&self, fleet: &Fleet) -> bool {
        !self.charts.is_empty()
            || self.apps.iter().any(|&t| {
                fleet.tenants[t]
                    .apps
                    .as_ref()
                    .is_some_and(|a| a.delivery == Delivery::Flux)
            })
    }
}

/// The waves of cluster `cluster` that hold anything, in wave order. `order` is the
/// topological order of components.
#[must_use]
pub fn cluster_waves(fleet: &Fleet, order: &[usize], cluster: usize) -> Vec<WavePlan> {
    let mut plans: Vec<WavePlan> = (0..fleet.waves.len())
        .map(|wave| WavePlan {
            wave,
            ..WavePlan::default()
        })
        .collect();
    for &c in order {
        let comp = &fleet.components[c];
        if comp.clusters.binary_search(&cluster).is_err() {
            continue;
        }
        let Some(plan) = plans.get_mut(comp.wave) else {
            continue;
        };
        match comp.source {
            ComponentSource::Chart { .. } => plan.charts.push(c),
            ComponentSource::Path(_) => plan.paths.push(c),
        }
    }
    if let Some(first) = plans.first_mut() {
        first.tenants = fleet
            .tenants
            .iter()
            .enumerate()
            .filter(|(_, t)| t.clusters.binary_search(&cluster).is_ok())
            .map(|(i, _)| i)
            .collect();
    }
    for (i, t) in fleet.tenants.iter().enumerate() {
        if let Some(apps) = &t.apps
            && t.clusters.binary_search(&cluster).is_ok()
            && let Some(plan) = plans.get_mut(apps.wave)
        {
            plan.apps.push(i);
        }
    }
    plans
        .into_iter()
        .filter(|p| p.has_main() || !p.paths.is_empty())
        .collect()
}

/// The namespace on the hub holding the Flux objects of `cluster`.
#[must_use]
pub fn hub_namespace(fleet: &Fleet, cluster: usize) -> String {
    let c = &fleet.clusters[cluster];
    if c.hub {
        "flux-system".to_owned()
    } else {
        c.name.clone()
    }
}

/// The name of the Argo CD Application of `item` on `cluster`.
#[must_use]
pub fn application(fleet: &Fleet, cluster: usize, item: &str) -> String {
    format!("{}-{item}", fleet.clusters[cluster].name)
}

/// Every generated Kustomization (Flux) or Application (Argo CD) name, per namespace, with
/// what it stands for; duplicates in one namespace are collisions.
#[must_use]
pub fn kustomizations(fleet: &Fleet) -> BTreeMap<String, Vec<(String, Owner)>> {
    let mut out: BTreeMap<String, Vec<(String, Owner)>> = BTreeMap::new();
    // Components named twice are reported as duplicates; count each name once.
    let mut names_seen = std::collections::HashSet::new();
    let order: Vec<usize> = (0..fleet.components.len())
        .filter(|&c| names_seen.insert(fleet.components[c].name.as_str()))
        .collect();
    let hub_span = fleet.hub().map_or_else(Span::default, |h| h.span);
    let mut done = std::collections::HashSet::new();
    if fleet.engine == Engine::ArgoCd {
        let list = out.entry(fleet.argocd_namespace.clone()).or_default();
        for c in &fleet.clusters {
            list.push((
                format!("{}-root", c.name),
                Owner {
                    what: format!("the root Application of `{}`", c.name),
                    span: c.span,
                },
            ));
        }
    }
    for (ci, cluster) in fleet.clusters.iter().enumerate() {
        // Duplicate clusters, second hubs and reserved names are reported by their own rules.
        let reserved = !cluster.hub
            && (cluster.name == "flux-system" || cluster.name == fleet.argocd_namespace);
        if !done.insert(cluster.name.as_str())
            || reserved
            || (cluster.hub && fleet.hub_index() != Some(ci))
        {
            continue;
        }
        let ns = hub_namespace(fleet, ci);
        let list = out.entry(ns.clone()).or_default();
        let own = |what: String, span: Span| Owner { what, span };
        if fleet.engine == Engine::ArgoCd {
            let list = out.entry(fleet.argocd_namespace.clone()).or_default();
            for c in fleet
                .components
                .iter()
                .filter(|c| c.clusters.binary_search(&ci).is_ok())
            {
                list.push((
                    application(fleet, ci, &c.name),
                    own(
                        format!(
                            "the Application of component `{}` on `{}`",
                            c.name, cluster.name
                        ),
                        c.span,
                    ),
                ));
            }
            for t in fleet
                .tenants
                .iter()
                .filter(|t| t.clusters.binary_search(&ci).is_ok())
            {
                list.push((
                    application(fleet, ci, &format!("tenant-{}", t.name)),
                    own(
                        format!(
                            "the Application of tenant `{}` on `{}`",
                            t.name, cluster.name
                        ),
                        t.span,
                    ),
                ));
            }
            continue;
        }
        if cluster.hub {
            list.push((
                "flux-system".to_owned(),
                own(
                    "the bootstrap Kustomization `flux-system`".to_owned(),
                    hub_span,
                ),
            ));
        } else if fleet.hub().is_some_and(|h| h.branch != cluster.branch) {
            list.push((
                cluster.name.clone(),
                own(
                    format!("the branch Kustomization of cluster `{}`", cluster.name),
                    cluster.span,
                ),
            ));
        }
        for plan in cluster_waves(fleet, &order, ci) {
            let wave = &fleet.waves[plan.wave];
            if plan.has_main() {
                list.push((
                    wave.name.clone(),
                    own(format!("wave `{}`", wave.name), wave.span),
                ));
            }
            if !cluster.hub && !plan.charts.is_empty() {
                list.push((
                    format!("{}-releases", wave.name),
                    own(format!("the releases of wave `{}`", wave.name), wave.span),
                ));
            }
            for &p in &plan.paths {
                let c = &fleet.components[p];
                list.push((
                    c.name.clone(),
                    own(format!("component `{}`", c.name), c.span),
                ));
            }
        }
        for t in &fleet.tenants {
            let Some(apps) = &t.apps else { continue };
            if apps.delivery != Delivery::Flux || t.clusters.binary_search(&ci).is_err() {
                continue;
            }
            let tns = if cluster.hub {
                t.namespaces[0].0.clone()
            } else {
                ns.clone()
            };
            out.entry(tns).or_default().push((
                format!("tenant-{}", t.name),
                own(format!("the apps of tenant `{}`", t.name), t.span),
            ));
        }
    }
    out
}

/// Checks that `path` is relative and stays inside the repository.
///
/// # Errors
/// Why it does not, as a phrase.
pub fn check_relative_path(path: &str) -> Result<(), &'static str> {
    if path.starts_with('/') || path.starts_with('\\') || path.get(1..2) == Some(":") {
        return Err("is absolute");
    }
    if path.contains('\\') {
        return Err("uses `\\`; write `/`");
    }
    if path.split('/').any(|seg| seg == "..") {
        return Err("climbs out with `..`");
    }
    if path.split('/').any(|seg| seg == ".git") {
        return Err("points into `.git`");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_relative_path;

    #[test]
    fn paths_must_stay_inside_the_repository() {
        assert!(check_relative_path("policies/kyverno").is_ok());
        assert!(check_relative_path("./policies").is_ok());
        assert_eq!(check_relative_path("../other"), Err("climbs out with `..`"));
        assert_eq!(
            check_relative_path("a/../../b"),
            Err("climbs out with `..`")
        );
        assert_eq!(check_relative_path("/etc"), Err("is absolute"));
        assert_eq!(check_relative_path("C:/x"), Err("is absolute"));
        assert!(check_relative_path("a..b/c").is_ok());
    }
}
