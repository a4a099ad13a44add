//! A spec with schema errors, read as far as it can be: each violation is cut out of a copy of
//! the nodes (an unknown or excluded field, a value of the wrong shape), so that the later
//! stages still report the reference, graph and placement problems of everything else in the
//! same run. A violation no cut can remove (a required field missing, an object wrong as a
//! whole) leaves the schema's problems as the only ones.

use super::yaml::{Node, Value};
use crate::spec::source::Span;

/// One mapping entry to take out: the mapping at `parent` (keys and indexes), its `key`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cut {
    pub(crate) parent: Vec<String>,
    pub(crate) key: String,
    /// Whether the later stages' problems inside the mapping are dropped: a field written with
    /// the wrong value, once cut, leaves its item at defaults that may not be what was meant
    /// (an unknown field cut changes nothing the model reads, so nothing is dropped for it).
    pub(crate) quiet: bool,
}

/// The cut that removes the value at `path` (a mapping entry, or the list holding a scalar
/// item), or `None` when it would take a whole object out (an item of `components`: every
/// reference to it would then be reported).
pub(crate) fn cut_value(root: &Node, path: &[String]) -> Option<Cut> {
    let (last, parent) = path.split_last()?;
    let holder = root.at(parent.iter().map(String::as_str))?;
    match &holder.value {
        Value::Map(_)
            if !matches!(
                root.at(path.iter().map(String::as_str))?.value,
                Value::Map(_)
            ) =>
        {
            Some(Cut {
                parent: parent.to_vec(),
                key: last.clone(),
                quiet: true,
            })
        }
        Value::Seq(_) => {
            let item = holder.at([last.as_str()])?;
            if matches!(item.value, Value::Map(_) | Value::Seq(_)) {
                return None;
            }
            cut_value(root, parent)
        }
        _ => None,
    }
}

/// A copy of `root` with every cut made, and the spans of the mappings whose later problems
/// are dropped; `None` when a cut's parent is not a mapping of the spec.
pub(crate) fn apply(root: &Node, cuts: &[Cut]) -> Option<(Node, Vec<Span>)> {
    let mut copy = root.clone();
    let mut quiet = Vec::new();
    for cut in cuts {
        let mut node = &mut copy;
        for seg in &cut.parent {
            node = match &mut node.value {
                Value::Map(entries) => &mut entries.iter_mut().find(|e| &e.key == seg)?.value,
                Value::Seq(items) => items.get_mut(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        let Value::Map(entries) = &mut node.value else {
            return None;
        };
        entries.retain(|e| e.key != cut.key);
        if cut.quiet {
            quiet.push(node.span);
        }
    }
    Some((copy, quiet))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::source::Source;
    use crate::spec::yaml;

    fn path(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_wrong_value_is_cut_with_its_key_and_a_list_of_scalars_whole() {
        let src = Source::new("f", "a:\n  - {x: 1, y: [1, 2], z: {w: 1}}\n".to_owned());
        let root = yaml::parse(&src).unwrap();
        let x = cut_value(&root, &path(&["a", "0", "x"])).unwrap();
        assert_eq!((x.parent, x.key), (path(&["a", "0"]), "x".to_owned()));
        let y = cut_value(&root, &path(&["a", "0", "y", "1"])).unwrap();
        assert_eq!((y.parent, y.key), (path(&["a", "0"]), "y".to_owned()));
        // A whole object (an item of a list, or a mapping value) is not cut.
        assert_eq!(cut_value(&root, &path(&["a", "0"])), None);
        assert_eq!(cut_value(&root, &path(&["a", "0", "z"])), None);
        assert_eq!(cut_value(&root, &[]), None);
    }

    #[test]
    fn apply_removes_the_entries_and_leaves_the_original_alone() {
        let src = Source::new("f", "a:\n  - {x: 1, y: 2}\nb: 3\n".to_owned());
        let root = yaml::parse(&src).unwrap();
        let cuts = [
            Cut {
                parent: path(&["a", "0"]),
                key: "x".to_owned(),
                quiet: true,
            },
            Cut {
                parent: Vec::new(),
                key: "b".to_owned(),
                quiet: false,
            },
        ];
        let (copy, quiet) = apply(&root, &cuts).unwrap();
        assert_eq!(copy.to_json(), serde_json::json!({"a": [{"y": 2}]}));
        assert_eq!(quiet, vec![root.at(["a", "0"]).unwrap().span]);
        assert_eq!(root.to_json()["b"], 3);
        let wrong = Cut {
            parent: path(&["b"]),
            key: "x".to_owned(),
            quiet: false,
        };
        assert!(apply(&root, &[wrong]).is_none());
    }
}
