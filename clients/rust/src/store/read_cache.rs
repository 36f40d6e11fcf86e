//! The read cache of one store database (spec/SPEC.md §read.freshness), as
//! src/store/shared.ts keeps for the TypeScript store: a warm `get` is a map lookup.
//!
//! - A write through any handle of this process drops the cache (the process's write counter
//!   for the file, [`Storage::local_writes`], moved), so reads in this process see its writes
//!   exactly. That covers every write path — set, batch, undo, import, restore, schema changes,
//!   mirror imports — because each runs in [`Storage::write`].
//! - Commits by other processes (or connections this library did not open) are noticed
//!   within the freshness bound: a read compares the monotonic clock with the last check and,
//!   when the bound has passed (always, with 0), asks SQLite for `PRAGMA data_version` (no disk
//!   I/O); when that moved, the cache is dropped and rows are read again on demand.
//!
//! The TypeScript store evicts only the keys changed since its last look; this one drops the
//! whole cache, which refills lazily (one `SELECT` per key read), so the semantics are the same.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::errors::Result;
use crate::json::Value;
use crate::storage::Storage;
use crate::value::decode_stored;

/// One row as a read needs it, its value decoded once.
#[derive(Debug)]
pub(super) struct CachedRow {
    pub value: Value,
    pub revision: i64,
    pub updated_at: String,
    pub source: String,
}

#[derive(Default)]
struct Inner {
    /// Key → its row, or None when known absent.
    rows: HashMap<String, Option<Arc<CachedRow>>>,
    data_version: Option<i64>,
    local_writes: u64,
    checked: Option<Instant>,
}

/// The cached rows of one slot's database, per handle (each handle has its own connection);
/// `Send`, not `Sync`, like the handle.
#[derive(Default)]
pub(super) struct RowCache {
    inner: RefCell<Inner>,
}

impl RowCache {
    /// The row of a (valid) `key`, from the cache when it is fresh enough; `now` is the
    /// monotonic time of this read, taken by the caller before it (one clock read per `get`).
    pub fn read(&self, storage: &Storage, key: &str, freshness: Duration, now: Instant) -> Result<Option<Arc<CachedRow>>> {
        let mut c = self.inner.borrow_mut();
        let writes = storage.local_writes();
        if writes != c.local_writes {
            c.rows.clear();
            c.local_writes = writes;
        }
        let due = freshness.is_zero() || c.checked.is_none_or(|t| now.saturating_duration_since(t) >= freshness);
        if due {
            let dv = storage.data_version()?;
            c.checked = Some(now);
            if c.data_version != Some(dv) {
                c.rows.clear();
                c.data_version = Some(dv);
            }
        }
        if let Some(hit) = c.rows.get(key) {
            return Ok(hit.clone());
        }
        let row = match storage.read_row(key)? {
            None => None,
            Some(r) => Some(Arc::new(CachedRow { value: decode_stored(&r.value)?, revision: r.revision, updated_at: r.updated_at, source: r.source })),
        };
        c.rows.insert(key.to_owned(), row.clone());
        Ok(row)
    }

    /// Forgets every row (the connection is closed or replaced).
    pub fn clear(&self) {
        *self.inner.borrow_mut() = Inner::default();
    }
}
