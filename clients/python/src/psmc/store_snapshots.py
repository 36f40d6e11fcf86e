"""The Store's snapshots (spec/sections/snapshots.md; TypeScript: the snapshot methods of
src/store/store.ts): taking one, listing them, the settings, and the automatic ones — before every
import (a hand edit of the mirror, a drop in ``imports/``, ``import_data``) and every ``every``
revisions (default 100), rotated to the newest ``keep`` (default 20).

When the periodic one is taken (the Python choice; TypeScript defers it with a one-shot timer): in
the writing call, right after the commit that makes it due, since this client starts no timer. A
failure is reported as a warning, never raised: the commit stands. Restoring is not in the Python
client yet (the TypeScript CLI restores: ``psmc snapshot restore <name>``).
"""
import os
import time
import warnings


def export_document(revision, rows, schema):
    """The export document (§export) of a store read in one transaction."""
    from .value import decode_stored

    entries = {}
    for r in rows:
        entries[r.key] = {"value": decode_stored(r.value), "type": r.type, "revision": r.revision,
                          "updatedAt": r.updated_at, "source": r.source}
    out = {"format": "psmc-export", "version": 1, "revision": revision, "entries": entries}
    if schema is not None:
        out["schema"] = decode_stored(schema.doc)
    return out


class SnapshotMethods(object):
    """Mixed into :class:`psmc.store.Store`."""

    __slots__ = ()

    @property
    def snapshots_dir(self):
        """``<write store dir>/snapshots``."""
        return os.path.join(self._write.dir, "snapshots")

    def snapshot(self, name=None):
        """Takes a named snapshot of the write store (``snap-<yyyymmdd-hhmmss>`` by default) and
        returns its info (name, createdAt, revision, reason, source, keys, bytes, path). PSMC_USAGE
        when the name is taken or not usable."""
        from .snapshot.auto import create_snapshot

        self._ensure_open()
        return create_snapshot(self.snapshots_dir, self.export_data(), "manual", self._source, self._wall()(), name)

    def list_snapshots(self):
        """The snapshots, newest first, as info dicts (files that cannot be read are left out)."""
        from .snapshot.auto import list_snapshots

        self._ensure_open()
        return list_snapshots(self.snapshots_dir)[0]

    def snapshot_settings(self):
        """``{"keep": n, "every": n}``: how many automatic snapshots are kept, and every how many
        revisions one is taken (0: never)."""
        from .snapshot.auto import settings_from_meta

        self._ensure_open()
        self._try_attach(self._write)
        shared = self._write.shared
        meta = {} if shared is None else shared.storage.read_metas(("snapshots.keep", "snapshots.every"))
        keep, every = settings_from_meta(meta.get("snapshots.keep"), meta.get("snapshots.every"))
        return {"keep": keep, "every": every}

    def set_snapshot_settings(self, keep=None, every=None):
        """Changes the settings of the write store (shared by every process); returns them."""
        from .snapshot.auto import resolve_settings

        now = self.snapshot_settings()
        keep, every = resolve_settings(now["keep"] if keep is None else keep, now["every"] if every is None else every)

        def run(tx):
            tx.write_meta("snapshots.keep", str(keep))
            tx.write_meta("snapshots.every", str(every))

        self._write_shared().storage.write(run)
        self._auto_cache = None
        return {"keep": keep, "every": every}

    # -- automatic snapshots --------------------------------------------------------------------

    def _before_import_snapshot(self, source, tx=None, directory=None):
        """The ``before-import`` snapshot: of the write store as it is, or (with ``tx`` and
        ``directory``: a mirror import, which holds the write lock) of the store being imported."""
        from .snapshot.auto import auto_snapshot

        shared = self._write.shared
        if shared is None:
            return None
        if tx is None:
            doc = self.export_data()
        else:
            doc = export_document(tx.read_state().revision, tx.all_rows(), tx.read_schema())
        keep = self.snapshot_settings()["keep"] if tx is None else _keep_in(tx)
        d = self.snapshots_dir if directory is None else directory
        return auto_snapshot(d, doc, "before-import", keep, source, self._wall()())

    def _maybe_auto_snapshot(self, revision):
        """After a commit: an ``every-changes`` snapshot when one is due. Settings and the last
        automatic snapshot's revision are read at most once a second (no query per commit)."""
        now = time.monotonic()
        cache = getattr(self, "_auto_cache", None)
        shared = self._write.shared
        if shared is None:
            return
        if cache is None or now - cache[0] > 1.0:
            s = self.snapshot_settings()
            last = shared.storage.read_meta("snapshots.last_auto")
            cache = (now, s["keep"], s["every"], int(last) if last is not None and last.isdigit() else 0)
            self._auto_cache = cache
        _, keep, every, last = cache
        from .snapshot.auto import auto_snapshot, auto_snapshot_due

        if not auto_snapshot_due(last, revision, every):
            return
        self._auto_cache = None
        try:
            info = auto_snapshot(self.snapshots_dir, self.export_data(), "every-changes", keep, self._source,
                                 self._wall()())
            shared.storage.write(lambda tx: tx.write_meta("snapshots.last_auto", str(info["revision"])))
        except Exception as e:  # noqa: BLE001 — off the write's result: the commit stands
            warnings.warn("psmc: automatic snapshot failed: %s" % (e,), RuntimeWarning, 3)


def _keep_in(tx):
    from .snapshot.auto import settings_from_meta

    return settings_from_meta(tx.read_meta("snapshots.keep"), tx.read_meta("snapshots.every"))[0]

