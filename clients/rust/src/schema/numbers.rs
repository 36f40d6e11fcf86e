//! Number checks with the exact decimal semantics the spec fixes (`multipleOf`), and lengths.

use crate::json::format_number;
use crate::value::is_integer;

/// Length in Unicode code points.
pub fn code_point_length(s: &str) -> usize {
    s.chars().count()
}

/// `|x|` as `m × 10^e` (m without trailing zeros) from its shortest round-trip decimal form.
fn decimal(x: f64) -> (u128, i64) {
    let s = format_number(x.abs());
    let (mant, exp) = match s.split_once('e') {
        Some((m, e)) => (m.to_string(), e.trim_start_matches('+').parse::<i64>().unwrap_or(0)),
        None => (s.clone(), 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((&mant, ""));
    let mut digits = format!("{}{}", int, frac);
    let mut e = exp - frac.len() as i64;
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
        e += 1;
    }
    (digits.parse::<u128>().unwrap_or(0), e)
}

fn pow10_mod(k: i64, m: u128) -> u128 {
    let mut r = 1 % m;
    for _ in 0..k {
        r = r * 10 % m;
    }
    r
}

/// True when `v` is an integer multiple of `d` (> 0), computed on exact decimals.
pub fn is_multiple_of(v: f64, d: f64) -> bool {
    if v == 0.0 {
        return true;
    }
    if is_integer(v) && is_integer(d) {
        return v % d == 0.0;
    }
    let (am, ae) = decimal(v);
    let (bm, be) = decimal(d);
    if am == 0 {
        return true;
    }
    if bm == 0 {
        return false;
    }
    if be > ae {
        // The divisor scales up: b.m × 10^(be−ae) must divide a.m (< 10^18).
        let k = be - ae;
        if k > 21 {
            return false;
        }
        let b = bm * 10u128.pow(k as u32);
        am % b == 0
    } else {
        // The value scales up: a.m × 10^(ae−be) mod b.m, with b.m < 10^18.
        (am % bm) * pow10_mod(ae - be, bm) % bm == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiples() {
        assert!(is_multiple_of(0.3, 0.1));
        assert!(!is_multiple_of(0.35, 0.1));
        assert!(is_multiple_of(1e-7, 1e-8));
        assert!(is_multiple_of(-15.0, 5.0));
        assert!(!is_multiple_of(7.0, 5.0));
        assert!(is_multiple_of(100.0, 0.5));
        assert!(!is_multiple_of(1e-300, 3.0));
        assert!(is_multiple_of(4.5, 1.5));
    }
}
