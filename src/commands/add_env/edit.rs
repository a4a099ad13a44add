//! The spec edited as text: an item appended to a block or flow sequence in the list's own
//! style, the file replaced atomically, and the edited spec's tree written and committed
//! ([`write_edited`], shared by `add-env`, `promote` and `retire`).

use std::path::Path;

use super::Failure;
use crate::render::yaml_out::flow_scalar;
use crate::spec::yaml::{Node, Value};

/// One text insertion.
pub(super) struct Edit {
    pub(super) at: usize,
    pub(super) text: String,
}

/// The end of the last line belonging to the block item starting at `start` (an item of a
/// block sequence whose dash is at column `dash_col`).
fn item_end(text: &str, start: usize, dash_col: usize) -> usize {
    let mut end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let mut pos = end;
    while pos < text.len() {
        let line_start = pos + 1;
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        let line = &text[line_start..line_end];
        let indent = line.len() - line.trim_start().len();
        if line.trim().is_empty() {
            pos = line_end;
            continue;
        }
        if indent <= dash_col {
            break;
        }
        end = line_end;
        pos = line_end;
    }
    end
}

fn column(text: &str, offset: usize) -> usize {
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..offset].chars().count()
}

/// The dash of the block-sequence item whose node starts at `offset`.
fn dash_of(text: &str, offset: usize) -> Option<usize> {
    let before = &text[..offset];
    let dash = before.rfind('-')?;
    before[dash + 1..].trim().is_empty().then_some(dash)
}

/// Appends `entry_lines` (already indented relative to the dash) as a new item of `seq`.
pub(super) fn append_item(
    text: &str,
    seq: &Node,
    first_line: &str,
    rest: &[String],
) -> Result<Edit, String> {
    let items = seq.items();
    let last = items.last().ok_or("the list is empty")?;
    if text[seq.span.offset..].starts_with('[') {
        // Flow style: `[a, b]` → `[a, b, NAME]`; a mapping item becomes `{name: NAME, …}`.
        let close = seq.span.offset + seq.span.len - 1;
        let item = if rest.is_empty() && !matches!(last.value, Value::Map(_)) {
            first_line.to_owned()
        } else {
            let mut fields = vec![first_line.to_owned()];
            fields.extend(rest.iter().cloned());
            format!("{{{}}}", fields.join(", "))
        };
        if text.as_bytes().get(close) != Some(&b']') {
            return Err(
                "the list spans several lines in flow style; add the entry by hand".to_owned(),
            );
        }
        return Ok(Edit {
            at: close,
            text: format!(", {item}"),
        });
    }
    let dash = dash_of(text, last.span.offset).ok_or("unexpected list layout")?;
    let col = column(text, dash);
    let mut end = item_end(text, last.span.offset, col);
    // The spec's own line endings: CRLF stays CRLF.
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    if text[..end].ends_with('\r') {
        end -= 1;
    }
    let pad = " ".repeat(col);
    let mut out = format!("{nl}{pad}- {first_line}");
    for line in rest {
        out.push_str(&format!("{nl}{pad}  {line}"));
    }
    Ok(Edit { at: end, text: out })
}

pub(super) fn flow_map(pairs: &[(String, String)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}: {}", flow_scalar(k), flow_scalar(v)))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// The spec's text and its check, for a `command` that edits it: never through a link out of
/// the tree, and only a spec without errors (else they are shown and nothing changes).
///
/// # Errors
/// [`Failure::Usage`] for a link out of the tree or a spec that cannot be read;
/// [`Failure::Invalid`] for a spec with errors.
pub(crate) fn read_for_edit(
    g: &super::super::Global,
    command: &str,
) -> Result<(String, crate::pipeline::Checked), Failure> {
    spec_inside(g, command)?;
    let original = std::fs::read_to_string(&g.file)
        .map_err(|e| Failure::Usage(format!("cannot read `{}`: {e}", g.file.display())))?;
    let checked = valid_text(
        g,
        original.clone(),
        &format!("fix the spec first: {command} edits only a valid spec\n"),
    )?;
    Ok((original, checked))
}

/// `text` checked as the spec; its errors shown, followed by `refused`, when it has any.
///
/// # Errors
/// [`Failure::Invalid`] when it has errors.
pub(crate) fn valid_text(
    g: &super::super::Global,
    text: String,
    refused: &str,
) -> Result<crate::pipeline::Checked, Failure> {
    let checked = crate::pipeline::check_text(&g.spec_name(), text, Some(&g.out_root()));
    if checked.has_errors() {
        super::super::report(
            g,
            &checked.source,
            &checked.problems,
            crate::diag::Format::Human,
        );
        crate::term::print_stderr(refused);
        return Err(Failure::Invalid);
    }
    Ok(checked)
}

/// Writes the edited spec (`text`, checked as `after`) and the tree it compiles to, proves the
/// tree when `prove` (as `generate` does), commits both with `subject` when `commit`, and
/// returns what `then` makes of the compiled tree and the files written. The spec is put back
/// as `original` when the tree cannot be written: the user's file is never left half-changed
/// (`add-env`, `promote`, `retire`).
///
/// # Errors
/// As `generate` and `generate --commit`.
pub(crate) fn write_edited<R>(
    g: &super::super::Global,
    commit: bool,
    after: crate::pipeline::Checked,
    (original, text): (&str, &str),
    subject: &str,
    prove: bool,
    then: impl FnOnce(&crate::pipeline::Compiled, &crate::output::Plan<'_>) -> R,
) -> Result<R, Failure> {
    let root_dir = g.out_root();
    let target = if commit {
        Some(crate::git::prepare(&root_dir, None).map_err(Failure::Usage)?)
    } else {
        None
    };
    let _lock = crate::output::lock(&root_dir).map_err(Failure::Usage)?;
    // Compiled from the edited text already checked: the spec is parsed twice in all.
    let compiled = crate::pipeline::compile(after, None, &g.spec_label(), None)
        .map_err(|stop| g.fail(stop))?;
    let plan = compiled
        .plan(&root_dir, false)
        .map_err(|stop| g.fail(stop))?;
    write_spec(&g.file, text)?;
    if let Err(stop) = crate::pipeline::write(&root_dir, &plan, None) {
        write_spec(&g.file, original)?;
        return Err(g.fail(stop));
    }
    if prove {
        // A stage that breaks the tree as the controllers read it is not committed.
        super::super::generate::prove(g, (false, false), &compiled)?;
    }
    if let Some(target) = &target {
        super::super::generate::commit(g, &compiled, target, subject)?;
    }
    Ok(then(&compiled, &plan))
}

/// Refuses a spec that is a link to a file outside the output root: `command` edits the spec
/// where it lies, never through a link out of the tree.
///
/// # Errors
/// [`Failure::Usage`] for such a link.
pub(crate) fn spec_inside(g: &super::super::Global, command: &str) -> Result<(), Failure> {
    let spec_path = &g.file;
    if std::fs::symlink_metadata(spec_path).is_ok_and(|m| m.file_type().is_symlink())
        && crate::folders::leads_outside(spec_path, &g.out_root()).is_some()
    {
        return Err(Failure::Usage(format!(
            "`{}` is a link to a file outside the output root: {command} edits only a spec inside the repository; nothing changed",
            spec_path.display()
        )));
    }
    Ok(())
}

/// Replaces the spec's content atomically: a fresh temporary file (exclusive, unpredictable
/// name) beside the file the path finally names, renamed over it — so a symlinked spec keeps
/// its link and the edit lands in its target.
pub(crate) fn write_spec(path: &Path, text: &str) -> Result<(), Failure> {
    let fail =
        |e: std::io::Error| Failure::Usage(format!("cannot write `{}`: {e}", path.display()));
    let target = std::fs::canonicalize(path).map_err(fail)?;
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".synctl-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(fail)?;
    std::io::Write::write_all(&mut tmp, text.as_bytes()).map_err(fail)?;
    if let Ok(meta) = std::fs::metadata(&target) {
        let _ = tmp.as_file().set_permissions(meta.permissions());
    }
    tmp.persist(&target).map_err(|e| fail(e.error))?;
    Ok(())
}
