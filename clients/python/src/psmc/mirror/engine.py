"""The mirror engine (spec/sections/mirror-sync.md; TypeScript: src/mirror/mirror.ts): keeps a
store's plaintext file (``config.json``, ``.toml`` or ``.yaml``) true in both directions.

- Export: after commits, atomically (:mod:`psmc.mirror.atomic`), editing only the changed spans
  of the file so comments, order and formatting survive; a batch is one commit, so one rewrite.
- Import: a hand edit is noticed by size and mtime, then a SHA-256 recorded in the database; it
  is merged 3-way (:mod:`psmc.merge`) with source ``file``, conflicts resolved by time with the
  loser kept as a ``conflict`` history record.
- An invalid edit is never applied and never overwritten: the error is recorded in ``meta``
  (``mirror.error``: file, line, column, key, what, how to fix; ``psmc status`` shows it), the
  store keeps working from the database, and exports wait until the file is fixed.

Concurrency contract: an import runs inside one storage write transaction (the store's write
lock), so two processes (any language) never import at once and the file and its bookkeeping
change together. An export gathers the changes in a read transaction, writes and fsyncs the temp
file with no lock, then under the write lock checks that neither the bookkeeping nor the file
moved, renames and records. A crash between the rename and the record leaves a file the next sync
sees as a hand edit equal to the database: merging it changes nothing.

When exports happen (the Python choice; TypeScript uses a one-shot unref'd timer instead): this
client starts no thread and no timer, ever. After a commit the export runs synchronously, inside
the writing call, unless the previous export of this process was less than
:data:`EXPORT_INTERVAL_MS` ago (or, on a disk so slow that an export takes longer than a third of
that, three times the last export's duration, so exports never take more than about a quarter of
a writer's time); then the export is left pending (a burst of writes gives one rewrite per
interval, not one per write: an atomic rewrite costs two fsyncs and a commit, several ms). A
pending export is written by the next read or write of the store once the interval has passed,
by every poll of a :class:`psmc.Watch`, by :meth:`psmc.Store.flush` and ``close()``, and at
interpreter exit (``atexit``). So the file is never behind a commit after the writing call
returns, except within a burst, and never later than the handle's close or the process's exit.

Codecs are imported only when a file must be parsed or written, so a ``get`` on a store whose
file did not change costs one ``stat`` and never loads them.
"""
import atexit
import os
import time

from ..errors import PsmcError
from .atomic import TEMP_MARK, commit_temp, discard_temp, write_temp, write_temp_retrying
from .files import MIRROR_FILES

#: A file modified less than this long ago may still be being written: wait before importing it.
SETTLE_MS = 30
#: An empty file is an editor mid-save; after this long it counts as deleted and is regenerated. A file
#: with no entries over a base with keys waits as long, then imports (§mirror.detect).
EMPTY_GRACE_MS = 2000
#: At most one export per this interval while commits keep coming (see the module comment).
EXPORT_INTERVAL_MS = 100

META_FORMAT = "mirror.format"
META_REVISION = "mirror.revision"
META_HASH = "mirror.hash"
META_SIZE = "mirror.size"
META_MTIME = "mirror.mtime"
META_ERROR = "mirror.error"
META_ERROR_HASH = "mirror.error_hash"
META_EXPORTED_AT = "mirror.exported_at"
META_IMPORTED_AT = "mirror.imported_at"
ALL_META = (
    META_FORMAT,
    META_REVISION,
    META_HASH,
    META_SIZE,
    META_MTIME,
    META_ERROR,
    META_ERROR_HASH,
    META_EXPORTED_AT,
    META_IMPORTED_AT,
)
_CHECK_META = (META_SIZE, META_MTIME, META_REVISION, META_ERROR)

_PASS_THROUGH = ("PSMC_BUSY", "PSMC_IO", "PSMC_CLOSED", "PSMC_CORRUPT")


class SyncResult(object):
    """What one :meth:`Mirror.sync` did. ``imported``: the engine's commit result of an applied
    hand edit (or None); ``exported``: the file was written; ``retry_in_ms``: the file is
    mid-save, sync again after this long; ``error``: the refused hand edit (a dict, also recorded
    for status); ``waiting``: nothing to do until the user fixes the file (or the mirror is off)."""

    __slots__ = ("imported", "exported", "retry_in_ms", "error", "waiting")

    def __init__(self, imported=None, exported=False, retry_in_ms=None, error=None, waiting=False):
        self.imported = imported
        self.exported = exported
        self.retry_in_ms = retry_in_ms
        self.error = error
        self.waiting = waiting

    def __repr__(self):
        return "SyncResult(imported=%r, exported=%r, retry_in_ms=%r, error=%r, waiting=%r)" % (
            None if self.imported is None else self.imported.revision,
            self.exported,
            self.retry_in_ms,
            self.error,
            self.waiting,
        )


def stat_of(file):
    """``(size, mtime in integer ms)`` of a file, or None when it does not exist."""
    try:
        st = os.stat(file)
    except FileNotFoundError:
        return None
    return (st.st_size, st.st_mtime_ns // 1000000)


def sha256(data):
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _num(text, default=None):
    """Meta text → number, as JavaScript's ``Number()`` reads the few forms psmc writes."""
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return float("nan")


def setting_of(text):
    return text if text in ("toml", "yaml", "off") else "json"


def _iso(ms):
    from ..clock import iso_utc

    return iso_utc(ms)


_pending_at_exit = []
_exit_hook = []


def _flush_at_exit():
    for m in list(_pending_at_exit):
        try:
            m.flush()
        except Exception as e:  # noqa: BLE001 — at exit there is no caller left to tell
            import sys

            sys.stderr.write("psmc: could not update the mirror %s at exit: %s\n" % (m.file, e))


class Mirror(object):
    """The mirror of one store (one per open database per process; :mod:`psmc.shared` owns it).

    ``host`` provides ``dir``, ``storage``, ``schema_in(tx)``, ``clock()`` (wall ms) and
    ``apply_commit(result)`` (called after an import commits: updates caches, notifies watchers).
    """

    def __init__(self, host):
        self._host = host
        self._setting = setting_of(host.storage.read_meta(META_FORMAT))
        self._codec = None
        #: (format, SHA-256, text, layout) of the file this engine last wrote by a span update, so
        #: the next export need not parse it again (see _updated_text); None when not known.
        self._layout_cache = None
        self._known = None  # (size, mtime) after the last sync, "missing", or None (unknown)
        self._pending = False
        self._last_export = float("-inf")
        self._export_gap = EXPORT_INTERVAL_MS / 1000.0  # seconds between exports during a burst
        self._closed = False
        self._syncing = False
        #: The last error of a sync this engine ran on its own (after a commit, at a read), for status.
        self.last_background_error = None
        _sweep_temps(host.dir, host.clock())

    @property
    def format(self):
        return self._setting

    @property
    def file(self):
        return os.path.join(self._host.dir, MIRROR_FILES["json" if self._setting == "off" else self._setting])

    @property
    def pending(self):
        """True when commits wait to be exported."""
        return self._pending

    def _codec_now(self):
        if self._codec is None:
            from . import codec_for

            self._codec = codec_for("json" if self._setting == "off" else self._setting)
        return self._codec

    # -- detection -------------------------------------------------------------------------

    def changed_on_disk(self):
        """Cheap check (one stat): True when the file may hold a hand edit (or was deleted) since
        the last sync. Reads and writes call it before syncing."""
        if self._setting == "off":
            return False
        st = stat_of(self.file)
        known = self._known
        if known is None:
            return True
        if st is None:
            return known != "missing"
        return known == "missing" or known != st

    def needs_sync(self):
        """True when a sync has work to do: the file changed (or vanished) since the last export
        or import, or the database moved past the revision the file shows. A stat and one query,
        no write lock: a one-shot ``get`` on a store in sync pays no more."""
        if self._setting == "off":
            return False
        s = self._host.storage
        st = stat_of(self.file)
        if st is None:
            return True
        meta = s.read_metas(_CHECK_META)
        if _num(meta.get(META_SIZE)) != st[0] or _num(meta.get(META_MTIME)) != st[1]:
            return True
        if _num(meta.get(META_REVISION), -1) < s.read_state().revision and meta.get(META_ERROR) is None:
            return True
        self._known = st
        return False

    # -- sync --------------------------------------------------------------------------------

    def sync(self):
        """Imports a pending hand edit and exports pending changes, now. Returns a
        :class:`SyncResult`. Raises only for store failures (busy, I/O, closed, corrupt)."""
        if self._setting == "off":
            return SyncResult()
        if self._syncing:
            return SyncResult()
        self._syncing = True
        try:
            return self._sync()
        finally:
            self._syncing = False

    def _sync(self):
        try:
            result = self._host.storage.write(self._import_in)
        except PsmcError as e:
            if e.code in _PASS_THROUGH:
                raise
            # The hand edit is invalid (syntax, key, value, schema): the transaction rolled back;
            # record the error so status can show it, keep the file as the user saved it.
            return SyncResult(error=self._record_error(e))
        if result.imported is not None:
            self._host.apply_commit(result.imported)
        if result.retry_in_ms is not None or result.error is not None or result.waiting:
            return result
        started = time.monotonic()
        exported = result.exported or self._export_if_needed()
        if exported:
            self._last_export = time.monotonic()
            self._export_gap = max(EXPORT_INTERVAL_MS / 1000.0, 3 * (self._last_export - started))
        self._set_pending(False)
        result.exported = exported
        return result

    def _import_in(self, tx):
        """Under the write lock: notices a hand edit (or a deleted file) and imports it. Exports
        only to regenerate a missing file and to correct a file whose edit lost a conflict."""
        fmt = tx.read_meta(META_FORMAT)
        if fmt is not None:
            new = setting_of(fmt)
            if new != self._setting:
                self._setting = new
                self._codec = None
                self._layout_cache = None
        if self._setting == "off":
            return SyncResult(waiting=True)
        file = self.file
        state = tx.read_state()
        st = stat_of(file)
        if st is None:
            # No file (first export, or the user deleted it): write it from the database.
            self._export_full(tx, state.revision)
            return SyncResult(exported=True)
        if _num(tx.read_meta(META_SIZE)) == st[0] and _num(tx.read_meta(META_MTIME)) == st[1]:
            if tx.read_meta(META_ERROR) is not None:
                return SyncResult(waiting=True)
            self._known = st
            return SyncResult()
        with open(file, "rb") as f:
            data = f.read()
        digest = sha256(data)
        if digest == tx.read_meta(META_HASH):
            # Touched, not changed (or rewritten with the same bytes); a fixed-back file clears the error.
            self._record_stat(tx, st)
            tx.write_meta(META_ERROR, None)
            tx.write_meta(META_ERROR_HASH, None)
            return SyncResult()
        if digest == tx.read_meta(META_ERROR_HASH):
            # The same invalid edit as before: still waiting for the user to fix it.
            self._known = st
            return SyncResult(waiting=True)
        from .hand_edit import decode_utf8

        text = decode_utf8(data, file)
        age = self._host.clock() - st[1]
        if text.strip() == "":
            # Editors truncate, then write: an empty file is a save in progress, until it stays empty.
            if age < EMPTY_GRACE_MS:
                return SyncResult(retry_in_ms=EMPTY_GRACE_MS - max(0, age))
            self._export_full(tx, state.revision)
            return SyncResult(exported=True)
        if -1000 < age < SETTLE_MS:
            return SyncResult(retry_in_ms=SETTLE_MS - max(0, age) + 1)
        return self._import(tx, text, digest, st, _num(tx.read_meta(META_REVISION), 0))

    def _export_if_needed(self):
        """Exports the changes committed since the file was last written, holding the write lock
        only for the rename (see the module comment). If the world moved meanwhile, starts again
        (twice at most; then whoever moved it has exported)."""
        storage = self._host.storage
        for _attempt in range(3):
            plan = storage.read(self._plan)
            if plan is None:
                return False
            meta_revision, meta_hash, revision, changes = plan
            file = self.file
            before = stat_of(file)
            try:
                with open(file, "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                storage.write(self._import_in)
                return True
            digest = sha256(data)
            if digest != meta_hash:
                return False  # a hand edit: the next sync imports it first
            try:
                text, layout = self._updated_text(data.decode("utf-8"), digest, changes)
            except (PsmcError, UnicodeDecodeError):
                # The file parses no more although its hash matched (should not happen): write it anew.
                storage.write(lambda tx: self._export_full(tx, tx.read_state().revision))
                return True
            buf = text.encode("utf-8", "surrogatepass")
            written_digest = sha256(buf)
            tmp = write_temp(file, buf)

            def commit(tx):
                now = stat_of(file)
                moved = (
                    _num(tx.read_meta(META_REVISION)) != meta_revision
                    or tx.read_meta(META_HASH) != meta_hash
                    or now is None
                    or before is None
                    or now != before
                )
                if moved:
                    return False
                written = stat_of(tmp)
                commit_temp(tmp, file)
                self._record_written(tx, text, revision, written, written_digest)
                return True

            try:
                done = storage.write(commit)
            except BaseException:
                discard_temp(tmp)
                raise
            if done:
                self._layout_cache = None if layout is None else (self._setting, written_digest, text, layout)
                return True
            discard_temp(tmp)
        return False

    def _plan(self, tx):
        meta_revision = _num(tx.read_meta(META_REVISION))
        revision = tx.read_state().revision
        if meta_revision is not None and meta_revision >= revision:
            return None
        if tx.read_meta(META_ERROR) is not None:
            return None
        meta_hash = tx.read_meta(META_HASH)
        from ..value import decode_stored

        changes = []
        for key in tx.keys_changed_after(0 if meta_revision is None else meta_revision):
            row = tx.read_row(key)
            changes.append((key, _DELETE() if row is None else decode_stored(row.value)))
        return (meta_revision, meta_hash, revision, changes)

    def _record_stat(self, tx, st):
        tx.write_meta(META_SIZE, str(st[0]))
        tx.write_meta(META_MTIME, str(st[1]))
        self._known = st

    def write_and_record(self, tx, text, revision):
        """Writes ``text`` over the mirror atomically and records it as exported at ``revision``."""
        tmp = write_temp_retrying(self.file, text)
        written = stat_of(tmp)
        commit_temp(tmp, self.file)
        self._record_written(tx, text, revision, written)

    def _record_written(self, tx, text, revision, st, digest=None):
        """Records ``text`` as the mirror's content at ``revision``. ``st`` is the stat of the temp
        file taken before its rename (a rename keeps size and mtime): a stat of the target after the
        rename could see a hand save that landed in between, record it as ours, and never import it."""
        if st is None:
            raise PsmcError(
                "PSMC_IO",
                "The temp file for %s vanished right after it was written." % self.file,
                "Check what else writes to the store directory.",
            )
        tx.write_meta(META_REVISION, str(revision))
        tx.write_meta(META_HASH, digest if digest is not None else sha256(text.encode("utf-8", "surrogatepass")))
        tx.write_meta(META_EXPORTED_AT, _iso(self._host.clock()))
        tx.write_meta(META_ERROR, None)
        tx.write_meta(META_ERROR_HASH, None)
        self._record_stat(tx, st)

    def _export_full(self, tx, revision):
        from ..value import decode_stored

        text = self._codec_now().render([(r.key, decode_stored(r.value)) for r in tx.all_rows()])
        self.write_and_record(tx, text, revision)

    def _updated_text(self, base, digest, changes):
        """``(text, layout)``: the file with ``changes`` applied; see :func:`.text_update.updated_text`."""
        from .text_update import updated_text

        return updated_text(self._codec_now(), self._setting, self._layout_cache, base, digest, changes)

    def _import(self, tx, text, digest, st, base_revision):
        from .hand_edit import import_edit

        return import_edit(self, tx, text, digest, st, base_revision)

    def _record_error(self, e):
        from .hand_edit import record_error

        return record_error(self, e)

    # -- after commits ---------------------------------------------------------------------------

    def _set_pending(self, pending):
        self._pending = pending
        if pending:
            if self not in _pending_at_exit:
                _pending_at_exit.append(self)
            if not _exit_hook:
                _exit_hook.append(True)
                atexit.register(_flush_at_exit)
        elif self in _pending_at_exit:
            _pending_at_exit.remove(self)

    def after_commit(self):
        """Marks committed changes to export and exports them now unless the last export was
        less than the export interval ago (see the module comment). Never raises: a failure is kept
        in ``last_background_error`` for status, and the export stays pending."""
        if self._setting == "off" or self._closed:
            return
        self._set_pending(True)
        if self._syncing:
            return
        if time.monotonic() - self._last_export >= self._export_gap:
            self.run_pending()

    def due(self, now):
        """True when an export is pending and the interval since the last one has passed."""
        return self._pending and now - self._last_export >= self._export_gap

    def run_pending(self):
        """Runs a pending export now, keeping (not raising) a failure."""
        try:
            self.sync()
            self.last_background_error = None
        except Exception as e:  # noqa: BLE001 — kept for status(); the next write, flush or close retries
            self.last_background_error = e

    def flush(self):
        """Exports pending changes now (``close()`` and interpreter exit call it)."""
        if self._pending and self._setting != "off":
            self.sync()
        self._set_pending(False)

    # -- status and settings ---------------------------------------------------------------------

    def status(self):
        """The mirror's state as TypeScript's ``MirrorStatus`` (a dict with the same names)."""
        from ..value import decode_stored

        s = self._host.storage
        meta = s.read_metas(ALL_META)
        revision = _num(meta.get(META_REVISION), 0)
        error_text = meta.get(META_ERROR)
        error = None if error_text is None else decode_stored(error_text)
        st = None if self._setting == "off" else stat_of(self.file)
        if self._setting == "off":
            state = "off"
        elif error is not None:
            state = "invalid-edit"
        elif st is None:
            state = "missing"
        elif _num(meta.get(META_SIZE)) != st[0] or _num(meta.get(META_MTIME)) != st[1]:
            state = "pending-import"
        elif revision < s.read_state().revision:
            state = "pending-export"
        else:
            state = "in-sync"
        out = {"file": self.file, "format": self._setting, "state": state, "revision": revision}
        if meta.get(META_EXPORTED_AT) is not None:
            out["exportedAt"] = meta[META_EXPORTED_AT]
        if meta.get(META_IMPORTED_AT) is not None:
            out["importedAt"] = meta[META_IMPORTED_AT]
        if error is not None:
            out["error"] = error
        return out

    def set_format(self, setting):
        """Switches the store's mirror format (or turns it off). The old format's file is left in
        place; a stale file of the new format is renamed aside (``config.toml.old-<time>``) and
        the new file written from the database."""
        self.flush()

        def run(tx):
            tx.write_meta(META_FORMAT, setting)
            for m in ALL_META:
                if m != META_FORMAT:
                    tx.write_meta(m, None)
            if setting == "off":
                return
            target = os.path.join(self._host.dir, MIRROR_FILES[setting])
            if stat_of(target) is not None:
                stamp = _iso(self._host.clock()).replace(":", "-").replace(".", "-")
                os.rename(target, "%s.old-%s" % (target, stamp))

        self._host.storage.write(run)
        self._setting = setting
        self._codec = None
        self._layout_cache = None
        self._known = None
        if setting != "off":
            self.sync()

    def close(self):
        """Flushes a pending export and stops. A failure does not raise (the database is the
        authority and the next open exports again); it is reported as a warning."""
        if self._closed:
            return
        try:
            self.flush()
        except Exception as e:  # noqa: BLE001 — close() must not fail on the mirror
            import warnings

            warnings.warn("psmc: could not update the mirror %s on close: %s" % (self.file, e), RuntimeWarning, 2)
        finally:
            self._closed = True
            self._set_pending(False)


def _DELETE():  # noqa: N802 — the codecs' DELETE marker, loaded with them
    from .common import DELETE

    return DELETE


def _sweep_temps(directory, now_ms):
    """Removes temp files of the mirror left by writers killed mid-export (older than a minute:
    a live export finishes well within that). One listdir."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return
    for name in names:
        if not name.startswith(".config.") or TEMP_MARK not in name:
            continue
        path = os.path.join(directory, name)
        st = stat_of(path)
        if st is not None and now_ms - st[1] > 60000:
            discard_temp(path)
