//! Hash, time and text helpers against independent references, and evaluation on odd input.

use super::compile;
use super::fake::{Fake, bare, rich};
use crate::cond::hash::{bucket, sum64, sum64_iter};
use crate::cond::matcher::Buckets;
use crate::cond::text::find_cookie;
use crate::cond::time::{parse_datetime, parse_time_of_day};

/// spaolacci/murmur3 `murmur_test.go`, seed 0, `h64_1` = `Sum64`.
#[test]
fn sum64_matches_spaolacci_vectors() {
    assert_eq!(sum64(b""), 0);
    assert_eq!(sum64(b"hello"), 0xcbd8_a7b3_41bd_9b02);
    assert_eq!(sum64(b"hello, world"), 0x342f_ac62_3a5e_bc8e);
    assert_eq!(sum64(b"19 Jan 2038 at 3:14:07 AM"), 0xb89e_5988_b737_affc);
    assert_eq!(
        sum64(b"The quick brown fox jumps over the lazy dog."),
        0xcd99_481f_9ee9_02c9
    );
}

/// The low 64 bits of the `murmur3` crate's x64_128 are h1; every tail length agrees.
#[test]
fn sum64_matches_the_murmur3_crate() {
    let data: Vec<u8> = (0u8..=200)
        .map(|i| i.wrapping_mul(37).wrapping_add(11))
        .collect();
    for len in 0..data.len() {
        let bytes = &data[..len];
        let reference = murmur3::murmur3_x64_128(&mut &bytes[..], 0).expect("in-memory read");
        assert_eq!(sum64(bytes), reference as u64, "len {len}");
    }
}

#[test]
fn buckets_fold_case_only_when_asked() {
    assert_eq!(bucket(b"10.1.2.3", false), 605);
    assert_eq!(bucket(b"V2", false), 1573);
    assert_eq!(bucket(b"V2", true), 4810);
    assert_eq!(bucket("Ünïcode".as_bytes(), true), 6304);
    assert_eq!(bucket("Ünïcode".as_bytes(), false), 5100);
    let mixed = b"Hello World";
    assert_eq!(
        sum64_iter(mixed.iter().map(u8::to_ascii_lowercase), mixed.len()),
        sum64(b"hello world")
    );
}

#[test]
fn bucket_lists_parse_like_bfe() {
    let b = Buckets::parse("0-99|500| 7 - 9 ").expect("valid");
    for (n, want) in [
        (0, true),
        (99, true),
        (100, false),
        (500, true),
        (8, true),
        (9999, false),
    ] {
        assert_eq!(b.contains(n), want, "{n}");
    }
    assert!(Buckets::parse("9999").expect("valid").contains(9999));
    for bad in ["", "10000", "5-4", "a", "1-2-3", "-1", "0|"] {
        assert!(Buckets::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn times_convert_to_utc_seconds() {
    assert_eq!(parse_datetime("19700101000000Z"), Ok(0));
    assert_eq!(parse_datetime("20190204203000H"), Ok(1_549_283_400));
    assert_eq!(parse_datetime("20190204203000h"), Ok(1_549_283_400));
    assert_eq!(parse_datetime("20000301000000Z"), Ok(11_017 * 86_400));
    assert_eq!(parse_datetime("19700101000000A"), Ok(-3600));
    assert_eq!(parse_datetime("19700101000000M"), Ok(-12 * 3600));
    assert_eq!(parse_datetime("19700101000000N"), Ok(3600));
    assert_eq!(parse_datetime("19700101000000Y"), Ok(12 * 3600));
    assert_eq!(parse_datetime("19700101000000K"), Ok(-10 * 3600));
    assert!(parse_datetime("20200229000000Z").is_ok(), "leap day");
    for bad in [
        "20190229000000Z",
        "19700101000000J",
        "19701301000000Z",
        "19700101240000Z",
        "1970010100000Z",
        "19700101000000ZZ",
    ] {
        assert!(parse_datetime(bad).is_err(), "{bad}");
    }
    assert_eq!(parse_time_of_day("235959Z"), Ok((86_399, 0)));
    assert_eq!(parse_time_of_day("000000H"), Ok((0, 8 * 3600)));
    assert!(parse_time_of_day("236000Z").is_err());
    assert!(parse_time_of_day("2359Z").is_err());
}

#[test]
fn periodic_windows_follow_their_zone_across_midnight_utc() {
    // 20:30 at UTC+8 is 12:30 UTC; 01:00-02:00 at UTC-12 (Y) is 13:00-14:00 UTC.
    let cond = compile(r#"bfe_periodic_time_range("010000Y", "020000Y", "")"#);
    let at = |now: i64| Fake { now, ..bare() };
    assert!(!cond.eval(&at(super::fake::NOW)));
    assert!(cond.eval(&at(super::fake::NOW + 45 * 60)));
    assert!(
        cond.eval(&at(-11 * 3600)),
        "before the epoch: 13:00 UTC on 1969-12-31"
    );
}

#[test]
fn cookies_parse_like_go() {
    let line = b" a=1 ;b=\"q\"; c = 3; bad=x\\y; d; =e; f=";
    assert_eq!(find_cookie(line, b"a"), Some(&b"1"[..]));
    assert_eq!(find_cookie(line, b"b"), Some(&b"q"[..]));
    assert_eq!(
        find_cookie(line, b"c"),
        Some(&b" 3"[..]),
        "Go trims the name, not the value"
    );
    assert_eq!(find_cookie(line, b"bad"), None);
    assert_eq!(find_cookie(line, b"d"), Some(&b""[..]));
    assert_eq!(find_cookie(line, b"f"), Some(&b""[..]));
    assert_eq!(find_cookie(line, b""), None);
    assert_eq!(find_cookie(line, b"zz"), None);
}

#[test]
fn long_encoded_query_values_spill_to_the_heap_and_still_match() {
    let value = "é".repeat(200); // 400 bytes decoded, 1200 encoded
    let encoded: String = value.bytes().map(|b| format!("%{b:02X}")).collect();
    let facts = Fake {
        query: format!("k={encoded}"),
        ..bare()
    };
    let cond = compile(&format!(r#"req_query_value_in("k", "{value}", false)"#));
    assert!(cond.eval(&facts));
    let shorter = compile(&format!(
        r#"req_query_value_in("k", "{}", false)"#,
        "é".repeat(199)
    ));
    assert!(!shorter.eval(&facts));
}

#[test]
fn odd_requests_evaluate_without_panicking() {
    let odd = Fake {
        host: "[::1".into(),
        path: "\u{0}/%zz/\u{ffff}".into(),
        query: "%&&=&;=;&%2".into(),
        headers: vec![
            ("User-Agent".into(), vec![0xff, 0xfe, b'A']),
            ("Cookie".into(), vec![0xff, b'=', b';', b'=']),
        ],
        body: Some(serde_json::json!([1, {"a": 1e300}])),
        now: i64::MIN,
        ..rich()
    };
    for case in super::cases::CASES {
        let _ = compile(case.cond).eval(&odd);
    }
    let ua = compile(r#"req_header_value_contain("user-agent", "a", true)"#);
    assert!(ua.eval(&odd), "invalid UTF-8 still folds ASCII");
    assert!(
        compile(r#"req_query_exist()"#).eval(&odd),
        "`=` alone is a pair with key \"\""
    );
    assert!(!compile(r#"bfe_time_range("19700101000000Z", "20990101000000Z")"#).eval(&odd));
    assert!(compile(r#"req_body_json_in("1.a", "1e+300", false)"#).eval(&odd));
}
