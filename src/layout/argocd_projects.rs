//! Argo CD AppProjects: one per tenant with apps (its repository, its namespaces) and one per
//! component with `project: own` (its repositories, its clusters), for the Argo CD that serves
//! them.

use std::collections::BTreeMap;

use super::argocd::{HUB_DIR, children_dir, destination};
use super::argocd_helm::chart_source;
use super::docs::{Content, Doc};
use super::tenants::tenant_repos;
use super::{Builder, Item};
use crate::model::ComponentSource;

/// One AppProject per tenant with apps and Argo CD instance: its repository only, its
/// (cluster, namespace) pairs; synced by the root Application one wave before anything that
/// uses it. The hub's Argo CD serves the hub and the fleet clusters; a standalone cluster's
/// serves itself. Returns each serving cluster's project files.
pub(super) fn app_projects(b: &mut Builder<'_>) -> BTreeMap<usize, Vec<String>> {
    let fleet = b.fleet;
    let ns = &fleet.argocd_namespace;
    let mut projects: BTreeMap<usize, Vec<String>> = BTreeMap::default();
    for (ci, cluster) in fleet
        .clusters
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.is_fleet())
    {
        let dir = children_dir(fleet, ci, HUB_DIR);
        for (ti, t) in fleet.tenants.iter().enumerate() {
            if t.apps.is_empty() {
                continue;
            }
            let served: Vec<usize> = t
                .clusters
                .iter()
                .copied()
                .filter(|&c| c == ci || (cluster.is_hub() && fleet.clusters[c].is_fleet()))
                .collect();
            if served.is_empty() {
                continue;
            }
            let destinations = served
                .iter()
                .flat_map(|&c| {
                    let dest = destination(fleet, c);
                    t.namespaces
                        .iter()
                        .map(move |(n, _)| (dest.clone(), n.clone()))
                })
                .collect();
            let file = format!("project-{}.yaml", t.name);
            let path = format!("{dir}/{file}");
            b.scope = Some(ci);
            b.object("AppProject", ns, &t.name, &path, Item::Tenant(ti));
            let project = Doc::AppProject {
                name: t.name.clone(),
                namespace: ns.clone(),
                sync_wave: Some(fleet.waves.first().map_or(0, |w| w.base) - 1),
                destinations,
                repos: tenant_repos(t),
                cluster_admin: t.role == crate::model::TenantRole::ClusterAdmin,
                component: false,
            };
            b.file(
                path,
                Item::Tenant(ti),
                [],
                served,
                Content::docs(vec![project]),
            );
            projects.entry(ci).or_default().push(file);
        }
        for c in (0..fleet.components.len()).filter(|&c| fleet.components[c].knobs.own_project) {
            if let Some(file) = component_project(b, ci, c) {
                projects.entry(ci).or_default().push(file);
            }
        }
    }
    projects
}

/// The AppProject of component `c` (`project: own`) for the Argo CD of cluster `ci`: the
/// repositories its Applications there read, the clusters it is placed on among those that
/// Argo CD serves; any namespace and kind (a chart writes where it writes: cert-manager's
/// leader election lives in kube-system).
fn component_project(b: &mut Builder<'_>, ci: usize, c: usize) -> Option<String> {
    let fleet = b.fleet;
    let comp = &fleet.components[c];
    let hub = fleet.clusters[ci].is_hub();
    let served: Vec<usize> = comp
        .clusters
        .iter()
        .copied()
        .filter(|&x| x == ci || (hub && fleet.clusters[x].is_fleet()))
        .collect();
    if served.is_empty() {
        return None;
    }
    let mut repos: Vec<String> = Vec::new();
    for &x in &served {
        let url = match &comp.source {
            ComponentSource::Path(_) => fleet.repository.url.clone(),
            ComponentSource::Chart { .. } => match chart_source(fleet, x, c) {
                Ok(helm) => crate::tree::text(&helm, &["repoURL"]).to_owned(),
                Err(_) => continue,
            },
        };
        if !repos.contains(&url) {
            repos.push(url);
        }
    }
    let destinations = served
        .iter()
        .map(|&x| (destination(fleet, x), "*".to_owned()))
        .collect();
    let ns = &fleet.argocd_namespace;
    let dir = children_dir(fleet, ci, HUB_DIR);
    let file = format!("project-{}.yaml", comp.name);
    let path = format!("{dir}/{file}");
    b.scope = Some(ci);
    b.object("AppProject", ns, &comp.name, &path, Item::Component(c));
    let project = Doc::AppProject {
        name: comp.name.clone(),
        namespace: ns.clone(),
        sync_wave: Some(fleet.waves.first().map_or(0, |w| w.base) - 1),
        destinations,
        repos,
        cluster_admin: true,
        component: true,
    };
    b.file(
        path,
        Item::Component(c),
        [],
        served,
        Content::docs(vec![project]),
    );
    Some(file)
}
