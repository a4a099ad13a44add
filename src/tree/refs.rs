//! What a HelmRelease reads on its cluster: its chart's source (`chart.spec.sourceRef`, or
//! `chartRef`) and its `valuesFrom` `ConfigMap`s and `Secret`s. helm-controller looks for each in
//! the cluster the HelmRelease lives on (the source's namespace defaults to the release's);
//! one that nothing applies there leaves the release failing (`synctl::missing-ref`; a
//! warning for a Secret, which teams create outside Git).

use std::collections::HashSet;

use serde_json::Value as Json;

use super::flux::Plan;
use super::{Finding, HELM_GROUP, Object, text};
use crate::diag::{Code, Problem};

/// Every HelmRelease's chart source and `valuesFrom`, looked up among the objects its cluster
/// receives.
pub(super) fn releases(plan: &Plan, out: &mut Vec<Finding>) {
    // What each cluster receives, by kind, namespace and name: one cluster at a time.
    let mut on: HashSet<(&str, &str, &str), foldhash::fast::RandomState> = HashSet::default();
    for (_, appliers) in plan.by_target() {
        on.clear();
        for &b in &appliers {
            for o in &plan.appliers[b].objects {
                on.insert((o.kind(), o.namespace(), o.name()));
            }
        }
        for &a in &appliers {
            one_applier(&plan.appliers[a], &on, out);
        }
    }
}

/// The HelmReleases of applier `a`, whose cluster receives `on`.
fn one_applier(
    a: &super::flux::Applier,
    on: &HashSet<(&str, &str, &str), foldhash::fast::RandomState>,
    out: &mut Vec<Finding>,
) {
    let has = |kind: &str, ns: &str, name: &str| on.contains(&(kind, ns, name));
    for hr in a.objects.iter().filter(|o| o.is(HELM_GROUP, "HelmRelease")) {
        let source = hr
            .field(&["spec", "chart", "spec", "sourceRef"])
            .map(|r| (r, vec!["spec", "chart", "spec", "sourceRef"]))
            .or_else(|| {
                hr.field(&["spec", "chartRef"])
                    .map(|r| (r, vec!["spec", "chartRef"]))
            });
        if let Some((r, path)) = source {
            let r = &*r;
            let ns = match text(r, &["namespace"]) {
                "" => hr.namespace(),
                ns => ns,
            };
            let (kind, name) = (text(r, &["kind"]), text(r, &["name"]));
            if !has(kind, ns, name) {
                out.push(missing(
                    hr,
                    &path,
                    &format!("its chart source {kind}/{ns}/{name}"),
                    &a.target,
                    false,
                ));
            }
        }
        let values = hr.field(&["spec", "valuesFrom"]);
        let values = values.as_deref().and_then(Json::as_array);
        for (i, v) in values.into_iter().flatten().enumerate() {
            let optional = v.get("optional").and_then(Json::as_bool) == Some(true);
            let (kind, name) = (text(v, &["kind"]), text(v, &["name"]));
            if !optional && !has(kind, hr.namespace(), name) {
                let index = i.to_string();
                let what = format!("`valuesFrom` {kind}/{}/{name}", hr.namespace());
                out.push(missing(
                    hr,
                    &["spec", "valuesFrom", &index],
                    &what,
                    &a.target,
                    kind == "Secret",
                ));
            }
        }
    }
}

/// A reference to nothing in the tree: an error, or a warning for a Secret (teams create
/// Secrets outside Git: the tree cannot show it, the cluster must hold it).
fn missing(hr: &Object, path: &[&str], what: &str, cluster: &str, secret: bool) -> Finding {
    let message = format!(
        "{} reads {what}, which nothing applies on cluster {cluster}",
        hr.id()
    );
    let problem = if secret {
        Problem::warning(Code::MissingRef, message)
    } else {
        Problem::error(Code::MissingRef, message)
    };
    Finding::new(
        &hr.at_field(path),
        problem
        .help("apply it on the cluster where the HelmRelease lives (in its namespace unless `namespace` says otherwise), or mark a `valuesFrom` entry `optional: true`"),
        "read from here",
    )
}
