"""The storage port (TypeScript: src/core/port.ts): what the core needs from a database.

An adapter provides ``write(fn)``, which runs ``fn(tx)`` inside one transaction
holding the store's write lock from its first statement (SQLite: BEGIN
IMMEDIATE); ``tx`` offers :class:`WriteTx`'s methods. Values cross the port as
their encoded JSON text. The SQLite adapter is :mod:`psmc.storage`; a Postgres
adapter can implement the same surface later.
"""
from collections import namedtuple

StoredRow = namedtuple("StoredRow", ["key", "value", "type", "revision", "updated_at", "source"])
StoredChange = namedtuple(
    "StoredChange", ["revision", "seq", "key", "op", "old_value", "new_value", "source", "at", "note"]
)
StoredSchema = namedtuple("StoredSchema", ["doc", "revision"])
StoreState = namedtuple("StoreState", ["revision", "clock", "store_id"])


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
