//! Sharded Flux (`sharding.fluxcd.io/key`): each shard's controllers watch only the objects
//! labelled with its name, the main controllers only the unlabelled ones. What a controller
//! reads of its *own* kinds goes through that label-filtered cache; everything else it reads
//! does not (source-controller's, kustomize-controller's, helm-controller's and
//! image-reflector-controller's `main.go`: `ctrlcache.Options.ByObject` filters only their own
//! kinds). So the references that must stay on one shard are (`synctl::shard`):
//! - a HelmChart and its source: source-controller looks the source up in its cache. The
//!   HelmChart of a HelmRelease's `spec.chart` carries only `spec.chart.metadata.labels`
//!   (helm-controller's `helmchart_template.go`), not the HelmRelease's labels;
//! - an ImagePolicy and its ImageRepository (image-reflector-controller).
//!
//! A Kustomization's or HelmRelease's source is read through an unfiltered cache and
//! `dependsOn` straight from the API server (kustomize-controller #1248, helm-controller
//! #1070, Flux 2.4): those may cross shards — unless the tree's FluxInstance installs an older
//! Flux. And an object labelled for a shard that no
//! controllers of the tree run (a FluxInstance's `spec.sharding.shards`, a controller's
//! `--watch-label-selector`) is reconciled by nobody.

use std::collections::{BTreeSet, HashMap};

use super::flux::Plan;
use super::{Finding, Object, text};
use crate::diag::{Code, Problem};
use crate::model::shards::LABEL as KEY;

/// The controllers' groups that shard (flux-operator's `--watch-label-selector` patch:
/// source, kustomize, helm and the image controllers).
const SHARDED: [&str; 4] = [
    "source.toolkit.fluxcd.io",
    "kustomize.toolkit.fluxcd.io",
    "helm.toolkit.fluxcd.io",
    "image.toolkit.fluxcd.io",
];

type Shards<'a> = HashMap<(&'a str, &'a str, &'a str), String, foldhash::fast::RandomState>;

/// Who reconciles `o`: its shard, or `""` for the main controllers.
fn shard_of(o: &Object) -> String {
    o.text(&["metadata", "labels", KEY]).into_owned()
}

/// Shown: a shard by name, or the main controllers.
fn who(shard: &str) -> String {
    if shard.is_empty() {
        "the main controllers".to_owned()
    } else {
        format!("shard `{shard}`")
    }
}

/// Every sharded reference, on trees that use the label.
pub(super) fn check(plan: &Plan, out: &mut Vec<Finding>) {
    let labelled = plan
        .appliers
        .iter()
        .flat_map(|a| &a.objects)
        .any(|o| !o.text(&["metadata", "labels", KEY]).is_empty());
    if !labelled {
        return;
    }
    for (_, appliers) in plan.by_target() {
        let objects = || appliers.iter().flat_map(|&a| &plan.appliers[a].objects);
        // The Flux objects this cluster receives, by kind, namespace and name, with their shard.
        let mut shards = Shards::default();
        for o in objects().filter(|o| o.group().ends_with(".toolkit.fluxcd.io")) {
            shards.insert((o.kind(), o.namespace(), o.name()), shard_of(o));
        }
        let (running, before_2_4) = controllers(objects());
        for o in objects() {
            let group = o.group();
            if let Some(run) = &running
                && SHARDED.contains(&group)
            {
                unreconciled(o, run, out);
            }
            if before_2_4 {
                waits_across(o, &shards, out);
            }
            match (group, o.kind()) {
                ("helm.toolkit.fluxcd.io", "HelmRelease") => chart_of_release(o, &shards, out),
                ("source.toolkit.fluxcd.io", "HelmChart") => {
                    same_shard(o, &["spec", "sourceRef"], "", &shards, out);
                }
                ("image.toolkit.fluxcd.io", "ImagePolicy") => {
                    let path = ["spec", "imageRepositoryRef"];
                    same_shard(o, &path, "ImageRepository", &shards, out);
                }
                _ => {}
            }
        }
    }
}

/// The shards whose controllers the tree runs on this cluster: a FluxInstance's
/// `spec.sharding.shards`, the `--watch-label-selector=sharding.fluxcd.io/key=<shard>` of its
/// controllers' Deployments. `None` when the tree installs no sharded controllers (they run
/// from outside it, or the cluster is not sharded: unsharded controllers reconcile any label).
/// And whether a FluxInstance installs a Flux before 2.4, whose controllers look `dependsOn`
/// up in their shard's cache.
fn controllers<'a>(objects: impl Iterator<Item = &'a Object>) -> (Option<BTreeSet<String>>, bool) {
    let mut run: Option<BTreeSet<String>> = None;
    let mut before_2_4 = false;
    for o in objects {
        if o.kind() == "FluxInstance" && o.group() == "fluxcd.controlplane.io" {
            before_2_4 |=
                crate::model::shards::before_2_4(&o.text(&["spec", "distribution", "version"]));
            let Some(sharding) = o.field(&["spec", "sharding"]) else {
                continue;
            };
            if !matches!(text(&sharding, &["key"]), "" | KEY) {
                continue;
            }
            let set = run.get_or_insert_with(BTreeSet::new);
            for s in sharding["shards"].as_array().into_iter().flatten() {
                set.extend(s.as_str().map(str::to_owned));
            }
        } else if o.kind() == "Deployment" && o.namespace() == "flux-system" {
            let containers = o.field(&["spec", "template", "spec", "containers"]);
            for arg in containers
                .iter()
                .flat_map(|c| c.as_array().into_iter().flatten())
                .flat_map(|c| c["args"].as_array().into_iter().flatten())
                .filter_map(|a| a.as_str()?.strip_prefix("--watch-label-selector="))
            {
                if let Some(shard) = arg.strip_prefix(KEY).and_then(|r| r.strip_prefix('=')) {
                    run.get_or_insert_with(BTreeSet::new)
                        .insert(shard.trim().to_owned());
                } else if arg.trim() == format!("!{KEY}") {
                    run.get_or_insert_with(BTreeSet::new);
                }
            }
        }
    }
    (run, before_2_4)
}

/// Before Flux 2.4, a Kustomization's or HelmRelease's `dependsOn` on another shard's object
/// is never found (kustomize-controller #1248 and helm-controller #1070 read it around the
/// cache since).
fn waits_across(o: &Object, shards: &Shards<'_>, out: &mut Vec<Finding>) {
    let (Some(mine), true) = (
        shards.get(&(o.kind(), o.namespace(), o.name())),
        matches!(o.kind(), "Kustomization" | "HelmRelease"),
    ) else {
        return;
    };
    for (i, d) in o.depends_on().into_iter().enumerate() {
        let Some(theirs) = shards.get(&(d.kind.as_str(), d.namespace.as_str(), d.name.as_str()))
        else {
            continue;
        };
        if theirs == mine {
            continue;
        }
        let index = i.to_string();
        out.push(Finding::new(
            &o.at_field(&["spec", "dependsOn", &index]),
            Problem::error(
                Code::Shard,
                format!(
                    "{} is reconciled by {}, but {}/{}/{}, which it waits for, by {}, and this Flux (before 2.4) looks `dependsOn` up among its shard's objects only",
                    o.id(),
                    who(mine),
                    d.kind,
                    d.namespace,
                    d.name,
                    who(theirs)
                ),
            )
            .help("run Flux 2.4 or later (the FluxInstance's `spec.distribution.version`), or give both the same shard"),
            "across shards",
        ));
    }
}

/// `o` is labelled for a shard no controllers run.
fn unreconciled(o: &Object, run: &BTreeSet<String>, out: &mut Vec<Finding>) {
    let mine = shard_of(o);
    if mine.is_empty() || run.contains(&mine) {
        return;
    }
    let known = if run.is_empty() {
        "none".to_owned()
    } else {
        run.iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    };
    out.push(Finding::new(
        &o.at_field(&["metadata", "labels", KEY]),
        Problem::error(
            Code::Shard,
            format!(
                "{} is labelled for shard `{mine}`, which no controllers of this cluster run (its shards: {known})",
                o.id()
            ),
        )
        .help("the main controllers skip every labelled object: label it for a shard the FluxInstance's `spec.sharding.shards` (or a controller's `--watch-label-selector`) names, or remove the label"),
        "reconciled by nobody",
    ));
}

/// The HelmChart a HelmRelease's `spec.chart` makes: labelled with `spec.chart.metadata.labels`
/// only, in the chart source's namespace.
fn chart_of_release(o: &Object, shards: &Shards<'_>, out: &mut Vec<Finding>) {
    let Some(source) = o.field(&["spec", "chart", "spec", "sourceRef"]) else {
        return;
    };
    let ns = match text(&source, &["namespace"]) {
        "" => o.namespace(),
        ns => ns,
    };
    let (kind, name) = (text(&source, &["kind"]), text(&source, &["name"]));
    let Some(theirs) = shards.get(&(kind, ns, name)) else {
        return;
    };
    let chart = o
        .text(&["spec", "chart", "metadata", "labels", KEY])
        .into_owned();
    if *theirs == chart {
        return;
    }
    let fix = if theirs.is_empty() {
        format!("remove `{KEY}` from `spec.chart.metadata.labels`")
    } else {
        format!("set `spec.chart.metadata.labels: {{{KEY}: {theirs}}}`")
    };
    out.push(Finding::new(
        &o.at_field(&["spec", "chart", "spec", "sourceRef"]),
        Problem::error(
            Code::Shard,
            format!(
                "the HelmChart of {} is reconciled by {} (`spec.chart.metadata.labels`), but its source {kind}/{ns}/{name} by {}",
                o.id(),
                who(&chart),
                who(theirs)
            ),
        )
        .help(format!(
            "{fix}: helm-controller labels the HelmChart it creates only with those labels (not the HelmRelease's own), and source-controller finds a chart's source only among its shard's objects — the chart never becomes ready"
        )),
        "across shards",
    ));
}

/// `o` and the object its reference at `path` names (in `o`'s namespace unless it says) are
/// reconciled by one shard; the reference names its `kind`, else it is `kind`.
fn same_shard(o: &Object, path: &[&str], kind: &str, shards: &Shards<'_>, out: &mut Vec<Finding>) {
    let Some(r) = o.field(path) else { return };
    let ns = match text(&r, &["namespace"]) {
        "" => o.namespace(),
        ns => ns,
    };
    let kind = match text(&r, &["kind"]) {
        "" => kind,
        k => k,
    };
    let name = text(&r, &["name"]);
    let Some(theirs) = shards.get(&(kind, ns, name)) else {
        return;
    };
    let mine = shard_of(o);
    if *theirs == mine {
        return;
    }
    out.push(Finding::new(
        &o.at_field(path),
        Problem::error(
            Code::Shard,
            format!(
                "{} is reconciled by {}, but {kind}/{ns}/{name}, which it reads, by {}",
                o.id(),
                who(&mine),
                who(theirs)
            ),
        )
        .help(format!(
            "give both the same `{KEY}` label (or neither): the controller looks {kind} up among its own shard's objects only"
        )),
        "across shards",
    ));
}
