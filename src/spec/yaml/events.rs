//! The YAML event receiver that builds the node tree: spans, anchors and aliases (within the
//! limits that stop an alias bomb), duplicate and merge keys, the core schema's tags.

use std::collections::{HashMap, HashSet};

use yaml_rust2::parser::{Event, MarkedEventReceiver, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::{
    Entry, MAX_ALIAS_BYTES, MAX_ALIAS_NODES, MAX_DEPTH, MAX_KEY_CHARS, Node, Value, core_tag,
    count, defined_before, key_text, line_span, merge_keys, plain_value, scalar_span, text_bytes,
};
use crate::diag::{Code, Problem};
use crate::spec::source::{Source, Span};

enum Frame {
    Seq {
        items: Vec<Node>,
        span: Span,
        anchor: usize,
    },
    Map {
        entries: Vec<Entry>,
        seen: HashMap<String, Span>,
        key: Option<(String, Span)>,
        span: Span,
        anchor: usize,
    },
}

pub(super) struct Builder<'s> {
    source: &'s Source,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize, usize)>,
    alias_nodes: usize,
    alias_bytes: usize,
    /// Offsets of the plain (unquoted) `<<` keys: only those are merge keys.
    plain_merge_keys: HashSet<usize>,
    pub(super) documents: Vec<Node>,
    pub(super) document_starts: Vec<usize>,
    pub(super) problems: Vec<Problem>,
    pub(super) fatal: bool,
    /// (character index, byte offset) of the last marker seen.
    cursor: (usize, usize),
}

impl<'s> Builder<'s> {
    pub(super) fn new(source: &'s Source) -> Builder<'s> {
        Builder {
            source,
            stack: Vec::new(),
            anchors: HashMap::new(),
            alias_nodes: 0,
            alias_bytes: 0,
            plain_merge_keys: HashSet::new(),
            documents: Vec::new(),
            document_starts: Vec::new(),
            cursor: (0, 0),
            problems: Vec::new(),
            fatal: false,
        }
    }
}

impl Builder<'_> {
    /// The byte offset of `mark`. Markers count characters; events arrive in order, so a
    /// cursor (character index → byte offset) moves forward instead of rescanning lines.
    fn offset(&mut self, mark: Marker) -> usize {
        let (chars, bytes) = self.cursor;
        if mark.index() < chars {
            return self.source.offset_of(mark.line(), mark.col());
        }
        let text = &self.source.text[bytes..];
        let ahead = mark.index() - chars;
        let delta = if text.len() >= ahead && text.as_bytes()[..ahead].is_ascii() {
            ahead
        } else {
            text.char_indices()
                .nth(ahead)
                .map_or(text.len(), |(i, _)| i)
        };
        self.cursor = (mark.index(), bytes + delta);
        bytes + delta
    }

    fn line_span(&self, offset: usize) -> Span {
        line_span(&self.source.text, offset)
    }

    fn scalar_span(&self, offset: usize, value: &str, style: TScalarStyle) -> Span {
        scalar_span(&self.source.text, offset, value, style)
    }

    fn push_node(&mut self, node: Node, anchor: usize, size: usize) {
        if anchor != 0 {
            let bytes = text_bytes(&node);
            self.anchors.insert(anchor, (node.clone(), size, bytes));
        }
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries, seen, key, ..
            }) => match key.take() {
                None => {
                    let span = node.span;
                    let text = key_text(node.value).unwrap_or_else(|| {
                        self.problems.push(
                            Problem::error(Code::Yaml, "a mapping key must be a plain value")
                                .at(span, "complex key")
                                .help("use a string as the key"),
                        );
                        String::new()
                    });
                    // YAML restricts an implicit key to 1,024 characters: libyaml and go-yaml
                    // (kustomize, Flux) refuse a longer one, and synctl writes keys implicitly.
                    if text.chars().count() > MAX_KEY_CHARS {
                        self.problems.push(
                            Problem::error(
                                Code::Yaml,
                                format!("a mapping key of {} characters; YAML readers take at most {MAX_KEY_CHARS}", text.chars().count()),
                            )
                            .at(Span::new(span.offset, span.len.min(64)), "this key")
                            .help("shorten the key: kustomize and Flux could not read it back"),
                        );
                    }
                    if let Some(first) = defined_before(entries, seen, &text, span) {
                        self.problems.push(
                            Problem::error(Code::Yaml, format!("duplicate key `{text}`"))
                                .at(span, "defined again here")
                                .also(first, "first defined here")
                                .help("YAML keeps only one of them; remove or merge the duplicate"),
                        );
                    }
                    *key = Some((text, span));
                }
                Some((k, key_span)) => entries.push(Entry {
                    key: k,
                    key_span,
                    value: node,
                }),
            },
        }
    }

    fn open(&mut self, frame: Frame, span: Span) {
        if self.stack.len() >= MAX_DEPTH {
            self.problems.push(
                Problem::error(
                    Code::Yaml,
                    format!("nesting deeper than {MAX_DEPTH} levels"),
                )
                .at(span, "too deep")
                .help("a fleet spec never needs this depth; check for runaway nesting"),
            );
            self.fatal = true;
            return;
        }
        self.stack.push(frame);
    }

    fn close(&mut self) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let (node, anchor) = match frame {
            Frame::Seq {
                items,
                span,
                anchor,
            } => (
                Node {
                    value: Value::Seq(items),
                    span,
                },
                anchor,
            ),
            Frame::Map {
                entries,
                span,
                anchor,
                ..
            } => {
                let entries = merge_keys(entries, &self.plain_merge_keys, &mut self.problems);
                // yaml-rust2 marks a block mapping after its first key: start at that key.
                let span = match entries.first() {
                    Some(first) if first.key_span.offset < span.offset => {
                        self.line_span(first.key_span.offset)
                    }
                    _ => span,
                };
                (
                    Node {
                        value: Value::Map(entries),
                        span,
                    },
                    anchor,
                )
            }
        };
        let size = if anchor == 0 { 0 } else { count(&node) };
        self.push_node(node, anchor, size);
    }
}

impl Builder<'_> {
    /// A tag outside the core schema: synctl would not know what it means, so it says so.
    fn unknown_tag(&mut self, tag: Option<&Tag>, span: Span) {
        let name = tag.map_or_else(String::new, |t| format!("{}{}", t.handle, t.suffix));
        self.problems.push(
            Problem::error(Code::Yaml, format!("unknown YAML tag `{name}`"))
                .at(span, "synctl reads only plain YAML values")
                .help("remove the tag (`!!str` to force a string is fine)"),
        );
        self.fatal = true;
    }
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.fatal {
            return;
        }
        let offset = self.offset(mark);
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                self.scalar(text, style, anchor, tag.as_ref(), offset);
            }
            Event::SequenceStart(anchor, tag) => {
                let span = self.line_span(offset);
                if tag
                    .as_ref()
                    .is_some_and(|t| !matches!(core_tag(t), Some("seq" | "")))
                {
                    return self.unknown_tag(tag.as_ref(), span);
                }
                let items = Vec::new();
                self.open(
                    Frame::Seq {
                        items,
                        span,
                        anchor,
                    },
                    span,
                );
            }
            Event::MappingStart(anchor, tag) => {
                let span = self.line_span(offset);
                if tag
                    .as_ref()
                    .is_some_and(|t| !matches!(core_tag(t), Some("map" | "")))
                {
                    return self.unknown_tag(tag.as_ref(), span);
                }
                let (entries, seen, key) = (Vec::new(), HashMap::new(), None);
                let frame = Frame::Map {
                    entries,
                    seen,
                    key,
                    span,
                    anchor,
                };
                self.open(frame, span);
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(),
            Event::Alias(id) => self.alias(id, offset),
            Event::DocumentStart => self.document_starts.push(offset),
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
    }
}

impl Builder<'_> {
    /// A scalar: a string unless plain (then resolved as YAML 1.2's core schema does) or
    /// tagged with a core tag; any other tag is refused.
    fn scalar(
        &mut self,
        text: String,
        style: TScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        offset: usize,
    ) {
        let span = self.scalar_span(offset, &text, style);
        if style == TScalarStyle::Plain && text == "<<" {
            self.plain_merge_keys.insert(span.offset);
        }
        let tagged = match tag.map(core_tag) {
            None => None,
            Some(Some(t)) if matches!(t, "" | "str" | "int" | "float" | "bool" | "null") => Some(t),
            Some(_) => return self.unknown_tag(tag, span),
        };
        let value = if matches!(tagged, Some("" | "str")) {
            Value::Str(text)
        } else if style == TScalarStyle::Plain {
            plain_value(text)
        } else {
            Value::Str(text)
        };
        self.push_node(Node { value, span }, anchor, 1);
    }

    /// An alias: a copy of the anchored node, within the limits that stop an alias bomb.
    fn alias(&mut self, id: usize, offset: usize) {
        let Some((node, size, bytes)) = self.anchors.get(&id).cloned() else {
            self.problems.push(
                Problem::error(
                    Code::Yaml,
                    "an alias names an anchor that is not complete here",
                )
                .at(
                    Span::new(offset, 1),
                    "refers to itself or to an anchor defined later",
                )
                .help("an alias may only repeat a value anchored before it; write the value out"),
            );
            self.fatal = true;
            return;
        };
        self.alias_nodes += size;
        self.alias_bytes += bytes;
        let over = if self.alias_bytes > MAX_ALIAS_BYTES {
            Some((
                format!(
                    "aliases expand to more than {} MiB of text (an alias bomb)",
                    MAX_ALIAS_BYTES >> 20
                ),
                "write the values out instead of repeating long anchored values",
            ))
        } else if self.alias_nodes > MAX_ALIAS_NODES {
            Some((
                format!("aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb)"),
                "write the values out instead of nesting aliases of aliases",
            ))
        } else {
            None
        };
        if let Some((message, help)) = over {
            self.problems.push(
                Problem::error(Code::Yaml, message)
                    .at(Span::new(offset, 1), "this alias crosses the limit")
                    .help(help),
            );
            self.fatal = true;
            return;
        }
        let span = Span::new(offset, 1);
        self.push_node(Node { span, ..node }, 0, size);
    }
}
