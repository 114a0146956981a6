//! BFE's condition expression language: `req_host_in("a.com") && !req_path_prefix_in("/admin", false)`.
//!
//! [`Condition::compile`] lexes, parses, type-checks and compiles a source string once, at config
//! load; every list is split, every regex, IP, hash bucket list and time is parsed there.
//! [`Condition::eval`] then only walks a small tree of compiled matchers against one request's
//! [`Facts`]: it never parses a string, never compiles a regex and never panics.
//!
//! The pipeline is `lexer` → `parse` (syntax tree with columns) → `check` (names, arity, types,
//! variables; uses the primitive `table`) → `eval::Node` (compiled tree). Spec: BFE.md §3.3 and
//! bfe `bfe_basic/condition/` (`parser/cond.y`, `parser/semant.go`, `build.go`, `primitive.go`).
//!
//! Deliberate differences from BFE are commented where they are implemented; the list:
//! - `"..."` escapes (`\"`, `\\`, `\n`, `\x41`, `\u00e9`, ...) are decoded; BFE validates them
//!   but keeps the raw text (so `"a\"b"` meant `a\"b` there). Backtick raw strings are as BFE.
//! - `req_proto_match` compares a protocol name (`http`, `https`, `h2`, `h2c`, `ws`, `stream`),
//!   case-insensitively, against a `|` list; BFE compared `HTTP/1.1` for cleartext requests.
//! - `req_port_in` falls back to the listener's default port, not always 80; ports and
//!   `res_code_in` codes are validated as numbers at compile time.
//! - Hash primitives return false when the hashed value is absent (BFE hashed a random number).
//! - `req_context_value_in` honours its case-insensitive flag (BFE ignored it).
//! - The Host value is read as the host table reads it ([`crate::host`]), for every
//!   `req_host_*` primitive and `req_port_in`: the port is cut at the *last* `:` and only when
//!   it is all digits (BFE cut at the first `:`, so `a.com:foo` was `a.com` and IPv6 literals
//!   broke), a bracketed IPv6 literal keeps its colons (`[::1]:8080` → `[::1]`), and one
//!   trailing dot is dropped (`a.com.` → `a.com`; BFE kept it, so `req_host_in("a.com")` missed
//!   `a.com.`). `req_host_in` compares that name lower-cased (ASCII), exactly as the host
//!   table and the advanced-route index do. `req_host_regmatch` still sees the name's case.
//! - `req_host_in` items are compiled to that same form and must be non-empty ASCII names or
//!   bracketed IPv6 literals, without port: BFE kept an empty item (so `"a.com|"` matched a
//!   request without Host), upper-cased items and values with Unicode rules (`é.com` matched
//!   `É.COM`) and rejected any `:`. We refuse empty and non-ASCII items at compile time (write
//!   IDNs in `xn--` form, as clients send them; the host table takes only ASCII names too),
//!   and accept `[v6]`.
//! - `req_body_json_*` paths support keys, array indexes and `\.`; gjson wildcards, queries
//!   and modifiers are rejected at compile time. Numbers compare as serde_json writes them.
//! - A `$name` variable (BFE's advanced-condition syntax) lexes as an identifier, so it gets
//!   the "unresolved variable" error rather than "unexpected character".
//! - `&&` binds tighter than `||`, as in C, BFE's grammar doc and BFE.md. BFE's `cond.y` declares
//!   `%left LAND` before `%left LOR`, which in yacc gives `||` the higher precedence, so BFE
//!   itself reads `a && b || c` as `a && (b || c)`; write parentheses to be portable.

mod build;
mod check;
mod eval;
mod facts;
mod hash;
mod hosts;
mod json;
mod lexer;
mod matcher;
mod parse;
mod table;
mod text;
mod time;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

pub use facts::Facts;
pub use hash::sum64 as murmur3_sum64;
pub(crate) use hosts::host_key;

/// A compiled condition. Cheap to clone (one `Arc`), `Send + Sync`, immutable.
#[derive(Clone)]
pub struct Condition {
    inner: Arc<Compiled>,
}

struct Compiled {
    source: Box<str>,
    root: eval::Node,
    uses_response: bool,
    /// See [`Condition::required_hosts`].
    hosts: Option<Box<[Box<str>]>>,
}

/// Why a condition did not compile, with the 1-based column (in characters) of the offending
/// token. Renders as `unknown primitive 'req_hots_in' at column 1`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at column {column}")]
pub struct CondError {
    pub column: usize,
    pub message: String,
    pub kind: CondErrorKind,
}

/// The class of a [`CondError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CondErrorKind {
    /// The source is empty or only whitespace and comments.
    Empty,
    /// A character that starts no token (`&` alone, `;`, `#`, ...).
    UnexpectedChar,
    /// A `"` or `` ` `` string with no closing quote (`"` strings also end at a newline).
    UnterminatedString,
    /// A `\` escape that Go's string syntax does not define, or a non-ASCII byte escape.
    InvalidEscape,
    /// A token where the grammar expects something else.
    UnexpectedToken,
    /// The source ended in the middle of an expression.
    UnexpectedEnd,
    /// A `)` with no matching `(`, or a `(` never closed.
    UnbalancedParen,
    /// Parentheses and `!` nested deeper than the compiler accepts.
    TooDeep,
    /// A call to a name that is not a primitive.
    UnknownPrimitive,
    /// A bare identifier: BFE's grammar parses variables, but plain conditions cannot use them.
    UnresolvedVariable,
    /// A primitive called with the wrong number of arguments.
    WrongArity,
    /// An argument of the wrong type (string where a bool is expected, a number, ...).
    WrongArgType,
    /// A well-typed argument with a bad value: regex, IP, bucket list, time, port, JSON path.
    InvalidArgValue,
}

// === impl Condition ===

impl Condition {
    /// Parses, type-checks and compiles `src` once.
    pub fn compile(src: &str) -> Result<Condition, CondError> {
        let expr = parse::parse(src)?;
        let checked = check::check(&expr)?;
        let hosts = hosts::required_hosts(&checked.root).map(Vec::into_boxed_slice);
        Ok(Condition {
            inner: Arc::new(Compiled {
                source: src.into(),
                root: checked.root,
                uses_response: checked.uses_response,
                hosts,
            }),
        })
    }

    /// Evaluates against one request. Short-circuits; allocates only on rare paths
    /// (percent-decoded query values longer than 256 bytes, non-ASCII case folding).
    pub fn eval<F: Facts + ?Sized>(&self, facts: &F) -> bool {
        self.inner.root.eval(facts)
    }

    /// True if the condition uses any `res_*` primitive, which only have facts at response-time
    /// callback points. The config compiler rejects such conditions in routing rules.
    pub fn uses_response(&self) -> bool {
        self.inner.uses_response
    }

    /// A set of hosts, sorted, in [`crate::host::normalize_host`] form, such that the condition
    /// can be true only for a request whose Host in that form is in the set; `None` when the
    /// condition may match any host. Found at compile time from
    /// `req_host_in` calls under `&&` / `||` (not `!`); the route table indexes rules by it.
    /// `Some(&[])` means the condition can never be true.
    pub fn required_hosts(&self) -> Option<&[Box<str>]> {
        self.inner.hosts.as_deref()
    }

    /// The source text this condition was compiled from.
    pub fn source(&self) -> &str {
        &self.inner.source
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Condition").field(&self.source()).finish()
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.source())
    }
}

/// Two conditions are equal when compiled from the same source (compilation is deterministic),
/// which lets snapshot diffs compare rules without comparing regex automata.
impl PartialEq for Condition {
    fn eq(&self, other: &Self) -> bool {
        self.source() == other.source()
    }
}

impl Eq for Condition {}

impl std::str::FromStr for Condition {
    type Err = CondError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Condition::compile(s)
    }
}

// === impl CondError ===

impl CondError {
    pub(crate) fn new(kind: CondErrorKind, column: usize, message: impl Into<String>) -> Self {
        Self {
            column,
            message: message.into(),
            kind,
        }
    }
}
