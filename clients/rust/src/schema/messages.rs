//! Wording shared by schema errors and violations: quoting, cutting, describing values.

use crate::errors::{ErrorCode, PsmcError};
use crate::json::{format_number, quote_str, Value};
use crate::value::ValueType;

/// `s` as a JSON string, cut to 80 UTF-16 units with `…`.
pub fn quote(s: &str) -> String {
    quote_str(&cut_utf16(s, 80))
}

/// `s` cut to `n` UTF-16 units plus `…` when longer (as `s.slice(0, n) + '…'` in JavaScript).
pub fn cut_utf16(s: &str, n: usize) -> String {
    let mut units = 0;
    for (i, c) in s.char_indices() {
        let w = c.len_utf16();
        if units + w > n {
            // JavaScript would cut a surrogate pair in half here; keep whole characters only.
            return format!("{}…", &s[..i]);
        }
        units += w;
    }
    s.to_string()
}

pub(super) fn invalid(path: &str, message: impl AsRef<str>, hint: impl Into<String>) -> PsmcError {
    PsmcError::new(
        ErrorCode::SchemaInvalid,
        format!("Schema error at {}: {}", if path.is_empty() { "/" } else { path }, message.as_ref()),
        hint,
    )
    .with("path", path)
}

pub(super) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
        Value::String(s) => format!("the string {}", quote(s)),
        Value::Number(n) => format_number(*n),
        Value::Bool(b) => b.to_string(),
    }
}

pub(super) fn a_type(t: ValueType) -> &'static str {
    match t {
        ValueType::Null => "null",
        ValueType::Boolean => "a boolean",
        ValueType::Integer => "an integer",
        ValueType::Number => "a number",
        ValueType::String => "a string",
        ValueType::Array => "an array",
        ValueType::Object => "an object",
    }
}

pub(super) fn or_list(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

pub(super) fn render(v: &Value, redact: bool) -> String {
    if redact {
        return "(a secret value)".into();
    }
    let s = v.to_json();
    let units: usize = s.chars().map(char::len_utf16).sum();
    if units > 60 {
        cut_utf16(&s, 60)
    } else {
        s
    }
}
