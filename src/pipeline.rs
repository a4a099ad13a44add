//! The driver: load → model → graph → check → layout → render → plan writes → write →
//! commit. Every command runs a prefix of it; each stage takes the previous stage's value and
//! stops with a [`Stop`] (problems to report, or an I/O error) — nothing here prints.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use crate::check;
use crate::diag::{self, Problem};
use crate::graph::Graph;
use crate::layout::Layout;
use crate::model::{self, Fleet};
use crate::output::{self, Plan};
use crate::render::{self, Renderer};
use crate::spec::yaml::Node;
use crate::spec::{self, LoadError, source::Source};

/// Why a stage stopped.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The spec or the tree has errors (exit 1): report them against `source`.
    Invalid {
        source: Source,
        problems: Vec<Problem>,
    },
    /// A file could not be read or written, or git refused (exit 2).
    Io(String),
}

/// A spec that was read, with what the checks found.
#[derive(Debug)]
pub struct Checked {
    pub(crate) source: Source,
    /// The YAML as parsed, with spans, from [`check_text`] (`add-env` edits the spec as text);
    /// [`check_file`] frees it once the model is built.
    pub(crate) root: Option<Node>,
    /// The model and graph, when the spec got far enough to build them.
    pub(crate) fleet: Option<(Arc<Fleet>, Graph)>,
    /// Where every file goes, when the spec had no errors before the layout stage.
    pub layout: Option<Layout>,
    pub problems: Vec<Problem>,
}

impl Checked {
    /// A spec that could not be read into a fleet, and why.
    fn unread(source: Source, mut problems: Vec<Problem>) -> Checked {
        diag::sort(&mut problems);
        Checked {
            source,
            root: None,
            fleet: None,
            layout: None,
            problems,
        }
    }

    /// Whether any problem is an error.
    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }

    /// The checked spec, or its problems when it has errors.
    ///
    /// # Errors
    /// [`Stop::Invalid`] when any problem is an error.
    pub(crate) fn valid(self) -> Result<Checked, Stop> {
        if self.has_errors() || self.fleet.is_none() || self.layout.is_none() {
            return Err(Stop::Invalid {
                source: self.source,
                problems: self.problems,
            });
        }
        Ok(self)
    }
}

/// Loads and checks the spec at `path`, and lays out its tree. `name` is how diagnostics call
/// the file; `out_root` is the repository the tree is written into (for `path:` components
/// and what `hub/kustomization.yaml` must keep listing).
///
/// # Errors
/// Only when the file cannot be read at all.
pub(crate) fn check_file(
    path: &Path,
    name: &str,
    out_root: Option<&Path>,
) -> Result<Checked, Stop> {
    // One thread, started before the spec is read: the schema compiled (wanted as soon as the
    // spec is parsed), then the Git facts of the repository rule.
    if let Some(root) = out_root
        && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
        && crate::folders::leads_outside(path, root).is_some()
    {
        return Err(Stop::Io(format!(
            "`{name}` is a link to a file outside the output root: synctl reads the spec only inside the repository (copy it in, or point -f at it)"
        )));
    }
    if let Some(root) = out_root {
        crate::repo::prefetch_location(root, || {
            let _t = crate::timing::stage("schema-build");
            spec::schema::prepare();
        });
    }
    match spec::load(path, name) {
        Err(LoadError::Io(e)) => Err(Stop::Io(e)),
        loaded => Ok(finish(loaded, out_root, false)),
    }
}

/// Checks a spec held in memory (`add-env` checks its edit before anything is written); the
/// result keeps the parsed nodes.
#[must_use]
pub fn check_text(name: &str, text: String, out_root: Option<&Path>) -> Checked {
    finish(spec::load_source(Source::new(name, text)), out_root, true)
}

/// From this many components and clusters on, the layout is built beside the rules: below,
/// the rules take less time than starting a thread.
const LAY_OUT_BESIDE_FROM: usize = 2_000;

fn finish(
    loaded: Result<spec::Loaded, LoadError>,
    out_root: Option<&Path>,
    keep_root: bool,
) -> Checked {
    let loaded = match loaded {
        Ok(loaded) => loaded,
        Err(LoadError::Io(e)) => {
            let problems = vec![Problem::error(diag::Code::Io, e)];
            return Checked::unread(Source::new("spec", String::new()), problems);
        }
        Err(LoadError::Invalid(source, problems)) => return Checked::unread(source, problems),
    };
    // The nodes are freed before the model is built, and the raw mirror before the layout:
    // what comes next reuses their memory instead of faulting in fresh pages (a
    // 100,000-component spec: 23,000 page faults and ~50 ms fewer). Only `add-env` keeps the
    // nodes, to edit the spec as text.
    let spec::Loaded {
        source,
        root,
        raw,
        schema,
        quiet,
    } = loaded;
    let root = keep_root.then_some(root);
    let t = crate::timing::stage("model");
    let (fleet, mut problems) = build_model(&raw, out_root);
    drop(t);
    let t = crate::timing::stage("free");
    drop(raw);
    drop(t);
    let t = crate::timing::stage("graph");
    let graph = Graph::build(&fleet);
    drop(t);
    let listing = |entry: &str| {
        out_root
            .map(|root| output::bootstrap_listing(root, entry))
            .unwrap_or_default()
    };
    let build_layout = || {
        let _t = crate::timing::stage("layout");
        Layout::build(&fleet, &graph, &listing)
    };
    let rules = || {
        let _t = crate::timing::stage("check");
        check::check(&fleet, &graph, out_root)
    };
    // The layout needs a fleet whose names resolved and do not clash: it is kept only when
    // the rules found no error. A large fleet whose names resolved is laid out beside the rules
    // (unless `SYNCTL_THREADS=1`) and the layout dropped if they fail; any other runs them in
    // turn.
    let names_resolved = !problems.iter().any(Problem::is_error);
    let items = fleet.components.len() + fleet.clusters.len();
    let (rule_problems, early) =
        if names_resolved && items >= LAY_OUT_BESIDE_FROM && crate::par::parallel(items) {
            let (built, found) = crate::par::beside(build_layout, rules);
            (found, Some(built))
        } else {
            (rules(), None)
        };
    problems.extend(rule_problems);
    merge_schema(&mut problems, schema, &quiet);
    let layout = if problems.iter().any(Problem::is_error) {
        None
    } else {
        let mut layout = early.unwrap_or_else(build_layout);
        problems.append(&mut layout.problems);
        Some(layout)
    };
    diag::sort(&mut problems);
    Checked {
        source,
        root,
        fleet: Some((fleet, graph)),
        layout,
        problems,
    }
}

/// The model of `raw`; on a sharded hub, each fleet cluster keeps the shard its committed
/// `hub/<cluster>.yaml` gives it (docs/sharding.md).
fn build_model(raw: &spec::raw::Fleet, out_root: Option<&Path>) -> (Arc<Fleet>, Vec<Problem>) {
    let (mut fleet, problems) = model::build(raw);
    let cluster = |name: &str| out_root.and_then(|root| output::shard_of(root, name));
    let entries = |env: &str| {
        out_root
            .map(|root| output::entry_shards(root, env))
            .unwrap_or_default()
    };
    model::shards::assign(
        &mut fleet,
        &model::shards::Kept {
            cluster: &cluster,
            entries: &entries,
        },
    );
    (Arc::new(fleet), problems)
}

/// Adds the schema's problems of a spec read with its violations cut out
/// (`spec::Loaded::schema`), and drops what the later stages found inside an item a cut left
/// at defaults it did not ask for (`quiet`): that may be the cut's doing.
fn merge_schema(problems: &mut Vec<Problem>, schema: Vec<Problem>, quiet: &[crate::source::Span]) {
    if schema.is_empty() {
        return;
    }
    problems.retain(|p| {
        !p.primary
            .as_ref()
            .is_some_and(|l| quiet.iter().any(|q| q.holds(l.span)))
    });
    problems.extend(schema);
}

/// A valid spec and the files it compiles to, with their headers.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) checked: Checked,
    /// How file headers name the spec.
    pub(crate) spec_label: String,
    /// Path relative to the output root → what synctl writes there.
    pub(crate) wanted: BTreeMap<String, output::Wanted>,
}

/// Renders the layout of a valid spec. `spec_label` is how file headers name the spec; `disk`
/// is the walk of the tree, when there is one to compare each file with as it is rendered.
///
/// # Errors
/// [`Stop::Invalid`] for a spec with errors or problems found while rendering; [`Stop::Io`]
/// for a template that does not load.
pub(crate) fn compile(
    checked: Checked,
    templates: Option<&Path>,
    spec_label: &str,
    disk: Option<&output::Scan>,
) -> Result<Compiled, Stop> {
    let mut checked = checked.valid()?;
    let t = crate::timing::stage("templates");
    let renderer = Renderer::new(templates).map_err(Stop::Io)?;
    drop(t);
    let _t = crate::timing::stage("render");
    let Some(layout) = &checked.layout else {
        return Err(Stop::Io(
            "internal: a valid spec without a layout".to_owned(),
        ));
    };
    let finish = |rel: &str, body: String| output::finish(spec_label, rel, body, disk);
    match render::render_each(&renderer, layout, finish) {
        Ok(wanted) => Ok(Compiled {
            checked,
            spec_label: spec_label.to_owned(),
            wanted,
        }),
        Err(problems) => {
            checked.problems.extend(problems);
            diag::sort(&mut checked.problems);
            Err(Stop::Invalid {
                source: checked.source,
                problems: checked.problems,
            })
        }
    }
}

impl Compiled {
    /// Compares the wanted tree with the disk under `root`.
    ///
    /// # Errors
    /// [`Stop::Invalid`] when a file would be lost (a user file, a hand edit without `force`).
    pub(crate) fn plan(&self, root: &Path, force: bool) -> Result<Plan<'_>, Stop> {
        self.plan_scanned(None, root, force)
    }

    /// [`Compiled::plan`] over the walk `scanned`, when the tree was walked already.
    ///
    /// # Errors
    /// As [`Compiled::plan`].
    pub(crate) fn plan_scanned(
        &self,
        scanned: Option<output::Scanned>,
        root: &Path,
        force: bool,
    ) -> Result<Plan<'_>, Stop> {
        let _t = crate::timing::stage("plan");
        output::plan(scanned, root, &self.wanted, &self.spec_label, force).map_err(
            |mut problems| {
                diag::sort(&mut problems);
                Stop::Invalid {
                    source: self.checked.source.clone(),
                    problems,
                }
            },
        )
    }

    /// The clusters and waves a change to `paths` touches.
    #[must_use]
    pub(crate) fn blast_radius<'a>(
        &self,
        paths: impl IntoIterator<Item = &'a str>,
    ) -> (Vec<String>, Vec<String>) {
        match (&self.checked.fleet, &self.checked.layout) {
            (Some((fleet, _)), Some(layout)) => layout.blast_radius(fleet, paths),
            _ => (Vec::new(), Vec::new()),
        }
    }

    /// The generated paths.
    #[must_use]
    pub(crate) fn paths(&self) -> BTreeSet<String> {
        self.wanted.keys().cloned().collect()
    }
}

/// Writes `plan` under `root`.
///
/// # Errors
/// [`Stop::Io`] on the first file that cannot be written.
pub(crate) fn write(
    root: &Path,
    plan: &Plan,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<(), Stop> {
    let _t = crate::timing::stage("write");
    output::apply(root, plan, progress).map_err(Stop::Io)
}
