//! Every primitive in one table: name, argument types (BFE `parser/semant.go`), and how its
//! checked arguments compile (BFE `build.go`). `S` is a string argument, `B` a bool; a trailing
//! `B` is always "case-insensitive".

use super::build::{
    Args, BuildResult, body_json, hash, header_name, host_in, ip_hash, ip_in, ip_range, list,
    lower_names, names, numbers, periodic_time_range, regex, text, time_range,
};
use super::eval::{IpSource as Ip, Prim, TextSource as Src};
use super::matcher::{StrList, StrOp::*};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ArgType {
    Str,
    Bool,
}

pub(super) struct Proto {
    pub name: &'static str,
    pub args: &'static [ArgType],
    pub build: fn(&Args<'_>) -> BuildResult,
}

const S: ArgType = ArgType::Str;
const B: ArgType = ArgType::Bool;

const fn p(
    name: &'static str,
    args: &'static [ArgType],
    build: fn(&Args<'_>) -> BuildResult,
) -> Proto {
    Proto { name, args, build }
}

/// How many primitives [`PRIMITIVES`] defines: bfe's `semant.go` (56 names at the revision the
/// spec was written from) plus `req_body_json_in` and `req_body_json_prefix_in`, documented in
/// bfe `docs/en_us/condition/request/body.md`. BFE.md §3.3 lists the same 58.
pub(super) const PRIMITIVE_COUNT: usize = 58;

#[rustfmt::skip]
pub(super) static PRIMITIVES: [Proto; PRIMITIVE_COUNT] = [
    p("default_t", &[], |_| Ok(Prim::True)),
    // client and virtual IP
    p("req_cip_range", &[S, S], |a| ip_range(Ip::Client, a)),
    p("req_cip_trusted", &[], |_| Ok(Prim::CipTrusted)),
    p("req_cip_hash_in", &[S], |a| ip_hash(Ip::Client, a)),
    p("req_vip_in", &[S], |a| ip_in(Ip::Vip, a)),
    p("req_vip_range", &[S, S], |a| ip_range(Ip::Vip, a)),
    // protocol
    p("req_proto_match", &[S], |a| text(Src::Protocol, list(a, 0, Exact, true))),
    p("req_proto_secure", &[], |_| Ok(Prim::ProtoSecure)),
    // host
    p("req_host_in", &[S], host_in),
    p("req_host_regmatch", &[S], |a| text(Src::Host, regex(a, 0)?)),
    p("req_host_suffix_in", &[S], |a| text(Src::Host, list(a, 0, Suffix, true))),
    p("req_host_tag_in", &[S], |a| text(Src::HostTag, list(a, 0, Exact, true))),
    // path and URL
    p("req_path_in", &[S, B], |a| text(Src::Path, list(a, 0, Exact, a.b(1)))),
    p("req_path_prefix_in", &[S, B], |a| text(Src::Path, list(a, 0, Prefix, a.b(1)))),
    p("req_path_suffix_in", &[S, B], |a| text(Src::Path, list(a, 0, Suffix, a.b(1)))),
    p("req_path_contain", &[S, B], |a| text(Src::Path, list(a, 0, Contain, a.b(1)))),
    p("req_path_element_prefix_in", &[S, B], |a| text(Src::Path, list(a, 0, ElementPrefix, a.b(1)))),
    p("req_path_regmatch", &[S], |a| text(Src::Path, regex(a, 0)?)),
    p("req_url_regmatch", &[S], |a| text(Src::RequestUri, regex(a, 0)?)),
    // query
    p("req_query_exist", &[], |_| Ok(Prim::QueryExist)),
    p("req_query_key_in", &[S], |a| Ok(Prim::QueryKey(StrList::new(a.s(0), Exact, false)))),
    p("req_query_key_prefix_in", &[S], |a| Ok(Prim::QueryKey(StrList::new(a.s(0), Prefix, false)))),
    p("req_query_value_in", &[S, S, B], |a| text(Src::Query(a.s(0).into()), list(a, 1, Exact, a.b(2)))),
    p("req_query_value_prefix_in", &[S, S, B], |a| text(Src::Query(a.s(0).into()), list(a, 1, Prefix, a.b(2)))),
    p("req_query_value_suffix_in", &[S, S, B], |a| text(Src::Query(a.s(0).into()), list(a, 1, Suffix, a.b(2)))),
    p("req_query_value_contain", &[S, S, B], |a| text(Src::Query(a.s(0).into()), list(a, 1, Contain, a.b(2)))),
    p("req_query_value_hash_in", &[S, S, B], |a| text(Src::Query(a.s(0).into()), hash(a, 1, a.b(2))?)),
    p("req_query_value_regmatch", &[S, S], |a| text(Src::Query(a.s(0).into()), regex(a, 1)?)),
    // cookie
    p("req_cookie_key_in", &[S], |a| Ok(Prim::CookieKey(names(a, 0)))),
    p("req_cookie_value_in", &[S, S, B], |a| text(Src::Cookie(a.s(0).into()), list(a, 1, Exact, a.b(2)))),
    p("req_cookie_value_prefix_in", &[S, S, B], |a| text(Src::Cookie(a.s(0).into()), list(a, 1, Prefix, a.b(2)))),
    p("req_cookie_value_suffix_in", &[S, S, B], |a| text(Src::Cookie(a.s(0).into()), list(a, 1, Suffix, a.b(2)))),
    p("req_cookie_value_contain", &[S, S, B], |a| text(Src::Cookie(a.s(0).into()), list(a, 1, Contain, a.b(2)))),
    p("req_cookie_value_hash_in", &[S, S, B], |a| text(Src::Cookie(a.s(0).into()), hash(a, 1, a.b(2))?)),
    // request header
    p("req_header_key_in", &[S], |a| Ok(Prim::HeaderKey(lower_names(a, 0)))),
    p("req_header_value_in", &[S, S, B], |a| text(Src::Header(header_name(a, 0)), list(a, 1, Exact, a.b(2)))),
    p("req_header_value_prefix_in", &[S, S, B], |a| text(Src::Header(header_name(a, 0)), list(a, 1, Prefix, a.b(2)))),
    p("req_header_value_suffix_in", &[S, S, B], |a| text(Src::Header(header_name(a, 0)), list(a, 1, Suffix, a.b(2)))),
    p("req_header_value_contain", &[S, S, B], |a| text(Src::Header(header_name(a, 0)), list(a, 1, Contain, a.b(2)))),
    p("req_header_value_hash_in", &[S, S, B], |a| text(Src::Header(header_name(a, 0)), hash(a, 1, a.b(2))?)),
    p("req_header_value_regmatch", &[S, S], |a| text(Src::Header(header_name(a, 0)), regex(a, 1)?)),
    p("req_ua_regmatch", &[S], |a| text(Src::Header("user-agent".into()), regex(a, 0)?)),
    // port, method, tags, context
    p("req_port_in", &[S], |a| Ok(Prim::Port(numbers(a, 0, "port")?))),
    p("req_method_in", &[S], |a| text(Src::Method, list(a, 0, Exact, true))),
    p("req_tag_match", &[S, S], |a| Ok(Prim::Tag { name: a.s(0).into(), value: a.s(1).into() })),
    // Deliberate: BFE ignores this primitive's case-insensitive flag; we honour it.
    p("req_context_value_in", &[S, S, B], |a| text(Src::Context(a.s(0).into()), list(a, 1, Exact, a.b(2)))),
    // body
    p("req_body_json_in", &[S, S, B], |a| body_json(a, Exact)),
    p("req_body_json_prefix_in", &[S, S, B], |a| body_json(a, Prefix)),
    // response (only at response-time callback points)
    p("res_code_in", &[S], |a| Ok(Prim::ResCode(numbers(a, 0, "status code")?))),
    p("res_header_key_in", &[S], |a| Ok(Prim::ResHeaderKey(lower_names(a, 0)))),
    p("res_header_value_in", &[S, S, B], |a| text(Src::ResHeader(header_name(a, 0)), list(a, 1, Exact, a.b(2)))),
    // session
    p("ses_sip_range", &[S, S], |a| ip_range(Ip::Socket, a)),
    p("ses_vip_range", &[S, S], |a| ip_range(Ip::Vip, a)),
    p("ses_tls_sni_in", &[S], |a| text(Src::Sni, list(a, 0, Exact, true))),
    p("ses_tls_client_auth", &[], |_| Ok(Prim::TlsClientAuth)),
    p("ses_tls_client_ca_in", &[S], |a| text(Src::ClientCa, list(a, 0, Exact, false))),
    // time
    p("bfe_time_range", &[S, S], time_range),
    p("bfe_periodic_time_range", &[S, S, S], periodic_time_range),
];

/// The prototype of primitive `name`.
pub(super) fn lookup(name: &str) -> Option<&'static Proto> {
    PRIMITIVES.iter().find(|p| p.name == name)
}

/// Whether a primitive reads the response (valid only at response-time callback points).
pub(super) fn is_response(name: &str) -> bool {
    name.starts_with("res_")
}
