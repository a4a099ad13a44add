//! The YAML nodes as jsonschema's instance representation: the schema reads the spec where it
//! is, without a JSON copy of the whole document. A non-finite float (`.inf`, `.nan`) reads as
//! null, as it would in JSON.

use std::borrow::Cow;

use jsonschema::json::{Array, Json, JsonNumber, Node as JsonNode, NodeIdentity, Object};
use jsonschema::types::JsonType;
use serde_json::Value as JsonValue;

use super::yaml::{Entry, Node, Value};

/// The representation: instances are `&Node`.
pub struct Yaml;

impl Json for Yaml {
    type Node<'a> = &'a Node;
    type PreparedKey = String;
    type StringBuffer = Node;

    fn prepare_key(key: &str) -> String {
        key.to_owned()
    }

    fn with_string_node<T>(buffer: &mut Node, string: &str, f: impl FnOnce(&Node) -> T) -> T {
        if let Value::Str(existing) = &mut buffer.value {
            existing.clear();
            existing.push_str(string);
        } else {
            buffer.value = Value::Str(string.to_owned());
        }
        f(buffer)
    }
}

/// A YAML number.
#[derive(Clone, Copy, Debug)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl JsonNumber for Number {
    fn as_u64(&self) -> Option<u64> {
        match *self {
            Number::Int(i) => u64::try_from(i).ok(),
            Number::Float(_) => None,
        }
    }

    fn as_i64(&self) -> Option<i64> {
        match *self {
            Number::Int(i) => Some(i),
            Number::Float(_) => None,
        }
    }

    fn as_f64(&self) -> Option<f64> {
        match *self {
            // The nearest float, as serde_json gives for an integer.
            #[allow(clippy::cast_precision_loss)]
            Number::Int(i) => Some(i as f64),
            Number::Float(f) => Some(f),
        }
    }

    fn as_str(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_number().to_string())
    }

    fn to_number(&self) -> Cow<'_, serde_json::Number> {
        Cow::Owned(match *self {
            Number::Int(i) => serde_json::Number::from(i),
            // Only finite floats become numbers (see `number`).
            Number::Float(f) => serde_json::Number::from_f64(f).unwrap_or_else(|| 0.into()),
        })
    }

    fn is_written_as_integer(&self) -> bool {
        matches!(self, Number::Int(_))
    }
}

fn number(node: &Node) -> Option<Number> {
    match node.value {
        Value::Int(i) => Some(Number::Int(i)),
        Value::Float(f) if f.is_finite() => Some(Number::Float(f)),
        _ => None,
    }
}

impl<'a> JsonNode<'a, Yaml> for &'a Node {
    type Object = Members<'a>;
    type Array = &'a [Node];
    type Number = Number;

    fn as_object(&self) -> Option<Members<'a>> {
        match &self.value {
            Value::Map(entries) => Some(Members(entries)),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<&'a [Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    fn as_string(&self) -> Option<Cow<'a, str>> {
        match &self.value {
            Value::Str(s) => Some(Cow::Borrowed(s)),
            _ => None,
        }
    }

    fn as_number(&self) -> Option<Number> {
        number(self)
    }

    fn as_boolean(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        self.json_type() == JsonType::Null
    }

    fn json_type(&self) -> JsonType {
        match &self.value {
            Value::Null => JsonType::Null,
            Value::Float(f) if !f.is_finite() => JsonType::Null,
            Value::Bool(_) => JsonType::Boolean,
            Value::Int(_) | Value::Float(_) => JsonType::Number,
            Value::Str(_) => JsonType::String,
            Value::Seq(_) => JsonType::Array,
            Value::Map(_) => JsonType::Object,
        }
    }

    fn to_value(&self) -> Cow<'a, JsonValue> {
        Cow::Owned(self.to_json())
    }

    fn identity(&self) -> Option<NodeIdentity> {
        Some(NodeIdentity::new(std::ptr::from_ref::<Node>(self) as usize))
    }
}

/// The entries of a mapping.
#[derive(Clone, Copy)]
pub struct Members<'a>(&'a [Entry]);

impl<'a> Object<'a, Yaml> for Members<'a> {
    type Node = &'a Node;
    type MemberName = &'a str;
    type MembersIter =
        std::iter::Map<std::slice::Iter<'a, Entry>, fn(&'a Entry) -> (&'a str, &'a Node)>;

    fn len(&self) -> usize {
        self.0.len()
    }

    fn get(&self, key: &String) -> Option<&'a Node> {
        self.0.iter().find(|e| e.key == *key).map(|e| &e.value)
    }

    fn members(&self) -> Self::MembersIter {
        self.0.iter().map(|e| (e.key.as_str(), &e.value))
    }
}

impl<'a> Array<'a, Yaml> for &'a [Node] {
    type Node = &'a Node;
    type ElementsIter = std::slice::Iter<'a, Node>;

    fn len(&self) -> usize {
        <[Node]>::len(self)
    }

    fn elements(&self) -> std::slice::Iter<'a, Node> {
        (*self).iter()
    }
}
