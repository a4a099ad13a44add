//! "Did you mean …?" — the closest known name by edit distance.

/// The candidate closest to `got`, if it is close enough to be a plausible typo.
pub(crate) fn did_you_mean<'a>(
    got: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (got.chars().count() / 3).max(1) + 1;
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(got, c), c))
        .filter(|&(d, c)| d <= limit && d < c.chars().count().max(1) && c != got)
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_close_names_only() {
        let names = ["cert-manager", "kyverno", "tailscale-operator"];
        assert_eq!(did_you_mean("cert-manger", names), Some("cert-manager"));
        assert_eq!(did_you_mean("kyvern", names), Some("kyverno"));
        assert_eq!(did_you_mean("zzz", names), None);
        assert_eq!(did_you_mean("kyverno", ["kyverno"]), None);
    }

    #[test]
    fn ties_break_by_name() {
        assert_eq!(did_you_mean("ab", ["ac", "aa"]), Some("aa"));
    }
}
