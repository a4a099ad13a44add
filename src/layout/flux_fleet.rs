//! The fleet-cluster half of the Flux layout: the environment overlays under `fleet/<env>/`
//! (shared by the environment's clusters; per-cluster values come from substitution) and
//! `hub/<cluster>.yaml` with the cluster's wave Kustomizations.

use std::collections::{BTreeMap, BTreeSet};

use super::docs::{Content, Doc, GitRepository};
use super::flux::{
    Ks, clean_path, has_remote, kubeconfig_ref, namespaces_per_wave, path_kustomization,
    wave_names, wave_spec, wave_timeout,
};
use super::release;
use super::tenants::{
    needs_tenant_role, record_tenant_apps, remote_tenant_apps, synctl_vars, tenant_accounts,
    tenant_deps,
};
use super::waves::WavePlan;
use super::{Builder, Item};
use crate::model::{ComponentSource, Delivery, Fleet, Kubeconfig};

/// The account a fleet cluster's platform objects run as on a locked hub (fleet model section
/// 3): `synctl-platform`, which the hub and the fleet cluster both hold; none otherwise (the
/// kubeconfig's identity).
pub(super) fn platform_account(fleet: &Fleet) -> Option<String> {
    fleet
        .hub_index()
        .filter(|&h| fleet.locked(h))
        .map(|_| PLATFORM_ACCOUNT.to_owned())
}

/// The account of a locked hub's fleet clusters.
pub(super) const PLATFORM_ACCOUNT: &str = "synctl-platform";

/// `fleet/<env>/<wave>/{remote,releases}/`, laid out from the first cluster of the environment
/// (placement rules guarantee its clusters hold the same components and tenants).
pub(super) fn env_overlays(
    b: &mut Builder<'_>,
    ci: usize,
    env_clusters: &[usize],
    plans: &[WavePlan],
) {
    let fleet = b.fleet;
    let env = &fleet.clusters[ci].environment;
    let first_names = plans
        .first()
        .map(|p| wave_names(fleet, p, false))
        .unwrap_or_default();
    let mut prev: Vec<String> = Vec::new();
    for (plan, ns_docs) in plans.iter().zip(namespaces_per_wave(fleet, plans)) {
        let overlay = Overlay {
            ci,
            env_clusters,
            plan,
            base: format!("fleet/{env}/{}", fleet.waves[plan.wave].name),
            sources: plan.sources(env_clusters),
            deps: tenant_deps(&first_names, &prev),
        };
        if has_remote(fleet, plan, false) {
            overlay.remote(b, ns_docs);
        }
        if plan.has_releases(fleet) {
            overlay.releases(b);
        }
        prev = wave_names(fleet, plan, false);
    }
}

/// One wave's overlays of an environment.
struct Overlay<'a> {
    /// The environment's first cluster, which the overlay is laid out from.
    ci: usize,
    env_clusters: &'a [usize],
    plan: &'a WavePlan,
    /// `fleet/<env>/<wave>`.
    base: String,
    sources: Vec<Item>,
    /// What the wave's tenant entries depend on.
    deps: Vec<String>,
}

impl Overlay<'_> {
    fn file(&self, b: &mut Builder<'_>, rel: &str, content: Content) {
        b.file(
            format!("{}/{rel}", self.base),
            Item::Wave(self.plan.wave),
            self.sources.clone(),
            self.env_clusters.iter().copied(),
            content,
        );
    }

    /// The end of overlay `dir` (`remote` or `releases`): the wave's tenant entries `delivery`
    /// delivers from it, then its `kustomization.yaml` listing `resources`.
    fn close(
        &self,
        b: &mut Builder<'_>,
        dir: &str,
        delivery: Delivery,
        mut resources: Vec<String>,
        patches: Vec<crate::layout::Patch>,
    ) {
        let apps = remote_tenant_apps(b.fleet, self.ci, self.plan, delivery, &self.deps);
        if !apps.is_empty() {
            self.file(b, &format!("{dir}/tenant-apps.yaml"), Content::docs(apps));
            resources.push("tenant-apps.yaml".to_owned());
        }
        self.file(
            b,
            &format!("{dir}/kustomization.yaml"),
            Content::Kustomize { resources, patches },
        );
    }

    /// `remote/`: what is applied on the fleet cluster itself — its namespaces, the tenants'
    /// accounts and boundaries, and the tenants' entries Argo CD delivers.
    fn remote(&self, b: &mut Builder<'_>, ns_docs: Vec<Doc>) {
        let (fleet, plan) = (b.fleet, self.plan);
        let mut resources = Vec::new();
        let mut patches = Vec::new();
        if !ns_docs.is_empty() {
            self.file(b, "remote/namespaces.yaml", Content::docs(ns_docs));
            resources.push("namespaces.yaml".to_owned());
        }
        if !plan.tenants.is_empty() {
            // The namespace named like the cluster, holding the tenants' accounts that Flux
            // impersonates there (`system:serviceaccount:<cluster>:<tenant>`); never pruned.
            let namespace = Doc::Namespace {
                name: "${CLUSTER_NAME}".to_owned(),
                labels: [
                    (
                        "kustomize.toolkit.fluxcd.io/prune".to_owned(),
                        "disabled".to_owned(),
                    ),
                    ("synctl.dev/tenant-accounts".to_owned(), "true".to_owned()),
                ]
                .into(),
                annotations: BTreeMap::new(),
            };
            let accounts = plan.tenants.iter().map(|&t| Doc::ServiceAccount {
                name: fleet.tenants[t].name.clone(),
                namespace: "${CLUSTER_NAME}".to_owned(),
                labels: [(
                    "toolkit.fluxcd.io/tenant".to_owned(),
                    fleet.tenants[t].name.clone(),
                )]
                .into(),
            });
            self.file(
                b,
                "remote/tenant-accounts.yaml",
                Content::docs(std::iter::once(namespace).chain(accounts).collect()),
            );
            resources.push("tenant-accounts.yaml".to_owned());
            if needs_tenant_role(fleet, &plan.tenants) {
                resources.push("../../../../deploy/tenant-role".to_owned());
            }
            for &t in &plan.tenants {
                resources.push(format!(
                    "../../../../deploy/tenants/{}",
                    fleet.tenants[t].name
                ));
                patches.push(release::tenant_account_patch(fleet, t));
            }
        }
        self.close(b, "remote", Delivery::ArgoCd, resources, patches);
    }

    /// `releases/`: the wave's HelmReleases, applied on the hub and reaching the cluster
    /// through its kubeconfig, with the environment's patches; and the tenants' entries Flux
    /// delivers.
    fn releases(&self, b: &mut Builder<'_>) {
        let (fleet, plan) = (b.fleet, self.plan);
        let cluster = &fleet.clusters[self.ci];
        let wave = &fleet.waves[plan.wave].name;
        let resources: Vec<String> = plan
            .charts
            .iter()
            .map(|&c| format!("../../../../deploy/{wave}/{}", fleet.components[c].name))
            .collect();
        let mut patches = Vec::new();
        if !plan.charts.is_empty() {
            patches.push(release::kubeconfig_patch(matches!(
                cluster.kubeconfig,
                Kubeconfig::ConfigMap { .. }
            )));
        }
        for &c in &plan.charts {
            patches.extend(release::environment_patches(fleet, c, &cluster.environment));
        }
        if let Some(account) = platform_account(fleet) {
            patches.extend(
                plan.charts
                    .iter()
                    .filter(|&&c| fleet.components[c].knobs.service_account.is_none())
                    .map(|&c| release::account_patch(fleet, c, &account)),
            );
        }
        self.close(b, "releases", Delivery::Flux, resources, patches);
    }
}

/// `hub/<cluster>.yaml`: the cluster's Namespace and GitRepository on the hub and its wave
/// Kustomizations — or, when it tracks another branch than the hub, one Kustomization applying
/// `fleet/<env>/clusters/<cluster>/` from that branch, which holds them.
///
/// A builder that defers ([`Builder::deferring`]) records the files with
/// [`Content::Cluster`] and builds none of their documents: [`super::Layout::content`] calls
/// this again when the file is rendered.
pub(super) fn fleet_cluster(b: &mut Builder<'_>, ci: usize, hub_branch: &str, plans: &[WavePlan]) {
    let fleet = b.fleet;
    let cluster = &fleet.clusters[ci];
    let ns = cluster.name.as_str();
    let me = Item::Cluster(ci);
    let hub_file = format!("hub/{}.yaml", cluster.name);
    let split = cluster.branch != hub_branch;
    let split_dir = cluster.folder();
    let waves_file = if split {
        format!("{split_dir}/kustomizations.yaml")
    } else {
        hub_file.clone()
    };
    let ks = (!b.defers).then(|| Ks {
        shard: cluster.shard.clone(),
        fleet,
        namespace: cluster.name.clone(),
        source: cluster.name.clone(),
        kubeconfig: Some(kubeconfig_ref(&cluster.kubeconfig).into()),
        substitute: Some(cluster.variables().into()),
        account: platform_account(fleet),
    });
    let Planned {
        waves,
        sources,
        mut sparse,
    } = wave_kustomizations(b, ci, plans, ks.as_ref());
    for (owner, name, _) in &waves {
        b.object("Kustomization", ns, name, &waves_file, *owner);
    }
    if split {
        sparse.insert(split_dir.clone());
    }
    b.object("GitRepository", ns, &cluster.name, &hub_file, me);
    if split {
        b.object("Kustomization", ns, &cluster.name, &hub_file, me);
    }
    let Some(ks) = ks else {
        let deferred = || Content::Cluster { cluster: ci };
        if split {
            b.file(waves_file, me, sources.clone(), [ci], deferred());
            let listing = format!("{split_dir}/kustomization.yaml");
            b.file(listing, me, sources.clone(), [ci], deferred());
        }
        b.file(hub_file, me, sources, [ci], deferred());
        return;
    };
    let mut docs = hub_objects(fleet, ci, &sparse);
    let waves: Vec<Doc> = waves
        .into_iter()
        .filter_map(|(_, _, k)| k)
        .map(|k| Doc::Kustomization(Box::new(k)))
        .collect();
    if split {
        docs.push(split_entry(b, ci, ks, waves, &sources));
    } else {
        docs.extend(waves);
    }
    let comment = format!(
        "# Fleet cluster `{}` (environment `{}`, branch `{}`): reconciled from the hub through the\n# kubeconfig Secret it names; its Flux objects live in the hub namespace `{}`.\n",
        cluster.name, cluster.environment, cluster.branch, cluster.name
    );
    b.file(
        hub_file,
        me,
        sources,
        [ci],
        Content::Docs {
            comment: Some(comment),
            docs,
            empty: None,
        },
    );
}

/// A cluster on another branch than the hub: its wave Kustomizations go to
/// `fleet/<env>/clusters/<cluster>/` on its branch, and the hub gets the one Kustomization
/// that applies that folder (returned).
fn split_entry(
    b: &mut Builder<'_>,
    ci: usize,
    ks: Ks<'_>,
    waves: Vec<Doc>,
    sources: &BTreeSet<Item>,
) -> Doc {
    let cluster = &b.fleet.clusters[ci];
    let (me, split_dir) = (Item::Cluster(ci), cluster.folder());
    b.file(
        format!("{split_dir}/kustomizations.yaml"),
        me,
        sources.clone(),
        [ci],
        Content::Docs {
            comment: None,
            docs: waves,
            empty: Some("# No waves hold anything for this cluster.\n"),
        },
    );
    b.file(
        format!("{split_dir}/kustomization.yaml"),
        me,
        sources.clone(),
        [ci],
        Content::resources(vec!["kustomizations.yaml".to_owned()]),
    );
    let entry = Ks {
        substitute: None,
        ..ks
    };
    Doc::Kustomization(Box::new(entry.object(
        &cluster.name,
        &split_dir,
        &[],
        false,
        None,
    )))
}

/// A fleet cluster's wave Kustomizations, in order.
struct Planned {
    /// Each one's owner and name, and the Kustomization when it is built.
    waves: Vec<(Item, String, Option<super::docs::Kustomization>)>,
    /// What the cluster's files come from.
    sources: BTreeSet<Item>,
    /// The folders its GitRepository checks out.
    sparse: BTreeSet<String>,
}

/// The wave Kustomizations of fleet cluster `ci` (built when `ks` is given), recording the
/// tenants' Flux entries they apply.
fn wave_kustomizations(
    b: &mut Builder<'_>,
    ci: usize,
    plans: &[WavePlan],
    ks: Option<&Ks<'_>>,
) -> Planned {
    let fleet = b.fleet;
    let cluster = &fleet.clusters[ci];
    let (env, ns) = (&cluster.environment, cluster.name.as_str());
    let mut sources = BTreeSet::from([Item::Cluster(ci)]);
    let mut waves = Vec::new();
    let mut prev: Vec<String> = Vec::new();
    let mut sparse: BTreeSet<String> = ["deploy".to_owned(), format!("fleet/{env}")].into();
    for plan in plans {
        let wave = &fleet.waves[plan.wave].name;
        let owner = Item::Wave(plan.wave);
        sources.insert(owner);
        let mut this = Vec::new();
        if has_remote(fleet, plan, false) {
            let path = format!("fleet/{env}/{wave}/remote");
            let k = ks.map(|ks| {
                let mut k = ks.object(wave, &path, &prev, true, None);
                k.extra = wave_spec(fleet, plan.wave, cluster);
                k
            });
            waves.push((owner, wave.clone(), k));
            this.push(wave.clone());
        }
        if plan.has_releases(fleet) {
            let name = format!("{wave}-releases");
            let k = ks.map(|ks| {
                let deps: Vec<String> = prev.iter().chain(&this).cloned().collect();
                let path = format!("fleet/{env}/{wave}/releases");
                let mut k = ks.object(&name, &path, &deps, false, Some(ns));
                k.timeout = wave_timeout(fleet, plan, Some(env));
                k.extra = wave_spec(fleet, plan.wave, cluster);
                if let Some(shard) = &cluster.shard {
                    k.patches
                        .extend(release::chart_shard_patch(fleet, &plan.charts, shard));
                }
                k
            });
            waves.push((owner, name, k));
            let releases = format!("fleet/{env}/{wave}/releases/tenant-apps.yaml");
            for &(t, e) in plan
                .apps
                .iter()
                .filter(|&&(t, e)| fleet.tenants[t].apps[e].delivery == Delivery::Flux)
            {
                record_tenant_apps(b, t, e, ns, &releases);
            }
        }
        for &p in &plan.paths {
            if let ComponentSource::Path(path) = &fleet.components[p].source {
                sparse.insert(clean_path(path));
            }
            sources.insert(Item::Component(p));
            let main = this.first().map(String::as_str);
            let k = ks.map(|ks| path_kustomization(fleet, ks, (p, ci), &prev, (plan, main), false));
            waves.push((Item::Component(p), fleet.components[p].name.clone(), k));
        }
        prev = wave_names(fleet, plan, false);
    }
    Planned {
        waves,
        sources,
        sparse,
    }
}

/// What the hub holds for fleet cluster `ci` in its namespace, before the Kustomizations: the
/// namespace, the GitRepository, the accounts Flux runs as or checks, and the substitution
/// variables entries read.
fn hub_objects(fleet: &Fleet, ci: usize, sparse: &BTreeSet<String>) -> Vec<Doc> {
    let cluster = &fleet.clusters[ci];
    let ns = cluster.name.as_str();
    let keep = || -> BTreeMap<String, String> {
        [(
            "kustomize.toolkit.fluxcd.io/prune".to_owned(),
            "disabled".to_owned(),
        )]
        .into()
    };
    let namespace = Doc::Namespace {
        name: cluster.name.clone(),
        labels: keep(),
        annotations: BTreeMap::new(),
    };
    let git = GitRepository {
        name: cluster.name.clone(),
        namespace: cluster.name.clone(),
        shard: cluster.shard.clone(),
        interval: fleet.defaults.interval.clone(),
        branch: cluster.branch.clone(),
        secret_ref: fleet.repository.secret_ref.clone(),
        // Folders of the repository, from its root (R1).
        sparse: Some(
            sparse
                .iter()
                .map(|p| fleet.repository.repo_path(p))
                .collect(),
        ),
        url: fleet.repository.url.clone(),
    };
    let mut docs = vec![namespace, Doc::GitRepository(Box::new(git))];
    // A locked hub runs the cluster's platform objects as `synctl-platform` (admin in the
    // cluster's hub namespace here; bound to cluster-admin on the cluster by hand).
    if let Some(account) = platform_account(fleet) {
        docs.push(Doc::ServiceAccount {
            name: account.clone(),
            namespace: ns.to_owned(),
            labels: keep(),
        });
        docs.push(Doc::RoleBinding {
            name: account.clone(),
            namespace: ns.to_owned(),
            cluster_role: "admin".to_owned(),
            account: account.clone(),
            account_namespace: ns.to_owned(),
            labels: keep(),
        });
    }
    // The tenants' accounts on the hub: Flux checks them before pruning (the finalizer).
    docs.extend(tenant_accounts(fleet, ci, ns));
    // The components' own accounts their objects name, on the hub too: a Kustomization's
    // finalizer checks that the account exists before it prunes (fleet model section 3).
    let own: BTreeSet<&str> = fleet
        .components
        .iter()
        .filter(|c| c.clusters.binary_search(&ci).is_ok())
        .filter_map(|c| c.knobs.service_account.as_deref())
        .collect();
    for account in own {
        docs.push(Doc::ServiceAccount {
            name: account.to_owned(),
            namespace: ns.to_owned(),
            labels: keep(),
        });
    }
    // What `substitute: true` entries read, in the namespace of their Kustomizations (N4).
    docs.extend(synctl_vars(fleet, ci, ns));
    docs
}
