"""The storage port (TypeScript: src/core/port.ts): what the core needs from a database.

An adapter provides ``write(fn)``, which runs ``fn(tx)`` inside one transaction
holding the store's write lock from its first statement (SQLite: BEGIN
IMMEDIATE); ``tx`` offers :class:`WriteTx`'s methods. Values cross the port as
their encoded JSON text. The SQLite adapter is :mod:`psmc.storage`; a Postgres
adapter can implement the same surface later.
"""


class _Record(object):
    """A small immutable-by-convention record (cheaper to define than a namedtuple)."""

    __slots__ = ()

    def __init__(self, *values):
        for name, v in zip(self.__slots__, values):
            object.__setattr__(self, name, v)

    def __eq__(self, other):
        return type(other) is type(self) and all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join("%s=%r" % (n, getattr(self, n)) for n in self.__slots__))

    def _asdict(self):
        return {n: getattr(self, n) for n in self.__slots__}


class StoredRow(_Record):
    __slots__ = ("key", "value", "type", "revision", "updated_at", "source")

    def __init__(self, key, value, type, revision, updated_at, source):  # noqa: A002 (column name)
        self.key = key
        self.value = value
        self.type = type
        self.revision = revision
        self.updated_at = updated_at
        self.source = source


class StoredChange(_Record):
    __slots__ = ("revision", "seq", "key", "op", "old_value", "new_value", "source", "at", "note")

    def __init__(self, revision, seq, key, op, old_value, new_value, source, at, note):
        self.revision = revision
        self.seq = seq
        self.key = key
        self.op = op
        self.old_value = old_value
        self.new_value = new_value
        self.source = source
        self.at = at
        self.note = note


class StoredSchema(_Record):
    __slots__ = ("doc", "revision")


class StoreState(_Record):
    __slots__ = ("revision", "clock", "store_id")


class WriteTx(object):  # documentation of the surface; adapters duck-type it
    """Operations allowed inside a write transaction."""

    def read_state(self):
        raise NotImplementedError

    def write_state(self, revision, clock):
        raise NotImplementedError

    def read_row(self, key):
        raise NotImplementedError

    def put_row(self, row):
        raise NotImplementedError

    def delete_row(self, key):
        raise NotImplementedError

    def append_change(self, change):
        raise NotImplementedError

    def changes_at(self, revision):
        """The records of one revision, in seq order."""
        raise NotImplementedError

    def last_changed_revision(self):
        """The newest revision that has history records, or 0."""
        raise NotImplementedError

    def last_revision_of(self, key):
        """The newest revision with a history record for ``key`` (``@schema`` included), or 0."""
        raise NotImplementedError

    def read_schema(self):
        raise NotImplementedError

    def read_schema_revision(self):
        raise NotImplementedError

    def write_schema(self, doc, revision):
        """Stores the schema text (None removes it), tagged with the revision that set it."""
        raise NotImplementedError

    def all_rows(self):
        raise NotImplementedError

    def read_meta(self, name):
        """A bookkeeping value (mirror state, settings), or None when unset. Not versioned, not in history."""
        raise NotImplementedError

    def write_meta(self, name, value):
        """Sets (or, with None, removes) a bookkeeping value."""
        raise NotImplementedError

    def value_at(self, key, revision):
        """The encoded value ``key`` had just after the commit of ``revision`` (from history), or None."""
        raise NotImplementedError

    def keys_changed_after(self, revision):
        """The distinct keys with set/delete records after ``revision``."""
        raise NotImplementedError
