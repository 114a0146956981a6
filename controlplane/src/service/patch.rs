//! RFC 7386 JSON merge patch, the semantics of every PATCH and of `patch` ops.

use serde_json::Value;

/// RFC 7386 JSON merge patch.
pub(super) fn merge_patch(target: &mut Value, patch: Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(&k);
                    } else {
                        merge_patch(t.entry(k).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut v = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]});
        merge_patch(
            &mut v,
            json!({"a": null, "b": {"c": 9}, "e": [2, 3], "f": "x"}),
        );
        assert_eq!(v, json!({"b": {"c": 9, "d": 3}, "e": [2, 3], "f": "x"}));
    }
}
