"""The one change shape (spec/SPEC.md §history.record; TypeScript: src/core/change.ts).

A :class:`ChangeRecord` is one row of history; an :class:`Entry` a stored key with
its metadata; a :class:`Commit` the result of a write. Values are decoded JSON
(``old_value``/``new_value`` are None when absent — check ``op`` and ``has_old``).
"""
from .port import _Record

#: The key under which schema changes appear in history (not a legal key, so it never collides).
SCHEMA_HISTORY_KEY = "@schema"

_MISSING = object()


class ChangeRecord(_Record):
    """One recorded change. ``has_old``/``has_new`` tell "absent" from a JSON ``null``."""

    __slots__ = ("revision", "seq", "key", "op", "old_value", "new_value", "source", "at", "note", "has_old", "has_new")

    def to_json(self):
        """The record as TypeScript's ``JSON.stringify`` shows it (absent members left out)."""
        out = {"revision": self.revision, "seq": self.seq, "key": self.key, "op": self.op}
        if self.has_old:
            out["oldValue"] = self.old_value
        if self.has_new:
            out["newValue"] = self.new_value
        out["source"] = self.source
        out["at"] = self.at
        if self.note is not None:
            out["note"] = self.note
        return out


class Entry(_Record):
    """A stored key with its metadata."""

    __slots__ = ("key", "value", "type", "revision", "updated_at", "source")

    def __init__(self, key, value, type, revision, updated_at, source):  # noqa: A002
        self.key = key
        self.value = value
        self.type = type
        self.revision = revision
        self.updated_at = updated_at
        self.source = source


class Commit(_Record):
    """The result of a write: the store revision, the commit's HLC text, and what was recorded
    (empty when nothing changed)."""

    __slots__ = ("revision", "at", "changes")

    def to_json(self):
        return {"revision": self.revision, "at": self.at, "changes": [c.to_json() for c in self.changes]}
