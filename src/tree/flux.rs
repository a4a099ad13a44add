//! From a cluster's entry, every Flux Kustomization as kustomize-controller reads it: its
//! source (a GitRepository of this repository is the tree itself; others are given with
//! `--source URL=DIR`), its path built ([`super::kustomize`]) with its `targetNamespace`,
//! `patches`, `images`, `namePrefix`/`nameSuffix` and `components`, `commonMetadata`, then
//! `postBuild` (`substituteFrom` read from the `ConfigMap`s and `Secret`s applied on that
//! cluster, `substitute` over them), and the Kustomizations among the objects, recursively.
//! `kubeConfig` sends a Kustomization's objects to another cluster.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use serde_json::Value as Json;

use super::Field as _;

use super::argocd;
use super::kustomize::{Overlay, Reader};
use super::post_build::common_metadata;
use super::sources::{Mapping, map_path, reference_of};
use super::{Finding, Id, KUSTOMIZE_GROUP, Object, SOURCE_GROUP, text};
use crate::diag::{Code, Problem};

/// A repository given on the command line: objects whose URL (and ref) match are read there.
#[derive(Clone, Debug)]
pub(crate) struct Given {
    pub(crate) url: String,
    pub(crate) reference: Option<String>,
    pub(crate) dir: PathBuf,
}

/// How to read a tree.
#[derive(Clone, Debug, Default)]
pub(crate) struct Options {
    /// URLs of this repository (besides the bootstrap GitRepository's).
    pub(crate) tree_urls: Vec<String>,
    pub(crate) sources: Vec<Given>,
    /// The branches the work tree stands for (a synctl spec's `repository.branch` and each
    /// cluster's `branch`); empty when only the tree's own objects can say.
    pub(crate) tree_refs: Vec<String>,
    /// Names of the bootstrap GitRepository in `flux-system` besides `flux-system` (a synctl
    /// spec's `hub.sourceRef`): `flux bootstrap` creates it outside the tree.
    pub(crate) bootstrap_sources: Vec<String>,
}

/// One Flux Kustomization (or the entry itself) and what it applies.
#[derive(Debug)]
pub(crate) struct Applier {
    pub(crate) id: Id,
    /// The Kustomization object (`None` for the entry, which `flux bootstrap` applies).
    pub(crate) object: Option<Object>,
    /// The index of the applier that applied this Kustomization.
    pub(crate) parent: Option<usize>,
    /// The cluster the Kustomization lives on, and the one its objects go to.
    pub(crate) home: String,
    pub(crate) target: String,
    /// The folder read (relative to its repository), or why nothing was read.
    pub(crate) path: String,
    pub(crate) unread: Option<String>,
    pub(crate) objects: Vec<Object>,
}

/// One entry read: every applier in the order found.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) entry: String,
    pub(crate) appliers: Vec<Applier>,
    pub(crate) findings: Vec<Finding>,
    /// Folders an installed kustomize built (synctl reads the rest itself).
    pub(crate) external: std::collections::BTreeSet<String>,
    /// The appliers each applier applied.
    pub(crate) children: Vec<Vec<usize>>,
    /// Clusters whose Argo CD waits for child Applications ([`argocd::awaited`]).
    pub(crate) awaited: HashSet<String>,
}

impl Plan {
    /// The appliers whose objects go to each cluster, clusters in the order first reached.
    pub(crate) fn by_target(&self) -> Vec<(&str, Vec<usize>)> {
        let mut order: Vec<(&str, Vec<usize>)> = Vec::new();
        let mut at: HashMap<&str, usize> = HashMap::new();
        for (i, a) in self.appliers.iter().enumerate() {
            let k = *at.entry(a.target.as_str()).or_insert_with(|| {
                order.push((a.target.as_str(), Vec::new()));
                order.len() - 1
            });
            order[k].1.push(i);
        }
        order
    }

    /// Each applier's index by the cluster it lives on and its id.
    pub(crate) fn index(&self) -> HashMap<(String, Id), usize> {
        self.appliers
            .iter()
            .enumerate()
            .map(|(i, a)| ((a.home.clone(), a.id.clone()), i))
            .collect()
    }

    /// The appliers applier `i` waits for directly: the one that applied it, those its
    /// `dependsOn` names on its cluster (found in `index`, keyed as [`Plan::index`] keys them),
    /// and for an Application whose Argo CD awaits Applications, its siblings of the sync wave
    /// before its own.
    pub(crate) fn waits_for(&self, i: usize, index: &HashMap<(String, Id), usize>) -> Vec<usize> {
        let a = &self.appliers[i];
        let deps = a.object.iter().flat_map(Object::depends_on);
        let mut out: Vec<usize> = a
            .parent
            .into_iter()
            .chain(deps.filter_map(|id| index.get(&(a.home.clone(), id)).copied()))
            .collect();
        let app = a
            .object
            .as_ref()
            .filter(|o| o.is(argocd::GROUP, "Application"));
        let Some((app, parent)) = app.zip(a.parent).filter(|_| self.awaited.contains(&a.home))
        else {
            return out;
        };
        let wave_of = |j: usize| {
            let o = self.appliers[j].object.as_ref();
            o.filter(|o| o.is(argocd::GROUP, "Application"))
                .map(argocd::wave)
        };
        let siblings = &self.children[parent];
        let mine = argocd::wave(app);
        let before = siblings
            .iter()
            .filter_map(|&j| wave_of(j))
            .filter(|&w| w < mine)
            .max();
        if let Some(before) = before {
            out.extend(siblings.iter().filter(|&&j| wave_of(j) == Some(before)));
        }
        out
    }
}

/// The bootstrap Kustomization's name and namespace (flux bootstrap, FluxInstance `sync`).
pub(super) const BOOTSTRAP: &str = "flux-system";

fn kustomization_id(namespace: &str, name: &str) -> Id {
    Id {
        group: KUSTOMIZE_GROUP.to_owned(),
        kind: "Kustomization".to_owned(),
        namespace: namespace.to_owned(),
        name: name.to_owned(),
    }
}

pub(super) struct Walk<'a> {
    pub(super) readers: &'a mut Vec<Reader>,
    pub(super) options: &'a Options,
    pub(super) plan: Plan,
    /// Kustomizations already followed, per home cluster.
    pub(super) followed: HashSet<(String, Id)>,
    /// The first object applied so far of each (cluster, kind, namespace, name): its applier
    /// and its place there (sources and `substituteFrom` are looked up here, not scanned),
    /// hashed by [`Walk::hash`] and compared with the object itself (no copy of its names).
    found: hashbrown::HashTable<(usize, usize)>,
    hasher: foldhash::fast::RandomState,
    /// This repository's URLs and the branches the work tree stands for: the options', then
    /// the bootstrap GitRepository's and FluxInstance's as they are applied.
    pub(super) urls: Vec<String>,
    pub(super) refs: Vec<String>,
}

/// Reads the tree at `readers[0]`'s root from `entry` (a folder relative to it); the readers
/// (the tree, then the repositories given, added as they are needed) keep what they built
/// for the next entry.
pub(crate) fn read(readers: &mut Vec<Reader>, entry: &str, options: &Options) -> Plan {
    let mut walk = Walk {
        readers,
        options,
        plan: Plan {
            entry: entry.to_owned(),
            appliers: Vec::new(),
            findings: Vec::new(),
            external: std::collections::BTreeSet::new(),
            children: Vec::new(),
            awaited: HashSet::new(),
        },
        followed: HashSet::new(),
        found: hashbrown::HashTable::new(),
        hasher: foldhash::fast::RandomState::default(),
        urls: options.tree_urls.clone(),
        refs: options.tree_refs.clone(),
    };
    let root = kustomization_id(BOOTSTRAP, BOOTSTRAP);
    walk.followed.insert((entry.to_owned(), root.clone()));
    let built = walk.readers[0].build(entry, &Overlay::default());
    let (objects, unread) = match built {
        Ok(o) => (o, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    walk.plan.appliers.push(Applier {
        id: root,
        object: None,
        parent: None,
        home: entry.to_owned(),
        target: entry.to_owned(),
        path: entry.to_owned(),
        unread,
        objects,
    });
    walk.record(0);
    walk.follow();
    for r in walk.readers.iter() {
        walk.plan.external.extend(r.external.iter().cloned());
    }
    let mut plan = walk.plan;
    plan.children = vec![Vec::new(); plan.appliers.len()];
    for (i, a) in plan.appliers.iter().enumerate() {
        if let Some(p) = a.parent {
            plan.children[p].push(i);
        }
    }
    plan.awaited = argocd::awaited(&plan);
    // An entry of Applications only is applied by hand, not by a Flux Kustomization.
    let flux = plan.appliers[0].object.is_some()
        || plan
            .appliers
            .iter()
            .any(|a| a.id.group == KUSTOMIZE_GROUP && a.parent.is_some());
    if !flux && plan.appliers.len() > 1 {
        plan.appliers[0].id = Id {
            group: String::new(),
            kind: "Entry".to_owned(),
            namespace: String::new(),
            name: entry.to_owned(),
        };
    }
    plan
}

impl Walk<'_> {
    /// Follows every Kustomization and Application found until no more can be read: each
    /// applier's objects are looked at once; a Kustomization whose source is not applied yet
    /// waits until a round applies something new.
    fn follow(&mut self) {
        let mut waiting: Vec<(usize, Object, String)> = Vec::new();
        let mut seen = 0;
        loop {
            while seen < self.plan.appliers.len() {
                let i = seen;
                seen += 1;
                self.found_in(i, &mut waiting);
            }
            let mut progress = false;
            for (parent, k, home) in std::mem::take(&mut waiting) {
                let key = (home.clone(), k.id());
                if self.followed.contains(&key) {
                    continue;
                }
                match self.source_of(&k, &home) {
                    Some((reader, mapping)) => {
                        self.followed.insert(key);
                        self.apply(parent, &k, &home, reader, &mapping);
                        progress = true;
                    }
                    None => waiting.push((parent, k, home)),
                }
            }
            if !progress && seen == self.plan.appliers.len() {
                for (parent, k, home) in waiting {
                    if self.followed.insert((home.clone(), k.id())) {
                        self.unresolved(parent, &k, &home);
                    }
                }
                return;
            }
        }
    }

    /// The Kustomizations and Applications applier `i` applies: Applications are followed at
    /// once, Kustomizations wait in `waiting` for their source.
    fn found_in(&mut self, i: usize, waiting: &mut Vec<(usize, Object, String)>) {
        let target = self.plan.appliers[i].target.clone();
        let found: Vec<Object> = self.plan.appliers[i]
            .objects
            .iter()
            .filter(|o| {
                o.is(KUSTOMIZE_GROUP, "Kustomization") || o.is(argocd::GROUP, "Application")
            })
            .cloned()
            .collect();
        for k in found {
            let key = (target.clone(), k.id());
            if self.followed.contains(&key) {
                // The bootstrap Kustomization the entry holds is the entry itself.
                let root = i == 0 && k.id() == kustomization_id(BOOTSTRAP, BOOTSTRAP);
                if root && self.plan.appliers[0].object.is_none() {
                    self.plan.appliers[0].object = Some(k);
                }
            } else if k.kind() == "Application" {
                self.followed.insert(key);
                self.application(i, &k, &target);
            } else {
                waiting.push((i, k, target.clone()));
            }
        }
    }

    /// Indexes what applier `i` applies ([`Walk::lookup`]) and the repository URLs it names.
    fn record(&mut self, i: usize) {
        let appliers = &self.plan.appliers;
        let a = &appliers[i];
        let hasher = &self.hasher;
        let hash = |(i, j): (usize, usize)| {
            let (a, o) = (&appliers[i], &appliers[i].objects[j]);
            key_hash(hasher, &a.target, o.kind(), o.namespace(), o.name())
        };
        for (j, o) in a.objects.iter().enumerate() {
            let h = hash((i, j));
            let same = |&(i2, j2): &(usize, usize)| {
                appliers[i2].target == a.target && names_alike(&appliers[i2].objects[j2], o)
            };
            if self.found.find(h, same).is_none() {
                self.found.insert_unique(h, (i, j), |&e| hash(e));
            }
            let bootstrap = o.is(SOURCE_GROUP, "GitRepository")
                && o.name() == BOOTSTRAP
                && o.namespace() == BOOTSTRAP;
            if bootstrap {
                self.urls.push(text(o.value(), &["spec", "url"]).to_owned());
                self.refs.extend(reference_of(o.value()));
            } else if o.kind() == "FluxInstance" {
                self.urls
                    .push(text(o.value(), &["spec", "sync", "url"]).to_owned());
                let r = text(o.value(), &["spec", "sync", "ref"]);
                self.refs
                    .push(r.trim_start_matches("refs/heads/").to_owned());
            }
        }
    }

    /// The first object of `kind` named `namespace`/`name` applied so far on `cluster`.
    pub(super) fn lookup(
        &self,
        cluster: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<&Object> {
        let h = key_hash(&self.hasher, cluster, kind, namespace, name);
        let appliers = &self.plan.appliers;
        let &(i, j) = self.found.find(h, |&(i, j)| {
            let o = &appliers[i].objects[j];
            appliers[i].target == cluster
                && o.kind() == kind
                && o.namespace() == namespace
                && o.name() == name
        })?;
        Some(&appliers[i].objects[j])
    }

    pub(super) fn push(
        &mut self,
        parent: usize,
        k: &Object,
        home: &str,
        path: String,
        built: Result<Vec<Object>, String>,
    ) {
        let target = target_of(k, home);
        let (objects, unread) = match built {
            Ok(o) => (o, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        self.plan.appliers.push(Applier {
            id: k.id(),
            object: Some(k.clone()),
            parent: Some(parent),
            home: home.to_owned(),
            target,
            path,
            unread,
            objects,
        });
        self.record(self.plan.appliers.len() - 1);
    }

    /// Builds what `k` applies, from the reader `reader`.
    fn apply(&mut self, parent: usize, k: &Object, home: &str, reader: usize, mapping: &Mapping) {
        let path = text(k.value(), &["spec", "path"])
            .trim_start_matches("./")
            .trim_matches('/');
        let path = map_path(path, mapping);
        let path = if path.is_empty() {
            ".".to_owned()
        } else {
            path
        };
        let overlay = overlay_of(k.value());
        let built = self.readers[reader].build(&path, &overlay);
        let built = match built {
            Err(e) if e.ends_with(super::kustomize::OFFLINE) => Err(e),
            Err(e) => {
                self.plan.findings.push(Finding::new(
                    &k.at_field(&["spec", "path"]),
                    Problem::error(
                        Code::Build,
                        format!("Kustomization {} does not build: {e}", k.id()),
                    )
                    .help("fix the folder or `spec.path`: kustomize-controller fails the same way"),
                    "this path",
                ));
                Err(e)
            }
            Ok(mut objects) => {
                common_metadata(k.value(), &mut objects);
                self.post_build(k, home, &mut objects);
                Ok(objects)
            }
        };
        self.push(parent, k, home, path, built);
    }
}

/// The hash [`Walk::lookup`] finds an object by.
fn key_hash(
    hasher: &foldhash::fast::RandomState,
    cluster: &str,
    kind: &str,
    namespace: &str,
    name: &str,
) -> u64 {
    use std::hash::BuildHasher as _;
    hasher.hash_one((cluster, kind, namespace, name))
}

/// Whether two objects have one kind, namespace and name.
fn names_alike(a: &Object, b: &Object) -> bool {
    a.kind() == b.kind() && a.namespace() == b.namespace() && a.name() == b.name()
}

/// The cluster a Kustomization's objects go to: its home, or the one its `kubeConfig` names
/// (an Application's: its destination).
fn target_of(k: &Object, home: &str) -> String {
    if k.is(argocd::GROUP, "Application") {
        return argocd::destination(k, home);
    }
    let secret = text(k.value(), &["spec", "kubeConfig", "secretRef", "name"]);
    let config_map = text(k.value(), &["spec", "kubeConfig", "configMapRef", "name"]);
    match (secret, config_map) {
        ("", "") => home.to_owned(),
        ("", cm) => format!("kubeConfig {}/{cm}", k.namespace()),
        (s, _) => format!("kubeConfig {}/{s}", k.namespace()),
    }
}

/// What a Kustomization adds to its folder's kustomization.
fn overlay_of(k: &Json) -> Overlay {
    let list = |key: &str| {
        k.field(&["spec", key])
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let ns = text(k, &["spec", "targetNamespace"]);
    Overlay {
        target_namespace: (!ns.is_empty()).then(|| ns.to_owned()),
        patches: list("patches"),
        images: list("images"),
        name_prefix: text(k, &["spec", "namePrefix"]).to_owned(),
        name_suffix: text(k, &["spec", "nameSuffix"]).to_owned(),
        components: list("components")
            .iter()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect(),
    }
}
