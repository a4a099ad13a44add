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

/// The `fleet.yaml` of every example and test fleet of the repository, sorted.
pub(crate) fn example_specs() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut specs: Vec<std::path::PathBuf> = ["examples", "tests/fleets"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).expect("folder").flatten())
        .map(|e| e.path().join("fleet.yaml"))
        .filter(|p| p.is_file())
        .collect();
    specs.sort();
    specs
}
