//! The SQL of reads shared by the store handle and a write transaction: row mapping, columns,
//! the prefix range, and the state, row, schema and meta reads.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use super::errors::map_sqlite_error;
use super::types::{StoreState, StoredChange, StoredRow, StoredSchema};
use crate::errors::{ErrorCode, PsmcError, Result};

pub(super) fn row_to_stored(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRow> {
    Ok(StoredRow { key: r.get(0)?, value: r.get(1)?, type_name: r.get(2)?, revision: r.get(3)?, updated_at: r.get(4)?, source: r.get(5)? })
}

pub(super) fn row_to_change(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredChange> {
    Ok(StoredChange {
        revision: r.get(0)?,
        seq: r.get(1)?,
        key: r.get(2)?,
        op: r.get(3)?,
        old_value: r.get(4)?,
        new_value: r.get(5)?,
        source: r.get(6)?,
        at: r.get(7)?,
        note: r.get(8)?,
    })
}

pub(super) const ROW_COLUMNS: &str = "key, value, type, revision, updated_at, source";
pub(super) const CHANGE_COLUMNS: &str = "revision, seq, key, op, old_value, new_value, source, at, note";
/// `key = p OR key LIKE 'p.%'` without LIKE's wildcards: the range ['p.', 'p/').
pub(super) const PREFIX_WHERE: &str = "(key = ?1 OR (key >= ?1 || '.' AND key < ?1 || '/'))";

pub(super) fn read_state(conn: &Connection, loc: &Path) -> Result<StoreState> {
    let mut st = conn.prepare_cached("SELECT revision, clock, store_id FROM state WHERE id = 1").map_err(|e| map_sqlite_error(e, loc))?;
    let s = st
        .query_row([], |r| Ok(StoreState { revision: r.get(0)?, clock: r.get(1)?, store_id: r.get(2)? }))
        .optional()
        .map_err(|e| map_sqlite_error(e, loc))?;
    s.ok_or_else(|| {
        PsmcError::new(ErrorCode::Corrupt, format!("{} has no state row.", loc.display()), "The store was damaged; restore it from a snapshot.")
    })
}

pub(super) fn read_row(conn: &Connection, loc: &Path, key: &str) -> Result<Option<StoredRow>> {
    let mut st = conn
        .prepare_cached(&format!("SELECT {} FROM entries WHERE key = ?1", ROW_COLUMNS))
        .map_err(|e| map_sqlite_error(e, loc))?;
    st.query_row([key], row_to_stored).optional().map_err(|e| map_sqlite_error(e, loc))
}

pub(super) fn list_rows(conn: &Connection, loc: &Path, prefix: &str) -> Result<Vec<StoredRow>> {
    let map = |e| map_sqlite_error(e, loc);
    if prefix.is_empty() {
        let mut st = conn.prepare_cached(&format!("SELECT {} FROM entries ORDER BY key", ROW_COLUMNS)).map_err(map)?;
        let rows = st.query_map([], row_to_stored).map_err(map)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map)
    } else {
        let mut st = conn
            .prepare_cached(&format!("SELECT {} FROM entries WHERE {} ORDER BY key", ROW_COLUMNS, PREFIX_WHERE))
            .map_err(map)?;
        let rows = st.query_map([prefix], row_to_stored).map_err(map)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map)
    }
}

pub(super) fn read_schema(conn: &Connection, loc: &Path) -> Result<Option<StoredSchema>> {
    let mut st = conn.prepare_cached("SELECT doc, revision FROM schema_doc WHERE id = 1").map_err(|e| map_sqlite_error(e, loc))?;
    st.query_row([], |r| Ok(StoredSchema { doc: r.get(0)?, revision: r.get(1)? })).optional().map_err(|e| map_sqlite_error(e, loc))
}

pub(super) fn read_meta(conn: &Connection, loc: &Path, name: &str) -> Result<Option<String>> {
    let mut st = conn.prepare_cached("SELECT value FROM meta WHERE name = ?1").map_err(|e| map_sqlite_error(e, loc))?;
    st.query_row([name], |r| r.get(0)).optional().map_err(|e| map_sqlite_error(e, loc))
}

pub(super) fn read_schema_revision(conn: &Connection, loc: &Path) -> Result<i64> {
    let mut st = conn
        .prepare_cached("SELECT COALESCE((SELECT revision FROM schema_doc WHERE id = 1), 0)")
        .map_err(|e| map_sqlite_error(e, loc))?;
    st.query_row([], |r| r.get(0)).map_err(|e| map_sqlite_error(e, loc))
}
