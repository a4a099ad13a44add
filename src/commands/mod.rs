//! One module per command: each is a clap `Args` struct and a `run` that calls the
//! [`crate::pipeline`] driver and prints. What every command shares — the global flags, the
//! failure type and how problems are printed — lives here, so `cli` depends on the commands
//! and never the other way round.

pub(crate) mod add_env;
pub(crate) mod check;
pub(crate) mod explain;
pub(crate) mod generate;
pub(crate) mod graph;
pub(crate) mod init;
pub(crate) mod promote;
pub(crate) mod retire;
pub(crate) mod review;
pub(crate) mod validate;

use std::path::{Path, PathBuf};

use clap::ValueEnum;

use crate::diag::{self, Format, Problem};
use crate::pipeline::{self, Checked, Stop};
use crate::spec::source::Source;

/// Flags every command takes.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Global {
    /// The fleet spec
    #[arg(
        short = 'f',
        long = "file",
        global = true,
        default_value = "fleet.yaml"
    )]
    pub file: PathBuf,
    /// Root of the generated tree (default: the spec's folder)
    #[arg(short = 'o', long = "out", global = true)]
    pub out: Option<PathBuf>,
    /// Print only problems
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// When to colour diagnostics
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Color {
    Auto,
    Always,
    Never,
}

impl Global {
    /// The output root: `-o`, or the folder of the spec (also for `-o -`, which prints the
    /// objects instead of writing them: the spec's folders are read from there).
    #[must_use]
    pub(crate) fn out_root(&self) -> PathBuf {
        self.out
            .clone()
            .filter(|_| !self.exporting())
            .unwrap_or_else(|| match self.file.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            })
    }

    /// Whether `-o -` asks for the objects on stdout, as Flux's `--export` prints them.
    #[must_use]
    pub(crate) fn exporting(&self) -> bool {
        self.out.as_deref() == Some(Path::new("-"))
    }

    /// What goes before a path of the tree when synctl prints it: the output root from the
    /// current folder (`gitops/`) when the root lies inside it, else nothing (paths stay from
    /// the output root rather than turn absolute).
    #[must_use]
    pub(crate) fn printed_prefix(&self) -> String {
        let prefix = self.tree_prefix();
        if prefix.starts_with('/') || prefix.starts_with("../") || prefix.contains(":/") {
            String::new()
        } else {
            prefix
        }
    }

    /// The output root as seen from the working directory, ending with `/` (empty when it is
    /// the working directory): what generated paths are prefixed with for GitHub.
    #[must_use]
    pub(crate) fn tree_prefix(&self) -> String {
        let root = self.out_root();
        let rel = match std::env::current_dir() {
            Ok(cwd) if root.is_absolute() => root
                .strip_prefix(&cwd)
                .map_or_else(|_| root.clone(), Path::to_path_buf),
            _ => root.clone(),
        };
        let text = rel.to_string_lossy().replace('\\', "/");
        let text = text.trim_start_matches("./").trim_end_matches('/');
        if text.is_empty() || text == "." {
            String::new()
        } else {
            format!("{text}/")
        }
    }

    /// How the spec is named in diagnostics: the path as given.
    #[must_use]
    pub(crate) fn spec_name(&self) -> String {
        self.file.display().to_string()
    }

    /// How generated headers name the spec: relative to the output root when inside it.
    #[must_use]
    pub(crate) fn spec_label(&self) -> String {
        // The folder is resolved, the file name kept as given: a symlinked spec keeps its
        // own name in the headers.
        let dir = match self.file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let named = std::fs::canonicalize(dir)
            .ok()
            .zip(self.file.file_name())
            .map(|(d, n)| d.join(n));
        let root = std::fs::canonicalize(self.out_root()).ok();
        named
            .zip(root)
            .and_then(|(f, r)| f.strip_prefix(r).ok().map(Path::to_path_buf))
            .map_or_else(
                || {
                    self.file
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                },
                |p| p.to_string_lossy().replace('\\', "/"),
            )
    }

    pub(crate) fn color_on(&self) -> bool {
        match self.color {
            Color::Always => true,
            Color::Never => false,
            // anstream's rules, as clap's own help follows them: CLICOLOR_FORCE forces colour
            // even into a pipe; NO_COLOR, CLICOLOR=0 and TERM=dumb turn it off; else a
            // terminal gets it.
            Color::Auto => {
                anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never
            }
        }
    }

    /// Loads and checks the spec named by the flags, and lays out its tree.
    ///
    /// # Errors
    /// An I/O error reading the spec.
    pub(crate) fn check(&self) -> Result<Checked, Failure> {
        pipeline::check_file(&self.file, &self.spec_name(), Some(&self.out_root()))
            .map_err(|stop| self.fail(stop))
    }

    /// Reports why a stage stopped and turns it into the exit code.
    #[must_use]
    pub(crate) fn fail(&self, stop: Stop) -> Failure {
        match stop {
            Stop::Io(msg) => Failure::Usage(msg),
            Stop::Invalid { source, problems } => {
                report(self, &source, &problems, Format::Human);
                Failure::Invalid
            }
        }
    }
}

/// A failed command: what to print and the exit code.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Validation failed or the tree drifted (exit 1); already printed.
    Invalid,
    /// Usage or I/O error (exit 2) with its message.
    Usage(String),
}

/// Writes a status line (what a command did) to stderr, as Flux does: stdout is for data.
/// `--quiet` silences it.
pub(crate) fn status(g: &Global, text: &str) {
    if !g.quiet {
        print_stderr(text);
    }
}

pub(crate) use crate::term::{print_stderr, print_stdout};

/// How a data command prints: for people, or as JSON (docs/formats.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum DataFormat {
    #[default]
    #[value(alias = "human")]
    Text,
    Json,
}

/// Prints problems in `format` (human: stderr; json: stdout), plus GitHub annotations under
/// `GITHUB_ACTIONS=true`.
pub(crate) fn report(g: &Global, source: &Source, problems: &[Problem], format: Format) {
    // GitHub and code scanning place a file by its path from the repository root: the spec as
    // named and a generated file from the current folder (the output root's place in front),
    // seen from there. Found once, and only when annotations or SARIF ask for it.
    let tree = g.tree_prefix();
    let base = std::cell::OnceCell::new();
    let file_of = |p: &Problem| {
        let shown = p
            .path
            .as_deref()
            .map_or_else(|| source.name.clone(), |f| format!("{tree}{f}"));
        match base.get_or_init(repository_base) {
            Some((root, cwd)) => from_root(root, cwd, &shown),
            None => shown,
        }
    };
    let placed = problems;
    // Printed, every path is from the current folder, as the spec's name is: a generated file
    // (held from the output root) gets the output root's place in front.
    let prefix = g.printed_prefix();
    let prefixed: Vec<Problem>;
    let problems = if prefix.is_empty() || problems.iter().all(|p| p.path.is_none()) {
        problems
    } else {
        prefixed = problems
            .iter()
            .map(|p| {
                let mut p = p.clone();
                p.path = p.path.map(|f| format!("{prefix}{f}"));
                p
            })
            .collect();
        &prefixed
    };
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        let annotations = diag::render_github(source, placed, &file_of);
        // stdout carries the machine format alone; the runner reads commands on stderr too.
        if format == Format::Human {
            print_stdout(&annotations);
        } else {
            print_stderr(&annotations);
        }
    }
    match format {
        Format::Json => print_stdout(&diag::render_json(source, problems)),
        Format::Sarif => print_stdout(&diag::render_sarif(source, placed, &file_of)),
        Format::Human => {
            if !problems.is_empty() {
                print_stderr(&diag::render_human(source, problems, g.color_on()));
                let errors = problems.iter().filter(|p| p.is_error()).count();
                let warnings = problems.len() - errors;
                print_stderr(&format!(
                    "{}: {errors} error(s), {warnings} warning(s)\n",
                    source.name
                ));
            }
        }
    }
}

/// The repository root problems are placed from — `GITHUB_WORKSPACE` where set, else the Git
/// work tree around the current folder — and the current folder; both canonical.
fn repository_base() -> Option<(PathBuf, PathBuf)> {
    let cwd = std::env::current_dir()
        .and_then(|c| c.canonicalize())
        .ok()?;
    let root = match std::env::var_os("GITHUB_WORKSPACE").filter(|w| !w.is_empty()) {
        Some(w) => PathBuf::from(w).canonicalize().ok()?,
        None => git2::Repository::discover(&cwd)
            .ok()?
            .workdir()?
            .canonicalize()
            .ok()?,
    };
    Some((root, cwd))
}

/// `shown` (a path from the current folder `cwd`, or absolute) from `root`, with `/`; as shown
/// when it lies outside.
fn from_root(root: &Path, cwd: &Path, shown: &str) -> String {
    let mut abs = PathBuf::new();
    for part in cwd.join(shown).components() {
        match part {
            std::path::Component::ParentDir => {
                abs.pop();
            }
            std::path::Component::CurDir => {}
            other => abs.push(other),
        }
    }
    abs.strip_prefix(root).map_or_else(
        |_| shown.to_owned(),
        |rel| rel.to_string_lossy().replace('\\', "/"),
    )
}
