//! Snapshot names (spec/sections/snapshots.md §snapshot.names; TypeScript:
//! src/snapshot/names.ts). Pure: no I/O.
//!
//! A snapshot is the file `<store>/snapshots/<name>.json`, so a name is also a file name: it is
//! checked against an allowlist. 1–64 characters of `[A-Za-z0-9._-]`, starting with a letter or
//! digit, with no `..`, not ending in `.json`, and not `current` (which `diff` uses for the live
//! store). The same check runs on every name from outside: the caller's argument (`PSMC_USAGE`),
//! a file name found on disk, and the `name` member of a snapshot file (`PSMC_PARSE`).

use std::collections::HashSet;

use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json::quote_str;

/// The longest name, in characters.
pub const MAX_NAME_LENGTH: usize = 64;

/// Names that mean something else where a snapshot name is expected (compared case-insensitively).
pub const RESERVED_NAMES: &[&str] = &["current"];

const NAME_HINT: &str =
    "A snapshot name is 1–64 of A–Z a–z 0–9 . _ -, starting with a letter or digit, without \"..\", not ending in .json, e.g. before-upgrade or 2026-11-26.";

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-'
}

/// Why `name` is not a usable snapshot name, or `None` when it is.
pub fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a snapshot name cannot be empty".into());
    }
    let n: usize = name.chars().map(char::len_utf16).sum();
    if n > MAX_NAME_LENGTH {
        return Some(format!("it is {} characters long; the limit is {}", n, MAX_NAME_LENGTH));
    }
    if name.contains('/') || name.contains('\\') {
        return Some("it holds a path separator".into());
    }
    if name.starts_with('.') {
        return Some("it starts with a dot".into());
    }
    if let Some(bad) = name.chars().find(|c| !name_char(*c)) {
        return Some(format!("it holds {}, which is not one of A–Z, a–z, 0–9, \".\", \"_\", \"-\"", quote_str(&bad.to_string())));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Some("it must start with a letter or a digit".into());
    }
    if name.contains("..") {
        return Some("it holds \"..\"".into());
    }
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".json") {
        return Some("it ends in \".json\" (the file name adds that)".into());
    }
    if RESERVED_NAMES.contains(&lower.as_str()) {
        return Some(format!("\"{}\" is reserved (diff uses it for the live store)", name));
    }
    None
}

/// True when `name` is a usable snapshot name.
pub fn is_valid_snapshot_name(name: &str) -> bool {
    name_problem(name).is_none()
}

fn shown(name: &str) -> String {
    if name.chars().count() > 80 {
        let cut: String = name.chars().take(80).collect();
        quote_str(&format!("{}…", cut))
    } else {
        quote_str(name)
    }
}

/// `PSMC_USAGE` unless `name`, given by a caller, is a usable snapshot name.
pub fn assert_snapshot_name(name: &str) -> Result<()> {
    match name_problem(name) {
        None => Ok(()),
        Some(p) => Err(PsmcError::usage(format!("{} cannot be a snapshot name: {}.", shown(name), p), NAME_HINT)),
    }
}

/// `PSMC_PARSE` unless `name`, read from a file (`where_` names it), is a usable snapshot name.
pub fn assert_stored_name(name: &str, where_: &str) -> Result<()> {
    match name_problem(name) {
        None => Ok(()),
        Some(p) => Err(PsmcError::new(
            ErrorCode::Parse,
            format!("{}: the snapshot name {} is not usable: {}.", where_, shown(name), p),
            "The file was not written by psmc or was edited by hand. Fix its \"name\" member (it must match the file name), or delete the file.",
        )
        .with("file", where_)),
    }
}

/// The file name of a snapshot: `<name>.json`.
pub fn file_name_of(name: &str) -> String {
    format!("{}.json", name)
}

/// The snapshot name of a file name in the snapshots directory, or `None` when it is not one.
pub fn name_of_file(file_name: &str) -> Option<&str> {
    if !file_name.ends_with(".json") || file_name.starts_with('.') {
        return None;
    }
    Some(&file_name[..file_name.len() - ".json".len()])
}

/// The first of `base`, `base-2`, `base-3` … that is not taken (compared case-insensitively).
pub fn unique_name(base: &str, taken: &HashSet<String>) -> String {
    let lower: HashSet<String> = taken.iter().map(|n| n.to_ascii_lowercase()).collect();
    if !lower.contains(&base.to_ascii_lowercase()) {
        return base.to_string();
    }
    let mut i = 2;
    loop {
        let suffix = format!("-{}", i);
        let keep = MAX_NAME_LENGTH.saturating_sub(suffix.len()).min(base.len());
        let candidate = format!("{}{}", &base[..keep], suffix);
        if !lower.contains(&candidate.to_ascii_lowercase()) {
            return candidate;
        }
        i += 1;
    }
}
