//! Where a Flux Kustomization's source is read from: a GitRepository of this repository is
//! the tree itself (its bootstrap source is created outside the tree by `flux bootstrap` or a
//! FluxInstance), a repository given with `--source URL[@REF]=DIR` is read there, and an
//! `ExternalArtifact` of an `ArtifactGenerator` maps its folders onto the source it copies.

use serde_json::Value as Json;

use super::Field as _;

use super::flux::{BOOTSTRAP, Walk};
use super::kustomize::Reader;
use super::{Finding, Id, Object, SOURCE_GROUP, text};
use crate::diag::{Code, Problem};

impl Walk<'_> {
    /// The source object `k` reads, if applied on `home`.
    pub(super) fn source_object(&self, k: &Object, home: &str) -> (Id, Option<Object>) {
        let kind = text(k.value(), &["spec", "sourceRef", "kind"]);
        let name = text(k.value(), &["spec", "sourceRef", "name"]);
        let ns = match text(k.value(), &["spec", "sourceRef", "namespace"]) {
            "" => k.namespace(),
            ns => ns,
        };
        let id = Id {
            group: SOURCE_GROUP.to_owned(),
            kind: kind.to_owned(),
            namespace: ns.to_owned(),
            name: name.to_owned(),
        };
        let found = self.lookup(home, kind, ns, name).cloned();
        (id, found)
    }

    /// The reader (index) of `k`'s source and how its paths map into that reader's folders,
    /// when it is known; `None` while it is not applied.
    pub(super) fn source_of(&mut self, k: &Object, home: &str) -> Option<(usize, Mapping)> {
        let (id, found) = self.source_object(k, home);
        if id.kind == "ExternalArtifact" {
            return self.artifact(&id, home);
        }
        self.reader_of(&id, found).map(|r| (r, Vec::new()))
    }

    /// An `ExternalArtifact` that an `ArtifactGenerator` copies from a source this reader knows:
    /// each `copy` of a whole folder (`@alias/dir/**` to `@artifact/dest/`) maps `dest` to
    /// `dir`.
    pub(super) fn artifact(&mut self, id: &Id, home: &str) -> Option<(usize, Mapping)> {
        let generator = self
            .plan
            .appliers
            .iter()
            .filter(|a| a.target == home)
            .flat_map(|a| a.objects.iter())
            .filter(|o| o.kind() == "ArtifactGenerator" && o.namespace() == id.namespace)
            .find_map(|g| {
                let artifacts = g.value().field(&["spec", "artifacts"])?.as_array()?;
                let a = artifacts.iter().find(|a| text(a, &["name"]) == id.name)?;
                Some((g.value().clone(), a.clone()))
            });
        let (generator, artifact) = generator?;
        let mut reader = None;
        let mut mapping = Vec::new();
        for copy in artifact
            .get("copy")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let from = text(copy, &["from"]);
            let to = text(copy, &["to"]);
            let (alias, dir) = from.strip_prefix('@')?.split_once('/')?;
            let dir = dir.strip_suffix("/**")?;
            let dest = to.strip_prefix("@artifact/")?.trim_end_matches('/');
            let sources = generator.field(&["spec", "sources"])?.as_array()?;
            let source = sources.iter().find(|s| text(s, &["alias"]) == alias)?;
            let source_id = Id {
                group: SOURCE_GROUP.to_owned(),
                kind: text(source, &["kind"]).to_owned(),
                namespace: id.namespace.clone(),
                name: text(source, &["name"]).to_owned(),
            };
            let found = self
                .lookup(home, &source_id.kind, &source_id.namespace, &source_id.name)
                .cloned();
            let r = self.reader_of(&source_id, found)?;
            if reader.is_some_and(|x| x != r) {
                return None;
            }
            reader = Some(r);
            mapping.push((dest.to_owned(), dir.to_owned()));
        }
        reader.map(|r| (r, mapping))
    }

    /// The reader of source `id` (`found` where it was applied).
    pub(super) fn reader_of(&mut self, id: &Id, found: Option<Object>) -> Option<usize> {
        let Some(source) = found else {
            // `flux bootstrap` and a FluxInstance create the bootstrap source outside the tree.
            let bootstrap = id.kind == "GitRepository"
                && id.namespace == BOOTSTRAP
                && (id.name == BOOTSTRAP || self.options.bootstrap_sources.contains(&id.name));
            return bootstrap.then_some(0);
        };
        let url = text(source.value(), &["spec", "url"]);
        let reference = reference_of(source.value());
        let git = source.kind() == "GitRepository";
        self.repository(url, reference.as_deref(), git)
    }

    /// The reader of repository `url` at `reference` (`None`: its default): a folder given for
    /// it, else, when `tree` (a Git repository) and `url` is this repository at a branch the
    /// work tree stands for, the tree. Another branch of this repository is another tree: read
    /// only when given.
    pub(super) fn repository(
        &mut self,
        url: &str,
        reference: Option<&str>,
        tree: bool,
    ) -> Option<usize> {
        let given = self.options.sources.iter().position(|g| {
            crate::repo::same_repository(&g.url, url)
                && g.reference.as_deref().is_none_or(|r| Some(r) == reference)
        });
        if let Some(g) = given {
            return self.given_reader(g);
        }
        let refs = &self.refs;
        let this_ref = refs.is_empty() || reference.is_none_or(|r| refs.iter().any(|x| x == r));
        let ours = tree
            && this_ref
            && self
                .urls
                .iter()
                .any(|u| crate::repo::same_repository(u, url));
        ours.then_some(0)
    }

    pub(super) fn given_reader(&mut self, given: usize) -> Option<usize> {
        // Reader 0 is the tree; given repositories follow in the order given.
        let index = given + 1;
        while self.readers.len() <= index {
            let g = &self.options.sources[self.readers.len() - 1];
            match Reader::new(&g.dir) {
                Ok(r) => self.readers.push(r),
                Err(_) => return None,
            }
        }
        Some(index)
    }

    /// A Kustomization whose source is never applied, or not on disk.
    pub(super) fn unresolved(&mut self, parent: usize, k: &Object, home: &str) {
        let (id, found) = self.source_object(k, home);
        let why = match &found {
            None => format!("its source {id} is not applied on this cluster"),
            Some(s) => format!(
                "its source {id} ({}) is not on disk: give it with --source URL=DIR",
                match text(s.value(), &["spec", "url"]) {
                    "" => "no URL",
                    u => u,
                }
            ),
        };
        if found.is_none() {
            self.plan.findings.push(Finding::new(
                &k.at_field(&["spec", "sourceRef"]),
                Problem::error(
                    Code::MissingRef,
                    format!(
                        "Kustomization {} reads {id}, which nothing applies on this cluster",
                        k.id()
                    ),
                )
                .help(
                    "apply the source before the Kustomization that reads it, or fix `sourceRef`",
                ),
                "this source",
            ));
        }
        self.push(parent, k, home, String::new(), Err(why));
    }
}

/// How an artifact's folders lie in its source: (folder in the artifact, folder in the source).
pub(super) type Mapping = Vec<(String, String)>;

/// `path` of an artifact as a path of its source (the longest mapped folder holding it).
pub(super) fn map_path(path: &str, mapping: &Mapping) -> String {
    if mapping.is_empty() {
        return path.to_owned();
    }
    let best = mapping
        .iter()
        .filter(|(dest, _)| {
            dest.is_empty() || path == dest || path.starts_with(&format!("{dest}/"))
        })
        .max_by_key(|(dest, _)| dest.len());
    match best {
        Some((dest, dir)) => {
            let rest = path[dest.len()..].trim_start_matches('/');
            if rest.is_empty() {
                dir.clone()
            } else {
                format!("{dir}/{rest}")
            }
        }
        None => format!("(not in the artifact) {path}"),
    }
}

/// The `ref` of a source as one text (branch, tag, semver, name or commit).
pub(super) fn reference_of(source: &Json) -> Option<String> {
    let r = source.field(&["spec", "ref"])?;
    ["branch", "tag", "semver", "name", "commit", "digest"]
        .iter()
        .find_map(|k| r.get(k).and_then(Json::as_str).map(str::to_owned))
}
