//! The environment layer (spec/sections/schema-env.md §env.mapping, §env.reserved,
//! §env.coerce). Pure: the environment is a parameter, never read here.
//!
//! The variable for key `display.units` under prefix `PSMC` is `PSMC_DISPLAY__UNITS`: the
//! prefix, `_`, then the key upper-cased with `.` written as `__` and `-` as `_`.

use std::collections::{HashMap, HashSet};

use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json::{self, quote_str, Value};
use crate::keys::assert_key;
use crate::schema::{KeySchema, Violation};
use crate::value::{check_value, is_integer, is_safe_integer, parse_loose_value, ValueType};

/// Suffixes reserved under every prefix: `<PREFIX>_HOME` … configure psmc itself.
pub const RESERVED_ENV_SUFFIXES: &[&str] = &["HOME", "DEBUG", "SECRET_KEY", "SOURCE", "STORE", "APP", "PROJECT"];

/// The CLI's prefix.
pub const DEFAULT_ENV_PREFIX: &str = "PSMC";

/// True when `p` matches `^[A-Z][A-Z0-9_]*$`.
pub fn is_valid_prefix(p: &str) -> bool {
    let b = p.as_bytes();
    !b.is_empty() && b[0].is_ascii_uppercase() && b.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
}

fn prefix_error(prefix: &str) -> PsmcError {
    PsmcError::usage(
        format!("env prefix must match /^[A-Z][A-Z0-9_]*$/, received {}", quote_str(prefix)),
        "Use upper-case letters, digits and \"_\", starting with a letter.",
    )
}

/// The prefix for an app name: ASCII upper-cased, `-` → `_`; must match `^[A-Z][A-Z0-9_]*$`.
pub fn prefix_from_app(app: &str) -> Result<String> {
    let p: String = app.chars().map(|c| if c == '-' { '_' } else { c.to_ascii_uppercase() }).collect();
    if !is_valid_prefix(&p) {
        return Err(PsmcError::usage(
            format!(
                "app name {} does not give a usable environment prefix ({} must match /^[A-Z][A-Z0-9_]*$/)",
                quote_str(app),
                quote_str(&p)
            ),
            "Check the arguments and options; `psmc help` lists them.",
        ));
    }
    Ok(p)
}

/// The variable name for `key` (which must be legal).
pub fn env_name(prefix: &str, key: &str) -> Result<String> {
    if !is_valid_prefix(prefix) {
        return Err(prefix_error(prefix));
    }
    assert_key(key)?;
    let mut out = String::with_capacity(prefix.len() + key.len() + 8);
    out.push_str(prefix);
    out.push('_');
    for c in key.chars() {
        match c {
            '.' => out.push_str("__"),
            '-' => out.push('_'),
            c => out.push(c.to_ascii_uppercase()),
        }
    }
    Ok(out)
}

/// True when `name` is one of psmc's own variables under `prefix`.
pub fn is_reserved_env_name(prefix: &str, name: &str) -> bool {
    name.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|suffix| RESERVED_ENV_SUFFIXES.contains(&suffix))
}

/// The variable that feeds `key`, or None when that name is reserved (no env layer).
pub fn env_variable_for(prefix: &str, key: &str) -> Result<Option<String>> {
    let name = env_name(prefix, key)?;
    Ok(if is_reserved_env_name(prefix, &name) { None } else { Some(name) })
}

/// The variables that can feed keys: named `<prefix>_…` with at least one more character,
/// minus the reserved ones. With `case_insensitive` (Windows), names are upper-cased.
pub fn snapshot_env<'a, I>(env: I, prefix: &str, case_insensitive: bool) -> HashMap<String, String>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let start = format!("{}_", prefix);
    let mut out = HashMap::new();
    for (raw, v) in env {
        let name = if case_insensitive { raw.to_ascii_uppercase() } else { raw.to_string() };
        if name.len() <= start.len() || !name.starts_with(&start) || is_reserved_env_name(prefix, &name) {
            continue;
        }
        out.insert(name, v.to_string());
    }
    out
}

// ---------------------------------------------------------------------------
// Coercion (§env.coerce)

pub const TRUE_WORDS: &[&str] = &["true", "1", "yes", "on"];
pub const FALSE_WORDS: &[&str] = &["false", "0", "no", "off"];

/// Removes leading and trailing U+0009–U+000D and U+0020 only.
pub fn trim_ascii(s: &str) -> &str {
    s.trim_matches(|c: char| matches!(c, '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' '))
}

fn is_integer_text(w: &str) -> bool {
    let d = w.strip_prefix(['+', '-']).unwrap_or(w);
    !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit())
}

/// `^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`
fn is_number_text(w: &str) -> bool {
    let b = w.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - f;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let e = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == e {
            return false;
        }
    }
    i == b.len()
}

/// JavaScript `Number(text)` for text that passed [`is_number_text`] (a leading `+`, `.5`,
/// `5.` all allowed).
fn number_value(w: &str) -> f64 {
    let mut t = w.to_string();
    if t.starts_with('+') {
        t.remove(0);
    }
    // Rust's parser accepts "5." and ".5" and "-.5" too; make it explicit anyway.
    let t = t.replace("-.", "-0.");
    let t = if t.starts_with('.') { format!("0{}", t) } else { t };
    let t = t.replace(".e", ".0e").replace(".E", ".0E");
    let t = if t.ends_with('.') { format!("{}0", t) } else { t };
    t.parse::<f64>().unwrap_or(f64::NAN)
}

fn example(t: ValueType) -> &'static str {
    match t {
        ValueType::Null => "null",
        ValueType::Boolean => "true/false (also 1/0, yes/no, on/off)",
        ValueType::Integer => "an integer such as 42",
        ValueType::Number => "a number such as 1.5",
        ValueType::String => "any text",
        ValueType::Array => "a JSON array such as [\"a\",\"b\"]",
        ValueType::Object => "a JSON object such as {\"a\":1}",
    }
}

fn shown(raw: &str, secret: bool) -> String {
    if secret {
        return "(a secret value)".into();
    }
    let units: usize = raw.chars().map(char::len_utf16).sum();
    if units <= 80 {
        return quote_str(raw);
    }
    let mut n = 0;
    let mut end = 0;
    for (i, c) in raw.char_indices() {
        if n + c.len_utf16() > 80 {
            end = i;
            break;
        }
        n += c.len_utf16();
    }
    format!("{}…", quote_str(&raw[..end]))
}

#[allow(clippy::too_many_arguments)]
fn coerce_error(variable: &str, raw: &str, key: &str, secret: bool, problem: &str, expected: &str, keyword: &str, path: Option<&str>) -> PsmcError {
    let mut e = PsmcError::new(
        ErrorCode::EnvCoerce,
        format!(
            "The environment variable {}={} cannot be used for key {}: {}.",
            variable,
            shown(raw, secret),
            quote_str(key),
            problem
        ),
        format!("Set {} to {}, or unset it.", variable, expected),
    )
    .with("key", key)
    .with("variable", variable)
    .with("keyword", keyword);
    if let Some(p) = path {
        e = e.with("path", p);
    }
    e
}

fn value_ok(mut v: Value) -> Option<Value> {
    check_value(&mut v, None).ok().map(|_| v)
}

#[derive(Clone, Copy, PartialEq)]
enum Step {
    Null,
    Boolean,
    Integer,
    Number,
    Json,
    String,
}

const UNION_ORDER: [Step; 6] = [Step::Null, Step::Boolean, Step::Integer, Step::Number, Step::Json, Step::String];

fn step_allowed(step: Step, allow: &HashSet<ValueType>) -> bool {
    match step {
        Step::Null => allow.contains(&ValueType::Null),
        Step::Boolean => allow.contains(&ValueType::Boolean),
        Step::Integer => allow.contains(&ValueType::Integer),
        Step::Number => allow.contains(&ValueType::Number),
        Step::Json => allow.contains(&ValueType::Array) || allow.contains(&ValueType::Object),
        Step::String => allow.contains(&ValueType::String),
    }
}

fn parse_as(step: Step, raw: &str, allow: &HashSet<ValueType>) -> Option<Value> {
    match step {
        Step::Null => trim_ascii(raw).eq_ignore_ascii_case("null").then_some(Value::Null),
        Step::Boolean => {
            // JavaScript's toLowerCase is Unicode-aware; only ASCII words can match anyway,
            // except that e.g. "İ" lower-cases to two characters: compare on Unicode lower case.
            let w = trim_ascii(raw).to_lowercase();
            if TRUE_WORDS.contains(&w.as_str()) {
                Some(Value::Bool(true))
            } else if FALSE_WORDS.contains(&w.as_str()) {
                Some(Value::Bool(false))
            } else {
                None
            }
        }
        Step::Integer => {
            let w = trim_ascii(raw);
            if !is_integer_text(w) {
                return None;
            }
            let n = number_value(w);
            is_safe_integer(n).then_some(Value::Number(if n == 0.0 { 0.0 } else { n }))
        }
        Step::Number => {
            let w = trim_ascii(raw);
            if !is_number_text(w) {
                return None;
            }
            let n = number_value(w);
            if !n.is_finite() || (is_integer(n) && !is_safe_integer(n)) {
                return None;
            }
            Some(Value::Number(if n == 0.0 { 0.0 } else { n }))
        }
        Step::Json => {
            let parsed = json::parse(raw).ok()?;
            let ok = match &parsed {
                Value::Array(_) => allow.contains(&ValueType::Array),
                Value::Object(_) => allow.contains(&ValueType::Object),
                _ => false,
            };
            if !ok {
                return None;
            }
            value_ok(parsed)
        }
        Step::String => value_ok(Value::String(raw.to_string())),
    }
}

fn type_problem(raw: &str, types: &[ValueType]) -> String {
    let w = trim_ascii(raw);
    if types.contains(&ValueType::Integer) && is_integer_text(w) {
        return "it is an integer outside ±9007199254740991".into();
    }
    if types.contains(&ValueType::Number) && is_number_text(w) {
        return "the number is not finite or is an integer outside ±9007199254740991".into();
    }
    let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    if w.is_empty() {
        return format!(
            "it is empty, and {} {}",
            if types.len() == 1 { "the key expects" } else { "the key expects one of" },
            names.join(", ")
        );
    }
    let words: Vec<String> = types
        .iter()
        .map(|t| match t {
            ValueType::Integer => "an integer".to_string(),
            ValueType::Array | ValueType::Object => format!("a JSON {}", t.as_str()),
            ValueType::Null => "null".to_string(),
            _ => format!("a {}", t.as_str()),
        })
        .collect();
    format!("it is not {}", words.join(" or "))
}

fn violation_to_coerce(variable: &str, raw: &str, key: &str, secret: bool, f: &Violation) -> PsmcError {
    let path = f.path();
    let subject = if path.is_empty() { "the value".to_string() } else { format!("the value at {}", path) };
    coerce_error(variable, raw, key, secret, &format!("{} {}", subject, f.problem), &f.expected, f.keyword, Some(&path))
}

/// Turns an environment variable's text into the key's value (§env.coerce). Fails with
/// `PSMC_ENV_COERCE` (details `key`, `variable`, `keyword`, `path`).
pub fn coerce_env(raw: &str, schema: Option<&KeySchema>, variable: &str, key: &str) -> Result<Value> {
    let secret = schema.is_some_and(KeySchema::is_secret);
    let types = schema.and_then(KeySchema::types);
    let types = match types {
        None => {
            let value = match parse_loose_value(raw, Some(key)) {
                Ok(v) => v,
                Err(e) => {
                    let msg = e.message().strip_suffix('.').unwrap_or(e.message()).to_string();
                    return Err(coerce_error(variable, raw, key, secret, &msg, "a valid JSON value or plain text", "value", None));
                }
            };
            let schema = match schema {
                None => return Ok(value),
                Some(s) => s,
            };
            let f = match schema.check(&value) {
                None => return Ok(value),
                Some(f) => f,
            };
            // An untyped enum/const (e.g. ["1", "auto"]): the raw text itself may be allowed.
            if !matches!(value, Value::String(_)) && schema.has_enum_or_const() {
                let as_text = Value::String(raw.to_string());
                if schema.check(&as_text).is_none() {
                    return Ok(as_text);
                }
            }
            return Err(violation_to_coerce(variable, raw, key, secret, &f));
        }
        Some(t) => t,
    };
    let allow: HashSet<ValueType> = types.iter().copied().collect();
    let mut value = None;
    for step in UNION_ORDER {
        if !step_allowed(step, &allow) {
            continue;
        }
        value = parse_as(step, raw, &allow);
        if value.is_some() {
            break;
        }
    }
    let value = match value {
        None => {
            let expected: Vec<&str> = types.iter().map(|t| example(*t)).collect();
            return Err(coerce_error(variable, raw, key, secret, &type_problem(raw, types), &expected.join(", or "), "type", None));
        }
        Some(v) => v,
    };
    if let Some(f) = schema.and_then(|s| s.check(&value)) {
        return Err(violation_to_coerce(variable, raw, key, secret, &f));
    }
    Ok(value)
}
