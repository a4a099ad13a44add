//! "Did you mean …?" — the closest known name by edit distance.
//!
//! A spec with thousands of mistyped references must still be reported in time linear in its
//! size: the names are sorted and grouped by length once ([`Known`]), only names whose length
//! is within the edit limit are compared, and each set of names answers a bounded number of
//! comparisons ([`BUDGET`]); past it, diagnostics carry no suggestion (their other help stays).

use std::cell::Cell;
use std::collections::BTreeMap;

/// Comparisons one set of names answers, in total: far above what any fleet's typos need
/// (100 mistakes against 10,000 names), and about a tenth of a second of work.
const BUDGET: usize = 1_000_000;

/// The names a reference may mean, sorted and grouped by length in characters.
pub(crate) struct Known {
    sorted: Vec<String>,
    /// Indexes into `sorted`, by length.
    by_len: BTreeMap<usize, Vec<usize>>,
    budget: Cell<usize>,
}

impl Known {
    pub(crate) fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Known {
        let mut sorted: Vec<String> = names.into_iter().map(str::to_owned).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let mut by_len: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (i, n) in sorted.iter().enumerate() {
            by_len.entry(n.chars().count()).or_default().push(i);
        }
        Known {
            sorted,
            by_len,
            budget: Cell::new(BUDGET),
        }
    }

    /// Every name, sorted.
    pub(crate) fn sorted(&self) -> &[String] {
        &self.sorted
    }

    /// The name closest to `got`, if it is close enough to be a plausible typo (ties: the
    /// first by name).
    pub(crate) fn closest(&self, got: &str) -> Option<&str> {
        let len = got.chars().count();
        let limit = (len / 3).max(1) + 1;
        let mut best: Option<(usize, &str)> = None;
        for (&c_len, names) in self.by_len.range(len.saturating_sub(limit)..=len + limit) {
            for c in names.iter().map(|&i| self.sorted[i].as_str()) {
                let left = self.budget.get();
                if left == 0 {
                    return best.map(|(_, c)| c);
                }
                self.budget.set(left - 1);
                if c == got {
                    continue;
                }
                let d = strsim::osa_distance(got, c);
                if d <= limit && d < c_len.max(1) && best.is_none_or(|b| (d, c) < b) {
                    best = Some((d, c));
                }
            }
        }
        best.map(|(_, c)| c)
    }
}

/// The candidate closest to `got`, if it is close enough to be a plausible typo.
pub(crate) fn did_you_mean<'a>(
    got: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    Known::new(candidates).closest(got).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::{BUDGET, Known, did_you_mean};

    #[test]
    fn suggests_close_names_only() {
        let names = ["cert-manager", "kyverno", "tailscale-operator"];
        assert_eq!(
            did_you_mean("cert-manger", names),
            Some("cert-manager".into())
        );
        assert_eq!(did_you_mean("kyvern", names), Some("kyverno".into()));
        assert_eq!(
            did_you_mean("cret-manager", names),
            Some("cert-manager".into())
        );
        assert_eq!(did_you_mean("zzz", names), None);
        assert_eq!(did_you_mean("kyverno", ["kyverno"]), None);
    }

    #[test]
    fn ties_break_by_name() {
        assert_eq!(did_you_mean("ab", ["ac", "aa"]), Some("aa".into()));
    }

    /// A set of names answers a bounded number of comparisons, then suggests nothing.
    #[test]
    fn the_budget_bounds_the_work_of_a_set_of_names() {
        let names: Vec<String> = (0..10_000).map(|i| format!("comp-{i:04}")).collect();
        let known = Known::new(names.iter().map(String::as_str));
        assert_eq!(known.closest("comp-0001x"), Some("comp-0001"));
        let answered = (0..1_000)
            .filter(|i| known.closest(&format!("comp-{i:04}x")).is_some())
            .count();
        assert_eq!(answered, BUDGET / 10_000 - 1);
        assert_eq!(known.closest("comp-0001x"), None);
    }
}
