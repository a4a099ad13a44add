//! `synctl generate` (write the tree), `generate --check` (CI: exit 1 on drift) and
//! `synctl diff` (what would change, and its blast radius).

use std::collections::BTreeSet;
use std::path::Path;

use crate::cli::{Failure, Global, check_spec, print_stdout, relative_to, report};
use crate::diag::Format;
use crate::output::{self, Plan};
use crate::pipeline::Checked;
use crate::render::{self, Renderer};

/// Everything `generate`, `diff` and `validate` need to compare the spec with the tree.
pub struct Compiled {
    pub checked: Checked,
    pub wanted: std::collections::BTreeMap<String, String>,
}

/// Validates and renders; prints problems and fails when there are errors.
///
/// # Errors
/// [`Failure::Invalid`] on any error, [`Failure::Usage`] on I/O or template errors.
pub fn compile(g: &Global, templates: Option<&Path>) -> Result<Compiled, Failure> {
    let mut checked = check_spec(g)?;
    if checked.has_errors() {
        report(g, &checked, Format::Human);
        return Err(Failure::Invalid);
    }
    let renderer = Renderer::new(templates).map_err(Failure::Usage)?;
    let root = g.out_root();
    let Some((fleet, graph)) = &checked.fleet else {
        return Err(Failure::Invalid);
    };
    match render::render(fleet, graph, &renderer, &output::hub_listing(&root)) {
        Ok(tree) => {
            let spec = spec_label(g);
            let wanted = output::finish(&tree, &spec);
            Ok(Compiled { checked, wanted })
        }
        Err(problems) => {
            checked.problems.extend(problems);
            crate::diag::sort(&mut checked.problems);
            report(g, &checked, Format::Human);
            Err(Failure::Invalid)
        }
    }
}

/// How generated headers name the spec: relative to the output root when inside it.
pub fn spec_label(g: &Global) -> String {
    relative_to(&g.file, &g.out_root())
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_else(|| {
            g.file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
}

/// Plans the write; refusals (user files, hand edits) are printed.
///
/// # Errors
/// [`Failure::Invalid`] when a file would be lost.
pub fn plan(g: &Global, compiled: &Compiled, force: bool) -> Result<Plan, Failure> {
    output::plan(&g.out_root(), &compiled.wanted, force).map_err(|problems| {
        let mut checked_view = Checked {
            source: compiled.checked.source.clone(),
            fleet: None,
            problems,
        };
        crate::diag::sort(&mut checked_view.problems);
        report(g, &checked_view, Format::Human);
        Failure::Invalid
    })
}

/// `synctl generate [--check] [--force]`.
///
/// # Errors
/// See [`compile`] and [`plan`]; with `check`, [`Failure::Invalid`] when files differ.
pub fn run(g: &Global, opts: &Options) -> Result<(), Failure> {
    let (check, force, templates) = (opts.check, opts.force, opts.templates.as_deref());
    let compiled = compile(g, templates)?;
    // Everything that could stop the commit is checked before anything is written.
    let target = match &opts.commit {
        Some(c) if !check => {
            Some(crate::git::prepare(&g.out_root(), c.author.as_deref()).map_err(Failure::Usage)?)
        }
        _ => None,
    };
    let plan = plan(g, &compiled, force || check)?;
    if check {
        if plan.is_empty() {
            if !g.quiet {
                print_stdout(&format!("up to date: {} generated files\n", plan.unchanged));
            }
            return Ok(());
        }
        let problems = plan.drift();
        let view = Checked {
            source: compiled.checked.source.clone(),
            fleet: None,
            problems,
        };
        report(g, &view, Format::Human);
        eprintln!(
            "the tree is not what the spec compiles to: run `synctl generate` and commit the result"
        );
        return Err(Failure::Invalid);
    }
    let writes = plan.add.len() + plan.change.len();
    // A progress bar only where someone watches a long write: stderr is a terminal.
    let bar = (writes >= 500 && !g.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .then(|| {
            let bar = indicatif::ProgressBar::new(writes as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} writing {pos}/{len} files {wide_bar} {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
    let applied = output::apply(&g.out_root(), &plan, bar.as_ref());
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    applied.map_err(Failure::Usage)?;
    if let (Some(target), Some(c)) = (&target, &opts.commit) {
        let subject = c
            .message
            .clone()
            .unwrap_or_else(|| format!("synctl: generate from {}", spec_label(g)));
        return commit(g, &compiled, target, &subject);
    }
    if !g.quiet {
        print_stdout(&format!(
            "{} added, {} changed, {} removed, {} unchanged\n",
            plan.add.len(),
            plan.change.len(),
            plan.remove.len(),
            plan.unchanged
        ));
    }
    Ok(())
}

/// Flags of `generate`.
#[derive(Debug, Default)]
pub struct Options {
    pub check: bool,
    pub force: bool,
    pub templates: Option<std::path::PathBuf>,
    /// `--commit`, with its message and author.
    pub commit: Option<CommitOptions>,
}

/// `--commit [-m MSG] [--author "Name <email>"]`.
#[derive(Debug, Default, Clone)]
pub struct CommitOptions {
    pub message: Option<String>,
    pub author: Option<String>,
}

/// Commits the tree just written and prints what the commit holds.
///
/// # Errors
/// [`Failure::Usage`] on a git error.
pub fn commit(
    g: &Global,
    compiled: &Compiled,
    target: &crate::git::Target,
    subject: &str,
) -> Result<(), Failure> {
    let root = g.out_root();
    let generated: BTreeSet<String> = compiled.wanted.keys().cloned().collect();
    let prefix = target.rel(&root).map_err(Failure::Usage)?;
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
        let (clusters, waves) = blast_radius(compiled, &all);
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
        .commit(&root, &generated, &g.file, subject, &describe)
        .map_err(Failure::Usage)?;
    if !g.quiet {
        match &done.id {
            Some(id) => print_stdout(&format!(
                "committed {}: {} added, {} changed, {} removed\n",
                &id[..12.min(id.len())],
                done.added.len(),
                done.changed.len(),
                done.removed.len()
            )),
            None => {
                print_stdout("nothing to commit: the tree and the spec are already committed\n")
            }
        }
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

/// Clusters and waves a set of generated paths touches.
#[must_use]
pub fn blast_radius(compiled: &Compiled, paths: &[&str]) -> (Vec<String>, Vec<String>) {
    let Some((fleet, _)) = &compiled.checked.fleet else {
        return (Vec::new(), Vec::new());
    };
    let mut clusters = BTreeSet::new();
    let mut waves = BTreeSet::new();
    for p in paths {
        let parts: Vec<&str> = p.split('/').collect();
        for c in &fleet.clusters {
            let hit = match parts.as_slice() {
                ["hub", f] => f.strip_suffix(".yaml") == Some(c.name.as_str()),
                ["platform", ..] => c.hub,
                ["fleet", env, ..] => !c.hub && c.environment == *env,
                ["deploy", w, comp, ..] => {
                    fleet.components.iter().any(|x| {
                        x.name == *comp
                            && fleet.waves[x.wave].name == *w
                            && x.clusters.iter().any(|&i| fleet.clusters[i].name == c.name)
                    }) || (*w == "tenants"
                        && fleet.tenants.iter().any(|t| {
                            t.name == *comp
                                && t.clusters.iter().any(|&i| fleet.clusters[i].name == c.name)
                        }))
                }
                _ => false,
            };
            if hit {
                clusters.insert(c.name.clone());
            }
        }
        for w in &fleet.waves {
            if parts.contains(&w.name.as_str()) {
                waves.insert(w.name.clone());
            }
        }
    }
    (clusters.into_iter().collect(), waves.into_iter().collect())
}

/// `synctl diff`: unified diffs of what `generate` would change, then the blast radius.
///
/// # Errors
/// See [`compile`].
pub fn diff(g: &Global, templates: Option<&Path>) -> Result<(), Failure> {
    let compiled = compile(g, templates)?;
    let plan = plan(g, &compiled, true)?;
    let mut out = String::new();
    let udiff = |old: &str, new: &str, a: &str, b: &str| {
        similar::TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(3)
            .header(a, b)
            .to_string()
    };
    for (p, new) in &plan.add {
        out.push_str(&udiff("", new, "/dev/null", &format!("b/{p}")));
    }
    for (p, (old, new)) in &plan.change {
        out.push_str(&udiff(old, new, &format!("a/{p}"), &format!("b/{p}")));
    }
    for (p, old) in &plan.remove {
        out.push_str(&udiff(old, "", &format!("a/{p}"), "/dev/null"));
    }
    let (clusters, waves) = blast_radius(&compiled, &plan.paths());
    out.push_str(&format!(
        "\n{} added, {} changed, {} removed; clusters touched: {}; waves touched: {}\n",
        plan.add.len(),
        plan.change.len(),
        plan.remove.len(),
        list_or_none(&clusters),
        list_or_none(&waves),
    ));
    print_stdout(&out);
    Ok(())
}
