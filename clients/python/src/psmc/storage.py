"""The SQLite adapter of the storage port (spec/SPEC.md §storage.*; TypeScript:
src/storage/sqlite/adapter.ts and errors.ts).

- ``isolation_level=None`` (no implicit transactions) and an explicit
  ``BEGIN IMMEDIATE`` for every transaction that may write: a deferred
  transaction that reads and then writes fails with SQLITE_BUSY under load
  instead of waiting for the lock.
- WAL journal, ``PRAGMA busy_timeout``, ``synchronous = FULL`` by default
  (``NORMAL`` with durability ``normal``).
- The database file is created 0600 before SQLite opens it; a file of 1–511
  bytes is refused as PSMC_CORRUPT (SQLite would read it as empty and write over it).
- application_id / user_version are checked on open; format 2 is created (or
  migrated, format 1 → 2 rebuilding history) inside one BEGIN IMMEDIATE transaction.
"""
import os
import sqlite3
from _thread import RLock as _RLock

from .errors import PsmcError
from .migrations import APPLICATION_ID, FORMAT_VERSION, MIGRATIONS, statements
from .port import StoredChange, StoredRow, StoredSchema, StoreState

_ROW_SQL = "SELECT key, value, type, revision, updated_at, source FROM entries WHERE key = ?"
_LIST_ALL_SQL = "SELECT key, value, type, revision, updated_at, source FROM entries ORDER BY key"
# key = p OR key in ['p.', 'p/'): '/' follows '.' in ASCII, so no LIKE wildcards are involved.
_PREFIX_WHERE = "(key = :p OR (key >= :p || '.' AND key < :p || '/'))"
_LIST_PREFIX_SQL = (
    "SELECT key, value, type, revision, updated_at, source FROM entries WHERE %s ORDER BY key" % _PREFIX_WHERE
)
_PUT_ROW_SQL = (
    "INSERT INTO entries (key, value, type, revision, updated_at, source) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, type = excluded.type, revision = excluded.revision, "
    "updated_at = excluded.updated_at, source = excluded.source"
)
_APPEND_SQL = (
    "INSERT INTO history (revision, seq, key, op, old_value, new_value, source, at, note) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_HISTORY_COLS = "revision, seq, key, op, old_value, new_value, source, at, note"


def _new_uuid():
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = bytes(b).hex()
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


# ---------------------------------------------------------------------------
# Error mapping (the one place that reads SQLite error codes)

_MESSAGE_CODES = (
    ("database is locked", "SQLITE_BUSY"),
    ("database table is locked", "SQLITE_LOCKED"),
    ("database schema is locked", "SQLITE_LOCKED"),
    ("file is not a database", "SQLITE_NOTADB"),
    ("file is encrypted or is not a database", "SQLITE_NOTADB"),
    ("database disk image is malformed", "SQLITE_CORRUPT"),
    ("attempt to write a readonly database", "SQLITE_READONLY"),
    ("unable to open database file", "SQLITE_CANTOPEN"),
    ("disk i/o error", "SQLITE_IOERR"),
    ("database or disk is full", "SQLITE_FULL"),
    ("access permission denied", "SQLITE_PERM"),
)


def sqlite_code(e):
    """The SQLite error name of an exception (``SQLITE_BUSY`` …), or ``""``."""
    name = getattr(e, "sqlite_errorname", None)  # Python ≥ 3.11
    if isinstance(name, str) and name:
        return name
    msg = str(e).lower()
    for text, code in _MESSAGE_CODES:
        if text in msg:
            return code
    return ""


def map_sqlite_error(e, location):
    """A PsmcError for a SQLite failure; other exceptions are returned unchanged."""
    if isinstance(e, PsmcError):
        return e
    if not isinstance(e, sqlite3.Error):
        return e
    code = sqlite_code(e)
    msg = str(e)
    if code.startswith("SQLITE_BUSY") or code.startswith("SQLITE_LOCKED"):
        return PsmcError(
            "PSMC_BUSY",
            "The store at %s stayed locked by another writer past the busy timeout (%s)." % (location, msg),
            "Another process holds a long write transaction. Retry, raise busy_timeout_ms, or find the stuck process "
            "(psmc doctor).",
            cause=e,
        )
    if code.startswith("SQLITE_CORRUPT") or code == "SQLITE_NOTADB":
        return PsmcError(
            "PSMC_CORRUPT",
            "The database %s is damaged or is not a SQLite database (%s)." % (location, msg),
            "Move the file aside and restore from a snapshot (psmc doctor --repair, once available), or open another store.",
            cause=e,
        )
    if code.startswith("SQLITE_READONLY"):
        return PsmcError(
            "PSMC_READ_ONLY",
            "The database %s cannot be written (%s)." % (location, msg),
            "Check the permissions of the store directory and its files (they should belong to you, mode 0700/0600).",
            cause=e,
        )
    if code.startswith("SQLITE_CANTOPEN") or code.startswith("SQLITE_IOERR") or code == "SQLITE_FULL" or code.startswith(
        "SQLITE_PERM"
    ):
        return PsmcError(
            "PSMC_IO",
            "Cannot use the database %s: %s." % (location, msg),
            "The disk is full; free space and retry."
            if code == "SQLITE_FULL"
            else "Check that the directory exists, is writable, and the disk is healthy.",
            cause=e,
        )
    return PsmcError("PSMC_INTERNAL", "SQLite failed on %s: %s" % (location, msg), "This is a bug; please report it.", cause=e)


def _row(r):
    return StoredRow(r[0], r[1], r[2], r[3], r[4], r[5])


def _change(r):
    return StoredChange(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8])


class _Tx(object):
    """The write-transaction surface (:class:`psmc.port.WriteTx`) over one connection."""

    __slots__ = ("_s", "_db")

    def __init__(self, storage):
        self._s = storage
        self._db = storage._db

    def read_state(self):
        return self._s.read_state()

    def write_state(self, revision, clock):
        self._db.execute("UPDATE state SET revision = ?, clock = ? WHERE id = 1", (revision, clock))

    def read_row(self, key):
        return self._s.read_row(key)

    def put_row(self, r):
        self._db.execute(_PUT_ROW_SQL, (r.key, r.value, r.type, r.revision, r.updated_at, r.source))

    def delete_row(self, key):
        self._db.execute("DELETE FROM entries WHERE key = ?", (key,))

    def append_change(self, c):
        self._db.execute(_APPEND_SQL, (c.revision, c.seq, c.key, c.op, c.old_value, c.new_value, c.source, c.at, c.note))

    def changes_at(self, revision):
        cur = self._db.execute("SELECT %s FROM history WHERE revision = ? ORDER BY seq" % _HISTORY_COLS, (revision,))
        return [_change(r) for r in cur.fetchall()]

    def last_changed_revision(self):
        return self._db.execute("SELECT COALESCE(MAX(revision), 0) FROM history").fetchone()[0]

    def last_revision_of(self, key):
        return self._db.execute("SELECT COALESCE(MAX(revision), 0) FROM history WHERE key = ?", (key,)).fetchone()[0]

    def read_schema(self):
        return self._s.read_schema()

    def read_schema_revision(self):
        return self._db.execute("SELECT COALESCE((SELECT revision FROM schema_doc WHERE id = 1), 0)").fetchone()[0]

    def write_schema(self, doc, revision):
        if doc is None:
            self._db.execute("DELETE FROM schema_doc WHERE id = 1")
        else:
            self._db.execute(
                "INSERT INTO schema_doc (id, doc, revision) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, revision = excluded.revision",
                (doc, revision),
            )

    def all_rows(self):
        return self._s.list_rows("")

    def read_meta(self, name):
        return self._s.read_meta(name)

    def write_meta(self, name, value):
        if value is None:
            self._db.execute("DELETE FROM meta WHERE name = ?", (name,))
        else:
            self._db.execute(
                "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    def value_at(self, key, revision):
        r = self._db.execute(
            "SELECT op, new_value FROM history WHERE key = ? AND revision <= ? AND op IN ('set', 'delete') "
            "ORDER BY revision DESC, seq DESC LIMIT 1",
            (key, revision),
        ).fetchone()
        return None if r is None or r[0] == "delete" else r[1]

    def keys_changed_after(self, revision):
        cur = self._db.execute("SELECT DISTINCT key FROM history WHERE revision > ? AND op IN ('set', 'delete')", (revision,))
        return [r[0] for r in cur.fetchall()]


def _enable_wal(db, timeout_ms):
    """Switches the file to WAL and returns the journal mode it then has. Switching needs the
    file to itself, and SQLite answers "database is locked" at once, without waiting on the busy
    handler, when another process is opening the same new store: so retry until the busy timeout,
    as every other statement waits."""
    import time

    deadline = time.monotonic() + timeout_ms / 1000.0
    pause = 0.001
    while True:
        try:
            return db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                raise
            if time.monotonic() >= deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.05)


class SqliteStorage(object):
    """One connection to a store's ``psmc.db``."""

    def __init__(self, file, durability="full", busy_timeout_ms=10000, now=None):
        self.location = file
        self._closed = False
        self._lock = _RLock()
        if not os.path.exists(file):
            # Create the file 0600 before SQLite does; O_APPEND never truncates a racing creator's content.
            try:
                fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                os.close(fd)
            except OSError as e:
                from .paths import io_error

                raise io_error(e, file)
        try:
            size = os.stat(file).st_size
        except OSError as e:
            from .paths import io_error

            raise io_error(e, file)
        if 0 < size < 512:
            raise PsmcError(
                "PSMC_CORRUPT",
                "%s is %d bytes long, too short to be a SQLite database." % (file, size),
                "The file is damaged or is not a psmc database. Move it aside and restore from a snapshot or an export.",
            )
        timeout_ms = max(0, int(busy_timeout_ms))
        try:
            db = sqlite3.connect(
                file, timeout=timeout_ms / 1000.0, isolation_level=None, check_same_thread=False, cached_statements=64
            )
        except sqlite3.Error as e:
            raise map_sqlite_error(e, file)
        self._db = db
        try:
            db.execute("PRAGMA busy_timeout = %d" % timeout_ms)
            self._check_foreign()
            mode = _enable_wal(db, timeout_ms)
            if str(mode).lower() != "wal":
                raise PsmcError(
                    "PSMC_IO",
                    "Cannot switch %s to WAL mode (got %s)." % (file, mode),
                    "Keep the store on a local file system; WAL does not work on some network file systems.",
                )
            db.execute("PRAGMA synchronous = %s" % ("NORMAL" if durability == "normal" else "FULL"))
            db.execute("PRAGMA cache_size = -32768")
            self._migrate(now)
        except BaseException as e:
            db.close()
            if isinstance(e, (sqlite3.Error, PsmcError)):
                raise map_sqlite_error(e, file)
            raise
        self._tx = _Tx(self)

    def _pragma(self, name):
        return self._db.execute("PRAGMA %s" % name).fetchone()[0]

    def _check_foreign(self):
        # One read transaction: all three facts from one snapshot. Read one by one, a process
        # creating the store at the same moment could commit between them, and its fresh tables
        # would look like a foreign database's (ids 0, tables > 0).
        in_tx = self._db.in_transaction
        if not in_tx:
            self._db.execute("BEGIN DEFERRED")
        try:
            app_id = self._pragma("application_id")
            version = self._pragma("user_version")
            tables = self._db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        finally:
            if not in_tx:
                self._db.execute("COMMIT")
        if app_id == 0 and version == 0:
            if tables > 0:
                raise PsmcError(
                    "PSMC_CORRUPT",
                    "%s is a SQLite database, but not a psmc store (it has other tables)." % self.location,
                    "Point psmc at a store directory of its own; psmc never writes into foreign databases.",
                )
            return
        if app_id != APPLICATION_ID:
            raise PsmcError(
                "PSMC_CORRUPT",
                "%s is a SQLite database of another application (application_id %d)." % (self.location, app_id),
                "Point psmc at a store directory of its own; psmc never writes into foreign databases.",
            )
        if version > FORMAT_VERSION:
            raise PsmcError(
                "PSMC_FORMAT_TOO_NEW",
                "%s has store format %d; this psmc reads format %d and older." % (self.location, version, FORMAT_VERSION),
                "Upgrade psmc (and every client that writes this store) to a version that supports it.",
            )

    def _migrate(self, now):
        if self._pragma("user_version") == FORMAT_VERSION:
            return
        from .clock import HLC_ZERO, format_hlc, iso_utc, system_clock

        now = system_clock if now is None else now
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            # Re-read inside the lock: another process may have migrated meanwhile.
            v = self._pragma("user_version")
            if v > FORMAT_VERSION:
                self._check_foreign()
            while v < FORMAT_VERSION:
                for stmt in statements(MIGRATIONS[v]):
                    db.execute(stmt)
                if v == 0:
                    db.execute(
                        "INSERT INTO state (id, revision, clock, store_id, created_at) VALUES (1, 0, ?, ?, ?)",
                        (format_hlc(HLC_ZERO), _new_uuid(), iso_utc(now())),
                    )
                    db.execute("PRAGMA application_id = %d" % APPLICATION_ID)
                db.execute("PRAGMA user_version = %d" % (v + 1))
                v += 1
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _ensure_open(self):
        if self._closed:
            raise PsmcError(
                "PSMC_CLOSED",
                "The store at %s was closed." % self.location,
                "Open the store again; a handle cannot be used after close().",
            )

    # -- reads -------------------------------------------------------------

    def data_version(self):
        return self._db.execute("PRAGMA data_version").fetchone()[0]

    def read_state(self):
        r = self._db.execute("SELECT revision, clock, store_id FROM state WHERE id = 1").fetchone()
        if r is None:
            raise PsmcError(
                "PSMC_CORRUPT", "%s has no state row." % self.location, "The store was damaged; restore it from a snapshot."
            )
        return StoreState(r[0], r[1], r[2])

    def read_row(self, key):
        r = self._db.execute(_ROW_SQL, (key,)).fetchone()
        return None if r is None else StoredRow(r[0], r[1], r[2], r[3], r[4], r[5])

    def list_rows(self, prefix):
        self._ensure_open()
        if prefix == "":
            cur = self._db.execute(_LIST_ALL_SQL)
        else:
            cur = self._db.execute(_LIST_PREFIX_SQL, {"p": prefix})
        return [_row(r) for r in cur.fetchall()]

    def history(self, key=None, prefix=False, after_revision=None, upto_revision=None, limit=None, ascending=False):
        self._ensure_open()
        where = []
        params = {}
        if key is not None:
            params["p"] = key
            where.append(_PREFIX_WHERE if prefix else "key = :p")
        if after_revision is not None:
            where.append("revision > :after")
            params["after"] = after_revision
        if upto_revision is not None:
            where.append("revision <= :upto")
            params["upto"] = upto_revision
        order = "revision ASC, seq ASC" if ascending else "revision DESC, seq DESC"
        lim = " LIMIT %d" % max(0, int(limit)) if limit is not None else ""
        sql = "SELECT %s FROM history%s ORDER BY %s%s" % (
            _HISTORY_COLS,
            " WHERE " + " AND ".join(where) if where else "",
            order,
            lim,
        )
        return [_change(r) for r in self._db.execute(sql, params).fetchall()]

    def keys_changed_since(self, revision, limit):
        cur = self._db.execute("SELECT DISTINCT key FROM history WHERE revision > ? LIMIT ?", (revision, limit + 1))
        return [r[0] for r in cur.fetchall()]

    def read_schema(self):
        r = self._db.execute("SELECT doc, revision FROM schema_doc WHERE id = 1").fetchone()
        return None if r is None else StoredSchema(r[0], r[1])

    def read_meta(self, name):
        r = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if r is None else r[0]

    def read_metas(self, names):
        """The meta rows of ``names`` (absent ones left out), in one query."""
        sql = "SELECT name, value FROM meta WHERE name IN (%s)" % ", ".join("?" * len(names))
        return dict(self._db.execute(sql, tuple(names)).fetchall())

    def read(self, fn):
        """Runs ``fn(tx)`` inside one read transaction (a consistent view; ``tx`` must only read)."""
        self._ensure_open()
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN")
                try:
                    return fn(self._tx)
                finally:
                    if db.in_transaction:
                        db.execute("COMMIT")
            except sqlite3.Error as e:
                raise map_sqlite_error(e, self.location)

    def count_conflicts(self):
        """How many ``conflict`` records history holds."""
        self._ensure_open()
        return self._db.execute("SELECT count(*) FROM history WHERE op = 'conflict'").fetchone()[0]

    def read_all(self):
        """``(state, rows, schema)`` read in one consistent read transaction."""
        self._ensure_open()
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN")
                try:
                    result = (self.read_state(), self.list_rows(""), self.read_schema())
                finally:
                    if db.in_transaction:
                        db.execute("COMMIT")
            except sqlite3.Error as e:
                raise map_sqlite_error(e, self.location)
            return result

    # -- writes ------------------------------------------------------------

    def write(self, fn):
        """Runs ``fn(tx)`` inside one BEGIN IMMEDIATE transaction: all of it commits, or none."""
        self._ensure_open()
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as e:
                raise map_sqlite_error(e, self.location)
            try:
                result = fn(self._tx)
                db.execute("COMMIT")
                return result
            except BaseException as e:
                if db.in_transaction:
                    try:
                        db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                if isinstance(e, sqlite3.Error):
                    raise map_sqlite_error(e, self.location)
                raise

    def check_integrity(self):
        self._ensure_open()
        return [r[0] for r in self._db.execute("PRAGMA integrity_check").fetchall() if r[0] != "ok"]

    def close(self):
        if self._closed:
            return
        self._closed = True
        self._db.close()
