//! Building the clusters, the placement of components and tenants, and the tenants.

use super::super::{
    Apps, Bootstrap, Cluster, Delivery, FluxConfig, Isolation, Kubeconfig, Role, Tenant, Wave,
    defaults,
};
use super::Names;
use crate::diag::Problem;
use crate::spec::de::Spanned;
use crate::spec::raw;
use crate::spec::source::Span;

/// How Flux runs on a cluster: its own `flux:` over the fleet's `spec.flux`, then defaults.
fn flux_config(fleet: Option<&raw::Flux>, own: Option<&raw::Flux>) -> FluxConfig {
    let pick = |f: fn(&raw::Flux) -> Option<String>| own.and_then(f).or_else(|| fleet.and_then(f));
    let bootstrap = own
        .and_then(|f| f.bootstrap)
        .or_else(|| fleet.and_then(|f| f.bootstrap))
        .unwrap_or(Bootstrap::FluxCli);
    let multitenant = own
        .and_then(|f| f.multitenant)
        .or_else(|| fleet.and_then(|f| f.multitenant));
    FluxConfig {
        bootstrap,
        multitenant: matches!(multitenant, Some(raw::Multitenant::On(true))),
        version: pick(|f| f.version.clone()).unwrap_or_else(|| defaults::FLUX_VERSION.to_owned()),
        registry: pick(|f| f.registry.clone())
            .unwrap_or_else(|| defaults::FLUX_REGISTRY.to_owned()),
        components: own
            .and_then(|f| f.components.clone())
            .or_else(|| fleet.and_then(|f| f.components.clone()))
            .unwrap_or_else(|| {
                defaults::FLUX_COMPONENTS
                    .iter()
                    .map(|c| (*c).to_owned())
                    .collect()
            }),
        size: pick(|f| f.size.clone()),
    }
}

pub(super) fn build_cluster(
    c: &raw::Cluster,
    repo_branch: &str,
    fleet_flux: Option<&raw::Flux>,
) -> Cluster {
    let k = c.kubeconfig.as_ref().map(|k| &k.value);
    let kubeconfig = match k {
        Some(raw::Kubeconfig {
            config_map_ref: Some(cm),
            ..
        }) => Kubeconfig::ConfigMap { name: cm.clone() },
        _ => Kubeconfig::Secret {
            name: k
                .and_then(|k| k.secret_ref.clone())
                .unwrap_or_else(|| defaults::kubeconfig_secret(&c.name)),
            key: k
                .and_then(|k| k.key.clone())
                .unwrap_or_else(|| defaults::KUBECONFIG_KEY.to_owned()),
        },
    };
    Cluster {
        name: c.name.value.clone(),
        span: c.name.span,
        role: c.role.as_ref().map_or(Role::Fleet, |r| r.value),
        role_span: c.role.as_ref().map_or(c.name.span, |r| r.span),
        flux: flux_config(fleet_flux, c.flux.as_ref().map(|f| &f.value)),
        kubeconfig_span: c.kubeconfig.as_ref().map(|k| k.span),
        flux_span: c.flux.as_ref().map(|f| f.span),
        environment: c
            .environment
            .clone()
            .unwrap_or_else(|| c.name.value.clone()),
        branch: c.branch.clone().unwrap_or_else(|| repo_branch.to_owned()),
        kubeconfig,
        labels: c.labels.clone(),
        vars: c.vars.clone(),
    }
}

/// Resolves `clusters:` or `selector:`; the default is every cluster (`fleet_only`: every
/// fleet cluster). Returns the indexes and the span of the placement (the item's name when
/// nothing was written).
pub(super) fn place(
    names: Option<&Spanned<Vec<Spanned<String>>>>,
    selector: Option<&Spanned<raw::Selector>>,
    name_span: Span,
    clusters: &[Cluster],
    cluster_names: &Names<'_>,
    fleet_only: bool,
    problems: &mut Vec<Problem>,
) -> (Vec<usize>, Span) {
    if let Some(names) = names {
        let mut out: Vec<usize> = names
            .iter()
            .filter_map(|n| cluster_names.resolve(n, n.span, "clusters", problems))
            .collect();
        out.sort_unstable();
        out.dedup();
        return (out, names.span);
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
        return (out, sel.span);
    }
    let out = clusters
        .iter()
        .enumerate()
        .filter(|(_, c)| !fleet_only || !c.is_hub())
        .map(|(i, _)| i)
        .collect();
    (out, name_span)
}

pub(super) fn build_tenant(
    t: &raw::Tenant,
    clusters: &[Cluster],
    cluster_names: &Names<'_>,
    wave_names: &Names<'_>,
    waves: &[Wave],
    problems: &mut Vec<Problem>,
) -> Option<Tenant> {
    let (placed, placement_span) = place(
        t.clusters.as_ref(),
        t.selector.as_ref(),
        t.name.span,
        clusters,
        cluster_names,
        true,
        problems,
    );
    let namespaces = match &t.namespaces {
        Some(ns) => ns.iter().map(|n| (n.value.clone(), n.span)).collect(),
        None => vec![(t.name.value.clone(), t.name.span)],
    };
    let apps = match &t.apps {
        Some(a) => {
            let wave = match &a.wave {
                Some(w) => wave_names.resolve(w, w.span, "wave", problems)?,
                None => waves.len().saturating_sub(1),
            };
            Some(Apps {
                url: a.repository.url.clone(),
                branch: a
                    .repository
                    .branch
                    .clone()
                    .unwrap_or_else(|| defaults::APPS_BRANCH.to_owned()),
                path: a
                    .repository
                    .path
                    .clone()
                    .unwrap_or_else(|| defaults::APPS_PATH.to_owned()),
                secret_ref: a.repository.secret_ref.clone(),
                delivery: a.delivery.as_ref().map_or(Delivery::Flux, |d| d.value),
                delivery_span: a.delivery.as_ref().map_or(t.name.span, |d| d.span),
                wave,
                wave_span: a.wave.as_ref().map_or(t.name.span, |w| w.span),
            })
        }
        None => None,
    };
    Some(Tenant {
        name: t.name.value.clone(),
        span: t.name.span,
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
        isolation: t.isolation.unwrap_or(Isolation::Namespace),
        apps,
    })
}
