//! Time arguments of `bfe_time_range` and `bfe_periodic_time_range` (bfe `bfe_util/time.go`):
//! `yyyymmddhhmmssZ` and `hhmmssZ`, where `Z` is a military time-zone letter, case-insensitive:
//! `Z` = UTC, `A`..`M` = UTC+1..+12 skipping `J`, `N`..`Y` = UTC-1..-12 (`H` = UTC+8).

/// Seconds east of UTC for a zone letter.
fn zone_offset(c: char) -> Option<i32> {
    let c = c.to_ascii_uppercase();
    let hours = match c {
        'Z' => 0,
        'A'..='I' => c as i32 - 'A' as i32 + 1,
        'K'..='M' => c as i32 - 'K' as i32 + 10,
        'N'..='Y' => -(c as i32 - 'N' as i32 + 1),
        _ => return None,
    };
    Some(hours * 3600)
}

/// `yyyymmddhhmmssZ` → Unix seconds (UTC).
pub(super) fn parse_datetime(s: &str) -> Result<i64, String> {
    let bad = |why: &str| format!("'{s}' is not a time yyyymmddhhmmssZ: {why}");
    let (digits, zone) =
        split_zone(s, 14).ok_or_else(|| bad("expected 14 digits and a zone letter"))?;
    let n = |from: usize, to: usize| -> i64 {
        digits[from..to]
            .iter()
            .fold(0, |acc, d| acc * 10 + i64::from(*d))
    };
    let (year, month, day) = (n(0, 4), n(4, 6), n(6, 8));
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(bad("no such date"));
    }
    let secs = clock(n(8, 10), n(10, 12), n(12, 14)).ok_or_else(|| bad("no such time of day"))?;
    let offset = zone_offset(zone).ok_or_else(|| bad("unknown zone letter"))?;
    Ok(days_from_civil(year, month, day) * 86_400 + secs - i64::from(offset))
}

/// `hhmmssZ` → (seconds into the local day, zone offset in seconds east of UTC).
pub(super) fn parse_time_of_day(s: &str) -> Result<(u32, i32), String> {
    let bad = |why: &str| format!("'{s}' is not a time of day hhmmssZ: {why}");
    let (digits, zone) =
        split_zone(s, 6).ok_or_else(|| bad("expected 6 digits and a zone letter"))?;
    let n = |from: usize| i64::from(digits[from]) * 10 + i64::from(digits[from + 1]);
    let secs = clock(n(0), n(2), n(4)).ok_or_else(|| bad("no such time of day"))?;
    let offset = zone_offset(zone).ok_or_else(|| bad("unknown zone letter"))?;
    Ok((u32::try_from(secs).unwrap_or(0), offset))
}

/// `ndigits` ASCII digits followed by exactly one more character.
fn split_zone(s: &str, ndigits: usize) -> Option<(Vec<u8>, char)> {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() != ndigits + 1 {
        return None;
    }
    let digits = chars[..ndigits]
        .iter()
        .map(|c| c.to_digit(10).and_then(|d| u8::try_from(d).ok()))
        .collect::<Option<Vec<u8>>>()?;
    Some((digits, chars[ndigits]))
}

fn clock(h: i64, m: i64, s: i64) -> Option<i64> {
    (h < 24 && m < 60 && s < 60).then_some(h * 3600 + m * 60 + s)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
