//! Data parallelism without a dependency: [`map`] runs a function over a slice on every core
//! and returns the results in the slice's order, so the output never depends on the number of
//! threads or on which thread finished first.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How many threads [`map`] uses for `items` items: what `SYNCTL_THREADS` chose (even for a
/// few items), else one per core, or one below [`MIN_PARALLEL`]. Asked once:
/// `available_parallelism` reads the cgroup files on every call.
fn setting(items: usize) -> usize {
    static CHOSEN: OnceLock<Option<usize>> = OnceLock::new();
    static CORES: OnceLock<usize> = OnceLock::new();
    let chosen = *CHOSEN.get_or_init(|| {
        std::env::var("SYNCTL_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
    });
    match chosen {
        Some(n) => n,
        // A few items stay on the calling thread, without asking how many cores there are.
        None if items < MIN_PARALLEL => 1,
        None => *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from)),
    }
}

/// `(a(), b())`, `a` on a thread of its own while `b` runs on the calling one; a panic in `a`
/// is raised again here.
pub(crate) fn beside<A: Send, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|s| {
        let a = s.spawn(a);
        let b = b();
        (a.join().unwrap_or_else(|e| std::panic::resume_unwind(e)), b)
    })
}

/// Whether work on `items` items is spread over more than one thread (`SYNCTL_THREADS=1`
/// keeps everything on the calling thread).
pub(crate) fn parallel(items: usize) -> bool {
    setting(items) > 1
}

/// Items are handed out in blocks of this many: small enough to balance uneven items, large
/// enough that the shared counter is not contended.
const BLOCK: usize = 16;

/// Fewer items than this are mapped on the calling thread: starting a thread costs more than
/// rendering or reading a small tree.
const MIN_PARALLEL: usize = 128;

/// `items.iter().map(f).collect()`, computed on every core (`SYNCTL_THREADS` sets the count);
/// results in `items` order.
pub(crate) fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = setting(items.len()).min(items.len().div_ceil(BLOCK));
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let start = next.fetch_add(BLOCK, Ordering::Relaxed);
            if start >= items.len() {
                return done;
            }
            let end = (start + BLOCK).min(items.len());
            done.push((start, items[start..end].iter().map(&f).collect::<Vec<R>>()));
        }
    };
    let mut blocks: Vec<(usize, Vec<R>)> = std::thread::scope(|s| {
        let helpers: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mut all = work();
        for h in helpers {
            // A panic in a helper is a bug: re-raise it on this thread.
            all.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        all
    });
    blocks.sort_unstable_by_key(|(start, _)| *start);
    blocks.into_iter().flat_map(|(_, block)| block).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_order_of_the_items() {
        let items: Vec<u64> = (0..1000).collect();
        let out = map(&items, |n| n * n);
        assert_eq!(out, items.iter().map(|n| n * n).collect::<Vec<_>>());
        assert!(map(&[] as &[u64], |n| *n).is_empty());
    }
}
