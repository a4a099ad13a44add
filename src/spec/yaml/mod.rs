//! YAML to a tree of nodes that remember where they were written. Built from yaml-rust2's
//! event stream so that duplicate keys, alias bombs and runaway nesting are caught here,
//! before anything else looks at the document.

use std::collections::{HashMap, HashSet};

use yaml_rust2::Yaml;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::TScalarStyle;

use crate::diag::{Code, Problem};
use crate::spec::source::{Source, Span};

mod events;
use events::Builder;

/// Most nodes that aliases may add to a document (defeats "billion laughs").
const MAX_ALIAS_NODES: usize = 100_000;
/// Most bytes of text (scalars and keys) that aliases may add to a document: a few aliases
/// of one long string must not make megabytes into gigabytes.
const MAX_ALIAS_BYTES: usize = 16 << 20;
/// Deepest nesting accepted.
const MAX_DEPTH: usize = 64;
/// The longest mapping key: YAML 1.2 restricts an implicit key to 1,024 characters.
const MAX_KEY_CHARS: usize = 1024;

/// A YAML value with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

impl Default for Node {
    /// A null written nowhere.
    fn default() -> Node {
        Node {
            value: Value::Null,
            span: Span::default(),
        }
    }
}

/// One `key: value` of a mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

/// The value of a node.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

impl Node {
    /// The entry `key` of a mapping.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// The entry `key` of a mapping, with its key span.
    #[must_use]
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// Follows a path of mapping keys and sequence indexes (numbers as text).
    #[must_use]
    pub fn at<'a, I: IntoIterator<Item = &'a str>>(&self, path: I) -> Option<&Node> {
        let mut node = self;
        for seg in path {
            node = match &node.value {
                Value::Map(_) => node.get(seg)?,
                Value::Seq(items) => items.get(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The items of a sequence (empty for anything else).
    #[must_use]
    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    /// The string value, if this is a string.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The node as JSON (what a schema error shows of the value at fault).
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Characters that may not appear raw in a YAML scalar: control characters (C0, DEL, C1 —
/// NEL among them), the Unicode line and paragraph separators (which YAML 1.1 readers take
/// for line breaks), the byte order mark, and the two non-characters PyYAML refuses.
pub(crate) fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
}

/// Parses `source` as a single YAML document.
///
/// # Errors
/// Every `synctl::yaml` problem found (syntax, duplicate keys, aliases, depth, several documents).
pub(crate) fn parse(source: &Source) -> Result<Node, Vec<Problem>> {
    let (mut documents, document_starts) = parse_documents(source)?;
    match documents.len() {
        0 => Ok(Node {
            value: Value::Null,
            span: Span::new(0, 0),
        }),
        1 => Ok(documents.remove(0)),
        _ => Err(vec![
            Problem::error(Code::Yaml, "the spec holds several YAML documents")
                .at(
                    document_starts
                        .get(1)
                        .map_or(documents[1].span, |&o| Span::new(o, 3)),
                    "second document starts here",
                )
                .help("keep one Fleet per file and remove the extra `---` documents"),
        ]),
    }
}

/// Parses `source` as a stream of YAML documents (a manifest file of a tree), with the same
/// limits as a spec.
///
/// # Errors
/// Every `synctl::yaml` problem found.
pub(crate) fn parse_stream(source: &Source) -> Result<Vec<Node>, Vec<Problem>> {
    parse_documents(source).map(|(documents, _)| documents)
}

/// The documents of `source` and the offsets where each `---` starts.
fn parse_documents(source: &Source) -> Result<(Vec<Node>, Vec<usize>), Vec<Problem>> {
    let mut builder = Builder::new(source);
    let mut parser = Parser::new_from_str(&source.text);
    // Events are pulled one by one rather than through `Parser::load`, which recurses once per
    // nesting level (`- - - … x` 30,000 deep overflowed the stack); the builder's own depth
    // limit then stops the reading at the first level too deep.
    let failed = loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => break None,
            Ok((event, mark)) => {
                builder.on_event(event, mark);
                if builder.fatal {
                    break None;
                }
            }
            Err(e) => break Some(e),
        }
    };
    if let Some(e) = failed {
        let m = e.marker();
        let offset = source.offset_of(m.line(), m.col());
        builder.problems.push(
            Problem::error(Code::Yaml, format!("not valid YAML: {}", e.info()))
                .at(Span::new(offset, 1), "here")
                .help("fix the YAML syntax (indentation, quoting, a missing `:`)"),
        );
    }
    let Builder {
        documents,
        document_starts,
        problems,
        ..
    } = builder;
    if problems.is_empty() {
        Ok((documents, document_starts))
    } else {
        Err(problems)
    }
}

/// From this many entries on, a mapping's keys are looked up in an index, not one by one.
const INDEX_FROM: usize = 16;

/// Where `key` was first defined in a mapping whose entries so far are `entries`, if it was;
/// otherwise `key`, written at `span`, is remembered. `seen` is the index of the keys a large
/// mapping builds once it has [`INDEX_FROM`] entries (shared by both readers of YAML).
pub(super) fn defined_before(
    entries: &[Entry],
    seen: &mut HashMap<String, Span>,
    key: &str,
    span: Span,
) -> Option<Span> {
    if entries.len() < INDEX_FROM {
        return entries.iter().find(|e| e.key == key).map(|e| e.key_span);
    }
    if seen.is_empty() {
        seen.extend(entries.iter().map(|e| (e.key.clone(), e.key_span)));
    }
    if let Some(&first) = seen.get(key) {
        return Some(first);
    }
    seen.insert(key.to_owned(), span);
    None
}

/// The span of the first line of a container starting at `offset`.
pub(super) fn line_span(text: &str, offset: usize) -> Span {
    let rest = &text[offset.min(text.len())..];
    let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
    if line.starts_with(['[', '{']) {
        let mut depth = 0usize;
        for (i, c) in line.char_indices() {
            match c {
                '[' | '{' => depth += 1,
                ']' | '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Span::new(offset, i + 1);
                    }
                }
                _ => {}
            }
        }
    }
    let text = line.split(" #").next().unwrap_or(line);
    Span::new(offset, text.trim_end().len().max(1))
}

/// The span of a scalar as written: quotes included, plain text to the end of its run.
pub(super) fn scalar_span(source: &str, offset: usize, value: &str, style: TScalarStyle) -> Span {
    let text = &source[offset.min(source.len())..];
    let len = match style {
        TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => {
            let quote = if style == TScalarStyle::SingleQuoted {
                '\''
            } else {
                '"'
            };
            let mut escaped = false;
            text.char_indices()
                .skip(1)
                .find(|&(_, c)| {
                    let close = c == quote && !escaped;
                    escaped = c == '\\' && !escaped && quote == '"';
                    close
                })
                .map_or(1, |(i, c)| i + c.len_utf8())
        }
        TScalarStyle::Plain if text.starts_with(value) && !value.is_empty() => value.len(),
        _ => return line_span(source, offset),
    };
    Span::new(offset, len)
}

/// Whether a plain scalar can be something other than a string: a null, a boolean or a number
/// starts with a digit, a sign, a dot, `~`, or the first letter of `null`, `true` or `false`
/// (in any of the cases YAML 1.2 allows). Anything else is a string without asking the
/// resolver, which copies it.
fn may_be_typed(text: &str) -> bool {
    text.as_bytes().first().is_none_or(|b| {
        b.is_ascii_digit()
            || matches!(
                b,
                b'+' | b'-' | b'.' | b'~' | b'n' | b'N' | b't' | b'T' | b'f' | b'F'
            )
    })
}

/// The value of a plain (unquoted, untagged) scalar, resolved as YAML 1.2's core schema does.
pub(super) fn plain_value(text: String) -> Value {
    if !may_be_typed(&text) {
        return Value::Str(text);
    }
    match Yaml::from_str(&text) {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Integer(i) => Value::Int(i),
        Yaml::Real(r) => r.parse().map_or(Value::Str(text), Value::Float),
        _ => Value::Str(text),
    }
}

/// The text of a mapping key written as a scalar (`1` is the key `"1"`, `~` the key `""`);
/// `None` for a sequence or a mapping as a key.
pub(super) fn key_text(value: Value) -> Option<String> {
    match value {
        Value::Str(s) => Some(s),
        Value::Int(i) => Some(i.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Null => Some(String::new()),
        Value::Seq(_) | Value::Map(_) => None,
    }
}

/// Applies YAML merge keys (`<<: *base`, `<<: [*a, *b]`): the merged mappings' entries are
/// added where the mapping does not set them itself. The `<<` entries disappear. Only a plain
/// `<<` is a merge key (a quoted `"<<"` is an ordinary key); merging anything but mappings is
/// an error.
fn merge_keys(
    entries: Vec<Entry>,
    plain: &HashSet<usize>,
    problems: &mut Vec<Problem>,
) -> Vec<Entry> {
    let is_merge = |e: &Entry| e.key == "<<" && plain.contains(&e.key_span.offset);
    if !entries.iter().any(is_merge) {
        return entries;
    }
    let (merges, mut own): (Vec<Entry>, Vec<Entry>) = entries.into_iter().partition(is_merge);
    for merge in merges {
        let sources: Vec<Node> = match merge.value.value {
            Value::Map(_) => vec![merge.value],
            Value::Seq(items) => items,
            _ => {
                problems.push(
                    Problem::error(Code::Yaml, "a merge key `<<` must name a mapping or a list of mappings")
                        .at(merge.value.span, "not a mapping")
                        .help("write `<<: *anchor` with an anchored mapping, or quote the key if `<<` is meant as text"),
                );
                continue;
            }
        };
        for source in sources {
            if !matches!(source.value, Value::Map(_)) {
                problems.push(
                    Problem::error(Code::Yaml, "a merge key `<<` must name mappings only")
                        .at(source.span, "not a mapping")
                        .help("list only anchored mappings after `<<:`"),
                );
                continue;
            }
            if let Value::Map(inherited) = source.value {
                for e in inherited {
                    if !own.iter().any(|o| o.key == e.key) {
                        own.push(e);
                    }
                }
            }
        }
    }
    own
}

/// The bytes of text (scalars and keys) under `node`.
fn text_bytes(node: &Node) -> usize {
    match &node.value {
        Value::Str(s) => s.len(),
        Value::Seq(items) => items.iter().map(text_bytes).sum(),
        Value::Map(entries) => entries
            .iter()
            .map(|e| e.key.len() + text_bytes(&e.value))
            .sum(),
        _ => 8,
    }
}

/// Whether `tag` is one of the core schema's (`!!str`, `!!int`, …, or the non-specific `!`).
fn core_tag(tag: &Tag) -> Option<&str> {
    let handle_ok = tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:";
    if (tag.handle == "!" && tag.suffix.is_empty()) || (tag.handle.is_empty() && tag.suffix == "!")
    {
        return Some("");
    }
    (handle_ok).then_some(tag.suffix.as_str())
}

fn count(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(count).sum(),
        Value::Map(entries) => entries.iter().map(|e| 1 + count(&e.value)).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_skipped_by_the_resolver_are_strings_to_it() {
        // Every plain scalar `may_be_typed` lets through as a string must be one for
        // yaml-rust2's resolver too: words, numbers' look-alikes, every first character.
        let mut samples: Vec<String> = [
            "inf",
            "Infinity",
            "NaN",
            "nan",
            "e5",
            "yes",
            "No",
            "on",
            "OFF",
            "y",
            "x1",
            "a.1",
            "_1",
            "controllers",
            "https://charts.example.com",
            "c12345",
            "Null",
            "nULL",
            "True",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        for c in (0x21u8..0x7f).map(char::from).chain(['é', 'ß', '\u{2028}']) {
            for rest in [
                "", "1", "0", ".5", "e3", "x", "ull", "rue", "alse", "nf", "an",
            ] {
                samples.push(format!("{c}{rest}"));
            }
        }
        for s in &samples {
            if !may_be_typed(s) {
                assert!(
                    matches!(Yaml::from_str(s), Yaml::String(_)),
                    "{s:?} skipped the resolver but is {:?} to it",
                    Yaml::from_str(s)
                );
            }
        }
    }

    fn parse_str(text: &str) -> Result<Node, Vec<Problem>> {
        parse(&Source::new("f.yaml", text.to_owned()))
    }

    #[test]
    fn spans_point_at_scalars_and_keys() {
        let text = "a:\n  b: \"x y\"\n  c: [1, two]\n";
        let node = parse_str(text).unwrap();
        let b = node.at(["a", "b"]).unwrap();
        assert_eq!(&text[b.span.offset..b.span.offset + b.span.len], "\"x y\"");
        let two = node.at(["a", "c", "1"]).unwrap();
        assert_eq!(
            &text[two.span.offset..two.span.offset + two.span.len],
            "two"
        );
        let key = node.get("a").unwrap().entry("c").unwrap().key_span;
        assert_eq!(&text[key.offset..key.offset + key.len], "c");
    }

    #[test]
    fn block_mappings_start_at_their_first_key() {
        let text = "a:\n  - name: x\n    b: 1\n";
        let node = parse_str(text).unwrap();
        let item = &node.get("a").unwrap().items()[0];
        assert_eq!(
            &text[item.span.offset..item.span.offset + item.span.len],
            "name: x"
        );
    }

    #[test]
    fn spans_are_byte_offsets_after_non_ascii() {
        let text = "ü: é\nname: straße\n";
        let node = parse_str(text).unwrap();
        let v = node.get("name").unwrap();
        assert_eq!(&text[v.span.offset..v.span.offset + v.span.len], "straße");
    }

    #[test]
    fn scalars_resolve_like_yaml_1_2() {
        let node = parse_str("a: 1\nb: true\nc: ~\nd: '1'\ne: 1.5\nf: yes\n").unwrap();
        let json = node.to_json();
        assert_eq!(
            json,
            serde_json::json!({"a":1,"b":true,"c":null,"d":"1","e":1.5,"f":"yes"})
        );
    }

    #[test]
    fn duplicate_keys_are_reported_with_both_places() {
        let err = parse_str("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.len(), 1);
        assert!(err[0].message.contains("duplicate key `a`"));
        assert_eq!(err[0].primary.as_ref().unwrap().span.offset, 10);
        assert_eq!(err[0].secondary[0].span.offset, 0);
    }

    #[test]
    fn duplicate_keys_of_a_large_mapping_are_found_by_its_index() {
        let mut text: String = (0..20).fold(String::new(), |mut t, i| {
            t.push_str(&format!("k{i}: {i}\n"));
            t
        });
        text.push_str("k3: again\n");
        let err = parse_str(&text).unwrap_err();
        assert_eq!(err.len(), 1);
        assert!(err[0].message.contains("duplicate key `k3`"));
        assert_eq!(err[0].secondary[0].span.offset, text.find("k3").unwrap());
        assert_eq!(
            err[0].primary.as_ref().unwrap().span.offset,
            text.rfind("k3").unwrap()
        );
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse_str(&text).unwrap_err();
        assert!(err[0].message.contains("alias bomb"), "{}", err[0].message);
    }

    #[test]
    fn merge_keys_fill_in_what_the_mapping_does_not_set() {
        let node =
            parse_str("base: &b {wave: config, path: p}\nc:\n  <<: *b\n  path: q\n").unwrap();
        let c = node.get("c").unwrap();
        assert_eq!(c.get("wave").unwrap().as_str(), Some("config"));
        assert_eq!(c.get("path").unwrap().as_str(), Some("q"));
        assert!(c.get("<<").is_none());
    }

    #[test]
    fn small_aliases_are_expanded() {
        let node = parse_str("base: &b {x: 1}\nother: *b\n").unwrap();
        assert_eq!(node.at(["other", "x"]).unwrap().value, Value::Int(1));
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let err = parse_str("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(err[0].code, Code::Yaml);
        assert!(err[0].primary.is_some());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let err = parse_str(&text).unwrap_err();
        assert!(err[0].message.contains("nesting"));
    }

    #[test]
    fn several_documents_are_refused() {
        let err = parse_str("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(err[0].message.contains("several YAML documents"));
    }

    #[track_caller]
    fn yaml_error(text: &str, needle: &str) {
        let problems = parse_str(text).expect_err(text);
        assert!(
            problems
                .iter()
                .any(|p| p.code == Code::Yaml && p.message.contains(needle) && p.primary.is_some()),
            "{text:?}: {problems:?}"
        );
    }

    #[test]
    fn hostile_yaml_is_a_located_error() {
        yaml_error("a: &x [1, *x]\n", "not complete");
        yaml_error("a: *nothing\n", "unknown anchor");
        yaml_error("b: {<<: 5}\n", "merge key");
        yaml_error("a: !custom x\n", "unknown YAML tag `!custom`");
        yaml_error("a: !!binary aGk=\n", "unknown YAML tag");
        yaml_error("a: !thing {b: 1}\n", "unknown YAML tag");
        // A 1 MiB string repeated 20 times is 20 MiB of text from a 1 MiB file.
        let long = "x".repeat(1 << 20);
        let bomb = format!("a: &s {long}\nb: [{}]\n", vec!["*s"; 20].join(", "));
        yaml_error(&bomb, "MiB of text");
    }

    #[test]
    fn tags_of_the_core_schema_and_quoted_merge_keys_are_read_as_written() {
        let n = parse_str("a: !!str 123\nb: ! 1.5\nc: {\"<<\": {d: 1}}\ne: !!int 7\n").unwrap();
        assert_eq!(n.get("a").unwrap().value, Value::Str("123".to_owned()));
        assert_eq!(n.get("b").unwrap().value, Value::Str("1.5".to_owned()));
        assert!(
            n.get("c").unwrap().get("<<").is_some(),
            "a quoted << is a key"
        );
        assert_eq!(n.get("e").unwrap().value, Value::Int(7));
    }
}
