//! Spec loading: read the file once, parse it into nodes with spans, check it against the
//! JSON Schema, and deserialize the raw serde mirror.

pub(crate) mod de;
pub(crate) mod raw;
mod repair;
pub mod schema;
mod schema_messages;
mod schema_node;
pub mod source;
pub(crate) mod yaml;

use std::path::Path;

use crate::diag::{Code, Problem};
use source::{ReadError, Source};
use yaml::Node;

/// From this size on (bytes), the schema check runs on its own thread beside the typed read.
const PARALLEL_FROM: usize = 256 * 1024;

/// A spec that parsed and was read into the raw mirror: it matches the schema, or its
/// violations could be cut out of a copy (`schema` holds them, and the later stages' problems
/// inside the `quiet` spans are dropped; such a spec is never compiled).
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) source: Source,
    pub(crate) root: Node,
    pub(crate) raw: raw::Fleet,
    pub(crate) schema: Vec<Problem>,
    pub(crate) quiet: Vec<source::Span>,
}

/// Why a spec did not load.
#[derive(Debug)]
pub(crate) enum LoadError {
    /// Could not read the file (exit 2).
    Io(String),
    /// The spec is invalid: YAML or schema problems (exit 1).
    Invalid(Source, Vec<Problem>),
}

/// Reads and checks the spec at `path`; `name` is how diagnostics call it.
///
/// # Errors
/// See [`LoadError`].
pub(crate) fn load(path: &Path, name: &str) -> Result<Loaded, LoadError> {
    let source = match source::read(path, name) {
        Ok(s) => s,
        Err(ReadError::Io(e)) => return Err(LoadError::Io(format!("cannot read `{name}`: {e}"))),
        Err(ReadError::Invalid(p)) => {
            return Err(LoadError::Invalid(
                Source::new(name, String::new()),
                vec![*p],
            ));
        }
    };
    load_source(source)
}

/// The raw mirror read from the nodes.
fn typed(root: &Node) -> Result<raw::Fleet, de::Error> {
    let _t = crate::timing::stage("typed");
    let mut fleet = de::from_node::<raw::Fleet>(root)?;
    fleet.spec.components = de::items(root.at(["spec", "components"]))?;
    Ok(fleet)
}

/// Checks a spec already in memory.
///
/// # Errors
/// See [`LoadError`].
pub(crate) fn load_source(source: Source) -> Result<Loaded, LoadError> {
    let t = crate::timing::stage("parse");
    let root = match yaml::parse(&source) {
        Ok(root) => root,
        Err(problems) => return Err(LoadError::Invalid(source, problems)),
    };
    drop(t);
    // The schema check and the typed read both only read the nodes: a large spec has them run
    // side by side (the typed value is dropped when the schema finds a problem); a small one
    // is done before a thread would have started.
    let schema = || {
        let _t = crate::timing::stage("schema");
        schema::check(&root)
    };
    let (found, read) = if source.text.len() < PARALLEL_FROM {
        (schema(), typed(&root))
    } else {
        crate::par::beside(schema, || typed(&root))
    };
    if !found.problems.is_empty() {
        // Read what can be read without the violations, for the later stages' problems.
        let cut = found
            .cuts
            .as_deref()
            .and_then(|cuts| repair::apply(&root, cuts));
        return match cut.and_then(|(copy, quiet)| Some((typed(&copy).ok()?, quiet))) {
            Some((raw, quiet)) => Ok(Loaded {
                source,
                root,
                raw,
                schema: found.problems,
                quiet,
            }),
            None => Err(LoadError::Invalid(source, found.problems)),
        };
    }
    match read {
        Ok(raw) => Ok(Loaded {
            source,
            root,
            raw,
            schema: Vec::new(),
            quiet: Vec::new(),
        }),
        Err(e) => {
            let problem = Problem::error(
                Code::Internal,
                format!(
                    "the spec passed the schema but not the model ({e}): this is a bug in synctl"
                ),
            )
            .at(e.span, "here");
            Err(LoadError::Invalid(source, vec![problem]))
        }
    }
}
