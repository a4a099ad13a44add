//! The layout stage: from the checked fleet and its graph, every file synctl will write, what
//! goes in it (documents described as data, not text), every named object it holds (kind,
//! namespace, name), and which spec items own it. Decided here, once, per engine; everything
//! after asks this stage instead of re-deriving a path or parsing one back:
//! - the collision rules run over it (two items claiming one file, two objects with one name);
//! - the renderers only turn each file's [`Content`] into text;
//! - `explain` and the blast radius of `diff` are lookups in [`Layout::files`].

mod argocd;
mod argocd_helm;
mod argocd_projects;
mod builder;
mod docs;
mod flux;
mod flux_fleet;
mod flux_local;
mod release;
mod tenants;
mod waves;

pub(crate) use argocd_helm::{HEALTH_KEY, HEALTH_LUA};
pub(crate) use builder::{Builder, Recorded};
#[cfg(test)]
pub(crate) use docs::DependsOn;
pub(crate) use docs::{
    AppSource, Application, ChartSource, Content, Doc, GitRepository, HelmRelease, Kustomization,
    Patch, Release,
};
pub(crate) use waves::cluster_waves;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::diag::Problem;
use crate::graph::Graph;
use crate::model::{Engine, Fleet};
use crate::spec::source::Span;

/// The folders of the output root synctl writes into; nothing outside them is generated.
pub(crate) const ROOTS: &[&str] = &["hub", "deploy", "platform", "fleet"];

/// The folder `flux bootstrap` owns inside `hub/`; synctl never writes or prunes there.
pub(crate) const BOOTSTRAP_DIR: &str = "hub/flux-system";

/// A spec item that a generated file or object comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Item {
    /// The fleet as a whole (`spec.repository`, the hub's bootstrap).
    Fleet,
    Wave(usize),
    Cluster(usize),
    Component(usize),
    Tenant(usize),
}

impl Item {
    /// How messages name the item, e.g. "component `kyverno`".
    #[must_use]
    pub fn describe(self, fleet: &Fleet) -> String {
        match self {
            Item::Fleet => format!("the fleet `{}` as a whole", fleet.name),
            Item::Wave(w) => format!("wave `{}`", fleet.waves[w].name),
            Item::Cluster(c) => format!("cluster `{}`", fleet.clusters[c].name),
            Item::Component(c) => format!("component `{}`", fleet.components[c].name),
            Item::Tenant(t) => format!("tenant `{}`", fleet.tenants[t].name),
        }
    }

    /// Where the item is written in the spec (empty for defaults nobody wrote).
    #[must_use]
    pub fn span(self, fleet: &Fleet) -> Span {
        match self {
            Item::Fleet => Span::default(),
            Item::Wave(w) => fleet.waves[w].span,
            Item::Cluster(c) => fleet.clusters[c].span,
            Item::Component(c) => fleet.components[c].span,
            Item::Tenant(t) => fleet.tenants[t].span,
        }
    }
}

/// One generated file.
#[derive(Clone, Debug)]
pub struct File {
    /// What the renderer writes there.
    pub content: Content,
    /// The item the file exists for (collisions name it).
    pub owner: Item,
    /// Every item whose lines shape the file (what `explain` prints), the owner among them;
    /// sorted, each once (a vector: a set's node per file cost 6% of the chain's memory).
    pub sources: Vec<Item>,
    /// The clusters the file reaches (the blast radius of a change to it); sorted, each once.
    pub clusters: Vec<usize>,
}

/// A named object of the tree, where it is applied.
#[derive(Clone, Debug)]
pub struct Object {
    /// The cluster the object is applied to (`None`: the bases every cluster applies).
    pub cluster: Option<usize>,
    pub kind: &'static str,
    /// The namespace it lives in once applied.
    pub namespace: String,
    pub name: String,
    pub file: String,
    pub owner: Item,
}

/// Everything synctl writes for one fleet.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// Boxed: a B-tree node moves its values on every insert, and a `File` is 128 bytes.
    pub files: BTreeMap<String, Box<File>>,
    pub objects: Vec<Object>,
    /// Collisions found while laying out, as located problems.
    pub problems: Vec<Problem>,
    /// What [`Layout::content`] needs to build a [`Content::Cluster`] file again.
    deferred: Option<Deferred>,
    /// The fleet laid out (the files of fleet clusters are built from it when rendered).
    fleet: Option<Arc<Fleet>>,
}

/// What the files of fleet clusters are built from when they are rendered.
#[derive(Clone, Debug)]
pub(super) struct Deferred {
    /// The components in `dependsOn` order (the graph's).
    pub(super) order: Vec<usize>,
    /// The branch the hub tracks.
    pub(super) hub_branch: String,
}

impl Layout {
    /// Lays out the tree of `fleet`. `listing(entry)` is what the `kustomization.yaml` of an
    /// entry folder (`hub`, `fleet/<env>/clusters/<name>`) must keep listing first
    /// (`flux-system`, once `flux bootstrap` wrote it).
    #[must_use]
    pub fn build(
        fleet: &Arc<Fleet>,
        graph: &Graph,
        listing: &dyn Fn(&str) -> Vec<String>,
    ) -> Layout {
        let mut out = Builder::new(fleet, None);
        match fleet.engine {
            Engine::Flux => flux::lay_out(&mut out, graph, listing),
            Engine::ArgoCd => argocd::lay_out(&mut out, graph),
        }
        // A fleet of standalone clusters only has no hub, and no `hub/`.
        if fleet.hub_index().is_some() {
            out.hub_kustomization(&listing("hub"));
        }
        out.object_collisions();
        out.layout.fleet = Some(Arc::clone(fleet));
        out.layout
    }

    /// What `file`, the file of `path`, holds: its content, or for a file of a fleet cluster
    /// ([`Content::Cluster`]) the content built now, as the layout built it; `None` only if
    /// the layout no longer builds that path (a bug).
    #[must_use]
    pub fn content<'l>(&self, path: &str, file: &'l File) -> Option<Cow<'l, Content>> {
        let Content::Cluster { cluster } = file.content else {
            return Some(Cow::Borrowed(&file.content));
        };
        let deferred = self.deferred.as_ref()?;
        let fleet = self.fleet.as_deref()?;
        let plans = cluster_waves(fleet, &deferred.order, cluster);
        let mut b = Builder::recording(fleet, None);
        b.records_objects = false;
        flux_fleet::fleet_cluster(&mut b, cluster, &deferred.hub_branch, &plans);
        b.into_recorded().into_iter().find_map(|r| match r {
            Recorded::File {
                path: p, content, ..
            } if p == path => Some(Cow::Owned(content)),
            _ => None,
        })
    }

    /// The spec items behind generated file `path`, or `None` when synctl does not write it.
    #[must_use]
    pub fn explain(&self, path: &str) -> Option<&[Item]> {
        self.files.get(path).map(|f| f.sources.as_slice())
    }

    /// The clusters and waves a change to `paths` touches, by name, sorted.
    #[must_use]
    pub fn blast_radius<'a>(
        &self,
        fleet: &Fleet,
        paths: impl IntoIterator<Item = &'a str>,
    ) -> (Vec<String>, Vec<String>) {
        let mut clusters = BTreeSet::new();
        let mut waves = BTreeSet::new();
        for p in paths {
            let Some(f) = self.files.get(p) else { continue };
            clusters.extend(f.clusters.iter().map(|&c| fleet.clusters[c].name.clone()));
            waves.extend(f.sources.iter().filter_map(|i| match i {
                Item::Wave(w) => Some(fleet.waves[*w].name.clone()),
                _ => None,
            }));
        }
        (clusters.into_iter().collect(), waves.into_iter().collect())
    }
}

/// Namespaces that exist before synctl and must never become objects of a Kustomization.
pub(crate) fn system_namespace(ns: &str) -> bool {
    ns == "default" || ns == "flux-system" || ns.starts_with("kube-")
}

/// A cluster's `entryResources`, as its entry folder `dir` names them (relative to it).
pub(super) fn entry_resources(cluster: &crate::model::Cluster, dir: &str) -> Vec<String> {
    let up = "../".repeat(dir.split('/').count());
    cluster
        .entry_resources
        .iter()
        .flat_map(|(paths, _)| paths)
        .map(|p| format!("{up}{}", p.trim_start_matches("./").trim_end_matches('/')))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fleet cluster laid out without its documents records the same files, objects and
    /// sources as one laid out with them, and each of its files is built again, whole, when
    /// asked for (split clusters included: d1 and two fixtures have them).
    #[test]
    #[expect(clippy::too_many_lines, reason = "a test's cases, listed")]
    fn deferred_cluster_files_are_the_files_built_again() {
        let specs = crate::testing::example_specs();
        let (mut built, mut split) = (0, 0);
        // And a synthetic fleet of 30 clusters, two of them on their own branch.
        let synthetic = crate::synthetic::fleet(30, 12).replacen(
            "environment: env1\n",
            "environment: env1\n      branch: next\n",
            2,
        );
        assert_eq!(synthetic.matches("branch: next").count(), 2);
        let checks = specs
            .iter()
            .map(|spec| {
                let root = spec.parent().expect("folder");
                crate::pipeline::check_file(spec, "fleet.yaml", Some(root)).expect("readable")
            })
            .chain([crate::pipeline::check_text("fleet.yaml", synthetic, None)]);
        for (spec, checked) in specs
            .iter()
            .map(|p| p.display().to_string())
            .chain(["synthetic".to_owned()])
            .zip(checks)
        {
            let checked = checked
                .valid()
                .unwrap_or_else(|_| panic!("{spec} is valid"));
            let (Some((fleet, graph)), Some(layout)) = (&checked.fleet, &checked.layout) else {
                panic!("{spec} laid out");
            };
            let Some(deferred) = &layout.deferred else {
                continue;
            };
            for (ci, cluster) in fleet.clusters.iter().enumerate() {
                if !cluster.is_fleet() {
                    continue;
                }
                let plans = cluster_waves(fleet, &graph.order, ci);
                let record = |defers: bool| {
                    let mut b = Builder::recording(fleet, Some(0));
                    if defers {
                        b = b.deferring();
                    }
                    flux_fleet::fleet_cluster(&mut b, ci, &deferred.hub_branch, &plans);
                    b.into_recorded()
                };
                let (lazy, whole) = (record(true), record(false));
                assert_eq!(lazy.len(), whole.len(), "{}", cluster.name);
                for (l, w) in lazy.iter().zip(&whole) {
                    match (l, w) {
                        (Recorded::Object(a), Recorded::Object(b)) => {
                            assert_eq!(
                                (a.kind, &a.namespace, &a.name, &a.file, a.owner),
                                (b.kind, &b.namespace, &b.name, &b.file, b.owner)
                            );
                        }
                        (
                            Recorded::File {
                                path: a,
                                sources: sa,
                                clusters: ca,
                                content: Content::Cluster { cluster },
                                ..
                            },
                            Recorded::File {
                                path: b,
                                sources: sb,
                                clusters: cb,
                                content,
                                ..
                            },
                        ) => {
                            assert_eq!((a, sa, ca, *cluster), (b, sb, cb, ci));
                            assert!(!matches!(content, Content::Cluster { .. }));
                            let file = &layout.files[a];
                            let again = layout.content(a, file).expect("built again");
                            assert_eq!(format!("{:?}", again.as_ref()), format!("{content:?}"));
                            built += 1;
                            split += usize::from(a.ends_with("/kustomizations.yaml"));
                        }
                        _ => panic!("{}: the records differ in kind or content", cluster.name),
                    }
                }
            }
        }
        assert!(
            built > 30 && split > 2,
            "{built} files built again, {split} of split clusters"
        );
    }
}
