"""Snapshots (spec/sections/snapshots.md; TypeScript: src/snapshot/): the pure parts — names
(§snapshot.names), the snapshot file's exact bytes and its checked parsing (§snapshot.format), and
the diff of two sets of values (§snapshot.diff).

    >>> from psmc.snapshot import build_snapshot, render_snapshot, parse_snapshot
    >>> doc = build_snapshot("before-upgrade", "2026-11-26T04:45:41.123Z", 1, "manual", "python",
    ...     {"a": {"value": 1, "revision": 1, "updated_at": "2026-11-26T04:45:41.123Z-0000", "source": "python"}})
    >>> parse_snapshot(render_snapshot(doc), file="before-upgrade.json", expect_name="before-upgrade") == doc
    True
"""
from .diff import diff_entries
from .format import (
    NO_SCHEMA,
    SNAPSHOT_FORMAT,
    SNAPSHOT_REASONS,
    SNAPSHOT_VERSION,
    SnapshotDocument,
    SnapshotEntry,
    build_snapshot,
    check_snapshot,
    compare_keys,
    is_iso_time,
    iso_time,
    parse_snapshot,
    render_snapshot,
    snapshot_to_json,
    values_of,
)
from .names import (
    MAX_NAME_LENGTH,
    RESERVED_NAMES,
    assert_snapshot_name,
    assert_stored_name,
    file_name_of,
    is_valid_snapshot_name,
    name_of_file,
    name_problem,
    unique_name,
)

__all__ = [
    "MAX_NAME_LENGTH",
    "NO_SCHEMA",
    "RESERVED_NAMES",
    "SNAPSHOT_FORMAT",
    "SNAPSHOT_REASONS",
    "SNAPSHOT_VERSION",
    "SnapshotDocument",
    "SnapshotEntry",
    "assert_snapshot_name",
    "assert_stored_name",
    "build_snapshot",
    "check_snapshot",
    "compare_keys",
    "diff_entries",
    "file_name_of",
    "is_iso_time",
    "is_valid_snapshot_name",
    "iso_time",
    "name_of_file",
    "name_problem",
    "parse_snapshot",
    "render_snapshot",
    "snapshot_to_json",
    "unique_name",
    "values_of",
]
