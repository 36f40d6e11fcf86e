"""The Store's methods for the plaintext mirror, the ``imports/`` drop folder and watching
(TypeScript: the matching methods of src/store/store.ts). Kept apart from the layering and the
writes of :mod:`psmc.store`; :class:`psmc.Store` inherits them.

None of these start a thread or a timer. :meth:`SyncMethods.watch` builds a :class:`psmc.Watch`,
the one component that polls, and only when asked.
"""
import os


class SyncMethods(object):
    """Mixed into :class:`psmc.store.Store` (which provides ``_write``, ``_try_attach``,
    ``_write_shared``, ``_ensure_open``, ``_read_only``, ``_wall`` and ``_watchers``)."""

    __slots__ = ()

    def status(self):
        """Where everything is and how it stands, as TypeScript's ``store.status()``: the
        database, the plaintext mirror (in sync, pending export, pending import, missing, or
        holding an invalid hand edit with its error), the snapshots and imports folders, the
        revision, and the number of recorded conflicts. A dict with the TypeScript names."""
        self._ensure_open()
        self._try_attach(self._write)
        shared = self._write.shared
        d = self._write.dir
        out = {
            "dir": d,
            "layer": self._write.layer,
            "exists": shared is not None,
            "database": self._write.file,
            "revision": 0 if shared is None else shared.storage.read_state().revision,
        }
        m = None if shared is None else shared.mirror
        if m is not None:
            st = m.status()
            if m.last_background_error is not None:
                st["syncError"] = str(m.last_background_error)
            out["mirror"] = st
        out["snapshots"] = os.path.join(d, "snapshots")
        out["imports"] = os.path.join(d, "imports")
        out["conflicts"] = 0 if shared is None else shared.storage.count_conflicts()
        return out

    def sync_mirror(self, imports=True):
        """Imports a pending hand edit of the mirror file and exports pending changes, now;
        unless ``imports=False``, first merges the files waiting in ``imports/``. Returns a dict:
        ``retryInMs`` when the file is mid-save (sync again then), ``error`` (code, message) when
        the hand edit was refused. :class:`psmc.Watch` calls this at every poll; ``get()`` and
        ``set()`` do the mirror part on their own within the documented bounds."""
        self._ensure_open()
        self._try_attach(self._write)
        shared = self._write.shared
        if shared is not None and not self._read_only and imports:
            self._import_drop_folder()
        m = None if shared is None else shared.mirror
        if m is None or not (m.pending or m.needs_sync()):
            return {}
        r = shared.sync_mirror_quietly()
        out = {}
        if r is None:
            return out
        if r.retry_in_ms is not None:
            out["retryInMs"] = r.retry_in_ms
        if r.error is not None:
            out["error"] = {"code": r.error["code"], "message": r.error["message"]}
        return out

    def _import_drop_folder(self):
        from .mirror.imports import pending_imports, process_imports

        if not pending_imports(self._write.dir):
            return None
        try:
            return process_imports(self)
        except Exception as e:
            from .errors import PsmcError

            # A busy or closed store: the files stay where they are and the next sync tries again.
            if isinstance(e, PsmcError) and e.code in ("PSMC_BUSY", "PSMC_CLOSED"):
                return None
            raise

    def process_imports(self):
        """Imports the files waiting in the ``imports/`` drop folder now (one batch each, source
        ``import:<file>``), moving each to ``imports/done/`` or ``imports/rejected/`` (with a
        ``.reason`` file). Returns the report (a dict: ``dir``, ``done``, ``rejected``,
        ``skipped``)."""
        self._ensure_open()
        from .mirror.imports import process_imports

        return process_imports(self)

    def set_mirror_format(self, format):  # noqa: A002 (the spec's name)
        """Switches the mirror format of the write store (``json``, ``toml``, ``yaml``, or ``off``
        to stop mirroring); the old file stays where it is."""
        if format not in ("json", "toml", "yaml", "off"):
            raise TypeError("mirror format must be json, toml, yaml or off, received %r" % (format,))
        shared = self._write_shared()
        shared.enable_mirror(self._wall())
        shared.mirror.set_format(format)

    @property
    def mirror_file(self):
        """The mirror file's path (whether or not it exists yet); None before the store exists or
        with the mirror off for this handle."""
        self._try_attach(self._write)
        shared = self._write.shared
        return None if shared is None or shared.mirror is None else shared.mirror.file

    def flush(self):
        """Writes a pending mirror export now (``close()`` and interpreter exit do it too)."""
        self._ensure_open()
        for slot in self._slots:
            if slot.shared is not None and slot.shared.mirror is not None:
                slot.shared.mirror.flush()

    def on_local_commit(self, listener):
        """Calls ``listener(revision)`` after each commit made through this process on the write
        store; returns the unsubscribe function, or None while the store does not exist yet
        (subscribing never creates it). For :class:`psmc.Watch`; prefer :meth:`watch`."""
        self._ensure_open()
        self._try_attach(self._write)
        shared = self._write.shared
        return None if shared is None else shared.on_local_commit(listener)

    def watch(self, callback=None, since=None, prefix=None, poll_ms=250, on_error=None):
        """A :class:`psmc.Watch` on the write store: every change committed after ``since``
        (default: now), by any process in any language and by hand edits of the mirror, in
        revision order, none skipped or repeated. It polls only while you run it
        (``run()``/``poll()``/iteration); closing the store closes it.

        >>> with store.watch(prefix="display") as w:
        ...     for event in w:            # blocks, polling every poll_ms
        ...         print(event.revision, event.key, event.new_value)
        """
        self._ensure_open()
        from .watch import Watch

        w = Watch(self, callback=callback, since=since, prefix=prefix, poll_ms=poll_ms, on_error=on_error)
        self._watchers.append(w)
        return w
