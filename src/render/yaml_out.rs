//! A small, deterministic YAML emitter for JSON values. Strings that YAML 1.1 (what Argo CD and
//! sigs.k8s.io/yaml read) or YAML 1.2 would take for something else — `yes`, `on`, `1.0`,
//! `0x1F`, `~` — are quoted; multi-line strings become literal blocks.

use serde_json::Value as Json;

/// `value` as block YAML, every line indented by `indent` spaces, ending with a newline
/// (empty for an empty container at the top).
#[must_use]
pub fn emit(value: &Json, indent: usize) -> String {
    let mut out = String::new();
    emit_into(value, indent, &mut out);
    out
}

/// [`emit`], appended to `out`.
pub fn emit_into(value: &Json, indent: usize, out: &mut String) {
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
pub fn strings_field(key: &str, items: &[String], out: &mut String) {
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

/// Characters that may not appear raw in a YAML scalar: control characters (C0, DEL, C1 —
/// NEL among them), the Unicode line and paragraph separators (which YAML 1.1 readers take
/// for line breaks) and the byte order mark.
pub fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
}

/// A string as a YAML scalar: plain when that reads back as the same string, quoted otherwise
/// (double-quoted with escapes when it holds a character that may not appear raw).
#[must_use]
pub fn scalar(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    scalar_into(s, &mut out);
    out
}

/// [`scalar`], appended to `out`.
pub fn scalar_into(s: &str, out: &mut String) {
    if plain_ok(s) {
        out.push_str(s);
    } else {
        out.push_str(&quoted(s));
    }
}

/// A string as a scalar inside a flow collection (`{a: b}`, `[a, b]`), where `,[]{}` also
/// end a plain scalar.
#[must_use]
pub fn flow_scalar(s: &str) -> String {
    if plain_ok(s) && !s.contains([',', '[', ']', '{', '}']) {
        s.to_owned()
    } else {
        quoted(s)
    }
}

fn quoted(s: &str) -> String {
    if !s.chars().any(needs_escape) {
        return format!("'{}'", s.replace('\'', "''"));
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Bytes that never end or break a plain scalar wherever they are: ASCII letters, digits and
/// `-._/` (what names, paths and URLs without ports are made of).
const SAFE: u8 = 1;
/// Bytes a null, a boolean or a number can be made of (see [`looks_typed`]).
const NUMBER: u8 = 2;
const DIGIT: u8 = 4;
/// Bytes that may not start a plain scalar (YAML's indicators, and `-`, `?`, `:`).
const INDICATOR: u8 = 8;

/// The classes of every byte, for [`plain_ok`]'s one pass.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let alnum = c.is_ascii_alphanumeric();
        if alnum || matches!(c, b'-' | b'.' | b'/' | b'_') {
            t[b] |= SAFE;
        }
        if alnum || matches!(c, b'.' | b'+' | b'-' | b'_' | b':' | b'~') {
            t[b] |= NUMBER;
        }
        if c.is_ascii_digit() {
            t[b] |= DIGIT;
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

fn plain_ok(s: &str) -> bool {
    let bytes = s.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if CLASS[usize::from(first)] & INDICATOR != 0 {
        return false;
    }
    // Most scalars are names and paths: one pass over a table says so, and then only a word
    // or number YAML would type can make it unplain.
    let (mut all, mut any) = (u8::MAX, 0);
    for &b in bytes {
        let class = CLASS[usize::from(b)];
        all &= class;
        any |= class;
    }
    if all & SAFE != 0 {
        // No number starts with a letter: a name is typed only as one of the short words.
        if first.is_ascii_alphabetic() {
            return bytes.len() > 5 || !TYPED_WORDS.iter().any(|w| s.eq_ignore_ascii_case(w));
        }
        let maybe_typed = all & NUMBER != 0 && (bytes.len() <= 6 || any & DIGIT != 0);
        return !(maybe_typed && looks_typed(s));
    }
    if looks_typed(s) {
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

/// The words YAML 1.1 or 1.2 reads as null, a boolean or a special float, in any case.
const TYPED_WORDS: &[&str] = &[
    "~", "null", "true", "false", "yes", "no", "y", "n", "on", "off", ".inf", "-.inf", "+.inf",
    ".nan",
];

/// Whether a plain scalar would be read as null, a boolean or a number (YAML 1.1 or 1.2).
fn looks_typed(s: &str) -> bool {
    // Every such scalar is a short word or made of digits, signs, dots, `_`, `:` and `~`.
    let number_like =
        |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-' | b'_' | b':' | b'~');
    if !s.bytes().all(number_like) || (s.len() > 6 && !s.bytes().any(|b| b.is_ascii_digit())) {
        return false;
    }
    if TYPED_WORDS.iter().any(|w| s.eq_ignore_ascii_case(w)) {
        return true;
    }
    // A number starts with a digit or a dot once its signs and `_` are skipped (`0x`, `0o`
    // and `0b` with a zero): a name like `c17` or `dead` is none, decided before any copy.
    if s.bytes()
        .find(|b| !matches!(b, b'+' | b'-' | b'_'))
        .is_some_and(|b| b.is_ascii_alphabetic())
    {
        return false;
    }
    // Every number below is made of digits, hex digits, `x`, `o`, `.`, `:`, signs and `_`:
    // anything else (most names) is not one, decided without building the lowercase copy.
    let numeric = |b: u8| {
        let b = b.to_ascii_lowercase();
        b.is_ascii_digit()
            || matches!(
                b,
                b'a'..=b'f' | b'x' | b'o' | b'.' | b':' | b'+' | b'-' | b'_'
            )
    };
    if !s.bytes().all(numeric) {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    let t = lower.trim_start_matches(['+', '-']).replace('_', "");
    if t.is_empty() {
        return false;
    }
    if t.starts_with("0x") || t.starts_with("0o") || t.starts_with("0b") {
        return t[2..].chars().all(|c| c.is_ascii_hexdigit());
    }
    // Sexagesimal (YAML 1.1): 1:20, 190:20:30.
    if t.contains(':')
        && t.split(':')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit() || c == '.'))
    {
        return true;
    }
    t.parse::<f64>().is_ok()
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `plain_ok` as it was first written (one readable test per rule), for comparison.
    fn plain_ok_reference(s: &str) -> bool {
        if s.is_empty() || s.trim() != s || looks_typed(s) || s.chars().any(needs_escape) {
            return false;
        }
        let first = s.chars().next().unwrap_or(' ');
        if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
            return false;
        }
        !(s.contains(": ") || s.contains(" #") || s.ends_with(':'))
    }

    /// `looks_typed` as it was before it skipped names without allocating.
    fn looks_typed_reference(s: &str) -> bool {
        let number_like = |b: u8| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-' | b'_' | b':' | b'~')
        };
        if !s.bytes().all(number_like) || (s.len() > 6 && !s.bytes().any(|b| b.is_ascii_digit())) {
            return false;
        }
        let lower = s.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "~" | "null"
                | "true"
                | "false"
                | "yes"
                | "no"
                | "y"
                | "n"
                | "on"
                | "off"
                | ".inf"
                | "-.inf"
                | "+.inf"
                | ".nan"
        ) {
            return true;
        }
        let t = lower.trim_start_matches(['+', '-']).replace('_', "");
        if t.is_empty() {
            return false;
        }
        if t.starts_with("0x") || t.starts_with("0o") || t.starts_with("0b") {
            return t[2..].chars().all(|c| c.is_ascii_hexdigit());
        }
        if t.contains(':')
            && t.split(':')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit() || c == '.'))
        {
            return true;
        }
        t.parse::<f64>().is_ok()
            && t.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-'))
    }

    #[test]
    fn the_typed_check_agrees_with_its_reference_on_every_short_string() {
        let alphabet = [
            '0', '1', '9', 'a', 'e', 'E', 'f', 'F', 'g', 'x', 'X', 'o', 'b', 'B', '.', ':', '+',
            '-', '_', '~', 'n', 'N', 'i', 'l', 'u', 't', 'y', 's',
        ];
        let mut strings = crate::testing::strings_up_to(&alphabet, 4);
        for w in [
            "null", "True", "FALSE", "yes", "off", ".inf", "-.Inf", ".NaN", "0x1F", "0o17",
        ] {
            for t in [
                w.to_owned(),
                format!("{w}1"),
                format!("_{w}"),
                format!("+{w}"),
            ] {
                strings.push(t);
            }
        }
        for s in &strings {
            assert_eq!(looks_typed(s), looks_typed_reference(s), "{s:?}");
        }
    }

    #[test]
    fn the_one_pass_plain_check_agrees_with_the_rules_on_every_short_string() {
        // Every string of up to three characters from an alphabet of the characters that
        // matter, and longer ones around them.
        let alphabet = [
            'a', '1', ' ', ':', '#', '-', '\t', '\n', '\'', '"', '.', '\u{85}', 'é', '\u{2028}',
            '/', '_', 'Z', '~', '+', '0', 'x', 'e', 'n',
        ];
        let strings = crate::testing::strings_up_to(&alphabet, 3);
        for s in &strings {
            for t in [
                s.clone(),
                format!("x{s}y"),
                format!("key{s}"),
                format!("{s}value"),
                // Long enough for the rules of longer words and numbers.
                format!("{s}{s}{s}"),
                format!("12345{s}"),
                format!("{s}0.5e10"),
            ] {
                assert_eq!(plain_ok(&t), plain_ok_reference(&t), "{t:?}");
            }
        }
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "yes", "On", "1.0", "10", "0x1F", "1:20", "~", "", " a", "a: b", "#x", "*", "1e3",
            "null", "False", "OFF", "N", "TRUE", ".NaN", "-.inf",
        ] {
            assert!(scalar(s).starts_with('\''), "{s} -> {}", scalar(s));
        }
        for s in [
            "v2.0.4",
            "1.16.*",
            "1.16.2",
            "${X}",
            "https://a.b/c",
            "a-b",
            "it's",
        ] {
            assert_eq!(
                scalar(s),
                s.replace('\'', "''")
                    .trim_matches('\'')
                    .to_owned()
                    .replace("''", "'"),
                "{s}"
            );
        }
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
            let back: String = serde_yaml::from_str(&q).unwrap();
            assert_eq!(back, s);
        }
        assert_eq!(flow_scalar("a,b"), "'a,b'");
        assert_eq!(flow_scalar("plain"), "plain");
    }

    #[test]
    fn emitted_yaml_reads_back_as_the_same_value() {
        let v = json!({"k": ["yes", "1.0", "a: b", "x\ty", "é", "-1", "line\n  indented\n", {"n": null, "o": 1.5}]});
        let back: Json = serde_yaml::from_str(&emit(&v, 0)).unwrap();
        assert_eq!(back, v);
    }
}
