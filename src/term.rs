//! Writing to the terminal: stdout carries data, stderr messages, and a closed pipe on either
//! ends synctl quietly (`synctl validate 2>&1 | head -1`), as every Unix tool does — `print!`
//! and `eprint!` panic there, so the lints forbid them and everything prints through here.

use std::io::Write;

/// Writes a message to stderr, ignoring a closed pipe.
pub(crate) fn print_stderr(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
}

/// Writes data to stdout, ignoring a closed pipe.
pub(crate) fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// `text` with every control character but a newline, a tab and the `\r` of a `\r\n` written
/// as `\u{…}`: text from files of the tree never reaches a terminal as escape sequences
/// (a title change, a cleared screen, a line overwritten by a bare `\r`).
pub(crate) fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    let mut chars = text.chars().peekable();
    let mut out = String::new();
    let mut changed = false;
    while let Some(c) = chars.next() {
        let keep =
            !c.is_control() || c == '\n' || c == '\t' || (c == '\r' && chars.peek() == Some(&'\n'));
        if keep {
            out.push(c);
        } else {
            changed = true;
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        }
    }
    if changed {
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn control_characters_are_escaped_but_lines_and_tabs_kept() {
        assert_eq!(escape_controls("a\tb\r\nc\n"), "a\tb\r\nc\n");
        assert_eq!(
            escape_controls("\u{1b}]0;owned\u{7}x\u{1b}[2J\ry\u{85}"),
            "\\u{1b}]0;owned\\u{7}x\\u{1b}[2J\\u{d}y\\u{85}"
        );
    }
}
