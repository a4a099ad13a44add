//! `synctl check`: read a GitOps tree — synctl's or any other — the way Flux reads it, print
//! each cluster's plan, and prove it (`tree::proofs`). Exit 1 when a proof fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Failure, Global, print_stderr, print_stdout, status};
use crate::diag::{self, Problem, Severity};
use crate::source::Source;
use crate::tree::flux::{self, Given, Options};
use crate::tree::kustomize::Reader;
use crate::tree::{Finding, proofs, report};

/// Flags of `check`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Args {
    /// The repository to read (default: the spec's folder)
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// A cluster's entry folder, relative to DIR (default: found: synctl's entries, `flux
    /// bootstrap`'s gotk-sync.yaml, a FluxInstance's sync.path)
    #[arg(long = "entry", value_name = "PATH")]
    pub entries: Vec<String>,
    /// Read a source that is not this repository from a local folder
    #[arg(long = "source", value_name = "URL[@REF]=DIR")]
    pub sources: Vec<String>,
    /// Output format: the plan and the problems (text, json), or the Kustomizations' graph
    /// (mermaid, dot; problems on stderr)
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// List every object under the Kustomization that applies it (JSON: each object's value)
    #[arg(long)]
    pub objects: bool,
}

/// How `check` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum CheckFormat {
    #[value(alias = "human")]
    Text,
    Json,
    Mermaid,
    Dot,
}

/// Reads and proves the tree; exit 1 when an error is found.
///
/// # Errors
/// [`Failure::Invalid`] on errors, [`Failure::Usage`] when the tree cannot be read.
pub(crate) fn run(g: &Global, args: &Args) -> Result<(), Failure> {
    let dir = args.dir.clone().unwrap_or_else(|| g.out_root());
    let sources = args
        .sources
        .iter()
        .map(|s| given(s))
        .collect::<Result<_, _>>()?;
    let fleet = synctl_spec(&dir.join(g.file.file_name().unwrap_or_default()));
    let plans = read_tree(&dir, fleet.as_ref(), &args.entries, sources, false)?;
    let failed = print(g, args, &plans);
    // The process ends here: a large tree's objects are freed by the exit, not one by one.
    std::mem::forget(plans);
    if failed {
        return Err(Failure::Invalid);
    }
    Ok(())
}

/// Reads the tree at `dir` (with the facts of its synctl spec, if it has one) from `entries`
/// (found when none are given) and proves each plan; `offline`: never run an installed
/// kustomize (what `generate` and `validate` wrote needs none).
///
/// # Errors
/// [`Failure::Usage`] when the tree cannot be read or has no entry.
fn read_tree(
    dir: &Path,
    fleet: Option<&Fleet>,
    entries: &[String],
    sources: Vec<Given>,
    offline: bool,
) -> Result<Vec<flux::Plan>, Failure> {
    let mut options = Options {
        tree_urls: Vec::new(),
        bootstrap_sources: Vec::new(),
        tree_refs: Vec::new(),
        sources,
    };
    if let Some(f) = fleet {
        options.tree_urls.push(f.url.clone());
        options.bootstrap_sources.push(f.hub_source.clone());
        options.tree_refs.clone_from(&f.branches);
    }
    // A tree at the root of its work tree is the repository `origin` names (Argo CD
    // Applications name it by URL).
    if let Some((rel, Some(origin))) = crate::repo::location(dir)
        && rel.is_empty()
    {
        options.tree_urls.push(origin);
    }
    let entries = if entries.is_empty() {
        found_entries(dir, fleet)
    } else {
        entries.to_vec()
    };
    if entries.is_empty() {
        return Err(Failure::Usage(format!(
            "{NO_ENTRY} in `{}`: name one with --entry PATH (the folder `flux bootstrap --path` points at, or the folder of the Argo CD Applications you apply by hand)",
            dir.display()
        )));
    }
    let mut reader = Reader::new(dir).map_err(Failure::Usage)?;
    reader.offline = offline;
    let mut readers = vec![reader];
    let mut plans = Vec::new();
    for entry in &entries {
        let mut plan = flux::read(&mut readers, entry, &options);
        let kfile = Path::new(dir)
            .join(entry)
            .join("flux-system/kustomization.yaml");
        let lockdown = crate::folders::read_plain(&kfile);
        let locked = crate::tree::lockdown::locked(&plan, lockdown.as_deref());
        let found = proofs::run(&plan, locked);
        plan.findings.extend(found);
        plans.push(plan);
    }
    Ok(plans)
}

const NO_ENTRY: &str = "no cluster entry found";

/// Up to how many component placements (a component on a cluster) `generate` and `validate`
/// prove their tree unless told otherwise: about a third of a second of reading back in a
/// release build (200 clusters × 100 components; a 1,000 × 100 fleet takes ~1.5 s,
/// `benches/check.rs`); a larger fleet says so and leaves it to `--prove` or `synctl check`.
const PROVES_BY_DEFAULT: usize = 20_000;

/// Whether `generate`/`validate` prove the tree of `fleet`: `--prove`, `--no-prove`, else by
/// its size.
pub(crate) fn proving(
    g: &Global,
    prove: bool,
    no_prove: bool,
    fleet: Option<&crate::model::Fleet>,
) -> bool {
    if prove || no_prove {
        return prove;
    }
    let placed: usize = fleet.map_or(0, |f| f.components.iter().map(|c| c.clusters.len()).sum());
    if placed > PROVES_BY_DEFAULT {
        status(
            g,
            &format!(
                "the tree was not read back ({placed} component placements, over {PROVES_BY_DEFAULT}): pass --prove, or run `synctl check` in CI\n"
            ),
        );
        return false;
    }
    true
}

/// For `generate` and `validate`: the tree synctl wrote at the output root, read and proven in
/// process as `synctl check` reads it (`tree::proofs`), and the errors found (none without a
/// tree). Warnings — a Secret made outside Git, an API version going away — stay `synctl
/// check`'s: the spec cannot answer them, and every run would repeat them.
///
/// # Errors
/// [`Failure::Usage`] when the tree cannot be read.
pub(crate) fn prove_written(g: &Global) -> Result<Vec<Finding>, Failure> {
    let spec = g.file.file_name().unwrap_or_default();
    let plans = read_written(&g.out_root(), Path::new(spec))?;
    let found: Vec<Finding> = findings(&plans)
        .into_iter()
        .filter(|f| f.problem.severity == crate::diag::Severity::Error)
        .cloned()
        .collect();
    std::mem::forget(plans);
    Ok(found)
}

/// The plans of the synctl tree at `root` (its spec the file `spec` there), read offline as
/// `generate` proves it; none when it has no entry yet.
///
/// # Errors
/// [`Failure::Usage`] when the tree cannot be read.
pub(crate) fn read_written(root: &Path, spec: &Path) -> Result<Vec<flux::Plan>, Failure> {
    let root = root.to_path_buf();
    let fleet = synctl_spec(&root.join(spec));
    let root = root.canonicalize().unwrap_or(root);
    // A tree in a subfolder of its repository (`repository.path`) names its paths from the
    // repository's root: read from there, its entries under the subfolder.
    let prefix = fleet.as_ref().map_or("", |f| f.path.as_str());
    let (dir, entries) = if prefix.is_empty() {
        (root, Vec::new())
    } else {
        let depth = Path::new(&prefix).components().count();
        let base = root.ancestors().nth(depth).map(Path::to_path_buf);
        let fits = !prefix.split('/').any(|p| p == ".." || p == ".")
            && base.as_ref().is_some_and(|b| b.join(prefix) == root);
        let Some(base) = base.filter(|_| fits) else {
            return Ok(Vec::new());
        };
        let entries = found_entries(&root, fleet.as_ref())
            .into_iter()
            .map(|e| format!("{prefix}/{e}"))
            .collect();
        (base, entries)
    };
    match read_tree(&dir, fleet.as_ref(), &entries, Vec::new(), true) {
        Err(Failure::Usage(e)) if e.starts_with(NO_ENTRY) => Ok(Vec::new()),
        other => other,
    }
}

/// Findings of a tree as problems of the run that wrote it, each naming its file and line
/// (for JSON, SARIF and annotations, which place a problem outside the spec by its file).
pub(crate) fn as_problems(found: &[Finding]) -> Vec<Problem> {
    found
        .iter()
        .map(|f| {
            let mut p = f.problem.clone();
            if let Some(l) = p.primary.take() {
                let (line, column) = f.file.line_col(l.span.offset);
                p.message = format!("line {line}, column {column}: {}", p.message);
            }
            p.secondary.clear();
            p.in_file(f.file.name.clone())
        })
        .collect()
}

/// Every finding of `plans` once (one file read from several entries says its problem once),
/// sorted by file and position.
fn findings(plans: &[flux::Plan]) -> Vec<&Finding> {
    let mut seen = std::collections::HashSet::new();
    let mut findings: Vec<&Finding> = plans
        .iter()
        .flat_map(|p| p.findings.iter())
        .filter(|f| {
            let span = f.problem.primary.as_ref().map(|l| l.span);
            seen.insert((
                f.file.name.clone(),
                span,
                f.problem.code,
                f.problem.message.clone(),
            ))
        })
        .collect();
    findings.sort_by_key(|f| {
        let offset = f.problem.primary.as_ref().map_or(0, |l| l.span.offset);
        (
            f.file.name.clone(),
            offset,
            f.problem.code,
            f.problem.message.clone(),
        )
    });
    findings
}

/// Prints the plans and their findings; whether any finding is an error.
fn print(g: &Global, args: &Args, plans: &[flux::Plan]) -> bool {
    let external: std::collections::BTreeSet<&String> =
        plans.iter().flat_map(|p| p.external.iter()).collect();
    let findings = findings(plans);
    let errors = findings
        .iter()
        .any(|f| f.problem.severity == Severity::Error);
    match args.format {
        CheckFormat::Json => {
            let all: Vec<Finding> = findings.iter().map(|f| (*f).clone()).collect();
            let out = serde_json::json!({
                "entries": plans.iter().map(|p| report::json_plan(p, args.objects)).collect::<Vec<_>>(),
                "kustomize": external,
                "problems": report::json_findings(&all),
            });
            print_stdout(&format!(
                "{}\n",
                serde_json::to_string_pretty(&out).unwrap_or_default()
            ));
        }
        CheckFormat::Text | CheckFormat::Mermaid | CheckFormat::Dot => {
            for p in plans {
                print_stdout(&match args.format {
                    CheckFormat::Mermaid => report::mermaid(p),
                    CheckFormat::Dot => report::dot(p),
                    _ => report::text_plan(p, args.objects),
                });
            }
            if !external.is_empty() {
                status(
                    g,
                    &format!(
                        "built with an installed kustomize: {}\n",
                        external
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
            render(g, &findings);
        }
    }
    errors
}

/// Findings shown under the YAML of their files, file by file.
pub(crate) fn render(g: &Global, findings: &[&Finding]) {
    let mut by_file: BTreeMap<&str, (Arc<Source>, Vec<Problem>)> = BTreeMap::new();
    for f in findings {
        by_file
            .entry(f.file.name.as_str())
            .or_insert_with(|| (Arc::clone(&f.file), Vec::new()))
            .1
            .push(f.problem.clone());
    }
    let color = g.color_on();
    for (source, problems) in by_file.values() {
        print_stderr(&diag::render_human(source, problems, color));
    }
}

/// `URL[@REF]=DIR`.
fn given(s: &str) -> Result<Given, Failure> {
    let (left, dir) = s
        .rsplit_once('=')
        .ok_or_else(|| Failure::Usage(format!("--source `{s}`: write URL[@REF]=DIR")))?;
    let (url, reference) = match left.rsplit_once('@') {
        Some((u, r)) if !r.contains('/') || u.contains("://") && !r.contains(':') => {
            (u, Some(r.to_owned()))
        }
        _ => (left, None),
    };
    Ok(Given {
        url: url.to_owned(),
        reference,
        dir: PathBuf::from(dir),
    })
}

/// What `check` needs of a synctl spec beside the tree.
struct Fleet {
    url: String,
    /// The bootstrap GitRepository's name (`spec.hub.sourceRef`).
    hub_source: String,
    /// Clusters running their own Flux (`role: standalone`).
    standalone: Vec<String>,
    /// `repository.branch` (default `main`) and every cluster's `branch`.
    branches: Vec<String>,
    /// `repository.path`: where the tree sits in its repository (`""` at the root).
    path: String,
}

/// The synctl spec at `path`, when there is one (read for its facts only: `validate` checks it).
fn synctl_spec(path: &Path) -> Option<Fleet> {
    let text = crate::folders::read_plain(path)?;
    let source = Source::new(path.display().to_string(), text);
    let root = crate::spec::yaml::parse(&source).ok()?;
    if root.get("kind")?.as_str()? != "Fleet" {
        return None;
    }
    let url = root.at(["spec", "repository", "url"])?.as_str()?.to_owned();
    let path = root
        .at(["spec", "repository", "path"])
        .and_then(|p| p.as_str())
        .unwrap_or("")
        .trim_start_matches("./")
        .trim_matches('/')
        .to_owned();
    let hub_source = root
        .at(["spec", "hub", "sourceRef"])
        .and_then(|n| n.as_str())
        .unwrap_or("flux-system")
        .to_owned();
    let clusters = root
        .at(["spec", "clusters"])
        .map(crate::spec::yaml::Node::items);
    let mut branches: Vec<String> = clusters
        .unwrap_or_default()
        .iter()
        .filter_map(|c| c.get("branch")?.as_str().map(str::to_owned))
        .collect();
    branches.push(
        root.at(["spec", "repository", "branch"])
            .and_then(|b| b.as_str())
            .unwrap_or("main")
            .to_owned(),
    );
    let standalone = root
        .at(["spec", "clusters"])
        .map(crate::spec::yaml::Node::items)
        .unwrap_or_default()
        .iter()
        .filter(|c| c.get("role").and_then(|r| r.as_str()) == Some("standalone"))
        .filter_map(|c| c.get("name")?.as_str().map(str::to_owned))
        .collect();
    Some(Fleet {
        url,
        hub_source,
        standalone,
        branches,
        path,
    })
}

/// The entries of the tree at `dir`: synctl's (`hub/`, each standalone cluster's
/// `fleet/<env>/clusters/<c>/`), and wherever `flux bootstrap` (a `flux-system/` folder) or a
/// FluxInstance points.
fn found_entries(dir: &Path, fleet: Option<&Fleet>) -> Vec<String> {
    let mut out = std::collections::BTreeSet::new();
    if let Some(fleet) = fleet {
        if dir.join("hub/kustomization.yaml").is_file() {
            out.insert("hub".to_owned());
        }
        for env in read_dirs(&dir.join("fleet")) {
            for c in read_dirs(&env.join("clusters")) {
                let standalone = c
                    .file_name()
                    .is_some_and(|n| fleet.standalone.iter().any(|s| n == s.as_str()));
                let rel = c.strip_prefix(dir).ok();
                if let Some(rel) =
                    rel.filter(|_| standalone && c.join("kustomization.yaml").is_file())
                {
                    out.insert(rel.display().to_string());
                }
            }
        }
    }
    let walk = walkdir::WalkDir::new(dir)
        .max_depth(8)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git");
    for entry in walk.flatten() {
        let path = entry.path();
        let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
        if !entry.file_type().is_file() || !yaml {
            continue;
        }
        let Some(text) = crate::folders::read_plain(path) else {
            continue;
        };
        let bootstrap = path.ends_with("flux-system/gotk-sync.yaml");
        if !bootstrap && !text.contains("kind: FluxInstance") {
            continue;
        }
        let source = Source::new(path.display().to_string(), text);
        let docs = crate::spec::yaml::parse_stream(&source).unwrap_or_default();
        let sync_path = docs.iter().any(|d| d.at(["spec", "path"]).is_some());
        if bootstrap && !sync_path {
            // A placeholder gotk-sync.yaml (written at bootstrap): the entry holds flux-system/.
            let entry = path
                .parent()
                .and_then(Path::parent)
                .and_then(|p| p.strip_prefix(dir).ok());
            if let Some(e) = entry {
                let e = e.display().to_string();
                out.insert(if e.is_empty() { ".".to_owned() } else { e });
            }
        }
        for doc in docs {
            let kind = doc.get("kind").and_then(|k| k.as_str()).unwrap_or("");
            let at = match kind {
                "Kustomization" if bootstrap => doc.at(["spec", "path"]),
                "FluxInstance" => doc.at(["spec", "sync", "path"]),
                _ => None,
            };
            if let Some(p) = at.and_then(|n| n.as_str()) {
                let p = p.trim_start_matches("./").trim_end_matches('/');
                out.insert(if p.is_empty() {
                    ".".to_owned()
                } else {
                    p.to_owned()
                });
            }
        }
    }
    out.into_iter().collect()
}

fn read_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}
