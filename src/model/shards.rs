//! Which shard of a cluster's Flux controllers reconciles each of its objects (`flux.sharding`,
//! docs/sharding.md): on the hub, each fleet cluster's objects; on a standalone cluster, each
//! tenant's entries. The shared objects (the hub's bootstrap source and own Kustomizations, a
//! standalone cluster's waves) stay on the main controllers.
//!
//! One member's objects (a fleet cluster's, a tenant's) live on one shard: they reference each
//! other. The assignment ([`spread`]) is stable: a member keeps the shard the committed tree
//! gives it (a fleet cluster's `hub/<cluster>.yaml`, a tenant's entries in
//! `fleet/<env>/<wave>/tenant-apps.yaml`), so adding or retiring one moves no other; a new one
//! goes to the lightest shard; shards are rebalanced only when one is more than
//! [`TOLERANCE_PERCENT`] over the mean and by more than one member's weight, moving as few as
//! that takes (after the shard count changed, or many retirements).

use std::collections::BTreeMap;

use super::{ComponentSource, Delivery, Engine, Fleet, Role};

/// The label Flux's controllers select their objects by.
pub(crate) const LABEL: &str = "sharding.fluxcd.io/key";

/// `shards: auto`: one shard per this many Flux objects to spread (the hub's fleet clusters',
/// a standalone cluster's tenants' entries'). Flux's benchmark (fluxcd/flux-benchmark, Flux
/// 2.9) reconciles 1,000 Kustomizations in 4m13s and 1,000 HelmReleases in 4m39s on one set
/// of controllers: a shard of 2,000 objects starts cold in about ten minutes.
pub(crate) const OBJECTS_PER_SHARD: usize = 2_000;

/// How far over the mean a shard may grow before members are moved off it.
pub(crate) const TOLERANCE_PERCENT: usize = 5;

/// Whether a Flux version (a FluxInstance's `distribution.version`, as `flux.version` writes it:
/// `2.3.x`, `2.3.0`, `v2.3`) is before 2.4, whose controllers look `dependsOn` up in their
/// shard's cache (kustomize-controller #1248 and helm-controller #1070 read it from the API
/// server since). `2.x` and other ranges are not.
#[must_use]
pub(crate) fn before_2_4(version: &str) -> bool {
    version
        .trim_start_matches(['v', '=', ' '])
        .strip_prefix("2.")
        .and_then(|v| v.split(['.', '-']).next())
        .and_then(|m| m.parse::<u32>().ok())
        .is_some_and(|m| m < 4)
}

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

/// What the committed tree remembers: the shard of a fleet cluster (by name), and the shard of
/// each tenant entry's objects in an environment (entry object name → shard, by environment).
pub(crate) struct Kept<'a> {
    pub cluster: &'a dyn Fn(&str) -> Option<String>,
    pub entries: &'a dyn Fn(&str) -> BTreeMap<String, String>,
}

/// Shards every sharded cluster's controllers: the hub's over its fleet clusters, each
/// standalone cluster's over its tenants.
pub(crate) fn assign(fleet: &mut Fleet, kept: &Kept<'_>) {
    if fleet.engine != Engine::Flux {
        return;
    }
    assign_hub(fleet, kept.cluster);
    let mut per_env: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for ci in 0..fleet.clusters.len() {
        let cluster = &fleet.clusters[ci];
        let Some((count, _)) = cluster
            .flux
            .sharding
            .filter(|_| cluster.role == Role::Standalone)
        else {
            continue;
        };
        // Each tenant with Flux entries here, weighing two objects per entry (its
        // Kustomization and a GitRepository, which entries of one repository share).
        let members: Vec<(usize, Vec<String>)> = fleet
            .tenants
            .iter()
            .enumerate()
            .filter_map(|(ti, t)| {
                let entries: Vec<String> = (0..t.apps.len())
                    .filter(|&e| {
                        t.apps[e].delivery == Delivery::Flux
                            && t.apps[e].clusters.binary_search(&ci).is_ok()
                    })
                    .map(|e| t.entry_name(e))
                    .collect();
                (!entries.is_empty()).then_some((ti, entries))
            })
            .collect();
        let weights: Vec<usize> = members.iter().map(|(_, e)| 2 * e.len()).collect();
        let total: usize = weights.iter().sum();
        if total == 0 {
            continue; // nothing to spread (`check::shards` says so when the cluster asked)
        }
        let n = count.map_or_else(|| total.div_ceil(OBJECTS_PER_SHARD).max(1), |n| n as usize);
        let names: Vec<String> = (1..=n).map(|i| format!("shard{i}")).collect();
        let env = cluster.environment.clone();
        let remembered = per_env
            .entry(env.clone())
            .or_insert_with(|| (kept.entries)(&env));
        let was: Vec<Option<usize>> = members
            .iter()
            .map(|(_, entries)| {
                let s = entries.iter().find_map(|e| remembered.get(e))?;
                names.iter().position(|x| x == s)
            })
            .collect();
        let tenant_names: Vec<&str> = members
            .iter()
            .map(|(ti, _)| fleet.tenants[*ti].name.as_str())
            .collect();
        let on = spread(&tenant_names, &weights, n, was);
        let tenant_shards = members
            .iter()
            .zip(on)
            .map(|((ti, _), s)| (*ti, names[s].clone()))
            .collect();
        let c = &mut fleet.clusters[ci];
        c.tenant_shards = tenant_shards;
        c.shards = names;
    }
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
    let was: Vec<Option<usize>> = members
        .iter()
        .map(|&c| {
            let k = kept(&fleet.clusters[c].name)?;
            names.iter().position(|x| *x == k)
        })
        .collect();
    let member_names: Vec<&str> = members
        .iter()
        .map(|&c| fleet.clusters[c].name.as_str())
        .collect();
    let on = spread(&member_names, &weights, n, was);
    for (&c, s) in members.iter().zip(on) {
        fleet.clusters[c].shard = Some(names[s].clone());
    }
    fleet.clusters[hub].shards = names;
}

/// Each member's shard of `n` (indexes): the one it `was` on when that still exists; new
/// members heaviest first (ties by name) each to the lightest shard; then [`rebalance`].
fn spread(names: &[&str], weights: &[usize], n: usize, was: Vec<Option<usize>>) -> Vec<usize> {
    let mut load = vec![0usize; n];
    let mut on = was;
    for (m, s) in on.iter().enumerate() {
        if let Some(s) = *s {
            load[s] += weights[m];
        }
    }
    let mut new: Vec<usize> = (0..names.len()).filter(|&m| on[m].is_none()).collect();
    new.sort_by(|&a, &b| {
        weights[b]
            .cmp(&weights[a])
            .then_with(|| names[a].cmp(names[b]))
    });
    for m in new {
        let s = lightest(&load);
        on[m] = Some(s);
        load[s] += weights[m];
    }
    rebalance(names, weights, &mut on, &mut load);
    on.into_iter().map(|s| s.unwrap_or(0)).collect()
}

/// The index of the least loaded shard (the first of equals).
fn lightest(load: &[usize]) -> usize {
    (0..load.len()).min_by_key(|&s| (load[s], s)).unwrap_or(0)
}

/// Moves members from the heaviest shard to the lightest while the heaviest is over the mean
/// by more than the tolerance and by more than the member moved weighs: the member moved is
/// the one on the heaviest shard whose name sorts last (a fixed choice, so a rerun moves
/// nothing more).
fn rebalance(names: &[&str], weights: &[usize], on: &mut [Option<usize>], load: &mut [usize]) {
    let n = load.len();
    let total: usize = load.iter().sum();
    if n < 2 || total == 0 {
        return;
    }
    for _ in 0..names.len() {
        let heavy = (0..n)
            .max_by_key(|&s| (load[s], usize::MAX - s))
            .unwrap_or(0);
        let light = lightest(load);
        let over = load[heavy] * n * 100 > total * (100 + TOLERANCE_PERCENT);
        let Some(m) = (0..names.len())
            .filter(|&m| on[m] == Some(heavy))
            .max_by(|&a, &b| names[a].cmp(names[b]))
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

    /// Only fleet clusters remembered.
    fn kept(cluster: &dyn Fn(&str) -> Option<String>) -> Kept<'_> {
        Kept {
            cluster,
            entries: &|_| BTreeMap::new(),
        }
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
        assign(&mut f, &kept(&|_| None));
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
        assign(&mut f, &kept(&|_| None));
        let before: std::collections::BTreeMap<String, String> =
            shards_of(&f).into_iter().collect();
        // The same fleet read again with the tree's assignment: nothing moves.
        let mut again = fleet(42, 4);
        let remembered = before.clone();
        assign(&mut again, &kept(&move |c| remembered.get(c).cloned()));
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
        let remembered = before.clone();
        assign(&mut wider, &kept(&move |c| remembered.get(c).cloned()));
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
