//! What synctl's own reader leaves to an installed `kustomize` (or `kubectl kustomize`): how
//! it is found and run, the proof that a kustomization it builds names nothing outside the tree
//! and nothing on the network, a Flux Kustomization's own additions (`targetNamespace`,
//! `patches`, `images`, `namePrefix`/`nameSuffix`, `components`) applied over a built folder,
//! and where each built object was written.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value as Json;

use super::kustomize::{MAX_NESTING, Overlay, Reader, first_problem, kustomization_file};
use super::{At, Object};
use crate::source::Source;
use crate::spec::yaml::{self, Node, Value};

#[derive(Clone, Debug)]
pub(super) struct Tool {
    program: PathBuf,
    /// `["build"]` for kustomize, `["kustomize"]` for kubectl.
    verb: &'static str,
}

impl Reader {
    /// Points objects an external kustomize built at the document under `dirs` that wrote
    /// them (same kind and name), where there is one.
    pub(super) fn locate(&mut self, dirs: &[PathBuf], skip: &[PathBuf], objects: &mut [Object]) {
        let mut index: HashMap<(String, String), (At, Arc<Node>)> = HashMap::new();
        let walk = dirs.iter().flat_map(|dir| {
            walkdir::WalkDir::new(dir)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| e.file_name() != ".git")
        });
        for entry in walk.flatten() {
            let path = entry.path();
            let manifest = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
            let patch_file = path.canonicalize().is_ok_and(|p| skip.contains(&p));
            if !entry.file_type().is_file() || !manifest || patch_file {
                continue;
            }
            let Ok(source) = self.source(path) else {
                continue;
            };
            for doc in yaml::parse_stream(&source).unwrap_or_default() {
                let kind = doc
                    .get("kind")
                    .and_then(Node::as_str)
                    .unwrap_or("")
                    .to_owned();
                let name = doc
                    .at(["metadata", "name"])
                    .and_then(Node::as_str)
                    .unwrap_or("")
                    .to_owned();
                if kind.is_empty() || name.is_empty() {
                    continue;
                }
                let at = At {
                    file: Arc::clone(&source),
                    span: doc.span,
                };
                index.entry((kind, name)).or_insert((at, Arc::new(doc)));
            }
        }
        for o in objects {
            if let Some((at, node)) = index.get(&(o.kind().to_owned(), o.name().to_owned())) {
                o.at = at.clone();
                o.node = Some(Arc::clone(node));
            }
        }
    }

    /// Proves that every local file or folder the kustomization in `dir` names is inside the
    /// tree, and that it needs no network.
    pub(super) fn confine(
        &mut self,
        dir: &Path,
        doc: &Node,
        name: &str,
        depth: usize,
    ) -> Result<(), String> {
        if depth > MAX_NESTING {
            return Err(format!(
                "kustomizations nest more than {MAX_NESTING} deep at `{name}`"
            ));
        }
        for key in ["helmCharts", "helmChartInflationGenerator", "helmGlobals"] {
            if doc.get(key).is_some() {
                return Err(format!(
                    "`{name}` uses `{key}`: kustomize would need Helm and the network (Flux refuses it too); use a HelmRelease"
                ));
            }
        }
        for path in referenced(doc) {
            if crate::folders::remote_resource(&path) {
                return Err(format!(
                    "`{name}` names the remote resource `{path}`: synctl check reads the tree offline"
                ));
            }
            let real = self
                .inside(dir, &path)
                .map_err(|e| format!("`{name}`: {e}"))?;
            if let Some(kfile) = real.is_dir().then(|| kustomization_file(&real)).flatten() {
                let source = self.source(&kfile)?;
                let inner = yaml::parse(&source).map_err(|p| first_problem(&source, &p))?;
                let inner_name = source.name.clone();
                self.confine(&real, &inner, &inner_name, depth + 1)?;
            }
        }
        Ok(())
    }

    fn tool(&mut self) -> Result<Tool, String> {
        self.tool.get_or_insert_with(find_tool).clone()
    }

    pub(super) fn run_tool(&mut self, dir: &Path) -> Result<String, String> {
        if self.offline {
            return Err(super::kustomize::OFFLINE.to_owned());
        }
        let tool = self.tool()?;
        self.runs += 1;
        let out = std::process::Command::new(&tool.program)
            .arg(tool.verb)
            .arg("--load-restrictor=LoadRestrictionsNone")
            .arg(dir)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("cannot run `{}`: {e}", tool.program.display()))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(format!(
                "kustomize cannot build `{}`: {}",
                self.shown(dir),
                err.trim()
            ));
        }
        String::from_utf8(out.stdout).map_err(|_| "kustomize wrote something not UTF-8".to_owned())
    }

    /// The kustomization that adds `overlay` to `resources.yaml` (components proven inside
    /// the tree, named by their absolute path).
    fn overlay_kustomization(&mut self, dir: &Path, overlay: &Overlay) -> Result<Json, String> {
        let mut k = serde_json::json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": ["resources.yaml"],
        });
        if let Some(ns) = &overlay.target_namespace {
            k["namespace"] = Json::String(ns.clone());
        }
        if !overlay.patches.is_empty() {
            k["patches"] = Json::Array(overlay.patches.clone());
        }
        if !overlay.images.is_empty() {
            k["images"] = Json::Array(overlay.images.clone());
        }
        if !overlay.name_prefix.is_empty() {
            k["namePrefix"] = Json::String(overlay.name_prefix.clone());
        }
        if !overlay.name_suffix.is_empty() {
            k["nameSuffix"] = Json::String(overlay.name_suffix.clone());
        }
        let mut components = Vec::new();
        for c in &overlay.components {
            let real = self.inside(dir, c)?;
            let source = kustomization_file(&real)
                .ok_or_else(|| format!("component `{c}` has no kustomization.yaml"))
                .and_then(|f| self.source(&f))?;
            let doc = yaml::parse(&source).map_err(|p| first_problem(&source, &p))?;
            let name = source.name.clone();
            self.confine(&real, &doc, &name, 1)?;
            components.push(Json::String(real.display().to_string()));
        }
        if !components.is_empty() {
            k["components"] = Json::Array(components);
        }
        Ok(k)
    }

    /// `objects` (built from `dir`) with a Flux Kustomization's `targetNamespace`, `patches`
    /// and `images` applied the way kustomize-controller adds them to the kustomization.
    pub(super) fn overlay(
        &mut self,
        dir: &Path,
        objects: &[Object],
        overlay: &Overlay,
    ) -> Result<Vec<Object>, String> {
        let tmp = tempfile::Builder::new()
            .prefix("synctl-check-")
            .tempdir()
            .map_err(|e| format!("cannot make a temporary folder: {e}"))?;
        let stream: Vec<String> = objects.iter().map(|o| o.full().to_string()).collect();
        std::fs::write(tmp.path().join("resources.yaml"), stream.join("\n---\n"))
            .map_err(|e| format!("cannot write a temporary file: {e}"))?;
        let k = self.overlay_kustomization(dir, overlay)?;
        std::fs::write(tmp.path().join("kustomization.yaml"), k.to_string())
            .map_err(|e| format!("cannot write a temporary file: {e}"))?;
        let built = self
            .run_tool(tmp.path())
            .map_err(|e| e.replace(&tmp.path().display().to_string(), &self.shown(dir)))?;
        self.external.insert(self.shown(dir));
        // Each object keeps where it was written: matched back by what names it, before the
        // namespace changed.
        let mut by_id: HashMap<(String, String, String), &Object> = HashMap::new();
        for o in objects {
            by_id.insert(
                (
                    o.group().to_owned(),
                    o.kind().to_owned(),
                    o.name().to_owned(),
                ),
                o,
            );
        }
        let fallback = objects.first().map(|o| o.at.clone());
        let Some(fallback) = fallback else {
            return Ok(Vec::new());
        };
        let mut out = parse_built(&built, &fallback)?;
        for o in &mut out {
            if let Some(orig) = by_id.get(&(
                o.group().to_owned(),
                o.kind().to_owned(),
                o.name().to_owned(),
            )) {
                o.at = orig.at.clone();
                o.node.clone_from(&orig.node);
            }
        }
        Ok(out)
    }
}

/// The patch files a kustomization names (`patches[].path`, `patchesStrategicMerge`,
/// `patchesJson6902[].path`).
pub(super) fn patch_files(doc: &Node) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["patches", "patchesJson6902"] {
        for item in doc.get(key).map_or(&[][..], Node::items) {
            out.extend(item.get("path").and_then(Node::as_str).map(str::to_owned));
        }
    }
    for item in doc
        .get("patchesStrategicMerge")
        .map_or(&[][..], Node::items)
    {
        out.extend(
            item.as_str()
                .filter(|s| !s.contains('\n'))
                .map(str::to_owned),
        );
    }
    out
}

/// Every local path a kustomization names.
fn referenced(doc: &Node) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |s: &str| {
        if !s.is_empty() && !s.contains('\n') {
            out.push(s.to_owned());
        }
    };
    for key in [
        "resources",
        "bases",
        "components",
        "crds",
        "configurations",
        "transformers",
        "generators",
        "validators",
        "patchesStrategicMerge",
    ] {
        for item in doc.get(key).map_or(&[][..], Node::items) {
            if let Some(s) = item.as_str() {
                push(s);
            }
        }
    }
    for key in ["patches", "patchesJson6902", "replacements"] {
        for item in doc.get(key).map_or(&[][..], Node::items) {
            if let Some(s) = item.get("path").and_then(Node::as_str) {
                push(s);
            }
        }
    }
    if let Some(s) = doc.at(["openapi", "path"]).and_then(Node::as_str) {
        push(s);
    }
    for key in ["configMapGenerator", "secretGenerator"] {
        for generator in doc.get(key).map_or(&[][..], Node::items) {
            for field in ["files", "envs"] {
                for f in generator.get(field).map_or(&[][..], Node::items) {
                    if let Some(s) = f.as_str() {
                        push(s.split_once('=').map_or(s, |(_, p)| p));
                    }
                }
            }
            if let Some(s) = generator.get("env").and_then(Node::as_str) {
                push(s);
            }
        }
    }
    out
}

/// What an external kustomize printed, as objects located at `at`.
pub(super) fn parse_built(text: &str, at: &At) -> Result<Vec<Object>, String> {
    let source = Source::new(at.file.name.clone(), text.to_owned());
    let docs = yaml::parse_stream(&source).map_err(|p| first_problem(&source, &p))?;
    Ok(docs
        .into_iter()
        .filter(|d| !matches!(d.value, Value::Null))
        .map(|d| Object::new(d.to_json(), at.clone(), None))
        .collect())
}

/// `SYNCTL_KUSTOMIZE` (a `kustomize` or `kubectl` program), else `kustomize`, else `kubectl`
/// on `PATH`.
fn find_tool() -> Result<Tool, String> {
    let tool = |program: PathBuf| {
        let verb = if program
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("kubectl"))
        {
            "kustomize"
        } else {
            "build"
        };
        Tool { program, verb }
    };
    if let Some(p) = std::env::var_os("SYNCTL_KUSTOMIZE").filter(|p| !p.is_empty()) {
        return Ok(tool(PathBuf::from(p)));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["kustomize", "kubectl"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(tool(candidate));
            }
        }
    }
    Err("this folder needs kustomize features synctl does not read itself (patches, generators, a namespace, components): install `kustomize` or `kubectl`, or name one with SYNCTL_KUSTOMIZE".to_owned())
}
