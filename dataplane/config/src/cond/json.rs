//! The gjson-style paths of `req_body_json_in` / `req_body_json_prefix_in`: `a.b.0.c` walks
//! object keys and array indexes; `\.` escapes a dot inside a key. gjson's wildcards (`*`, `?`),
//! queries (`#`), modifiers (`@`) and pipes (`|`) are rejected at compile time rather than
//! silently matched literally.

use serde_json::Value;

use super::text::Scratch;

/// A compiled path: one step per segment, array index pre-parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct JsonPath {
    steps: Box<[Step]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    key: Box<str>,
    index: Option<usize>,
}

// === impl JsonPath ===

impl JsonPath {
    pub(super) fn parse(path: &str) -> Result<Self, String> {
        let mut steps = Vec::new();
        let mut key = String::new();
        let mut chars = path.chars();
        let mut push = |key: &mut String| -> Result<(), String> {
            if key.is_empty() {
                return Err(format!("JSON path '{path}' has an empty segment"));
            }
            let index = key.parse::<usize>().ok();
            steps.push(Step {
                key: std::mem::take(key).into(),
                index,
            });
            Ok(())
        };
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(e) => key.push(e),
                    None => return Err(format!("JSON path '{path}' ends in '\\'")),
                },
                '.' => push(&mut key)?,
                '*' | '?' | '|' => {
                    return Err(format!(
                        "JSON path '{path}': gjson wildcards and pipes are not supported"
                    ));
                }
                '#' | '@' if key.is_empty() => {
                    return Err(format!(
                        "JSON path '{path}': gjson queries and modifiers are not supported"
                    ));
                }
                c => key.push(c),
            }
        }
        push(&mut key)?;
        Ok(Self {
            steps: steps.into_boxed_slice(),
        })
    }

    /// The leaf as text: strings as themselves, numbers as serde_json writes them, booleans as
    /// `true`/`false`. Missing paths, `null`, objects and arrays give `None` (no match).
    pub(super) fn lookup<'a>(&self, root: &'a Value, scratch: &'a mut Scratch) -> Option<&'a [u8]> {
        let mut v = root;
        for step in self.steps.iter() {
            v = match v {
                Value::Object(m) => m.get(&*step.key)?,
                Value::Array(a) => a.get(step.index?)?,
                _ => return None,
            };
        }
        match v {
            Value::String(s) => Some(s.as_bytes()),
            Value::Bool(true) => Some(b"true"),
            Value::Bool(false) => Some(b"false"),
            Value::Number(n) => scratch.json_number(n),
            Value::Null | Value::Object(_) | Value::Array(_) => None,
        }
    }
}
