//! Committing the generated tree with libgit2. The commit is built from HEAD's tree plus
//! exactly the generated paths and the spec — never from the index — so whatever else the user
//! staged or changed stays staged or changed, and uncommitted.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use git2::build::TreeUpdateBuilder;
use git2::{
    FileMode, ObjectType, Repository, RepositoryState, Signature, TreeWalkMode, TreeWalkResult,
};

use crate::layout::{BOOTSTRAP_DIR, ROOTS};

/// A repository ready to take synctl's commit.
pub(crate) struct Target {
    repo: Repository,
    workdir: PathBuf,
    /// The author (`--author`, `GIT_AUTHOR_*`, or git config).
    signature: Signature<'static>,
    /// The committer (`GIT_COMMITTER_*`, or git config).
    committer: Signature<'static>,
}

/// What a commit recorded.
#[derive(Debug, Default)]
pub(crate) struct Committed {
    /// The new commit's id, or `None` when nothing changed.
    pub id: Option<String>,
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

fn err(e: &git2::Error) -> String {
    e.message().to_owned()
}

/// Opens the repository holding `out_root` and checks a commit can be made: no merge, rebase
/// or conflicts, and an identity (`author` as `Name <email>`, or the git config).
///
/// # Errors
/// Why not, as a sentence for the user.
pub(crate) fn prepare(out_root: &Path, author: Option<&str>) -> Result<Target, String> {
    let repo = Repository::discover(out_root).map_err(|e| {
        format!(
            "`{}` is not inside a git repository ({}); run `git init` first",
            out_root.display(),
            err(&e)
        )
    })?;
    let workdir = repo
        .workdir()
        .ok_or("the repository is bare; run synctl in a checkout")?
        .canonicalize()
        .map_err(|e| e.to_string())?;
    let state = repo.state();
    if state != RepositoryState::Clean {
        return Err(format!(
            "the repository is in the middle of {state:?}; finish or abort it, then rerun"
        ));
    }
    // Another git (or a crashed one) holds the index or the branch: committing now would be
    // undone by its next write. Refuse before anything is written.
    let mut locks = vec![repo.path().join("index.lock")];
    if let Ok(head) = repo.find_reference("HEAD")
        && let Ok(Some(target)) = head.symbolic_target()
    {
        locks.push(repo.path().join(format!("{target}.lock")));
    }
    if let Some(lock) = locks.iter().find(|l| l.exists()) {
        return Err(format!(
            "`{}` exists: another git process is running (or crashed); wait for it or remove the file, then rerun; nothing was changed",
            lock.display()
        ));
    }
    if repo.index().map_err(|e| err(&e))?.has_conflicts() {
        return Err("the index has conflicts; resolve them, then rerun".to_owned());
    }
    let config = repo.config().map_err(|e| err(&e))?;
    if config.get_bool("commit.gpgsign").unwrap_or(false) {
        return Err("`commit.gpgsign` is set, and synctl cannot sign commits: run `synctl generate` without --commit and commit with `git commit -S`, or unset commit.gpgsign for this repository; nothing was changed".to_owned());
    }
    let signature = identity(&config, author, "AUTHOR")?;
    let committer = identity(&config, None, "COMMITTER")?;
    Ok(Target {
        repo,
        workdir,
        signature,
        committer,
    })
}

/// An identity as git resolves it: `--author` (author only), then `GIT_<ROLE>_NAME` /
/// `GIT_<ROLE>_EMAIL`, then `user.name` / `user.email`; the time from `GIT_<ROLE>_DATE` when set.
fn identity(
    config: &git2::Config,
    author: Option<&str>,
    role: &str,
) -> Result<Signature<'static>, String> {
    let env = |k: &str| {
        std::env::var(format!("GIT_{role}_{k}"))
            .ok()
            .filter(|v| !v.is_empty())
    };
    let (name, email) = if let Some(a) = author {
        let s = parse_author(a)?;
        (
            s.name().unwrap_or_default().to_owned(),
            s.email().unwrap_or_default().to_owned(),
        )
    } else {
        let name = env("NAME").or_else(|| config.get_string("user.name").ok());
        let email = env("EMAIL").or_else(|| config.get_string("user.email").ok());
        let (Some(n), Some(e)) = (name, email) else {
            // `--author` names the author only; the committer is git's own identity.
            let or_author = if role == "AUTHOR" {
                ", or pass --author \"Name <email>\""
            } else {
                " (--author sets the author only)"
            };
            return Err(format!(
                "no git identity for the {}: set `git config user.name` and `git config user.email` (or GIT_{role}_NAME/GIT_{role}_EMAIL){or_author}",
                role.to_ascii_lowercase()
            ));
        };
        (n, e)
    };
    match env("DATE") {
        Some(date) => {
            let (secs, offset) = parse_git_date(&date).ok_or_else(|| {
                format!("GIT_{role}_DATE `{date}` is not a date git reads (`@<seconds> <+hhmm>` or ISO 8601)")
            })?;
            let time = git2::Time::new(secs, offset);
            Signature::new(&name, &email, &time).map_err(|e| err(&e))
        }
        None => Signature::now(&name, &email).map_err(|e| err(&e)),
    }
}

/// Git's internal date format (`@1700000000 +0100`, or without `@`) and ISO 8601
/// (`2026-01-01T00:00:00Z`, `2026-01-01 10:00:00 +0200`): seconds and offset in minutes.
fn parse_git_date(s: &str) -> Option<(i64, i32)> {
    let s = s.trim();
    let offset_of = |tz: &str| -> Option<i32> {
        if tz == "Z" || tz.is_empty() {
            return Some(0);
        }
        let sign = if tz.starts_with('-') { -1 } else { 1 };
        let digits: String = tz.chars().filter(char::is_ascii_digit).collect();
        if digits.len() != 4 {
            return None;
        }
        let hours: i32 = digits[..2].parse().ok()?;
        let minutes: i32 = digits[2..].parse().ok()?;
        Some(sign * (hours * 60 + minutes))
    };
    let raw = s.trim_start_matches('@');
    if let Some((secs, tz)) = raw.split_once(' ')
        && let Ok(secs) = secs.parse::<i64>()
    {
        return Some((secs, offset_of(tz)?));
    }
    if let Ok(secs) = raw.parse::<i64>() {
        return Some((secs, 0));
    }
    // ISO 8601: date, `T` or space, time, then `Z` or an offset.
    let (date, rest) = s.split_at(s.find(['T', ' '])?);
    let rest = &rest[1..];
    let split = rest.find(['Z', '+', '-']).unwrap_or(rest.len());
    let (time, tz) = rest.split_at(split);
    let mut ymd = date.split('-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (ymd.next()??, ymd.next()??, ymd.next()??);
    let mut hms = time.trim().split(':').map(|p| p.parse::<i64>().ok());
    let (hour, minute, second) = (
        hms.next()??,
        hms.next()??,
        hms.next().flatten().unwrap_or(0),
    );
    let offset = offset_of(tz.trim())?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let year_from_march = if month <= 2 { year - 1 } else { year };
    let era = year_from_march.div_euclid(400);
    let yoe = year_from_march - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - i64::from(offset) * 60;
    Some((secs, offset))
}

fn parse_author(a: &str) -> Result<Signature<'static>, String> {
    let bad = || format!("--author must look like \"Name <email>\", not `{a}`");
    let (name, rest) = a.split_once('<').ok_or_else(bad)?;
    let email = rest.strip_suffix('>').ok_or_else(bad)?;
    if name.trim().is_empty() || email.trim().is_empty() {
        return Err(bad());
    }
    Signature::now(name.trim(), email.trim()).map_err(|e| err(&e))
}

impl Target {
    /// The path of `p` (absolute or relative to the current directory) inside the work tree.
    ///
    /// # Errors
    /// When `p` is outside the work tree.
    pub(crate) fn rel(&self, p: &Path) -> Result<String, String> {
        let abs = if p.exists() {
            p.canonicalize().map_err(|e| e.to_string())?
        } else {
            let parent = p
                .parent()
                .unwrap_or(Path::new("."))
                .canonicalize()
                .map_err(|e| e.to_string())?;
            parent.join(p.file_name().unwrap_or_default())
        };
        abs.strip_prefix(&self.workdir)
            .map(|r| r.to_string_lossy().replace('\\', "/"))
            .map_err(|_| {
                format!(
                    "`{}` is outside the repository `{}`",
                    p.display(),
                    self.workdir.display()
                )
            })
    }

    /// Commits the generated tree under `out_root` (every file in `generated`, relative to
    /// it), the removal of the files synctl owns (`owned(path, content)`) that are no longer
    /// produced, and `specs` (the spec and its editor schema).
    ///
    /// # Errors
    /// A git error, as a message.
    pub(crate) fn commit(
        &self,
        out_root: &Path,
        generated: &BTreeSet<String>,
        owned: &dyn Fn(&str, &[u8]) -> bool,
        specs: &[&Path],
        subject: &str,
        body: &dyn Fn(&Committed) -> String,
    ) -> Result<Committed, String> {
        let repo = &self.repo;
        let head = match repo.head() {
            Ok(h) => Some(h.peel_to_commit().map_err(|e| err(&e))?),
            Err(_) => None,
        };
        let base_tree = if let Some(c) = &head {
            c.tree().map_err(|e| err(&e))?
        } else {
            let empty = repo
                .treebuilder(None)
                .and_then(|b| b.write())
                .map_err(|e| err(&e))?;
            repo.find_tree(empty).map_err(|e| err(&e))?
        };
        let root_rel = self.rel(out_root)?;
        let prefix = if root_rel.is_empty() {
            String::new()
        } else {
            format!("{root_rel}/")
        };
        let mut paths = self.pruned(&base_tree, &prefix, generated, owned)?;
        paths.extend(generated.iter().map(|g| format!("{prefix}{g}")));
        for spec in specs {
            paths.insert(self.rel(spec)?);
        }
        let mut index = repo.index().map_err(|e| err(&e))?;
        let (mut update, mut done) = self.staged(&mut index, &base_tree, &paths)?;
        if done.added.is_empty() && done.changed.is_empty() && done.removed.is_empty() {
            return Ok(done);
        }
        let tree_id = update
            .create_updated(repo, &base_tree)
            .map_err(|e| err(&e))?;
        let tree = repo.find_tree(tree_id).map_err(|e| err(&e))?;
        let parents: Vec<&git2::Commit<'_>> = head.iter().collect();
        let message = format!("{subject}\n\n{}", body(&done));
        let id = repo
            .commit(
                Some("HEAD"),
                &self.signature,
                &self.committer,
                &message,
                &tree,
                &parents,
            )
            .map_err(|e| err(&e))?;
        // Bring the index in line for exactly these paths; every other entry stays as it was
        // (the staging above is dropped: the index is read again from disk first).
        index.read(true).map_err(|e| err(&e))?;
        for p in done.added.iter().chain(&done.changed) {
            index.add_path(Path::new(p)).map_err(|e| err(&e))?;
        }
        for p in &done.removed {
            let _ = index.remove_path(Path::new(p));
        }
        index.write().map_err(|e| err(&e))?;
        done.id = Some(id.to_string());
        Ok(done)
    }

    /// The generated files HEAD has (under `prefix`, the output root) that the tree no longer
    /// holds and that are synctl's (`owned`): pruned by this commit.
    fn pruned(
        &self,
        base_tree: &git2::Tree<'_>,
        prefix: &str,
        generated: &BTreeSet<String>,
        owned: &dyn Fn(&str, &[u8]) -> bool,
    ) -> Result<BTreeSet<String>, String> {
        let mut in_head: BTreeSet<String> = BTreeSet::new();
        base_tree
            .walk(TreeWalkMode::PreOrder, |dir, entry| {
                if entry.kind() == Some(ObjectType::Blob) {
                    in_head.insert(format!("{dir}{}", entry.name().unwrap_or_default()));
                }
                TreeWalkResult::Ok
            })
            .map_err(|e| err(&e))?;
        let mut paths = BTreeSet::new();
        for p in &in_head {
            let Some(rest) = p.strip_prefix(prefix) else {
                continue;
            };
            let top = rest.split('/').next().unwrap_or_default();
            if ROOTS.contains(&top)
                && !generated.contains(rest)
                && !rest.starts_with(&format!("{BOOTSTRAP_DIR}/"))
            {
                let blob = base_tree
                    .get_path(Path::new(p))
                    .and_then(|e| e.to_object(&self.repo))
                    .map_err(|e| err(&e))?;
                if blob.as_blob().is_some_and(|b| owned(rest, b.content())) {
                    paths.insert(p.clone());
                }
            }
        }
        Ok(paths)
    }

    /// The tree update for `paths` against `base_tree`, staged through `index` (not written),
    /// and what it adds, changes and removes.
    fn staged(
        &self,
        index: &mut git2::Index,
        base_tree: &git2::Tree<'_>,
        paths: &BTreeSet<String>,
    ) -> Result<(TreeUpdateBuilder, Committed), String> {
        let mut update = TreeUpdateBuilder::new();
        let mut done = Committed::default();
        for p in paths {
            let on_disk = self.workdir.join(p);
            let old = base_tree.get_path(Path::new(p)).ok().map(|e| e.id());
            if on_disk.is_file() {
                // Through the index, so the blob is what `git add` would store: the repository's
                // filters (`core.autocrlf`, `.gitattributes` eol) applied. Only written below.
                index.add_path(Path::new(p)).map_err(|e| err(&e))?;
                let id = index
                    .get_path(Path::new(p), 0)
                    .map(|e| e.id)
                    .ok_or_else(|| format!("cannot stage `{p}`"))?;
                if old == Some(id) {
                    continue;
                }
                update.upsert(p.as_str(), id, FileMode::Blob);
                if old.is_some() {
                    &mut done.changed
                } else {
                    &mut done.added
                }
                .push(p.clone());
            } else if old.is_some() {
                update.remove(p.as_str());
                done.removed.push(p.clone());
            }
        }
        Ok((update, done))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn git_dates_are_read_like_git() {
        use super::parse_git_date;
        assert_eq!(
            parse_git_date("2026-01-01T00:00:00Z"),
            Some((1_767_225_600, 0))
        );
        assert_eq!(
            parse_git_date("@1767225600 +0100"),
            Some((1_767_225_600, 60))
        );
        assert_eq!(
            parse_git_date("2026-01-01 02:00:00 +0200"),
            Some((1_767_225_600, 120))
        );
        assert_eq!(parse_git_date("yesterday"), None);
    }
}
