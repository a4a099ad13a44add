//! Writing the tree: the plan applied with atomic renames, stale temporaries cleared, and
//! the writer's lock.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::Plan;
use super::files::join;

/// Writes the plan: every file to a fresh temporary file (created exclusively, with an
/// unpredictable name) in its folder first; only when all were written are they renamed into
/// place, then stale files pruned and empty folders removed. A failure before the renames
/// changes nothing; a failure after says which files were updated.
///
/// # Errors
/// What failed, and what was and was not updated.
pub(crate) fn apply(
    root: &Path,
    plan: &Plan,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<(), String> {
    // Absolute once: a relative folder would be resolved again for every temporary file.
    let root =
        &std::path::absolute(root).map_err(|e| format!("cannot resolve the output root: {e}"))?;
    remove_stale_temporaries(root, plan);
    let mut jobs = Vec::with_capacity(plan.add.len() + plan.change.len());
    let added = plan.add.iter().map(|(k, new)| (k, *new, false));
    let changed = plan.change.iter().map(|(k, (_, new))| (k, *new, true));
    for (rel, content, replaces) in added.chain(changed) {
        let path = join(root, rel).ok_or_else(|| format!("bad path {rel}"))?;
        jobs.push((rel, path, content, replaces));
    }
    // Every folder is made once, parents first; then the files are staged one by one (on two
    // threads, creating files in the same folders contended and was slower). On a failure
    // every temporary file is removed with its handle.
    let made: Vec<PathBuf> = make_folders(root, jobs.iter().map(|(_, path, _, _)| path.as_path()))?
        .into_iter()
        .map(Path::to_path_buf)
        .collect();
    let mut staged = Vec::with_capacity(jobs.len());
    for (rel, path, content, replaces) in jobs {
        // Closed once written (the path alone is kept, removed on drop): a fleet of any size
        // holds one file open at a time, whatever the open-file limit.
        let tmp = match stage(&path, content, replaces) {
            Ok(tmp) => tmp.into_temp_path(),
            Err(e) => {
                // Nothing was changed: the temporaries go, and so do the folders made for them.
                drop(staged);
                for dir in made.iter().rev() {
                    let _ = fs::remove_dir(dir);
                }
                return Err(format!("cannot write `{rel}`: {e}; nothing was changed"));
            }
        };
        staged.push((rel, path, tmp));
        if let Some(bar) = progress {
            bar.inc(1);
        }
    }
    let total = staged.len();
    for (done, (rel, path, tmp)) in staged.into_iter().enumerate() {
        tmp.persist(&path).map_err(|e| {
            format!("cannot write `{rel}`: {}; {done} of {total} files were updated before it, the rest were not", e.error)
        })?;
    }
    prune(root, plan, total)
}

/// Makes the folders above `paths` inside `root` (a path sorts before the paths inside it);
/// returns the ones it made, parents first. On a failure, the ones made so far are removed.
fn make_folders<'p>(
    root: &Path,
    paths: impl Iterator<Item = &'p Path>,
) -> Result<Vec<&'p Path>, String> {
    let mut folders: BTreeSet<&Path> = BTreeSet::new();
    for path in paths {
        let mut dir = path.parent();
        while let Some(d) = dir.filter(|d| d.starts_with(root) && *d != root) {
            if !folders.insert(d) {
                break;
            }
            dir = d.parent();
        }
    }
    if !folders.is_empty() {
        fs::create_dir_all(root).map_err(|e| {
            format!(
                "cannot create `{}`: {e}; nothing was changed",
                root.display()
            )
        })?;
    }
    let mut made = Vec::new();
    for dir in folders {
        match fs::create_dir(dir) {
            Ok(()) => made.push(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => {}
            Err(e) => {
                for d in made.iter().rev() {
                    let _ = fs::remove_dir(d);
                }
                return Err(format!(
                    "cannot create `{}`: {e}; nothing was changed",
                    dir.display()
                ));
            }
        }
    }
    Ok(made)
}

/// Removes the plan's stale files (after the `written` new ones), then the folders they
/// leave empty.
fn prune(root: &Path, plan: &Plan, written: usize) -> Result<(), String> {
    let total = written;
    let mut dirs = BTreeSet::new();
    for rel in plan.remove.keys() {
        let path = join(root, rel).ok_or_else(|| format!("bad path {rel}"))?;
        // Only a regular file is pruned: a link or anything else put there since is left alone.
        if fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file()) {
            fs::remove_file(&path).map_err(|e| {
                format!("cannot remove `{rel}`: {e}; all {total} generated files were written")
            })?;
        }
        let mut dir = path.parent();
        while let Some(d) = dir {
            if d == root {
                break;
            }
            dirs.insert(d.to_path_buf());
            dir = d.parent();
        }
    }
    // Deepest first; a folder that still holds anything (a user's file) stays.
    for d in dirs.iter().rev() {
        let _ = fs::remove_dir(d);
    }
    Ok(())
}

/// Temporary files a killed run left behind in the folders this plan writes to (the caller
/// holds the lock, so no other synctl is writing them). Only regular files are removed.
fn remove_stale_temporaries(root: &Path, plan: &Plan) {
    let dirs: BTreeSet<PathBuf> = plan
        .add
        .keys()
        .chain(plan.change.keys())
        .filter_map(|rel| join(root, rel))
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    // Whether each folder exists, asked once: below a missing one there is nothing to clean
    // (a first run into an empty folder asks once per top folder, not once per file).
    let mut exists: HashMap<PathBuf, bool> = HashMap::new();
    for dir in dirs {
        let rel = dir.strip_prefix(root).unwrap_or(&dir);
        let mut above = root.to_path_buf();
        let present = rel.components().all(|part| {
            above.push(part);
            *exists
                .entry(above.clone())
                .or_insert_with(|| fs::symlink_metadata(&above).is_ok_and(|m| m.is_dir()))
        });
        if !present {
            continue;
        }
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            if is_temporary_name(&e.file_name().to_string_lossy())
                && e.file_type().is_ok_and(|t| t.is_file())
                && holds_generated_text(&e.path())
            {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// What a temporary file of synctl is named: `.synctl-` and tempfile's 6 random letters and
/// digits, then `.tmp`, exactly — not a name a person chooses (`.synctl-notes.tmp` stays).
fn is_temporary_name(name: &str) -> bool {
    name.strip_prefix(TEMP_PREFIX)
        .and_then(|n| n.strip_suffix(TEMP_SUFFIX))
        .is_some_and(|mid| {
            mid.len() == TEMP_RANDOM && mid.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// Whether the file at `path` starts as every file synctl writes does (its header): a stale
/// temporary holds a generated file's text; anything else is not synctl's to remove.
fn holds_generated_text(path: &Path) -> bool {
    use std::io::Read as _;
    let first = super::header::MARK.as_bytes();
    let mut buf = vec![0; first.len()];
    fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut buf))
        .is_ok_and(|()| buf == first)
}

const TEMP_PREFIX: &str = ".synctl-";
const TEMP_SUFFIX: &str = ".tmp";
const TEMP_RANDOM: usize = 6;

/// Writes `content` to a new temporary file beside `path` (its folder exists). A new file
/// gets the mode any program's new file gets (`0666` less the umask; tempfile's own is
/// `0600`); a file that `replaces` one keeps that one's mode.
fn stage(path: &Path, content: &str, replaces: bool) -> std::io::Result<tempfile::NamedTempFile> {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    let kept = replaces
        .then(|| fs::symlink_metadata(path).ok())
        .flatten()
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.permissions());
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .rand_bytes(TEMP_RANDOM)
        .permissions(fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)?;
    if let Some(mode) = kept {
        tmp.as_file().set_permissions(mode)?;
    }
    // No fsync: the rename is what makes the write atomic for readers, and the tree is
    // committed right after; fsync per file tripled the cost of a large fleet.
    tmp.write_all(content.as_bytes())?;
    Ok(tmp)
}

/// Holds the output root locked for writing; a second `generate` waits for the first.
#[derive(Debug)]
pub(crate) struct Lock(#[allow(dead_code)] fs::File);

/// Locks the output root (an advisory lock on the folder itself: nothing is created, and a
/// killed run releases it with its process).
///
/// # Errors
/// When the folder cannot be opened.
pub(crate) fn lock(root: &Path) -> Result<Lock, String> {
    match fs::metadata(root) {
        Ok(m) if !m.is_dir() => {
            return Err(format!(
                "the output root `{}` is not a folder",
                root.display()
            ));
        }
        Ok(_) => {}
        Err(_) => fs::create_dir_all(root)
            .map_err(|e| format!("cannot create the output root `{}`: {e}", root.display()))?,
    }
    let dir = fs::File::open(root)
        .map_err(|e| format!("cannot open the output root `{}`: {e}", root.display()))?;
    match dir.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            crate::term::print_stderr(&format!(
                "waiting for another synctl writing to `{}`…\n",
                root.display()
            ));
            dir.lock()
                .map_err(|e| format!("cannot lock `{}`: {e}", root.display()))?;
        }
        Err(fs::TryLockError::Error(e)) => {
            return Err(format!("cannot lock `{}`: {e}", root.display()));
        }
    }
    Ok(Lock(dir))
}
