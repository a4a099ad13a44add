//! The JSON Schema of the spec (compiled into the binary) and the translation of its
//! violations into diagnostics that point at the YAML.

use std::sync::OnceLock;

use jsonschema::Validator;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value as Json;

use super::schema_node::Yaml;
use crate::diag::{Code, Problem};
use crate::spec::yaml::{Node, Value};
use crate::suggest::did_you_mean;

/// The schema text, as `synctl schema` prints it.
pub const SCHEMA: &str = include_str!("../../schemas/fleet.schema.json");

pub(super) fn schema_json() -> &'static Json {
    static SCHEMA_JSON: OnceLock<Json> = OnceLock::new();
    SCHEMA_JSON.get_or_init(|| serde_json::from_str(SCHEMA).unwrap_or(Json::Null))
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

/// Validates the document against the schema; every violation becomes a problem on its span.
#[must_use]
pub(crate) fn check(root: &Node) -> Vec<Problem> {
    let Some(validator) = validator() else {
        return vec![Problem::error(
            Code::Internal,
            "the built-in schema does not compile: this is a bug in synctl",
        )];
    };
    let mut problems = Vec::new();
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
                problems.extend(excluded);
                continue;
            }
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
    problems
}

/// The schema object holding the keyword at `keyword_path`.
fn parent_schema(keyword_path: &str) -> Option<&'static Json> {
    let parent = keyword_path.rsplit_once('/').map_or("", |(p, _)| p);
    schema_json().pointer(parent)
}

fn type_name(node: &Node) -> &'static str {
    match node.value {
        Value::Null => "nothing (null)",
        Value::Bool(_) => "a boolean",
        Value::Int(_) | Value::Float(_) => "a number",
        Value::Str(_) => "a string",
        Value::Seq(_) => "a list",
        Value::Map(_) => "a mapping",
    }
}

fn describe(
    kind: &ValidationErrorKind,
    node: &Node,
    field: &str,
    path: &[String],
    schema: Option<&Json>,
) -> Problem {
    let field_shown = if field.chars().all(|c| c.is_ascii_digit()) {
        format!("item {field}")
    } else {
        format!("`{field}`")
    };
    match kind {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            unknown_field(node, unexpected.first().map_or("", String::as_str), schema)
        }
        ValidationErrorKind::Required { property } => {
            let prop = property.as_str().unwrap_or_default();
            Problem::error(Code::Schema, format!("missing required field `{prop}`"))
                .at(node.span, format!("`{prop}` is missing here"))
                .help(format!("add `{prop}:` to this object"))
        }
        ValidationErrorKind::Type { kind } => {
            let want = match kind {
                jsonschema::error::TypeKind::Single(t) => {
                    let article = if matches!(t.as_str(), "array" | "integer" | "object") {
                        "an"
                    } else {
                        "a"
                    };
                    format!("{article} {t}")
                }
                jsonschema::error::TypeKind::Multiple(ts) => {
                    let names: Vec<&str> = ts.iter().map(jsonschema::JsonType::as_str).collect();
                    format!("one of: {}", names.join(", "))
                }
            };
            Problem::error(
                Code::Schema,
                format!("{field_shown} must be {want}, found {}", type_name(node)),
            )
            .at(node.span, format!("expected {want}"))
            .help(type_help(&want))
        }
        ValidationErrorKind::Enum { options } => not_an_option(node, &field_shown, options),
        ValidationErrorKind::Constant { expected_value } => Problem::error(
            Code::Schema,
            format!("{field_shown} must be {expected_value}"),
        )
        .at(node.span, "unexpected value")
        .help(format!(
            "write `{field}: {}`",
            expected_value.as_str().unwrap_or_default()
        )),
        ValidationErrorKind::Pattern { .. } | ValidationErrorKind::MaxLength { .. }
            if is_name_field(path) =>
        {
            not_a_name(node, &field_shown)
        }
        ValidationErrorKind::PropertyNames { error } => {
            let key = error.instance().as_str().unwrap_or_default();
            key_problem(node, key, path, &field_shown)
        }
        ValidationErrorKind::Pattern { .. } => pattern_problem(node, path, &field_shown),
        ValidationErrorKind::OneOfNotValid { .. }
        | ValidationErrorKind::OneOfMultipleValid { .. }
            if path.len() == 3 && path[1] == "components" =>
        {
            chart_or_path(node)
        }
        ValidationErrorKind::Not { .. } => not_problem(node).unwrap_or_else(|| {
            let (a, b) = if node.get("configMapRef").is_some() {
                ("secretRef", "configMapRef")
            } else {
                ("clusters", "selector")
            };
            Problem::error(Code::Schema, format!("`{a}` and `{b}` exclude each other"))
                .at(node.span, "both given here")
                .help(format!("keep one of `{a}` or `{b}`"))
        }),
        other => Problem::error(
            Code::Schema,
            format!("{field_shown}: {}", message_of(other)),
        )
        .at(node.span, "here")
        .help("see `synctl schema` for what this field accepts"),
    }
}

/// `key` is not a field of the object at `node` (whose schema is `schema`).
fn unknown_field(node: &Node, key: &str, schema: Option<&Json>) -> Problem {
    let span = node.entry(key).map_or(node.span, |e| e.key_span);
    let known: Vec<&str> = schema
        .and_then(|s| s.get("properties"))
        .and_then(Json::as_object)
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let help = match did_you_mean(key, known.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None if known.is_empty() => "remove it".to_owned(),
        None => format!("remove it; allowed here: {}", known.join(", ")),
    };
    Problem::error(Code::Schema, format!("unknown field `{key}`"))
        .at(span, "not a field of this object")
        .help(help)
}

/// The key `key` of the mapping at `node` is not a name the schema allows there: a variable
/// named like a built-in, or a name of the wrong form.
fn key_problem(node: &Node, key: &str, path: &[String], field_shown: &str) -> Problem {
    let Some(entry) = node.entry(key) else {
        return pattern_problem(node, path, field_shown);
    };
    let key_node = Node {
        value: crate::spec::yaml::Value::Str(key.to_owned()),
        span: entry.key_span,
    };
    if path.last().is_some_and(|p| p == "vars") && is_builtin(key) {
        return Problem::error(
            Code::Reserved,
            format!("`{key}` is a built-in variable: synctl sets it from the cluster"),
        )
        .at(entry.key_span, "a built-in cannot be overridden")
        .help("`CLUSTER_NAME`, `ENVIRONMENT`, `GIT_BRANCH` and the kubeconfig reference come from the cluster's `name`, `environment`, `branch` and `kubeconfig`: set those, or give this variable another name");
    }
    pattern_problem(&key_node, path, field_shown)
}

/// Whether `name` is a built-in variable (the schema's `definitions.vars.propertyNames.not`).
fn is_builtin(name: &str) -> bool {
    builtins().iter().any(|b| b == name)
}

/// The built-in variables, as the schema lists them.
fn builtins() -> Vec<String> {
    let schema: Json = serde_json::from_str(SCHEMA).unwrap_or_default();
    schema
        .pointer("/definitions/vars/propertyNames/not/enum")
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The component at `node` has both or neither of `chart` and `path`.
fn chart_or_path(node: &Node) -> Problem {
    let both = node.get("chart").is_some() && node.get("path").is_some();
    Problem::error(
        Code::Schema,
        if both {
            "a component has both `chart` and `path`"
        } else {
            "a component needs `chart` or `path`"
        },
    )
    .at(node.span, "this component")
    .help("give exactly one of `chart:` (a Helm chart) or `path:` (manifests in the repository)")
}

/// The name at `node` is not a DNS-1123 label.
fn not_a_name(node: &Node, field_shown: &str) -> Problem {
    let got = node.as_str().unwrap_or_default();
    Problem::error(Code::Name, format!("`{got}` is not a valid name for {field_shown}"))
        .at(node.span, "not a DNS-1123 label")
        .help(format!(
            "names are DNS-1123 labels: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (e.g. `{}`)",
            to_dns_label(got)
        ))
}

/// The value at `node` is none of the schema's `options`.
fn not_an_option(node: &Node, field_shown: &str, options: &Json) -> Problem {
    let opts: Vec<&str> = options
        .as_array()
        .map(|a| a.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    let got = node.as_str().unwrap_or_default();
    let help = did_you_mean(got, opts.iter().copied()).map_or_else(
        || format!("use one of: {}", opts.join(", ")),
        |s| format!("did you mean `{s}`?"),
    );
    Problem::error(
        Code::Schema,
        format!("{field_shown} must be one of {}", opts.join(", ")),
    )
    .at(node.span, "not an allowed value")
    .help(help)
}

fn pattern_problem(node: &Node, path: &[String], field_shown: &str) -> Problem {
    let parent = path.iter().rev().nth(1).map(String::as_str);
    let (what, help) = match (path.last().map(String::as_str), parent) {
        (_, Some("vars")) | (Some("vars"), _) => (
            "variable names",
            "variable names match ^[_a-zA-Z][_a-zA-Z0-9]*$ (e.g. CLUSTER_DOMAIN)",
        ),
        (Some("interval" | "retryInterval" | "timeout"), _) => {
            ("durations", "write a Go duration such as 30s, 10m or 1h30m")
        }
        (Some("url"), _) => ("Git URLs", "use an https://, http:// or ssh:// URL"),
        (Some("repository"), _) => (
            "chart repositories",
            "use an https:// (Helm repository) or oci:// (OCI registry) URL",
        ),
        (Some("cpu" | "memory" | "pods"), _) => {
            ("quantities", "write a quantity such as 8, 500m or 16Gi")
        }
        (_, Some("labels" | "matchLabels")) | (Some("labels" | "matchLabels"), _) => (
            "labels",
            "label values are at most 63 characters of letters, digits, '-', '_' and '.'",
        ),
        _ => ("this field", "see `synctl schema` for the accepted form"),
    };
    let got = node.as_str().unwrap_or_default();
    Problem::error(
        Code::Schema,
        format!("{field_shown} `{got}` is not valid for {what}"),
    )
    .at(node.span, "wrong form")
    .help(help)
}

fn type_help(want: &str) -> String {
    match want {
        "a string" => "quote the value, e.g. \"1.0\"".to_owned(),
        "an array" => "write a list, e.g. [a, b] or one `- item` per line".to_owned(),
        "an object" => "write a mapping of `key: value` lines".to_owned(),
        _ => format!("write {want}"),
    }
}

/// Whether the field at `path` holds a resource name.
fn is_name_field(path: &[String]) -> bool {
    let last = path.last().map(String::as_str);
    let parent = path.iter().rev().nth(1).map(String::as_str);
    matches!(
        last,
        Some(
            "name"
                | "wave"
                | "namespace"
                | "environment"
                | "secretRef"
                | "configMapRef"
                | "sourceRef"
        )
    ) && parent != Some("chart")
        || matches!(
            parent,
            Some("dependsOn" | "clusters" | "namespaces" | "provides" | "requires")
        )
}

/// A best-effort DNS-1123 form of `name`, for help texts.
#[must_use]
pub(crate) fn to_dns_label(name: &str) -> String {
    let mut out: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    out.truncate(63);
    let out = out.trim_matches('-').to_owned();
    if out.is_empty() {
        "my-name".to_owned()
    } else {
        out
    }
}

fn message_of(kind: &ValidationErrorKind) -> String {
    match kind {
        ValidationErrorKind::MinItems { limit } => format!("needs at least {limit} item(s)"),
        ValidationErrorKind::MinLength { .. } => "must not be empty".to_owned(),
        ValidationErrorKind::MaxLength { limit } => format!("is longer than {limit} characters"),
        ValidationErrorKind::Minimum { limit } => format!("must be at least {limit}"),
        ValidationErrorKind::Maximum { limit } => format!("must be at most {limit}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// The fields the schema excludes where they would do nothing (a field of the other engine, of
/// the other kind of component), as diagnostics. The schema is the one table of these fields:
/// each rule is `if: <condition>, then: {not: {anyOf: [{required: [field]}…]}}` (or `else:`),
/// and the message is read off the rule that failed, at `keyword_path` (the `not`).
fn exclusion(node: &Node, keyword_path: &str) -> Option<Vec<Problem>> {
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
            .map(|f| problem(f))
            .collect(),
    )
}

/// The `not` rules beyond "exclude each other" and the engine and kind exclusions
/// ([`exclusion`]): `retries` with `RetryOnFailure`, `wait: true` with `healthChecks`, `flux`
/// with engine argocd.
fn not_problem(node: &Node) -> Option<Problem> {
    let at = |key: &str| node.entry(key).map_or(node.span, |e| e.key_span);
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
        check(&node)
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
