//! What a read tree must satisfy before it is merged, each proof a located problem with its
//! own code: `dependsOn` naming something on that cluster, no cycle through Kustomizations and
//! HelmReleases, custom resources and namespaced objects after what creates their CRD and
//! namespace, one applier per object, and Flux API versions the controllers still serve.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value as Json;

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
    super::lockdown::check(plan, locked, &mut out);
    super::projects::check(plan, &mut out);
    super::argocd::unawaited_waves(plan, &mut out);
    out
}

/// One object applied by two appliers on one cluster.
fn conflicts(plan: &Plan, out: &mut Vec<Finding>) {
    let mut seen: HashMap<(&str, Id), usize> = HashMap::new();
    for (i, a) in plan.appliers.iter().enumerate() {
        for o in &a.objects {
            let key = (a.target.as_str(), o.id());
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
}

/// A node of the wait graph: a Kustomization or HelmRelease on a cluster.
type Node = (String, Id);

/// What waits for what, per cluster.
struct Graph {
    /// Node → the nodes it waits for (dependsOn; a Kustomization that waits for the
    /// HelmReleases it applies; a HelmRelease for what its applier waits for).
    edges: BTreeMap<Node, Vec<Node>>,
    /// Node → the applier index (Kustomizations) or the index of the applier of it (HelmReleases).
    applier_of: HashMap<Node, usize>,
    /// Where each node was written.
    objects: HashMap<Node, Object>,
}

impl Graph {
    fn new(plan: &Plan, out: &mut Vec<Finding>) -> Graph {
        let mut g = Graph {
            edges: BTreeMap::new(),
            applier_of: HashMap::new(),
            objects: HashMap::new(),
        };
        for (i, a) in plan.appliers.iter().enumerate() {
            g.applier_of.insert((a.home.clone(), a.id.clone()), i);
            if let Some(o) = &a.object {
                g.objects.insert((a.home.clone(), a.id.clone()), o.clone());
            }
            for o in a.objects.iter().filter(|o| o.is(HELM_GROUP, "HelmRelease")) {
                let node = (a.target.clone(), o.id());
                g.applier_of.insert(node.clone(), i);
                g.objects.insert(node, o.clone());
            }
        }
        let nodes: Vec<Node> = g.objects.keys().cloned().collect();
        for node in nodes {
            let o = g.objects[&node].clone();
            let mut waits = Vec::new();
            for (i, dep) in o.depends_on().into_iter().enumerate() {
                let target = (node.0.clone(), dep);
                if g.objects.contains_key(&target)
                    || (o.kind() == "Kustomization" && g.applier_of.contains_key(&target))
                {
                    waits.push(target);
                } else {
                    out.push(Finding::new(
                        &o.at_field(&["spec", "dependsOn", &i.to_string()]),
                        Problem::error(
                            Code::DependsOn,
                            format!("{} depends on {}, which nothing applies on cluster {}", o.id(), target.1, node.0),
                        )
                        .help("fix the name (and namespace), or apply that object on this cluster: the controller waits for it forever"),
                        "this dependency",
                    ));
                }
            }
            if o.is(KUSTOMIZE_GROUP, "Kustomization") {
                let wait = o.value.pointer("/spec/wait").and_then(Json::as_bool) == Some(true);
                if let Some(&i) = g.applier_of.get(&node) {
                    let a = &plan.appliers[i];
                    if wait {
                        for hr in a.objects.iter().filter(|x| x.is(HELM_GROUP, "HelmRelease")) {
                            waits.push((a.target.clone(), hr.id()));
                        }
                    }
                }
            } else if let Some(&i) = g.applier_of.get(&node) {
                // A HelmRelease exists once its Kustomization ran, after what that one waits for.
                let a = &plan.appliers[i];
                if let Some(k) = &a.object {
                    for dep in k.depends_on() {
                        waits.push((a.home.clone(), dep));
                    }
                }
            }
            g.edges.insert(node, waits);
        }
        g
    }

    /// Every cycle, once, printed as its path.
    fn cycles(&self, out: &mut Vec<Finding>) {
        let mut state: HashMap<&Node, u8> = HashMap::new();
        let mut reported: HashSet<Vec<Node>> = HashSet::new();
        for start in self.edges.keys() {
            let mut stack: Vec<(&Node, usize)> = vec![(start, 0)];
            let mut path: Vec<&Node> = Vec::new();
            if state.get(start).copied().unwrap_or(0) != 0 {
                continue;
            }
            while let Some((node, next)) = stack.pop() {
                if next == 0 {
                    state.insert(node, 1);
                    path.push(node);
                }
                let succ = self.edges.get(node).map_or(&[][..], Vec::as_slice);
                if let Some(s) = succ.get(next) {
                    stack.push((node, next + 1));
                    match state.get(s).copied().unwrap_or(0) {
                        0 if self.edges.contains_key(s) => stack.push((s, 0)),
                        1 => {
                            let from = path.iter().position(|n| *n == s).unwrap_or(0);
                            let mut cycle: Vec<Node> =
                                path[from..].iter().map(|n| (*n).clone()).collect();
                            let min = cycle
                                .iter()
                                .enumerate()
                                .min_by_key(|(_, n)| *n)
                                .map_or(0, |(i, _)| i);
                            cycle.rotate_left(min);
                            // One loop of Kustomizations is one finding, whichever
                            // HelmReleases it also passes through.
                            let mut key: Vec<Node> = cycle
                                .iter()
                                .filter(|n| n.1.kind == "Kustomization")
                                .cloned()
                                .collect();
                            if key.is_empty() {
                                key.clone_from(&cycle);
                            }
                            key.sort();
                            if reported.insert(key) {
                                self.report_cycle(&cycle, out);
                            }
                        }
                        _ => {}
                    }
                } else {
                    state.insert(node, 2);
                    path.pop();
                }
            }
        }
    }

    fn report_cycle(&self, cycle: &[Node], out: &mut Vec<Finding>) {
        let Some(first) = self.objects.get(&cycle[0]) else {
            return;
        };
        let mut names: Vec<String> = cycle.iter().map(|n| n.1.to_string()).collect();
        names.push(cycle[0].1.to_string());
        out.push(Finding::new(
            &first.at_field(&["spec", "dependsOn"]),
            Problem::error(
                Code::Cycle,
                format!(
                    "a dependency cycle on cluster {}: {}",
                    cycle[0].0,
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
        for j in plan.waits_for(i, &self.applier_of) {
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
            let key = (a.target.as_str(), o.group().to_owned(), o.kind().to_owned());
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
                || made
                    .cluster_kinds
                    .contains(&(o.group().to_owned(), o.kind().to_owned()));
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
                None if created_by_release(plan, &a.target, ns) => continue,
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
    crds: HashMap<(&'a str, String, String), usize>,
    /// Custom kinds whose CRD says `scope: Cluster`.
    cluster_kinds: HashSet<(String, String)>,
    namespaces: HashMap<(&'a str, &'a str), usize>,
    /// Namespaces holding Argo CD objects: Argo CD's installation creates them.
    argocd: HashSet<(&'a str, &'a str)>,
}

impl<'a> Creators<'a> {
    fn of(plan: &'a Plan) -> Creators<'a> {
        let mut made = Creators {
            crds: HashMap::new(),
            cluster_kinds: HashSet::new(),
            namespaces: HashMap::new(),
            argocd: HashSet::new(),
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
                    let group = text(&o.value, &["spec", "group"]).to_owned();
                    let kind = text(&o.value, &["spec", "names", "kind"]).to_owned();
                    if text(&o.value, &["spec", "scope"]) == "Cluster" {
                        made.cluster_kinds.insert((group.clone(), kind.clone()));
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
                }
            }
        }
        made
    }
}

/// Whether a HelmRelease with `install.createNamespace` creates `ns` on `target`.
fn created_by_release(plan: &Plan, target: &str, ns: &str) -> bool {
    plan.appliers
        .iter()
        .filter(|a| a.target == target)
        .any(|a| {
            a.objects.iter().any(|o| {
                o.is(HELM_GROUP, "HelmRelease")
                    && o.value
                        .pointer("/spec/install/createNamespace")
                        .and_then(Json::as_bool)
                        == Some(true)
                    && text(&o.value, &["spec", "targetNamespace"]) == ns
            })
        })
}

/// Flux objects at API versions the controllers no longer serve.
fn versions(plan: &Plan, out: &mut Vec<Finding>) {
    let mut seen = HashSet::new();
    let objects = plan
        .appliers
        .iter()
        .flat_map(|a| a.objects.iter().chain(a.object.iter()));
    for o in objects {
        let api = text(&o.value, &["apiVersion"]);
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
