//! The hash maps keyed by names from the spec: foldhash, seeded per process as std's SipHash
//! is (a spec comes from a pull request), at a fraction of SipHash's cost, which was 4–7% of
//! checking a 100,000-component fleet. Nothing iterates these maps to produce output.

/// A `HashMap` with foldhash.
pub(crate) type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// An empty [`Map`] with room for `n` entries.
#[must_use]
pub(crate) fn map_with_capacity<K, V>(n: usize) -> Map<K, V> {
    Map::with_capacity_and_hasher(n, foldhash::fast::RandomState::default())
}
