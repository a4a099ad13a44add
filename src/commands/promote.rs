//! `synctl promote --from ENV --to ENV [COMPONENT…]`: the target environment made to run what
//! the source environment runs — each chart component's version (and with `--values` its
//! environment values) — as an edit of the spec's text that keeps its comments and layout
//! (`environments.<to>.version`, written where the spec already says it, else added in the
//! style around it), then generated, its blast radius printed, and committed with `--commit`.

use serde_json::{Value as Json, json};

use super::add_env::edit::{read_for_edit, valid_text, write_edited};
use super::{DataFormat, Failure, Global};
use crate::model::{Component, ComponentSource, Fleet};
use crate::render::yaml_out::{double_quoted, flow_scalar};
use crate::spec::yaml::{Node, Value};
use crate::term::print_stdout;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The environment whose versions are promoted
    #[arg(long, value_name = "ENV")]
    pub from: String,
    /// The environment that gets them
    #[arg(long, value_name = "ENV")]
    pub to: String,
    /// Only these components (default: every chart component both environments run)
    #[arg(value_name = "COMPONENT")]
    pub components: Vec<String>,
    /// Promote the source environment's `values` too
    #[arg(long)]
    pub values: bool,
    /// Change nothing: print what would change, exit 1 when something would (CI)
    #[arg(long)]
    pub check: bool,
    /// Commit the spec and the generated files
    #[arg(long)]
    pub commit: bool,
    /// text, or json: `{from, to, components: [{name, outcome, from, to}], changes}`
    #[arg(long, value_enum, default_value_t = DataFormat::Text)]
    pub format: DataFormat,
}

/// One edit of the spec's text: at an offset, the length replaced and the new text.
type TextEdit = (usize, usize, String);

/// What happens to one component.
struct Outcome {
    name: String,
    /// `promoted`, `equal`, `not-in-source`, `not-in-target` or `path`.
    what: &'static str,
    /// The version (and values) the source runs, and the target ran.
    from: Json,
    to: Json,
}

/// Runs `promote`.
///
/// # Errors
/// [`Failure::Usage`] for an unknown environment or component; [`Failure::Invalid`] when the
/// spec (before or after) does not validate, or with `--check` when something would change.
pub(crate) fn run(g: &Global, a: &Args) -> Result<(), Failure> {
    let (original, checked) = read_for_edit(g, "promote")?;
    let (Some((fleet, _)), Some(root)) = (&checked.fleet, &checked.root) else {
        return Err(Failure::Invalid);
    };
    known_environments(fleet, a)?;
    let (outcomes, edits) = plan(fleet, root, &original, a)?;
    let mut text = original.clone();
    let mut edits = edits;
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (at, len, new) in &edits {
        text.replace_range(*at..*at + *len, new);
    }
    if edits.is_empty() {
        print(a, &outcomes, None);
        return Ok(());
    }
    let after = valid_text(
        g,
        text.clone(),
        "the promoted spec does not validate; nothing changed\n",
    )?;
    let changes = super::review::changes_between(g, None, &original, &text)?;
    print(a, &outcomes, Some(&changes));
    if a.check {
        return Err(Failure::Invalid);
    }
    let subject = format!("synctl: promote {} to {}", a.from, a.to);
    write_edited(
        g,
        a.commit,
        after,
        (&original, &text),
        &subject,
        true,
        |_, _| (),
    )
}

/// Refuses an environment no cluster is in, naming those that are.
fn known_environments(fleet: &Fleet, a: &Args) -> Result<(), Failure> {
    let known: std::collections::BTreeSet<&str> = fleet
        .clusters
        .iter()
        .map(|c| c.environment.as_str())
        .collect();
    for env in [&a.from, &a.to] {
        if !known.contains(env.as_str()) {
            return Err(Failure::Usage(format!(
                "no cluster is in environment `{env}` (environments: {}); nothing changed",
                known.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    if a.from == a.to {
        return Err(Failure::Usage(
            "--from and --to name one environment; nothing changed".to_owned(),
        ));
    }
    Ok(())
}

/// Whether `c` runs on a cluster of `env`.
fn runs_in(fleet: &Fleet, c: &Component, env: &str) -> bool {
    c.clusters
        .iter()
        .any(|&i| fleet.clusters[i].environment == env)
}

/// The version `c` runs in `env`, and its environment values there.
fn runs(c: &Component, env: &str) -> (String, Option<Json>) {
    let base = match &c.source {
        ComponentSource::Chart { version, .. } => version.clone(),
        ComponentSource::Path(_) => String::new(),
    };
    let o = c.environments.get(env);
    (
        o.and_then(|o| o.version.clone()).unwrap_or(base),
        o.and_then(|o| o.values.clone()),
    )
}

/// Each component's outcome, and the text edits (offset, length, new text) that promote it.
fn plan(
    fleet: &Fleet,
    root: &Node,
    text: &str,
    a: &Args,
) -> Result<(Vec<Outcome>, Vec<TextEdit>), Failure> {
    for name in &a.components {
        if !fleet.components.iter().any(|c| &c.name == name) {
            return Err(Failure::Usage(format!(
                "no component is named `{name}`; nothing changed"
            )));
        }
    }
    let items = root.at(["spec", "components"]).map_or(&[][..], Node::items);
    let mut outcomes = Vec::new();
    let mut edits = Vec::new();
    for c in &fleet.components {
        if !a.components.is_empty() && !a.components.contains(&c.name) {
            continue;
        }
        let (from, to) = (runs(c, &a.from), runs(c, &a.to));
        let shown = |(v, values): &(String, Option<Json>)| {
            if a.values {
                json!({"version": v, "values": values})
            } else {
                json!({"version": v})
            }
        };
        let what = if matches!(c.source, ComponentSource::Path(_)) {
            "path"
        } else if !runs_in(fleet, c, &a.from) {
            "not-in-source"
        } else if !runs_in(fleet, c, &a.to) {
            "not-in-target"
        } else if from.0 == to.0 && (!a.values || from.1 == to.1) {
            "equal"
        } else {
            "promoted"
        };
        if what == "promoted" {
            let node = items
                .iter()
                .find(|n| n.get("name").and_then(Node::as_str) == Some(c.name.as_str()))
                .ok_or(Failure::Invalid)?;
            let mut set = vec![("version", double_quoted(&from.0))];
            if a.values {
                set.push(("values", flow(from.1.as_ref().unwrap_or(&json!({})))));
            }
            edits.extend(set_in_environment(text, node, &a.to, &set).map_err(|e| {
                Failure::Usage(format!("component `{}`: {e}; nothing changed", c.name))
            })?);
        }
        outcomes.push(Outcome {
            name: c.name.clone(),
            what,
            from: shown(&from),
            to: shown(&to),
        });
    }
    Ok((outcomes, edits))
}

/// A value as YAML flow text (strings always quoted: a version or value never turns into a
/// number or a boolean).
fn flow(v: &Json) -> String {
    match v {
        Json::String(s) => double_quoted(s),
        Json::Array(items) => format!(
            "[{}]",
            items.iter().map(flow).collect::<Vec<_>>().join(", ")
        ),
        Json::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", flow_scalar(k), flow(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// The edits that set each `(key, flow text)` of `set` in `environments.<env>` of the component
/// `node`: a value written is replaced in place; missing keys are added in the style of the
/// mapping that holds them (flow `{…}` or block lines at its indentation).
fn set_in_environment(
    text: &str,
    node: &Node,
    env: &str,
    set: &[(&str, String)],
) -> Result<Vec<TextEdit>, String> {
    // Two environments differ only through `environments`: it is there.
    let envs = node
        .get("environments")
        .ok_or("it has no `environments` to write into")?;
    let Some(target) = envs.get(env) else {
        let pairs: Vec<String> = set.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let value = format!("{{{}}}", pairs.join(", "));
        return add_entry(text, envs, env, &value).map(|e| vec![e]);
    };
    let mut edits = Vec::new();
    let mut missing = Vec::new();
    for (key, value) in set {
        match target.get(key) {
            Some(old)
                if !matches!(old.value, Value::Map(_) | Value::Seq(_)) || is_flow(text, old) =>
            {
                edits.push((old.span.offset, old.span.len, value.clone()));
            }
            Some(old) => {
                // A block value: replaced by its flow form, on the key's own line.
                let key_end = key_end(text, target, key).ok_or("cannot find the key")?;
                let end = node_end(old);
                edits.push((key_end, end - key_end, format!(" {value}")));
            }
            None => missing.push((*key, value.clone())),
        }
    }
    for (key, value) in missing {
        edits.push(add_entry(text, target, key, &value)?);
    }
    Ok(edits)
}

/// Where `node` and everything under it ends in the text (a block collection's own span may
/// stop at its first line).
pub(crate) fn node_end(node: &Node) -> usize {
    let own = node.span.offset + node.span.len;
    match &node.value {
        Value::Map(entries) => entries
            .iter()
            .map(|e| node_end(&e.value).max(e.key_span.offset + e.key_span.len))
            .fold(own, usize::max),
        Value::Seq(items) => items.iter().map(node_end).fold(own, usize::max),
        _ => own,
    }
}

/// Whether `node` is written in flow style (`{…}` / `[…]`).
fn is_flow(text: &str, node: &Node) -> bool {
    text[node.span.offset..].starts_with(['{', '['])
}

/// The offset just after `key:` of mapping `map`.
fn key_end(text: &str, map: &Node, key: &str) -> Option<usize> {
    let Value::Map(entries) = &map.value else {
        return None;
    };
    let e = entries.iter().find(|e| e.key == key)?;
    let after = e.key_span.offset + e.key_span.len;
    let colon = text[after..].find(':')?;
    Some(after + colon + 1)
}

/// The edit adding `key: value` to mapping `map`, in its style (flow or block).
pub(crate) fn add_entry(
    text: &str,
    map: &Node,
    key: &str,
    value: &str,
) -> Result<TextEdit, String> {
    let Value::Map(entries) = &map.value else {
        return Err("not a mapping".to_owned());
    };
    let key = flow_scalar(key);
    if is_flow(text, map) {
        let close = map.span.offset + map.span.len - 1;
        let sep = if entries.is_empty() { "" } else { ", " };
        return Ok((close, 0, format!("{sep}{key}: {value}")));
    }
    let last = entries.last().ok_or("an empty block mapping")?;
    let first = &entries[0];
    // The new line is indented as the first key (after a `- ` when the mapping is an item).
    let line_start = text[..first.key_span.offset]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let indent = " ".repeat(text[line_start..first.key_span.offset].chars().count());
    let end = node_end(&last.value).max(last.key_span.offset + last.key_span.len);
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    Ok((line_end, 0, format!("\n{indent}{key}: {value}")))
}

/// Prints the outcome of each component and, when something changes, what each cluster
/// receives differently.
fn print(a: &Args, outcomes: &[Outcome], changes: Option<&super::review::Changes>) {
    if a.format == DataFormat::Json {
        let list: Vec<Json> = outcomes
            .iter()
            .map(|o| json!({"name": o.name, "outcome": o.what, "from": o.from, "to": o.to}))
            .collect();
        let label = format!("{} → {}", a.from, a.to);
        let changes = changes.map_or(Json::Null, |c| super::review::json_report(&label, c));
        let doc = json!({"from": a.from, "to": a.to, "check": a.check, "components": list, "changes": changes});
        print_stdout(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        ));
        return;
    }
    let mut out = String::new();
    for o in outcomes {
        let version = |v: &Json| v["version"].as_str().unwrap_or("").to_owned();
        let line = match o.what {
            "promoted" => format!(
                "{}: {} {} → {} (as {} runs it){}",
                o.name,
                a.to,
                version(&o.to),
                version(&o.from),
                a.from,
                if a.values { ", with its values" } else { "" }
            ),
            "equal" => format!("{}: {} already runs what {} runs", o.name, a.to, a.from),
            "not-in-source" => format!("{}: not placed in {}; left alone", o.name, a.from),
            "not-in-target" => format!("{}: not placed in {}; left alone", o.name, a.to),
            _ => format!("{}: a path component has no version to promote", o.name),
        };
        out.push_str(&line);
        out.push('\n');
    }
    if let Some(changes) = changes {
        out.push('\n');
        out.push_str(&super::review::text_report("the spec as it was", changes));
        if a.check {
            out.push_str("(--check: nothing written)\n");
        }
    } else {
        out.push_str("nothing to promote\n");
    }
    print_stdout(&crate::term::escape_controls(&out));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::source::Source;

    /// `text` with `set` written into `environments.<env>` of its first component.
    fn promoted(text: &str, env: &str, set: &[(&str, &str)]) -> String {
        let root = crate::spec::yaml::parse(&Source::new("f.yaml", text.to_owned())).unwrap();
        let node = &root.at(["components"]).unwrap().items()[0];
        let set: Vec<(&str, String)> = set.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        let mut edits = set_in_environment(text, node, env, &set).unwrap();
        edits.sort_by_key(|e| std::cmp::Reverse(e.0));
        let mut out = text.to_owned();
        for (at, len, new) in edits {
            out.replace_range(at..at + len, &new);
        }
        out
    }

    #[test]
    fn a_new_environment_joins_a_block_mapping_after_its_last_entry() {
        let text = "components:\n  - name: a\n    environments:\n      prod:\n        values:\n          x: 1 # kept\n    wave: w\n";
        assert_eq!(
            promoted(text, "dev", &[("version", "\"2\"")]),
            "components:\n  - name: a\n    environments:\n      prod:\n        values:\n          x: 1 # kept\n      dev: {version: \"2\"}\n    wave: w\n"
        );
    }

    #[test]
    fn flow_mappings_are_edited_in_flow_style() {
        let text = "components:\n  - {name: a, environments: {prod: {version: \"1\"}}}\n";
        assert_eq!(
            promoted(text, "dev", &[("version", "\"1\"")]),
            "components:\n  - {name: a, environments: {prod: {version: \"1\"}, dev: {version: \"1\"}}}\n"
        );
        assert_eq!(
            promoted(text, "prod", &[("version", "\"2\""), ("values", "{x: 1}")]),
            "components:\n  - {name: a, environments: {prod: {version: \"2\", values: {x: 1}}}}\n"
        );
    }

    #[test]
    fn a_block_environment_gets_its_value_replaced_and_missing_keys_added() {
        let text = "components:\n  - name: a\n    environments:\n      prod:\n        values:\n          x: 1\n        timeout: 5m\n";
        assert_eq!(
            promoted(text, "prod", &[("version", "\"2\""), ("values", "{}")]),
            "components:\n  - name: a\n    environments:\n      prod:\n        values: {}\n        timeout: 5m\n        version: \"2\"\n"
        );
    }

    #[test]
    fn values_are_written_as_flow_yaml_that_reads_back_the_same() {
        let v = json!({"a": {"b": [1, "two", true, null]}, "weird key": "x: y", "n": "1.0"});
        let text = format!("v: {}\n", flow(&v));
        let root = crate::spec::yaml::parse(&Source::new("f.yaml", text)).unwrap();
        assert_eq!(root.get("v").unwrap().to_json(), v);
    }
}
