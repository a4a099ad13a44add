//! `diff --base` and `promote` reports: the changes as text, markdown and JSON.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value as Json, json};

use super::{Change, Changes};

/// `Kind namespace/name`, the namespace left out when it differs per cluster.
fn object_name(c: &Change, at: &BTreeSet<(String, String)>) -> String {
    let namespaces: BTreeSet<&str> = at.iter().map(|(_, ns)| ns.as_str()).collect();
    match namespaces.iter().next() {
        Some(ns) if namespaces.len() == 1 && !ns.is_empty() => {
            format!("{} {ns}/{}", c.kind, c.name)
        }
        _ => format!("{} {}", c.kind, c.name),
    }
}

fn clusters_of(at: &BTreeSet<(String, String)>) -> Vec<String> {
    let set: BTreeSet<&String> = at.iter().map(|(c, _)| c).collect();
    set.into_iter().cloned().collect()
}

pub(super) fn field_line((path, old, new): &(String, Option<String>, Option<String>)) -> String {
    let none = || "(none)".to_owned();
    format!(
        "{path}: {} → {}",
        old.clone().unwrap_or_else(none),
        new.clone().unwrap_or_else(none)
    )
}

fn totals(changes: &Changes) -> (usize, usize) {
    let clusters: BTreeSet<&String> = changes.values().flatten().map(|(c, _)| c).collect();
    (changes.len(), clusters.len())
}

/// The changes as text; `from` names what they are measured from (`` `main` ``).
pub(crate) fn text_report(from: &str, changes: &Changes) -> String {
    let (n, clusters) = totals(changes);
    if n == 0 {
        return format!("no cluster receives anything different from {from}\n");
    }
    let mut out = format!("{n} change(s) from {from}, on {clusters} cluster(s):\n");
    for (c, at) in changes {
        let hit = clusters_of(at);
        out.push_str(&format!(
            "{:<8} {} on {} cluster(s): {}\n",
            c.what,
            object_name(c, at),
            hit.len(),
            hit.join(", ")
        ));
        for f in &c.fields {
            out.push_str(&format!("           {}\n", field_line(f)));
        }
    }
    crate::term::escape_controls(&out).into_owned()
}

pub(crate) fn markdown_report(base: &str, changes: &Changes) -> String {
    let (n, clusters) = totals(changes);
    let mut out = format!("### synctl: what this change does to each cluster (from `{base}`)\n\n");
    if n == 0 {
        out.push_str("No cluster receives anything different.\n");
        return out;
    }
    out.push_str(&format!(
        "{n} change(s) on {clusters} cluster(s).\n\n| change | object | clusters | fields |\n|---|---|---|---|\n"
    ));
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    for (c, at) in changes {
        let hit = clusters_of(at);
        let fields: Vec<String> = c
            .fields
            .iter()
            .map(|f| format!("`{}`", cell(&field_line(f)).replace('`', "'")))
            .collect();
        out.push_str(&format!(
            "| {} | {} | {} ({}) | {} |\n",
            c.what,
            cell(&object_name(c, at)),
            hit.len(),
            cell(&hit.join(", ")),
            fields.join("<br>")
        ));
    }
    crate::term::escape_controls(&out).into_owned()
}

pub(crate) fn json_report(base: &str, changes: &Changes) -> Json {
    let mut per_cluster: BTreeMap<String, BTreeMap<&str, usize>> = BTreeMap::new();
    let list: Vec<Json> = changes
        .iter()
        .map(|(c, at)| {
            for cluster in clusters_of(at) {
                *per_cluster.entry(cluster).or_default().entry(c.what).or_default() += 1;
            }
            let namespaces: BTreeSet<&str> = at.iter().map(|(_, ns)| ns.as_str()).collect();
            json!({
                "change": c.what,
                "group": c.group,
                "kind": c.kind,
                "name": c.name,
                "namespaces": namespaces,
                "clusters": clusters_of(at),
                "fields": c.fields.iter().map(|(p, a, b)| json!({"path": p, "from": a, "to": b})).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({"base": base, "changes": list, "clusters": per_cluster})
}
