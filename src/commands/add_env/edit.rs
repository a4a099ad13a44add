//! The spec edited as text: an item appended to a block or flow sequence in the list's own
//! style, and the file replaced atomically.

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
