//! The folders of `path:` components: whether a path stays inside the repository, and what a
//! folder holds. One scanner, read once per folder however many components point at it, used
//! by the path rule (does it exist, does it hold manifests) and the substitution rule (which
//! `${…}` its manifests use).

use std::path::{Path, PathBuf};

/// How deep below a component's folder manifests are looked for.
const MAX_DEPTH: usize = 8;

/// Checks that `path` is relative and stays inside the repository.
///
/// # Errors
/// Why it does not, as a phrase.
pub(crate) fn check_relative_path(path: &str) -> Result<(), &'static str> {
    if path.starts_with('/') || path.starts_with('\\') || path.get(1..2) == Some(":") {
        return Err("is absolute");
    }
    if path.contains('\\') {
        return Err("uses `\\`; write `/`");
    }
    if path.split('/').any(|seg| seg == "..") {
        return Err("climbs out with `..`");
    }
    if path.split('/').any(|seg| seg == ".git") {
        return Err("points into `.git`");
    }
    Ok(())
}

/// Whether kustomize would fetch the resource `entry` from the network (a URL, an SSH remote,
/// a Git host's path).
pub(crate) fn remote_resource(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("git@")
        || ["github.com/", "gitlab.com/", "bitbucket.org/"]
            .iter()
            .any(|host| entry.starts_with(host))
}

/// What a component's folder holds.
#[derive(Clone, Debug, Default)]
pub(crate) struct Folder {
    pub exists: bool,
    /// The folder resolves outside the output root (through a link): nothing in it was read.
    pub outside: bool,
    /// A `kustomization.yaml` at its top.
    pub kustomization: bool,
    /// Its YAML and JSON files (hidden entries skipped), sorted by path.
    pub manifests: Vec<PathBuf>,
    /// A remote base its `kustomization.yaml` lists (`https://…`, `github.com/…`), if any.
    pub remote_base: Option<String>,
}

impl Folder {
    /// Whether Flux would apply anything from it.
    #[must_use]
    pub(crate) fn has_manifests(&self) -> bool {
        self.kustomization || !self.manifests.is_empty()
    }

    /// The text of its YAML manifests (files that cannot be read as UTF-8 are skipped).
    #[must_use]
    pub(crate) fn texts(&self) -> Vec<String> {
        self.manifests
            .iter()
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .filter_map(|p| read_plain(p))
            .collect()
    }
}

/// Where `path` leads when that is outside `root` (through a link): the canonical target.
/// `None` for a path inside `root`, or one that does not resolve.
#[must_use]
pub(crate) fn leads_outside(path: &Path, root: &Path) -> Option<PathBuf> {
    let target = path.canonicalize().ok()?;
    let root = root.canonicalize().ok()?;
    (!target.starts_with(&root)).then_some(target)
}

/// The largest file of a component's folder synctl reads (a manifest is far smaller).
const MAX_READ: u64 = 8 << 20;

/// The text of the regular file at `path` — never through a link, never a FIFO or device, at
/// most [`MAX_READ`] bytes — or `None`.
#[must_use]
pub(crate) fn read_plain(path: &Path) -> Option<String> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_READ {
        return None;
    }
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut std::io::Read::take(std::fs::File::open(path).ok()?, MAX_READ),
        &mut text,
    )
    .ok()?;
    Some(text)
}

/// Scans component folder `path` (relative to `root`). A folder that resolves outside `root`
/// (a link on the way) is not read: `outside`.
#[must_use]
pub(crate) fn scan(root: &Path, path: &str) -> Folder {
    let dir = root.join(path.trim_start_matches("./"));
    if !dir.is_dir() {
        return Folder::default();
    }
    let inside = match (dir.canonicalize(), root.canonicalize()) {
        (Ok(d), Ok(r)) => d.starts_with(r),
        _ => false,
    };
    if !inside {
        return Folder {
            exists: true,
            outside: true,
            ..Folder::default()
        };
    }
    let manifests = walkdir::WalkDir::new(&dir)
        .max_depth(MAX_DEPTH)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_type().is_file()
                && e.path()
                    .extension()
                    .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
        })
        .map(walkdir::DirEntry::into_path)
        .collect();
    let remote_base = read_plain(&dir.join("kustomization.yaml"))
        .and_then(|text| {
            crate::spec::yaml::parse(&crate::spec::source::Source::new(
                "kustomization.yaml",
                text,
            ))
            .ok()
        })
        .and_then(|k| {
            ["resources", "bases", "components"]
                .iter()
                .filter_map(|key| k.get(key))
                .flat_map(crate::spec::yaml::Node::items)
                .filter_map(crate::spec::yaml::Node::as_str)
                .find(|r| remote_resource(r))
                .map(str::to_owned)
        });
    Folder {
        exists: true,
        outside: false,
        kustomization: std::fs::symlink_metadata(dir.join("kustomization.yaml"))
            .is_ok_and(|m| m.is_file()),
        manifests,
        remote_base,
    }
}

/// Where `flux bootstrap` put Flux's own manifests in an entry folder (`hub`, or a standalone
/// cluster's), and whether the entry's `kustomization.yaml` lists them now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FluxSystem {
    /// `<entry>/flux-system/` is a plain folder with a regular `kustomization.yaml`.
    pub bootstrapped: bool,
    /// The entry's `kustomization.yaml` (a regular file) lists `flux-system`.
    pub listed: bool,
}

/// What `<root>/<entry>` holds of `flux bootstrap`'s folder; never through a link.
pub(crate) fn flux_system(root: &Path, entry: &str) -> FluxSystem {
    let dir = root.join(entry);
    let plain = |p: &Path, dir: bool| {
        std::fs::symlink_metadata(p).is_ok_and(|m| if dir { m.is_dir() } else { m.is_file() })
    };
    let bootstrapped = plain(&dir.join("flux-system"), true)
        && plain(&dir.join("flux-system/kustomization.yaml"), false);
    let listing = dir.join("kustomization.yaml");
    // A generated listing is a few hundred bytes: anything far larger is not ours to read.
    let listed =
        read_plain(&listing).is_some_and(|t| t.lines().any(|l| l.trim() == "- flux-system"));
    FluxSystem {
        bootstrapped,
        listed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_must_stay_inside_the_repository() {
        assert!(check_relative_path("policies/kyverno").is_ok());
        assert!(check_relative_path("./policies").is_ok());
        assert_eq!(check_relative_path("../other"), Err("climbs out with `..`"));
        assert_eq!(
            check_relative_path("a/../../b"),
            Err("climbs out with `..`")
        );
        assert_eq!(check_relative_path("/etc"), Err("is absolute"));
        assert_eq!(check_relative_path("C:/x"), Err("is absolute"));
        assert!(check_relative_path("a..b/c").is_ok());
    }

    #[test]
    fn one_scan_sees_nested_manifests_and_skips_hidden_entries() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("p/a/b/c")).unwrap();
        std::fs::create_dir_all(root.join("p/.git")).unwrap();
        std::fs::write(root.join("p/a/b/c/deep.yaml"), "x: ${A}\n").unwrap();
        std::fs::write(root.join("p/.git/config.yaml"), "y: ${B}\n").unwrap();
        std::fs::write(root.join("p/README.md"), "${C}\n").unwrap();
        let f = scan(root, "./p");
        assert!(f.exists && !f.kustomization && f.has_manifests());
        assert_eq!(f.texts(), ["x: ${A}\n"]);
        assert!(!scan(root, "missing").exists);
    }
}
