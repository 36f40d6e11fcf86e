"""The import side of the mirror engine (spec/sections/mirror-sync.md §mirror.merge,
§mirror.invalid; TypeScript: src/mirror/mirror.ts): merging a hand edit into the database and
recording a refused one. Used by :class:`psmc.mirror.engine.Mirror`, under its rules."""
from ..errors import PsmcError
from .engine import (
    EMPTY_GRACE_MS,
    META_ERROR,
    META_ERROR_HASH,
    META_HASH,
    META_IMPORTED_AT,
    META_REVISION,
    SyncResult,
    _DELETE,
    _iso,
    sha256,
    stat_of,
)
from .files import MIRROR_FILES


def decode_utf8(data, file):
    """The file's bytes as text, refusing invalid UTF-8 with the place of the first bad byte (a
    file saved in another encoding is an invalid edit, never imported with U+FFFD in it)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        lo = e.start
        before = data[:lo].decode("utf-8", "replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        raise PsmcError(
            "PSMC_PARSE",
            "%s is not valid UTF-8: byte %d (line %d, column %d) cannot start or continue a character."
            % (file, lo, line, column),
            'Save the file as UTF-8 (most editors: "Save with encoding" \u2192 UTF-8).',
            {"file": file, "line": line, "column": column},
            cause=e,
        )


def import_edit(m, tx, text, digest, st, base_revision):
    """Merges the hand-edited ``text`` into the database (§mirror.merge), under the write lock; returns
    a :class:`SyncResult`. Where the database then disagrees with the file (a conflict the store
    won, keys a first import never had) the file is corrected."""
    from ..clock import parse_hlc
    from ..engine import ConflictNote, PreparedChange, commit_changes
    from ..merge import merge_mirror
    from ..value import decode_stored, encode_value, values_equal

    codec = m._codec_now()
    parsed = codec.parse(text)
    theirs = {}
    for key, value in parsed.values.items():
        theirs[key] = encode_value(value, key)
    rows = {r.key: r for r in tx.all_rows()}
    age = m._host.clock() - st[1]
    if not parsed.values and age < EMPTY_GRACE_MS:
        # No entries over a base with keys: maybe an in-place save cut in its header; wait as for an empty file.
        if any(r.revision <= base_revision for r in rows.values()) or any(
            tx.value_at(k, base_revision) is not None for k in tx.keys_changed_after(base_revision)
        ):
            return SyncResult(retry_in_ms=EMPTY_GRACE_MS - max(0, age))
    keys = set(theirs) | set(rows) | set(tx.keys_changed_after(base_revision))

    def base(key):
        row = rows.get(key)
        return row.value if row is not None and row.revision <= base_revision else tx.value_at(key, base_revision)

    def ours(key):
        row = rows.get(key)
        if row is not None:
            return (row.value, parse_hlc(row.updated_at)[0], row.source)
        last = tx.last_revision_of(key)
        record = None if last == 0 else next((c for c in tx.changes_at(last) if c.key == key), None)
        return (None, 0 if record is None else parse_hlc(record.at)[0], "file" if record is None else record.source)

    merge = merge_mirror(keys, theirs, base, ours, st[1])
    imported = None
    name = MIRROR_FILES[m._setting]
    if merge.apply or merge.conflicts:
        before = getattr(m._host, "before_import", None)
        if before is not None:
            before(tx)
        prepared = [
            PreparedChange("delete", key, None, None, None)
            if t is None
            else PreparedChange("set", key, decode_stored(t), t, None)
            for key, t in merge.apply
        ]
        notes = [
            ConflictNote(
                c.key,
                c.lost,
                c.won,
                c.loser_source,
                "lost to a hand edit of %s" % name
                if c.winner == "file"
                else "hand edit of %s lost to a later change" % name,
            )
            for c in merge.conflicts
        ]
        imported = commit_changes(tx, prepared, m._host.clock(), "file", m._host.schema_in, None, notes)
        tx.write_meta(META_IMPORTED_AT, _iso(m._host.clock()))
    # Where the database now disagrees with the file, correct the file: a conflict the store
    # won, or (with no base yet: a first import, a new format) keys the file never had.
    after = {key: row.value for key, row in rows.items()}
    for key, t in merge.apply:
        after[key] = t
    fix = []
    DELETE = _DELETE()
    for key in list(after) + [k for k in theirs if k not in after]:
        db = after.get(key)
        in_file = theirs.get(key)
        equal = db == in_file or (
            db is not None and in_file is not None and values_equal(decode_stored(db), decode_stored(in_file))
        )
        if not equal:
            fix.append((key, DELETE if db is None else decode_stored(db)))
    revision = tx.read_state().revision
    if fix:
        new_text = codec.update(text, fix)
        m.write_and_record(tx, new_text, revision)
    else:
        tx.write_meta(META_REVISION, str(revision))
        tx.write_meta(META_HASH, digest)
        tx.write_meta(META_ERROR, None)
        tx.write_meta(META_ERROR_HASH, None)
        m._record_stat(tx, st)
    return SyncResult(imported=imported, exported=bool(fix))

def record_error(m, e):
    """Records a refused hand edit (``mirror.error``, ``mirror.error_hash``) for status; returns it."""
    from ..value import stringify

    file = m.file
    d = e.details or {}
    line = d.get("line") if isinstance(d.get("line"), int) else None
    column = d.get("column") if isinstance(d.get("column"), int) else None
    key = d.get("key") if isinstance(d.get("key"), str) else None
    try:
        with open(file, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        data = None
    if line is None and key is not None and data is not None:
        # Schema errors know the key, not the place: find the key's line in the file.
        at = locate_key(data.decode("utf-8", "replace"), key)
        if at is not None:
            line, column = at
    if line is None:
        where = file
    else:
        where = "%s:%d%s" % (file, line, "" if column is None else ":%d" % column)
    error = {
        "code": e.code,
        "message": "%s: %s" % (where, e.message),
        "hint": "%s The store keeps working from the database and the file is left as you saved it; fix the file "
        "and save again (psmc status shows this error until then)." % e.hint,
        "file": file,
    }
    if line is not None:
        error["line"] = line
    if column is not None:
        error["column"] = column
    if key is not None:
        error["key"] = key
    st = stat_of(file)

    def record(tx):
        tx.write_meta(META_ERROR, stringify(error))
        if data is not None:
            tx.write_meta(META_ERROR_HASH, sha256(data))

    m._host.storage.write(record)
    m._known = "missing" if st is None else st
    return error


def locate_key(text, key, forms=None):
    """The 1-based ``(line, column)`` of a top-level key in a mirror file, best effort."""
    candidates = forms or ('"%s"' % key, "'%s'" % key, "%s:" % key, "%s =" % key)
    for c in candidates:
        i = text.find(c)
        if i >= 0:
            before = text[:i]
            return (before.count("\n") + 1, i - before.rfind("\n"))
    return None
