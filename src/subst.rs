//! `${…}`: the variable syntax of Flux's `postBuild.substitute`, read in one place. Validation
//! (which variables a cluster must define) and both renderers (Flux leaves them for the
//! controller; Argo CD has no substitution, so synctl resolves them) use this reader, so what
//! `validate` accepts is exactly what `generate` can render.
//!
//! The forms, as Flux's envsubst reads them:
//! - `${NAME}`: the variable; unresolved, it is an error (Flux 2.9 makes it fatal);
//! - `${NAME:=default}`, `${NAME:-default}`, `${NAME=default}`: the default when unset;
//! - `$${NAME}`: an escape, written out as `${NAME}`;
//! - a `${` without its `}` is left as text.

use std::collections::BTreeMap;

/// The variables synctl sets on every cluster from its spec (`model::Cluster::variables`),
/// which `vars` and `fluxSpec` may not replace; the schema lists the same names (tested).
pub(crate) const BUILT_INS: &[&str] = &[
    "CLUSTER_NAME",
    "ENVIRONMENT",
    "GIT_BRANCH",
    "KUBECONFIG_SECRET",
    "KUBECONFIG_KEY",
    "KUBECONFIG_CONFIGMAP",
];

/// One piece of a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part<'a> {
    /// Text copied as it is.
    Text(&'a str),
    /// `$${…}`: written out as `${…}` (the text after the first `$`).
    Escaped(&'a str),
    /// `${NAME}` or `${NAME<op>default}`.
    Var {
        name: &'a str,
        default: Option<&'a str>,
    },
}

/// Whether `s` holds `${` (found with a byte search: most strings have no `$`).
#[must_use]
pub(crate) fn mentions_variable(s: &str) -> bool {
    s.match_indices('$')
        .any(|(i, _)| s.as_bytes().get(i + 1) == Some(&b'{'))
}

/// Splits `s` into text, escapes and variables.
#[must_use]
pub(crate) fn parse(s: &str) -> Vec<Part<'_>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        let Some(len) = rest[i..].find('}') else {
            break;
        };
        let escaped = rest[..i].ends_with('$');
        let text_end = if escaped { i - 1 } else { i };
        if text_end > 0 {
            out.push(Part::Text(&rest[..text_end]));
        }
        let whole = &rest[i..=i + len];
        if escaped {
            out.push(Part::Escaped(whole));
        } else {
            out.push(var(&whole[2..whole.len() - 1]));
        }
        rest = &rest[i + len + 1..];
    }
    if !rest.is_empty() {
        out.push(Part::Text(rest));
    }
    out
}

/// `NAME`, `NAME:=d`, `NAME:-d` or `NAME=d` (surrounding blanks ignored).
fn var(inner: &str) -> Part<'_> {
    let inner = inner.trim();
    let end = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let (name, op) = inner.split_at(end);
    let default = [":=", ":-", "="].iter().find_map(|o| op.strip_prefix(o));
    Part::Var {
        name: if name.is_empty() { inner } else { name },
        default,
    }
}

/// The variables `s` needs: those without a default, not escaped, in order of use.
pub(crate) fn required(s: &str) -> impl Iterator<Item = &str> {
    parse(s).into_iter().filter_map(|p| match p {
        Part::Var {
            name,
            default: None,
        } => Some(name),
        _ => None,
    })
}

/// Substitutes `s` with `vars` as Flux would; names that resolve to nothing are pushed onto
/// `missing` and left as written.
#[must_use]
pub(crate) fn substitute(
    s: &str,
    vars: &BTreeMap<String, String>,
    missing: &mut Vec<String>,
) -> String {
    if !mentions_variable(s) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    for part in parse(s) {
        match part {
            Part::Text(t) => out.push_str(t),
            Part::Escaped(e) => out.push_str(e),
            Part::Var { name, default } => match (vars.get(name), default) {
                (Some(v), _) => out.push_str(v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => {
                    missing.push(name.to_owned());
                    out.push_str("${");
                    out.push_str(name);
                    out.push('}');
                }
            },
        }
    }
    out
}

/// The variables the strings of `value` need (no default, not escaped), each once, in order
/// of first use: what [`substitute_value`] reports missing when a cluster lacks them.
pub(crate) fn required_in(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) if mentions_variable(s) => {
            for name in required(s) {
                if !out.iter().any(|n| n == name) {
                    out.push(name.to_owned());
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| required_in(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| required_in(v, out)),
        _ => {}
    }
}

/// [`substitute`] in every string of `value`, in place (keys are left as written).
pub(crate) fn substitute_value(
    value: &mut serde_json::Value,
    vars: &BTreeMap<String, String>,
    missing: &mut Vec<String>,
) {
    match value {
        serde_json::Value::String(s) if mentions_variable(s) => {
            *s = substitute(s, vars, missing);
        }
        serde_json::Value::Array(items) => items
            .iter_mut()
            .for_each(|v| substitute_value(v, vars, missing)),
        serde_json::Value::Object(map) => map
            .values_mut()
            .for_each(|v| substitute_value(v, vars, missing)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn subst(s: &str) -> (String, Vec<String>) {
        let vars: BTreeMap<String, String> = [("A".to_owned(), "1".to_owned())].into();
        let mut missing = Vec::new();
        let out = substitute(s, &vars, &mut missing);
        (out, missing)
    }

    #[test]
    fn every_form_is_read_the_same_by_validation_and_substitution() {
        // (input, output with A=1, variables validation requires)
        let cases: &[(&str, &str, &[&str])] = &[
            ("plain", "plain", &[]),
            ("${A}", "1", &["A"]),
            ("x-${A}-y", "x-1-y", &["A"]),
            ("${B:=2}", "2", &[]),
            ("${B:-2}", "2", &[]),
            ("${B=2}", "2", &[]),
            ("${A:-2}", "1", &[]),
            ("${B:=}", "", &[]),
            ("$${A}", "${A}", &[]),
            ("$${B}", "${B}", &[]),
            ("${ A }", "1", &["A"]),
            ("${A", "${A", &[]),
            ("$A", "$A", &[]),
            ("${A}${B:-x}$${C}", "1x${C}", &["A"]),
        ];
        for (input, want, needs) in cases {
            let (out, missing) = subst(input);
            assert_eq!(&out, want, "substituting {input:?}");
            assert!(missing.is_empty(), "{input:?} left {missing:?}");
            let req: Vec<&str> = required(input).collect();
            assert_eq!(&req, needs, "variables of {input:?}");
        }
    }

    #[test]
    fn unresolved_variables_are_reported_and_kept() {
        let (out, missing) = subst("a-${C}-${A}");
        assert_eq!(out, "a-${C}-1");
        assert_eq!(missing, ["C"]);
    }
}
