"""The one change shape (spec/SPEC.md §history.record; TypeScript: src/core/change.ts).

A :class:`ChangeRecord` is one row of history; an :class:`Entry` a stored key with
its metadata; a :class:`Commit` the result of a write. Values are decoded JSON
(``old_value``/``new_value`` are None when absent — check ``op`` and ``has_old``).
"""
from collections import namedtuple

#: The key under which schema changes appear in history (not a legal key, so it never collides).
SCHEMA_HISTORY_KEY = "@schema"

_MISSING = object()


class ChangeRecord(
    namedtuple("ChangeRecord", ["revision", "seq", "key", "op", "old_value", "new_value", "source", "at", "note", "has_old", "has_new"])
):
    """One recorded change. ``has_old``/``has_new`` tell "absent" from a JSON ``null``."""

    __slots__ = ()

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


Entry = namedtuple("Entry", ["key", "value", "type", "revision", "updated_at", "source"])


class Commit(namedtuple("Commit", ["revision", "at", "changes"])):
    """The result of a write: the store revision, the commit's HLC text, and what was recorded
    (empty when nothing changed)."""

    __slots__ = ()

    def to_json(self):
        return {"revision": self.revision, "at": self.at, "changes": [c.to_json() for c in self.changes]}
