//! `synctl validate`: every problem of the spec in one run, sorted by position.

use crate::cli::{Failure, Global, check_spec, print_stdout, report};
use crate::diag::Format;

/// Checks the spec; exit 1 when any error is found.
///
/// # Errors
/// [`Failure::Invalid`] on errors, [`Failure::Usage`] when the spec cannot be read.
pub fn run(g: &Global, format: Format) -> Result<(), Failure> {
    let checked = check_spec(g)?;
    report(g, &checked, format);
    if checked.has_errors() {
        std::mem::forget(checked);
        return Err(Failure::Invalid);
    }
    if !g.quiet
        && format == Format::Human
        && let Some((fleet, _)) = &checked.fleet
    {
        {
            print_stdout(&format!(
                "{}: valid ({} clusters, {} waves, {} components, {} tenants)\n",
                checked.source.name,
                fleet.clusters.len(),
                fleet.waves.len(),
                fleet.components.len(),
                fleet.tenants.len()
            ));
        }
    }
    // A large spec's model is freed by the process exit, not piece by piece.
    std::mem::forget(checked);
    Ok(())
}
