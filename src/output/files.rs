//! Reading the tree safely: one walk lists it (never through a link, never into a nested
//! repository), files are opened without following links and checked to be the file listed.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::Read as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Component, Path, PathBuf};

use walkdir::DirEntryExt as _;

use super::ROOTS;
use crate::diag::{Code, Problem};

/// Joins a generated path onto `root`, refusing anything that could escape it.
pub(super) fn join(root: &Path, rel: &str) -> Option<PathBuf> {
    let p = Path::new(rel);
    if p.components().all(|c| matches!(c, Component::Normal(_))) {
        Some(root.join(p))
    } else {
        None
    }
}

/// The largest file synctl reads back from the tree (a generated file is far smaller).
const MAX_FILE: u64 = 32 << 20;

/// A problem with what is at `rel`: synctl neither reads, writes nor prunes through it.
fn in_the_way(rel: &str, what: &str) -> Problem {
    Problem::error(Code::UserFile, format!("{what} is in the way"))
        .in_file(rel.to_owned())
        .help("synctl writes only regular files in plain folders of the output root; remove or move it, then rerun")
}

/// Reads the regular file at `path` (never through a symlink, never a FIFO or device), or
/// `None` when nothing is there.
pub(super) fn read_regular(path: &Path, rel: &str) -> Result<Option<String>, Problem> {
    let mut bytes = Vec::new();
    if !read_bytes(path, rel, &mut bytes)? {
        return Ok(None);
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| in_the_way(rel, "a file that is not UTF-8 text"))
}

/// Reads the regular file at `path` into `bytes` (emptied first); `false` when nothing is
/// there.
fn read_bytes(path: &Path, rel: &str, bytes: &mut Vec<u8>) -> Result<bool, Problem> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => {
            return Err(Problem::error(
                Code::Io,
                format!("cannot read `{rel}`: {e}"),
            ));
        }
    };
    let kind = meta.file_type();
    if kind.is_symlink() {
        return Err(in_the_way(rel, "a symbolic link"));
    }
    if !kind.is_file() {
        let what = if kind.is_dir() {
            "a folder"
        } else {
            "a special file (FIFO, socket or device)"
        };
        return Err(in_the_way(rel, what));
    }
    if meta.len() > MAX_FILE {
        return Err(in_the_way(rel, "a file over 32 MiB"));
    }
    // The file opened is the one just looked at: opened without following a symbolic link
    // and without blocking (a FIFO put there since), then checked to be that same regular
    // file, so a swap after the look cannot make synctl read through a link.
    let file = match open_no_follow(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) if is_link_error(&e) => return Err(in_the_way(rel, "a symbolic link")),
        Err(e) => {
            return Err(Problem::error(
                Code::Io,
                format!("cannot read `{rel}`: {e}"),
            ));
        }
    };
    match file.metadata() {
        Ok(now) if now.is_file() && same_file(&meta, &now) => {}
        Ok(_) => return Err(in_the_way(rel, "a file replaced while synctl read it")),
        Err(e) => {
            return Err(Problem::error(
                Code::Io,
                format!("cannot read `{rel}`: {e}"),
            ));
        }
    }
    // Room for the whole file and one byte more: one read takes it, the next sees its end
    // (reading through `Take` without room starts at 32 bytes and doubles).
    bytes.clear();
    bytes.reserve(usize::try_from(meta.len()).unwrap_or(0) + 1);
    let read = {
        use std::io::Read as _;
        file.take(MAX_FILE + 1).read_to_end(bytes)
    };
    match read {
        Ok(_) => Ok(true),
        Err(e) => Err(Problem::error(
            Code::Io,
            format!("cannot read `{rel}`: {e}"),
        )),
    }
}

/// Opens `path` for reading, refusing a symbolic link (`ELOOP`) and never blocking on a FIFO.
/// (synctl is built for Unix only: `stage` sets Unix file modes too.)
pub(super) fn open_no_follow(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

/// Whether opening failed because the last component is a symbolic link (`O_NOFOLLOW`).
pub(super) fn is_link_error(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

/// Whether two looks at a path saw the same file: same device, same inode.
pub(super) fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// Whether `dir` is the top of another Git repository (a nested clone or a submodule).
fn nested_repository(dir: &Path) -> bool {
    fs::symlink_metadata(dir.join(".git")).is_ok()
}

/// What one walk of the output folders found. Files are listed, not read: each wanted file
/// is compared with the disk on the thread that rendered it ([`finish`]), or by the plan.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// The output root the walk started from.
    pub(super) root: PathBuf,
    /// Every regular file, by relative path, and which file it was (device and inode), or why
    /// it is a person's file synctl leaves alone (a FIFO or device).
    pub(super) files: BTreeMap<String, Result<Listed, Problem>>,
    /// The plain folders the walk entered: a file missing from `files` whose folder is here
    /// does not exist.
    pub(super) dirs: HashSet<PathBuf>,
    /// Folders that are another Git repository (a submodule or a clone), relative, each
    /// ending in `/`: nothing is written into them.
    pub(super) repositories: Vec<String>,
}

/// Which file the walk saw at a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Listed {
    pub(super) dev: u64,
    pub(super) ino: u64,
}

/// A walk of the tree, or why it could not be walked.
pub(crate) type Scanned = Result<Scan, Vec<Problem>>;

/// Walks the output folders once and lists every regular file in them. Symbolic links
/// anywhere under the output folders are refused; nested Git repositories (submodules, clones)
/// and `hub/flux-system/` are never entered.
pub(super) fn scan(root: &Path) -> Scanned {
    let _t = crate::timing::stage("walk");
    let mut out = Scan {
        root: root.to_path_buf(),
        ..Scan::default()
    };
    let mut problems = Vec::new();
    for top in ROOTS {
        let dir = root.join(top);
        match fs::symlink_metadata(&dir) {
            Ok(m) if m.file_type().is_symlink() => {
                problems.push(in_the_way(top, "a symbolic link"));
            }
            Ok(m) if !m.is_dir() => {
                problems.push(in_the_way(top, "a file where a folder must be"));
            }
            // The whole output folder is another repository (`fleet/` a submodule).
            Ok(_) if nested_repository(&dir) => out.repositories.push(format!("{top}/")),
            Ok(m) => walk(root, top, m.dev(), &mut out, &mut problems),
            Err(_) => {}
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Walks output folder `top` (a plain folder on device `dev`) into `out`.
fn walk(root: &Path, top: &str, dev: u64, out: &mut Scan, problems: &mut Vec<Problem>) {
    // A folder holding `.git` (a clone, or a submodule's `.git` file) is another
    // repository: never walked. `.git` is sorted first among its folder's entries, so the
    // folder is left as soon as its listing shows it (no look for `.git` in every folder).
    let git_first = |a: &walkdir::DirEntry, b: &walkdir::DirEntry| {
        let (a, b) = (a.file_name(), b.file_name());
        (a != ".git").cmp(&(b != ".git")).then_with(|| a.cmp(b))
    };
    let mut walker = walkdir::WalkDir::new(root.join(top))
        .sort_by(git_first)
        .into_iter()
        .filter_entry(|e| {
            let bootstrap = e.depth() == 1 && top == "hub" && e.file_name() == "flux-system";
            let name = e.file_name().as_encoded_bytes();
            let marks_nested = e.depth() > 1 && name == b".git";
            let hidden = name.starts_with(b".") && !marks_nested;
            !bootstrap && !hidden
        });
    while let Some(entry) = walker.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                // A folder that cannot be listed is no problem inside another repository.
                let inside = e.path().and_then(Path::parent).filter(|p| *p != root);
                if !inside.is_some_and(nested_repository) {
                    problems.push(Problem::error(
                        Code::Io,
                        format!("cannot read the tree: {e}"),
                    ));
                }
                continue;
            }
        };
        if entry.depth() > 1 && entry.file_name() == ".git" {
            // Leave `.git` (when it is a folder, it is the one just entered), then the
            // folder that holds it, which is forgotten.
            if entry.file_type().is_dir() && !entry.path_is_symlink() {
                walker.skip_current_dir();
            }
            walker.skip_current_dir();
            if let Some(folder) = entry.path().parent() {
                out.dirs.remove(folder);
                if let Ok(rel) = folder.strip_prefix(root) {
                    out.repositories.push(format!("{}/", rel.to_string_lossy()));
                }
            }
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(root) else {
            continue;
        };
        let rel = rel.to_string_lossy().into_owned();
        let kind = entry.file_type();
        if entry.path_is_symlink() {
            problems.push(in_the_way(&rel, "a symbolic link"));
        } else if kind.is_dir() {
            out.dirs.insert(entry.into_path());
        } else if kind.is_file() {
            // The folder's device: a file mounted over this one is another file, and is
            // only ever read the careful way.
            let ino = entry.ino();
            out.files.insert(rel, Ok(Listed { dev, ino }));
        } else {
            let p = in_the_way(&rel, "a special file (FIFO, socket or device)");
            out.files.insert(rel, Err(p));
        }
    }
}

/// Whether the file the walk listed at `rel` holds exactly `text`: opened without following
/// a link and without blocking, checked to be the file the walk saw (device and inode) and a
/// regular file of `text`'s size, then read into a buffer each thread keeps (comparing a tree
/// allocates nothing per file). Anything else — another size, another file, an error — is
/// `false`, and the plan reads the file again the careful way ([`read_regular`]), to say why.
pub(super) fn holds(scan: &Scan, rel: &str, text: &str) -> bool {
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let Some(Ok(listed)) = scan.files.get(rel) else {
        return false;
    };
    let Some(path) = join(&scan.root, rel) else {
        return false;
    };
    let Ok(file) = open_no_follow(&path) else {
        return false;
    };
    let Ok(meta) = file.metadata() else {
        return false;
    };
    let size = text.len();
    if !meta.is_file()
        || (meta.dev(), meta.ino()) != (listed.dev, listed.ino)
        || meta.len() != size as u64
    {
        return false;
    }
    BUFFER.with_borrow_mut(|bytes| {
        // As many bytes as the file has (one read, as a rule): its end is known from its size.
        bytes.resize(size, 0);
        let mut filled = 0;
        while filled < size {
            match (&file).read(&mut bytes[filled..]) {
                Ok(0) | Err(_) => return false,
                Ok(n) => filled += n,
            }
        }
        bytes.as_slice() == text.as_bytes()
    })
}

/// Checks that every folder above `rel` is a plain folder (or missing): never a symbolic
/// link, never a file where a folder must be. `Ok(false)` when one is missing.
pub(super) fn check_folders(root: &Path, rel: &str, known: &mut Folders) -> Result<bool, Problem> {
    let mut dir = root.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for (i, part) in parts[..parts.len().saturating_sub(1)].iter().enumerate() {
        dir.push(part);
        if known.plain.contains(&dir) {
            continue;
        }
        if known.missing.contains(&dir) {
            return Ok(false);
        }
        let here = parts[..=i].join("/");
        match fs::symlink_metadata(&dir) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(in_the_way(&here, "a symbolic link"));
            }
            Ok(m) if !m.is_dir() => return Err(in_the_way(&here, "a file where a folder must be")),
            Ok(_) => {}
            // Missing: created when written, and nothing below it exists.
            Err(_) => {
                known.missing.insert(dir);
                return Ok(false);
            }
        }
        known.plain.insert(dir.clone());
    }
    Ok(true)
}

/// Folders [`check_folders`] has seen during one plan.
pub(super) struct Folders {
    /// Plain folders (walked, or checked on the way).
    pub(super) plain: HashSet<PathBuf>,
    /// Folders found missing: nothing below them exists either.
    pub(super) missing: HashSet<PathBuf>,
}
