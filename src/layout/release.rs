//! The finished documents of a chart component (its chart source and HelmRelease) and the
//! kustomize patches of the overlays, with every default, knob and per-environment override
//! applied: the renderers only write them.

use serde_json::{Value as Json, json};

use super::docs::{ChartSource, DependsOn, HelmRelease, Patch, Release};
use crate::model::{ComponentSource, Fleet, TenantRole, defaults};

use crate::json::merge;

/// The chart source and HelmRelease of chart component `c`, after the HelmReleases of its
/// wave named in `depends_on`; `None` for a `path:` component.
pub(super) fn release(fleet: &Fleet, c: usize, depends_on: Vec<String>) -> Option<Release> {
    let comp = &fleet.components[c];
    let ComponentSource::Chart {
        repository,
        name,
        version,
    } = &comp.source
    else {
        return None;
    };
    let oci = repository.starts_with("oci://");
    let k = &comp.knobs;
    let d = &fleet.defaults;
    let interval = k.interval.clone().unwrap_or_else(|| d.interval.clone());
    let helm = &k.helm;
    let strategy = helm["strategy"].as_str().filter(|s| !s.is_empty());
    let non_empty = |v: &Json| -> Option<Json> {
        match v {
            Json::Null => None,
            Json::Object(m) if m.is_empty() => None,
            Json::Array(a) if a.is_empty() => None,
            v => Some(v.clone()),
        }
    };
    let source = ChartSource {
        name: comp.name.clone(),
        interval: k
            .source_interval
            .clone()
            .unwrap_or_else(|| interval.clone()),
        url: if oci {
            format!("{repository}/{name}")
        } else {
            repository.clone()
        },
        version: version.clone(),
        oci,
    };
    let release = HelmRelease {
        name: comp.name.clone(),
        oci,
        chart: name.clone(),
        version: version.clone(),
        depends_on: depends_on
            .into_iter()
            .map(|name| DependsOn {
                name,
                namespace: None,
            })
            .collect(),
        interval,
        namespace: comp.namespace.clone(),
        timeout: k.timeout.clone().unwrap_or_else(|| d.timeout.clone()),
        values: comp
            .values
            .as_object()
            .and_then(|_| non_empty(&comp.values)),
        release_name: k.release_name.clone(),
        service_account: k.service_account.clone().filter(|a| !a.is_empty()),
        crds: helm["crds"]
            .as_str()
            .unwrap_or(defaults::HELM_CRDS)
            .to_owned(),
        // RetryOnFailure retries without remediation (helm-controller).
        retries: (strategy != Some("RetryOnFailure"))
            .then(|| helm["retries"].as_i64().unwrap_or(defaults::HELM_RETRIES)),
        strategy: strategy.map(str::to_owned),
        test: helm["test"].as_bool().unwrap_or(defaults::HELM_TEST),
        drift_detection: helm
            .get("driftDetection")
            .filter(|d| d["mode"].as_str().is_some_and(|m| m != "disabled"))
            .and_then(non_empty),
        values_from: k
            .values_from
            .as_array()
            .and_then(|_| non_empty(&k.values_from)),
        extra: k.flux_spec.as_ref().map(crate::spec::yaml::Node::to_json),
    };
    Some(Release { source, release })
}

/// A strategic-merge patch of the HelmRelease `name`, or of every HelmRelease of the overlay
/// (`None`; its `metadata.name` is then `all`, which kustomize ignores with a target).
fn release_patch(name: Option<&str>, spec: &Json) -> Patch {
    let target = match name {
        Some(name) => json!({"kind": "HelmRelease", "name": name}),
        None => json!({"kind": "HelmRelease"}),
    };
    Patch {
        target,
        patch: json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": name.unwrap_or("all")}, "spec": spec}),
    }
}

/// Every HelmRelease of a fleet overlay targets the cluster's kubeconfig (a Secret or a
/// ConfigMap reference, from substitution).
pub(super) fn kubeconfig_patch(config_map: bool) -> Patch {
    let kube = if config_map {
        json!({"configMapRef": {"name": "${KUBECONFIG_CONFIGMAP}"}})
    } else {
        json!({"secretRef": {"name": "${KUBECONFIG_SECRET}", "key": "${KUBECONFIG_KEY}"}})
    };
    release_patch(None, &json!({"kubeConfig": kube}))
}

/// Component `c`'s HelmRelease runs as `account` (fleet model section 3).
pub(super) fn account_patch(fleet: &Fleet, c: usize, account: &str) -> Patch {
    release_patch(
        Some(&fleet.components[c].name),
        &json!({"serviceAccountName": account}),
    )
}

/// The HelmCharts of chart components `charts` are reconciled by the cluster's `shard`, like
/// the chart sources its releases Kustomization labels for it (`commonMetadata`):
/// helm-controller labels the HelmChart it creates only with `spec.chart.metadata.labels`, and
/// source-controller finds a chart's source only among its shard's objects (docs/sharding.md).
/// Patches of that Kustomization (the overlay is the environment's, the shard the cluster's):
/// every HelmRelease, or those of the charts by name beside OCI charts (`chartRef` makes no
/// HelmChart, and has no `chart`). synctl owns `spec.chart`, which has no `metadata` else.
pub(super) fn chart_shard_patch(fleet: &Fleet, charts: &[usize], shard: &str) -> Option<Json> {
    let patch = format!(
        "- op: add\n  path: /spec/chart/metadata\n  value:\n    labels:\n      {}: {shard}\n",
        crate::model::shards::LABEL
    );
    let helm: Vec<&str> = charts
        .iter()
        .filter_map(|&c| match &fleet.components[c].source {
            ComponentSource::Chart { repository, .. } if !repository.starts_with("oci://") => {
                Some(fleet.components[c].name.as_str())
            }
            _ => None,
        })
        .collect();
    if helm.is_empty() {
        return None;
    }
    let mut target = json!({"kind": "HelmRelease"});
    if helm.len() < charts.len() {
        // Kustomize anchors a target's name pattern; component names are DNS labels.
        target["name"] = json!(format!("({})", helm.join("|")));
    }
    Some(json!({"patch": patch, "target": target}))
}

/// Tenant `t`'s RoleBindings name its account in the namespace named like the fleet cluster.
pub(super) fn tenant_account_patch(fleet: &Fleet, t: usize) -> Patch {
    let t = &fleet.tenants[t];
    let target = if t.role == TenantRole::ClusterAdmin {
        json!({"kind": "ClusterRoleBinding", "name": format!("synctl-tenant-{}", t.name)})
    } else {
        json!({"kind": "RoleBinding", "name": format!("{}-reconciler", t.name)})
    };
    Patch {
        target,
        patch: json!([{"op": "replace", "path": "/subjects/0/namespace", "value": "${CLUSTER_NAME}"}]),
    }
}

/// Environment `env`'s overrides of chart component `c`: values (deep merge), version and
/// knobs (fleet model K4).
pub(super) fn environment_patches(fleet: &Fleet, c: usize, env: &str) -> Vec<Patch> {
    let comp = &fleet.components[c];
    let Some(o) = comp.environments.get(env) else {
        return Vec::new();
    };
    let ComponentSource::Chart { repository, .. } = &comp.source else {
        return Vec::new();
    };
    let oci = repository.starts_with("oci://");
    let mut spec = json!({});
    if let Some(values) = &o.values {
        merge(&mut spec, &json!({"values": values}));
    }
    if let (Some(v), false) = (&o.version, oci) {
        merge(&mut spec, &json!({"chart": {"spec": {"version": v}}}));
    }
    // A merge patch: maps merge and lists (valuesFrom) replace.
    for (key, value) in [("interval", &o.interval), ("timeout", &o.timeout)] {
        if let Some(v) = value {
            spec[key] = json!(v);
        }
    }
    if let Some(v) = &o.values_from {
        spec["valuesFrom"] = v.clone();
    }
    if let Some(h) = &o.helm {
        helm_overrides(&comp.knobs.helm, h, &mut spec);
    }
    // The environment's `fluxSpec`, last.
    if let Some(extra) = &o.flux_spec {
        merge(&mut spec, &extra.to_json());
    }
    let mut out = Vec::new();
    if spec.as_object().is_some_and(|m| !m.is_empty()) {
        out.push(release_patch(Some(&comp.name), &spec));
    }
    if let (Some(v), true) = (&o.version, oci) {
        out.push(Patch {
            target: json!({"kind": "OCIRepository", "name": comp.name}),
            patch: json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository", "metadata": {"name": comp.name}, "spec": {"ref": {"semver": v}}}),
        });
    }
    out
}

/// An environment's `helm:` (`over`) over the component's (`base`), as HelmRelease fields.
fn helm_overrides(base: &Json, over: &Json, spec: &mut Json) {
    let mut helm = if base.is_null() {
        json!({})
    } else {
        base.clone()
    };
    merge(&mut helm, over);
    let strategy = helm["strategy"].as_str().map(str::to_owned);
    for action in ["install", "upgrade"] {
        if let Some(crds) = over.get("crds") {
            spec[action]["crds"] = crds.clone();
        }
        if let Some(st) = over.get("strategy") {
            spec[action]["strategy"] = json!({"name": st});
            if st == "RetryOnFailure" {
                // No remediation with RetryOnFailure: drop the base's.
                spec[action]["remediation"] = Json::Null;
            }
        }
        if let Some(r) = over
            .get("retries")
            .filter(|_| strategy.as_deref() != Some("RetryOnFailure"))
        {
            spec[action]["remediation"] = json!({"retries": r});
        }
    }
    if let Some(t) = over.get("test").and_then(Json::as_bool) {
        spec["test"] = json!({"enable": t});
    }
    if let Some(d) = over.get("driftDetection") {
        spec["driftDetection"] = d.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component named `all` gets patches of its own HelmRelease only (the name is no
    /// "every HelmRelease" marker).
    #[test]
    fn a_component_named_all_is_patched_alone() {
        let spec = "apiVersion: synctl.dev/v1alpha1\nkind: Fleet\nmetadata: {name: t}\nspec:\n  repository: {url: https://x/y}\n  clusters: [{name: hub, role: hub}, {name: dev}]\n  components:\n    - {name: all, wave: controllers, chart: {repository: https://c, name: a}, environments: {dev: {values: {a: 1}}}}\n";
        let checked = crate::pipeline::check_text("fleet.yaml", spec.to_owned(), None);
        assert!(!checked.has_errors(), "{:?}", checked.problems);
        let (fleet, _) = checked.fleet.as_ref().unwrap();
        for p in [account_patch(fleet, 0, "x")]
            .into_iter()
            .chain(environment_patches(fleet, 0, "dev"))
        {
            assert_eq!(p.target, json!({"kind": "HelmRelease", "name": "all"}));
        }
        assert_eq!(
            kubeconfig_patch(false).target,
            json!({"kind": "HelmRelease"})
        );
    }
}
