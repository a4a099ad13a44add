//! Helpers shared by the unit tests.

/// Every string of at most `len` characters from `alphabet` (the empty one included): the
/// exhaustive corpus the hand-written checks are held equal to their references on.
pub(crate) fn strings_up_to(alphabet: &[char], len: usize) -> Vec<String> {
    let mut all = vec![String::new()];
    let mut last = vec![String::new()];
    for _ in 0..len {
        last = last
            .iter()
            .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
            .collect();
        all.extend(last.iter().cloned());
    }
    all
}
