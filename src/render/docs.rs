//! One document of the layout to text: each template's context is built here, once, from the
//! layout's typed values (and, for components and tenants, the model they point to).

use serde::Serialize;
use serde_json::{Value as Json, json};

use super::{Renderer, to_yaml};
use crate::diag::Problem;
use crate::layout::{AppSource, Application, Doc, Patch};
use crate::model::{ComponentSource, Fleet};

/// Context of `k8s/namespace.yaml.j2`.
#[derive(Serialize)]
struct NamespaceCtx<'a> {
    name: &'a str,
    labels: &'a std::collections::BTreeMap<String, String>,
    annotations: &'a std::collections::BTreeMap<String, String>,
}

/// Context of `k8s/serviceaccount.yaml.j2`.
#[derive(Serialize)]
struct ServiceAccountCtx<'a> {
    name: &'a str,
    namespace: &'a str,
    labels: &'a std::collections::BTreeMap<String, String>,
}

/// Context of `flux/helmrepository.yaml.j2` and `flux/ocirepository.yaml.j2`.
#[derive(Serialize)]
pub(super) struct ChartSourceCtx<'a> {
    pub name: &'a str,
    pub interval: &'a str,
    pub url: String,
    pub version: &'a str,
}

/// Context of `flux/helmrelease.yaml.j2`.
#[derive(Serialize)]
pub(super) struct HelmReleaseCtx<'a> {
    pub name: &'a str,
    pub oci: bool,
    pub chart: &'a str,
    pub version: &'a str,
    pub depends_on: Vec<Json>,
    pub interval: &'a str,
    pub namespace: &'a str,
    pub timeout: &'a str,
    pub values: Option<&'a Json>,
    pub release_name: &'a str,
    pub service_account: Option<&'a str>,
    pub crds: &'a str,
    /// Remediation retries (RemediateOnFailure only).
    pub retries: Option<i64>,
    /// The install/upgrade strategy, when written.
    pub strategy: Option<&'a str>,
    pub test: bool,
    pub drift_detection: Option<&'a Json>,
    pub values_from: Option<&'a Json>,
}

/// Context of `k8s/tenant.yaml.j2`.
#[derive(Serialize)]
struct TenantCtx<'a> {
    tenant: &'a str,
    namespaces: Vec<&'a str>,
    account_namespace: &'a str,
    quota: Option<&'a std::collections::BTreeMap<String, String>>,
    isolation: bool,
    role: &'a str,
    cluster_admin: bool,
    labels: std::collections::BTreeMap<String, String>,
    annotations: &'a std::collections::BTreeMap<String, String>,
}

/// Context of `argocd/appproject.yaml.j2`.
#[derive(Serialize)]
struct AppProjectCtx<'a> {
    name: &'a str,
    namespace: &'a str,
    sync_wave: Option<i64>,
    destinations: Vec<Json>,
    repos: &'a [String],
    cluster_admin: bool,
}

/// Context of `argocd/application.yaml.j2`.
#[derive(Serialize)]
struct ApplicationCtx<'a> {
    name: &'a str,
    namespace: &'a str,
    sync_wave: Option<i64>,
    project: &'a str,
    destination: Json,
    source: Json,
    retry: bool,
    retry_limit: i64,
    sync_options: &'a [String],
    namespace_metadata: Option<&'a Json>,
    ignore_differences: &'a [Json],
}

/// The text of `doc`: one YAML document, or the fixed group of a release.
pub(super) fn render(fleet: &Fleet, r: &Renderer, doc: &Doc) -> Result<Vec<String>, Vec<Problem>> {
    let one = |res: Result<String, Problem>| res.map(|d| vec![d]).map_err(|p| vec![p]);
    match doc {
        Doc::Namespace {
            name,
            labels,
            annotations,
        } if r.is_fast("k8s/namespace.yaml.j2") => {
            Ok(vec![super::fast::namespace(name, labels, annotations)])
        }
        Doc::Namespace {
            name,
            labels,
            annotations,
        } => one(r.object(
            "k8s/namespace.yaml.j2",
            &NamespaceCtx {
                name,
                labels,
                annotations,
            },
        )),
        Doc::ServiceAccount {
            name,
            namespace,
            labels,
        } if r.is_fast("k8s/serviceaccount.yaml.j2") => {
            Ok(vec![super::fast::service_account(name, namespace, labels)])
        }
        Doc::ServiceAccount {
            name,
            namespace,
            labels,
        } => one(r.object(
            "k8s/serviceaccount.yaml.j2",
            &ServiceAccountCtx {
                name,
                namespace,
                labels,
            },
        )),
        Doc::GitRepository(g) if r.is_fast("flux/gitrepository.yaml.j2") => {
            Ok(vec![super::fast::git_repository(g)])
        }
        Doc::GitRepository(g) => one(r.object("flux/gitrepository.yaml.j2", g)),
        Doc::Kustomization(k) if r.is_fast("flux/kustomization.yaml.j2") => {
            Ok(vec![super::fast::kustomization(k)])
        }
        Doc::Kustomization(k) => one(r.object("flux/kustomization.yaml.j2", k)),
        Doc::Release {
            component,
            depends_on,
        } => release(fleet, r, *component, depends_on).map_err(|p| vec![p]),
        Doc::TenantRole => one(r.object("k8s/tenant-role.yaml.j2", &json!({}))),
        Doc::Tenant { tenant } => {
            let t = &fleet.tenants[*tenant];
            let namespaces: Vec<&str> = t.namespaces.iter().map(|(n, _)| n.as_str()).collect();
            one(r.object(
                "k8s/tenant.yaml.j2",
                &TenantCtx {
                    tenant: &t.name,
                    // Where the tenant's Kustomizations run on a Flux-running cluster (A(K));
                    // fleet overlays patch it to the cluster's namespace.
                    account_namespace: "flux-system",
                    namespaces,
                    quota: (!t.quota.is_empty()).then_some(&t.quota),
                    isolation: t.isolation == crate::model::Isolation::Namespace,
                    role: t.role.cluster_role(),
                    cluster_admin: t.role == crate::model::TenantRole::ClusterAdmin,
                    labels: {
                        let mut l = t.namespace_labels.clone();
                        l.insert("toolkit.fluxcd.io/tenant".to_owned(), t.name.clone());
                        l
                    },
                    annotations: &t.namespace_annotations,
                },
            ))
        }
        Doc::AppProject {
            name,
            namespace,
            sync_wave,
            destinations,
            repos,
            cluster_admin,
        } => one(r.object(
            "argocd/appproject.yaml.j2",
            &AppProjectCtx {
                name,
                namespace,
                sync_wave: *sync_wave,
                destinations: destinations
                    .iter()
                    .map(|(n, ns)| json!({"name": n, "namespace": ns}))
                    .collect(),
                repos,
                cluster_admin: *cluster_admin,
            },
        )),
        Doc::Application(app) => application(fleet, r, app).map(|d| vec![d]),
        Doc::FluxInstance(f) => one(r.object("flux/fluxinstance.yaml.j2", f)),
        Doc::ConfigMap {
            name,
            namespace,
            data,
        } => {
            let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}, "data": data});
            let mut text = String::new();
            for key in ["apiVersion", "kind", "metadata", "data"] {
                text.push_str(&to_yaml(&json!({ key: cm[key] }), 0));
                text.push('\n');
            }
            Ok(vec![text])
        }
        Doc::ClusterRoleBinding {
            name,
            cluster_role,
            subjects,
            labels,
        } => {
            let subjects: Vec<Json> = subjects
                .iter()
                .map(|(a, ns)| json!({"kind": "ServiceAccount", "name": a, "namespace": ns}))
                .collect();
            let crb = json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": name, "labels": labels},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_role},
                "subjects": subjects,
            });
            let mut text = String::new();
            for key in ["apiVersion", "kind", "metadata", "roleRef", "subjects"] {
                text.push_str(&to_yaml(&json!({ key: crb[key] }), 0));
                text.push('\n');
            }
            Ok(vec![text])
        }
        Doc::RoleBinding {
            name,
            namespace,
            cluster_role,
            account,
            account_namespace,
            labels,
        } => one(r.object(
            "k8s/rolebinding.yaml.j2",
            &json!({"name": name, "namespace": namespace, "cluster_role": cluster_role,
                    "account": account, "account_namespace": account_namespace, "labels": labels}),
        )),
        Doc::HealthConfigMap { namespace } => {
            let cm = json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "argocd-cm", "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "argocd"}},
                "data": {super::argocd::HEALTH_KEY: super::argocd::HEALTH_LUA},
            });
            Ok(vec![format!("{}\n", to_yaml(&cm, 0))])
        }
    }
}

/// The chart source (HelmRepository or OCIRepository) and HelmRelease of a component.
fn release(
    fleet: &Fleet,
    r: &Renderer,
    c: usize,
    depends_on: &[String],
) -> Result<Vec<String>, Problem> {
    release_as(fleet, r, c, depends_on, &|name| r.is_fast(name))
}

/// [`release`], written in Rust for each template `fast` says (the tests say no to compare).
fn release_as(
    fleet: &Fleet,
    r: &Renderer,
    c: usize,
    depends_on: &[String],
    fast: &dyn Fn(&str) -> bool,
) -> Result<Vec<String>, Problem> {
    let comp = &fleet.components[c];
    let d = &fleet.defaults;
    let ComponentSource::Chart {
        repository,
        name,
        version,
    } = &comp.source
    else {
        return Ok(Vec::new());
    };
    let oci = repository.starts_with("oci://");
    let k = &comp.knobs;
    let interval = k.interval.as_deref().unwrap_or(&d.interval);
    let helm = &k.helm;
    let strategy = helm["strategy"].as_str();
    let source = ChartSourceCtx {
        name: &comp.name,
        interval,
        url: if oci {
            format!("{repository}/{name}")
        } else {
            repository.clone()
        },
        version,
    };
    let template = if oci {
        "flux/ocirepository.yaml.j2"
    } else {
        "flux/helmrepository.yaml.j2"
    };
    let source = if fast(template) {
        super::fast::chart_source(&source, oci)
    } else {
        r.object(template, &source)?
    };
    let ctx = HelmReleaseCtx {
        name: &comp.name,
        oci,
        chart: name,
        version,
        depends_on: depends_on.iter().map(|n| json!({"name": n})).collect(),
        interval,
        namespace: &comp.namespace,
        timeout: k.timeout.as_deref().unwrap_or(&d.timeout),
        values: comp
            .values
            .as_object()
            .is_some_and(|m| !m.is_empty())
            .then_some(&comp.values),
        release_name: &k.release_name,
        service_account: k.service_account.as_deref(),
        crds: helm["crds"].as_str().unwrap_or("CreateReplace"),
        // RetryOnFailure retries without remediation (helm-controller).
        retries: (strategy != Some("RetryOnFailure"))
            .then(|| helm["retries"].as_i64().unwrap_or(3)),
        strategy,
        test: helm["test"].as_bool().unwrap_or(false),
        drift_detection: helm
            .get("driftDetection")
            .filter(|d| d["mode"].as_str().is_some_and(|m| m != "disabled")),
        values_from: k
            .values_from
            .as_array()
            .is_some_and(|a| !a.is_empty())
            .then_some(&k.values_from),
    };
    let release = if fast("flux/helmrelease.yaml.j2") {
        super::fast::helm_release(&ctx)
    } else {
        r.object("flux/helmrelease.yaml.j2", &ctx)?
    };
    Ok(vec![source, release])
}

fn application(fleet: &Fleet, r: &Renderer, app: &Application) -> Result<String, Vec<Problem>> {
    let source = match &app.source {
        AppSource::Git {
            repo_url,
            path,
            revision,
        } => {
            let mut git = json!({"repoURL": repo_url, "path": path, "targetRevision": revision});
            if !app.kustomize_patches.is_empty() {
                git["kustomize"] = json!({"patches": app.kustomize_patches});
            }
            git
        }
        AppSource::Chart { component, cluster } => {
            super::argocd::chart_source(fleet, *cluster, *component)?
        }
    };
    let mut destination = json!({"name": app.destination_name});
    if let Some(ns) = &app.destination_namespace {
        destination["namespace"] = json!(ns);
    }
    r.object(
        "argocd/application.yaml.j2",
        &ApplicationCtx {
            name: &app.name,
            namespace: &app.namespace,
            sync_wave: app.sync_wave,
            project: &app.project,
            destination,
            source,
            retry: true,
            retry_limit: fleet.argocd_retry_limit,
            sync_options: &app.sync_options,
            namespace_metadata: app.namespace_metadata.as_ref(),
            ignore_differences: &app.ignore_differences,
        },
    )
    .map_err(|p| vec![p])
}

/// A kustomize patch of an overlay, as kustomize's `patches` entries.
pub(super) fn patch(fleet: &Fleet, p: &Patch) -> Vec<Json> {
    let entry =
        |target: Json, patch: &Json| json!({"target": target, "patch": to_yaml(patch, 0) + "\n"});
    match p {
        Patch::Kubeconfig { config_map } => {
            let kube = if *config_map {
                json!({"configMapRef": {"name": "${KUBECONFIG_CONFIGMAP}"}})
            } else {
                json!({"secretRef": {"name": "${KUBECONFIG_SECRET}", "key": "${KUBECONFIG_KEY}"}})
            };
            let patch = json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "all"}, "spec": {"kubeConfig": kube}});
            vec![entry(json!({"kind": "HelmRelease"}), &patch)]
        }
        Patch::Environment {
            component,
            environment,
        } => environment_patches(fleet, *component, environment),
        Patch::ReleaseAccount { component, account } => {
            let name = &fleet.components[*component].name;
            let patch = json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": name}, "spec": {"serviceAccountName": account}});
            vec![entry(json!({"kind": "HelmRelease", "name": name}), &patch)]
        }
        Patch::TenantAccount { tenant } => {
            let t = &fleet.tenants[*tenant];
            let rb = "- op: replace\n  path: /subjects/0/namespace\n  value: ${CLUSTER_NAME}\n";
            let target = if t.role == crate::model::TenantRole::ClusterAdmin {
                json!({"kind": "ClusterRoleBinding", "name": format!("synctl-tenant-{}", t.name)})
            } else {
                json!({"kind": "RoleBinding", "name": format!("{}-reconciler", t.name)})
            };
            vec![json!({"target": target, "patch": rb})]
        }
    }
}

/// The environment's overrides of component `c`: values (deep merge) and version.
fn environment_patches(fleet: &Fleet, c: usize, env: &str) -> Vec<Json> {
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
        super::merge(&mut spec, &json!({"values": values}));
    }
    if let (Some(v), false) = (&o.version, oci) {
        super::merge(&mut spec, &json!({"chart": {"spec": {"version": v}}}));
    }
    // The environment's knobs (K4): a merge patch, so maps merge and lists (valuesFrom)
    // replace.
    for (key, value) in [("interval", &o.interval), ("timeout", &o.timeout)] {
        if let Some(v) = value {
            spec[key] = json!(v);
        }
    }
    if let Some(v) = &o.values_from {
        spec["valuesFrom"] = v.clone();
    }
    if let Some(h) = &o.helm {
        let mut helm = comp.knobs.helm.clone();
        if helm.is_null() {
            helm = json!({});
        }
        super::merge(&mut helm, h);
        let strategy = helm["strategy"].as_str().map(str::to_owned);
        for action in ["install", "upgrade"] {
            if let Some(crds) = h.get("crds") {
                spec[action]["crds"] = crds.clone();
            }
            if let Some(st) = h.get("strategy") {
                spec[action]["strategy"] = json!({"name": st});
                if st == "RetryOnFailure" {
                    // No remediation with RetryOnFailure: drop the base's.
                    spec[action]["remediation"] = Json::Null;
                }
            }
            if let Some(r) = h
                .get("retries")
                .filter(|_| strategy.as_deref() != Some("RetryOnFailure"))
            {
                spec[action]["remediation"] = json!({"retries": r});
            }
        }
        if let Some(t) = h.get("test").and_then(Json::as_bool) {
            spec["test"] = json!({"enable": t});
        }
        if let Some(d) = h.get("driftDetection") {
            spec["driftDetection"] = d.clone();
        }
    }
    let mut out = Vec::new();
    if spec.as_object().is_some_and(|m| !m.is_empty()) {
        let patch = json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": comp.name}, "spec": spec});
        out.push(json!({"target": {"kind": "HelmRelease", "name": comp.name}, "patch": to_yaml(&patch, 0) + "\n"}));
    }
    if let (Some(v), true) = (&o.version, oci) {
        let patch = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository", "metadata": {"name": comp.name}, "spec": {"ref": {"semver": v}}});
        out.push(json!({"target": {"kind": "OCIRepository", "name": comp.name}, "patch": to_yaml(&patch, 0) + "\n"}));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Content;

    /// Every chart component's source and HelmRelease of `spec`, written by the templates and
    /// by `fast`; how many were compared.
    fn compare(spec: &str, text: String, root: Option<&std::path::Path>) -> usize {
        let checked = crate::pipeline::check_text(spec, text, root)
            .valid()
            .unwrap_or_else(|_| panic!("{spec} is valid"));
        let (Some((fleet, _)), Some(layout)) = (&checked.fleet, &checked.layout) else {
            panic!("{spec} laid out");
        };
        let r = Renderer::new(None).expect("built-in templates");
        let mut compared = 0;
        for (path, file) in &layout.files {
            let content = layout.content(fleet, path, file).expect("built");
            let Content::Docs { docs, .. } = content.as_ref() else {
                continue;
            };
            for doc in docs {
                if let Doc::Release {
                    component,
                    depends_on,
                } = doc
                {
                    let rust = release_as(fleet, &r, *component, depends_on, &|_| true);
                    let template = release_as(fleet, &r, *component, depends_on, &|_| false);
                    assert_eq!(rust.unwrap(), template.unwrap(), "{spec}");
                    compared += 1;
                }
            }
        }
        compared
    }

    #[test]
    fn chart_objects_are_written_as_the_templates_write_them() {
        let mut compared = 0;
        for spec in crate::testing::example_specs() {
            let text = std::fs::read_to_string(&spec).expect("readable");
            compared += compare(&spec.display().to_string(), text, spec.parent());
        }
        assert!(compared > 20, "{compared}");
    }

    /// Every optional field, OCI and Helm repositories, and values YAML would misread.
    #[test]
    fn every_helm_knob_and_awkward_value_is_written_as_the_template_writes_it() {
        let spec = r##"apiVersion: synctl.dev/v1alpha1
kind: Fleet
metadata: {name: t}
spec:
  repository: {url: "https://x/y"}
  clusters: [{name: hub, role: hub}]
  components:
    - name: plain
      wave: controllers
      chart: {repository: "https://charts.example.com", name: "a.b", version: "1.0"}
    - name: every-knob
      wave: controllers
      namespace: "on"
      releaseName: "yes"
      serviceAccountName: deployer
      interval: 1h
      timeout: 7m
      dependsOn: [plain]
      chart: {repository: "oci://registry.example.com/charts", name: knob, version: ">=1.0.0 <2"}
      helm:
        crds: Skip
        strategy: RetryOnFailure
        test: true
        driftDetection: {mode: warn, ignore: [{paths: ["/spec/replicas"], target: {kind: Deployment}}]}
      values: {a: "yes", b: "a: b", c: "1.0", d: "line\nline", e: [1, 2.5, true, ~], f: {g: "#x"}}
      valuesFrom: [{kind: Secret, name: creds, valuesKey: "values.yaml", optional: true}]
    - name: zero-retries
      wave: controllers
      chart: {repository: "https://charts.example.com", name: z, version: "*"}
      helm: {retries: 0, driftDetection: {mode: disabled}}
"##;
        assert_eq!(compare("knobs.yaml", spec.to_owned(), None), 3);
    }
}
