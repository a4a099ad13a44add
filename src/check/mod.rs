//! Validation of the checked fleet: every rule of the design's table that needs the whole
//! spec (names and paths, duplicates, reserved names, the hub, order, placement, secrets).
//! Each rule appends problems; nothing stops at the first.

mod bootstrap;
mod flux_spec;
mod names;
mod order;
mod secrets;
mod shards;
mod substitution;
mod tenants;

use crate::hashing::Map as HashMap;
use std::path::Path;

use crate::diag::{Code, Problem};
use crate::folders::{self, Folder};
use crate::graph::Graph;
use crate::model::{ComponentSource, Fleet};
use crate::spec::source::Span;

/// Runs every rule. `out_root` is the repository the tree is written into (for `path:`).
#[must_use]
pub(crate) fn check(fleet: &Fleet, graph: &Graph, out_root: Option<&Path>) -> Vec<Problem> {
    let mut problems = Vec::new();
    hub_count(fleet, &mut problems);
    duplicates(fleet, &mut problems);
    names::reserved(fleet, &mut problems);
    flux_spec::check(fleet, &mut problems);
    text_safety(fleet, &mut problems);
    tenants::check(fleet, &mut problems);
    bootstrap::flux_running(fleet, out_root, &mut problems);
    bootstrap::repository(fleet, out_root, &mut problems);
    shards::check(fleet, out_root, &mut problems);
    let folders = paths(fleet, out_root, &mut problems);
    order::cycles(fleet, graph, &mut problems);
    order::wave_order(fleet, graph, &mut problems);
    order::placement(fleet, &mut problems);
    secrets::scan(fleet, &mut problems);
    substitution::check(fleet, &folders, &mut problems);
    problems
}

fn hub_count(fleet: &Fleet, problems: &mut Vec<Problem>) {
    let hubs: Vec<_> = fleet.clusters.iter().filter(|c| c.is_hub()).collect();
    match hubs.as_slice() {
        // Standalone clusters run their own Flux: a spec of them only needs no hub (T1).
        [] if !fleet.clusters.iter().any(crate::model::Cluster::is_fleet) => {}
        [] => {
            let span = fleet.clusters_span;
            problems.push(
                Problem::error(Code::Hub, "no cluster has `role: hub`")
                    .at(span, "one of these clusters must be the hub")
                    .help("mark the cluster that runs Flux (or Argo CD) for the fleet with `role: hub`, or make every cluster `role: standalone` (each runs its own Flux)"),
            );
        }
        [_] => {}
        [first, rest @ ..] => {
            for c in rest {
                problems.push(
                    Problem::error(Code::Hub, format!("`{}` is a second hub cluster", c.name))
                        .at(c.role_span, "second hub")
                        .also(first.role_span, format!("`{}` is already the hub", first.name))
                        .help("a fleet has exactly one hub; make the others fleet clusters (remove `role: hub`)"),
                );
            }
        }
    }
}

/// First-wins duplicate detection over `(name, span)` pairs.
fn report_duplicates<'a>(
    items: impl Iterator<Item = (&'a str, Span)>,
    what: &str,
    problems: &mut Vec<Problem>,
) {
    let mut seen: HashMap<&str, Span> = HashMap::default();
    for (name, span) in items {
        if let Some(first) = seen.get(name) {
            problems.push(
                Problem::error(Code::Duplicate, format!("two {what}s are named `{name}`"))
                    .at(span, "defined again here")
                    .also(*first, "first defined here")
                    .help(format!("{what} names must be unique; rename or remove one")),
            );
        } else {
            seen.insert(name, span);
        }
    }
}

fn duplicates(fleet: &Fleet, problems: &mut Vec<Problem>) {
    report_duplicates(
        fleet.waves.iter().map(|w| (w.name.as_str(), w.span)),
        "wave",
        problems,
    );
    report_duplicates(
        fleet.clusters.iter().map(|c| (c.name.as_str(), c.span)),
        "cluster",
        problems,
    );
    report_duplicates(
        fleet.components.iter().map(|c| (c.name.as_str(), c.span)),
        "component",
        problems,
    );
    report_duplicates(
        fleet.tenants.iter().map(|t| (t.name.as_str(), t.span)),
        "tenant",
        problems,
    );

    // A namespace belongs to one tenant, and never to a tenant and a component.
    let mut owner: HashMap<&str, (&str, Span)> = HashMap::default();
    for t in &fleet.tenants {
        let mut own: Vec<&str> = Vec::new();
        for (ns, span) in &t.namespaces {
            if own.contains(&ns.as_str()) {
                problems.push(
                    Problem::error(
                        Code::Duplicate,
                        format!("tenant `{}` lists namespace `{ns}` twice", t.name),
                    )
                    .at(*span, "listed again")
                    .help("remove the repeated namespace"),
                );
                continue;
            }
            own.push(ns);
            match owner.get(ns.as_str()) {
                Some((other, first)) => problems.push(
                    Problem::error(
                        Code::Duplicate,
                        format!(
                            "namespace `{ns}` is claimed by the tenants `{other}` and `{}`",
                            t.name
                        ),
                    )
                    .at(*span, "claimed again here")
                    .also(*first, "first claimed here")
                    .help("each tenant needs namespaces of its own"),
                ),
                None => {
                    owner.insert(ns, (&t.name, *span));
                }
            }
        }
    }
    for c in &fleet.components {
        if let Some((tenant, first)) = owner.get(c.namespace.as_str()) {
            problems.push(
                Problem::error(
                    Code::Duplicate,
                    format!("component `{}` deploys into `{}`, a namespace of the tenant `{tenant}`", c.name, c.namespace),
                )
                .at(c.namespace_span, "tenant namespace")
                .also(*first, "the tenant claims it here")
                .help("platform components need their own namespace; set `namespace:` to another name"),
            );
        }
    }
}

/// Paths, URLs and substitution values are copied into YAML and, for `vars`, substituted by
/// Flux into the text of manifests: a line break (of any YAML version) or a control character
/// there would become structure. Refused where written.
fn text_safety(fleet: &Fleet, problems: &mut Vec<Problem>) {
    use crate::spec::yaml::needs_escape;
    let bad = |s: &str| s.chars().any(needs_escape);
    let help = "remove the line break or control character (YAML 1.1 also breaks lines at U+0085, U+2028 and U+2029)";
    for c in &fleet.components {
        if let ComponentSource::Path(p) = &c.source
            && bad(p)
        {
            problems.push(
                Problem::error(
                    Code::Name,
                    format!(
                        "the path of component `{}` holds a line break or control character",
                        c.name
                    ),
                )
                .at(c.source_span, "not a plain path")
                .help(help),
            );
        }
    }
    for t in &fleet.tenants {
        if t.apps
            .iter()
            .any(|a| bad(&a.path) || bad(&a.url) || bad(&a.branch))
        {
            problems.push(
                Problem::error(
                    Code::Name,
                    format!(
                        "the repository of tenant `{}` holds a line break or control character",
                        t.name
                    ),
                )
                .at(t.span, "in its `apps.repository`")
                .help(help),
            );
        }
    }
    for c in &fleet.components {
        let trees = c.values_tree.iter().chain(
            c.environments
                .values()
                .filter_map(|o| o.values_tree.as_ref()),
        );
        for tree in trees {
            control_characters(tree, &c.name, problems);
        }
    }
    for c in &fleet.clusters {
        for (k, v) in &c.vars {
            if bad(k) || bad(v) {
                problems.push(
                    Problem::error(Code::Substitution, format!("the variable `{}` of cluster `{}` holds a line break or control character", k.escape_debug(), c.name))
                        .at(c.span, "Flux substitutes it into the text of manifests")
                        .help(help),
                );
            }
        }
    }
}

/// Control characters in Helm values: kustomize (go-yaml) refuses to write them, so an
/// overlay holding one would not build. Line breaks and tabs in string values are fine.
fn control_characters(node: &crate::spec::yaml::Node, comp: &str, problems: &mut Vec<Problem>) {
    use crate::spec::yaml::Value;
    let bad = |s: &str, allow_breaks: bool| {
        s.chars()
            .any(|c| c.is_control() && !(allow_breaks && matches!(c, '\n' | '\t' | '\r')))
    };
    let report = |problems: &mut Vec<Problem>, span, what: &str| {
        problems.push(
            Problem::error(Code::Yaml, format!("a {what} in the values of `{comp}` holds a control character"))
                .at(span, "kustomize cannot write this")
                .help("remove the control character (escape sequences such as \\u007F are still control characters)"),
        );
    };
    match &node.value {
        Value::Map(entries) => {
            for e in entries {
                if bad(&e.key, false) {
                    report(problems, e.key_span, "key");
                }
                control_characters(&e.value, comp, problems);
            }
        }
        Value::Seq(items) => items
            .iter()
            .for_each(|n| control_characters(n, comp, problems)),
        Value::Str(s) if bad(s, true) => report(problems, node.span, "string"),
        _ => {}
    }
}

/// The folders of the `path:` components, each scanned once (checked and scanned by the path
/// rule, read again for `${…}` by the substitution rule).
pub(crate) type Folders<'a> = HashMap<&'a str, Folder>;

fn paths<'a>(
    fleet: &'a Fleet,
    out_root: Option<&Path>,
    problems: &mut Vec<Problem>,
) -> Folders<'a> {
    let mut seen: Folders<'a> = HashMap::default();
    for c in &fleet.components {
        let ComponentSource::Path(p) = &c.source else {
            continue;
        };
        if let Err(why) = folders::check_relative_path(p) {
            problems.push(
                Problem::error(Code::Name, format!("the path `{p}` of component `{}` {why}", c.name))
                    .at(c.source_span, "escapes the repository")
                    .help("write a path relative to the repository root, without `..`, e.g. `policies/kyverno`"),
            );
            continue;
        }
        let Some(root) = out_root else { continue };
        let folder = seen
            .entry(p.as_str())
            .or_insert_with(|| folders::scan(root, p));
        if folder.outside {
            problems.push(
                Problem::error(
                    Code::Name,
                    format!("the path `{p}` of component `{}` leads outside the repository through a link", c.name),
                )
                .at(c.source_span, "resolves outside the output root")
                .help("synctl reads nothing outside the repository (and a checkout elsewhere would not hold it): move the manifests into the repository, or point `path:` at a plain folder"),
            );
            continue;
        }
        folder_fits(fleet, c, root, folder, problems);
    }
    seen
}

/// What is in component `c`'s folder (`folder`, under `root`) must be what its clusters can
/// apply: present, not empty, no remote base on a locked cluster, a kustomization for patches
/// under Argo CD.
fn folder_fits(
    fleet: &Fleet,
    c: &crate::model::Component,
    root: &Path,
    folder: &Folder,
    problems: &mut Vec<Problem>,
) {
    let ComponentSource::Path(p) = &c.source else {
        return;
    };
    if let Some(base) = &folder.remote_base
        && let Some(&locked) = c.clusters.iter().find(|&&k| fleet.locked(k))
    {
        problems.push(
            Problem::error(
                Code::Lockdown,
                format!(
                    "the folder of component `{}` lists the remote base `{base}`",
                    c.name
                ),
            )
            .at(
                c.source_span,
                "kustomize-controller refuses remote bases on a locked cluster",
            )
            .help(format!(
                "`{}` runs Flux with --no-remote-bases: vendor the base into the repository",
                fleet.clusters[locked].name
            )),
        );
    }
    if fleet.engine == crate::model::Engine::ArgoCd
        && folder.exists
        && !folder.kustomization
        && (!c.knobs.patches.is_empty()
            || c.provides.iter().any(|p| p == "argocd")
            || c.environments
                .values()
                .any(|o| o.patches.as_ref().is_some_and(|p| !p.is_empty())))
    {
        let health = c.knobs.patches.is_empty() && c.provides.iter().any(|p| p == "argocd");
        let (code, what) = if health {
            (
                Code::ArgocdHealth,
                "installs Argo CD (argocd-cm gets the Application health check as a patch)",
            )
        } else {
            (Code::UnknownRef, "has `patches`")
        };
        problems.push(
            Problem::error(
                code,
                format!(
                    "component `{}` {what}, but its folder has no kustomization.yaml",
                    c.name
                ),
            )
            .at(
                c.source_span,
                "Argo CD applies kustomize patches only to a kustomization",
            )
            .help("add a kustomization.yaml listing the folder's manifests, or drop the patches"),
        );
    }
    if !folder.exists {
        let dir = root.join(p.trim_start_matches("./"));
        problems.push(
            Problem::error(Code::UnknownRef, format!("the path `{p}` of component `{}` does not exist", c.name))
                .at(c.source_span, format!("no folder `{}`", dir.display()))
                .help("create the folder with a kustomization.yaml (or manifests) or fix the path; paths are relative to the output root"),
        );
    } else if !folder.has_manifests() {
        problems.push(
            Problem::warning(Code::UnknownRef, format!("the path `{p}` of component `{}` holds no manifests", c.name))
                .at(c.source_span, "empty folder")
                .help("Flux applies nothing from an empty folder; add a kustomization.yaml or YAML manifests"),
        );
    }
}

#[cfg(test)]
mod tests;
