//! The reference tables of `docs/spec.md` hold every field of the JSON Schema and every
//! diagnostic code: a field or a code added without its row fails here.

use super::root;

/// The text of the section of `docs/spec.md` headed `heading`, up to the next `## `.
fn section(doc: &str, heading: &str) -> String {
    let start = doc
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("docs/spec.md has no section {heading}"));
    let rest = &doc[start + heading.len() + 2..];
    rest[..rest.find("\n## ").unwrap_or(rest.len())].to_owned()
}

/// Whether a row of a table in `text` names `field` in its first cell, alone or in a path
/// (`helm.crds`, `apps[].name`) or a list (`interval` / `timeout`).
fn documented(text: &str, field: &str) -> bool {
    text.lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" | ").next())
        .any(|cell| {
            cell.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .any(|word| word == field)
        })
}

fn schema() -> serde_json::Value {
    serde_json::from_str(synctl::spec::schema::SCHEMA).expect("the schema is JSON")
}

fn properties<'a>(schema: &'a serde_json::Value, pointer: &str) -> Vec<&'a str> {
    schema
        .pointer(pointer)
        .and_then(serde_json::Value::as_object)
        .unwrap_or_else(|| panic!("no properties at {pointer}"))
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn every_schema_field_has_its_row_in_the_spec_reference() {
    let doc = std::fs::read_to_string(root().join("docs/spec.md")).expect("docs/spec.md");
    let schema = schema();
    let cases = [
        ("/properties/spec/properties", "## `spec`"),
        ("/definitions/flux/properties", "## `spec`"),
        ("/definitions/cluster/properties", "## `clusters[]`"),
        ("/definitions/component/properties", "## `components[]`"),
        ("/definitions/override/properties", "## `components[]`"),
        ("/definitions/helm/properties", "## `components[]`"),
        ("/definitions/tenant/properties", "## `tenants[]`"),
        ("/definitions/tenantEntry/properties", "## `tenants[]`"),
    ];
    let mut missing = Vec::new();
    for (pointer, heading) in cases {
        let text = section(&doc, heading);
        for field in properties(&schema, pointer) {
            if !documented(&text, field) {
                missing.push(format!("{heading}: `{field}` ({pointer})"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "fields without a row in docs/spec.md:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_diagnostic_code_has_its_row_in_the_spec_reference() {
    let doc = std::fs::read_to_string(root().join("docs/spec.md")).expect("docs/spec.md");
    let table = section(&doc, "## Diagnostics");
    let missing: Vec<&str> = synctl::diag::Code::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|code| !table.contains(&format!("`{code}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a row in docs/spec.md: {missing:?}"
    );
    // And no row for a code that does not exist.
    for word in table.split('`').filter(|w| w.starts_with("synctl::")) {
        assert!(
            synctl::diag::Code::ALL.iter().any(|c| c.as_str() == word),
            "docs/spec.md lists `{word}`, which is no code"
        );
    }
}

/// The modules of the crate from the bottom up: a module's code (tests aside) may only name
/// modules below it (`docs/architecture.md`, "stages import downward only").
const LAYERS: &[&str] = &[
    "term",
    "hashing",
    "suggest",
    "timing",
    "par",
    "json",
    "source",
    "diag",
    "subst",
    "duration",
    "spec",
    "model",
    "graph",
    "folders",
    "repo",
    "tree",
    "check",
    "layout",
    "render",
    "output",
    "git",
    "pipeline",
    "synthetic",
    "commands",
    "cli",
    "lib",
    "main",
    "testing",
];

#[test]
fn stages_import_downward_only() {
    let src = root().join("src");
    let mut upward = Vec::new();
    for entry in walkdir::WalkDir::new(&src).into_iter().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "rs") || path.ends_with("tests.rs") {
            continue;
        }
        let rel = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let module = rel.split(['/', '.']).next().unwrap_or_default().to_owned();
        let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
        let Some(mine) = rank(&module) else {
            upward.push(format!("{rel}: module `{module}` is not in LAYERS"));
            continue;
        };
        let text = std::fs::read_to_string(path).unwrap();
        // The code before the unit tests, without comments.
        let code = text
            .split("\n#[cfg(test)]\nmod tests")
            .next()
            .unwrap_or_default();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (i, _) in line.match_indices("crate::") {
                let name: String = line[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if let Some(theirs) = rank(&name)
                    && theirs > mine
                {
                    upward.push(format!("{rel}: `{module}` names `crate::{name}`, above it"));
                }
            }
        }
    }
    assert!(upward.is_empty(), "\n{}", upward.join("\n"));
}

/// The code outside tests of a source file: up to its `#[cfg(test)] mod tests` (none for a
/// `tests.rs`).
fn code_outside_tests(path: &std::path::Path, text: &str) -> Vec<String> {
    if path.ends_with("tests.rs") {
        return Vec::new();
    }
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .windows(2)
        .position(|w| w[0].starts_with("#[cfg(test)]") && w[1].starts_with("mod tests"))
        .unwrap_or(lines.len());
    lines[..end].iter().map(|l| (*l).to_owned()).collect()
}

/// Functions over 80 lines (from `fn` to its closing brace, comments and blank lines
/// included) and files over 500 lines, outside tests: each is a sign that two steps became
/// one. (clippy's `too_many_lines` counts code lines only, at the same bar.)
#[test]
fn no_function_over_80_lines_and_no_file_over_500() {
    let src = root().join("src");
    let fn_start = regex::Regex::new(r"^(\s*)(pub(\([a-z]+\))? )?(const )?fn (\w+)").unwrap();
    let mut over = Vec::new();
    for entry in walkdir::WalkDir::new(&src).into_iter().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = path.strip_prefix(&src).unwrap().display().to_string();
        let code = code_outside_tests(path, &std::fs::read_to_string(path).unwrap());
        if code.len() > 500 {
            over.push(format!("{rel}: {} lines", code.len()));
        }
        let mut i = 0;
        while i < code.len() {
            if let Some(m) = fn_start.captures(&code[i]) {
                let indent = m[1].to_owned();
                let name = m[5].to_owned();
                // The signature may span lines: the body opens where a line ends in `{`.
                let open = (i..code.len()).find(|&j| {
                    let l = code[j].trim_end();
                    l.ends_with('{') || l.ends_with(';')
                });
                if let Some(open) = open.filter(|&j| code[j].trim_end().ends_with('{')) {
                    let close = (open + 1..code.len())
                        .find(|&k| code[k] == format!("{indent}}}"))
                        .unwrap_or(code.len() - 1);
                    let lines = close - i + 1;
                    if lines > 80 {
                        over.push(format!("{rel}: fn {name} is {lines} lines"));
                    }
                    i = close;
                }
            }
            i += 1;
        }
    }
    assert!(over.is_empty(), "\n{}", over.join("\n"));
}
