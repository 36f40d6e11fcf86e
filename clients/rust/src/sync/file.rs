//! The mirror file on disk: its stat as the bookkeeping records it (size, mtime in whole ms),
//! its SHA-256, the UTF-8 check of a hand edit (with the place of the first bad byte), and where
//! a key stands in it (for errors that know only the key).

use std::fs;
use std::path::Path;
use std::time::UNIX_EPOCH;

use sha2::{Digest, Sha256};

use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json::Value;
use crate::paths::io_error;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FileStat {
    pub(super) size: u64,
    pub(super) mtime_ms: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Known {
    Missing,
    Stat(FileStat),
}

pub(super) fn file_stat(m: &fs::Metadata) -> FileStat {
    let mtime_ms = m
        .modified()
        .ok()
        .map(|t| match t.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_millis() as i64,
            Err(e) => -(e.duration().as_millis() as i64) - 1,
        })
        .unwrap_or(0);
    FileStat { size: m.len(), mtime_ms }
}

pub(super) fn stat_of(file: &Path) -> Result<Option<FileStat>> {
    match fs::metadata(file) {
        Ok(m) => Ok(Some(file_stat(&m))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(&e, file)),
    }
}

/// Lower-case hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut s = String::with_capacity(64);
    for b in digest.iter() {
        s.push_str(&format!("{:02x}", b));
    }
    s
}

/// Decodes the file's bytes as UTF-8, refusing invalid sequences with the line and column of
/// the first bad byte: a file saved in another encoding is an invalid edit.
pub(super) fn decode_utf8(bytes: &[u8], file: &Path) -> Result<String> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => {
            let lo = e.valid_up_to();
            let before = std::str::from_utf8(&bytes[..lo]).unwrap_or("");
            let line = before.split('\n').count() as i64;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() as i64 + 1;
            Err(PsmcError::new(
                ErrorCode::Parse,
                format!("{} is not valid UTF-8: byte {} (line {}, column {}) cannot start or continue a character.", file.display(), lo, line, column),
                "Save the file as UTF-8 (most editors: \"Save with encoding\" → UTF-8).",
            )
            .with("file", file.display().to_string())
            .with("line", Value::Number(line as f64))
            .with("column", Value::Number(column as f64)))
        }
    }
}

/// The 1-based line and column of a top-level key in a mirror file, best effort.
pub fn locate_key(text: &str, key: &str) -> Option<(i64, i64)> {
    let candidates = [format!("\"{}\"", key), format!("'{}'", key), format!("{}:", key), format!("{} =", key)];
    for c in &candidates {
        if let Some(i) = text.find(c.as_str()) {
            let before = &text[..i];
            let line = before.split('\n').count() as i64;
            let col_start = before.rfind('\n').map(|p| p + 1).unwrap_or(0);
            // Columns in UTF-16 units like the reference (`i - lastIndexOf('\n')`).
            let column = before[col_start..].encode_utf16().count() as i64 + 1;
            return Some((line, column));
        }
    }
    None
}
