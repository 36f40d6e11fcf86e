//! The store database handle (src/storage/sqlite/adapter.ts): opening (0600, refusing short
//! files), WAL, busy timeout and `synchronous`, consistent reads, and `BEGIN IMMEDIATE` writes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use super::errors::map_sqlite_error;
use super::rows::{list_rows, read_meta, read_row, read_schema, read_schema_revision, read_state, row_to_change, CHANGE_COLUMNS, PREFIX_WHERE};
use super::types::{Durability, HistoryQuery, StorageOptions, StoreState, StoredChange, StoredRow, StoredSchema};
use super::write_tx::WriteTx;
use crate::errors::{ErrorCode, PsmcError, Result};

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

/// The write counter shared by every connection of this process to `file` (by its canonical
/// path). Entries go when their last connection closes.
fn local_write_counter(file: &Path) -> Arc<AtomicU64> {
    static COUNTERS: OnceLock<Mutex<HashMap<PathBuf, Weak<AtomicU64>>>> = OnceLock::new();
    let key = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let mut m = COUNTERS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    m.retain(|_, w| w.strong_count() > 0);
    if let Some(c) = m.get(&key).and_then(Weak::upgrade) {
        return c;
    }
    let c = Arc::new(AtomicU64::new(0));
    m.insert(key, Arc::downgrade(&c));
    c
}

/// One open store database.
pub struct Storage {
    pub(super) conn: Connection,
    pub(super) location: PathBuf,
    pub(super) read_only: bool,
    /// Bumped before and after every write transaction through any connection of this process
    /// to this file, committed or not (shared by every `Storage` of the file, see
    /// [`local_write_counter`]): a read cache that remembers it knows when a write of this
    /// process may have changed rows. `PRAGMA data_version` only moves for other connections'
    /// commits, and only once asked, so it cannot give "read your own writes, exactly".
    pub(super) local_writes: Arc<AtomicU64>,
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
        let local_writes = local_write_counter(file);
        let s = Storage { conn, location, read_only: options.read_only, local_writes };
        s.init(options)?;
        Ok(s)
    }

    pub(super) fn map(&self, e: rusqlite::Error) -> PsmcError {
        map_sqlite_error(e, &self.location)
    }

    /// Switches the file to WAL and returns the journal mode it then has. Switching needs the file
    /// to itself, and SQLite answers "database is locked" at once, without waiting on the busy
    /// handler, when another process is opening the same new store: so retry until the busy
    /// timeout, as every other statement waits.
    fn enable_wal(&self, busy_timeout_ms: u64) -> Result<String> {
        let deadline = std::time::Instant::now() + Duration::from_millis(busy_timeout_ms);
        let mut pause = Duration::from_millis(1);
        loop {
            match self.conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
                Ok(mode) => return Ok(mode),
                Err(rusqlite::Error::SqliteFailure(f, _))
                    if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(e) => return Err(self.map(e)),
            }
        }
    }

    fn init(&self, options: &StorageOptions) -> Result<()> {
        self.conn.busy_timeout(Duration::from_millis(options.busy_timeout_ms)).map_err(|e| self.map(e))?;
        self.conn.set_prepared_statement_cache_capacity(32);
        self.check_foreign()?;
        if !self.read_only {
            let mode = self.enable_wal(options.busy_timeout_ms)?;
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

    pub(super) fn pragma_int(&self, name: &str) -> Result<i64> {
        self.conn.query_row(&format!("PRAGMA {}", name), [], |r| r.get(0)).map_err(|e| self.map(e))
    }

    pub fn location(&self) -> &Path {
        &self.location
    }

    /// The write counter of this process for this file (see the field): equal values mean no
    /// write transaction of this process ran on the file in between.
    pub fn local_writes(&self) -> u64 {
        self.local_writes.load(Ordering::Acquire)
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
        // Bumped on both sides, so a read cached while the transaction is open (it would see
        // uncommitted rows) is dropped too, whether the transaction commits or rolls back.
        self.local_writes.fetch_add(1, Ordering::AcqRel);
        let out = (|| {
            let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate).map_err(|e| self.map(e))?;
            let out = f(&WriteTx { conn: &tx, location: &self.location })?;
            tx.commit().map_err(|e| self.map(e))?;
            Ok(out)
        })();
        self.local_writes.fetch_add(1, Ordering::AcqRel);
        out
    }

    /// `PRAGMA integrity_check`: the problems found (empty when healthy).
    pub fn check_integrity(&self) -> Result<Vec<String>> {
        let mut st = self.conn.prepare("PRAGMA integrity_check").map_err(|e| self.map(e))?;
        let rows = st.query_map([], |r| r.get::<_, String>(0)).map_err(|e| self.map(e))?;
        let all = rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.map(e))?;
        Ok(all.into_iter().filter(|m| m != "ok").collect())
    }
}
