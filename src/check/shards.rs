//! The rules of a sharded hub (`flux.sharding`, docs/sharding.md): sharding is the hub's, and
//! a hub that `flux bootstrap` installs must run the shards' controllers from its own
//! `hub/flux-system/` (synctl writes the FluxInstance's `sharding` for the Flux Operator).

use std::path::Path;

use crate::diag::{Code, Problem};
use crate::model::{Bootstrap, Fleet};

/// What `hub/flux-system/` must hold for the shards, the way Flux's sharding guide writes it.
fn guide(shards: &[String]) -> String {
    format!(
        "in hub/flux-system/kustomization.yaml, keep the main controllers off the shards' objects:\n  patches:\n    - target:\n        kind: Deployment\n        name: \"(source-controller|kustomize-controller|helm-controller)\"\n        annotationSelector: \"!sharding.fluxcd.io/role\"\n      patch: |\n        - op: add\n          path: /spec/template/spec/containers/0/args/0\n          value: --watch-label-selector=!sharding.fluxcd.io/key\nand list a folder per shard ({}) whose controllers run with --watch-label-selector=sharding.fluxcd.io/key=<shard> (Flux's sharding guide, fluxcd.io/flux/installation/configuration/sharding/)",
        shards.join(", ")
    )
}

/// Sharding on a standalone cluster, and the shard controllers of a `flux bootstrap` hub.
pub(super) fn check(fleet: &Fleet, out_root: Option<&Path>, problems: &mut Vec<Problem>) {
    for c in fleet.clusters.iter().filter(|c| !c.is_hub()) {
        // The cluster's own `flux.sharding` (the fleet's `spec.flux.sharding` is the hub's).
        if let Some((_, span)) = c.flux.sharding.filter(|_| c.flux.sharding_own) {
            problems.push(
                Problem::error(Code::Shard, format!("`sharding` on cluster `{}`, which is not the hub", c.name))
                    .at(span, "shards the hub's controllers over its fleet clusters")
                    .help("remove it: `flux.sharding` spreads the fleet clusters' objects over the hub's controllers; a standalone cluster runs its own Flux unsharded"),
            );
        }
    }
    let Some(hub) = fleet.hub() else { return };
    if fleet.shards.is_empty() || hub.flux.bootstrap != Bootstrap::FluxCli {
        return;
    }
    let Some(root) = out_root else { return };
    let dir = root.join("hub/flux-system");
    let at = hub.flux.sharding.map_or(hub.span, |s| s.1);
    let Some(listing) = crate::folders::read_plain(&dir.join("kustomization.yaml")) else {
        problems.push(
            Problem::warning(
                Code::Shard,
                "the hub is sharded, but it has no `hub/flux-system/kustomization.yaml` yet",
            )
            .at(at, "flux bootstrap installs the hub's controllers")
            .help(guide(&fleet.shards)),
        );
        return;
    };
    // Every file of hub/flux-system/ (one level of folders: a folder per shard), read plain.
    let mut text = listing.clone();
    for e in walkdir::WalkDir::new(&dir)
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
    if !text.contains("--watch-label-selector=!sharding.fluxcd.io/key") {
        missing.push(
            "the main controllers' --watch-label-selector=!sharding.fluxcd.io/key".to_owned(),
        );
    }
    for s in &fleet.shards {
        let selects = [
            format!("sharding.fluxcd.io/key={s}"),
            format!("sharding.fluxcd.io/key in ({s})"),
        ];
        if !selects.iter().any(|n| text.contains(n.as_str())) {
            missing.push(format!("controllers for `{s}`"));
        }
    }
    if !missing.is_empty() {
        problems.push(
            Problem::error(
                Code::Shard,
                format!(
                    "the hub is sharded, but its Flux runs without {}",
                    missing.join(", ")
                ),
            )
            .at(
                at,
                "the shards' objects would be reconciled by nothing, or twice",
            )
            .help(guide(&fleet.shards)),
        );
    }
}
