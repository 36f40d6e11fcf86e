//! Key patterns (§schema.keys): the names of a document's `keys`, exact or with `*` segments,
//! and their order of specificity.

use super::messages::{invalid, quote};
use crate::errors::Result;
use crate::keys::{is_reserved_segment, is_valid_key, key_error, MAX_KEY_LENGTH, MAX_KEY_SEGMENTS};

#[derive(Clone, Debug)]
pub(super) struct KeyPattern {
    pub(super) pattern: String,
    pub(super) segments: Vec<String>,
    pub(super) stars: Vec<usize>,
    pub(super) entry: usize,
}

/// Checks one name of `keys`: Ok(None) for an exact key, Ok(Some((segments, stars))) for a
/// pattern, `PSMC_SCHEMA_INVALID` at `path` otherwise.
pub(super) fn parse_key_name(name: &str, path: &str) -> Result<Option<(Vec<String>, Vec<usize>)>> {
    if !name.contains('*') {
        if !is_valid_key(name) {
            let e = key_error(name);
            return Err(invalid(path, format!("the key {} is not a legal key: {}", quote(name), e.message()), e.hint()));
        }
        return Ok(None);
    }
    let segments: Vec<String> = name.split('.').map(String::from).collect();
    let mut stars = Vec::new();
    for (i, s) in segments.iter().enumerate() {
        if s == "*" {
            stars.push(i);
        } else if s.contains('*') {
            return Err(invalid(
                path,
                format!("in the key pattern {}, \"*\" must be a whole segment (found {}).", quote(name), quote(s)),
                "Write e.g. sensors.*.max; a \"*\" matches exactly one segment.",
            ));
        } else if is_reserved_segment(s) {
            return Err(invalid(path, format!("the key pattern {} uses the reserved segment {}.", quote(name), quote(s)), "Rename the segment."));
        }
    }
    let probe: Vec<&str> = segments.iter().map(|s| if s == "*" { "x" } else { s.as_str() }).collect();
    let probe = probe.join(".");
    if !is_valid_key(&probe) {
        let e = key_error(&probe);
        let why = if segments.len() > MAX_KEY_SEGMENTS || name.chars().map(char::len_utf16).sum::<usize>() > MAX_KEY_LENGTH {
            e.message().to_string()
        } else {
            "a segment is empty or not letters and digits joined by single \"_\" or \"-\".".to_string()
        };
        return Err(invalid(
            path,
            format!("the key pattern {} is not legal: {}", quote(name), why),
            "A pattern is a legal key in which some whole segments are \"*\".",
        ));
    }
    Ok(Some((segments, stars)))
}

pub(super) fn compare_patterns(a: &KeyPattern, b: &KeyPattern) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    if a.stars.len() != b.stars.len() {
        return a.stars.len().cmp(&b.stars.len());
    }
    for i in 0..a.stars.len() {
        match b.stars[i].cmp(&a.stars[i]) {
            Ordering::Equal => continue,
            o => return o,
        }
    }
    a.pattern.cmp(&b.pattern)
}
