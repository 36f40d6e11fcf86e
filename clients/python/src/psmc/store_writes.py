"""The Store's writes (spec/SPEC.md §revision, §cas, §batch, §undo, §schema, §export; TypeScript:
the matching methods of src/store/store.ts): set, delete, batch, undo, set_schema, and the export
document (export_data / import_data). Each write is one BEGIN IMMEDIATE transaction; before it, a
hand edit of the mirror saved since the last look is imported (so the write merges with it); after
it, the read cache holds what was written and the mirror exports (see
:mod:`psmc.mirror.engine`). Kept apart from the layering of :mod:`psmc.store`;
:class:`psmc.Store` inherits them."""
import os

from .errors import PsmcError
from .source import assert_source
from .value import decode_stored, js_quote, stringify


class WriteMethods(object):
    """Mixed into :class:`psmc.store.Store`."""

    __slots__ = ()

    def set(self, key, value, expect_revision=None, source=None):
        """Sets ``key`` in the write store (the project store when open, else the user store).

        With ``expect_revision``, raises PSMC_CONFLICT unless the key is still at that revision
        (0: the key must not exist). Returns a :class:`psmc.change.Commit`.
        """
        from .engine import prepare_changes

        return self._commit(prepare_changes([{"op": "set", "key": key, "value": value, "expect_revision": expect_revision}]), source)

    def delete(self, key, expect_revision=None, source=None):
        """Deletes ``key`` from the write store (recorded). Deleting an absent key changes nothing."""
        from .engine import prepare_changes

        return self._commit(prepare_changes([{"op": "delete", "key": key, "expect_revision": expect_revision}]), source)

    def batch(self, changes, source=None):
        """Applies several changes in one transaction: all or none, one revision.

        ``changes``: dicts ``{"op": "set", "key", "value", "expect_revision"?}`` /
        ``{"op": "delete", "key", "expect_revision"?}``.
        """
        if isinstance(changes, (str, bytes, dict)):
            raise TypeError("batch() takes a list of changes")
        from .engine import prepare_changes

        return self._commit(prepare_changes(changes), source)

    def _wall(self):
        if self._clock is None:
            from .clock import system_clock

            self._clock = system_clock
        return self._clock

    def _commit(self, prepared, source, note=None):
        from .engine import commit_changes, to_commit

        src = assert_source(self._source if source is None else source)
        self._ensure_open()
        self._try_attach(self._write)
        if self._write.shared is None:
            # The store does not exist yet: every key is absent. Refuse what would fail before creating it.
            for c in prepared:
                if c.expect_revision is not None and c.expect_revision != 0:
                    raise PsmcError(
                        "PSMC_CONFLICT",
                        "The key %s does not exist (the store is empty), but the write expected revision %d."
                        % (js_quote(c.key), c.expect_revision),
                        "Someone else changed it first. Read the current value, merge your change into it, and retry "
                        "with its revision.",
                        {"key": c.key, "expectedRevision": c.expect_revision, "currentRevision": 0},
                    )
        shared = self._write_shared()
        shared.before_write()
        clock = self._wall()
        result = shared.storage.write(
            lambda tx: commit_changes(tx, prepared, clock(), src, shared.schema_in, note)
        )
        shared.apply_commit(result)
        if result.records:
            self._maybe_auto_snapshot(result.revision)
        return to_commit(result)

    def undo(self, revision=None, force=False, source=None):
        """Reverts one revision (the newest by default) as a new change. Raises PSMC_CONFLICT
        when a key it touched changed again since, unless ``force``."""
        from .engine import commit_changes, commit_schema, plan_undo, to_commit

        src = assert_source(self._source if source is None else source)
        self._ensure_open()
        self._try_attach(self._write)
        if self._write.shared is None and not self._read_only:
            raise PsmcError(
                "PSMC_NOTHING_TO_UNDO",
                "The store at %s has no changes to undo (it does not exist yet)." % self._write.dir,
                "Nothing was ever written to this store.",
            )
        shared = self._write_shared()
        clock = self._wall()

        def run(tx):
            plan = plan_undo(tx, revision, bool(force))
            note = "undo of revision %d" % plan.revision
            if plan.schema is not None:
                doc = plan.schema[0]
                return commit_schema(tx, doc, clock(), src, lambda rows: _check_rows(doc, rows), note)
            return commit_changes(tx, plan.changes, clock(), src, shared.schema_in, note)

        result = shared.storage.write(run)
        shared.apply_commit(result)
        return to_commit(result)

    def set_schema(self, doc, source=None):
        """Replaces the write store's schema (None removes it), recorded as ``@schema``. Raises
        PSMC_SCHEMA_INVALID for a bad document, PSMC_SCHEMA_VIOLATION when a stored value fails it."""
        from .engine import commit_schema, to_commit
        from .schema import parse_schema_document

        src = assert_source(self._source if source is None else source)
        text = None if doc is None else stringify(parse_schema_document(doc))
        shared = self._write_shared()
        clock = self._wall()
        result = shared.storage.write(lambda tx: commit_schema(tx, text, clock(), src, lambda rows: _check_rows(text, rows)))
        shared.apply_commit(result)
        return to_commit(result)

    def export_data(self):
        """The write store's keys with metadata (§export), read in one consistent transaction."""
        from .store_snapshots import export_document

        self._ensure_open()
        self._try_attach(self._write)
        shared = self._write.shared
        if shared is None:
            return {"format": "psmc-export", "version": 1, "revision": 0, "entries": {}}
        state, rows, schema = shared.storage.read_all()
        return export_document(state.revision, rows, schema)

    def import_data(self, doc, replace=False, source=None, file=None, snapshot=True):
        """Merges an export document (or a flat dict of key -> value) into the write store as one
        batch; with ``replace``, keys absent from the document are deleted. The source defaults to
        ``import:<file name>`` when ``file`` is given."""
        from .engine import prepare_changes
        from .export import parse_export

        self._ensure_open()
        values = parse_export(doc, file)
        changes = [{"op": "set", "key": k, "value": v} for k, v in values.items()]
        if replace:
            self._try_attach(self._write)
            shared = self._write.shared
            if shared is not None:
                for row in shared.storage.list_rows(""):
                    if row.key not in values:
                        changes.append({"op": "delete", "key": row.key})
        if source is None and file is not None:
            source = "import:%s" % os.path.basename(file)
        prepared = prepare_changes(changes)
        if snapshot and self._write.shared is not None and prepared:
            self._before_import_snapshot(assert_source(self._source if source is None else source))
        return self._commit(prepared, source)


def _check_rows(doc_text, rows):
    if doc_text is None:
        return
    from .schema import CompiledSchema, parse_schema_document

    schema = CompiledSchema(parse_schema_document(decode_stored(doc_text)), parsed=True)
    for r in rows:
        schema.validate(r.key, decode_stored(r.value))
