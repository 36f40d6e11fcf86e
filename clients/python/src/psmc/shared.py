"""One open database per process, shared by every Store handle on it, with the read cache
(spec/SPEC.md §read.freshness; TypeScript: src/store/shared.ts).

- A commit through any handle of this process updates the cache before the write
  returns: reads in this process see their own writes exactly.
- Commits by other processes are noticed within ``freshness_ms``: when the bound
  has passed, a read asks SQLite for ``PRAGMA data_version`` (no disk I/O), and
  only when it changed reads the keys changed since the cached revision from
  history and evicts just those.
- Reads look at the mirror file (one ``stat``) at most every ``MIRROR_CHECK_MS`` and import a
  hand edit when it changed; that same look writes a pending export whose interval has passed
  (see :mod:`psmc.mirror.engine` for when exports happen).
- Nothing here starts a thread, a timer or a file watcher.
"""
import time
from _thread import allocate_lock as _allocate_lock

from .change import SCHEMA_HISTORY_KEY, Entry
from .storage import SqliteStorage
from .value import decode_stored

EVICT_LIMIT = 1000
#: Reads look at the mirror file (one stat) at most this often (§mirror.detect).
MIRROR_CHECK_MS = 50
_MIRROR_CHECK_S = MIRROR_CHECK_MS / 1000.0
_NEG_INF = float("-inf")


def to_entry(row):
    return Entry(row.key, decode_stored(row.value), row.type, row.revision, row.updated_at, row.source)


class _MirrorHost(object):
    """What the mirror engine needs from the shared store."""

    __slots__ = ("_shared", "clock")

    def __init__(self, shared, clock):
        self._shared = shared
        self.clock = clock

    @property
    def dir(self):
        return self._shared.dir

    @property
    def storage(self):
        return self._shared.storage

    def schema_in(self, tx):
        return self._shared.schema_in(tx)

    def apply_commit(self, result):
        self._shared.apply_commit(result)

    def before_import(self, tx):
        hook = self._shared.before_import
        if hook is not None:
            hook(tx)


def compile_stored(doc):
    from .schema import CompiledSchema, parse_schema_document
    from .value import decode_stored as _d

    return CompiledSchema(parse_schema_document(_d(doc)), parsed=True)


class SharedStore(object):
    def __init__(self, directory, file, durability, busy_timeout_ms):
        self.dir = directory
        self.file = file
        self.refs = 0
        self.storage = SqliteStorage(file, durability=durability, busy_timeout_ms=busy_timeout_ms)
        self._cache = {}
        #: The hot path's view of _cache: key -> value of present keys only (Store.get reads it).
        self._values = {}
        try:
            self._data_version = self.storage.data_version()
            self._known_revision = self.storage.read_state().revision
        except BaseException as e:
            self.storage.close()
            from .storage import map_sqlite_error

            raise map_sqlite_error(e, file)
        self._last_check = time.monotonic()
        self._last_mirror_check = _NEG_INF
        self._schema = None  # (revision, compiled or None)
        self.schema_epoch = 0
        #: The plaintext mirror (:class:`psmc.mirror.engine.Mirror`), once a handle with the mirror on opened this store.
        self.mirror = None
        #: Called with the transaction inside a mirror import, before a hand edit is applied (the Store's
        #: before-import snapshot).
        self.before_import = None
        self._listeners = []

    def ensure_fresh(self, freshness_ms):
        now = time.monotonic()
        if (now - self._last_check) * 1000.0 < freshness_ms:
            return
        self._last_check = now
        m = self.mirror
        if m is not None and now - self._last_mirror_check >= _MIRROR_CHECK_S:
            self._last_mirror_check = now
            if m.changed_on_disk():
                self.sync_mirror_quietly()
            elif m.due(now):
                m.run_pending()
        dv = self.storage.data_version()
        if dv == self._data_version:
            return
        self._data_version = dv
        self._catch_up()

    def _catch_up(self):
        revision = self.storage.read_state().revision
        if revision == self._known_revision:
            return
        keys = self.storage.keys_changed_since(self._known_revision, EVICT_LIMIT)
        if len(keys) > EVICT_LIMIT or revision < self._known_revision:
            self._cache.clear()
            self._values.clear()
            self._drop_schema()
        else:
            for k in keys:
                if k == SCHEMA_HISTORY_KEY:
                    self._drop_schema()
                else:
                    self._cache.pop(k, None)
                    self._values.pop(k, None)
        self._known_revision = revision

    def _drop_schema(self):
        self._schema = None
        self.schema_epoch += 1

    _MISS = object()

    def peek(self, key):
        """The cached entry; None when known absent; SharedStore._MISS when not cached."""
        return self._cache.get(key, SharedStore._MISS)

    def read(self, key):
        """The entry of a (valid) key, reading it on a miss; None when absent."""
        e = self._cache.get(key, SharedStore._MISS)
        if e is SharedStore._MISS:
            row = self.storage.read_row(key)
            e = None if row is None else to_entry(row)
            self._remember(key, e)
        return e

    def _remember(self, key, e):
        self._cache[key] = e
        if e is None:
            self._values.pop(key, None)
        else:
            self._values[key] = e.value

    def schema(self):
        """The compiled schema stored in this database (cached), or None."""
        if self._schema is None:
            stored = self.storage.read_schema()
            self._schema = (0, None) if stored is None else (stored.revision, compile_stored(stored.doc))
        return self._schema[1]

    def schema_in(self, tx):
        """The compiled schema as stored inside a write transaction (cheap when unchanged)."""
        revision = tx.read_schema_revision()
        if self._schema is not None and self._schema[0] == revision:
            return self._schema[1]
        stored = tx.read_schema()
        compiled = None if stored is None else compile_stored(stored.doc)
        self._schema = (revision, compiled)
        self.schema_epoch += 1
        return compiled

    # -- the mirror -------------------------------------------------------------------------

    def enable_mirror(self, clock):
        """Turns the mirror on for this store (first handle that wants it), and syncs it once
        when it needs it (a changed file, a missing file, unexported commits)."""
        if self.mirror is not None:
            return
        from .mirror.engine import Mirror

        self.mirror = Mirror(_MirrorHost(self, clock))
        try:
            if self.mirror.needs_sync():
                self.sync_mirror_quietly()
        except Exception as e:  # noqa: BLE001 — reads go on from the database; status() reports it
            self.mirror.last_background_error = e

    def sync_mirror_quietly(self):
        """Syncs the mirror, keeping (not raising) failures: reads and writes go on from the
        database whatever the file holds; status() reports the failure. None on failure."""
        m = self.mirror
        if m is None:
            return None
        try:
            r = m.sync()
            m.last_background_error = None
            return r
        except Exception as e:  # noqa: BLE001 — see the docstring
            m.last_background_error = e
            return None

    def before_write(self):
        """Before a write: import a hand edit saved since the last look, so the write merges with it."""
        m = self.mirror
        if m is not None and m.changed_on_disk():
            self.sync_mirror_quietly()

    def on_local_commit(self, listener):
        """Calls ``listener(revision)`` after every commit made through this process (any handle).
        Used by :class:`psmc.Watch`; returns the unsubscribe function."""
        self._listeners.append(listener)

        def unsubscribe():
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def apply_commit(self, result):
        """Records a commit made through this process: the cache now holds exactly what was
        written; then the mirror exports (or marks the export pending) and listeners hear of it."""
        if not result.records:
            return
        try:
            self._apply_commit(result)
            if self.mirror is not None:
                self.mirror.after_commit()
        finally:
            for listener in list(self._listeners):
                listener(result.revision)

    def _apply_commit(self, result):
        if result.previous_revision != self._known_revision:
            # Another process committed in between; let the next check evict its keys too.
            self._last_check = _NEG_INF
            self._data_version = None
        else:
            self._known_revision = result.revision
        if len(result.rows) > 256:
            for key in result.rows:
                self._cache.pop(key, None)
                self._values.pop(key, None)
        else:
            for key, row in result.rows.items():
                self._remember(key, None if row is None else to_entry(row))
        if any(r.op == "schema" for r in result.records):
            self._drop_schema()


_registry = {}
_registry_lock = _allocate_lock()


def acquire_shared(directory, file, durability, busy_timeout_ms):
    """Opens (or shares) the database of a store directory that exists."""
    with _registry_lock:
        shared = _registry.get(file)
        if shared is None:
            shared = SharedStore(directory, file, durability, busy_timeout_ms)
            _registry[file] = shared
        shared.refs += 1
        return shared


def release_shared(shared):
    with _registry_lock:
        shared.refs -= 1
        if shared.refs <= 0 and _registry.get(shared.file) is shared:
            del _registry[shared.file]
            try:
                if shared.mirror is not None:
                    shared.mirror.close()
            finally:
                shared.storage.close()
