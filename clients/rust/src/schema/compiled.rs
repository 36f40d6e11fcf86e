//! A compiled schema document: lookup of the schema governing a key (exact entry, else the
//! most specific pattern) and validation of writes.

use std::collections::{HashMap, HashSet};

use super::document::parse_document;
use super::key_pattern::{compare_patterns, parse_key_name, KeyPattern};
use super::key_schema::KeySchema;
use super::messages::quote;
use super::violation::violation_error;
use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json::{self, Value};
use crate::value::{pointer_segment, ValueType};

/// A parsed and compiled schema document.
pub struct CompiledSchema {
    document: Value,
    text: String,
    additional_keys: bool,
    entries: Vec<(String, KeySchema)>,
    exact: HashMap<String, usize>,
    patterns: Vec<KeyPattern>,
}

impl std::fmt::Debug for CompiledSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledSchema").field("document", &self.text).finish()
    }
}

impl CompiledSchema {
    /// Parses (`PSMC_SCHEMA_INVALID`) and compiles a document.
    pub fn new(doc: &Value) -> Result<Self> {
        let parsed = parse_document(doc)?;
        let mut exact = HashMap::new();
        let mut patterns = Vec::new();
        for (i, (name, _)) in parsed.entries.iter().enumerate() {
            match parse_key_name(name, &format!("/keys/{}", pointer_segment(name)))? {
                None => {
                    exact.insert(name.clone(), i);
                }
                Some((segments, stars)) => patterns.push(KeyPattern { pattern: name.clone(), segments, stars, entry: i }),
            }
        }
        patterns.sort_by(compare_patterns);
        let text = parsed.json.to_json();
        Ok(CompiledSchema { document: parsed.json, text, additional_keys: parsed.additional_keys, entries: parsed.entries, exact, patterns })
    }

    /// Compiles a stored document text.
    pub fn from_text(text: &str) -> Result<Self> {
        let doc = json::parse(text).map_err(|e| {
            PsmcError::new(
                ErrorCode::Corrupt,
                format!("The stored schema is not valid JSON ({}).", e),
                "Set the schema again (psmc schema set), or restore the store from a snapshot.",
            )
        })?;
        CompiledSchema::new(&doc)
    }

    /// The normalised document.
    pub fn document(&self) -> &Value {
        &self.document
    }
    /// The normalised document as stored (compact JSON).
    pub fn text(&self) -> &str {
        &self.text
    }
    pub fn additional_keys(&self) -> bool {
        self.additional_keys
    }

    fn lookup(&self, key: &str) -> Option<&(String, KeySchema)> {
        if let Some(&i) = self.exact.get(key) {
            return Some(&self.entries[i]);
        }
        if self.patterns.is_empty() {
            return None;
        }
        let segs: Vec<&str> = key.split('.').collect();
        for p in &self.patterns {
            if p.segments.len() == segs.len() && p.segments.iter().zip(&segs).all(|(a, b)| a == "*" || a == b) {
                return Some(&self.entries[p.entry]);
            }
        }
        None
    }

    /// The schema governing `key` (exact entry, else the most specific pattern).
    pub fn schema_for(&self, key: &str) -> Option<&KeySchema> {
        self.lookup(key).map(|(_, s)| s)
    }

    /// The document entry (exact key or pattern) governing `key`.
    pub fn entry_for(&self, key: &str) -> Option<&str> {
        self.lookup(key).map(|(n, _)| n.as_str())
    }

    /// The exact (non-pattern) keys, in document order.
    pub fn keys(&self) -> Vec<String> {
        self.entries.iter().filter(|(n, _)| self.exact.contains_key(n)).map(|(n, _)| n.clone()).collect()
    }

    /// The patterns, most specific first.
    pub fn patterns(&self) -> Vec<String> {
        self.patterns.iter().map(|p| p.pattern.clone()).collect()
    }

    /// The schema `default` for `key`.
    pub fn default_for(&self, key: &str) -> Option<&Value> {
        self.schema_for(key).and_then(|s| s.default.as_ref())
    }

    /// Fails with `PSMC_SCHEMA_VIOLATION` unless `value` is acceptable for `key`.
    pub fn validate(&self, key: &str, value: &Value) -> Result<()> {
        match self.lookup(key) {
            None => {
                if self.additional_keys {
                    return Ok(());
                }
                let first = key.split('.').next().unwrap_or("");
                let near: Vec<String> = self.keys().into_iter().filter(|k| k.split('.').next() == Some(first)).take(5).collect();
                Err(PsmcError::new(
                    ErrorCode::SchemaViolation,
                    format!(
                        "The key {} is not declared in the schema, and the schema does not allow other keys (additionalKeys is false).",
                        quote(key)
                    ),
                    format!(
                        "Check the spelling of the key{}, or declare it in the schema's \"keys\".",
                        if near.is_empty() { String::new() } else { format!(" (declared keys nearby: {})", near.join(", ")) }
                    ),
                )
                .with("key", key)
                .with("path", "")
                .with("keyword", "additionalKeys"))
            }
            Some((_, s)) => match s.check(value) {
                None => Ok(()),
                Some(f) => Err(violation_error(key, &f)),
            },
        }
    }
}

/// The set of type names of a schema (for env coercion).
pub fn type_set(types: &[ValueType]) -> HashSet<ValueType> {
    types.iter().copied().collect()
}
