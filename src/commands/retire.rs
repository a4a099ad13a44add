//! `synctl retire CLUSTER`: a cluster torn down in stages, one commit each, in the reverse of
//! the order it was built: its tenants first (their workloads sit on everything else), then its
//! components wave by wave from the last, each wave's components after everything on the
//! cluster that depends on them (`dependsOn`, and `requires` on what they provide: a custom
//! resource goes before the controller that installs its CRD), and last the cluster itself
//! (its entry, its hub namespace and kubeconfig reference). The spec records the teardown in
//! the cluster's `retired` list; each run moves one stage on and says what to verify first
//! (docs/retire.md).

use serde_json::json;

use super::add_env::edit::{read_for_edit, valid_text};
use super::{DataFormat, Failure, Global};
use crate::model::{Cluster, Fleet};
use crate::spec::yaml::{Node, Value};
use crate::term::print_stdout;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The cluster to retire
    pub cluster: String,
    /// Print every stage left, without changing anything
    #[arg(long)]
    pub plan: bool,
    /// Commit the stage (the spec and the generated files)
    #[arg(long)]
    pub commit: bool,
    /// text, or json: `{cluster, stages: [{stage, removes, kind, verify}], done?}`
    #[arg(long, value_enum, default_value_t = DataFormat::Text)]
    pub format: DataFormat,
}

/// One stage of a teardown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stage {
    /// `tenants`, `components` or `cluster`.
    pub(crate) kind: &'static str,
    /// What it removes (tenants or components; the cluster's own name for the last stage).
    pub(crate) removes: Vec<String>,
}

/// Runs `retire`.
///
/// # Errors
/// [`Failure::Usage`] for an unknown cluster or the hub; [`Failure::Invalid`] when the spec
/// (before or after the stage) does not validate.
pub(crate) fn run(g: &Global, a: &Args) -> Result<(), Failure> {
    let (original, checked) = read_for_edit(g, "retire")?;
    let (Some((fleet, _)), Some(root)) = (&checked.fleet, &checked.root) else {
        return Err(Failure::Invalid);
    };
    let ci = cluster_index(fleet, &a.cluster)?;
    let stages = stages(fleet, ci);
    if a.plan {
        print(a, fleet, ci, &stages, true);
        return Ok(());
    }
    let stage = &stages[0];
    let text = if stage.kind == "cluster" {
        without_cluster(&original, root, &a.cluster)
    } else {
        with_retired(&original, root, &a.cluster, &stage.removes)
    }
    .map_err(|e| Failure::Usage(format!("{e}; nothing changed")))?;
    let refused = format!(
        "the spec after this stage of retiring `{}` does not validate: make the change by hand; nothing changed\n",
        a.cluster
    );
    let after = valid_text(g, text.clone(), &refused)?;
    let subject = format!(
        "synctl: retire {}, stage {}: {}",
        a.cluster,
        stage.kind,
        stage.removes.join(", ")
    );
    super::add_env::edit::write_edited(
        g,
        a.commit,
        after,
        (&original, &text),
        &subject,
        true,
        |_, _| (),
    )?;
    print(a, fleet, ci, &stages[..1], false);
    Ok(())
}

/// The index of cluster `name`, which must not be the hub.
fn cluster_index(fleet: &Fleet, name: &str) -> Result<usize, Failure> {
    let Some(ci) = fleet.clusters.iter().position(|c| c.name == name) else {
        let names: Vec<&str> = fleet.clusters.iter().map(|c| c.name.as_str()).collect();
        return Err(Failure::Usage(format!(
            "no cluster is named `{name}` (clusters: {}); nothing changed",
            names.join(", ")
        )));
    };
    if fleet.clusters[ci].is_hub() {
        return Err(Failure::Usage(format!(
            "`{name}` is the hub: it runs the fleet's controllers; retire its fleet clusters first, then take it down by hand; nothing changed"
        )));
    }
    // A cluster's components come from its environment's overlay: taking them off one
    // cluster of a shared environment would split it (`synctl::placement`).
    let env = &fleet.clusters[ci].environment;
    let sharing: Vec<&str> = fleet
        .clusters
        .iter()
        .filter(|c| &c.environment == env && c.name != name)
        .map(|c| c.name.as_str())
        .collect();
    if !sharing.is_empty() {
        return Err(Failure::Usage(format!(
            "`{name}` shares environment `{env}` (and its overlay) with {}: give it an environment of its own first (`environment: {name}`, with the `environments.{env}` settings it needs), commit that, then retire it; nothing changed",
            sharing.join(", ")
        )));
    }
    Ok(ci)
}

/// Every stage left for cluster `ci`, in order; the last removes the cluster itself.
pub(crate) fn stages(fleet: &Fleet, ci: usize) -> Vec<Stage> {
    let mut out = Vec::new();
    let tenants: Vec<String> = fleet
        .tenants
        .iter()
        .filter(|t| t.clusters.contains(&ci))
        .map(|t| t.name.clone())
        .collect();
    if !tenants.is_empty() {
        out.push(Stage {
            kind: "tenants",
            removes: tenants,
        });
    }
    let mut left: Vec<usize> = (0..fleet.components.len())
        .filter(|&i| fleet.components[i].clusters.binary_search(&ci).is_ok())
        .collect();
    while !left.is_empty() {
        // What no component left on the cluster needs; of it, the last wave's.
        let needed = |i: usize| {
            left.iter().any(|&j| {
                let c = &fleet.components[j];
                j != i
                    && (c.depends_on.iter().any(|d| d.index == i)
                        || c.requires.iter().any(|r| r.providers.contains(&i)))
            })
        };
        let free: Vec<usize> = left.iter().copied().filter(|&i| !needed(i)).collect();
        // A cycle cannot reach here (the spec validated); take everything left if it did.
        let free = if free.is_empty() { left.clone() } else { free };
        let last = free
            .iter()
            .map(|&i| fleet.components[i].wave)
            .max()
            .unwrap_or(0);
        let mut stage: Vec<usize> = free
            .into_iter()
            .filter(|&i| fleet.components[i].wave == last)
            .collect();
        stage.sort_by(|&x, &y| fleet.components[x].name.cmp(&fleet.components[y].name));
        left.retain(|i| !stage.contains(i));
        out.push(Stage {
            kind: "components",
            removes: stage
                .iter()
                .map(|&i| fleet.components[i].name.clone())
                .collect(),
        });
    }
    out.push(Stage {
        kind: "cluster",
        removes: vec![fleet.clusters[ci].name.clone()],
    });
    out
}

/// The cluster item named `name` in `spec.clusters`.
fn cluster_node<'a>(root: &'a Node, name: &str) -> Result<&'a Node, String> {
    root.at(["spec", "clusters"])
        .map_or(&[][..], Node::items)
        .iter()
        .find(|c| c.get("name").and_then(Node::as_str) == Some(name))
        .ok_or_else(|| format!("cluster `{name}` is not written in `spec.clusters`"))
}

/// `text` with `names` appended to the cluster's `retired` list (the list added when absent).
fn with_retired(
    text: &str,
    root: &Node,
    cluster: &str,
    names: &[String],
) -> Result<String, String> {
    let node = cluster_node(root, cluster)?;
    let items: Vec<String> = names
        .iter()
        .map(|n| crate::render::yaml_out::flow_scalar(n))
        .collect();
    let edit = match node.get("retired") {
        Some(list) if text[list.span.offset..].starts_with('[') => {
            let close = super::promote::node_end(list) - 1;
            let sep = if list.items().is_empty() { "" } else { ", " };
            (close, 0, format!("{sep}{}", items.join(", ")))
        }
        Some(list) => {
            // A block list: new items after its last, at its indentation.
            let final_item = list.items().last().ok_or("`retired` is empty")?;
            let line_start = text[..final_item.span.offset]
                .rfind('\n')
                .map_or(0, |i| i + 1);
            let dash = &text[line_start..final_item.span.offset];
            let end = super::promote::node_end(final_item);
            let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
            let lines = items.iter().fold(String::new(), |mut acc, i| {
                acc.push('\n');
                acc.push_str(dash);
                acc.push_str(i);
                acc
            });
            (line_end, 0, lines)
        }
        None => {
            super::promote::add_entry(text, node, "retired", &format!("[{}]", items.join(", ")))?
        }
    };
    let mut out = text.to_owned();
    out.replace_range(edit.0..edit.0 + edit.1, &edit.2);
    Ok(out)
}

/// `text` without the cluster's item and without its name in any `clusters:` list (a list
/// left empty becomes `[]`).
fn without_cluster(text: &str, root: &Node, cluster: &str) -> Result<String, String> {
    let node = cluster_node(root, cluster)?;
    let flow = root
        .at(["spec", "clusters"])
        .is_some_and(|l| text[l.span.offset..].starts_with('['));
    if flow {
        return Err(format!(
            "`spec.clusters` is a flow list: remove `{cluster}` from it by hand"
        ));
    }
    let mut cuts = vec![item_lines(text, node)];
    let mut lists = Vec::new();
    collect_lists(root, &mut lists);
    for list in lists {
        let hits: Vec<&Node> = list
            .items()
            .iter()
            .filter(|i| i.as_str() == Some(cluster))
            .collect();
        if hits.is_empty() {
            continue;
        }
        if hits.len() == list.items().len() {
            let end = super::promote::node_end(list);
            cuts.push((list.span.offset, end - list.span.offset, "[]".to_owned()));
        } else if text[list.span.offset..].starts_with('[') {
            for h in hits {
                let start = h.span.offset;
                let mut end = start + h.span.len;
                let rest = &text[end..];
                let trimmed = rest.trim_start_matches([' ', ',']);
                if rest.trim_start().starts_with(',') {
                    end += rest.len() - trimmed.len();
                    cuts.push((start, end - start, String::new()));
                } else {
                    // The last item: take the comma before it.
                    let before = text[..start].trim_end_matches([' ', ',']).len();
                    cuts.push((before, end - before, String::new()));
                }
            }
        } else {
            for h in hits {
                cuts.push(item_lines(text, h));
            }
        }
    }
    cuts.sort_by_key(|c| std::cmp::Reverse(c.0));
    let mut out = text.to_owned();
    for (at, len, new) in cuts {
        out.replace_range(at..at + len, &new);
    }
    Ok(out)
}

/// The whole lines of block-sequence item `node` (its dash through its last line).
fn item_lines(text: &str, node: &Node) -> (usize, usize, String) {
    let start = text[..node.span.offset].rfind('\n').map_or(0, |i| i + 1);
    let end = super::promote::node_end(node);
    let end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
    (start, end - start, String::new())
}

/// Every `clusters:` sequence under `node` (components, tenants, their entries).
fn collect_lists<'a>(node: &'a Node, out: &mut Vec<&'a Node>) {
    match &node.value {
        Value::Map(entries) => {
            for e in entries {
                if e.key == "clusters" && matches!(e.value.value, Value::Seq(_)) {
                    let is_names = e.value.items().iter().all(|i| i.as_str().is_some());
                    if is_names {
                        out.push(&e.value);
                        continue;
                    }
                }
                collect_lists(&e.value, out);
            }
        }
        Value::Seq(items) => items.iter().for_each(|i| collect_lists(i, out)),
        _ => {}
    }
}

/// What to check on `c` before the next stage, after `stage` was applied.
fn verify(fleet: &Fleet, c: &Cluster, stage: &Stage) -> Vec<String> {
    let argocd = fleet.engine == crate::spec::raw::Engine::ArgoCd;
    let ctx = &c.name;
    // Where the objects that deliver to the cluster live: the hub, or the cluster itself.
    let hub = fleet.hub().map_or("hub", |h| h.name.as_str());
    let home = if c.is_fleet() { hub } else { ctx.as_str() };
    let mut out = Vec::new();
    match stage.kind {
        "cluster" if argocd => out.push(format!(
            "argocd cluster rm {ctx}   # once its Applications are gone (Argo CD on `{hub}`)"
        )),
        "cluster" if c.is_fleet() => {
            out.push(format!(
                "flux --context {hub} get kustomizations -n {ctx}   # nothing left on the hub for `{ctx}`"
            ));
            out.push(format!(
                "kubectl --context {hub} delete namespace {ctx}   # by hand: synctl marks it `prune: disabled` so that no commit loses its kubeconfig Secret"
            ));
        }
        "cluster" => out.push(format!(
            "flux --context {ctx} uninstall   # its own Flux, once its tree is gone from Git"
        )),
        _ if argocd => {
            for n in &stage.removes {
                out.push(format!(
                    "kubectl --context {hub} -n {} get application {ctx}-{n}   # NotFound once Argo CD deleted its resources (resources finalizer)",
                    fleet.argocd_namespace
                ));
            }
        }
        _ => out.push(format!(
            "flux --context {home} get helmreleases -A   # {} no longer listed",
            stage.removes.join(", ")
        )),
    }
    if stage.kind != "cluster" {
        let namespaces: Vec<String> = stage_namespaces(fleet, stage);
        if !namespaces.is_empty() {
            out.push(format!(
                "kubectl --context {ctx} get namespace {}   # NotFound (no namespace left Terminating)",
                namespaces.join(" ")
            ));
        }
    }
    out
}

/// The namespaces a stage's components and tenants own.
fn stage_namespaces(fleet: &Fleet, stage: &Stage) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in &stage.removes {
        if let Some(c) = fleet.components.iter().find(|c| &c.name == n) {
            out.push(c.namespace.clone());
        } else if let Some(t) = fleet.tenants.iter().find(|t| &t.name == n) {
            out.extend(t.namespaces.iter().map(|(ns, _)| ns.clone()));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Prints `stages` (with `planned`, every stage left; else the one just done).
fn print(a: &Args, fleet: &Fleet, ci: usize, stages: &[Stage], planned: bool) {
    let c = &fleet.clusters[ci];
    if a.format == DataFormat::Json {
        let list: Vec<serde_json::Value> = stages
            .iter()
            .enumerate()
            .map(|(i, s)| {
                json!({"stage": i + 1, "kind": s.kind, "removes": s.removes, "verify": verify(fleet, c, s)})
            })
            .collect();
        let doc = json!({"cluster": a.cluster, "plan": planned, "stages": list});
        print_stdout(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        ));
        return;
    }
    let mut out = String::new();
    if planned {
        out.push_str(&format!(
            "retiring `{}`: {} stage(s) left, one per `synctl retire {}`:\n",
            a.cluster,
            stages.len(),
            a.cluster
        ));
    }
    for (i, s) in stages.iter().enumerate() {
        let head = match s.kind {
            "cluster" => format!(
                "remove cluster `{}` from the spec (its entry, hub namespace and kubeconfig reference)",
                a.cluster
            ),
            kind => format!("retire {kind} {}", s.removes.join(", ")),
        };
        if planned {
            out.push_str(&format!("{}. {head}\n", i + 1));
        } else {
            out.push_str(&format!(
                "{head}: written{}\n",
                if a.commit { " and committed" } else { "" }
            ));
            out.push_str(if s.kind == "cluster" {
                "push it, and once the controllers pruned, verify:\n"
            } else {
                "push it, let the controllers prune, and verify before the next stage:\n"
            });
            for v in verify(fleet, c, s) {
                out.push_str(&format!("  {v}\n"));
            }
        }
    }
    print_stdout(&crate::term::escape_controls(&out));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::source::Source;

    fn root(text: &str) -> Node {
        crate::spec::yaml::parse(&Source::new("f.yaml", text.to_owned())).unwrap()
    }

    #[test]
    fn retired_names_are_appended_in_the_list_style_or_a_list_is_added() {
        let text = "spec:\n  clusters:\n    - name: a\n      labels: {x: y}\n    - {name: b, retired: [p]}\n";
        let r = root(text);
        assert_eq!(
            with_retired(text, &r, "a", &["q".to_owned(), "r".to_owned()]).unwrap(),
            "spec:\n  clusters:\n    - name: a\n      labels: {x: y}\n      retired: [q, r]\n    - {name: b, retired: [p]}\n"
        );
        assert_eq!(
            with_retired(text, &r, "b", &["q".to_owned()]).unwrap(),
            "spec:\n  clusters:\n    - name: a\n      labels: {x: y}\n    - {name: b, retired: [p, q]}\n"
        );
        let block =
            "spec:\n  clusters:\n    - name: a\n      retired:\n        - p\n      labels: {}\n";
        assert_eq!(
            with_retired(block, &root(block), "a", &["q".to_owned()]).unwrap(),
            "spec:\n  clusters:\n    - name: a\n      retired:\n        - p\n        - q\n      labels: {}\n"
        );
    }

    #[test]
    fn a_flow_list_of_clusters_is_left_to_a_person() {
        let text = "spec:\n  clusters: [{name: a}, {name: b}]\n";
        assert!(without_cluster(text, &root(text), "b").is_err());
    }

    #[test]
    fn a_cluster_leaves_the_spec_with_its_name_in_every_list() {
        let text = "spec:\n  clusters:\n    - name: a\n    # b is going\n    - name: b\n      labels: {x: y}\n    - name: c\n  components:\n    - {name: p, clusters: [a, b, c]}\n    - {name: q, clusters: [a, b]}\n    - name: r\n      clusters:\n        - b\n        - c\n    - {name: s, clusters: [b]}\n";
        assert_eq!(
            without_cluster(text, &root(text), "b").unwrap(),
            "spec:\n  clusters:\n    - name: a\n    # b is going\n    - name: c\n  components:\n    - {name: p, clusters: [a, c]}\n    - {name: q, clusters: [a]}\n    - name: r\n      clusters:\n        - c\n    - {name: s, clusters: []}\n"
        );
    }
}
