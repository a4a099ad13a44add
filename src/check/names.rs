//! Names synctl or the controllers already use: reserved tenant and component names, system
//! namespaces, Helm release names, and the namespace metadata keys a component may not set.

use crate::diag::{Code, Problem};
use crate::hashing::Map as HashMap;
use crate::model::{Component, ComponentSource, Fleet};
use crate::spec::source::Span;

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
        if flux_account(n) || n.starts_with("synctl-") {
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
/// Namespace metadata keys Kubernetes or Flux set, or that change what Flux does with the
/// namespace (pruning, apply mode): nobody writes them through `namespaceMetadata`.
fn reserved_metadata_key(k: &str) -> bool {
    k == "kubernetes.io/metadata.name" || k.starts_with("kustomize.toolkit.fluxcd.io/")
}

/// A tenant's namespace metadata: besides the reserved keys, never a `synctl.dev/` key — the
/// labels synctl's own isolation trusts (`synctl.dev/ingress` would admit the tenant into
/// every other tenant's namespaces).
fn tenant_namespace_metadata(fleet: &Fleet, problems: &mut Vec<Problem>) {
    for t in &fleet.tenants {
        for (kind, map) in [
            ("label", &t.namespace_labels),
            ("annotation", &t.namespace_annotations),
        ] {
            for k in map.keys() {
                if reserved_metadata_key(k) || k.starts_with("synctl.dev/") {
                    problems.push(
                        Problem::error(
                            Code::Reserved,
                            format!("tenant `{}` sets the namespace {kind} `{k}`", t.name),
                        )
                        .at(t.span, "in its `namespaceMetadata`")
                        .help("remove it: synctl, Flux and Kubernetes set this key, and synctl's network isolation trusts `synctl.dev/` labels"),
                    );
                }
            }
        }
    }
}

/// Kubernetes refuses an object whose annotations (keys and values) pass 256 KiB
/// (`TotalAnnotationSizeLimitB`, apimachinery's `ValidateAnnotationsSize`).
const MAX_ANNOTATION_BYTES: usize = 256 << 10;

/// Annotations the API server would refuse, refused here with the spec item that sets them.
fn annotation_size(fleet: &Fleet, problems: &mut Vec<Problem>) {
    let tenants = fleet
        .tenants
        .iter()
        .map(|t| ("tenant", t.name.as_str(), &t.namespace_annotations, t.span));
    let components = fleet.components.iter().filter_map(|c| {
        let span = c.knobs.namespace_metadata_span?;
        Some((
            "component",
            c.name.as_str(),
            &c.knobs.namespace_annotations,
            span,
        ))
    });
    for (kind, name, map, span) in tenants.chain(components) {
        let size: usize = map.iter().map(|(k, v)| k.len() + v.len()).sum();
        if size > MAX_ANNOTATION_BYTES {
            problems.push(
                Problem::error(
                    Code::Size,
                    format!("the namespace annotations of {kind} `{name}` are {size} bytes; Kubernetes refuses more than {MAX_ANNOTATION_BYTES}"),
                )
                .at(span, "in its `namespaceMetadata`")
                .help("keep annotations small: large data belongs in a ConfigMap"),
            );
        }
    }
}

/// A `synctl.dev/` key on a component's namespace: tenants' network policies admit namespaces
/// labelled `synctl.dev/ingress` or `synctl.dev/monitoring`, so only the component that says
/// it is that stack (`provides: [ingress]`, `provides: [monitoring]`) may set the label; any
/// other `synctl.dev/` key is synctl's.
fn isolation_label(c: &Component, kind: &str, k: &str, span: Span) -> Option<Problem> {
    let capability = k.strip_prefix("synctl.dev/")?;
    let declared = kind == "label"
        && matches!(capability, "ingress" | "monitoring")
        && c.provides.iter().any(|p| p == capability);
    if declared {
        return None;
    }
    let help = if matches!(capability, "ingress" | "monitoring") && kind == "label" {
        format!(
            "tenants' NetworkPolicies admit this namespace: set it only on the {capability} stack, and mark that component `provides: [{capability}]`"
        )
    } else {
        "remove it: `synctl.dev/` keys are synctl's (only `synctl.dev/ingress` and `synctl.dev/monitoring` labels, on the component that provides that stack)".to_owned()
    };
    Some(
        Problem::error(
            Code::Reserved,
            format!("component `{}` sets the namespace {kind} `{k}`", c.name),
        )
        .at(span, "in its `namespaceMetadata`")
        .help(help),
    )
}

fn namespace_metadata(fleet: &Fleet, problems: &mut Vec<Problem>) {
    tenant_namespace_metadata(fleet, problems);
    annotation_size(fleet, problems);
    // Flux applies a `path:` folder as it is: the namespace is the folder's to create (Argo
    // CD's Application sets the metadata of the namespace it creates).
    if fleet.engine == crate::model::Engine::Flux {
        for c in &fleet.components {
            if let (Some(span), ComponentSource::Path(_)) =
                (c.knobs.namespace_metadata_span, &c.source)
            {
                problems.push(
                    Problem::error(
                        Code::Schema,
                        "`namespaceMetadata` does nothing here: with Flux a `path:` folder creates its own namespace",
                    )
                    .at(span, format!("`{}` is a `path:` component", c.name))
                    .help("set the labels and annotations on the Namespace in the folder's manifests, or remove `namespaceMetadata`"),
                );
            }
        }
    }
    let reserved = reserved_metadata_key;
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
                if let Some(problem) = isolation_label(c, kind, k, span) {
                    problems.push(problem);
                    continue;
                }
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

/// Whether `name` is the account of a Flux controller synctl can install (every controller
/// the schema's `fluxComponent` lists, `source-watcher` included), of any other
/// `*-controller`, or of the Flux Operator: a tenant named so would run as it in flux-system.
fn flux_account(name: &str) -> bool {
    crate::spec::schema::flux_component(name)
        || name == "flux-operator"
        || name.ends_with("-controller")
}

pub(super) fn reserved(fleet: &Fleet, problems: &mut Vec<Problem>) {
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
