//! No input may make synctl panic: random and mutated specs go through the whole front end.

use proptest::prelude::*;

const SEEDS: &[&str] = &[
    include_str!("../examples/cortex/fleet.yaml"),
    include_str!("../examples/d1/fleet.yaml"),
    include_str!("../examples/aphex/fleet.yaml"),
    include_str!("../examples/homelab/fleet.yaml"),
];

/// Runs the front end, and the renderer on whatever validates: neither may panic, and a spec
/// that validated must render without an internal error.
fn check(text: String) {
    let checked = synctl::pipeline::check_text("fleet.yaml", text, None);
    if checked.has_errors() {
        return;
    }
    let Some(layout) = &checked.layout else {
        return;
    };
    let renderer = synctl::render::Renderer::new(None).unwrap();
    match synctl::render::render(&renderer, layout) {
        Err(problems) => assert!(
            problems
                .iter()
                .all(|p| p.code != synctl::diag::Code::Internal),
            "internal error rendering a valid spec: {problems:?}"
        ),
        Ok(tree) => {
            for (path, body) in &tree {
                read_back(path, body);
            }
        }
    }
}

/// The keys a generated document may have at its top: anything else was injected by a value.
const TOP_KEYS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "spec",
    "data",
    "rules",
    "roleRef",
    "subjects",
    "resources",
    "patches",
];

/// Every generated file parses back as YAML, and no document has a key it should not.
fn read_back(path: &str, body: &str) {
    for doc in serde_yaml::Deserializer::from_str(body) {
        let value = <serde_yaml::Value as serde::Deserialize>::deserialize(doc)
            .unwrap_or_else(|e| panic!("{path} does not parse back: {e}\n{body}"));
        let Some(map) = value.as_mapping() else {
            assert!(
                value.is_null(),
                "{path}: a document that is not a mapping\n{body}"
            );
            continue;
        };
        for key in map.keys() {
            let k = key.as_str().unwrap_or_default();
            assert!(
                TOP_KEYS.contains(&k),
                "{path}: injected top-level key {key:?}\n{body}"
            );
        }
        if let Some(spec) = map.get("spec").and_then(serde_yaml::Value::as_mapping) {
            // Objects synctl writes never suspend themselves.
            assert!(
                spec.get("suspend").is_none(),
                "{path}: injected `suspend`\n{body}"
            );
        }
    }
}

/// A mutation of one of the examples: delete, duplicate, swap or garble lines and bytes.
fn mutated() -> impl Strategy<Value = String> {
    (
        0..SEEDS.len(),
        prop::collection::vec(
            (0u8..6, any::<prop::sample::Index>(), "[ -~\\n\\t]{0,12}"),
            1..6,
        ),
    )
        .prop_map(|(seed, edits)| {
            let mut lines: Vec<String> = SEEDS[seed].lines().map(str::to_owned).collect();
            for (op, at, text) in edits {
                if lines.is_empty() {
                    lines.push(text);
                    continue;
                }
                let i = at.index(lines.len());
                match op {
                    0 => {
                        lines.remove(i);
                    }
                    1 => {
                        let l = lines[i].clone();
                        lines.insert(i, l);
                    }
                    2 => lines[i].push_str(&text),
                    3 => {
                        let j = at.index(lines[i].len() + 1).min(lines[i].len());
                        let cut = lines[i]
                            .char_indices()
                            .map(|(k, _)| k)
                            .take_while(|&k| k <= j)
                            .last()
                            .unwrap_or(0);
                        lines[i].truncate(cut);
                    }
                    4 => lines.insert(i, text),
                    _ => {
                        let j = (i + 1) % lines.len();
                        lines.swap(i, j);
                    }
                }
            }
            lines.join("\n")
        })
}

/// Random lines of `key: value`, `- key: value`, `key:` and `- value` at random indents.
fn shapes() -> impl Strategy<Value = String> {
    (
        prop::collection::vec("(apiVersion|kind|metadata|spec|clusters|components|name|wave|dependsOn|role|values|\"q\"|'s'|[a-z]{1,5})", 1..12),
        prop::collection::vec("(hub|\\[a, b\\]|\\{\\}|\\{a: 1, b: \\[x\\]\\}|~|1|-1|\"x\"|'y''z'|synctl.dev/v1alpha1|Fleet|&a x|\\*a|a # c|[a-z]{0,4}|)", 1..12),
        prop::collection::vec((0usize..4, 0u8..4), 1..12),
    )
        .prop_map(|(keys, vals, shapes)| {
            keys.iter()
                .zip(vals.iter().cycle())
                .zip(shapes.iter().cycle())
                .map(|((k, v), (i, shape))| {
                    let pad = "  ".repeat(*i);
                    match shape {
                        0 => format!("{pad}{k}: {v}\n"),
                        1 => format!("{pad}- {k}: {v}\n"),
                        2 => format!("{pad}{k}:\n"),
                        _ => format!("{pad}- {v}\n"),
                    }
                })
                .collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn mutated_examples_never_panic(text in mutated()) {
        check(text);
    }

    /// Hostile strings placed where values reach the output (a substitution variable, a Helm
    /// value and a values key): the spec is refused, or the output parses back with no key
    /// injected.
    #[test]
    fn hostile_strings_in_values_never_become_structure(
        value in "[ -~\n\t\u{85}\u{2028}\u{2029}\u{7f}é:#'\"{}\\[\\],&*!|>-]{0,24}",
        key in "[a-z:#'\" \u{2028}\n-]{1,8}",
    ) {
        let quoted = |s: &str| serde_json::to_string(s).unwrap();
        let text = SEEDS[3]
            .replacen("DOMAIN: wcloud.sh", &format!("DOMAIN: {}", quoted(&value)), 1)
            .replacen(
                "configs: {cm: {url: \"https://argocd.${DOMAIN}\"}}",
                &format!("configs: {{cm: {{url: \"https://argocd.${{DOMAIN}}\", {}: {}}}}}", quoted(&key), quoted(&value)),
                1,
            );
        check(text);
    }

    #[test]
    fn random_text_never_panics(text in "[ -~\\n\\t:\\-\\[\\]{}&*!|>'\"%@`#,?é]{0,300}") {
        check(text);
    }

    #[test]
    fn random_yaml_shapes_never_panic(text in shapes()) {
        check(text);
    }
}

#[test]
fn every_example_renders_and_reads_back() {
    for seed in SEEDS {
        let checked = synctl::pipeline::check_text("fleet.yaml", (*seed).to_owned(), None);
        assert!(!checked.has_errors(), "{:?}", checked.problems);
        let Some(layout) = &checked.layout else {
            panic!("no layout");
        };
        let renderer = synctl::render::Renderer::new(None).unwrap();
        let tree = synctl::render::render(&renderer, layout).unwrap();
        assert!(tree.len() > 10);
        for (path, body) in &tree {
            read_back(path, body);
        }
    }
}

/// 400 cases by default; `PROPTEST_CASES=N` for a longer hunt.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400)
}
