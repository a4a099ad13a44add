//! Rendering: the layout in, a list of `(path, content)` out. Pure — nothing here touches
//! the disk, and nothing here decides a name or a path (the layout did). Objects are rendered
//! by minijinja templates (compiled in, overridable with `--templates DIR`). Every value a
//! template interpolates goes through one formatter, [`yaml_out::scalar`], so no value can
//! become structure; nested values go through the `yaml` filter.

mod docs;
mod fast;
mod limits;
pub(crate) mod yaml_out;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use serde_json::Value as Json;

use crate::diag::{Code, Problem};
use crate::layout::{Content, Layout};
use limits::{
    Capped, MAX_FILE_BYTES, MAX_OBJECT_BYTES, MAX_TREE_BYTES, TEMPLATE_FUEL, located, too_large,
    tree_too_large,
};

/// The generated tree: path relative to the output root → file body (without header).
pub type Tree = BTreeMap<String, String>;

/// The built-in templates, by name.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "flux/kustomization.yaml.j2",
        include_str!("../../templates/flux/kustomization.yaml.j2"),
    ),
    (
        "flux/gitrepository.yaml.j2",
        include_str!("../../templates/flux/gitrepository.yaml.j2"),
    ),
    (
        "flux/helmrepository.yaml.j2",
        include_str!("../../templates/flux/helmrepository.yaml.j2"),
    ),
    (
        "flux/ocirepository.yaml.j2",
        include_str!("../../templates/flux/ocirepository.yaml.j2"),
    ),
    (
        "flux/helmrelease.yaml.j2",
        include_str!("../../templates/flux/helmrelease.yaml.j2"),
    ),
    (
        "k8s/namespace.yaml.j2",
        include_str!("../../templates/k8s/namespace.yaml.j2"),
    ),
    (
        "flux/fluxinstance.yaml.j2",
        include_str!("../../templates/flux/fluxinstance.yaml.j2"),
    ),
    (
        "k8s/rolebinding.yaml.j2",
        include_str!("../../templates/k8s/rolebinding.yaml.j2"),
    ),
    (
        "k8s/serviceaccount.yaml.j2",
        include_str!("../../templates/k8s/serviceaccount.yaml.j2"),
    ),
    (
        "k8s/tenant.yaml.j2",
        include_str!("../../templates/k8s/tenant.yaml.j2"),
    ),
    (
        "k8s/tenant-role.yaml.j2",
        include_str!("../../templates/k8s/tenant-role.yaml.j2"),
    ),
    (
        "argocd/application.yaml.j2",
        include_str!("../../templates/argocd/application.yaml.j2"),
    ),
    (
        "argocd/appproject.yaml.j2",
        include_str!("../../templates/argocd/appproject.yaml.j2"),
    ),
];

/// The template environment.
pub struct Renderer {
    env: Environment<'static>,
    /// Built-in templates that are written in Rust as well ([`fast`]) and not overridden.
    fast: Vec<&'static str>,
    /// The templates replaced by a file of `--templates`, with that file's path: what they
    /// write is read back and checked like synctl's own output.
    overridden: Vec<(&'static str, String)>,
    /// Set when a template ran out of fuel: the run fails, and no other template is run (a
    /// template rendered for each of thousands of objects would spend its fuel on each).
    out_of_fuel: std::sync::atomic::AtomicBool,
}

impl Renderer {
    /// The built-in templates, with any file of `overrides` replacing the one of that name.
    ///
    /// # Errors
    /// A template that does not parse (exit 2).
    pub fn new(overrides: Option<&Path>) -> Result<Renderer, String> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // YAML is not HTML: never escape behind the template's back.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        // Every `{{ value }}` is a YAML scalar: quoted when YAML would read it as something
        // else (`yes`, `1.0`, `a: b`). The filters below produce YAML and are marked safe.
        env.set_formatter(|out, state, value| {
            if value.is_safe() || value.as_str().is_none() {
                return minijinja::escape_formatter(out, state, value);
            }
            out.write_str(&yaml_out::scalar(value.as_str().unwrap_or_default()))?;
            Ok(())
        });
        // A template runs a bounded number of instructions (a template of `--templates` with
        // nested loops ran without end): far above what the built-in ones take for a tenant
        // of thousands of namespaces.
        env.set_fuel(Some(TEMPLATE_FUEL));
        env.add_filter("yaml", yaml_filter);
        env.add_filter("quote", |v: minijinja::Value| -> minijinja::Value {
            let s = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            minijinja::Value::from_safe_string(yaml_out::double_quoted(&s))
        });
        // A built-in template is compiled when first used (a small fleet uses few of them,
        // and the ones written in Rust as well are never compiled); an override is compiled
        // now, so that one that does not parse stops the run before anything is rendered.
        env.set_loader(|name| {
            Ok(TEMPLATES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, source)| *source))
        });
        let mut fast = Vec::new();
        let mut overridden = Vec::new();
        for (name, _) in TEMPLATES {
            match overrides.and_then(|d| template_file(d, name).transpose()) {
                Some(p) => {
                    let p = p?;
                    let source = crate::folders::read_plain(&p).ok_or_else(|| {
                        format!(
                            "cannot read template `{}`: not a regular file of at most 8 MiB",
                            p.display()
                        )
                    })?;
                    env.add_template_owned(*name, source)
                        .map_err(|e| format!("template `{name}`: {e}"))?;
                    overridden.push((*name, p.display().to_string()));
                }
                None => fast.extend(fast::TEMPLATES.iter().filter(|t| *t == name)),
            }
        }
        Ok(Renderer {
            env,
            fast,
            overridden,
            out_of_fuel: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Whether the built-in template `name` is in use and written in Rust as well.
    fn is_fast(&self, name: &str) -> bool {
        self.fast.contains(&name)
    }

    /// Renders template `name` with `ctx`; the result ends with exactly one newline.
    ///
    /// # Errors
    /// An `Internal` problem naming the template.
    pub(crate) fn object<S: Serialize>(&self, name: &str, ctx: &S) -> Result<String, Problem> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| Problem::error(Code::Internal, format!("template `{name}`: {e}")))?;
        let no_fuel = || {
            Problem::error(
                Code::Internal,
                format!("a template ran more than {TEMPLATE_FUEL} instructions for one object"),
            )
            .help("a template runs a bounded number of steps: check the loops of the templates passed with --templates")
        };
        if self.out_of_fuel.load(Ordering::Relaxed) {
            return Err(no_fuel());
        }
        let mut out = Capped::default();
        let done = tmpl.render_captured_to(
            minijinja::Value::from(minijinja::value::Serde(ctx)),
            &mut out,
        );
        if out.over {
            return Err(too_large("the file", out.bytes.len() + out.over_by, MAX_FILE_BYTES)
                .help(format!("template `{name}` wrote more than synctl writes into one file; a large value is copied into every object that uses it, or the template loops too long")));
        }
        if let Err(e) = done {
            if e.kind() == minijinja::ErrorKind::OutOfFuel {
                self.out_of_fuel.store(true, Ordering::Relaxed);
                return Err(no_fuel());
            }
            return Err(
                Problem::error(Code::Internal, format!("template `{name}` failed: {e}"))
                    .help("check the template passed with --templates"),
            );
        }
        let mut out = String::from_utf8(out.bytes).map_err(|_| {
            Problem::error(
                Code::Internal,
                format!("template `{name}` wrote bytes that are not UTF-8"),
            )
        })?;
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        out.push('\n');
        if let Some((_, file)) = self.overridden.iter().find(|(n, _)| *n == name) {
            check_override(name, file, &out)?;
        }
        Ok(out)
    }
}

/// What a template of `--templates` wrote, read back as synctl's own output would be: YAML,
/// one document (the tenant template writes several), each a Kubernetes object with a string
/// `apiVersion`, `kind` and `metadata.name`.
fn check_override(name: &str, file: &str, text: &str) -> Result<(), Problem> {
    let refuse = |what: String| {
        Problem::error(
            Code::Yaml,
            format!("template `{name}` (from --templates) wrote {what}"),
        )
        .in_file(file.to_owned())
        .help("fix the template: synctl writes what it renders only once it reads back as the object it stands for")
    };
    let docs = yaml_rust2::YamlLoader::load_from_str(text).map_err(|e| {
        let line = text
            .lines()
            .nth(e.marker().line().saturating_sub(1))
            .unwrap_or_default();
        refuse(format!(
            "text that is not YAML ({}, at line {} of what it rendered: {line:?})",
            e.info(),
            e.marker().line()
        ))
    })?;
    // The tenant template writes the objects of each of the tenant's namespaces.
    let wanted_one = name != "k8s/tenant.yaml.j2";
    if docs.is_empty() || (wanted_one && docs.len() != 1) {
        return Err(refuse(format!(
            "{} documents where one is expected",
            docs.len()
        )));
    }
    for doc in &docs {
        let named = doc["apiVersion"].as_str().is_some()
            && doc["kind"].as_str().is_some()
            && doc["metadata"]["name"].as_str().is_some();
        if !named {
            return Err(refuse(
                "a document that is no Kubernetes object (a string `apiVersion`, `kind` and `metadata.name`)".to_owned(),
            ));
        }
    }
    Ok(())
}

/// The override of template `name` in folder `dir`, if there is one: a plain file inside
/// `dir` — a link, or a file a linked folder leads outside `dir` to, is an error (synctl
/// reads nothing outside the repository through a link).
fn template_file(dir: &Path, name: &str) -> Result<Option<std::path::PathBuf>, String> {
    let p = dir.join(name);
    let Ok(meta) = std::fs::symlink_metadata(&p) else {
        return Ok(None);
    };
    if meta.file_type().is_symlink() || crate::folders::leads_outside(&p, dir).is_some() {
        return Err(format!(
            "template `{}` is a link or leads outside the templates folder: synctl reads templates only as plain files inside it",
            p.display()
        ));
    }
    Ok(meta.is_file().then_some(p))
}

/// `value | yaml(indent)`: the value as block YAML, every line indented.
fn yaml_filter(
    value: &minijinja::Value,
    indent: Option<usize>,
) -> Result<minijinja::Value, minijinja::Error> {
    let json: Json = serde_json::to_value(value).map_err(|e| {
        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
    })?;
    Ok(minijinja::Value::from_safe_string(to_yaml(
        &json,
        indent.unwrap_or(0),
    )))
}

/// Serializes `value` as block YAML indented by `indent` spaces (no trailing newline).
#[must_use]
pub(crate) fn to_yaml(value: &Json, indent: usize) -> String {
    let mut text = yaml_out::emit(value, indent);
    text.truncate(text.trim_end().len());
    text
}

/// A kustomize `kustomization.yaml`.
#[must_use]
pub(crate) fn kustomization(resources: &[String], patches: &[Json]) -> String {
    let size = resources.iter().map(|r| r.len() + 8).sum::<usize>();
    let mut out = String::with_capacity(HEADER_ROOM + 128 + size);
    // The conventional key order: apiVersion, kind, resources, patches.
    out.push_str("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n");
    yaml_out::strings_field("resources", resources, &mut out);
    if !patches.is_empty() {
        let patches = serde_json::json!({ "patches": patches });
        out.push_str(&to_yaml(&patches, 0));
        out.push('\n');
    }
    out
}

/// Renders every file of `layout`.
///
/// # Errors
/// Problems found while rendering (unresolved substitutions, template failures).
pub fn render(renderer: &Renderer, layout: &Layout) -> Result<Tree, Vec<Problem>> {
    render_each(renderer, layout, |_, text| text)
}

/// Renders every file of `layout` and hands each text, with its path, to `finish` on the
/// thread that rendered it: what `finish` keeps is all that outlives the file (a tree the disk
/// already holds need not be kept at all). Results in path order.
///
/// # Errors
/// As [`render`].
pub(crate) fn render_each<R: Send>(
    renderer: &Renderer,
    layout: &Layout,
    finish: impl Fn(&str, String) -> R + Sync,
) -> Result<BTreeMap<String, R>, Vec<Problem>> {
    let mut tree = BTreeMap::new();
    let mut problems = Vec::new();
    let total = AtomicUsize::new(0);
    // Files render independently, on every core; the tree is assembled in path order.
    let files: Vec<_> = layout.files.iter().collect();
    let done = crate::par::map(&files, |(path, file)| {
        let content = layout.content(path, file).ok_or_else(|| {
            vec![
                Problem::error(Code::Internal, "the layout no longer builds this file")
                    .in_file((*path).clone())
                    .help("this is a bug in synctl; please report it with the spec"),
            ]
        })?;
        let text = body(renderer, &content).map_err(|p| located(p, path))?;
        if text.len() > MAX_FILE_BYTES {
            return Err(vec![
                too_large("the file", text.len(), MAX_FILE_BYTES).in_file((*path).clone()),
            ]);
        }
        if total.fetch_add(text.len(), Ordering::Relaxed) + text.len() > MAX_TREE_BYTES {
            return Err(vec![tree_too_large()]);
        }
        // Nothing under `hub/` may contain `${…}`: the bootstrap Kustomization has no postBuild.
        if path.starts_with("hub/") && text.contains("${") {
            return Err(vec![
                Problem::error(
                    Code::Substitution,
                    "a `${…}` reached hub/, which Flux applies without substitution",
                )
                .in_file((*path).clone())
                .help("this is a bug in synctl; please report it with the spec"),
            ]);
        }
        Ok(finish(path, text))
    });
    for ((path, _), done) in files.into_iter().zip(done) {
        match done {
            Ok(done) => {
                tree.insert(path.clone(), done);
            }
            Err(mut p) => problems.append(&mut p),
        }
    }
    // Which files passed the tree's bound, or met a template out of fuel, first depends on
    // the threads: say each such problem once.
    let mut seen = std::collections::BTreeSet::new();
    problems.retain(|p| p.path.is_some() || seen.insert((p.code, p.message.clone())));
    if total.into_inner() > MAX_TREE_BYTES {
        problems.retain(|p| p.code != Code::Size || p.path.is_some());
        problems.push(tree_too_large());
    }
    if problems.iter().any(Problem::is_error) {
        return Err(problems);
    }
    Ok(tree)
}

/// Room left in front of a file's text for the header `output` puts there (two lines naming
/// the spec and the path): it goes in without copying the file again.
const HEADER_ROOM: usize = 256;

/// The text of one file.
fn body(r: &Renderer, content: &Content) -> Result<String, Vec<Problem>> {
    match content {
        Content::Kustomize { resources, patches } => {
            let patches: Vec<Json> = patches.iter().map(docs::patch).collect();
            Ok(kustomization(resources, &patches))
        }
        Content::Docs {
            comment,
            docs,
            empty,
        } => {
            let mut texts = Vec::new();
            let mut size = 0;
            for d in docs {
                for text in docs::render(r, d)? {
                    if text.len() > MAX_OBJECT_BYTES {
                        return Err(vec![too_large("an object", text.len(), MAX_OBJECT_BYTES)]);
                    }
                    size += text.len();
                    if size > MAX_FILE_BYTES {
                        return Err(vec![too_large("the file", size, MAX_FILE_BYTES)]);
                    }
                    texts.push(text);
                }
            }
            let comment = comment.as_deref().unwrap_or_default();
            let body = if texts.is_empty() {
                (*empty).unwrap_or_default()
            } else {
                ""
            };
            let size =
                comment.len() + body.len() + texts.iter().map(|t| t.len() + 4).sum::<usize>();
            let mut out = String::with_capacity(HEADER_ROOM + size);
            out.push_str(comment);
            out.push_str(body);
            for (i, text) in texts.iter().enumerate() {
                if i > 0 {
                    out.push_str("---\n");
                }
                out.push_str(text);
            }
            Ok(out)
        }
        // Built by `Layout::content` before it gets here.
        Content::Cluster { .. } => Err(vec![Problem::error(
            Code::Internal,
            "a fleet cluster's file reached the renderer unbuilt",
        )]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Built-in templates are compiled when first used: each of them must compile.
    #[test]
    fn every_builtin_template_compiles() {
        let r = Renderer::new(None).unwrap();
        for (name, _) in TEMPLATES {
            assert!(r.env.get_template(name).is_ok(), "{name}");
        }
        assert!(r.env.get_template("flux/nothing.yaml.j2").is_err());
    }

    #[test]
    fn templates_do_not_escape_yaml() {
        let r = Renderer::new(None).unwrap();
        let out = r
            .object(
                "k8s/namespace.yaml.j2",
                &serde_json::json!({"name": "a&b<c>", "labels": {}, "annotations": {}}),
            )
            .unwrap();
        assert_eq!(
            out,
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a&b<c>\n"
        );
    }

    #[test]
    fn system_namespaces_are_never_created_as_objects() {
        let spec = "apiVersion: synctl.dev/v1alpha1\nkind: Fleet\nmetadata: {name: t}\nspec:\n  repository: {url: https://x/y}\n  clusters: [{name: hub, role: hub}]\n  components:\n    - {name: metrics-server, wave: controllers, namespace: kube-system, chart: {repository: https://c, name: m}}\n    - {name: extra, wave: controllers, namespace: flux-system, chart: {repository: https://c, name: e}}\n    - {name: app, wave: controllers, chart: {repository: https://c, name: a}}\n";
        let checked = crate::pipeline::check_text("fleet.yaml", spec.to_owned(), None);
        assert!(!checked.has_errors(), "{:?}", checked.problems);
        let (fleet, graph) = checked.fleet.as_ref().unwrap();
        let layout = Layout::build(fleet, graph, &|_| Vec::new());
        let tree = render(&Renderer::new(None).unwrap(), &layout).unwrap();
        let ns = &tree["platform/controllers/namespaces.yaml"];
        assert!(
            ns.contains("name: app") && !ns.contains("kube-system") && !ns.contains("flux-system"),
            "{ns}"
        );
    }

    /// A kustomization as it was first written: every key through the JSON emitter.
    fn kustomization_reference(resources: &[String], patches: &[Json]) -> String {
        let mut doc = serde_json::json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": resources,
        });
        if !patches.is_empty() {
            doc["patches"] = Json::Array(patches.to_vec());
        }
        let mut out = String::new();
        for key in ["apiVersion", "kind", "resources", "patches"] {
            if let Some(v) = doc.get(key) {
                out.push_str(&to_yaml(&serde_json::json!({ key: v }), 0));
                out.push('\n');
            }
        }
        out
    }

    #[test]
    fn kustomizations_are_written_as_the_json_emitter_writes_them() {
        let awkward = [
            "../base",
            "yes",
            "a: b",
            "x\ny",
            "x\ny\n",
            " lead",
            "",
            "- a",
            "é",
            "#c",
            "1.0",
            "tab\tin",
            "\u{2028}",
            "trail \nx",
        ];
        let patch = serde_json::json!({"patch": "- op: add\n  path: /x\n", "target": {"kind": "HelmRelease"}});
        for n in 0..=awkward.len() {
            let resources: Vec<String> = awkward[..n].iter().map(|s| (*s).to_owned()).collect();
            for patches in [Vec::new(), vec![patch.clone()]] {
                assert_eq!(
                    kustomization(&resources, &patches),
                    kustomization_reference(&resources, &patches),
                    "{resources:?}"
                );
            }
        }
    }

    #[test]
    fn yaml_filter_quotes_what_yaml_would_misread() {
        let out = to_yaml(&serde_json::json!({"a": "yes", "b": "1.0", "c": "${X}"}), 2);
        assert_eq!(out, "  a: 'yes'\n  b: '1.0'\n  c: ${X}");
    }
}
