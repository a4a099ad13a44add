//! Facts about the Git repository around the output root, read-only (libgit2): where the
//! output root sits in the work tree and the URL of `origin`, for the repository rule of
//! `check`. Below `check`; committing is [`crate::git`].

use std::path::{Path, PathBuf};

use git2::Repository;

/// Where `out_root` sits in the Git work tree enclosing it: its path from the work tree's
/// root (`""` at the root) and the URL of the remote `origin`, if any. `None` outside a work
/// tree.
#[must_use]
pub(crate) fn location(out_root: &Path) -> Option<(String, Option<String>)> {
    let started = PREFETCHED
        .lock()
        .ok()
        .and_then(|mut slot| slot.take_if(|(root, _)| root == out_root));
    match started {
        Some((_, handle)) => handle.join().ok().flatten(),
        None => find_location(out_root),
    }
}

/// Waits for a [`location`] still being found on another thread, if one was started and not
/// asked for (a spec that failed before the repository rule). The process must not exit with
/// that thread inside libgit2: libgit2's shutdown at exit frees what it is using, and the
/// process aborts (`free(): invalid pointer`).
pub(crate) fn settle() {
    let started = PREFETCHED.lock().ok().and_then(|mut slot| slot.take());
    if let Some((_, handle)) = started {
        let _ = handle.join();
    }
}

/// A [`location`] being found on another thread, and for which output root.
type Started = (
    PathBuf,
    std::thread::JoinHandle<Option<(String, Option<String>)>>,
);
static PREFETCHED: std::sync::Mutex<Option<Started>> = std::sync::Mutex::new(None);

/// Starts finding [`location`] of `out_root` on another thread: opening the repository and
/// its configuration overlaps reading the spec. The next `location(out_root)` waits for it.
/// `first` runs on that thread before (a thread costs ~100 page faults here: the caller's
/// other early work shares it).
pub(crate) fn prefetch_location(out_root: &Path, first: fn()) {
    let root = out_root.to_path_buf();
    let handle = std::thread::spawn({
        let root = root.clone();
        move || {
            first();
            let _t = crate::timing::stage("git-location");
            find_location(&root)
        }
    });
    if let Ok(mut slot) = PREFETCHED.lock() {
        *slot = Some((root, handle));
    }
}

fn find_location(out_root: &Path) -> Option<(String, Option<String>)> {
    let repo = Repository::discover(out_root).ok()?;
    let workdir = repo.workdir()?.canonicalize().ok()?;
    let root = out_root.canonicalize().ok()?;
    let rel = root
        .strip_prefix(&workdir)
        .ok()?
        .to_string_lossy()
        .replace('\\', "/");
    let origin = repo
        .find_remote("origin")
        .ok()
        .and_then(|r| r.url().ok().map(str::to_owned));
    Some((rel, origin))
}

/// A Git URL reduced to host and path, so that `ssh://git@host/a/b.git`, `git@host:a/b` and
/// `https://host/a/b` compare equal.
#[must_use]
pub(crate) fn same_repository(a: &str, b: &str) -> bool {
    fn key(u: &str) -> String {
        let u = u.trim().trim_end_matches('/').trim_end_matches(".git");
        let rest = u.split_once("://").map_or(u, |(_, r)| r);
        let rest = rest.split_once('@').map_or(rest, |(_, r)| r);
        // scp-like `host:path`, or `host:port/path`.
        let (host, path) = rest.split_once(['/', ':']).unwrap_or((rest, ""));
        let path = path
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start_matches('/');
        format!("{}/{}", host.to_ascii_lowercase(), path)
    }
    key(a) == key(b)
}

#[cfg(test)]
mod tests {
    use super::same_repository;

    #[test]
    fn urls_of_one_repository_compare_equal() {
        let a = "ssh://git@github.com/acme/fleet.git";
        for b in [
            "git@github.com:acme/fleet",
            "https://github.com/acme/fleet",
            "https://GitHub.com/acme/fleet/",
            "ssh://git@github.com:22/acme/fleet",
        ] {
            assert!(same_repository(a, b), "{b}");
        }
        assert!(!same_repository(a, "https://github.com/acme/other"));
    }
}
