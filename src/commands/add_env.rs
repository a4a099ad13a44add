//! `synctl add-env NAME`: onboard a fleet cluster. The spec is edited as text — the new entry
//! is appended to `spec.clusters` in the list's own style, and with `--like` the name is added
//! to the explicit `clusters:` lists that hold the model cluster — so comments, key order and
//! formatting elsewhere stay as they were. The result is validated before anything is written.

use std::path::Path;

use super::{DataFormat, Failure, Global, print_stdout, report};
use crate::diag::Format;
use crate::model::{Engine, Kubeconfig};
use crate::output::Plan;
use crate::pipeline::{self, check_text};
use crate::render::yaml_out::flow_scalar;
use crate::spec::yaml::{Node, Value};

/// The flags of `add-env`.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct Args {
    /// The new cluster's name (a DNS-1123 label)
    pub name: String,
    /// Its environment (overlay folder fleet/ENV); default: like --like, else the name
    #[arg(long)]
    pub environment: Option<String>,
    /// The branch it tracks (default: the repository's)
    #[arg(long)]
    pub branch: Option<String>,
    /// The kubeconfig Secret on the hub (default: NAME-kubeconfig)
    #[arg(long, value_name = "SECRET")]
    pub kubeconfig_secret: Option<String>,
    /// A label, k=v (repeatable)
    #[arg(long = "label", value_name = "K=V", value_parser = key_value)]
    pub labels: Vec<(String, String)>,
    /// A substitution variable, K=V (repeatable)
    #[arg(long = "var", value_name = "K=V", value_parser = key_value)]
    pub vars: Vec<(String, String)>,
    /// Give the new cluster everything CLUSTER has (its environment, labels, vars, lists)
    #[arg(long, value_name = "CLUSTER")]
    pub like: Option<String>,
    /// Write and generate, but do not commit
    #[arg(long)]
    pub no_commit: bool,
    /// fleet (reconciled from the hub; default) or standalone (runs its own Flux)
    #[arg(long, value_enum)]
    pub role: Option<RoleArg>,
    /// How a standalone cluster's Flux is installed (default: spec.flux.bootstrap)
    #[arg(long, value_enum)]
    pub bootstrap: Option<BootstrapArg>,
    /// text: the steps left to do by hand; json: `{cluster, environment, role, branch, spec,
    /// committed, added, changed, removed, context, entry, steps, secrets}` (docs/formats.md)
    #[arg(long, value_enum, default_value_t = DataFormat::Text)]
    pub format: DataFormat,
}

/// `--role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RoleArg {
    Fleet,
    Standalone,
}

/// `--bootstrap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum BootstrapArg {
    FluxCli,
    FluxOperator,
}

impl BootstrapArg {
    fn as_str(self) -> &'static str {
        match self {
            BootstrapArg::FluxCli => "flux-cli",
            BootstrapArg::FluxOperator => "flux-operator",
        }
    }
}

/// Parses `k=v`.
///
/// # Errors
/// When there is no `=`.
pub(crate) fn key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected KEY=VALUE, got `{s}`"))
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// One text insertion.
struct Edit {
    at: usize,
    text: String,
}

/// The end of the last line belonging to the block item starting at `start` (an item of a
/// block sequence whose dash is at column `dash_col`).
fn item_end(text: &str, start: usize, dash_col: usize) -> usize {
    let mut end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let mut pos = end;
    while pos < text.len() {
        let line_start = pos + 1;
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        let line = &text[line_start..line_end];
        let indent = line.len() - line.trim_start().len();
        if line.trim().is_empty() {
            pos = line_end;
            continue;
        }
        if indent <= dash_col {
            break;
        }
        end = line_end;
        pos = line_end;
    }
    end
}

fn column(text: &str, offset: usize) -> usize {
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..offset].chars().count()
}

/// The dash of the block-sequence item whose node starts at `offset`.
fn dash_of(text: &str, offset: usize) -> Option<usize> {
    let before = &text[..offset];
    let dash = before.rfind('-')?;
    before[dash + 1..].trim().is_empty().then_some(dash)
}

/// Appends `entry_lines` (already indented relative to the dash) as a new item of `seq`.
fn append_item(text: &str, seq: &Node, first_line: &str, rest: &[String]) -> Result<Edit, String> {
    let items = seq.items();
    let last = items.last().ok_or("the list is empty")?;
    if text[seq.span.offset..].starts_with('[') {
        // Flow style: `[a, b]` → `[a, b, NAME]`; a mapping item becomes `{name: NAME, …}`.
        let close = seq.span.offset + seq.span.len - 1;
        let item = if rest.is_empty() && !matches!(last.value, Value::Map(_)) {
            first_line.to_owned()
        } else {
            let mut fields = vec![first_line.to_owned()];
            fields.extend(rest.iter().cloned());
            format!("{{{}}}", fields.join(", "))
        };
        if text.as_bytes().get(close) != Some(&b']') {
            return Err(
                "the list spans several lines in flow style; add the entry by hand".to_owned(),
            );
        }
        return Ok(Edit {
            at: close,
            text: format!(", {item}"),
        });
    }
    let dash = dash_of(text, last.span.offset).ok_or("unexpected list layout")?;
    let col = column(text, dash);
    let mut end = item_end(text, last.span.offset, col);
    // The spec's own line endings: CRLF stays CRLF.
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    if text[..end].ends_with('\r') {
        end -= 1;
    }
    let pad = " ".repeat(col);
    let mut out = format!("{nl}{pad}- {first_line}");
    for line in rest {
        out.push_str(&format!("{nl}{pad}  {line}"));
    }
    Ok(Edit { at: end, text: out })
}

fn flow_map(pairs: &[(String, String)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}: {}", flow_scalar(k), flow_scalar(v)))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// Runs `add-env`.
///
/// # Errors
/// [`Failure::Usage`] for a taken or invalid name or an unknown `--like`; [`Failure::Invalid`]
/// when the edited spec does not validate. Nothing is written in either case.
pub(crate) fn run(g: &Global, a: &Args) -> Result<(), Failure> {
    let spec_path = &g.file;
    let original = std::fs::read_to_string(spec_path)
        .map_err(|e| Failure::Usage(format!("cannot read `{}`: {e}", spec_path.display())))?;
    let root_dir = g.out_root();
    let checked = check_text(&g.spec_name(), original.clone(), Some(&root_dir));
    if checked.has_errors() {
        report(g, &checked.source, &checked.problems, Format::Human);
        eprintln!("fix the spec first: add-env edits only a valid spec");
        return Err(Failure::Invalid);
    }
    let Some((fleet, _)) = &checked.fleet else {
        return Err(Failure::Invalid);
    };
    if !is_dns_label(&a.name) {
        return Err(Failure::Usage(format!(
            "`{}` is not a valid cluster name: use a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters)",
            a.name
        )));
    }
    if fleet.clusters.iter().any(|c| c.name == a.name) {
        return Err(Failure::Usage(format!(
            "a cluster named `{}` already exists; nothing changed",
            a.name
        )));
    }
    let like = match &a.like {
        Some(l) => Some(
            fleet
                .clusters
                .iter()
                .position(|c| &c.name == l)
                .ok_or_else(|| {
                    let names: Vec<&str> = fleet.clusters.iter().map(|c| c.name.as_str()).collect();
                    Failure::Usage(format!(
                        "--like `{l}`: no such cluster (clusters: {}); nothing changed",
                        names.join(", ")
                    ))
                })?,
        ),
        None => None,
    };
    let model = like.map(|i| &fleet.clusters[i]);
    // The role: --role, else the model's (a hub model gives a fleet cluster).
    let standalone = match a.role {
        Some(RoleArg::Standalone) => true,
        Some(RoleArg::Fleet) => false,
        None => model.is_some_and(crate::model::Cluster::is_standalone),
    };
    if standalone && a.kubeconfig_secret.is_some() {
        return Err(Failure::Usage(
            "--kubeconfig-secret is for fleet clusters; a standalone cluster runs its own Flux; nothing changed".to_owned(),
        ));
    }
    if !standalone && a.bootstrap.is_some() {
        return Err(Failure::Usage(
            "--bootstrap is for standalone clusters (--role standalone); nothing changed"
                .to_owned(),
        ));
    }
    let fleet_bootstrap = fleet
        .clusters
        .iter()
        .find(|c| !c.is_fleet())
        .map(|c| c.flux.bootstrap);
    let bootstrap = a.bootstrap.map(BootstrapArg::as_str).or_else(|| {
        model
            .filter(|m| m.is_standalone() && Some(m.flux.bootstrap) != fleet_bootstrap)
            .map(|m| match m.flux.bootstrap {
                crate::model::Bootstrap::FluxCli => "flux-cli",
                crate::model::Bootstrap::FluxOperator => "flux-operator",
            })
    });
    let environment = a
        .environment
        .clone()
        .or_else(|| model.filter(|m| !m.is_hub()).map(|m| m.environment.clone()));
    let mut labels: Vec<(String, String)> = model
        .map(|m| m.labels.clone().into_iter().collect())
        .unwrap_or_default();
    let mut vars: Vec<(String, String)> = model
        .map(|m| m.vars.clone().into_iter().collect())
        .unwrap_or_default();
    for (k, v) in &a.labels {
        labels.retain(|(x, _)| x != k);
        labels.push((k.clone(), v.clone()));
    }
    for (k, v) in &a.vars {
        vars.retain(|(x, _)| x != k);
        vars.push((k.clone(), v.clone()));
    }

    // The new entry, in the block style of the existing clusters.
    let root = checked.root.as_ref().ok_or(Failure::Invalid)?;
    let clusters_node = root.at(["spec", "clusters"]).ok_or(Failure::Invalid)?;
    let mut rest = Vec::new();
    if standalone {
        rest.push("role: standalone".to_owned());
    }
    if let Some(env) = environment.as_ref().filter(|e| **e != a.name) {
        rest.push(format!("environment: {}", flow_scalar(env)));
    }
    // --like copies the model's branch when it tracks another than the repository's.
    let branch = a.branch.clone().or_else(|| {
        model
            .filter(|m| m.branch != fleet.repository.branch)
            .map(|m| m.branch.clone())
    });
    if let Some(b) = &branch {
        rest.push(format!("branch: {}", flow_scalar(b)));
    }
    if let Some(s) = &a.kubeconfig_secret {
        rest.push(format!("kubeconfig: {{secretRef: {}}}", flow_scalar(s)));
    }
    if standalone {
        // --like copies the model's own `flux:` overrides; --bootstrap sets the kind.
        let mut flux: Vec<String> = Vec::new();
        if let Some(b) = bootstrap {
            flux.push(format!("bootstrap: {b}"));
        }
        if let Some(m) = model.filter(|m| m.is_standalone() && m.flux_span.is_some()) {
            let defaults: Vec<String> = crate::model::defaults::FLUX_COMPONENTS
                .iter()
                .map(|c| (*c).to_owned())
                .collect();
            if m.flux.components != defaults {
                flux.push(format!("components: [{}]", m.flux.components.join(", ")));
            }
        }
        if !flux.is_empty() {
            rest.push(format!("flux: {{{}}}", flux.join(", ")));
        }
    }
    if !labels.is_empty() {
        rest.push(format!("labels: {}", flow_map(&labels)));
    }
    if !vars.is_empty() {
        rest.push(format!("vars: {}", flow_map(&vars)));
    }
    let mut edits = vec![
        append_item(
            &original,
            clusters_node,
            &format!("name: {}", a.name),
            &rest,
        )
        .map_err(Failure::Usage)?,
    ];

    // --like: join every explicit `clusters:` list that names the model cluster — components,
    // tenants and the tenants' entries.
    if let Some(l) = &a.like {
        let tenants = root
            .at(["spec", "tenants"])
            .map(Node::items)
            .unwrap_or_default();
        let placed = root
            .at(["spec", "components"])
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .chain(tenants)
            .chain(
                tenants
                    .iter()
                    .flat_map(|t| t.get("apps").map(Node::items).unwrap_or_default().iter()),
            );
        for item in placed {
            let Some(list) = item.get("clusters") else {
                continue;
            };
            if let Value::Seq(_) = list.value
                && list.items().iter().any(|n| n.as_str() == Some(l.as_str()))
            {
                edits.push(append_item(&original, list, &a.name, &[]).map_err(Failure::Usage)?);
            }
        }
    }
    edits.sort_by_key(|e| std::cmp::Reverse(e.at));
    let mut text = original.clone();
    for e in &edits {
        text.insert_str(e.at, &e.text);
    }

    // Validate the result before anything is written.
    let after = check_text(&g.spec_name(), text.clone(), Some(&root_dir));
    if after.has_errors() {
        report(g, &after.source, &after.problems, Format::Human);
        eprintln!(
            "the spec with `{}` added does not validate; nothing changed",
            a.name
        );
        return Err(Failure::Invalid);
    }
    let target = if a.no_commit {
        None
    } else {
        Some(crate::git::prepare(&root_dir, None).map_err(Failure::Usage)?)
    };
    let _lock = crate::output::lock(&root_dir).map_err(Failure::Usage)?;
    // Compiled from the edited text already checked: the spec is parsed twice in all.
    let compiled =
        pipeline::compile(after, None, &g.spec_label(), None).map_err(|stop| g.fail(stop))?;
    let plan = compiled
        .plan(&root_dir, false)
        .map_err(|stop| g.fail(stop))?;
    write_spec(spec_path, &text)?;
    if let Err(stop) = pipeline::write(&root_dir, &plan, None) {
        // Put the spec back: the user's file is never left half-changed.
        write_spec(spec_path, &original)?;
        return Err(g.fail(stop));
    }
    if let Some(target) = &target {
        let subject = format!("synctl: add environment {}", a.name);
        super::generate::commit(g, &compiled, target, &subject)?;
    }
    let (fleet_after, _) = compiled.checked.fleet.as_ref().ok_or(Failure::Invalid)?;
    let done = outcome(
        fleet_after,
        &a.name,
        spec_path.display().to_string(),
        &plan,
        target.is_some(),
    );
    print_stdout(&match a.format {
        DataFormat::Text => done.text(),
        DataFormat::Json => {
            let mut json = serde_json::to_string_pretty(&done).unwrap_or_default();
            json.push('\n');
            json
        }
    });
    Ok(())
}

/// Replaces the spec's content atomically: a fresh temporary file (exclusive, unpredictable
/// name) beside the file the path finally names, renamed over it — so a symlinked spec keeps
/// its link and the edit lands in its target.
fn write_spec(path: &Path, text: &str) -> Result<(), Failure> {
    let fail =
        |e: std::io::Error| Failure::Usage(format!("cannot write `{}`: {e}", path.display()));
    let target = std::fs::canonicalize(path).map_err(fail)?;
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".synctl-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(fail)?;
    std::io::Write::write_all(&mut tmp, text.as_bytes()).map_err(fail)?;
    if let Ok(meta) = std::fs::metadata(&target) {
        let _ = tmp.as_file().set_permissions(meta.permissions());
    }
    tmp.persist(&target).map_err(|e| fail(e.error))?;
    Ok(())
}

/// What `add-env` did and what is left to do by hand: printed as numbered steps, or as JSON
/// with `--format json` (docs/formats.md).
#[derive(Debug, serde::Serialize)]
struct Outcome {
    cluster: String,
    environment: String,
    role: &'static str,
    branch: String,
    /// The spec file edited, as given.
    spec: String,
    committed: bool,
    /// Generated files, relative to the output root.
    added: Vec<String>,
    changed: Vec<String>,
    removed: Vec<String>,
    /// The kube context the steps run against.
    context: String,
    /// Where a standalone cluster's own Flux starts (its entry folder).
    #[serde(skip_serializing_if = "Option::is_none")]
    entry: Option<String>,
    steps: Vec<Step>,
    secrets: Vec<NeededSecret>,
}

/// One manual step: run `commands` in order, or the `or` alternative instead.
#[derive(Debug, serde::Serialize)]
struct Step {
    what: String,
    commands: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    or: Vec<String>,
}

impl Step {
    fn new(what: impl Into<String>, commands: &[String]) -> Step {
        Step {
            what: what.into(),
            commands: commands.to_vec(),
            or: Vec::new(),
        }
    }
}

/// A Secret the new cluster's objects read, which nobody has created yet.
#[derive(Debug, serde::Serialize)]
struct NeededSecret {
    name: String,
    namespace: String,
    context: String,
    reason: String,
    command: String,
}

impl Outcome {
    fn text(&self) -> String {
        let mut out = if let Some(entry) = &self.entry {
            format!(
                "added standalone cluster `{}` (environment `{}`, branch `{}`); it runs its own Flux from {}/\n\nLeft to do by hand, against `{}`:\n",
                self.cluster, self.environment, self.branch, entry, self.context
            )
        } else {
            format!(
                "added cluster `{}` (environment `{}`)\n\nLeft to do by hand, against the hub `{}`:\n",
                self.cluster, self.environment, self.context
            )
        };
        for (i, s) in self.steps.iter().enumerate() {
            let colon = if s.commands.is_empty() { "" } else { ":" };
            out.push_str(&format!("  {}. {}{colon}\n", i + 1, s.what));
            for c in &s.commands {
                out.push_str(&format!("       {c}\n"));
            }
            for c in &s.or {
                out.push_str(&format!("     or: {c}\n"));
            }
        }
        if let Some(first) = self.secrets.first() {
            out.push_str(&format!(
                "\nSecrets its objects read, in namespace `{}` on `{}`:\n",
                first.namespace, first.context
            ));
            for s in &self.secrets {
                out.push_str(&format!("  {}   # {}\n", s.command, s.reason));
            }
        }
        out
    }
}

/// The steps left to do by hand, as exact commands.
fn outcome(
    fleet: &crate::model::Fleet,
    name: &str,
    spec: String,
    plan: &Plan,
    committed: bool,
) -> Outcome {
    let c = fleet.clusters.iter().find(|c| c.name == name);
    let standalone = c.is_some_and(super::super::model::Cluster::is_standalone);
    let (context, entry, steps) = match c {
        Some(c) if standalone && fleet.engine == Engine::Flux => {
            let entry = fleet.repository.repo_path(&c.folder());
            let steps = standalone_steps(fleet, c, &entry);
            (name.to_owned(), Some(entry), steps)
        }
        Some(c) => (
            fleet.hub().map_or("hub", |h| h.name.as_str()).to_owned(),
            None,
            cluster_steps(fleet, c),
        ),
        None => (String::new(), None, Vec::new()),
    };
    Outcome {
        cluster: name.to_owned(),
        environment: c.map(|c| c.environment.clone()).unwrap_or_default(),
        role: if standalone { "standalone" } else { "fleet" },
        branch: c.map(|c| c.branch.clone()).unwrap_or_default(),
        spec,
        committed,
        added: plan.add.keys().cloned().collect(),
        changed: plan.change.keys().cloned().collect(),
        removed: plan.remove.keys().cloned().collect(),
        context,
        entry,
        steps,
        secrets: needed_secrets(fleet, name),
    }
}

/// The Secrets the new cluster's objects read (fleet model K2, section 8): `valuesFrom`,
/// `decryption` and `substituteFrom` of its components and its tenant entries' `secretRef`s,
/// in the namespace where Flux reads them (`flux-system` where Flux runs, else the hub
/// namespace of the cluster).
fn needed_secrets(fleet: &crate::model::Fleet, name: &str) -> Vec<NeededSecret> {
    use std::collections::BTreeSet;
    let Some(ci) = fleet.clusters.iter().position(|c| c.name == name) else {
        return Vec::new();
    };
    if fleet.engine == Engine::ArgoCd {
        return Vec::new();
    }
    let c = &fleet.clusters[ci];
    let ns = if c.is_fleet() { name } else { "flux-system" };
    let mut secrets: BTreeSet<(String, String)> = BTreeSet::new();
    for comp in fleet
        .components
        .iter()
        .filter(|x| x.clusters.binary_search(&ci).is_ok())
    {
        let k = &comp.knobs;
        let refs = k
            .values_from
            .as_array()
            .into_iter()
            .flatten()
            .chain(&k.substitute_from)
            .filter(|r| r["kind"] == "Secret" && r["optional"] != true)
            .filter_map(|r| r["name"].as_str());
        for r in refs {
            secrets.insert((r.to_owned(), format!("read by `{}`", comp.name)));
        }
        if let Some(d) = &k.decryption {
            secrets.insert((d.clone(), format!("SOPS key of `{}`", comp.name)));
        }
    }
    for t in &fleet.tenants {
        for a in t.apps.iter().filter(|a| {
            a.clusters.binary_search(&ci).is_ok() && a.delivery == crate::model::Delivery::Flux
        }) {
            if let Some(s) = &a.secret_ref {
                secrets.insert((s.clone(), format!("Git credentials of tenant `{}`", t.name)));
            }
        }
    }
    let context = if c.is_fleet() {
        fleet.hub().map_or("hub", |h| h.name.as_str())
    } else {
        name
    };
    secrets
        .into_iter()
        .map(|(secret, reason)| NeededSecret {
            command: format!(
                "kubectl --context {context} -n {ns} create secret generic {secret} ..."
            ),
            name: secret,
            namespace: ns.to_owned(),
            context: context.to_owned(),
            reason,
        })
        .collect()
}

fn cluster_steps(fleet: &crate::model::Fleet, c: &crate::model::Cluster) -> Vec<Step> {
    let name = &c.name;
    let hub = fleet.hub().map_or("hub", |h| h.name.as_str());
    let mut steps = Vec::new();
    if fleet.engine == Engine::ArgoCd {
        let ns = &fleet.argocd_namespace;
        let mut register = Step::new(
            format!(
                "register the cluster with Argo CD on the hub (a cluster Secret named `{name}`)"
            ),
            &[format!(
                "argocd cluster add <kube-context-of-{name}> --name {name}"
            )],
        );
        register.or.push(format!(
            "kubectl --context {hub} -n {ns} create secret generic {name} --from-literal=name={name} --from-literal=server=https://<api-server-of-{name}> --from-file=config=./{name}-cluster-config.json && kubectl --context {hub} -n {ns} label secret {name} argocd.argoproj.io/secret-type=cluster"
        ));
        steps.push(register);
        steps.push(Step::new(
            "after pushing, apply the cluster's root Application once (hub/ is applied by hand with engine argocd)",
            &[format!("kubectl --context {hub} apply -f hub/{name}.yaml")],
        ));
        return steps;
    }
    steps.push(Step::new(
        format!("create the namespace `{name}` on the hub (Flux creates it too; the Secret needs it first)"),
        &[format!("kubectl --context {hub} create namespace {name}")],
    ));
    steps.push(match &c.kubeconfig {
        Kubeconfig::Secret { name: secret, key } => Step::new(
            format!("store the kubeconfig of `{name}` (with a long-lived token, not an exec plugin)"),
            &[format!("kubectl --context {hub} -n {name} create secret generic {secret} --from-file={key}=./{name}.kubeconfig")],
        ),
        Kubeconfig::ConfigMap { name: cm } => Step::new(
            "describe the cluster for workload identity",
            &[format!("kubectl --context {hub} -n {name} create configmap {cm} --from-literal=provider=<aws|azure|gcp> --from-literal=cluster=<cluster-resource-name> --from-literal=address=https://<api-server-of-{name}>")],
        ),
    });
    if let Some(secret) = &fleet.repository.secret_ref {
        steps.push(Step::new(
            "give the cluster's GitRepository its Git credentials",
            &[format!(
                "flux create secret git {secret} --namespace={name} --url={} (with --username/--password for HTTPS, or --private-key-file for SSH)",
                fleet.repository.url
            )],
        ));
    }
    if fleet.hub_index().is_some_and(|h| fleet.locked(h)) {
        steps.push(Step::new(
            format!("the hub is locked for tenants, so `{name}`'s platform objects run as `synctl-platform`; create it on `{name}`"),
            &[
                format!("kubectl --context {name} create namespace {name}"),
                format!("kubectl --context {name} -n {name} create serviceaccount synctl-platform"),
                format!("kubectl --context {name} create clusterrolebinding synctl-platform-{name} --clusterrole=cluster-admin --serviceaccount={name}:synctl-platform"),
            ],
        ));
    }
    steps.push(Step::new(
        format!("push the commit; Flux on `{hub}` reconciles hub/{name}.yaml and starts the waves of `{name}`"),
        &[],
    ));
    steps
}

/// The steps that start a standalone cluster's own Flux at its entry (fleet model section 8).
fn standalone_steps(
    fleet: &crate::model::Fleet,
    c: &crate::model::Cluster,
    entry: &str,
) -> Vec<Step> {
    use crate::model::Bootstrap;
    let name = &c.name;
    let url = &fleet.repository.url;
    let mut steps = Vec::new();
    match c.flux.bootstrap {
        Bootstrap::FluxCli => {
            let idx = fleet.clusters.iter().position(|x| x.name == *name);
            if idx.is_some_and(|i| fleet.locked(i)) {
                steps.push(Step::new(
                    format!("it is locked for tenants: commit {entry}/flux-system/kustomization.yaml with the lockdown patches (and empty gotk-components.yaml and gotk-sync.yaml beside it), as `synctl validate` prints them"),
                    &[],
                ));
            }
            let key = if url.starts_with("ssh://") {
                " --private-key-file=<path-to-deploy-key>"
            } else {
                ""
            };
            steps.push(Step::new(
                "bootstrap Flux at the entry",
                &[format!(
                    "flux bootstrap git --url={url} --branch={} --path={entry}{key}",
                    c.branch
                )],
            ));
            steps.push(Step::new(
                "run `synctl generate` again and commit: the entry then lists flux-system",
                &[],
            ));
        }
        Bootstrap::FluxOperator => {
            steps.push(Step::new(
                "install the Flux Operator",
                &["helm install flux-operator oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator -n flux-system --create-namespace".to_owned()],
            ));
            if let Some(secret) = &fleet.repository.secret_ref {
                let kind = if url.starts_with("ssh://") {
                    "ssh"
                } else {
                    "basic-auth"
                };
                steps.push(Step::new(
                    "give it the Git credentials",
                    &[format!(
                        "flux-operator create secret {kind} {secret} -n flux-system ..."
                    )],
                ));
            }
            steps.push(Step::new(
                "after pushing, apply the FluxInstance once (Flux manages itself from then on)",
                &[format!(
                    "kubectl --context {name} apply -f {entry}/flux-instance.yaml"
                )],
            ));
        }
    }
    steps
}
