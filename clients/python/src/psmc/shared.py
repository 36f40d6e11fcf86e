"""One open database per process, shared by every Store handle on it, with the read cache
(spec/SPEC.md §read.freshness; TypeScript: src/store/shared.ts).

- A commit through any handle of this process updates the cache before the write
  returns: reads in this process see their own writes exactly.
- Commits by other processes are noticed within ``freshness_ms``: when the bound
  has passed, a read asks SQLite for ``PRAGMA data_version`` (no disk I/O), and
  only when it changed reads the keys changed since the cached revision from
  history and evicts just those.
- Nothing here starts a thread, a timer or a file watcher.
"""
import time
from _thread import allocate_lock as _allocate_lock

from .change import SCHEMA_HISTORY_KEY, Entry
from .storage import SqliteStorage
from .value import decode_stored

EVICT_LIMIT = 1000
_NEG_INF = float("-inf")


def to_entry(row):
    return Entry(row.key, decode_stored(row.value), row.type, row.revision, row.updated_at, row.source)


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
        try:
            self._data_version = self.storage.data_version()
            self._known_revision = self.storage.read_state().revision
        except BaseException as e:
            self.storage.close()
            from .storage import map_sqlite_error

            raise map_sqlite_error(e, file)
        self._last_check = time.monotonic()
        self._schema = None  # (revision, compiled or None)
        self.schema_epoch = 0

    def ensure_fresh(self, freshness_ms):
        now = time.monotonic()
        if (now - self._last_check) * 1000.0 < freshness_ms:
            return
        self._last_check = now
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
            self._drop_schema()
        else:
            for k in keys:
                if k == SCHEMA_HISTORY_KEY:
                    self._drop_schema()
                else:
                    self._cache.pop(k, None)
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
            self._cache[key] = e
        return e

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

    def apply_commit(self, result):
        """Records a commit made through this process: the cache now holds exactly what was written."""
        if not result.records:
            return
        if result.previous_revision != self._known_revision:
            # Another process committed in between; let the next check evict its keys too.
            self._last_check = _NEG_INF
            self._data_version = None
        else:
            self._known_revision = result.revision
        if len(result.rows) > 256:
            for key in result.rows:
                self._cache.pop(key, None)
        else:
            for key, row in result.rows.items():
                self._cache[key] = None if row is None else to_entry(row)
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
            shared.storage.close()
