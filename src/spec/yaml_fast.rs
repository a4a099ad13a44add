//! A fast reader for the plain block YAML fleet specs are written in: block mappings and
//! sequences, one-line plain and quoted scalars, one-line flow collections, comments.
//!
//! It is a shortcut, not a second YAML parser: [`read`] returns `None` for anything outside
//! that subset and for anything yaml-rust2 would refuse or treat specially (anchors, aliases,
//! tags, merge keys, block scalars, multi-line scalars and flows, escapes, document markers
//! other than one leading `---`, duplicate keys, tabs, carriage returns, control and
//! non-printing characters, deep nesting, long keys), and [`super::yaml::parse`] then reads the
//! document with yaml-rust2, which stays the authority and the source of every diagnostic.
//! What `read` returns is, node for node and span for span, what `yaml::parse` builds from
//! yaml-rust2's events: the tests hold it to that on every YAML file of the repository and on
//! 128,000 edits of them (770,000 with `SYNCTL_ALL_EDITS=1`), and a property test on mutated
//! and random documents. Spans and scalar values come from the same functions
//! (`line_span`, `scalar_span`, `plain_value`, `key_text`).
//!
//! Why it exists: yaml-rust2 reads about 30 MB/s here; a 100,000-component spec (14 MB) spent
//! half of `validate` in it (478 ms). This reader builds the same nodes in ~135 ms, much of it
//! allocating them (in perf, its own functions are under half of those samples).

use std::collections::HashMap;

use yaml_rust2::scanner::TScalarStyle;

use super::source::Span;
use super::yaml::{
    Entry, Node, Value, defined_before, key_text, line_span, plain_value, scalar_span,
};

/// Deepest nesting read here (yaml-rust2's reader refuses 64 and reports it).
const MAX_DEPTH: usize = 48;
/// Longest key read here, in bytes (yaml-rust2 stops taking a key for one after 1024
/// characters).
const MAX_KEY: usize = 512;

/// The document, if it is in the subset this reader knows and has no problem.
pub fn read(text: &str) -> Option<Node> {
    if !plain_text(text) {
        return None;
    }
    let mut r = Reader {
        s: text,
        b: text.as_bytes(),
        pos: 0,
        depth: 0,
    };
    let (mut indent, mut at) = r.peek()?;
    // One `---` may open the document (yamllint asks for it).
    if indent == 0 && text[at..].starts_with("---") && matches!(r.at(at + 3), b' ' | b'\n') {
        r.end_line(at + 3)?;
        (indent, at) = r.peek()?;
    }
    let root = r.block(indent, at)?;
    match r.peek() {
        None => Some(root),
        Some(_) => None,
    }
}

/// No tab, carriage return or control character, and no character YAML does not print or
/// treats as a line break or a byte order mark.
fn plain_text(text: &str) -> bool {
    text.bytes().all(|b| (b >= b' ' && b != 0x7f) || b == b'\n')
        && (text.is_ascii()
            || !text.chars().any(|c| {
                matches!(
                    c,
                    '\u{80}'
                        ..='\u{9f}'
                            | '\u{2028}'
                            | '\u{2029}'
                            | '\u{feff}'
                            | '\u{fffe}'
                            | '\u{ffff}'
                )
            }))
}

/// Characters a plain scalar may not start with here (YAML's indicators).
fn indicator(b: u8) -> bool {
    matches!(
        b,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

/// Whether a plain scalar may start at `at` (`flow`: inside a flow collection): not at an
/// indicator, except a `-` followed by a character that cannot end it (`-1`, `-x`), away from
/// the start of a line (where `---` would mark a document).
fn starts_plain(b: &[u8], at: usize, flow: bool) -> bool {
    let c = b.get(at).copied().unwrap_or(b'\n');
    if !indicator(c) {
        return true;
    }
    let next = b.get(at + 1).copied().unwrap_or(b'\n');
    c == b'-'
        && at > 0
        && b[at - 1] != b'\n'
        && !matches!(next, b' ' | b'\n')
        && !(flow && matches!(next, b',' | b'[' | b']' | b'{' | b'}'))
}

struct Reader<'a> {
    s: &'a str,
    b: &'a [u8],
    /// Start of the next line not yet read.
    pos: usize,
    depth: usize,
}

impl Reader<'_> {
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(b'\n')
    }

    /// Skips blank and comment lines; the indent and offset of the next line with content.
    fn peek(&mut self) -> Option<(usize, usize)> {
        loop {
            let start = self.pos;
            if start >= self.b.len() {
                return None;
            }
            let mut i = start;
            while self.at(i) == b' ' {
                i += 1;
            }
            match self.at(i) {
                b'\n' => self.pos = i + 1,
                b'#' => self.pos = self.line_end(i) + 1,
                _ => return Some((i - start, i)),
            }
        }
    }

    fn line_end(&self, from: usize) -> usize {
        self.b[from.min(self.b.len())..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(self.b.len(), |n| from + n)
    }

    /// The rest of the line from `p` holds only spaces and a comment: the line is read.
    fn end_line(&mut self, mut p: usize) -> Option<()> {
        while self.at(p) == b' ' {
            p += 1;
        }
        match self.at(p) {
            b'\n' => {}
            b'#' if p > 0 && self.b[p - 1] == b' ' => p = self.line_end(p),
            _ => return None,
        }
        self.pos = p + 1;
        Some(())
    }

    fn deeper(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn is_entry(&self, at: usize) -> bool {
        self.at(at) == b'-' && matches!(self.at(at + 1), b' ' | b'\n')
    }

    /// A block node whose first line starts at `at`, in column `col`.
    fn block(&mut self, col: usize, at: usize) -> Option<Node> {
        if self.is_entry(at) {
            self.seq(col, at, false)
        } else {
            self.map(col, at)
        }
    }

    /// A block sequence whose entries (`- `) stand in column `col`, the first at `first`;
    /// `indentless` when it is a mapping's value in the mapping's own column (yaml-rust2 then
    /// marks it where its first entry's node starts).
    fn seq(&mut self, col: usize, first: usize, indentless: bool) -> Option<Node> {
        self.deeper()?;
        let mut items = Vec::new();
        let mut at = first;
        let mut start = first;
        loop {
            if !self.is_entry(at) {
                return None;
            }
            let mut c = at + 1;
            while self.at(c) == b' ' {
                c += 1;
            }
            // An entry whose node starts on a later line, or a comment after `-`.
            if matches!(self.at(c), b'\n' | b'#') {
                return None;
            }
            if indentless && items.is_empty() {
                start = c;
            }
            items.push(self.inline(col + (c - at), c)?);
            match self.peek() {
                Some((i, a)) if i == col && self.is_entry(a) => at = a,
                Some((i, _)) if i > col => return None,
                _ => break,
            }
        }
        self.depth -= 1;
        Some(Node {
            value: Value::Seq(items),
            span: line_span(self.s, start),
        })
    }

    /// The node of a sequence entry, starting at `at` (column `col`) after its `- `.
    fn inline(&mut self, col: usize, at: usize) -> Option<Node> {
        match self.at(at) {
            b'[' | b'{' => {
                let (node, end) = self.flow(at)?;
                self.end_line(end)?;
                Some(node)
            }
            b'\'' | b'"' => {
                let (node, end) = self.quoted(at)?;
                if self.at(end) == b':' {
                    return self.map(col, at);
                }
                self.end_line(end)?;
                Some(node)
            }
            _ if !starts_plain(self.b, at, false) => None,
            _ => {
                if self.plain_key_end(at).is_some() {
                    return self.map(col, at);
                }
                let (node, end) = self.plain_block(at)?;
                self.end_line(end)?;
                Some(node)
            }
        }
    }

    /// A block mapping whose keys stand in column `col`, the first at `first`.
    fn map(&mut self, col: usize, first: usize) -> Option<Node> {
        self.deeper()?;
        let mut entries: Vec<Entry> = Vec::new();
        let mut seen = HashMap::new();
        let mut at = first;
        loop {
            let (key, key_span, after) = self.key(at)?;
            let mut v = after;
            while self.at(v) == b' ' {
                v += 1;
            }
            let value = if matches!(self.at(v), b'\n' | b'#') {
                self.end_line(v)?;
                match self.peek() {
                    Some((i, a)) if i > col => self.block(i, a)?,
                    Some((i, a)) if i == col && self.is_entry(a) => self.seq(col, a, true)?,
                    // `key:` with nothing under it (a null yaml-rust2 places in its own way).
                    _ => return None,
                }
            } else {
                let (node, end) = self.value(v)?;
                self.end_line(end)?;
                node
            };
            if defined_before(&entries, &mut seen, &key, key_span).is_some() {
                return None;
            }
            entries.push(Entry {
                key,
                key_span,
                value,
            });
            match self.peek() {
                Some((i, a)) if i == col => at = a,
                Some((i, _)) if i > col => return None,
                _ => break,
            }
        }
        self.depth -= 1;
        Some(Node {
            value: Value::Map(entries),
            span: line_span(self.s, first),
        })
    }

    /// A mapping key at `at` and its `:`: the key, its span, the offset after the `:`.
    fn key(&mut self, at: usize) -> Option<(String, Span, usize)> {
        match self.at(at) {
            b'\'' | b'"' => {
                let (node, end) = self.quoted(at)?;
                if self.at(end) != b':'
                    || !matches!(self.at(end + 1), b' ' | b'\n')
                    || end - at > MAX_KEY
                {
                    return None;
                }
                Some((key_text(node.value)?, node.span, end + 1))
            }
            _ if !starts_plain(self.b, at, false) => None,
            _ => {
                let colon = self.plain_key_end(at)?;
                let raw = self.s[at..colon].trim_end_matches(' ');
                let text = key_text(plain_value(raw.to_owned()))?;
                if text == "<<" {
                    return None;
                }
                let span = scalar_span(self.s, at, raw, TScalarStyle::Plain);
                Some((text, span, colon + 1))
            }
        }
    }

    /// Where the `:` of a plain key starting at `at` is, if the line is `key: …`.
    fn plain_key_end(&self, at: usize) -> Option<usize> {
        let mut p = at;
        loop {
            match self.at(p) {
                b'\n' => return None,
                b':' if matches!(self.at(p + 1), b' ' | b'\n') => {
                    return (p > at && p - at <= MAX_KEY).then_some(p);
                }
                b'#' if p > at && self.b[p - 1] == b' ' => return None,
                _ => p += 1,
            }
        }
    }

    /// The value after `key: `, starting at `at`: the node and where it ends.
    fn value(&mut self, at: usize) -> Option<(Node, usize)> {
        match self.at(at) {
            b'[' | b'{' => self.flow(at),
            b'\'' | b'"' => self.quoted(at),
            _ if !starts_plain(self.b, at, false) => None,
            _ => self.plain_block(at),
        }
    }

    /// A plain scalar in block context, to the end of its line or a comment.
    fn plain_block(&self, at: usize) -> Option<(Node, usize)> {
        let mut p = at;
        loop {
            match self.at(p) {
                b'\n' => break,
                b':' if matches!(self.at(p + 1), b' ' | b'\n') => return None,
                b'#' if p > at && self.b[p - 1] == b' ' => break,
                _ => p += 1,
            }
        }
        Some((self.plain(at, p)?, p))
    }

    /// The plain scalar written from `at` to `end` (trailing spaces not included).
    fn plain(&self, at: usize, end: usize) -> Option<Node> {
        let raw = self.s[at..end].trim_end_matches(' ');
        if raw.is_empty() {
            return None;
        }
        let span = scalar_span(self.s, at, raw, TScalarStyle::Plain);
        Some(Node {
            value: plain_value(raw.to_owned()),
            span,
        })
    }

    /// A quoted scalar on one line, without escapes: the node and the offset after it.
    fn quoted(&self, at: usize) -> Option<(Node, usize)> {
        let quote = self.b[at];
        let mut text = String::new();
        let mut from = at + 1;
        let mut p = from;
        let end = loop {
            match self.at(p) {
                b'\n' | b'\\' if quote == b'"' => return None,
                b'\n' => return None,
                c if c == quote => {
                    if quote == b'\'' && self.at(p + 1) == b'\'' {
                        text.push_str(&self.s[from..=p]);
                        p += 2;
                        from = p;
                        continue;
                    }
                    break p;
                }
                _ => p += 1,
            }
        };
        text.push_str(&self.s[from..end]);
        let style = if quote == b'"' {
            TScalarStyle::DoubleQuoted
        } else {
            TScalarStyle::SingleQuoted
        };
        let span = scalar_span(self.s, at, &text, style);
        Some((
            Node {
                value: Value::Str(text),
                span,
            },
            end + 1,
        ))
    }

    /// A flow sequence or mapping closed on its own line: the node and the offset after it.
    fn flow(&mut self, at: usize) -> Option<(Node, usize)> {
        self.deeper()?;
        let open = self.b[at];
        let close = if open == b'[' { b']' } else { b'}' };
        let mut p = self.spaces(at + 1);
        let mut items = Vec::new();
        let mut entries: Vec<Entry> = Vec::new();
        let mut seen = HashMap::new();
        if self.at(p) == close {
            p += 1;
        } else {
            loop {
                if open == b'[' {
                    let (node, end) = self.flow_node(p)?;
                    items.push(node);
                    p = end;
                } else {
                    let (key, key_span, end) = self.flow_key(p)?;
                    let (value, end) = self.flow_node(self.spaces(end))?;
                    if defined_before(&entries, &mut seen, &key, key_span).is_some() {
                        return None;
                    }
                    entries.push(Entry {
                        key,
                        key_span,
                        value,
                    });
                    p = end;
                }
                p = self.spaces(p);
                match self.at(p) {
                    b',' => {
                        p = self.spaces(p + 1);
                        if self.at(p) == close {
                            return None;
                        }
                    }
                    c if c == close => {
                        p += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        let span = line_span(self.s, at);
        let value = if open == b'[' {
            Value::Seq(items)
        } else {
            Value::Map(entries)
        };
        Some((Node { value, span }, p))
    }

    fn spaces(&self, mut p: usize) -> usize {
        while self.at(p) == b' ' {
            p += 1;
        }
        p
    }

    /// A key of a flow mapping and its `: `: the key, its span, the offset after the `:`.
    fn flow_key(&mut self, at: usize) -> Option<(String, Span, usize)> {
        let (node, end) = match self.at(at) {
            b'\'' | b'"' => self.quoted(at)?,
            _ => self.flow_plain(at)?,
        };
        if self.at(end) != b':' || self.at(end + 1) != b' ' || end - at > MAX_KEY {
            return None;
        }
        if node.value == Value::Str("<<".to_owned()) {
            return None;
        }
        Some((key_text(node.value)?, node.span, end + 1))
    }

    /// A node inside a flow collection.
    fn flow_node(&mut self, at: usize) -> Option<(Node, usize)> {
        match self.at(at) {
            b'[' | b'{' => self.flow(at),
            b'\'' | b'"' => self.quoted(at),
            _ => self.flow_plain(at),
        }
    }

    /// A plain scalar inside a flow collection: it ends at `,`, a bracket, `: ` or ` #`.
    fn flow_plain(&self, at: usize) -> Option<(Node, usize)> {
        if !starts_plain(self.b, at, true) {
            return None;
        }
        let mut p = at;
        loop {
            match self.at(p) {
                b'\n' => return None,
                b',' | b'[' | b']' | b'{' | b'}' => break,
                b':' if matches!(
                    self.at(p + 1),
                    b' ' | b'\n' | b',' | b'[' | b']' | b'{' | b'}'
                ) =>
                {
                    break;
                }
                b'#' if p > at && self.b[p - 1] == b' ' => return None,
                _ => p += 1,
            }
        }
        Some((self.plain(at, p)?, p))
    }
}

#[cfg(test)]
mod tests {
    use super::read;
    use crate::spec::source::Source;
    use crate::spec::yaml::{Value, parse_events};

    /// Every spec and every YAML file synctl wrote in the repository.
    fn seeds() -> Vec<(String, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        for dir in ["examples", "tests/fleets", "tests/bad"] {
            for e in walkdir::WalkDir::new(root.join(dir)).sort_by_file_name() {
                let e = e.unwrap();
                let p = e.path();
                if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                    out.push((p.display().to_string(), std::fs::read_to_string(p).unwrap()));
                }
            }
        }
        assert!(out.len() > 300, "{} seeds", out.len());
        out
    }

    /// What is put into a line: indicators, quotes, comments, breaks, the look of other YAML.
    const PIECES: &[&str] = &[
        ":", ": ", " #", "#", "'", "''", "\"", "\\", "- ", "-", "[", "]", "{", "}", ",", ", ",
        "&a ", "*a", "!t ", "!!str ", "|", ">", "? ", "%", "@", "`", "\n", " ", "  ", "\n  ",
        "\n- ", "---\n", "...\n", "<<: ", "~", "1", "-1", "0x1", "1e3", ".5", "true", "null", "é",
        "\u{85}", "\t", "\r", "a: b", "{}", "[]", "[a, b]", "{a: b}", "\"x\": ", "'x': ",
    ];

    /// The text with one line deleted, re-indented, duplicated, or with a piece put at its
    /// start, after its indent, after its first `:`, before its last character, or at its end.
    fn edits(text: &str, pieces: &[&str]) -> Vec<String> {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let mut out = vec![text.to_owned()];
        let with = |i: usize, line: &str| {
            let mut s = String::with_capacity(text.len() + 16);
            for (j, l) in lines.iter().enumerate() {
                s.push_str(if i == j { line } else { l });
            }
            s
        };
        for (i, line) in lines.iter().enumerate() {
            let body = line.trim_end_matches('\n');
            let nl = &line[body.len()..];
            let indent = body.len() - body.trim_start().len();
            out.push(with(i, ""));
            out.push(with(i, &format!("{line}{line}")));
            out.push(with(i, &format!(" {line}")));
            out.push(with(i, &format!("  {line}")));
            if indent > 0 {
                out.push(with(i, &line[1..]));
            }
            let mut at: Vec<usize> = vec![0, indent, body.len()];
            if let Some(c) = body.find(':') {
                at.push(c + 1);
            }
            if let Some((last, _)) = body.char_indices().last() {
                at.push(last);
            }
            at.sort_unstable();
            at.dedup();
            for &k in &at {
                for p in pieces {
                    out.push(with(i, &format!("{}{p}{}{nl}", &body[..k], &body[k..])));
                }
            }
        }
        out
    }

    #[track_caller]
    fn same(name: &str, text: &str) -> bool {
        let Some(fast) = read(text) else {
            return false;
        };
        match parse_events(&Source::new("f", text.to_owned())) {
            Ok(slow) if slow == fast => {}
            Ok(slow) => {
                let (a, b) = (format!("{slow:#?}"), format!("{fast:#?}"));
                let diff = similar::TextDiff::from_lines(&a, &b);
                panic!(
                    "{name}: read apart (- yaml-rust2, + fast):\n{text}\n{}",
                    diff.unified_diff().context_radius(6)
                );
            }
            Err(e) => panic!("{name}: read fast, refused by yaml-rust2: {e:?}\n{text}"),
        }
        true
    }

    /// Keys around yaml-rust2's 1024-character limit, plain, quoted and in a flow mapping,
    /// and a long value: read alike or left to yaml-rust2.
    #[test]
    fn long_keys_are_read_alike_or_left_alone() {
        for n in [500, 512, 513, 1000, 1023, 1024, 1025, 1030, 2000] {
            let k = "k".repeat(n);
            for text in [
                format!("{k}: v\n"),
                format!("\"{k}\": v\n"),
                format!("'{k}': v\n"),
                format!("a: {{{k}: v}}\n"),
                format!("a: {{\"{k}\": v}}\n"),
                format!("- {k}: v\n"),
                format!("a: {k}\n"),
                format!("a: [{k}]\n"),
            ] {
                same("long", &text);
            }
        }
        assert!(same("short", "a: {b: c}\n\"d\": 'e'\n"));
    }

    /// Whatever the fast reader accepts, yaml-rust2 reads to the same nodes and spans; and it
    /// accepts every spec and generated file of the repository that yaml-rust2 reads.
    #[test]
    fn reads_what_yaml_rust2_reads() {
        let (mut tried, mut fast) = (0, 0);
        for (k, (name, text)) in seeds().into_iter().enumerate() {
            let single = !text.contains("\n---");
            // Block scalars and flow collections over several lines are left to yaml-rust2.
            let outside = text.lines().any(|l| {
                let l = l.split(" #").next().unwrap_or(l).trim_end();
                l.ends_with([',', '|', '>', '[', '{']) || l.ends_with("|-")
            });
            let read = parse_events(&Source::new("f", text.clone()));
            let bad = name.contains("tests/bad");
            if single && !outside && !bad && read.is_ok_and(|n| n.value != Value::Null) {
                assert!(same(&name, &text), "{name} is not read fast");
            }
            // The specs with every edit; the generated files with the structural ones.
            let pieces: &[&str] = if name.ends_with("fleet.yaml") || name.contains("tests/bad") {
                PIECES
            } else {
                &[": ", "- ", "\n"]
            };
            // Every `step`-th edit, a different share for each file (all of them with
            // SYNCTL_ALL_EDITS set: 770,000 documents, two minutes in a debug build).
            let step = if std::env::var_os("SYNCTL_ALL_EDITS").is_some() {
                1
            } else {
                6
            };
            for edited in edits(&text, pieces).iter().skip(k % step).step_by(step) {
                tried += 1;
                fast += usize::from(same(&name, edited));
            }
        }
        eprintln!("{fast} of {tried} edited documents read fast");
        assert!(fast * 4 > tried && tried > 100_000, "{fast} of {tried}");
    }
}
