//! The kustomize transformers synctl applies itself, in kustomize's order (patches, then the
//! namespace), within the envelope where their result is certain: inline `patches` with a
//! target by group, version, kind, name and namespace (kind and name are anchored regular
//! expressions, as kustomize reads them), each a JSON 6902 list (`add`, `replace`, `remove`)
//! or a strategic-merge document on a custom resource with no list in it (a plain merge
//! there); and `namespace` over objects that hold no reference to a namespace
//! (`RoleBinding` subjects, webhook and `APIService` services, CRD conversion services). Anything
//! else returns `None` and the folder goes to an installed kustomize (`external.rs`);
//! `tests` compare both on every folder of the real trees and the examples.

use std::sync::Arc;

use serde_json::Value as Json;

use super::Object;
use crate::source::Source;
use crate::spec::yaml;

/// Kinds whose fields name a namespace that kustomize's namespace transformer also rewrites.
const NAMESPACE_REFERENCES: &[&str] = &[
    "RoleBinding",
    "ClusterRoleBinding",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
    "CustomResourceDefinition",
];

/// `objects` with `patches`, then `namespace`, applied; `None` when something lies outside the
/// envelope (the caller then asks kustomize).
///
/// # Errors
/// A patch kustomize would refuse (a path that does not exist, YAML that does not parse).
pub(super) fn transform(
    objects: &[Object],
    patches: &[Json],
    namespace: Option<&str>,
) -> Result<Option<Vec<Object>>, String> {
    let mut out = objects.to_vec();
    // Most patches name their target: objects by name, so that a folder of many components'
    // patches is not every patch times every object.
    let mut by_name = if patches.is_empty() {
        crate::hashing::Map::default()
    } else {
        names(&out)
    };
    for p in patches {
        if !patch(&mut out, p, &by_name)? {
            return Ok(None);
        }
        let renames = p
            .get("patch")
            .and_then(Json::as_str)
            .is_some_and(|t| t.contains("/metadata/name"));
        if renames {
            by_name = names(&out);
        }
    }
    if let Some(ns) = namespace {
        if out
            .iter()
            .any(|o| super::builtin_group(o.group()) && NAMESPACE_REFERENCES.contains(&o.kind()))
        {
            return Ok(None);
        }
        let ns: Arc<str> = Arc::from(ns);
        for o in &mut out {
            if !super::cluster_scoped(o) {
                o.set_namespace(&ns);
            }
        }
    }
    Ok(Some(out))
}

/// Each name's objects (their indexes), for [`patch`]'s lookups.
fn names(objects: &[Object]) -> crate::hashing::Map<String, Vec<usize>> {
    let mut out: crate::hashing::Map<String, Vec<usize>> = crate::hashing::Map::default();
    for (i, o) in objects.iter().enumerate() {
        out.entry(o.name().to_owned()).or_default().push(i);
    }
    out
}

/// Whether a target's `kind` or `name` has no regular-expression syntax: it matches itself only.
fn literal(p: &str) -> bool {
    p.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The objects a target `name` can match: looked up when it has no regular-expression syntax,
/// else all of them.
fn candidates(
    count: usize,
    name: Option<&str>,
    by_name: &crate::hashing::Map<String, Vec<usize>>,
) -> Vec<usize> {
    match name.filter(|n| literal(n)) {
        Some(n) => by_name.get(n).cloned().unwrap_or_default(),
        None => (0..count).collect(),
    }
}

/// A patch target's `kind` or `name`: an anchored regular expression to kustomize. Most are
/// plain names, compared as text (a fleet's check compiled one per patch per Kustomization).
enum Pattern<'a> {
    Any,
    Exact(&'a str),
    Regex(regex::Regex),
}

impl<'a> Pattern<'a> {
    fn new(p: Option<&'a str>) -> Result<Self, regex::Error> {
        Ok(match p {
            None => Pattern::Any,
            Some(p) if literal(p) => Pattern::Exact(p),
            Some(p) => Pattern::Regex(regex::Regex::new(&format!("^(?:{p})$"))?),
        })
    }

    fn is_match(&self, s: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Exact(p) => *p == s,
            Pattern::Regex(r) => r.is_match(s),
        }
    }
}

/// Applies one entry of `patches`; `false` when it is outside the envelope. `by_name`: the
/// objects of each name (a target `name` without regular-expression syntax is looked up).
fn patch(
    objects: &mut [Object],
    entry: &Json,
    by_name: &crate::hashing::Map<String, Vec<usize>>,
) -> Result<bool, String> {
    let Some(map) = entry.as_object() else {
        return Ok(false);
    };
    if map.keys().any(|k| k != "patch" && k != "target") {
        return Ok(false);
    }
    let (Some(text), Some(target)) = (
        map.get("patch").and_then(Json::as_str),
        map.get("target").and_then(Json::as_object),
    ) else {
        return Ok(false);
    };
    let known = ["group", "version", "kind", "name", "namespace"];
    if target.keys().any(|k| !known.contains(&k.as_str())) {
        return Ok(false);
    }
    let source = Source::new("patch", text.to_owned());
    let Ok(doc) = yaml::parse(&source) else {
        return Ok(false);
    };
    let body = doc.to_json();
    let field = |k: &str| target.get(k).and_then(Json::as_str);
    let (Ok(kind), Ok(name)) = (Pattern::new(field("kind")), Pattern::new(field("name"))) else {
        return Ok(false);
    };
    for i in candidates(objects.len(), field("name"), by_name) {
        let o = &mut objects[i];
        let api = super::text(o.value(), &["apiVersion"]);
        let version = api.rsplit('/').next().unwrap_or("");
        let hit = field("group").is_none_or(|g| g == o.group())
            && field("version").is_none_or(|v| v == version)
            && field("namespace").is_none_or(|n| n == o.namespace())
            && kind.is_match(o.kind())
            && name.is_match(o.name());
        if !hit {
            continue;
        }
        let applied = match &body {
            Json::Array(ops) => o.edit(|v| json6902(v, ops))?,
            Json::Object(_)
                if !super::builtin_group(o.group())
                    && plain(&body)
                    && replaceable(&body, o.value()) =>
            {
                let mut merge = body.clone();
                // With a target, the patch's own name and namespace are not read.
                if let Some(meta) = merge.get_mut("metadata").and_then(Json::as_object_mut) {
                    meta.remove("name");
                    meta.remove("namespace");
                }
                if let Some(m) = merge.as_object_mut() {
                    m.remove("apiVersion");
                    m.remove("kind");
                }
                o.edit(|v| merge_patch(v, &merge));
                true
            }
            _ => false,
        };
        if !applied {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A strategic-merge document synctl can apply as a plain merge: no `$` directive, and no
/// list kustomize would merge by key (kyaml infers `name` as the key of a custom resource's
/// list of maps; any other list replaces the one it patches).
fn plain(v: &Json) -> bool {
    match v {
        Json::Array(items) => !keyed(items) && items.iter().all(plain),
        Json::Object(m) => m.iter().all(|(k, v)| !k.starts_with('$') && plain(v)),
        _ => true,
    }
}

/// Whether a list holds a map with a `name`: kyaml merges such lists element by element.
fn keyed(items: &[Json]) -> bool {
    items.iter().any(|i| i.get("name").is_some())
}

/// Whether every list `patch` sets replaces a list of `target` that is not merged by key.
fn replaceable(patch: &Json, target: &Json) -> bool {
    match (patch, target) {
        (Json::Object(p), Json::Object(t)) => p
            .iter()
            .all(|(k, v)| t.get(k).is_none_or(|tv| replaceable(v, tv))),
        (Json::Array(_), Json::Array(t)) => !keyed(t),
        _ => true,
    }
}

/// RFC 7386: maps merge, `null` removes, anything else replaces.
fn merge_patch(target: &mut Json, patch: &Json) {
    let Json::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Json::Object(serde_json::Map::new());
    }
    let Some(t) = target.as_object_mut() else {
        return;
    };
    for (k, v) in p {
        if v.is_null() {
            t.remove(k);
        } else {
            merge_patch(t.entry(k.clone()).or_insert(Json::Null), v);
        }
    }
}

/// JSON 6902 `add`, `replace` and `remove`; `false` for another operation.
fn json6902(doc: &mut Json, ops: &[Json]) -> Result<bool, String> {
    for op in ops {
        let (Some(kind), Some(path)) = (
            op.get("op").and_then(Json::as_str),
            op.get("path").and_then(Json::as_str),
        ) else {
            return Ok(false);
        };
        let value = op.get("value").cloned();
        let (parent, last) = match path.rsplit_once('/') {
            Some((p, l)) => (p, l.replace("~1", "/").replace("~0", "~")),
            None => return Ok(false),
        };
        let missing = || format!("patch: `{path}` does not exist");
        let Some(holder) = doc.pointer_mut(parent) else {
            return Err(missing());
        };
        match (kind, holder, value) {
            ("add" | "replace", Json::Object(m), Some(v)) => {
                if kind == "replace" && !m.contains_key(&last) {
                    return Err(missing());
                }
                m.insert(last, v);
            }
            ("remove", Json::Object(m), None) => {
                m.remove(&last).ok_or_else(missing)?;
            }
            ("add", Json::Array(a), Some(v)) if last == "-" => a.push(v),
            (_, Json::Array(a), v) => {
                let Ok(i) = last.parse::<usize>() else {
                    return Err(missing());
                };
                match (kind, v) {
                    ("add", Some(v)) if i <= a.len() => a.insert(i, v),
                    ("replace", Some(v)) if i < a.len() => a[i] = v,
                    ("remove", None) if i < a.len() => {
                        a.remove(i);
                    }
                    _ => return Err(missing()),
                }
            }
            _ => return Ok(false),
        }
    }
    Ok(true)
}
