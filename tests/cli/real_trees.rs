//! `docs/real-trees.md` stays true: each reproduction is built with the real kustomize next to
//! the upstream repository, objects are counted by kind, and every difference must be a row of
//! the page with exactly these numbers (and every row must still hold).

use std::collections::BTreeMap;
use std::path::Path;

use crate::{kustomize, root};

fn kinds_of(text: &str, out: &mut BTreeMap<String, usize>) {
    for line in text.lines() {
        if let Some(kind) = line.strip_prefix("kind: ") {
            *out.entry(kind.trim().to_owned()).or_default() += 1;
        }
    }
}

/// Objects by kind: `dirs` built with kustomize, `files` read as they are.
fn count(base: &Path, dirs: &[&str], files: &[&str]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for d in dirs {
        kinds_of(&kustomize(&base.join(d)), &mut out);
    }
    for f in files {
        kinds_of(&std::fs::read_to_string(base.join(f)).unwrap(), &mut out);
    }
    out
}

/// The rows `| repository | kind | upstream | synctl | why |` of `docs/real-trees.md`.
fn documented() -> Vec<(String, String, usize, usize)> {
    let doc = std::fs::read_to_string(root().join("docs/real-trees.md")).unwrap();
    doc.lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            if cells.len() < 6 {
                return None;
            }
            let (u, s) = (cells[3].parse().ok()?, cells[4].parse().ok()?);
            Some((cells[1].to_owned(), cells[2].to_owned(), u, s))
        })
        .collect()
}

#[track_caller]
fn compare(repo: &str, upstream: &BTreeMap<String, usize>, ours: &BTreeMap<String, usize>) {
    let rows: Vec<_> = documented().into_iter().filter(|r| r.0 == repo).collect();
    let kinds: std::collections::BTreeSet<&String> = upstream.keys().chain(ours.keys()).collect();
    let mut failures = Vec::new();
    for kind in kinds {
        let (u, s) = (
            upstream.get(kind).copied().unwrap_or(0),
            ours.get(kind).copied().unwrap_or(0),
        );
        let row = rows.iter().find(|r| &r.1 == kind);
        match row {
            None if u != s => failures.push(format!(
                "{kind}: upstream {u}, synctl {s}, not explained in docs/real-trees.md"
            )),
            Some(r) if (r.2, r.3) != (u, s) => failures.push(format!(
                "{kind}: docs say {} vs {}, now {u} vs {s}",
                r.2, r.3
            )),
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{repo}:\n{}", failures.join("\n"));
}

#[test]
fn flux2_kustomize_helm_example_is_reproduced_object_for_object() {
    let up = root().join("../shared/realtrees/flux2-kustomize-helm-example");
    let upstream = count(
        &up,
        &[
            "infrastructure/controllers",
            "infrastructure/configs",
            "apps/staging",
        ],
        &[
            "clusters/staging/apps.yaml",
            "clusters/staging/infrastructure.yaml",
            "clusters/staging/artifacts.yaml",
        ],
    );
    let ours = count(
        &root().join("tests/fleets/flux2-kustomize-helm"),
        &[
            "fleet/staging/infra-controllers",
            "fleet/staging/apps",
            "infrastructure/configs",
        ],
        &["fleet/staging/clusters/staging/kustomizations.yaml"],
    );
    compare("flux2-kustomize-helm-example", &upstream, &ours);
}

#[test]
fn flux2_hub_spoke_example_is_reproduced_object_for_object() {
    let up = root().join("../shared/realtrees/flux2-hub-spoke-example");
    let upstream = count(
        &up,
        &[
            "clusters/staging/tenants",
            "clusters/staging/infra-controllers",
            "clusters/staging/infra-configs",
            "clusters/staging/apps",
        ],
        &["hub/staging.yaml"],
    );
    let ours = count(
        &root().join("tests/fleets/flux2-hub-spoke"),
        &[
            "fleet/staging/infra-controllers/remote",
            "fleet/staging/infra-controllers/releases",
            "fleet/staging/apps/remote",
            "fleet/staging/apps/releases",
            "accounts",
            "issuers",
        ],
        &["hub/staging.yaml"],
    );
    compare("flux2-hub-spoke-example", &upstream, &ours);
}
