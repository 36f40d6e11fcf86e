"""Differences between two snapshots, or a snapshot and the live store (spec/sections/snapshots.md
§snapshot.diff; TypeScript: src/snapshot/diff.ts): per key, added / removed / changed, sorted by
key in byte order. Values compare by §value.equality (member order ignored, 1 = 1.0). Pure.
"""
from ..value import values_equal
from .format import SnapshotDocument, compare_keys, values_of


def _values(v):
    return values_of(v) if isinstance(v, SnapshotDocument) else v


def diff_entries(a, b):
    """What changed from ``a`` to ``b`` (mappings key → value, or :class:`SnapshotDocument`).

    Returns a list of dicts ``{"key", "change", "before"?, "after"?}``: ``change`` is ``added``
    (only in ``b``; no ``before``), ``removed`` (only in ``a``; no ``after``) or ``changed`` (in
    both, with values that are not equal), sorted by key in byte order.
    """
    ma = _values(a)
    mb = _values(b)
    out = []
    for key, before in ma.items():
        if key not in mb:
            out.append({"key": key, "change": "removed", "before": before})
        else:
            after = mb[key]
            if not values_equal(before, after):
                out.append({"key": key, "change": "changed", "before": before, "after": after})
    for key, after in mb.items():
        if key not in ma:
            out.append({"key": key, "change": "added", "after": after})
    out.sort(key=lambda d: compare_keys(d["key"]))
    return out
