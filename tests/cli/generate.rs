//! `generate` on every example: the committed trees are the golden output (compared both ways
//! by `generate --check`, plus the path list), every overlay builds with the real kustomize,
//! every object passes `../shared/tools/validate-manifests`, every reference resolves, and the
//! writer never loses a person's file.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Synctl, bless, copy_example, root};

/// The bundled examples and the test fleets that cover what the examples leave out.
const EXAMPLES: &[&str] = &[
    "examples/cortex",
    "examples/d1",
    "examples/aphex",
    "examples/homelab",
    "tests/fleets/argocd-fleet",
    "tests/fleets/flux-kitchen",
    "tests/fleets/flux2-kustomize-helm",
    "tests/fleets/flux2-multi-tenancy",
    "tests/fleets/flux2-hub-spoke",
];

fn name_of(ex: &str) -> &str {
    ex.rsplit('/').next().unwrap_or(ex)
}
const ROOTS: &[&str] = &["hub", "deploy", "platform", "fleet"];

fn tree_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for top in ROOTS {
        for e in walkdir::WalkDir::new(dir.join(top))
            .sort_by_file_name()
            .into_iter()
            .flatten()
        {
            if e.file_type().is_file() {
                out.push(
                    e.path()
                        .strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out
}

#[test]
fn committed_example_trees_are_what_the_specs_compile_to() {
    for ex in EXAMPLES {
        let spec = format!("{ex}/fleet.yaml");
        let args: Vec<&str> = if bless() {
            vec!["generate", "-f", &spec]
        } else {
            vec!["generate", "--check", "-f", &spec]
        };
        let run = Synctl::new().args(&args).run();
        assert_eq!(run.status, 0, "{ex}: {}{}", run.stdout, run.stderr);
        let paths = tree_files(&root().join(ex)).join("\n") + "\n";
        let golden = root().join(format!("tests/golden/{}.paths", name_of(ex)));
        if bless() {
            fs::write(&golden, &paths).unwrap();
        } else {
            assert_eq!(
                fs::read_to_string(&golden).unwrap(),
                paths,
                "{ex}: the list of generated paths changed"
            );
        }
    }
}

#[test]
fn the_repository_tree_is_the_cortex_example_compiled_into_the_root() {
    let run = Synctl::new()
        .args([
            "generate",
            "--check",
            "-f",
            "examples/cortex/fleet.yaml",
            "-o",
            ".",
        ])
        .run();
    assert_eq!(run.status, 0, "{}{}", run.stdout, run.stderr);
    for user_dir in ["policies", "manifests"] {
        for e in walkdir::WalkDir::new(root().join(user_dir))
            .into_iter()
            .flatten()
            .filter(|e| e.file_type().is_file())
        {
            let rel = e.path().strip_prefix(root()).unwrap();
            let copy = root().join("examples/cortex").join(rel);
            assert_eq!(
                fs::read(e.path()).unwrap(),
                fs::read(&copy).unwrap(),
                "{} differs from the example's",
                rel.display()
            );
        }
    }
}

fn kustomization_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for top in ROOTS {
        for e in walkdir::WalkDir::new(dir.join(top)).into_iter().flatten() {
            if e.file_name() == "kustomization.yaml" {
                out.push(e.path().parent().unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_generated_overlay_builds_with_kubectl_kustomize() {
    let mut failures = Vec::new();
    let mut built = 0;
    for ex in EXAMPLES {
        for dir in kustomization_dirs(&root().join(ex)) {
            let out = Command::new("kubectl")
                .args(["kustomize", "--load-restrictor=LoadRestrictionsNone"])
                .arg(&dir)
                .output()
                .expect("kubectl (with kustomize v5) must be installed to run this test");
            built += 1;
            if !out.status.success() {
                failures.push(format!(
                    "{}: {}",
                    dir.display(),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
    }
    assert!(built > 40, "only {built} overlays found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_generated_object_passes_validate_manifests() {
    for ex in EXAMPLES {
        let dir = root().join(ex);
        let dirs: Vec<PathBuf> = ROOTS
            .iter()
            .map(|t| dir.join(t))
            .filter(|d| d.is_dir())
            .collect();
        crate::assert_valid_manifests(ex, &dirs);
    }
}

/// Every YAML document of the generated tree, with the file it came from.
fn objects(dir: &Path) -> Vec<(String, serde_yaml::Value)> {
    let mut out = Vec::new();
    for rel in tree_files(dir) {
        let text = fs::read_to_string(dir.join(&rel)).unwrap();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let v = serde_yaml::Value::deserialize(doc).unwrap();
            if !v.is_null() {
                out.push((rel.clone(), v));
            }
        }
    }
    out
}

use serde::Deserialize as _;

fn s<'a>(v: &'a serde_yaml::Value, path: &[&str]) -> Option<&'a str> {
    let mut v = v;
    for p in path {
        v = v.get(*p)?;
    }
    v.as_str()
}

#[test]
fn every_reference_in_the_generated_trees_resolves() {
    let mut failures = Vec::new();
    for ex in EXAMPLES {
        let dir = root().join(ex);
        let objs = objects(&dir);
        // Flux objects applied on the hub, keyed by (kind, namespace, name). Objects of
        // `releases/` overlays take the namespace of every cluster of their environment.
        let mut index: BTreeSet<(String, String, String)> = BTreeSet::new();
        let fleet_spec: serde_yaml::Value =
            serde_yaml::from_str(&fs::read_to_string(dir.join("fleet.yaml")).unwrap()).unwrap();
        let clusters = fleet_spec["spec"]["clusters"]
            .as_sequence()
            .unwrap()
            .clone();
        let namespaces_of = |file: &str, v: &serde_yaml::Value| -> Vec<String> {
            if let Some(ns) =
                s(v, &["metadata", "namespace"]).filter(|_| !file.contains("/releases/"))
            {
                return vec![ns.to_owned()];
            }
            let env = file.split('/').nth(1).unwrap_or_default();
            clusters
                .iter()
                .filter(|c| c["role"].as_str() != Some("hub"))
                .filter(|c| {
                    c["environment"]
                        .as_str()
                        .unwrap_or(c["name"].as_str().unwrap())
                        == env
                })
                .map(|c| c["name"].as_str().unwrap().to_owned())
                .collect()
        };
        for (file, v) in &objs {
            let kind = s(v, &["kind"]).unwrap_or_default().to_owned();
            for ns in namespaces_of(file, v) {
                index.insert((
                    kind.clone(),
                    ns,
                    s(v, &["metadata", "name"]).unwrap_or_default().to_owned(),
                ));
            }
        }
        // The bootstrap GitRepository (`spec.hub.sourceRef`), made by `flux bootstrap`.
        let bootstrap = fleet_spec["spec"]["hub"]["sourceRef"]
            .as_str()
            .unwrap_or("flux-system")
            .to_owned();
        index.insert(("GitRepository".into(), "flux-system".into(), bootstrap));
        index.insert((
            "Kustomization".into(),
            "flux-system".into(),
            "flux-system".into(),
        ));
        index.insert(("AppProject".into(), "argocd".into(), "default".into()));
        for (file, v) in &objs {
            let kind = s(v, &["kind"]).unwrap_or_default();
            let name = s(v, &["metadata", "name"]).unwrap_or_default();
            let in_deploy = file.starts_with("deploy/");
            for ns in namespaces_of(file, v) {
                let has = |k: &str, n: &str, nsx: &str| {
                    in_deploy || index.contains(&(k.to_owned(), nsx.to_owned(), n.to_owned()))
                };
                let mut refs: Vec<(&str, String, String)> = Vec::new();
                match kind {
                    "Kustomization"
                        if s(v, &["apiVersion"]) == Some("kustomize.toolkit.fluxcd.io/v1") =>
                    {
                        refs.push((
                            "GitRepository",
                            s(v, &["spec", "sourceRef", "name"]).unwrap().to_owned(),
                            ns.clone(),
                        ));
                        for d in v["spec"]["dependsOn"].as_sequence().into_iter().flatten() {
                            let dns = s(d, &["namespace"]).unwrap_or(&ns).to_owned();
                            refs.push(("Kustomization", s(d, &["name"]).unwrap().to_owned(), dns));
                        }
                        let path = s(v, &["spec", "path"]).unwrap();
                        let source = s(v, &["spec", "sourceRef", "name"]).unwrap();
                        if !source.starts_with("tenant-")
                            && !dir.join(path.trim_start_matches("./")).is_dir()
                        {
                            failures.push(format!(
                                "{ex}/{file}: Kustomization {name} path {path} does not exist"
                            ));
                        }
                    }
                    "HelmRelease" => {
                        if let Some(src) = s(v, &["spec", "chart", "spec", "sourceRef", "name"]) {
                            refs.push(("HelmRepository", src.to_owned(), ns.clone()));
                        }
                        if let Some(src) = s(v, &["spec", "chartRef", "name"]) {
                            refs.push(("OCIRepository", src.to_owned(), ns.clone()));
                        }
                        for d in v["spec"]["dependsOn"].as_sequence().into_iter().flatten() {
                            refs.push((
                                "HelmRelease",
                                s(d, &["name"]).unwrap().to_owned(),
                                ns.clone(),
                            ));
                        }
                    }
                    "Application" => {
                        refs.push((
                            "AppProject",
                            s(v, &["spec", "project"]).unwrap().to_owned(),
                            ns.clone(),
                        ));
                        if let Some(path) = s(v, &["spec", "source", "path"])
                            && s(v, &["spec", "source", "repoURL"])
                                == fleet_spec["spec"]["repository"]["url"].as_str()
                            && !dir.join(path).is_dir()
                        {
                            failures.push(format!(
                                "{ex}/{file}: Application {name} path {path} does not exist"
                            ));
                        }
                    }
                    _ => {}
                }
                for (k, n, rns) in refs {
                    if !has(k, &n, &rns) {
                        failures.push(format!("{ex}/{file}: {kind} {ns}/{name} refers to {k} {rns}/{n}, which is not in the tree"));
                    }
                }
            }
        }
        // Every base deploy/ folder is used by some overlay.
        let listed: BTreeSet<String> = objs
            .iter()
            .filter(|(_, v)| {
                s(v, &["kind"]) == Some("Kustomization") && v.get("resources").is_some()
            })
            .flat_map(|(f, v)| {
                let base = Path::new(f).parent().unwrap().to_path_buf();
                v["resources"].as_sequence().unwrap().iter().map(move |r| {
                    let joined = base.join(r.as_str().unwrap());
                    normalize(&joined)
                })
            })
            .collect();
        for rel in tree_files(&dir)
            .iter()
            .filter(|f| f.starts_with("deploy/") && f.ends_with("kustomization.yaml"))
        {
            let folder = Path::new(rel)
                .parent()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if !listed.contains(&folder) && !ex.contains("aphex") && !ex.contains("argocd") {
                failures.push(format!("{ex}: {folder} is not used by any overlay"));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

fn normalize(p: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::Normal(n) => parts.push(n.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    parts.join("/")
}

/// A copy of an example in a temporary folder, generated once.
fn scratch(ex: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_example(ex, dir.path(), true);
    dir
}

fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    tree_files(dir)
        .into_iter()
        .map(|f| {
            let b = fs::read(dir.join(&f)).unwrap();
            (f, b)
        })
        .collect()
}

/// An up-to-date tree is compared byte for byte as it is rendered: an edit that keeps the
/// file's size is still found, and a file written again with the same bytes (another inode,
/// as editors save) is no change.
#[test]
fn files_are_compared_byte_for_byte_whatever_their_size_or_inode() {
    let dir = scratch("cortex");
    let spec = dir.path().join("fleet.yaml");
    let file = dir.path().join("deploy/controllers/kyverno/release.yaml");
    let text = fs::read_to_string(&file).unwrap();
    // Same bytes, another file in its place.
    fs::remove_file(&file).unwrap();
    fs::write(&file, &text).unwrap();
    let run = Synctl::new().args(["generate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("0 added, 0 changed, 0 removed"),
        "{}",
        run.stderr
    );
    // Same size, one byte changed.
    let edited = text.replacen("interval: 10m", "interval: 20m", 1);
    assert_ne!(edited, text);
    assert_eq!(edited.len(), text.len());
    fs::write(&file, &edited).unwrap();
    for args in [&["validate", "-f"][..], &["generate", "-f"][..]] {
        let run = Synctl::new().args(args).args([&spec]).run();
        assert_eq!(run.status, 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("synctl::hand-edit"), "{}", run.stderr);
    }
    assert_eq!(fs::read_to_string(&file).unwrap(), edited);
}

#[test]
fn generating_twice_gives_identical_bytes_and_rewrites_nothing() {
    let dir = scratch("d1");
    let spec = dir.path().join("fleet.yaml");
    let before = snapshot(dir.path());
    let run = Synctl::new().args(["generate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("0 added, 0 changed, 0 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(before, snapshot(dir.path()));
    // From scratch into an empty folder, the same bytes as the committed tree.
    let fresh = tempfile::tempdir().unwrap();
    let aphex = root().join("examples/aphex/fleet.yaml");
    let run = Synctl::new()
        .args(["generate", "-f"])
        .args([&aphex])
        .args(["-o"])
        .args([fresh.path()])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        snapshot(fresh.path()),
        snapshot(&root().join("examples/aphex"))
    );
}

/// New files get the mode any new file gets (`0666` less the umask), not the temporary file's
/// `0600`; a file synctl replaces keeps the mode someone gave it.
#[test]
fn new_files_get_the_umask_mode_and_replaced_files_keep_theirs() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = scratch("aphex");
    let out = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fleet.yaml");
    let generate = |umask: &str, to: &Path, force: bool| {
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask {umask} && exec \"$0\" generate -q {} -f \"$1\" -o \"$2\"",
                if force { "--force" } else { "" }
            ))
            .arg(env!("CARGO_BIN_EXE_synctl"))
            .arg(&spec)
            .arg(to)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .status()
            .unwrap();
        assert!(status.success());
    };
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    generate("027", out.path(), false);
    let files = tree_files(out.path());
    assert!(files.len() > 10);
    for f in &files {
        assert_eq!(mode(&out.path().join(f)), 0o640, "{f}");
    }
    // A hand edit overwritten with --force: the content comes back, the mode stays.
    let edited = dir.path().join("hub/kustomization.yaml");
    let original = fs::read(&edited).unwrap();
    fs::write(&edited, [original.as_slice(), b"# edited\n"].concat()).unwrap();
    fs::set_permissions(&edited, fs::Permissions::from_mode(0o604)).unwrap();
    generate("022", dir.path(), true);
    assert_eq!(fs::read(&edited).unwrap(), original);
    assert_eq!(mode(&edited), 0o604);
}

#[test]
fn a_user_file_at_a_generated_path_stops_generation_and_survives() {
    let dir = scratch("cortex");
    let victim = dir.path().join("hub/dev.yaml");
    fs::write(&victim, "# my own notes\n").unwrap();
    let before = snapshot(dir.path());
    let run = Synctl::new()
        .args(["generate", "-f"])
        .args([dir.path().join("fleet.yaml")])
        .run();
    assert_eq!(run.status, 1);
    assert!(run.stderr.contains("synctl::user-file"), "{}", run.stderr);
    assert!(run.stderr.contains("hub/dev.yaml"), "{}", run.stderr);
    assert_eq!(
        before,
        snapshot(dir.path()),
        "nothing may be written when generation stops"
    );
}

#[test]
fn a_hand_edit_is_refused_unless_forced_and_user_files_elsewhere_survive() {
    let dir = scratch("cortex");
    let edited = dir.path().join("deploy/controllers/kyverno/release.yaml");
    let text = fs::read_to_string(&edited)
        .unwrap()
        .replace("interval: 10m", "interval: 1m");
    fs::write(&edited, &text).unwrap();
    let mine = dir.path().join("fleet/dev/NOTES.md");
    fs::write(&mine, "hand-written\n").unwrap();
    let spec = dir.path().join("fleet.yaml");

    let run = Synctl::new().args(["generate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 1);
    assert!(run.stderr.contains("synctl::hand-edit"), "{}", run.stderr);
    assert_eq!(fs::read_to_string(&edited).unwrap(), text);
    let run = Synctl::new().args(["validate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 1, "validate reports the hand edit too");
    assert!(run.stderr.contains("synctl::hand-edit"), "{}", run.stderr);

    let run = Synctl::new()
        .args(["generate", "--force", "-f"])
        .args([&spec])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("0 added, 1 changed, 0 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(fs::read_to_string(&mine).unwrap(), "hand-written\n");
}

#[test]
fn removing_a_component_prunes_its_files_and_nothing_else() {
    let dir = scratch("cortex");
    let spec = dir.path().join("fleet.yaml");
    let before = snapshot(dir.path());
    let text = fs::read_to_string(&spec).unwrap();
    let start = text.find("    - name: crossplane\n").unwrap();
    let end = text[start..].find("    # Fleet cluster services").unwrap() + start;
    fs::write(&spec, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let run = Synctl::new().args(["generate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    let after = snapshot(dir.path());
    let removed: Vec<&String> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    assert_eq!(
        removed,
        [
            "deploy/controllers/crossplane/kustomization.yaml",
            "deploy/controllers/crossplane/release.yaml"
        ]
    );
    assert!(
        !dir.path().join("deploy/controllers/crossplane").exists(),
        "the empty folder is removed"
    );
    let changed: Vec<&String> = after
        .keys()
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert_eq!(
        changed,
        [
            "platform/controllers/kustomization.yaml",
            "platform/controllers/namespaces.yaml"
        ]
    );
}

#[test]
fn check_lists_drifted_files_and_exits_1() {
    let dir = scratch("homelab");
    fs::remove_file(dir.path().join("hub/willingham-k8s.yaml")).unwrap();
    let run = Synctl::new()
        .args(["generate", "--check", "-f"])
        .args([dir.path().join("fleet.yaml")])
        .run();
    assert_eq!(run.status, 1);
    assert!(
        run.stderr
            .contains("hub/willingham-k8s.yaml: missing: the spec generates this file"),
        "{}",
        run.stderr
    );
}

#[test]
fn diff_shows_a_unified_diff_and_the_blast_radius() {
    let dir = scratch("cortex");
    let spec = dir.path().join("fleet.yaml");
    let text = fs::read_to_string(&spec)
        .unwrap()
        .replace("version: \"3.3.*\"", "version: \"3.4.*\"");
    fs::write(&spec, text).unwrap();
    let run = Synctl::new().args(["diff", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("--- a/deploy/controllers/kyverno/release.yaml"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("-      version: \"3.3.*\"\n+      version: \"3.4.*\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("clusters touched: cortex, dev, production; waves touched: controllers"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_change_to_one_hub_file_names_its_cluster_and_waves() {
    let dir = scratch("cortex");
    let spec = dir.path().join("fleet.yaml");
    let text = fs::read_to_string(&spec).unwrap().replace(
        "CLUSTER_DOMAIN: dev.synapse.dev",
        "CLUSTER_DOMAIN: dev2.synapse.dev",
    );
    fs::write(&spec, text).unwrap();
    let run = Synctl::new().args(["diff", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "0 added, 1 changed, 0 removed; clusters touched: dev; waves touched: config, controllers, tenants"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn explain_names_the_spec_lines_behind_a_file() {
    let run = Synctl::new()
        .args([
            "explain",
            "-f",
            "examples/cortex/fleet.yaml",
            "deploy/controllers/kgateway/release.yaml",
        ])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("component `kgateway`: - name: kgateway"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("wave `controllers`"), "{}", run.stdout);
}

#[test]
fn explain_answers_for_every_file_generate_writes() {
    for ex in EXAMPLES {
        let spec = format!("{ex}/fleet.yaml");
        for file in tree_files(&root().join(ex)) {
            if file.starts_with("hub/flux-system/") {
                continue;
            }
            let run = Synctl::new().args(["explain", "-f", &spec, &file]).run();
            assert_eq!(run.status, 0, "explain {ex} {file}: {}", run.stderr);
            assert!(
                // Printed from the current folder, like the spec's lines.
                run.stdout
                    .starts_with(&format!("{ex}/{file} comes from:\n"))
                    && run.stdout.lines().count() >= 2,
                "explain {ex} {file}: {}",
                run.stdout
            );
        }
    }
    // A path synctl does not write is a usage error.
    let run = Synctl::new()
        .args([
            "explain",
            "-f",
            "examples/cortex/fleet.yaml",
            "hub/nope.yaml",
        ])
        .run();
    assert_eq!(run.status, 2, "{}", run.stderr);
}

#[test]
fn explain_names_the_owners_of_shared_files() {
    let run = Synctl::new()
        .args([
            "explain",
            "-f",
            "examples/cortex/fleet.yaml",
            "hub/kustomization.yaml",
        ])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    for c in ["cluster `cortex`", "cluster `dev`", "cluster `production`"] {
        assert!(run.stdout.contains(c), "{c}: {}", run.stdout);
    }
}

/// Every `${…}` form: what `validate` accepts, `generate` renders, for both engines.
#[test]
fn validate_and_generate_agree_on_every_substitution_form() {
    let forms = [
        ("${CLUSTER_DOMAIN}", true),
        ("${UNSET:=fallback}", true),
        ("${UNSET:-fallback}", true),
        ("${UNSET=fallback}", true),
        ("$${UNSET}", true),
        ("${UNSET}", false),
        ("x-${CLUSTER_DOMAIN}-${UNSET:-y}", true),
    ];
    for engine in ["flux", "argocd"] {
        for (form, valid) in forms {
            let dir = tempfile::tempdir().unwrap();
            let spec = dir.path().join("fleet.yaml");
            fs::write(
                &spec,
                format!(
                    "apiVersion: synctl.dev/v1alpha1\nkind: Fleet\nmetadata: {{name: t}}\nspec:\n  engine: {engine}\n  repository: {{url: https://github.com/acme/fleet}}\n  clusters:\n    - {{name: hub, role: hub, vars: {{CLUSTER_DOMAIN: hub.example.com}}}}\n    - {{name: dev, vars: {{CLUSTER_DOMAIN: dev.example.com}}}}\n  components:\n    - name: web\n      wave: controllers\n      chart: {{repository: https://charts.example.com, name: web}}\n      values: {{host: '{form}'}}\n"
                ),
            )
            .unwrap();
            let v = Synctl::new().args(["validate", "-f"]).args([&spec]).run();
            let g = Synctl::new().args(["generate", "-f"]).args([&spec]).run();
            let want = i32::from(!valid);
            assert_eq!(v.status, want, "{engine} {form}: validate: {}", v.stderr);
            assert_eq!(g.status, want, "{engine} {form}: generate: {}", g.stderr);
            if valid && engine == "argocd" {
                // Argo CD has no substitution: synctl resolves every form itself.
                let app =
                    fs::read_to_string(dir.path().join("fleet/dev/apps/dev/web.yaml")).unwrap();
                let host = app
                    .lines()
                    .find(|l| l.contains("host:"))
                    .unwrap()
                    .trim()
                    .to_owned();
                assert!(
                    !host.contains("${") || form.starts_with("$$"),
                    "{form}: {host}"
                );
                assert!(
                    !host.contains(":-") && !host.contains(":="),
                    "{form}: {host}"
                );
            }
        }
    }
}

#[test]
fn templates_can_be_overridden_from_a_folder() {
    let dir = scratch("homelab");
    let tdir = tempfile::tempdir().unwrap();
    fs::create_dir_all(tdir.path().join("k8s")).unwrap();
    let custom = include_str!("../../templates/k8s/namespace.yaml.j2").replace(
        "metadata:\n",
        "metadata:\n  annotations:\n    team: platform\n",
    );
    fs::write(tdir.path().join("k8s/namespace.yaml.j2"), custom).unwrap();
    let run = Synctl::new()
        .args(["generate", "-f"])
        .args([dir.path().join("fleet.yaml")])
        .args(["--templates"])
        .args([tdir.path()])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    let ns = fs::read_to_string(dir.path().join("platform/base/namespaces.yaml")).unwrap();
    assert!(ns.contains("  annotations:\n    team: platform\n"), "{ns}");
    // `validate` with the same templates sees no drift; without them, the edit is drift.
    let validate = |templates: bool| {
        let mut s = Synctl::new()
            .args(["validate", "-f"])
            .args([dir.path().join("fleet.yaml")]);
        if templates {
            s = s.args(["--templates"]).args([tdir.path()]);
        }
        s.run()
    };
    let same = validate(true);
    assert_eq!(same.status, 0, "{}", same.stderr);
    let without = validate(false);
    assert_eq!(without.status, 1, "{}", without.stderr);
    assert!(
        without.stderr.contains("synctl::drift"),
        "{}",
        without.stderr
    );
}

/// What a template of `--templates` writes is read back: text that is not YAML, a second
/// document, or something that is no object stops the run with the template named, and
/// nothing is written.
#[test]
fn an_overriding_template_that_writes_no_object_is_refused() {
    let cases = [
        (
            "metadata:\n",
            "metadata:\n  labels: {a: [\n",
            "text that is not YAML",
        ),
        (
            "metadata:\n",
            "metadata: {}\n---\nmetadata:\n",
            "2 documents where one is expected",
        ),
        ("kind: Namespace\n", "", "no Kubernetes object"),
    ];
    for (from, to, said) in cases {
        let dir = scratch("homelab");
        let before = fs::read_to_string(dir.path().join("platform/base/namespaces.yaml")).unwrap();
        let tdir = tempfile::tempdir().unwrap();
        fs::create_dir_all(tdir.path().join("k8s")).unwrap();
        let custom = include_str!("../../templates/k8s/namespace.yaml.j2").replace(from, to);
        fs::write(tdir.path().join("k8s/namespace.yaml.j2"), custom).unwrap();
        for command in ["generate", "validate"] {
            let run = Synctl::new()
                .args([command, "-f"])
                .args([dir.path().join("fleet.yaml")])
                .args(["--templates"])
                .args([tdir.path()])
                .run();
            assert_eq!(run.status, 1, "{command} {said}: {}", run.stderr);
            assert!(run.stderr.contains(said), "{command}: {}", run.stderr);
            assert!(run.stderr.contains("namespace.yaml.j2"), "{}", run.stderr);
        }
        let after = fs::read_to_string(dir.path().join("platform/base/namespaces.yaml")).unwrap();
        assert_eq!(before, after, "{said}: the tree was not touched");
    }
}

#[test]
fn hub_kustomization_keeps_flux_system_once_listed() {
    let dir = scratch("homelab");
    let spec = dir.path().join("fleet.yaml");
    let listing = || fs::read_to_string(dir.path().join("hub/kustomization.yaml")).unwrap();
    assert!(!listing().contains("- flux-system"));
    fs::create_dir_all(dir.path().join("hub/flux-system")).unwrap();
    fs::write(
        dir.path().join("hub/flux-system/gotk-sync.yaml"),
        "# written by flux bootstrap\n",
    )
    .unwrap();
    // Not yet a kustomization kustomize can build: not listed.
    let run = Synctl::new().args(["generate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(!listing().contains("- flux-system"));
    fs::write(
        dir.path().join("hub/flux-system/kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [gotk-sync.yaml]\n",
    )
    .unwrap();
    let run = Synctl::new().args(["generate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        listing().contains("resources:\n  - flux-system\n"),
        "{}",
        listing()
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("hub/flux-system/gotk-sync.yaml")).unwrap(),
        "# written by flux bootstrap\n"
    );
    // If the folder disappears from a checkout, the entry is not dropped (Flux would prune
    // itself): a located error, and the listing stays as it was.
    fs::remove_dir_all(dir.path().join("hub/flux-system")).unwrap();
    let run = Synctl::new().args(["generate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stderr.contains("synctl::unknown-ref"), "{}", run.stderr);
    assert!(listing().contains("  - flux-system\n"), "{}", listing());
}

#[test]
fn argocd_delivers_path_components_as_directory_applications() {
    let dir = scratch("aphex");
    fs::create_dir_all(dir.path().join("platform-config")).unwrap();
    fs::write(
        dir.path().join("platform-config/issuer.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: issuer\n  namespace: cert-manager\n",
    )
    .unwrap();
    let spec = dir.path().join("fleet.yaml");
    // Components come before tenants in the example: insert the new one there.
    let (head, tail) = fs::read_to_string(&spec)
        .unwrap()
        .split_once("  tenants:\n")
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .unwrap();
    fs::write(&spec, format!("{head}    - name: platform-config\n      wave: secrets\n      namespace: cert-manager\n      path: platform-config\n      dependsOn: [cert-manager]\n  tenants:\n{tail}")).unwrap();
    let run = Synctl::new().args(["generate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    let app = fs::read_to_string(dir.path().join("platform/apps/platform-config.yaml")).unwrap();
    assert!(
        app.contains("argocd.argoproj.io/sync-wave: \"15\""),
        "{app}"
    );
    assert!(app.contains("    path: platform-config\n"), "{app}");
    let listing = fs::read_to_string(dir.path().join("platform/apps/kustomization.yaml")).unwrap();
    assert!(listing.contains("  - platform-config.yaml\n"), "{listing}");
}

#[test]
fn tenant_app_projects_deny_boundaries_and_rbac() {
    for file in [
        "examples/aphex/platform/apps/project-acme-corp.yaml",
        "examples/cortex/fleet/dev/config/remote/tenant-apps.yaml",
    ] {
        let text = fs::read_to_string(root().join(file)).unwrap();
        let project = serde_yaml::Deserializer::from_str(&text)
            .map(|d| serde_yaml::Value::deserialize(d).unwrap())
            .find(|d| d["kind"] == "AppProject")
            .unwrap();
        let denied: Vec<String> = project["spec"]["namespaceResourceBlacklist"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|k| k["kind"].as_str().unwrap().to_owned())
            .collect();
        for kind in [
            "ResourceQuota",
            "LimitRange",
            "NetworkPolicy",
            "Role",
            "RoleBinding",
        ] {
            assert!(
                denied.contains(&kind.to_owned()),
                "{file}: {kind} not denied"
            );
        }
    }
}

#[test]
fn the_tenant_role_cannot_write_boundaries_or_escalate() {
    let text =
        fs::read_to_string(root().join("examples/cortex/deploy/tenant-role/role.yaml")).unwrap();
    let role: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let forbidden = ["networkpolicies", "resourcequotas", "limitranges"];
    for rule in role["rules"].as_sequence().unwrap() {
        let list = |k: &str| -> Vec<String> {
            rule[k]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect()
        };
        let (groups, resources, verbs) = (list("apiGroups"), list("resources"), list("verbs"));
        for r in &resources {
            assert!(!forbidden.contains(&r.as_str()), "the role grants {r}");
        }
        if resources.contains(&"*".to_owned()) {
            for g in &groups {
                assert!(
                    !["", "networking.k8s.io", "rbac.authorization.k8s.io", "*"]
                        .contains(&g.as_str()),
                    "`*` resources in group `{g}`"
                );
            }
        }
        // Regression (hostile inputs, item 10): `endpoints` redirect Services (CVE-2021-25740),
        // and `*` on serviceaccounts includes `impersonate`.
        assert!(
            !resources.contains(&"endpoints".to_owned()),
            "the role grants endpoints"
        );
        if groups.iter().any(std::string::String::is_empty) {
            assert!(
                !verbs.contains(&"*".to_owned()) && !verbs.contains(&"impersonate".to_owned()),
                "core resources with {verbs:?}"
            );
        }
        if groups.iter().any(|g| g == "rbac.authorization.k8s.io") {
            for v in ["*", "bind", "escalate", "impersonate"] {
                assert!(
                    !verbs.contains(&v.to_owned()),
                    "RBAC verb {v} lets a tenant grant itself more"
                );
            }
        }
    }
}

/// Rendering runs on every core; the bytes may not depend on how many. One thread, two and
/// seven write the same tree (a synthetic fleet of a few hundred files and the Argo CD and
/// Flux Operator examples, most of whose objects are not written by the Rust fast paths).
/// Fleet clusters are laid out on every core and replayed in order: the problems of a spec
/// whose clusters collide with generated paths are the same whatever the number of threads.
#[test]
fn collisions_are_reported_alike_whatever_the_number_of_threads() {
    let tmp = tempfile::tempdir().unwrap();
    // One of forty clusters takes a name synctl writes itself (`hub/kustomization.yaml`).
    let spec = synctl::synthetic::fleet(40, 12).replace("- name: c7\n", "- name: kustomization\n");
    let path = tmp.path().join("fleet.yaml");
    fs::write(&path, spec).unwrap();
    let outputs: Vec<String> = ["1", "2", "7"]
        .iter()
        .map(|threads| refused_with_threads(&path, threads))
        .collect();
    assert!(
        outputs[0].contains("hub/kustomization.yaml"),
        "{}",
        outputs[0]
    );
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0], outputs[2]);
}

/// `generate` of `dir/fleet.yaml` with `SYNCTL_THREADS=threads`: the tree it wrote.
fn generate_with_threads(dir: &Path, threads: &str) -> BTreeMap<String, Vec<u8>> {
    let run = Synctl::new()
        .env("SYNCTL_THREADS", threads)
        .args(["generate", "-q", "-f"])
        .args([dir.join("fleet.yaml")])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    snapshot(dir)
}

/// `validate --format json` of `spec` with `SYNCTL_THREADS=threads`, which must refuse it:
/// what it printed.
fn refused_with_threads(spec: &Path, threads: &str) -> String {
    let run = Synctl::new()
        .env("SYNCTL_THREADS", threads)
        .args(["validate", "--format", "json", "-f"])
        .args([spec])
        .run();
    assert_eq!(run.status, 1, "{}", run.stderr);
    run.stdout
}

/// A large fleet is laid out beside the rules and the layout dropped when they fail: a
/// 2,500-component chain closed into a cycle is refused with the same problems, and the open
/// chain written as the same tree, by one thread (rules, then layout) and by two and seven.
#[test]
fn large_fleets_are_checked_alike_whatever_the_number_of_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let chain = synctl::synthetic::chain(2500);
    let cycle = chain.replacen("name: c0}\n", "name: c0}\n      dependsOn: [c2499]\n", 1);
    assert_ne!(cycle, chain);
    let bad = tmp.path().join("cycle.yaml");
    fs::write(&bad, cycle).unwrap();
    let (mut refused, mut trees) = (Vec::new(), Vec::new());
    for threads in ["1", "2", "7"] {
        refused.push(refused_with_threads(&bad, threads));
        let dir = tmp.path().join(format!("chain-{threads}"));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("fleet.yaml"), &chain).unwrap();
        let files = generate_with_threads(&dir, threads);
        assert!(files.len() > 2500, "{} files", files.len());
        trees.push(files);
    }
    assert!(refused[0].contains("synctl::cycle"), "{}", refused[0]);
    assert_eq!(refused[0], refused[1]);
    assert_eq!(refused[0], refused[2]);
    assert!(trees[0] == trees[1] && trees[0] == trees[2]);
}

#[test]
fn the_tree_is_the_same_bytes_whatever_the_number_of_threads() {
    let tmp = tempfile::tempdir().unwrap();
    for spec in ["synthetic", "aphex", "d1"] {
        let mut trees = Vec::new();
        for threads in ["1", "2", "7"] {
            let dir = tmp.path().join(format!("{spec}-{threads}"));
            if spec == "synthetic" {
                fs::create_dir_all(&dir).unwrap();
                fs::write(dir.join("fleet.yaml"), synctl::synthetic::fleet(40, 30)).unwrap();
            } else {
                copy_example(spec, &dir, false);
            }
            let files = generate_with_threads(&dir, threads);
            assert!(files.len() > 20, "{spec} wrote {} files", files.len());
            trees.push(files);
        }
        assert_eq!(trees[0], trees[1], "{spec}");
        assert_eq!(trees[0], trees[2], "{spec}");
    }
}

/// A hub and a standalone cluster in one spec: the standalone cluster's entry is its own
/// folder, so `hub/kustomization.yaml` must not list a `hub/<cluster>.yaml` that is never
/// written (it did: the hub's build failed, and `validate` said the tree was up to date).
#[test]
fn the_hub_lists_only_the_cluster_files_it_has() {
    let dir = scratch("cortex");
    let spec = with_standalone_edge(dir.path());
    let run = Synctl::new().args(["generate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    let listing: serde_yaml::Value = serde_yaml::from_str(
        &fs::read_to_string(dir.path().join("hub/kustomization.yaml")).unwrap(),
    )
    .unwrap();
    let resources: Vec<&str> = listing["resources"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(serde_yaml::Value::as_str)
        .collect();
    assert!(resources.contains(&"cortex.yaml"), "{resources:?}");
    assert!(!resources.contains(&"edge.yaml"), "{resources:?}");
    for r in &resources {
        assert!(
            dir.path().join("hub").join(r).exists(),
            "hub lists {r}, which is not there"
        );
    }
    let out = Command::new("kubectl")
        .args(["kustomize"])
        .arg(dir.path().join("hub"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The cortex example in `dir` with a standalone cluster `edge` added; its spec's path.
fn with_standalone_edge(dir: &Path) -> PathBuf {
    let spec = dir.join("fleet.yaml");
    let text = fs::read_to_string(&spec).unwrap();
    let edited = text.replacen(
        "    - name: production\n",
        "    - name: edge\n      role: standalone\n    - name: production\n",
        1,
    );
    assert_ne!(edited, text);
    fs::write(&spec, edited).unwrap();
    spec
}

/// `flux bootstrap`'s folder in an entry is listed while it is there with a kustomization.yaml;
/// once listed, a folder gone or emptied is an error (the entry would not build, and dropping
/// it from the listing would make Flux prune itself), until the listing is deleted on purpose.
#[test]
fn a_bootstrap_folder_listed_and_gone_is_an_error() {
    let dir = scratch("cortex");
    let spec = with_standalone_edge(dir.path());
    let entry = dir.path().join("fleet/edge/clusters/edge");
    let listing = entry.join("kustomization.yaml");
    let lists = || {
        fs::read_to_string(&listing)
            .unwrap()
            .contains("- flux-system")
    };
    // An empty folder is not `flux bootstrap`'s: not listed.
    fs::create_dir_all(entry.join("flux-system")).unwrap();
    let run = Synctl::new().args(["generate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(!lists());
    fs::write(
        entry.join("flux-system/kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n",
    )
    .unwrap();
    let run = Synctl::new().args(["generate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(lists());
    for gone in [true, false] {
        if gone {
            fs::remove_dir_all(entry.join("flux-system")).unwrap();
        }
        for cmd in ["validate", "generate"] {
            let run = Synctl::new().args([cmd, "-f"]).args([&spec]).run();
            assert_eq!(run.status, 1, "{cmd}: {}", run.stderr);
            assert!(run.stderr.contains("synctl::unknown-ref"), "{}", run.stderr);
            assert!(run.stderr.contains("lists `flux-system`"), "{}", run.stderr);
            assert!(lists(), "the listing is left as it was");
        }
        fs::create_dir_all(entry.join("flux-system")).unwrap();
    }
    fs::remove_file(&listing).unwrap();
    let run = Synctl::new().args(["generate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(!lists());
}

/// What `${…}` in a `path:` component's manifests needs: with Flux, a variable a
/// `substituteFrom` ConfigMap or Secret may supply is not reported (its keys are read on the
/// cluster); with Argo CD, which substitutes nothing, a `${…}` is text applied as written
/// unless it names one of the cluster's variables.
#[test]
fn manifest_variables_are_checked_against_what_fills_them() {
    let cases = [
        (
            "flux",
            "${FROM_CONFIGMAP}",
            "",
            Some("synctl::substitution"),
        ),
        (
            "flux",
            "${FROM_CONFIGMAP}",
            "      substituteFrom: [{kind: ConfigMap, name: cluster-settings}]\n",
            None,
        ),
        ("argocd", "${env:K8S_NODE_NAME} ${HOME}", "", None),
        (
            "argocd",
            "${CLUSTER_DOMAIN}",
            "",
            Some("Argo CD does not substitute"),
        ),
    ];
    for (engine, text, extra, error) in cases {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("apps/web")).unwrap();
        fs::write(
            dir.path().join("apps/web/configmap.yaml"),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: web}}\ndata: {{script: 'echo {text}'}}\n"),
        )
        .unwrap();
        let spec = dir.path().join("fleet.yaml");
        fs::write(
            &spec,
            format!(
                "apiVersion: synctl.dev/v1alpha1\nkind: Fleet\nmetadata: {{name: t}}\nspec:\n  engine: {engine}\n  repository: {{url: https://github.com/acme/fleet}}\n  clusters:\n    - {{name: hub, role: hub, vars: {{CLUSTER_DOMAIN: hub.example.com}}}}\n    - {{name: dev, vars: {{CLUSTER_DOMAIN: dev.example.com}}}}\n  components:\n    - name: web\n      wave: config\n      path: apps/web\n{extra}"
            ),
        )
        .unwrap();
        let run = Synctl::new().args(["validate", "-f"]).args([&spec]).run();
        match error {
            Some(needle) => {
                assert_eq!(run.status, 1, "{engine} {text}: {}", run.stderr);
                assert!(
                    run.stderr.contains(needle),
                    "{engine} {text}: {}",
                    run.stderr
                );
            }
            None => assert_eq!(run.status, 0, "{engine} {text}: {}", run.stderr),
        }
    }
}

/// Argo CD installed by a `path:` component owns argocd-cm: the Application health check goes
/// in as a kustomize patch of that component (one writer), not as `hub/argocd-cm-health.yaml`
/// (a second writer of the same ConfigMap); without a kustomization.yaml to patch, an error.
#[test]
fn argo_cd_installed_from_manifests_gets_the_health_check_as_its_patch() {
    for with_kustomization in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("argocd");
        fs::create_dir_all(&folder).unwrap();
        fs::write(
            folder.join("argocd-cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: argocd-cm, namespace: argocd}\n",
        )
        .unwrap();
        if with_kustomization {
            fs::write(
                folder.join("kustomization.yaml"),
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [argocd-cm.yaml]\n",
            )
            .unwrap();
        }
        let spec = dir.path().join("fleet.yaml");
        fs::write(
            &spec,
            "apiVersion: synctl.dev/v1alpha1\nkind: Fleet\nmetadata: {name: t}\nspec:\n  engine: argocd\n  repository: {url: https://github.com/acme/fleet}\n  clusters:\n    - {name: hub, role: hub}\n  components:\n    - {name: argo, wave: tenants, namespace: argocd, path: argocd, provides: [argocd]}\n",
        )
        .unwrap();
        let run = Synctl::new().args(["generate", "-f"]).args([&spec]).run();
        if !with_kustomization {
            assert_eq!(run.status, 1, "{}", run.stderr);
            assert!(run.stderr.contains("installs Argo CD"), "{}", run.stderr);
            assert!(
                run.stderr.contains("synctl::argocd-health"),
                "{}",
                run.stderr
            );
            continue;
        }
        assert_eq!(run.status, 0, "{}", run.stderr);
        assert!(!dir.path().join("hub/argocd-cm-health.yaml").exists());
        let app: serde_yaml::Value = serde_yaml::from_str(
            &fs::read_to_string(dir.path().join("platform/apps/argo.yaml")).unwrap(),
        )
        .unwrap();
        let patches = app["spec"]["source"]["kustomize"]["patches"]
            .as_sequence()
            .expect("kustomize patches");
        let patch: serde_json::Value =
            serde_json::from_str(patches[0]["patch"].as_str().unwrap()).unwrap();
        assert_eq!(patch["metadata"]["name"], "argocd-cm");
        let lua = patch["data"]["resource.customizations.health.argoproj.io_Application"]
            .as_str()
            .unwrap();
        assert!(lua.contains("hs.status = \"Healthy\""), "{lua}");
    }
}
