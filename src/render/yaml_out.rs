//! A small, deterministic YAML emitter for JSON values. Strings that YAML 1.1 (what Argo CD and
//! sigs.k8s.io/yaml read) or YAML 1.2 would take for something else — `yes`, `on`, `1.0`,
//! `0x1F`, `~` — are quoted; multi-line strings become literal blocks.

use serde_json::Value as Json;

/// `value` as block YAML, every line indented by `indent` spaces, ending with a newline
/// (empty for an empty container at the top).
#[must_use]
pub(crate) fn emit(value: &Json, indent: usize) -> String {
    let mut out = String::new();
    emit_into(value, indent, &mut out);
    out
}

/// [`emit`], appended to `out`.
pub(crate) fn emit_into(value: &Json, indent: usize, out: &mut String) {
    match value {
        Json::Object(m) if !m.is_empty() => map(value, indent, false, out),
        Json::Array(a) if !a.is_empty() => seq(value, indent, out),
        other => {
            pad(indent, out);
            inline(other, out);
            out.push('\n');
        }
    }
}

/// `n` spaces.
pub(super) fn pad(n: usize, out: &mut String) {
    const SPACES: &str = "                                                                ";
    let mut left = n;
    while left > 0 {
        let step = left.min(SPACES.len());
        out.push_str(&SPACES[..step]);
        left -= step;
    }
}

/// A mapping at `indent`; with `after_dash`, its first key continues the line of a `- `.
fn map(value: &Json, indent: usize, after_dash: bool, out: &mut String) {
    let Json::Object(m) = value else { return };
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 || !after_dash {
            pad(indent, out);
        }
        scalar_into(k, out);
        out.push(':');
        nested(v, indent, indent + 2, out);
    }
}

fn seq(value: &Json, indent: usize, out: &mut String) {
    let Json::Array(items) = value else { return };
    for v in items {
        pad(indent, out);
        out.push('-');
        match v {
            Json::Object(m) if !m.is_empty() => {
                // The first key goes on the dash's line.
                out.push(' ');
                map(v, indent + 2, true, out);
            }
            _ => nested(v, indent, indent + 2, out),
        }
    }
}

/// Writes what follows `key:` or `-`: an inline scalar, or a nested block.
fn nested(v: &Json, indent: usize, child: usize, out: &mut String) {
    match v {
        Json::Object(m) if !m.is_empty() => {
            out.push('\n');
            map(v, child, false, out);
        }
        Json::Array(a) if !a.is_empty() => {
            out.push('\n');
            seq(v, child, out);
        }
        Json::String(s) => nested_str(s, indent, out),
        other => {
            out.push(' ');
            inline(other, out);
            out.push('\n');
        }
    }
}

/// [`nested`] of a string: a block scalar when it spans lines and can be one, else a scalar
/// on the line.
pub(super) fn nested_str(s: &str, indent: usize, out: &mut String) {
    if s.contains('\n') && block_safe(s) {
        out.push_str(if s.ends_with('\n') { " |\n" } else { " |-\n" });
        for line in s.trim_end_matches('\n').split('\n') {
            if !line.is_empty() {
                pad(indent + 2, out);
                out.push_str(line);
            }
            out.push('\n');
        }
    } else {
        out.push(' ');
        scalar_into(s, out);
        out.push('\n');
    }
}

/// `key:` and a sequence of strings, at the top level, as [`emit`] writes `{key: [...]}`,
/// without building the JSON value.
pub(crate) fn strings_field(key: &str, items: &[String], out: &mut String) {
    scalar_into(key, out);
    if items.is_empty() {
        out.push_str(": []\n");
        return;
    }
    out.push_str(":\n");
    for s in items {
        pad(2, out);
        out.push('-');
        nested_str(s, 2, out);
    }
}

fn block_safe(s: &str) -> bool {
    !s.starts_with([' ', '\t', '\n'])
        && s.trim_end_matches('\n')
            .split('\n')
            .all(|l| !l.ends_with([' ', '\t']))
        && !s.chars().any(|c| needs_escape(c) && c != '\n')
        && !s.ends_with("\n\n")
}

fn inline(v: &Json, out: &mut String) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(&n.to_string()),
        Json::String(s) => scalar_into(s, out),
        Json::Array(_) => out.push_str("[]"),
        Json::Object(_) => out.push_str("{}"),
    }
}

pub(crate) use crate::spec::yaml::needs_escape;

/// A string as a YAML scalar: plain when every reader we write for reads it back as the same
/// string (YAML 1.1 as PyYAML and Argo CD's go-yaml v2, YAML 1.2 as yaml-rust2, and go-yaml v3
/// as kustomize), single-quoted otherwise, double-quoted with escapes when it holds a character
/// that may not appear raw. This is the one writer of string scalars: templates reach it
/// through the formatter, the Rust writers and [`emit`] call it.
#[must_use]
pub(crate) fn scalar(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    scalar_into(s, &mut out);
    out
}

/// [`scalar`], appended to `out`.
pub(crate) fn scalar_into(s: &str, out: &mut String) {
    if plain_ok(s) {
        out.push_str(s);
    } else {
        quoted_into(s, out);
    }
}

/// A string as a scalar inside a flow collection (`{a: b}`, `[a, b]`), where `,[]{}` also
/// end a plain scalar.
#[must_use]
pub(crate) fn flow_scalar(s: &str) -> String {
    // Plain only when made of letters, digits and `-._/` (readers disagree on blanks and
    // indicators inside flow collections).
    if plain_ok(s) && s.bytes().all(|b| CLASS[usize::from(b)] & SAFE != 0) {
        s.to_owned()
    } else {
        let mut out = String::with_capacity(s.len() + 2);
        quoted_into(s, &mut out);
        out
    }
}

/// A string as a double-quoted scalar whatever it holds (the templates' `quote`: chart
/// versions, which read best quoted).
#[must_use]
pub(crate) fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    double_quoted_into(s, &mut out);
    out
}

fn quoted_into(s: &str, out: &mut String) {
    if s.chars().any(needs_escape) {
        double_quoted_into(s, out);
    } else {
        out.push('\'');
        for part in s.split_inclusive('\'') {
            out.push_str(part);
            if part.ends_with('\'') {
                out.push('\'');
            }
        }
        out.push('\'');
    }
}

fn double_quoted_into(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                use std::fmt::Write as _;
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Bytes that never end or break a plain scalar wherever they are: ASCII letters, digits and
/// `-._/` (what names, paths and URLs without ports are made of).
const SAFE: u8 = 1;
/// Bytes that may not start a plain scalar (YAML's indicators, and `-`, `?`, `:`).
const INDICATOR: u8 = 2;

/// The classes of every byte, for [`plain_ok`]'s one pass.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        #[expect(clippy::cast_possible_truncation, reason = "b < 256")]
        let c = b as u8;
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'/' | b'_') {
            t[b] |= SAFE;
        }
        let indicators = b"-?:,[]{}#&*!|>'\"%@`";
        let mut i = 0;
        while i < indicators.len() {
            if indicators[i] == c {
                t[b] |= INDICATOR;
            }
            i += 1;
        }
        b += 1;
    }
    t
};

/// Whether `s` may be written plain: not empty, no character that must be escaped, no blank
/// at either end, no indicator first, nothing that ends it early (`: `, ` #`, a `:` last), and
/// nothing any of our readers would take for a null, a boolean, a number, a date or a merge
/// key ([`typed`]).
fn plain_ok(s: &str) -> bool {
    let bytes = s.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if CLASS[usize::from(first)] & INDICATOR != 0 {
        return false;
    }
    // Most scalars are names and paths: one pass over the table says so, and then only a word
    // or number YAML would type can make it unplain.
    if bytes.iter().all(|&b| CLASS[usize::from(b)] & SAFE != 0) {
        return !typed(s);
    }
    if typed(s) {
        return false;
    }
    if !s.is_ascii() {
        return s.trim() == s
            && !s.chars().any(needs_escape)
            && !(s.contains(": ") || s.contains(" #") || s.ends_with(':'));
    }
    // Plain ASCII, in one pass: no control character, no `: ` or `:` at the end (a key), no
    // ` #` (a comment), no blank at either end.
    if first.is_ascii_whitespace() || last.is_ascii_whitespace() {
        return false;
    }
    for (i, &b) in bytes.iter().enumerate() {
        let next = bytes.get(i + 1).copied();
        let breaks = match b {
            b':' => matches!(next, None | Some(b' ')),
            b' ' => next == Some(b'#'),
            _ => b.is_ascii_control(),
        };
        if breaks {
            return false;
        }
    }
    true
}

/// The words some reader of ours takes for a null, a boolean, a special float or a merge or
/// value key, compared in any case (PyYAML and go-yaml read only some cases; quoting every
/// case costs nothing).
const TYPED_WORDS: &[&str] = &[
    "~",
    "null",
    "true",
    "false",
    "yes",
    "no",
    "y",
    "n",
    "on",
    "off",
    ".inf",
    "-.inf",
    "+.inf",
    ".nan",
    "inf",
    "-inf",
    "+inf",
    "nan",
    "infinity",
    "-infinity",
    "+infinity",
    "<<",
    "=",
];

/// Whether a plain scalar would be read as something other than a string by YAML 1.1
/// (PyYAML's resolver, go-yaml v2), YAML 1.2's core schema (yaml-rust2) or go-yaml v3
/// (kustomize): the union of their null, boolean, integer (decimal, `0x`, `0o`, `0b`, 1.1's
/// `0`-octal, sexagesimal, underscores anywhere), float and timestamp forms, and `<<`, `=`.
#[must_use]
pub(crate) fn typed(s: &str) -> bool {
    if s.len() <= 9 && TYPED_WORDS.iter().any(|w| s.eq_ignore_ascii_case(w)) {
        return true;
    }
    // Every number and date starts with a digit or a dot once its signs are skipped (yaml-rust2
    // takes two: `+-0` is `+` and then the integer `-0`; go-yaml drops a `_` after a sign).
    let unsigned = s.trim_start_matches(['+', '-']);
    let signed = unsigned.len() < s.len();
    if !unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.' || (signed && c == '_')) {
        return false;
    }
    if timestamp(s) {
        return true;
    }
    // go-yaml v3 drops every `_` before reading a number; PyYAML reads `_` as a digit (`0x_`
    // and `1_` are integers to it).
    let dropped: Vec<u8> = unsigned.bytes().filter(|&b| b != b'_').collect();
    let as_digit: Vec<u8> = unsigned
        .bytes()
        .map(|b| if b == b'_' { b'0' } else { b })
        .collect();
    [dropped, as_digit]
        .iter()
        .any(|b| integer(b) || float(b) || sexagesimal(b))
}

/// `0x1F`, `0o17`, `0b101` (any case of the prefix, and a sign after it, which Rust's
/// `from_str_radix` in yaml-rust2 takes) and runs of decimal digits (`017`, YAML 1.1's octal,
/// included).
fn integer(b: &[u8]) -> bool {
    let digits = |rest: &[u8], ok: fn(&u8) -> bool| {
        let rest = rest
            .strip_prefix(b"+")
            .or_else(|| rest.strip_prefix(b"-"))
            .unwrap_or(rest);
        !rest.is_empty() && rest.iter().all(ok)
    };
    match b {
        [b'0', b'x' | b'X', rest @ ..] => digits(rest, u8::is_ascii_hexdigit),
        [b'0', b'o' | b'O', rest @ ..] => digits(rest, |c| (b'0'..=b'7').contains(c)),
        [b'0', b'b' | b'B', rest @ ..] => digits(rest, |c| matches!(c, b'0' | b'1')),
        _ => digits(b, u8::is_ascii_digit),
    }
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, and `.` followed by digits.
fn float(b: &[u8]) -> bool {
    let int = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = int;
    let mut frac = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac;
    }
    if int == 0 && frac == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == b.len()
}

/// YAML 1.1's base 60: `1:20`, `190:20:30`, `1:20.5` (digits and dots between colons).
fn sexagesimal(b: &[u8]) -> bool {
    b.contains(&b':')
        && b.split(|&c| c == b':')
            .all(|p| !p.is_empty() && p.iter().all(|c| c.is_ascii_digit() || *c == b'.'))
}

/// A date, or a date and time, as YAML 1.1 and go-yaml read them: four digits, `-`, one or
/// two digits, `-`, one or two digits, then nothing, or `T`, `t` or blanks and a digit
/// (whatever follows: a superset of both readers' forms).
fn timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |from: usize| {
        b[from.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    if digits(0) != 4 || b.get(4) != Some(&b'-') {
        return false;
    }
    let month = digits(5);
    if !(1..=2).contains(&month) || b.get(5 + month) != Some(&b'-') {
        return false;
    }
    let at = 6 + month;
    let day = digits(at);
    if !(1..=2).contains(&day) {
        return false;
    }
    let rest = &b[at + day..];
    let time = rest
        .iter()
        .take_while(|c| matches!(c, b'T' | b't' | b' ' | b'\t'))
        .count();
    rest.is_empty() || (time > 0 && rest.get(time).is_some_and(u8::is_ascii_digit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use yaml_rust2::{Yaml, YamlLoader};

    /// The characters that decide how a scalar is read: indicators, blanks, signs, digits,
    /// the letters of YAML's words and numbers, line breaks of every YAML version, control
    /// characters, quotes and a non-ASCII letter.
    const ALPHABET: &[char] = &[
        'a', 'n', 'o', 'y', 'e', 'x', 'T', 'Z', '0', '1', '7', '9', ' ', '\t', '\n', ':', '#', '-',
        '+', '.', '_', '~', '<', '=', '\'', '"', '\\', ',', '[', '{', '&', '*', '!', '|', '>', '%',
        '@', '`', '?', '/', '\u{85}', '\u{2028}', '\u{7f}', '\u{feff}', 'é',
    ];

    /// Strings built to hit every typed form at full length: dates and times, numbers in every
    /// base, with underscores and signs, sexagesimals, special floats and words in any case,
    /// padded and cut.
    #[expect(clippy::too_many_lines, reason = "a test's cases, listed")]
    fn tricky() -> Vec<String> {
        let mut out: Vec<String> = [
            "2001-12-14",
            "2001-12-14t21:59:43.10-05:00",
            "2001-12-14 21:59:43.10 -5",
            "2001-12-15T02:59:43.1Z",
            "2002-12-14",
            "2024-1-5",
            "2024-01-15T10:00:00",
            "1_000",
            "0x_1F",
            "+0x1F",
            "0o17",
            "0O17",
            "0b1010",
            "-0b1",
            "017",
            "0999",
            "1e3",
            "1E+3",
            "1.5e-3",
            "1.",
            ".5",
            "+.5",
            "._5",
            "1_0.5",
            "190:20:30",
            "1:20",
            "1:20.5",
            "+12:30",
            ".inf",
            "-.Inf",
            "+.INF",
            ".nan",
            ".NaN",
            "inf",
            "NaN",
            "Infinity",
            "<<",
            "=",
            "~",
            "null",
            "Null",
            "NULL",
            "yes",
            "Yes",
            "YES",
            "yEs",
            "no",
            "NO",
            "y",
            "Y",
            "n",
            "N",
            "on",
            "ON",
            "oN",
            "off",
            "OFF",
            "true",
            "True",
            "tRUE",
            "false",
            "FALSE",
            "1.16.2",
            "v1.0",
            "1.0.0-rc1",
            "2024-01-15-rc1",
            "20240115",
            "0.1",
            "1_2_3",
            "12e",
            "1e",
            "e1",
            "0x",
            "0xg",
            "0o8",
            "0b2",
            "--1",
            "+-1",
            "1-1",
            "a: b",
            "a #b",
            "a#b",
            "a:b",
            "a:",
            "-a",
            "- a",
            "? a",
            ": a",
            "#a",
            "&a",
            "*a",
            "!a",
            "|a",
            ">a",
            "%a",
            "@a",
            "`a",
            "'a",
            "\"a",
            "a'b",
            "a\"b",
            "line\nline",
            "line\n",
            "\nline",
            "a\u{2028}b",
            "a\u{2029}b",
            "a\u{85}b",
            "a\u{fffe}b",
            "a\u{ffff}b",
            "\u{feff}a",
            "a\u{1}b",
            "a\rb",
            " a",
            "a ",
            "a\t",
            "\u{a0}a",
            "a\u{a0}",
            "---",
            "...",
            "--- a",
            "... a",
            "${X}",
            "https://a.b/c",
            "http://a:8080/b",
            "8080:80",
            "0.0.0.0/0",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let more: Vec<String> = out
            .iter()
            .flat_map(|s| {
                [
                    format!("{s}x"),
                    format!("x{s}"),
                    format!("{s} "),
                    format!("_{s}"),
                ]
            })
            .collect();
        out.extend(more);
        out
    }

    /// Every string of up to three characters of [`ALPHABET`], and [`tricky`].
    fn corpus() -> Vec<String> {
        let mut all = crate::testing::strings_up_to(ALPHABET, 3);
        all.extend(tricky());
        all
    }

    /// A smaller corpus for readers outside the process: every string of up to two characters
    /// of [`ALPHABET`], of three of its first 24 (the ones numbers, words and indicators are
    /// made of), and [`tricky`].
    fn corpus_small() -> Vec<String> {
        let mut all = crate::testing::strings_up_to(ALPHABET, 2);
        all.extend(
            crate::testing::strings_up_to(&ALPHABET[..24], 3)
                .into_iter()
                .filter(|s| s.chars().count() == 3),
        );
        all.extend(tricky());
        all
    }

    /// One YAML document writing every string of `strings` four ways: a mapping value, a
    /// sequence item, a value below a sequence item, and a flow sequence item.
    fn document(strings: &[String]) -> String {
        let mut doc = String::new();
        for (i, s) in strings.iter().enumerate() {
            doc.push_str(&format!("k{i}:\n  a:"));
            nested_str(s, 2, &mut doc);
            doc.push_str("  b:\n    -");
            nested_str(s, 4, &mut doc);
            doc.push_str("  c:\n    - k:");
            nested_str(s, 6, &mut doc);
            doc.push_str(&format!("  d: [{}, x]\n", flow_scalar(s)));
        }
        doc
    }

    /// The four strings of entry `i` of [`document`] as `read` found them.
    fn four(root: &Yaml, i: usize) -> [Option<String>; 4] {
        let e = &root[format!("k{i}").as_str()];
        let s = |y: &Yaml| y.as_str().map(str::to_owned);
        [s(&e["a"]), s(&e["b"][0]), s(&e["c"][0]["k"]), s(&e["d"][0])]
    }

    #[test]
    fn every_short_string_reads_back_as_itself_in_yaml_1_2() {
        let strings = corpus();
        assert!(strings.len() > 90_000, "{}", strings.len());
        for chunk in strings.chunks(5_000) {
            let doc = document(chunk);
            let root = YamlLoader::load_from_str(&doc).unwrap_or_else(|e| {
                let line = doc
                    .lines()
                    .nth(e.marker().line().saturating_sub(1))
                    .unwrap_or_default();
                panic!("{e}: {line:?}")
            });
            for (i, s) in chunk.iter().enumerate() {
                for read in four(&root[0], i) {
                    assert_eq!(
                        read.as_deref(),
                        Some(s.as_str()),
                        "{s:?} in\n{}",
                        document(std::slice::from_ref(s))
                    );
                }
            }
        }
    }

    /// The Python that reads `path` (a JSON list of strings, then the YAML document) with
    /// PyYAML and prints every string not read back as itself.
    const PYYAML_CHECK: &str = r#"
import json, sys, yaml
strings = json.load(open(sys.argv[1]))
# libyaml's parser with PyYAML's resolver when built with it (the same reading, faster).
loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
root = yaml.load(open(sys.argv[2], encoding="utf-8"), Loader=loader)
bad = []
for i, s in enumerate(strings):
    e = root["k%d" % i]
    for got in (e["a"], e["b"][0], e["c"][0]["k"], e["d"][0]):
        if got != s:
            bad.append([s, repr(got)])
print(json.dumps(bad[:20]))
"#;

    fn python() -> String {
        std::env::var("SYNCTL_VALIDATOR_PYTHON").unwrap_or_else(|_| "python3".to_owned())
    }

    #[test]
    fn every_short_string_reads_back_as_itself_in_yaml_1_1() {
        let strings = corpus_small();
        let dir = tempfile::tempdir().expect("temp");
        let (list, doc) = (dir.path().join("strings.json"), dir.path().join("doc.yaml"));
        std::fs::write(&list, serde_json::to_string(&strings).expect("json")).expect("write");
        std::fs::write(&doc, document(&strings)).expect("write");
        if let Ok(keep) = std::env::var("SYNCTL_KEEP_DOC") {
            std::fs::copy(&doc, keep).expect("copy");
        }
        let out = std::process::Command::new(python())
            .args(["-c", PYYAML_CHECK])
            .arg(&list)
            .arg(&doc)
            .output()
            .expect("python3 with PyYAML (bash .ci/test makes the venv)");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{}",
            &err[err.len().saturating_sub(600)..]
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
    }

    #[test]
    fn kustomize_reads_back_every_tricky_string_as_itself() {
        // kustomize (go-yaml v3) reads the resource and writes it again: every value must come
        // out the same string (a date written plain comes out a timestamp).
        let strings: Vec<String> = tricky()
            .into_iter()
            .chain(crate::testing::strings_up_to(ALPHABET, 2))
            // kustomize (go-yaml) refuses control characters in any form, escaped or not, and
            // writes the Unicode line breaks raw (its output then reads differently in YAML 1.1
            // and 1.2): both are left to the YAML 1.1 and 1.2 tests.
            .filter(|s| {
                !s.is_empty()
                    && !s
                        .chars()
                        .any(|c| needs_escape(c) && !matches!(c, '\n' | '\t'))
            })
            .collect();
        let dir = tempfile::tempdir().expect("temp");
        let mut data =
            String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t\ndata:\n");
        for (i, s) in strings.iter().enumerate() {
            data.push_str(&format!("  k{i}:"));
            nested_str(s, 2, &mut data);
        }
        std::fs::write(dir.path().join("cm.yaml"), &data).expect("write");
        std::fs::write(
            dir.path().join("kustomization.yaml"),
            "resources:\n  - cm.yaml\n",
        )
        .expect("write");
        let out = std::process::Command::new("kubectl")
            .arg("kustomize")
            .arg(dir.path())
            .output()
            .expect("kubectl (kustomize v5) is installed");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{}",
            &err[err.len().saturating_sub(300)..]
        );
        // What kustomize wrote is read back by yaml-rust2 and PyYAML: a value kustomize changed
        // (a date it took for a timestamp, a number) reads differently in both, while each
        // reader alone misreads a few of go-yaml's plain strings (`+-1` in yaml-rust2, `<<` in
        // PyYAML), which is that reader's reading, not kustomize's.
        let built = dir.path().join("built.yaml");
        std::fs::write(&built, &out.stdout).expect("write");
        let list = dir.path().join("strings.json");
        std::fs::write(&list, serde_json::to_string(&strings).expect("json")).expect("write");
        let check = "import json, sys, yaml\nL = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)\nfor tag in ('merge', 'value'):\n    L.add_constructor('tag:yaml.org,2002:' + tag, L.construct_scalar)\nstrings = json.load(open(sys.argv[1]))\ndata = yaml.load(open(sys.argv[2], encoding='utf-8'), Loader=L)['data']\nprint(json.dumps([i for i, s in enumerate(strings) if data.get('k%d' % i) != s]))";
        let out = std::process::Command::new(python())
            .args(["-c", check])
            .arg(&list)
            .arg(&built)
            .output()
            .expect("python3 with PyYAML");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let misread: Vec<usize> = serde_json::from_slice(&out.stdout).expect("a JSON list");
        let text = std::fs::read_to_string(&built).expect("read");
        let rust2 = YamlLoader::load_from_str(&text).ok();
        for i in misread {
            let s = &strings[i];
            let got = rust2
                .as_ref()
                .map(|r| r[0]["data"][format!("k{i}").as_str()].clone());
            assert_eq!(
                got.as_ref().and_then(Yaml::as_str),
                Some(s.as_str()),
                "{s:?}: neither PyYAML nor yaml-rust2 reads kustomize's output as the string"
            );
        }
    }

    #[test]
    fn the_typed_forms_are_quoted_and_plain_names_and_versions_are_not() {
        for s in [
            "yes",
            "On",
            "1.0",
            "10",
            "0x1F",
            "1:20",
            "~",
            "",
            " a",
            "a: b",
            "#x",
            "*",
            "1e3",
            "null",
            "False",
            "OFF",
            "N",
            "TRUE",
            ".NaN",
            "-.inf",
            "2001-12-14",
            "<<",
            "=",
            "1_000",
            "0o17",
            "2001-12-14t21:59:43.10-05:00",
        ] {
            assert!(scalar(s).starts_with(['\'', '"']), "{s} -> {}", scalar(s));
        }
        for s in [
            "v2.0.4",
            "1.16.*",
            "1.16.2",
            "${X}",
            "https://a.b/c",
            "a-b",
            "it's",
            "2024-01-15-rc1",
            "a=b",
        ] {
            assert_eq!(scalar(s), s, "{s}");
        }
        assert_eq!(scalar("it's: x"), "'it''s: x'");
        assert_eq!(double_quoted("1.0"), "\"1.0\"");
    }

    #[test]
    fn blocks_nest_with_two_spaces_and_lists_under_their_key() {
        let v = json!({"a": {"b": [1, {"c": "x", "d": [true]}]}, "e": "line1\nline2\n", "f": {}});
        assert_eq!(
            emit(&v, 0),
            "a:\n  b:\n    - 1\n    - c: x\n      d:\n        - true\ne: |\n  line1\n  line2\nf: {}\n"
        );
    }

    #[test]
    fn line_breaks_of_any_yaml_version_and_control_characters_are_escaped() {
        for s in [
            "a\u{2028}  b: true",
            "x\u{7f}",
            "x\u{85}y",
            "a\u{2029}b",
            "\u{feff}x",
            "./apps\n  force: true\nx: |",
        ] {
            let q = scalar(s);
            assert!(q.starts_with('"'), "{s:?} -> {q}");
            assert!(!q.chars().any(needs_escape), "{s:?} -> {q}");
        }
        assert_eq!(flow_scalar("a,b"), "'a,b'");
        assert_eq!(flow_scalar("plain"), "plain");
    }

    #[test]
    fn emitted_yaml_reads_back_as_the_same_value() {
        let v = json!({"k": ["yes", "1.0", "a: b", "x\ty", "é", "-1", "line\n  indented\n", "2001-12-14", {"n": null, "o": 1.5, "<<": "="}]});
        let back: Json = serde_yaml::from_str(&emit(&v, 0)).unwrap();
        assert_eq!(back, v);
    }

    proptest::proptest! {
        #[test]
        fn any_string_reads_back_as_itself(s in "\\PC{0,12}|[0-9:.eE+_xob -]{1,12}|[\\x00-\\x7f\u{85}\u{2028}\u{feff}]{0,12}") {
            let doc = document(std::slice::from_ref(&s));
            let root = YamlLoader::load_from_str(&doc).expect("YAML");
            for read in four(&root[0], 0) {
                proptest::prop_assert_eq!(read.as_deref(), Some(s.as_str()), "{}", doc);
            }
        }
    }
}
