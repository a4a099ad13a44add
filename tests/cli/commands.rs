//! The commands on the examples: validate, schema, graph, init, completions.

use std::fs;

use crate::{Synctl, root};

const EXAMPLES: &[&str] = &["cortex", "d1", "aphex", "homelab"];

#[test]
fn every_example_validates_cleanly() {
    for ex in EXAMPLES {
        let run = Synctl::new()
            .args(["validate", "-f", &format!("examples/{ex}/fleet.yaml")])
            .run();
        assert_eq!(run.status, 0, "{ex}: {}", run.stderr);
        // Status on stderr, nothing else: no warnings, no data on stdout.
        assert!(
            run.stderr
                .starts_with(&format!("examples/{ex}/fleet.yaml: valid (")),
            "{ex}: {}",
            run.stderr
        );
        assert_eq!(
            run.stderr.lines().count(),
            1,
            "{ex}: no warnings expected: {}",
            run.stderr
        );
        assert_eq!(run.stdout, "", "{ex}: status is not data");
    }
}

#[test]
fn quiet_validate_prints_nothing_on_success() {
    let run = Synctl::new()
        .args(["validate", "-q", "-f", "examples/cortex/fleet.yaml"])
        .run();
    assert_eq!(
        (run.status, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
}

#[test]
fn github_actions_gets_annotations() {
    let run = Synctl::new()
        .env("GITHUB_ACTIONS", "true")
        .args([
            "validate",
            "-f",
            "tests/bad/unknown-ref-depends-on-typo.yaml",
        ])
        .run();
    assert_eq!(run.status, 1);
    assert!(
        run.stdout.starts_with(
            "::error file=tests/bad/unknown-ref-depends-on-typo.yaml,line=19,col=19,title=synctl%3A%3Aunknown-ref::"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("did you mean `cert-manager`?"),
        "{}",
        run.stdout
    );
}

#[test]
fn schema_prints_the_compiled_in_schema() {
    let run = Synctl::new().args(["schema"]).run();
    assert_eq!(run.status, 0);
    let printed: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let file: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(root().join("schemas/fleet.schema.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(printed, file);
    assert_eq!(
        printed["$schema"],
        "http://json-schema.org/draft-07/schema#"
    );
}

#[test]
fn graph_text_lists_waves_in_order_and_dependencies() {
    let run = Synctl::new()
        .args(["graph", "-f", "examples/homelab/fleet.yaml"])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    let waves: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("wave "))
        .collect();
    assert_eq!(
        waves,
        [
            "wave namespaces",
            "wave crds",
            "wave base",
            "wave operators",
            "wave services",
            "wave tuning"
        ]
    );
    let pos = |s: &str| run.stdout.find(s).unwrap();
    assert!(pos("  crds (path)") < pos("  routes (path)"));
    assert!(pos("  cert-manager (chart)") < pos("  kgateway (chart)"));
    assert!(
        run.stdout
            .contains("  vpa (path) on willingham-k8s\n    depends on observability\n")
    );
}

#[test]
fn graph_mermaid_and_dot_draw_waves_as_groups_and_dependencies_as_edges() {
    let run = Synctl::new()
        .args([
            "graph",
            "--format",
            "mermaid",
            "-f",
            "examples/cortex/fleet.yaml",
        ])
        .run();
    assert_eq!(run.status, 0);
    assert!(run.stdout.starts_with("flowchart LR\n"));
    assert!(
        run.stdout
            .contains("  subgraph wave_controllers[\"controllers\"]\n")
    );
    assert!(run.stdout.contains("  kgateway_crds --> kgateway\n"));
    let run = Synctl::new()
        .args([
            "graph",
            "--format",
            "dot",
            "-f",
            "examples/cortex/fleet.yaml",
        ])
        .run();
    assert!(run.stdout.contains("subgraph \"cluster_config\""));
    assert!(
        run.stdout
            .contains("  \"kyverno\" -> \"kyverno-policies\";\n")
    );
}

#[test]
fn graph_of_an_aphex_shows_sync_waves() {
    let run = Synctl::new()
        .args(["graph", "-f", "examples/aphex/fleet.yaml"])
        .run();
    assert!(run.stdout.contains(
        "wave secrets (sync-wave 15)\n  external-secrets (chart) on aphex, sync-wave 15\n"
    ));
}

#[test]
fn graph_of_an_invalid_spec_fails_with_the_diagnostic() {
    let run = Synctl::new()
        .args(["graph", "-f", "tests/bad/cycle-three.yaml"])
        .run();
    assert_eq!(run.status, 1);
    assert!(
        run.stderr
            .contains("dependency cycle: cert-manager → kyverno → trust → cert-manager")
    );
}

#[test]
fn init_writes_a_starter_that_validates_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let run = Synctl::new().dir(dir.path()).args(["init"]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    let written = fs::read_to_string(dir.path().join("fleet.yaml")).unwrap();
    assert!(written.contains("kind: Fleet"));
    // The schema its modeline names is written beside it.
    assert!(written.starts_with("# yaml-language-server: $schema=fleet.schema.json\n"));
    let schema = Synctl::new().args(["schema"]).run();
    assert_eq!(
        fs::read_to_string(dir.path().join("fleet.schema.json")).unwrap(),
        schema.stdout
    );
    let run = Synctl::new().dir(dir.path()).args(["validate"]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);

    fs::write(dir.path().join("fleet.yaml"), "# mine\n").unwrap();
    let run = Synctl::new().dir(dir.path()).args(["init"]).run();
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    assert_eq!(
        fs::read_to_string(dir.path().join("fleet.yaml")).unwrap(),
        "# mine\n"
    );
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let run = Synctl::new().args(["completions", shell]).run();
        assert_eq!(run.status, 0);
        assert!(run.stdout.contains("validate"), "{shell}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let run = Synctl::new().args(["validate", "--format", "xml"]).run();
    assert_eq!(run.status, 2);
    let run = Synctl::new().args(["frobnicate"]).run();
    assert_eq!(run.status, 2);
}

#[test]
fn a_long_chain_validates() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fleet.yaml");
    fs::write(&spec, synctl::synthetic::chain(20_000)).unwrap();
    let run = Synctl::new().args(["validate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stderr.contains("20000 components"), "{}", run.stderr);
}

/// `generate -o -` (and `--export`) prints the tree as one YAML stream, each file headed by its
/// path, and writes nothing: no folder named `-`.
#[test]
fn generate_to_stdout_prints_every_file_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    crate::copy_example("homelab", dir.path(), false);
    let run = Synctl::new()
        .dir(dir.path())
        .args(["generate", "-o", "-"])
        .run();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(!dir.path().join("-").exists());
    assert!(!dir.path().join("hub").exists(), "nothing written");
    let export = Synctl::new()
        .dir(dir.path())
        .args(["generate", "--export"])
        .run();
    assert_eq!(export.stdout, run.stdout);
    // The same files generate writes, in path order, each once.
    let write = Synctl::new()
        .dir(dir.path())
        .args(["generate", "-q", "--no-prove"])
        .run();
    assert_eq!(write.status, 0, "{}", write.stderr);
    let sources: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("# Source: "))
        .collect();
    let mut files: Vec<String> = walkdir::WalkDir::new(dir.path())
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(dir.path())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|p| {
            ["hub/", "deploy/", "platform/", "fleet/"]
                .iter()
                .any(|r| p.starts_with(r))
        })
        .collect();
    files.sort();
    assert_eq!(sources, files);
    let stream = format!("---\n{}", run.stdout);
    for (path, doc) in sources.iter().zip(stream.split("---\n# Source: ").skip(1)) {
        let on_disk = std::fs::read_to_string(dir.path().join(path)).unwrap();
        assert!(
            doc.starts_with(&format!("{path}\n{}", on_disk.trim_end())),
            "{path}"
        );
    }
    let run = Synctl::new()
        .dir(dir.path())
        .args(["generate", "-o", "-", "--commit"])
        .run();
    assert_eq!(run.status, 2, "{}", run.stderr);
}

/// With the spec in a subfolder, `explain` takes a generated file's path as synctl prints it
/// (from the current folder) or as the tree names it, and prints it from the current folder,
/// like the spec's own lines.
#[test]
fn explain_takes_paths_as_printed_from_a_subfolder_spec() {
    let dir = tempfile::tempdir().unwrap();
    crate::copy_example("cortex", &dir.path().join("gitops"), true);
    for given in [
        "gitops/hub/dev.yaml",
        "hub/dev.yaml",
        "./gitops/hub/dev.yaml",
    ] {
        let run = Synctl::new()
            .dir(dir.path())
            .args(["explain", given, "-f", "gitops/fleet.yaml"])
            .run();
        assert_eq!(run.status, 0, "{given}: {}", run.stderr);
        assert!(
            run.stdout
                .starts_with("gitops/hub/dev.yaml comes from:\n  gitops/fleet.yaml:"),
            "{given}: {}",
            run.stdout
        );
    }
    let run = Synctl::new()
        .dir(dir.path())
        .args(["explain", "gitops/hub/nope.yaml", "-f", "gitops/fleet.yaml"])
        .run();
    assert_eq!(run.status, 2);
}

/// The README's worked example prints what the README shows.
#[test]
fn the_readme_worked_example_prints_what_it_shows() {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme.find("```text\nhub/dev.yaml comes from:\n").unwrap() + "```text\n".len();
    let shown = &readme[start..start + readme[start..].find("```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    for args in [&["init"][..], &["generate", "-q"][..]] {
        let run = Synctl::new().dir(dir.path()).args(args).run();
        assert_eq!(run.status, 0, "{args:?}: {}", run.stderr);
    }
    let run = Synctl::new().dir(dir.path()).args(["validate"]).run();
    assert!(
        run.stderr
            .contains("fleet.yaml: valid (2 clusters, 3 waves, 1 components, 1 tenants)"),
        "{}",
        run.stderr
    );
    let run = Synctl::new()
        .dir(dir.path())
        .args(["explain", "hub/dev.yaml"])
        .run();
    assert_eq!(run.stdout, shown);
}
