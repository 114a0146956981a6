//! One true and one false case (at least) for every primitive, plus the case-insensitive flag
//! both ways where a primitive has one. `every_primitive_has_a_true_and_a_false_case` keeps
//! this table complete. Hash buckets come from an independent Python MurmurHash3 x64_128
//! (h1 % 10000): "10.1.2.3" → 605, "hello world" → 910, "abc123" → 3016, "v2" → 4810,
//! "V2" → 1573.

use super::fake::{Fake, bare, rich};

pub(super) struct Case {
    pub cond: &'static str,
    pub facts: fn() -> Fake,
    pub want: bool,
}

const fn yes(cond: &'static str) -> Case {
    Case {
        cond,
        facts: rich,
        want: true,
    }
}

const fn no(cond: &'static str) -> Case {
    Case {
        cond,
        facts: rich,
        want: false,
    }
}

const fn no_facts(cond: &'static str) -> Case {
    Case {
        cond,
        facts: bare,
        want: false,
    }
}

fn plain_http() -> Fake {
    Fake {
        host: "example.com".into(),
        protocol: "http".into(),
        ..bare()
    }
}

fn tls_without_port() -> Fake {
    Fake {
        host: "example.com".into(),
        ..rich()
    }
}

/// An absolute name (trailing dot) in mixed case with a port.
fn absolute_host() -> Fake {
    Fake {
        host: "WWW.Example.com.:8080".into(),
        ..rich()
    }
}

/// A "port" that is not digits belongs to the name (as in the host table), so there is no port.
fn non_digit_port() -> Fake {
    Fake {
        host: "example.com:http".into(),
        protocol: "http".into(),
        ..bare()
    }
}

fn non_ascii_path() -> Fake {
    Fake {
        path: "/Ünïcode/Straße".into(),
        ..rich()
    }
}

#[rustfmt::skip]
pub(super) const CASES: &[Case] = &[
    yes(r#"default_t()"#),
    yes(r#"req_cip_range("10.0.0.0", "10.255.255.255")"#),
    no(r#"req_cip_range("10.2.0.0", "10.3.0.0")"#),
    no(r#"req_cip_range("2001:db8::", "2001:db8::ffff")"#),
    no_facts(r#"req_cip_range("0.0.0.0", "255.255.255.255")"#),
    yes(r#"req_cip_trusted()"#),
    no_facts(r#"req_cip_trusted()"#),
    yes(r#"req_cip_hash_in("600-610")"#),
    yes(r#"req_cip_hash_in("1|605")"#),
    no(r#"req_cip_hash_in("0-604|606-9999")"#),
    yes(r#"req_vip_in("1.1.1.1|2001:DB8::10")"#),
    no(r#"req_vip_in("2001:db8::11")"#),
    yes(r#"req_vip_range("2001:db8::1", "2001:db8::ff")"#),
    no(r#"req_vip_range("2001:db8::11", "2001:db8::ff")"#),
    yes(r#"req_proto_match("HTTPS")"#),
    no(r#"req_proto_match("http|h2")"#),
    Case { cond: r#"req_proto_match("http")"#, facts: plain_http, want: true },
    yes(r#"req_proto_secure()"#),
    no_facts(r#"req_proto_secure()"#),
    yes(r#"req_host_in("other.com|www.example.com")"#),
    no(r#"req_host_in("example.com")"#),
    Case { cond: r#"req_host_in("www.example.com")"#, facts: absolute_host, want: true },
    Case { cond: r#"req_host_in("example.com")"#, facts: non_digit_port, want: false },
    yes(r#"req_host_regmatch("^WWW\\.")"#),
    Case { cond: r#"req_host_regmatch("^WWW\\.Example\\.com$")"#, facts: absolute_host, want: true },
    Case { cond: r#"req_host_regmatch(":http$")"#, facts: non_digit_port, want: true },
    no(r#"req_host_regmatch("^www\\.")"#),
    no(r#"req_host_regmatch(":8080")"#),
    yes(r#"req_host_suffix_in(".EXAMPLE.COM")"#),
    no(r#"req_host_suffix_in(".example.org")"#),
    Case { cond: r#"req_host_suffix_in(".example.com")"#, facts: absolute_host, want: true },
    yes(r#"req_host_tag_in("silver|gold")"#),
    no(r#"req_host_tag_in("silver")"#),
    yes(r#"req_path_in("/api/v1/Users", false)"#),
    yes(r#"req_path_in("/API/V1/users", true)"#),
    no(r#"req_path_in("/API/V1/users", false)"#),
    yes(r#"req_path_prefix_in("/x|/API/", true)"#),
    no(r#"req_path_prefix_in("/API/", false)"#),
    Case { cond: r#"req_path_prefix_in("/ünïcode/", true)"#, facts: non_ascii_path, want: true },
    Case { cond: r#"req_path_prefix_in("/ünïcode/", false)"#, facts: non_ascii_path, want: false },
    yes(r#"req_path_suffix_in("/users", true)"#),
    no(r#"req_path_suffix_in("/users", false)"#),
    yes(r#"req_path_contain("V1", true)"#),
    no(r#"req_path_contain("V1", false)"#),
    yes(r#"req_path_element_prefix_in("/api/v1", false)"#),
    yes(r#"req_path_element_prefix_in("/API/V1/USERS/", true)"#),
    no(r#"req_path_element_prefix_in("/api/v", false)"#),
    no(r#"req_path_element_prefix_in("/API/V1", false)"#),
    yes(r#"req_path_regmatch("^/api/v[0-9]+/")"#),
    no(r#"req_path_regmatch("^/admin")"#),
    yes(r#"req_url_regmatch(`word=hello\+world`)"#),
    no(r#"req_url_regmatch("^/admin")"#),
    yes(r#"req_query_exist()"#),
    no_facts(r#"req_query_exist()"#),
    yes(r#"req_query_key_in("nope|word")"#),
    yes(r#"req_query_key_in("Q")"#),
    no(r#"req_query_key_in("WORD")"#),
    no(r#"req_query_key_in("bad")"#),
    yes(r#"req_query_key_prefix_in("x|wo")"#),
    no(r#"req_query_key_prefix_in("Wo")"#),
    yes(r#"req_query_value_in("word", "hello world", false)"#),
    yes(r#"req_query_value_in("word", "HELLO WORLD", true)"#),
    no(r#"req_query_value_in("word", "HELLO WORLD", false)"#),
    yes(r#"req_query_value_in("Q", "你", false)"#),
    yes(r#"req_query_value_in("empty", "", false)"#),
    yes(r#"req_query_value_in("missing", "", false)"#),
    yes(r#"req_query_value_prefix_in("word", "HELLO", true)"#),
    no(r#"req_query_value_prefix_in("word", "HELLO", false)"#),
    yes(r#"req_query_value_suffix_in("word", "WORLD", true)"#),
    no(r#"req_query_value_suffix_in("word", "WORLD", false)"#),
    yes(r#"req_query_value_contain("word", "O W", true)"#),
    no(r#"req_query_value_contain("word", "O W", false)"#),
    yes(r#"req_query_value_hash_in("word", "910", false)"#),
    no(r#"req_query_value_hash_in("word", "0-909|911-9999", true)"#),
    no(r#"req_query_value_hash_in("missing", "0-9999", false)"#),
    yes(r#"req_query_value_regmatch("word", "^hello world$")"#),
    no(r#"req_query_value_regmatch("word", "^world")"#),
    yes(r#"req_cookie_key_in("x|lang")"#),
    no(r#"req_cookie_key_in("SID|bad")"#),
    yes(r#"req_cookie_value_in("theme", "dark", true)"#),
    no(r#"req_cookie_value_in("theme", "dark", false)"#),
    no(r#"req_cookie_value_in("missing", "", false)"#),
    yes(r#"req_cookie_value_prefix_in("sid", "ABC", true)"#),
    no(r#"req_cookie_value_prefix_in("sid", "ABC", false)"#),
    yes(r#"req_cookie_value_suffix_in("sid", "123", false)"#),
    no(r#"req_cookie_value_suffix_in("sid", "124", true)"#),
    yes(r#"req_cookie_value_contain("lang", "-cn", true)"#),
    no(r#"req_cookie_value_contain("lang", "-cn", false)"#),
    yes(r#"req_cookie_value_hash_in("sid", "3016", false)"#),
    yes(r#"req_cookie_value_hash_in("sid", "3016", true)"#),
    no(r#"req_cookie_value_hash_in("nope", "0-9999", false)"#),
    yes(r#"req_header_key_in("x-none|X-API-VERSION")"#),
    no(r#"req_header_key_in("X-Empty|X-None")"#),
    yes(r#"req_header_value_in("x-api-version", "v2", true)"#),
    no(r#"req_header_value_in("x-api-version", "v2", false)"#),
    yes(r#"req_header_value_in("x-none", "", false)"#),
    yes(r#"req_header_value_prefix_in("User-Agent", "mozilla/", true)"#),
    no(r#"req_header_value_prefix_in("User-Agent", "mozilla/", false)"#),
    yes(r#"req_header_value_suffix_in("User-Agent", "FIREFOX/120", true)"#),
    no(r#"req_header_value_suffix_in("User-Agent", "FIREFOX/120", false)"#),
    yes(r#"req_header_value_contain("User-Agent", "x11", true)"#),
    no(r#"req_header_value_contain("User-Agent", "x11", false)"#),
    yes(r#"req_header_value_hash_in("X-Api-Version", "4810", true)"#),
    yes(r#"req_header_value_hash_in("X-Api-Version", "1573", false)"#),
    no(r#"req_header_value_hash_in("X-Api-Version", "4810", false)"#),
    no(r#"req_header_value_hash_in("X-None", "0-9999", false)"#),
    yes(r#"req_header_value_regmatch("user-agent", "Firefox/\\d+")"#),
    no(r#"req_header_value_regmatch("user-agent", "Chrome")"#),
    yes(r#"req_ua_regmatch("(?i)firefox")"#),
    no(r#"req_ua_regmatch("firefox")"#),
    yes(r#"req_port_in("80|8080")"#),
    no(r#"req_port_in("80|443")"#),
    Case { cond: r#"req_port_in("443")"#, facts: tls_without_port, want: true },
    Case { cond: r#"req_port_in("80")"#, facts: plain_http, want: true },
    Case { cond: r#"req_port_in("443")"#, facts: plain_http, want: false },
    Case { cond: r#"req_port_in("8080")"#, facts: absolute_host, want: true },
    Case { cond: r#"req_port_in("80")"#, facts: non_digit_port, want: true },
    yes(r#"req_method_in("get|post")"#),
    no(r#"req_method_in("POST")"#),
    yes(r#"req_tag_match("level", "vip")"#),
    yes(r#"req_tag_match("level", "trial")"#),
    no(r#"req_tag_match("level", "gold")"#),
    yes(r#"req_context_value_in("tenant", "shop", true)"#),
    no(r#"req_context_value_in("tenant", "shop", false)"#),
    no(r#"req_context_value_in("missing", "", false)"#),
    yes(r#"req_body_json_in("model", "GPT-4O", true)"#),
    no(r#"req_body_json_in("model", "GPT-4O", false)"#),
    yes(r#"req_body_json_in("n", "2", false)"#),
    yes(r#"req_body_json_in("stream", "true", false)"#),
    yes(r#"req_body_json_in("msgs.0.role", "user", false)"#),
    yes(r#"req_body_json_in("a\\.b", "dotted", false)"#),
    no(r#"req_body_json_in("none", "", false)"#),
    no(r#"req_body_json_in("msgs", "", false)"#),
    no(r#"req_body_json_in("msgs.1.role", "user", false)"#),
    no_facts(r#"req_body_json_in("model", "gpt-4o", false)"#),
    yes(r#"req_body_json_prefix_in("model", "gpt-", false)"#),
    yes(r#"req_body_json_prefix_in("model", "GPT-", true)"#),
    no(r#"req_body_json_prefix_in("model", "GPT-", false)"#),
    yes(r#"res_code_in("500|503")"#),
    no(r#"res_code_in("200")"#),
    no_facts(r#"res_code_in("200")"#),
    yes(r#"res_header_key_in("x-nope|X-Cache")"#),
    no(r#"res_header_key_in("x-nope")"#),
    yes(r#"res_header_value_in("content-type", "TEXT/HTML", true)"#),
    no(r#"res_header_value_in("content-type", "TEXT/HTML", false)"#),
    no_facts(r#"res_header_value_in("content-type", "", false)"#),
    yes(r#"ses_sip_range("192.168.0.0", "192.168.0.255")"#),
    no(r#"ses_sip_range("192.168.1.0", "192.168.1.255")"#),
    yes(r#"ses_vip_range("2001:db8::", "2001:db8::ffff")"#),
    no(r#"ses_vip_range("2001:db9::", "2001:db9::ffff")"#),
    yes(r#"ses_tls_sni_in("www.example.com|api.example.com")"#),
    no(r#"ses_tls_sni_in("www.example.com")"#),
    yes(r#"ses_tls_client_auth()"#),
    no_facts(r#"ses_tls_client_auth()"#),
    yes(r#"ses_tls_client_ca_in("Corp-CA")"#),
    no(r#"ses_tls_client_ca_in("corp-ca")"#),
    yes(r#"bfe_time_range("20190204203000H", "20190204204500H")"#),
    yes(r#"bfe_time_range("20190204122000Z", "20190204123000z")"#),
    no(r#"bfe_time_range("20190204203001H", "20190204205000H")"#),
    yes(r#"bfe_periodic_time_range("200000H", "210000H", "")"#),
    no(r#"bfe_periodic_time_range("200000Z", "210000Z", "")"#),
];
