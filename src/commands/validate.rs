//! `synctl validate`: every problem of the spec in one run, sorted by position; when the
//! generated tree exists, also drift and hand-edited generated files.

use super::{Failure, Global, report, status};
use crate::diag::{self, Format, Problem};
use crate::output;
use crate::pipeline::{self, Stop};

/// Flags of `validate`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Args {
    /// Output format of the problems
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// The folder of templates `generate` is run with, so that its tree is not drift
    #[arg(long, value_name = "DIR")]
    pub templates: Option<std::path::PathBuf>,
    /// Read the up-to-date tree back as Flux and Argo CD will and run `synctl check`'s proofs
    /// on it, in process (default: up to 20,000 component placements; `--no-prove` never)
    #[arg(long, overrides_with = "no_prove")]
    pub prove: bool,
    /// Never read the tree back (see `--prove`)
    #[arg(long)]
    pub no_prove: bool,
}

/// Checks the spec (and the tree); exit 1 when any error is found.
///
/// # Errors
/// [`Failure::Invalid`] on errors, [`Failure::Usage`] when the spec cannot be read.
pub(crate) fn run(g: &Global, args: &Args) -> Result<(), Failure> {
    let format = args.format;
    let root = g.out_root();
    let tree_exists = output::ROOTS.iter().any(|d| root.join(d).is_dir());
    // The tree is walked while the spec is checked, and each file compared as it is rendered.
    let prefetched = tree_exists.then(|| output::prefetch(&root));
    let mut checked = g.check()?;
    // With the tree, or with templates of the team's own (what they write is checked as it
    // is rendered), the spec is compiled too.
    let templates = args.templates.as_deref();
    if !checked.has_errors() && (prefetched.is_some() || templates.is_some()) {
        let scanned = prefetched.map(output::Prefetch::join);
        let walk = scanned.as_ref().and_then(|s| s.as_ref().ok());
        match pipeline::compile(checked, templates, &g.spec_label(), walk) {
            Ok(compiled) => {
                checked = compiled.checked;
                if let Some(scanned) = scanned {
                    checked.problems.extend(tree_problems(
                        scanned,
                        &root,
                        &compiled.wanted,
                        &compiled.spec_label,
                    ));
                }
            }
            Err(Stop::Io(e)) => return Err(Failure::Usage(e)),
            Err(Stop::Invalid { source, problems }) => {
                report(g, &source, &problems, format);
                return Err(Failure::Invalid);
            }
        }
        diag::sort(&mut checked.problems);
    }
    // The tree as the controllers will read it, once it is what the spec compiles to.
    let fleet = checked.fleet.as_ref().map(|f| &*f.0);
    let asked = super::check::proving(g, args.prove, args.no_prove, fleet);
    let proven = if tree_exists && asked && !checked.has_errors() {
        super::check::prove_written(g)?
    } else {
        Vec::new()
    };
    if format != Format::Human {
        checked.problems.extend(super::check::as_problems(&proven));
    }
    report(g, &checked.source, &checked.problems, format);
    if format == Format::Human {
        super::check::render(g, &proven.iter().collect::<Vec<_>>());
    }
    let failed = proven
        .iter()
        .any(|f| f.problem.severity == diag::Severity::Error);
    if checked.has_errors() || failed {
        std::mem::forget(checked);
        return Err(Failure::Invalid);
    }
    if format == Format::Human
        && let Some((fleet, _)) = &checked.fleet
    {
        status(
            g,
            &format!(
                "{}: valid ({} clusters, {} waves, {} components, {} tenants){}\n",
                checked.source.name,
                fleet.clusters.len(),
                fleet.waves.len(),
                fleet.components.len(),
                fleet.tenants.len(),
                if tree_exists {
                    "; the tree is up to date"
                } else {
                    ""
                }
            ),
        );
    }
    // A large spec's model is freed by the process exit, not piece by piece.
    std::mem::forget(checked);
    Ok(())
}

/// Drift and hand edits of the tree on disk.
fn tree_problems(
    scanned: output::Scanned,
    root: &std::path::Path,
    wanted: &std::collections::BTreeMap<String, output::Wanted>,
    spec: &str,
) -> Vec<Problem> {
    let _t = crate::timing::stage("plan");
    let refusals = match output::plan(Some(scanned), root, wanted, spec, false) {
        Ok(plan) => return plan.drift(),
        Err(problems) => problems,
    };
    // Hand edits and user files are reported as such; the rest of the drift too.
    let mut out = refusals;
    if let Ok(plan) = output::plan(None, root, wanted, spec, true) {
        let seen: Vec<String> = out.iter().filter_map(|p| p.path.clone()).collect();
        out.extend(
            plan.drift()
                .into_iter()
                .filter(|p| !p.path.as_ref().is_some_and(|x| seen.contains(x))),
        );
    }
    out
}
