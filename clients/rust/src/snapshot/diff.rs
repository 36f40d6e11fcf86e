//! Differences between two snapshots, or a snapshot and the live store
//! (spec/sections/snapshots.md §snapshot.diff; TypeScript: src/snapshot/diff.ts). Pure.

use crate::json::{Object, Value};
use crate::value::values_equal;

/// One difference: `change` is `added` (only `after`), `removed` (only `before`) or `changed`.
#[derive(Clone, Debug, PartialEq)]
pub struct DiffItem {
    pub key: String,
    pub change: &'static str,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl DiffItem {
    /// `{"key", "change", "before"?, "after"?}` as in the spec and `psmc snapshot diff --json`.
    pub fn to_json(&self) -> Value {
        let mut o = Object::new();
        o.insert("key", Value::String(self.key.clone()));
        o.insert("change", Value::String(self.change.into()));
        if let Some(b) = &self.before {
            o.insert("before", b.clone());
        }
        if let Some(a) = &self.after {
            o.insert("after", a.clone());
        }
        Value::Object(o)
    }
}

/// What changed from `a` to `b` (key → value), sorted by key in byte order.
pub fn diff_entries(a: &Object, b: &Object) -> Vec<DiffItem> {
    let mut out = Vec::new();
    for (key, before) in a.iter() {
        match b.get(key) {
            None => out.push(DiffItem { key: key.clone(), change: "removed", before: Some(before.clone()), after: None }),
            Some(after) if !values_equal(before, after) => {
                out.push(DiffItem { key: key.clone(), change: "changed", before: Some(before.clone()), after: Some(after.clone()) })
            }
            Some(_) => {}
        }
    }
    for (key, after) in b.iter() {
        if !a.contains_key(key) {
            out.push(DiffItem { key: key.clone(), change: "added", before: None, after: Some(after.clone()) });
        }
    }
    out.sort_by(|x, y| x.key.cmp(&y.key));
    out
}

/// The list as a JSON array.
pub fn diff_to_json(items: &[DiffItem]) -> Value {
    Value::Array(items.iter().map(DiffItem::to_json).collect())
}

