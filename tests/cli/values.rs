//! Hostile strings in every kind of place a spec holds one (issue "Hostile inputs, round
//! two"): names, namespaces, chart coordinates, the repository, variables, Helm values and
//! namespace metadata, each given strings that YAML, kustomize or Kubernetes read as
//! something else (`yes`, `~`, `2024-01-15`, `a: b`), structure (`{a}`, `- x`, `&a`), escapes
//! and line breaks, paths that climb, and sizes at the limits. Each run ends in a located
//! refusal (exit 1) or a tree that is written, parses as YAML, and holds the value exactly
//! where it was given as a value. Never a crash, never a value turned into structure.

use std::path::Path;

use crate::Synctl;

const SPEC: &str = "apiVersion: synctl.dev/v1alpha1
kind: Fleet
metadata: {name: t}
spec:
  repository: {url: URL, branch: BRANCH}
  clusters:
    - {name: CLUSTER, role: hub, vars: {VARKEY: VARVALUE}}
  waves: [{name: WAVE}]
  components:
    - name: COMPONENT
      wave: WAVE
      namespace: NAMESPACE
      chart: {repository: CHARTREPO, name: CHARTNAME, version: VERSION}
      values: {VALKEY: VALVALUE}
      namespaceMetadata: {labels: {team: LABEL}, annotations: {note: ANNOTATION}}
    - {name: files, wave: WAVE, path: PATH}
  tenants:
    - name: TENANT
      namespaces: [SPACES]
";

/// Each place, with what it holds when another place is under test.
const PLACES: &[(&str, &str)] = &[
    ("URL", "https://github.com/acme/fleet"),
    ("BRANCH", "main"),
    ("CLUSTER", "hub"),
    ("VARKEY", "DOMAIN"),
    ("VARVALUE", "example.com"),
    ("WAVE", "apps"),
    ("COMPONENT", "web"),
    ("NAMESPACE", "web"),
    ("CHARTREPO", "https://charts.example.com"),
    ("CHARTNAME", "web"),
    ("VERSION", "1.0.0"),
    ("VALKEY", "replicas"),
    ("VALVALUE", "three"),
    ("LABEL", "platform"),
    ("ANNOTATION", "owned by platform"),
    ("PATH", "files"),
    ("TENANT", "team"),
    ("SPACES", "team"),
];

/// Places whose string is written as a value into the tree, where it must read back exactly.
const VALUES: &[&str] = &["VARVALUE", "VALVALUE", "ANNOTATION"];

fn hostile() -> Vec<String> {
    let mut out: Vec<String> = [
        "",
        " ",
        "yes",
        "No",
        "on",
        "~",
        "null",
        "0x1F",
        "0o17",
        "1e3",
        ".inf",
        "-.5",
        "2024-01-15",
        "2024-01-15T10:00:00Z",
        "12:30",
        "-",
        "- x",
        "a: b",
        "a:b",
        "#x",
        "x #y",
        "&a",
        "*a",
        "<<",
        "!!str x",
        "%TAG",
        "@x",
        "`x`",
        "${X}",
        "$${X}",
        "${",
        "x\ny",
        "x\r\ny",
        "x\u{2028}y",
        "x\u{85}y",
        "\u{1b}[2J",
        "\u{7f}",
        "\t",
        "é",
        "日本",
        "🚀",
        "..",
        "../x",
        "/abs",
        "x/",
        "./x",
        "-lead",
        "trail-",
        "UPPER",
        "a_b",
        "a.b",
        "\"q\"",
        "'q'",
        "{a}",
        "[a]",
        "a,b",
        "\\",
        "x y",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    out.push("a".repeat(63));
    out.push("a".repeat(64));
    out.push("x".repeat(20_000));
    out
}

/// Every string reachable in `doc`.
fn holds(doc: &serde_yaml::Value, want: &str) -> bool {
    match doc {
        serde_yaml::Value::String(s) => s == want,
        serde_yaml::Value::Sequence(items) => items.iter().any(|v| holds(v, want)),
        serde_yaml::Value::Mapping(m) => m.iter().any(|(k, v)| holds(k, want) || holds(v, want)),
        serde_yaml::Value::Tagged(t) => holds(&t.value, want),
        _ => false,
    }
}

/// The YAML documents of every file synctl wrote under `dir`.
fn written_docs(dir: &Path) -> Vec<serde_yaml::Value> {
    let mut docs = Vec::new();
    for top in ["hub", "deploy", "platform", "fleet"] {
        for e in walkdir::WalkDir::new(dir.join(top)).into_iter().flatten() {
            if !e.file_type().is_file() {
                continue;
            }
            let text = std::fs::read_to_string(e.path()).unwrap();
            for d in serde_yaml::Deserializer::from_str(&text) {
                let v = serde::Deserialize::deserialize(d).unwrap_or_else(|err| {
                    panic!("{} does not parse: {err}\n{text}", e.path().display())
                });
                docs.push(v);
            }
        }
    }
    docs
}

#[test]
fn hostile_strings_in_every_place_are_refused_or_written_exactly() {
    let mut scenarios = 0;
    let mut refused = 0;
    for (place, _) in PLACES {
        for value in hostile() {
            let dir = tempfile::tempdir().unwrap();
            let mut spec = SPEC.to_owned();
            for (mark, harmless) in PLACES {
                let text = if mark == place {
                    value.as_str()
                } else {
                    harmless
                };
                // A JSON string is a YAML double-quoted scalar: the value as it is.
                spec = spec.replace(mark, &serde_json::to_string(text).unwrap());
            }
            std::fs::write(dir.path().join("fleet.yaml"), &spec).unwrap();
            std::fs::create_dir_all(dir.path().join("files")).unwrap();
            std::fs::write(
                dir.path().join("files/cm.yaml"),
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: files}\n",
            )
            .unwrap();
            let run = Synctl::new()
                .dir(dir.path())
                .args(["validate", "--format", "json", "-f", "fleet.yaml"])
                .run();
            let at = format!("{place} = {:?}", &value[..value.len().min(40)]);
            assert!(!run.stderr.contains("panicked"), "{at}: {}", run.stderr);
            match run.status {
                1 => {
                    let problems: serde_json::Value = serde_json::from_str(&run.stdout)
                        .unwrap_or_else(|e| panic!("{at}: {e}: {}", run.stdout));
                    let located = problems
                        .as_array()
                        .is_some_and(|a| a.iter().any(|p| p["line"].as_u64().is_some()));
                    assert!(located, "{at}: no located problem: {}", run.stdout);
                    assert!(
                        !dir.path().join("hub").exists(),
                        "{at}: refused, yet written"
                    );
                    refused += 1;
                }
                0 => {
                    // The values round-trip is the point here; the proofs of the written tree
                    // have their own tests (`tests/cli/check.rs`).
                    let run = Synctl::new()
                        .dir(dir.path())
                        .args(["generate", "--no-prove", "-f", "fleet.yaml"])
                        .run();
                    assert_eq!(run.status, 0, "{at}: valid, but: {}", run.stderr);
                    let docs = written_docs(dir.path());
                    if VALUES.contains(place) {
                        assert!(
                            docs.iter().any(|d| holds(d, &value)),
                            "{at}: the value does not read back from the tree"
                        );
                    }
                }
                other => panic!("{at}: exit {other}: {}", run.stderr),
            }
            scenarios += 1;
        }
    }
    assert_eq!(scenarios, PLACES.len() * hostile().len());
    // Most strings are no name: the refusals are most of the table, not all of it.
    assert!(
        refused > scenarios / 2 && refused < scenarios,
        "{refused} of {scenarios}"
    );
}
