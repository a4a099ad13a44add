//! The [`Builder`] every layout is made with: it records files and objects, refuses a path or
//! an object name that is already taken, and records or replays calls for layouts built on
//! other threads.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, btree_map};

use super::{Content, Deferred, File, Item, Layout, Object};
use crate::diag::{Code, Problem};
use crate::hashing::Map as HashMap;
use crate::model::Fleet;

/// Builds a [`Layout`], refusing a path or an object name that is already taken.
pub(crate) struct Builder<'a> {
    pub fleet: &'a Fleet,
    pub layout: Layout,
    /// Pairs of items already reported as colliding (one problem per pair).
    reported: BTreeSet<(Item, Item)>,
    /// The cluster being laid out: objects recorded now are applied there.
    pub scope: Option<usize>,
    /// Whether the files of fleet clusters are recorded as [`Content::Cluster`], their
    /// documents built only when rendered.
    pub defers: bool,
    /// Whether objects are recorded (not when a file's content is built again: the layout
    /// has them already).
    pub(super) records_objects: bool,
    /// When set, files and objects are only recorded, in call order, for [`Builder::replay`]
    /// into the real builder (clusters are laid out on every core, then replayed in order:
    /// the same calls in the same order as one thread would make).
    recorded: Option<Vec<Recorded>>,
}

/// A call to [`Builder::file`] or [`Builder::object`] made while recording.
pub(crate) enum Recorded {
    File {
        path: String,
        owner: Item,
        sources: Vec<Item>,
        clusters: Vec<usize>,
        content: Content,
    },
    Object(Object),
}

impl<'a> Builder<'a> {
    /// A builder of `fleet`'s layout (see [`Builder::recording`] for one that only records).
    pub(crate) fn new(fleet: &'a Fleet, scope: Option<usize>) -> Builder<'a> {
        Builder {
            fleet,
            layout: Layout::default(),
            reported: BTreeSet::new(),
            scope,
            defers: false,
            records_objects: true,
            recorded: None,
        }
    }

    /// This builder, recording the files of fleet clusters as [`Content::Cluster`].
    #[must_use]
    pub(crate) fn deferring(self) -> Builder<'a> {
        Builder {
            defers: true,
            ..self
        }
    }

    /// Lets [`Layout::content`] build the files recorded as [`Content::Cluster`]: the graph's
    /// order and the hub's branch.
    pub(crate) fn defer_with(&mut self, order: &[usize], hub_branch: &str) {
        self.layout.deferred = Some(Deferred {
            order: order.to_vec(),
            hub_branch: hub_branch.to_owned(),
        });
    }

    /// A builder that records its calls (see [`Builder::replay`]).
    pub(crate) fn recording(fleet: &'a Fleet, scope: Option<usize>) -> Builder<'a> {
        Builder {
            recorded: Some(Vec::new()),
            ..Builder::new(fleet, scope)
        }
    }

    /// What a recording builder was asked to do, in order.
    pub(crate) fn into_recorded(self) -> Vec<Recorded> {
        self.recorded.unwrap_or_default()
    }

    /// Makes the calls `recorded` holds, in their order.
    pub(crate) fn replay(&mut self, recorded: Vec<Recorded>) {
        for r in recorded {
            match r {
                Recorded::File {
                    path,
                    owner,
                    sources,
                    clusters,
                    content,
                } => self.insert_file(path, owner, sources, clusters, content),
                Recorded::Object(o) => self.layout.objects.push(o),
            }
        }
    }
}

impl Builder<'_> {
    /// Adds file `path` owned by `owner`. A path already taken by another item is a collision
    /// (reported once, with both owners); the first file stays.
    pub(crate) fn file(
        &mut self,
        path: String,
        owner: Item,
        sources: impl IntoIterator<Item = Item>,
        clusters: impl IntoIterator<Item = usize>,
        content: Content,
    ) {
        // The owner first, into room for all (a push after an exact collect doubles it).
        let sources = sources.into_iter();
        let mut all: Vec<Item> = Vec::with_capacity(sources.size_hint().0 + 1);
        all.push(owner);
        all.extend(sources);
        all.sort_unstable();
        all.dedup();
        let mut clusters: Vec<usize> = clusters.into_iter().collect();
        clusters.sort_unstable();
        clusters.dedup();
        if let Some(recorded) = &mut self.recorded {
            recorded.push(Recorded::File {
                path,
                owner,
                sources: all,
                clusters,
                content,
            });
            return;
        }
        self.insert_file(path, owner, all, clusters, content);
    }

    /// [`Builder::file`] with its sets sorted.
    fn insert_file(
        &mut self,
        path: String,
        owner: Item,
        sources: Vec<Item>,
        clusters: Vec<usize>,
        content: Content,
    ) {
        let fleet = self.fleet;
        let slot = match self.layout.files.entry(path) {
            btree_map::Entry::Vacant(slot) => slot,
            btree_map::Entry::Occupied(first) => {
                let (path, a, b) = (first.key(), first.get().owner, owner);
                if self.reported.insert((a.min(b), a.max(b))) {
                    let p = collision(
                        fleet,
                        format!(
                            "`{path}` would be written for both {} and {}",
                            a.describe(fleet),
                            b.describe(fleet)
                        ),
                        a,
                        b,
                        "rename one of them: each generated file belongs to one item of the spec",
                    );
                    self.layout.problems.push(p);
                }
                return;
            }
        };
        slot.insert(Box::new(File {
            content,
            owner,
            sources,
            clusters,
        }));
    }

    /// Problems found while building a document (a `${…}` Argo CD cannot resolve).
    pub(crate) fn problems(&mut self, problems: Vec<Problem>) {
        self.layout.problems.extend(problems);
    }

    /// Records object `kind` `namespace/name` of `file`, owned by `owner`.
    pub(crate) fn object(
        &mut self,
        kind: &'static str,
        namespace: &str,
        name: &str,
        file: &str,
        owner: Item,
    ) {
        if !self.records_objects {
            return;
        }
        let object = Object {
            cluster: self.scope,
            kind,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            file: file.to_owned(),
            owner,
        };
        match &mut self.recorded {
            Some(recorded) => recorded.push(Recorded::Object(object)),
            None => self.layout.objects.push(object),
        }
    }

    /// `hub/kustomization.yaml`: what `hub_listing` keeps, one file per cluster, then the
    /// other files of `hub/`.
    pub(super) fn hub_kustomization(&mut self, hub_listing: &[String]) {
        let fleet = self.fleet;
        let path = "hub/kustomization.yaml";
        let mut resources: Vec<String> = hub_listing.to_vec();
        // The clusters' files first, in spec order; a standalone cluster has none here (its
        // entry is its own folder).
        let mut clusters_first = BTreeSet::new();
        for c in &fleet.clusters {
            let file = format!("hub/{}.yaml", c.name);
            if file != path
                && self.layout.files.contains_key(&file)
                && clusters_first.insert(file.clone())
            {
                resources.push(format!("{}.yaml", c.name));
            }
        }
        resources.extend(
            self.layout
                .files
                .keys()
                .filter(|p| !clusters_first.contains(*p) && p.as_str() != path)
                .filter_map(|p| p.strip_prefix("hub/"))
                .map(str::to_owned),
        );
        for c in fleet.clusters.iter().filter(|c| c.is_hub()) {
            resources.extend(super::entry_resources(c, "hub"));
        }
        let all = 0..fleet.clusters.len();
        self.file(
            path.to_owned(),
            Item::Fleet,
            all.clone().map(Item::Cluster),
            all,
            Content::Kustomize {
                resources,
                patches: Vec::new(),
            },
        );
    }

    /// Two objects of one kind with one name in one namespace: the second would replace the
    /// first when applied.
    pub(super) fn object_collisions(&mut self) {
        let fleet = self.fleet;
        // Only looked up (problems come in the order of the objects): hashing beats comparing
        // long names that share their prefixes.
        let mut seen: HashMap<(Option<usize>, &str, &str, &str), &Object> =
            crate::hashing::map_with_capacity(self.layout.objects.len());
        let reported = &mut self.reported;
        let mut problems = Vec::new();
        for o in &self.layout.objects {
            let key = (o.cluster, o.kind, o.namespace.as_str(), o.name.as_str());
            let first = match seen.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(o);
                    continue;
                }
                Entry::Occupied(first) => *first.get(),
            };
            let pair = (first.owner.min(o.owner), first.owner.max(o.owner));
            if first.owner == o.owner || !reported.insert(pair) {
                continue;
            }
            problems.push(collision(
                fleet,
                format!(
                    "two {}s would be named `{}` in namespace `{}`: one for {}, one for {}",
                    o.kind,
                    o.name,
                    o.namespace,
                    first.owner.describe(fleet),
                    o.owner.describe(fleet)
                ),
                first.owner,
                o.owner,
                "rename one of them so it does not collide with a wave, a tenant or a cluster",
            ));
        }
        self.layout.problems.extend(problems);
    }
}

/// A collision between `first` and `second`, located at both when they are written.
fn collision(fleet: &Fleet, message: String, first: Item, second: Item, help: &str) -> Problem {
    let (a, b) = (first.span(fleet), second.span(fleet));
    // The item written last in the spec is the one to rename.
    let (primary, other, other_item) = if b.offset >= a.offset {
        (b, a, first)
    } else {
        (a, b, second)
    };
    let mut p = Problem::error(Code::Reserved, message).help(help);
    if primary.len > 0 {
        p = p.at(primary, "this one");
    }
    if other.len > 0 && other != primary {
        p = p.also(
            other,
            format!("collides with {}", other_item.describe(fleet)),
        );
    }
    p
}
