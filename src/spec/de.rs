//! Deserializes the raw spec straight from the YAML nodes, so every value can keep the span it
//! was written at: a field typed [`Spanned<T>`] gets its value and its span (the way cargo
//! keeps `serde_spanned::Spanned` from `toml`), and a field typed [`Node`] keeps the YAML
//! subtree itself, spans included. Later stages never look a span up again by path.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde::{Deserialize, forward_to_deserialize_any};

use super::source::Span;
use super::yaml::{Entry, Node, Value};

/// The struct name and fields by which [`Spanned`] asks for its span.
const SPANNED: &str = "$__synctl_spanned";
const OFFSET: &str = "$__synctl_offset";
const LEN: &str = "$__synctl_len";
const VALUE: &str = "$__synctl_value";
const FIELDS: &[&str] = &[OFFSET, LEN, VALUE];

/// A value with the span of the YAML it was read from.
#[derive(Clone, Debug)]
pub(crate) struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    /// A value nobody wrote (a default): its span is empty.
    pub(crate) fn unwritten(value: T) -> Spanned<T> {
        Spanned {
            value,
            span: Span::default(),
        }
    }
}

impl<T: Default> Default for Spanned<T> {
    fn default() -> Self {
        Spanned::unwritten(T::default())
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Spanned<T> {}

impl<T: PartialOrd> PartialOrd for Spanned<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.value.partial_cmp(&other.value)
    }
}

impl<T: Ord> Ord for Spanned<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value.cmp(&other.value)
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Spanned<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value read from the spec")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Spanned<T>, A::Error> {
                let (mut offset, mut len, mut value) = (0usize, 0usize, None);
                while let Some(key) = map.next_key::<&str>()? {
                    match key {
                        OFFSET => offset = map.next_value()?,
                        LEN => len = map.next_value()?,
                        _ => value = Some(map.next_value()?),
                    }
                }
                let value =
                    value.ok_or_else(|| de::Error::custom("a spanned value without its value"))?;
                Ok(Spanned {
                    value,
                    span: Span { offset, len },
                })
            }
        }
        d.deserialize_struct(SPANNED, FIELDS, V(std::marker::PhantomData))
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Spanned { value, span } = Spanned::<Value>::deserialize(d)?;
        Ok(Node { value, span })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
                Ok(Value::Bool(b))
            }
            fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
                Ok(Value::Int(i))
            }
            fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
                Ok(Value::Float(f))
            }
            fn visit_str<E>(self, s: &str) -> Result<Value, E> {
                Ok(Value::Str(s.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(n) = seq.next_element::<Node>()? {
                    items.push(n);
                }
                Ok(Value::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    entries.push(Entry {
                        key: key.value,
                        key_span: key.span,
                        value: map.next_value()?,
                    });
                }
                Ok(Value::Map(entries))
            }
        }
        d.deserialize_any(V)
    }
}

/// Why a node did not deserialize (the schema check ran first, so this is rare).
#[derive(Debug)]
pub(crate) struct Error {
    pub message: String,
    pub span: Span,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error {
            message: msg.to_string(),
            span: Span::default(),
        }
    }
}

/// For a field read apart from its struct (see [`items`]): the node is skipped and the field
/// starts empty.
///
/// # Errors
/// Never from this deserializer.
pub(crate) fn read_apart<'de, D: Deserializer<'de>, T: Default>(d: D) -> Result<T, D::Error> {
    de::IgnoredAny::deserialize(d)?;
    Ok(T::default())
}

/// Each item of the sequence `node` (none if it is not one) as a `T`, into a vector allocated
/// once: serde's own `Vec` reader caps its first allocation at 1 MiB and doubles from there,
/// which for 100,000 components was seven copies of up to 80 MB and their page faults.
///
/// # Errors
/// The first item that does not have `T`'s shape.
pub(crate) fn items<'de, T: Deserialize<'de>>(node: Option<&'de Node>) -> Result<Vec<T>, Error> {
    let nodes = node.map_or(&[][..], Node::items);
    let mut out = Vec::with_capacity(nodes.len());
    for n in nodes {
        out.push(from_node(n)?);
    }
    Ok(out)
}

/// Deserializes `T` from `node`.
///
/// # Errors
/// When the node does not have `T`'s shape, located at the node that does not.
pub(crate) fn from_node<'de, T: Deserialize<'de>>(node: &'de Node) -> Result<T, Error> {
    T::deserialize(NodeDe(node))
}

/// A deserializer over one node.
#[derive(Clone, Copy)]
struct NodeDe<'de>(&'de Node);

impl NodeDe<'_> {
    fn locate(self, mut e: Error) -> Error {
        if e.span == Span::default() {
            e.span = self.0.span;
        }
        e
    }
}

impl<'de> Deserializer<'de> for NodeDe<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        let r = match &self.0.value {
            Value::Null => v.visit_unit(),
            Value::Bool(b) => v.visit_bool(*b),
            Value::Int(i) => v.visit_i64(*i),
            Value::Float(f) => v.visit_f64(*f),
            Value::Str(s) => v.visit_borrowed_str(s),
            Value::Seq(items) => v.visit_seq(Seq(items.iter())),
            Value::Map(entries) => v.visit_map(Map {
                entries: entries.iter(),
                value: None,
            }),
        };
        r.map_err(|e| self.locate(e))
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.0.value {
            Value::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        if name == SPANNED {
            return v.visit_map(SpanMap {
                span: self.0.span,
                value: Some(self),
                step: 0,
            });
        }
        let _ = fields;
        self.deserialize_any(v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        match &self.0.value {
            Value::Str(s) => v
                .visit_enum(s.as_str().into_deserializer())
                .map_err(|e: Error| self.locate(e)),
            _ => Err(self.locate(de::Error::custom("expected a string"))),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        // JSON Schema counts `1.0` as an integer; so does the model.
        match self.0.value {
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                #[allow(clippy::cast_possible_truncation)] // reason: integral and within range
                let i = f as i64;
                v.visit_i64(i).map_err(|e| self.locate(e))
            }
            _ => self.deserialize_any(v),
        }
    }

    /// A node nobody reads is not walked.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier
    }
}

struct Seq<'de>(std::slice::Iter<'de, Node>);

impl<'de> SeqAccess<'de> for Seq<'de> {
    type Error = Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0
            .next()
            .map(|n| seed.deserialize(NodeDe(n)))
            .transpose()
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Map<'de> {
    entries: std::slice::Iter<'de, Entry>,
    value: Option<&'de Node>,
}

impl<'de> MapAccess<'de> for Map<'de> {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(e) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(&e.value);
        seed.deserialize(KeyDe(e)).map(Some).map_err(|mut err| {
            if err.span == Span::default() {
                err.span = e.key_span;
            }
            err
        })
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let node = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("a value without its key"))?;
        seed.deserialize(NodeDe(node))
    }
}

/// A mapping key: a string, or a [`Spanned`] string with the key's span.
struct KeyDe<'de>(&'de Entry);

impl<'de> Deserializer<'de> for KeyDe<'de> {
    type Error = Error;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_borrowed_str(&self.0.key)
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        if name == SPANNED {
            return v.visit_map(SpanMap {
                span: self.0.key_span,
                value: Some(self),
                step: 0,
            });
        }
        self.deserialize_any(v)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        v.visit_enum(self.0.key.as_str().into_deserializer())
    }
    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
        identifier ignored_any
    }
}

/// The three fields a [`Spanned`] asks for: offset, length, then the value itself.
struct SpanMap<D> {
    span: Span,
    value: Option<D>,
    step: u8,
}

impl<'de, D: Deserializer<'de, Error = Error>> MapAccess<'de> for SpanMap<D> {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let key = match self.step {
            0 => OFFSET,
            1 => LEN,
            2 => VALUE,
            _ => return Ok(None),
        };
        seed.deserialize(de::value::BorrowedStrDeserializer::new(key))
            .map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        self.step += 1;
        match self.step {
            1 => seed.deserialize((self.span.offset as u64).into_deserializer()),
            2 => seed.deserialize((self.span.len as u64).into_deserializer()),
            _ => {
                let d = self
                    .value
                    .take()
                    .ok_or_else(|| de::Error::custom("a spanned value read twice"))?;
                seed.deserialize(d)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::source::Source;
    use crate::spec::yaml;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Item {
        name: Spanned<String>,
        tags: Vec<Spanned<String>>,
        kind: Option<Spanned<Kind>>,
        rest: Option<Node>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Hub,
        Fleet,
    }

    #[test]
    fn values_keep_the_byte_span_they_were_written_at() {
        let text = "name: é-x\ntags: [a, bb]\nkind: hub\nrest: {k: [1, v]}\n";
        let src = Source::new("t.yaml", text.to_owned());
        let node = yaml::parse(&src).unwrap();
        let item: Item = from_node(&node).unwrap();
        let at = |s: Span| &text[s.offset..s.offset + s.len];
        assert_eq!(at(item.name.span), "é-x");
        assert_eq!(
            item.tags.iter().map(|t| at(t.span)).collect::<Vec<_>>(),
            ["a", "bb"]
        );
        let kind = item.kind.unwrap();
        assert_eq!((kind.value, at(kind.span)), (Kind::Hub, "hub"));
        let rest = item.rest.unwrap();
        assert_eq!(rest.to_json(), serde_json::json!({"k": [1, "v"]}));
        let k = rest.entry("k").unwrap();
        assert_eq!(at(k.key_span), "k");
        assert_eq!(at(k.value.items()[1].span), "v");
    }

    #[test]
    fn integral_floats_are_integers() {
        #[derive(Deserialize)]
        struct L {
            limit: i64,
        }
        let src = Source::new("t.yaml", "limit: 1.0\n".to_owned());
        let node = yaml::parse(&src).unwrap();
        assert_eq!(from_node::<L>(&node).unwrap().limit, 1);
    }

    #[test]
    fn unknown_fields_and_bad_enums_are_located() {
        let text = "name: a\ntags: []\nkind: moon\n";
        let src = Source::new("t.yaml", text.to_owned());
        let node = yaml::parse(&src).unwrap();
        let err = from_node::<Item>(&node).unwrap_err();
        assert_eq!(
            &text[err.span.offset..err.span.offset + err.span.len],
            "moon"
        );
    }
}
