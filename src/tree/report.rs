//! A read tree as people and tools read it: per cluster, each Kustomization at its dependency
//! level (what the controllers can reconcile together), the folder it builds and the objects
//! it applies; as text or JSON (`docs/formats.md`).

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value as Json, json};

use super::Finding;
use super::Object;
use super::flux::{Applier, Plan};

/// The dependency level of every applier: 0 for the entry, else one more than the applier
/// that applied it and every Kustomization it depends on (a cycle counts once).
pub(crate) fn levels(plan: &Plan) -> Vec<usize> {
    let index = plan.index();
    let mut memo: Vec<Option<usize>> = vec![None; plan.appliers.len()];
    let mut visiting = vec![false; plan.appliers.len()];
    (0..plan.appliers.len())
        .map(|i| level(i, plan, &index, &mut memo, &mut visiting))
        .collect()
}

/// The level of applier `i` (see [`levels`]).
fn level(
    i: usize,
    plan: &Plan,
    index: &HashMap<(String, super::Id), usize>,
    memo: &mut Vec<Option<usize>>,
    visiting: &mut Vec<bool>,
) -> usize {
    if let Some(l) = memo[i] {
        return l;
    }
    if visiting[i] {
        return 0;
    }
    visiting[i] = true;
    let l = plan
        .waits_for(i, index)
        .into_iter()
        .map(|j| level(j, plan, index, memo, visiting) + 1)
        .max()
        .unwrap_or(0);
    visiting[i] = false;
    memo[i] = Some(l);
    l
}

/// The appliers of each target cluster, by level then name.
fn by_cluster(plan: &Plan) -> BTreeMap<&str, Vec<(usize, &Applier)>> {
    let levels = levels(plan);
    let mut out: BTreeMap<&str, Vec<(usize, &Applier)>> = BTreeMap::new();
    for (i, a) in plan.appliers.iter().enumerate() {
        out.entry(a.target.as_str())
            .or_default()
            .push((levels[i], a));
    }
    for list in out.values_mut() {
        list.sort_by(|x, y| (x.0, &x.1.id).cmp(&(y.0, &y.1.id)));
    }
    out
}

/// The plan as text; with `objects`, every object under the Kustomization that applies it.
pub(crate) fn text_plan(plan: &Plan, objects: bool) -> String {
    let mut s = format!("entry {}\n", plan.entry);
    for (cluster, list) in by_cluster(plan) {
        s.push_str(&format!("  cluster {cluster}\n"));
        for (level, a) in list {
            let what = match &a.unread {
                Some(why) => format!("not read: {why}"),
                None => format!("{} objects", a.objects.len()),
            };
            let from = if a.path.is_empty() {
                String::new()
            } else {
                format!(" ← {}", a.path)
            };
            s.push_str(&format!("    {level:>2}  {}{from} ({what})\n", a.id));
            if objects {
                let mut ids: Vec<String> = a.objects.iter().map(|o| o.id().to_string()).collect();
                ids.sort();
                for id in ids {
                    s.push_str(&format!("          {id}\n"));
                }
            }
        }
    }
    s
}

/// The plan as JSON; with `objects`, each object's full value as it reaches the cluster.
pub(crate) fn json_plan(plan: &Plan, objects: bool) -> Json {
    let clusters: Vec<Json> = by_cluster(plan)
        .into_iter()
        .map(|(cluster, list)| {
            let appliers: Vec<Json> = list
                .into_iter()
                .map(|(level, a)| {
                    let at = a.object.as_ref().map(|o| {
                        let (line, _) = o.at.file.line_col(o.at.span.offset);
                        json!({"file": o.at.file.name, "line": line})
                    });
                    let objs: Vec<Json> = a
                        .objects
                        .iter()
                        .map(|o| {
                            let (line, _) = o.at.file.line_col(o.at.span.offset);
                            let mut v = json!({
                                "apiVersion": o.api_version(),
                                "kind": o.kind(),
                                "namespace": o.namespace(),
                                "name": o.name(),
                                "file": o.at.file.name,
                                "line": line,
                            });
                            if objects {
                                v["object"] = o.full().into_owned();
                            }
                            v
                        })
                        .collect();
                    json!({
                        "kind": a.id.kind,
                        "namespace": a.id.namespace,
                        "name": a.id.name,
                        "level": level,
                        "home": a.home,
                        "path": a.path,
                        "writtenAt": at,
                        "unread": a.unread,
                        "objects": objs,
                    })
                })
                .collect();
            json!({"name": cluster, "appliers": appliers})
        })
        .collect();
    json!({"entry": plan.entry, "clusters": clusters})
}

/// Findings as JSON: code, severity, message, file, line, column, help.
pub(crate) fn json_findings(findings: &[Finding]) -> Json {
    Json::Array(
        findings
            .iter()
            .map(|f| {
                let p = &f.problem;
                let (line, column) = p
                    .primary
                    .as_ref()
                    .map_or((0, 0), |l| f.file.line_col(l.span.offset));
                json!({
                    "code": p.code.as_str(),
                    "severity": p.severity,
                    "message": p.message,
                    "file": f.file.name,
                    "line": line,
                    "column": column,
                    "help": p.help,
                })
            })
            .collect(),
    )
}

/// Node names for graphs: `cluster/Kind/namespace/name`, quoted for Mermaid and DOT.
fn node(cluster: &str, id: &super::Id) -> String {
    format!("{cluster}: {id}").replace('"', "'")
}

/// From, to, and why (`applies`, `dependsOn`).
type Edge = (String, String, &'static str);

/// The Kustomizations of each cluster and what each waits for: an edge from the applier
/// that applies a Kustomization, and from each Kustomization it `dependsOn`.
fn edges(plan: &Plan) -> (Vec<(String, String)>, Vec<Edge>) {
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    for a in &plan.appliers {
        let me = node(&a.home, &a.id);
        nodes.push((a.target.clone(), me.clone()));
        if let Some(p) = a.parent {
            let parent = &plan.appliers[p];
            edges.push((node(&parent.home, &parent.id), me.clone(), "applies"));
        }
        for id in a.object.iter().flat_map(Object::depends_on) {
            edges.push((node(&a.home, &id), me.clone(), "dependsOn"));
        }
    }
    (nodes, edges)
}

/// The plan's Kustomizations as a Mermaid flowchart, one subgraph per cluster their objects
/// reach; edges go from what runs first.
pub(crate) fn mermaid(plan: &Plan) -> String {
    let (nodes, edges) = edges(plan);
    let ids: BTreeMap<&String, usize> =
        nodes.iter().enumerate().map(|(i, (_, n))| (n, i)).collect();
    let mut by_cluster: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
    for (c, n) in &nodes {
        by_cluster.entry(c.as_str()).or_default().push(n);
    }
    let mut s = String::from("flowchart LR\n");
    for (i, (c, list)) in by_cluster.iter().enumerate() {
        s.push_str(&format!("  subgraph c{i}[\"{}\"]\n", c.replace('"', "'")));
        for n in list {
            s.push_str(&format!("    k{}[\"{n}\"]\n", ids[n]));
        }
        s.push_str("  end\n");
    }
    for (from, to, label) in &edges {
        if let (Some(f), Some(t)) = (ids.get(from), ids.get(to)) {
            s.push_str(&format!("  k{f} -->|{label}| k{t}\n"));
        }
    }
    s
}

/// The plan's Kustomizations as a Graphviz digraph, one cluster per target.
pub(crate) fn dot(plan: &Plan) -> String {
    let (nodes, edges) = edges(plan);
    let mut by_cluster: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
    for (c, n) in &nodes {
        by_cluster.entry(c.as_str()).or_default().push(n);
    }
    let mut s = String::from("digraph plan {\n  rankdir=LR;\n");
    for (i, (c, list)) in by_cluster.iter().enumerate() {
        s.push_str(&format!(
            "  subgraph cluster_{i} {{\n    label=\"{}\";\n",
            c.replace('"', "'")
        ));
        for n in list {
            s.push_str(&format!("    \"{n}\";\n"));
        }
        s.push_str("  }\n");
    }
    for (from, to, label) in &edges {
        s.push_str(&format!("  \"{from}\" -> \"{to}\" [label=\"{label}\"];\n"));
    }
    s.push_str("}\n");
    s
}
