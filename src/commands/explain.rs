//! `synctl explain PATH`: which lines of the spec produced a generated file — a lookup in the
//! layout, so it answers for every file `generate` writes.

use super::{DataFormat, Failure, Global, print_stdout};

/// Flags of `explain`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Args {
    /// A generated file, relative to the output root
    pub path: String,
    /// json: `{path, sources: [{item, file, line, column, text}]}` (docs/formats.md)
    #[arg(long, value_enum, default_value_t = DataFormat::Text)]
    pub format: DataFormat,
}

/// Prints the spec lines behind `path`.
///
/// # Errors
/// [`Failure::Invalid`] on spec errors, [`Failure::Usage`] when synctl does not write `path`.
pub(crate) fn run(g: &Global, args: &Args) -> Result<(), Failure> {
    let checked = g.check()?.valid().map_err(|stop| g.fail(stop))?;
    let (Some((fleet, _)), Some(layout)) = (&checked.fleet, &checked.layout) else {
        return Err(Failure::Invalid);
    };
    // A path as synctl prints it (from the current folder: `gitops/hub/dev.yaml`) or as the
    // tree names it (from the output root: `hub/dev.yaml`).
    let given = args.path.trim_start_matches("./");
    let prefix = g.tree_prefix();
    let path = given.strip_prefix(prefix.as_str()).unwrap_or(given);
    let path = if layout.explain(path).is_some() {
        path
    } else {
        given
    };
    let Some(items) = layout.explain(path) else {
        return Err(Failure::Usage(format!(
            "`{path}` is not something {} generates (see `synctl generate --check` for the list)",
            checked.source.name
        )));
    };
    let mut lines: Vec<(usize, String)> = Vec::new();
    let mut records: Vec<(usize, serde_json::Value)> = Vec::new();
    let mut defaults = Vec::new();
    for item in items {
        let span = item.span(fleet);
        let what = item.describe(fleet);
        if span.len == 0 {
            defaults.push(what);
            continue;
        }
        let (line, col) = checked.source.line_col(span.offset);
        let text = checked
            .source
            .text
            .lines()
            .nth(line - 1)
            .unwrap_or_default();
        let text = text.split(" #").next().unwrap_or(text).trim();
        records.push((
            span.offset,
            serde_json::json!({"item": what, "file": checked.source.name, "line": line, "column": col, "text": text}),
        ));
        lines.push((
            span.offset,
            format!("  {}:{line}:{col}  {what}: {text}\n", checked.source.name),
        ));
    }
    lines.sort();
    if args.format == DataFormat::Json {
        records.sort_by_key(|(o, _)| *o);
        let mut sources: Vec<serde_json::Value> = records.into_iter().map(|(_, r)| r).collect();
        sources.extend(
            defaults
                .iter()
                .map(|what| serde_json::json!({"item": what, "file": null})),
        );
        let doc = serde_json::json!({"path": format!("{prefix}{path}"), "sources": sources});
        print_stdout(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        ));
        return Ok(());
    }
    let mut out = format!("{prefix}{path} comes from:\n");
    for (_, l) in lines {
        out.push_str(&l);
    }
    for what in defaults {
        out.push_str(&format!("  (defaults)  {what}: not written in the spec\n"));
    }
    print_stdout(&out);
    Ok(())
}
