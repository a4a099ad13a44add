//! The corpus `tests/bad/`: one problem per spec. The first line says the expected code; the
//! line marked `# <-` is where the diagnostic must point. The rendered diagnostic is compared
//! with `<name>.stderr` (rewrite with `SYNCTL_BLESS=1`, then read the diff).

use std::fs;

use crate::{Synctl, bless, root};

fn cases() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = fs::read_dir(root().join("tests/bad"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn the_corpus_has_at_least_thirty_cases() {
    assert!(cases().len() >= 30, "{}", cases().len());
}

#[test]
fn every_bad_spec_fails_with_its_code_at_its_line() {
    let mut failures = Vec::new();
    for path in cases() {
        let text = fs::read_to_string(&path).unwrap();
        let first = text.lines().next().unwrap();
        let code = first
            .strip_prefix("# expect: ")
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap();
        let line = text.lines().position(|l| l.contains("# <-")).map(|i| i + 1);
        let rel = path.strip_prefix(root()).unwrap();
        let run = Synctl::new()
            .args(["validate", "--format", "json", "-f"])
            .args([rel])
            .run();
        let problems: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let errors: Vec<&serde_json::Value> = problems
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["severity"] == "error")
            .collect();
        let name = rel.display();
        if run.status != 1 {
            failures.push(format!("{name}: exit {} instead of 1", run.status));
        }
        if errors.len() != 1 {
            failures.push(format!(
                "{name}: {} errors instead of 1: {}",
                errors.len(),
                run.stdout
            ));
            continue;
        }
        if errors[0]["code"] != code {
            failures.push(format!(
                "{name}: code {} instead of {code}",
                errors[0]["code"]
            ));
        }
        if errors[0]["line"]
            .as_u64()
            .and_then(|l| usize::try_from(l).ok())
            != line
        {
            failures.push(format!(
                "{name}: line {} instead of {line:?}",
                errors[0]["line"]
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn rendered_diagnostics_match_their_snapshots() {
    let mut failures = Vec::new();
    for path in cases() {
        let rel = path.strip_prefix(root()).unwrap().to_path_buf();
        let run = Synctl::new().args(["validate", "-f"]).args([&rel]).run();
        let golden = path.with_extension("stderr");
        if bless() {
            fs::write(&golden, &run.stderr).unwrap();
            continue;
        }
        let want = fs::read_to_string(&golden).unwrap_or_default();
        if want != run.stderr {
            failures.push(format!(
                "{}:\n--- want\n{want}\n--- got\n{}",
                rel.display(),
                run.stderr
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n(rerun with SYNCTL_BLESS=1 and review the diff)",
        failures.join("\n")
    );
}

#[test]
fn a_spec_that_is_not_utf8_is_a_yaml_problem() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fleet.yaml");
    fs::write(&spec, b"apiVersion: synctl.dev/v1alpha1\nkind: \xff\xfe\n").unwrap();
    let run = Synctl::new()
        .args(["validate", "--format", "json", "-f"])
        .args([&spec])
        .run();
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stdout.contains("synctl::yaml"), "{}", run.stdout);
    assert!(
        run.stdout.contains("not UTF-8: invalid byte at line 2"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_spec_over_the_size_limit_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fleet.yaml");
    let f = fs::File::create(&spec).unwrap();
    f.set_len(synctl::spec::source::MAX_SPEC_BYTES + 1).unwrap();
    let run = Synctl::new().args(["validate", "-f"]).args([&spec]).run();
    assert_eq!(run.status, 1);
    assert!(run.stderr.contains("synctl::yaml"), "{}", run.stderr);
    assert!(run.stderr.contains("more than the"), "{}", run.stderr);
}

#[test]
fn a_missing_spec_is_an_io_error_with_exit_2() {
    let run = Synctl::new()
        .args(["validate", "-f", "does/not/exist.yaml"])
        .run();
    assert_eq!(run.status, 2);
    assert!(
        run.stderr.contains("cannot read `does/not/exist.yaml`"),
        "{}",
        run.stderr
    );
}

#[test]
fn all_problems_of_a_spec_are_reported_in_one_run_sorted_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fleet.yaml");
    fs::write(
        &spec,
        "apiVersion: synctl.dev/v1alpha1\nkind: Fleet\nmetadata: {name: x}\nspec:\n  repository: {url: https://x/y}\n  clusters:\n    - {name: hub, role: hub}\n  components:\n    - {name: a, wave: controllers, path: ., dependsOn: [zz]}\n    - {name: b, wave: controlers, path: .}\n    - {name: a, wave: config, path: .}\n",
    )
    .unwrap();
    let run = Synctl::new()
        .args(["validate", "--format", "json", "-f"])
        .args([&spec])
        .run();
    assert_eq!(run.status, 1);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let got: Vec<(String, u64)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_owned(),
                p["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("synctl::unknown-ref".to_owned(), 9),
            ("synctl::unknown-ref".to_owned(), 10),
            ("synctl::duplicate".to_owned(), 11)
        ]
    );
}

/// Schema errors do not hide the rest: an unknown field is cut out and the spec read on, so a
/// `dependsOn` typo in the same component is still reported; a field with a wrong value is cut
/// too, and what the later stages find inside its component (left at defaults it did not ask
/// for) is dropped; a missing required field stops the run at the schema's errors.
#[test]
fn schema_errors_do_not_hide_reference_and_graph_errors() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fleet.yaml");
    let head = "apiVersion: synctl.dev/v1alpha1\nkind: Fleet\nmetadata: {name: x}\nspec:\n  repository: {url: https://x/y}\n  clusters:\n    - {name: hub, role: hub}\n  components:\n";
    let found = |components: &str| -> Vec<(String, u64)> {
        fs::write(&spec, format!("{head}{components}")).unwrap();
        let run = Synctl::new()
            .args(["validate", "--format", "json", "-f"])
            .args([&spec])
            .run();
        assert_eq!(run.status, 1, "{}", run.stderr);
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["code"].as_str().unwrap().to_owned(),
                    p["line"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let pair = |code: &str, line: u64| (format!("synctl::{code}"), line);
    assert_eq!(
        found(
            "    - {name: a, wave: controllers, path: ., dependsOn: [zz], colour: blue}\n    - {name: b, wave: controllers, path: ., interval: forever, dependsOn: [yy]}\n    - {name: c, wave: controllers, path: ., dependsOn: [b, ww]}\n    - {name: c, wave: config, path: ., timout: 5m}\n"
        ),
        [
            pair("unknown-ref", 9),
            pair("schema", 9),
            pair("schema", 10),
            pair("unknown-ref", 11),
            pair("duplicate", 12),
            pair("schema", 12),
        ]
    );
    assert_eq!(
        found(
            "    - {name: a, wave: controllers, dependsOn: [zz], chart: {repository: https://x, version: 1.0.0}}\n    - {name: b, wave: controllers, path: ., dependsOn: [yy]}\n"
        ),
        [pair("schema", 9)]
    );
}
