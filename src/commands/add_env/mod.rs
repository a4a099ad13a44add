//! `synctl add-env NAME`: onboard a fleet cluster. The spec is edited as text — the new entry
//! is appended to `spec.clusters` in the list's own style, and with `--like` the name is added
//! to the explicit `clusters:` lists that hold the model cluster — so comments, key order and
//! formatting elsewhere stay as they were. The result is validated before anything is written.

use super::{DataFormat, Failure, Global, print_stdout};
use std::collections::BTreeMap;

use crate::model::{Cluster, Fleet};
use crate::render::yaml_out::flow_scalar;
use crate::spec::yaml::{Node, Value};

pub(crate) mod edit;
mod steps;

use edit::{Edit, append_item, flow_map};
use steps::outcome;

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

/// Runs `add-env`.
///
/// # Errors
/// [`Failure::Usage`] for a taken or invalid name or an unknown `--like`; [`Failure::Invalid`]
/// when the edited spec does not validate. Nothing is written in either case.
pub(crate) fn run(g: &Global, a: &Args) -> Result<(), Failure> {
    let spec_path = &g.file;
    let (original, checked) = edit::read_for_edit(g, "add-env")?;
    let Some((fleet, _)) = &checked.fleet else {
        return Err(Failure::Invalid);
    };
    let root = checked.root.as_ref().ok_or(Failure::Invalid)?;
    let text = edited(&original, root, fleet, a)?;
    // Validate the result before anything is written.
    let refused = format!(
        "the spec with `{}` added does not validate; nothing changed\n",
        a.name
    );
    let after = edit::valid_text(g, text.clone(), &refused)?;
    let subject = format!("synctl: add environment {}", a.name);
    let commit = !a.no_commit;
    let done = edit::write_edited(
        g,
        commit,
        after,
        (&original, &text),
        &subject,
        false,
        |compiled, plan| {
            let shown = spec_path.display().to_string();
            let prefix = g.printed_prefix();
            (compiled.checked.fleet.as_ref())
                .map(|(f, _)| outcome(f, &a.name, shown, plan, commit, &prefix))
        },
    )?
    .ok_or(Failure::Invalid)?;
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

/// The spec's text with the new cluster added: its entry appended to `spec.clusters` and,
/// with `--like`, its name to every explicit `clusters:` list that names the model cluster.
fn edited(original: &str, root: &Node, fleet: &Fleet, a: &Args) -> Result<String, Failure> {
    let new = NewCluster::resolve(fleet, a)?;
    let clusters_node = root.at(["spec", "clusters"]).ok_or(Failure::Invalid)?;
    let mut edits = vec![
        append_item(
            original,
            clusters_node,
            &format!("name: {}", a.name),
            &new.entry_lines(a),
        )
        .map_err(Failure::Usage)?,
    ];
    if let Some(l) = &a.like {
        edits.extend(like_edits(original, root, l, &a.name)?);
    }
    edits.sort_by_key(|e| std::cmp::Reverse(e.at));
    let mut text = original.to_owned();
    for e in &edits {
        text.insert_str(e.at, &e.text);
    }
    Ok(text)
}

/// The new cluster's settings: the flags, else the `--like` model's.
struct NewCluster {
    standalone: bool,
    bootstrap: Option<&'static str>,
    environment: Option<String>,
    branch: Option<String>,
    /// The model's `flux.components` when it overrides them (a standalone model only).
    flux_components: Option<Vec<String>>,
    labels: Vec<(String, String)>,
    vars: Vec<(String, String)>,
}

impl NewCluster {
    fn resolve(fleet: &Fleet, a: &Args) -> Result<NewCluster, Failure> {
        free_name(fleet, &a.name)?;
        let model = match &a.like {
            Some(l) => Some(
                fleet
                    .clusters
                    .iter()
                    .find(|c| &c.name == l)
                    .ok_or_else(|| {
                        let names: Vec<&str> =
                            fleet.clusters.iter().map(|c| c.name.as_str()).collect();
                        Failure::Usage(format!(
                            "--like `{l}`: no such cluster (clusters: {}); nothing changed",
                            names.join(", ")
                        ))
                    })?,
            ),
            None => None,
        };
        // The role: --role, else the model's (a hub model gives a fleet cluster).
        let standalone = match a.role {
            Some(RoleArg::Standalone) => true,
            Some(RoleArg::Fleet) => false,
            None => model.is_some_and(Cluster::is_standalone),
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
        let flux_components = model
            .filter(|m| m.is_standalone() && m.flux_span.is_some())
            .map(|m| m.flux.components.clone())
            .filter(|c| *c != crate::model::defaults::FLUX_COMPONENTS);
        Ok(NewCluster {
            standalone,
            bootstrap,
            environment: a
                .environment
                .clone()
                .or_else(|| model.filter(|m| !m.is_hub()).map(|m| m.environment.clone())),
            // --like copies the model's branch when it tracks another than the repository's.
            branch: a.branch.clone().or_else(|| {
                model
                    .filter(|m| m.branch != fleet.repository.branch)
                    .map(|m| m.branch.clone())
            }),
            flux_components,
            labels: overlaid(model.map(|m| &m.labels), &a.labels),
            vars: overlaid(model.map(|m| &m.vars), &a.vars),
        })
    }

    /// The entry's lines after `name:`, in the block style of the existing clusters.
    fn entry_lines(&self, a: &Args) -> Vec<String> {
        let mut rest = Vec::new();
        if self.standalone {
            rest.push("role: standalone".to_owned());
        }
        if let Some(env) = self.environment.as_ref().filter(|e| **e != a.name) {
            rest.push(format!("environment: {}", flow_scalar(env)));
        }
        if let Some(b) = &self.branch {
            rest.push(format!("branch: {}", flow_scalar(b)));
        }
        if let Some(s) = &a.kubeconfig_secret {
            rest.push(format!("kubeconfig: {{secretRef: {}}}", flow_scalar(s)));
        }
        if self.standalone {
            // --like copies the model's own `flux:` overrides; --bootstrap sets the kind.
            let mut flux: Vec<String> = Vec::new();
            if let Some(b) = self.bootstrap {
                flux.push(format!("bootstrap: {b}"));
            }
            if let Some(components) = &self.flux_components {
                flux.push(format!("components: [{}]", components.join(", ")));
            }
            if !flux.is_empty() {
                rest.push(format!("flux: {{{}}}", flux.join(", ")));
            }
        }
        if !self.labels.is_empty() {
            rest.push(format!("labels: {}", flow_map(&self.labels)));
        }
        if !self.vars.is_empty() {
            rest.push(format!("vars: {}", flow_map(&self.vars)));
        }
        rest
    }
}

/// `name` can name a new cluster: a DNS-1123 label no cluster has.
fn free_name(fleet: &Fleet, name: &str) -> Result<(), Failure> {
    if !is_dns_label(name) {
        return Err(Failure::Usage(format!(
            "`{name}` is not a valid cluster name: use a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters)"
        )));
    }
    if fleet.clusters.iter().any(|c| c.name == name) {
        return Err(Failure::Usage(format!(
            "a cluster named `{name}` already exists; nothing changed"
        )));
    }
    Ok(())
}

/// The model's pairs with the flags' set over them (a flag's key moves to the end).
fn overlaid(
    model: Option<&BTreeMap<String, String>>,
    flags: &[(String, String)],
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = model
        .map(|m| m.clone().into_iter().collect())
        .unwrap_or_default();
    for (k, v) in flags {
        out.retain(|(x, _)| x != k);
        out.push((k.clone(), v.clone()));
    }
    out
}

/// `--like`: the new name joins every explicit `clusters:` list that names the model cluster
/// — components, tenants and the tenants' entries.
fn like_edits(original: &str, root: &Node, like: &str, name: &str) -> Result<Vec<Edit>, Failure> {
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
    let mut edits = Vec::new();
    for item in placed {
        let Some(list) = item.get("clusters") else {
            continue;
        };
        if let Value::Seq(_) = list.value
            && list.items().iter().any(|n| n.as_str() == Some(like))
        {
            edits.push(append_item(original, list, name, &[]).map_err(Failure::Usage)?);
        }
    }
    Ok(edits)
}
