//! The rules of sharded Flux (`flux.sharding`, docs/sharding.md): what a standalone cluster's
//! sharding needs (tenants to spread, Flux 2.4, one sharding per environment), and a cluster
//! that `flux bootstrap` installs must run the shards' controllers from its own `flux-system/`
//! (synctl writes the FluxInstance's `sharding` for the Flux Operator).

use std::collections::BTreeMap;
use std::path::Path;

use crate::diag::{Code, Problem};
use crate::model::shards::LABEL;
use crate::model::{Bootstrap, Cluster, Fleet, Role};

/// What `flux-system/` must hold for the shards, the way Flux's sharding guide writes it.
fn guide(dir: &str, shards: &[String]) -> String {
    format!(
        "in {dir}/kustomization.yaml, keep the main controllers off the shards' objects:\n  patches:\n    - target:\n        kind: Deployment\n        name: \"(source-controller|kustomize-controller|helm-controller)\"\n        annotationSelector: \"!sharding.fluxcd.io/role\"\n      patch: |\n        - op: add\n          path: /spec/template/spec/containers/0/args/0\n          value: --watch-label-selector=!{LABEL}\nand list a folder per shard ({}) whose controllers run with --watch-label-selector={LABEL}=<shard> (Flux's sharding guide, fluxcd.io/flux/installation/configuration/sharding/)",
        shards.join(", ")
    )
}

/// Every sharded cluster's rules.
pub(super) fn check(fleet: &Fleet, out_root: Option<&Path>, problems: &mut Vec<Problem>) {
    let mut per_env: BTreeMap<&str, Vec<&Cluster>> = BTreeMap::new();
    for c in &fleet.clusters {
        if c.role == Role::Standalone {
            per_env.entry(&c.environment).or_default().push(c);
            standalone(c, problems);
        }
        if !c.shards.is_empty() && c.flux.bootstrap == Bootstrap::FluxCli {
            let dir = if c.is_hub() {
                "hub/flux-system".to_owned()
            } else {
                format!("{}/flux-system", c.folder())
            };
            if let Some(root) = out_root {
                controllers(c, root, &dir, problems);
            }
        }
    }
    // The environment's clusters share its overlays, where the tenants' entries carry their
    // shard: they must shard alike.
    for clusters in per_env.values() {
        let first = clusters[0];
        for c in &clusters[1..] {
            if c.shards != first.shards {
                let at = c.flux.sharding.map_or(c.span, |s| s.1);
                problems.push(
                    Problem::error(
                        Code::Shard,
                        format!(
                            "`{}` runs {} shards, but `{}`, of the same environment `{}`, {}",
                            c.name,
                            c.shards.len(),
                            first.name,
                            c.environment,
                            first.shards.len()
                        ),
                    )
                    .at(at, "its tenants' entries are labelled in fleet/<env>/, shared by the environment")
                    .help("give the environment's standalone clusters one `flux.sharding` (or put this cluster in an environment of its own)"),
                );
            }
        }
    }
}

/// A standalone cluster's sharding: tenants to spread, and a Flux that follows `dependsOn`
/// across shards (its tenants' entries wait for its waves, on the main controllers).
fn standalone(c: &Cluster, problems: &mut Vec<Problem>) {
    let Some((_, span)) = c.flux.sharding else {
        return;
    };
    if c.shards.is_empty() && c.flux.sharding_own {
        problems.push(
            Problem::error(
                Code::Shard,
                format!("`sharding` on standalone cluster `{}`, which runs no tenant's Flux entries", c.name),
            )
            .at(span, "spreads the cluster's tenants' entries over its controllers")
            .help("remove it: a standalone cluster's shards take its tenants' entries (`delivery: flux`); its own waves stay on the main controllers"),
        );
    }
    // `flux.version` is what the Flux Operator installs; `flux bootstrap` does not read it.
    if !c.shards.is_empty()
        && c.flux.bootstrap == Bootstrap::FluxOperator
        && crate::model::shards::before_2_4(&c.flux.version)
    {
        problems.push(
            Problem::error(
                Code::Shard,
                format!(
                    "`{}` shards its tenants' entries on Flux {}, which does not follow `dependsOn` across shards",
                    c.name, c.flux.version
                ),
            )
            .at(span, "its tenants' entries wait for its waves, which the main controllers reconcile")
            .help("run Flux 2.4 or later (`flux.version`): its controllers read `dependsOn` from the API server, around their shard's cache"),
        );
    }
}

/// A `flux bootstrap` cluster's `dir` runs a set of controllers per shard and keeps the main
/// controllers off the shards' objects: a warning before bootstrap, an error after.
fn controllers(c: &Cluster, root: &Path, dir: &str, problems: &mut Vec<Problem>) {
    let path = root.join(dir);
    let at = c.flux.sharding.map_or(c.span, |s| s.1);
    let Some(listing) = crate::folders::read_plain(&path.join("kustomization.yaml")) else {
        problems.push(
            Problem::warning(
                Code::Shard,
                format!(
                    "`{}` is sharded, but it has no `{dir}/kustomization.yaml` yet",
                    c.name
                ),
            )
            .at(at, "flux bootstrap installs the cluster's controllers")
            .help(guide(dir, &c.shards)),
        );
        return;
    };
    // Every file of flux-system/ (one level of folders: a folder per shard), read plain.
    let mut text = listing.clone();
    for e in walkdir::WalkDir::new(&path)
        .max_depth(2)
        .into_iter()
        .flatten()
    {
        if e.file_type().is_file()
            && e.path()
                .extension()
                .is_some_and(|x| x == "yaml" || x == "yml")
            && let Some(t) = crate::folders::read_plain(e.path())
        {
            text.push_str(&t);
        }
    }
    let mut missing: Vec<String> = Vec::new();
    let main = format!("--watch-label-selector=!{LABEL}");
    if !text.contains(&main) {
        missing.push(format!("the main controllers' {main}"));
    }
    for s in &c.shards {
        let selects = [format!("{LABEL}={s}"), format!("{LABEL} in ({s})")];
        if !selects.iter().any(|n| text.contains(n.as_str())) {
            missing.push(format!("controllers for `{s}`"));
        }
    }
    if !missing.is_empty() {
        problems.push(
            Problem::error(
                Code::Shard,
                format!(
                    "`{}` is sharded, but its Flux runs without {}",
                    c.name,
                    missing.join(", ")
                ),
            )
            .at(
                at,
                "the shards' objects would be reconciled by nothing, or twice",
            )
            .help(guide(dir, &c.shards)),
        );
    }
}
