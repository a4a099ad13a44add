//! Tenants and their entries (fleet model sections 4 and 7): entry names, placement inside the
//! tenant's, order among entries, the names Flux gives their objects, `${…}` in their
//! repository, roles and what they let a tenant do.

use crate::hashing::Map as HashMap;

use crate::diag::{Code, Problem};
use crate::model::{Delivery, Fleet, Isolation, TenantRole};
use crate::subst;

pub(super) fn check(fleet: &Fleet, problems: &mut Vec<Problem>) {
    for t in &fleet.tenants {
        if t.namespaces.is_empty() && t.role != TenantRole::ClusterAdmin {
            problems.push(
                Problem::error(Code::Schema, format!("tenant `{}` has no namespaces", t.name))
                    .at(t.span, "`namespaces: []` is for cluster-admin tenants only")
                    .help("give the tenant namespaces, or `role: cluster-admin` for an infrastructure tenant"),
            );
        }
        entries(fleet, t, problems);
        roles(t, problems);
        own_namespace(fleet, t, problems);
    }
}

/// `fluxNamespace: tenant`: each Flux entry needs a namespace of its own to live in, on a
/// cluster whose own Flux reads it; `synctl-vars` stays in `flux-system`, where a
/// `substituteFrom` in another namespace cannot reach it.
fn own_namespace(fleet: &Fleet, t: &crate::model::Tenant, problems: &mut Vec<Problem>) {
    let Some(span) = t.in_own_namespace else {
        return;
    };
    let refuse = |problems: &mut Vec<Problem>, what: String, at, help: &str| {
        problems.push(
            Problem::error(Code::Placement, what)
                .at(at, "an entry of this tenant")
                .also(span, "`fluxNamespace: tenant`")
                .help(help.to_owned()),
        );
    };
    if let Some(&c) = t.clusters.iter().find(|&&c| fleet.clusters[c].is_fleet()) {
        refuse(
            problems,
            format!(
                "tenant `{}` keeps its Flux objects in its own namespace, but fleet cluster `{}` is reconciled from the hub, where that namespace does not exist",
                t.name, fleet.clusters[c].name
            ),
            t.span,
            "place the tenant on clusters running their own Flux (hub, standalone), or remove `fluxNamespace`",
        );
    }
    for (e, a) in t.apps.iter().enumerate() {
        if a.delivery != Delivery::Flux {
            refuse(
                problems,
                format!(
                    "an Argo CD entry of tenant `{}` has no Flux objects to place in its namespace",
                    t.name
                ),
                a.span,
                "remove `fluxNamespace`, or deliver this entry with Flux",
            );
        } else if t.flux_namespace(e).is_none() {
            refuse(
                problems,
                format!(
                    "an entry of tenant `{}` has no namespace of its own to live in",
                    t.name
                ),
                a.span,
                "give the entry `namespace:` (one of the tenant's namespaces)",
            );
        } else if a.substitute {
            refuse(
                problems,
                format!(
                    "an entry of tenant `{}` substitutes from `synctl-vars`, which lives in flux-system",
                    t.name
                ),
                a.span,
                "remove `substitute: true`, or keep the tenant's Flux objects in flux-system",
            );
        }
    }
}

fn entries(fleet: &Fleet, t: &crate::model::Tenant, problems: &mut Vec<Problem>) {
    let mut names: HashMap<String, crate::spec::source::Span> = HashMap::default();
    for (e, a) in t.apps.iter().enumerate() {
        let name = t.entry_name(e);
        if let Some(first) = names.get(&name) {
            problems.push(
                Problem::error(
                    Code::Duplicate,
                    format!("tenant `{}` has two entries named `{name}`", t.name),
                )
                .at(a.span, "defined again here")
                .also(*first, "first defined here")
                .help("name the entries (`name:`); at most one may be unnamed"),
            );
        } else {
            names.insert(name.clone(), a.span);
        }
        // Flux labels every object it applies with the Kustomization's name (≤ 63).
        if name.len() > 63 {
            problems.push(
                Problem::error(
                    Code::Name,
                    format!(
                        "`{name}` is {} characters long; Flux labels objects with it (at most 63)",
                        name.len()
                    ),
                )
                .at(a.span, "this entry's Kustomization")
                .help("shorten the tenant's or the entry's name"),
            );
        }
        // The entry's target namespace is one of the tenant's: its account may write nowhere
        // else (RBAC or the AppProject would refuse it at apply time, unannounced).
        if let Some(ns) = &a.namespace
            && !t.namespaces.is_empty()
            && !t.namespaces.iter().any(|(n, _)| n == ns)
        {
            let own: Vec<&str> = t.namespaces.iter().map(|(n, _)| n.as_str()).collect();
            problems.push(
                Problem::error(
                    Code::Placement,
                    format!("an entry of tenant `{}` targets namespace `{ns}`, which is not the tenant's", t.name),
                )
                .at(a.span, "this entry")
                .help(format!("target one of the tenant's namespaces: {}", own.join(", "))),
            );
        }
        if let Some(&outside) = a
            .clusters
            .iter()
            .find(|c| t.clusters.binary_search(c).is_err())
        {
            problems.push(
                Problem::error(Code::Placement, format!("an entry of tenant `{}` is placed on `{}`, where the tenant is not", t.name, fleet.clusters[outside].name))
                    .at(a.placement_span, "outside the tenant's clusters")
                    .help("place the entry on the tenant's clusters only (its namespaces and account exist only there)"),
            );
        }
        for dep in &a.depends_on {
            let d = &t.apps[dep.index];
            if d.wave > a.wave {
                problems.push(
                    Problem::error(
                        Code::WaveOrder,
                        format!(
                            "an entry of tenant `{}` depends on an entry of the later wave `{}`",
                            t.name, fleet.waves[d.wave].name
                        ),
                    )
                    .at(dep.span, "applied after this entry")
                    .help("move the dependency to the same or an earlier wave"),
                );
            }
        }
        substitution(fleet, t, a, problems);
    }
    cycles(t, problems);
}

/// A cycle among a tenant's entries (they are few: a walk from each is enough).
fn cycles(t: &crate::model::Tenant, problems: &mut Vec<Problem>) {
    for start in 0..t.apps.len() {
        let mut path = vec![start];
        let mut cur = start;
        while let Some(next) = t.apps[cur].depends_on.first().map(|d| d.index) {
            if next == start {
                let names: Vec<String> = path
                    .iter()
                    .chain([&start])
                    .map(|&i| t.entry_name(i))
                    .collect();
                // Report each cycle once, from its smallest entry.
                if path.iter().min() == Some(&start) {
                    problems.push(
                        Problem::error(
                            Code::Cycle,
                            format!(
                                "dependency cycle among the entries of tenant `{}`: {}",
                                t.name,
                                names.join(" → ")
                            ),
                        )
                        .at(t.apps[cur].depends_on[0].span, "closes the cycle")
                        .help("remove one of these `dependsOn` entries"),
                    );
                }
                break;
            }
            if path.contains(&next) || path.len() > t.apps.len() {
                break;
            }
            path.push(next);
            cur = next;
        }
    }
}

/// `${VAR}` in an entry's repository (URL, branch, path, Secret) must resolve on each of its
/// clusters (N4): Flux empties an undefined one, and the source would point at a repository
/// nobody named (`https://github.com/acme/`); a branch that is only a variable must not
/// resolve to a number or a boolean.
fn substitution(
    fleet: &Fleet,
    t: &crate::model::Tenant,
    a: &crate::model::Apps,
    problems: &mut Vec<Problem>,
) {
    for &c in &a.clusters {
        let vars = fleet.clusters[c].variables();
        let secret = a.secret_ref.as_deref().unwrap_or_default();
        for (field, text) in [
            ("URL", a.url.as_str()),
            ("branch", &a.branch),
            ("path", &a.path),
            ("secretRef", secret),
        ] {
            for name in subst::required(text) {
                if !vars.contains_key(name) {
                    problems.push(
                        Problem::error(Code::Substitution, format!("`${{{name}}}` in the {field} of tenant `{}` is not defined for cluster `{}`", t.name, fleet.clusters[c].name))
                            .at(a.span, "used in this entry")
                            .also(fleet.clusters[c].span, "this cluster has no such variable")
                            .help(format!("add `{name}` to the `vars:` of `{}`", fleet.clusters[c].name)),
                    );
                }
            }
        }
        let bare = a.branch.starts_with("${")
            && a.branch.ends_with('}')
            && subst::required(&a.branch).count() == 1;
        if bare {
            let resolved = subst::substitute(&a.branch, &vars, &mut Vec::new());
            let typed = resolved.parse::<f64>().is_ok()
                || matches!(
                    resolved.to_ascii_lowercase().as_str(),
                    "true" | "false" | "yes" | "no" | "on" | "off"
                );
            if typed {
                problems.push(
                    Problem::error(Code::Substitution, format!("the branch of tenant `{}` becomes `{resolved}` on `{}`, which YAML reads as a number or boolean", t.name, fleet.clusters[c].name))
                        .at(a.span, "Flux substitutes it unquoted")
                        .help("name the branch so it is not a number or boolean (e.g. `release-1.2`)"),
                );
            }
        }
    }
}

/// What a role lets a tenant do (section 3 and 7): `admin`, `edit` and `cluster-admin` may
/// delete their own NetworkPolicy; Argo CD ignores the role when it syncs.
fn roles(t: &crate::model::Tenant, problems: &mut Vec<Problem>) {
    let strong = match &t.role {
        TenantRole::ClusterAdmin => true,
        TenantRole::ClusterRole(r) => matches!(r.as_str(), "admin" | "edit" | "cluster-admin"),
        TenantRole::Reconciler => false,
    };
    if strong && t.isolation == Isolation::Namespace && !t.namespaces.is_empty() {
        problems.push(
            Problem::warning(Code::Lockdown, format!("tenant `{}` is isolated by a NetworkPolicy its role `{}` may delete", t.name, t.role.cluster_role()))
                .at(t.role_span, "this role writes networkpolicies")
                .help("use the generated role (or one without networkpolicies) to keep the isolation, or set `isolation: none` to say it is not a boundary"),
        );
    }
    if t.role != TenantRole::Reconciler && t.apps.iter().any(|a| a.delivery == Delivery::ArgoCd) {
        problems.push(
            Problem::warning(Code::Lockdown, format!("tenant `{}` is delivered by Argo CD, which ignores its role", t.name))
                .at(t.role_span, "Argo CD syncs with its own identity")
                .help("the AppProject is the boundary for Argo CD tenants; the role applies to the tenant's Flux objects only"),
        );
    }
}
