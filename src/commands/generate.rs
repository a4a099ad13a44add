//! `synctl generate` (write the tree), `generate --check` (CI: exit 1 on drift) and
//! `synctl diff` (what would change, and its blast radius).

use std::path::PathBuf;

use super::review::DiffFormat;
use super::{Failure, Global, print_stderr, print_stdout, report, status};
use crate::diag::Format;
use crate::pipeline::{self, Compiled};

/// Flags of `generate`.
#[derive(Debug, Clone, Default, clap::Args)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent command-line switches"
)]
pub(crate) struct Args {
    /// Write nothing; exit 1 and list the files that differ (CI)
    #[arg(long)]
    pub check: bool,
    /// Overwrite generated files that were edited by hand
    #[arg(long)]
    pub force: bool,
    /// A folder of templates overriding the built-in ones (same names)
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Commit the generated files and the spec (libgit2)
    #[arg(long)]
    pub commit: bool,
    /// Print every generated file to stdout as one YAML stream (each document headed by its
    /// path) and write nothing, as Flux's `--export` does; the same as `-o -`
    #[arg(long, conflicts_with_all = ["check", "commit", "force"])]
    pub export: bool,
    /// Commit message subject (with --commit)
    #[arg(short = 'm', long = "message", requires = "commit")]
    pub message: Option<String>,
    /// Commit author as "Name <email>" (default: git config)
    #[arg(long, requires = "commit")]
    pub author: Option<String>,
    /// Read the written tree back as Flux and Argo CD will and run `synctl check`'s proofs
    /// on it, in process (default: up to 20,000 component placements; `--no-prove` never)
    #[arg(long, overrides_with = "no_prove")]
    pub prove: bool,
    /// Never read the tree back (see `--prove`)
    #[arg(long)]
    pub no_prove: bool,
}

/// Flags of `diff`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DiffArgs {
    /// A folder of templates overriding the built-in ones (same names)
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Exit 1 when generate would change something, 0 when not (as `git diff --exit-code`)
    #[arg(long)]
    pub exit_code: bool,
    /// text: unified diffs, then the blast radius; json: `{files: [{path, change, diff}], added,
    /// changed, removed, clusters, waves}`; with `--base`, the objects each cluster receives
    /// differently, and `markdown` for a pull-request comment (docs/formats.md)
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// Compare with the spec at this Git ref (a branch, tag or commit; read from the
    /// repository, not the work tree): per cluster, the objects added, removed and changed
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
}

/// Checks, lays out and renders the spec named by the flags.
///
/// # Errors
/// [`Failure::Invalid`] on any error (printed), [`Failure::Usage`] on I/O or template errors.
pub(crate) fn compile(
    g: &Global,
    templates: Option<&std::path::Path>,
) -> Result<Compiled, Failure> {
    let checked = g.check()?;
    pipeline::compile(checked, templates, &g.spec_label(), None).map_err(|stop| g.fail(stop))
}

/// `synctl generate [--check] [--force]`.
///
/// # Errors
/// See [`compile`] and [`plan`]; with `check`, [`Failure::Invalid`] when files differ.
pub(crate) fn run(g: &Global, opts: &Args) -> Result<(), Failure> {
    if g.exporting() || opts.export {
        return export(g, opts);
    }
    let (check, force, templates) = (opts.check, opts.force, opts.templates.as_deref());
    // One writer at a time: a second run waits here, before it reads the tree.
    let _lock = if check {
        None
    } else {
        Some(crate::output::lock(&g.out_root()).map_err(Failure::Usage)?)
    };
    // The tree is walked while the spec is checked (under the lock: no other synctl writes
    // it), and each file compared with the disk as it is rendered.
    let prefetched = crate::output::prefetch(&g.out_root());
    let checked = g.check()?;
    let scanned = prefetched.join();
    let compiled = pipeline::compile(checked, templates, &g.spec_label(), scanned.as_ref().ok())
        .map_err(|stop| g.fail(stop))?;
    // Everything that could stop the commit is checked before anything is written.
    let target = if opts.commit && !check {
        Some(crate::git::prepare(&g.out_root(), opts.author.as_deref()).map_err(Failure::Usage)?)
    } else {
        None
    };
    let plan = compiled
        .plan_scanned(Some(scanned), &g.out_root(), force || check)
        .map_err(|stop| g.fail(stop))?;
    if check {
        if plan.is_empty() {
            status(
                g,
                &format!("up to date: {} generated files\n", plan.unchanged),
            );
            prove(g, (opts.prove, opts.no_prove), &compiled)?;
            std::mem::forget(plan);
            std::mem::forget(compiled);
            return Ok(());
        }
        report(g, &compiled.checked.source, &plan.drift(), Format::Human);
        print_stderr(
            "the tree is not what the spec compiles to: run `synctl generate` and commit the result\n",
        );
        return Err(Failure::Invalid);
    }
    let bar = progress(g, plan.add.len() + plan.change.len());
    let written = pipeline::write(&g.out_root(), &plan, bar.as_ref());
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    written.map_err(|stop| g.fail(stop))?;
    editor_schema(g)?;
    // A tree that fails a proof is written (the files show the problem) but not committed.
    prove(g, (opts.prove, opts.no_prove), &compiled)?;
    if let Some(target) = &target {
        let subject = opts
            .message
            .clone()
            .unwrap_or_else(|| format!("synctl: generate from {}", g.spec_label()));
        return commit(g, &compiled, target, &subject);
    }
    status(
        g,
        &format!(
            "{} added, {} changed, {} removed, {} unchanged\n",
            plan.add.len(),
            plan.change.len(),
            plan.remove.len(),
            plan.unchanged
        ),
    );
    // Steps left to do by hand are output, not status.
    print_stdout(&platform_account_steps(&plan));
    // A large tree is freed by the process exit, not piece by piece.
    std::mem::forget(plan);
    std::mem::forget(compiled);
    Ok(())
}

/// `generate --export` / `-o -`: the compiled tree on stdout, one YAML stream in path order,
/// nothing written.
fn export(g: &Global, opts: &Args) -> Result<(), Failure> {
    if opts.check || opts.commit {
        return Err(Failure::Usage(
            "-o - prints the generated objects; it writes, checks and commits nothing".to_owned(),
        ));
    }
    let compiled = compile(g, opts.templates.as_deref())?;
    let mut out = String::new();
    for (path, wanted) in &compiled.wanted {
        let Some(text) = wanted.text() else { continue };
        if !out.is_empty() {
            out.push_str("---\n");
        }
        out.push_str(&format!("# Source: {path}\n"));
        // A file of several documents stays one stream: its own separators are kept.
        out.push_str(text.trim_end_matches('\n'));
        out.push('\n');
    }
    print_stdout(&out);
    Ok(())
}

/// The editor schema `init` wrote beside the spec (`fleet.schema.json`, the one the spec's
/// modeline names), brought up to this synctl's schema; `None` when there is none, or when the
/// file there is not synctl's (another `$id`: a person's file is left alone).
///
/// # Errors
/// [`Failure::Usage`] when it cannot be written.
pub(crate) fn editor_schema(g: &Global) -> Result<Option<PathBuf>, Failure> {
    let path = match g.file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join("fleet.schema.json"),
        _ => PathBuf::from("fleet.schema.json"),
    };
    let Some(text) = crate::folders::read_plain(&path) else {
        return Ok(None);
    };
    let id = |t: &str| {
        serde_json::from_str::<serde_json::Value>(t)
            .ok()
            .and_then(|v| v.get("$id").and_then(|i| i.as_str()).map(str::to_owned))
    };
    let ours = id(crate::spec::schema::SCHEMA);
    if ours.is_none() || id(&text) != ours {
        return Ok(None);
    }
    if text != crate::spec::schema::SCHEMA {
        super::add_env::edit::write_spec(&path, crate::spec::schema::SCHEMA)?;
    }
    Ok(Some(path))
}

/// The written tree read back and proven in process (`synctl check`'s proofs) when asked or
/// by default (up to 20,000 component placements); exit 1 on an error, the findings shown
/// under their files' YAML (`generate`, and `promote` and `retire` before they commit).
///
/// # Errors
/// [`Failure::Invalid`] when a proof fails.
pub(crate) fn prove(
    g: &Global,
    (prove, no_prove): (bool, bool),
    compiled: &Compiled,
) -> Result<(), Failure> {
    let fleet = compiled.checked.fleet.as_ref().map(|f| &*f.0);
    if !super::check::proving(g, prove, no_prove, fleet) {
        return Ok(());
    }
    let found = super::check::prove_written(g)?;
    super::check::render(g, &found.iter().collect::<Vec<_>>());
    if found
        .iter()
        .any(|f| f.problem.severity == crate::diag::Severity::Error)
    {
        print_stderr(
            "the tree fails a proof as Flux or Argo CD will read it: fix the spec or the folders it names (`synctl check` shows each cluster's plan)\n",
        );
        return Err(Failure::Invalid);
    }
    Ok(())
}

/// A progress bar over `writes` files, only where someone watches a long write: stderr is a
/// terminal.
fn progress(g: &Global, writes: usize) -> Option<indicatif::ProgressBar> {
    let watched = !g.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
    (writes >= 500 && watched).then(|| {
        let bar = indicatif::ProgressBar::new(writes as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} writing {pos}/{len} files {wide_bar} {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    })
}

/// When a fleet cluster's `hub/<C>.yaml` gains the `synctl-platform` account (the hub became
/// locked, or the cluster is new), the binding synctl cannot make on the cluster itself.
fn platform_account_steps(plan: &crate::output::Plan) -> String {
    const MARK: &str = "kind: ServiceAccount\nmetadata:\n  name: synctl-platform\n";
    let gained = plan
        .add
        .iter()
        .map(|(p, new)| (p, "", *new))
        .chain(
            plan.change
                .iter()
                .map(|(p, (old, new))| (p, old.as_str(), *new)),
        )
        .filter(|(p, old, new)| p.starts_with("hub/") && new.contains(MARK) && !old.contains(MARK))
        .filter_map(|(p, _, _)| p.strip_prefix("hub/")?.strip_suffix(".yaml"));
    let mut out = String::new();
    for c in gained {
        out.push_str(&format!(
            "\n`{c}` now runs as `synctl-platform` (the hub is locked for tenants); create it on `{c}`:\n  kubectl --context {c} create namespace {c}\n  kubectl --context {c} -n {c} create serviceaccount synctl-platform\n  kubectl --context {c} create clusterrolebinding synctl-platform-{c} --clusterrole=cluster-admin --serviceaccount={c}:synctl-platform\n"
        ));
    }
    out
}

/// Commits the tree just written and prints what the commit holds.
///
/// # Errors
/// [`Failure::Usage`] on a git error.
pub(crate) fn commit(
    g: &Global,
    compiled: &Compiled,
    target: &crate::git::Target,
    subject: &str,
) -> Result<(), Failure> {
    let root = g.out_root();
    let generated = compiled.paths();
    let prefix = target.rel(&root).map_err(Failure::Usage)?;
    // The spec, and the editor schema beside it when synctl wrote it (kept current).
    let schema = editor_schema(g)?;
    let mut specs = vec![g.file.as_path()];
    specs.extend(schema.as_deref());
    let describe = |c: &crate::git::Committed| {
        let all: Vec<&str> = c
            .added
            .iter()
            .chain(&c.changed)
            .chain(&c.removed)
            .map(|p| {
                if prefix.is_empty() {
                    p.as_str()
                } else {
                    p.strip_prefix(&format!("{prefix}/")).unwrap_or(p)
                }
            })
            .collect();
        let (clusters, waves) = compiled.blast_radius(all);
        let mut body = format!(
            "Clusters touched: {}\nWaves touched: {}\n",
            list_or_none(&clusters),
            list_or_none(&waves)
        );
        for (title, list) in [
            ("Added", &c.added),
            ("Changed", &c.changed),
            ("Removed", &c.removed),
        ] {
            if !list.is_empty() {
                body.push_str(&format!("\n{title} ({}):\n", list.len()));
                for p in list {
                    body.push_str(&format!("  {p}\n"));
                }
            }
        }
        body
    };
    let done = target
        .commit(
            &root,
            &generated,
            &|rel: &str, content: &[u8]| crate::output::owns(content, &compiled.spec_label, rel),
            &specs,
            subject,
            &describe,
        )
        .map_err(Failure::Usage)?;
    match &done.id {
        Some(id) => status(
            g,
            &format!(
                "committed {}: {} added, {} changed, {} removed\n",
                &id[..12.min(id.len())],
                done.added.len(),
                done.changed.len(),
                done.removed.len()
            ),
        ),
        None => status(
            g,
            "nothing to commit: the tree and the spec are already committed\n",
        ),
    }
    Ok(())
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// `synctl diff`: unified diffs of what `generate` would change, then the blast radius.
///
/// # Errors
/// See [`compile`].
pub(crate) fn diff(g: &Global, args: &DiffArgs) -> Result<(), Failure> {
    if let Some(base) = &args.base {
        return super::review::run(g, args, base);
    }
    if args.format == DiffFormat::Markdown {
        return Err(Failure::Usage(
            "--format markdown reports objects per cluster: it needs --base REF".to_owned(),
        ));
    }
    let compiled = compile(g, args.templates.as_deref())?;
    let plan = compiled
        .plan(&g.out_root(), true)
        .map_err(|stop| g.fail(stop))?;
    // Each file's change as a unified diff, its path from the current folder (as every path
    // synctl prints), so `git apply` takes it from where the command ran.
    let prefix = g.printed_prefix();
    let udiff = |p: &str, old: Option<&str>, new: Option<&str>| {
        let side = |tag: &str, text: Option<&str>| {
            text.map_or_else(|| "/dev/null".to_owned(), |_| format!("{tag}/{prefix}{p}"))
        };
        similar::TextDiff::from_lines(old.unwrap_or(""), new.unwrap_or(""))
            .unified_diff()
            .context_radius(3)
            .header(&side("a", old), &side("b", new))
            .to_string()
    };
    let mut changes: Vec<(String, &str, String)> = Vec::new();
    for (p, new) in &plan.add {
        changes.push((format!("{prefix}{p}"), "added", udiff(p, None, Some(new))));
    }
    for (p, (old, new)) in &plan.change {
        changes.push((
            format!("{prefix}{p}"),
            "changed",
            udiff(p, Some(old), Some(new)),
        ));
    }
    for (p, old) in &plan.remove {
        changes.push((format!("{prefix}{p}"), "removed", udiff(p, Some(old), None)));
    }
    let (clusters, waves) = compiled.blast_radius(plan.paths());
    if args.format == DiffFormat::Json {
        let files: Vec<serde_json::Value> = changes
            .iter()
            .map(|(path, change, diff)| serde_json::json!({"path": path, "change": change, "diff": diff}))
            .collect();
        let doc = serde_json::json!({
            "files": files, "added": plan.add.len(), "changed": plan.change.len(),
            "removed": plan.remove.len(), "clusters": clusters, "waves": waves,
        });
        print_stdout(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        ));
        if args.exit_code && !plan.is_empty() {
            return Err(Failure::Invalid);
        }
        return Ok(());
    }
    let mut out: String = changes.iter().map(|(_, _, diff)| diff.as_str()).collect();
    out.push_str(&format!(
        "\n{} added, {} changed, {} removed; clusters touched: {}; waves touched: {}\n",
        plan.add.len(),
        plan.change.len(),
        plan.remove.len(),
        list_or_none(&clusters),
        list_or_none(&waves),
    ));
    // Files of the tree may hold anything (a hand-edited file, a person's file): never print
    // their escape sequences raw.
    print_stdout(&crate::term::escape_controls(&out));
    if args.exit_code && !plan.is_empty() {
        return Err(Failure::Invalid);
    }
    Ok(())
}
