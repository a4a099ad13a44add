//! Argo CD's Helm sources and the Application health check: a chart component's source with
//! its environment's values merged and `${…}` resolved (Argo CD does not substitute), and the
//! health check that makes sync waves over Applications wait.

use serde_json::{Value as Json, json};

use super::docs::{Content, Doc};
use super::{Builder, Item};
use crate::diag::{Code, Problem};
use crate::json::merge;
use crate::model::{ComponentSource, Fleet};
use crate::subst;

/// The Application health check that makes sync waves over Applications wait.
pub(crate) const HEALTH_LUA: &str = r#"hs = {}
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

/// The `argocd-cm` key of the Application health check (the tree reader looks for it too).
pub(crate) use crate::tree::argocd::HEALTH_KEY;

/// `argocd-cm` with the Application health check, for an Argo CD installed outside the fleet.
pub(super) fn health_check(
    b: &mut Builder<'_>,
    file: &str,
    cluster: usize,
    ns: &str,
    applied_by: &str,
) {
    let comment = format!(
        "# Argo CD is installed outside this fleet: this adds the Application health check\n# that makes sync waves over Applications wait (merged into argocd-cm by `{applied_by}`).\n"
    );
    b.file(
        file.to_owned(),
        Item::Fleet,
        [Item::Cluster(cluster)],
        [cluster],
        Content::Docs {
            comment: Some(comment),
            docs: vec![Doc::HealthConfigMap {
                namespace: ns.to_owned(),
            }],
            empty: None,
        },
    );
}

/// The chart component that installs Argo CD (its values get the Application health check).
#[must_use]
pub(crate) fn health_provider(fleet: &Fleet) -> Option<usize> {
    fleet
        .components
        .iter()
        .position(|c| c.provides.iter().any(|p| p == "argocd"))
}

/// The kustomize patch that adds the Application health check to `argocd-cm`, for a `path:`
/// component that installs Argo CD (its manifests own the ConfigMap: one writer).
pub(super) fn health_patch() -> Json {
    let config_map = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "argocd-cm"},
        "data": {HEALTH_KEY: HEALTH_LUA},
    });
    json!({
        "patch": config_map.to_string(),
        "target": {"kind": "ConfigMap", "name": "argocd-cm"},
    })
}

/// The Helm source of chart component `c` on cluster `ci`: the environment's overrides merged,
/// the health check injected into the chart providing Argo CD, `${VAR}` resolved (Argo CD has
/// no substitution).
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
    subst::substitute_value(&mut values, &cluster.variables(), &mut missing);
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
