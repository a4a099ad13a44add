//! Building the clusters, the placement of components and tenants, and the tenants.

use std::collections::BTreeMap;

use super::super::{
    Apps, Cluster, ComponentSource, FluxConfig, Kubeconfig, Tenant, TenantRole, Wave, defaults,
};
use super::Names;
use crate::diag::{Code, Problem};
use crate::spec::de::Spanned;
use crate::spec::raw;
use crate::spec::source::Span;

/// How Flux runs on a cluster: its own `flux:` over the fleet's `spec.flux`, then defaults.
fn flux_config(fleet: Option<&raw::Flux>, own: Option<&raw::Flux>) -> FluxConfig {
    let pick = |f: fn(&raw::Flux) -> Option<String>| own.and_then(f).or_else(|| fleet.and_then(f));
    let bootstrap = own
        .and_then(|f| f.bootstrap)
        .or_else(|| fleet.and_then(|f| f.bootstrap))
        .unwrap_or(defaults::BOOTSTRAP);
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
        patches: own
            .and_then(|f| f.patches.as_ref())
            .or_else(|| fleet.and_then(|f| f.patches.as_ref()))
            .map(|p| (p.value.clone(), p.span)),
        operator_fields: [
            (
                "version",
                (|f: &raw::Flux| f.version.is_some()) as fn(&raw::Flux) -> bool,
            ),
            ("registry", |f| f.registry.is_some()),
            ("size", |f| f.size.is_some()),
            ("patches", |f| f.patches.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| {
            let mine = own.is_some_and(set);
            (mine || fleet.is_some_and(set)).then_some((name, mine))
        })
        .collect(),
        sharding_own: own.is_some_and(|f| f.sharding.is_some()),
        sharding: own
            .and_then(|f| f.sharding.as_ref())
            .or_else(|| fleet.and_then(|f| f.sharding.as_ref()))
            .map(|s| {
                let count = match s.value.shards {
                    raw::Shards::Count(n) => Some(n),
                    raw::Shards::Auto(_) => None,
                };
                (count, s.span)
            }),
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
        role: c.role.as_ref().map_or(defaults::ROLE, |r| r.value),
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
        flux_spec: c.flux_spec.clone(),
        entry_resources: c
            .entry_resources
            .as_ref()
            .map(|r| (r.value.clone(), r.span)),
        retired: c
            .retired
            .iter()
            .flat_map(|r| r.value.iter())
            .map(|n| (n.value.clone(), n.span))
            .collect(),
        shard: None,
        shards: Vec::new(),
        tenant_shards: std::collections::BTreeMap::new(),
    }
}

/// Resolves `clusters:` or `selector:` of the component or tenant `item`; the default is every
/// cluster (`fleet_only`: every fleet cluster); a cluster that retired `item` is left out.
/// Returns the indexes and the span of the placement (the item's name when nothing was
/// written).
pub(super) fn place(
    (item, name_span): (&str, Span),
    names: Option<&Spanned<Vec<Spanned<String>>>>,
    selector: Option<&Spanned<raw::Selector>>,
    clusters: &[Cluster],
    cluster_names: &Names<'_>,
    fleet_only: bool,
    problems: &mut Vec<Problem>,
) -> (Vec<usize>, Span) {
    let (mut placed, span) = place_written(
        names,
        selector,
        name_span,
        clusters,
        cluster_names,
        fleet_only,
        problems,
    );
    placed.retain(|&i| !clusters[i].retires(item));
    (placed, span)
}

fn place_written(
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
) -> Tenant {
    let (placed, placement_span) = place(
        (&t.name.value, t.name.span),
        t.clusters.as_ref(),
        t.selector.as_ref(),
        clusters,
        cluster_names,
        true,
        problems,
    );
    let namespaces = match &t.namespaces {
        Some(ns) => ns.iter().map(|n| (n.value.clone(), n.span)).collect(),
        None => vec![(t.name.value.clone(), t.name.span)],
    };
    let entries = tenant_entries(t, problems);
    // Entry names for `dependsOn`: the unnamed entry answers to the tenant's name.
    let entry_names: Vec<&str> = entries
        .iter()
        .map(|e| e.name.as_ref().map_or(t.name.as_str(), |n| n.as_str()))
        .collect();
    let entry_index = Names::new(entry_names.iter().copied(), "entry of this tenant");
    let scope = EntryScope {
        tenant: t,
        clusters,
        cluster_names,
        wave_names,
        last_wave: waves.len().saturating_sub(1),
        entry_index: &entry_index,
        placed: (&placed, placement_span),
    };
    let apps = entries
        .iter()
        .filter_map(|e| scope.entry(e, problems))
        .collect();
    let role = tenant_role(t, problems);
    // Tenant namespaces enforce the baseline pod security standard unless their labels are
    // written (N8): written labels replace the default, as any default is replaced.
    let meta = t.namespace_metadata.clone().unwrap_or_default();
    let namespace_labels = meta.labels.unwrap_or_else(|| {
        [(
            defaults::TENANT_POD_SECURITY.0.to_owned(),
            defaults::TENANT_POD_SECURITY.1.to_owned(),
        )]
        .into()
    });
    Tenant {
        name: t.name.value.clone(),
        span: t.name.span,
        clusters: placed,
        placement_span,
        namespaces,
        quota: quota(t),
        isolation: t.isolation.unwrap_or(defaults::ISOLATION),
        apps,
        role_span: t.role.as_ref().map_or(t.name.span, |r| r.span),
        role,
        subjects: t.subjects.clone(),
        in_own_namespace: t
            .flux_namespace
            .as_ref()
            .filter(|f| f.value == raw::FluxNamespace::Tenant)
            .map(|f| f.span),
        namespace_labels,
        namespace_annotations: meta.annotations,
    }
}

/// A tenant's `quota`, each value as text.
fn quota(t: &raw::Tenant) -> BTreeMap<String, String> {
    t.quota
        .iter()
        .flatten()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_owned),
            )
        })
        .collect()
}

/// The role a tenant's accounts are bound to: synctl's reconciler role by default;
/// `cluster-admin` cluster-wide unless `roleScope: namespaces` binds it in each namespace.
fn tenant_role(t: &raw::Tenant, problems: &mut Vec<Problem>) -> TenantRole {
    let scope = t.role_scope.as_ref().map(|s| s.value);
    let role = match t.role.as_ref().map(|r| r.as_str()) {
        None => TenantRole::Reconciler,
        Some(r) if r == defaults::TENANT_ROLE => TenantRole::Reconciler,
        Some("cluster-admin") if scope != Some(raw::RoleScope::Namespaces) => {
            TenantRole::ClusterAdmin
        }
        Some(other) => TenantRole::ClusterRole(other.to_owned()),
    };
    if let (Some(s), false) = (&t.role_scope, role == TenantRole::ClusterAdmin)
        && s.value == raw::RoleScope::Cluster
    {
        problems.push(
            Problem::error(
                Code::Schema,
                format!("`roleScope: cluster` binds `{}` cluster-wide", role.cluster_role()),
            )
            .at(s.span, "only `role: cluster-admin` is bound cluster-wide")
            .help("remove `roleScope` (the role is bound in each tenant namespace), or use `role: cluster-admin` for a privileged infrastructure tenant"),
        );
    }
    role
}

/// A tenant's `apps:` entries (one entry or a list of them), read from their nodes.
fn tenant_entries(t: &raw::Tenant, problems: &mut Vec<Problem>) -> Vec<Spanned<raw::Apps>> {
    let nodes: Vec<&crate::spec::yaml::Node> = match &t.apps {
        Some(n) if matches!(n.value, crate::spec::yaml::Value::Seq(_)) => {
            n.items().iter().collect()
        }
        Some(n) => vec![n],
        None => Vec::new(),
    };
    let mut parsed = Vec::new();
    for n in nodes {
        match crate::spec::de::from_node::<Spanned<raw::Apps>>(n) {
            Ok(e) => parsed.push(e),
            Err(e) => problems.push(
                Problem::error(crate::diag::Code::Internal, format!("a tenant entry passed the schema but not the model ({e}): this is a bug in synctl"))
                    .at(e.span, "here"),
            ),
        }
    }
    parsed
}

/// What a tenant's entries are resolved against.
struct EntryScope<'a> {
    tenant: &'a raw::Tenant,
    clusters: &'a [Cluster],
    cluster_names: &'a Names<'a>,
    wave_names: &'a Names<'a>,
    /// The wave an entry without `wave:` runs in.
    last_wave: usize,
    entry_index: &'a Names<'a>,
    /// The tenant's own placement, which an entry without one takes.
    placed: (&'a [usize], Span),
}

impl EntryScope<'_> {
    /// One `apps:` entry with its defaults and references resolved; `None` when its wave is
    /// unknown (the problem is recorded).
    fn entry(&self, e: &Spanned<raw::Apps>, problems: &mut Vec<Problem>) -> Option<Apps> {
        let (a, t) = (&e.value, self.tenant);
        let wave = match &a.wave {
            Some(w) => self.wave_names.resolve(w, w.span, "wave", problems)?,
            None => self.last_wave,
        };
        let (clusters, placement_span) = if a.clusters.is_some() || a.selector.is_some() {
            place(
                (&t.name.value, e.span),
                a.clusters.as_ref(),
                a.selector.as_ref(),
                self.clusters,
                self.cluster_names,
                true,
                problems,
            )
        } else {
            (self.placed.0.to_vec(), self.placed.1)
        };
        let depends_on = a
            .depends_on
            .iter()
            .filter_map(|d| {
                self.entry_index
                    .resolve(d, d.span, "dependsOn", problems)
                    .map(|index| crate::model::Ref {
                        index,
                        span: d.span,
                    })
            })
            .collect();
        Some(Apps {
            name: a.name.as_ref().map(|n| n.value.clone()),
            span: a.name.as_ref().map_or(e.span, |n| n.span),
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
            source_interval: a
                .repository
                .interval
                .as_ref()
                .map(|s| (s.value.clone(), s.span)),
            delivery: a.delivery.as_ref().map_or(defaults::DELIVERY, |d| d.value),
            delivery_span: a.delivery.as_ref().map_or(t.name.span, |d| d.span),
            wave,
            wave_span: a.wave.as_ref().map_or(t.name.span, |w| w.span),
            namespace: a.namespace.clone(),
            clusters,
            placement_span,
            depends_on,
            interval: a.interval.clone(),
            retry_interval: a.retry_interval.clone(),
            timeout: a.timeout.clone(),
            substitute: a.substitute,
            flux_spec: a.flux_spec.clone(),
            force_service_account: a.force_service_account,
        })
    }
}

/// A component's chart or folder, and where it is written.
pub(super) fn component_source(c: &raw::Component) -> (ComponentSource, Span) {
    match (&c.chart, &c.path) {
        (Some(ch), _) => (
            ComponentSource::Chart {
                repository: ch.repository.trim_end_matches('/').to_owned(),
                name: ch.name.clone(),
                version: ch
                    .version
                    .clone()
                    .unwrap_or_else(|| defaults::CHART_VERSION.to_owned()),
            },
            ch.span,
        ),
        (None, Some(p)) => (ComponentSource::Path(p.value.clone()), p.span),
        (None, None) => (ComponentSource::Path(String::new()), c.name.span),
    }
}

/// Each cluster's `retired`: names of components or tenants, none of them needed by a component
/// still on the cluster (its teardown would break what stays).
pub(crate) fn check_retired(fleet: &super::super::Fleet, problems: &mut Vec<Problem>) {
    for (ci, c) in fleet.clusters.iter().enumerate() {
        for (name, span) in &c.retired {
            let component = fleet.components.iter().position(|x| &x.name == name);
            if component.is_none() && !fleet.tenants.iter().any(|t| &t.name == name) {
                problems.push(
                    Problem::error(
                        Code::UnknownRef,
                        format!("cluster `{}` retired `{name}`, which is neither a component nor a tenant", c.name),
                    )
                    .at(*span, "no such component or tenant")
                    .help("remove it from `retired`, or fix the name"),
                );
                continue;
            }
            let needed_by = fleet.components.iter().find(|x| {
                x.clusters.binary_search(&ci).is_ok()
                    && x.depends_on.iter().any(|d| Some(d.index) == component)
            });
            if let Some(x) = needed_by {
                problems.push(
                    Problem::error(
                        Code::Placement,
                        format!(
                            "cluster `{}` retired `{name}`, but `{}` still runs there and depends on it",
                            c.name, x.name
                        ),
                    )
                    .at(*span, "retired too early")
                    .help(format!("retire `{}` first (`synctl retire {}` orders the teardown)", x.name, c.name)),
                );
            }
        }
    }
}
