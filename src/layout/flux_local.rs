//! Clusters that run their own Flux: the hub (`platform/<wave>/`, entry `hub/<hub>.yaml`) and
//! standalone clusters (overlays `fleet/<env>/<wave>/` shared by the environment, entry
//! `fleet/<env>/clusters/<cluster>/`). Both apply everything to themselves, so their overlays
//! have one shape; what differs is where they live and the entry that starts them (fleet
//! model sections 2 and 3).

use std::collections::BTreeSet;

use super::docs::{Content, Doc, FluxInstance};
use super::flux::{
    Ks, namespaces_per_wave, path_kustomization, wave_names, wave_spec, wave_timeout,
};
use super::release;
use super::tenants::{
    local_tenant_apps, needs_tenant_role, record_tenant_apps, synctl_vars, tenant_accounts,
    tenant_deps,
};
use super::waves::WavePlan;
use super::{Builder, Item};
use crate::model::{Bootstrap, Fleet};

/// The account Flux-running clusters' Kustomizations run as (bound to cluster-admin by Flux).
pub(super) const KUSTOMIZE_ACCOUNT: &str = "kustomize-controller";
/// The account their HelmReleases run as.
pub(super) const HELM_ACCOUNT: &str = "helm-controller";

/// Where the overlays of a Flux-running cluster live.
struct Site<'a> {
    /// `platform` (hub) or `fleet/<env>` (standalone).
    dir: String,
    /// From `<dir>/<wave>/` back to the output root.
    up: &'static str,
    /// The environment whose overrides apply (standalone clusters).
    env: Option<&'a str>,
    /// The clusters sharing the overlays.
    members: &'a [usize],
}

/// The hub: `platform/<wave>/` and `hub/<hub>.yaml` (+ `hub/flux-instance.yaml`).
pub(super) fn hub(b: &mut Builder<'_>, ci: usize, plans: &[WavePlan]) {
    let fleet = b.fleet;
    let site = Site {
        dir: "platform".to_owned(),
        up: "../..",
        env: None,
        members: &[ci],
    };
    overlays(b, &site, plans);
    let cluster = &fleet.clusters[ci];
    let file = format!("hub/{}.yaml", cluster.name);
    let (docs, sources) = entry_docs(b, ci, &site.dir, plans, &file);
    let comment = format!(
        "# Flux Kustomizations of the hub cluster `{}`, one per wave, applied in order.\n",
        cluster.name
    );
    b.file(
        file,
        Item::Cluster(ci),
        sources,
        [ci],
        Content::Docs {
            comment: Some(comment),
            docs,
            empty: Some("# No waves hold anything for this cluster.\n"),
        },
    );
    if cluster.flux.bootstrap == Bootstrap::FluxOperator {
        flux_instance(b, ci, "hub", "hub/flux-instance.yaml");
    }
}

/// The overlays `fleet/<env>/<wave>/` of a standalone environment, laid out from its first
/// cluster (placement rules guarantee its clusters hold the same components and tenants).
pub(super) fn standalone_overlays(
    b: &mut Builder<'_>,
    ci: usize,
    members: &[usize],
    plans: &[WavePlan],
) {
    let env = b.fleet.clusters[ci].environment.as_str();
    let site = Site {
        dir: format!("fleet/{env}"),
        up: "../../..",
        env: Some(env),
        members,
    };
    overlays(b, &site, plans);
}

/// The entry `fleet/<env>/clusters/<cluster>/` of a standalone cluster: `kustomization.yaml`
/// (`flux-system` when `flux bootstrap` wrote it, then the FluxInstance, then the waves),
/// `kustomizations.yaml`, and `flux-instance.yaml` with the Flux Operator.
pub(super) fn standalone(b: &mut Builder<'_>, ci: usize, plans: &[WavePlan], listing: &[String]) {
    let fleet = b.fleet;
    let cluster = &fleet.clusters[ci];
    let env = &cluster.environment;
    let dir = cluster.folder();
    let waves_file = format!("{dir}/kustomizations.yaml");
    let (docs, sources) = entry_docs(b, ci, &format!("fleet/{env}"), plans, &waves_file);
    let me = Item::Cluster(ci);
    b.file(
        waves_file,
        me,
        sources.clone(),
        [ci],
        Content::Docs {
            comment: Some(format!(
                "# Flux Kustomizations of the standalone cluster `{}` (environment `{env}`), one per wave, applied in order.\n",
                cluster.name
            )),
            docs,
            empty: Some("# No waves hold anything for this cluster.\n"),
        },
    );
    let mut resources: Vec<String> = listing.to_vec();
    if cluster.flux.bootstrap == Bootstrap::FluxOperator {
        flux_instance(b, ci, &dir, &format!("{dir}/flux-instance.yaml"));
        resources.push("flux-instance.yaml".to_owned());
    }
    resources.push("kustomizations.yaml".to_owned());
    resources.extend(super::entry_resources(cluster, &dir));
    b.file(
        format!("{dir}/kustomization.yaml"),
        me,
        sources,
        [ci],
        Content::resources(resources),
    );
}

/// The FluxInstance `flux` of cluster `ci`, syncing its entry folder `entry`.
fn flux_instance(b: &mut Builder<'_>, ci: usize, entry: &str, file: &str) {
    let fleet = b.fleet;
    let cluster = &fleet.clusters[ci];
    let f = &cluster.flux;
    let default_components: Vec<String> = crate::model::defaults::FLUX_COMPONENTS
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    let instance = FluxInstance {
        version: f.version.clone(),
        registry: f.registry.clone(),
        components: (f.components != default_components).then(|| f.components.clone()),
        multitenant: fleet.locked(ci),
        size: f.size.clone(),
        url: fleet.repository.url.clone(),
        branch: cluster.branch.clone(),
        path: fleet.repository.repo_path(entry),
        pull_secret: fleet.repository.secret_ref.clone(),
        sync_name: (fleet.hub_source_ref != "flux-system").then(|| fleet.hub_source_ref.clone()),
        patches: f.patches.as_ref().map(|(p, _)| p.clone()),
        shards: cluster.shards.clone(),
    };
    b.object(
        "FluxInstance",
        "flux-system",
        "flux",
        file,
        Item::Cluster(ci),
    );
    b.file(
        file.to_owned(),
        Item::Cluster(ci),
        [],
        [ci],
        Content::Docs {
            comment: Some(format!(
                "# Flux on `{}`, installed and upgraded by the Flux Operator; it syncs {}/.\n",
                cluster.name,
                fleet.repository.repo_path(entry)
            )),
            docs: vec![Doc::FluxInstance(Box::new(instance))],
            empty: None,
        },
    );
}

/// `<site>/<wave>/` for every wave that holds anything but `path:` components: Namespaces,
/// the tenants' boundaries (first wave), the charts (with the environment's overrides and the
/// HelmReleases' account), the tenants' entries of the wave.
fn overlays(b: &mut Builder<'_>, site: &Site<'_>, plans: &[WavePlan]) {
    let fleet = b.fleet;
    let first_names = plans
        .first()
        .map(|p| wave_names(fleet, p, true))
        .unwrap_or_default();
    let mut prev: Vec<String> = Vec::new();
    let up = site.up;
    for (plan, ns_docs) in plans.iter().zip(namespaces_per_wave(fleet, plans)) {
        let wave = &fleet.waves[plan.wave].name;
        let owner = Item::Wave(plan.wave);
        let sources = plan.sources(site.members);
        let members = site.members.iter().copied();
        if plan.has_main() {
            let dir = format!("{}/{wave}", site.dir);
            let mut resources = Vec::new();
            if !ns_docs.is_empty() {
                let path = format!("{dir}/namespaces.yaml");
                b.file(
                    path,
                    owner,
                    sources.clone(),
                    members.clone(),
                    Content::docs(ns_docs),
                );
                resources.push("namespaces.yaml".to_owned());
            }
            if needs_tenant_role(fleet, &plan.tenants) {
                resources.push(format!("{up}/deploy/tenant-role"));
            }
            resources.extend(
                plan.tenants
                    .iter()
                    .map(|&t| format!("{up}/deploy/tenants/{}", fleet.tenants[t].name)),
            );
            resources.extend(
                plan.charts
                    .iter()
                    .map(|&c| format!("{up}/deploy/{wave}/{}", fleet.components[c].name)),
            );
            let first = site.members.first().copied().unwrap_or_default();
            let apps = local_tenant_apps(fleet, first, plan, &tenant_deps(&first_names, &prev));
            if !apps.is_empty() {
                let path = format!("{dir}/tenant-apps.yaml");
                for &(t, e) in &plan.apps {
                    let ns = fleet.tenants[t].flux_namespace(e).unwrap_or_default();
                    record_tenant_apps(b, t, e, &ns, &path);
                }
                b.file(
                    path,
                    owner,
                    sources.clone(),
                    members.clone(),
                    Content::docs(apps),
                );
                resources.push("tenant-apps.yaml".to_owned());
            }
            let mut patches = Vec::new();
            for &c in &plan.charts {
                if let Some(env) = site.env {
                    patches.extend(release::environment_patches(fleet, c, env));
                }
                // A component's own account is written in its base and never overridden.
                if fleet.components[c].knobs.service_account.is_none() {
                    patches.push(release::account_patch(fleet, c, HELM_ACCOUNT));
                }
            }
            b.file(
                format!("{dir}/kustomization.yaml"),
                owner,
                sources,
                members,
                Content::Kustomize { resources, patches },
            );
        }
        prev = wave_names(fleet, plan, true);
    }
}

/// The entry's documents: the tenants' accounts, then one Kustomization per wave (and per
/// `path:` component), each after the previous wave; objects recorded in `file`.
fn entry_docs(
    b: &mut Builder<'_>,
    ci: usize,
    overlay_dir: &str,
    plans: &[WavePlan],
    file: &str,
) -> (Vec<Doc>, BTreeSet<Item>) {
    let fleet: &Fleet = b.fleet;
    let cluster = &fleet.clusters[ci];
    let ks = Ks {
        fleet,
        namespace: "flux-system".to_owned(),
        source: fleet.hub_source_ref.clone(),
        kubeconfig: None,
        substitute: Some(cluster.variables().into()),
        account: Some(KUSTOMIZE_ACCOUNT.to_owned()),
        shard: None,
    };
    let me = Item::Cluster(ci);
    let mut sources = BTreeSet::from([me]);
    let mut docs = tenant_accounts(fleet, ci, "flux-system");
    // What `substitute: true` entries read, beside them in flux-system (N4).
    docs.extend(synctl_vars(fleet, ci, "flux-system"));
    sources.extend(
        fleet
            .tenants
            .iter()
            .enumerate()
            .filter(|(_, t)| t.clusters.binary_search(&ci).is_ok())
            .map(|(i, _)| Item::Tenant(i)),
    );
    let mut prev: Vec<String> = Vec::new();
    for plan in plans {
        let wave = &fleet.waves[plan.wave].name;
        let owner = Item::Wave(plan.wave);
        sources.insert(owner);
        if plan.has_main() {
            b.object("Kustomization", "flux-system", wave, file, owner);
            let path = format!("{overlay_dir}/{wave}");
            let mut k = ks.object(wave, &path, &prev, false, None);
            let env = (!cluster.is_hub()).then_some(cluster.environment.as_str());
            k.timeout = wave_timeout(fleet, plan, env);
            k.extra = wave_spec(fleet, plan.wave, cluster);
            docs.push(Doc::Kustomization(Box::new(k)));
        }
        for &p in &plan.paths {
            sources.insert(Item::Component(p));
            let main = plan.has_main().then_some(wave.as_str());
            let k = path_kustomization(fleet, &ks, (p, ci), &prev, (plan, main), true);
            b.object(
                "Kustomization",
                "flux-system",
                &k.name,
                file,
                Item::Component(p),
            );
            docs.push(Doc::Kustomization(Box::new(k)));
        }
        prev = wave_names(fleet, plan, true);
    }
    (docs, sources)
}
