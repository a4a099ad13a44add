//! Hostile trees and inputs (issue "hostile trees and inputs"): each scenario runs the real
//! binary in a temporary folder and checks that nothing outside the output root changed, that
//! no person's file was lost, and that the exit code says what happened. Named after the case.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use crate::{Synctl, copy_example, git, kustomize};

/// A copy of the homelab example (spec, user folders, generated tree) next to an `outside`
/// folder holding one file.
struct World {
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        copy_example("homelab", &repo, true);
        // Fleet clusters added by the tests clone the repository: give it a deploy key.
        let spec = repo.join("fleet.yaml");
        let text = fs::read_to_string(&spec).unwrap().replacen(
            "    url: ssh://git@github.com/willingham/k8s-config\n",
            "    url: ssh://git@github.com/willingham/k8s-config\n    secretRef: k8s-config-git\n",
            1,
        );
        fs::write(&spec, text).unwrap();
        fs::create_dir_all(dir.path().join("outside")).unwrap();
        fs::write(dir.path().join("outside/precious.yaml"), "keep: me\n").unwrap();
        World { dir }
    }

    fn repo(&self) -> std::path::PathBuf {
        self.dir.path().join("repo")
    }

    fn outside(&self) -> std::path::PathBuf {
        self.dir.path().join("outside")
    }

    fn run(&self, args: &[&str]) -> crate::Run {
        Synctl::new()
            .dir(&self.repo())
            .args(args)
            .args(["-f", "fleet.yaml"])
            .run()
    }
}

/// Every file under `dir` (symlinks as their target text), for before/after comparison.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .flatten()
    {
        let rel = e
            .path()
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let ft = e.file_type();
        if ft.is_symlink() {
            let t = fs::read_link(e.path()).unwrap();
            out.insert(rel, format!("-> {}", t.display()).into_bytes());
        } else if ft.is_file() {
            out.insert(rel, fs::read(e.path()).unwrap());
        }
    }
    out
}

#[test]
fn fleet_folder_symlinked_outside_is_refused_and_outside_untouched() {
    let w = World::new();
    fs::remove_dir_all(w.repo().join("fleet")).ok();
    symlink(w.outside(), w.repo().join("fleet")).unwrap();
    let before = snapshot(&w.outside());
    let run = w.run(&["generate"]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
    assert_eq!(snapshot(&w.outside()), before);
}

#[test]
fn generated_file_symlinked_outside_is_refused_and_outside_untouched() {
    let w = World::new();
    let target = w.repo().join("hub/willingham-k8s.yaml");
    fs::remove_file(&target).unwrap();
    symlink(w.outside().join("precious.yaml"), &target).unwrap();
    let before = snapshot(w.dir.path());
    for args in [&["generate"][..], &["generate", "--force"], &["validate"]] {
        let run = w.run(args);
        assert_eq!(run.status, 1, "{args:?}: {}", run.stderr);
    }
    assert_eq!(snapshot(w.dir.path()), before, "nothing may change");
}

#[test]
fn symlinked_folder_inside_the_tree_is_refused() {
    let w = World::new();
    symlink(w.outside(), w.repo().join("deploy/escape")).unwrap();
    let before = snapshot(w.dir.path());
    let run = w.run(&["generate"]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stderr.contains("deploy/escape"), "{}", run.stderr);
    assert_eq!(snapshot(w.dir.path()), before);
}

#[test]
fn fifo_at_a_generated_path_is_refused_without_hanging() {
    let w = World::new();
    let target = w.repo().join("hub/willingham-k8s.yaml");
    fs::remove_file(&target).unwrap();
    let ok = Command::new("mkfifo").arg(&target).status().unwrap();
    assert!(ok.success());
    for args in [&["generate"][..], &["validate"]] {
        let run = w.run(args);
        assert_eq!(run.status, 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("special file"), "{}", run.stderr);
    }
}

#[test]
fn file_where_a_folder_must_be_writes_nothing() {
    let w = World::new();
    fs::remove_dir_all(w.repo().join("platform")).unwrap();
    fs::write(w.repo().join("platform"), "a person's notes\n").unwrap();
    fs::remove_file(w.repo().join("hub/willingham-k8s.yaml")).unwrap();
    let before = snapshot(w.dir.path());
    let run = w.run(&["generate"]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("a file where a folder must be"),
        "{}",
        run.stderr
    );
    assert_eq!(snapshot(w.dir.path()), before, "no half-written tree");
}

#[test]
fn nested_git_repository_in_the_tree_is_never_entered_or_pruned() {
    let w = World::new();
    let nested = w.repo().join("fleet/old-clone");
    fs::create_dir_all(nested.join(".git")).unwrap();
    // A copy of a generated file inside someone else's checkout.
    fs::copy(
        w.repo().join("hub/willingham-k8s.yaml"),
        nested.join("willingham-k8s.yaml"),
    )
    .unwrap();
    let run = w.run(&["generate"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        nested.join("willingham-k8s.yaml").exists(),
        "a file in a nested repository was pruned"
    );
}

#[test]
fn temporary_files_are_unpredictable_and_planted_links_are_not_followed() {
    let w = World::new();
    // The old fixed temporary name, planted as a link to a file outside.
    symlink(
        w.outside().join("precious.yaml"),
        w.repo().join("hub/.willingham-k8s.yaml.synctl-tmp"),
    )
    .unwrap();
    fs::remove_file(w.repo().join("hub/willingham-k8s.yaml")).unwrap();
    let before = snapshot(&w.outside());
    let run = w.run(&["generate"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(snapshot(&w.outside()), before);
    let written = fs::symlink_metadata(w.repo().join("hub/willingham-k8s.yaml")).unwrap();
    assert!(
        written.file_type().is_file(),
        "hub/willingham-k8s.yaml must be a regular file"
    );
    let leftovers: Vec<_> = fs::read_dir(w.repo().join("hub"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".synctl-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind");
}

#[test]
fn nul_byte_in_the_spec_is_a_located_yaml_error() {
    let w = World::new();
    let spec = w.repo().join("fleet.yaml");
    let mut bytes = fs::read(&spec).unwrap();
    bytes.extend_from_slice(b"\0  tenants: []\n");
    fs::write(&spec, bytes).unwrap();
    let before = snapshot(w.dir.path());
    for args in [&["validate"][..], &["generate"]] {
        let run = w.run(args);
        assert_eq!(run.status, 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("NUL byte"), "{}", run.stderr);
    }
    assert_eq!(snapshot(w.dir.path()), before);
}

#[test]
fn byte_order_mark_is_accepted() {
    let w = World::new();
    let spec = w.repo().join("fleet.yaml");
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend(fs::read(&spec).unwrap());
    fs::write(&spec, bytes).unwrap();
    let run = w.run(&["validate"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
}

#[test]
fn diagnostic_past_column_65535_does_not_panic() {
    let w = World::new();
    let spec = w.repo().join("fleet.yaml");
    let text = fs::read_to_string(&spec).unwrap();
    let long = format!(
        "{}\n  bogus: [{}x]\n",
        text.trim_end(),
        "a, ".repeat(30_000)
    );
    fs::write(&spec, long).unwrap();
    let run = w.run(&["validate"]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stderr.contains("synctl::schema"), "{}", run.stderr);
}

#[test]
fn index_lock_makes_commit_refuse_before_writing_anything() {
    let w = World::new();
    let repo = w.repo();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.name", "Bot"]);
    git(&repo, &["config", "user.email", "bot@example.com"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "start"]);
    let head = git(&repo, &["rev-parse", "HEAD"]);
    fs::write(repo.join(".git/index.lock"), "").unwrap();
    let spec = repo.join("fleet.yaml");
    let text = fs::read_to_string(&spec)
        .unwrap()
        .replace("interval: 10m", "interval: 11m");
    fs::write(&spec, &text).unwrap();
    let before = snapshot(&repo);
    let run = w.run(&["generate", "--commit"]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("index.lock"), "{}", run.stderr);
    assert_eq!(snapshot(&repo), before, "nothing may be written");
    assert_eq!(git(&repo, &["rev-parse", "HEAD"]), head);
}

#[test]
fn add_env_on_a_symlinked_spec_edits_the_target_and_keeps_the_link() {
    let w = World::new();
    let repo = w.repo();
    fs::rename(repo.join("fleet.yaml"), repo.join("real-fleet.yaml")).unwrap();
    symlink("real-fleet.yaml", repo.join("fleet.yaml")).unwrap();
    let run = w.run(&[
        "add-env",
        "edge",
        "--like",
        "willingham-k8s",
        "--environment",
        "edge",
        "--no-commit",
    ]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let link = fs::symlink_metadata(repo.join("fleet.yaml")).unwrap();
    assert!(
        link.file_type().is_symlink(),
        "the link was replaced by a file"
    );
    let text = fs::read_to_string(repo.join("real-fleet.yaml")).unwrap();
    assert!(text.contains("name: edge"), "{text}");
}

#[test]
fn tenant_repository_path_with_a_newline_cannot_inject_keys() {
    let w = World::new();
    let spec = w.repo().join("fleet.yaml");
    let text = fs::read_to_string(&spec).unwrap();
    let text = format!(
        "{}\n  tenants:\n    - name: team\n      apps:\n        repository: {{url: https://github.com/acme/team, path: \"./apps\\n  force: true\\nx: |\"}}\n",
        text.trim_end()
    );
    fs::write(&spec, text).unwrap();
    let before = snapshot(w.dir.path());
    let run = w.run(&["generate"]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stderr.contains("line break"), "{}", run.stderr);
    assert_eq!(snapshot(w.dir.path()), before);
}

#[test]
fn add_env_var_with_a_line_separator_is_refused_and_changes_nothing() {
    let w = World::new();
    let before = snapshot(w.dir.path());
    let run = w.run(&[
        "add-env",
        "edge",
        "--like",
        "willingham-k8s",
        "--environment",
        "edge",
        "--var",
        "ZZ=x\u{2028}  suspend:\u{2028}    true",
        "--no-commit",
    ]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert_eq!(snapshot(w.dir.path()), before);
}

#[test]
fn add_env_var_with_a_comma_is_quoted_in_the_flow_map() {
    let w = World::new();
    let run = w.run(&[
        "add-env",
        "edge",
        "--like",
        "willingham-k8s",
        "--environment",
        "edge",
        "--var",
        "CIDRS=10.0.0.0/8,192.168.0.0/16",
        "--no-commit",
    ]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let spec: serde_yaml::Value =
        serde_yaml::from_str(&fs::read_to_string(w.repo().join("fleet.yaml")).unwrap()).unwrap();
    let edge = spec["spec"]["clusters"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "edge")
        .unwrap();
    assert_eq!(edge["vars"]["CIDRS"], "10.0.0.0/8,192.168.0.0/16");
    let check = w.run(&["generate", "--check"]);
    assert_eq!(check.status, 0, "{}", check.stderr);
}

#[test]
fn control_characters_in_values_are_refused_and_line_separators_escaped() {
    let w = World::new();
    let spec = w.repo().join("fleet.yaml");
    let original = fs::read_to_string(&spec).unwrap();
    let with = |values: &str| {
        format!(
            "{}\n    - name: odd-keys\n      wave: operators\n      chart: {{repository: https://charts.example.com, name: odd}}\n      values: {values}\n",
            original.trim_end()
        )
    };
    // DEL and NEL: kustomize cannot write them, so `validate` must not say "up to date".
    for values in [r#"{"del\x7Fkey": 1}"#, r#"{key: "nel\x85value"}"#] {
        fs::write(&spec, with(values)).unwrap();
        let before = snapshot(w.dir.path());
        let run = w.run(&["generate"]);
        assert_eq!(run.status, 1, "{values}: {}", run.stderr);
        assert!(run.stderr.contains("control character"), "{}", run.stderr);
        assert_eq!(snapshot(w.dir.path()), before);
    }
    // A line separator is data: escaped, read back as written, and the overlay builds.
    fs::write(&spec, with(r#"{key: "a\u2028b: c"}"#)).unwrap();
    let run = w.run(&["generate"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let release =
        fs::read_to_string(w.repo().join("deploy/operators/odd-keys/release.yaml")).unwrap();
    let docs: Vec<serde_yaml::Value> = serde_yaml::Deserializer::from_str(&release)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let values = &docs[1]["spec"]["values"];
    assert_eq!(values["key"], "a\u{2028}b: c", "{release}");
    assert_eq!(values.as_mapping().unwrap().len(), 1, "{release}");
    kustomize(&w.repo().join("platform/operators"));
}

#[test]
fn output_root_that_is_not_a_folder_is_an_io_error() {
    let run = Synctl::new()
        .args([
            "generate",
            "-f",
            "examples/homelab/fleet.yaml",
            "-o",
            "/dev/null",
        ])
        .run();
    assert_eq!(run.status, 2, "{}", run.stderr);
}

#[test]
fn read_only_generated_file_is_not_silently_replaced() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::new();
    let spec = w.repo().join("fleet.yaml");
    let text = fs::read_to_string(&spec)
        .unwrap()
        .replace("wcloud.sh", "wcloud.dev");
    fs::write(&spec, text).unwrap();
    let file = w.repo().join("hub/willingham-k8s.yaml");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o444)).unwrap();
    let before = fs::read(&file).unwrap();
    let run = w.run(&["generate"]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stderr.contains("read-only"), "{}", run.stderr);
    assert_eq!(fs::read(&file).unwrap(), before);
    let forced = w.run(&["generate", "--force"]);
    assert_eq!(forced.status, 0, "{}", forced.stderr);
}

#[test]
fn terminal_escape_sequences_from_the_spec_are_never_printed_raw() {
    let w = World::new();
    let spec = w.repo().join("fleet.yaml");
    let text = fs::read_to_string(&spec).unwrap().replacen(
        "wave: operators",
        "wave: \"\u{1b}]0;owned\u{7}\u{1b}[2J\"",
        1,
    );
    fs::write(&spec, text).unwrap();
    for color in ["never", "always"] {
        let run = w.run(&["validate", "--color", color]);
        assert_eq!(run.status, 1, "{}", run.stderr);
        assert!(
            !run.stderr.contains("\u{1b}]0;"),
            "{color}: {:?}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("\u{1b}[2J"),
            "{color}: {:?}",
            run.stderr
        );
    }
}

#[test]
fn integral_float_retry_limit_is_an_integer() {
    let w = World::new();
    let spec = w.repo().join("fleet.yaml");
    let text = fs::read_to_string(&spec).unwrap().replacen(
        "spec:\n",
        "spec:\n  argocd: {retryLimit: 1.0}\n",
        1,
    );
    fs::write(&spec, text).unwrap();
    let run = w.run(&["validate"]);
    assert!(!run.stderr.contains("bug in synctl"), "{}", run.stderr);
    assert_eq!(run.status, 0, "{}", run.stderr);
}

#[test]
fn copies_of_generated_files_and_other_specs_trees_are_never_pruned() {
    let w = World::new();
    let repo = w.repo();
    // A backup copy, a copied folder, and another spec's tree inside this one.
    fs::copy(
        repo.join("hub/willingham-k8s.yaml"),
        repo.join("hub/willingham-k8s.yaml.bak"),
    )
    .unwrap();
    let copied = repo.join("deploy/old-copy");
    fs::create_dir_all(&copied).unwrap();
    for e in fs::read_dir(repo.join("deploy/tenant-role"))
        .into_iter()
        .flatten()
        .flatten()
    {
        fs::copy(e.path(), copied.join(e.file_name())).unwrap();
    }
    let other = "# Code generated by synctl from other/fleet.yaml; DO NOT EDIT.\n# synctl-digest: sha256:00000000000000000000000000000000 for platform/other.yaml\nkind: List\n";
    fs::write(repo.join("platform/other.yaml"), other).unwrap();
    let before = snapshot(&repo);
    let run = w.run(&["generate"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stderr.contains("0 removed"), "{}", run.stderr);
    assert_eq!(snapshot(&repo), before, "copies must survive");
    // The spec dropping a component still prunes what synctl generated for it.
    let spec = repo.join("fleet.yaml");
    let text = fs::read_to_string(&spec).unwrap();
    let dropped = text.replace(
        "    - {name: vpa, wave: tuning, path: vpa, dependsOn: [observability]}\n",
        "",
    );
    assert_ne!(dropped, text);
    fs::write(&spec, dropped).unwrap();
    let run = w.run(&["generate"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(repo.join("hub/willingham-k8s.yaml.bak").exists());
    assert!(repo.join("platform/other.yaml").exists());
}

#[test]
fn crlf_spec_with_autocrlf_keeps_its_line_endings_and_leaves_no_phantom_change() {
    let w = World::new();
    let repo = w.repo();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.name", "Bot"]);
    git(&repo, &["config", "user.email", "bot@example.com"]);
    git(&repo, &["config", "core.autocrlf", "true"]);
    let spec = repo.join("fleet.yaml");
    let crlf = fs::read_to_string(&spec).unwrap().replace('\n', "\r\n");
    fs::write(&spec, &crlf).unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "start"]);
    let run = w.run(&[
        "add-env",
        "edge",
        "--like",
        "willingham-k8s",
        "--environment",
        "edge",
    ]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let text = fs::read_to_string(&spec).unwrap();
    assert!(text.contains("name: edge"), "{text}");
    assert_eq!(
        text.matches('\n').count(),
        text.matches("\r\n").count(),
        "mixed line endings"
    );
    assert_eq!(git(&repo, &["status", "--porcelain"]), "", "phantom change");
    // The commit stores the spec as git would with autocrlf: LF.
    let blob = git(&repo, &["show", "HEAD:fleet.yaml"]);
    assert!(!blob.contains('\r'), "CRLF committed");
}

/// A spec refused before the repository rule leaves the thread that looks for the Git
/// repository running; exiting under it let libgit2's shutdown free what the thread used, and
/// the process aborted (`free(): invalid pointer`) about once in a hundred runs. It is joined
/// before exit now: many runs, every one a clean exit 1.
#[test]
fn a_refused_spec_never_aborts_at_exit() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fleet.yaml");
    std::fs::write(
        &spec,
        "apiVersion: synctl.dev/v1alpha1\nkind: Fleet\nmetadata: {name: t}\nspec:\n  repository: {url: https://github.com/acme/fleet}\n  clusters:\n    - {name: hub, role: hub}\n  components:\n    - {name: app, wave: config, path: app, releaseName: x}\n",
    )
    .unwrap();
    for _ in 0..150 {
        let run = Synctl::new().args(["generate", "-f"]).args([&spec]).run();
        assert_eq!(run.status, 1, "{}", run.stderr);
    }
}

/// A component's folder is read only inside the repository and only as plain files: a folder
/// linked to `/` is a located error (nothing under it read), and a `kustomization.yaml` linked
/// to `/dev/zero` or made a FIFO is not read (it used to be read until memory ran out, or to
/// block `validate` for ever).
#[test]
fn component_folders_are_never_read_through_links_or_special_files() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fleet.yaml");
    fs::write(
        &spec,
        "apiVersion: synctl.dev/v1alpha1\nkind: Fleet\nmetadata: {name: t}\nspec:\n  repository: {url: https://github.com/acme/fleet}\n  clusters:\n    - {name: hub, role: hub}\n  components:\n    - {name: app, wave: config, path: app}\n",
    )
    .unwrap();
    let app = dir.path().join("app");
    symlink("/", &app).unwrap();
    let run = Synctl::new().args(["validate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("leads outside the repository"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("synctl::substitution"),
        "{}",
        run.stderr
    );
    fs::remove_file(&app).unwrap();
    fs::create_dir(&app).unwrap();
    symlink("/dev/zero", app.join("kustomization.yaml")).unwrap();
    let run = Synctl::new().args(["validate", "-f"]).args([&spec]).run();
    assert!(run.status == 0 || run.status == 1, "{}", run.stderr);
    fs::remove_file(app.join("kustomization.yaml")).unwrap();
    let fifo = Command::new("mkfifo")
        .arg(app.join("kustomization.yaml"))
        .status()
        .unwrap();
    assert!(fifo.success());
    let run = Synctl::new().args(["validate", "-f"]).args([&spec]).run();
    assert!(run.status == 0 || run.status == 1, "{}", run.stderr);
}

/// `fleet.yaml` linked to a file outside the repository (another team's spec, a credentials
/// file): nothing reads it as the spec (its lines would be shown in diagnostics) and `add-env`
/// edits nothing — outside or in the tree.
#[test]
fn a_spec_linked_outside_the_repository_is_neither_read_nor_edited() {
    let w = World::new();
    let repo = w.repo();
    let outside_spec = w.outside().join("fleet.yaml");
    fs::rename(repo.join("fleet.yaml"), &outside_spec).unwrap();
    symlink(&outside_spec, repo.join("fleet.yaml")).unwrap();
    let before_outside = fs::read(&outside_spec).unwrap();
    let before = snapshot(&repo);
    for args in [
        &["validate"][..],
        &["generate"][..],
        &["add-env", "s1", "--like", "willingham-k8s", "--no-commit"][..],
    ] {
        let run = w.run(args);
        assert_eq!(run.status, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("outside the output root"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(fs::read(&outside_spec).unwrap(), before_outside);
    assert_eq!(snapshot(&repo), before, "nothing may be written");
}

/// `--templates` reads plain files inside its folder only: a template that is a link, or a
/// subfolder linked elsewhere, stops the run before anything is written (it was read through
/// the link).
#[test]
fn templates_are_never_read_through_links() {
    for linked_folder in [false, true] {
        let w = World::new();
        let templates = w.repo().join("templates");
        let outside = w.outside().join("k8s");
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("namespace.yaml.j2"), "secret: from outside\n").unwrap();
        if linked_folder {
            fs::create_dir_all(&templates).unwrap();
            symlink(&outside, templates.join("k8s")).unwrap();
        } else {
            fs::create_dir_all(templates.join("k8s")).unwrap();
            symlink(
                outside.join("namespace.yaml.j2"),
                templates.join("k8s/namespace.yaml.j2"),
            )
            .unwrap();
        }
        let before = snapshot(&w.repo());
        let run = w.run(&["generate", "--templates", "templates"]);
        assert_eq!(run.status, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("is a link or leads outside"),
            "{}",
            run.stderr
        );
        assert_eq!(snapshot(&w.repo()), before, "nothing may be written");
    }
}
