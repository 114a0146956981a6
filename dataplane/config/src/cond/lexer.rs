//! Tokens of the condition language, each with the 1-based column (in characters) where it
//! starts. Follows BFE's scanner (`parser/scanner.go`): identifiers may contain `-`, strings are
//! `"..."` (Go escapes, no newline) or `` `...` `` (raw), `//` starts a line comment, numbers
//! lex as one token so the type checker can say "must be a string".

use super::{CondError, CondErrorKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Tok {
    Ident(String),
    Str(String),
    Bool(bool),
    Number(String),
    LParen,
    RParen,
    Comma,
    Not,
    And,
    Or,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    pub tok: Tok,
    pub col: usize,
}

/// The tokens of `src` and the column just past its end (for "unexpected end" errors).
pub(super) fn tokenize(src: &str) -> Result<(Vec<Token>, usize), CondError> {
    let chars: Vec<char> = src.chars().collect();
    let mut lx = Lexer {
        chars: &chars,
        i: 0,
    };
    let mut out = Vec::new();
    while let Some(t) = lx.next_token()? {
        out.push(t);
    }
    Ok((out, chars.len() + 1))
}

struct Lexer<'a> {
    chars: &'a [char],
    i: usize,
}

// === impl Tok ===

impl Tok {
    /// How the token reads in an error message.
    pub(super) fn describe(&self) -> String {
        match self {
            Tok::Ident(n) => format!("'{n}'"),
            Tok::Str(_) => "a string".to_owned(),
            Tok::Bool(b) => format!("'{b}'"),
            Tok::Number(n) => format!("'{n}'"),
            Tok::LParen => "'('".to_owned(),
            Tok::RParen => "')'".to_owned(),
            Tok::Comma => "','".to_owned(),
            Tok::Not => "'!'".to_owned(),
            Tok::And => "'&&'".to_owned(),
            Tok::Or => "'||'".to_owned(),
        }
    }
}

// === impl Lexer ===

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).copied()
    }

    fn err(&self, kind: CondErrorKind, at: usize, msg: impl Into<String>) -> CondError {
        CondError::new(kind, at + 1, msg)
    }

    fn next_token(&mut self) -> Result<Option<Token>, CondError> {
        loop {
            match self.peek(0) {
                Some(c) if c.is_whitespace() => self.i += 1,
                Some('/') if self.peek(1) == Some('/') => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.i += 1;
                    }
                }
                _ => break,
            }
        }
        let start = self.i;
        let Some(c) = self.peek(0) else {
            return Ok(None);
        };
        let tok = match c {
            '(' => self.single(Tok::LParen),
            ')' => self.single(Tok::RParen),
            ',' => self.single(Tok::Comma),
            '!' => self.single(Tok::Not),
            '&' | '|' => {
                if self.peek(1) != Some(c) {
                    let msg = format!("unexpected character '{c}' (did you mean '{c}{c}'?)");
                    return Err(self.err(CondErrorKind::UnexpectedChar, start, msg));
                }
                self.i += 2;
                if c == '&' { Tok::And } else { Tok::Or }
            }
            '"' => Tok::Str(self.quoted()?),
            '`' => Tok::Str(self.raw()?),
            c if c.is_ascii_digit() => {
                let text = self.take_while(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
                Tok::Number(text)
            }
            c if is_ident_start(c) => {
                let name = self.take_while(|c| is_ident_start(c) || c.is_ascii_digit() || c == '-');
                match name.as_str() {
                    "true" => Tok::Bool(true),
                    "false" => Tok::Bool(false),
                    _ => Tok::Ident(name),
                }
            }
            c => {
                let msg = format!("unexpected character '{}'", c.escape_debug());
                return Err(self.err(CondErrorKind::UnexpectedChar, start, msg));
            }
        };
        Ok(Some(Token {
            tok,
            col: start + 1,
        }))
    }

    fn single(&mut self, t: Tok) -> Tok {
        self.i += 1;
        t
    }

    fn take_while(&mut self, f: impl Fn(char) -> bool) -> String {
        let start = self.i;
        while self.peek(0).is_some_and(&f) {
            self.i += 1;
        }
        self.chars[start..self.i].iter().collect()
    }

    /// A `` `raw` `` string: no escapes, may span lines, `\r` dropped (as Go does).
    fn raw(&mut self) -> Result<String, CondError> {
        let open = self.i;
        self.i += 1;
        let mut s = String::new();
        loop {
            match self.peek(0) {
                None => {
                    let msg = "unterminated raw string literal";
                    return Err(self.err(CondErrorKind::UnterminatedString, open, msg));
                }
                Some('`') => {
                    self.i += 1;
                    return Ok(s);
                }
                Some('\r') => self.i += 1,
                Some(c) => {
                    s.push(c);
                    self.i += 1;
                }
            }
        }
    }

    /// A `"..."` string. BFE's scanner checks Go escapes but keeps the raw text; we decode them
    /// (deliberate: `"a\"b"` means `a"b`, and `"\\d"` is the regex `\d`).
    fn quoted(&mut self) -> Result<String, CondError> {
        let open = self.i;
        self.i += 1;
        let mut s = String::new();
        loop {
            match self.peek(0) {
                None | Some('\n') => {
                    let msg = "unterminated string literal";
                    return Err(self.err(CondErrorKind::UnterminatedString, open, msg));
                }
                Some('"') => {
                    self.i += 1;
                    return Ok(s);
                }
                Some('\\') => s.push(self.escape(open)?),
                Some(c) => {
                    s.push(c);
                    self.i += 1;
                }
            }
        }
    }

    /// One escape at `self.i` (the backslash), Go syntax.
    fn escape(&mut self, open: usize) -> Result<char, CondError> {
        let at = self.i;
        let bad = |lx: &Self, what: String| lx.err(CondErrorKind::InvalidEscape, at, what);
        let Some(c) = self.peek(1) else {
            let msg = "unterminated string literal";
            return Err(self.err(CondErrorKind::UnterminatedString, open, msg));
        };
        self.i += 2;
        let simple = match c {
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\u{b}'),
            '\\' => Some('\\'),
            '"' => Some('"'),
            _ => None,
        };
        if let Some(ch) = simple {
            return Ok(ch);
        }
        let (digits, radix) = match c {
            '0'..='7' => {
                self.i -= 1;
                (3, 8)
            }
            'x' => (2, 16),
            'u' => (4, 16),
            'U' => (8, 16),
            _ => {
                return Err(bad(
                    self,
                    format!("invalid escape sequence '\\{}'", c.escape_debug()),
                ));
            }
        };
        let mut v: u32 = 0;
        for _ in 0..digits {
            let d = self.peek(0).and_then(|d| d.to_digit(radix));
            let Some(d) = d else {
                return Err(bad(self, "incomplete escape sequence".to_owned()));
            };
            v = v * radix + d;
            self.i += 1;
        }
        // Octal and \x escapes are bytes in Go; only ASCII bytes keep our strings valid UTF-8.
        if matches!(c, '0'..='7' | 'x') && v > 0x7f {
            return Err(bad(
                self,
                "byte escape above \\x7f; use \\u for non-ASCII".to_owned(),
            ));
        }
        char::from_u32(v)
            .ok_or_else(|| bad(self, "escape is not a Unicode scalar value".to_owned()))
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '$' || (!c.is_ascii() && c.is_alphabetic())
}
