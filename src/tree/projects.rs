//! Argo CD's AppProjects enforced as Argo CD enforces them (`synctl::project`): an
//! Application's sources against `sourceRepos`, its destination and each namespaced object's
//! namespace against `destinations`, each object's kind against the resource allow and deny
//! lists (read from argo-cd `pkg/apis/application/v1alpha1`: `IsSourcePermitted`,
//! `isDestinationMatched`, `IsGroupKindPermitted`); and Argo CD's globs.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::Field as _;

use super::argocd::{GROUP, IN_CLUSTER_NAME, IN_CLUSTER_SERVER, sources};
use super::flux::{Applier, Plan};
use super::{At, Finding, Object, text};
use crate::diag::{Code, Problem};

/// Every Application against its AppProject: its sources, its destination, and each object's
/// kind and namespace (`synctl::project`); a project nothing applies (`synctl::missing-ref`;
/// Argo CD creates `default` itself).
pub(super) fn check(plan: &Plan, out: &mut Vec<Finding>) {
    let mut projects: HashMap<(&str, &str, &str), &Object> = HashMap::new();
    for a in &plan.appliers {
        for o in a.objects.iter().filter(|o| o.is(GROUP, "AppProject")) {
            projects
                .entry((a.target.as_str(), o.namespace(), o.name()))
                .or_insert(o);
        }
    }
    for a in &plan.appliers {
        let Some(app) = a.object.as_ref().filter(|o| o.is(GROUP, "Application")) else {
            continue;
        };
        let name = match text(app.value(), &["spec", "project"]) {
            "" => "default",
            n => n,
        };
        let Some(project) = projects.get(&(a.home.as_str(), app.namespace(), name)) else {
            if name != "default" {
                out.push(Finding::new(
                    &app.at_field(&["spec", "project"]),
                    Problem::error(
                        Code::MissingRef,
                        format!(
                            "{} belongs to project `{name}`, which nothing applies in namespace `{}` on cluster {}",
                            app.id(),
                            app.namespace(),
                            a.home
                        ),
                    )
                    .help("apply the AppProject with the Applications, or fix `spec.project`: Argo CD refuses an Application of an unknown project"),
                    "this project",
                ));
            }
            continue;
        };
        Judge { app, project }.all(a, out);
    }
}

/// One Application and its project.
struct Judge<'a> {
    app: &'a Object,
    project: &'a Object,
}

impl Judge<'_> {
    fn all(&self, a: &Applier, out: &mut Vec<Finding>) {
        let p = self.project.value();
        for (at, source) in sources(self.app.value()) {
            let url = text(source, &["repoURL"]);
            if !source_permitted(p, url) {
                let mut at: Vec<&str> = at.iter().map(String::as_str).collect();
                at.push("repoURL");
                self.deny(
                    &self.app.at_field(&at),
                    &format!("its source {url}"),
                    "`sourceRepos`",
                    out,
                );
            }
        }
        let dest = Dest::of(self.app);
        let ns = text(self.app.value(), &["spec", "destination", "namespace"]);
        if destination_permitted(p, &dest, ns) == Some(false) {
            let what = format!("its destination {} namespace `{ns}`", dest.shown());
            let at = self.app.at_field(&["spec", "destination"]);
            self.deny(&at, &what, "`destinations`", out);
        }
        for o in &a.objects {
            let namespaced = !super::known_cluster_scoped(o) && !o.namespace().is_empty();
            if !group_kind_permitted(p, o.group(), o.kind(), namespaced) {
                let list = if namespaced {
                    "namespace resource lists"
                } else {
                    "`clusterResourceWhitelist`"
                };
                self.deny(&o.at, &o.id().to_string(), list, out);
            } else if namespaced && destination_permitted(p, &dest, o.namespace()) == Some(false) {
                let what = format!("{} in namespace `{}`", o.id(), o.namespace());
                self.deny(&o.at, &what, "`destinations`", out);
            }
        }
    }

    fn deny(&self, at: &At, what: &str, list: &str, out: &mut Vec<Finding>) {
        out.push(Finding::new(
            at,
            Problem::error(
                Code::Project,
                format!(
                    "{}: project `{}` does not allow {what} (its {list})",
                    self.app.id(),
                    self.project.name()
                ),
            )
            .help(format!(
                "Argo CD refuses to sync it: change the Application, or allow it in AppProject {} ({}:{})",
                self.project.name(),
                self.project.at.file.name,
                self.project.at.file.line_col(self.project.at.span.offset).0
            )),
            "not allowed by its project",
        ));
    }
}

/// An Application's destination cluster, by name and server (`in-cluster` known by both).
struct Dest {
    name: String,
    server: String,
}

impl Dest {
    fn of(app: &Object) -> Dest {
        let mut name = text(app.value(), &["spec", "destination", "name"]).to_owned();
        let mut server = text(app.value(), &["spec", "destination", "server"]).to_owned();
        if name == IN_CLUSTER_NAME && server.is_empty() {
            IN_CLUSTER_SERVER.clone_into(&mut server);
        } else if server == IN_CLUSTER_SERVER && name.is_empty() {
            IN_CLUSTER_NAME.clone_into(&mut name);
        }
        Dest { name, server }
    }

    fn shown(&self) -> String {
        if self.name.is_empty() {
            self.server.clone()
        } else {
            format!("cluster `{}`", self.name)
        }
    }
}

/// Argo CD's `IsSourcePermitted`: a `sourceRepos` pattern matches (`*` stops at `/`), and no
/// `!pattern` excludes it.
fn source_permitted(project: &Json, url: &str) -> bool {
    let url = normalize(url);
    let mut any = false;
    for pattern in strings(project, "sourceRepos") {
        let (deny, p) = pattern
            .strip_prefix('!')
            .map_or((false, pattern), |p| (true, p));
        let p = normalize(p);
        let matched = if deny {
            !glob(&p, &url, Some('/'))
        } else {
            p == "*" || glob(&p, &url, Some('/'))
        };
        if matched {
            any = true;
        } else if deny {
            return false;
        }
    }
    any
}

/// A Git URL as Argo CD compares them: lower case, without a trailing `.git` or `/`.
fn normalize(url: &str) -> String {
    url.trim()
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .to_lowercase()
}

fn strings<'a>(v: &'a Json, key: &str) -> Vec<&'a str> {
    v.field(&["spec", key])
        .and_then(Json::as_array)
        .map(|l| l.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default()
}

/// Argo CD's `isDestinationMatched`; `None` when the project names servers and the
/// Application a cluster name (Argo CD looks the server up in its cluster Secrets).
fn destination_permitted(project: &Json, dest: &Dest, ns: &str) -> Option<bool> {
    let items = project
        .field(&["spec", "destinations"])
        .and_then(Json::as_array)
        .map_or(&[][..], Vec::as_slice);
    let (mut any, mut denied, mut unknown) = (false, false, false);
    for item in items {
        let (name, server) = (text(item, &["name"]), text(item, &["server"]));
        let name_m = !dest.name.is_empty() && glob_allow(name, &dest.name, None);
        let server_m = !dest.server.is_empty() && glob_allow(server, &dest.server, None);
        let ns_m = glob_allow(text(item, &["namespace"]), ns, None);
        let deny = |p: &str, m: bool| !m && p.starts_with('!');
        if (server_m || name_m) && ns_m {
            any = true;
        } else if deny(name, name_m)
            || deny(server, server_m)
            || deny(text(item, &["namespace"]), ns_m)
        {
            denied = true;
        } else if ns_m && dest.server.is_empty() && name.is_empty() && !server.is_empty() {
            unknown = true;
        }
    }
    if denied {
        Some(false)
    } else if any {
        Some(true)
    } else if unknown {
        None
    } else {
        Some(false)
    }
}

/// Argo CD's `IsGroupKindPermitted`: namespaced kinds pass unless a whitelist (an empty one
/// allows nothing) leaves them out or the blacklist names them; cluster-scoped kinds need the
/// cluster whitelist.
fn group_kind_permitted(project: &Json, group: &str, kind: &str, namespaced: bool) -> bool {
    let list = |key: &str| project.field(&["spec", key]).and_then(Json::as_array);
    let listed = |l: Option<&Vec<Json>>| {
        l.is_some_and(|l| {
            l.iter().any(|gk| {
                glob(text(gk, &["kind"]), kind, Some('/'))
                    && glob(text(gk, &["group"]), group, Some('/'))
            })
        })
    };
    let (white, black) = if namespaced {
        let white = list("namespaceResourceWhitelist");
        (
            white.is_none() || listed(white),
            list("namespaceResourceBlacklist"),
        )
    } else {
        (
            listed(list("clusterResourceWhitelist")),
            list("clusterResourceBlacklist"),
        )
    };
    white && !listed(black)
}

/// Whether `text` matches the glob `pattern` (`*`, `**`, `?`, `{a,b}`; `*` stops at `sep`).
pub(super) fn glob(pattern: &str, text: &str, sep: Option<char>) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let mut memo = HashMap::new();
    matches(&p, &t, sep, &mut memo)
}

fn matches(
    p: &[char],
    t: &[char],
    sep: Option<char>,
    memo: &mut HashMap<(usize, usize), bool>,
) -> bool {
    let key = (p.len(), t.len());
    if let Some(&m) = memo.get(&key) {
        return m;
    }
    let m = match p.first() {
        None => t.is_empty(),
        Some('*') => {
            let deep = p.get(1) == Some(&'*');
            let rest = if deep { &p[2..] } else { &p[1..] };
            (0..=t.len())
                .take_while(|&i| deep || i == 0 || Some(t[i - 1]) != sep)
                .any(|i| matches(rest, &t[i..], sep, memo))
        }
        Some('?') => {
            t.first().is_some_and(|&c| Some(c) != sep) && matches(&p[1..], &t[1..], sep, memo)
        }
        Some('{') => match p.iter().position(|&c| c == '}') {
            Some(close) => {
                let rest = &p[close + 1..];
                p[1..close].split(|&c| c == ',').any(|alt| {
                    let mut q = alt.to_vec();
                    q.extend_from_slice(rest);
                    matches(&q, t, sep, &mut HashMap::new())
                })
            }
            None => t.first() == Some(&'{') && matches(&p[1..], &t[1..], sep, memo),
        },
        Some(&c) => t.first() == Some(&c) && matches(&p[1..], &t[1..], sep, memo),
    };
    memo.insert(key, m);
    m
}

/// Argo CD's glob with negation (`!pattern` matches what `pattern` does not).
fn glob_allow(pattern: &str, text: &str, sep: Option<char>) -> bool {
    match pattern.strip_prefix('!') {
        Some(p) => !glob(p, text, sep),
        None => pattern == "*" || glob(pattern, text, sep),
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs_match_as_argo_cd_matches_them() {
        assert!(glob("*", "https://github.com/acme/x", None));
        assert!(!glob(
            "https://github.com/*",
            "https://github.com/acme/x",
            Some('/')
        ));
        assert!(glob(
            "https://github.com/**",
            "https://github.com/acme/x",
            Some('/')
        ));
        assert!(glob(
            "https://github.com/acme/*",
            "https://github.com/acme/x",
            Some('/')
        ));
        assert!(glob("{a,b}.yaml", "b.yaml", None));
        assert!(!glob("{a,b}.yaml", "c.yaml", None));
        assert!(glob("shop-?", "shop-1", None));
        assert!(!glob("shop", "shop-1", None));
    }
}
