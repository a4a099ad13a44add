//! Sharded Flux (`sharding.fluxcd.io/key`): each shard's controllers reconcile only the
//! objects labelled with its name, the main controllers only the unlabelled ones, so a
//! Kustomization or HelmRelease must be reconciled by the shard that reconciles its source and
//! what it waits for (Flux's sharding guide): across shards, one side's controllers never see
//! the other (`synctl::shard`).

use std::collections::HashMap;

use super::flux::Plan;
use super::{Finding, HELM_GROUP, KUSTOMIZE_GROUP, Object, text};
use crate::diag::{Code, Problem};

/// The label.
const KEY: &str = "sharding.fluxcd.io/key";

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

/// Every Kustomization's and HelmRelease's source and `dependsOn`, on trees that use the label.
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
        // The Flux objects this cluster receives, by kind, namespace and name, with their shard.
        let mut shards: HashMap<(&str, &str, &str), String, foldhash::fast::RandomState> =
            HashMap::default();
        for &a in &appliers {
            for o in &plan.appliers[a].objects {
                if o.group().ends_with(".toolkit.fluxcd.io") {
                    shards.insert((o.kind(), o.namespace(), o.name()), shard_of(o));
                }
            }
        }
        for &a in &appliers {
            for o in &plan.appliers[a].objects {
                if o.is(KUSTOMIZE_GROUP, "Kustomization") || o.is(HELM_GROUP, "HelmRelease") {
                    one(o, &shards, out);
                }
            }
        }
    }
}

/// The references of one Kustomization or HelmRelease `o`.
fn one(
    o: &Object,
    shards: &HashMap<(&str, &str, &str), String, foldhash::fast::RandomState>,
    out: &mut Vec<Finding>,
) {
    let mine = shard_of(o);
    let mut refs: Vec<(String, String, String, Vec<String>)> = Vec::new();
    for path in [
        &["spec", "sourceRef"][..],
        &["spec", "chart", "spec", "sourceRef"],
        &["spec", "chartRef"],
    ] {
        if let Some(r) = o.field(path) {
            let ns = match text(&r, &["namespace"]) {
                "" => o.namespace(),
                ns => ns,
            };
            refs.push((
                text(&r, &["kind"]).to_owned(),
                ns.to_owned(),
                text(&r, &["name"]).to_owned(),
                path.iter().map(|s| (*s).to_owned()).collect(),
            ));
        }
    }
    for (i, d) in o.depends_on().into_iter().enumerate() {
        refs.push((
            d.kind,
            d.namespace,
            d.name,
            vec!["spec".to_owned(), "dependsOn".to_owned(), i.to_string()],
        ));
    }
    for (kind, ns, name, path) in refs {
        let Some(theirs) = shards.get(&(kind.as_str(), ns.as_str(), name.as_str())) else {
            continue;
        };
        if *theirs == mine {
            continue;
        }
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        out.push(Finding::new(
            &o.at_field(&path),
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
                "give both the same `{KEY}` label (or neither): each shard's controllers see only their own objects"
            )),
            "across shards",
        ));
    }
}
