//! `docs/real-trees.md` stays true: each upstream repository and synctl's reproduction are read
//! as Flux applies them (`synctl check --objects`), and every object each cluster receives is
//! compared field by field; every difference must be a row of the page, and every row must
//! still differ.

use std::collections::BTreeMap;
use std::path::Path;

use crate::root;

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
/// target and storage namespaces, the 5m timeout, Helm tests off, no remediation retries,
/// `Create`/`Skip` CRD policies;
/// kustomize-controller: `wait: false`), so that a field written with its default and one left
/// out compare equal.
fn effective(o: &mut Value) {
    let api = o["apiVersion"].as_str().unwrap_or("");
    let group = api.rsplit_once('/').map_or("", |(g, _)| g).to_owned();
    let kind = o["kind"].as_str().unwrap_or("").to_owned();
    // By group and kind: the API server stores every version as the storage version.
    if let (Some(schema), Some(spec)) =
        (crd_schemas().get(&(group, kind.clone())), o.get_mut("spec"))
    {
        crd_defaults(spec, &schema["properties"]["spec"]);
    }
    // RBAC subjects are a set; a User's or Group's apiGroup defaults to RBAC's.
    if let Some(Value::Array(subjects)) = o.get_mut("subjects") {
        for s in subjects.iter_mut() {
            if matches!(s["kind"].as_str(), Some("User" | "Group")) {
                s["apiGroup"] = "rbac.authorization.k8s.io".into();
            }
        }
        subjects.sort_by_key(Value::to_string);
    }
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
            default("test", serde_json::json!({"enable": false}));
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
                    let r = p
                        .entry("remediation")
                        .or_insert(Value::Object(serde_json::Map::new()));
                    if let Some(r) = r.as_object_mut() {
                        r.entry("retries").or_insert(0.into());
                    }
                }
            }
        }
        "Kustomization" if flux => {
            default("wait", false.into());
        }
        _ => {}
    }
}

/// The schemas of the upstream Flux and Flux Operator CRDs (`../shared/crds`), by group and
/// kind (the storage version's): the API server writes their defaults into every object it
/// stores.
fn crd_schemas() -> &'static BTreeMap<(String, String), Value> {
    static SCHEMAS: std::sync::OnceLock<BTreeMap<(String, String), Value>> =
        std::sync::OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let mut out = BTreeMap::new();
        for dir in ["flux", "flux-operator"] {
            let dir = root().join("../shared/crds").join(dir);
            for f in std::fs::read_dir(dir).unwrap().flatten() {
                let text = std::fs::read_to_string(f.path()).unwrap_or_default();
                for doc in serde_yaml::Deserializer::from_str(&text) {
                    let Ok(crd) = <Value as serde::Deserialize>::deserialize(doc) else {
                        continue;
                    };
                    let group = crd["spec"]["group"].as_str().unwrap_or("").to_owned();
                    let kind = crd["spec"]["names"]["kind"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned();
                    for v in crd["spec"]["versions"].as_array().into_iter().flatten() {
                        if v["storage"] == true {
                            let schema = v["schema"]["openAPIV3Schema"].clone();
                            out.insert((group.clone(), kind.clone()), schema);
                        }
                    }
                }
            }
        }
        out
    })
}

/// Writes the defaults `schema` declares for what `o` leaves out, as the API server does.
fn crd_defaults(o: &mut Value, schema: &Value) {
    if let (Some(props), Some(map)) = (
        schema.get("properties").and_then(Value::as_object),
        o.as_object_mut(),
    ) {
        for (key, s) in props {
            if let (false, Some(d)) = (map.contains_key(key), s.get("default")) {
                map.insert(key.clone(), d.clone());
            }
            if let Some(v) = map.get_mut(key) {
                crd_defaults(v, s);
            }
        }
    }
    if let (Some(items), Some(list)) = (schema.get("items"), o.as_array_mut()) {
        for v in list {
            crd_defaults(v, items);
        }
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
            // A row `(renamed Kind/name)`: the object synctl names otherwise, compared.
            let renamed = rules.iter().find_map(|(o, f)| {
                let to = f.strip_prefix("(renamed ")?.strip_suffix(')')?;
                glob(o, &label).then_some(to)
            });
            let (found, name) = match (found, renamed) {
                (None, Some(to)) => {
                    let (k, n) = to.split_once('/').unwrap();
                    let same: Vec<_> = our
                        .iter()
                        .filter(|((kk, _, nn), _)| kk == k && nn == n)
                        .collect();
                    // In the same namespace when it is there, else the one of that name.
                    let here = same.iter().find(|((_, nn, _), _)| nn == ns);
                    let hit = here
                        .or_else(|| (same.len() == 1).then(|| &same[0]))
                        .map(|((_, nn, _), v)| (nn.clone(), *v));
                    (hit, n.to_owned())
                }
                (found, _) => (found, name.clone()),
            };
            let Some((our_ns, ours_value)) = found else {
                if !allowed(&label, "(missing)") {
                    failures.push(format!("{u}: {label} ({ns}) is not in synctl's tree"));
                }
                continue;
            };
            matched.insert((kind.clone(), our_ns, name.clone()));
            let mut diffs = Vec::new();
            leaves(value, ours_value, "", &mut diffs);
            let rename = rules
                .iter()
                .find(|(o, f)| glob(o, &label) && f.starts_with("(renamed "))
                .map(|(_, f)| f.clone());
            if let Some(f) = rename {
                allowed(&label, &f);
                diffs.retain(|d| d != "/metadata/name");
            }
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

#[test]
fn flux2_hub_spoke_example_is_reproduced_field_by_field() {
    let upstream = read(
        &root().join("../shared/realtrees/flux2-hub-spoke-example"),
        &[],
    );
    let ours = read(&root().join("tests/fleets/flux2-hub-spoke"), &[]);
    compare_fields(
        "flux2-hub-spoke-example",
        &upstream,
        &ours,
        &[
            ("hub", "hub"),
            (
                "kubeConfig staging/cluster-kubeconfig",
                "kubeConfig staging/cluster-kubeconfig",
            ),
            (
                "kubeConfig production/cluster-kubeconfig",
                "kubeConfig production/cluster-kubeconfig",
            ),
        ],
    );
}

#[test]
fn flux2_multi_tenancy_is_reproduced_field_by_field() {
    let realtrees = root().join("../shared/realtrees");
    let tenant = format!(
        "https://github.com/fluxcd/flux2-multi-tenancy@dev-team={}",
        realtrees.join("flux2-multi-tenancy-dev-team").display()
    );
    let upstream = read(
        &realtrees.join("flux2-multi-tenancy"),
        &["--source", &tenant],
    );
    let ours = read(
        &root().join("tests/fleets/flux2-multi-tenancy"),
        &["--source", &tenant],
    );
    compare_fields(
        "flux2-multi-tenancy",
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

#[test]
fn d1_is_reproduced_field_by_field() {
    let realtrees = root().join("../shared/realtrees");
    let given = |repo: &str| {
        format!(
            "https://github.com/controlplaneio-fluxcd/{repo}={}",
            realtrees.join(repo).display()
        )
    };
    let (infra, apps) = (given("d1-infra"), given("d1-apps"));
    let sources = ["--source", &infra, "--source", &apps];
    let upstream = read(&realtrees.join("d1-fleet"), &sources);
    let ours = read(&root().join("examples/d1"), &sources);
    compare_fields(
        "d1",
        &upstream,
        &ours,
        &[
            ("clusters/staging", "fleet/staging/clusters/staging"),
            ("clusters/prod-eu", "fleet/production/clusters/prod-eu"),
            ("clusters/prod-us", "fleet/production/clusters/prod-us"),
        ],
    );
}
