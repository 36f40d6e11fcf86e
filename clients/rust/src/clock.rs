//! The hybrid logical clock (spec/SPEC.md §clock.format, §clock.next). Pure: the wall clock is
//! a parameter.
//!
//! A timestamp is wall milliseconds since the Unix epoch plus a counter 0–9999; its text form
//! `2026-11-26T03:55:55.123Z-0000` sorts lexicographically in time order.

use std::cmp::Ordering;
use std::sync::Arc;

use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json::quote_str;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Hlc {
    /// Milliseconds since the Unix epoch (UTC).
    pub ms: i64,
    /// Tie-breaker, 0…9999.
    pub counter: u32,
}

pub const MAX_COUNTER: u32 = 9999;
/// 0000-01-01T00:00:00.000Z.
pub const MIN_MS: i64 = -62_167_219_200_000;
/// 9999-12-31T23:59:59.999Z.
pub const MAX_MS: i64 = 253_402_300_799_999;

pub const HLC_ZERO: Hlc = Hlc { ms: 0, counter: 0 };
pub const ZERO_TEXT: &str = "1970-01-01T00:00:00.000Z-0000";

/// A wall clock: milliseconds since the Unix epoch.
pub type WallClock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system wall clock.
pub fn system_ms() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

// Howard Hinnant's civil-date algorithms.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

/// ISO-8601 UTC text with milliseconds (`Date.prototype.toISOString`) for years 0000–9999.
pub fn iso_time(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        y,
        m,
        d,
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

/// The text form, e.g. `2026-11-26T03:55:55.123Z-0000`.
pub fn format_hlc(t: Hlc) -> String {
    format!("{}-{:04}", iso_time(t.ms), t.counter)
}

fn parse_error(text: &str) -> PsmcError {
    PsmcError::new(
        ErrorCode::Parse,
        format!("{} is not a psmc clock value.", quote_str(text)),
        "Clock values look like 2026-11-26T03:55:55.123Z-0000 (UTC time with milliseconds, then a 4-digit counter).",
    )
}

/// Parses the text form; `PSMC_PARSE` on anything else, including impossible dates.
pub fn parse_hlc(text: &str) -> Result<Hlc> {
    let b = text.as_bytes();
    // YYYY-MM-DDTHH:MM:SS.sssZ-CCCC
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd.dddZ-dddd";
    if b.len() != SHAPE.len() {
        return Err(parse_error(text));
    }
    for (c, s) in b.iter().zip(SHAPE) {
        let ok = if *s == b'd' { c.is_ascii_digit() } else { c == s };
        if !ok {
            return Err(parse_error(text));
        }
    }
    let num = |a: usize, z: usize| -> i64 { text[a..z].parse::<i64>().unwrap_or(-1) };
    let (y, mo, d, h, mi, s, ms, c) = (num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19), num(20, 23), num(25, 29));
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59 {
        return Err(parse_error(text));
    }
    let total = days_from_civil(y, mo, d) * 86_400_000 + h * 3_600_000 + mi * 60_000 + s * 1000 + ms;
    Ok(Hlc { ms: total, counter: c as u32 })
}

/// Order of two timestamps.
pub fn compare_hlc(a: Hlc, b: Hlc) -> Ordering {
    a.ms.cmp(&b.ms).then(a.counter.cmp(&b.counter))
}

/// The timestamp to issue after `last` with the wall clock at `wall_ms` (§clock.next).
pub fn next_hlc(last: Hlc, wall_ms: f64) -> Result<Hlc> {
    let w = wall_ms.floor();
    let wall = if w.is_nan() {
        MIN_MS
    } else {
        w.clamp(MIN_MS as f64, MAX_MS as f64) as i64
    };
    if wall > last.ms {
        return Ok(Hlc { ms: wall, counter: 0 });
    }
    if last.counter < MAX_COUNTER {
        return Ok(Hlc { ms: last.ms, counter: last.counter + 1 });
    }
    if last.ms >= MAX_MS {
        return Err(PsmcError::new(
            ErrorCode::Corrupt,
            format!("The store clock has reached {}, the last time psmc can write.", format_hlc(last)),
            "A wall clock set to year 9999 poisoned the store clock. Export the values and import them into a new store.",
        ));
    }
    Ok(Hlc { ms: last.ms + 1, counter: 0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn round_trip() {
        for ms in [0, 1767225600000, MIN_MS, MAX_MS, -1, 951782400000] {
            let t = format_hlc(Hlc { ms, counter: 7 });
            assert_eq!(parse_hlc(&t).unwrap(), Hlc { ms, counter: 7 }, "{}", t);
        }
        assert_eq!(format_hlc(HLC_ZERO), ZERO_TEXT);
        assert!(parse_hlc("2026-02-30T00:00:00.000Z-0000").is_err());
        assert!(parse_hlc("2024-02-29T00:00:00.000Z-0000").is_ok());
    }
}
