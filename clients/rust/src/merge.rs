//! The mirror's 3-way merge (spec/sections/mirror-sync.md §mirror.merge; TypeScript:
//! src/core/merge.ts; Python: clients/python/src/psmc/merge.py). Pure: no I/O.
//!
//! base = the values of the last export (or import) of the file, theirs = the file as saved
//! now, ours = the database now. Per key:
//! - file unchanged (theirs = base): keep ours;
//! - changed only in the file (ours = base): apply theirs;
//! - changed on both sides to the same value: nothing to do;
//! - changed on both sides differently: a conflict, resolved by time — the side changed later
//!   wins (the file's time is its modification time, the database's the HLC wall time of the
//!   key's last change; a tie goes to the file, the human edit). The losing value is recorded as
//!   a `conflict` history record by the caller, so it is never lost.
//!
//! Values are encoded texts (§value.encoding), or `None` for an absent key, and compare as JSON
//! values (§value.equality: member order does not matter, `1` equals `1.0`).

use std::collections::{BTreeSet, HashMap};

use crate::json;
use crate::value::values_equal;

/// The database's side of one key.
#[derive(Clone, Debug, PartialEq)]
pub struct OursEntry {
    /// The encoded value, or `None` when the key is absent (deleted) in the database.
    pub text: Option<String>,
    /// Wall ms of the key's last change (its deletion, when absent); 0 when never set.
    pub time_ms: i64,
    /// The source of that change.
    pub source: String,
}

/// Which side won a conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Winner {
    File,
    Store,
}

impl Winner {
    /// `file` or `store`, the names of the vectors and of the TypeScript reference.
    pub fn as_str(self) -> &'static str {
        match self {
            Winner::File => "file",
            Winner::Store => "store",
        }
    }
}

/// One key changed on both sides differently.
#[derive(Clone, Debug, PartialEq)]
pub struct MergeConflict {
    pub key: String,
    pub winner: Winner,
    /// The losing value (encoded; `None` for a losing delete).
    pub lost: Option<String>,
    /// The winning value (encoded; `None` for a winning delete).
    pub won: Option<String>,
    /// The source of the losing side (`file` when the file lost).
    pub loser_source: String,
}

/// What a merge decided.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MergeResult {
    /// Changes to apply from the file, in key order: `(key, encoded value or None to delete)`.
    pub apply: Vec<(String, Option<String>)>,
    pub conflicts: Vec<MergeConflict>,
}

fn same(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) if x == y => true,
        (Some(x), Some(y)) => match (json::parse(x), json::parse(y)) {
            (Ok(p), Ok(q)) => values_equal(&p, &q),
            _ => false,
        },
        _ => false,
    }
}

/// Merges a hand edit of the mirror file into the database, per key.
///
/// `keys`: every key that may differ (the file's keys and the keys the database changed since
/// base; duplicates are fine); `theirs`: the file, key → encoded value; `base(key)`: the encoded
/// value at the base revision, or `None` when absent then; `ours(key)`: the database's side;
/// `file_time_ms`: the file's modification time, wall ms.
///
/// ```
/// use std::collections::HashMap;
/// use psmc::merge::{merge_mirror, OursEntry};
/// let theirs = HashMap::from([("a".to_string(), "5".to_string())]);
/// let r = merge_mirror(
///     ["a".to_string()],
///     &theirs,
///     |_| Some("1".to_string()),
///     |_| OursEntry { text: Some("1".into()), time_ms: 1000, source: "cli".into() },
///     5000,
/// );
/// assert_eq!(r.apply, vec![("a".to_string(), Some("5".to_string()))]);
/// ```
pub fn merge_mirror<I, B, O>(keys: I, theirs: &HashMap<String, String>, mut base: B, mut ours: O, file_time_ms: i64) -> MergeResult
where
    I: IntoIterator<Item = String>,
    B: FnMut(&str) -> Option<String>,
    O: FnMut(&str) -> OursEntry,
{
    // Keys are ASCII (§key.syntax), so byte order is the UTF-16 order of the reference.
    let keys: BTreeSet<String> = keys.into_iter().collect();
    let mut out = MergeResult::default();
    for key in keys {
        let t = theirs.get(&key).cloned();
        let b = base(&key);
        if same(t.as_deref(), b.as_deref()) {
            continue;
        }
        let o = ours(&key);
        if same(o.text.as_deref(), b.as_deref()) {
            out.apply.push((key, t));
            continue;
        }
        if same(t.as_deref(), o.text.as_deref()) {
            continue;
        }
        if file_time_ms >= o.time_ms {
            out.apply.push((key.clone(), t.clone()));
            out.conflicts.push(MergeConflict { key, winner: Winner::File, lost: o.text, won: t, loser_source: o.source });
        } else {
            out.conflicts.push(MergeConflict { key, winner: Winner::Store, lost: t, won: o.text, loser_source: "file".into() });
        }
    }
    out
}
