//! What `add-env` did and the steps left to do by hand, as exact commands.

use crate::model::{Engine, Kubeconfig};
use crate::output::Plan;

/// What `add-env` did and what is left to do by hand: printed as numbered steps, or as JSON
/// with `--format json` (docs/formats.md).
#[derive(Debug, serde::Serialize)]
pub(super) struct Outcome {
    cluster: String,
    environment: String,
    role: &'static str,
    branch: String,
    /// The spec file edited, as given.
    spec: String,
    committed: bool,
    /// Generated files, from the current folder (as every path synctl prints).
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
    pub(super) fn text(&self) -> String {
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
pub(super) fn outcome(
    fleet: &crate::model::Fleet,
    name: &str,
    spec: String,
    plan: &Plan,
    committed: bool,
    prefix: &str,
) -> Outcome {
    let c = fleet.clusters.iter().find(|c| c.name == name);
    let standalone = c.is_some_and(crate::model::Cluster::is_standalone);
    let (context, entry, steps) = match c {
        Some(c) if standalone && fleet.engine == Engine::Flux => {
            let entry = fleet.repository.repo_path(&c.folder());
            let steps = standalone_steps(fleet, c, &entry);
            (name.to_owned(), Some(entry), steps)
        }
        Some(c) => (
            fleet.hub().map_or("hub", |h| h.name.as_str()).to_owned(),
            None,
            cluster_steps(fleet, c, prefix),
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
        added: plan.add.keys().map(|p| format!("{prefix}{p}")).collect(),
        changed: plan.change.keys().map(|p| format!("{prefix}{p}")).collect(),
        removed: plan.remove.keys().map(|p| format!("{prefix}{p}")).collect(),
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
    // Each Secret, why it is needed and what it holds, as `kubectl create secret` arguments
    // that run as printed (files beside the command, values from the environment).
    let mut secrets: BTreeSet<(String, String, String)> = BTreeSet::new();
    component_secrets(fleet, ci, &mut secrets);
    for t in &fleet.tenants {
        for a in t.apps.iter().filter(|a| {
            a.clusters.binary_search(&ci).is_ok() && a.delivery == crate::model::Delivery::Flux
        }) {
            if let Some(s) = &a.secret_ref {
                secrets.insert((
                    s.clone(),
                    format!("Git credentials of tenant `{}`", t.name),
                    git_credentials(&a.url),
                ));
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
        .map(|(secret, reason, args)| NeededSecret {
            command: format!(
                "kubectl --context {context} -n {ns} create secret generic {secret} {args}"
            ),
            name: secret,
            namespace: ns.to_owned(),
            context: context.to_owned(),
            reason,
        })
        .collect()
}

fn cluster_steps(
    fleet: &crate::model::Fleet,
    c: &crate::model::Cluster,
    prefix: &str,
) -> Vec<Step> {
    let name = &c.name;
    let hub = fleet.hub().map_or("hub", |h| h.name.as_str());
    let mut steps = Vec::new();
    if fleet.engine == Engine::ArgoCd {
        let ns = &fleet.argocd_namespace;
        let mut register = Step::new(
            format!(
                "register the cluster with Argo CD on the hub (a cluster Secret named `{name}`)"
            ),
            &[format!("argocd cluster add {name} --name {name}")],
        );
        register.or.push(format!(
            "kubectl --context {hub} -n {ns} create secret generic {name} --from-literal=name={name} --from-literal=server=\"$API_SERVER_URL\" --from-file=config=./{name}-cluster-config.json && kubectl --context {hub} -n {ns} label secret {name} argocd.argoproj.io/secret-type=cluster"
        ));
        steps.push(register);
        steps.push(Step::new(
            "after pushing, apply the cluster's root Application once (hub/ is applied by hand with engine argocd)",
            &[format!("kubectl --context {hub} apply -f {prefix}hub/{name}.yaml")],
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
            &[format!("kubectl --context {hub} -n {name} create configmap {cm} --from-literal=provider=\"$CLOUD_PROVIDER\" --from-literal=cluster=\"$CLUSTER_RESOURCE_NAME\" --from-literal=address=\"$API_SERVER_URL\"")],
        ),
    });
    if let Some(secret) = &fleet.repository.secret_ref {
        steps.push(Step::new(
            "give the cluster's GitRepository its Git credentials",
            &[format!(
                "kubectl --context {hub} -n {name} create secret generic {secret} {}",
                git_credentials(&fleet.repository.url)
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
        format!("push the commit; Flux on `{hub}` reconciles {prefix}hub/{name}.yaml and starts the waves of `{name}`"),
        &[],
    ));
    steps
}

/// The Secrets the components on cluster `ci` read: `valuesFrom` (a values file per key),
/// `substituteFrom` (an env file of variables) and the SOPS key of `decryption`.
fn component_secrets(
    fleet: &crate::model::Fleet,
    ci: usize,
    secrets: &mut std::collections::BTreeSet<(String, String, String)>,
) {
    let required = |r: &&serde_json::Value| r["kind"] == "Secret" && r["optional"] != true;
    for comp in fleet
        .components
        .iter()
        .filter(|x| x.clusters.binary_search(&ci).is_ok())
    {
        let k = &comp.knobs;
        for r in k
            .values_from
            .as_array()
            .into_iter()
            .flatten()
            .filter(required)
        {
            let Some(secret) = r["name"].as_str() else {
                continue;
            };
            let key = r["valuesKey"].as_str().unwrap_or("values.yaml");
            let args = format!("--from-file={key}=./{secret}.{key}");
            secrets.insert((
                secret.to_owned(),
                format!("values of `{}`", comp.name),
                args,
            ));
        }
        for r in k.substitute_from.iter().filter(required) {
            let Some(secret) = r["name"].as_str() else {
                continue;
            };
            let args = format!("--from-env-file=./{secret}.env");
            secrets.insert((
                secret.to_owned(),
                format!("variables of `{}`", comp.name),
                args,
            ));
        }
        if let Some(d) = &k.decryption {
            let args = "--from-file=age.agekey=./age.agekey".to_owned();
            secrets.insert((d.clone(), format!("SOPS key of `{}`", comp.name), args));
        }
    }
}

/// The `kubectl create secret generic` arguments of Git credentials for `url`, as Flux's
/// GitRepository reads them: an SSH key and known hosts, or a user name and token.
fn git_credentials(url: &str) -> String {
    if url.starts_with("ssh://") || url.starts_with("git@") {
        "--from-file=identity=./deploy-key --from-file=known_hosts=./known_hosts".to_owned()
    } else {
        "--from-literal=username=\"$GIT_USERNAME\" --from-literal=password=\"$GIT_TOKEN\""
            .to_owned()
    }
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
                " --private-key-file=./deploy-key"
            } else {
                ""
            };
            steps.push(Step::new(
                "bootstrap Flux at the entry",
                &[format!(
                    "flux bootstrap git --context {name} --url={url} --branch={} --path={entry}{key}",
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
                &[format!("helm install flux-operator oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator --kube-context {name} -n flux-system --create-namespace")],
            ));
            if let Some(secret) = &fleet.repository.secret_ref {
                steps.push(Step::new(
                    "give it the Git credentials",
                    &[format!(
                        "kubectl --context {name} -n flux-system create secret generic {secret} {}",
                        git_credentials(url)
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
