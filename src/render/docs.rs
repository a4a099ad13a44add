//! One document of the layout to text. The layout's documents are finished (every default
//! and override applied); what is built here is only the shape a template wants.

use serde::Serialize;
use serde_json::{Value as Json, json};

use super::{Renderer, to_yaml};
use crate::diag::Problem;
use crate::layout::{AppSource, Application, Doc, Patch, Release};

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

/// Context of `argocd/appproject.yaml.j2`.
#[derive(Serialize)]
struct AppProjectCtx<'a> {
    name: &'a str,
    namespace: &'a str,
    sync_wave: Option<i64>,
    destinations: Vec<Json>,
    repos: &'a [String],
    cluster_admin: bool,
    component: bool,
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
    cascade: bool,
    manifest_generate_paths: Option<&'a str>,
}

/// The text of `doc`: one YAML document, or the fixed group of a release.
pub(super) fn render(r: &Renderer, doc: &Doc) -> Result<Vec<String>, Vec<Problem>> {
    let one = |res: Result<String, Problem>| res.map(|d| vec![d]).map_err(|p| vec![p]);
    match doc {
        Doc::GitRepository(g) if r.is_fast("flux/gitrepository.yaml.j2") => {
            Ok(vec![super::fast::git_repository(g)])
        }
        Doc::GitRepository(g) => one(r.object("flux/gitrepository.yaml.j2", g)),
        Doc::Kustomization(k) => {
            let text = if r.is_fast("flux/kustomization.yaml.j2") {
                super::fast::kustomization(k)
            } else {
                r.object("flux/kustomization.yaml.j2", k)
                    .map_err(|p| vec![p])?
            };
            one(with_extra(text, k.extra.as_ref()))
        }
        Doc::Release(rel) => release(r, rel, &|name| r.is_fast(name)).map_err(|p| vec![p]),
        Doc::TenantRole => one(r.object("k8s/tenant-role.yaml.j2", &json!({}))),
        Doc::Tenant(t) => one(r.object("k8s/tenant.yaml.j2", t)),
        Doc::AppProject {
            name,
            namespace,
            sync_wave,
            destinations,
            repos,
            cluster_admin,
            component,
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
                component: *component,
            },
        )),
        Doc::Application(app) => {
            let text = application(r, app)?;
            one(with_extra(text, app.extra.as_ref()))
        }
        Doc::FluxInstance(f) => one(r.object("flux/fluxinstance.yaml.j2", f)),
        Doc::Namespace { .. } | Doc::ServiceAccount { .. } => {
            core(r, doc).map(|d| vec![d]).map_err(|p| vec![p])
        }
        Doc::ConfigMap { .. }
        | Doc::ClusterRoleBinding { .. }
        | Doc::RoleBinding { .. }
        | Doc::HealthConfigMap { .. } => bindings_and_config(r, doc)
            .map(|d| vec![d])
            .map_err(|p| vec![p]),
    }
}

/// Namespaces and service accounts.
fn core(r: &Renderer, doc: &Doc) -> Result<String, Problem> {
    match doc {
        Doc::Namespace {
            name,
            labels,
            annotations,
        } if r.is_fast("k8s/namespace.yaml.j2") => {
            Ok(super::fast::namespace(name, labels, annotations))
        }
        Doc::Namespace {
            name,
            labels,
            annotations,
        } => r.object(
            "k8s/namespace.yaml.j2",
            &NamespaceCtx {
                name,
                labels,
                annotations,
            },
        ),
        Doc::ServiceAccount {
            name,
            namespace,
            labels,
        } if r.is_fast("k8s/serviceaccount.yaml.j2") => {
            Ok(super::fast::service_account(name, namespace, labels))
        }
        Doc::ServiceAccount {
            name,
            namespace,
            labels,
        } => r.object(
            "k8s/serviceaccount.yaml.j2",
            &ServiceAccountCtx {
                name,
                namespace,
                labels,
            },
        ),
        // `render` sends only the kinds above here.
        _ => Err(unwritten()),
    }
}

/// A document kind `render` sent to a writer that does not write it.
fn unwritten() -> Problem {
    Problem::error(
        crate::diag::Code::Internal,
        "a document kind without a writer: this is a bug in synctl",
    )
}

/// RBAC bindings and config maps.
fn bindings_and_config(r: &Renderer, doc: &Doc) -> Result<String, Problem> {
    match doc {
        Doc::ConfigMap {
            name,
            namespace,
            data,
        } => {
            let metadata = json!({"name": name, "namespace": namespace});
            let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data});
            Ok(in_order(&cm, &["apiVersion", "kind", "metadata", "data"]))
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
            let role_ref = json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_role});
            let crb = json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": name, "labels": labels}, "roleRef": role_ref, "subjects": subjects,
            });
            Ok(in_order(
                &crb,
                &["apiVersion", "kind", "metadata", "roleRef", "subjects"],
            ))
        }
        Doc::RoleBinding {
            name,
            namespace,
            cluster_role,
            account,
            account_namespace,
            labels,
        } => r.object(
            "k8s/rolebinding.yaml.j2",
            &json!({"name": name, "namespace": namespace, "cluster_role": cluster_role,
                    "account": account, "account_namespace": account_namespace, "labels": labels}),
        ),
        Doc::HealthConfigMap { namespace } => {
            let cm = json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "argocd-cm", "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "argocd"}},
                "data": {crate::layout::HEALTH_KEY: crate::layout::HEALTH_LUA},
            });
            Ok(format!("{}\n", to_yaml(&cm, 0)))
        }
        // `render` sends only the kinds above here.
        _ => Err(unwritten()),
    }
}

/// The top-level fields of `doc` in the order `keys` gives (as Kubernetes objects are read).
fn in_order(doc: &Json, keys: &[&str]) -> String {
    let mut text = String::new();
    for key in keys {
        text.push_str(&to_yaml(&json!({ *key: doc[*key] }), 0));
        text.push('\n');
    }
    text
}

/// The chart source (HelmRepository or OCIRepository) and HelmRelease of a component, written
/// in Rust for each template `fast` says (the tests say no to compare).
fn release(
    r: &Renderer,
    rel: &Release,
    fast: &dyn Fn(&str) -> bool,
) -> Result<Vec<String>, Problem> {
    let template = if rel.source.oci {
        "flux/ocirepository.yaml.j2"
    } else {
        "flux/helmrepository.yaml.j2"
    };
    let source = if fast(template) {
        super::fast::chart_source(&rel.source)
    } else {
        r.object(template, &rel.source)?
    };
    let release = if fast("flux/helmrelease.yaml.j2") {
        super::fast::helm_release(&rel.release)
    } else {
        r.object("flux/helmrelease.yaml.j2", &rel.release)?
    };
    Ok(vec![
        source,
        with_extra(release, rel.release.extra.as_ref())?,
    ])
}

/// `text`, one object as a writer wrote it, with `extra` (`fluxSpec`) merged over its `spec`:
/// read back, merged, and written out again — the writer's fields in the writer's order, then
/// the new ones (values through the one scalar writer); as written when there is nothing to
/// merge.
fn with_extra(text: String, extra: Option<&Json>) -> Result<String, Problem> {
    let Some(extra) = extra else {
        return Ok(text);
    };
    let source = crate::spec::source::Source::new("object", text);
    let node = crate::spec::yaml::parse(&source).map_err(|_| {
        Problem::error(
            crate::diag::Code::Internal,
            "a generated object does not read back as YAML: this is a bug in synctl",
        )
    })?;
    let written: Vec<String> = node
        .get("spec")
        .and_then(|s| match &s.value {
            crate::spec::yaml::Value::Map(entries) => {
                Some(entries.iter().map(|e| e.key.clone()).collect())
            }
            _ => None,
        })
        .unwrap_or_default();
    let mut doc = node.to_json();
    crate::json::merge(&mut doc["spec"], extra);
    // Everything before `spec:` as the writer wrote it (the object's last field).
    let text = &source.text;
    let mut out = match text.find("\nspec:\n") {
        Some(at) => text[..=at].to_owned(),
        None => in_order(&doc, &["apiVersion", "kind", "metadata"]),
    };
    out.push_str("spec:\n");
    let spec = doc["spec"].as_object().cloned().unwrap_or_default();
    let added = spec.keys().filter(|k| !written.contains(k));
    for key in written.iter().chain(added) {
        if let Some(value) = spec.get(key) {
            out.push_str(&to_yaml(&json!({ key: value }), 2));
            out.push('\n');
        }
    }
    Ok(out)
}

fn application(r: &Renderer, app: &Application) -> Result<String, Vec<Problem>> {
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
            if let Some(plugin) = &app.plugin {
                git["plugin"] = plugin.clone();
            }
            git
        }
        AppSource::Helm(helm) => helm.clone(),
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
            retry_limit: app.retry_limit,
            sync_options: &app.sync_options,
            namespace_metadata: app.namespace_metadata.as_ref(),
            ignore_differences: &app.ignore_differences,
            cascade: app.cascade,
            manifest_generate_paths: app.manifest_generate_paths.as_deref(),
        },
    )
    .map_err(|p| vec![p])
}

/// A kustomize patch of an overlay, as kustomize's `patches` entry.
pub(super) fn patch(p: &Patch) -> Json {
    json!({"target": p.target, "patch": to_yaml(&p.patch, 0) + "\n"})
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
        let Some(layout) = &checked.layout else {
            panic!("{spec} laid out");
        };
        let r = Renderer::new(None).expect("built-in templates");
        let mut compared = 0;
        for (path, file) in &layout.files {
            let content = layout.content(path, file).expect("built");
            let Content::Docs { docs, .. } = content.as_ref() else {
                continue;
            };
            for doc in docs {
                if let Doc::Release(rel) = doc {
                    let rust = release(&r, rel, &|_| true);
                    let template = release(&r, rel, &|_| false);
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
