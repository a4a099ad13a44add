//! `synctl diff --base REF`: what a change does to each cluster, object by object. The spec
//! at REF (read from the repository's objects, never the work tree) and the spec in the work
//! tree are each compiled into a whole tree beside the files they read, the two trees are read
//! back the way Flux and Argo CD read them (`check`'s reader, offline), and what each cluster
//! receives is compared: objects added, removed, and changed with the fields that changed,
//! one change reported once with every cluster it hits.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value as Json;

use super::check::read_written;
use super::generate::DiffArgs;
use super::{Failure, Format, Global, report};
use crate::model::Fleet;
use crate::pipeline::{self, check_text};
use crate::term::{print_stderr, print_stdout};

mod report;
use crate::tree::{Id, flux::Plan, text};
use report::markdown_report;
pub(crate) use report::{json_report, text_report};

/// How `diff --base` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum DiffFormat {
    #[default]
    #[value(alias = "human")]
    Text,
    Json,
    /// A pull-request comment or step summary (`$GITHUB_STEP_SUMMARY`); with `--base` only.
    Markdown,
}

/// Each change, and the (cluster, namespace) pairs it hits.
pub(crate) type Changes = BTreeMap<Change, BTreeSet<(String, String)>>;

/// One change, and every cluster it hits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Change {
    what: &'static str,
    group: String,
    kind: String,
    name: String,
    /// Changed fields: path, value at the base, value now (compact JSON, `None` when absent).
    fields: Vec<(String, Option<String>, Option<String>)>,
}

/// Runs `synctl diff --base REF`.
///
/// # Errors
/// [`Failure::Usage`] outside a Git repository, for a ref that is not there or a spec the ref
/// does not hold; [`Failure::Invalid`] when either spec does not validate, or with
/// `--exit-code` when something changes.
pub(crate) fn run(g: &Global, args: &DiffArgs, base: &str) -> Result<(), Failure> {
    let out_root = g
        .out_root()
        .canonicalize()
        .map_err(|e| Failure::Usage(format!("cannot read `{}`: {e}", g.out_root().display())))?;
    let repo = git2::Repository::discover(&out_root).map_err(|_| {
        Failure::Usage(format!(
            "`{}` is not in a Git repository: diff --base compares with a commit of it",
            out_root.display()
        ))
    })?;
    let workdir = repo
        .workdir()
        .and_then(|w| w.canonicalize().ok())
        .ok_or_else(|| Failure::Usage("the repository has no work tree".to_owned()))?;
    let rel_out = out_root.strip_prefix(&workdir).unwrap_or(Path::new(""));
    let spec_name = PathBuf::from(g.file.file_name().unwrap_or_default());
    let commit = repo
        .revparse_single(base)
        .and_then(|o| o.peel_to_commit())
        .map_err(|_| {
            Failure::Usage(format!(
                "`{base}` names no commit of this repository (fetch it first, e.g. `git fetch origin {base}`); nothing compared"
            ))
        })?;
    let scratch = tempfile::Builder::new()
        .prefix("synctl-diff-")
        .tempdir()
        .map_err(|e| Failure::Usage(format!("cannot make a temporary folder: {e}")))?;
    let base_root = scratch.path().join("base");
    let base_out = base_root.join(rel_out);
    export_commit(&repo, &commit, rel_out, &base_out).map_err(Failure::Usage)?;
    let templates = args.templates.as_deref();
    let (base_fleet, base_plans) = compiled_at(g, templates, &base_out, &spec_name, base)?;
    let head_root = scratch.path().join("head");
    let (head_fleet, head_plans) = compiled_now(g, args, (&workdir, &head_root), rel_out)?;
    let order = match (&base_fleet, &head_fleet) {
        (Some(b), Some(h)) => unordered_removals(b, h),
        _ => Vec::new(),
    };
    let changes = between((base_fleet, &base_plans), (head_fleet, &head_plans));
    let warned = |mut out: String, bullet: &str| {
        for w in &order {
            out.push_str(&format!("{bullet}{w}\n"));
        }
        out
    };
    print_stdout(&match args.format {
        DiffFormat::Text => warned(text_report(&format!("`{base}`"), &changes), "warning: "),
        DiffFormat::Markdown => warned(markdown_report(base, &changes), "\n> ⚠ "),
        DiffFormat::Json => {
            let mut doc = json_report(base, &changes);
            doc["teardown"] = serde_json::json!(order);
            let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
            s.push('\n');
            s
        }
    });
    if args.exit_code && !changes.is_empty() {
        return Err(Failure::Invalid);
    }
    Ok(())
}

/// Components that leave a cluster in one change together with one they depend on: the
/// controllers would delete both at once, in no order (the dependent's custom resources can
/// outlive the controller that clears their finalizers).
fn unordered_removals(base: &Fleet, head: &Fleet) -> Vec<String> {
    let mut pairs: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for (ci, cluster) in base.clusters.iter().enumerate() {
        let head_ci = head.clusters.iter().position(|c| c.name == cluster.name);
        let stays = |name: &str| {
            head_ci.is_some_and(|hc| {
                head.components
                    .iter()
                    .any(|c| c.name == name && c.clusters.binary_search(&hc).is_ok())
            })
        };
        let leaving: Vec<&crate::model::Component> = base
            .components
            .iter()
            .filter(|c| c.clusters.binary_search(&ci).is_ok() && !stays(&c.name))
            .collect();
        for a in &leaving {
            for d in &a.depends_on {
                let b = &base.components[d.index].name;
                if leaving.iter().any(|x| &x.name == b) {
                    pairs
                        .entry((a.name.as_str(), b.as_str()))
                        .or_default()
                        .push(cluster.name.as_str());
                }
            }
        }
    }
    pairs
        .into_iter()
        .map(|((a, b), clusters)| {
            format!(
                "`{a}` and `{b}`, which it depends on, leave {} in one change: the controllers delete both at once, in no order; remove `{a}` first and `{b}` in a later commit",
                clusters.join(", ")
            )
        })
        .collect()
}

/// The changes one compiled tree's plans make to another's.
fn between(
    (before_fleet, before): (Option<Arc<Fleet>>, &[Plan]),
    (after_fleet, after): (Option<Arc<Fleet>>, &[Plan]),
) -> Changes {
    let mut names = cluster_names(before_fleet.as_deref());
    names.extend(cluster_names(after_fleet.as_deref()));
    compare(&received(before, &names), &received(after, &names))
}

/// What changing the spec's text from `before` to `after` does to each cluster: both compiled
/// into copies of the work tree (`promote`'s blast radius, before anything is written).
///
/// # Errors
/// [`Failure::Usage`] when the work tree cannot be copied; [`Failure::Invalid`] when a spec
/// does not compile.
pub(crate) fn changes_between(
    g: &Global,
    templates: Option<&Path>,
    before: &str,
    after: &str,
) -> Result<Changes, Failure> {
    let out_root = g
        .out_root()
        .canonicalize()
        .map_err(|e| Failure::Usage(format!("cannot read `{}`: {e}", g.out_root().display())))?;
    let workdir = git2::Repository::discover(&out_root)
        .ok()
        .and_then(|r| r.workdir().and_then(|w| w.canonicalize().ok()))
        .filter(|w| out_root.starts_with(w))
        .unwrap_or_else(|| out_root.clone());
    let rel_out = out_root.strip_prefix(&workdir).unwrap_or(Path::new(""));
    let spec_name = PathBuf::from(g.file.file_name().unwrap_or_default());
    let scratch = tempfile::Builder::new()
        .prefix("synctl-promote-")
        .tempdir()
        .map_err(|e| Failure::Usage(format!("cannot make a temporary folder: {e}")))?;
    let mut sides = Vec::new();
    for (name, text) in [("before", before), ("after", after)] {
        let root = scratch.path().join(name);
        let out = root.join(rel_out);
        copy_work_tree(&workdir.join(rel_out), &out).map_err(Failure::Usage)?;
        std::fs::write(out.join(&spec_name), text)
            .map_err(|e| Failure::Usage(format!("cannot write a temporary file: {e}")))?;
        sides.push(compiled_at(g, templates, &out, &spec_name, name)?);
    }
    let after = sides.pop().unwrap_or_default();
    let before = sides.pop().unwrap_or_default();
    Ok(between((before.0, &before.1), (after.0, &after.1)))
}

/// Writes every file of `commit` under its folder `rel` (the tree's root) to `dest`: what
/// `check` reads of a synctl tree lies there (links and submodules are left out: Flux's
/// source-controller does not follow a link out of the artifact either).
fn export_commit(
    repo: &git2::Repository,
    commit: &git2::Commit,
    rel: &Path,
    dest: &Path,
) -> Result<(), String> {
    let root = commit.tree().map_err(|e| e.message().to_owned())?;
    let tree = if rel.as_os_str().is_empty() {
        root
    } else {
        root.get_path(rel)
            .and_then(|e| e.to_object(repo))
            .and_then(|o| o.peel_to_tree())
            .map_err(|_| format!("the commit has no folder `{}`", rel.display()))?
    };
    let mut failed = None;
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        let Some(name) = entry
            .name()
            .ok()
            .filter(|n| !matches!(*n, "" | "." | ".." | ".git"))
        else {
            return git2::TreeWalkResult::Skip;
        };
        let path = dest.join(dir).join(name);
        let written = match entry.kind() {
            Some(git2::ObjectType::Tree) => {
                std::fs::create_dir_all(&path).map_err(|e| e.to_string())
            }
            Some(git2::ObjectType::Blob) if entry.filemode() != 0o120_000 => entry
                .to_object(repo)
                .map_err(|e| e.message().to_owned())
                .and_then(|o| {
                    let blob = o.peel_to_blob().map_err(|e| e.message().to_owned())?;
                    std::fs::write(&path, blob.content()).map_err(|e| e.to_string())
                }),
            _ => Ok(()),
        };
        match written {
            Ok(()) => git2::TreeWalkResult::Ok,
            Err(e) => {
                failed = Some(format!("cannot write `{}`: {e}", path.display()));
                git2::TreeWalkResult::Abort
            }
        }
    })
    .ok();
    std::fs::create_dir_all(dest).map_err(|e| e.to_string())?;
    failed.map_or(Ok(()), Err)
}

/// The spec at the base ref, compiled into the tree exported at `out` and read back.
fn compiled_at(
    g: &Global,
    templates: Option<&Path>,
    out: &Path,
    spec_name: &Path,
    base: &str,
) -> Result<(Option<Arc<Fleet>>, Vec<Plan>), Failure> {
    let spec = out.join(spec_name);
    let text = std::fs::read_to_string(&spec).map_err(|_| {
        Failure::Usage(format!(
            "`{base}` holds no `{}`: there is no spec to compare with; nothing compared",
            g.spec_name()
        ))
    })?;
    let label = format!("{base}:{}", g.spec_name());
    let checked = check_text(&label, text, Some(out));
    if checked.has_errors() {
        report(g, &checked.source, &checked.problems, Format::Human);
        print_stderr(&format!(
            "the spec at `{base}` does not validate: fix it there or compare with another ref; nothing compared\n"
        ));
        return Err(Failure::Invalid);
    }
    let compiled = pipeline::compile(checked, templates, &g.spec_label(), None)
        .map_err(|stop| g.fail(stop))?;
    let plan = compiled.plan(out, true).map_err(|stop| g.fail(stop))?;
    pipeline::write(out, &plan, None).map_err(|stop| g.fail(stop))?;
    let fleet = compiled.checked.fleet.as_ref().map(|(f, _)| f.clone());
    Ok((fleet, read_written(out, spec_name)?))
}

/// The spec in the work tree, compiled and read back: from the work tree itself when it is
/// up to date, else from a copy of it with the compiled files written in.
fn compiled_now(
    g: &Global,
    args: &DiffArgs,
    (workdir, copy): (&Path, &Path),
    rel_out: &Path,
) -> Result<(Option<Arc<Fleet>>, Vec<Plan>), Failure> {
    let compiled = super::generate::compile(g, args.templates.as_deref())?;
    let out_root = workdir.join(rel_out);
    let plan = compiled
        .plan(&out_root, true)
        .map_err(|stop| g.fail(stop))?;
    let fleet = compiled.checked.fleet.as_ref().map(|(f, _)| f.clone());
    let spec = PathBuf::from(g.file.file_name().unwrap_or_default());
    if plan.is_empty() {
        return Ok((fleet, read_written(&out_root, &spec)?));
    }
    let out = copy.join(rel_out);
    copy_work_tree(&out_root, &out).map_err(Failure::Usage)?;
    pipeline::write(&out, &plan, None).map_err(|stop| g.fail(stop))?;
    Ok((fleet, read_written(&out, &spec)?))
}

/// Copies the regular files of the work tree at `from` to `to` (no `.git`, no links).
fn copy_work_tree(from: &Path, to: &Path) -> Result<(), String> {
    let walk = walkdir::WalkDir::new(from)
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git");
    for entry in walk {
        let entry = entry.map_err(|e| e.to_string())?;
        let rel = entry.path().strip_prefix(from).unwrap_or(entry.path());
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).map_err(|e| e.to_string())?;
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &dest)
                .map_err(|e| format!("cannot copy `{}`: {e}", rel.display()))?;
        }
    }
    Ok(())
}

/// How the reader's clusters are named in the spec: an entry folder (`hub`,
/// `fleet/ENV/clusters/NAME`) or a hub namespace holding a kubeconfig → the cluster's name.
fn cluster_names(fleet: Option<&Fleet>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for c in fleet.iter().flat_map(|f| f.clusters.iter()) {
        match c.role {
            crate::spec::raw::Role::Hub => {
                out.insert("hub".to_owned(), c.name.clone());
            }
            crate::spec::raw::Role::Standalone => {
                out.insert(
                    format!("fleet/{}/clusters/{}", c.environment, c.name),
                    c.name.clone(),
                );
            }
            crate::spec::raw::Role::Fleet => {
                out.insert(format!("ns:{}", c.name), c.name.clone());
                out.insert(format!("dest:{}", c.name), c.name.clone());
            }
        }
    }
    out
}

/// The cluster `target` (a reader's cluster) is, by its spec name where known.
fn named(target: &str, names: &BTreeMap<String, String>) -> String {
    if let Some(rest) = target.strip_prefix("kubeConfig ") {
        let ns = rest.split('/').next().unwrap_or(rest);
        if let Some(n) = names.get(&format!("ns:{ns}")) {
            return n.clone();
        }
    }
    if let Some(n) = names.get(&format!("dest:{target}")) {
        return n.clone();
    }
    let entry = target.trim_end_matches('/');
    let entry = entry.rsplit_once(':').map_or(entry, |(_, e)| e);
    names
        .iter()
        .find(|(k, _)| entry == k.as_str() || entry.ends_with(&format!("/{k}")))
        .map_or_else(|| target.to_owned(), |(_, n)| n.clone())
}

/// Every object each cluster receives, by (cluster, id): an object that acts on another
/// cluster, through `spec.kubeConfig` (a HelmRelease or Kustomization of the hub) or as an
/// Argo CD Application's destination, counts for the cluster it acts on.
fn received(plans: &[Plan], names: &BTreeMap<String, String>) -> BTreeMap<(String, Id), Json> {
    let mut out = BTreeMap::new();
    for plan in plans {
        for a in &plan.appliers {
            for o in &a.objects {
                let value = o.full().into_owned();
                let secret = text(&value, &["spec", "kubeConfig", "secretRef", "name"]);
                let target = if o.is(crate::tree::argocd::GROUP, "Application") {
                    named(&crate::tree::argocd::destination(o, &a.target), names)
                } else if secret.is_empty() {
                    named(&a.target, names)
                } else {
                    named(&format!("kubeConfig {}/{secret}", o.namespace()), names)
                };
                out.entry((target, o.id())).or_insert(value);
            }
        }
    }
    out
}

/// The changes from `before` to `after`, each with the clusters it hits.
fn compare(before: &BTreeMap<(String, Id), Json>, after: &BTreeMap<(String, Id), Json>) -> Changes {
    let mut out: Changes = BTreeMap::new();
    let mut add = |what, (cluster, id): &(String, Id), fields| {
        let change = Change {
            what,
            group: id.group.clone(),
            kind: id.kind.clone(),
            name: id.name.clone(),
            fields,
        };
        out.entry(change)
            .or_default()
            .insert((cluster.clone(), id.namespace.clone()));
    };
    for (key, old) in before {
        match after.get(key) {
            None => add("removed", key, Vec::new()),
            Some(new) if new != old => {
                let mut fields = Vec::new();
                changed_fields(old, new, "", &mut fields);
                add("changed", key, fields);
            }
            Some(_) => {}
        }
    }
    for key in after.keys().filter(|k| !before.contains_key(*k)) {
        add("added", key, Vec::new());
    }
    out
}

/// The leaves that differ between `old` and `new` under `path` (a list of another length is
/// one change).
fn changed_fields(
    old: &Json,
    new: &Json,
    path: &str,
    out: &mut Vec<(String, Option<String>, Option<String>)>,
) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_owned()
        } else {
            format!("{path}.{k}")
        }
    };
    match (old, new) {
        (Json::Object(a), Json::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => changed_fields(x, y, &join(k), out),
                    (x, y) => out.push((join(k), x.map(shown), y.map(shown))),
                }
            }
        }
        (Json::Array(a), Json::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                changed_fields(x, y, &format!("{path}[{i}]"), out);
            }
        }
        (a, b) if a != b => out.push((path.to_owned(), Some(shown(a)), Some(shown(b)))),
        _ => {}
    }
}

/// A value as a reviewer reads it: compact JSON, long ones cut.
fn shown(v: &Json) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        let cut: String = s.chars().take(77).collect();
        format!("{cut}...")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::report::field_line;
    use serde_json::json;

    use super::*;

    #[test]
    fn changed_fields_name_each_leaf_and_whole_lists_of_another_length() {
        let old = json!({"spec": {"chart": {"spec": {"version": "1.15"}}, "values": {"a": 1, "gone": true},
            "list": [1, 2], "other": [1]}});
        let new = json!({"spec": {"chart": {"spec": {"version": "1.16"}}, "values": {"a": 1, "new": "x"},
            "list": [1, 3], "other": [1, 2]}});
        let mut out = Vec::new();
        changed_fields(&old, &new, "", &mut out);
        let lines: Vec<String> = out.iter().map(field_line).collect();
        assert_eq!(
            lines,
            [
                "spec.chart.spec.version: \"1.15\" → \"1.16\"",
                "spec.list[1]: 2 → 3",
                "spec.other: [1] → [1,2]",
                "spec.values.gone: true → (none)",
                "spec.values.new: (none) → \"x\"",
            ]
        );
    }

    #[test]
    fn reader_clusters_are_named_as_the_spec_names_them() {
        let names: BTreeMap<String, String> = [
            ("hub".to_owned(), "mgmt".to_owned()),
            ("ns:eu-1".to_owned(), "eu-1".to_owned()),
            (
                "fleet/edge/clusters/store-7".to_owned(),
                "store-7".to_owned(),
            ),
        ]
        .into();
        assert_eq!(named("hub", &names), "mgmt");
        assert_eq!(named("kubeConfig eu-1/eu-1-kubeconfig", &names), "eu-1");
        assert_eq!(named("fleet/edge/clusters/store-7", &names), "store-7");
        assert_eq!(named("kubeConfig other/x", &names), "kubeConfig other/x");
    }
}
