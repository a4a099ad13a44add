//! Building the checked fleet from the raw spec: defaults applied here, in one place, and
//! every name resolved to an index (or reported).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value as Json;

use super::{
    Cluster, Component, ComponentSource, Defaults, Engine, Fleet, Override, Ref, Repository,
    Requirement, Wave,
};
use crate::diag::{Code, Problem};
use crate::spec::Loaded;
use crate::spec::source::Span;
use crate::spec::yaml::Node;
use crate::suggest::did_you_mean;

mod parts;
use parts::{build_cluster, build_tenant, place};

/// Spans of the spec, looked up by path.
pub(super) struct At<'a>(&'a Node);

impl At<'_> {
    fn span<S: AsRef<str>>(&self, path: &[S]) -> Span {
        let mut best = self.0.span;
        let mut node = self.0;
        for seg in path {
            match node.at([seg.as_ref()]) {
                Some(n) => {
                    node = n;
                    best = n.span;
                }
                None => break,
            }
        }
        best
    }
}

/// The span at `keys` under `node` (the deepest one found; the node's own when none).
fn span_in(node: Option<&Node>, keys: &[&str]) -> Span {
    let Some(mut node) = node else {
        return Span::default();
    };
    for k in keys {
        match node.at([*k]) {
            Some(n) => node = n,
            None => break,
        }
    }
    node.span
}

/// Resolves names to indexes, reporting the ones that name nothing.
pub(super) struct Names<'a> {
    index: HashMap<&'a str, usize>,
    kind: &'static str,
}

impl<'a> Names<'a> {
    fn new(names: impl Iterator<Item = &'a str>, kind: &'static str) -> Names<'a> {
        let mut index = HashMap::new();
        for (i, n) in names.enumerate() {
            index.entry(n).or_insert(i);
        }
        Names { index, kind }
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
        let mut known: Vec<&str> = self.index.keys().copied().collect();
        known.sort_unstable();
        p = match did_you_mean(name, known.iter().copied()) {
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

/// Builds the checked fleet from a loaded spec; unresolved references become problems.
#[must_use]
pub fn build(loaded: &Loaded) -> (Fleet, Vec<Problem>) {
    let raw = &loaded.raw;
    let at = At(&loaded.root);
    let spec = &raw.spec;
    let mut problems = Vec::new();

    let default_waves = ["tenants", "controllers", "config"];
    let waves: Vec<Wave> = match &spec.waves {
        Some(ws) => ws
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let is = i.to_string();
                Wave {
                    name: w.name.clone(),
                    span: at.span(&["spec", "waves", &is, "name"]),
                    base: w.sync_wave.unwrap_or(i as i64 * 10),
                    base_span: at.span(&["spec", "waves", &is, "syncWave"]),
                }
            })
            .collect(),
        None => default_waves
            .iter()
            .enumerate()
            .map(|(i, n)| Wave {
                name: (*n).to_owned(),
                // Default waves were not written anywhere: an empty span means "no label".
                span: Span::default(),
                base: i as i64 * 10,
                base_span: Span::default(),
            })
            .collect(),
    };
    let repo_branch = spec
        .repository
        .branch
        .clone()
        .unwrap_or_else(|| "main".to_owned());

    let clusters: Vec<Cluster> = spec
        .clusters
        .iter()
        .enumerate()
        .map(|(i, c)| build_cluster(c, &at, i, &repo_branch))
        .collect();

    let wave_names = Names::new(waves.iter().map(|w| w.name.as_str()), "wave");
    let cluster_names = Names::new(clusters.iter().map(|c| c.name.as_str()), "cluster");
    let component_names = Names::new(spec.components.iter().map(|c| c.name.as_str()), "component");
    let environments: Vec<&str> = {
        let mut e: Vec<&str> = clusters
            .iter()
            .filter(|c| !c.hub)
            .map(|c| c.environment.as_str())
            .collect();
        e.sort_unstable();
        e.dedup();
        e
    };
    let mut providers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, c) in spec.components.iter().enumerate() {
        providers.entry(c.name.as_str()).or_default().push(i);
        for p in &c.provides {
            if p != &c.name {
                providers.entry(p.as_str()).or_default().push(i);
            }
        }
    }

    let mut components = Vec::with_capacity(spec.components.len());
    let comps_node = loaded.root.at(["spec", "components"]);
    for (i, c) in spec.components.iter().enumerate() {
        let is = i.to_string();
        let base = ["spec", "components", is.as_str()];
        let cn = comps_node.and_then(|n| n.items().get(i));
        let sp = |keys: &[&str]| span_in(cn, keys);
        let wave_span = sp(&["wave"]);
        let wave_index = wave_names.resolve(&c.wave, wave_span, "wave", &mut problems);
        let wave = wave_index.unwrap_or(0);
        let depends_on = c
            .depends_on
            .iter()
            .enumerate()
            .filter_map(|(j, d)| {
                let span = sp(&["dependsOn", &j.to_string()]);
                component_names
                    .resolve(d, span, "dependsOn", &mut problems)
                    .map(|index| Ref { index, span })
            })
            .collect();
        let (clusters_of, placement_span) = place(
            c.clusters.as_deref(),
            c.selector.as_ref(),
            &clusters,
            &cluster_names,
            &at,
            &base,
            false,
            &mut problems,
        );
        let requires = c
            .requires
            .iter()
            .enumerate()
            .filter_map(|(j, r)| {
                let span = sp(&["requires", &j.to_string()]);
                if let Some(p) = providers.get(r.as_str()) {
                    return Some(Requirement {
                        name: r.clone(),
                        span,
                        providers: p.clone(),
                    });
                }
                let known: Vec<&str> = providers.keys().copied().collect();
                let mut p = Problem::error(
                    Code::UnknownRef,
                    format!("`requires` names `{r}`, which no component is or provides"),
                )
                .at(span, "nothing provides this");
                p = match did_you_mean(r, {
                    let mut k = known;
                    k.sort_unstable();
                    k
                }) {
                    Some(s) => p.help(format!("did you mean `{s}`?")),
                    None => p.help(format!(
                        "add a component named `{r}` or one with `provides: [{r}]`"
                    )),
                };
                problems.push(p);
                None
            })
            .collect();
        let mut overrides = BTreeMap::new();
        for (env, o) in &c.environments {
            if !environments.contains(&env.as_str()) {
                let span = cn
                    .and_then(|n| n.get("environments"))
                    .and_then(|n| n.entry(env))
                    .map_or(sp(&["environments"]), |e| e.key_span);
                let mut p = Problem::error(
                    Code::UnknownRef,
                    format!(
                        "`environments` names the environment `{env}`, which no fleet cluster is in"
                    ),
                )
                .at(span, "no such environment");
                p = match did_you_mean(env, environments.iter().copied()) {
                    Some(s) => p.help(format!("did you mean `{s}`?")),
                    None => p.help(format!(
                        "environments of this fleet: {}",
                        environments.join(", ")
                    )),
                };
                problems.push(p);
                continue;
            }
            overrides.insert(
                env.clone(),
                Override {
                    version: o.version.clone(),
                    values: o.values.clone(),
                },
            );
        }
        let (source, source_span) = match (&c.chart, &c.path) {
            (Some(ch), _) => (
                ComponentSource::Chart {
                    repository: ch.repository.trim_end_matches('/').to_owned(),
                    name: ch.name.clone(),
                    version: ch.version.clone().unwrap_or_else(|| "*".to_owned()),
                },
                sp(&["chart"]),
            ),
            (None, Some(p)) => (ComponentSource::Path(p.clone()), sp(&["path"])),
            (None, None) => (ComponentSource::Path(String::new()), sp(&[])),
        };
        components.push(Component {
            name: c.name.clone(),
            span: sp(&["name"]),
            wave,
            wave_known: wave_index.is_some(),
            namespace: c.namespace.clone().unwrap_or_else(|| c.name.clone()),
            namespace_span: sp(&["namespace"]),
            source,
            source_span,
            values: c
                .values
                .clone()
                .unwrap_or_else(|| Json::Object(serde_json::Map::new())),
            values_span: sp(&["values"]),
            depends_on,
            clusters: clusters_of,
            placement_span,
            environments: overrides,
            provides: c.provides.clone(),
            requires,
        });
    }

    let tenants = spec
        .tenants
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            build_tenant(
                t,
                i,
                &at,
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
        engine: if spec.engine.as_deref() == Some("argocd") {
            Engine::ArgoCd
        } else {
            Engine::Flux
        },
        repository: Repository {
            url: spec.repository.url.clone(),
            branch: repo_branch,
            secret_ref: spec.repository.secret_ref.clone(),
        },
        hub_source_ref: spec
            .hub
            .as_ref()
            .and_then(|h| h.source_ref.clone())
            .unwrap_or_else(|| "flux-system".to_owned()),
        argocd_retry_limit: spec
            .argocd
            .as_ref()
            .and_then(|a| a.retry_limit)
            .unwrap_or(-1),
        argocd_namespace: spec
            .argocd
            .as_ref()
            .and_then(|a| a.namespace.clone())
            .unwrap_or_else(|| "argocd".to_owned()),
        defaults: Defaults {
            interval: default_of(
                spec.defaults.as_ref().and_then(|d| d.interval.clone()),
                "10m",
            ),
            retry_interval: default_of(
                spec.defaults
                    .as_ref()
                    .and_then(|d| d.retry_interval.clone()),
                "2m",
            ),
            timeout: default_of(spec.defaults.as_ref().and_then(|d| d.timeout.clone()), "5m"),
        },
        waves,
        clusters,
        components,
        tenants,
    };
    (fleet, problems)
}

fn default_of(v: Option<String>, d: &str) -> String {
    v.unwrap_or_else(|| d.to_owned())
}
