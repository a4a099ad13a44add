//! The built-in templates of the objects a large fleet has thousands of (Flux Kustomizations,
//! GitRepositories, Namespaces) and of every chart component (its HelmRepository or
//! OCIRepository and HelmRelease), written straight into a string: the same bytes as the
//! template (a test renders every object of every example both ways), without building a
//! template context. Used only when `--templates` does not override that template.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value as Json;

use super::yaml_out::{emit_into, nested_str, pad, scalar_into};
use crate::layout::{GitRepository, Kustomization};
use crate::model::shards::LABEL as SHARD_LABEL;

/// The templates this module stands in for (when not overridden).
pub(super) const TEMPLATES: &[&str] = &[
    "flux/kustomization.yaml.j2",
    "flux/gitrepository.yaml.j2",
    "k8s/namespace.yaml.j2",
    "k8s/serviceaccount.yaml.j2",
    "flux/helmrepository.yaml.j2",
    "flux/ocirepository.yaml.j2",
    "flux/helmrelease.yaml.j2",
];

/// A block of YAML lines being written.
struct Doc(String);

impl Doc {
    fn new(head: &str) -> Doc {
        // Room for most documents (a fleet cluster's Kustomization is ~700 bytes).
        let mut out = String::with_capacity(1024);
        out.push_str(head);
        Doc(out)
    }

    /// `key: value` at `indent`, the value a quoted-when-needed scalar.
    fn field(&mut self, indent: &str, key: &str, value: &str) -> &mut Doc {
        self.0.push_str(indent);
        self.0.push_str(key);
        self.0.push_str(": ");
        scalar_into(value, &mut self.0);
        self.0.push('\n');
        self
    }

    /// `key: value` at `indent`, the value a JSON string (the template's `| quote`).
    fn quoted(&mut self, indent: &str, key: &str, value: &str) -> &mut Doc {
        self.0.push_str(indent);
        self.0.push_str(key);
        self.0.push_str(": ");
        self.0.push_str(&super::yaml_out::double_quoted(value));
        self.0.push('\n');
        self
    }

    /// A line written as is.
    fn raw(&mut self, line: &str) -> &mut Doc {
        self.0.push_str(line);
        self.0.push('\n');
        self
    }

    /// `value` as a block below the line just written (the template's `| yaml(indent)`).
    fn block(&mut self, value: &Json, indent: usize) -> &mut Doc {
        let start = self.0.len();
        emit_into(value, indent, &mut self.0);
        // `yaml` trims what the emitter ends with; the line is then ended by the template.
        let end = start + self.0[start..].trim_end().len();
        self.0.truncate(end);
        self.0.push('\n');
        self
    }

    /// A mapping of strings as a block below the line just written.
    fn map(&mut self, value: &BTreeMap<String, String>, indent: usize) -> &mut Doc {
        // One line per entry, as `emit` writes a mapping of one-line strings.
        if !value.is_empty() && !value.values().any(|v| v.contains('\n')) {
            for (k, v) in value {
                pad(indent, &mut self.0);
                scalar_into(k, &mut self.0);
                self.0.push_str(": ");
                scalar_into(v, &mut self.0);
                self.0.push('\n');
            }
            return self;
        }
        let json = Json::Object(
            value
                .iter()
                .map(|(k, v)| (k.clone(), Json::String(v.clone())))
                .collect(),
        );
        self.block(&json, indent)
    }

    fn finish(mut self) -> String {
        let end = self.0.trim_end().len();
        self.0.truncate(end);
        self.0.push('\n');
        self.0
    }
}

/// `flux/kustomization.yaml.j2`.
pub(super) fn kustomization(k: &Kustomization) -> String {
    let mut d =
        Doc::new("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n");
    d.field("  ", "name", &k.name)
        .field("  ", "namespace", &k.namespace);
    if let Some(shard) = k.shard.as_deref().filter(|s| !s.is_empty()) {
        d.raw("  labels:").field("    ", SHARD_LABEL, shard);
    }
    d.raw("spec:");
    if !k.depends_on.is_empty() {
        // As `| yaml(4)` writes the list of `{name, namespace}` maps, keys in order.
        d.raw("  dependsOn:");
        for dep in &k.depends_on {
            d.0.push_str("    - name:");
            nested_str(&dep.name, 6, &mut d.0);
            if let Some(ns) = &dep.namespace {
                d.0.push_str("      namespace:");
                nested_str(ns, 6, &mut d.0);
            }
        }
    }
    if let Some(secret) = k.decryption.as_deref().filter(|s| !s.is_empty()) {
        d.raw("  decryption:")
            .raw("    provider: sops")
            .raw("    secretRef:")
            .field("      ", "name", secret);
    }
    if !k.health_checks.is_empty() {
        d.raw("  healthChecks:")
            .block(&Json::Array(k.health_checks.clone()), 4);
    }
    d.field("  ", "interval", &k.interval)
        .field("  ", "retryInterval", &k.retry_interval)
        .field("  ", "timeout", &k.timeout);
    if let Some(kubeconfig) = k.kubeconfig.as_ref().filter(|v| truthy(v)) {
        d.raw("  kubeConfig:").block(kubeconfig, 4);
    }
    d.field("  ", "path", &k.path);
    if !k.patches.is_empty() {
        d.raw("  patches:")
            .block(&Json::Array(k.patches.clone()), 4);
    }
    d.raw("  prune: true");
    if let Some(account) = k.service_account.as_deref().filter(|s| !s.is_empty()) {
        d.field("  ", "serviceAccountName", account);
    }
    d.raw("  sourceRef:")
        .raw("    kind: GitRepository")
        .field("    ", "name", &k.source);
    if let Some(ns) = k.target_namespace.as_deref().filter(|s| !s.is_empty()) {
        d.field("  ", "targetNamespace", ns);
    }
    d.raw(if k.wait {
        "  wait: true"
    } else {
        "  wait: false"
    });
    let substitute = k.substitute.as_ref().filter(|m| !m.is_empty());
    if substitute.is_some() || !k.substitute_from.is_empty() {
        d.raw("  postBuild:");
        if let Some(vars) = substitute {
            d.raw("    substitute:");
            substitute_into(vars, &mut d);
        }
        if !k.substitute_from.is_empty() {
            d.raw("    substituteFrom:")
                .block(&Json::Array(k.substitute_from.clone()), 6);
        }
    }
    if let Some(shard) = k
        .shard
        .as_deref()
        .filter(|s| k.label_applied && !s.is_empty())
    {
        d.raw("  commonMetadata:")
            .raw("    labels:")
            .field("      ", SHARD_LABEL, shard);
    }
    d.finish()
}

/// A cluster's variables: name → value.
type Vars = BTreeMap<String, String>;

/// A cluster's `substitute` map, as [`Doc::map`] writes it at indent 6. Every Kustomization of
/// a cluster shares one map (an `Arc`): its lines are written once per thread and copied for
/// the others. The cache holds the `Arc` it was written from, so the map cannot be freed and
/// another take its address while it is cached: the same pointer is the same map.
fn substitute_into(vars: &Arc<Vars>, d: &mut Doc) {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(Arc<Vars>, String)>> =
            const { std::cell::RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| {
        if let Some((map, text)) = last.as_ref()
            && Arc::ptr_eq(map, vars)
        {
            d.0.push_str(text);
            return;
        }
        let mut lines = Doc(String::new());
        lines.map(vars, 6);
        d.0.push_str(&lines.0);
        *last = Some((Arc::clone(vars), lines.0));
    });
}

/// `flux/gitrepository.yaml.j2`.
pub(super) fn git_repository(g: &GitRepository) -> String {
    let mut d =
        Doc::new("apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n");
    d.field("  ", "name", &g.name)
        .field("  ", "namespace", &g.namespace);
    if let Some(shard) = g.shard.as_deref().filter(|s| !s.is_empty()) {
        d.raw("  labels:").field("    ", SHARD_LABEL, shard);
    }
    d.raw("spec:")
        .field("  ", "interval", &g.interval)
        .raw("  ref:")
        .field("    ", "branch", &g.branch);
    if let Some(secret) = g.secret_ref.as_deref().filter(|s| !s.is_empty()) {
        d.raw("  secretRef:").field("    ", "name", secret);
    }
    if let Some(sparse) = g.sparse.as_ref().filter(|s| !s.is_empty()) {
        d.raw("  sparseCheckout:");
        for p in sparse {
            d.0.push_str("    - ");
            scalar_into(p, &mut d.0);
            d.0.push('\n');
        }
    }
    d.field("  ", "url", &g.url);
    d.finish()
}

/// `k8s/namespace.yaml.j2`.
pub(super) fn namespace(
    name: &str,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) -> String {
    let mut d = Doc::new("apiVersion: v1\nkind: Namespace\nmetadata:\n");
    d.field("  ", "name", name);
    if !annotations.is_empty() {
        d.raw("  annotations:").map(annotations, 4);
    }
    if !labels.is_empty() {
        d.raw("  labels:").map(labels, 4);
    }
    d.finish()
}

/// `k8s/serviceaccount.yaml.j2`.
pub(super) fn service_account(
    name: &str,
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> String {
    let mut d = Doc::new("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n");
    d.field("  ", "name", name)
        .field("  ", "namespace", namespace);
    if !labels.is_empty() {
        d.raw("  labels:").map(labels, 4);
    }
    d.finish()
}

/// Whether a template's `{% if value %}` takes the branch.
/// `flux/helmrepository.yaml.j2`, or `flux/ocirepository.yaml.j2` when `oci`.
pub(super) fn chart_source(c: &crate::layout::ChartSource) -> String {
    let oci = c.oci;
    let kind = if oci {
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n"
    } else {
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n"
    };
    let mut d = Doc::new(kind);
    d.field("  ", "name", &c.name)
        .raw("  namespace: flux-system")
        .raw("spec:")
        .field("  ", "interval", &c.interval);
    if oci {
        d.raw("  layerSelector:")
            .raw("    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip")
            .raw("    operation: copy")
            .raw("  ref:")
            .quoted("    ", "semver", &c.version);
    }
    d.field("  ", "url", &c.url);
    d.finish()
}

/// `flux/helmrelease.yaml.j2`.
pub(super) fn helm_release(c: &crate::layout::HelmRelease) -> String {
    let mut d = Doc::new("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n");
    d.field("  ", "name", &c.name)
        .raw("  namespace: flux-system")
        .raw("spec:");
    if c.oci {
        d.raw("  chartRef:")
            .raw("    kind: OCIRepository")
            .field("    ", "name", &c.name);
    } else {
        d.raw("  chart:")
            .raw("    spec:")
            .field("      ", "chart", &c.chart)
            .raw("      sourceRef:")
            .raw("        kind: HelmRepository")
            .field("        ", "name", &c.name)
            .quoted("      ", "version", &c.version);
    }
    if !c.depends_on.is_empty() {
        let deps = c
            .depends_on
            .iter()
            .map(|d| serde_json::json!({"name": d.name}))
            .collect();
        d.raw("  dependsOn:").block(&Json::Array(deps), 4);
    }
    if let Some(drift) = c.drift_detection.as_ref().filter(|v| truthy(v)) {
        d.raw("  driftDetection:").block(drift, 4);
    }
    for action in ["install", "upgrade"] {
        if action == "upgrade" {
            if let Some(account) = c.service_account.as_deref().filter(|a| !a.is_empty()) {
                d.field("  ", "serviceAccountName", account);
            }
            d.field("  ", "storageNamespace", &c.namespace).field(
                "  ",
                "targetNamespace",
                &c.namespace,
            );
            if c.test {
                d.raw("  test:").raw("    enable: true");
            }
            d.field("  ", "timeout", &c.timeout);
        }
        d.raw(&format!("  {action}:"))
            .field("    ", "crds", &c.crds);
        if let Some(retries) = c.retries {
            d.raw("    remediation:")
                .raw(&format!("      retries: {retries}"));
        }
        if let Some(strategy) = c.strategy.as_deref().filter(|s| !s.is_empty()) {
            d.raw("    strategy:").field("      ", "name", strategy);
        }
        if action == "install" {
            d.field("  ", "interval", &c.interval)
                .field("  ", "releaseName", &c.release_name);
        }
    }
    if let Some(values) = c.values.as_ref().filter(|v| truthy(v)) {
        d.raw("  values:").block(values, 4);
    }
    if let Some(from) = c.values_from.as_ref().filter(|v| truthy(v)) {
        d.raw("  valuesFrom:").block(from, 4);
    }
    d.finish()
}

fn truthy(v: &Json) -> bool {
    match v {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Json::String(s) => !s.is_empty(),
        Json::Array(a) => !a.is_empty(),
        Json::Object(m) => !m.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Content, Doc as LayoutDoc};
    use crate::render::Renderer;

    /// Renders `doc` with the template and with the Rust writer; `None` for other kinds.
    fn both(r: &Renderer, doc: &LayoutDoc) -> Option<(String, String)> {
        let out = match doc {
            LayoutDoc::Kustomization(k) => (
                r.object("flux/kustomization.yaml.j2", k).ok()?,
                kustomization(k),
            ),
            LayoutDoc::GitRepository(g) => (
                r.object("flux/gitrepository.yaml.j2", g).ok()?,
                git_repository(g),
            ),
            LayoutDoc::Namespace {
                name,
                labels,
                annotations,
            } => (
                r.object(
                    "k8s/namespace.yaml.j2",
                    &serde_json::json!({"name": name, "labels": labels, "annotations": annotations}),
                )
                .ok()?,
                namespace(name, labels, annotations),
            ),
            LayoutDoc::ServiceAccount {
                name,
                namespace,
                labels,
            } => (
                r.object(
                    "k8s/serviceaccount.yaml.j2",
                    &serde_json::json!({"name": name, "namespace": namespace, "labels": labels}),
                )
                .ok()?,
                service_account(name, namespace, labels),
            ),
            _ => return None,
        };
        Some(out)
    }

    #[test]
    fn the_rust_writers_match_the_templates_on_every_object_of_every_example() {
        let r = Renderer::new(None).expect("built-in templates");
        let specs = crate::testing::example_specs();
        assert!(specs.len() >= 6, "{specs:?}");
        let mut compared = [0usize; 4];
        for spec in &specs {
            let root = spec.parent().expect("folder");
            let checked = crate::pipeline::check_file(spec, "fleet.yaml", Some(root))
                .expect("readable")
                .valid()
                .unwrap_or_else(|_| panic!("{} is valid", spec.display()));
            let layout = checked.layout.expect("laid out");
            for (path, file) in &layout.files {
                let content = layout.content(path, file).expect("built");
                let Content::Docs { docs, .. } = content.as_ref() else {
                    continue;
                };
                for doc in docs {
                    let Some((template, rust)) = both(&r, doc) else {
                        continue;
                    };
                    assert_eq!(rust, template, "{}", spec.display());
                    compared[match doc {
                        LayoutDoc::Kustomization(_) => 0,
                        LayoutDoc::GitRepository(_) => 1,
                        LayoutDoc::ServiceAccount { .. } => 3,
                        _ => 2,
                    }] += 1;
                }
            }
        }
        assert!(compared.iter().all(|n| *n > 10), "{compared:?}");
    }

    #[test]
    #[expect(clippy::too_many_lines, reason = "a test's cases, listed")]
    fn every_optional_field_and_awkward_value_is_written_as_the_template_writes_it() {
        let r = Renderer::new(None).expect("built-in templates");
        let strings = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let k = Kustomization {
            name: "yes".to_owned(),
            namespace: "a: b".to_owned(),
            shard: Some("on: #1".to_owned()),
            label_applied: true,
            depends_on: vec![
                crate::layout::DependsOn {
                    name: "one".to_owned(),
                    namespace: None,
                },
                crate::layout::DependsOn {
                    name: "two".to_owned(),
                    namespace: Some("flux-system".to_owned()),
                },
                crate::layout::DependsOn {
                    name: "yes".to_owned(),
                    namespace: Some("a\nb\n".to_owned()),
                },
                crate::layout::DependsOn {
                    name: "x\ny".to_owned(),
                    namespace: Some("- z".to_owned()),
                },
            ],
            interval: "1.0".to_owned(),
            retry_interval: "2m".to_owned(),
            timeout: "~".to_owned(),
            kubeconfig: Some(
                serde_json::json!({"secretRef": {"name": "kc", "key": "value"}}).into(),
            ),
            path: "./deploy/x #y".to_owned(),
            service_account: Some("kustomize-controller".to_owned()),
            source: "on".to_owned(),
            target_namespace: Some("team\u{2028}a".to_owned()),
            wait: true,
            substitute: Some(strings(&[("CLUSTER", "0x1F"), ("MULTI", "a\nb\n")]).into()),
            patches: vec![
                serde_json::json!({"patch": "- op: add\n  path: /x\n", "target": {"kind": "HelmRelease"}}),
            ],
            decryption: Some("sops-age".to_owned()),
            substitute_from: vec![
                serde_json::json!({"kind": "ConfigMap", "name": "vars", "optional": true}),
            ],
            health_checks: vec![
                serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "x", "namespace": "y"}),
            ],
            extra: None,
        };
        let doc = LayoutDoc::Kustomization(Box::new(k.clone()));
        let (template, rust) = both(&r, &doc).expect("rendered");
        assert_eq!(rust, template);
        // A cluster's map written once and reused; another map in between is its own.
        let other = Kustomization {
            substitute: Some(strings(&[("CLUSTER", "b"), ("ZONE", "yes")]).into()),
            ..k.clone()
        };
        for doc in [&other, &k, &k, &other] {
            let doc = LayoutDoc::Kustomization(Box::new(doc.clone()));
            let (template, rust) = both(&r, &doc).expect("rendered");
            assert_eq!(rust, template);
        }
        let bare = Kustomization {
            depends_on: Vec::new(),
            kubeconfig: None,
            service_account: Some(String::new()),
            target_namespace: None,
            wait: false,
            substitute: Some(BTreeMap::new().into()),
            patches: Vec::new(),
            decryption: None,
            substitute_from: Vec::new(),
            health_checks: Vec::new(),
            ..k
        };
        let (template, rust) =
            both(&r, &LayoutDoc::Kustomization(Box::new(bare))).expect("rendered");
        assert_eq!(rust, template);
        for (secret, sparse) in [
            (
                Some("deploy-key".to_owned()),
                Some(vec!["./hub".to_owned(), "yes".to_owned()]),
            ),
            (None, Some(Vec::new())),
            (Some(String::new()), None),
        ] {
            let g = GitRepository {
                name: "null".to_owned(),
                namespace: "flux-system".to_owned(),
                shard: secret.clone(),
                interval: "1m".to_owned(),
                branch: "1.0".to_owned(),
                secret_ref: secret,
                sparse,
                url: "ssh://git@example.com/a b".to_owned(),
            };
            let (template, rust) =
                both(&r, &LayoutDoc::GitRepository(Box::new(g))).expect("rendered");
            assert_eq!(rust, template);
        }
        let ns = LayoutDoc::Namespace {
            name: "true".to_owned(),
            labels: strings(&[("a", "yes"), ("b/c", "")]),
            annotations: strings(&[("note", "x: y")]),
        };
        let (template, rust) = both(&r, &ns).expect("rendered");
        assert_eq!(rust, template);
        for labels in [
            strings(&[("a", "yes"), ("b/c", ""), ("d", "x\ny")]),
            BTreeMap::new(),
        ] {
            let sa = LayoutDoc::ServiceAccount {
                name: "null".to_owned(),
                namespace: "a: b".to_owned(),
                labels,
            };
            let (template, rust) = both(&r, &sa).expect("rendered");
            assert_eq!(rust, template);
        }
    }
}
