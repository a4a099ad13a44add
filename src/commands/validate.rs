//! `synctl validate`: every problem of the spec in one run, sorted by position; when the
//! generated tree exists, also drift and hand-edited generated files.

use crate::cli::{Failure, Global, check_spec, print_stdout, report};
use crate::diag::{self, Format, Problem};
use crate::output;
use crate::render::{self, Renderer};

/// Checks the spec (and the tree); exit 1 when any error is found.
///
/// # Errors
/// [`Failure::Invalid`] on errors, [`Failure::Usage`] when the spec cannot be read.
pub fn run(g: &Global, format: Format) -> Result<(), Failure> {
    let mut checked = check_spec(g)?;
    let root = g.out_root();
    let tree_exists = output::ROOTS.iter().any(|d| root.join(d).is_dir());
    if !checked.has_errors()
        && tree_exists
        && let Some((fleet, graph)) = &checked.fleet
    {
        let renderer = Renderer::new(None).map_err(Failure::Usage)?;
        match render::render(fleet, graph, &renderer, &output::hub_listing(&root)) {
            Ok(tree) => {
                let spec = crate::commands::generate::spec_label(g);
                let wanted = output::finish(&tree, &spec);
                checked.problems.extend(tree_problems(&root, &wanted));
            }
            Err(problems) => checked.problems.extend(problems),
        }
        diag::sort(&mut checked.problems);
    }
    report(g, &checked, format);
    if checked.has_errors() {
        std::mem::forget(checked);
        return Err(Failure::Invalid);
    }
    if !g.quiet
        && format == Format::Human
        && let Some((fleet, _)) = &checked.fleet
    {
        print_stdout(&format!(
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
        ));
    }
    // A large spec's model is freed by the process exit, not piece by piece.
    std::mem::forget(checked);
    Ok(())
}

/// Drift and hand edits of the tree on disk.
fn tree_problems(
    root: &std::path::Path,
    wanted: &std::collections::BTreeMap<String, String>,
) -> Vec<Problem> {
    let refusals = match output::plan(root, wanted, false) {
        Ok(plan) => return plan.drift(),
        Err(problems) => problems,
    };
    // Hand edits and user files are reported as such; the rest of the drift too.
    let mut out = refusals;
    if let Ok(plan) = output::plan(root, wanted, true) {
        let seen: Vec<String> = out.iter().filter_map(|p| p.path.clone()).collect();
        out.extend(
            plan.drift()
                .into_iter()
                .filter(|p| !p.path.as_ref().is_some_and(|x| seen.contains(x))),
        );
    }
    out
}
