//! `synctl explain PATH`: which lines of the spec produced a generated file.

use crate::cli::{Failure, Global, check_spec, print_stdout, report};
use crate::diag::Format;
use crate::spec::source::Span;

/// Prints the spec lines behind `path`.
///
/// # Errors
/// [`Failure::Invalid`] on spec errors, [`Failure::Usage`] when nothing in the spec explains it.
pub fn run(g: &Global, path: &str) -> Result<(), Failure> {
    let checked = check_spec(g)?;
    if checked.has_errors() {
        report(g, &checked, Format::Human);
        return Err(Failure::Invalid);
    }
    let Some((fleet, _)) = &checked.fleet else {
        return Err(Failure::Invalid);
    };
    let path = path.trim_start_matches("./");
    let parts: Vec<&str> = path.split('/').collect();
    let mut spans: Vec<(String, Span)> = Vec::new();
    let stem = |s: &str| s.strip_suffix(".yaml").unwrap_or(s).to_owned();
    for c in &fleet.clusters {
        let hit = match parts.as_slice() {
            ["hub", f] => stem(f) == c.name,
            ["platform", ..] => c.hub,
            ["fleet", env, "clusters", name, ..] => *name == c.name && c.environment == *env,
            ["fleet", env, "apps", name, ..] => *name == c.name && c.environment == *env,
            ["fleet", env, ..] => c.environment == *env,
            _ => false,
        };
        if hit {
            spans.push((format!("cluster `{}`", c.name), c.span));
        }
    }
    for comp in &fleet.components {
        let w = &fleet.waves[comp.wave].name;
        let hit = parts.contains(&comp.name.as_str())
            && (parts.contains(&w.as_str()) || parts.first() == Some(&"platform"))
            || parts.last().map(|f| stem(f)) == Some(comp.name.clone());
        if hit {
            spans.push((format!("component `{}`", comp.name), comp.span));
        }
    }
    for t in &fleet.tenants {
        if parts
            .iter()
            .any(|p| stem(p) == t.name || stem(p) == format!("tenant-{}", t.name))
        {
            spans.push((format!("tenant `{}`", t.name), t.span));
        }
    }
    for w in &fleet.waves {
        if parts.contains(&w.name.as_str()) && w.span.len > 0 {
            spans.push((format!("wave `{}`", w.name), w.span));
        }
    }
    if spans.is_empty() {
        return Err(Failure::Usage(format!(
            "`{path}` is not something {} generates",
            checked.source.name
        )));
    }
    spans.sort_by_key(|(_, s)| s.offset);
    let mut out = format!("{path} comes from:\n");
    for (what, span) in spans {
        let (line, col) = checked.source.line_col(span.offset);
        let text = checked
            .source
            .text
            .lines()
            .nth(line - 1)
            .unwrap_or_default();
        let text = text.split(" #").next().unwrap_or(text).trim();
        out.push_str(&format!(
            "  {}:{line}:{col}  {what}: {text}\n",
            checked.source.name
        ));
    }
    print_stdout(&out);
    Ok(())
}
