//! One object as it reaches a cluster, cheap to hold a thousand times: the body a folder's
//! file gave is shared by every cluster and Kustomization that applies it; what differs per
//! cluster — the namespace `targetNamespace` gives, the variables `postBuild` substitutes — is
//! kept beside it and written in only when the whole object is read ([`Object::value`]) or
//! changed ([`Object::edit`]). The proofs read what they need field by field
//! ([`Object::field`]), substituted on the way, so a thousand clusters' HelmReleases are not a
//! thousand copies of their values.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use serde_json::Value as Json;

use super::{At, Id};
use crate::source::Span;
use crate::spec::yaml::Node;
use crate::subst;

/// `postBuild` variables, shared by every object of one Kustomization.
pub(crate) type Vars = BTreeMap<String, String>;

/// One object as it reaches a cluster.
#[derive(Clone, Debug)]
pub(crate) struct Object {
    /// The object after patches and edits; shared between the clusters and Kustomizations
    /// that apply it unchanged (copied on write, through [`Object::edit`]).
    body: Arc<Body>,
    /// The namespace a transformation (`targetNamespace`, an Application's destination) gave
    /// it, not yet written into `body`.
    namespace: Option<Arc<str>>,
    /// The variables substituted into it, not yet written into `body` (its identity holds
    /// none: an object whose kind, name or namespace mentions one is substituted at once).
    vars: Option<Arc<Vars>>,
    /// `body` with `vars` substituted, made on the first whole read.
    substituted: OnceLock<Arc<Json>>,
    /// The document it was read from; `node` is its YAML as written (`None` when an external
    /// kustomize built it, and `at` is then the folder's kustomization file).
    pub(crate) at: At,
    pub(crate) node: Option<Arc<Node>>,
}

/// An object's value and what the proofs ask of it on every cluster, read once.
#[derive(Debug)]
struct Body {
    value: Json,
    api_version: String,
    group: String,
    kind: String,
    namespace: String,
    name: String,
    /// Whether a string of it holds `${`, once asked.
    mentions_variable: OnceLock<bool>,
    /// The variables it needs ([`subst::required_in`]), once asked.
    required: OnceLock<Vec<String>>,
}

impl Body {
    fn new(value: Json) -> Body {
        let api = text(&value, &["apiVersion"]);
        Body {
            api_version: api.to_owned(),
            group: api.rsplit_once('/').map_or("", |(g, _)| g).to_owned(),
            kind: text(&value, &["kind"]).to_owned(),
            namespace: text(&value, &["metadata", "namespace"]).to_owned(),
            name: text(&value, &["metadata", "name"]).to_owned(),
            mentions_variable: OnceLock::new(),
            required: OnceLock::new(),
            value,
        }
    }

    /// Whether its identity (API version, kind, namespace, name) mentions a variable.
    fn identity_mentions_variable(&self) -> bool {
        [&self.api_version, &self.kind, &self.namespace, &self.name]
            .into_iter()
            .any(|s| subst::mentions_variable(s))
    }
}

/// Whether any string of `v` (keys included) holds `${`.
fn mentions_variable(v: &Json) -> bool {
    match v {
        Json::String(s) => subst::mentions_variable(s),
        Json::Array(items) => items.iter().any(mentions_variable),
        Json::Object(m) => m
            .iter()
            .any(|(k, v)| subst::mentions_variable(k) || mentions_variable(v)),
        _ => false,
    }
}

/// A field of an object by its keys (`serde_json`'s `pointer` copies every key it reads).
pub(crate) trait Field {
    fn field(&self, path: &[&str]) -> Option<&Json>;
}

impl Field for Json {
    fn field(&self, path: &[&str]) -> Option<&Json> {
        path.iter().try_fold(self, |v, key| v.get(key))
    }
}

/// The text at `path` in `value`, or "".
pub(crate) fn text<'a>(value: &'a Json, path: &[&str]) -> &'a str {
    value.field(path).and_then(Json::as_str).unwrap_or("")
}

/// `value` with `vars` substituted.
fn substituted(value: &Json, vars: &Vars) -> Json {
    let mut v = value.clone();
    subst::substitute_value(&mut v, vars, &mut Vec::new());
    v
}

impl Object {
    pub(crate) fn new(value: Json, at: At, node: Option<Arc<Node>>) -> Object {
        Object {
            body: Arc::new(Body::new(value)),
            namespace: None,
            vars: None,
            substituted: OnceLock::new(),
            at,
            node,
        }
    }

    /// The object as transformed, but for a namespace given by [`Object::set_namespace`]: read
    /// its namespace with [`Object::namespace`], the whole object with [`Object::full`]. A
    /// substituted object is written out once, here; [`Object::field`] reads one field
    /// without that copy.
    pub(crate) fn value(&self) -> &Json {
        match &self.vars {
            None => &self.body.value,
            Some(vars) => self
                .substituted
                .get_or_init(|| Arc::new(substituted(&self.body.value, vars))),
        }
    }

    /// The field at `path` as it reaches the cluster (not `metadata.namespace`: see
    /// [`Object::namespace`]); substituted, without copying the rest of the object.
    pub(crate) fn field(&self, path: &[&str]) -> Option<Cow<'_, Json>> {
        match (&self.vars, self.substituted.get()) {
            (Some(vars), None) => {
                let raw = self.body.value.field(path)?;
                Some(if mentions_variable(raw) {
                    Cow::Owned(substituted(raw, vars))
                } else {
                    Cow::Borrowed(raw)
                })
            }
            _ => self.value().field(path).map(Cow::Borrowed),
        }
    }

    /// The text at `path` as it reaches the cluster, or "" ([`Object::field`]).
    pub(crate) fn text(&self, path: &[&str]) -> Cow<'_, str> {
        match self.field(path) {
            Some(Cow::Borrowed(v)) => Cow::Borrowed(v.as_str().unwrap_or("")),
            Some(Cow::Owned(Json::String(s))) => Cow::Owned(s),
            _ => Cow::Borrowed(""),
        }
    }

    /// The whole object as it reaches the cluster.
    pub(crate) fn full(&self) -> Cow<'_, Json> {
        match &self.namespace {
            None => Cow::Borrowed(self.value()),
            Some(ns) => {
                let mut v = self.value().clone();
                v["metadata"]["namespace"] = Json::String(ns.to_string());
                Cow::Owned(v)
            }
        }
    }

    /// Changes the object with `f` (its own copy from here on).
    pub(crate) fn edit<R>(&mut self, f: impl FnOnce(&mut Json) -> R) -> R {
        let mut value = match (self.vars.take(), self.substituted.take()) {
            (Some(_), Some(done)) => Arc::unwrap_or_clone(done),
            (Some(vars), None) => substituted(&self.body.value, &vars),
            // Its own body is taken, a shared one copied.
            (None, _) => match Arc::get_mut(&mut self.body) {
                Some(own) => std::mem::take(&mut own.value),
                None => self.body.value.clone(),
            },
        };
        if let Some(ns) = self.namespace.take() {
            value["metadata"]["namespace"] = Json::String(ns.to_string());
        }
        let out = f(&mut value);
        self.body = Arc::new(Body::new(value));
        out
    }

    /// Puts the object in namespace `ns`, without copying it.
    pub(crate) fn set_namespace(&mut self, ns: &Arc<str>) {
        self.namespace = (*self.body.namespace != **ns).then(|| Arc::clone(ns));
    }

    /// Whether a string of it holds `${` (a namespace given included).
    pub(crate) fn mentions_variable(&self) -> bool {
        let body = match &self.vars {
            None => *self
                .body
                .mentions_variable
                .get_or_init(|| mentions_variable(&self.body.value)),
            Some(_) => mentions_variable(self.value()),
        };
        body || self
            .namespace
            .as_deref()
            .is_some_and(subst::mentions_variable)
    }

    /// Substitutes `vars` (Flux's `postBuild`), pushing the variables that resolve to nothing
    /// onto `missing`. Only an object whose identity mentions a variable is copied here; the
    /// rest keep their shared body and the variables beside it.
    pub(crate) fn substitute(&mut self, vars: &Arc<Vars>, missing: &mut Vec<String>) {
        let pending = self.vars.is_some();
        let identity = self.body.identity_mentions_variable()
            || self
                .namespace
                .as_deref()
                .is_some_and(subst::mentions_variable);
        if pending || identity {
            self.edit(|v| subst::substitute_value(v, vars, missing));
        } else {
            let required = self.body.required.get_or_init(|| {
                let mut out = Vec::new();
                subst::required_in(&self.body.value, &mut out);
                out
            });
            missing.extend(required.iter().filter(|n| !vars.contains_key(*n)).cloned());
            self.vars = Some(Arc::clone(vars));
            self.substituted = OnceLock::new();
        }
    }

    pub(crate) fn kind(&self) -> &str {
        &self.body.kind
    }

    pub(crate) fn api_version(&self) -> &str {
        &self.body.api_version
    }

    /// The API group (`""` for the core group).
    pub(crate) fn group(&self) -> &str {
        &self.body.group
    }

    pub(crate) fn name(&self) -> &str {
        &self.body.name
    }

    pub(crate) fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or(&self.body.namespace)
    }

    pub(crate) fn id(&self) -> Id {
        Id {
            group: self.group().to_owned(),
            kind: self.kind().to_owned(),
            namespace: self.namespace().to_owned(),
            name: self.name().to_owned(),
        }
    }

    /// Whether this is a `kind` of the Flux API `group` prefix (e.g. `kustomize.toolkit`).
    pub(crate) fn is(&self, group: &str, kind: &str) -> bool {
        self.kind() == kind && self.group() == group
    }

    /// What `spec.dependsOn` names, in order: objects of this kind and group, in this
    /// object's namespace unless an entry says another.
    pub(crate) fn depends_on(&self) -> Vec<Id> {
        let deps = self.field(&["spec", "dependsOn"]);
        let Some(Json::Array(deps)) = deps.as_deref() else {
            return Vec::new();
        };
        deps.iter()
            .map(|d| Id {
                group: self.group().to_owned(),
                kind: self.kind().to_owned(),
                namespace: match text(d, &["namespace"]) {
                    "" => self.namespace(),
                    ns => ns,
                }
                .to_owned(),
                name: text(d, &["name"]).to_owned(),
            })
            .collect()
    }

    /// Where `path` was written in the document, else the document itself.
    pub(crate) fn span_of(&self, path: &[&str]) -> Span {
        self.node
            .as_ref()
            .and_then(|n| n.at(path.iter().copied()))
            .map_or(self.at.span, |n| n.span)
    }

    /// `at`, moved to `path` of the document.
    pub(crate) fn at_field(&self, path: &[&str]) -> At {
        At {
            file: Arc::clone(&self.at.file),
            span: self.span_of(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::source::Source;

    fn object(value: Json) -> Object {
        let at = At {
            file: Arc::new(Source::new("a.yaml", String::new())),
            span: Span::new(0, 0),
        };
        Object::new(value, at, None)
    }

    fn vars(pairs: &[(&str, &str)]) -> Arc<Vars> {
        Arc::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    fn release() -> Object {
        object(json!({
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "metadata": {"name": "web", "namespace": "flux-system"},
            "spec": {
                "kubeConfig": {"secretRef": {"name": "${SECRET}"}},
                "values": {"host": "web.${DOMAIN}", "port": 80, "tag": "${TAG:=1.0}"}
            }
        }))
    }

    #[test]
    fn a_substituted_object_reads_substituted_field_by_field_and_whole() {
        let shared = release();
        let mut a = shared.clone();
        let mut b = shared.clone();
        let ns: Arc<str> = Arc::from("c1");
        a.set_namespace(&ns);
        let mut missing = Vec::new();
        a.substitute(
            &vars(&[("SECRET", "c1-kc"), ("DOMAIN", "c1.example.com")]),
            &mut missing,
        );
        b.substitute(&vars(&[("SECRET", "c2-kc")]), &mut missing);
        assert_eq!(
            missing,
            ["DOMAIN"],
            "only b lacks DOMAIN; TAG has a default"
        );
        assert_eq!(
            a.text(&["spec", "kubeConfig", "secretRef", "name"]),
            "c1-kc"
        );
        assert_eq!(
            b.text(&["spec", "kubeConfig", "secretRef", "name"]),
            "c2-kc"
        );
        assert_eq!(a.namespace(), "c1");
        assert_eq!(b.namespace(), "flux-system");
        let whole = a.full();
        assert_eq!(whole["metadata"]["namespace"], "c1");
        assert_eq!(whole["spec"]["values"]["host"], "web.c1.example.com");
        assert_eq!(whole["spec"]["values"]["tag"], "1.0");
        assert_eq!(whole["spec"]["values"]["port"], 80);
        assert_eq!(b.value()["spec"]["values"]["host"], "web.${DOMAIN}");
        // The body the three share is untouched.
        assert_eq!(
            shared.text(&["spec", "kubeConfig", "secretRef", "name"]),
            "${SECRET}"
        );
    }

    #[test]
    fn an_edit_after_substitution_keeps_it_and_the_namespace() {
        let mut a = release();
        a.set_namespace(&Arc::from("c1"));
        a.substitute(&vars(&[("SECRET", "s"), ("DOMAIN", "d")]), &mut Vec::new());
        a.edit(|v| v["spec"]["suspend"] = json!(true));
        assert_eq!(a.value()["spec"]["values"]["host"], "web.d");
        assert_eq!(a.value()["metadata"]["namespace"], "c1");
        assert_eq!(a.value()["spec"]["suspend"], true);
        // A second substitution sees the first one's result.
        a.substitute(&vars(&[]), &mut Vec::new());
        assert_eq!(a.text(&["spec", "kubeConfig", "secretRef", "name"]), "s");
    }

    #[test]
    fn a_variable_in_the_identity_is_substituted_at_once() {
        let mut a = object(json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "${CLUSTER}-settings", "namespace": "${NS}"}
        }));
        let mut missing = Vec::new();
        a.substitute(&vars(&[("CLUSTER", "eu-1")]), &mut missing);
        assert_eq!(a.name(), "eu-1-settings");
        assert_eq!(a.namespace(), "${NS}");
        assert_eq!(missing, ["NS"]);
        let mut b = object(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x"}}));
        b.set_namespace(&Arc::from("${NS}"));
        b.substitute(&vars(&[("NS", "apps")]), &mut Vec::new());
        assert_eq!(b.namespace(), "apps");
    }
}
