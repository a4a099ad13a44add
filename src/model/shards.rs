//! Which shard of a cluster's Flux controllers reconciles each of its objects (`flux.sharding`,
//! docs/sharding.md): on the hub, each fleet cluster's; on a standalone cluster, each tenant's
//! entries ([`of_tenant`]).
//!
//! One cluster's objects live on one shard: they reference each other (its Kustomizations
//! read its GitRepository and wait for each other), and the hub-wide objects (the bootstrap
//! source, `hub/kustomization.yaml`'s own Kustomization) stay on the main controllers. The
//! assignment is stable: a cluster keeps the shard the committed tree gives it (its
//! `hub/<cluster>.yaml`), so adding or retiring a cluster moves no other; a new cluster goes to
//! the lightest shard; shards are rebalanced only when one is more than
//! [`TOLERANCE_PERCENT`] over the mean and by more than one cluster's weight, moving as few
//! clusters as that takes (after the shard count changed, or many retirements).

use sha2::{Digest as _, Sha256};

use super::{ComponentSource, Delivery, Engine, Fleet, Role};

/// The label Flux's controllers select their objects by.
pub(crate) const LABEL: &str = "sharding.fluxcd.io/key";

/// `shards: auto`: one shard per this many Flux objects to spread (the hub's fleet clusters',
/// a standalone cluster's tenants' entries'). Flux's
/// benchmark (fluxcd/flux-benchmark, Flux 2.9) reconciles 1,000 Kustomizations in 4m13s and
/// 1,000 HelmReleases in 4m39s on one set of controllers: a shard of 2,000 objects starts cold
/// in about ten minutes.
pub(crate) const OBJECTS_PER_SHARD: usize = 2_000;

/// How far over the mean a shard may grow before clusters are moved off it.
pub(crate) const TOLERANCE_PERCENT: usize = 5;

/// The Flux objects synctl writes on the hub for fleet cluster `ci`: its GitRepository, two
/// Kustomizations per wave (the wave and its releases), and per component placed on it a
/// Kustomization (`path:`) or a HelmRelease and its chart source.
#[must_use]
pub(crate) fn weight(fleet: &Fleet, ci: usize) -> usize {
    let placed: usize = fleet
        .components
        .iter()
        .filter(|c| c.clusters.binary_search(&ci).is_ok())
        .map(|c| match c.source {
            ComponentSource::Chart { .. } => 2,
            ComponentSource::Path(_) => 1,
        })
        .sum();
    1 + 2 * fleet.waves.len() + placed
}

/// Shards every sharded cluster's controllers: the hub's over its fleet clusters, each
/// standalone cluster's over its tenants. `kept` is the shard the committed tree gives a fleet
/// cluster, if any.
pub(crate) fn assign(fleet: &mut Fleet, kept: &dyn Fn(&str) -> Option<String>) {
    if fleet.engine != Engine::Flux {
        return;
    }
    assign_hub(fleet, kept);
    for ci in 0..fleet.clusters.len() {
        let cluster = &fleet.clusters[ci];
        let Some((count, _)) = cluster
            .flux
            .sharding
            .filter(|_| cluster.role == Role::Standalone)
        else {
            continue;
        };
        let objects = tenant_objects(fleet, ci);
        if objects == 0 {
            continue; // nothing to spread (`check::shards` says so when the cluster asked)
        }
        let n = count.map_or_else(|| objects.div_ceil(OBJECTS_PER_SHARD), |n| n as usize);
        fleet.clusters[ci].shards = (1..=n.max(1)).map(|i| format!("shard{i}")).collect();
    }
}

/// The Flux objects of tenants' entries on standalone cluster `ci`, counted two per entry (its
/// Kustomization and a GitRepository, which entries of one repository share: an upper bound).
pub(crate) fn tenant_objects(fleet: &Fleet, ci: usize) -> usize {
    fleet
        .tenants
        .iter()
        .flat_map(|t| &t.apps)
        .filter(|a| a.delivery == Delivery::Flux && a.clusters.binary_search(&ci).is_ok())
        .count()
        * 2
}

/// The shard of `shards` that reconciles tenant `tenant`'s entries: the highest of a hash of
/// each shard's name with the tenant's (rendezvous hashing). It depends on the tenant's name
/// and the shards alone, so the clusters of an environment (which share its overlays) agree,
/// adding or removing a tenant moves no other, and a new shard takes only the tenants it
/// wins, about one in the new shard count.
#[must_use]
pub(crate) fn of_tenant<'a>(shards: &'a [String], tenant: &str) -> Option<&'a str> {
    shards
        .iter()
        .max_by_key(|s| {
            let mut h = Sha256::new();
            h.update(s.as_bytes());
            h.update([0]);
            h.update(tenant.as_bytes());
            let d = h.finalize();
            u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
        })
        .map(String::as_str)
}

/// Assigns every fleet cluster of a sharded hub its shard (`Cluster::shard`) and names the
/// hub's shards (`Cluster::shards`).
fn assign_hub(fleet: &mut Fleet, kept: &dyn Fn(&str) -> Option<String>) {
    let Some(hub) = fleet.hub_index() else { return };
    let Some((count, _)) = fleet.clusters[hub].flux.sharding else {
        return;
    };
    let members: Vec<usize> = (0..fleet.clusters.len())
        .filter(|&c| fleet.clusters[c].role == Role::Fleet)
        .collect();
    let weights: Vec<usize> = members.iter().map(|&c| weight(fleet, c)).collect();
    let total: usize = weights.iter().sum();
    let n = count.map_or_else(|| total.div_ceil(OBJECTS_PER_SHARD).max(1), |n| n as usize);
    let names: Vec<String> = (1..=n).map(|i| format!("shard{i}")).collect();
    let mut load = vec![0usize; n];
    let mut on: Vec<Option<usize>> = vec![None; members.len()];
    for (m, &c) in members.iter().enumerate() {
        if let Some(s) =
            kept(&fleet.clusters[c].name).and_then(|k| names.iter().position(|x| *x == k))
        {
            on[m] = Some(s);
            load[s] += weights[m];
        }
    }
    // New clusters, heaviest first (ties by name), each to the lightest shard.
    let mut new: Vec<usize> = (0..members.len()).filter(|&m| on[m].is_none()).collect();
    new.sort_by(|&a, &b| {
        weights[b].cmp(&weights[a]).then_with(|| {
            fleet.clusters[members[a]]
                .name
                .cmp(&fleet.clusters[members[b]].name)
        })
    });
    for m in new {
        let s = lightest(&load);
        on[m] = Some(s);
        load[s] += weights[m];
    }
    rebalance(fleet, &members, &weights, &mut on, &mut load);
    for (m, &c) in members.iter().enumerate() {
        fleet.clusters[c].shard = on[m].map(|s| names[s].clone());
    }
    fleet.clusters[hub].shards = names;
}

/// The index of the least loaded shard (the first of equals).
fn lightest(load: &[usize]) -> usize {
    (0..load.len()).min_by_key(|&s| (load[s], s)).unwrap_or(0)
}

/// Moves clusters from the heaviest shard to the lightest while the heaviest is over the mean
/// by more than the tolerance and by more than the cluster moved weighs: the cluster moved is
/// the one on the heaviest shard whose name sorts last (a fixed choice, so a rerun moves
/// nothing more).
fn rebalance(
    fleet: &Fleet,
    members: &[usize],
    weights: &[usize],
    on: &mut [Option<usize>],
    load: &mut [usize],
) {
    let n = load.len();
    let total: usize = load.iter().sum();
    if n < 2 || total == 0 {
        return;
    }
    for _ in 0..members.len() {
        let heavy = (0..n)
            .max_by_key(|&s| (load[s], usize::MAX - s))
            .unwrap_or(0);
        let light = lightest(load);
        let over = load[heavy] * n * 100 > total * (100 + TOLERANCE_PERCENT);
        let Some(m) = (0..members.len())
            .filter(|&m| on[m] == Some(heavy))
            .max_by(|&a, &b| {
                fleet.clusters[members[a]]
                    .name
                    .cmp(&fleet.clusters[members[b]].name)
            })
        else {
            return;
        };
        if !over || load[heavy] - load[light] <= weights[m] {
            return;
        }
        on[m] = Some(light);
        load[heavy] -= weights[m];
        load[light] += weights[m];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(clusters: usize, shards: u32) -> Fleet {
        let text = crate::synthetic::fleet(clusters, 3);
        let checked = crate::pipeline::check_text("fleet.yaml", text, None);
        let (fleet, _) = checked.fleet.expect("a fleet");
        let mut fleet = (*fleet).clone();
        let hub = fleet.hub_index().unwrap();
        fleet.clusters[hub].flux.sharding =
            Some((Some(shards), crate::spec::source::Span::default()));
        fleet
    }

    fn shards_of(fleet: &Fleet) -> Vec<(String, String)> {
        fleet
            .clusters
            .iter()
            .filter_map(|c| Some((c.name.clone(), c.shard.clone()?)))
            .collect()
    }

    #[test]
    fn every_fleet_cluster_gets_a_shard_and_the_shards_balance() {
        let mut f = fleet(101, 8);
        assign(&mut f, &|_| None);
        assert_eq!(f.clusters[f.hub_index().unwrap()].shards.len(), 8);
        let got = shards_of(&f);
        assert_eq!(got.len(), 100);
        let mut per = std::collections::BTreeMap::new();
        for (_, s) in &got {
            *per.entry(s.clone()).or_insert(0) += 1;
        }
        let (min, max) = (per.values().min().unwrap(), per.values().max().unwrap());
        assert!(max - min <= 1, "{per:?}");
    }

    #[test]
    fn a_cluster_keeps_its_shard_and_a_new_one_takes_the_lightest() {
        let mut f = fleet(41, 4);
        assign(&mut f, &|_| None);
        let before: std::collections::BTreeMap<String, String> =
            shards_of(&f).into_iter().collect();
        // The same fleet read again with the tree's assignment: nothing moves.
        let mut again = fleet(42, 4);
        let kept = before.clone();
        assign(&mut again, &move |c| kept.get(c).cloned());
        let after: std::collections::BTreeMap<String, String> =
            shards_of(&again).into_iter().collect();
        let moved: Vec<_> = before
            .iter()
            .filter(|(c, s)| after.get(*c) != Some(s))
            .collect();
        assert!(moved.is_empty(), "{moved:?}");
        assert_eq!(after.len(), 41);
        // More shards: only as many clusters move as balance needs, each to a new shard.
        let mut wider = fleet(41, 5);
        let kept = before.clone();
        assign(&mut wider, &move |c| kept.get(c).cloned());
        let now: std::collections::BTreeMap<String, String> =
            shards_of(&wider).into_iter().collect();
        let moved: Vec<_> = before
            .iter()
            .filter(|(c, s)| now.get(*c) != Some(s))
            .collect();
        assert!((7..=9).contains(&moved.len()), "{moved:?}");
        assert!(moved.iter().all(|(c, _)| now[*c] == "shard5"), "{moved:?}");
    }
}
