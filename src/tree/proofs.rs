//! What a read tree must satisfy before it is merged, each proof a located problem with its
//! own code: `dependsOn` naming something on that cluster, no cycle through Kustomizations and
//! HelmReleases, custom resources and namespaced objects after what creates their CRD and
//! namespace, one applier per object, and Flux API versions the controllers still serve.

use std::collections::{HashMap, HashSet};

use crate::hashing::Map;

use serde_json::Value as Json;

use super::Field as _;

use super::flux::Plan;
use super::{Finding, HELM_GROUP, Id, KUSTOMIZE_GROUP, Object, text};
use crate::diag::{Code, Problem};

/// Namespaces every cluster has before anything is applied (Flux's own among them).
const GIVEN_NAMESPACES: &[&str] = &[
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "flux-system",
];

/// Flux API versions no longer served, and the version to move to.
const OLD_VERSIONS: &[(&str, &str)] = &[
    (
        "kustomize.toolkit.fluxcd.io/v1beta1",
        "kustomize.toolkit.fluxcd.io/v1",
    ),
    (
        "kustomize.toolkit.fluxcd.io/v1beta2",
        "kustomize.toolkit.fluxcd.io/v1",
    ),
    (
        "helm.toolkit.fluxcd.io/v2beta1",
        "helm.toolkit.fluxcd.io/v2",
    ),
    (
        "helm.toolkit.fluxcd.io/v2beta2",
        "helm.toolkit.fluxcd.io/v2",
    ),
    (
        "source.toolkit.fluxcd.io/v1beta1",
        "source.toolkit.fluxcd.io/v1",
    ),
    (
        "source.toolkit.fluxcd.io/v1beta2",
        "source.toolkit.fluxcd.io/v1",
    ),
    (
        "notification.toolkit.fluxcd.io/v1beta1",
        "notification.toolkit.fluxcd.io/v1beta3",
    ),
    (
        "notification.toolkit.fluxcd.io/v1beta2",
        "notification.toolkit.fluxcd.io/v1beta3",
    ),
];

/// Every proof over `plan`; `locked`: the entry's cluster runs Flux locked for tenants
/// ([`super::lockdown::locked`]).
pub(crate) fn run(plan: &Plan, locked: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    conflicts(plan, &mut out);
    let graph = Graph::new(plan, &mut out);
    graph.cycles(&mut out);
    order(plan, &graph, &mut out);
    versions(plan, &mut out);
    super::refs::releases(plan, &mut out);
    super::shards::check(plan, &mut out);
    super::lockdown::check(plan, locked, &mut out);
    super::projects::check(plan, &mut out);
    super::argocd::unawaited_waves(plan, &mut out);
    out
}

/// One object applied by two appliers on one cluster.
fn conflicts(plan: &Plan, out: &mut Vec<Finding>) {
    // One cluster at a time: a small map, not every object of the fleet.
    let mut seen: Map<Node<'_>, usize> = Map::default();
    for (_, appliers) in plan.by_target() {
        seen.clear();
        for i in appliers {
            conflicts_of(plan, i, &mut seen, out);
        }
    }
}

/// Applier `i`'s objects among those `seen` before on its cluster.
fn conflicts_of<'a>(
    plan: &'a Plan,
    i: usize,
    seen: &mut Map<Node<'a>, usize>,
    out: &mut Vec<Finding>,
) {
    let a = &plan.appliers[i];
    for o in &a.objects {
        let key = on(&a.target, o);
        match seen.get(&key) {
            None => {
                seen.insert(key, i);
            }
            Some(&first) if first != i => out.push(Finding::new(
                &o.at,
                Problem::error(
                    Code::Conflict,
                    format!(
                        "{} is applied by {} and by {} on cluster {}",
                        o.id(),
                        plan.appliers[first].id,
                        a.id,
                        a.target
                    ),
                )
                .help("keep the object in one Kustomization's folder: two appliers overwrite each other, and pruning in one deletes it"),
                "applied again here",
            )),
            Some(_) => {}
        }
    }
}

/// A node of the wait graph: a Kustomization or HelmRelease on a cluster, by cluster, group,
/// kind, namespace and name (borrowed from the plan).
type Node<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);

/// `id` on `cluster` as a [`Node`].
fn node<'a>(cluster: &'a str, id: &'a Id) -> Node<'a> {
    (cluster, &id.group, &id.kind, &id.namespace, &id.name)
}

/// Object `o` on `cluster` as a [`Node`].
fn on<'a>(cluster: &'a str, o: &'a Object) -> Node<'a> {
    (cluster, o.group(), o.kind(), o.namespace(), o.name())
}

/// A node's object as people name it: `Kind/namespace/name`.
fn shown(n: &Node<'_>) -> String {
    Id {
        group: n.1.to_owned(),
        kind: n.2.to_owned(),
        namespace: n.3.to_owned(),
        name: n.4.to_owned(),
    }
    .to_string()
}

/// What waits for what, per cluster; nodes are numbered once, edges are numbers.
struct Graph<'a> {
    /// Every node: each applier (as [`Plan::index`] numbers them, first), then each
    /// HelmRelease; and where it was written (`None` for an entry).
    nodes: Vec<(Node<'a>, Option<&'a Object>)>,
    ids: Map<Node<'a>, usize>,
    /// Node → the nodes it waits for (dependsOn; a Kustomization that waits for the
    /// HelmReleases it applies; a HelmRelease for what its applier waits for).
    edges: Vec<Vec<usize>>,
    /// Node → the applier index (Kustomizations) or the index of the applier of it (HelmReleases).
    applier_of: Vec<usize>,
    /// [`Plan::index`].
    index: HashMap<(String, Id), usize>,
}

impl<'a> Graph<'a> {
    fn new(plan: &'a Plan, out: &mut Vec<Finding>) -> Graph<'a> {
        let mut g = Graph {
            nodes: Vec::new(),
            ids: Map::default(),
            edges: Vec::new(),
            applier_of: Vec::new(),
            index: plan.index(),
        };
        for (i, a) in plan.appliers.iter().enumerate() {
            g.add(node(&a.home, &a.id), a.object.as_ref(), i);
        }
        for (i, a) in plan.appliers.iter().enumerate() {
            for o in a.objects.iter().filter(|o| o.is(HELM_GROUP, "HelmRelease")) {
                g.add(on(&a.target, o), Some(o), i);
            }
        }
        g.edges = vec![Vec::new(); g.nodes.len()];
        // What each applier's own `dependsOn` names, once (its HelmReleases wait for them too).
        let applier_waits: Vec<Vec<usize>> = plan
            .appliers
            .iter()
            .map(|a| {
                let deps = a.object.iter().flat_map(Object::depends_on);
                deps.filter_map(|dep| g.ids.get(&node(&a.home, &dep)).copied())
                    .collect()
            })
            .collect();
        for n in 0..g.nodes.len() {
            let (key, Some(o)) = g.nodes[n] else {
                continue;
            };
            let cluster = key.0;
            let mut waits = Vec::new();
            for (i, dep) in o.depends_on().into_iter().enumerate() {
                let found = g
                    .ids
                    .get(&node(cluster, &dep))
                    .copied()
                    .filter(|&t| g.nodes[t].1.is_some() || o.kind() == "Kustomization");
                if let Some(t) = found {
                    waits.push(t);
                } else {
                    out.push(Finding::new(
                        &o.at_field(&["spec", "dependsOn", &i.to_string()]),
                        Problem::error(
                            Code::DependsOn,
                            format!("{} depends on {dep}, which nothing applies on cluster {cluster}", o.id()),
                        )
                        .help("fix the name (and namespace), or apply that object on this cluster: the controller waits for it forever"),
                        "this dependency",
                    ));
                }
            }
            let a = &plan.appliers[g.applier_of[n]];
            if o.is(KUSTOMIZE_GROUP, "Kustomization") {
                if o.value().field(&["spec", "wait"]).and_then(Json::as_bool) == Some(true) {
                    for hr in a.objects.iter().filter(|x| x.is(HELM_GROUP, "HelmRelease")) {
                        waits.extend(g.ids.get(&on(&a.target, hr)));
                    }
                }
            } else if a.object.is_some() {
                // A HelmRelease exists once its Kustomization ran, after what that one waits for.
                waits.extend(&applier_waits[g.applier_of[n]]);
            }
            g.edges[n] = waits;
        }
        g
    }

    /// Numbers `node` (the first of a name wins), applied by applier `i`.
    fn add(&mut self, node: Node<'a>, object: Option<&'a Object>, i: usize) {
        if self.ids.contains_key(&node) {
            return;
        }
        self.ids.insert(node, self.nodes.len());
        self.nodes.push((node, object));
        self.applier_of.push(i);
    }

    /// Every cycle, once, printed as its path.
    fn cycles(&self, out: &mut Vec<Finding>) {
        let mut state = vec![0u8; self.nodes.len()];
        let mut reported: HashSet<Vec<usize>> = HashSet::new();
        for start in 0..self.nodes.len() {
            if state[start] != 0 {
                continue;
            }
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            let mut path: Vec<usize> = Vec::new();
            while let Some((node, next)) = stack.pop() {
                if next == 0 {
                    state[node] = 1;
                    path.push(node);
                }
                if let Some(&s) = self.edges[node].get(next) {
                    stack.push((node, next + 1));
                    match state[s] {
                        0 => stack.push((s, 0)),
                        1 => {
                            let from = path.iter().position(|&n| n == s).unwrap_or(0);
                            let mut cycle: Vec<usize> = path[from..].to_vec();
                            let min = cycle
                                .iter()
                                .enumerate()
                                .min_by_key(|(_, n)| &self.nodes[**n].0)
                                .map_or(0, |(i, _)| i);
                            cycle.rotate_left(min);
                            // One loop of Kustomizations is one finding, whichever
                            // HelmReleases it also passes through.
                            let mut key: Vec<usize> = cycle
                                .iter()
                                .copied()
                                .filter(|&n| self.nodes[n].0.2 == "Kustomization")
                                .collect();
                            if key.is_empty() {
                                key.clone_from(&cycle);
                            }
                            key.sort_unstable();
                            if reported.insert(key) {
                                self.report_cycle(&cycle, out);
                            }
                        }
                        _ => {}
                    }
                } else {
                    state[node] = 2;
                    path.pop();
                }
            }
        }
    }

    fn report_cycle(&self, cycle: &[usize], out: &mut Vec<Finding>) {
        let Some(first) = self.nodes[cycle[0]].1 else {
            return;
        };
        let mut names: Vec<String> = cycle.iter().map(|&n| shown(&self.nodes[n].0)).collect();
        names.push(shown(&self.nodes[cycle[0]].0));
        out.push(Finding::new(
            &first.at_field(&["spec", "dependsOn"]),
            Problem::error(
                Code::Cycle,
                format!(
                    "a dependency cycle on cluster {}: {}",
                    self.nodes[cycle[0]].0.0,
                    names.join(" → ")
                ),
            )
            .help(
                "break the cycle: none of these can become ready, and Flux stops reconciling them",
            ),
            "the cycle starts here",
        ));
    }

    /// Every applier that runs before applier `i` has applied anything: the ones that applied
    /// it and the Kustomizations it waits for, and theirs.
    fn before(
        &self,
        plan: &Plan,
        i: usize,
        memo: &mut HashMap<usize, HashSet<usize>>,
    ) -> HashSet<usize> {
        if let Some(s) = memo.get(&i) {
            return s.clone();
        }
        memo.insert(i, HashSet::new());
        let mut all = HashSet::new();
        for j in plan.waits_for(i, &self.index) {
            all.insert(j);
            all.extend(self.before(plan, j, memo));
        }
        memo.insert(i, all.clone());
        all
    }
}

/// Custom resources after their CRD, namespaced objects after their namespace.
fn order(plan: &Plan, graph: &Graph, out: &mut Vec<Finding>) {
    let made = Creators::of(plan);
    let mut memo = HashMap::new();
    for (i, a) in plan.appliers.iter().enumerate() {
        let before = graph.before(plan, i, &mut memo);
        let waits = |j: usize| j == i || before.contains(&j);
        for o in &a.objects {
            let key = (a.target.as_str(), o.group(), o.kind());
            if let Some(&j) = made.crds.get(&key).filter(|&&j| !waits(j)) {
                let by = &plan.appliers[j].id;
                out.push(Finding::new(
                    &o.at,
                    Problem::error(
                        Code::CrdOrder,
                        format!("{} is applied by {}, which does not wait for {by} that installs its CRD", o.id(), a.id),
                    )
                    .help(format!("add `dependsOn: [{{name: {}}}]` to {}", by.name, a.id)),
                    "this custom resource",
                ));
            }
            let ns = o.namespace();
            let scoped = super::known_cluster_scoped(o)
                || made.cluster_kinds.contains(&(o.group(), o.kind()));
            let given =
                GIVEN_NAMESPACES.contains(&ns) || made.argocd.contains(&(a.target.as_str(), ns));
            if ns.is_empty() || scoped || given {
                continue;
            }
            let problem = match made.namespaces.get(&(a.target.as_str(), ns)) {
                Some(&j) if waits(j) => continue,
                Some(&j) => {
                    let by = &plan.appliers[j].id;
                    Problem::error(
                        Code::NamespaceOrder,
                        format!("{} is applied by {}, which does not wait for {by} that creates namespace `{ns}`", o.id(), a.id),
                    )
                    .help(format!("add `dependsOn: [{{name: {}}}]` to {}, or create the namespace in the same folder", by.name, a.id))
                }
                None if made
                    .by_releases
                    .get(a.target.as_str())
                    .is_some_and(|r| r.contains(ns)) =>
                {
                    continue;
                }
                None => Problem::error(
                    Code::NamespaceOrder,
                    format!(
                        "{} is in namespace `{ns}`, which nothing creates on cluster {}",
                        o.id(),
                        a.target
                    ),
                )
                .help("add the Namespace to this folder or to a Kustomization this one depends on"),
            };
            out.push(Finding::new(&o.at, problem, "in this namespace"));
        }
    }
}

/// What creates the CRDs and namespaces of each cluster: the first applier of each.
struct Creators<'a> {
    crds: Map<(&'a str, &'a str, &'a str), usize>,
    /// Custom kinds whose CRD says `scope: Cluster`.
    cluster_kinds: HashSet<(&'a str, &'a str)>,
    namespaces: Map<(&'a str, &'a str), usize>,
    /// Namespaces holding Argo CD objects: Argo CD's installation creates them.
    argocd: HashSet<(&'a str, &'a str)>,
    /// Namespaces a HelmRelease creates (`install.createNamespace`) for its release.
    by_releases: HashMap<&'a str, HashSet<String>>,
}

impl<'a> Creators<'a> {
    fn of(plan: &'a Plan) -> Creators<'a> {
        let mut made = Creators {
            crds: Map::default(),
            cluster_kinds: HashSet::new(),
            namespaces: Map::default(),
            argocd: HashSet::new(),
            by_releases: HashMap::new(),
        };
        for (i, a) in plan.appliers.iter().enumerate() {
            // Argo CD creates an Application's destination namespace before its objects.
            let app = a
                .object
                .as_ref()
                .filter(|o| o.is(super::argocd::GROUP, "Application"));
            if let Some(ns) = app.and_then(super::argocd::created_namespace) {
                made.namespaces.entry((a.target.as_str(), ns)).or_insert(i);
            }
            for o in &a.objects {
                if o.kind() == "CustomResourceDefinition" {
                    let group = text(o.value(), &["spec", "group"]);
                    let kind = text(o.value(), &["spec", "names", "kind"]);
                    if text(o.value(), &["spec", "scope"]) == "Cluster" {
                        made.cluster_kinds.insert((group, kind));
                    }
                    made.crds
                        .entry((a.target.as_str(), group, kind))
                        .or_insert(i);
                } else if o.kind() == "Namespace" && o.group().is_empty() {
                    made.namespaces
                        .entry((a.target.as_str(), o.name()))
                        .or_insert(i);
                } else if o.group() == "argoproj.io" {
                    made.argocd.insert((a.target.as_str(), o.namespace()));
                } else if o.is(HELM_GROUP, "HelmRelease")
                    && o.field(&["spec", "install", "createNamespace"])
                        .as_deref()
                        .and_then(Json::as_bool)
                        == Some(true)
                {
                    let ns = o.text(&["spec", "targetNamespace"]).into_owned();
                    made.by_releases
                        .entry(a.target.as_str())
                        .or_default()
                        .insert(ns);
                }
            }
        }
        made
    }
}

/// Flux objects at API versions the controllers no longer serve.
fn versions(plan: &Plan, out: &mut Vec<Finding>) {
    let mut seen = HashSet::new();
    let objects = plan
        .appliers
        .iter()
        .flat_map(|a| a.objects.iter().chain(a.object.iter()));
    for o in objects {
        let api = o.api_version();
        let Some((_, to)) = OLD_VERSIONS.iter().find(|(from, _)| *from == api) else {
            continue;
        };
        if !seen.insert((o.at.file.name.clone(), o.at.span, o.id())) {
            continue;
        }
        out.push(Finding::new(
            &o.at_field(&["apiVersion"]),
            Problem::warning(
                Code::ApiVersion,
                format!(
                    "{} uses `{api}`, which current Flux no longer serves",
                    o.id()
                ),
            )
            .help(format!(
                "move it to `{to}` (check the fields the new version renamed)"
            )),
            "this version",
        ));
    }
}
