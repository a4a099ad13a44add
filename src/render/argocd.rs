//! Argo CD output: app of apps. Argo CD runs on the hub; each cluster has a root Application
//! in `hub/<cluster>.yaml` pointing at its children (one per component and tenant), ordered by
//! sync waves. Argo CD has no substitution, so `vars` are resolved here.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use super::{Renderer, Tree, kustomization, merge};
use crate::diag::{Code, Problem};
use crate::graph::Graph;
use crate::model::{ComponentSource, Fleet};
use crate::naming::application;

/// The Application health check that makes sync waves over Applications wait.
pub const HEALTH_LUA: &str = r#"hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil and obj.status.health ~= nil and obj.status.sync ~= nil then
  local op = obj.status.operationState
  local busy = op ~= nil and (op.phase == "Running" or op.phase == "Failed" or op.phase == "Error")
  if obj.status.health.status == "Healthy" and obj.status.sync.status == "Synced" and not busy then
    hs.status = "Healthy"
  end
  hs.message = obj.status.health.message or ""
end
return hs
"#;

const HEALTH_KEY: &str = "resource.customizations.health.argoproj.io_Application";

/// Replaces `${VAR}` (and `${VAR:=default}`) in every string of `value`; returns the names
/// no variable resolves.
fn resolve(value: &mut Json, vars: &BTreeMap<String, String>, missing: &mut Vec<String>) {
    match value {
        Json::String(s) => *s = substitute(s, vars, missing),
        Json::Array(items) => items.iter_mut().for_each(|v| resolve(v, vars, missing)),
        Json::Object(map) => map.values_mut().for_each(|v| resolve(v, vars, missing)),
        _ => {}
    }
}

/// Substitutes `${VAR}` in `s` the way Flux's postBuild does (`$${VAR}` escapes).
#[must_use]
pub fn substitute(s: &str, vars: &BTreeMap<String, String>, missing: &mut Vec<String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        if rest[..i].ends_with('$') {
            out.push_str(&rest[..i]);
            out.push('{');
            rest = &rest[i + 2..];
            continue;
        }
        out.push_str(&rest[..i]);
        let Some(end) = rest[i..].find('}') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let inner = &rest[i + 2..i + end];
        let (name, default) = match inner.split_once(":=") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        match (vars.get(name), default) {
            (Some(v), _) => out.push_str(v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => {
                missing.push(name.to_owned());
                out.push_str(&rest[i..=i + end]);
            }
        }
        rest = &rest[i + end + 1..];
    }
    out.push_str(rest);
    out
}

/// Renders one Application into `files` (or its failure into `problems`).
fn add(
    r: &Renderer,
    files: &mut Vec<(String, String)>,
    problems: &mut Vec<Problem>,
    file: String,
    ctx: &Json,
) {
    match r.object("argocd/application.yaml.j2", ctx) {
        Ok(d) => files.push((file, d)),
        Err(p) => problems.push(p),
    }
}

pub(super) fn render(
    fleet: &Fleet,
    graph: &Graph,
    r: &Renderer,
    tree: &mut Tree,
) -> Result<(), Vec<Problem>> {
    let mut problems = Vec::new();
    let provider = fleet.components.iter().position(|c| {
        c.provides.iter().any(|p| p == "argocd")
            && matches!(c.source, ComponentSource::Chart { .. })
    });
    let ns = &fleet.argocd_namespace;
    if let Err(p) = super::tenants::bases(fleet, r, tree) {
        problems.push(p);
    }
    let mut projects = Vec::new();
    // One AppProject per tenant with apps: its repository only, its (cluster, namespace) pairs.
    for t in &fleet.tenants {
        let Some(apps) = &t.apps else { continue };
        let destinations: Vec<Json> = t
            .clusters
            .iter()
            .flat_map(|&c| {
                let dest = if fleet.clusters[c].hub {
                    "in-cluster".to_owned()
                } else {
                    fleet.clusters[c].name.clone()
                };
                t.namespaces
                    .iter()
                    .map(move |(n, _)| json!({"name": dest, "namespace": n}))
            })
            .collect();
        // Synced by the hub's root Application before any Application that uses it.
        let wave = fleet.waves.first().map_or(0, |w| w.base) - 1;
        match r.object(
            "argocd/appproject.yaml.j2",
            &json!({"name": t.name, "namespace": ns, "destinations": destinations, "repo": apps.url, "sync_wave": wave}),
        ) {
            Ok(d) => projects.push((format!("project-{}.yaml", t.name), d)),
            Err(p) => problems.push(p),
        }
    }
    for (ci, cluster) in fleet.clusters.iter().enumerate() {
        let dir = if cluster.hub {
            "platform/apps".to_owned()
        } else {
            format!("fleet/{}/apps/{}", cluster.environment, cluster.name)
        };
        let dest = if cluster.hub {
            "in-cluster".to_owned()
        } else {
            cluster.name.clone()
        };
        let vars = cluster.variables();
        let mut files = Vec::new();
        if cluster.hub {
            files.append(&mut projects);
        }
        for &c in &graph.order {
            let comp = &fleet.components[c];
            if comp.clusters.binary_search(&ci).is_err() {
                continue;
            }
            let source = match &comp.source {
                // Plain manifests (or a kustomization) from this repository, on its branch.
                ComponentSource::Path(path) => json!({
                    "repoURL": fleet.repository.url,
                    "path": path.trim_start_matches("./").trim_end_matches('/'),
                    "targetRevision": cluster.branch,
                }),
                ComponentSource::Chart {
                    repository,
                    name,
                    version,
                } => match chart_source(fleet, ci, c, repository, name, version, &vars, provider) {
                    Ok(source) => source,
                    Err(mut p) => {
                        problems.append(&mut p);
                        continue;
                    }
                },
            };
            add(
                r,
                &mut files,
                &mut problems,
                format!("{}.yaml", comp.name),
                &json!({
                    "name": application(fleet, ci, &comp.name), "namespace": ns,
                    "sync_wave": graph.sync_wave(fleet, c), "project": "default",
                    "destination": {"name": dest, "namespace": comp.namespace},
                    "source": source,
                    "retry": true, "retry_limit": fleet.argocd_retry_limit, "sync_options": ["CreateNamespace=true"],
                }),
            );
        }
        if fleet
            .tenants
            .iter()
            .any(|t| t.clusters.binary_search(&ci).is_ok())
        {
            add(
                r,
                &mut files,
                &mut problems,
                "tenant-role.yaml".to_owned(),
                &json!({
                    "name": application(fleet, ci, "tenant-role"), "namespace": ns,
                    "sync_wave": fleet.waves[0].base, "project": "default",
                    "destination": {"name": dest},
                    "source": {"repoURL": fleet.repository.url, "path": "deploy/tenant-role", "targetRevision": cluster.branch},
                    "retry": true, "retry_limit": fleet.argocd_retry_limit, "sync_options": Json::Null,
                }),
            );
        }
        for t in fleet
            .tenants
            .iter()
            .filter(|t| t.clusters.binary_search(&ci).is_ok())
        {
            add(
                r,
                &mut files,
                &mut problems,
                format!("tenant-{}.yaml", t.name),
                &json!({
                    "name": application(fleet, ci, &format!("tenant-{}", t.name)), "namespace": ns,
                    "sync_wave": fleet.waves[0].base, "project": "default",
                    "destination": {"name": dest},
                    "source": {"repoURL": fleet.repository.url, "path": format!("deploy/tenants/{}", t.name), "targetRevision": cluster.branch},
                    "retry": true, "retry_limit": fleet.argocd_retry_limit, "sync_options": Json::Null,
                }),
            );
            if let Some(apps) = &t.apps {
                add(
                    r,
                    &mut files,
                    &mut problems,
                    format!("tenant-{}-apps.yaml", t.name),
                    &json!({
                        "name": application(fleet, ci, &format!("tenant-{}-apps", t.name)), "namespace": ns,
                        "sync_wave": fleet.waves[apps.wave].base, "project": t.name,
                        "destination": {"name": dest, "namespace": t.namespaces[0].0},
                        "source": {"repoURL": apps.url, "path": apps.path, "targetRevision": apps.branch},
                        "retry": true, "retry_limit": fleet.argocd_retry_limit, "sync_options": Json::Null,
                    }),
                );
            }
        }
        let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
        for (name, body) in files {
            tree.insert(format!("{dir}/{name}"), body);
        }
        tree.insert(
            format!("{dir}/kustomization.yaml"),
            kustomization(&names, &[]),
        );
        let root = r.object(
            "argocd/application.yaml.j2",
            &json!({
                "name": format!("{}-root", cluster.name), "namespace": ns, "sync_wave": Json::Null, "project": "default",
                "destination": {"name": "in-cluster", "namespace": ns},
                "source": {"repoURL": fleet.repository.url, "path": dir, "targetRevision": cluster.branch},
                "retry": true, "retry_limit": fleet.argocd_retry_limit, "sync_options": Json::Null,
            }),
        );
        match root {
            Ok(d) => {
                let header = format!(
                    "# Root Application of `{}`: its children live in {dir}/.\n",
                    cluster.name
                );
                tree.insert(format!("hub/{}.yaml", cluster.name), format!("{header}{d}"));
            }
            Err(p) => problems.push(p),
        }
    }
    if provider.is_none() {
        let cm = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "argocd-cm", "namespace": ns, "labels": {"app.kubernetes.io/part-of": "argocd"}},
            "data": {HEALTH_KEY: HEALTH_LUA},
        });
        let header = "# Argo CD is installed outside this fleet: this adds the Application health check\n# that makes sync waves over Applications wait (merged into argocd-cm by `kubectl apply -k hub/`).\n";
        tree.insert(
            "hub/argocd-cm-health.yaml".to_owned(),
            format!("{header}{}\n", super::to_yaml(&cm, 0)),
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The Helm source of chart component `c` on cluster `ci`: the environment's overrides merged,
/// the health check injected into the chart providing Argo CD, `${VAR}` resolved.
#[allow(clippy::too_many_arguments)] // reason: the chart's coordinates and the cluster's context
fn chart_source(
    fleet: &Fleet,
    ci: usize,
    c: usize,
    repository: &str,
    name: &str,
    version: &str,
    vars: &BTreeMap<String, String>,
    provider: Option<usize>,
) -> Result<Json, Vec<Problem>> {
    let comp = &fleet.components[c];
    let cluster = &fleet.clusters[ci];
    let mut values = comp.values.clone();
    let mut version = version.to_owned();
    if let Some(o) = comp
        .environments
        .get(&cluster.environment)
        .filter(|_| !cluster.hub)
    {
        if let Some(v) = &o.values {
            merge(&mut values, v);
        }
        if let Some(v) = &o.version {
            version.clone_from(v);
        }
    }
    if Some(c) == provider {
        merge(
            &mut values,
            &json!({"configs": {"cm": {HEALTH_KEY: HEALTH_LUA}}}),
        );
    }
    let mut missing = Vec::new();
    resolve(&mut values, vars, &mut missing);
    missing.sort();
    missing.dedup();
    let problems: Vec<Problem> = missing
        .into_iter()
        .map(|m| {
            Problem::error(
                Code::Substitution,
                format!("`${{{m}}}` in the values of `{}` is not defined for cluster `{}`", comp.name, cluster.name),
            )
            .at(comp.values_span, "used here")
            .also(cluster.span, "this cluster has no such variable")
            .help(format!("add `{m}` to the `vars:` of `{}` (Argo CD has no substitution; synctl resolves it)", cluster.name))
        })
        .collect();
    if !problems.is_empty() {
        return Err(problems);
    }
    let repo_url = repository.strip_prefix("oci://").unwrap_or(repository);
    let mut helm = json!({"releaseName": comp.name});
    if values.as_object().is_some_and(|m| !m.is_empty()) {
        helm["valuesObject"] = values;
    }
    Ok(json!({"repoURL": repo_url, "chart": name, "targetRevision": version, "helm": helm}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution_resolves_defaults_escapes_and_reports_missing() {
        let vars: BTreeMap<String, String> = [("A".to_owned(), "1".to_owned())].into();
        let mut missing = Vec::new();
        assert_eq!(
            substitute("x-${A}-${B:=2}-$${A}-${C}", &vars, &mut missing),
            "x-1-2-${A}-${C}"
        );
        assert_eq!(missing, ["C"]);
    }
}
