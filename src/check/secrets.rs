//! Literal secrets in Helm values: a password committed to Git is readable by everyone with
//! the repository. References (`existingSecret`, `secretName`, `${VAR}`) are fine.

use serde_json::Value as Json;

use crate::diag::{Code, Problem};
use crate::model::Fleet;
use crate::spec::yaml::Node;

/// Key words that name a secret value.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "privatekey",
    "accesskey",
    "secretkey",
    "clientsecret",
    "credential",
    "bearer",
    "passphrase",
];

/// Key words that name a reference to a secret rather than the secret itself.
const REFERENCE_WORDS: &[&str] = &[
    "existing",
    "ref",
    "name",
    "file",
    "path",
    "enabled",
    "create",
    "mount",
    "env",
    "length",
    "annotations",
    "secretkeyref",
    "policy",
    "type",
];

pub(super) fn scan(fleet: &Fleet, root: &Node, problems: &mut Vec<Problem>) {
    for (i, comp) in fleet.components.iter().enumerate() {
        let is = i.to_string();
        let mut path = vec![
            "spec".to_owned(),
            "components".to_owned(),
            is.clone(),
            "values".to_owned(),
        ];
        walk(&comp.values, &mut path, root, &comp.name, problems);
        for (env, o) in &comp.environments {
            if let Some(values) = &o.values {
                let mut path = vec![
                    "spec".to_owned(),
                    "components".to_owned(),
                    is.clone(),
                    "environments".to_owned(),
                    env.clone(),
                    "values".to_owned(),
                ];
                walk(values, &mut path, root, &comp.name, problems);
            }
        }
    }
}

fn walk(
    value: &Json,
    path: &mut Vec<String>,
    root: &Node,
    comp: &str,
    problems: &mut Vec<Problem>,
) {
    match value {
        Json::Object(map) => {
            for (k, v) in map {
                if let Json::String(s) = v
                    && (looks_like_secret_key(k) && looks_like_literal(s)
                        || looks_like_key_material(s))
                {
                    path.push(k.clone());
                    let span = root
                        .at(path.iter().map(String::as_str))
                        .map_or(root.span, |n| n.span);
                    path.pop();
                    problems.push(
                        Problem::error(Code::Secret, format!("`{k}` in the values of `{comp}` looks like a literal secret"))
                            .at(span, "a secret in Git")
                            .help("keep secrets out of the spec: reference a Secret (e.g. `existingSecret`, or the HelmRelease's `valuesFrom`) or an external secret store"),
                    );
                    continue;
                }
                path.push(k.clone());
                walk(v, path, root, comp, problems);
                path.pop();
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(i.to_string());
                walk(v, path, root, comp, problems);
                path.pop();
            }
        }
        _ => {}
    }
}

fn normalise(key: &str) -> String {
    key.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn looks_like_secret_key(key: &str) -> bool {
    let k = normalise(key);
    SECRET_WORDS.iter().any(|w| k.contains(w))
        && !REFERENCE_WORDS
            .iter()
            .any(|w| k.starts_with(w) || k.ends_with(w))
}

fn looks_like_literal(value: &str) -> bool {
    let v = value.trim();
    !(v.is_empty() || v.contains("${") || v.starts_with("{{"))
}

fn looks_like_key_material(value: &str) -> bool {
    value.contains("-----BEGIN") && value.contains("PRIVATE KEY")
        || ["ghp_", "github_pat_", "glpat-", "xoxb-", "AKIA", "sk_live_"]
            .iter()
            .any(|p| value.starts_with(p) && value.len() >= 16 && !value.contains(' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_are_recognised_but_references_are_not() {
        for k in [
            "password",
            "adminPassword",
            "api_key",
            "apiKey",
            "clientSecret",
            "auth-token",
        ] {
            assert!(looks_like_secret_key(k), "{k}");
        }
        for k in [
            "existingSecret",
            "secretName",
            "passwordSecretRef",
            "tokenPath",
            "existingSecretPasswordKey",
            "replicaCount",
            "createSecret",
        ] {
            assert!(!looks_like_secret_key(k), "{k}");
        }
    }

    #[test]
    fn placeholders_are_not_literals() {
        assert!(looks_like_literal("hunter2"));
        assert!(!looks_like_literal("${DB_PASSWORD}"));
        assert!(!looks_like_literal(""));
    }

    #[test]
    fn key_material_is_found_under_any_key() {
        assert!(looks_like_key_material(
            "-----BEGIN RSA PRIVATE KEY-----\nabc"
        ));
        assert!(looks_like_key_material("ghp_abcdefghijklmnopqrstuvwxyz"));
        assert!(!looks_like_key_material("ghp_"));
    }
}
