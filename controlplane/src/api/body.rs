//! Request bodies and other client text, read strictly: a duplicate JSON key or a control
//! character anywhere is refused with the field's path (PostgreSQL cannot store NUL, and both
//! stores must answer alike), and a body that does not fit its type names the field that does
//! not fit, not just `body`.

use std::cell::RefCell;
use std::fmt;

use serde::de::{DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::{ApiError, join_path as join};
use crate::text::{control_message, has_control};

/// Parses JSON text strictly; paths in errors start at `root` (`body`, or `""` for a request
/// whose fields are named from the top).
pub fn parse(bytes: &[u8], root: &str) -> Result<Value, ApiError> {
    let refused = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let seed = Strict {
        path: root.to_owned(),
        refused: &refused,
    };
    match seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v)) {
        Ok(v) => Ok(v),
        Err(e) => Err(match refused.into_inner() {
            Some((path, message)) => ApiError::bad_field(path, message),
            None => ApiError::bad_field(join(root, ""), format!("invalid JSON: {e}")),
        }),
    }
}

/// `value` as a `T`; a shape or type error names the field under `root`.
pub fn typed<T: DeserializeOwned>(value: Value, root: &str) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| ApiError::shape(root, &e))
}

/// Builds a [`Value`] like `serde_json` does, refusing duplicate keys and control characters.
/// The refusal's path travels beside the error, which `serde` only lets carry a message.
struct Strict<'a> {
    path: String,
    refused: &'a RefCell<Option<(String, String)>>,
}

impl Strict<'_> {
    fn refuse<E: serde::de::Error>(&self, path: String, message: &str) -> E {
        *self.refused.borrow_mut() = Some((path.clone(), message.to_owned()));
        E::custom(format_args!("{path}: {message}"))
    }

    fn child(&self, path: String) -> Self {
        Strict {
            path,
            refused: self.refused,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("not a finite number"))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        if has_control(v) {
            return Err(self.refuse(self.path.clone(), control_message()));
        }
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Value, E> {
        if has_control(&v) {
            return Err(self.refuse(self.path.clone(), control_message()));
        }
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) =
            seq.next_element_seed(self.child(format!("{}[{}]", self.path, items.len())))?
        {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = join(&self.path, &key);
            if has_control(&key) {
                return Err(self.refuse(path, control_message()));
            }
            if out.contains_key(&key) {
                return Err(self.refuse(path, "duplicate key"));
            }
            let value = map.next_value_seed(self.child(path))?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(json: &str, root: &str) -> (String, String) {
        match parse(json.as_bytes(), root) {
            Err(ApiError::BadRequest { violations, .. }) => {
                (violations[0].path.clone(), violations[0].message.clone())
            }
            other => panic!("{json}: {other:?}"),
        }
    }

    #[test]
    fn duplicate_keys_and_control_characters_are_refused_with_their_path() {
        let (path, msg) = refused(r#"{"a": {"b": [1, {"c": 1, "c": 2}]}}"#, "body");
        assert_eq!(path, "body.a.b[1].c");
        assert_eq!(msg, "duplicate key");
        assert_eq!(
            refused(r#"{"ops": [{"message": "x\u0000"}]}"#, "").0,
            "ops[0].message"
        );
        assert_eq!(refused(r#"{"k\u0001": 1}"#, "body").0, "body.k\u{1}");
        assert_eq!(refused(r#"["\u009f"]"#, "body").0, "body[0]");
        assert_eq!(refused("{", "").0, "body");
        let ok = parse(br#"{"pem": "a\nb\r\n\tc", "n": -1.5, "z": null}"#, "body").expect("ok");
        assert_eq!(ok["pem"], "a\nb\r\n\tc");
        assert_eq!(ok["n"], -1.5);
    }
}
