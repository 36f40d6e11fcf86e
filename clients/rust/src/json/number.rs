//! Numbers written as ECMAScript `Number::toString` writes them.

use std::fmt::Write as _;

/// ECMAScript `Number::toString(x)` for a finite double (`-0` gives `0`).
pub fn format_number(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    // Rust's `{:e}` gives the shortest digits that round-trip (closest on ties), like
    // ECMAScript's Number::toString; only the layout differs.
    let (digits, exp) = shortest_digits(x.abs());
    let k = digits.len() as i32;
    let n = exp + 1;
    let mut out = String::new();
    if x < 0.0 {
        out.push('-');
    }
    if k <= n && n <= 21 {
        out.push_str(&digits);
        for _ in 0..(n - k) {
            out.push('0');
        }
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        for _ in 0..(-n) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if n - 1 < 0 { '-' } else { '+' });
        let _ = write!(out, "{}", (n - 1).abs());
    }
    out
}

/// The shortest decimal digits `d₁d₂…d_k` and exponent `e` with `0.d₁… × 10^(e+1)`, i.e.
/// `d₁.d₂… × 10^e`, that read back as `x` (> 0), chosen as ECMAScript Number::toString does:
/// the closest to `x`, and on an exact tie the even one. Rust's `{:e}` gives the shortest
/// closest digits but breaks exact ties upwards, so a tie is detected and resolved here.
fn shortest_digits(x: f64) -> (String, i32) {
    let sci = format!("{:e}", x);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let last = digits.as_bytes()[digits.len() - 1] - b'0';
    if last % 2 == 1 {
        // A tie needs a neighbour in the last place (odd → even) that also reads back as x.
        for cand in [last.wrapping_sub(1), last + 1] {
            if cand == 0 || cand > 9 {
                continue; // a trailing 0 would be shorter; 10 would carry
            }
            let mut n = digits.clone();
            n.pop();
            n.push((b'0' + cand) as char);
            let text = format!("{}{}{}e{}", &n[..1], if n.len() > 1 { "." } else { "" }, &n[1..], exp);
            if text.parse::<f64>() != Ok(x) {
                continue;
            }
            let low = if cand < last { &n } else { &digits };
            if is_exact_midpoint(x, &format!("{}5", low), exp - digits.len() as i32) {
                return (n, exp);
            }
        }
    }
    (digits, exp)
}

/// True when `x` equals `mid × 10^q` exactly (`mid` a digit string).
fn is_exact_midpoint(x: f64, mid: &str, q: i32) -> bool {
    if q >= 0 {
        if x.fract() != 0.0 {
            return false;
        }
        let int = format!("{:.0}", x);
        return int.len() == mid.len() + q as usize && int.starts_with(mid) && int[mid.len()..].bytes().all(|b| b == b'0');
    }
    // x = f × 2^e: it has max(0, −e) fractional digits once f's trailing zeros are absorbed.
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let mut f = bits & ((1u64 << 52) - 1);
    let mut e = if biased == 0 { -1074 } else { f |= 1u64 << 52; biased - 1075 };
    if f == 0 {
        return false;
    }
    e += f.trailing_zeros() as i32;
    let frac = (-e).max(0) as usize;
    let need = (-q) as usize;
    if need > frac {
        return false;
    }
    // mid × 10^q as fixed text with `frac` fractional digits.
    let point = mid.len() as i32 + q;
    let (int_part, frac_part) = if point <= 0 {
        ("0".to_string(), format!("{}{}", "0".repeat((-point) as usize), mid))
    } else {
        (mid[..point as usize].to_string(), mid[point as usize..].to_string())
    };
    let expected = format!("{}.{}{}", int_part, frac_part, "0".repeat(frac - frac_part.len()));
    format!("{:.*}", frac, x) == expected
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::excessive_precision)]
    fn numbers() {
        for (x, s) in [
            (0.1, "0.1"),
            (2.5, "2.5"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (5e-324, "5e-324"),
            (1.0, "1"),
            (-12.0, "-12"),
            (9007199254740991.0, "9007199254740991"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123.456, "123.456"),
            (-0.0, "0"),
            // Exact ties between two shortest candidates: ECMAScript takes the even one.
            (1658815243128337.25, "1658815243128337.2"),
            (184308692176867.125, "184308692176867.12"),
            (-681372685890580.25, "-681372685890580.2"),
        ] {
            assert_eq!(format_number(x), s);
        }
    }
}
