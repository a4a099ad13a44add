//! `${VAR}` in what a cluster receives must resolve: Flux 2.9 makes unresolved variables fatal,
//! and Argo CD has no substitution at all (synctl resolves them at compile time). Checked in
//! component values and charts, environment overrides and the manifests of `path:` components.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::diag::{Code, Problem};
use crate::model::{ComponentSource, Engine, Fleet};
use crate::spec::source::Span;
use crate::spec::yaml::{Node, Value};
use crate::subst;

use super::Folders;

/// The variables `text` needs (see [`crate::subst`]: no default, not escaped).
fn used(text: &str) -> Vec<String> {
    subst::required(text).map(str::to_owned).collect()
}

fn strings(v: &Json, out: &mut Vec<String>) {
    match v {
        Json::String(s) => out.push(s.clone()),
        Json::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Json::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

pub(super) fn check(fleet: &Fleet, folders: &Folders<'_>, problems: &mut Vec<Problem>) {
    let mut vars = Vars {
        fleet,
        per_cluster: (0..fleet.clusters.len())
            .map(|c| fleet.clusters[c].variables())
            .collect(),
        lacking: BTreeMap::new(),
    };
    // The YAML files of each distinct `path:` folder, read once.
    let mut manifests: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for comp in &fleet.components {
        let mut base = Vec::new();
        strings(&comp.values, &mut base);
        // The chart's repository, name and version reach the cluster's objects too (the
        // chart source and the HelmRelease), substituted like the values.
        if let ComponentSource::Chart {
            repository,
            name,
            version,
        } = &comp.source
        {
            base.extend([repository.clone(), name.clone(), version.clone()]);
        }
        if let ComponentSource::Path(p) = &comp.source
            && let Some(folder) = folders.get(p.as_str())
        {
            let texts = manifests
                .entry(p.as_str())
                .or_insert_with(|| folder.texts());
            base.extend(texts.iter().cloned());
        }
        if fleet.engine == Engine::ArgoCd && matches!(comp.source, ComponentSource::Path(_)) {
            // Argo CD applies manifests as written: a `${…}` is text (a shell script, a
            // runtime template), unless it names one of the cluster's variables, which only
            // substitution would fill in.
            if let Some(name) = base.iter().flat_map(|s| used(s)).find(|n| {
                comp.clusters
                    .iter()
                    .any(|&c| vars.per_cluster[c].contains_key(n))
            }) {
                problems.push(
                    Problem::error(Code::Substitution, format!("`${{{name}}}` in the manifests of `{}`: Argo CD does not substitute variables", comp.name))
                        .at(comp.source_span, "applied as written")
                        .help("with engine argocd, write the value into the manifests (or use a chart, whose values synctl resolves)"),
                );
            }
            continue;
        }
        // Variables a `substituteFrom` ConfigMap or Secret supplies are read on the cluster:
        // which ones it holds is not known here. `substitute: false`: nothing is substituted.
        if !comp.knobs.substitute_from.is_empty() || comp.knobs.substitute == Some(false) {
            continue;
        }
        let mut base_used: Vec<String> = base.iter().flat_map(|s| used(s)).collect();
        base_used.sort();
        base_used.dedup();
        for (name, clusters) in vars.missing(comp, &base_used) {
            problems.push(vars.undefined(comp, &name, &clusters));
        }
    }
}

/// The clusters' substitution variables, and which clusters lack each variable used so far.
struct Vars<'a> {
    fleet: &'a Fleet,
    per_cluster: Vec<BTreeMap<String, String>>,
    /// Variable → the clusters that lack it (sorted), computed when first needed.
    lacking: BTreeMap<String, Vec<usize>>,
}

impl Vars<'_> {
    /// Variable → the clusters of `comp` that lack it, in spec order; `base_used` are the
    /// variables its values and manifests use everywhere.
    fn missing(
        &mut self,
        comp: &crate::model::Component,
        base_used: &[String],
    ) -> BTreeMap<String, Vec<usize>> {
        let mut missing: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        if comp.environments.is_empty() {
            // No environment adds values: a variable is missing on the component's clusters
            // that lack it, found once per variable for the whole fleet (a component on a
            // thousand clusters is not looked up a thousand times).
            for name in base_used {
                let per_cluster = &self.per_cluster;
                let lacks = self.lacking.entry(name.clone()).or_insert_with(|| {
                    (0..per_cluster.len())
                        .filter(|&c| !per_cluster[c].contains_key(name.as_str()))
                        .collect()
                });
                let on: Vec<usize> = lacks
                    .iter()
                    .copied()
                    .filter(|c| comp.clusters.binary_search(c).is_ok())
                    .collect();
                if !on.is_empty() {
                    missing.insert(name.clone(), on);
                }
            }
            return missing;
        }
        for &c in &comp.clusters {
            let cluster = &self.fleet.clusters[c];
            let vars = &self.per_cluster[c];
            let overrides = comp
                .environments
                .get(&cluster.environment)
                .filter(|_| !cluster.is_hub())
                .and_then(|o| o.values.as_ref());
            if overrides.is_none() && base_used.iter().all(|n| vars.contains_key(n.as_str())) {
                continue;
            }
            let mut names = base_used.to_vec();
            if let Some(v) = overrides {
                let mut env = Vec::new();
                strings(v, &mut env);
                names.extend(env.iter().flat_map(|s| used(s)));
            }
            names.sort();
            names.dedup();
            for name in names.into_iter().filter(|n| !vars.contains_key(n.as_str())) {
                missing.entry(name).or_default().push(c);
            }
        }
        missing
    }

    /// `${name}` in `comp` is not defined on `clusters` (at least one).
    fn undefined(&self, comp: &crate::model::Component, name: &str, clusters: &[usize]) -> Problem {
        let fleet = self.fleet;
        let span = match comp.source {
            ComponentSource::Path(_) => comp.source_span,
            ComponentSource::Chart { .. } => comp
                .values_tree
                .iter()
                .chain(
                    comp.environments
                        .values()
                        .filter_map(|o| o.values_tree.as_ref()),
                )
                .find_map(|n| find_scalar(n, name))
                .unwrap_or(comp.source_span),
        };
        let names: Vec<&str> = clusters
            .iter()
            .map(|&c| fleet.clusters[c].name.as_str())
            .collect();
        let first = &fleet.clusters[clusters[0]];
        let suggestion = crate::suggest::did_you_mean(
            name,
            self.per_cluster[clusters[0]].keys().map(String::as_str),
        )
        .map(|s| format!("did you mean `${{{s}}}`? Otherwise "))
        .unwrap_or_default();
        Problem::error(
            Code::Substitution,
            format!("`${{{name}}}` in `{}` is not defined for {}", comp.name, plural("cluster", &names)),
        )
        .at(span, "used here")
        .also(first.span, format!("`{}` has no `{name}`", first.name))
        .help(format!(
            "{suggestion}add `{name}` to the `vars:` of {}, give it a default (`${{{name}:=value}}`), or escape it as `$${{{name}}}`",
            names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        ))
    }
}

fn plural(what: &str, names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    if names.len() == 1 {
        format!("{what} {}", quoted[0])
    } else {
        format!("{what}s {}", quoted.join(", "))
    }
}

/// The first string node under `node` that needs variable `name`.
fn find_scalar(node: &Node, name: &str) -> Option<Span> {
    match &node.value {
        Value::Str(s) if subst::required(s).any(|n| n == name) => Some(node.span),
        Value::Seq(items) => items.iter().find_map(|n| find_scalar(n, name)),
        Value::Map(entries) => entries.iter().find_map(|e| find_scalar(&e.value, name)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::used;

    #[test]
    fn finds_variables_without_defaults_or_escapes() {
        assert_eq!(used("a ${A} b ${B:=x} c $${C} ${ D } ${E:-y}"), ["A", "D"]);
    }
}
