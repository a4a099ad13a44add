//! Problems found in a fleet spec or its tree, and how they are shown: miette's graphical
//! report for people, JSON for tools, and GitHub Actions annotations in CI.

use std::fmt;

use serde::Serialize;

use crate::source::Span;

mod render;
pub(crate) use render::{render_github, render_human, render_json, render_sarif};

/// The stable code of every kind of problem (the design's validation table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Code {
    Schema,
    Yaml,
    Name,
    Duplicate,
    UnknownRef,
    Cycle,
    WaveOrder,
    Placement,
    Hub,
    Reserved,
    Secret,
    Substitution,
    ArgocdHealth,
    Repository,
    Lockdown,
    Size,
    Build,
    DependsOn,
    MissingRef,
    CrdOrder,
    NamespaceOrder,
    Conflict,
    Project,
    ApiVersion,
    Shard,
    Drift,
    HandEdit,
    UserFile,
    Io,
    Git,
    Internal,
}

impl Code {
    /// Every code, in the order of the design's table (`docs/spec.md` lists each; tested).
    pub const ALL: &[Code] = &[
        Code::Schema,
        Code::Yaml,
        Code::Name,
        Code::Duplicate,
        Code::UnknownRef,
        Code::Cycle,
        Code::WaveOrder,
        Code::Placement,
        Code::Hub,
        Code::Reserved,
        Code::Secret,
        Code::Substitution,
        Code::ArgocdHealth,
        Code::Repository,
        Code::Lockdown,
        Code::Size,
        Code::Build,
        Code::DependsOn,
        Code::MissingRef,
        Code::CrdOrder,
        Code::NamespaceOrder,
        Code::Conflict,
        Code::Project,
        Code::ApiVersion,
        Code::Shard,
        Code::Drift,
        Code::HandEdit,
        Code::UserFile,
        Code::Io,
        Code::Git,
        Code::Internal,
    ];

    /// The code as printed, e.g. `synctl::unknown-ref`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Schema => "synctl::schema",
            Code::Yaml => "synctl::yaml",
            Code::Name => "synctl::name",
            Code::Duplicate => "synctl::duplicate",
            Code::UnknownRef => "synctl::unknown-ref",
            Code::Cycle => "synctl::cycle",
            Code::WaveOrder => "synctl::wave-order",
            Code::Placement => "synctl::placement",
            Code::Hub => "synctl::hub",
            Code::Reserved => "synctl::reserved",
            Code::Secret => "synctl::secret",
            Code::Substitution => "synctl::substitution",
            Code::ArgocdHealth => "synctl::argocd-health",
            Code::Repository => "synctl::repository",
            Code::Lockdown => "synctl::lockdown",
            Code::Size => "synctl::size",
            Code::Build => "synctl::build",
            Code::DependsOn => "synctl::depends-on",
            Code::MissingRef => "synctl::missing-ref",
            Code::CrdOrder => "synctl::crd-order",
            Code::NamespaceOrder => "synctl::namespace-order",
            Code::Conflict => "synctl::conflict",
            Code::Project => "synctl::project",
            Code::ApiVersion => "synctl::api-version",
            Code::Shard => "synctl::shard",
            Code::Drift => "synctl::drift",
            Code::HandEdit => "synctl::hand-edit",
            Code::UserFile => "synctl::user-file",
            Code::Io => "synctl::io",
            Code::Git => "synctl::git",
            Code::Internal => "synctl::internal",
        }
    }
}

/// The Diagnostics section of `docs/spec.md`: the one description of every code (SARIF's rule
/// metadata is read from it).
const SPEC_DOC: &str = include_str!("../../docs/spec.md");

/// Where the table is published.
pub(crate) const CODES_URI: &str =
    "https://github.com/synctl/synctl/blob/main/docs/spec.md#diagnostics";

impl Code {
    /// The rule's name: the code in `PascalCase` (`UnknownRef`).
    #[must_use]
    pub(crate) fn rule_name(self) -> String {
        let bare = self.as_str().trim_start_matches("synctl::");
        bare.split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
            })
            .collect()
    }

    /// What the code means: its row of the Diagnostics table of `docs/spec.md` (markdown).
    #[must_use]
    pub(crate) fn description(self) -> &'static str {
        let table = SPEC_DOC
            .split("\n## Diagnostics\n")
            .nth(1)
            .and_then(|t| t.split("\n## ").next())
            .unwrap_or_default();
        let quoted = format!("`{}`", self.as_str());
        table
            .lines()
            .filter_map(|l| l.strip_prefix("| "))
            .filter_map(|l| l.split_once(" | "))
            .find(|(codes, _)| codes.split(", ").any(|c| c == quoted))
            .map_or("", |(_, what)| what.trim_end_matches(" |").trim())
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a problem fails the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    Error,
    Warning,
}

/// A span of the spec with a short text, as shown under the YAML.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Label {
    pub(crate) span: Span,
    pub(crate) text: String,
}

impl Label {
    /// A label on `span` saying `text`.
    pub(crate) fn new(span: Span, text: impl Into<String>) -> Label {
        Label {
            span,
            text: text.into(),
        }
    }
}

/// One problem: what, where, and how to fix it.
#[derive(Clone, Debug)]
pub struct Problem {
    pub code: Code,
    pub(crate) severity: Severity,
    pub(crate) message: String,
    /// The spec span at fault (absent for problems about the tree on disk).
    pub(crate) primary: Option<Label>,
    pub(crate) secondary: Vec<Label>,
    pub(crate) help: Option<String>,
    /// A generated file the problem is about (drift, hand edits), relative to the output root.
    pub(crate) path: Option<String>,
}

impl Problem {
    /// An error with `code` and `message`.
    pub(crate) fn error(code: Code, message: impl Into<String>) -> Problem {
        Problem {
            code,
            severity: Severity::Error,
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            help: None,
            path: None,
        }
    }

    /// A warning with `code` and `message`.
    pub(crate) fn warning(code: Code, message: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(code, message)
        }
    }

    /// Points the problem at `span` with the label `text`.
    #[must_use]
    pub(crate) fn at(mut self, span: Span, text: impl Into<String>) -> Problem {
        self.primary = Some(Label::new(span, text));
        self
    }

    /// Adds a secondary label.
    #[must_use]
    pub(crate) fn also(mut self, span: Span, text: impl Into<String>) -> Problem {
        // An empty span stands for something not written in the spec (a default).
        if span.len > 0 {
            self.secondary.push(Label::new(span, text));
        }
        self
    }

    /// Says how to fix it.
    #[must_use]
    pub(crate) fn help(mut self, help: impl Into<String>) -> Problem {
        self.help = Some(help.into());
        self
    }

    /// Names the generated file the problem is about.
    #[must_use]
    pub(crate) fn in_file(mut self, path: impl Into<String>) -> Problem {
        self.path = Some(path.into());
        self
    }

    /// Where the problem sorts: by position in the spec, then code, then message.
    fn sort_key(&self) -> (usize, Option<&str>, Code, &str) {
        let offset = self.primary.as_ref().map_or(usize::MAX, |l| l.span.offset);
        (offset, self.path.as_deref(), self.code, &self.message)
    }

    /// Whether this problem fails the run.
    #[must_use]
    pub(crate) fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts problems by position and removes exact repeats.
pub(crate) fn sort(problems: &mut Vec<Problem>) {
    problems.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    problems.dedup_by(|a, b| {
        a.code == b.code && a.message == b.message && a.primary == b.primary && a.path == b.path
    });
}

/// How problems are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// For people (the name every command uses; `human`, its old name, still works).
    #[value(name = "text", alias = "human")]
    Human,
    Json,
    /// SARIF 2.1.0, for code-scanning uploads.
    Sarif,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Source;

    fn source(text: &str) -> Source {
        Source::new("fleet.yaml", text.to_owned())
    }

    /// SARIF's rules are described from docs/spec.md: every code has its row there.
    #[test]
    fn every_code_is_described_and_named() {
        for code in Code::ALL {
            assert!(
                code.description().len() > 10,
                "{code}: {:?}",
                code.description()
            );
            assert!(!code.description().contains(" | "), "{code}");
        }
        assert_eq!(Code::UnknownRef.rule_name(), "UnknownRef");
        assert_eq!(Code::Io.rule_name(), "Io");
        assert!(Code::HandEdit.description().contains("edited"));
        assert!(Code::Cycle.description().starts_with("a dependency cycle"));
    }

    #[test]
    fn problems_sort_by_position_then_code() {
        let mut problems = vec![
            Problem::error(Code::Name, "b").at(Span::new(10, 1), "x"),
            Problem::error(Code::Cycle, "a").at(Span::new(2, 1), "x"),
            Problem::error(Code::Drift, "no span"),
        ];
        sort(&mut problems);
        let order: Vec<_> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(order, ["a", "b", "no span"]);
    }

    #[test]
    fn human_report_shows_code_snippet_and_help() {
        let src = source("spec:\n  name: Bad_Name\n");
        let p = Problem::error(Code::Name, "`Bad_Name` is not a DNS-1123 label")
            .at(Span::new(14, 8), "here")
            .help("use lowercase letters");
        let out = render_human(&src, &[p], false);
        assert!(out.contains("synctl::name"), "{out}");
        assert!(out.contains("fleet.yaml:2:9"), "{out}");
        assert!(out.contains("name: Bad_Name"), "{out}");
        assert!(out.contains("help: use lowercase letters"), "{out}");
    }

    #[test]
    fn json_report_has_one_based_positions() {
        let src = source("a: 1\nbb: 2\n");
        let p = Problem::error(Code::Schema, "bad").at(Span::new(5, 2), "here");
        let v: serde_json::Value = serde_json::from_str(&render_json(&src, &[p])).unwrap();
        assert_eq!(v[0]["line"], 2);
        assert_eq!(v[0]["column"], 1);
        assert_eq!(v[0]["code"], "synctl::schema");
    }

    #[test]
    fn github_annotations_escape_newlines_and_commas() {
        let src = source("a: 1\n");
        let p = Problem::error(Code::Schema, "two\nlines").at(Span::new(0, 1), "x");
        let out = render_github(&src, &[p], &|_| "fleet.yaml".to_owned());
        assert_eq!(
            out,
            "::error file=fleet.yaml,line=1,col=1,title=synctl%3A%3Aschema::two%0Alines\n"
        );
    }

    #[test]
    fn github_annotations_name_generated_files_from_the_working_directory() {
        let src = source("a: 1\n");
        let p = Problem::error(Code::Drift, "100% wrong, really: yes").in_file("hub/dev.yaml");
        let out = render_github(&src, &[p], &|p| {
            format!("examples/cortex/{}", p.path.as_deref().unwrap_or(""))
        });
        assert_eq!(
            out,
            "::error file=examples/cortex/hub/dev.yaml,title=synctl%3A%3Adrift::100%25 wrong, really: yes\n"
        );
    }
}
