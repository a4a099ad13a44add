//! The text diagnostics point into: a spec (or any file) with its name, and the mapping from
//! byte offsets to the 1-based lines and columns that diagnostics print. Below `diag` and
//! `spec` (reading a spec from disk, with its limits, is `spec::source`).

use std::sync::Arc;

/// A byte range of the spec text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub offset: usize,
    pub len: usize,
}

impl Span {
    /// The span of `len` bytes starting at `offset`.
    #[must_use]
    pub fn new(offset: usize, len: usize) -> Span {
        Span { offset, len }
    }

    /// Whether `other` lies within this span.
    #[must_use]
    pub fn holds(self, other: Span) -> bool {
        self.offset <= other.offset && other.offset + other.len <= self.offset + self.len
    }
}

/// The spec text and its name as shown in diagnostics.
#[derive(Clone, Debug)]
pub(crate) struct Source {
    pub name: String,
    pub text: Arc<str>,
    line_starts: Vec<usize>,
}

impl Source {
    /// Wraps `text`, shown as `name` in diagnostics.
    #[must_use]
    pub(crate) fn new(name: impl Into<String>, text: String) -> Source {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Source {
            name: name.into(),
            text: Arc::from(text),
            line_starts,
        }
    }

    /// The 1-based line and column (in characters) of byte `offset`.
    #[must_use]
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }

    /// The byte offset at which each line starts (the first is 0).
    #[must_use]
    pub(crate) fn line_starts(&self) -> &[usize] {
        &self.line_starts
    }

    /// The byte offset of 1-based `line` and 0-based character column `col`.
    #[must_use]
    pub(crate) fn offset_of(&self, line: usize, col: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        let end = rest.find('\n').unwrap_or(rest.len());
        rest[..end]
            .char_indices()
            .nth(col)
            .map_or(start + end, |(i, _)| start + i)
    }
}
