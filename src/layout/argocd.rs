//! Argo CD, app of apps: Argo CD runs on the hub; each cluster has a root Application in
//! `hub/<cluster>.yaml` pointing at its children (one per component and tenant, in
//! `platform/apps/` for the hub and `fleet/<env>/apps/<cluster>/` for a fleet cluster),
//! ordered by sync waves.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::argocd_helm::{chart_source, health_check, health_patch, health_provider};
use super::docs::{AppSource, Application, Content, Doc};
use super::flux::clean_path;
use super::tenants::tenant_bases;
use super::{Builder, Item};
use crate::diag::{Code, Problem};
use crate::graph::Graph;
use crate::model::{ComponentSource, Fleet};

/// The name of the Argo CD Application of `item` on `cluster`.
fn application_name(fleet: &Fleet, cluster: usize, item: &str) -> String {
    format!("{}-{item}", fleet.clusters[cluster].name)
}

/// A child Application with the fleet's sync policy.
struct Child<'a> {
    fleet: &'a Fleet,
    cluster: usize,
    destination: String,
}

impl Child<'_> {
    fn app(
        &self,
        item: &str,
        sync_wave: i64,
        project: &str,
        namespace: Option<&str>,
        source: AppSource,
    ) -> Application {
        Application {
            sync_wave: Some(sync_wave),
            ..Application::new(
                application_name(self.fleet, self.cluster, item),
                self.fleet.argocd_namespace.clone(),
                project.to_owned(),
                (self.destination.clone(), namespace.map(str::to_owned)),
                source,
                self.fleet.argocd_retry_limit,
            )
        }
    }

    /// A folder of the fleet's own repository, on the cluster's branch.
    fn own(&self, path: &str) -> AppSource {
        AppSource::Git {
            repo_url: self.fleet.repository.url.clone(),
            path: self.fleet.repository.repo_path(path),
            revision: self.fleet.clusters[self.cluster].branch.clone(),
        }
    }
}

pub(super) fn lay_out(b: &mut Builder<'_>, graph: &Graph) {
    let fleet = b.fleet;
    tenant_bases(b);
    let mut projects = super::argocd_projects::app_projects(b);
    let ns_meta = fleet.namespace_meta();
    for ci in 0..fleet.clusters.len() {
        let mut children = Children::new(fleet, ci, projects.remove(&ci).unwrap_or_default());
        // Applications live in the Argo CD that serves the cluster.
        b.scope = Some(if fleet.clusters[ci].is_fleet() {
            fleet.hub_index().unwrap_or(ci)
        } else {
            ci
        });
        for &c in &graph.order {
            if fleet.components[c].clusters.binary_search(&ci).is_ok() {
                let app = component_app(b, &children.child, graph, c, &ns_meta);
                let (wave, file) = (fleet.components[c].wave, &fleet.components[c].name);
                children.add(b, Item::Component(c), wave, format!("{file}.yaml"), app);
            }
        }
        tenant_apps(b, &mut children);
        root_application(b, children);
    }
    if let (None, Some(hub)) = (health_provider(fleet), fleet.hub_index()) {
        health_check(
            b,
            "hub/argocd-cm-health.yaml",
            hub,
            &fleet.argocd_namespace,
            "kubectl apply -k hub/",
        );
    }
}

/// The folder of the hub's child Applications.
pub(super) const HUB_DIR: &str = "platform/apps";

/// The child Applications of one cluster, as they are added: their files (listed by the
/// folder's kustomization) and the waves they belong to (which the root Application starts).
struct Children<'a> {
    child: Child<'a>,
    dir: String,
    files: Vec<String>,
    waves: std::collections::BTreeSet<Item>,
}

impl<'a> Children<'a> {
    fn new(fleet: &'a Fleet, ci: usize, files: Vec<String>) -> Children<'a> {
        Children {
            child: Child {
                fleet,
                cluster: ci,
                destination: destination(fleet, ci),
            },
            dir: children_dir(fleet, ci, HUB_DIR),
            files,
            waves: std::collections::BTreeSet::new(),
        }
    }

    fn add(
        &mut self,
        b: &mut Builder<'_>,
        owner: Item,
        wave: usize,
        file: String,
        app: Application,
    ) {
        let (ci, ns) = (self.child.cluster, &self.child.fleet.argocd_namespace);
        let path = format!("{}/{file}", self.dir);
        b.object("Application", ns, &app.name, &path, owner);
        self.waves.insert(Item::Wave(wave));
        b.file(
            path,
            owner,
            [Item::Cluster(ci), Item::Wave(wave)],
            [ci],
            Content::docs(vec![Doc::Application(Box::new(app))]),
        );
        self.files.push(file);
    }
}

/// Component `c`'s Application on the child's cluster.
fn component_app(
    b: &mut Builder<'_>,
    child: &Child<'_>,
    graph: &Graph,
    c: usize,
    ns_meta: &BTreeMap<&str, crate::model::NamespaceMeta>,
) -> Application {
    let (fleet, ci) = (child.fleet, child.cluster);
    let comp = &fleet.components[c];
    let source = match &comp.source {
        // Plain manifests (or a kustomization) from this repository, on its branch.
        ComponentSource::Path(path) => child.own(&clean_path(path)),
        ComponentSource::Chart { .. } => match chart_source(fleet, ci, c) {
            Ok(helm) => AppSource::Helm(helm),
            Err(problems) => {
                b.problems(problems);
                AppSource::Helm(Json::Null)
            }
        },
    };
    let project = if comp.knobs.own_project {
        comp.name.as_str()
    } else {
        "default"
    };
    let mut app = child.app(
        &comp.name,
        graph.sync_wave(fleet, c),
        project,
        Some(&comp.namespace),
        source,
    );
    // synctl's sync options, then the component's (K7); its namespace's metadata (K6).
    app.sync_options = std::iter::once("CreateNamespace=true".to_owned())
        .chain(comp.knobs.sync_options.iter().cloned())
        .collect();
    app.ignore_differences
        .clone_from(&comp.knobs.ignore_differences);
    app.cascade = comp.knobs.cascade;
    app.manifest_generate_paths
        .clone_from(&comp.knobs.manifest_generate_paths);
    app.extra = comp
        .knobs
        .argocd_spec
        .as_ref()
        .map(crate::spec::yaml::Node::to_json);
    if matches!(comp.source, ComponentSource::Path(_)) {
        path_source(b, &mut app, c, ci);
    }
    let (labels, annotations) = ns_meta
        .get(comp.namespace.as_str())
        .cloned()
        .unwrap_or_default();
    if !labels.is_empty() || !annotations.is_empty() {
        let mut meta = serde_json::Map::new();
        if !annotations.is_empty() {
            meta.insert("annotations".to_owned(), serde_json::json!(annotations));
        }
        if !labels.is_empty() {
            meta.insert("labels".to_owned(), serde_json::json!(labels));
        }
        app.namespace_metadata = Some(serde_json::Value::Object(meta));
    }
    app
}

/// What a `path:` component's Application source carries besides its folder: kustomize
/// `patches` (its own, then its environment's), its config management `plugin`, and for the
/// component that installs Argo CD the Application health check patched into argocd-cm.
fn path_source(b: &mut Builder<'_>, app: &mut Application, c: usize, ci: usize) {
    let fleet = b.fleet;
    let (comp, cluster) = (&fleet.components[c], &fleet.clusters[ci]);
    let env = comp
        .environments
        .get(&cluster.environment)
        .filter(|_| cluster.is_fleet() || cluster.is_standalone());
    app.kustomize_patches = comp
        .knobs
        .patches
        .iter()
        .chain(env.and_then(|o| o.patches.as_ref()).into_iter().flatten())
        .cloned()
        .collect();
    // The manifests that install Argo CD own argocd-cm: the health check goes in as a
    // patch of them, not as a second writer of the ConfigMap.
    app.plugin = comp
        .knobs
        .plugin
        .as_ref()
        .map(crate::spec::yaml::Node::to_json);
    if health_provider(fleet) == Some(c) {
        if let Some(plugin) = &comp.knobs.plugin {
            b.problems(vec![
                Problem::error(
                    Code::ArgocdHealth,
                    format!("component `{}` installs Argo CD through a config management plugin, so synctl cannot patch the Application health check into its argocd-cm", comp.name),
                )
                .at(plugin.span, "rendered by a plugin")
                .help(format!("render it without `plugin` (a kustomization synctl can patch), or install Argo CD outside the fleet and merge `{}` into its argocd-cm yourself", crate::layout::HEALTH_KEY)),
            ]);
        }
        app.kustomize_patches.push(health_patch());
    }
}

/// The tenants' Applications on the cluster: the shared tenant role, each tenant's
/// boundaries, and each of its `apps:` entries placed there.
fn tenant_apps(b: &mut Builder<'_>, children: &mut Children<'_>) {
    let (fleet, ci) = (children.child.fleet, children.child.cluster);
    let tenants: Vec<usize> = (0..fleet.tenants.len())
        .filter(|&t| fleet.tenants[t].clusters.binary_search(&ci).is_ok())
        .collect();
    let first = fleet.waves.first().map_or(0, |w| w.base);
    if let Some(&t0) = tenants
        .iter()
        .find(|&&t| fleet.tenants[t].role == crate::model::TenantRole::Reconciler)
    {
        let child = &children.child;
        let app = child.app(
            "tenant-role",
            first,
            "default",
            None,
            child.own("deploy/tenant-role"),
        );
        children.add(b, Item::Tenant(t0), 0, "tenant-role.yaml".to_owned(), app);
    }
    for &ti in &tenants {
        let t = &fleet.tenants[ti];
        let item = format!("tenant-{}", t.name);
        let child = &children.child;
        let own = child.own(&format!("deploy/tenants/{}", t.name));
        let app = child.app(&item, first, "default", None, own);
        children.add(b, Item::Tenant(ti), 0, format!("{item}.yaml"), app);
        for (e, apps) in t.apps.iter().enumerate() {
            if apps.clusters.binary_search(&ci).is_err() {
                continue;
            }
            let source = AppSource::Git {
                repo_url: apps.url.clone(),
                path: apps.path.clone(),
                revision: apps.branch.clone(),
            };
            let wave = fleet.waves[apps.wave].base;
            let entry = format!("{}-apps", t.entry_name(e));
            let target = apps
                .namespace
                .clone()
                .or_else(|| t.namespaces.first().map(|(n, _)| n.clone()));
            let app = children
                .child
                .app(&entry, wave, &t.name, target.as_deref(), source);
            children.add(b, Item::Tenant(ti), apps.wave, format!("{entry}.yaml"), app);
        }
    }
}

/// The cluster's children folder's kustomization and its root Application, which starts
/// every wave of the cluster; a standalone cluster's entry also gets its kustomization (and
/// the Application health check when no FluxInstance-style provider writes it).
fn root_application(b: &mut Builder<'_>, children: Children<'_>) {
    let Children {
        child,
        dir,
        files,
        waves,
    } = children;
    let (fleet, ci) = (child.fleet, child.cluster);
    let (cluster, ns, me) = (
        &fleet.clusters[ci],
        &fleet.argocd_namespace,
        Item::Cluster(ci),
    );
    b.file(
        format!("{dir}/kustomization.yaml"),
        me,
        [],
        [ci],
        Content::resources(files),
    );
    let root = Application::new(
        format!("{}-root", cluster.name),
        ns.clone(),
        "default".to_owned(),
        ("in-cluster".to_owned(), Some(ns.clone())),
        child.own(&dir),
        fleet.argocd_retry_limit,
    );
    // A standalone cluster runs its own Argo CD (T8): its root Application lives in its
    // entry, applied once with `kubectl apply -k`; every other root is in `hub/`.
    let entry = cluster.folder();
    let root_file = if cluster.is_standalone() {
        format!("{entry}/root.yaml")
    } else {
        format!("hub/{}.yaml", cluster.name)
    };
    b.object("Application", ns, &root.name, &root_file, me);
    let comment = format!(
        "# Root Application of `{}`: its children live in {dir}/.\n",
        cluster.name
    );
    b.file(
        root_file,
        me,
        waves.clone(),
        [ci],
        Content::Docs {
            comment: Some(comment),
            docs: vec![Doc::Application(Box::new(root))],
            empty: None,
        },
    );
    if cluster.is_standalone() {
        let mut resources = vec!["root.yaml".to_owned()];
        if health_provider(fleet).is_none() {
            health_check(
                b,
                &format!("{entry}/argocd-cm-health.yaml"),
                ci,
                ns,
                "kubectl apply -k",
            );
            resources.push("argocd-cm-health.yaml".to_owned());
        }
        resources.extend(super::entry_resources(cluster, &entry));
        b.file(
            format!("{entry}/kustomization.yaml"),
            me,
            waves,
            [ci],
            Content::resources(resources),
        );
    }
}

/// Where the child Applications of cluster `ci` live.
pub(super) fn children_dir(fleet: &Fleet, ci: usize, hub_dir: &str) -> String {
    let c = &fleet.clusters[ci];
    if c.is_hub() {
        hub_dir.to_owned()
    } else {
        format!("fleet/{}/apps/{}", c.environment, c.name)
    }
}

/// The destination of a cluster's Applications: `in-cluster` where Argo CD runs (the hub, a
/// standalone cluster), else the cluster's name.
pub(super) fn destination(fleet: &Fleet, cluster: usize) -> String {
    let c = &fleet.clusters[cluster];
    if c.is_fleet() {
        c.name.clone()
    } else {
        "in-cluster".to_owned()
    }
}
