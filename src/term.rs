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
