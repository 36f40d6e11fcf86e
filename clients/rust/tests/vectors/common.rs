//! What every family of the vector runner shares: the result type, the fixed start clock, the
//! marker for lone surrogates, and reading a case's arguments (JSON text, plain values,
//! revisions, sources) with the boundary mappings the runner's docs (tests/vectors.rs) describe.

use std::path::{Path, PathBuf};

use psmc::errors::{ErrorCode, PsmcError};
use psmc::json::{self, ParseError, Value};
use psmc::Commit;

pub const START_CLOCK: i64 = 1_767_225_600_000;
/// Stands for a lone surrogate of the vector files (a noncharacter no vector uses).
pub const LONE: char = '\u{FDD0}';

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec")
}

pub enum Res {
    Value(Value),
    Absent,
    Commit(Commit),
}

pub type R = Result<Res, PsmcError>;

pub fn usage(msg: &str) -> PsmcError {
    PsmcError::usage(msg, "vector runner")
}


// ---------------------------------------------------------------------------
// Arguments

pub fn s<'a>(o: &'a Value, k: &str) -> Result<&'a str, PsmcError> {
    o.get(k).and_then(Value::as_str).ok_or_else(|| usage(&format!("input.{} must be a string", k)))
}

/// JSON text from a vector (`valueJson` …), parsed as the spec's readers would.
pub fn json_text(text: &str) -> Result<Value, PsmcError> {
    if text.contains(LONE) {
        return Err(psmc::value::lone_surrogate_error(None));
    }
    match json::parse(text) {
        Ok(v) => Ok(v),
        Err(ParseError::LoneSurrogate(at)) => Err(psmc::value::lone_surrogate_error_at(None, &at)),
        Err(ParseError::TooDeep) => Err(PsmcError::new(ErrorCode::ValueInvalid, "too deep", "")),
        Err(e) => Err(PsmcError::new(ErrorCode::Parse, e.to_string(), "")),
    }
}

/// A plain JSON value from a vector: refuse values that held a lone surrogate.
pub fn plain(v: &Value) -> Result<Value, PsmcError> {
    if v.to_json().contains(LONE) {
        return Err(psmc::value::lone_surrogate_error(None));
    }
    Ok(v.clone())
}

pub fn revision_arg(v: Option<&Value>) -> Result<Option<i64>, PsmcError> {
    match v {
        None => Ok(None),
        Some(Value::Number(n)) if n.fract() == 0.0 && n.abs() < 9.1e15 => Ok(Some(*n as i64)),
        Some(other) => Err(usage(&format!("a revision must be a whole number, received {}", other.to_json()))),
    }
}

pub fn source_arg(o: &Value) -> Result<Option<String>, PsmcError> {
    match o.get("source").and_then(Value::as_str) {
        None => Ok(None),
        Some(src) if src.contains(LONE) => Err(usage("the source is not well-formed Unicode")),
        Some(src) => Ok(Some(src.to_string())),
    }
}

pub fn value_arg(o: &Value) -> Result<Value, PsmcError> {
    if let Some(t) = o.get("valueJson").and_then(Value::as_str) {
        return json_text(t);
    }
    plain(o.get("value").ok_or_else(|| usage("a set needs \"value\" or \"valueJson\""))?)
}

pub fn default_arg(o: &Value) -> Result<Option<Value>, PsmcError> {
    match o.get("defaultJson").and_then(Value::as_str) {
        None => Ok(None),
        Some(t) => json_text(t).map(Some),
    }
}

pub fn opt_json(v: &Option<Value>) -> Value {
    match v {
        None => Value::Null,
        Some(v) => Value::String(v.to_json()),
    }
}
