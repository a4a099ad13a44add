//! Building the checked fleet from the raw spec: defaults applied here, in one place, and
//! every name resolved to an index (or reported).

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::defaults;
use super::{Cluster, Component, Defaults, Fleet, Override, Ref, Repository, Requirement, Wave};
use crate::diag::{Code, Problem};
use crate::hashing::Map as HashMap;
use crate::spec::raw as spec_raw;
use crate::spec::source::Span;
use crate::suggest::{Known, did_you_mean};

mod parts;
use parts::{build_cluster, build_tenant, component_source, place};

/// Resolves names to indexes, reporting the ones that name nothing.
pub(super) struct Names<'a> {
    index: HashMap<&'a str, usize>,
    kind: &'static str,
    /// The names sorted for suggestions, made at the first unknown reference.
    known: std::cell::OnceCell<Known>,
}

impl<'a> Names<'a> {
    fn new(names: impl Iterator<Item = &'a str>, kind: &'static str) -> Names<'a> {
        let mut index = HashMap::default();
        for (i, n) in names.enumerate() {
            index.entry(n).or_insert(i);
        }
        Names {
            index,
            kind,
            known: std::cell::OnceCell::new(),
        }
    }

    fn resolve(
        &self,
        name: &str,
        span: Span,
        field: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<usize> {
        if let Some(&i) = self.index.get(name) {
            return Some(i);
        }
        let mut p = Problem::error(
            Code::UnknownRef,
            format!(
                "`{field}` names the {} `{name}`, which does not exist",
                self.kind
            ),
        )
        .at(span, format!("no {} is named `{name}`", self.kind));
        let known = self
            .known
            .get_or_init(|| Known::new(self.index.keys().copied()));
        let suggestion = known.closest(name);
        let known = known.sorted();
        p = match suggestion {
            Some(s) => p.help(format!("did you mean `{s}`?")),
            None if known.is_empty() => p.help(format!("define the {} first", self.kind)),
            None if known.len() <= 12 => {
                p.help(format!("known {}s: {}", self.kind, known.join(", ")))
            }
            None => p.help(format!(
                "check the spelling against the {}s of the spec",
                self.kind
            )),
        };
        problems.push(p);
        None
    }
}

/// Builds the checked fleet from a spec's raw mirror; unresolved references become problems.
#[must_use]
pub(crate) fn build(raw: &spec_raw::Fleet) -> (Fleet, Vec<Problem>) {
    let spec = &raw.spec;
    let mut problems = Vec::new();
    let waves = build_waves(spec);
    let repo_branch = spec
        .repository
        .branch
        .clone()
        .unwrap_or_else(|| defaults::BRANCH.to_owned());
    let clusters: Vec<Cluster> = spec
        .clusters
        .iter()
        .map(|c| build_cluster(c, &repo_branch, spec.flux.as_ref()))
        .collect();
    let wave_names = Names::new(waves.iter().map(|w| w.name.as_str()), "wave");
    let cluster_names = Names::new(clusters.iter().map(|c| c.name.as_str()), "cluster");
    let scope = ComponentScope {
        wave_names: &wave_names,
        component_names: &Names::new(spec.components.iter().map(|c| c.name.as_str()), "component"),
        cluster_names: &cluster_names,
        clusters: &clusters,
        providers: &providers(spec),
        environments: &environments(&clusters),
    };
    let components = spec
        .components
        .iter()
        .map(|c| scope.component(c, &mut problems))
        .collect();
    let tenants = spec
        .tenants
        .iter()
        .map(|t| {
            build_tenant(
                t,
                &clusters,
                &cluster_names,
                &wave_names,
                &waves,
                &mut problems,
            )
        })
        .collect();
    let fleet = Fleet {
        name: raw.metadata.name.clone(),
        engine: spec.engine.unwrap_or(defaults::ENGINE),
        repository: repository(spec, repo_branch, &mut problems),
        hub_source_ref: spec
            .hub
            .as_ref()
            .and_then(|h| h.source_ref.clone())
            .unwrap_or_else(|| defaults::HUB_SOURCE_REF.to_owned()),
        argocd_retry_limit: spec
            .argocd
            .as_ref()
            .and_then(|a| a.retry_limit)
            .unwrap_or(defaults::ARGOCD_RETRY_LIMIT),
        argocd_namespace: spec
            .argocd
            .as_ref()
            .and_then(|a| a.namespace.clone())
            .unwrap_or_else(|| defaults::ARGOCD_NAMESPACE.to_owned()),
        defaults: fleet_defaults(spec),
        waves,
        clusters,
        clusters_span: spec.clusters.span,
        components,
        tenants,
    };
    parts::check_retired(&fleet, &mut problems);
    (fleet, problems)
}

/// The spec's waves, or the default ones, each with its sync wave.
fn build_waves(spec: &spec_raw::Spec) -> Vec<Wave> {
    match &spec.waves {
        Some(ws) => ws
            .iter()
            .enumerate()
            .map(|(i, w)| Wave {
                name: w.name.value.clone(),
                span: w.name.span,
                base: w
                    .sync_wave
                    .as_ref()
                    .map_or_else(|| default_base(i), |s| s.value),
                base_span: w.sync_wave.as_ref().map_or_else(Span::default, |s| s.span),
                flux_spec: w.flux_spec.clone(),
            })
            .collect(),
        None => defaults::WAVES
            .iter()
            .enumerate()
            .map(|(i, n)| Wave {
                name: (*n).to_owned(),
                // Default waves were not written anywhere: an empty span means "no label".
                span: Span::default(),
                base: default_base(i),
                base_span: Span::default(),
                flux_spec: None,
            })
            .collect(),
    }
}

/// The fleet's repository; `path` as Flux and Argo CD read it (no `./`, no trailing `/`).
fn repository(spec: &spec_raw::Spec, branch: String, problems: &mut Vec<Problem>) -> Repository {
    let written = spec.repository.path.as_ref();
    let path_span = written.map_or(Span::default(), |p| p.span);
    let path = clean_path(written.map_or(defaults::REPOSITORY_PATH, |p| p.value.as_str()));
    if path.is_none() {
        problems.push(
                Problem::error(Code::Name, "`repository.path` climbs out of the repository with `..`")
                    .at(path_span, "`..` here")
                    .help("write where the output root sits from the repository's root, e.g. `./clusters`, without `..`"),
        );
    }
    Repository {
        url: spec.repository.url.value.clone(),
        url_span: spec.repository.url.span,
        branch,
        secret_ref: spec.repository.secret_ref.clone(),
        path: path.unwrap_or_default(),
        path_span,
    }
}

/// A relative folder as Flux and Argo CD read it: its parts without `.` and empty ones,
/// joined by `/` (`./.config/` is `.config`, `./a//b` is `a/b`, `.` is empty); `None` when a
/// part is `..`.
fn clean_path(path: &str) -> Option<String> {
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// `spec.defaults`, each unset one from `defaults`.
fn fleet_defaults(spec: &spec_raw::Spec) -> Defaults {
    let d = spec.defaults.as_ref();
    let or = |v: Option<&String>, default: &str| v.map_or_else(|| default.to_owned(), Clone::clone);
    Defaults {
        interval: or(d.and_then(|d| d.interval.as_ref()), defaults::INTERVAL),
        retry_interval: or(
            d.and_then(|d| d.retry_interval.as_ref()),
            defaults::RETRY_INTERVAL,
        ),
        timeout: or(d.and_then(|d| d.timeout.as_ref()), defaults::TIMEOUT),
    }
}

/// The components that provide each name: their own, and what they list in `provides`.
fn providers(spec: &spec_raw::Spec) -> HashMap<&str, Vec<usize>> {
    let mut providers: HashMap<&str, Vec<usize>> = HashMap::default();
    for (i, c) in spec.components.iter().enumerate() {
        providers.entry(c.name.as_str()).or_default().push(i);
        for p in &c.provides {
            if p != &c.name.value {
                providers.entry(p.as_str()).or_default().push(i);
            }
        }
    }
    providers
}

/// The environments of the fleet's clusters (the hub is in none), sorted, once each.
fn environments(clusters: &[Cluster]) -> Vec<&str> {
    let mut e: Vec<&str> = clusters
        .iter()
        .filter(|c| !c.is_hub())
        .map(|c| c.environment.as_str())
        .collect();
    e.sort_unstable();
    e.dedup();
    e
}

/// What a component's references are resolved against.
struct ComponentScope<'a> {
    wave_names: &'a Names<'a>,
    component_names: &'a Names<'a>,
    cluster_names: &'a Names<'a>,
    clusters: &'a [Cluster],
    providers: &'a HashMap<&'a str, Vec<usize>>,
    environments: &'a [&'a str],
}

impl ComponentScope<'_> {
    fn component(&self, c: &spec_raw::Component, problems: &mut Vec<Problem>) -> Component {
        let wave_index = self
            .wave_names
            .resolve(&c.wave, c.wave.span, "wave", problems);
        let depends_on = c
            .depends_on
            .iter()
            .filter_map(|d| {
                self.component_names
                    .resolve(d, d.span, "dependsOn", problems)
                    .map(|index| Ref {
                        index,
                        span: d.span,
                    })
            })
            .collect();
        let (clusters, placement_span) = place(
            (&c.name.value, c.name.span),
            c.clusters.as_ref(),
            c.selector.as_ref(),
            self.clusters,
            self.cluster_names,
            false,
            problems,
        );
        let requires = c
            .requires
            .iter()
            .filter_map(|r| requirement(r, self.providers, problems))
            .collect();
        let (source, source_span) = component_source(c);
        let environments = self.overrides(c, &clusters, problems);
        Component {
            name: c.name.value.clone(),
            span: c.name.span,
            wave: wave_index.unwrap_or(0),
            wave_known: wave_index.is_some(),
            namespace: c
                .namespace
                .as_ref()
                .map_or_else(|| c.name.value.clone(), |n| n.value.clone()),
            namespace_span: c.namespace.as_ref().map_or(c.name.span, |n| n.span),
            namespace_written: c.namespace.is_some(),
            source,
            source_span,
            values: c.values.as_ref().map_or_else(
                || Json::Object(serde_json::Map::new()),
                crate::spec::yaml::Node::to_json,
            ),
            values_span: c.values.as_ref().map_or(c.name.span, |v| v.span),
            values_tree: c.values.clone(),
            depends_on,
            clusters,
            placement_span,
            environments,
            provides: c.provides.clone(),
            requires,
            knobs: knobs(c),
        }
    }

    /// The component's per-environment overrides, each environment one the fleet has.
    fn overrides(
        &self,
        c: &spec_raw::Component,
        placed: &[usize],
        problems: &mut Vec<Problem>,
    ) -> BTreeMap<String, Override> {
        let mut overrides = BTreeMap::new();
        for (env, o) in c.environments.iter() {
            if !self.environments.contains(&env.as_str()) {
                let mut p = Problem::error(
                    Code::UnknownRef,
                    format!(
                        "`environments` names the environment `{}`, which no fleet cluster is in",
                        env.value
                    ),
                )
                .at(env.span, "no such environment");
                p = match did_you_mean(env, self.environments.iter().copied()) {
                    Some(s) => p.help(format!("did you mean `{s}`?")),
                    None => p.help(format!(
                        "environments of this fleet: {}",
                        self.environments.join(", ")
                    )),
                };
                problems.push(p);
                continue;
            }
            // The hub takes no environment's overrides: one must reach a cluster it is on.
            let reaches = placed.iter().any(|&i| {
                let cluster = &self.clusters[i];
                !cluster.is_hub() && cluster.environment == env.value
            });
            if !reaches {
                problems.push(
                    Problem::error(
                        Code::Placement,
                        format!(
                            "`environments.{}` of `{}` reaches none of its clusters",
                            env.value, c.name.value
                        ),
                    )
                    .at(env.span, "applied nowhere")
                    .help(format!(
                        "place `{}` on a cluster of environment `{}` (the hub takes no environment's overrides), or remove the override",
                        c.name.value, env.value
                    )),
                );
                continue;
            }
            overrides.insert(
                env.value.clone(),
                Override {
                    version: o.version.clone(),
                    values: o.values.as_ref().map(crate::spec::yaml::Node::to_json),
                    values_tree: o.values.clone(),
                    values_from: o.values_from.clone().map(Json::Array),
                    interval: o.interval.clone(),
                    timeout: o.timeout.clone(),
                    retry_interval: o.retry_interval.clone(),
                    helm: o.helm.clone(),
                    patches: o.patches.clone(),
                    flux_spec: o.flux_spec.clone(),
                },
            );
        }
        overrides
    }
}

/// The component's per-object settings as written; defaults are applied where they are used.
fn knobs(c: &crate::spec::raw::Component) -> super::Knobs {
    let meta = c.namespace_metadata.as_ref();
    super::Knobs {
        release_name: c
            .release_name
            .as_ref()
            .map_or_else(|| c.name.value.clone(), |r| r.value.clone()),
        release_name_span: c.release_name.as_ref().map_or(c.name.span, |r| r.span),
        service_account: c.service_account_name.clone(),
        interval: c.interval.clone(),
        source_interval: c.chart.as_ref().and_then(|ch| ch.interval.clone()),
        timeout: c.timeout.clone(),
        retry_interval: c.retry_interval.clone(),
        helm: c.helm.clone().unwrap_or(Json::Null),
        values_from: Json::Array(c.values_from.clone()),
        patches: c.patches.clone(),
        health_checks: c.health_checks.clone(),
        wait: c.wait,
        decryption: c.decryption.as_ref().map(|d| d.secret_ref.clone()),
        substitute_from: c.substitute_from.clone(),
        substitute: c.substitute,
        flux_spec: c.flux_spec.clone(),
        namespace_labels: meta.and_then(|m| m.labels.clone()).unwrap_or_default(),
        namespace_annotations: meta.map(|m| m.annotations.clone()).unwrap_or_default(),
        namespace_metadata_span: meta.map(|m| m.span),
        sync_options: c.sync_options.clone(),
        ignore_differences: c.ignore_differences.clone(),
        cascade: c.cascade.unwrap_or(defaults::CASCADE),
        manifest_generate_paths: c.manifest_generate_paths.clone(),
        own_project: c.project.as_deref() == Some("own"),
        plugin: c.plugin.clone(),
        argocd_spec: c.argocd_spec.clone(),
    }
}

/// A `requires` entry: the components that are or provide it, or an unknown-ref problem.
fn requirement(
    r: &crate::spec::de::Spanned<String>,
    providers: &HashMap<&str, Vec<usize>>,
    problems: &mut Vec<Problem>,
) -> Option<Requirement> {
    if let Some(p) = providers.get(r.as_str()) {
        return Some(Requirement {
            name: r.value.clone(),
            span: r.span,
            providers: p.clone(),
        });
    }
    let mut known: Vec<&str> = providers.keys().copied().collect();
    known.sort_unstable();
    let mut p = Problem::error(
        Code::UnknownRef,
        format!(
            "`requires` names `{}`, which no component is or provides",
            r.value
        ),
    )
    .at(r.span, "nothing provides this");
    p = match did_you_mean(r, known) {
        Some(s) => p.help(format!("did you mean `{s}`?")),
        None => p.help(format!(
            "add a component named `{0}` or one with `provides: [{0}]`",
            r.value
        )),
    };
    problems.push(p);
    None
}

/// The sync wave of the `i`-th wave when the spec gives none: `WAVE_STEP` apart.
fn default_base(i: usize) -> i64 {
    i64::try_from(i)
        .unwrap_or(i64::MAX)
        .saturating_mul(defaults::WAVE_STEP)
}
