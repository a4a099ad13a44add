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

// --- Field by field, as Flux applies it (issue 20 item 4) -----------------------------------

use serde_json::Value;

/// Each cluster's objects as `synctl check --objects` reads them: cluster → (kind, namespace,
/// name) → the object as it reaches the cluster.
type Objects = BTreeMap<String, BTreeMap<(String, String, String), Value>>;

fn read(dir: &Path, args: &[&str]) -> Objects {
    let run = crate::Synctl::new()
        .args([
            "check",
            dir.to_str().unwrap(),
            "--format",
            "json",
            "--objects",
            "-q",
        ])
        .args(args)
        .within(300)
        .run();
    let plan: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{}: {e}\n{}", dir.display(), run.stderr));
    let mut out = Objects::new();
    for entry in plan["entries"].as_array().unwrap() {
        for c in entry["clusters"].as_array().unwrap() {
            let cluster = c["name"].as_str().unwrap().to_owned();
            for a in c["appliers"].as_array().unwrap() {
                for o in a["objects"].as_array().unwrap() {
                    let key = |k: &str| o[k].as_str().unwrap().to_owned();
                    let mut value = o["object"].clone();
                    effective(&mut value);
                    out.entry(cluster.clone())
                        .or_default()
                        .insert((key("kind"), key("namespace"), key("name")), value);
                }
            }
        }
    }
    out
}

/// Writes the values the controllers take for fields left out (helm-controller: release name,
/// target and storage namespaces, the 5m timeout, `Create`/`Skip` CRD policies;
/// kustomize-controller: `wait: false`), so that a field written with its default and one left
/// out compare equal.
fn effective(o: &mut Value) {
    let kind = o["kind"].as_str().unwrap_or("").to_owned();
    let name = o["metadata"]["name"].as_str().unwrap_or("").to_owned();
    let ns = o["metadata"]["namespace"].as_str().unwrap_or("").to_owned();
    let flux = o["apiVersion"]
        .as_str()
        .is_some_and(|a| a.contains("fluxcd"));
    let Some(spec) = o.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let mut default = |k: &str, v: Value| {
        spec.entry(k).or_insert(v);
    };
    match kind.as_str() {
        "HelmRelease" => {
            default("timeout", "5m".into());
            let target = spec
                .get("targetNamespace")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let release = target
                .as_ref()
                .map_or(name.clone(), |t| format!("{t}-{name}"));
            spec.entry("releaseName").or_insert(release.into());
            spec.entry("storageNamespace")
                .or_insert(target.clone().unwrap_or_else(|| ns.clone()).into());
            spec.entry("targetNamespace").or_insert(ns.into());
            for (phase, crds) in [("install", "Create"), ("upgrade", "Skip")] {
                let p = spec
                    .entry(phase)
                    .or_insert(Value::Object(serde_json::Map::new()));
                if let Some(p) = p.as_object_mut() {
                    p.entry("crds").or_insert(crds.into());
                }
            }
        }
        "Kustomization" if flux => {
            default("wait", false.into());
        }
        _ => {}
    }
}

/// Every leaf where `a` (upstream) and `b` (synctl) differ, as JSON paths.
fn leaves(upstream: &Value, ours: &Value, path: &str, out: &mut Vec<String>) {
    match (upstream, ours) {
        (Value::Object(up), Value::Object(our)) => {
            let keys: std::collections::BTreeSet<&String> = up.keys().chain(our.keys()).collect();
            for key in keys {
                let next = format!("{path}/{key}");
                match (up.get(key), our.get(key)) {
                    (Some(u), Some(o)) => leaves(u, o, &next, out),
                    _ => out.push(next),
                }
            }
        }
        _ if upstream != ours => out.push(path.to_owned()),
        _ => {}
    }
}

/// The rows `| repository | Kind/name | field | why |` of `docs/real-trees.md`'s field table
/// (`*` in a name matches anything; a field matches itself and what lies under it; `(missing)`
/// and `(extra)` stand for a whole object only upstream or only in synctl's tree).
fn field_rules(repo: &str) -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(root().join("docs/real-trees.md")).unwrap();
    doc.lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells.len() == 6 && cells[1] == repo && cells[2] != "object").then(|| {
                let strip = |c: &str| c.trim_matches('`').to_owned();
                (strip(cells[2]), strip(cells[3]))
            })
        })
        .collect()
}

fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((pre, post)) => {
            text.len() >= pre.len() + post.len() && text.starts_with(pre) && text.ends_with(post)
        }
    }
}

/// Compares each pair of (upstream cluster, synctl cluster): every upstream object present and
/// equal field by field, and nothing more in synctl's tree, except the listed differences.
fn compare_fields(repo: &str, upstream: &Objects, ours: &Objects, pairs: &[(&str, &str)]) {
    let rules = field_rules(repo);
    let mut used = vec![false; rules.len()];
    let mut failures = Vec::new();
    let mut allowed = |object: &str, field: &str| {
        let hit = rules.iter().position(|(o, f)| {
            glob(o, object) && (field == f || field.starts_with(&format!("{f}/")))
        });
        if let Some(i) = hit {
            used[i] = true;
        }
        hit.is_some()
    };
    let empty = BTreeMap::new();
    for (u, s) in pairs {
        let up = upstream.get(*u).unwrap_or(&empty);
        let our = ours.get(*s).unwrap_or(&empty);
        let mut matched = std::collections::BTreeSet::new();
        for ((kind, ns, name), value) in up {
            let label = format!("{kind}/{name}");
            let found = our
                .get(&(kind.clone(), ns.clone(), name.clone()))
                .map(|v| (ns.clone(), v));
            let found = found.or_else(|| {
                let same: Vec<_> = our
                    .iter()
                    .filter(|((k, _, n), _)| k == kind && n == name)
                    .collect();
                (same.len() == 1).then(|| (same[0].0.1.clone(), same[0].1))
            });
            let Some((our_ns, ours_value)) = found else {
                if !allowed(&label, "(missing)") {
                    failures.push(format!("{u}: {label} ({ns}) is not in synctl's tree"));
                }
                continue;
            };
            matched.insert((kind.clone(), our_ns, name.clone()));
            let mut diffs = Vec::new();
            leaves(value, ours_value, "", &mut diffs);
            for d in diffs {
                if !allowed(&label, &d) {
                    failures.push(format!(
                        "{u}: {label} {d}: upstream {} synctl {}",
                        value.pointer(&d).map_or("-".into(), Value::to_string),
                        ours_value.pointer(&d).map_or("-".into(), Value::to_string)
                    ));
                }
            }
        }
        for key in our.keys() {
            let label = format!("{}/{}", key.0, key.2);
            if !matched.contains(key) && !allowed(&label, "(extra)") {
                failures.push(format!("{s}: {label} ({}) is only in synctl's tree", key.1));
            }
        }
    }
    for (i, (o, f)) in rules.iter().enumerate() {
        if !used[i] {
            failures.push(format!(
                "docs/real-trees.md lists {o} {f}, which no longer differs"
            ));
        }
    }
    assert!(failures.is_empty(), "{repo}:\n{}", failures.join("\n"));
}

#[test]
fn flux2_kustomize_helm_example_is_reproduced_field_by_field() {
    let upstream = read(
        &root().join("../shared/realtrees/flux2-kustomize-helm-example"),
        &[],
    );
    let ours = read(&root().join("tests/fleets/flux2-kustomize-helm"), &[]);
    compare_fields(
        "flux2-kustomize-helm-example",
        &upstream,
        &ours,
        &[
            ("clusters/staging", "fleet/staging/clusters/staging"),
            (
                "clusters/production",
                "fleet/production/clusters/production",
            ),
        ],
    );
}
