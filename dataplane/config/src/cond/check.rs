//! The semantic pass (BFE `parser/semant.go` + `build.go`): every call names a primitive, has
//! its arity and argument types, uses no variables, and has arguments that compile. Reports
//! the first problem in source order, at the column of the token that caused it.

use super::build::Args;
use super::eval::{Node, Prim};
use super::parse::{Call, Expr, Lit};
use super::table::{self, ArgType};
use super::{CondError, CondErrorKind};

pub(super) struct Checked {
    pub root: Node,
    pub uses_response: bool,
}

pub(super) fn check(expr: &Expr) -> Result<Checked, CondError> {
    let mut uses_response = false;
    let root = node(expr, &mut uses_response)?;
    Ok(Checked {
        root,
        uses_response,
    })
}

fn node(expr: &Expr, uses_response: &mut bool) -> Result<Node, CondError> {
    let all = |terms: &[Expr], uses_response: &mut bool| {
        terms
            .iter()
            .map(|t| node(t, uses_response))
            .collect::<Result<Box<[Node]>, _>>()
    };
    Ok(match expr {
        Expr::Or(terms) => Node::Or(all(terms, uses_response)?),
        Expr::And(terms) => Node::And(all(terms, uses_response)?),
        Expr::Not(inner) => Node::Not(Box::new(node(inner, uses_response)?)),
        Expr::Var { name, col } => return Err(unresolved(name, *col)),
        Expr::Call(call) => {
            *uses_response |= table::is_response(&call.name);
            Node::Prim(primitive(call)?)
        }
    })
}

fn primitive(call: &Call) -> Result<Prim, CondError> {
    let Some(proto) = table::lookup(&call.name) else {
        let msg = format!("unknown primitive '{}'", call.name);
        return Err(CondError::new(
            CondErrorKind::UnknownPrimitive,
            call.col,
            msg,
        ));
    };
    if call.args.len() != proto.args.len() {
        let want = proto.args.len();
        let plural = if want == 1 { "" } else { "s" };
        let msg = format!(
            "{} expects {want} argument{plural}, got {}",
            call.name,
            call.args.len()
        );
        return Err(CondError::new(CondErrorKind::WrongArity, call.col, msg));
    }
    for (i, (arg, want)) in call.args.iter().zip(proto.args).enumerate() {
        let ok = match (&arg.lit, want) {
            (Lit::Ident(name), _) => return Err(unresolved(name, arg.col)),
            (Lit::Str(_), ArgType::Str) | (Lit::Bool(_), ArgType::Bool) => true,
            _ => false,
        };
        if !ok {
            let ty = match want {
                ArgType::Str => "a string",
                ArgType::Bool => "a bool",
            };
            let msg = format!("argument {} of {} must be {ty}", i + 1, call.name);
            return Err(CondError::new(CondErrorKind::WrongArgType, arg.col, msg));
        }
    }
    let lits: Vec<Lit> = call.args.iter().map(|a| a.lit.clone()).collect();
    (proto.build)(&Args(&lits)).map_err(|(i, why)| {
        let col = call.args.get(i).map_or(call.col, |a| a.col);
        let msg = format!("invalid argument {} of {}: {why}", i + 1, call.name);
        CondError::new(CondErrorKind::InvalidArgValue, col, msg)
    })
}

fn unresolved(name: &str, col: usize) -> CondError {
    let msg = format!("unresolved variable '{name}'");
    CondError::new(CondErrorKind::UnresolvedVariable, col, msg)
}
