//! Reading request text lazily, without allocating on the common path: query pairs (Go
//! `url.ParseQuery` rules), cookies (Go `readCookies` rules), and a stack buffer for decoded or
//! formatted values. The Host value is read by [`crate::host`], shared with the host table.

use std::fmt;
use std::ops::ControlFlow;

const STACK_BYTES: usize = 256;

/// Stack space for one decoded query value, formatted IP or JSON number. Values longer than
/// the array spill to `heap` (rare path).
pub(super) struct Scratch {
    buf: [u8; STACK_BYTES],
    heap: Vec<u8>,
}

// === query ===

/// Calls `visit(raw_key, raw_value)` for each pair Go's `url.ParseQuery` would keep: segments
/// split on `&`, empty segments and segments containing `;` skipped, pairs whose key or value
/// has a bad `%` escape skipped. Keys and values are still escaped; see [`unescaped_eq`] and
/// [`Scratch::unescape`].
pub(super) fn for_each_query_pair<'a>(
    query: &'a str,
    mut visit: impl FnMut(&'a [u8], &'a [u8]) -> ControlFlow<()>,
) {
    for seg in query.as_bytes().split(|b| *b == b'&') {
        if seg.is_empty() || seg.contains(&b';') {
            continue;
        }
        let (k, v) = match seg.iter().position(|b| *b == b'=') {
            Some(i) => (&seg[..i], &seg[i + 1..]),
            None => (seg, &b""[..]),
        };
        if !escapes_valid(k) || !escapes_valid(v) {
            continue;
        }
        if visit(k, v).is_break() {
            return;
        }
    }
}

fn escapes_valid(raw: &[u8]) -> bool {
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let ok = raw.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && raw.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
            if !ok {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

/// The bytes of a valid escaped query component, decoded (`+` is a space).
fn unescape_iter(raw: &[u8]) -> impl Iterator<Item = u8> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let b = *raw.get(i)?;
        i += 1;
        Some(match b {
            b'+' => b' ',
            b'%' => {
                let hex = |j: usize| {
                    raw.get(j)
                        .and_then(|c| (*c as char).to_digit(16))
                        .unwrap_or(0)
                };
                let v = hex(i) * 16 + hex(i + 1);
                i += 2;
                u8::try_from(v).unwrap_or(0)
            }
            _ => b,
        })
    })
}

/// Whether escaped `raw` decodes to exactly `want`.
pub(super) fn unescaped_eq(raw: &[u8], want: &[u8]) -> bool {
    if !raw.contains(&b'%') && !raw.contains(&b'+') {
        return raw == want;
    }
    unescape_iter(raw).eq(want.iter().copied())
}

// === cookies ===

/// The value of the first cookie named `name` in one `Cookie` header line, per Go's
/// `readCookies`: `;`-separated, trimmed, names must be tokens, values may be double-quoted
/// and must not contain `"`, `;`, `\` or controls (such cookies are skipped).
pub(super) fn find_cookie<'a>(line: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    for part in line.split(|b| *b == b';') {
        let part = part.trim_ascii();
        if part.is_empty() {
            continue;
        }
        let (k, v) = match part.iter().position(|b| *b == b'=') {
            Some(i) => (part[..i].trim_ascii(), &part[i + 1..]),
            None => (part, &b""[..]),
        };
        if k != name || !is_token(k) {
            continue;
        }
        let v = match v {
            [b'"', inner @ .., b'"'] => inner,
            _ => v,
        };
        if v.iter()
            .all(|b| (0x20..0x7f).contains(b) && !matches!(b, b'"' | b';' | b'\\'))
        {
            return Some(v);
        }
    }
    None
}

fn is_token(s: &[u8]) -> bool {
    !s.is_empty()
        && s.iter()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b))
}

// === impl Scratch ===

impl Scratch {
    pub(super) fn new() -> Self {
        Self {
            buf: [0; STACK_BYTES],
            heap: Vec::new(),
        }
    }

    /// Decodes a valid escaped query component; borrows `raw` when it has nothing to decode.
    pub(super) fn unescape<'a>(&'a mut self, raw: &'a [u8]) -> &'a [u8] {
        if !raw.contains(&b'%') && !raw.contains(&b'+') {
            return raw;
        }
        let mut n = 0;
        for b in unescape_iter(raw) {
            match self.buf.get_mut(n) {
                Some(slot) => *slot = b,
                None => {
                    self.heap.clear();
                    self.heap.extend(unescape_iter(raw));
                    return &self.heap;
                }
            }
            n += 1;
        }
        &self.buf[..n]
    }

    /// A JSON number as serde_json writes it (`2`, `1.5`, `1e+300`; gjson compared the raw
    /// text, which serde_json does not keep), or `None` if it does not fit in the stack buffer.
    pub(super) fn json_number(&mut self, n: &serde_json::Number) -> Option<&[u8]> {
        let mut rest: &mut [u8] = &mut self.buf;
        serde_json::to_writer(&mut rest, n).ok()?;
        let len = STACK_BYTES - rest.len();
        Some(&self.buf[..len])
    }

    /// `Display` output of `v`, or `None` if it does not fit in the stack buffer.
    pub(super) fn display(&mut self, v: impl fmt::Display) -> Option<&[u8]> {
        let mut w = SliceWriter {
            buf: &mut self.buf,
            len: 0,
        };
        fmt::write(&mut w, format_args!("{v}")).ok()?;
        let len = w.len;
        Some(&self.buf[..len])
    }
}

struct SliceWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl fmt::Write for SliceWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}
