//! The compiled tree and its evaluation. Primitives follow BFE's fetcher/matcher split: a
//! [`TextSource`] fetches one value from the [`Facts`], a [`TextTest`] matches it.

use std::net::IpAddr;
use std::ops::ControlFlow;

use regex::bytes::Regex;

use super::facts::Facts;
use super::hash;
use super::json::JsonPath;
use super::matcher::{Buckets, IpRange, StrList, ip_key};
use super::text::{self, Scratch};
use crate::host::{self, HostBuf, MAX_HOST_LEN};

#[derive(Debug)]
pub(super) enum Node {
    And(Box<[Node]>),
    Or(Box<[Node]>),
    Not(Box<Node>),
    Prim(Prim),
}

#[derive(Debug)]
pub(super) enum Prim {
    True,
    CipTrusted,
    ProtoSecure,
    QueryExist,
    TlsClientAuth,
    Ip(IpSource, IpTest),
    /// `req_host_in`: the request's [`host::normalize_host`] form is one of these names,
    /// which are in that same normal form (non-empty, ASCII), sorted and deduplicated.
    HostIn(Box<[Box<str>]>),
    Text(TextSource, TextTest),
    /// Some query key matches (exact or prefix, case-sensitive, after decoding).
    QueryKey(StrList),
    /// Some listed cookie exists.
    CookieKey(Box<[Box<str>]>),
    /// Some listed request header has a non-empty first value (BFE: `Header.Get != ""`).
    HeaderKey(Box<[Box<str>]>),
    /// Some listed response header has a non-empty first value.
    ResHeaderKey(Box<[Box<str>]>),
    Port(Box<[u16]>),
    ResCode(Box<[u16]>),
    Tag {
        name: Box<str>,
        value: Box<str>,
    },
    /// Unix seconds, inclusive.
    Time {
        start: i64,
        end: i64,
    },
    /// Seconds into the day in the zone `offset` seconds east of UTC, inclusive.
    Periodic {
        start: u32,
        end: u32,
        offset: i32,
    },
}

#[derive(Debug, Clone, Copy)]
pub(super) enum IpSource {
    Client,
    Socket,
    Vip,
}

#[derive(Debug)]
pub(super) enum IpTest {
    Range(IpRange),
    In(Box<[u128]>),
    /// Bucket of the address's text form (`1.2.3.4`, `2001:db8::1`), as BFE hashes `IP.String()`.
    Hash(Buckets),
}

#[derive(Debug)]
pub(super) enum TextSource {
    /// The host name as [`host::host_name`] reads it: port and trailing dot cut, case kept.
    Host,
    HostTag,
    Protocol,
    Method,
    Path,
    RequestUri,
    /// Lower-case name.
    Header(Box<str>),
    /// Decoded key.
    Query(Box<str>),
    Cookie(Box<str>),
    Context(Box<str>),
    /// Lower-case name.
    ResHeader(Box<str>),
    Sni,
    ClientCa,
    BodyJson(JsonPath),
}

#[derive(Debug)]
pub(super) enum TextTest {
    List(StrList),
    Regex(Regex),
    Hash { buckets: Buckets, fold: bool },
}

/// A fetched value. BFE's fetchers either fail (the primitive is false) or return a string,
/// which is `""` for a missing request header, query key or response header.
enum Fetched<'a> {
    /// The fact does not exist (no cookie, no TLS, no response yet): false.
    Absent,
    /// A missing header or query key: list and regex tests see `""`, hash tests are false
    /// (BFE hashed a random number; we keep evaluation deterministic).
    Missing,
    Value(&'a [u8]),
}

// === impl Node ===

impl Node {
    pub(super) fn eval<F: Facts + ?Sized>(&self, facts: &F) -> bool {
        match self {
            Node::And(terms) => terms.iter().all(|t| t.eval(facts)),
            Node::Or(terms) => terms.iter().any(|t| t.eval(facts)),
            Node::Not(inner) => !inner.eval(facts),
            Node::Prim(p) => p.eval(facts),
        }
    }
}

// === impl Prim ===

impl Prim {
    fn eval<F: Facts + ?Sized>(&self, f: &F) -> bool {
        match self {
            Prim::True => true,
            Prim::CipTrusted => f.cip_trusted(),
            Prim::ProtoSecure => f.is_secure(),
            Prim::TlsClientAuth => f.tls_client_auth(),
            Prim::QueryExist => {
                // BFE: the parsed query map is non-empty; `=v` counts (key ""), `&&` does not.
                let mut any = false;
                text::for_each_query_pair(f.query(), |_, _| {
                    any = true;
                    ControlFlow::Break(())
                });
                any
            }
            Prim::Ip(src, test) => {
                let ip = match src {
                    IpSource::Client => f.client_ip(),
                    IpSource::Socket => f.socket_ip(),
                    IpSource::Vip => f.vip(),
                };
                ip.is_some_and(|ip| test.matches(ip))
            }
            Prim::HostIn(names) => {
                let mut buf: HostBuf = [0; MAX_HOST_LEN];
                host::normalize_host(f.host(), &mut buf)
                    .is_some_and(|h| names.binary_search_by(|n| (**n).cmp(h)).is_ok())
            }
            Prim::Text(src, test) => {
                let mut scratch = Scratch::new();
                test.matches(src.fetch(f, &mut scratch))
            }
            Prim::QueryKey(list) => {
                let mut scratch = Scratch::new();
                let mut found = false;
                text::for_each_query_pair(f.query(), |k, _| {
                    found = list.matches(scratch.unescape(k));
                    if found {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                });
                found
            }
            Prim::CookieKey(names) => names.iter().any(|n| cookie(f, n).is_some()),
            Prim::HeaderKey(names) => names
                .iter()
                .any(|n| f.header(n).is_some_and(|v| !v.is_empty())),
            Prim::ResHeaderKey(names) => {
                f.response_status().is_some()
                    && names
                        .iter()
                        .any(|n| f.response_header(n).is_some_and(|v| !v.is_empty()))
            }
            Prim::Port(ports) => {
                // Deliberate: without a port in Host, the listener's default for the scheme
                // (BFE always used "80", even on HTTPS).
                let port = match host::split_port(f.host()).1 {
                    Some(p) => p.parse::<u16>().ok(),
                    None => Some(f.default_port()),
                };
                port.is_some_and(|p| ports.contains(&p))
            }
            Prim::ResCode(codes) => f.response_status().is_some_and(|c| codes.contains(&c)),
            Prim::Tag { name, value } => {
                let mut found = false;
                f.for_each_tag(name, &mut |t| {
                    found = t.split(':').next() == Some(&**value);
                    if found {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                });
                found
            }
            Prim::Time { start, end } => (*start..=*end).contains(&f.now_unix()),
            Prim::Periodic { start, end, offset } => {
                let local = f
                    .now_unix()
                    .saturating_add(i64::from(*offset))
                    .rem_euclid(86_400);
                (i64::from(*start)..=i64::from(*end)).contains(&local)
            }
        }
    }
}

/// The first cookie named `name` across all `Cookie` header lines.
fn cookie<'a, F: Facts + ?Sized>(f: &'a F, name: &str) -> Option<&'a [u8]> {
    let mut found = None;
    f.for_each_cookie_header(&mut |line| {
        found = text::find_cookie(line, name.as_bytes());
        if found.is_some() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    found
}

// === impl IpTest ===

impl IpTest {
    fn matches(&self, ip: IpAddr) -> bool {
        match self {
            IpTest::Range(r) => r.contains(ip),
            IpTest::In(set) => set.contains(&ip_key(ip)),
            IpTest::Hash(b) => {
                let mut scratch = Scratch::new();
                scratch
                    .display(ip.to_canonical())
                    .is_some_and(|s| b.contains(hash::bucket(s, false)))
            }
        }
    }
}

// === impl TextSource ===

impl TextSource {
    fn fetch<'a, F: Facts + ?Sized>(&self, f: &'a F, scratch: &'a mut Scratch) -> Fetched<'a> {
        let opt = |v: Option<&'a [u8]>| v.map_or(Fetched::Missing, Fetched::Value);
        let must = |v: Option<&'a [u8]>| v.map_or(Fetched::Absent, Fetched::Value);
        match self {
            TextSource::Host => Fetched::Value(host::host_name(f.host()).as_bytes()),
            TextSource::HostTag => opt(f.host_tag().map(str::as_bytes)),
            TextSource::Protocol => Fetched::Value(f.protocol().as_bytes()),
            TextSource::Method => Fetched::Value(f.method().as_bytes()),
            TextSource::Path => Fetched::Value(f.path().as_bytes()),
            TextSource::RequestUri => Fetched::Value(f.request_uri().as_bytes()),
            TextSource::Header(name) => opt(f.header(name)),
            TextSource::Query(key) => {
                let mut raw = None;
                text::for_each_query_pair(f.query(), |k, v| {
                    if text::unescaped_eq(k, key.as_bytes()) {
                        raw = Some(v);
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                });
                opt(raw.map(|v| scratch.unescape(v)))
            }
            TextSource::Cookie(name) => must(cookie(f, name)),
            TextSource::Context(key) => must(f.context_value(key).map(str::as_bytes)),
            TextSource::ResHeader(name) => match f.response_status() {
                None => Fetched::Absent,
                Some(_) => opt(f.response_header(name)),
            },
            TextSource::Sni => must(f.tls_sni().filter(|s| !s.is_empty()).map(str::as_bytes)),
            TextSource::ClientCa => {
                let ca = f
                    .tls_client_ca_name()
                    .filter(|s| f.tls_client_auth() && !s.is_empty());
                must(ca.map(str::as_bytes))
            }
            TextSource::BodyJson(path) => must(f.body_json().and_then(|v| path.lookup(v, scratch))),
        }
    }
}

// === impl TextTest ===

impl TextTest {
    fn matches(&self, fetched: Fetched<'_>) -> bool {
        let value = match fetched {
            Fetched::Absent => return false,
            Fetched::Missing if matches!(self, TextTest::Hash { .. }) => return false,
            Fetched::Missing => &b""[..],
            Fetched::Value(v) => v,
        };
        match self {
            TextTest::List(list) => list.matches(value),
            TextTest::Regex(re) => re.is_match(value),
            TextTest::Hash { buckets, fold } => buckets.contains(hash::bucket(value, *fold)),
        }
    }
}
