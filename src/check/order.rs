//! Order and placement: cycles, dependencies on later waves, Argo CD sync-wave numbering, and
//! whether what a component needs is on every cluster it lands on.

use std::collections::BTreeSet;

use crate::diag::{Code, Problem};
use crate::graph::Graph;
use crate::model::{ComponentSource, Delivery, Engine, Fleet};

/// Edges of a cycle printed in full; a longer cycle is shown by its first edges and a count.
const CYCLE_SHOWN: usize = 20;

pub(super) fn cycles(fleet: &Fleet, graph: &Graph, problems: &mut Vec<Problem>) {
    for cycle in &graph.cycles {
        let name = |c: usize| fleet.components[c].name.as_str();
        let shown = cycle.len().min(CYCLE_SHOWN);
        let mut path: Vec<&str> = cycle[..shown].iter().map(|(c, _)| name(*c)).collect();
        let circle = if shown < cycle.len() {
            format!(
                "{} → … {} more … → {}",
                path.join(" → "),
                cycle.len() - shown,
                name(cycle[0].0)
            )
        } else {
            path.push(name(cycle[0].0));
            path.join(" → ")
        };
        let (first, first_edge) = cycle[0];
        let mut p = Problem::error(
            Code::Cycle,
            if shown < cycle.len() {
                format!("dependency cycle of {} components: {circle}", cycle.len())
            } else {
                format!("dependency cycle: {circle}")
            },
        )
        .at(
            first_edge.span,
            format!("`{}` depends on `{}`", name(first), name(first_edge.index)),
        );
        for (c, edge) in &cycle[1..shown] {
            p = p.also(
                edge.span,
                format!("`{}` depends on `{}`", name(*c), name(edge.index)),
            );
        }
        problems.push(
            p.help("a cycle can never become ready; remove one of these `dependsOn` entries"),
        );
    }
}

pub(super) fn wave_order(fleet: &Fleet, graph: &Graph, problems: &mut Vec<Problem>) {
    // A tenant's repository needs its namespaces and account, which the first wave creates.
    for (t, apps) in fleet
        .tenants
        .iter()
        .flat_map(|t| t.apps.iter().map(move |a| (t, a)))
    {
        if apps.wave == 0 && fleet.waves.len() > 1 {
            problems.push(
                Problem::error(
                    Code::WaveOrder,
                    format!(
                        "the apps of tenant `{}` are in the first wave `{}`",
                        t.name, fleet.waves[0].name
                    ),
                )
                .at(
                    apps.wave_span,
                    "the first wave creates the tenant's namespaces and account",
                )
                .help("put the tenant's apps in a later wave (the default is the last)"),
            );
        }
    }
    for comp in fleet.components.iter().filter(|c| c.wave_known) {
        for dep in &comp.depends_on {
            let d = &fleet.components[dep.index];
            if !d.wave_known {
                continue;
            }
            if d.wave > comp.wave {
                problems.push(
                    Problem::error(
                        Code::WaveOrder,
                        format!(
                            "`{}` (wave `{}`) depends on `{}`, which is in the later wave `{}`",
                            comp.name, fleet.waves[comp.wave].name, d.name, fleet.waves[d.wave].name
                        ),
                    )
                    .at(dep.span, "a dependency on a later wave")
                    .help(format!(
                        "waves apply in order: move `{}` to wave `{}` or earlier, or `{}` to wave `{}` or later",
                        d.name, fleet.waves[comp.wave].name, comp.name, fleet.waves[d.wave].name
                    )),
                );
            } else if d.wave == comp.wave
                && fleet.engine == Engine::Flux
                && matches!(comp.source, ComponentSource::Chart { .. })
                && matches!(d.source, ComponentSource::Path(_))
            {
                problems.push(
                    Problem::error(
                        Code::WaveOrder,
                        format!(
                            "the chart `{}` depends on the `path:` component `{}` of its own wave",
                            comp.name, d.name
                        ),
                    )
                    .at(dep.span, "a HelmRelease cannot wait for a Kustomization")
                    .help(format!(
                        "move `{}` to an earlier wave than `{}`",
                        d.name, fleet.waves[comp.wave].name
                    )),
                );
            }
        }
    }
    if fleet.engine == Engine::ArgoCd {
        argocd_bases(fleet, graph, problems);
    }
}

fn argocd_bases(fleet: &Fleet, graph: &Graph, problems: &mut Vec<Problem>) {
    let depth = graph.max_depth_per_wave(fleet);
    for (i, pair) in fleet.waves.windows(2).enumerate() {
        let (w, next) = (&pair[0], &pair[1]);
        if next.base <= w.base {
            problems.push(
                Problem::error(
                    Code::WaveOrder,
                    format!(
                        "the sync-wave base of `{}` ({}) is not above that of `{}` ({})",
                        next.name, next.base, w.name, w.base
                    ),
                )
                .at(next.base_span, "must be larger")
                .also(w.base_span, "previous wave's base")
                .help("`syncWave` must strictly increase from wave to wave"),
            );
        } else if i64::from(depth[i]) >= next.base - w.base {
            let deepest = fleet
                .components
                .iter()
                .enumerate()
                .filter(|(c, comp)| comp.wave == i && graph.depth[*c] == depth[i])
                .map(|(_, comp)| comp)
                .min_by(|a, b| a.name.cmp(&b.name));
            let mut p = Problem::error(
                Code::WaveOrder,
                format!(
                    "wave `{}` is {} dependencies deep, which does not fit below the next base {} (`{}`)",
                    w.name, depth[i], next.base, next.name
                ),
            );
            if let Some(c) = deepest {
                p = p.at(
                    c.span,
                    format!("sync wave {} here", w.base + i64::from(depth[i])),
                );
            }
            problems.push(p.also(next.base_span, "next base").help(format!(
                "raise `syncWave` of `{}` to at least {}",
                next.name,
                w.base + i64::from(depth[i]) + 1
            )));
        }
    }
}

pub(super) fn placement(fleet: &Fleet, problems: &mut Vec<Problem>) {
    let cname = |i: usize| fleet.clusters[i].name.as_str();
    for comp in &fleet.components {
        if comp.clusters.is_empty() {
            problems.push(
                Problem::warning(
                    Code::Placement,
                    format!("component `{}` is placed on no cluster", comp.name),
                )
                .at(comp.placement_span, "matches no cluster")
                .help("check `clusters:` / `selector:`; the component generates nothing"),
            );
        }
        for dep in &comp.depends_on {
            let d = &fleet.components[dep.index];
            // Placements are sorted and distinct: one on every cluster, or the same one,
            // holds the component's clusters without a search per cluster.
            if d.clusters.len() == fleet.clusters.len() || d.clusters == comp.clusters {
                continue;
            }
            // A dependency a cluster retired is reported at its `retired` entry (model build).
            let missing = comp.clusters.iter().find(|&&c| {
                d.clusters.binary_search(&c).is_err() && !fleet.clusters[c].retires(&d.name)
            });
            if let Some(&missing) = missing {
                problems.push(
                    Problem::error(
                        Code::Placement,
                        format!(
                            "`{}` depends on `{}`, which is not placed on cluster `{}`",
                            comp.name,
                            d.name,
                            cname(missing)
                        ),
                    )
                    .at(
                        dep.span,
                        format!("`{}` is missing on `{}`", d.name, cname(missing)),
                    )
                    .also(d.placement_span, format!("`{}` is placed here", d.name))
                    .help(format!(
                        "add `{}` to the clusters of `{}`, or remove it from `{}`",
                        cname(missing),
                        d.name,
                        comp.name
                    )),
                );
            }
        }
        for req in &comp.requires {
            let provided_on = |c: &usize| {
                req.providers
                    .iter()
                    .any(|&p| fleet.components[p].clusters.binary_search(c).is_ok())
            };
            if let Some(&missing) = comp.clusters.iter().find(|c| !provided_on(c)) {
                problems.push(
                    Problem::error(
                        Code::Placement,
                        format!(
                            "`{}` requires `{}`, which nothing provides on cluster `{}`",
                            comp.name,
                            req.name,
                            cname(missing)
                        ),
                    )
                    .at(req.span, format!("not on `{}`", cname(missing)))
                    .help(format!(
                        "place a component providing `{}` on `{}`",
                        req.name,
                        cname(missing)
                    )),
                );
            }
        }
    }
    partial_environments(fleet, problems);
    kubeconfig_kinds(fleet, problems);
    argocd_delivery(fleet, problems);
}

/// A component or tenant on some but not all clusters of an environment: the overlay under
/// `fleet/<env>/` is shared, so it cannot differ per cluster.
fn partial_environments(fleet: &Fleet, problems: &mut Vec<Problem>) {
    let envs = fleet.environments();
    let items = fleet
        .components
        .iter()
        .map(|c| ("component", &c.name, &c.clusters, c.placement_span))
        .chain(
            fleet
                .tenants
                .iter()
                .map(|t| ("tenant", &t.name, &t.clusters, t.placement_span)),
        )
        .chain(fleet.tenants.iter().flat_map(|t| {
            t.apps
                .iter()
                .map(move |a| ("entry of tenant", &t.name, &a.clusters, a.placement_span))
        }));
    // Each cluster's environment, by index into `envs`: an item's clusters are counted per
    // environment in one pass over its placement (not a search per environment member).
    let mut env_of = vec![None; fleet.clusters.len()];
    for (e, (_, members)) in envs.iter().enumerate() {
        for &c in members {
            env_of[c] = Some(e);
        }
    }
    let mut counts = vec![0usize; envs.len()];
    for (what, name, placed, span) in items {
        counts.fill(0);
        for &c in placed {
            if let Some(e) = env_of.get(c).copied().flatten() {
                counts[e] += 1;
            }
        }
        for ((env, members), &count) in envs.iter().zip(&counts) {
            // The sets are built only for an environment that is split.
            if count == 0 || count == members.len() {
                continue;
            }
            let inside: BTreeSet<usize> = members
                .iter()
                .copied()
                .filter(|c| placed.binary_search(c).is_ok())
                .collect();
            let on: Vec<&str> = inside
                .iter()
                .map(|&c| fleet.clusters[c].name.as_str())
                .collect();
            let off: Vec<&str> = members
                .iter()
                .filter(|c| !inside.contains(c))
                .map(|&c| fleet.clusters[c].name.as_str())
                .collect();
            problems.push(
                Problem::error(
                    Code::Placement,
                    format!("{what} `{name}` is on {} but not on {} of environment `{env}`", on.join(", "), off.join(", ")),
                )
                .at(span, "splits an environment")
                .help(format!(
                    "clusters of one environment share the overlay fleet/{env}/; give `{}` its own `environment:` or place `{name}` on all of them",
                    off[0]
                )),
            );
        }
    }
}

/// The releases overlay of an environment points every HelmRelease at one kind of kubeconfig
/// reference, so the clusters of an environment must agree on it.
fn kubeconfig_kinds(fleet: &Fleet, problems: &mut Vec<Problem>) {
    for (env, members) in fleet.environments() {
        let kind = |c: usize| {
            matches!(
                fleet.clusters[c].kubeconfig,
                crate::model::Kubeconfig::Secret { .. }
            )
        };
        if let Some(&odd) = members.iter().find(|&&c| kind(c) != kind(members[0])) {
            problems.push(
                Problem::error(
                    Code::Placement,
                    format!("environment `{env}` mixes kubeconfig Secrets and ConfigMaps (`{}` and `{}`)", fleet.clusters[members[0]].name, fleet.clusters[odd].name),
                )
                .at(fleet.clusters[odd].span, "differs from the rest of its environment")
                .help(format!("clusters of `{env}` share one overlay; give `{}` its own `environment:` or the same kind of kubeconfig", fleet.clusters[odd].name)),
            );
        }
    }
}

fn argocd_delivery(fleet: &Fleet, problems: &mut Vec<Problem>) {
    if fleet.engine == Engine::ArgoCd {
        for t in &fleet.tenants {
            if let Some(apps) = t.apps.iter().find(|a| a.delivery == Delivery::Flux) {
                problems.push(
                    Problem::error(Code::Placement, format!("tenant `{}` is delivered by Flux, but this fleet runs `engine: argocd`", t.name))
                        .at(apps.delivery_span, "no Flux runs here")
                        .help("use `delivery: argocd` (an AppProject and Application), or `engine: flux`"),
                );
            }
        }
        return;
    }
    for (t, apps) in fleet
        .tenants
        .iter()
        .flat_map(|t| t.apps.iter().map(move |a| (t, a)))
    {
        if apps.delivery != Delivery::ArgoCd {
            continue;
        }
        for &c in &apps.clusters {
            let ok = fleet.components.iter().any(|comp| {
                comp.provides.iter().any(|p| p == "argocd")
                    && comp.clusters.binary_search(&c).is_ok()
                    && comp.wave < apps.wave
            });
            if !ok {
                problems.push(
                    Problem::error(
                        Code::Placement,
                        format!(
                            "tenant `{}` is delivered by Argo CD, but nothing provides `argocd` on cluster `{}` before wave `{}`",
                            t.name, fleet.clusters[c].name, fleet.waves[apps.wave].name
                        ),
                    )
                    .at(apps.delivery_span, "needs Argo CD on the cluster")
                    .help(format!(
                        "place a component with `provides: [argocd]` on `{}` in a wave before `{}`, or use `delivery: flux`",
                        fleet.clusters[c].name, fleet.waves[apps.wave].name
                    )),
                );
            }
        }
    }
}
