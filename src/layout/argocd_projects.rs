//! Argo CD AppProjects: one per tenant with apps (its repository, its namespaces) and one per
//! component with `project: own` (its repositories, its clusters), for the Argo CD that serves
//! them.

use std::collections::BTreeMap;

use super::argocd::{HUB_DIR, children_dir, destination};
use super::argocd_helm::chart_source;
use super::docs::{Content, Doc};
use super::tenants::tenant_repos;
use super::{Builder, Item};
use crate::model::{ComponentSource, Fleet};

/// One AppProject per tenant with apps and Argo CD instance: its repository only, its
/// (cluster, namespace) pairs; and one per component with `project: own`. Each is synced by
/// the root Application one wave before anything that uses it. Returns each serving cluster's
/// project files.
pub(super) fn app_projects(b: &mut Builder<'_>) -> BTreeMap<usize, Vec<String>> {
    let fleet = b.fleet;
    let mut projects: BTreeMap<usize, Vec<String>> = BTreeMap::default();
    for ci in (0..fleet.clusters.len()).filter(|&c| !fleet.clusters[c].is_fleet()) {
        let files = projects.entry(ci).or_default();
        for (ti, t) in fleet.tenants.iter().enumerate() {
            let served = served_by(fleet, ci, &t.clusters);
            if t.apps.is_empty() || served.is_empty() {
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
            let project = Project {
                name: &t.name,
                owner: Item::Tenant(ti),
                served,
                destinations,
                repos: tenant_repos(t),
                cluster_admin: t.role == crate::model::TenantRole::ClusterAdmin,
                component: false,
            };
            files.push(write(b, ci, project));
        }
        for c in (0..fleet.components.len()).filter(|&c| fleet.components[c].knobs.own_project) {
            if let Some(project) = component_project(fleet, ci, c) {
                files.push(write(b, ci, project));
            }
        }
    }
    projects
}

/// The clusters among `clusters` that the Argo CD of cluster `ci` serves: itself, and for the
/// hub every fleet cluster (a standalone cluster's serves itself).
fn served_by(fleet: &Fleet, ci: usize, clusters: &[usize]) -> Vec<usize> {
    let hub = fleet.clusters[ci].is_hub();
    clusters
        .iter()
        .copied()
        .filter(|&c| c == ci || (hub && fleet.clusters[c].is_fleet()))
        .collect()
}

/// One AppProject to write for the Argo CD of a cluster.
struct Project<'a> {
    name: &'a str,
    owner: Item,
    /// The clusters it admits (the file reaches them).
    served: Vec<usize>,
    /// `(destination cluster name, namespace)` pairs.
    destinations: Vec<(String, String)>,
    repos: Vec<String>,
    cluster_admin: bool,
    component: bool,
}

/// Writes `p` beside the child Applications of cluster `ci`; its file name.
fn write(b: &mut Builder<'_>, ci: usize, p: Project<'_>) -> String {
    let fleet = b.fleet;
    let ns = &fleet.argocd_namespace;
    let file = format!("project-{}.yaml", p.name);
    let path = format!("{}/{file}", children_dir(fleet, ci, HUB_DIR));
    b.scope = Some(ci);
    b.object("AppProject", ns, p.name, &path, p.owner);
    let project = Doc::AppProject {
        name: p.name.to_owned(),
        namespace: ns.clone(),
        sync_wave: Some(fleet.waves.first().map_or(0, |w| w.base) - 1),
        destinations: p.destinations,
        repos: p.repos,
        cluster_admin: p.cluster_admin,
        component: p.component,
    };
    b.file(path, p.owner, [], p.served, Content::docs(vec![project]));
    file
}

/// The AppProject of component `c` (`project: own`) for the Argo CD of cluster `ci`: the
/// repositories its Applications there read, the clusters it is placed on among those that
/// Argo CD serves; any namespace and kind (a chart writes where it writes: cert-manager's
/// leader election lives in kube-system).
fn component_project(fleet: &Fleet, ci: usize, c: usize) -> Option<Project<'_>> {
    let comp = &fleet.components[c];
    let served = served_by(fleet, ci, &comp.clusters);
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
    Some(Project {
        name: &comp.name,
        owner: Item::Component(c),
        served,
        destinations,
        repos,
        cluster_admin: true,
        component: true,
    })
}
