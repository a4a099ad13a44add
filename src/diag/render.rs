//! Problems as people and tools read them: miette's report (human), JSON, SARIF 2.1.0 and
//! GitHub workflow commands.

use std::fmt;
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, NamedSource, SourceCode, SourceSpan, SpanContents,
};
use serde::Serialize;

use super::{Code, Problem, Severity};
use crate::source::Source;

/// A problem together with the source it points into, as miette wants it.
struct Shown<'a> {
    problem: &'a Problem,
    source: &'a NamedSource<Windowed>,
}

/// The spec text for miette, read through its line index: miette's own `str` source counts
/// lines from the first byte for every snippet, so a report of n problems took time in n × the
/// file's size (40,000 bad cluster names: 4 minutes). Each snippet is cut from a window of a
/// few lines around its span and its line numbers shifted back, which gives miette's numbers
/// exactly (lines end at `\n`, as in `Source`).
struct Windowed {
    text: Arc<str>,
    line_starts: Vec<usize>,
}

impl SourceCode for Windowed {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // Bytes, as miette reads them: a span may end inside a character.
        let text: &[u8] = self.text.as_bytes();
        let end = (span.offset() + span.len()).min(text.len());
        // One line more than the context on each side, so miette's scan of the window sees the
        // same lines before and after the span as a scan of the whole text.
        let line = self.line_starts.partition_point(|&s| s <= span.offset()) - 1;
        let first = line.saturating_sub(context_lines_before + 1);
        let from = self.line_starts[first];
        let to = text[end..]
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(context_lines_after + 1)
            .map_or(text.len(), |(i, _)| end + i + 1);
        let local = SourceSpan::new((span.offset() - from).into(), span.len());
        let inner = text[from..to].read_span(&local, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new(
            inner.data(),
            SourceSpan::new((inner.span().offset() + from).into(), inner.span().len()),
            inner.line() + first,
            inner.column(),
            inner.line_count() + first,
        )))
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.problem, f)
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem.path {
            Some(path) if self.problem.primary.is_none() => {
                write!(f, "{}: {}", path, self.problem.message)
            }
            _ => f.write_str(&self.problem.message),
        }
    }
}

impl std::error::Error for Shown<'_> {}

impl Diagnostic for Shown<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.problem.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.problem.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.problem
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.problem.primary.as_ref()?;
        Some(self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary = self.problem.primary.as_ref()?;
        let first = LabeledSpan::new_primary_with_span(
            Some(primary.text.clone()),
            (primary.span.offset, primary.span.len),
        );
        let rest =
            self.problem.secondary.iter().map(|l| {
                LabeledSpan::new_with_span(Some(l.text.clone()), (l.span.offset, l.span.len))
            });
        Some(Box::new(std::iter::once(first).chain(rest)))
    }
}

/// Renders problems for people: miette's graphical report, one after another.
#[must_use]
pub(crate) fn render_human(source: &Source, problems: &[Problem], color: bool) -> String {
    // Control characters from the spec (terminal escape sequences among them) are never
    // printed raw: each byte becomes `?`, so spans keep their offsets.
    let shown_text: Arc<str> = if source.text.chars().any(is_unprintable) {
        Arc::from(
            source
                .text
                .chars()
                .map(|c| {
                    if is_unprintable(c) {
                        "?".repeat(c.len_utf8())
                    } else {
                        c.to_string()
                    }
                })
                .collect::<String>(),
        )
    } else {
        Arc::clone(&source.text)
    };
    let named = NamedSource::new(
        source.name.clone(),
        Windowed {
            text: shown_text,
            line_starts: source.line_starts().to_vec(),
        },
    );
    let clean: Vec<Problem> = problems.iter().map(printable).collect();
    let problems = &clean;
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    for problem in problems {
        let shown = Shown {
            problem,
            source: &named,
        };
        // miette's snippet rendering panics past column 65,535: show such lines by position.
        if problem
            .primary
            .iter()
            .chain(&problem.secondary)
            .any(|l| line_too_long(source, l.span.offset))
        {
            out.push_str(&plain(source, problem));
            continue;
        }
        if handler.render_report(&mut out, &shown).is_err() {
            out.push_str(&format!("{}: {}\n", problem.code, problem.message));
        }
    }
    out
}

/// A character that must not reach a terminal as it is.
fn is_unprintable(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// The problem with every control character of its texts escaped (`\u{1b}`).
fn printable(p: &Problem) -> Problem {
    let clean = |s: &str| -> String {
        if s.chars().any(is_unprintable) {
            s.chars()
                .map(|c| {
                    if is_unprintable(c) {
                        c.escape_unicode().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        } else {
            s.to_owned()
        }
    };
    let mut p = p.clone();
    p.message = clean(&p.message);
    p.help = p.help.as_deref().map(clean);
    p.path = p.path.as_deref().map(clean);
    if let Some(l) = &mut p.primary {
        l.text = clean(&l.text);
    }
    for l in &mut p.secondary {
        l.text = clean(&l.text);
    }
    p
}

/// Whether the line holding byte `offset` is too long to show as a snippet.
fn line_too_long(source: &Source, offset: usize) -> bool {
    let text = &source.text;
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    end - start > 10_000
}

/// A problem as plain lines: code, message, position, help.
fn plain(source: &Source, p: &Problem) -> String {
    let mut out = format!("{}\n\n  × {}\n", p.code, p.message);
    for l in p.primary.iter().chain(&p.secondary) {
        let (line, col) = source.line_col(l.span.offset);
        out.push_str(&format!("  at {}:{line}:{col}: {}\n", source.name, l.text));
    }
    if let Some(h) = &p.help {
        out.push_str(&format!("  help: {h}\n"));
    }
    out
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    line: usize,
    column: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonProblem<'a> {
    code: &'static str,
    severity: Severity,
    message: &'a str,
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    labels: Vec<JsonLabel<'a>>,
}

/// The problems as a SARIF 2.1.0 log (one run, one result per problem); `file_of` names each
/// problem's file from the repository root (`uriBaseId` `%SRCROOT%`).
#[must_use]
pub(crate) fn render_sarif(
    source: &Source,
    problems: &[Problem],
    file_of: &dyn Fn(&Problem) -> String,
) -> String {
    let mut codes: Vec<Code> = problems.iter().map(|p| p.code).collect();
    codes.sort_unstable_by_key(|c| c.as_str());
    codes.dedup();
    // Each rule described from the Diagnostics table of docs/spec.md (markdown, and as text
    // without the backticks).
    let rules: Vec<serde_json::Value> = codes
        .iter()
        .map(|c| {
            let markdown = c.description();
            let text = markdown.replace('`', "");
            let short = text.split("; ").next().unwrap_or_default();
            serde_json::json!({
                "id": c.as_str(),
                "name": c.rule_name(),
                "shortDescription": {"text": short},
                "fullDescription": {"text": text},
                "help": {
                    "text": format!("{text}. The codes and what to do: {}", super::CODES_URI),
                    "markdown": format!("{markdown}. [The codes and what to do]({})", super::CODES_URI),
                },
                "helpUri": super::CODES_URI,
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = problems
        .iter()
        .map(|p| {
            let file = file_of(p);
            let mut region = serde_json::Map::new();
            if let Some(l) = &p.primary {
                let (line, column) = source.line_col(l.span.offset);
                region.insert("startLine".to_owned(), line.into());
                region.insert("startColumn".to_owned(), column.into());
            }
            let mut location = serde_json::json!({"physicalLocation": {"artifactLocation": {"uri": file, "uriBaseId": "%SRCROOT%"}}});
            if !region.is_empty() {
                location["physicalLocation"]["region"] = serde_json::Value::Object(region);
            }
            let text = match &p.help {
                Some(h) => format!("{} (help: {h})", p.message),
                None => p.message.clone(),
            };
            serde_json::json!({
                "ruleId": p.code.as_str(),
                "level": match p.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "message": {"text": text},
                "locations": [location],
            })
        })
        .collect();
    let log = serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "synctl",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/synctl/synctl",
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

/// Renders problems as a JSON array (one object per problem, 1-based lines and columns).
#[must_use]
pub(crate) fn render_json(source: &Source, problems: &[Problem]) -> String {
    let items: Vec<JsonProblem<'_>> = problems
        .iter()
        .map(|p| {
            let pos = p.primary.as_ref().map(|l| source.line_col(l.span.offset));
            JsonProblem {
                code: p.code.as_str(),
                severity: p.severity,
                message: &p.message,
                file: p.path.as_deref().unwrap_or(&source.name),
                line: pos.map(|(l, _)| l),
                column: pos.map(|(_, c)| c),
                help: p.help.as_deref(),
                labels: p
                    .primary
                    .iter()
                    .chain(&p.secondary)
                    .map(|l| {
                        let (line, column) = source.line_col(l.span.offset);
                        JsonLabel {
                            line,
                            column,
                            message: &l.text,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".to_owned());
    out.push('\n');
    out
}

/// Renders problems as GitHub Actions workflow commands (`::error file=…,line=…::…`);
/// `file_of` names each problem's file from the repository root, where GitHub places it.
#[must_use]
pub(crate) fn render_github(
    source: &Source,
    problems: &[Problem],
    file_of: &dyn Fn(&Problem) -> String,
) -> String {
    let mut out = String::new();
    for p in problems {
        let level = match p.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let file = file_of(p);
        let mut props = format!("file={}", escape_property(&file));
        if let Some(label) = &p.primary {
            let (line, col) = source.line_col(label.span.offset);
            props.push_str(&format!(",line={line},col={col}"));
        }
        props.push_str(&format!(",title={}", escape_property(p.code.as_str())));
        let mut message = p.message.clone();
        if let Some(help) = &p.help {
            message.push_str(&format!(" (help: {help})"));
        }
        out.push_str(&format!("::{level} {props}::{}\n", escape_data(&message)));
    }
    out
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The windowed source gives miette what its own whole-text scan gives, for every span of
    /// a text with short, long, empty and final lines and multi-byte characters, with 0 to 2
    /// lines of context.
    #[test]
    fn windowed_snippets_are_miettes_own() {
        // Spans may start or end inside a character (`é`, `—`): miette reads bytes.
        let text = "a: 1\n\nbb: [é, y]\n  - ccc\nd: \"e—\"\n\n\nlast: z";
        let source = Source::new("f", text.to_owned());
        let windowed = Windowed {
            text: Arc::clone(&source.text),
            line_starts: source.line_starts().to_vec(),
        };
        for offset in 0..=text.len() {
            for len in 0..=(text.len() - offset).min(12) {
                for ctx in 0..3 {
                    let span = SourceSpan::new(offset.into(), len);
                    let ours = windowed.read_span(&span, ctx, ctx).unwrap();
                    let theirs = text.read_span(&span, ctx, ctx).unwrap();
                    let at = format!("offset {offset} len {len} ctx {ctx}");
                    assert_eq!(ours.data(), theirs.data(), "{at}");
                    assert_eq!(ours.span(), theirs.span(), "{at}");
                    assert_eq!(ours.line(), theirs.line(), "{at}");
                    assert_eq!(ours.column(), theirs.column(), "{at}");
                    assert_eq!(ours.line_count(), theirs.line_count(), "{at}");
                }
            }
        }
    }
}
