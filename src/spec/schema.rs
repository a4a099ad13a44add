//! The JSON Schema of the spec (compiled into the binary) and the translation of its
//! violations into diagnostics that point at the YAML.

use std::sync::OnceLock;

use jsonschema::Validator;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value as Json;

use super::repair::{self, Cut};
use super::schema_messages::describe;
use super::schema_node::Yaml;
use crate::diag::{Code, Problem};
use crate::spec::yaml::{Node, Value};

/// The schema text, as `synctl schema` prints it.
pub const SCHEMA: &str = include_str!("../../schemas/fleet.schema.json");

pub(crate) fn schema_json() -> &'static Json {
    static SCHEMA_JSON: OnceLock<Json> = OnceLock::new();
    SCHEMA_JSON.get_or_init(|| serde_json::from_str(SCHEMA).unwrap_or(Json::Null))
}

/// Whether `name` is a Flux controller the schema's `fluxComponent` lists (the name of its
/// account in `flux-system`).
pub(crate) fn flux_component(name: &str) -> bool {
    schema_json()
        .pointer("/definitions/fluxComponent/enum")
        .and_then(Json::as_array)
        .is_some_and(|a| a.iter().any(|c| c.as_str() == Some(name)))
}

pub(super) fn validator() -> Option<&'static Validator<Yaml>> {
    static VALIDATOR: OnceLock<Option<Validator<Yaml>>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            // The `regex` engine: linear-time matching, and it compiles faster than
            // `fancy-regex`; the schema's patterns need no look-around.
            jsonschema::options_for::<Yaml>()
                .with_pattern_options(jsonschema::PatternOptions::regex())
                .build(schema_json())
                .ok()
        })
        .as_ref()
}

/// Compiles the schema now, so that the first [`check`] finds it ready (another thread may call
/// this while the spec is parsed).
pub(crate) fn prepare() {
    let _ = validator();
}

/// What the schema found: every violation as a problem on its span, and the cuts that take
/// each out of the spec (`None` when one cannot be cut out: see [`super::repair`]).
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub(crate) problems: Vec<Problem>,
    pub(crate) cuts: Option<Vec<Cut>>,
}

/// Validates the document against the schema.
#[must_use]
pub(crate) fn check(root: &Node) -> Found {
    let Some(validator) = validator() else {
        return Found {
            problems: vec![Problem::error(
                Code::Internal,
                "the built-in schema does not compile: this is a bug in synctl",
            )],
            cuts: None,
        };
    };
    let mut problems = Vec::new();
    let mut cuts = Some(Vec::new());
    for error in validator.iter_errors(root) {
        let path: Vec<String> = error
            .instance_path()
            .as_str()
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        let node = root.at(path.iter().map(String::as_str)).unwrap_or(root);
        let field = path.last().map_or("the spec", String::as_str);
        let schema_at = parent_schema(error.schema_path().as_str());
        if let ValidationErrorKind::Not { .. } = error.kind() {
            let excluded = exclusion(node, error.schema_path().as_str()).unwrap_or_default();
            if !excluded.is_empty() {
                for (key, problem) in excluded {
                    if let Some(c) = cuts.as_mut() {
                        c.push(Cut {
                            parent: path.clone(),
                            key,
                            quiet: false,
                        });
                    }
                    problems.push(problem);
                }
                continue;
            }
        }
        let cut: Option<Vec<Cut>> = match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => Some(
                unexpected
                    .iter()
                    .map(|key| Cut {
                        parent: path.clone(),
                        key: key.clone(),
                        quiet: false,
                    })
                    .collect(),
            ),
            ValidationErrorKind::Required { .. } => None,
            _ => repair::cut_value(root, &path).map(|c| vec![c]),
        };
        match (cut, cuts.as_mut()) {
            (Some(c), Some(all)) => all.extend(c),
            (None, _) => cuts = None,
            (Some(_), None) => {}
        }
        let mut problem = describe(error.kind(), node, field, &path, schema_at);
        if let (ValidationErrorKind::Required { .. }, Some((last, parent))) =
            (error.kind(), path.split_last())
            && let Some(entry) = root
                .at(parent.iter().map(String::as_str))
                .and_then(|n| n.entry(last))
            && let Some(label) = problem.primary.as_mut()
        {
            label.span = entry.key_span;
        }
        problems.push(problem);
    }
    Found { problems, cuts }
}

/// The schema object holding the keyword at `keyword_path`.
fn parent_schema(keyword_path: &str) -> Option<&'static Json> {
    let parent = keyword_path.rsplit_once('/').map_or("", |(p, _)| p);
    schema_json().pointer(parent)
}

/// The fields the schema excludes where they would do nothing (a field of the other engine, of
/// the other kind of component), as diagnostics. The schema is the one table of these fields:
/// each rule is `if: <condition>, then: {not: {anyOf: [{required: [field]}…]}}` (or `else:`),
/// and the message is read off the rule that failed, at `keyword_path` (the `not`).
fn exclusion(node: &Node, keyword_path: &str) -> Option<Vec<(String, Problem)>> {
    // The schemas along the path (a `$ref` is followed where it stands).
    let mut chain: Vec<(&str, &Json)> = vec![("", schema_json())];
    for token in keyword_path.split('/').skip(1) {
        let here = chain.last()?.1;
        let next = if token == "$ref" {
            let target = here["$ref"].as_str()?.strip_prefix('#')?;
            schema_json().pointer(target)?
        } else if let Ok(i) = token.parse::<usize>() {
            here.get(i)?
        } else {
            here.get(token)?
        };
        chain.push((token, next));
    }
    let not = chain.last()?.1;
    let fields: Vec<&str> = not["anyOf"]
        .as_array()?
        .iter()
        .map(|r| r["required"].as_array().filter(|a| a.len() == 1)?[0].as_str())
        .collect::<Option<_>>()?;
    // The rule holding the `not`: the nearest `then` or `else` above it, beside its `if`.
    let at = chain
        .iter()
        .rposition(|(token, _)| *token == "then" || *token == "else")?;
    let branch = chain[at].0;
    let condition = &chain[at.checked_sub(1)?].1["if"];
    // The rule tests the engine or the kind of component; `else` is the other of the two.
    let (subject, named) = match condition["properties"]["engine"]["const"].as_str() {
        Some(engine) => ("engine", engine),
        None => ("kind", condition["required"][0].as_str()?),
    };
    let pair = if subject == "engine" {
        ["flux", "argocd"]
    } else {
        ["chart", "path"]
    };
    let value = match (branch, named == pair[0]) {
        ("then", _) => named,
        (_, true) => pair[1],
        (_, false) => pair[0],
    };
    let (when, label) = match (subject, value) {
        ("engine", "flux") => ("this fleet runs engine flux".to_owned(), "not read by Flux"),
        ("engine", e) => (format!("this fleet runs engine {e}"), "not read by Argo CD"),
        (_, "chart") => (
            "this component has `chart:`".to_owned(),
            "not read for a chart",
        ),
        (_, k) => (
            format!("this component has `{k}:`"),
            "not read for a `path:` folder",
        ),
    };
    let problem = |field: &str| {
        let at = node.entry(field).map_or(node.span, |e| e.key_span);
        Problem::error(Code::Schema, format!("`{field}` does nothing here: {when}"))
            .at(at, label)
            .help(format!(
                "remove `{field}` (docs/spec.md says which components and engines read it)"
            ))
    };
    Some(
        fields
            .iter()
            .filter(|f| node.get(f).is_some())
            .map(|f| ((*f).to_owned(), problem(f)))
            .collect(),
    )
}

/// The `not` rules beyond "exclude each other" and the engine and kind exclusions
/// ([`exclusion`]): `plugin` with `patches`, `retries` with `RetryOnFailure`, `wait: true` with `healthChecks`, `flux`
/// with engine argocd, `${` in a `vars` value.
pub(super) fn not_problem(node: &Node) -> Option<Problem> {
    let at = |key: &str| node.entry(key).map_or(node.span, |e| e.key_span);
    // The one `not` over a string: a `vars` value.
    if node.as_str().is_some_and(|v| v.contains("${")) {
        return Some(
            Problem::error(Code::Substitution, "a variable's value holds `${`")
                .at(node.span, "written as it is into every Kustomization's `postBuild.substitute`")
                .help("a value is not substituted again: write it out in full (hub/, where the hub's Kustomizations sit, is applied without substitution)"),
        );
    }
    if node.get("plugin").is_some() && node.get("patches").is_some() {
        return Some(
            Problem::error(Code::Schema, "`plugin` with `patches`")
                .at(at("plugin"), "one source, one tool: Argo CD refuses both")
                .help("render the folder with the plugin (and patch in its own configuration), or drop `plugin` and keep the kustomize `patches`"),
        );
    }
    if node.get("strategy").and_then(Node::as_str) == Some("RetryOnFailure")
        && node.get("retries").is_some()
    {
        return Some(
            Problem::error(Code::Schema, "`retries` with `strategy: RetryOnFailure`")
                .at(at("retries"), "RetryOnFailure retries without remediation")
                .help("remove `retries`, or use `strategy: RemediateOnFailure`"),
        );
    }
    if node
        .get("wait")
        .is_some_and(|w| w.value == Value::Bool(true))
        && node.get("healthChecks").is_some()
    {
        return Some(
            Problem::error(Code::Schema, "`wait: true` with `healthChecks`")
                .at(
                    at("wait"),
                    "Flux then checks every object and ignores `healthChecks`",
                )
                .help(
                    "remove `wait: true` (healthChecks turn waiting off), or remove `healthChecks`",
                ),
        );
    }
    if node.get("engine").is_some() && node.get("flux").is_some() {
        return Some(
            Problem::error(Code::Schema, "`flux` with engine argocd")
                .at(
                    at("flux"),
                    "how Flux is installed: meaningless without Flux",
                )
                .help("remove `flux`"),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::source::Source;
    use crate::spec::yaml;

    #[track_caller]
    fn problems(text: &str) -> Vec<Problem> {
        let src = Source::new("f", text.to_owned());
        let node = yaml::parse(&src).unwrap();
        check(&node).problems
    }

    const HEAD: &str = "apiVersion: synctl.dev/v1alpha1\nkind: Fleet\nmetadata: {name: x}\n";

    #[test]
    fn the_schema_compiles() {
        assert!(validator().is_some());
    }

    /// (instance path, schema path) of every error, sorted.
    fn error_paths<'a>(
        errors: impl Iterator<Item = jsonschema::ValidationError<'a>>,
    ) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = errors
            .map(|e| {
                (
                    e.instance_path().as_str().to_owned(),
                    e.schema_path().as_str().to_owned(),
                )
            })
            .collect();
        out.sort();
        out
    }

    /// The schema reads the YAML nodes directly; it must judge them as it judges their JSON
    /// copy: same verdict, same errors at the same paths, numbers and nulls included.
    #[test]
    fn the_nodes_are_judged_as_their_json_copy_would_be() {
        let json_validator = jsonschema::options()
            .with_pattern_options(jsonschema::PatternOptions::regex())
            .build(schema_json())
            .unwrap();
        let node_validator = validator().unwrap();
        let base =
            "spec:\n  repository: {url: https://x/y}\n  clusters: [{name: hub, role: hub}]\n";
        let bodies = [
            String::new(),
            "  defaults: {interval: 1.0}\n".to_owned(),
            "  defaults: {interval: 5m}\n".to_owned(),
            "  components: [{name: a, wave: w, chart: {repository: https://c, name: a}, helm: {retries: 1.0}}]\n  waves: [{name: w}]\n".to_owned(),
            "  components: [{name: a, wave: w, chart: {repository: https://c, name: a}, helm: {retries: 1.5}}]\n  waves: [{name: w}]\n".to_owned(),
            "  components: [{name: a, wave: w, chart: {repository: https://c, name: a}, helm: {retries: -1}}]\n  waves: [{name: w}]\n".to_owned(),
            "  components: [{name: a, wave: w, chart: {repository: https://c, name: a}, helm: {retries: .inf}}]\n  waves: [{name: w}]\n".to_owned(),
            "  components: [{name: a, wave: w, chart: {repository: https://c, name: a}, helm: {retries: 99999999999999999}}]\n  waves: [{name: w}]\n".to_owned(),
            "  components: [{name: a, wave: w, chart: {repository: https://c, name: a}, values: {x: [1, 2.5, null, true, ~]}}]\n  waves: [{name: w}]\n".to_owned(),
            "  components: [{name: a, wave: w, chart: null}]\n  waves: [{name: w}]\n".to_owned(),
            "  tenants: [{name: t, namespaces: [a, a]}]\n".to_owned(),
            "  clustrs: []\n".to_owned(),
            "  repository: {url: 5}\n".to_owned(),
        ];
        let mut invalid = 0;
        for body in bodies {
            let text = format!("{HEAD}{base}{body}");
            // A later `repository` replaces the first one: keep one of each key.
            let text = if body.starts_with("  repository") {
                format!("{HEAD}spec:\n{body}  clusters: [{{name: hub, role: hub}}]\n")
            } else {
                text
            };
            let node = yaml::parse(&Source::new("f", text.clone())).unwrap();
            let json = node.to_json();
            assert_eq!(
                node_validator.is_valid(&node),
                json_validator.is_valid(&json),
                "{text}"
            );
            let from_nodes = error_paths(node_validator.iter_errors(&node));
            let from_json = error_paths(json_validator.iter_errors(&json));
            assert_eq!(from_nodes, from_json, "{text}");
            invalid += usize::from(!from_nodes.is_empty());
        }
        // Both verdicts were exercised.
        assert!((5..13).contains(&invalid), "{invalid} invalid");
    }

    /// Every field an exclusion rule names is a field of what it excludes it from.
    #[test]
    fn every_excluded_field_is_a_component_field() {
        let fields = &schema_json()["definitions"]["component"]["properties"];
        let mut rules = 0;
        let mut stack = vec![schema_json()];
        while let Some(v) = stack.pop() {
            match v {
                Json::Object(m) => {
                    if let Some(any) = m.get("not").and_then(|n| n["anyOf"].as_array()) {
                        for r in any {
                            let f = r["required"][0].as_str().unwrap_or_default();
                            let override_field =
                                schema_json()["definitions"]["override"]["properties"].get(f);
                            assert!(fields.get(f).is_some() || override_field.is_some(), "{f}");
                        }
                        rules += 1;
                    }
                    stack.extend(m.values());
                }
                Json::Array(a) => stack.extend(a),
                _ => {}
            }
        }
        assert!(rules >= 4, "{rules} exclusion rules");
    }

    #[test]
    fn unknown_field_suggests_the_closest_and_points_at_the_key() {
        let text = format!(
            "{HEAD}spec:\n  repository: {{url: https://x/y}}\n  clusters: [{{name: a, role: hub}}]\n  clustrs: []\n"
        );
        let p = problems(&text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].message, "unknown field `clustrs`");
        assert_eq!(p[0].help.as_deref(), Some("did you mean `clusters`?"));
        let span = p[0].primary.as_ref().unwrap().span;
        assert_eq!(&text[span.offset..span.offset + span.len], "clustrs");
    }

    #[test]
    fn bad_names_are_name_problems() {
        let text = format!(
            "{HEAD}spec:\n  repository: {{url: https://x/y}}\n  clusters: [{{name: Hub_1}}]\n"
        );
        let p = problems(&text);
        assert_eq!(p[0].code, Code::Name);
        assert!(p[0].help.as_ref().unwrap().contains("hub-1"));
    }

    #[test]
    fn enum_typos_get_a_suggestion() {
        let text = format!(
            "{HEAD}spec:\n  engine: fluxcd\n  repository: {{url: https://x/y}}\n  clusters: [{{name: a}}]\n"
        );
        let p = problems(&text);
        assert_eq!(p[0].help.as_deref(), Some("did you mean `flux`?"));
    }

    #[test]
    fn chart_and_path_together_is_one_clear_problem() {
        let text = format!(
            "{HEAD}spec:\n  repository: {{url: https://x/y}}\n  clusters: [{{name: a}}]\n  components:\n    - {{name: c, wave: w, path: p, chart: {{repository: https://c, name: c}}}}\n"
        );
        let p = problems(&text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].message, "a component has both `chart` and `path`");
    }
}
