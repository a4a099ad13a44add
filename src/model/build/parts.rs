//! Building the clusters, the placement of components and tenants, and the tenants.

use super::super::{Apps, Cluster, Delivery, Kubeconfig, Tenant, Wave};
use super::{At, Names};
use crate::diag::Problem;
use crate::spec::raw;
use crate::spec::source::Span;

pub(super) fn build_cluster(c: &raw::Cluster, at: &At<'_>, i: usize, repo_branch: &str) -> Cluster {
    let is = i.to_string();
    let k = c.kubeconfig.as_ref();
    let kubeconfig = match k {
        Some(raw::Kubeconfig {
            config_map_ref: Some(cm),
            ..
        }) => Kubeconfig::ConfigMap { name: cm.clone() },
        _ => Kubeconfig::Secret {
            name: k
                .and_then(|k| k.secret_ref.clone())
                .unwrap_or_else(|| format!("{}-kubeconfig", c.name)),
            key: k
                .and_then(|k| k.key.clone())
                .unwrap_or_else(|| "value".to_owned()),
        },
    };
    Cluster {
        name: c.name.clone(),
        span: at.span(&["spec", "clusters", &is, "name"]),
        hub: c.role.as_deref() == Some("hub"),
        role_span: at.span(&["spec", "clusters", &is, "role"]),
        environment: c.environment.clone().unwrap_or_else(|| c.name.clone()),
        branch: c.branch.clone().unwrap_or_else(|| repo_branch.to_owned()),
        kubeconfig,
        labels: c.labels.clone(),
        vars: c.vars.clone(),
    }
}

/// Resolves `clusters:` or `selector:`; the default is every cluster (`fleet_only`: every
/// fleet cluster).
#[allow(clippy::too_many_arguments)] // reason: one call per placement kind, all context needed
pub(super) fn place(
    names: Option<&[String]>,
    selector: Option<&raw::Selector>,
    clusters: &[Cluster],
    cluster_names: &Names<'_>,
    at: &At<'_>,
    base: &[&str],
    fleet_only: bool,
    problems: &mut Vec<Problem>,
) -> (Vec<usize>, Span) {
    let with =
        |f: &str| -> Vec<String> { base.iter().copied().chain([f]).map(str::to_owned).collect() };
    if let Some(names) = names {
        let mut out: Vec<usize> = names
            .iter()
            .enumerate()
            .filter_map(|(j, n)| {
                let js = j.to_string();
                let span = at.span(&[with("clusters").as_slice(), &[js]].concat());
                cluster_names.resolve(n, span, "clusters", problems)
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        return (out, at.span(&with("clusters")));
    }
    if let Some(sel) = selector {
        let out = clusters
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                sel.match_labels
                    .iter()
                    .all(|(k, v)| c.labels.get(k) == Some(v))
            })
            .map(|(i, _)| i)
            .collect();
        return (out, at.span(&with("selector")));
    }
    let out = clusters
        .iter()
        .enumerate()
        .filter(|(_, c)| !fleet_only || !c.hub)
        .map(|(i, _)| i)
        .collect();
    (out, at.span(&with("name")))
}

#[allow(clippy::too_many_arguments)] // reason: the tenant needs the resolved clusters and waves
pub(super) fn build_tenant(
    t: &raw::Tenant,
    i: usize,
    at: &At<'_>,
    clusters: &[Cluster],
    cluster_names: &Names<'_>,
    wave_names: &Names<'_>,
    waves: &[Wave],
    problems: &mut Vec<Problem>,
) -> Option<Tenant> {
    let is = i.to_string();
    let base = ["spec", "tenants", is.as_str()];
    let (placed, placement_span) = place(
        t.clusters.as_deref(),
        t.selector.as_ref(),
        clusters,
        cluster_names,
        at,
        &base,
        true,
        problems,
    );
    let namespaces = match &t.namespaces {
        Some(ns) => ns
            .iter()
            .enumerate()
            .map(|(j, n)| {
                (
                    n.clone(),
                    at.span(&["spec", "tenants", &is, "namespaces", &j.to_string()]),
                )
            })
            .collect(),
        None => vec![(t.name.clone(), at.span(&["spec", "tenants", &is, "name"]))],
    };
    let apps = match &t.apps {
        Some(a) => {
            let wave = match &a.wave {
                Some(w) => wave_names.resolve(
                    w,
                    at.span(&["spec", "tenants", &is, "apps", "wave"]),
                    "wave",
                    problems,
                )?,
                None => waves.len().saturating_sub(1),
            };
            Some(Apps {
                url: a.repository.url.clone(),
                branch: a
                    .repository
                    .branch
                    .clone()
                    .unwrap_or_else(|| "main".to_owned()),
                path: a.repository.path.clone().unwrap_or_else(|| "./".to_owned()),
                secret_ref: a.repository.secret_ref.clone(),
                delivery: if a.delivery.as_deref() == Some("argocd") {
                    Delivery::ArgoCd
                } else {
                    Delivery::Flux
                },
                delivery_span: at.span(&["spec", "tenants", &is, "apps", "delivery"]),
                wave,
            })
        }
        None => None,
    };
    Some(Tenant {
        name: t.name.clone(),
        span: at.span(&["spec", "tenants", &is, "name"]),
        clusters: placed,
        placement_span,
        namespaces,
        quota: t
            .quota
            .iter()
            .flatten()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                )
            })
            .collect(),
        isolation: t.isolation.as_deref() != Some("none"),
        apps,
    })
}
