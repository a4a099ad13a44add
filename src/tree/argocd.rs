//! Argo CD Applications as the application controller reads them: each source (a folder of
//! this repository or of one given with `--source URL[@REF]=DIR`; a chart or a plugin is named,
//! not rendered) built by its type — kustomize (with the Application's `kustomize` settings),
//! a plain directory (`recurse`, `include`, `exclude`) — then the destination namespace given
//! to namespaced objects that have none, and the objects sent to the destination cluster.
//! Child Applications wait for the sync waves before theirs only when Argo CD has the
//! Application health check (`awaited`); the AppProject proof (`synctl::project`) and the
//! health-check warning (`synctl::argocd-health`) live here too.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::sync::Arc;

use serde_json::{Value as Json, json};

use super::Field as _;

use super::flux::{Plan, Walk};
use super::kustomize::{Overlay, Reader, kustomization_file};
use super::{Finding, Object, text};
use crate::diag::{Code, Problem};

pub(crate) const GROUP: &str = "argoproj.io";
/// The cluster Argo CD runs in, by server and by name.
pub(super) const IN_CLUSTER_SERVER: &str = "https://kubernetes.default.svc";
pub(super) const IN_CLUSTER_NAME: &str = "in-cluster";
const WAVE: &str = "argocd.argoproj.io/sync-wave";
/// The `argocd-cm` key of the Application health check.
pub(crate) const HEALTH_KEY: &str = "resource.customizations.health.argoproj.io_Application";

/// An Application's sync wave (0 when unset or not a number, as Argo CD reads it).
pub(crate) fn wave(o: &Object) -> i64 {
    o.value()
        .field(&["metadata", "annotations"])
        .and_then(|a| a.get(WAVE))
        .and_then(Json::as_str)
        .and_then(|w| w.trim().parse().ok())
        .unwrap_or(0)
}

/// The cluster an Application's objects go to: its home for `in-cluster`, else the
/// destination's name or server.
pub(crate) fn destination(app: &Object, home: &str) -> String {
    let name = text(app.value(), &["spec", "destination", "name"]);
    let server = text(app.value(), &["spec", "destination", "server"]);
    if name == IN_CLUSTER_NAME || (name.is_empty() && server == IN_CLUSTER_SERVER) {
        home.to_owned()
    } else if name.is_empty() {
        server.to_owned()
    } else {
        name.to_owned()
    }
}

/// The namespace Argo CD creates for an Application (`CreateNamespace=true`).
pub(crate) fn created_namespace(app: &Object) -> Option<&str> {
    let options = app
        .value()
        .field(&["spec", "syncPolicy", "syncOptions"])?
        .as_array()?;
    let ns = text(app.value(), &["spec", "destination", "namespace"]);
    let create = options
        .iter()
        .any(|o| o.as_str() == Some("CreateNamespace=true"));
    (create && !ns.is_empty()).then_some(ns)
}

/// An Application's sources: `sources`, else `source`.
pub(super) fn sources(app: &Json) -> Vec<(Vec<String>, &Json)> {
    match app.field(&["spec", "sources"]).and_then(Json::as_array) {
        Some(list) if !list.is_empty() => list
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    vec!["spec".to_owned(), "sources".to_owned(), i.to_string()],
                    s,
                )
            })
            .collect(),
        _ => app
            .field(&["spec", "source"])
            .map(|s| (vec!["spec".to_owned(), "source".to_owned()], s))
            .into_iter()
            .collect(),
    }
}

impl Walk<'_> {
    /// Builds what Application `app`, applied on `home` by applier `parent`, deploys.
    pub(super) fn application(&mut self, parent: usize, app: &Object, home: &str) {
        let mut objects = Vec::new();
        let mut unread = Vec::new();
        let mut paths = Vec::new();
        for (at, source) in sources(app.value()) {
            match self.app_source(source) {
                Ok(None) => {}
                Ok(Some((path, built))) => {
                    paths.push(path);
                    objects.extend(built);
                }
                Err(Unread::Skipped(why)) => unread.push(why),
                Err(Unread::Broken(why)) => {
                    let at: Vec<&str> = at.iter().map(String::as_str).chain(["path"]).collect();
                    self.plan.findings.push(Finding::new(
                        &app.at_field(&at),
                        Problem::error(
                            Code::Build,
                            format!("{} does not build: {why}", app.id()),
                        )
                        .help("fix the folder or the source's `path`: Argo CD's repo-server fails the same way"),
                        "this path",
                    ));
                    unread.push(why);
                }
            }
        }
        let ns = text(app.value(), &["spec", "destination", "namespace"]);
        if !ns.is_empty() {
            let ns: Arc<str> = Arc::from(ns);
            for o in &mut objects {
                if o.namespace().is_empty() && !super::known_cluster_scoped(o) {
                    o.set_namespace(&ns);
                }
            }
        }
        let built = if paths.is_empty() && !unread.is_empty() {
            Err(unread.join("; "))
        } else {
            Ok(objects)
        };
        self.push(parent, app, home, paths.join(", "), built);
    }

    /// One source: `None` for a `ref` source (values only), else the folder read and what it
    /// holds.
    fn app_source(&mut self, s: &Json) -> Result<Option<(String, Vec<Object>)>, Unread> {
        let url = text(s, &["repoURL"]);
        let chart = text(s, &["chart"]);
        if !chart.is_empty() {
            return Err(Unread::Skipped(format!(
                "the chart `{chart}` of {url} (Argo CD's repo-server renders it; synctl check does not)"
            )));
        }
        if s.get("path").is_none() && s.get("ref").is_some() {
            return Ok(None);
        }
        let revision = match text(s, &["targetRevision"]) {
            "" | "HEAD" => None,
            r => Some(r.to_owned()),
        };
        let reader = self
            .repository(url, revision.as_deref(), true)
            .ok_or_else(|| {
                Unread::Skipped(format!(
                    "its source {url} is not on disk: give it with --source URL=DIR"
                ))
            })?;
        let path = text(s, &["path"])
            .trim_start_matches("./")
            .trim_matches('/');
        let path = if path.is_empty() { "." } else { path };
        if s.get("plugin").is_some() {
            return Err(Unread::Skipped(format!(
                "`{path}` goes through a config management plugin, which synctl check does not run"
            )));
        }
        let r = &mut self.readers[reader];
        let dir = r.inside(&r.root.clone(), path).map_err(Unread::Broken)?;
        if !dir.is_dir() {
            return Err(Unread::Broken(format!("`{path}` is not a folder")));
        }
        let helm = s.get("helm").is_some() || dir.join("Chart.yaml").is_file();
        let kustomize = s.get("kustomize").is_some() || kustomization_file(&dir).is_some();
        let built = if helm && s.get("kustomize").is_none() {
            return Err(Unread::Skipped(format!(
                "`{path}` is a Helm chart (Argo CD's repo-server renders it; synctl check does not)"
            )));
        } else if kustomize {
            let overlay = kustomize_overlay(s.get("kustomize")).map_err(Unread::Skipped)?;
            r.build(path, &overlay)
        } else {
            directory(r, &dir, s.get("directory"))
        };
        built.map(|o| Some((path.to_owned(), o))).map_err(|e| {
            if e.ends_with(super::kustomize::OFFLINE) {
                Unread::Skipped(e)
            } else {
                Unread::Broken(e)
            }
        })
    }
}

/// Why a source was not read: not synctl's to read, or broken.
enum Unread {
    Skipped(String),
    Broken(String),
}

/// The Application's `kustomize` settings as an overlay of the folder's kustomization.
fn kustomize_overlay(k: Option<&Json>) -> Result<Overlay, String> {
    let Some(k) = k else {
        return Ok(Overlay::default());
    };
    let read = [
        "namePrefix",
        "nameSuffix",
        "namespace",
        "images",
        "patches",
        "components",
        "version",
    ];
    if let Some(key) = k
        .as_object()
        .and_then(|m| m.keys().find(|key| !read.contains(&key.as_str())))
    {
        return Err(format!("its `kustomize.{key}` is not read by synctl check"));
    }
    let list = |key: &str| {
        k.get(key)
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let images = list("images")
        .iter()
        .filter_map(Json::as_str)
        .map(image)
        .collect();
    let ns = text(k, &["namespace"]);
    Ok(Overlay {
        target_namespace: (!ns.is_empty()).then(|| ns.to_owned()),
        patches: list("patches"),
        images,
        name_prefix: text(k, &["namePrefix"]).to_owned(),
        name_suffix: text(k, &["nameSuffix"]).to_owned(),
        components: list("components")
            .iter()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect(),
    })
}

/// An Argo CD image override (`[old=]new[:tag][@digest]`) as a kustomize `images` entry.
fn image(s: &str) -> Json {
    let (old, new) = s.split_once('=').map_or((None, s), |(o, n)| (Some(o), n));
    let (new, digest) = new.split_once('@').unwrap_or((new, ""));
    let (new_name, tag) = split_tag(new);
    let name = old.map_or(new_name, |o| split_tag(o.split('@').next().unwrap_or(o)).0);
    let mut out = json!({"name": name});
    if new_name != name {
        out["newName"] = json!(new_name);
    }
    if !tag.is_empty() {
        out["newTag"] = json!(tag);
    }
    if !digest.is_empty() {
        out["digest"] = json!(digest);
    }
    out
}

/// An image reference's name and tag (a `:` after the last `/`).
fn split_tag(s: &str) -> (&str, &str) {
    match s.rfind(':') {
        Some(i) if !s[i..].contains('/') => (&s[..i], &s[i + 1..]),
        _ => (s, ""),
    }
}

/// A plain directory as Argo CD reads it: its `.yaml`, `.yml` and `.json` files (with
/// `recurse`, those of every sub-folder), filtered by `include` and `exclude`.
fn directory(r: &mut Reader, dir: &Path, options: Option<&Json>) -> Result<Vec<Object>, String> {
    let options = options.cloned().unwrap_or(Json::Null);
    if options.get("jsonnet").is_some_and(|j| j != &json!({})) {
        return Err("its `directory.jsonnet` is not read by synctl check".to_owned());
    }
    let recurse = options.get("recurse").and_then(Json::as_bool) == Some(true);
    let include = text(&options, &["include"]);
    let exclude = text(&options, &["exclude"]);
    let walk = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .max_depth(if recurse {
            super::kustomize::MAX_NESTING
        } else {
            1
        })
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git");
    let mut out = Vec::new();
    for entry in walk {
        let entry = entry.map_err(|e| format!("cannot list `{}`: {e}", r.shown(dir)))?;
        let path = entry.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !entry.file_type().is_file() || !matches!(ext, "yaml" | "yml" | "json" | "jsonnet") {
            continue;
        }
        let relative = path.strip_prefix(dir).unwrap_or(path).to_string_lossy();
        let wanted = (include.is_empty() || super::projects::glob(include, &relative, None))
            && (exclude.is_empty() || !super::projects::glob(exclude, &relative, None));
        if !wanted {
            continue;
        }
        if ext == "jsonnet" {
            return Err(format!(
                "`{}` is jsonnet, which synctl check does not evaluate",
                r.shown(path)
            ));
        }
        let real = r.inside(dir, &relative)?;
        out.extend(r.file(&real)?);
    }
    Ok(out)
}

/// The clusters where Argo CD waits for child Applications: the tree gives it the Application
/// health check (in `argocd-cm`, or in the values of the chart that installs Argo CD).
pub(super) fn awaited(plan: &Plan) -> HashSet<String> {
    let key = HEALTH_KEY;
    let mut out = HashSet::new();
    for a in &plan.appliers {
        for o in &a.objects {
            let config_map = o.kind() == "ConfigMap"
                && o.name() == "argocd-cm"
                && o.value()
                    .field(&["data"])
                    .and_then(|d| d.get(key))
                    .is_some();
            if config_map {
                out.insert(a.target.clone());
            }
        }
        let Some(app) = a.object.as_ref().filter(|o| o.is(GROUP, "Application")) else {
            continue;
        };
        for (_, s) in sources(app.value()) {
            let object = s
                .field(&["helm", "valuesObject", "configs", "cm"])
                .and_then(|cm| cm.get(key))
                .is_some();
            let values = text(s, &["helm", "values"]).contains(key);
            if object || values {
                out.insert(a.target.clone());
            }
        }
    }
    out
}

/// Sync waves over child Applications where Argo CD does not wait for them (a warning, once
/// per parent: Argo CD's own `argocd-cm` may hold the check outside this tree).
pub(super) fn unawaited_waves(plan: &Plan, out: &mut Vec<Finding>) {
    for (i, children) in plan.children.iter().enumerate() {
        let parent = &plan.appliers[i];
        if plan.awaited.contains(&parent.target) {
            continue;
        }
        let apps: Vec<&Object> = children
            .iter()
            .filter_map(|&c| plan.appliers[c].object.as_ref())
            .filter(|o| o.is(GROUP, "Application"))
            .collect();
        let waves: BTreeSet<i64> = apps.iter().map(|o| wave(o)).collect();
        let (Some(&first), true) = (waves.first(), waves.len() > 1) else {
            continue;
        };
        let Some(later) = apps.iter().find(|o| wave(o) > first) else {
            continue;
        };
        out.push(Finding::new(
            &later.at_field(&["metadata", "annotations", WAVE]),
            Problem::warning(
                Code::ArgocdHealth,
                format!(
                    "{} is in a later sync wave than its siblings of {}, but Argo CD on cluster {} does not wait for an Application's health without the Application health check",
                    later.id(),
                    parent.id,
                    parent.target
                ),
            )
            .help(format!(
                "add `{HEALTH_KEY}` to argocd-cm (synctl writes it for the fleets it compiles); if Argo CD's argocd-cm outside this tree has it, ignore this"
            )),
            "this wave is not awaited",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::image;

    #[test]
    fn image_overrides_become_kustomize_images() {
        assert_eq!(
            image("nginx=ghcr.io/acme/nginx:1.27"),
            serde_json::json!({"name": "nginx", "newName": "ghcr.io/acme/nginx", "newTag": "1.27"})
        );
        assert_eq!(
            image("nginx:1.27"),
            serde_json::json!({"name": "nginx", "newTag": "1.27"})
        );
        assert_eq!(
            image("localhost:5000/app@sha256:ab"),
            serde_json::json!({"name": "localhost:5000/app", "digest": "sha256:ab"})
        );
    }
}
