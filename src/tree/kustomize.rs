//! A folder of the tree built as kustomize builds it for Flux. synctl reads the common case
//! itself — a folder without a `kustomization.yaml` (Flux generates one listing every
//! manifest, `fluxcd/pkg` `kustomize_generator.go`), or a `kustomization.yaml` with only
//! `resources` — and hands every other feature (patches, generators, `namespace`, components,
//! a Flux Kustomization's own `targetNamespace`/`patches`/`images`) to an installed `kustomize`
//! or `kubectl kustomize`, after proving that every file the kustomization names lies inside
//! the tree (kustomize runs with Flux's `LoadRestrictionsNone`; Flux confines it to the
//! source's root, and so does this reader). Remote bases and `helmCharts` are refused: they
//! would need the network.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value as Json;

use super::external::parse_built;
use super::{At, Id, Object, external, native};
use crate::source::{Source, Span};
use crate::spec::yaml::{self, Node, Value};

/// The names kustomize recognises for a kustomization file, in its order.
const KUSTOMIZATION_FILES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];
/// The largest manifest read.
const MAX_FILE: u64 = 8 << 20;
/// How deep kustomizations may nest (a loop of bases is refused long before).
pub(super) const MAX_NESTING: usize = 64;

/// What a Flux Kustomization adds to its folder's kustomization.
#[derive(Debug, Default)]
pub(crate) struct Overlay {
    pub(crate) target_namespace: Option<String>,
    pub(crate) patches: Vec<Json>,
    pub(crate) images: Vec<Json>,
    pub(crate) name_prefix: String,
    pub(crate) name_suffix: String,
    /// Kustomize components, relative to the folder.
    pub(crate) components: Vec<String>,
}

impl Overlay {
    fn is_empty(&self) -> bool {
        self.target_namespace.is_none()
            && self.patches.is_empty()
            && self.images.is_empty()
            && self.name_prefix.is_empty()
            && self.name_suffix.is_empty()
            && self.components.is_empty()
    }
}

/// Why a folder was not read in process: it needs an installed kustomize.
pub(crate) const OFFLINE: &str = "a kustomize feature synctl does not build itself (`synctl check` builds it with an installed kustomize)";

/// Builds folders of one tree, caching what it read.
pub(crate) struct Reader {
    pub(super) root: PathBuf,
    pub(super) sources: HashMap<PathBuf, Arc<Source>>,
    pub(super) tool: Option<Result<external::Tool, String>>,
    /// What each (folder, overlay) an installed kustomize built to, this run (synctl's own
    /// builds are not kept: their objects are the folder's, shared until changed).
    built: HashMap<(String, String), Result<Vec<Object>, String>>,
    /// How many times the installed kustomize ran.
    pub(super) runs: usize,
    /// Never run an installed kustomize (`generate` and `validate` prove in process): a folder
    /// that needs one is left unread ([`OFFLINE`]).
    pub(crate) offline: bool,
    /// What each folder and each file (canonical) holds, once read without error: bases and
    /// files are shared by many clusters' folders.
    folders: HashMap<PathBuf, Vec<Object>>,
    files: HashMap<PathBuf, Vec<Object>>,
    /// Folders (relative to the root) that the external kustomize built.
    pub(crate) external: BTreeSet<String>,
}

impl Reader {
    /// A reader of the tree at `root`.
    ///
    /// # Errors
    /// When `root` is not a folder.
    pub(crate) fn new(root: &Path) -> Result<Reader, String> {
        let root = root
            .canonicalize()
            .map_err(|e| format!("cannot read `{}`: {e}", root.display()))?;
        if !root.is_dir() {
            return Err(format!("`{}` is not a folder", root.display()));
        }
        Ok(Reader {
            root,
            sources: HashMap::new(),
            tool: None,
            built: HashMap::new(),
            runs: 0,
            offline: false,
            folders: HashMap::new(),
            files: HashMap::new(),
            external: BTreeSet::new(),
        })
    }

    /// `path` relative to the root, as shown.
    pub(super) fn shown(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .map_or_else(|_| path.display().to_string(), |p| p.display().to_string())
    }

    /// `rel` (relative to the root; `./` and `/` prefixes as Flux reads `spec.path`) as a
    /// canonical path inside the root.
    ///
    /// # Errors
    /// A path that does not exist or leads outside the root.
    pub(crate) fn inside(&self, base: &Path, rel: &str) -> Result<PathBuf, String> {
        let joined = base.join(rel.trim_start_matches('/'));
        let canonical = joined
            .canonicalize()
            .map_err(|_| format!("`{}` does not exist", self.shown(&joined)))?;
        if canonical.starts_with(&self.root) {
            Ok(canonical)
        } else {
            Err(format!(
                "`{rel}` leads outside the tree (to `{}`)",
                canonical.display()
            ))
        }
    }

    /// The objects of folder `path` (relative to the root) with `overlay` applied.
    ///
    /// # Errors
    /// Why the folder does not build, as kustomize or Flux would refuse it.
    pub(crate) fn build(&mut self, path: &str, overlay: &Overlay) -> Result<Vec<Object>, String> {
        // Entries and clusters share folders: what an installed kustomize built for a
        // (folder, overlay) is kept; synctl's own builds start from the folder's cached objects
        // (the key, the overlay written out, is made only when kustomize was ever run).
        let key = || (path.to_owned(), format!("{overlay:?}"));
        if !self.built.is_empty()
            && let Some(done) = self.built.get(&key())
        {
            return done.clone();
        }
        let runs = self.runs;
        let result = self.build_uncached(path, overlay);
        if self.runs > runs {
            self.built.insert(key(), result.clone());
        }
        result
    }

    fn build_uncached(&mut self, path: &str, overlay: &Overlay) -> Result<Vec<Object>, String> {
        let root = self.root.clone();
        let dir = self.inside(&root, path)?;
        if !dir.is_dir() {
            return Err(format!("`{}` is not a folder", self.shown(&dir)));
        }
        let objects = self.folder(&dir, 0)?;
        if overlay.is_empty() {
            return Ok(objects);
        }
        let only_patches = overlay.images.is_empty()
            && overlay.name_prefix.is_empty()
            && overlay.name_suffix.is_empty()
            && overlay.components.is_empty();
        if only_patches {
            let ns = overlay.target_namespace.as_deref();
            if let Some(done) = native::transform(&objects, &overlay.patches, ns)
                .map_err(|e| format!("the Kustomization's own `patches`: {e}"))?
            {
                return Ok(done);
            }
        }
        self.overlay(&dir, &objects, overlay)
    }

    /// The objects of `dir`, a canonical folder inside the root.
    fn folder(&mut self, dir: &Path, depth: usize) -> Result<Vec<Object>, String> {
        if let Some(done) = self.folders.get(dir) {
            return Ok(done.clone());
        }
        let objects = self.folder_uncached(dir, depth)?;
        self.folders.insert(dir.to_path_buf(), objects.clone());
        Ok(objects)
    }

    fn folder_uncached(&mut self, dir: &Path, depth: usize) -> Result<Vec<Object>, String> {
        if depth > MAX_NESTING {
            return Err(format!(
                "kustomizations nest more than {MAX_NESTING} deep at `{}` (a loop of bases?)",
                self.shown(dir)
            ));
        }
        let Some(kfile) = kustomization_file(dir) else {
            return self.generated(dir, depth);
        };
        let source = self.source(&kfile)?;
        let doc = yaml::parse(&source).map_err(|p| first_problem(&source, &p))?;
        if native_keys(&doc) {
            let mut out = Vec::new();
            let mut seen = HashSet::new();
            for item in doc.get("resources").map_or(&[][..], Node::items) {
                let Some(entry) = item.as_str() else {
                    return Err(format!("`{}`: a resource is not a string", source.name));
                };
                let objects = self.resource(dir, entry, depth)?;
                add_unique(&mut out, &mut seen, objects, &source.name)?;
            }
            let patches = doc.get("patches").map(Node::to_json);
            let patches = patches
                .as_ref()
                .and_then(Json::as_array)
                .map_or(&[][..], Vec::as_slice);
            let namespace = doc.get("namespace").and_then(Node::as_str);
            let done = native::transform(&out, patches, namespace)
                .map_err(|e| format!("`{}`: {e}", source.name))?;
            if let Some(done) = done {
                return Ok(done);
            }
        }
        self.confine(dir, &doc, &source.name, depth)?;
        let built = self.run_tool(dir)?;
        self.external.insert(self.shown(dir));
        let at = At {
            span: Span::new(0, source.text.find('\n').unwrap_or(source.text.len())),
            file: source,
        };
        let mut objects = parse_built(&built, &at)?;
        // Where each object was written: the folders it names as resources, then its own
        // folder, never a patch file (it names the object it changes).
        let mut dirs = Vec::new();
        for r in doc.get("resources").map_or(&[][..], Node::items) {
            let real = r.as_str().and_then(|p| self.inside(dir, p).ok());
            dirs.extend(real.filter(|p| p.is_dir()));
        }
        dirs.push(dir.to_path_buf());
        let patches: Vec<PathBuf> = external::patch_files(&doc)
            .iter()
            .filter_map(|p| self.inside(dir, p).ok())
            .collect();
        self.locate(&dirs, &patches, &mut objects);
        Ok(objects)
    }

    /// Flux's generated kustomization: every `.yaml`/`.yml` file under `dir`, a sub-folder with
    /// its own kustomization as one resource, in the order Go's `filepath.Walk` visits them.
    fn generated(&mut self, dir: &Path, depth: usize) -> Result<Vec<Object>, String> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let name = format!("{}/ (no kustomization.yaml)", self.shown(dir));
        let mut walk = walkdir::WalkDir::new(dir)
            .min_depth(1)
            .sort_by_file_name()
            .into_iter();
        while let Some(entry) = walk.next() {
            let entry = entry.map_err(|e| format!("cannot list `{}`: {e}", self.shown(dir)))?;
            let path = entry.path();
            if entry.file_type().is_dir() {
                if entry.file_name() == ".git" {
                    walk.skip_current_dir();
                } else if kustomization_file(path).is_some() {
                    walk.skip_current_dir();
                    let relative = path.strip_prefix(dir).unwrap_or(path);
                    let real = self.inside(dir, &relative.to_string_lossy())?;
                    let objects = self.folder(&real, depth + 1)?;
                    add_unique(&mut out, &mut seen, objects, &name)?;
                }
                continue;
            }
            let is_manifest = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
            if is_manifest {
                let relative = path.strip_prefix(dir).unwrap_or(path);
                let real = self.inside(dir, &relative.to_string_lossy())?;
                let objects = self.file(&real)?;
                add_unique(&mut out, &mut seen, objects, &name)?;
            }
        }
        Ok(out)
    }

    /// One entry of `resources`: a file or a folder.
    fn resource(&mut self, dir: &Path, entry: &str, depth: usize) -> Result<Vec<Object>, String> {
        if crate::folders::remote_resource(entry) {
            return Err(format!(
                "`{entry}` is a remote resource: synctl check reads the tree offline (Flux's `--no-remote-bases` refuses it too)"
            ));
        }
        let real = self.inside(dir, entry)?;
        if real.is_dir() {
            if kustomization_file(&real).is_none() {
                return Err(format!(
                    "`{}` has no kustomization.yaml: kustomize cannot use it as a resource",
                    self.shown(&real)
                ));
            }
            self.folder(&real, depth + 1)
        } else {
            self.file(&real)
        }
    }

    /// The text of a file of the tree, read once.
    pub(super) fn source(&mut self, path: &Path) -> Result<Arc<Source>, String> {
        if let Some(s) = self.sources.get(path) {
            return Ok(Arc::clone(s));
        }
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("cannot read `{}`: {e}", self.shown(path)))?;
        if !meta.is_file() {
            return Err(format!("`{}` is not a regular file", self.shown(path)));
        }
        if meta.len() > MAX_FILE {
            return Err(format!(
                "`{}` is {} bytes; synctl check reads manifests of at most {MAX_FILE}",
                self.shown(path),
                meta.len()
            ));
        }
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", self.shown(path)))?;
        let text =
            String::from_utf8(bytes).map_err(|_| format!("`{}` is not UTF-8", self.shown(path)))?;
        let source = Arc::new(Source::new(self.shown(path), text));
        self.sources.insert(path.to_path_buf(), Arc::clone(&source));
        Ok(source)
    }

    /// The objects of one manifest file (`List` kinds flattened, empty documents skipped).
    pub(super) fn file(&mut self, path: &Path) -> Result<Vec<Object>, String> {
        if let Some(done) = self.files.get(path) {
            return Ok(done.clone());
        }
        let objects = self.file_uncached(path)?;
        self.files.insert(path.to_path_buf(), objects.clone());
        Ok(objects)
    }

    fn file_uncached(&mut self, path: &Path) -> Result<Vec<Object>, String> {
        let source = self.source(path)?;
        let docs = yaml::parse_stream(&source).map_err(|p| first_problem(&source, &p))?;
        let mut out = Vec::new();
        for doc in docs {
            if matches!(doc.value, Value::Null) {
                continue;
            }
            let at = At {
                file: Arc::clone(&source),
                span: doc.span,
            };
            let doc = Arc::new(doc);
            let value = doc.to_json();
            object(&value, &at)?;
            if let Some(items) = list_items(&value) {
                for item in items {
                    object(item, &at)?;
                    out.push(Object::new(item.clone(), at.clone(), None));
                }
            } else {
                out.push(Object::new(value, at, Some(doc)));
            }
        }
        Ok(out)
    }
}

/// Whether the kustomization uses nothing but local `resources`, `patches` and `namespace`
/// (synctl may build it itself: `native.rs` decides for the patches).
fn native_keys(doc: &Node) -> bool {
    let Value::Map(entries) = &doc.value else {
        return false;
    };
    entries.iter().all(|e| {
        matches!(
            e.key.as_str(),
            "apiVersion" | "kind" | "resources" | "patches" | "namespace"
        )
    }) && doc.get("resources").is_none_or(|r| {
        r.items().iter().all(|i| {
            i.as_str()
                .is_some_and(|s| !crate::folders::remote_resource(s))
        })
    })
}

/// The kustomization file of `dir`, if any.
pub(super) fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
}

/// The items of a `List` kind.
fn list_items(value: &Json) -> Option<&Vec<Json>> {
    let kind = value.get("kind")?.as_str()?;
    if !kind.ends_with("List") {
        return None;
    }
    value.get("items")?.as_array()
}

/// Refuses a document that is not a Kubernetes object, as kustomize does.
fn object(value: &Json, at: &At) -> Result<(), String> {
    let (line, _) = at.file.line_col(at.span.offset);
    let is_map = value.is_object();
    let kind = value.get("kind").and_then(Json::as_str).unwrap_or("");
    let name = super::text(value, &["metadata", "name"]);
    if !is_map || kind.is_empty() {
        return Err(format!(
            "{}:{line}: a document without `kind` is not a Kubernetes object",
            at.file.name
        ));
    }
    if name.is_empty() && list_items(value).is_none() {
        return Err(format!(
            "{}:{line}: a `{kind}` without `metadata.name`",
            at.file.name
        ));
    }
    Ok(())
}

/// Adds `objects`, refusing one already there (kustomize: "may not add resource with an
/// already registered id").
fn add_unique(
    out: &mut Vec<Object>,
    seen: &mut HashSet<Id>,
    objects: Vec<Object>,
    name: &str,
) -> Result<(), String> {
    for o in objects {
        let id = o.id();
        if !seen.insert(id.clone()) {
            let (line, _) = o.at.file.line_col(o.at.span.offset);
            return Err(format!(
                "`{name}` holds {id} twice (again at {}:{line}); kustomize refuses a second object with one name",
                o.at.file.name
            ));
        }
        out.push(o);
    }
    Ok(())
}

pub(super) fn first_problem(source: &Source, problems: &[crate::diag::Problem]) -> String {
    let p = &problems[0];
    let line = p
        .primary
        .as_ref()
        .map_or(1, |l| source.line_col(l.span.offset).0);
    format!("{}:{line}: {}", source.name, p.message)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::{Overlay, Reader, kustomization_file};

    /// Objects by kind, namespace and name, from kubectl's output.
    fn kubectl(dir: &Path) -> Option<BTreeMap<String, serde_json::Value>> {
        let out = std::process::Command::new("kubectl")
            .args(["kustomize", "--load-restrictor=LoadRestrictionsNone"])
            .arg(dir)
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let text = String::from_utf8(out.stdout).ok()?;
        let source = crate::source::Source::new("kubectl", text);
        let docs = crate::spec::yaml::parse_stream(&source).ok()?;
        Some(
            docs.iter()
                .map(|d| {
                    let v = d.to_json();
                    let id = format!(
                        "{}/{}/{}",
                        v["kind"].as_str().unwrap_or(""),
                        v["metadata"]["namespace"].as_str().unwrap_or(""),
                        v["metadata"]["name"].as_str().unwrap_or("")
                    );
                    (id, v)
                })
                .collect(),
        )
    }

    /// Builds every folder of `repo` that has a kustomization with synctl's reader and with
    /// kubectl: (folders read natively, folders compared, differences).
    fn compare_repo(repo: &Path) -> (usize, usize, Vec<String>) {
        let (mut native, mut compared, mut failures) = (0, 0, Vec::new());
        let mut reader = Reader::new(repo).unwrap();
        let dirs = walkdir::WalkDir::new(repo)
            .sort_by_file_name()
            .into_iter()
            .flatten()
            .filter(|e| e.file_type().is_dir() && kustomization_file(e.path()).is_some());
        for d in dirs {
            let Some(expected) = kubectl(d.path()) else {
                continue;
            };
            let rel = d.path().strip_prefix(repo).unwrap().display().to_string();
            let rel = if rel.is_empty() { ".".to_owned() } else { rel };
            let before = reader.external.len();
            let Ok(objects) = reader.build(&rel, &Overlay::default()) else {
                failures.push(format!(
                    "{}: synctl cannot build what kubectl builds",
                    d.path().display()
                ));
                continue;
            };
            if reader.external.len() == before {
                native += 1;
            }
            compared += 1;
            let ours: BTreeMap<String, serde_json::Value> = objects
                .iter()
                .map(|o| {
                    (
                        format!("{}/{}/{}", o.kind(), o.namespace(), o.name()),
                        o.full().into_owned(),
                    )
                })
                .collect();
            if ours != expected {
                let keys: Vec<&String> = ours.keys().chain(expected.keys()).collect();
                let differ: Vec<&&String> = keys
                    .iter()
                    .filter(|k| ours.get(**k) != expected.get(**k))
                    .collect();
                failures.push(format!("{}: {differ:?}", d.path().display()));
            }
        }
        (native, compared, failures)
    }

    /// Every folder with a kustomization in the real trees, the examples and the test fleets:
    /// what synctl's reader builds (itself where it can, else through kustomize) equals what
    /// `kubectl kustomize` builds, object for object.
    #[test]
    fn the_reader_builds_what_kustomize_builds() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut repos: Vec<std::path::PathBuf> = Vec::new();
        for parent in ["../shared/realtrees", "examples", "tests/fleets"] {
            let Ok(list) = std::fs::read_dir(root.join(parent)) else {
                continue;
            };
            repos.extend(list.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
        }
        repos.sort();
        // Two workers (kubectl's start-up dominates): every other repository each.
        let results: Vec<(usize, usize, Vec<String>)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..2)
                .map(|w| {
                    let mine: Vec<&std::path::PathBuf> = repos.iter().skip(w).step_by(2).collect();
                    scope.spawn(move || {
                        mine.into_iter().map(|r| compare_repo(r)).fold(
                            (0, 0, Vec::new()),
                            |(n, c, mut f), (n2, c2, f2)| {
                                f.extend(f2);
                                (n + n2, c + c2, f)
                            },
                        )
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        let native: usize = results.iter().map(|r| r.0).sum();
        let compared: usize = results.iter().map(|r| r.1).sum();
        let failures: Vec<String> = results.into_iter().flat_map(|r| r.2).collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        // Most folders are read by synctl itself (a regression here is a speed regression).
        assert!(
            native * 2 > compared,
            "{native} of {compared} folders read natively"
        );
    }
}
