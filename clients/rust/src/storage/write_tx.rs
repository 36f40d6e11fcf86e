//! The operations allowed inside one write transaction (the core's `WriteTx` port).

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use super::errors::map_sqlite_error;
use super::rows::{list_rows, read_meta, read_row, read_schema, read_schema_revision, read_state, row_to_change, CHANGE_COLUMNS};
use super::types::{StoreState, StoredChange, StoredRow, StoredSchema};
use crate::errors::{PsmcError, Result};

/// Operations allowed inside a write transaction (the core's `WriteTx` port).
pub struct WriteTx<'a> {
    pub(super) conn: &'a Connection,
    pub(super) location: &'a Path,
}

impl WriteTx<'_> {
    fn map(&self, e: rusqlite::Error) -> PsmcError {
        map_sqlite_error(e, self.location)
    }
    pub fn read_state(&self) -> Result<StoreState> {
        read_state(self.conn, self.location)
    }
    pub fn write_state(&self, revision: i64, clock: &str) -> Result<()> {
        let mut st = self.conn.prepare_cached("UPDATE state SET revision = ?1, clock = ?2 WHERE id = 1").map_err(|e| self.map(e))?;
        st.execute(params![revision, clock]).map(|_| ()).map_err(|e| self.map(e))
    }
    pub fn read_row(&self, key: &str) -> Result<Option<StoredRow>> {
        read_row(self.conn, self.location, key)
    }
    pub fn put_row(&self, r: &StoredRow) -> Result<()> {
        let mut st = self
            .conn
            .prepare_cached(
                "INSERT INTO entries (key, value, type, revision, updated_at, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, type = excluded.type, revision = excluded.revision,
                   updated_at = excluded.updated_at, source = excluded.source",
            )
            .map_err(|e| self.map(e))?;
        st.execute(params![r.key, r.value, r.type_name, r.revision, r.updated_at, r.source]).map(|_| ()).map_err(|e| self.map(e))
    }
    pub fn delete_row(&self, key: &str) -> Result<()> {
        let mut st = self.conn.prepare_cached("DELETE FROM entries WHERE key = ?1").map_err(|e| self.map(e))?;
        st.execute([key]).map(|_| ()).map_err(|e| self.map(e))
    }
    pub fn append_change(&self, c: &StoredChange) -> Result<()> {
        let mut st = self
            .conn
            .prepare_cached(
                "INSERT INTO history (revision, seq, key, op, old_value, new_value, source, at, note)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(|e| self.map(e))?;
        st.execute(params![c.revision, c.seq, c.key, c.op, c.old_value, c.new_value, c.source, c.at, c.note])
            .map(|_| ())
            .map_err(|e| self.map(e))
    }
    /// The records of one revision, in seq order.
    pub fn changes_at(&self, revision: i64) -> Result<Vec<StoredChange>> {
        let mut st = self
            .conn
            .prepare_cached(&format!("SELECT {} FROM history WHERE revision = ?1 ORDER BY seq", CHANGE_COLUMNS))
            .map_err(|e| self.map(e))?;
        let rows = st.query_map([revision], row_to_change).map_err(|e| self.map(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.map(e))
    }
    /// The newest revision that has history records, or 0.
    pub fn last_changed_revision(&self) -> Result<i64> {
        let mut st = self.conn.prepare_cached("SELECT COALESCE(MAX(revision), 0) FROM history").map_err(|e| self.map(e))?;
        st.query_row([], |r| r.get(0)).map_err(|e| self.map(e))
    }
    /// The newest revision with a history record for `key` (including `@schema`), or 0.
    pub fn last_revision_of(&self, key: &str) -> Result<i64> {
        let mut st = self.conn.prepare_cached("SELECT COALESCE(MAX(revision), 0) FROM history WHERE key = ?1").map_err(|e| self.map(e))?;
        st.query_row([key], |r| r.get(0)).map_err(|e| self.map(e))
    }
    pub fn read_schema(&self) -> Result<Option<StoredSchema>> {
        read_schema(self.conn, self.location)
    }
    pub fn read_schema_revision(&self) -> Result<i64> {
        read_schema_revision(self.conn, self.location)
    }
    /// Stores the schema document text (None removes it), tagged with its revision.
    pub fn write_schema(&self, doc: Option<&str>, revision: i64) -> Result<()> {
        match doc {
            None => self.conn.execute("DELETE FROM schema_doc WHERE id = 1", []).map(|_| ()).map_err(|e| self.map(e)),
            Some(d) => self
                .conn
                .execute(
                    "INSERT INTO schema_doc (id, doc, revision) VALUES (1, ?1, ?2)
                     ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, revision = excluded.revision",
                    params![d, revision],
                )
                .map(|_| ())
                .map_err(|e| self.map(e)),
        }
    }
    /// Every stored row.
    pub fn all_rows(&self) -> Result<Vec<StoredRow>> {
        list_rows(self.conn, self.location, "")
    }
    /// A bookkeeping value (mirror state, settings): not versioned, not in history.
    pub fn read_meta(&self, name: &str) -> Result<Option<String>> {
        read_meta(self.conn, self.location, name)
    }
    /// Sets (or, with None, removes) a bookkeeping value.
    pub fn write_meta(&self, name: &str, value: Option<&str>) -> Result<()> {
        let r = match value {
            None => self.conn.execute("DELETE FROM meta WHERE name = ?1", [name]),
            Some(v) => self
                .conn
                .execute("INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value", [name, v]),
        };
        r.map(|_| ()).map_err(|e| self.map(e))
    }
    /// The encoded value `key` had just after the commit of `revision` (from history), or None
    /// when it did not exist then: the base of the mirror's 3-way merge.
    pub fn value_at(&self, key: &str, revision: i64) -> Result<Option<String>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT op, new_value FROM history WHERE key = ?1 AND revision <= ?2 AND op IN ('set', 'delete')
                 ORDER BY revision DESC, seq DESC LIMIT 1",
            )
            .map_err(|e| self.map(e))?;
        let r: Option<(String, Option<String>)> =
            st.query_row(params![key, revision], |r| Ok((r.get(0)?, r.get(1)?))).optional().map_err(|e| self.map(e))?;
        Ok(match r {
            Some((op, v)) if op != "delete" => v,
            _ => None,
        })
    }
    /// The distinct keys with set/delete records after `revision`.
    pub fn keys_changed_after(&self, revision: i64) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT DISTINCT key FROM history WHERE revision > ?1 AND op IN ('set', 'delete')")
            .map_err(|e| self.map(e))?;
        let rows = st.query_map([revision], |r| r.get::<_, String>(0)).map_err(|e| self.map(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.map(e))
    }
}
