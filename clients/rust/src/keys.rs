//! Key rules (spec/SPEC.md §key.syntax, §key.reserved, §key.limits). Pure: no I/O.
//!
//! ```text
//! segment = [A-Za-z0-9]+ ( [_-] [A-Za-z0-9]+ )*
//! key     = segment ( "." segment )*
//! ```
//! At most 256 characters and 32 segments; segments naming object machinery (`__proto__`,
//! `constructor`, `toString` …) are refused case-insensitively with `PSMC_KEY_RESERVED`.

use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json::quote_str;

pub const MAX_KEY_LENGTH: usize = 256;
pub const MAX_KEY_SEGMENTS: usize = 32;

/// Reserved segments, lower case; compared case-insensitively.
pub const RESERVED_SEGMENTS: &[&str] = &[
    "__proto__",
    "prototype",
    "constructor",
    "hasownproperty",
    "isprototypeof",
    "propertyisenumerable",
    "tolocalestring",
    "tostring",
    "valueof",
    "__definegetter__",
    "__definesetter__",
    "__lookupgetter__",
    "__lookupsetter__",
];

/// True when `seg` matches `[A-Za-z0-9]+([_-][A-Za-z0-9]+)*`.
pub fn is_valid_segment(seg: &str) -> bool {
    let b = seg.as_bytes();
    if b.is_empty() {
        return false;
    }
    let mut prev_sep = true; // start behaves like "after a separator": must be alphanumeric
    for &c in b {
        if c.is_ascii_alphanumeric() {
            prev_sep = false;
        } else if c == b'_' || c == b'-' {
            if prev_sep {
                return false;
            }
            prev_sep = true;
        } else {
            return false;
        }
    }
    !prev_sep
}

pub fn is_reserved_segment(seg: &str) -> bool {
    // Fast path: reserved names are 7–20 characters; Unicode lower-casing can only shrink
    // or keep the UTF-8 length of ASCII-mappable characters within a small factor.
    if seg.len() < 7 || seg.len() > 80 {
        return false;
    }
    let lower = seg.to_lowercase();
    RESERVED_SEGMENTS.contains(&lower.as_str())
}

/// Length in UTF-16 code units, as JavaScript counts `key.length`.
fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// True when `key` is a legal key. Never fails.
pub fn is_valid_key(key: &str) -> bool {
    if key.is_empty() || key.len() > MAX_KEY_LENGTH {
        return false;
    }
    let mut n = 0;
    for seg in key.split('.') {
        n += 1;
        if n > MAX_KEY_SEGMENTS || !is_valid_segment(seg) || is_reserved_segment(seg) {
            return false;
        }
    }
    true
}

/// Fails with `PSMC_KEY_SYNTAX` or `PSMC_KEY_RESERVED` unless `key` is legal.
pub fn assert_key(key: &str) -> Result<()> {
    if is_valid_key(key) {
        Ok(())
    } else {
        Err(key_error(key))
    }
}

fn describe(key: &str) -> String {
    let units: Vec<u16> = key.encode_utf16().collect();
    if units.len() > 80 {
        let mut cut = String::from_utf16_lossy(&units[..80]);
        cut.push('…');
        quote_str(&cut)
    } else {
        quote_str(key)
    }
}

const SYNTAX_HINT: &str = "Keys are dot-separated segments of ASCII letters and digits, joined inside a segment by single \"_\" or \"-\" (e.g. display.units, sensor-1.max_temp).";

/// The precise error for an illegal key: which rule, where, and how to fix it.
pub fn key_error(key: &str) -> PsmcError {
    if key.is_empty() {
        return PsmcError::new(ErrorCode::KeySyntax, "The key is empty.", "Give a dotted name such as display.units.").with("key", key);
    }
    let segments: Vec<&str> = key.split('.').collect();
    for (i, seg) in segments.iter().enumerate() {
        if is_reserved_segment(seg) {
            return PsmcError::new(
                ErrorCode::KeyReserved,
                format!("The key {} uses the reserved segment {} (segment {}).", describe(key), quote_str(seg), i + 1),
                "Segments that name object machinery (__proto__, prototype, constructor, toString …) are refused in every language; rename the segment.",
            )
            .with("key", key)
            .with("segment", *seg);
        }
    }
    let len = utf16_len(key);
    if len > MAX_KEY_LENGTH {
        return PsmcError::new(
            ErrorCode::KeySyntax,
            format!("The key {} is {} characters long; the limit is {}.", describe(key), len, MAX_KEY_LENGTH),
            "Use a shorter key; put long data in the value instead.",
        )
        .with("key", key);
    }
    if segments.len() > MAX_KEY_SEGMENTS {
        return PsmcError::new(
            ErrorCode::KeySyntax,
            format!("The key {} has {} segments; the limit is {}.", describe(key), segments.len(), MAX_KEY_SEGMENTS),
            "Flatten the key; nest data inside the value instead.",
        )
        .with("key", key);
    }
    let mut pos = 0usize; // in UTF-16 units, like the TypeScript message
    for (i, seg) in segments.iter().enumerate() {
        if is_valid_segment(seg) {
            pos += utf16_len(seg) + 1;
            continue;
        }
        let why = if seg.is_empty() {
            if i == 0 {
                "starts with \".\"".to_string()
            } else if i == segments.len() - 1 {
                "ends with \".\"".to_string()
            } else {
                "has an empty segment (\"..\")".to_string()
            }
        } else if let Some((off, c)) = seg.char_indices().find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-')) {
            pos += utf16_len(&seg[..off]);
            format!(
                "has the character {} (U+{:04X}) at position {}",
                quote_str(&c.to_string()),
                c as u32,
                pos + 1
            )
        } else if seg.starts_with(['_', '-']) {
            format!("has segment {} that starts with \"{}\"", quote_str(seg), &seg[..1])
        } else if seg.ends_with(['_', '-']) {
            format!("has segment {} that ends with \"{}\"", quote_str(seg), &seg[seg.len() - 1..])
        } else {
            format!("has segment {} with two \"_\"/\"-\" in a row", quote_str(seg))
        };
        return PsmcError::new(ErrorCode::KeySyntax, format!("The key {} {}.", describe(key), why), SYNTAX_HINT)
            .with("key", key)
            .with("position", (pos + 1) as f64);
    }
    PsmcError::new(ErrorCode::KeySyntax, format!("The key {} is not a legal key.", describe(key)), SYNTAX_HINT).with("key", key)
}

/// True when `key` equals `prefix` or lies under it (`a.b` is under `a`, `ab` is not).
pub fn key_has_prefix(key: &str, prefix: &str) -> bool {
    if prefix.is_empty() {
        return true;
    }
    key == prefix || (key.starts_with(prefix) && key.as_bytes().get(prefix.len()) == Some(&b'.'))
}

/// Checks a prefix for list/history: empty (everything) or a legal key, optionally with one
/// trailing `.`. Returns it without the dot.
pub fn normalize_prefix(prefix: Option<&str>) -> Result<String> {
    match prefix {
        None | Some("") => Ok(String::new()),
        Some(p) => {
            let p = p.strip_suffix('.').unwrap_or(p);
            assert_key(p)?;
            Ok(p.to_string())
        }
    }
}
