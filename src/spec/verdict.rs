//! Whether the spec matches the schema, decided without compiling it.
//!
//! Compiling `fleet.schema.json` with jsonschema (its meta-schema, its references, fifteen
//! regular expressions) costs more than everything else `validate` does for a spec of a few
//! hundred lines. Most specs are valid, and a valid spec needs only a yes. This module is a
//! small interpreter of the keywords the schema uses, over the YAML nodes, answering only
//! "valid or not"; when it says no, jsonschema is compiled to say why ([`super::schema`]).
//!
//! It reads exactly the draft-07 keywords below; a schema with any other keyword does not
//! build here ([`Verdict::build`] returns `None`) and every spec then goes to jsonschema, so a
//! schema change can never make this module wave an invalid spec through. Tests hold its
//! verdict equal to jsonschema's on every spec of the repository and on mutated ones.
//! Regular expressions are compiled on first use, once.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value as Json;

use super::yaml::{Node, Value};

/// Index of a compiled subschema in [`Verdict::schemas`].
type Id = usize;

/// The JSON types a `type` keyword allows, as bits.
const NULL: u8 = 1;
const BOOLEAN: u8 = 2;
const INTEGER: u8 = 4;
const NUMBER: u8 = 8;
const STRING: u8 = 16;
const ARRAY: u8 = 32;
const OBJECT: u8 = 64;

enum Rule {
    Always(bool),
    Type(u8),
    /// `properties` (sorted by name) with `additionalProperties`: `None` allows any other key.
    Properties {
        known: Vec<(String, Id)>,
        other: Option<Id>,
    },
    Required(Vec<String>),
    PropertyNames(Id),
    Items(Id),
    MinItems(usize),
    UniqueItems,
    Enum(Vec<Json>),
    Const(Json),
    Pattern(usize),
    MinLength(usize),
    MaxLength(usize),
    Minimum(f64),
    Maximum(f64),
    AllOf(Vec<Id>),
    AnyOf(Vec<Id>),
    OneOf(Vec<Id>),
    Not(Id),
    IfThenElse(Id, Option<Id>, Option<Id>),
    /// A `$ref` target, resolved once every subschema is built.
    Ref(Id),
}

/// The schema, ready to judge nodes.
pub struct Verdict {
    /// The rules of each subschema; the root is 0.
    schemas: Vec<Vec<Rule>>,
    patterns: Vec<Pattern>,
}

/// A `pattern` keyword: matched by hand when it is one of the schema's own (see [`known`]),
/// else by `regex`, compiled on first use.
struct Pattern {
    text: String,
    by_hand: Option<fn(&str) -> bool>,
    compiled: OnceLock<Option<Regex>>,
}

impl Pattern {
    fn new(text: String) -> Pattern {
        Pattern {
            by_hand: known(&text),
            text,
            compiled: OnceLock::new(),
        }
    }

    fn is_match(&self, s: &str) -> bool {
        if let Some(by_hand) = self.by_hand {
            return by_hand(s);
        }
        self.compiled
            .get_or_init(|| {
                // As jsonschema reads it: ECMA-262 syntax translated for `regex`.
                let rust = jsonschema_regex::to_rust_regex(&self.text).ok()?;
                Regex::new(&rust).ok()
            })
            .as_ref()
            .is_some_and(|re| re.is_match(s))
    }
}

/// Keywords that carry no rule.
const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "title",
    "description",
    "default",
    "definitions",
    "examples",
    "$comment",
];

struct Builder<'a> {
    root: &'a Json,
    schemas: Vec<Vec<Rule>>,
    /// Subschemas already built, by address in the schema document (references share them).
    built: HashMap<*const Json, Id>,
    patterns: Vec<String>,
}

impl<'a> Builder<'a> {
    /// Builds `schema` (once: a reference to it, or a cycle of references, reuses the id).
    fn build(&mut self, schema: &'a Json) -> Option<Id> {
        if let Some(&id) = self.built.get(&std::ptr::from_ref(schema)) {
            return Some(id);
        }
        let id = self.schemas.len();
        self.schemas.push(Vec::new());
        self.built.insert(std::ptr::from_ref(schema), id);
        let rules = self.rules(schema)?;
        self.schemas[id] = rules;
        Some(id)
    }

    fn rules(&mut self, schema: &'a Json) -> Option<Vec<Rule>> {
        let obj = match schema {
            Json::Bool(b) => return Some(vec![Rule::Always(*b)]),
            Json::Object(obj) => obj,
            _ => return None,
        };
        // Draft-07: the siblings of `$ref` are ignored.
        if let Some(target) = obj.get("$ref") {
            let target = target.as_str()?.strip_prefix('#')?;
            let target = self.root.pointer(percent_free(target)?)?;
            return Some(vec![Rule::Ref(self.build(target)?)]);
        }
        let mut rules = Vec::new();
        for (key, value) in obj {
            let rule = match key.as_str() {
                k if ANNOTATIONS.contains(&k) => continue,
                "type" => Rule::Type(types(value)?),
                // Read with `properties` (below), or alone when there is none.
                "additionalProperties" if obj.contains_key("properties") => continue,
                "properties" | "additionalProperties" => {
                    let mut known = Vec::new();
                    if let Some(props) = obj.get("properties") {
                        for (name, sub) in props.as_object()? {
                            known.push((name.clone(), self.build(sub)?));
                        }
                    }
                    known.sort_by(|a, b| a.0.cmp(&b.0));
                    let other = match obj.get("additionalProperties") {
                        None => None,
                        Some(sub) => Some(self.build(sub)?),
                    };
                    Rule::Properties { known, other }
                }
                "required" => Rule::Required(
                    value
                        .as_array()?
                        .iter()
                        .map(|v| v.as_str().map(str::to_owned))
                        .collect::<Option<_>>()?,
                ),
                "propertyNames" => Rule::PropertyNames(self.build(value)?),
                // Only the one-schema form of `items` is read.
                "items" if value.is_object() || value.is_boolean() => {
                    Rule::Items(self.build(value)?)
                }
                "minItems" => Rule::MinItems(usize::try_from(value.as_u64()?).ok()?),
                "uniqueItems" => {
                    if value.as_bool()? {
                        Rule::UniqueItems
                    } else {
                        continue;
                    }
                }
                "enum" => Rule::Enum(value.as_array()?.clone()),
                "const" => Rule::Const(value.clone()),
                "pattern" => {
                    self.patterns.push(value.as_str()?.to_owned());
                    Rule::Pattern(self.patterns.len() - 1)
                }
                "minLength" => Rule::MinLength(usize::try_from(value.as_u64()?).ok()?),
                "maxLength" => Rule::MaxLength(usize::try_from(value.as_u64()?).ok()?),
                "minimum" => Rule::Minimum(value.as_f64()?),
                "maximum" => Rule::Maximum(value.as_f64()?),
                "allOf" | "anyOf" | "oneOf" => {
                    let ids = value
                        .as_array()?
                        .iter()
                        .map(|sub| self.build(sub))
                        .collect::<Option<Vec<_>>>()?;
                    match key.as_str() {
                        "allOf" => Rule::AllOf(ids),
                        "anyOf" => Rule::AnyOf(ids),
                        _ => Rule::OneOf(ids),
                    }
                }
                "not" => Rule::Not(self.build(value)?),
                "if" => {
                    let then = match obj.get("then") {
                        Some(sub) => Some(self.build(sub)?),
                        None => None,
                    };
                    let otherwise = match obj.get("else") {
                        Some(sub) => Some(self.build(sub)?),
                        None => None,
                    };
                    Rule::IfThenElse(self.build(value)?, then, otherwise)
                }
                // Without `if`, `then` and `else` do nothing.
                "then" | "else" => continue,
                // Any other keyword: this interpreter does not know it.
                _ => return None,
            };
            rules.push(rule);
        }
        Some(rules)
    }
}

/// The schema's own patterns, matched without a regular expression (compiling the fifteen of
/// them cost more than the rest of a small spec's check). Each is held equal to `regex` by a
/// test over every short string of the characters that matter.
fn known(pattern: &str) -> Option<fn(&str) -> bool> {
    Some(match pattern {
        "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" => |s| {
            edges_and_body(
                s,
                |c| c.is_ascii_lowercase() || c.is_ascii_digit(),
                |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-',
            )
        },
        "^[a-z0-9]([-a-z0-9.:]*[a-z0-9])?$" => |s| {
            edges_and_body(
                s,
                |c| c.is_ascii_lowercase() || c.is_ascii_digit(),
                |c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"-.:".contains(&c),
            )
        },
        "^(\\./)?([A-Za-z0-9._-]+/)*[A-Za-z0-9._-]*/?$" => {
            |s| relative_path(s) || s.strip_prefix("./").is_some_and(relative_path)
        }
        "^[A-Za-z0-9._/-]+$" => {
            |s| all_of(s, |c| c.is_ascii_alphanumeric() || b"._/-".contains(&c))
        }
        "^[A-Za-z0-9._-]+$" => |s| all_of(s, |c| c.is_ascii_alphanumeric() || b"._-".contains(&c)),
        "^[-._a-zA-Z0-9]+$" => |s| all_of(s, |c| c.is_ascii_alphanumeric() || b"._-".contains(&c)),
        "^(https?|ssh)://[^\\s]+$" => |s| url(s, &["http://", "https://", "ssh://"]),
        "^(https?|oci)://[^\\s]+$" => |s| url(s, &["http://", "https://", "oci://"]),
        "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$" => duration,
        "^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$" => quantity,
        "^([a-z0-9.-]+/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$" => |s| {
            let name = match s.split_once('/') {
                Some((prefix, name)) => {
                    let prefix_ok = all_of(prefix, |c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || b".-".contains(&c)
                    });
                    if !prefix_ok {
                        return false;
                    }
                    name
                }
                None => s,
            };
            label_value(name) && !name.is_empty()
        },
        "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$" => label_value,
        "^[_a-zA-Z][_a-zA-Z0-9]*$" => identifier,
        "\\$\\{[_a-zA-Z][_a-zA-Z0-9]*\\}" => |s| {
            s.match_indices("${").any(|(i, _)| {
                let rest = &s[i + 2..];
                rest.split_once('}')
                    .is_some_and(|(name, _)| identifier(name))
            })
        },
        _ => return None,
    })
}

/// Non-empty, every byte in `body`, the first and the last in `edge`.
fn edges_and_body(s: &str, edge: fn(u8) -> bool, body: fn(u8) -> bool) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&first), Some(&last)) => edge(first) && edge(last) && b.iter().all(|&c| body(c)),
        _ => false,
    }
}

/// Non-empty and every byte in the class.
fn all_of(s: &str, class: fn(u8) -> bool) -> bool {
    !s.is_empty() && s.bytes().all(class)
}

fn identifier(s: &str) -> bool {
    let b = s.as_bytes();
    b.first()
        .is_some_and(|&c| c == b'_' || c.is_ascii_alphabetic())
        && b.iter().all(|&c| c == b'_' || c.is_ascii_alphanumeric())
}

/// `(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?`: empty, or alphanumeric at both ends.
fn label_value(s: &str) -> bool {
    s.is_empty()
        || edges_and_body(
            s,
            |c| c.is_ascii_alphanumeric(),
            |c| c.is_ascii_alphanumeric() || b"-_.".contains(&c),
        )
}

/// `([S]+/)*[S]*/?` with S = `[A-Za-z0-9._-]`: no leading `/`, no `//` but one at the end.
fn relative_path(s: &str) -> bool {
    let segments = |r: &str| {
        !r.starts_with('/')
            && !r.contains("//")
            && r.bytes()
                .all(|c| c == b'/' || c.is_ascii_alphanumeric() || b"._-".contains(&c))
    };
    segments(s) || s.strip_suffix('/').is_some_and(segments)
}

/// One of `schemes`, then at least one character and no ECMA-262 whitespace.
fn url(s: &str, schemes: &[&str]) -> bool {
    schemes.iter().any(|scheme| {
        s.strip_prefix(scheme).is_some_and(|rest| {
            !rest.is_empty() && !rest.chars().any(jsonschema_regex::is_ecma_whitespace)
        })
    })
}

/// Leading ASCII digits of `b`: how many.
fn digits(b: &[u8]) -> usize {
    b.iter().take_while(|c| c.is_ascii_digit()).count()
}

/// `[0-9]+(\.[0-9]+)?`: the length of the number at the start of `b`, if there is one.
fn decimal(b: &[u8]) -> Option<usize> {
    let whole = digits(b);
    if whole == 0 {
        return None;
    }
    if b.get(whole) == Some(&b'.') {
        let fraction = digits(&b[whole + 1..]);
        if fraction > 0 {
            return Some(whole + 1 + fraction);
        }
    }
    Some(whole)
}

/// `([0-9]+(\.[0-9]+)?(ms|s|m|h))+` (a unit never starts with a digit: greedy is exact).
fn duration(s: &str) -> bool {
    let mut b = s.as_bytes();
    if b.is_empty() {
        return false;
    }
    while !b.is_empty() {
        let Some(n) = decimal(b) else { return false };
        b = &b[n..];
        let unit = if b.starts_with(b"ms") {
            2
        } else if matches!(b.first(), Some(b's' | b'm' | b'h')) {
            1
        } else {
            return false;
        };
        b = &b[unit..];
    }
    true
}

/// `[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?`.
fn quantity(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(n) = decimal(b) else { return false };
    matches!(
        &b[n..],
        b"" | b"m"
            | b"k"
            | b"M"
            | b"G"
            | b"T"
            | b"P"
            | b"E"
            | b"Ki"
            | b"Mi"
            | b"Gi"
            | b"Ti"
            | b"Pi"
            | b"Ei"
    )
}

/// A JSON pointer without percent escapes (the schema writes none).
fn percent_free(pointer: &str) -> Option<&str> {
    (!pointer.contains('%')).then_some(pointer)
}

fn types(value: &Json) -> Option<u8> {
    let one = |name: &Json| match name.as_str()? {
        "null" => Some(NULL),
        "boolean" => Some(BOOLEAN),
        "integer" => Some(INTEGER),
        "number" => Some(NUMBER | INTEGER),
        "string" => Some(STRING),
        "array" => Some(ARRAY),
        "object" => Some(OBJECT),
        _ => None,
    };
    match value {
        Json::Array(names) => names.iter().try_fold(0, |acc, n| Some(acc | one(n)?)),
        name => one(name),
    }
}

/// The JSON type of a node; a non-finite float is null, as in its JSON copy.
fn type_of(node: &Node) -> u8 {
    match &node.value {
        Value::Null => NULL,
        Value::Float(f) if !f.is_finite() => NULL,
        Value::Bool(_) => BOOLEAN,
        Value::Int(_) => INTEGER,
        Value::Float(f) if f.fract() == 0.0 => INTEGER,
        Value::Float(_) => NUMBER,
        Value::Str(_) => STRING,
        Value::Seq(_) => ARRAY,
        Value::Map(_) => OBJECT,
    }
}

/// The node as a number, when it is one.
fn number(node: &Node) -> Option<f64> {
    match node.value {
        #[allow(clippy::cast_precision_loss)]
        Value::Int(i) => Some(i as f64),
        Value::Float(f) if f.is_finite() => Some(f),
        _ => None,
    }
}

/// JSON equality between a node and a schema value (numbers by value).
fn equals(node: &Node, json: &Json) -> bool {
    match (&node.value, json) {
        (Value::Str(s), Json::String(j)) => s == j,
        (Value::Bool(b), Json::Bool(j)) => b == j,
        (_, Json::Null) => type_of(node) == NULL,
        (Value::Int(i), Json::Number(j)) => match (j.as_i64(), j.as_f64()) {
            (Some(j), _) => *i == j,
            #[allow(clippy::cast_precision_loss, clippy::float_cmp)]
            (None, Some(j)) => (*i as f64) == j,
            _ => false,
        },
        #[allow(clippy::float_cmp)]
        (Value::Float(f), Json::Number(j)) => f.is_finite() && j.as_f64() == Some(*f),
        (Value::Seq(items), Json::Array(js)) => {
            items.len() == js.len() && items.iter().zip(js).all(|(n, j)| equals(n, j))
        }
        (Value::Map(entries), Json::Object(js)) => {
            entries.len() == js.len()
                && entries
                    .iter()
                    .all(|e| js.get(&e.key).is_some_and(|j| equals(&e.value, j)))
        }
        _ => false,
    }
}

/// JSON equality between two nodes (numbers by value; keys are unique in a mapping).
fn same(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(m, n)| same(m, n))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter().all(|e| {
                    y.iter()
                        .find(|f| f.key == e.key)
                        .is_some_and(|f| same(&e.value, &f.value))
                })
        }
        _ => match (type_of(a), type_of(b)) {
            (NULL, NULL) => true,
            #[allow(clippy::float_cmp)]
            _ => matches!((number(a), number(b)), (Some(x), Some(y)) if x == y),
        },
    }
}

impl Verdict {
    /// The schema of the binary, built once.
    #[must_use]
    pub fn shipped() -> Option<&'static Verdict> {
        static VERDICT: OnceLock<Option<Verdict>> = OnceLock::new();
        // The schema's JSON is parsed once, for this and for jsonschema when it explains.
        VERDICT
            .get_or_init(|| Verdict::build(super::schema::schema_json()))
            .as_ref()
    }

    /// Builds `schema`, or `None` when it uses a keyword this interpreter does not read.
    #[must_use]
    pub fn build(schema: &Json) -> Option<Verdict> {
        let mut b = Builder {
            root: schema,
            schemas: Vec::new(),
            built: HashMap::new(),
            patterns: Vec::new(),
        };
        b.build(schema)?;
        Some(Verdict {
            schemas: b.schemas,
            patterns: b.patterns.into_iter().map(Pattern::new).collect(),
        })
    }

    /// Whether `root` matches the schema.
    #[must_use]
    pub fn is_valid(&self, root: &Node) -> bool {
        self.valid(0, root)
    }

    fn valid(&self, id: Id, node: &Node) -> bool {
        self.schemas[id].iter().all(|rule| self.holds(rule, node))
    }

    fn holds(&self, rule: &Rule, node: &Node) -> bool {
        match (rule, &node.value) {
            (Rule::Always(b), _) => *b,
            (Rule::Type(allowed), _) => allowed & type_of(node) != 0,
            (Rule::Ref(id), _) => self.valid(*id, node),
            (Rule::Not(id), _) => !self.valid(*id, node),
            (Rule::Properties { known, other }, Value::Map(entries)) => entries.iter().all(|e| {
                match known.binary_search_by(|(k, _)| k.as_str().cmp(&e.key)) {
                    Ok(i) => self.valid(known[i].1, &e.value),
                    Err(_) => other.is_none_or(|id| self.valid(id, &e.value)),
                }
            }),
            (Rule::Required(keys), Value::Map(entries)) => {
                keys.iter().all(|k| entries.iter().any(|e| e.key == *k))
            }
            (Rule::PropertyNames(id), Value::Map(entries)) => entries.iter().all(|e| {
                let key = Node {
                    value: Value::Str(e.key.clone()),
                    span: e.key_span,
                };
                self.valid(*id, &key)
            }),
            (Rule::Items(id), Value::Seq(items)) => items.iter().all(|n| self.valid(*id, n)),
            (Rule::MinItems(min), Value::Seq(items)) => items.len() >= *min,
            (Rule::UniqueItems, Value::Seq(items)) => items
                .iter()
                .enumerate()
                .all(|(i, a)| items[..i].iter().all(|b| !same(a, b))),
            (Rule::Enum(options), _) => options.iter().any(|j| equals(node, j)),
            (Rule::Const(j), _) => equals(node, j),
            (Rule::Pattern(i), Value::Str(s)) => self.patterns[*i].is_match(s),
            (Rule::MinLength(min), Value::Str(s)) => s.chars().count() >= *min,
            (Rule::MaxLength(max), Value::Str(s)) => s.chars().count() <= *max,
            (Rule::Minimum(min), _) => number(node).is_none_or(|x| x >= *min),
            (Rule::Maximum(max), _) => number(node).is_none_or(|x| x <= *max),
            (Rule::AllOf(ids), _) => ids.iter().all(|&id| self.valid(id, node)),
            (Rule::AnyOf(ids), _) => ids.iter().any(|&id| self.valid(id, node)),
            (Rule::OneOf(ids), _) => {
                ids.iter()
                    .filter(|&&id| self.valid(id, node))
                    .take(2)
                    .count()
                    == 1
            }
            (Rule::IfThenElse(cond, then, otherwise), _) => {
                let branch = if self.valid(*cond, node) {
                    then
                } else {
                    otherwise
                };
                branch.is_none_or(|id| self.valid(id, node))
            }
            // A keyword that does not apply to this type of node.
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::source::Source;
    use crate::spec::yaml;

    /// Every spec of the repository: the examples, the test fleets, the bad cases.
    fn seeds() -> Vec<(String, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        for spec in crate::testing::example_specs() {
            let text = std::fs::read_to_string(&spec).unwrap();
            out.push((spec.display().to_string(), text));
        }
        for e in std::fs::read_dir(root.join("tests/bad")).unwrap().flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "yaml") {
                out.push((
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                ));
            }
        }
        assert!(out.len() > 60, "{} seeds", out.len());
        out
    }

    /// Scalars that exercise every rule: types, numbers written as floats, patterns, lengths,
    /// enums, bounds.
    const VALUES: &[&str] = &[
        "1",
        "1.0",
        "1.5",
        "-1",
        "-2",
        "0",
        "1000001",
        ".inf",
        "true",
        "null",
        "\"\"",
        "[]",
        "{}",
        "[a, a]",
        "[a, b]",
        "x y",
        "Upper",
        "a-",
        "5m",
        "5x",
        "https://x/y",
        "ssh://h/r",
        "oci://r/c",
        "1Gi",
        "10m",
        "argocd",
        "flux",
        "hub",
        "RetryOnFailure",
        "main",
        "${X}",
        "\"a\\u00a0b\"",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ];

    /// The seeds, and each with one line's value replaced (by eight of [`VALUES`]), one line's key renamed, one line
    /// deleted: what the interpreter and jsonschema must judge alike.
    fn variants(text: &str) -> impl Iterator<Item = String> + '_ {
        let lines: Vec<&str> = text.lines().collect();
        let n = lines.len();
        let with = move |i: usize, line: Option<String>| {
            let mut out = String::new();
            for (j, l) in lines.iter().enumerate() {
                if j != i {
                    out.push_str(l);
                    out.push('\n');
                } else if let Some(line) = &line {
                    out.push_str(line);
                    out.push('\n');
                }
            }
            out
        };
        let lines2: Vec<&str> = text.lines().collect();
        std::iter::once(text.to_owned()).chain((0..n).flat_map(move |i| {
            let line = lines2[i];
            let mut out = vec![with(i, None)];
            if let Some((key, _)) = line.split_once(": ") {
                // Eight of the values per line, a different eight on the next line.
                for k in 0..8 {
                    let v = VALUES[(i * 8 + k) % VALUES.len()];
                    out.push(with(i, Some(format!("{key}: {v}"))));
                }
                let indent = key.len() - key.trim_start().len();
                let bullet = if key.trim_start().starts_with("- ") {
                    "- "
                } else {
                    ""
                };
                out.push(with(i, Some(format!("{}{bullet}zzz: 1", &key[..indent]))));
            }
            out
        }))
    }

    #[test]
    fn the_shipped_schema_builds_here_with_every_pattern_matched_by_hand() {
        let verdict = Verdict::shipped().unwrap();
        assert!(verdict.patterns.len() >= 15);
        for p in &verdict.patterns {
            assert!(p.by_hand.is_some(), "no hand matcher for {}", p.text);
        }
    }

    /// Every string of up to three characters from the ones the patterns treat apart, and
    /// longer strings built from the patterns' own pieces: each hand matcher says what
    /// `regex` says.
    #[test]
    fn hand_matchers_match_as_regex_does() {
        const CHARS: &[char] = &[
            'a', 'z', 'A', 'Z', '0', '9', '-', '.', '_', '/', ':', '$', '{', '}', ' ', '\u{a0}',
            '\n', 'é', 'm', 's', 'h', 'i', 'k', 'K', 'G', 'E',
        ];
        let mut corpus = crate::testing::strings_up_to(CHARS, 3);
        let pieces = [
            "https://", "http://", "ssh://", "oci://", "./", "a/", "a//", "/", "1.5", "10", "ms",
            "m", "s", "h", "Ki", "Gi", "${A}", "${_b9}", "${", "}", "x.y-z/", "aA9", "-", " ", "é",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    corpus.push(format!("{a}{b}{c}"));
                }
            }
        }
        let verdict = Verdict::shipped().unwrap();
        for p in &verdict.patterns {
            let re = Regex::new(&jsonschema_regex::to_rust_regex(&p.text).unwrap()).unwrap();
            let by_hand = p.by_hand.unwrap();
            let mut matched = 0;
            for s in &corpus {
                assert_eq!(by_hand(s), re.is_match(s), "pattern {} on {s:?}", p.text);
                matched += usize::from(re.is_match(s));
            }
            assert!(matched > 0, "{} matched nothing", p.text);
        }
    }

    #[test]
    fn an_unknown_keyword_does_not_build() {
        let schema = serde_json::json!({"properties": {"a": {"format": "email"}}});
        assert!(Verdict::build(&schema).is_none());
    }

    /// The interpreter and jsonschema agree on every spec of the repository and on thousands
    /// of variants of them, and both verdicts occur.
    #[test]
    fn judges_as_jsonschema_does() {
        let verdict = Verdict::shipped().unwrap();
        let jsonschema = super::super::schema::validator().unwrap();
        let (mut valid, mut invalid) = (0, 0);
        for (name, seed) in seeds() {
            // The bad cases as they are; the working fleets with every variant.
            let texts: Vec<String> = if name.contains("tests/bad") {
                vec![seed]
            } else {
                variants(&seed).collect()
            };
            for text in texts {
                let Ok(node) = yaml::parse(&Source::new("f", text.clone())) else {
                    continue;
                };
                let expected = jsonschema.is_valid(&node);
                assert_eq!(verdict.is_valid(&node), expected, "{name}:\n{text}");
                if expected {
                    valid += 1;
                } else {
                    invalid += 1;
                }
            }
        }
        eprintln!("{valid} valid, {invalid} invalid");
        assert!(
            valid > 500 && invalid > 2000,
            "{valid} valid, {invalid} invalid"
        );
    }
}
