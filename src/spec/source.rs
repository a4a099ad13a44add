//! The spec as read from disk, once: size and encoding limits. The text and its spans are
//! [`crate::source`].

use std::path::Path;

use crate::diag::{Code, Problem};
pub(crate) use crate::source::{Source, Span};

/// Largest spec synctl reads (a 100,000-component fleet is about 10 MiB).
pub const MAX_SPEC_BYTES: u64 = 32 * 1024 * 1024;

/// Reads the spec at `path`, refusing files that are too large or not UTF-8.
///
/// # Errors
/// An I/O error (exit 2) or a `synctl::yaml` problem (exit 1).
pub(crate) fn read(path: &Path, name: &str) -> Result<Source, ReadError> {
    let meta = std::fs::metadata(path).map_err(|e| ReadError::Io(e.to_string()))?;
    if !meta.is_file() {
        // A FIFO or a device would block or never end.
        return Err(ReadError::Io(format!("`{name}` is not a regular file")));
    }
    if meta.len() > MAX_SPEC_BYTES {
        return Err(ReadError::Invalid(Box::new(
            Problem::error(
                Code::Yaml,
                format!(
                    "`{name}` is {} bytes, more than the {MAX_SPEC_BYTES} bytes synctl reads",
                    meta.len()
                ),
            )
            .help("a fleet spec is a few kilobytes; check that -f points at the spec"),
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| ReadError::Io(e.to_string()))?;
    from_bytes(name, bytes).map_err(ReadError::Invalid)
}

/// Checks that `bytes` are UTF-8 and wraps them.
///
/// # Errors
/// A `synctl::yaml` problem naming the first invalid byte.
pub(crate) fn from_bytes(name: &str, mut bytes: Vec<u8>) -> Result<Source, Box<Problem>> {
    // A UTF-8 byte order mark is accepted (editors on Windows write one) and dropped.
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
    // A NUL byte ends the text for some YAML readers and not others: never guess.
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        #[expect(clippy::naive_bytecount, reason = "once, on the error path")]
        let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
        return Err(Box::new(
            Problem::error(
                Code::Yaml,
                format!("`{name}` holds a NUL byte at line {line} (byte {at})"),
            )
            .help("a spec is text: remove the NUL byte (the file may be binary or corrupted)"),
        ));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Source::new(name, text)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            #[expect(clippy::naive_bytecount, reason = "once, on the error path")]
            let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
            Err(Box::new(
                Problem::error(
                    Code::Yaml,
                    format!("`{name}` is not UTF-8: invalid byte at line {line} (byte {at})"),
                )
                .help("save the spec as UTF-8"),
            ))
        }
    }
}

/// Why a spec could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The file could not be read at all (exit 2).
    Io(String),
    /// The file is unacceptable as a spec (exit 1).
    Invalid(Box<Problem>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let src = Source::new("f", "é: 1\nnamé: ü\n".to_owned());
        let ü = src.text.find('ü').unwrap();
        assert_eq!(src.line_col(ü), (2, 7));
        assert_eq!(src.offset_of(2, 6), ü);
    }

    #[test]
    fn non_utf8_is_a_yaml_problem_with_its_line() {
        let err = from_bytes("f", b"a: 1\nb: \xff\n".to_vec()).unwrap_err();
        assert_eq!(err.code, Code::Yaml);
        assert!(err.message.contains("line 2"), "{}", err.message);
    }
}
