//! JSON values merged the one way synctl merges them: Helm values over values, an
//! environment's settings over the component's, `fluxSpec` over the generated object's spec.

use serde_json::Value as Json;

/// Deep merge of `over` into `base` (maps merge, everything else — lists included — replaces).
pub(crate) fn merge(base: &mut Json, over: &Json) {
    match (base, over) {
        (Json::Object(b), Json::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k.clone()).or_insert(Json::Null), v);
            }
        }
        (b, o) => *b = o.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_is_deep_for_maps_and_replaces_lists() {
        let mut base = json!({"a": {"b": 1, "c": [1, 2]}, "d": 1});
        merge(&mut base, &json!({"a": {"c": [3], "e": 2}, "d": null}));
        assert_eq!(base, json!({"a": {"b": 1, "c": [3], "e": 2}, "d": null}));
    }
}
