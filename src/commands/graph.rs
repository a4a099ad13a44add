//! `synctl graph`: the components by wave, in dependency order, as text, Mermaid or DOT.
//! Edges point from a dependency to the component that `dependsOn` it (the order they apply).

use std::fmt::Write as _;

use super::{Failure, Global, print_stdout};
use crate::graph::Graph;
use crate::model::{ComponentSource, Engine, Fleet};

/// How `graph` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum GraphFormat {
    #[value(alias = "human")]
    Text,
    Mermaid,
    Dot,
    Json,
}

/// Flags of `graph`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Args {
    #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
    pub format: GraphFormat,
}

/// Prints the graph of a valid spec.
///
/// # Errors
/// [`Failure::Invalid`] when the spec has errors.
pub(crate) fn run(g: &Global, args: &Args) -> Result<(), Failure> {
    let format = args.format;
    let checked = g.check()?.valid().map_err(|stop| g.fail(stop))?;
    let Some((fleet, graph)) = &checked.fleet else {
        return Err(Failure::Invalid);
    };
    print_stdout(&match format {
        GraphFormat::Text => text(fleet, graph),
        GraphFormat::Mermaid => mermaid(fleet, graph),
        GraphFormat::Dot => dot(fleet, graph),
        GraphFormat::Json => json(fleet, graph),
    });
    Ok(())
}

fn clusters_of(fleet: &Fleet, c: usize) -> String {
    let names: Vec<&str> = fleet.components[c]
        .clusters
        .iter()
        .map(|&i| fleet.clusters[i].name.as_str())
        .collect();
    names.join(", ")
}

/// The graph as JSON: waves (in order, with their Argo CD base), nodes (in apply order, with
/// wave, depth, sync wave, source kind and clusters) and edges (dependency → dependent).
#[must_use]
pub(crate) fn json(fleet: &Fleet, graph: &Graph) -> String {
    let waves: Vec<serde_json::Value> = fleet
        .waves
        .iter()
        .map(|w| serde_json::json!({"name": w.name, "syncWave": w.base}))
        .collect();
    let nodes: Vec<serde_json::Value> = graph
        .order
        .iter()
        .map(|&c| {
            let comp = &fleet.components[c];
            let clusters: Vec<&str> = comp.clusters.iter().map(|&i| fleet.clusters[i].name.as_str()).collect();
            serde_json::json!({
                "name": comp.name,
                "wave": fleet.waves[comp.wave].name,
                "depth": graph.depth[c],
                "syncWave": graph.sync_wave(fleet, c),
                "kind": if matches!(comp.source, ComponentSource::Chart { .. }) { "chart" } else { "path" },
                "clusters": clusters,
            })
        })
        .collect();
    let edges: Vec<serde_json::Value> = fleet
        .components
        .iter()
        .flat_map(|comp| {
            comp.depends_on.iter().map(move |d| {
                serde_json::json!({"from": fleet.components[d.index].name, "to": comp.name})
            })
        })
        .collect();
    let mut out = serde_json::to_string_pretty(
        &serde_json::json!({"waves": waves, "nodes": nodes, "edges": edges}),
    )
    .unwrap_or_default();
    out.push('\n');
    out
}

/// The plain-text form: one block per wave, components in the order they apply.
#[must_use]
pub(crate) fn text(fleet: &Fleet, graph: &Graph) -> String {
    let mut out = String::new();
    for (w, wave) in fleet.waves.iter().enumerate() {
        let _ = write!(out, "wave {}", wave.name);
        if fleet.engine == Engine::ArgoCd {
            let _ = write!(out, " (sync-wave {})", wave.base);
        }
        out.push('\n');
        let mut any = false;
        for c in graph.wave_order(fleet, w) {
            any = true;
            let comp = &fleet.components[c];
            let kind = match comp.source {
                ComponentSource::Chart { .. } => "chart",
                ComponentSource::Path(_) => "path",
            };
            let _ = write!(out, "  {} ({kind}) on {}", comp.name, clusters_of(fleet, c));
            if fleet.engine == Engine::ArgoCd {
                let _ = write!(out, ", sync-wave {}", graph.sync_wave(fleet, c));
            }
            if !comp.depends_on.is_empty() {
                let deps: Vec<&str> = comp
                    .depends_on
                    .iter()
                    .map(|r| fleet.components[r.index].name.as_str())
                    .collect();
                let _ = write!(out, "\n    depends on {}", deps.join(", "));
            }
            out.push('\n');
        }
        if !any {
            out.push_str("  (no components)\n");
        }
    }
    out
}

fn node_id(name: &str) -> String {
    name.replace('-', "_")
}

/// Mermaid flowchart: one subgraph per wave.
#[must_use]
pub(crate) fn mermaid(fleet: &Fleet, graph: &Graph) -> String {
    let mut out = String::from("flowchart LR\n");
    for (w, wave) in fleet.waves.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph wave_{}[\"{}\"]",
            node_id(&wave.name),
            wave.name
        );
        for c in graph.wave_order(fleet, w) {
            let name = &fleet.components[c].name;
            let _ = writeln!(out, "    {}[\"{name}\"]", node_id(name));
        }
        out.push_str("  end\n");
    }
    for c in &graph.order {
        let comp = &fleet.components[*c];
        for d in &comp.depends_on {
            let _ = writeln!(
                out,
                "  {} --> {}",
                node_id(&fleet.components[d.index].name),
                node_id(&comp.name)
            );
        }
    }
    out
}

/// Graphviz DOT: one cluster subgraph per wave.
#[must_use]
pub(crate) fn dot(fleet: &Fleet, graph: &Graph) -> String {
    let mut out = format!(
        "digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box];\n",
        fleet.name
    );
    for (w, wave) in fleet.waves.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph \"cluster_{}\" {{\n    label=\"{}\";",
            wave.name, wave.name
        );
        for c in graph.wave_order(fleet, w) {
            let _ = writeln!(out, "    \"{}\";", fleet.components[c].name);
        }
        out.push_str("  }\n");
    }
    for c in &graph.order {
        let comp = &fleet.components[*c];
        for d in &comp.depends_on {
            let _ = writeln!(
                out,
                "  \"{}\" -> \"{}\";",
                fleet.components[d.index].name, comp.name
            );
        }
    }
    out.push_str("}\n");
    out
}
