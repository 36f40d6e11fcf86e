//! The SQLite adapter (spec/SPEC.md §storage.sqlite, §storage.format, §storage.transactions,
//! §durability). Mirrors src/storage/sqlite/{adapter,migrations,errors}.ts.
//!
//! - WAL journal, a busy timeout, and `BEGIN IMMEDIATE` for every transaction that may write.
//! - `synchronous = FULL` by default; `Durability::Normal` gives `NORMAL`.
//! - The database file is created 0600 before SQLite opens it; SQLite gives `-wal`/`-shm` the
//!   same mode. A 1–511-byte file is refused as `PSMC_CORRUPT` (SQLite would write over it).
//! - Nothing here opens, copies or hashes the database file other than through SQLite.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior};

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

/// How hard a commit tries to survive power loss (§durability).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous = FULL`: an acknowledged write survives power loss.
    #[default]
    Full,
    /// `synchronous = NORMAL`: faster; the last commits may be lost, never corrupted.
    Normal,
}

#[derive(Clone, Debug)]
pub struct StorageOptions {
    pub durability: Durability,
    pub busy_timeout_ms: u64,
    /// Do not create the file; refuse writes.
    pub read_only: bool,
}

impl Default for StorageOptions {
    fn default() -> Self {
        StorageOptions { durability: Durability::Full, busy_timeout_ms: 10_000, read_only: false }
    }
}

/// A stored key: its encoded value and metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRow {
    pub key: String,
    /// Encoded JSON text (§value.encoding).
    pub value: String,
    pub type_name: String,
    pub revision: i64,
    pub updated_at: String,
    pub source: String,
}

/// One history row.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredChange {
    pub revision: i64,
    pub seq: i64,
    pub key: String,
    pub op: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub source: String,
    pub at: String,
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StoredSchema {
    pub doc: String,
    pub revision: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StoreState {
    pub revision: i64,
    /// HLC text of the last commit.
    pub clock: String,
    pub store_id: String,
}

#[derive(Clone, Debug, Default)]
pub struct HistoryQuery {
    /// Only this key (or keys under it with `prefix`).
    pub key: Option<String>,
    pub prefix: bool,
    /// Only revisions strictly greater than this.
    pub after_revision: Option<i64>,
    /// Only revisions up to and including this.
    pub upto_revision: Option<i64>,
    /// At most this many, newest first.
    pub limit: Option<i64>,
    /// Oldest first.
    pub ascending: bool,
}

/// Maps a SQLite failure to a `PsmcError` (src/storage/sqlite/errors.ts).
pub fn map_sqlite_error(e: rusqlite::Error, location: &Path) -> PsmcError {
    use rusqlite::ErrorCode as C;
    let loc = location.display();
    let msg = e.to_string();
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        match f.code {
            C::DatabaseBusy | C::DatabaseLocked => {
                return PsmcError::new(
                    ErrorCode::Busy,
                    format!("The store at {} stayed locked by another writer past the busy timeout ({}).", loc, msg),
                    "Another process holds a long write transaction. Retry, raise busyTimeoutMs, or find the stuck process (psmc doctor).",
                )
            }
            C::DatabaseCorrupt | C::NotADatabase => {
                return PsmcError::new(
                    ErrorCode::Corrupt,
                    format!("The database {} is damaged or is not a SQLite database ({}).", loc, msg),
                    "Move the file aside and restore from a snapshot (psmc doctor --repair, once available), or open another store.",
                )
            }
            C::ReadOnly => {
                return PsmcError::new(
                    ErrorCode::ReadOnly,
                    format!("The database {} cannot be written ({}).", loc, msg),
                    "Check the permissions of the store directory and its files (they should belong to you, mode 0700/0600).",
                )
            }
            C::CannotOpen | C::SystemIoFailure | C::DiskFull | C::PermissionDenied => {
                let hint = if f.code == C::DiskFull {
                    "The disk is full; free space and retry."
                } else {
                    "Check that the directory exists, is writable, and the disk is healthy."
                };
                return PsmcError::new(ErrorCode::Io, format!("Cannot use the database {}: {}.", loc, msg), hint);
            }
            _ => {}
        }
    }
    PsmcError::internal(format!("SQLite failed on {}: {}", loc, msg))
}

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

/// Creates `file` with mode 0600 unless it exists (never truncates a racing creator's file).
fn precreate(file: &Path) -> std::io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(file).map(|_| ())
}

fn row_to_stored(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRow> {
    Ok(StoredRow { key: r.get(0)?, value: r.get(1)?, type_name: r.get(2)?, revision: r.get(3)?, updated_at: r.get(4)?, source: r.get(5)? })
}

fn row_to_change(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredChange> {
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

const ROW_COLUMNS: &str = "key, value, type, revision, updated_at, source";
const CHANGE_COLUMNS: &str = "revision, seq, key, op, old_value, new_value, source, at, note";
/// `key = p OR key LIKE 'p.%'` without LIKE's wildcards: the range ['p.', 'p/').
const PREFIX_WHERE: &str = "(key = ?1 OR (key >= ?1 || '.' AND key < ?1 || '/'))";

/// One open store database.
pub struct Storage {
    conn: Connection,
    location: PathBuf,
    read_only: bool,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage").field("location", &self.location).finish()
    }
}

impl Storage {
    /// Opens (creating when allowed) the database at `file` and brings it to FORMAT_VERSION.
    pub fn open(file: &Path, options: &StorageOptions) -> Result<Storage> {
        let location = file.to_path_buf();
        if !options.read_only && !file.exists() {
            precreate(file).map_err(|e| crate::paths::io_error(&e, file))?;
        }
        let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        if size > 0 && size < 512 {
            return Err(PsmcError::new(
                ErrorCode::Corrupt,
                format!("{} is {} bytes long, too short to be a SQLite database.", file.display(), size),
                "The file is damaged or is not a psmc database. Move it aside and restore from a snapshot or an export.",
            ));
        }
        let flags = if options.read_only { OpenFlags::SQLITE_OPEN_READ_ONLY } else { OpenFlags::SQLITE_OPEN_READ_WRITE }
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = match Connection::open_with_flags(file, flags) {
            Ok(c) => c,
            Err(e) => {
                if !file.exists() {
                    return Err(PsmcError::new(
                        ErrorCode::StoreNotFound,
                        format!("There is no store database at {}.", file.display()),
                        "Create it by writing a value (psmc set …), or check --store / PSMC_HOME.",
                    ));
                }
                return Err(map_sqlite_error(e, file));
            }
        };
        let s = Storage { conn, location, read_only: options.read_only };
        s.init(options)?;
        Ok(s)
    }

    fn map(&self, e: rusqlite::Error) -> PsmcError {
        map_sqlite_error(e, &self.location)
    }

    fn init(&self, options: &StorageOptions) -> Result<()> {
        self.conn.busy_timeout(Duration::from_millis(options.busy_timeout_ms)).map_err(|e| self.map(e))?;
        self.conn.set_prepared_statement_cache_capacity(32);
        self.check_foreign()?;
        if !self.read_only {
            let mode: String = self.conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(|e| self.map(e))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(PsmcError::new(
                    ErrorCode::Io,
                    format!("Cannot switch {} to WAL mode (got {}).", self.location.display(), mode),
                    "Keep the store on a local file system; WAL does not work on some network file systems.",
                ));
            }
        }
        let sync = if options.durability == Durability::Normal { "NORMAL" } else { "FULL" };
        self.conn
            .execute_batch(&format!("PRAGMA synchronous = {}; PRAGMA cache_size = -32768;", sync))
            .map_err(|e| self.map(e))?;
        self.migrate()
    }

    fn pragma_int(&self, name: &str) -> Result<i64> {
        self.conn.query_row(&format!("PRAGMA {}", name), [], |r| r.get(0)).map_err(|e| self.map(e))
    }

    /// Refuses SQLite files that belong to something else, or to a newer psmc.
    fn check_foreign(&self) -> Result<()> {
        let app_id = self.pragma_int("application_id")?;
        let version = self.pragma_int("user_version")?;
        if app_id == 0 && version == 0 {
            let tables: i64 = self
                .conn
                .query_row("SELECT count(*) FROM sqlite_schema WHERE type = 'table'", [], |r| r.get(0))
                .map_err(|e| self.map(e))?;
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

    fn migrate(&self) -> Result<()> {
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

    pub fn location(&self) -> &Path {
        &self.location
    }

    /// Changes whenever another connection commits.
    pub fn data_version(&self) -> Result<i64> {
        self.pragma_int("data_version")
    }

    pub fn read_state(&self) -> Result<StoreState> {
        read_state(&self.conn, &self.location)
    }

    pub fn read_row(&self, key: &str) -> Result<Option<StoredRow>> {
        read_row(&self.conn, &self.location, key)
    }

    /// Rows equal to `prefix` or under it, by key. Empty prefix: all.
    pub fn list_rows(&self, prefix: &str) -> Result<Vec<StoredRow>> {
        list_rows(&self.conn, &self.location, prefix)
    }

    pub fn history(&self, q: &HistoryQuery) -> Result<Vec<StoredChange>> {
        let mut wh: Vec<String> = Vec::new();
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(k) = &q.key {
            args.push(k.clone().into());
            wh.push(if q.prefix { PREFIX_WHERE.to_string() } else { "key = ?1".to_string() });
        }
        if let Some(a) = q.after_revision {
            args.push(a.into());
            wh.push(format!("revision > ?{}", args.len()));
        }
        if let Some(u) = q.upto_revision {
            args.push(u.into());
            wh.push(format!("revision <= ?{}", args.len()));
        }
        let order = if q.ascending { "revision ASC, seq ASC" } else { "revision DESC, seq DESC" };
        let limit = q.limit.map(|l| format!(" LIMIT {}", l.max(0))).unwrap_or_default();
        let sql = format!(
            "SELECT {} FROM history{} ORDER BY {}{}",
            CHANGE_COLUMNS,
            if wh.is_empty() { String::new() } else { format!(" WHERE {}", wh.join(" AND ")) },
            order,
            limit
        );
        let mut st = self.conn.prepare(&sql).map_err(|e| self.map(e))?;
        let rows = st.query_map(rusqlite::params_from_iter(args), row_to_change).map_err(|e| self.map(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.map(e))
    }

    pub fn read_schema(&self) -> Result<Option<StoredSchema>> {
        read_schema(&self.conn, &self.location)
    }

    /// The revision that set the stored schema, or 0.
    pub fn read_schema_revision(&self) -> Result<i64> {
        read_schema_revision(&self.conn, &self.location)
    }

    /// A bookkeeping value of the `meta` table (format 2), or None.
    pub fn read_meta(&self, name: &str) -> Result<Option<String>> {
        read_meta(&self.conn, &self.location, name)
    }

    /// The state, every row and the schema, in one consistent read transaction.
    pub fn read_all(&self) -> Result<(StoreState, Vec<StoredRow>, Option<StoredSchema>)> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Deferred).map_err(|e| self.map(e))?;
        let state = read_state(&tx, &self.location)?;
        let rows = list_rows(&tx, &self.location, "")?;
        let schema = read_schema(&tx, &self.location)?;
        tx.finish().map_err(|e| self.map(e))?;
        Ok((state, rows, schema))
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction: all of its effects commit, or none.
    /// (`Transaction::new_unchecked(…, Immediate)` is rusqlite's
    /// `transaction_with_behavior(Immediate)` on a shared `&Connection`; dropping it on an
    /// error rolls back.)
    pub fn write<T>(&self, f: impl FnOnce(&WriteTx<'_>) -> Result<T>) -> Result<T> {
        if self.read_only {
            return Err(PsmcError::new(
                ErrorCode::ReadOnly,
                format!("The store at {} was opened read-only.", self.location.display()),
                "Open it without readOnly to write.",
            ));
        }
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate).map_err(|e| self.map(e))?;
        let out = f(&WriteTx { conn: &tx, location: &self.location })?;
        tx.commit().map_err(|e| self.map(e))?;
        Ok(out)
    }

    /// `PRAGMA integrity_check`: the problems found (empty when healthy).
    pub fn check_integrity(&self) -> Result<Vec<String>> {
        let mut st = self.conn.prepare("PRAGMA integrity_check").map_err(|e| self.map(e))?;
        let rows = st.query_map([], |r| r.get::<_, String>(0)).map_err(|e| self.map(e))?;
        let all = rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.map(e))?;
        Ok(all.into_iter().filter(|m| m != "ok").collect())
    }
}

fn read_state(conn: &Connection, loc: &Path) -> Result<StoreState> {
    let mut st = conn.prepare_cached("SELECT revision, clock, store_id FROM state WHERE id = 1").map_err(|e| map_sqlite_error(e, loc))?;
    let s = st
        .query_row([], |r| Ok(StoreState { revision: r.get(0)?, clock: r.get(1)?, store_id: r.get(2)? }))
        .optional()
        .map_err(|e| map_sqlite_error(e, loc))?;
    s.ok_or_else(|| {
        PsmcError::new(ErrorCode::Corrupt, format!("{} has no state row.", loc.display()), "The store was damaged; restore it from a snapshot.")
    })
}

fn read_row(conn: &Connection, loc: &Path, key: &str) -> Result<Option<StoredRow>> {
    let mut st = conn
        .prepare_cached(&format!("SELECT {} FROM entries WHERE key = ?1", ROW_COLUMNS))
        .map_err(|e| map_sqlite_error(e, loc))?;
    st.query_row([key], row_to_stored).optional().map_err(|e| map_sqlite_error(e, loc))
}

fn list_rows(conn: &Connection, loc: &Path, prefix: &str) -> Result<Vec<StoredRow>> {
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

fn read_schema(conn: &Connection, loc: &Path) -> Result<Option<StoredSchema>> {
    let mut st = conn.prepare_cached("SELECT doc, revision FROM schema_doc WHERE id = 1").map_err(|e| map_sqlite_error(e, loc))?;
    st.query_row([], |r| Ok(StoredSchema { doc: r.get(0)?, revision: r.get(1)? })).optional().map_err(|e| map_sqlite_error(e, loc))
}

fn read_meta(conn: &Connection, loc: &Path, name: &str) -> Result<Option<String>> {
    let mut st = conn.prepare_cached("SELECT value FROM meta WHERE name = ?1").map_err(|e| map_sqlite_error(e, loc))?;
    st.query_row([name], |r| r.get(0)).optional().map_err(|e| map_sqlite_error(e, loc))
}

fn read_schema_revision(conn: &Connection, loc: &Path) -> Result<i64> {
    let mut st = conn
        .prepare_cached("SELECT COALESCE((SELECT revision FROM schema_doc WHERE id = 1), 0)")
        .map_err(|e| map_sqlite_error(e, loc))?;
    st.query_row([], |r| r.get(0)).map_err(|e| map_sqlite_error(e, loc))
}

/// Operations allowed inside a write transaction (the core's `WriteTx` port).
pub struct WriteTx<'a> {
    conn: &'a Connection,
    location: &'a Path,
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
