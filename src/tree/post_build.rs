//! What kustomize-controller does to the objects after the build: `commonMetadata`, and
//! `postBuild` substitution (`substituteFrom` from the `ConfigMap`s and `Secret`s applied on
//! the Kustomization's cluster, then `substitute` over them; strict, as Flux 2.9 is).

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::Field as _;

use super::flux::Walk;
use super::{Finding, Object, text};
use crate::diag::{Code, Problem};

impl Walk<'_> {
    /// The variables of `substituteFrom`, in order, and whether a Secret it names is not in
    /// the tree (its variables are then unknown).
    fn substitute_from(
        &mut self,
        k: &Object,
        home: &str,
        post: &Json,
    ) -> (BTreeMap<String, String>, bool) {
        let mut vars = BTreeMap::new();
        let mut unknown = false;
        let from = post
            .get("substituteFrom")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        for s in &from {
            let kind = text(s, &["kind"]);
            let name = text(s, &["name"]);
            let optional = s.get("optional").and_then(Json::as_bool).unwrap_or(false);
            let found = self
                .lookup(home, kind, k.namespace(), name)
                .filter(|o| o.group().is_empty())
                .cloned();
            match found {
                Some(o) => data_of(o.value(), &mut vars),
                None if optional => {}
                None => {
                    let at = k.at_field(&["spec", "postBuild", "substituteFrom"]);
                    let message = format!(
                        "Kustomization {} substitutes from {kind} {}/{name}, which nothing applies on this cluster",
                        k.id(),
                        k.namespace()
                    );
                    // Teams create Secrets outside Git: the cluster may hold it, and its
                    // variables are then unknown here.
                    let problem = if kind == "Secret" {
                        unknown = true;
                        Problem::warning(Code::MissingRef, message)
                    } else {
                        Problem::error(Code::MissingRef, message)
                    };
                    self.plan.findings.push(Finding::new(
                        &at,
                        problem
                        .help("apply it before this Kustomization (it is read when the Kustomization reconciles), or mark it `optional: true`"),
                        "read from here",
                    ));
                }
            }
        }
        (vars, unknown)
    }

    /// `postBuild`: `substituteFrom` (`ConfigMap`s and `Secret`s on `home`, in order), then
    /// `substitute` over them; strict: a variable without a value is an error.
    pub(super) fn post_build(&mut self, k: &Object, home: &str, objects: &mut [Object]) {
        let Some(post) = k.value().field(&["spec", "postBuild"]) else {
            return;
        };
        let (mut vars, unknown) = self.substitute_from(k, home, post);
        if let Some(Json::Object(m)) = post.get("substitute") {
            for (key, v) in m {
                vars.insert(
                    key.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                );
            }
        }
        let vars = std::sync::Arc::new(vars);
        for o in objects.iter_mut() {
            if !o.mentions_variable() || disabled(o.value()) {
                continue;
            }
            let mut missing = Vec::new();
            o.substitute(&vars, &mut missing);
            missing.sort();
            missing.dedup();
            if !missing.is_empty() && !unknown {
                let list = missing
                    .iter()
                    .map(|m| format!("${{{m}}}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                self.plan.findings.push(Finding::new(
                    &o.at,
                    Problem::error(
                        Code::Substitution,
                        format!("{} holds {list}, which Kustomization {} does not define", o.id(), k.id()),
                    )
                    .help("define it in `postBuild.substitute` or a `substituteFrom` source, give it a default (`${VAR:=value}`), or escape it as `$${VAR}`; Flux fails strict substitution"),
                    "in this object",
                ));
            }
        }
    }
}

/// `commonMetadata`: labels and annotations set on every object.
pub(super) fn common_metadata(k: &Json, objects: &mut [Object]) {
    let Some(common) = k.field(&["spec", "commonMetadata"]) else {
        return;
    };
    for o in objects {
        for key in ["labels", "annotations"] {
            let Some(Json::Object(add)) = common.get(key) else {
                continue;
            };
            o.edit(|v| {
                let meta = &mut v["metadata"];
                if !meta[key].is_object() {
                    meta[key] = Json::Object(serde_json::Map::new());
                }
                if let Some(m) = meta[key].as_object_mut() {
                    for (k, v) in add {
                        m.insert(k.clone(), v.clone());
                    }
                }
            });
        }
    }
}

/// Whether an object opts out of substitution.
pub(super) fn disabled(o: &Json) -> bool {
    ["labels", "annotations"].iter().any(|k| {
        o.field(&["metadata", k, "kustomize.toolkit.fluxcd.io/substitute"])
            .and_then(Json::as_str)
            == Some("disabled")
    })
}

/// The data of a ConfigMap or Secret as variables (a Secret's `data` decoded).
pub(super) fn data_of(o: &Json, vars: &mut BTreeMap<String, String>) {
    for key in ["data", "stringData"] {
        let Some(Json::Object(m)) = o.get(key) else {
            continue;
        };
        let decode = key == "data" && text(o, &["kind"]) == "Secret";
        for (k, v) in m {
            let s = v.as_str().unwrap_or("");
            let value = if decode {
                base64(s).unwrap_or_default()
            } else {
                s.to_owned()
            };
            vars.insert(k.clone(), value);
        }
    }
}

/// A Secret's `data` value (standard base64) as text.
pub(super) fn base64(s: &str) -> Option<String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()?;
    String::from_utf8(bytes).ok()
}
