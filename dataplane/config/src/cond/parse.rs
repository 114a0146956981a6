//! Recursive-descent parser for BFE's grammar (`parser/cond.y`):
//!
//! ```text
//! expr    := and ( '||' and )*
//! and     := unary ( '&&' unary )*
//! unary   := '!' unary | primary
//! primary := '(' expr ')' | IDENT '(' [ arg ( ',' arg )* ] ')' | IDENT
//! arg     := STRING | BOOL | NUMBER | IDENT
//! ```
//!
//! Precedence `()` > `!` > `&&` > `||`. Chains of one operator become one n-ary node, so a
//! thousand `&&`s do not make a thousand-deep tree; parentheses and `!` are depth-limited.
//! Bare identifiers parse (BFE's variables) and are rejected by the checker.

use super::lexer::{Tok, Token, tokenize};
use super::{CondError, CondErrorKind};

/// How deep `(` and `!` may nest; keeps compile and eval recursion bounded.
pub(super) const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Call(Call),
    Var { name: String, col: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Call {
    pub name: String,
    pub col: usize,
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Arg {
    pub lit: Lit,
    pub col: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Lit {
    Str(String),
    Bool(bool),
    Number(String),
    Ident(String),
}

pub(super) fn parse(src: &str) -> Result<Expr, CondError> {
    let (tokens, end_col) = tokenize(src)?;
    if tokens.is_empty() {
        return Err(CondError::new(CondErrorKind::Empty, 1, "empty condition"));
    }
    let mut p = Parser {
        tokens,
        pos: 0,
        end_col,
        open_parens: 0,
    };
    let expr = p.or(0)?;
    match p.peek() {
        None => Ok(expr),
        Some(t) if t.tok == Tok::RParen => Err(unmatched(t.col)),
        Some(t) => Err(p.unexpected(t.clone(), "'&&', '||' or the end of the condition")),
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    end_col: usize,
    open_parens: usize,
}

// === impl Parser ===

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn bump(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.peek().is_some_and(|t| &t.tok == tok) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn unexpected(&self, t: Token, expected: &str) -> CondError {
        let msg = format!("unexpected {}, expected {expected}", t.tok.describe());
        CondError::new(CondErrorKind::UnexpectedToken, t.col, msg)
    }

    fn end(&self, expected: &str) -> CondError {
        let msg = format!("unexpected end of condition, expected {expected}");
        CondError::new(CondErrorKind::UnexpectedEnd, self.end_col, msg)
    }

    fn or(&mut self, depth: usize) -> Result<Expr, CondError> {
        let mut terms = vec![self.and(depth)?];
        while self.eat(&Tok::Or) {
            terms.push(self.and(depth)?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::Or(terms)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Expr, CondError> {
        let mut terms = vec![self.unary(depth)?];
        while self.eat(&Tok::And) {
            terms.push(self.unary(depth)?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::And(terms)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, CondError> {
        const OPERAND: &str = "a primitive, '!' or '('";
        let Some(t) = self.bump() else {
            return Err(self.end(OPERAND));
        };
        if matches!(t.tok, Tok::Not | Tok::LParen) && depth >= MAX_DEPTH {
            let msg = format!("condition nests '(' and '!' deeper than {MAX_DEPTH} levels");
            return Err(CondError::new(CondErrorKind::TooDeep, t.col, msg));
        }
        match t.tok {
            Tok::Not => Ok(Expr::Not(Box::new(self.unary(depth + 1)?))),
            Tok::LParen => {
                self.open_parens += 1;
                let inner = self.or(depth + 1)?;
                match self.bump() {
                    Some(Token {
                        tok: Tok::RParen, ..
                    }) => {
                        self.open_parens -= 1;
                        Ok(inner)
                    }
                    Some(other) => Err(self.unexpected(other, "')', '&&' or '||'")),
                    None => Err(CondError::new(
                        CondErrorKind::UnbalancedParen,
                        t.col,
                        "unclosed '('",
                    )),
                }
            }
            Tok::Ident(name) => {
                if self.eat(&Tok::LParen) {
                    let args = self.args(&name)?;
                    Ok(Expr::Call(Call {
                        name,
                        col: t.col,
                        args,
                    }))
                } else {
                    Ok(Expr::Var { name, col: t.col })
                }
            }
            Tok::RParen if self.open_parens == 0 => Err(unmatched(t.col)),
            _ => Err(self.unexpected(t, OPERAND)),
        }
    }

    /// The arguments after `name(`, through the closing `)`.
    fn args(&mut self, name: &str) -> Result<Vec<Arg>, CondError> {
        let mut args = Vec::new();
        if self.eat(&Tok::RParen) {
            return Ok(args);
        }
        let close = format!("')' to close the arguments of {name}");
        loop {
            let Some(t) = self.bump() else {
                return Err(self.end("an argument"));
            };
            let lit = match t.tok {
                Tok::Str(s) => Lit::Str(s),
                Tok::Bool(b) => Lit::Bool(b),
                Tok::Number(n) => Lit::Number(n),
                Tok::Ident(n) => Lit::Ident(n),
                _ => return Err(self.unexpected(t, "an argument (a string, true or false)")),
            };
            args.push(Arg { lit, col: t.col });
            match self.bump() {
                Some(Token {
                    tok: Tok::Comma, ..
                }) => {}
                Some(Token {
                    tok: Tok::RParen, ..
                }) => return Ok(args),
                Some(other) => return Err(self.unexpected(other, &format!("',' or {close}"))),
                None => return Err(self.end(&close)),
            }
        }
    }
}

fn unmatched(col: usize) -> CondError {
    CondError::new(CondErrorKind::UnbalancedParen, col, "unmatched ')'")
}
