"""Taking snapshots and the automatic ones (§snapshot.auto; TypeScript: src/snapshot/snapshots.ts,
auto.ts): one before every import (a hand edit of the mirror, a drop in ``imports/``,
``import_data``) and one every ``every`` revisions, named ``auto-<revision>-<reason>``, rotated so
that only the newest ``keep`` automatic snapshots remain. Manual snapshots are never rotated.

A snapshot is made from an export document (one consistent read of the store), never from a copy
of the database file. Nothing here runs by itself: the Store calls it at those moments.
"""
from ..errors import PsmcError
from .files import delete_snapshot_file, parse_snapshot_bytes, read_snapshot_bytes, scan_dir, write_snapshot_file
from .format import NO_SCHEMA, build_snapshot, iso_time, render_snapshot
from .names import unique_name

DEFAULT_KEEP = 20
DEFAULT_EVERY = 100


def resolve_settings(keep=None, every=None):
    """``(keep, every)`` filled in and checked (ValueError for caller misuse)."""
    keep = DEFAULT_KEEP if keep is None else keep
    every = DEFAULT_EVERY if every is None else every
    if isinstance(keep, bool) or not isinstance(keep, int) or not 1 <= keep <= 10000:
        raise ValueError("snapshot keep must be a whole number from 1 to 10000, received %r" % (keep,))
    if isinstance(every, bool) or not isinstance(every, int) or every < 0:
        raise ValueError("snapshot every must be a whole number \u2265 0 (0 = off), received %r" % (every,))
    return keep, every


def settings_from_meta(keep_text, every_text):
    """The settings as stored in ``meta`` (``snapshots.keep``, ``snapshots.every``), defaults for
    anything absent or unreadable."""
    def num(t, default):
        try:
            return int(t) if t is not None else default
        except ValueError:
            return default

    try:
        return resolve_settings(num(keep_text, DEFAULT_KEEP), num(every_text, DEFAULT_EVERY))
    except ValueError:
        return DEFAULT_KEEP, DEFAULT_EVERY


def _info(doc, size, path):
    return {"name": doc.name, "createdAt": doc.created_at, "revision": doc.revision, "reason": doc.reason,
            "source": doc.source, "keys": len(doc.entries), "bytes": size, "path": path}


def _write(d, name, doc):
    """Writes ``doc`` as snapshot ``name``; returns its info, which the next listing takes as is
    while the file keeps the bytes written (the file is the rendering of a checked document: parsing
    it gives the same facts; tests/test_snapshot_cache.py checks that)."""
    import hashlib

    text = render_snapshot(doc)
    data = text.encode("utf-8")
    info = _info(doc, len(data), write_snapshot_file(d, name, text))
    _listed.setdefault(d, {})[name] = (hashlib.sha256(data).digest(), dict(info))
    return info


def create_snapshot(d, exported, reason, source, now_ms, name=None):
    """Writes a snapshot of ``exported`` (an export document: ``revision``, ``entries``, ``schema``?)
    to ``d``; a generated name when ``name`` is None. Returns its info dict. Does not rotate."""
    entries = {
        k: {"value": e["value"], "revision": e["revision"], "updated_at": e["updatedAt"], "source": e["source"]}
        for k, e in exported["entries"].items()
    }
    schema = exported["schema"] if "schema" in exported else NO_SCHEMA
    created = iso_time(now_ms)
    if name is not None:
        doc = build_snapshot(name, created, exported["revision"], reason, source, entries, schema)
        return _write(d, name, doc)
    if reason == "manual":
        base = "snap-%s-%s" % (created[:10].replace("-", ""), created[11:19].replace(":", ""))
    else:
        base = "auto-%d-%s" % (exported["revision"], reason)
    attempt = 0
    while True:
        # A generated name: another process may take the same one between the scan and the write.
        candidate = unique_name(base, set(scan_dir(d)[0]))
        doc = build_snapshot(candidate, created, exported["revision"], reason, source, entries, schema)
        try:
            return _write(d, candidate, doc)
        except PsmcError as e:
            attempt += 1
            if e.code != "PSMC_USAGE" or e.details.get("name") != candidate or attempt > 20:
                raise


#: directory -> {name: (SHA-256 of the file's bytes, its listing facts)}: what list_snapshots last
#: read there. A file is parsed and checked again unless its bytes, read now, have the same hash:
#: an automatic snapshot lists the directory to rotate it, and parsing every kept snapshot (each a
#: whole store) at every one of them would cost more than taking the snapshot.
_listed = {}


def list_snapshots(d):
    """``(infos, problems)``: every snapshot in ``d``, newest first; unreadable files as problems."""
    import hashlib

    names, problems = scan_dir(d)
    known = _listed.get(d, {})
    seen = {}
    infos = []
    for name in names:
        try:
            data, path = read_snapshot_bytes(d, name)
            digest = hashlib.sha256(data).digest()
            hit = known.get(name)
            if hit is not None and hit[0] == digest:
                info = dict(hit[1])
            else:
                info = _info(parse_snapshot_bytes(data, path, name), len(data), path)
        except PsmcError as e:
            if e.code == "PSMC_NOT_FOUND":
                continue  # deleted by another process since the scan
            problems.append({"file": "%s/%s.json" % (d, name), "code": e.code, "message": e.message})
            continue
        seen[name] = (digest, dict(info))
        infos.append(info)
    _listed[d] = seen
    infos.sort(key=lambda i: i["name"])
    infos.sort(key=lambda i: (i["createdAt"], i["revision"]), reverse=True)
    return infos, problems


def rotation_victims(infos, keep, protect=None):
    """The automatic snapshots to delete so that ``keep`` remain: all but the newest ``keep`` (by
    revision, then createdAt, then name, descending), never a manual one, never ``protect``."""
    auto = [i for i in infos if i["reason"] != "manual"]
    auto.sort(key=lambda i: (i["revision"], i["createdAt"], i["name"]), reverse=True)
    return [i["name"] for i in auto[keep:] if i["name"] != protect]


def rotate_snapshots(d, keep, protect=None):
    """Deletes automatic snapshots beyond the newest ``keep``; returns the names deleted."""
    deleted = []
    for name in rotation_victims(list_snapshots(d)[0], keep, protect):
        try:
            delete_snapshot_file(d, name)
            deleted.append(name)
        except PsmcError as e:
            if e.code != "PSMC_NOT_FOUND":  # another process rotated it first
                raise
    return deleted


def auto_snapshot(d, exported, reason, keep, source, now_ms, protect=None):
    """Takes an automatic snapshot for ``reason``, then rotates. Returns its info dict."""
    if reason == "manual":
        raise ValueError("an automatic snapshot needs a reason other than manual")
    info = create_snapshot(d, exported, reason, source, now_ms)
    info["rotated"] = rotate_snapshots(d, keep, protect)
    return info


def auto_snapshot_due(last_auto_revision, revision, every):
    """True when a periodic snapshot is due."""
    return every > 0 and revision > 0 and revision - last_auto_revision >= every
