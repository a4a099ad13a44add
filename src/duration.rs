//! Go durations (`1h30m`), as Flux and Argo CD write them.

/// Formats seconds as a Go duration (`90s` → `1m30s`).
#[must_use]
pub(crate) fn format_duration(secs: u64) -> String {
    use std::fmt::Write as _;
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::with_capacity(12);
    // Writing to a String cannot fail.
    if h > 0 {
        let _ = write!(out, "{h}h");
    }
    if m > 0 {
        let _ = write!(out, "{m}m");
    }
    if s > 0 || out.is_empty() {
        let _ = write!(out, "{s}s");
    }
    out
}

/// Parses a Go duration made of h/m/s/ms parts into whole seconds.
#[must_use]
pub(crate) fn parse_duration(text: &str) -> u64 {
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let n: f64 = num.parse().unwrap_or(0.0);
        num.clear();
        total += match c {
            'h' => n * 3600.0,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                n / 1000.0
            }
            'm' => n * 60.0,
            _ => n,
        };
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "the parts are non-negative and `as` saturates: a huge duration is u64::MAX"
    )]
    let whole = total.ceil() as u64;
    whole
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip() {
        assert_eq!(parse_duration("5m"), 300);
        assert_eq!(parse_duration("1h30m"), 5400);
        assert_eq!(parse_duration("1500ms"), 2);
        assert_eq!(format_duration(600), "10m");
        assert_eq!(format_duration(5430), "1h30m30s");
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(3600), "1h");
        assert_eq!(format_duration(61), "1m1s");
    }
}
