//! Literal secrets in Helm values: a password committed to Git is readable by everyone with
//! the repository. References (`existingSecret`, `secretName`, `${VAR}`) are fine.

use crate::diag::{Code, Problem};
use crate::model::Fleet;
use crate::spec::yaml::{Node, Value};

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

pub(super) fn scan(fleet: &Fleet, problems: &mut Vec<Problem>) {
    for comp in &fleet.components {
        let trees = comp.values_tree.iter().chain(
            comp.environments
                .values()
                .filter_map(|o| o.values_tree.as_ref()),
        );
        for tree in trees {
            walk(tree, &comp.name, problems);
        }
    }
}

/// Reports every key of `node` (at any depth) that holds a literal secret, at its value.
fn walk(node: &Node, comp: &str, problems: &mut Vec<Problem>) {
    match &node.value {
        Value::Map(entries) => {
            for e in entries {
                if let Value::Str(s) = &e.value.value
                    && (looks_like_secret_key(&e.key) && looks_like_literal(s)
                        || looks_like_key_material(s))
                {
                    problems.push(
                        Problem::error(Code::Secret, format!("`{}` in the values of `{comp}` looks like a literal secret", e.key))
                            .at(e.value.span, "a secret in Git")
                            .help("keep secrets out of the spec: reference a Secret (e.g. `existingSecret`, or the HelmRelease's `valuesFrom`) or an external secret store"),
                    );
                    continue;
                }
                walk(&e.value, comp, problems);
            }
        }
        Value::Seq(items) => items.iter().for_each(|v| walk(v, comp, problems)),
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
