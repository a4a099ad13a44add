//! Validation of the checked fleet: every rule of the design's table that needs the whole
//! spec (names and paths, duplicates, reserved names, the hub, order, placement, secrets).
//! Each rule appends problems; nothing stops at the first.

mod order;
mod secrets;
mod substitution;
mod tenants;

use crate::hashing::Map as HashMap;
use std::path::Path;

use crate::diag::{Code, Problem};
use crate::folders::{self, Folder};
use crate::graph::Graph;
use crate::model::{ComponentSource, Fleet};
use crate::spec::source::Span;

/// Runs every rule. `out_root` is the repository the tree is written into (for `path:`).
#[must_use]
pub(crate) fn check(fleet: &Fleet, graph: &Graph, out_root: Option<&Path>) -> Vec<Problem> {
    let mut problems = Vec::new();
    hub_count(fleet, &mut problems);
    duplicates(fleet, &mut problems);
    reserved(fleet, &mut problems);
    text_safety(fleet, &mut problems);
    tenants::check(fleet, &mut problems);
    flux_running(fleet, out_root, &mut problems);
    repository(fleet, out_root, &mut problems);
    let folders = paths(fleet, out_root, &mut problems);
    order::cycles(fleet, graph, &mut problems);
    order::wave_order(fleet, graph, &mut problems);
    order::placement(fleet, &mut problems);
    secrets::scan(fleet, &mut problems);
    substitution::check(fleet, &folders, &mut problems);
    problems
}

fn hub_count(fleet: &Fleet, problems: &mut Vec<Problem>) {
    let hubs: Vec<_> = fleet.clusters.iter().filter(|c| c.is_hub()).collect();
    match hubs.as_slice() {
        // Standalone clusters run their own Flux: a spec of them only needs no hub (T1).
        [] if !fleet.clusters.iter().any(crate::model::Cluster::is_fleet) => {}
        [] => {
            let span = fleet.clusters_span;
            problems.push(
                Problem::error(Code::Hub, "no cluster has `role: hub`")
                    .at(span, "one of these clusters must be the hub")
                    .help("mark the cluster that runs Flux (or Argo CD) for the fleet with `role: hub`, or make every cluster `role: standalone` (each runs its own Flux)"),
            );
        }
        [_] => {}
        [first, rest @ ..] => {
            for c in rest {
                problems.push(
                    Problem::error(Code::Hub, format!("`{}` is a second hub cluster", c.name))
                        .at(c.role_span, "second hub")
                        .also(first.role_span, format!("`{}` is already the hub", first.name))
                        .help("a fleet has exactly one hub; make the others fleet clusters (remove `role: hub`)"),
                );
            }
        }
    }
}

/// First-wins duplicate detection over `(name, span)` pairs.
fn report_duplicates<'a>(
    items: impl Iterator<Item = (&'a str, Span)>,
    what: &str,
    problems: &mut Vec<Problem>,
) {
    let mut seen: HashMap<&str, Span> = HashMap::default();
    for (name, span) in items {
        if let Some(first) = seen.get(name) {
            problems.push(
                Problem::error(Code::Duplicate, format!("two {what}s are named `{name}`"))
                    .at(span, "defined again here")
                    .also(*first, "first defined here")
                    .help(format!("{what} names must be unique; rename or remove one")),
            );
        } else {
            seen.insert(name, span);
        }
    }
}

fn duplicates(fleet: &Fleet, problems: &mut Vec<Problem>) {
    report_duplicates(
        fleet.waves.iter().map(|w| (w.name.as_str(), w.span)),
        "wave",
        problems,
    );
    report_duplicates(
        fleet.clusters.iter().map(|c| (c.name.as_str(), c.span)),
        "cluster",
        problems,
    );
    report_duplicates(
        fleet.components.iter().map(|c| (c.name.as_str(), c.span)),
        "component",
        problems,
    );
    report_duplicates(
        fleet.tenants.iter().map(|t| (t.name.as_str(), t.span)),
        "tenant",
        problems,
    );

    // A namespace belongs to one tenant, and never to a tenant and a component.
    let mut owner: HashMap<&str, (&str, Span)> = HashMap::default();
    for t in &fleet.tenants {
        let mut own: Vec<&str> = Vec::new();
        for (ns, span) in &t.namespaces {
            if own.contains(&ns.as_str()) {
                problems.push(
                    Problem::error(
                        Code::Duplicate,
                        format!("tenant `{}` lists namespace `{ns}` twice", t.name),
                    )
                    .at(*span, "listed again")
                    .help("remove the repeated namespace"),
                );
                continue;
            }
            own.push(ns);
            match owner.get(ns.as_str()) {
                Some((other, first)) => problems.push(
                    Problem::error(
                        Code::Duplicate,
                        format!(
                            "namespace `{ns}` is claimed by the tenants `{other}` and `{}`",
                            t.name
                        ),
                    )
                    .at(*span, "claimed again here")
                    .also(*first, "first claimed here")
                    .help("each tenant needs namespaces of its own"),
                ),
                None => {
                    owner.insert(ns, (&t.name, *span));
                }
            }
        }
    }
    for c in &fleet.components {
        if let Some((tenant, first)) = owner.get(c.namespace.as_str()) {
            problems.push(
                Problem::error(
                    Code::Duplicate,
                    format!("component `{}` deploys into `{}`, a namespace of the tenant `{tenant}`", c.name, c.namespace),
                )
                .at(c.namespace_span, "tenant namespace")
                .also(*first, "the tenant claims it here")
                .help("platform components need their own namespace; set `namespace:` to another name"),
            );
        }
    }
}

/// Paths, URLs and substitution values are copied into YAML and, for `vars`, substituted by
/// Flux into the text of manifests: a line break (of any YAML version) or a control character
/// there would become structure. Refused where written.
fn text_safety(fleet: &Fleet, problems: &mut Vec<Problem>) {
    use crate::spec::yaml::needs_escape;
    let bad = |s: &str| s.chars().any(needs_escape);
    let help = "remove the line break or control character (YAML 1.1 also breaks lines at U+0085, U+2028 and U+2029)";
    for c in &fleet.components {
        if let ComponentSource::Path(p) = &c.source
            && bad(p)
        {
            problems.push(
                Problem::error(
                    Code::Name,
                    format!(
                        "the path of component `{}` holds a line break or control character",
                        c.name
                    ),
                )
                .at(c.source_span, "not a plain path")
                .help(help),
            );
        }
    }
    for t in &fleet.tenants {
        if t.apps
            .iter()
            .any(|a| bad(&a.path) || bad(&a.url) || bad(&a.branch))
        {
            problems.push(
                Problem::error(
                    Code::Name,
                    format!(
                        "the repository of tenant `{}` holds a line break or control character",
                        t.name
                    ),
                )
                .at(t.span, "in its `apps.repository`")
                .help(help),
            );
        }
    }
    for c in &fleet.components {
        let trees = c.values_tree.iter().chain(
            c.environments
                .values()
                .filter_map(|o| o.values_tree.as_ref()),
        );
        for tree in trees {
            control_characters(tree, &c.name, problems);
        }
    }
    for c in &fleet.clusters {
        for (k, v) in &c.vars {
            if bad(k) || bad(v) {
                problems.push(
                    Problem::error(Code::Substitution, format!("the variable `{}` of cluster `{}` holds a line break or control character", k.escape_debug(), c.name))
                        .at(c.span, "Flux substitutes it into the text of manifests")
                        .help(help),
                );
            }
        }
    }
}

/// Control characters in Helm values: kustomize (go-yaml) refuses to write them, so an
/// overlay holding one would not build. Line breaks and tabs in string values are fine.
fn control_characters(node: &crate::spec::yaml::Node, comp: &str, problems: &mut Vec<Problem>) {
    use crate::spec::yaml::Value;
    let bad = |s: &str, allow_breaks: bool| {
        s.chars()
            .any(|c| c.is_control() && !(allow_breaks && matches!(c, '\n' | '\t' | '\r')))
    };
    let report = |problems: &mut Vec<Problem>, span, what: &str| {
        problems.push(
            Problem::error(Code::Yaml, format!("a {what} in the values of `{comp}` holds a control character"))
                .at(span, "kustomize cannot write this")
                .help("remove the control character (escape sequences such as \\u007F are still control characters)"),
        );
    };
    match &node.value {
        Value::Map(entries) => {
            for e in entries {
                if bad(&e.key, false) {
                    report(problems, e.key_span, "key");
                }
                control_characters(&e.value, comp, problems);
            }
        }
        Value::Seq(items) => items
            .iter()
            .for_each(|n| control_characters(n, comp, problems)),
        Value::Str(s) if bad(s, true) => report(problems, node.span, "string"),
        _ => {}
    }
}

/// Clusters that run their own Flux (fleet model sections 2, 3 and 7): one role and one
/// bootstrap kind per environment (T2), the waves named like entry folders (T7), the
/// controllers the cluster needs (T9), and the lockdown of `flux-cli` clusters.
fn flux_running(fleet: &Fleet, out_root: Option<&Path>, problems: &mut Vec<Problem>) {
    use crate::model::{Bootstrap, Engine};
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
    for (ci, c) in fleet
        .clusters
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.is_fleet())
    {
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
        if c.flux.bootstrap == Bootstrap::FluxCli && fleet.locked(ci) {
            lockdown(fleet, ci, out_root, problems);
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
    let Ok(text) = std::fs::read_to_string(&file) else {
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
fn repository(fleet: &Fleet, out_root: Option<&Path>, problems: &mut Vec<Problem>) {
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

/// Why namespace `ns` can never belong to a tenant, if it cannot.
fn system_namespace(fleet: &Fleet, ns: &str) -> Option<String> {
    if ns == "flux-system" || ns == fleet.argocd_namespace {
        Some(format!("`{ns}` is where the platform's controllers run"))
    } else if ns == "default" || ns.starts_with("kube-") {
        Some(format!("`{ns}` belongs to Kubernetes"))
    } else if ns.starts_with("synctl-") {
        Some("`synctl-*` namespaces are synctl's".to_owned())
    } else {
        None
    }
}

/// Tenants may not claim the namespaces the platform runs in (they would get write access to
/// its Secrets, and removing the tenant would prune the namespace), nor be named `default`
/// with Argo CD (their AppProject would replace the one platform Applications use).
fn reserved_tenants(fleet: &Fleet, problems: &mut Vec<Problem>) {
    for t in &fleet.tenants {
        for (ns, span) in &t.namespaces {
            if let Some(why) = system_namespace(fleet, ns) {
                problems.push(
                    Problem::error(Code::Reserved, format!("tenant `{}` claims the namespace `{ns}`", t.name))
                        .at(*span, why)
                        .help("give the tenant namespaces of its own (set `namespaces:` or rename the tenant)"),
                );
            }
        }
        // Tenant accounts live in flux-system beside Flux's own (fleet model N1).
        let n = t.name.as_str();
        if n == "flux-operator" || n.ends_with("-controller") || n.starts_with("synctl-") {
            problems.push(
                Problem::error(Code::Reserved, format!("a tenant cannot be named `{n}`"))
                    .at(
                        t.span,
                        "its account in flux-system would be one of Flux's or synctl's",
                    )
                    .help("rename the tenant"),
            );
        }
        let argocd = fleet.engine == crate::model::Engine::ArgoCd
            || t.apps
                .iter()
                .any(|a| a.delivery == crate::model::Delivery::ArgoCd);
        if argocd && t.name == "default" {
            problems.push(
                Problem::error(
                    Code::Reserved,
                    "a tenant named `default` would replace Argo CD's AppProject `default`",
                )
                .at(
                    t.span,
                    "the platform's Applications use the AppProject `default`",
                )
                .help("rename the tenant"),
            );
        }
    }
}

/// A HelmRelease's `releaseName` (the component's name) is at most 53 characters (Helm's
/// limit, enforced by the HelmRelease CRD).
fn release_names(fleet: &Fleet, problems: &mut Vec<Problem>) {
    for c in &fleet.components {
        if matches!(c.source, ComponentSource::Chart { .. }) && c.knobs.release_name.len() > 53 {
            problems.push(
                Problem::error(Code::Name, format!("the component name `{}` is {} characters long; a Helm release name has at most 53", c.name, c.name.len()))
                    .at(c.span, "too long for a Helm release")
                    .help("shorten the name to 53 characters or fewer, or set `releaseName`"),
            );
        }
    }
}

/// `namespaceMetadata` (K6): keys Kubernetes, Flux and synctl set are not the spec's, and
/// components sharing a namespace must agree on every key they both set.
fn namespace_metadata(fleet: &Fleet, problems: &mut Vec<Problem>) {
    let reserved = |k: &str| {
        k == "kubernetes.io/metadata.name"
            || k == "toolkit.fluxcd.io/tenant"
            || k.starts_with("kustomize.toolkit.fluxcd.io/")
    };
    let mut seen: HashMap<(&str, &str, &str), (&str, &str, Span)> = HashMap::default();
    for c in &fleet.components {
        let Some(span) = c.knobs.namespace_metadata_span else {
            continue;
        };
        for (kind, map) in [
            ("label", &c.knobs.namespace_labels),
            ("annotation", &c.knobs.namespace_annotations),
        ] {
            for (k, v) in map {
                if reserved(k) {
                    problems.push(
                        Problem::error(
                            Code::Reserved,
                            format!(
                                "the namespace {kind} `{k}` is set by Kubernetes, Flux or synctl"
                            ),
                        )
                        .at(span, format!("in the `namespaceMetadata` of `{}`", c.name))
                        .help("remove it; synctl and the controllers manage this key"),
                    );
                    continue;
                }
                match seen.get(&(c.namespace.as_str(), kind, k.as_str())) {
                    Some((other, value, first)) if *value != v.as_str() => problems.push(
                        Problem::error(
                            Code::Duplicate,
                            format!("components `{other}` and `{}` give namespace `{}` different values for the {kind} `{k}`", c.name, c.namespace),
                        )
                        .at(span, format!("`{v}` here"))
                        .also(*first, format!("`{value}` here"))
                        .help("components sharing a namespace must agree on its metadata"),
                    ),
                    Some(_) => {}
                    None => {
                        seen.insert((c.namespace.as_str(), kind, k.as_str()), (c.name.as_str(), v.as_str(), span));
                    }
                }
            }
        }
    }
}

fn reserved(fleet: &Fleet, problems: &mut Vec<Problem>) {
    reserved_tenants(fleet, problems);
    namespace_metadata(fleet, problems);
    release_names(fleet, problems);
    let mut taken: HashMap<&str, String> = HashMap::default();
    for c in &fleet.components {
        taken
            .entry(c.namespace.as_str())
            .or_insert_with(|| format!("the namespace of component `{}`", c.name));
    }
    for t in &fleet.tenants {
        for (ns, _) in &t.namespaces {
            taken
                .entry(ns.as_str())
                .or_insert_with(|| format!("a namespace of tenant `{}`", t.name));
        }
    }
    for c in fleet.clusters.iter().filter(|c| c.is_fleet()) {
        let why =
            if c.name == "flux-system" || c.name == "default" || c.name == fleet.argocd_namespace {
                Some(format!("`{}` is a namespace of the hub", c.name))
            } else if c.name.starts_with("kube-") {
                Some("`kube-*` namespaces belong to Kubernetes".to_owned())
            } else {
                taken
                    .get(c.name.as_str())
                    .map(|w| format!("`{}` is already {w}", c.name))
            };
        if let Some(why) = why {
            problems.push(
                Problem::error(Code::Reserved, format!("the fleet cluster `{}` would share the hub namespace `{}`", c.name, c.name))
                    .at(c.span, why)
                    .help("each fleet cluster gets a namespace on the hub named like it; rename the cluster"),
            );
        }
    }
}

/// The folders of the `path:` components, each scanned once (checked and scanned by the path
/// rule, read again for `${…}` by the substitution rule).
pub(crate) type Folders<'a> = HashMap<&'a str, Folder>;

fn paths<'a>(
    fleet: &'a Fleet,
    out_root: Option<&Path>,
    problems: &mut Vec<Problem>,
) -> Folders<'a> {
    let mut seen: Folders<'a> = HashMap::default();
    for c in &fleet.components {
        let ComponentSource::Path(p) = &c.source else {
            continue;
        };
        if let Err(why) = folders::check_relative_path(p) {
            problems.push(
                Problem::error(Code::Name, format!("the path `{p}` of component `{}` {why}", c.name))
                    .at(c.source_span, "escapes the repository")
                    .help("write a path relative to the repository root, without `..`, e.g. `policies/kyverno`"),
            );
            continue;
        }
        let Some(root) = out_root else { continue };
        let folder = seen
            .entry(p.as_str())
            .or_insert_with(|| folders::scan(root, p));
        if let Some(base) = &folder.remote_base
            && let Some(&locked) = c.clusters.iter().find(|&&k| fleet.locked(k))
        {
            problems.push(
                Problem::error(
                    Code::Lockdown,
                    format!(
                        "the folder of component `{}` lists the remote base `{base}`",
                        c.name
                    ),
                )
                .at(
                    c.source_span,
                    "kustomize-controller refuses remote bases on a locked cluster",
                )
                .help(format!(
                    "`{}` runs Flux with --no-remote-bases: vendor the base into the repository",
                    fleet.clusters[locked].name
                )),
            );
        }
        if fleet.engine == crate::model::Engine::ArgoCd
            && folder.exists
            && !folder.kustomization
            && (!c.knobs.patches.is_empty()
                || c.environments
                    .values()
                    .any(|o| o.patches.as_ref().is_some_and(|p| !p.is_empty())))
        {
            problems.push(
                Problem::error(
                    Code::UnknownRef,
                    format!(
                        "component `{}` has `patches`, but its folder has no kustomization.yaml",
                        c.name
                    ),
                )
                .at(
                    c.source_span,
                    "Argo CD applies kustomize patches only to a kustomization",
                )
                .help(
                    "add a kustomization.yaml listing the folder's manifests, or drop the patches",
                ),
            );
        }
        if !folder.exists {
            let dir = root.join(p.trim_start_matches("./"));
            problems.push(
                Problem::error(Code::UnknownRef, format!("the path `{p}` of component `{}` does not exist", c.name))
                    .at(c.source_span, format!("no folder `{}`", dir.display()))
                    .help("create the folder with a kustomization.yaml (or manifests) or fix the path; paths are relative to the output root"),
            );
        } else if !folder.has_manifests() {
            problems.push(
                Problem::warning(Code::UnknownRef, format!("the path `{p}` of component `{}` holds no manifests", c.name))
                    .at(c.source_span, "empty folder")
                    .help("Flux applies nothing from an empty folder; add a kustomization.yaml or YAML manifests"),
            );
        }
    }
    seen
}

#[cfg(test)]
mod tests;
