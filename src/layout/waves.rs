//! What each wave holds on one cluster: the components (charts and `path:` folders, in
//! dependency order), the tenants whose boundaries it creates and the tenant repositories it
//! delivers. Both engines lay their waves out from this.

use super::Item;
use crate::model::{ComponentSource, Delivery, Fleet};

/// What one wave holds on one cluster.
#[derive(Clone, Debug, Default)]
pub(crate) struct WavePlan {
    pub wave: usize,
    /// Components with a chart placed on the cluster in this wave, in dependency order.
    pub charts: Vec<usize>,
    /// `path:` components placed on the cluster in this wave, in dependency order.
    pub paths: Vec<usize>,
    /// Tenants whose boundaries this wave creates (the first wave only).
    pub tenants: Vec<usize>,
    /// Tenant entries delivered in this wave: `(tenant, entry)`.
    pub apps: Vec<(usize, usize)>,
}

impl WavePlan {
    /// Whether the wave's own Kustomization (namespaces, boundaries, charts on the hub) exists.
    #[must_use]
    pub(crate) fn has_main(&self) -> bool {
        !self.charts.is_empty() || !self.tenants.is_empty() || !self.apps.is_empty()
    }

    /// The spec items behind the wave's files on `clusters`: the clusters, the charts, the
    /// tenants whose boundaries or entries it holds.
    #[must_use]
    pub(crate) fn sources(&self, clusters: &[usize]) -> Vec<Item> {
        clusters
            .iter()
            .map(|&c| Item::Cluster(c))
            .chain(self.charts.iter().map(|&c| Item::Component(c)))
            .chain(
                self.tenants
                    .iter()
                    .copied()
                    .chain(self.apps.iter().map(|&(t, _)| t))
                    .map(Item::Tenant),
            )
            .collect()
    }

    /// Whether a fleet cluster's wave applies anything to the cluster itself.
    #[must_use]
    pub(crate) fn has_remote(&self, fleet: &Fleet) -> bool {
        !self.charts.is_empty()
            || !self.tenants.is_empty()
            || self
                .apps
                .iter()
                .any(|&(t, e)| fleet.tenants[t].apps[e].delivery == Delivery::ArgoCd)
    }

    /// Whether a fleet cluster's wave applies objects on the hub (charts, Flux-delivered apps).
    #[must_use]
    pub(crate) fn has_releases(&self, fleet: &Fleet) -> bool {
        !self.charts.is_empty()
            || self
                .apps
                .iter()
                .any(|&(t, e)| fleet.tenants[t].apps[e].delivery == Delivery::Flux)
    }
}

/// The waves of cluster `cluster` that hold anything, in wave order. `order` is the
/// topological order of components.
#[must_use]
pub(crate) fn cluster_waves(fleet: &Fleet, order: &[usize], cluster: usize) -> Vec<WavePlan> {
    let mut plans: Vec<WavePlan> = (0..fleet.waves.len())
        .map(|wave| WavePlan {
            wave,
            ..WavePlan::default()
        })
        .collect();
    let all = fleet.clusters.len();
    for &c in order {
        let comp = &fleet.components[c];
        // A component's clusters are sorted and distinct: as many as the fleet has are all
        // of them (the usual placement, decided without a search).
        if comp.clusters.len() != all && comp.clusters.binary_search(&cluster).is_err() {
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
        for (e, apps) in t.apps.iter().enumerate() {
            if apps.clusters.binary_search(&cluster).is_ok()
                && let Some(plan) = plans.get_mut(apps.wave)
            {
                plan.apps.push((i, e));
            }
        }
    }
    plans
        .into_iter()
        .filter(|p| p.has_main() || !p.paths.is_empty())
        .collect()
}
