//! Value rules (spec/SPEC.md §value.types, §value.limits, §value.encoding, §value.equality).
//! Pure: no I/O.
//!
//! A value is any JSON value with these limits, the same in every language: finite numbers,
//! integers within ±(2^53−1), well-formed strings (a Rust `String` always is; lone surrogates
//! are refused when JSON text is parsed), no member named `__proto__`, at most 64 nested
//! arrays/objects, and at most 1 MiB of UTF-8 once encoded. `-0` is stored as `0`.

use std::collections::HashMap;

use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json::{self, quote_str, ParseError, Value};

pub use crate::json::{Object, Value as JsonValue};

pub const MAX_VALUE_BYTES: usize = 1_048_576;
pub const MAX_DEPTH: usize = 64;
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// The type names recorded per key (§value.types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    Null,
    Boolean,
    Integer,
    Number,
    String,
    Array,
    Object,
}

impl ValueType {
    pub const ALL: [ValueType; 7] = [
        ValueType::Null,
        ValueType::Boolean,
        ValueType::Integer,
        ValueType::Number,
        ValueType::String,
        ValueType::Array,
        ValueType::Object,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Null => "null",
            ValueType::Boolean => "boolean",
            ValueType::Integer => "integer",
            ValueType::Number => "number",
            ValueType::String => "string",
            ValueType::Array => "array",
            ValueType::Object => "object",
        }
    }
    pub fn parse(s: &str) -> Option<ValueType> {
        ValueType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// True for a finite number with no fractional part (JavaScript `Number.isInteger`).
pub fn is_integer(n: f64) -> bool {
    n.is_finite() && n.fract() == 0.0
}

/// True for an integer within ±(2^53−1) (JavaScript `Number.isSafeInteger`).
pub fn is_safe_integer(n: f64) -> bool {
    is_integer(n) && n.abs() <= MAX_SAFE_INTEGER
}

/// The type name of a value.
pub fn type_of(v: &Value) -> ValueType {
    match v {
        Value::Null => ValueType::Null,
        Value::Bool(_) => ValueType::Boolean,
        Value::Number(n) => {
            if is_integer(*n) {
                ValueType::Integer
            } else {
                ValueType::Number
            }
        }
        Value::String(_) => ValueType::String,
        Value::Array(_) => ValueType::Array,
        Value::Object(_) => ValueType::Object,
    }
}

/// One JSON-pointer reference token (RFC 6901).
pub fn pointer_segment(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn where_(path: &str, key: Option<&str>) -> String {
    let at = if path.is_empty() { "the value".to_string() } else { format!("the value at {}", path) };
    match key {
        None => at,
        Some(k) => format!("{} of key {}", at, quote_str(k)),
    }
}

fn value_error(message: String, path: &str, hint: &str, key: Option<&str>) -> PsmcError {
    let mut e = PsmcError::new(ErrorCode::ValueInvalid, message, hint);
    if let Some(k) = key {
        e = e.with("key", k);
    }
    e.with("path", path)
}

/// Checks `value` against the value rules, turning every `-0` into `0`.
/// Fails with `PSMC_VALUE_INVALID` naming the JSON-pointer path of the first offending part.
pub fn check_value(value: &mut Value, key: Option<&str>) -> Result<()> {
    check(value, &mut String::new(), 0, key)
}

/// Like [`check_value`] on a copy: returns the checked value.
pub fn checked(mut value: Value, key: Option<&str>) -> Result<Value> {
    check_value(&mut value, key)?;
    Ok(value)
}

fn check(v: &mut Value, path: &mut String, depth: usize, key: Option<&str>) -> Result<()> {
    match v {
        Value::Null | Value::Bool(_) | Value::String(_) => Ok(()),
        Value::Number(n) => {
            if !n.is_finite() {
                let shown = if n.is_nan() { "NaN" } else if *n > 0.0 { "Infinity" } else { "-Infinity" };
                return Err(value_error(
                    format!("{} is {}, which JSON cannot hold.", where_(path, key), shown),
                    path,
                    "Use a finite number, null, or a string such as \"Infinity\".",
                    key,
                ));
            }
            if is_integer(*n) && !is_safe_integer(*n) {
                return Err(value_error(
                    format!(
                        "{} is the integer {}, outside ±9007199254740991, which not every language reads exactly.",
                        where_(path, key),
                        json::format_number(*n)
                    ),
                    path,
                    "Store integers this large as strings (e.g. \"9007199254740993\").",
                    key,
                ));
            }
            if *n == 0.0 {
                *n = 0.0; // -0 is stored as 0
            }
            Ok(())
        }
        Value::Array(items) => {
            if depth >= MAX_DEPTH {
                return Err(too_deep(path, key));
            }
            let len = path.len();
            for (i, item) in items.iter_mut().enumerate() {
                path.push('/');
                path.push_str(&i.to_string());
                check(item, path, depth + 1, key)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Object(o) => {
            if depth >= MAX_DEPTH {
                return Err(too_deep(path, key));
            }
            let len = path.len();
            for (m, item) in o.iter_mut() {
                path.push('/');
                path.push_str(&pointer_segment(m));
                if m == "__proto__" {
                    let parent = where_(&path[..len], key);
                    return Err(value_error(
                        format!("{} has a member named \"__proto__\", which psmc refuses in every language.", parent),
                        path,
                        "Rename the member.",
                        key,
                    ));
                }
                check(item, path, depth + 1, key)?;
                path.truncate(len);
            }
            Ok(())
        }
    }
}

fn too_deep(path: &str, key: Option<&str>) -> PsmcError {
    value_error(
        format!("{} nests deeper than {} levels.", where_(path, key), MAX_DEPTH),
        path,
        &format!("Flatten the value; at most {} nested arrays/objects are allowed.", MAX_DEPTH),
        key,
    )
}

/// The error for JSON text holding a lone surrogate (JavaScript parses it; the rules refuse it),
/// worded as TypeScript and Python word it: what holds it, where, the code unit and its index.
pub fn lone_surrogate_error_at(key: Option<&str>, at: &json::LoneAt) -> PsmcError {
    value_error(
        format!(
            "{} in {} holds a lone UTF-16 surrogate (U+{:04X}) at index {}, which is not valid Unicode.",
            if at.name { "A member name" } else { "A string" },
            where_(&at.path, key),
            at.unit,
            at.index
        ),
        &at.path,
        "Remove the broken character, or encode binary data as base64 in a string.",
        key,
    )
}

/// The error for a lone surrogate whose place is not known (a reader that only knows that a
/// value held one); prefer [`lone_surrogate_error_at`].
pub fn lone_surrogate_error(key: Option<&str>) -> PsmcError {
    let mut e = PsmcError::new(
        ErrorCode::ValueInvalid,
        format!(
            "A string in {} holds a lone UTF-16 surrogate, which is not valid Unicode.",
            where_("", key)
        ),
        "Remove the broken character, or encode binary data as base64 in a string.",
    );
    if let Some(k) = key {
        e = e.with("key", k);
    }
    e
}

fn too_deep_parse_error(key: Option<&str>) -> PsmcError {
    too_deep("", key)
}

/// Validates and encodes a value into its stored text (§value.encoding).
/// Fails with `PSMC_VALUE_INVALID` or `PSMC_VALUE_TOO_LARGE`.
pub fn encode_value(value: &Value, key: Option<&str>) -> Result<String> {
    let mut v = value.clone();
    encode_checked(&mut v, key)
}

/// Checks `value` in place (turning `-0` into `0`) and returns its stored text.
pub fn encode_checked(value: &mut Value, key: Option<&str>) -> Result<String> {
    check_value(value, key)?;
    let text = value.to_json();
    if text.len() > MAX_VALUE_BYTES {
        let what = match key {
            None => String::new(),
            Some(k) => format!(" of key {}", quote_str(k)),
        };
        let mut e = PsmcError::new(
            ErrorCode::ValueTooLarge,
            format!("The value{} is {} bytes encoded; the limit is {}.", what, text.len(), MAX_VALUE_BYTES),
            "Split it across several keys, or keep large data in a file and store its path.",
        );
        if let Some(k) = key {
            e = e.with("key", k);
        }
        return Err(e);
    }
    Ok(text)
}

/// Parses JSON text (a user's or a document's) and checks the value rules.
/// `PSMC_PARSE` when it is not JSON; `PSMC_VALUE_INVALID` when it breaks the rules.
pub fn decode_value(text: &str, key: Option<&str>) -> Result<Value> {
    match json::parse(text) {
        Ok(v) => checked(v, key),
        Err(ParseError::LoneSurrogate(at)) => Err(lone_surrogate_error_at(key, &at)),
        Err(ParseError::TooDeep) => Err(too_deep_parse_error(key)),
        Err(e @ ParseError::Syntax { .. }) => {
            let what = match key {
                None => String::new(),
                Some(k) => format!(" for key {}", quote_str(k)),
            };
            let mut err = PsmcError::new(
                ErrorCode::Parse,
                format!("Not valid JSON{}: {}", what, e),
                "Check quotes, commas and brackets; strings need double quotes.",
            );
            if let Some(k) = key {
                err = err.with("key", k);
            }
            Err(err)
        }
    }
}

/// Decodes text the store itself wrote (already validated).
pub fn decode_stored(text: &str) -> Result<Value> {
    json::parse(text).map_err(|e| {
        PsmcError::new(
            ErrorCode::Corrupt,
            format!("A stored value is not valid JSON ({}).", e),
            "The store was damaged or written by a broken client; restore it from a snapshot or an export.",
        )
    })
}

/// Parses a command-line or environment string as `psmc set` does: as JSON when it parses as
/// JSON, otherwise as the string itself. JSON that breaks the value rules is refused.
pub fn parse_loose_value(text: &str, key: Option<&str>) -> Result<Value> {
    match json::parse(text) {
        Ok(v) => checked(v, key),
        Err(ParseError::LoneSurrogate(at)) => Err(lone_surrogate_error_at(key, &at)),
        Err(ParseError::TooDeep) => Err(too_deep_parse_error(key)),
        Err(ParseError::Syntax { .. }) => Ok(Value::String(text.to_string())),
    }
}

/// Deep equality (§value.equality): object member order ignored, numbers by value.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            if x.len() != y.len() {
                return false;
            }
            if x.len() <= 16 {
                return x.iter().all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)));
            }
            let index: HashMap<&str, &Value> = y.iter().map(|(k, v)| (k.as_str(), v)).collect();
            x.iter().all(|(k, v)| index.get(k.as_str()).is_some_and(|w| values_equal(v, w)))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str, key: Option<&str>) -> PsmcError {
        decode_value(text, key).expect_err("a lone surrogate is refused")
    }

    #[test]
    fn lone_surrogate_message_names_the_unit_index_and_path() {
        // The same words as TypeScript's and Python's value rules.
        let e = message(r#""\ud800""#, None);
        assert_eq!(e.code(), "PSMC_VALUE_INVALID");
        assert_eq!(e.details().get("path").and_then(Value::as_str), Some(""));
        assert_eq!(e.message(), "A string in the value holds a lone UTF-16 surrogate (U+D800) at index 0, which is not valid Unicode.");
        let e = message(r#"{"a":[1,"x😀\udc01"]}"#, Some("k"));
        assert_eq!(
            e.message(),
            "A string in the value at /a/1 of key \"k\" holds a lone UTF-16 surrogate (U+DC01) at index 3, which is not valid Unicode."
        );
        let e = message(r#"{"a/b":{"\ud83dz":1}}"#, None);
        assert!(e.message().starts_with("A member name in the value at /a~1b/"), "{}", e.message());
        assert!(e.message().contains("(U+D83D) at index 0"), "{}", e.message());
        // A high surrogate followed by a non-low escape: the first one is the lone one.
        let e = message(r#"["ok", "\ud800\u0041"]"#, None);
        assert!(e.message().contains("at /1 holds a lone UTF-16 surrogate (U+D800) at index 0"), "{}", e.message());
        assert!(parse_loose_value(r#""\udfff""#, None).unwrap_err().message().contains("(U+DFFF) at index 0"));
    }
}
