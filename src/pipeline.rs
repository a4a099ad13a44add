//! The front half of every command: load the spec, build the model and the graph, run the
//! checks. Returns everything found, errors and warnings, sorted by position.

use std::path::Path;

use crate::check;
use crate::diag::{self, Problem};
use crate::graph::Graph;
use crate::model::{self, Fleet};
use crate::spec::{self, LoadError, source::Source};

/// A spec that was read, with what the checks found.
#[derive(Debug)]
pub struct Checked {
    pub source: Source,
    /// The model and graph, when the spec got far enough to build them.
    pub fleet: Option<(Fleet, Graph)>,
    pub problems: Vec<Problem>,
}

impl Checked {
    /// Whether any problem is an error.
    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }
}

/// Loads and checks the spec at `path`. `name` is how diagnostics call the file; `out_root`
/// is where `path:` components are looked up.
///
/// # Errors
/// Only when the file cannot be read at all (exit 2).
pub fn check_file(path: &Path, name: &str, out_root: Option<&Path>) -> Result<Checked, String> {
    finish(spec::load(path, name), out_root)
}

/// Checks a spec held in memory (used by `add-env` before anything is written).
///
/// # Errors
/// Never for in-memory text; kept for symmetry with [`check_file`].
pub fn check_text(name: &str, text: String, out_root: Option<&Path>) -> Result<Checked, String> {
    finish(spec::load_source(Source::new(name, text)), out_root)
}

/// Checks what loading gave: the model's rules when it loaded, its problems when not.
fn finish(
    loaded: Result<spec::Loaded, LoadError>,
    out_root: Option<&Path>,
) -> Result<Checked, String> {
    match loaded {
        Ok(loaded) => {
            let checked = check_loaded(&loaded, out_root).with_source(loaded.source.clone());
            // A large spec's nodes are freed by the process exit, not piece by piece.
            std::mem::forget(loaded);
            Ok(checked)
        }
        Err(LoadError::Io(e)) => Err(e),
        Err(LoadError::Invalid(source, mut problems)) => {
            diag::sort(&mut problems);
            Ok(Checked {
                source,
                fleet: None,
                problems,
            })
        }
    }
}

struct Partial {
    fleet: Fleet,
    graph: Graph,
    problems: Vec<Problem>,
}

impl Partial {
    fn with_source(self, source: Source) -> Checked {
        Checked {
            source,
            fleet: Some((self.fleet, self.graph)),
            problems: self.problems,
        }
    }
}

fn check_loaded(loaded: &spec::Loaded, out_root: Option<&Path>) -> Partial {
    let (fleet, mut problems) = model::build(loaded);
    let graph = Graph::build(&fleet);
    problems.extend(check::check(&fleet, &graph, &loaded.root, out_root));
    diag::sort(&mut problems);
    Partial {
        fleet,
        graph,
        problems,
    }
}
