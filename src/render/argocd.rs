//! Argo CD bodies: the Helm source of a chart Application, with the environment's values
//! merged, the Application health check injected into the chart that installs Argo CD, and
//! `${…}` resolved (Argo CD has no substitution).

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use super::merge;
use crate::diag::{Code, Problem};
use crate::layout::health_provider;
use crate::model::{ComponentSource, Fleet};
use crate::subst;

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

/// The `argocd-cm` key of the Application health check.
pub const HEALTH_KEY: &str = "resource.customizations.health.argoproj.io_Application";

/// Replaces `${…}` in every string of `value` (see [`crate::subst`]); collects the names no
/// variable resolves.
fn resolve(value: &mut Json, vars: &BTreeMap<String, String>, missing: &mut Vec<String>) {
    match value {
        Json::String(s) => *s = subst::substitute(s, vars, missing),
        Json::Array(items) => items.iter_mut().for_each(|v| resolve(v, vars, missing)),
        Json::Object(map) => map.values_mut().for_each(|v| resolve(v, vars, missing)),
        _ => {}
    }
}

/// The Helm source of chart component `c` on cluster `ci`: the environment's overrides merged,
/// the health check injected into the chart providing Argo CD, `${VAR}` resolved.
pub(super) fn chart_source(fleet: &Fleet, ci: usize, c: usize) -> Result<Json, Vec<Problem>> {
    let comp = &fleet.components[c];
    let cluster = &fleet.clusters[ci];
    let ComponentSource::Chart {
        repository,
        name,
        version,
    } = &comp.source
    else {
        return Ok(Json::Null);
    };
    let mut values = comp.values.clone();
    let mut version = version.clone();
    if let Some(o) = comp
        .environments
        .get(&cluster.environment)
        .filter(|_| !cluster.is_hub())
    {
        if let Some(v) = &o.values {
            merge(&mut values, v);
        }
        if let Some(v) = &o.version {
            version.clone_from(v);
        }
    }
    if Some(c) == health_provider(fleet) {
        merge(
            &mut values,
            &json!({"configs": {"cm": {HEALTH_KEY: HEALTH_LUA}}}),
        );
    }
    let mut missing = Vec::new();
    resolve(&mut values, &cluster.variables(), &mut missing);
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
    let mut helm = json!({"releaseName": comp.knobs.release_name});
    if values.as_object().is_some_and(|m| !m.is_empty()) {
        helm["valuesObject"] = values;
    }
    Ok(json!({"repoURL": repo_url, "chart": name, "targetRevision": version, "helm": helm}))
}
