//! mod_header rules: `REQ_*` actions at HandleAfterLocation, `RSP_*` actions at
//! HandleReadResponse. Header names are validated and values split into literal and
//! `%variable` segments here, so a request only looks up and concatenates.

use std::sync::Arc;

use http::{HeaderName, HeaderValue};

use super::raw::{RawHeaderAction, RawHeaderRule, RawSetCookie};
use crate::cond::Condition;
use crate::error::{FieldPath, Violations};

#[derive(Debug, Clone)]
pub struct HeaderRule {
    pub condition: Condition,
    /// `REQ_*` actions, in order.
    pub request: Vec<HeaderAction>,
    /// `RSP_*` actions, in order.
    pub response: Vec<HeaderAction>,
    /// Stop the later rules of this scope, at the same phase, when this one matched.
    pub last: bool,
}

/// One header action; whether it acts on the request or the response is given by the list
/// that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderAction {
    Set(HeaderName, Template),
    Add(HeaderName, Template),
    Del(HeaderName),
    /// Moves every value of the first header to the second, replacing the second's values.
    Rename(HeaderName, HeaderName),
    /// Sets a cookie in the request's Cookie header.
    CookieSet(Arc<str>, Template),
    CookieDel(Arc<str>),
    /// A Set-Cookie line: `name=` + value + pre-rendered attributes (`; Path=/; HttpOnly`).
    SetCookie {
        name: Arc<str>,
        value: Template,
        attributes: Arc<str>,
    },
    /// Drops the response's Set-Cookie lines for this cookie name.
    SetCookieDel(Arc<str>),
}

/// A header value with `%variables`: literal and variable segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segments: Box<[Segment]>,
    /// The value itself when there is no variable.
    constant: Option<HeaderValue>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(Arc<str>),
    Var(Variable),
}

/// BFE's `%` variables. Values the data plane does not know (TLS details of a plain-text
/// listener, geo data) render as the empty string, as BFE renders them without the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variable {
    ClientIp,
    ClientPort,
    RequestHost,
    SessionId,
    LogId,
    Vip,
    /// The balancer (L4) address: known only with PROXY protocol.
    Bip,
    /// The local address the client connected to.
    Rip,
    ServerName,
    Cluster,
    BackendInfo,
    Protocol,
    /// A variable BFE defines whose data this data plane does not have; renders empty.
    Unavailable(&'static str),
}

const UNAVAILABLE: &[&str] = &[
    "bfe_ssl_resume",
    "bfe_ssl_cipher",
    "bfe_ssl_version",
    "bfe_ssl_ja3_raw",
    "bfe_ssl_ja3_hash",
    "bfe_http2_fingerprint",
    "client_cert_serial_number",
    "client_cert_subject_title",
    "client_cert_subject_common_name",
    "client_cert_subject_organization",
    "client_cert_subject_organizational_unit",
    "client_cert_subject_province",
    "client_cert_subject_country",
    "client_cert_subject_locality",
    "bfe_client_geo_country_iso_code",
    "bfe_client_geo_subdivision_iso_code",
    "bfe_client_geo_city_name",
    "bfe_client_geo_latitude",
    "bfe_client_geo_longitude",
];

/// Headers that frame the message or the connection: rules must not touch them.
const FRAMING: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
];

// === impl HeaderRule ===

impl HeaderRule {
    pub(crate) fn compile(
        raw: &RawHeaderRule,
        path: &FieldPath,
        errs: &mut Violations,
    ) -> Option<Self> {
        let ap = path.field("actions");
        if raw.actions.is_empty() {
            errs.push(&ap, "give at least one action");
        }
        let before = errs.len();
        let mut request = Vec::new();
        let mut response = Vec::new();
        for (i, a) in raw.actions.iter().enumerate() {
            let p = ap.index(i).field("params");
            let (is_request, action) = compile_action(a, &p, errs);
            match (action, is_request) {
                (Some(a), true) => request.push(a),
                (Some(a), false) => response.push(a),
                (None, _) => {}
            }
        }
        // A response condition only has its facts at HandleReadResponse.
        let condition = super::compile_condition(
            &raw.condition,
            &path.field("condition"),
            request.is_empty(),
            errs,
        );
        (errs.len() == before).then_some(())?;
        Some(Self {
            condition: condition?,
            request,
            response,
            last: raw.last,
        })
    }
}

/// (acts on the request, compiled action)
fn compile_action(
    raw: &RawHeaderAction,
    p: &FieldPath,
    errs: &mut Violations,
) -> (bool, Option<HeaderAction>) {
    use RawHeaderAction as R;
    let name = |n: &str, errs: &mut Violations| header_name(n, p, errs);
    let tpl = |v: &str, errs: &mut Violations| Template::parse(v).map_err(|m| errs.push(p, m)).ok();
    match raw {
        R::ReqHeaderSet(n, v) | R::RspHeaderSet(n, v) => {
            let (n, v) = (name(n, errs), tpl(v, errs));
            let action = n.zip(v).map(|(n, v)| HeaderAction::Set(n, v));
            (matches!(raw, R::ReqHeaderSet(..)), action)
        }
        R::ReqHeaderAdd(n, v) | R::RspHeaderAdd(n, v) => {
            let (n, v) = (name(n, errs), tpl(v, errs));
            let action = n.zip(v).map(|(n, v)| HeaderAction::Add(n, v));
            (matches!(raw, R::ReqHeaderAdd(..)), action)
        }
        R::ReqHeaderDel((n,)) | R::RspHeaderDel((n,)) => (
            matches!(raw, R::ReqHeaderDel(..)),
            name(n, errs).map(HeaderAction::Del),
        ),
        R::ReqHeaderRename(a, b) | R::RspHeaderRename(a, b) => {
            let (a, b) = (name(a, errs), name(b, errs));
            let action = a.zip(b).map(|(a, b)| HeaderAction::Rename(a, b));
            (matches!(raw, R::ReqHeaderRename(..)), action)
        }
        R::ReqCookieSet(n, v) => {
            let (n, v) = (cookie_name(n, p, errs), tpl(v, errs));
            (true, n.zip(v).map(|(n, v)| HeaderAction::CookieSet(n, v)))
        }
        R::ReqCookieDel((n,)) => (true, cookie_name(n, p, errs).map(HeaderAction::CookieDel)),
        R::RspCookieSet(c) => (false, set_cookie(c, p, errs)),
        R::RspCookieDel((n,)) => (
            false,
            cookie_name(n, p, errs).map(HeaderAction::SetCookieDel),
        ),
    }
}

fn header_name(name: &str, p: &FieldPath, errs: &mut Violations) -> Option<HeaderName> {
    match HeaderName::from_bytes(name.as_bytes()) {
        Ok(n) if FRAMING.contains(&n.as_str()) => {
            errs.push(
                p,
                format!("'{n}' frames the message: rules cannot change it"),
            );
            None
        }
        Ok(n) => Some(n),
        Err(_) => {
            errs.push(p, format!("invalid header name '{name}'"));
            None
        }
    }
}

fn cookie_name(name: &str, p: &FieldPath, errs: &mut Violations) -> Option<Arc<str>> {
    // RFC 6265 cookie-name is an RFC 7230 token.
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        errs.push(p, format!("invalid cookie name '{name}'"));
        return None;
    }
    Some(name.into())
}

fn set_cookie(raw: &RawSetCookie, p: &FieldPath, errs: &mut Violations) -> Option<HeaderAction> {
    let name = cookie_name(&raw.name, &p.field("name"), errs);
    let value = Template::parse(&raw.value)
        .map_err(|m| errs.push(&p.field("value"), m))
        .ok();
    let mut attributes = String::new();
    let mut attr = |key: &str, field: &str, v: &Option<String>, errs: &mut Violations| {
        if let Some(v) = v {
            if v.is_empty() || v.contains(';') || HeaderValue::from_str(v).is_err() {
                errs.push(&p.field(field), format!("invalid cookie attribute '{v}'"));
            } else {
                attributes.push_str(&format!("; {key}={v}"));
            }
        }
    };
    attr("Path", "path", &raw.path, errs);
    attr("Domain", "domain", &raw.domain, errs);
    if let Some(age) = raw.max_age {
        attributes.push_str(&format!("; Max-Age={age}"));
    }
    if raw.http_only {
        attributes.push_str("; HttpOnly");
    }
    if raw.secure {
        attributes.push_str("; Secure");
    }
    Some(HeaderAction::SetCookie {
        name: name?,
        value: value?,
        attributes: attributes.into(),
    })
}

// === impl Template ===

impl Template {
    /// Splits `text` at `%variables` (names of `a-z`, `0-9`, `_`); `%%` is a literal `%`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(i) = rest.find('%') {
            literal.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(tail) = after.strip_prefix('%') {
                literal.push('%');
                rest = tail;
                continue;
            }
            let len = after
                .bytes()
                .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
                .count();
            let name = &after[..len];
            let var = Variable::from_name(name).ok_or_else(|| {
                if name.is_empty() {
                    "a lone '%': write '%%' for a literal percent sign".to_owned()
                } else {
                    format!("unknown variable '%{name}'")
                }
            })?;
            if !literal.is_empty() {
                segments.push(Segment::Literal(std::mem::take(&mut literal).into()));
            }
            segments.push(Segment::Var(var));
            rest = &after[len..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            segments.push(Segment::Literal(literal.into()));
        }
        for s in &segments {
            if let Segment::Literal(l) = s
                && HeaderValue::from_str(l).is_err()
            {
                return Err(format!("invalid header value '{text}'"));
            }
        }
        let constant = match segments.as_slice() {
            [] => Some(HeaderValue::from_static("")),
            [Segment::Literal(l)] => HeaderValue::from_str(l).ok(),
            _ => None,
        };
        Ok(Self {
            segments: segments.into(),
            constant,
        })
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The value when it has no variable.
    pub fn constant(&self) -> Option<&HeaderValue> {
        self.constant.as_ref()
    }
}

// === impl Variable ===

impl Variable {
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "bfe_client_ip" | "bfe_cip" => Self::ClientIp,
            "bfe_client_port" => Self::ClientPort,
            "bfe_request_host" => Self::RequestHost,
            "bfe_session_id" => Self::SessionId,
            "bfe_log_id" => Self::LogId,
            "bfe_vip" => Self::Vip,
            "bfe_bip" => Self::Bip,
            "bfe_rip" => Self::Rip,
            "bfe_server_name" => Self::ServerName,
            "bfe_cluster" => Self::Cluster,
            "bfe_backend_info" => Self::BackendInfo,
            "bfe_protocol" => Self::Protocol,
            other => {
                return UNAVAILABLE
                    .iter()
                    .find(|n| **n == other)
                    .map(|n| Self::Unavailable(n));
            }
        })
    }
}
