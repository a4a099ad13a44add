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
    let url_help = "put the credentials in a Secret (`repository.secretRef` / `apps.repository.secretRef`) and remove them from the URL";
    if url_password(&fleet.repository.url) {
        problems.push(
            Problem::error(Code::Secret, "the repository URL holds a password")
                .at(fleet.repository.url_span, "credentials in Git")
                .help(url_help),
        );
    }
    for t in &fleet.tenants {
        if t.apps.iter().any(|a| url_password(&a.url)) {
            problems.push(
                Problem::error(
                    Code::Secret,
                    format!("the repository URL of tenant `{}` holds a password", t.name),
                )
                .at(t.span, "credentials in Git")
                .help(url_help),
            );
        }
    }
    for c in &fleet.clusters {
        for (k, v) in &c.vars {
            if looks_like_secret_key(k) && looks_like_literal(v) || secret_shaped(v) {
                problems.push(
                    Problem::error(Code::Secret, format!("the variable `{k}` of cluster `{}` looks like a literal secret", c.name))
                        .at(c.span, "substituted into manifests, committed in Git")
                        .help("substitute secrets from a Secret (Flux `postBuild.substituteFrom`) instead of `vars`"),
                );
            }
        }
    }
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
                    && (looks_like_secret_key(&e.key) && looks_like_literal(s) || secret_shaped(s))
                {
                    problems.push(
                        Problem::error(Code::Secret, format!("`{}` in the values of `{comp}` looks like a literal secret", e.key))
                            .at(e.value.span, "a secret in Git")
                            .help(format!("keep secrets out of the spec: with Flux, move it to a Secret (in `flux-system` on a hub or standalone cluster, in the hub namespace of a fleet cluster) and add `valuesFrom: [{{kind: Secret, name: …, valuesKey: …, targetPath: {}}}]`; with Argo CD, use the chart's existing-Secret value", e.key)),
                    );
                    continue;
                }
                walk(&e.value, comp, problems);
            }
            // `env`-style pairs: `{name: DB_PASSWORD, value: hunter2}`.
            let field = |k: &str| entries.iter().find(|e| e.key == k).map(|e| &e.value);
            if let (Some(name), Some(value)) = (field("name"), field("value"))
                && let (Value::Str(n), Value::Str(v)) = (&name.value, &value.value)
                && looks_like_secret_key(n)
                && looks_like_literal(v)
                && !secret_shaped(v)
            {
                problems.push(
                    Problem::error(Code::Secret, format!("the value of `{n}` in the values of `{comp}` looks like a literal secret"))
                        .at(value.span, "a secret in Git")
                        .help("use `valueFrom.secretKeyRef` (or the chart's existing-Secret option) instead of `value`"),
                );
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

/// A value that could be a secret: not empty, not a placeholder, and not shaped like a
/// setting (`tokenTTL: 1h`, `passwordLength: 32`, `token: true`).
fn looks_like_literal(value: &str) -> bool {
    let v = value.trim();
    !(v.is_empty() || v.contains("${") || v.starts_with("{{") || looks_like_setting(v))
}

/// A duration, a number, a quantity or a boolean.
fn looks_like_setting(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "none"
    ) {
        return true;
    }
    let digits_then = |suffixes: &[&str]| {
        let d = lower.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        !d.is_empty()
            && d.chars().all(|c| c.is_ascii_digit() || c == '.')
            && suffixes.contains(&&lower[d.len()..])
    };
    digits_then(&[
        "", "ms", "s", "m", "h", "d", "w", "ki", "mi", "gi", "ti", "k", "m", "g",
    ])
}

/// Whatever the key: key material, a known token prefix, or a URL with a password.
fn secret_shaped(value: &str) -> bool {
    looks_like_key_material(value) || url_password(value)
}

/// Whether `value` holds a URL with a password (`scheme://user:password@host`).
fn url_password(value: &str) -> bool {
    let mut rest = value;
    while let Some(i) = rest.find("://") {
        let after = &rest[i + 3..];
        let authority = after
            .split(['/', '?', '#', ' ', '"', '\''])
            .next()
            .unwrap_or("");
        if let Some((userinfo, _host)) = authority.rsplit_once('@')
            && let Some((_user, password)) = userinfo.split_once(':')
            && !password.is_empty()
            && !password.contains("${")
            && !password.starts_with('$')
        {
            return true;
        }
        rest = after;
    }
    false
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
    fn settings_and_placeholders_are_not_secrets_but_urls_with_passwords_are() {
        for v in ["1h", "30m", "32", "true", "512Mi", "1.5"] {
            assert!(!looks_like_literal(v), "{v}");
        }
        for v in [
            "postgres://app:s3cret@db:5432/app",
            "https://user:pass@github.com/acme/x",
            "jdbc:mysql://root:toor@mysql/db?x=1",
        ] {
            assert!(url_password(v), "{v}");
        }
        for v in [
            "ssh://git@github.com/acme/x",
            "https://github.com/acme/x",
            "postgres://app:${DB_PASSWORD}@db/app",
            "http://host:8080/path",
        ] {
            assert!(!url_password(v), "{v}");
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
