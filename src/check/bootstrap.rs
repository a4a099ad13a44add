//! Clusters that run their own Flux: roles and bootstrap kinds per environment, the
//! controllers they need, the lockdown of `flux-cli` clusters, and the repository they read.

use std::path::Path;

use crate::diag::{Code, Problem};
use crate::model::{ComponentSource, Fleet};

/// Clusters that run their own Flux (fleet model sections 2, 3 and 7): one role and one
/// bootstrap kind per environment (T2), the waves named like entry folders (T7), the
/// controllers the cluster needs (T9), and the lockdown of `flux-cli` clusters.
pub(super) fn flux_running(fleet: &Fleet, out_root: Option<&Path>, problems: &mut Vec<Problem>) {
    use crate::model::{Bootstrap, Engine};
    roles(fleet, problems);
    entry_resources(fleet, out_root, problems);
    if fleet.engine != Engine::Flux {
        return;
    }
    for w in &fleet.waves {
        if w.name == "clusters" && fleet.clusters.iter().any(|c| !c.is_hub()) {
            problems.push(
                Problem::error(Code::Reserved, format!("a wave cannot be named `{}`", w.name))
                    .at(w.span, "a folder of fleet/<env>/ already has this name")
                    .help("rename the wave: `fleet/<env>/clusters/` holds the entries of the environment's clusters"),
            );
        }
    }
    operator_fields(fleet, problems);
    for (ci, c) in fleet
        .clusters
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.is_fleet())
    {
        controllers(fleet, ci, problems);
        bootstrap_folder(fleet, ci, out_root, problems);
        if c.flux.bootstrap == Bootstrap::FluxCli && fleet.locked(ci) {
            lockdown(fleet, ci, out_root, problems);
        }
        if c.flux.bootstrap == Bootstrap::FluxOperator && fleet.locked(ci) {
            instance_patches(c, problems);
        }
    }
}

/// `entryResources`: only where the cluster's own Flux reads an entry, each a folder of the
/// repository with a kustomization (never through a link out of it).
fn entry_resources(fleet: &Fleet, out_root: Option<&Path>, problems: &mut Vec<Problem>) {
    for c in &fleet.clusters {
        let Some((paths, span)) = &c.entry_resources else {
            continue;
        };
        if c.is_fleet() {
            problems.push(
                Problem::error(Code::Schema, format!("`entryResources` on the fleet cluster `{}`, which has no entry of its own", c.name))
                    .at(*span, "nothing on the cluster reads an entry")
                    .help("give the objects a component (`path:`) placed on the cluster, or make it a standalone cluster"),
            );
            continue;
        }
        for p in paths {
            let problem = match crate::folders::check_relative_path(p) {
                Err(why) => Some(format!("the entry resource `{p}` of `{}` {why}", c.name)),
                Ok(()) => out_root.and_then(|root| {
                    let at = root.join(p.trim_start_matches("./"));
                    if crate::folders::leads_outside(&at, root).is_some() {
                        Some(format!("the entry resource `{p}` of `{}` leads outside the repository through a link", c.name))
                    } else if !at.exists() {
                        Some(format!("the entry resource `{p}` of `{}` does not exist", c.name))
                    } else {
                        // kustomize lists a folder outside the entry only through its own
                        // kustomization (a file there breaks its load restrictions).
                        let listed = ["kustomization.yaml", "kustomization.yml", "Kustomization"];
                        (!at.is_dir() || !listed.iter().any(|k| at.join(k).is_file())).then(|| {
                            format!("the entry resource `{p}` of `{}` is not a folder with a kustomization.yaml, which is all kustomize lists from outside the entry's folder", c.name)
                        })
                    }
                }),
            };
            if let Some(message) = problem {
                problems.push(
                    Problem::error(Code::UnknownRef, message)
                        .at(*span, "listed in the cluster's entry")
                        .help("name a folder of the repository (relative to its root) that holds a kustomization.yaml listing its manifests"),
                );
            }
        }
    }
}

/// FluxInstance `kustomize.patches` on a cluster locked for tenants may tune the controllers
/// but not undo the lockdown: no argument removed or replaced, no lockdown flag set to
/// something else, no `serviceAccountName` removed.
fn instance_patches(c: &crate::model::Cluster, problems: &mut Vec<Problem>) {
    let Some((patches, span)) = &c.flux.patches else {
        return;
    };
    for p in patches {
        let text = p
            .get("patch")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("");
        let source = crate::source::Source::new("patch", text.to_owned());
        let body = crate::spec::yaml::parse(&source)
            .map(|n| n.to_json())
            .unwrap_or_default();
        let flag = [
            "--no-cross-namespace-refs=false",
            "--no-remote-bases=false",
            "--default-service-account",
        ]
        .into_iter()
        .find(|f| text.contains(f));
        let op = body.as_array().into_iter().flatten().find(|op| {
            let (kind, path) = (
                op.get("op")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or(""),
                op.get("path")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or(""),
            );
            matches!(kind, "remove" | "replace" | "move")
                && (path.contains("/args") || path.ends_with("/serviceAccountName"))
        });
        let merge_args = body.is_object() && text.contains("args:");
        let why = match (flag, op, merge_args) {
            (Some(f), _, _) => format!("sets `{f}`"),
            (None, Some(op), _) => format!(
                "{}s `{}`",
                op.get("op")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or(""),
                op.get("path")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("")
            ),
            (None, None, true) => "replaces the controllers' `args`".to_owned(),
            (None, None, false) => continue,
        };
        problems.push(
            Problem::error(
                Code::Lockdown,
                format!("a `flux.patches` entry of `{}` {why}, on a cluster locked for tenants", c.name),
            )
            .at(*span, "these patches")
            .help("tune the controllers with `add` operations (`/spec/template/spec/containers/0/args/-`); the Flux Operator sets the lockdown flags itself"),
        );
    }
}

/// The Flux Operator's fields (`version`, `registry`, `size`) where `flux bootstrap` installs
/// Flux: no FluxInstance is written, so nothing would read them. A cluster's own `flux:` is
/// checked per cluster; `spec.flux` only when no cluster running its own Flux uses the
/// operator (it applies to those that do).
fn operator_fields(fleet: &Fleet, problems: &mut Vec<Problem>) {
    let own_flux: Vec<&crate::model::Cluster> =
        fleet.clusters.iter().filter(|c| !c.is_fleet()).collect();
    let cli = |c: &crate::model::Cluster| c.flux.bootstrap == crate::model::Bootstrap::FluxCli;
    let refuse = |written: String, c: &crate::model::Cluster, at| {
        Problem::error(
            Code::Schema,
            format!("{written} does nothing here: cluster `{}` is installed by `flux bootstrap`", c.name),
        )
        .at(at, "no FluxInstance reads it")
        .help("remove it (flux bootstrap installs the version of the flux CLI that runs it, and its patches belong in the entry's flux-system/kustomization.yaml), or set `bootstrap: flux-operator`")
    };
    for c in own_flux.iter().filter(|c| cli(c)) {
        for &(field, own) in &c.flux.operator_fields {
            if let (true, Some(span)) = (own, c.flux_span) {
                problems.push(refuse(format!("`flux.{field}` of `{}`", c.name), c, span));
            }
        }
    }
    if let Some(first) = own_flux.first()
        && own_flux.iter().all(|c| cli(c))
    {
        for &(field, own) in &first.flux.operator_fields {
            if !own {
                problems.push(refuse(format!("`spec.flux.{field}`"), first, first.span));
            }
        }
    }
}

/// Fleet-cluster settings on clusters that run Flux and the other way round, and one role and
/// bootstrap kind per environment.
fn roles(fleet: &Fleet, problems: &mut Vec<Problem>) {
    for c in &fleet.clusters {
        if let (Some(span), false) = (c.kubeconfig_span, c.is_fleet()) {
            problems.push(
                Problem::error(
                    Code::Schema,
                    format!("`kubeconfig` on `{}`, which runs its own Flux", c.name),
                )
                .at(span, "only fleet clusters are reached through a kubeconfig")
                .help("remove `kubeconfig`, or make the cluster a fleet cluster (no `role`)"),
            );
        }
        if let (Some(span), true) = (c.flux_span, c.is_fleet()) {
            problems.push(
                Problem::error(
                    Code::Schema,
                    format!(
                        "`flux` on the fleet cluster `{}`, which runs no Flux",
                        c.name
                    ),
                )
                .at(span, "the hub reconciles this cluster")
                .help("remove `flux`, or make the cluster `role: standalone`"),
            );
        }
    }
    for (env, members) in fleet.environments() {
        let first = &fleet.clusters[members[0]];
        for &m in &members[1..] {
            let c = &fleet.clusters[m];
            let role_differs = c.role != first.role;
            let kind_differs = !c.is_fleet() && c.flux.bootstrap != first.flux.bootstrap;
            if role_differs || kind_differs {
                problems.push(
                    Problem::error(Code::Placement, format!("environment `{env}` mixes {} (`{}` and `{}`)", if role_differs { "roles" } else { "bootstrap kinds" }, first.name, c.name))
                        .at(c.span, "differs from the rest of its environment")
                        .also(first.span, "the environment's first cluster")
                        .help("clusters of one environment share its overlays; give this one an `environment:` of its own"),
                );
            }
        }
    }
}

/// An entry whose `kustomization.yaml` lists `flux-system` must still have it: a folder gone
/// or emptied since would make the entry fail to build, and dropping it from the listing
/// would make Flux prune its own controllers.
fn bootstrap_folder(
    fleet: &Fleet,
    ci: usize,
    out_root: Option<&Path>,
    problems: &mut Vec<Problem>,
) {
    let Some(root) = out_root else { return };
    let c = &fleet.clusters[ci];
    let entry = if c.is_hub() {
        "hub".to_owned()
    } else {
        c.folder()
    };
    let state = crate::folders::flux_system(root, &entry);
    if state.listed && !state.bootstrapped {
        problems.push(
            Problem::error(
                Code::UnknownRef,
                format!(
                    "`{entry}/kustomization.yaml` lists `flux-system`, but `{entry}/flux-system/` is gone or holds no kustomization.yaml"
                ),
            )
            .at(c.span, format!("the entry of `{}`", c.name))
            .help(format!(
                "restore `{entry}/flux-system/` (from Git, or with `flux bootstrap` again): without it Flux would prune its own controllers; if Flux is meant to go (uninstalled by hand, or installed another way), delete `{entry}/kustomization.yaml` as well and generate again"
            )),
        );
    }
}

/// The controllers cluster `ci` runs must include what its objects need.
fn controllers(fleet: &Fleet, ci: usize, problems: &mut Vec<Problem>) {
    let c = &fleet.clusters[ci];
    let has = |name: &str| c.flux.components.iter().any(|x| x == name);
    let needs_helm = fleet.components.iter().any(|comp| {
        matches!(comp.source, ComponentSource::Chart { .. })
            && comp.clusters.binary_search(&ci).is_ok()
    }) || fleet.tenants.iter().any(|t| {
        t.apps.iter().any(|a| {
            a.delivery == crate::model::Delivery::Flux && a.clusters.binary_search(&ci).is_ok()
        })
    });
    for (name, needed) in [
        ("source-controller", true),
        ("kustomize-controller", true),
        ("helm-controller", needs_helm),
    ] {
        if needed && !has(name) {
            problems.push(
                Problem::error(Code::Placement, format!("cluster `{}` runs Flux without `{name}`", c.name))
                    .at(c.span, "its `flux.components` leave it out")
                    .help(format!("add `{name}` to `flux.components` (charts need helm-controller; every cluster needs source- and kustomize-controller)")),
            );
        }
    }
}

/// The four patches of Flux's multi-tenancy lockdown, as `flux bootstrap` users write them in
/// `<entry>/flux-system/kustomization.yaml` (fluxcd.io, "Multi-tenancy lockdown").
const LOCKDOWN_BLOCK: &str = "patches:
  - patch: |
      - op: add
        path: /spec/template/spec/containers/0/args/0
        value: --no-cross-namespace-refs=true
    target:
      kind: Deployment
      name: \"(kustomize-controller|helm-controller|notification-controller|image-reflector-controller|image-automation-controller)\"
  - patch: |
      - op: add
        path: /spec/template/spec/containers/0/args/-
        value: --no-remote-bases=true
    target:
      kind: Deployment
      name: \"kustomize-controller\"
  - patch: |
      - op: add
        path: /spec/template/spec/containers/0/args/0
        value: --default-service-account=default
    target:
      kind: Deployment
      name: \"(kustomize-controller|helm-controller)\"
  - patch: |
      - op: add
        path: /spec/serviceAccountName
        value: kustomize-controller
    target:
      kind: Kustomization
      name: \"flux-system\"";

/// A locked `flux-cli` cluster must run its controllers with the lockdown flags, which only
/// its own `flux-system/kustomization.yaml` can set (`synctl::lockdown`).
fn lockdown(fleet: &Fleet, ci: usize, out_root: Option<&Path>, problems: &mut Vec<Problem>) {
    let c = &fleet.clusters[ci];
    let entry = if c.is_hub() {
        "hub".to_owned()
    } else {
        c.folder()
    };
    let Some(root) = out_root else { return };
    let file = root.join(&entry).join("flux-system/kustomization.yaml");
    let help = format!(
        "add the lockdown to {}/flux-system/kustomization.yaml (`flux bootstrap` keeps it):\n{LOCKDOWN_BLOCK}",
        fleet.repository.repo_path(&entry)
    );
    let Some(text) = crate::folders::read_plain(&file) else {
        problems.push(
            Problem::warning(Code::Lockdown, format!("cluster `{}` is locked for tenants, but it has no `flux-system/kustomization.yaml` yet", c.name))
                .at(c.span, "bootstrapped with flux bootstrap")
                .help(help),
        );
        return;
    };
    let missing: Vec<&str> = [
        (
            "--no-cross-namespace-refs=true",
            "--no-cross-namespace-refs=true",
        ),
        ("--default-service-account=", "--default-service-account"),
        ("--no-remote-bases=true", "--no-remote-bases=true"),
        (
            "/spec/serviceAccountName",
            "serviceAccountName on Kustomization flux-system",
        ),
    ]
    .iter()
    .filter(|(needle, _)| !text.contains(needle))
    .map(|(_, what)| *what)
    .collect();
    if !missing.is_empty() {
        problems.push(
            Problem::error(
                Code::Lockdown,
                format!(
                    "cluster `{}` is locked for tenants, but its Flux runs without {}",
                    c.name,
                    missing.join(", ")
                ),
            )
            .at(
                c.span,
                "tenants here could act as Flux's own cluster-admin accounts",
            )
            .help(help),
        );
    }
}

/// Whether `url` is cloned over SSH (`ssh://…` or scp-like `user@host:path`).
fn is_ssh(url: &str) -> bool {
    url.starts_with("ssh://") || (!url.contains("://") && url.contains('@') && url.contains(':'))
}

/// The repository facts of the fleet model (R1, R2): an SSH URL needs a `secretRef` wherever
/// synctl writes a GitRepository for it; `repository.path` must be where the output root sits
/// in the repository (checked when the enclosing work tree's `origin` is that repository).
pub(super) fn repository(fleet: &Fleet, out_root: Option<&Path>, problems: &mut Vec<Problem>) {
    let repo = &fleet.repository;
    let fleet_clusters =
        fleet.engine == crate::model::Engine::Flux && fleet.clusters.iter().any(|c| !c.is_hub());
    if is_ssh(&repo.url) && repo.secret_ref.is_none() && fleet_clusters {
        problems.push(
            Problem::error(Code::Repository, "the repository is cloned over SSH but names no `secretRef`")
                .at(repo.url_span, "each fleet cluster's GitRepository needs a deploy key to clone this")
                .help("add `secretRef: <name>` (a Secret with `identity` and `known_hosts` in each fleet cluster's hub namespace), or use an https:// URL"),
        );
    }
    for t in &fleet.tenants {
        if t.apps.iter().any(|a| {
            a.delivery == crate::model::Delivery::Flux && is_ssh(&a.url) && a.secret_ref.is_none()
        }) {
            problems.push(
                Problem::error(
                    Code::Repository,
                    format!(
                        "the repository of tenant `{}` is cloned over SSH but names no `secretRef`",
                        t.name
                    ),
                )
                .at(
                    t.span,
                    "its GitRepository cannot clone without a deploy key",
                )
                .help("add `apps.repository.secretRef: <name>`, or use an https:// URL"),
            );
        }
    }
    let Some(root) = out_root else { return };
    let Some((rel, Some(origin))) = crate::repo::location(root) else {
        return;
    };
    if !crate::repo::same_repository(&origin, &repo.url) || rel == repo.path {
        return;
    }
    let shown = |p: &str| {
        if p.is_empty() {
            "./".to_owned()
        } else {
            format!("./{p}")
        }
    };
    let span = if repo.path_span.len > 0 {
        repo.path_span
    } else {
        repo.url_span
    };
    problems.push(
        Problem::error(
            Code::Repository,
            format!(
                "the output root is `{}` in the repository, but `repository.path` is `{}`",
                shown(&rel),
                shown(&repo.path)
            ),
        )
        .at(
            span,
            "Flux and Argo CD read every path from the repository root",
        )
        .help(format!("set `repository.path: {}`", shown(&rel))),
    );
}
