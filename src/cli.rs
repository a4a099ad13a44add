//! The command line: clap definitions, the common flags, and exit codes
//! (0 success, 1 validation failure or drift, 2 usage or I/O error).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::commands;
use crate::diag::{self, Format};
use crate::pipeline::Checked;

/// synctl compiles a fleet spec into the tree Flux CD and Argo CD reconcile.
#[derive(Debug, Parser)]
#[command(name = "synctl", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
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

impl Global {
    /// The output root: `-o`, or the folder of the spec.
    #[must_use]
    pub fn out_root(&self) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| match self.file.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            })
    }

    /// How the spec is named in diagnostics: the path as given.
    #[must_use]
    pub fn spec_name(&self) -> String {
        self.file.display().to_string()
    }

    fn color_on(&self) -> bool {
        match self.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Text,
    Mermaid,
    Dot,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the spec (and, when it exists, the generated tree); exit 1 on problems
    Validate {
        /// Output format of the problems
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Compile the spec into hub/, deploy/, platform/ and fleet/
    Generate {
        /// Write nothing; exit 1 and list the files that differ (CI)
        #[arg(long)]
        check: bool,
        /// Overwrite generated files that were edited by hand
        #[arg(long)]
        force: bool,
        /// A folder of templates overriding the built-in ones (same names)
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
        /// Commit the generated files and the spec (libgit2)
        #[arg(long)]
        commit: bool,
        /// Commit message subject (with --commit)
        #[arg(short = 'm', long = "message", requires = "commit")]
        message: Option<String>,
        /// Commit author as "Name <email>" (default: git config)
        #[arg(long, requires = "commit")]
        author: Option<String>,
    },
    /// Add a fleet cluster to the spec, generate its files, commit, and print the manual steps
    AddEnv {
        /// The new cluster's name (a DNS-1123 label)
        name: String,
        /// Its environment (overlay folder fleet/ENV); default: like --like, else the name
        #[arg(long)]
        environment: Option<String>,
        /// The branch it tracks (default: the repository's)
        #[arg(long)]
        branch: Option<String>,
        /// The kubeconfig Secret on the hub (default: NAME-kubeconfig)
        #[arg(long, value_name = "SECRET")]
        kubeconfig_secret: Option<String>,
        /// A label, k=v (repeatable)
        #[arg(long = "label", value_name = "K=V", value_parser = commands::add_env::key_value)]
        labels: Vec<(String, String)>,
        /// A substitution variable, K=V (repeatable)
        #[arg(long = "var", value_name = "K=V", value_parser = commands::add_env::key_value)]
        vars: Vec<(String, String)>,
        /// Give the new cluster everything CLUSTER has (its environment, labels, vars, lists)
        #[arg(long, value_name = "CLUSTER")]
        like: Option<String>,
        /// Write and generate, but do not commit
        #[arg(long)]
        no_commit: bool,
    },
    /// Show what generate would change, as a unified diff, and which clusters and waves it touches
    Diff {
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
    },
    /// Name the spec lines behind a generated file
    Explain {
        /// A generated file, relative to the output root
        path: String,
    },
    /// Print the JSON Schema of the spec
    Schema,
    /// Print the dependency graph of the components, grouped by wave
    Graph {
        #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
        format: GraphFormat,
    },
    /// Write a commented starter fleet.yaml (never overwrites one)
    Init,
    /// Print shell completions
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
}

/// A failed command: what to print and the exit code.
#[derive(Debug)]
pub enum Failure {
    /// Validation failed or the tree drifted (exit 1); already printed.
    Invalid,
    /// Usage or I/O error (exit 2) with its message.
    Usage(String),
}

/// Runs synctl with the process arguments and returns its exit code.
#[must_use]
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Invalid) => ExitCode::from(1),
        Err(Failure::Usage(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<(), Failure> {
    let g = &cli.global;
    match &cli.command {
        Command::Validate { format } => commands::validate::run(g, *format),
        Command::Generate {
            check,
            force,
            templates,
            commit,
            message,
            author,
        } => {
            let opts = commands::generate::Options {
                check: *check,
                force: *force,
                templates: templates.clone(),
                commit: commit.then(|| commands::generate::CommitOptions {
                    message: message.clone(),
                    author: author.clone(),
                }),
            };
            commands::generate::run(g, &opts)
        }
        Command::AddEnv {
            name,
            environment,
            branch,
            kubeconfig_secret,
            labels,
            vars,
            like,
            no_commit,
        } => {
            let a = commands::add_env::AddEnv {
                name: name.clone(),
                environment: environment.clone(),
                branch: branch.clone(),
                kubeconfig_secret: kubeconfig_secret.clone(),
                labels: labels.clone(),
                vars: vars.clone(),
                like: like.clone(),
                no_commit: *no_commit,
            };
            commands::add_env::run(g, &a)
        }
        Command::Diff { templates } => commands::generate::diff(g, templates.as_deref()),
        Command::Explain { path } => commands::explain::run(g, path),
        Command::Schema => {
            print_stdout(crate::spec::schema::SCHEMA);
            Ok(())
        }
        Command::Graph { format } => commands::graph::run(g, *format),
        Command::Init => commands::init::run(g),
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut cmd, "synctl", &mut out);
            print_stdout(&String::from_utf8_lossy(&out));
            Ok(())
        }
    }
}

/// Writes data to stdout, ignoring a closed pipe.
pub fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Loads and checks the spec named by the global flags.
///
/// # Errors
/// An I/O error reading the spec.
pub fn check_spec(g: &Global) -> Result<Checked, Failure> {
    crate::pipeline::check_file(&g.file, &g.spec_name(), Some(&g.out_root()))
        .map_err(Failure::Usage)
}

/// Prints problems in `format` (human: stderr; json: stdout), plus GitHub annotations under
/// `GITHUB_ACTIONS=true`.
pub fn report(g: &Global, checked: &Checked, format: Format) {
    let problems = &checked.problems;
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        print_stdout(&diag::render_github(&checked.source, problems));
    }
    match format {
        Format::Json => print_stdout(&diag::render_json(&checked.source, problems)),
        Format::Human => {
            if !problems.is_empty() {
                eprint!(
                    "{}",
                    diag::render_human(&checked.source, problems, g.color_on())
                );
                let errors = problems.iter().filter(|p| p.is_error()).count();
                let warnings = problems.len() - errors;
                eprintln!(
                    "{}: {errors} error(s), {warnings} warning(s)",
                    checked.source.name
                );
            }
        }
    }
}

/// The spec's path relative to `root` when it lies inside it (for messages and git).
#[must_use]
pub fn relative_to(path: &Path, root: &Path) -> Option<PathBuf> {
    let path = std::fs::canonicalize(path).ok()?;
    let root = std::fs::canonicalize(root).ok()?;
    path.strip_prefix(root).ok().map(Path::to_path_buf)
}
