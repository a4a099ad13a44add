//! Hostile inputs, round two (issue "Hostile inputs, round two"): shapes and sizes that used to
//! crash synctl, or to take time in the square of the input, and closed pipes. Each test is
//! named after its case; runs that could go on without end are bounded far above what they
//! take (a guard, not a measure of speed).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::Synctl;

const HEAD: &str = "apiVersion: synctl.dev/v1alpha1\nkind: Fleet\nmetadata: {name: t}\nspec:\n  repository: {url: https://github.com/acme/fleet}\n";

/// A spec of `n` clusters whose names are all invalid (upper case and `_`).
fn bad_names(n: usize) -> String {
    let mut s = format!("{HEAD}  clusters:\n");
    for i in 0..n {
        s.push_str(&format!("    - {{name: Bad_{i}, role: hub}}\n"));
    }
    s.push_str("  components: []\n");
    s
}

fn write_spec(dir: &Path, text: &str) -> std::path::PathBuf {
    let spec = dir.join("fleet.yaml");
    std::fs::write(&spec, text).unwrap();
    spec
}

#[test]
fn block_sequence_nested_30000_deep_is_a_yaml_error_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), &("- ".repeat(30_000) + "x\n"));
    for format in ["text", "json"] {
        let run = Synctl::new()
            .args(["validate", "--format", format, "-f"])
            .args([&spec])
            .run();
        assert_eq!(run.status, 1, "{format}: {}", run.stderr);
        let out = run.stdout + &run.stderr;
        assert!(out.contains("nesting deeper than 64 levels"), "{out}");
    }
}

#[test]
fn flow_and_mapping_nesting_without_end_is_a_yaml_error() {
    let dir = tempfile::tempdir().unwrap();
    for text in [
        "[".repeat(30_000),
        "{a: ".repeat(30_000),
        "- [".repeat(5_000) + "x",
        (0..5_000).fold(String::new(), |mut s, i| {
            s.push_str(&" ".repeat(i));
            s.push_str(&format!("k{i}:\n"));
            s
        }),
    ] {
        let spec = write_spec(dir.path(), &text);
        let run = Synctl::new().args(["validate", "-f"]).args([&spec]).run();
        assert_eq!(run.status, 1, "{}", run.stderr);
        assert!(run.stderr.contains("synctl::yaml"), "{}", run.stderr);
    }
}

/// Runs `synctl validate` (with `args`) on `spec` with stdout or stderr a pipe whose reading end
/// is closed before synctl writes: the report (larger than a pipe's buffer) meets a closed
/// pipe. Returns the exit code.
fn validate_into_closed_pipe(spec: &Path, args: &[&str], close_stdout: bool) -> Option<i32> {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("synctl"))
        .arg("validate")
        .args(args)
        .arg("-f")
        .arg(spec)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(if close_stdout {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stderr(if close_stdout {
            Stdio::null()
        } else {
            Stdio::piped()
        })
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    child.wait().unwrap().code()
}

/// `synctl validate 2>&1 | head -1` used to panic ("failed printing to stderr", exit 101): a
/// closed pipe ends synctl quietly with the exit code of what it found, as in every Unix tool.
#[test]
fn closed_stdout_or_stderr_pipe_is_a_quiet_exit() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), &bad_names(2_000));
    assert_eq!(validate_into_closed_pipe(&spec, &[], false), Some(1));
    assert_eq!(
        validate_into_closed_pipe(&spec, &["--format", "json"], true),
        Some(1)
    );
    // The schema on stdout: exit 0 whoever stops reading.
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("synctl"))
        .arg("schema")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 1];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// The human report counted lines from the file's first byte for every snippet: 10,000 invalid
/// cluster names took 15 s and 40,000 four minutes (JSON: 0.4 s). 20,000 now take about as
/// long as their JSON report; the bound only stops a run without end.
#[test]
fn twenty_thousand_invalid_names_are_reported_in_linear_time() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), &bad_names(20_000));
    let run = Synctl::new()
        .args(["validate", "-f"])
        .args([&spec])
        .within(120)
        .run();
    assert_eq!(
        run.status,
        1,
        "{}",
        &run.stderr[..run.stderr.len().min(500)]
    );
    assert!(
        run.stderr
            .ends_with("fleet.yaml: 20000 error(s), 0 warning(s)\n"),
        "{}",
        &run.stderr[run.stderr.len().saturating_sub(500)..]
    );
    assert!(
        run.stderr.contains("fleet.yaml:20006:"),
        "the last name is located"
    );
}

/// "Did you mean" for 10,000 mistyped `dependsOn` took 80 s (each compared with every name,
/// and the names sorted again for each): the names are sorted once, compared only where the
/// lengths allow a typo, and within a budget; past it, no suggestion.
#[test]
fn ten_thousand_mistyped_depends_on_are_reported_in_linear_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("{HEAD}  clusters:\n    - {{name: hub, role: hub}}\n  components:\n");
    for i in 0..10_000 {
        text.push_str(&format!(
            "    - {{name: comp-{i}, wave: apps, chart: {{repository: https://c.example.com, name: c, version: 1.0.0}}, dependsOn: [comp-{i}x]}}\n"
        ));
    }
    text.push_str("  waves: [{name: apps}]\n");
    let spec = write_spec(dir.path(), &text);
    for format in ["text", "json"] {
        let run = Synctl::new()
            .args(["validate", "--format", format, "-f"])
            .args([&spec])
            .within(120)
            .run();
        assert_eq!(
            run.status,
            1,
            "{format}: {}",
            &run.stderr[..run.stderr.len().min(800)]
        );
        let out = run.stdout + &run.stderr;
        assert_eq!(out.matches("does not exist").count(), 10_000, "{format}");
        assert!(out.contains("did you mean `comp-0`?"), "{format}");
    }
}

/// A spec of one hub and one tenant with `namespaces` namespaces and an annotation of
/// `annotation` bytes on each.
fn tenant_spec(namespaces: usize, annotation: usize) -> String {
    let names: Vec<String> = (0..namespaces).map(|i| format!("team-{i}")).collect();
    format!(
        "{HEAD}  clusters:\n    - {{name: hub, role: hub}}\n  components: []\n  tenants:\n    - name: team\n      clusters: [hub]\n      namespaces: [{}]\n      namespaceMetadata: {{annotations: {{big: \"{}\"}}}}\n",
        names.join(", "),
        "x".repeat(annotation)
    )
}

/// A 4 MB annotation on a tenant of 250 namespaces was written 250 times (a 964 MB file; with
/// 1,000 namespaces `generate` aborted allocating): annotations past Kubernetes' 256 KiB are
/// refused where they are written, and a file past 64 MiB is refused before anything is
/// written, whatever copied the value.
#[test]
fn output_amplification_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), &tenant_spec(250, 4_000_000));
    let run = Synctl::new().args(["validate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stderr.contains("synctl::size"), "{}", run.stderr);
    assert!(run.stderr.contains("are 4000003 bytes"), "{}", run.stderr);
    assert!(
        run.stderr.contains("fleet.yaml:10:13]"),
        "located at the tenant: {}",
        run.stderr
    );

    // Under Kubernetes' limit, but 250 copies of 200 KiB: the file is refused.
    let spec = write_spec(dir.path(), &tenant_spec(400, 200_000));
    let run = Synctl::new()
        .dir(dir.path())
        .args(["generate", "-f", "fleet.yaml"])
        .run();
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("deploy/tenants/team/tenant.yaml: the file would be"),
        "{}",
        run.stderr
    );
    let written: Vec<_> = walkdir::WalkDir::new(dir.path())
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().to_path_buf())
        .collect();
    assert_eq!(written, [spec], "nothing is written");

    // A 2 MB cluster variable copied into every Kustomization: each object is over etcd's limit.
    let spec = write_spec(
        dir.path(),
        &format!(
            "{HEAD}  clusters:\n    - {{name: hub, role: hub, vars: {{BIG: \"{}\"}}}}\n  waves: [{{name: apps}}]\n  components:\n    - {{name: app, wave: apps, path: app}}\n",
            "x".repeat(2_000_000)
        ),
    );
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    std::fs::write(
        dir.path().join("app/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: \"${BIG}\"}\n",
    )
    .unwrap();
    let run = Synctl::new().args(["generate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("hub/hub.yaml: an object would be"),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join("hub").exists());
}

/// A template of `--templates` with nested loops ran without end, and one that wrote in a
/// loop aborted allocating 2 GB: a template runs a bounded number of instructions and writes
/// a bounded number of bytes, and the first to run out stops every other.
#[test]
fn templates_that_loop_or_write_without_end_are_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), &tenant_spec(3, 10));
    for (body, says) in [
        (
            &"{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
                .to_owned(),
            "instructions for one object",
        ),
        (
            &format!(
                "{{% for a in range(100000) %}}{{% for b in range(100000) %}}{}{{% endfor %}}{{% endfor %}}",
                "x".repeat(1000)
            ),
            "the file would be",
        ),
    ] {
        let templates = dir.path().join("templates/k8s");
        std::fs::create_dir_all(&templates).unwrap();
        std::fs::write(templates.join("tenant.yaml.j2"), body).unwrap();
        let run = Synctl::new()
            .args(["generate", "--templates"])
            .args([dir.path().join("templates")])
            .args(["-f"])
            .args([&spec])
            .within(300)
            .run();
        assert_eq!(run.status, 1, "{}", run.stderr);
        assert!(run.stderr.contains(says), "{}", run.stderr);
        assert!(!dir.path().join("deploy").exists());
    }
}

/// A spec of `clusters` standalone clusters (each its own folder tree) and one chart whose
/// values are `values` bytes long.
fn standalone_fleet(clusters: usize, values: usize) -> String {
    let mut s = format!("{HEAD}  clusters:\n");
    for i in 0..clusters {
        s.push_str(&format!("    - {{name: c{i}, role: standalone}}\n"));
    }
    s.push_str(&format!(
        "  waves: [{{name: apps}}]\n  components:\n    - {{name: a, wave: apps, chart: {{repository: https://c.example.com, name: c, version: 1.0.0}}, values: {{x: \"{}\"}}}}\n",
        "y".repeat(values)
    ));
    s
}

/// Runs `synctl generate -f fleet.yaml` in `dir` through `sh` after `limits` (shell commands
/// such as `ulimit -n 40`). Returns the exit code and stderr.
fn generate_under(dir: &Path, limits: &str) -> (Option<i32>, String) {
    let bin = assert_cmd::cargo::cargo_bin("synctl");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{limits}; exec \"$0\" generate -f fleet.yaml"))
        .arg(bin)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every temporary file stayed open until the renames: 150 standalone clusters failed with
/// "Too many open files" under the usual limit of 1,024. One file is open at a time now: 150
/// clusters (600 files) are written under a limit of 40.
#[test]
fn a_fleet_of_any_size_is_written_under_a_low_open_file_limit() {
    let dir = tempfile::tempdir().unwrap();
    write_spec(dir.path(), &standalone_fleet(150, 10));
    let (code, stderr) = generate_under(dir.path(), "ulimit -n 40");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        dir.path()
            .join("fleet/c149/apps/kustomization.yaml")
            .is_file()
    );
}

/// On a full disk (here: a file-size limit, so the first large file fails) synctl said
/// "nothing was changed" but left the 600 new folders it had made: they go too.
#[test]
fn a_write_that_fails_leaves_no_folder_behind() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), &standalone_fleet(150, 20_000));
    // SIGXFSZ ignored, so a write past the limit fails with EFBIG instead of killing synctl.
    let (code, stderr) = generate_under(dir.path(), "trap '' XFSZ; ulimit -f 8");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(left, [spec]);
}

/// A person's file named like a temporary (`hub/.synctl-notes.tmp`) was deleted without a
/// word: only synctl's own name shape (`.synctl-` and six random characters, `.tmp`) holding
/// a generated file's header is a stale temporary.
#[test]
fn a_persons_file_named_like_a_temporary_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    write_spec(dir.path(), &standalone_fleet(1, 10));
    let (code, stderr) = generate_under(dir.path(), "true");
    assert_eq!(code, Some(0), "{stderr}");
    let apps = dir.path().join("deploy/apps/a");
    let stale = apps.join(".synctl-AbC123.tmp");
    std::fs::write(
        &stale,
        "# Code generated by synctl from fleet.yaml; DO NOT EDIT.\n",
    )
    .unwrap();
    for (name, text) in [
        (".synctl-notes.tmp", "my notes\n"),
        (".synctl-XyZ789.tmp", "not generated\n"),
    ] {
        std::fs::write(apps.join(name), text).unwrap();
    }
    let spec = standalone_fleet(1, 11);
    write_spec(dir.path(), &spec);
    let (code, stderr) = generate_under(dir.path(), "true");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stale.exists(), "synctl's own stale temporary is cleared");
    assert_eq!(
        std::fs::read_to_string(apps.join(".synctl-notes.tmp")).unwrap(),
        "my notes\n"
    );
    assert!(apps.join(".synctl-XyZ789.tmp").exists());
}

/// `synctl diff` copied escape sequences from files of the tree to the terminal (a stale
/// generated file holding a title change and a screen clear): they are shown as `\u{…}`.
#[test]
fn diff_never_prints_escape_sequences_from_the_tree() {
    use sha2::Digest as _;
    let dir = tempfile::tempdir().unwrap();
    crate::copy_example("homelab", dir.path(), true);
    let body = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: \"\u{1b}]0;owned\u{7}\u{1b}[2J\"}\n";
    let hash = sha2::Sha256::digest(body.as_bytes());
    let digest = hash.iter().take(16).fold(String::new(), |mut s, b| {
        s.push_str(&format!("{b:02x}"));
        s
    });
    std::fs::write(
        dir.path().join("hub/stale.yaml"),
        format!("# Code generated by synctl from fleet.yaml; DO NOT EDIT.\n# synctl-digest: sha256:{digest} for hub/stale.yaml\n{body}"),
    )
    .unwrap();
    let run = Synctl::new()
        .dir(dir.path())
        .args(["diff", "-f", "fleet.yaml"])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("-data: {a: \"\\u{1b}]0;owned\\u{7}\\u{1b}[2J\"}"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains('\u{1b}'));
}

/// `repository.path: ./.config` was normalised to `./config` (and then refused, with help
/// saying to write `./.config`); `../../` was accepted and written as `/../deploy`. Parts
/// are read as Flux reads them: `.` and empty ones dropped, `..` refused where it is written.
#[test]
fn repository_path_keeps_dot_folders_and_refuses_climbing_out() {
    let dir = tempfile::tempdir().unwrap();
    let spec_with = |path: &str| {
        format!(
            "apiVersion: synctl.dev/v1alpha1\nkind: Fleet\nmetadata: {{name: t}}\nspec:\n  repository: {{url: https://github.com/acme/fleet, path: '{path}'}}\n{}",
            "  clusters:\n    - {name: c0, role: standalone}\n  waves: [{name: apps}]\n  components:\n    - {name: a, wave: apps, chart: {repository: https://c.example.com, name: c, version: 1.0.0}}\n"
        )
    };
    for (path, written) in [
        ("./.config", "path: ./.config/fleet/c0/apps\n"),
        (".config/", "path: ./.config/fleet/c0/apps\n"),
        ("./a/./b//", "path: ./a/b/fleet/c0/apps\n"),
        (".", "path: ./fleet/c0/apps\n"),
    ] {
        let out = tempfile::tempdir().unwrap();
        write_spec(out.path(), &spec_with(path));
        let run = Synctl::new()
            .dir(out.path())
            .args(["generate", "-f", "fleet.yaml"])
            .run();
        assert_eq!(run.status, 0, "{path}: {}", run.stderr);
        let entry =
            std::fs::read_to_string(out.path().join("fleet/c0/clusters/c0/kustomizations.yaml"))
                .unwrap();
        assert!(entry.contains(written), "{path}: {entry}");
    }
    for path in ["../../", "./a/../..", "a/.."] {
        let spec = write_spec(dir.path(), &spec_with(path));
        let run = Synctl::new().args(["validate", "-f"]).args([&spec]).run();
        assert_eq!(run.status, 1, "{path}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("`repository.path` climbs out of the repository"),
            "{path}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("fleet.yaml:5:58]"), "{}", run.stderr);
    }
}

/// `${NOPE}` in a tenant's repository URL passed: Flux empties it on the cluster and the
/// tenant's source points at `https://github.com/acme/`. A variable there must be one the
/// entry's clusters define; an invalid `vars` key's error names the key.
#[test]
fn tenant_repository_variables_resolve_and_bad_var_keys_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let spec_with = |vars: &str, url: &str| {
        format!(
            "{HEAD}  clusters:\n    - {{name: c0, role: standalone, vars: {vars}}}\n  waves: [{{name: apps}}]\n  components: []\n  tenants:\n    - name: team\n      clusters: [c0]\n      namespaces: [team]\n      apps:\n        repository: {{url: '{url}', path: ./deploy}}\n        wave: apps\n"
        )
    };
    let spec = write_spec(
        dir.path(),
        &spec_with("{ORG: acme}", "https://github.com/acme/${NOPE}"),
    );
    let run = Synctl::new().args(["validate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("`${NOPE}` in the URL of tenant `team` is not defined for cluster `c0`"),
        "{}",
        run.stderr
    );
    let spec = write_spec(
        dir.path(),
        &spec_with("{ORG: acme}", "https://github.com/${ORG}/team"),
    );
    let run = Synctl::new().args(["validate", "-f"]).args([&spec]).run();
    assert!(
        !run.stderr.contains("synctl::substitution"),
        "{}",
        run.stderr
    );
    let spec = write_spec(
        dir.path(),
        &spec_with("{'bad key': x}", "https://github.com/acme/team"),
    );
    let run = Synctl::new().args(["validate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("`vars` `bad key` is not valid"),
        "{}",
        run.stderr
    );
}

/// `fleet/` as a Git submodule: `generate` wrote into the submodule's work tree, and
/// `--commit` failed with libgit2's raw "D/F conflict". An output folder, or a folder inside
/// one, that is another repository (a `.git` file or folder) is refused before any write;
/// one problem per repository, not per file.
#[test]
fn submodules_and_clones_in_the_output_folders_are_never_written_into() {
    for (repo, git_is_file) in [("fleet", true), ("deploy/apps/a", false)] {
        let dir = tempfile::tempdir().unwrap();
        write_spec(dir.path(), &standalone_fleet(3, 10));
        crate::git(dir.path(), &["init", "-q"]);
        crate::git(dir.path(), &["config", "user.name", "Platform Bot"]);
        crate::git(dir.path(), &["config", "user.email", "bot@example.com"]);
        let top = dir.path().join(repo);
        std::fs::create_dir_all(&top).unwrap();
        if git_is_file {
            std::fs::write(top.join(".git"), "gitdir: ../.git/modules/fleet\n").unwrap();
        } else {
            crate::git(&top, &["init", "-q"]);
        }
        let run = Synctl::new()
            .dir(dir.path())
            .args(["generate", "--commit", "-f", "fleet.yaml"])
            .run();
        assert_eq!(run.status, 1, "{repo}: {}", run.stderr);
        assert_eq!(
            run.stderr
                .matches(&format!("`{repo}/` is another Git repository"))
                .count(),
            1,
            "{repo}: {}",
            run.stderr
        );
        let written: Vec<_> = walkdir::WalkDir::new(dir.path())
            .into_iter()
            .filter_entry(|e| e.file_name() != ".git")
            .flatten()
            .filter(|e| e.file_type().is_file())
            .map(|e| e.path().strip_prefix(dir.path()).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            written,
            [Path::new("fleet.yaml")],
            "{repo}: nothing written"
        );
    }
}

/// Tenants' network policies admit namespaces labelled `synctl.dev/ingress` or
/// `synctl.dev/monitoring`: any component could set the label on its namespace and be
/// admitted into every tenant. Only the component that `provides` the stack may; other
/// `synctl.dev/` keys are synctl's.
#[test]
fn only_the_declared_ingress_or_monitoring_stack_sets_the_labels_isolation_trusts() {
    let dir = tempfile::tempdir().unwrap();
    let chart = "chart: {repository: https://c.example.com, name: c, version: 1.0.0}";
    let spec_with = |component: &str| {
        format!(
            "{HEAD}  clusters:\n    - {{name: hub, role: hub}}\n  waves: [{{name: apps}}]\n  components:\n    - {{name: x, wave: apps, {chart}, {component}}}\n"
        )
    };
    for (component, refused) in [
        (
            "namespaceMetadata: {labels: {synctl.dev/ingress: 'true'}}",
            Some("`synctl.dev/ingress`"),
        ),
        (
            "provides: [monitoring], namespaceMetadata: {labels: {synctl.dev/ingress: 'true'}}",
            Some("`synctl.dev/ingress`"),
        ),
        (
            "provides: [ingress], namespaceMetadata: {annotations: {synctl.dev/ingress: 'true'}}",
            Some("annotation `synctl.dev/ingress`"),
        ),
        (
            "provides: [ingress], namespaceMetadata: {labels: {synctl.dev/tenant-accounts: 'true'}}",
            Some("`synctl.dev/tenant-accounts`"),
        ),
        (
            "provides: [ingress], namespaceMetadata: {labels: {synctl.dev/ingress: 'true'}}",
            None,
        ),
        (
            "provides: [monitoring], namespaceMetadata: {labels: {synctl.dev/monitoring: 'true'}}",
            None,
        ),
    ] {
        let spec = write_spec(dir.path(), &spec_with(component));
        let run = Synctl::new().args(["validate", "-f"]).args([&spec]).run();
        match refused {
            Some(key) => {
                assert_eq!(run.status, 1, "{component}: {}", run.stderr);
                assert!(run.stderr.contains("synctl::reserved"), "{}", run.stderr);
                assert!(run.stderr.contains(key), "{component}: {}", run.stderr);
            }
            None => assert!(
                !run.stderr.contains("synctl::reserved"),
                "{component}: {}",
                run.stderr
            ),
        }
    }
}

/// Date-like strings were written plain (a Helm value `image: {tag: "2024-01-15"}`, a cluster
/// variable, `add-env --var D=2024-01-15`) and reached the cluster as `2024-01-15T00:00:00Z`
/// once kustomize read them. Each is written quoted, and kustomize keeps it a string.
#[test]
fn date_like_strings_stay_strings_through_kustomize() {
    let dir = tempfile::tempdir().unwrap();
    write_spec(
        dir.path(),
        &format!(
            "{HEAD}  clusters:\n    - {{name: hub, role: hub, vars: {{D: \"2024-01-15\"}}}}\n    - {{name: dev, environment: dev}}\n  waves: [{{name: apps}}]\n  components:\n    - {{name: app, wave: apps, chart: {{repository: https://c.example.com, name: c, version: 1.0.0}}, values: {{image: {{tag: \"2024-01-15\"}}}}, environments: {{dev: {{values: {{image: {{tag: \"2025-02-01\"}}}}}}}}}}\n"
        ),
    );
    let run = Synctl::new()
        .dir(dir.path())
        .args(["add-env", "stage", "--like", "dev", "--var", "S=2024-01-15"])
        .args(["--no-commit", "-f", "fleet.yaml"])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    let run = Synctl::new()
        .dir(dir.path())
        .args(["generate", "-f", "fleet.yaml"])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    let hub = std::fs::read_to_string(dir.path().join("hub/hub.yaml")).unwrap();
    assert!(
        hub.contains("D: '2024-01-15'") || hub.contains("D: \"2024-01-15\""),
        "{hub}"
    );
    let fleet_entry = walkdir::WalkDir::new(dir.path().join("hub"))
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect::<String>();
    assert!(
        fleet_entry.contains("S: '2024-01-15'") || fleet_entry.contains("S: \"2024-01-15\""),
        "{fleet_entry}"
    );
    // What kustomize (and so Flux) builds from the release and the dev overlay.
    let built = crate::kustomize(&dir.path().join("deploy/apps/app"));
    assert!(built.contains("tag: \"2024-01-15\""), "{built}");
    for e in walkdir::WalkDir::new(dir.path()).into_iter().flatten() {
        if e.file_name() == "kustomization.yaml"
            && std::fs::read_to_string(e.path())
                .unwrap()
                .contains("2025-02-01")
        {
            let built = crate::kustomize(e.path().parent().unwrap());
            assert!(built.contains("tag: \"2025-02-01\""), "{built}");
        }
    }
}

/// `spec.flux.size`/`version`/`registry` were accepted on clusters `flux bootstrap` installs,
/// where no FluxInstance reads them. Refused there; kept where one cluster uses the operator.
#[test]
fn flux_operator_fields_are_refused_only_where_nothing_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let spec_with = |flux: &str, clusters: &str| {
        format!("{HEAD}  flux: {flux}\n  clusters:\n{clusters}  components: []\n")
    };
    let cli_only = "    - {name: a, role: standalone}\n";
    let mixed = "    - {name: a, role: standalone}\n    - {name: b, role: standalone, flux: {bootstrap: flux-cli}}\n";
    for (flux, clusters, refused) in [
        ("{size: small}", cli_only, true),
        (
            "{bootstrap: flux-operator, size: small, version: '2.4'}",
            mixed,
            false,
        ),
        (
            "{bootstrap: flux-operator}",
            "    - {name: a, role: standalone, flux: {bootstrap: flux-cli, registry: r.example.com/flux}}\n",
            true,
        ),
    ] {
        let spec = write_spec(dir.path(), &spec_with(flux, clusters));
        let run = Synctl::new().args(["validate", "-f"]).args([&spec]).run();
        assert_eq!(
            run.stderr
                .contains("does nothing here: cluster `a` is installed by `flux bootstrap`"),
            refused,
            "{flux} {clusters}: {}",
            run.stderr
        );
    }
}
