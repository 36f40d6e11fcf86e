"""The mirror's 3-way merge (spec/sections/mirror-sync.md §mirror.merge; TypeScript:
src/core/merge.ts). Pure.

base = the values of the last export (or import) of the file, theirs = the file as saved now,
ours = the database now. Per key:

- file unchanged (theirs = base): keep ours;
- changed only in the file (ours = base): apply theirs;
- changed on both sides to the same value: nothing to do;
- changed on both sides differently: a conflict, resolved by time — the side changed later wins
  (the file's time is its modification time, the database's the HLC wall time of the key's last
  change; a tie goes to the file, the human edit). The losing value is recorded as a
  ``conflict`` history record, so it is never lost.

Values are encoded texts (§value.encoding) or None for an absent key, and compare as JSON values
(§value.equality: member order does not matter, ``1`` equals ``1.0``).
"""
from collections import namedtuple

from .keys import utf16_order
from .value import decode_stored, values_equal

OursEntry = namedtuple("OursEntry", ["text", "time_ms", "source"])
OursEntry.__doc__ = """The database's side of one key.

``text``: the encoded value, or None when the key is absent (deleted); ``time_ms``: wall ms of the
key's last change (its deletion, when absent), 0 when never set; ``source``: the source of that
change."""

MergeConflict = namedtuple("MergeConflict", ["key", "winner", "lost", "won", "loser_source"])
MergeConflict.__doc__ = """One conflict: ``winner`` is ``"file"`` or ``"store"``; ``lost`` / ``won`` the
encoded losing / winning values (None for a delete); ``loser_source`` the source of the losing
side (``"file"`` when the file lost)."""

MergeResult = namedtuple("MergeResult", ["apply", "conflicts"])
MergeResult.__doc__ = """``apply``: the changes to apply from the file, in key order, as
``(key, text)`` pairs (text None to delete); ``conflicts``: the :class:`MergeConflict` list."""


def _same(a, b):
    if a == b:
        return True
    if a is None or b is None:
        return False
    return values_equal(decode_stored(a), decode_stored(b))


def merge_mirror(keys, theirs, base, ours, file_time_ms):
    """Merges a hand edit of the mirror file into the database, per key.

    ``keys``: every key that may differ (the file's keys and the keys the database changed since
    base; duplicates are fine); ``theirs``: the file, a mapping key → encoded value; ``base(key)``:
    the encoded value at the base revision, or None when absent then; ``ours(key)``: an
    :class:`OursEntry` (or a ``(text, time_ms, source)`` tuple); ``file_time_ms``: the file's
    modification time, wall ms. Returns a :class:`MergeResult`.
    """
    apply = []
    conflicts = []
    for key in sorted(set(keys), key=utf16_order):
        t = theirs.get(key)
        b = base(key)
        if _same(t, b):
            continue
        o = OursEntry(*ours(key))
        if _same(o.text, b):
            apply.append((key, t))
            continue
        if _same(t, o.text):
            continue
        if file_time_ms >= o.time_ms:
            apply.append((key, t))
            conflicts.append(MergeConflict(key, "file", o.text, t, o.source))
        else:
            conflicts.append(MergeConflict(key, "store", t, o.text, "file"))
    return MergeResult(apply, conflicts)
