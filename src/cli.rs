//! The command line: the clap definition (each subcommand's flags are its command's `Args`)
//! and exit codes (0 success, 1 validation failure or drift, 2 usage or I/O error).

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::commands::{
    self, Failure, Global, add_env, check, explain, generate, graph, print_stderr, print_stdout,
    promote, retire, validate,
};

/// synctl compiles a fleet spec into the tree Flux CD and Argo CD reconcile.
#[derive(Debug, Parser)]
#[command(name = "synctl", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check the spec (and, when it exists, the generated tree); exit 1 on problems
    #[command(
        after_help = "Examples:\n  synctl validate                       # ./fleet.yaml and its tree\n  synctl validate -f clusters/fleet.yaml --format json\n  GITHUB_ACTIONS=true synctl validate   # also ::error annotations"
    )]
    Validate(validate::Args),
    /// Compile the spec into hub/, deploy/, platform/ and fleet/
    #[command(
        after_help = "Examples:\n  synctl generate                       # write the tree beside fleet.yaml\n  synctl generate --check               # CI: exit 1 when the committed tree differs\n  synctl generate --commit -m \"platform: bump cert-manager\""
    )]
    Generate(generate::Args),
    /// Add a fleet cluster to the spec, generate its files, commit, and print the manual steps
    #[command(
        after_help = "Examples:\n  synctl add-env staging-2 --like staging --var CLUSTER_DOMAIN=s2.example.com\n  synctl add-env edge --role standalone --bootstrap flux-operator --no-commit\n  synctl add-env qa --like staging --format json   # what it did and the steps left, as JSON"
    )]
    AddEnv(add_env::Args),
    /// Show what generate would change, as a unified diff, and which clusters and waves it touches
    #[command(
        after_help = "Examples:\n  synctl diff                           # review a spec change\n  synctl diff --exit-code               # exit 1 when something would change\n  synctl diff --base origin/main --format markdown   # per cluster, object by object, for a pull request"
    )]
    Diff(generate::DiffArgs),
    /// Make an environment run the chart versions (and values) another runs, as a spec edit
    #[command(
        after_help = "Examples:\n  synctl promote --from staging --to production             # every chart component\n  synctl promote --from staging --to production cert-manager --commit\n  synctl promote --from staging --to production --check     # exit 1 when production is behind"
    )]
    Promote(promote::Args),
    /// Tear a cluster down in stages, one commit each, in the reverse of the order it was built
    #[command(
        after_help = "Examples:\n  synctl retire eu-2 --plan       # every stage left, nothing written\n  synctl retire eu-2 --commit     # the next stage, committed; push, verify, run again"
    )]
    Retire(retire::Args),
    /// Name the spec lines behind a generated file
    #[command(
        after_help = "Examples:\n  synctl explain hub/dev.yaml\n  synctl explain -f examples/cortex/fleet.yaml deploy/controllers/kyverno/release.yaml"
    )]
    Explain(explain::Args),
    /// Read a GitOps tree as Flux reads it: each cluster's plan, proven before merge
    #[command(
        after_help = "Examples:\n  synctl check                          # the tree beside fleet.yaml\n  synctl check ../fleet-infra --entry clusters/production\n  synctl check --source https://github.com/org/apps=../apps --format json"
    )]
    Check(check::Args),
    /// Print the JSON Schema of the spec
    Schema,
    /// Print the dependency graph of the components, grouped by wave
    #[command(
        after_help = "Examples:\n  synctl graph\n  synctl graph --format mermaid > graph.md\n  synctl graph --format dot | dot -Tsvg > graph.svg"
    )]
    Graph(graph::Args),
    /// Write a commented starter fleet.yaml (never overwrites one)
    #[command(
        after_help = "Examples:\n  synctl init                           # ./fleet.yaml and ./fleet.schema.json\n  synctl init -f clusters/fleet.yaml"
    )]
    Init,
    /// Print shell completions
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
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
    let total = crate::timing::stage("total");
    let result = run(&cli);
    crate::repo::settle();
    drop(total);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Invalid) => ExitCode::from(1),
        Err(Failure::Usage(msg)) => {
            print_stderr(&format!("error: {msg}\n"));
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<(), Failure> {
    let g = &cli.global;
    match &cli.command {
        Command::Validate(a) => validate::run(g, a),
        Command::Generate(a) => generate::run(g, a),
        Command::AddEnv(a) => add_env::run(g, a),
        Command::Diff(a) => generate::diff(g, a),
        Command::Promote(a) => promote::run(g, a),
        Command::Retire(a) => retire::run(g, a),
        Command::Explain(a) => explain::run(g, a),
        Command::Check(a) => check::run(g, a),
        Command::Schema => {
            print_stdout(crate::spec::schema::SCHEMA);
            Ok(())
        }
        Command::Graph(a) => graph::run(g, a),
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
