//! Stage timings for profiling: with `SYNCTL_TIMINGS=1` in the environment, each stage prints
//! how long it took to stderr (`synctl: timing load 12.3 ms`). Off, a stage costs one load of an
//! initialised flag.

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("SYNCTL_TIMINGS").is_some_and(|v| v != "0"))
}

/// A running stage; prints its time when dropped (only when timings are on).
pub(crate) struct Stage {
    name: &'static str,
    start: Option<Instant>,
}

/// Starts timing `name`.
#[must_use]
pub(crate) fn stage(name: &'static str) -> Stage {
    Stage {
        name,
        start: enabled().then(Instant::now),
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        if let Some(start) = self.start {
            crate::term::print_stderr(&format!(
                "synctl: timing {} {:.1} ms\n",
                self.name,
                start.elapsed().as_secs_f64() * 1e3
            ));
        }
    }
}
