//! The table layout and its migrations (src/storage/sqlite/migrations.ts): the format and
//! application ids, each step's SQL, the check that refuses foreign or newer files, and the
//! migration itself (one `BEGIN IMMEDIATE` transaction, re-checked inside the lock).

use rusqlite::{params, Transaction, TransactionBehavior};

use super::adapter::Storage;
use crate::clock::{iso_time, system_ms, ZERO_TEXT};
use crate::errors::{ErrorCode, PsmcError, Result};

/// The on-disk format this code reads and writes (`PRAGMA user_version`).
pub const FORMAT_VERSION: i64 = 2;
/// `PRAGMA application_id`: "PSMC" in ASCII.
pub const APPLICATION_ID: i64 = 0x5053_4D43;

/// Each entry migrates from version `index` to `index + 1` (src/storage/sqlite/migrations.ts).
pub const MIGRATIONS: &[&str] = &[
    /* 0 → 1: the first layout */
    "
  CREATE TABLE state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    revision   INTEGER NOT NULL,
    clock      TEXT    NOT NULL,
    store_id   TEXT    NOT NULL,
    created_at TEXT    NOT NULL
  );
  CREATE TABLE entries (
    key        TEXT    PRIMARY KEY NOT NULL,
    value      TEXT    NOT NULL,
    type       TEXT    NOT NULL,
    revision   INTEGER NOT NULL,
    updated_at TEXT    NOT NULL,
    source     TEXT    NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE history (
    revision   INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    key        TEXT    NOT NULL,
    op         TEXT    NOT NULL CHECK (op IN ('set', 'delete', 'schema')),
    old_value  TEXT,
    new_value  TEXT,
    source     TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    note       TEXT,
    PRIMARY KEY (revision, seq)
  ) WITHOUT ROWID;
  CREATE INDEX history_by_key ON history (key, revision);
  CREATE TABLE schema_doc (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    doc      TEXT    NOT NULL,
    revision INTEGER NOT NULL
  );
  ",
    /* 1 → 2: the mirror's bookkeeping (meta) and conflict records in history.
    SQLite cannot change a CHECK constraint in place, so history is rebuilt. */
    "
  CREATE TABLE meta (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE history_v2 (
    revision   INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    key        TEXT    NOT NULL,
    op         TEXT    NOT NULL CHECK (op IN ('set', 'delete', 'schema', 'conflict')),
    old_value  TEXT,
    new_value  TEXT,
    source     TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    note       TEXT,
    PRIMARY KEY (revision, seq)
  ) WITHOUT ROWID;
  INSERT INTO history_v2 (revision, seq, key, op, old_value, new_value, source, at, note)
    SELECT revision, seq, key, op, old_value, new_value, source, at, note FROM history;
  DROP INDEX history_by_key;
  DROP TABLE history;
  ALTER TABLE history_v2 RENAME TO history;
  CREATE INDEX history_by_key ON history (key, revision);
  ",
];

/// A random (version 4) UUID: the store id written by the first migration.
fn random_uuid() -> String {
    let mut b = [0u8; 16];
    let mut filled = false;
    #[cfg(unix)]
    {
        use std::io::Read;
        if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
            filled = f.read_exact(&mut b).is_ok();
        }
    }
    if !filled {
        // No /dev/urandom (Windows): std's randomly seeded hasher, mixed with time and pid.
        use std::collections::hash_map::RandomState;
        use std::hash::{BuildHasher, Hasher};
        for (i, chunk) in b.chunks_mut(8).enumerate() {
            let mut h = RandomState::new().build_hasher();
            h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
            h.write_u32(std::process::id());
            h.write_usize(i);
            chunk.copy_from_slice(&h.finish().to_le_bytes()[..chunk.len()]);
        }
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{:02x}", x)).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

impl Storage {
    /// Refuses SQLite files that belong to something else, or to a newer psmc.
    pub(super) fn check_foreign(&self) -> Result<()> {
        // One read transaction: all three facts from one snapshot. Read one by one, a process
        // creating the store at the same moment could commit between them, and its fresh tables
        // would look like a foreign database's (ids 0, tables > 0).
        let own_tx = self.conn.is_autocommit();
        if own_tx {
            self.conn.execute_batch("BEGIN DEFERRED").map_err(|e| self.map(e))?;
        }
        let facts = (|| -> Result<(i64, i64, i64)> {
            let app_id = self.pragma_int("application_id")?;
            let version = self.pragma_int("user_version")?;
            let tables: i64 = self
                .conn
                .query_row("SELECT count(*) FROM sqlite_schema WHERE type = 'table'", [], |r| r.get(0))
                .map_err(|e| self.map(e))?;
            Ok((app_id, version, tables))
        })();
        if own_tx {
            let end = self.conn.execute_batch("COMMIT").map_err(|e| self.map(e));
            if facts.is_ok() {
                end?;
            }
        }
        let (app_id, version, tables) = facts?;
        if app_id == 0 && version == 0 {
            if tables > 0 {
                return Err(PsmcError::new(
                    ErrorCode::Corrupt,
                    format!("{} is a SQLite database, but not a psmc store (it has other tables).", self.location.display()),
                    "Point psmc at a store directory of its own; psmc never writes into foreign databases.",
                ));
            }
            return Ok(());
        }
        if app_id != APPLICATION_ID {
            return Err(PsmcError::new(
                ErrorCode::Corrupt,
                format!("{} is a SQLite database of another application (application_id {}).", self.location.display(), app_id),
                "Point psmc at a store directory of its own; psmc never writes into foreign databases.",
            ));
        }
        if version > FORMAT_VERSION {
            return Err(PsmcError::new(
                ErrorCode::FormatTooNew,
                format!(
                    "{} has store format {}; this psmc reads format {} and older.",
                    self.location.display(),
                    version,
                    FORMAT_VERSION
                ),
                "Upgrade psmc (and every client that writes this store) to a version that supports it.",
            ));
        }
        Ok(())
    }

    pub(super) fn migrate(&self) -> Result<()> {
        let current = self.pragma_int("user_version")?;
        if current == FORMAT_VERSION {
            return Ok(());
        }
        if self.read_only {
            return Err(PsmcError::new(
                ErrorCode::ReadOnly,
                format!(
                    "{} needs a format upgrade ({} → {}) but was opened read-only.",
                    self.location.display(),
                    current,
                    FORMAT_VERSION
                ),
                "Open it once for writing (any psmc write) to upgrade it.",
            ));
        }
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate).map_err(|e| self.map(e))?;
        // Re-read inside the lock: another process may have migrated meanwhile.
        let mut v = self.pragma_int("user_version")?;
        if v > FORMAT_VERSION {
            self.check_foreign()?;
        }
        while v < FORMAT_VERSION {
            let step = MIGRATIONS.get(v as usize).ok_or_else(|| PsmcError::internal(format!("no migration from format {}", v)))?;
            tx.execute_batch(step).map_err(|e| self.map(e))?;
            if v == 0 {
                tx.execute(
                    "INSERT INTO state (id, revision, clock, store_id, created_at) VALUES (1, 0, ?1, ?2, ?3)",
                    params![ZERO_TEXT, random_uuid(), iso_time(system_ms())],
                )
                .map_err(|e| self.map(e))?;
                tx.execute_batch(&format!("PRAGMA application_id = {}", APPLICATION_ID)).map_err(|e| self.map(e))?;
            }
            tx.execute_batch(&format!("PRAGMA user_version = {}", v + 1)).map_err(|e| self.map(e))?;
            v += 1;
        }
        tx.commit().map_err(|e| self.map(e))
    }
}
