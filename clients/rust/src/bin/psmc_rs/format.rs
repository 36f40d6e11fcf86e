//! psmc-rs output helpers (src/cli/format.ts): inline values, times, tables.

use super::*;
// ---------------------------------------------------------------------------
// Output helpers (src/cli/format.ts)

pub(crate) fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// `s.slice(0, n)` in UTF-16 units, never splitting a character.
pub(crate) fn slice_utf16(s: &str, n: usize) -> &str {
    let mut units = 0;
    for (i, c) in s.char_indices() {
        if units + c.len_utf16() > n {
            return &s[..i];
        }
        units += c.len_utf16();
    }
    s
}

/// A value as one line of JSON cut to `max` characters with `…`; `(unset)` for None.
pub(crate) fn inline_value(value: Option<&Value>, max: usize) -> String {
    match value {
        None => "(unset)".into(),
        Some(v) => {
            let text = v.to_json();
            if utf16_len(&text) > max {
                format!("{}…", slice_utf16(&text, max - 1))
            } else {
                text
            }
        }
    }
}

/// A value as `get` prints it: a string raw, anything else as JSON.
pub(crate) fn plain_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_json(),
    }
}

/// `2026-11-26T04:03:25.146Z-0003` → `2026-11-26 04:03:25`.
pub(crate) fn short_time(hlc: Option<&str>) -> String {
    match hlc {
        None => String::new(),
        Some(t) => {
            let b = t.as_bytes();
            if b.len() >= 19 && b[10] == b'T' && b[..10].iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() }) {
                format!("{} {}", &t[..10], &t[11..19])
            } else {
                t.to_string()
            }
        }
    }
}

/// Rows as aligned columns two spaces apart; the last column is not padded.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> Vec<String> {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| rows.iter().map(|r| r.get(i).map(|c| utf16_len(c)).unwrap_or(0)).chain([utf16_len(header[i])]).max().unwrap_or(0))
        .collect();
    let line = |cells: Vec<String>| -> String {
        let n = cells.len();
        let parts: Vec<String> = cells
            .into_iter()
            .enumerate()
            .map(|(i, c)| if i == n - 1 { c } else { format!("{}{}", c, " ".repeat(widths[i].saturating_sub(utf16_len(&c)))) })
            .collect();
        parts.join("  ").trim_end().to_string()
    };
    let mut out = vec![line(header.iter().map(|s| s.to_string()).collect())];
    for r in rows {
        out.push(line(r.clone()));
    }
    out
}
