//! A violation of a key schema, and the `PSMC_SCHEMA_VIOLATION` error it becomes.

use super::messages::quote;
use crate::errors::{ErrorCode, PsmcError};
use crate::value::pointer_segment;

/// What is wrong with a value, before it becomes an error.
#[derive(Clone, Debug)]
pub struct Violation {
    /// Path segments inside the value, innermost first.
    pub rpath: Vec<String>,
    pub keyword: &'static str,
    /// E.g. `is 120, above the maximum 100`.
    pub problem: String,
    /// A noun phrase for the fix, e.g. `a number of at most 100`.
    pub expected: String,
}

impl Violation {
    pub(super) fn new(keyword: &'static str, problem: String, expected: String) -> Self {
        Violation { rpath: Vec::new(), keyword, problem, expected }
    }

    /// The JSON pointer of the violation inside the value (`""` for the value itself).
    pub fn path(&self) -> String {
        let mut s = String::new();
        for seg in self.rpath.iter().rev() {
            s.push('/');
            s.push_str(&pointer_segment(seg));
        }
        s
    }
}

/// The `PSMC_SCHEMA_VIOLATION` error for a violation of `key`'s schema.
pub fn violation_error(key: &str, v: &Violation) -> PsmcError {
    let path = v.path();
    let subject = if path.is_empty() {
        format!("The value of key {}", quote(key))
    } else {
        format!("The value at {} of key {}", path, quote(key))
    };
    PsmcError::new(ErrorCode::SchemaViolation, format!("{} {}.", subject, v.problem), format!("Use {}.", v.expected))
        .with("key", key)
        .with("path", path)
        .with("keyword", v.keyword)
}
