//! The messages of schema violations: each jsonschema error kind turned into a diagnostic
//! that says what is wrong in the spec's words, where, and how to fix it.

use jsonschema::error::ValidationErrorKind;
use serde_json::Value as Json;

use super::schema::not_problem;
use crate::diag::{Code, Problem};
use crate::spec::yaml::{Node, Value};
use crate::suggest::did_you_mean;

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

pub(super) fn describe(
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
            let want = wanted_type(kind);
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
        ValidationErrorKind::OneOfNotValid { .. } | ValidationErrorKind::AnyOf { .. } => {
            no_form(node, &field_shown, schema)
        }
        other => Problem::error(
            Code::Schema,
            format!("{field_shown}: {}", message_of(other)),
        )
        .at(node.span, "here")
        .help("see `synctl schema` for what this field accepts"),
    }
}

/// A value of none of the forms a field takes (`shards: 0`, a tenant's `apps` that is neither
/// an entry nor a list of them): the field's own description says which.
fn no_form(node: &Node, field_shown: &str, schema: Option<&Json>) -> Problem {
    let wanted = schema
        .and_then(|s| s.get("description"))
        .and_then(Json::as_str)
        .unwrap_or("see `synctl schema` for what this field accepts");
    Problem::error(
        Code::Schema,
        format!(
            "{field_shown}: `{}` is none of the forms it takes",
            node.to_json()
        ),
    )
    .at(node.span, "here")
    .help(wanted.to_owned())
}

/// The type the schema wants, as a phrase: "an array", "one of: string, integer".
fn wanted_type(kind: &jsonschema::error::TypeKind) -> String {
    match kind {
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

/// Whether `name` is a built-in variable.
fn is_builtin(name: &str) -> bool {
    crate::subst::BUILT_INS.contains(&name)
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
fn to_dns_label(name: &str) -> String {
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
