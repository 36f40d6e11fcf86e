"""The Store: one handle on the layered configuration of an app (spec/SPEC.md §layers;
TypeScript: src/store/store.ts). It wires the pure core to the SQLite adapter, the
platform paths and the environment. ``get()`` and ``set()`` never start threads,
timers or watchers; the database is created by the first write, never by a read.
"""
import os
from time import monotonic as _monotonic

from .env import coerce_env, env_name, is_reserved_env_name, prefix_from_app, snapshot_env
from .errors import PsmcError
from .keys import assert_key, is_valid_key, key_has_prefix, normalize_prefix
from .source import assert_source
from .paths import (
    DATABASE_FILE,
    PROJECT_DIR,
    assert_app_name,
    canonical_dir,
    ensure_dir,
    find_project_store,
    user_store_dir,
)
from .shared import SharedStore, acquire_shared, release_shared
from .store_sync import SyncMethods
from .value import assert_value, decode_stored, deep_copy, encode_value, js_quote, stringify


class _Missing(object):
    __slots__ = ()

    def __repr__(self):
        return "psmc.MISSING"

    def __bool__(self):
        return False


#: Pass ``default=MISSING`` to :meth:`Store.get` to receive MISSING (instead of None) when no
#: layer has the key, telling "absent" from a stored JSON null.
MISSING = _Missing()
_MISS = SharedStore._MISS


def _copy_out(v):
    return deep_copy(v) if isinstance(v, (dict, list)) else v


def _layer_map(what, data):
    out = {}
    if data is None:
        return out
    if not isinstance(data, dict):
        raise TypeError("%s must be a dict of key -> value, received %s" % (what, type(data).__name__))
    for k, v in data.items():
        assert_key(k, "%s key" % what)
        out[k] = decode_stored(encode_value(v, k))
    return out


class Resolved(object):
    """The resolved value of a key and where it came from."""

    __slots__ = ("key", "value", "found", "layer", "revision", "source", "updated_at")

    def __init__(self, key, value, found, layer, revision, source, updated_at):
        self.key = key
        self.value = value
        self.found = found
        self.layer = layer
        self.revision = revision
        self.source = source
        self.updated_at = updated_at

    def to_json(self):
        """As TypeScript's ``JSON.stringify`` shows it (members without a value left out)."""
        out = {"key": self.key}
        if self.found:
            out["value"] = self.value
        out["found"] = self.found
        if self.layer is not None:
            out["layer"] = self.layer
        out["revision"] = self.revision
        if self.source is not None:
            out["source"] = self.source
        if self.updated_at is not None:
            out["updatedAt"] = self.updated_at
        return out

    def __repr__(self):
        return "Resolved(%r, value=%r, layer=%r, revision=%r)" % (self.key, self.value, self.layer, self.revision)


class LayerCandidate(object):
    __slots__ = ("layer", "present", "value", "origin", "revision", "source", "updated_at", "error")

    def __init__(self, layer, present, origin, value=None, revision=None, source=None, updated_at=None, error=None):
        self.layer = layer
        self.present = present
        self.value = value
        self.origin = origin
        self.revision = revision
        self.source = source
        self.updated_at = updated_at
        self.error = error  # {"code", "message", "hint"} when the layer has something unusable

    def to_json(self):
        out = {"layer": self.layer, "present": self.present}
        if self.present:
            out["value"] = self.value
        out["origin"] = self.origin
        if self.revision is not None:
            out["revision"] = self.revision
        if self.source is not None:
            out["source"] = self.source
        if self.updated_at is not None:
            out["updatedAt"] = self.updated_at
        if self.error is not None:
            out["error"] = self.error
        return out


class Explanation(Resolved):
    __slots__ = ("layers", "reason")

    def __init__(self, key, value, found, layer, revision, source, updated_at, layers, reason):
        Resolved.__init__(self, key, value, found, layer, revision, source, updated_at)
        self.layers = layers
        self.reason = reason

    def to_json(self):
        out = Resolved.to_json(self)
        out["layers"] = [l.to_json() for l in self.layers]
        out["reason"] = self.reason
        return out


class _Slot(object):
    __slots__ = ("layer", "dir", "file", "shared")

    def __init__(self, layer, directory):
        self.layer = layer
        self.dir = canonical_dir(directory)
        self.file = os.path.join(self.dir, DATABASE_FILE)
        self.shared = None


class _EnvCandidate(object):
    __slots__ = ("variable", "raw", "value", "error")

    def __init__(self, variable, raw, value=None, error=None):
        self.variable = variable
        self.raw = raw
        self.value = value
        self.error = error


def open_store(
    app=None,
    dir=None,
    project=None,
    env=None,
    env_prefix=None,
    overrides=None,
    defaults=None,
    source="python",
    durability="full",
    busy_timeout_ms=10000,
    clock=None,
    freshness_ms=5,
    cwd=None,
    create_project=False,
    read_only=False,
    mirror=True,
):
    """Opens the configuration of an app: its user store, optionally a project store, the
    environment, and the given overrides and defaults.

    - ``app``: picks the user store (platform config dir) and the env prefix; default ``psmc``.
    - ``dir``: an explicit store directory, the one store (no platform dir, no project).
    - ``project``: a directory holding (or to hold) ``.psmc/``, ``True`` to find ``.psmc/`` by
      walking up from ``cwd``, or None/False for none. Writes go to the project store when open.
    - ``env``: the environment mapping (default ``os.environ``), read once, now.
    - ``env_prefix``: ``<PREFIX>_DISPLAY__UNITS`` feeds ``display.units``; ``False`` turns the
      env layer off; default: the app name upper-cased with ``-`` as ``_``.
    - ``overrides`` / ``defaults``: key -> value dicts above / below the stores.
    - ``source``: recorded on writes (default ``python``).
    - ``durability``: ``full`` (synchronous=FULL, default) or ``normal``.
    - ``busy_timeout_ms``: how long a writer waits for the lock before PSMC_BUSY.
    - ``clock``: test hook, a callable returning wall ms since the epoch.
    - ``freshness_ms``: how stale a read may be with respect to other processes' commits.
    - ``mirror``: keep the plaintext mirror file in step (default True; spec/sections/mirror-sync.md):
      hand edits are imported on open, before writes and on reads (at most every 50 ms), and
      commits are exported (see :mod:`psmc.mirror.engine` for when). A read-only handle never
      touches the file.

    >>> store = open_store(app="plantctl", defaults={"display.units": "metric"})
    >>> store.set("display.units", "imperial")
    >>> store.get("display.units")
    'imperial'
    """
    return Store(
        app=app,
        dir=dir,
        project=project,
        env=env,
        env_prefix=env_prefix,
        overrides=overrides,
        defaults=defaults,
        source=source,
        durability=durability,
        busy_timeout_ms=busy_timeout_ms,
        clock=clock,
        freshness_ms=freshness_ms,
        cwd=cwd,
        create_project=create_project,
        read_only=read_only,
        mirror=mirror,
    )


class Store(SyncMethods):
    """A handle on a layered store. Use as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        app=None,
        dir=None,
        project=None,
        env=None,
        env_prefix=None,
        overrides=None,
        defaults=None,
        source="python",
        durability="full",
        busy_timeout_ms=10000,
        clock=None,
        freshness_ms=5,
        cwd=None,
        create_project=False,
        read_only=False,
        mirror=True,
    ):
        self._closed = False
        self._slots = []
        self._fast = None
        self._watchers = []
        self._mirror = bool(mirror)
        app = "psmc" if app is None else app
        assert_app_name(app)
        env = os.environ if env is None else env
        if env_prefix is False:
            self._env_prefix = False
        else:
            self._env_prefix = prefix_from_app(app) if env_prefix is None else env_prefix
            import re

            if not isinstance(self._env_prefix, str) or re.match(r"[A-Z][A-Z0-9_]*\Z", self._env_prefix) is None:
                raise TypeError(
                    'env_prefix must be upper-case letters, digits and "_", starting with a letter, received %r'
                    % (self._env_prefix,)
                )
        self._source = assert_source(source)
        if not isinstance(freshness_ms, (int, float)) or not 0 <= freshness_ms <= 10000:
            raise ValueError("freshness_ms must be between 0 and 10000")
        self._freshness_ms = freshness_ms
        self._fresh_s = freshness_ms / 1000.0
        self._clock = clock
        self._read_only = bool(read_only)
        if durability not in ("full", "normal"):
            raise TypeError("durability must be 'full' or 'normal', received %r" % (durability,))
        self._durability = durability
        self._busy_timeout_ms = busy_timeout_ms
        self._overrides = _layer_map("overrides", overrides)
        self._defaults = _layer_map("defaults", defaults)
        self._env_vars = {} if self._env_prefix is False else snapshot_env(env, self._env_prefix)
        self._env_cache = {}
        self._env_epoch = -1

        project_dir = None
        if dir is not None:
            if not isinstance(dir, (str, os.PathLike)) or str(dir) == "":
                raise TypeError("dir must be a non-empty path")
            user_dir = os.fspath(dir)
        else:
            home = None if self._env_prefix is False else env.get("%s_HOME" % self._env_prefix)
            user_dir = home if home else user_store_dir(app, env)
            cwd = os.getcwd() if cwd is None else os.fspath(cwd)
            if project is True:
                project_dir = find_project_store(cwd)
            elif isinstance(project, (str, os.PathLike)):
                project_dir = os.path.join(os.path.abspath(os.path.join(cwd, os.fspath(project))), PROJECT_DIR)
                if not os.path.exists(project_dir):
                    if create_project and not self._read_only:
                        ensure_dir(project_dir)
                    else:
                        raise PsmcError(
                            "PSMC_STORE_NOT_FOUND",
                            "There is no project store at %s." % project_dir,
                            "Create one with `psmc init` in that directory (or pass create_project=True).",
                            {"path": project_dir},
                        )
            elif project not in (None, False):
                raise TypeError("project must be a path, True, False or None")
        user = _Slot("user", user_dir)
        proj = None if project_dir is None else _Slot("project", project_dir)
        self._slots = [user] if proj is None else [proj, user]
        self._write = proj or user
        self.app = app
        self.env_prefix = self._env_prefix
        self.write_layer = self._write.layer
        self.user_dir = user.dir
        self.project_dir = None if proj is None else proj.dir
        try:
            for s in self._slots:
                self._try_attach(s)
        except BaseException:
            self.close()
            raise
        if self._read_only and self._write.shared is None:
            self.close()
            raise PsmcError(
                "PSMC_STORE_NOT_FOUND",
                "There is no store at %s to open read-only." % self._write.dir,
                "Write a value first (which creates the store), or check the path, --store and PSMC_HOME.",
                {"path": self._write.dir},
            )

    # -- plumbing ------------------------------------------------------------

    @property
    def info(self):
        """Paths and settings of this handle."""
        user = next(s for s in self._slots if s.layer == "user")
        proj = next((s for s in self._slots if s.layer == "project"), None)
        return {
            "app": self.app,
            "envPrefix": self._env_prefix,
            "writeLayer": self._write.layer,
            "user": {"dir": user.dir, "database": user.file},
            "project": None if proj is None else {"dir": proj.dir, "database": proj.file},
        }

    def _try_attach(self, slot):
        if slot.shared is None and os.path.exists(slot.file):
            slot.shared = acquire_shared(slot.dir, slot.file, self._durability, self._busy_timeout_ms)
            if self._mirror and not self._read_only:
                slot.shared.enable_mirror(self._wall())
            self._set_fast()

    def _set_fast(self):
        """get()'s hot path applies to a handle on one store with no override and no env value."""
        one = len(self._slots) == 1 and not self._overrides and not self._env_vars and not self._closed
        self._fast = self._slots[0].shared if one else None

    def _write_shared(self):
        self._ensure_open()
        if self._read_only:
            raise PsmcError(
                "PSMC_READ_ONLY",
                "This handle on %s was opened read-only." % self._write.dir,
                "Open the store without read_only to write.",
            )
        slot = self._write
        if slot.shared is None:
            ensure_dir(slot.dir)
            slot.shared = acquire_shared(slot.dir, slot.file, self._durability, self._busy_timeout_ms)
            if self._mirror:
                slot.shared.enable_mirror(self._wall())
            self._set_fast()
        return slot.shared

    def _ensure_open(self):
        if self._closed:
            raise PsmcError(
                "PSMC_CLOSED", "This store handle was closed.", "Open the store again; a handle cannot be used after close()."
            )

    def _from_slot(self, slot, key):
        shared = slot.shared
        if shared is None:
            self._try_attach(slot)
            shared = slot.shared
            if shared is None:
                return None
        shared.ensure_fresh(self._freshness_ms)
        return shared.read(key)

    def _schema(self):
        shared = self._write.shared
        if shared is None:
            return None
        shared.ensure_fresh(self._freshness_ms)
        return shared.schema()

    def _env(self, key):
        shared = self._write.shared
        epoch = 0 if shared is None else shared.schema_epoch
        if epoch != self._env_epoch:
            self._env_cache.clear()
            self._env_epoch = epoch
        if key in self._env_cache:
            return self._env_cache[key]
        c = None
        if self._env_prefix is not False:
            variable = env_name(self._env_prefix, key)
            raw = None if is_reserved_env_name(self._env_prefix, variable) else self._env_vars.get(variable)
            if raw is not None:
                schema = self._schema()
                try:
                    c = _EnvCandidate(
                        variable, raw, value=coerce_env(raw, None if schema is None else schema.schema_for(key), variable, key)
                    )
                except PsmcError as e:
                    c = _EnvCandidate(variable, raw, error=e)
        self._env_cache[key] = c
        return c

    # -- reads ---------------------------------------------------------------

    def get(self, key, default=None):
        """The value of ``key`` from the highest layer that has it, else ``default`` (else None).

        Pass ``default=psmc.MISSING`` to receive MISSING when no layer has the key. Values are
        copies: changing them changes nothing in the store. Raises PSMC_KEY_SYNTAX /
        PSMC_KEY_RESERVED for an illegal key and PSMC_ENV_COERCE when the key's environment
        variable does not parse.
        """
        # The hot path (one store, no overrides, no env values for this handle): within the
        # freshness bound of the last check, a cached present value is returned at once.
        shared = self._fast
        if shared is not None and _monotonic() - shared._last_check < self._fresh_s:
            v = shared._values.get(key, _MISS)
            if v is not _MISS:
                return deep_copy(v) if v.__class__ is dict or v.__class__ is list else v
        return self._get(key, default)

    def _get(self, key, default):
        self._ensure_open()
        if self._overrides:
            o = self._overrides.get(key, _MISS)
            if o is not _MISS:
                return _copy_out(o)
        if self._env_vars:
            if key not in self._env_cache:
                assert_key(key)
            w = self._write.shared
            if w is not None:
                w.ensure_fresh(self._freshness_ms)
            e = self._env(key)
            if e is not None:
                if e.error is not None:
                    raise e.error
                return _copy_out(e.value)
        validated = False
        for slot in self._slots:
            shared = slot.shared
            if shared is not None:
                shared.ensure_fresh(self._freshness_ms)
                hit = shared._cache.get(key, _MISS)
                if hit is not _MISS:
                    if hit is not None:
                        return _copy_out(hit.value)
                    continue
            if not validated:
                assert_key(key)
                validated = True
            entry = self._from_slot(slot, key)
            if entry is not None:
                return _copy_out(entry.value)
        if not validated:
            assert_key(key)
        d = self._defaults.get(key, _MISS)
        if d is not _MISS:
            return _copy_out(d)
        schema = self._schema()
        if schema is not None and schema.has_default(key):
            return _copy_out(schema.default_for(key))
        if default is MISSING or default is None:
            return default
        return deep_copy(assert_value(default, key))

    def __getitem__(self, key):
        v = self.get(key, MISSING)
        if v is MISSING:
            raise KeyError(key)
        return v

    def __contains__(self, key):
        return self.get(key, MISSING) is not MISSING

    def resolve(self, key, default=MISSING):
        """Like :meth:`get`, plus where the value came from (layer, revision, source, time)."""
        e = self.explain(key, default)
        if e.layer == "env":
            env_layer = next(l for l in e.layers if l.layer == "env")
            if env_layer.error is not None:
                raise self._env(key).error
        return Resolved(e.key, e.value, e.found, e.layer, e.revision, e.source, e.updated_at)

    def explain(self, key, default=MISSING):
        """Every layer's candidate for ``key``, which one won, and why. Never raises for a bad
        environment variable: it is reported as that layer's error."""
        self._ensure_open()
        assert_key(key)
        layers = []
        o = self._overrides.get(key, _MISS)
        layers.append(
            LayerCandidate("override", False, "process override")
            if o is _MISS
            else LayerCandidate("override", True, "process override", value=_copy_out(o))
        )
        if self._env_prefix is False:
            layers.append(LayerCandidate("env", False, "environment layer turned off"))
        else:
            variable = env_name(self._env_prefix, key)
            if is_reserved_env_name(self._env_prefix, variable):
                layers.append(LayerCandidate("env", False, "%s (reserved by psmc, not read as a value)" % variable))
            else:
                e = self._env(key)
                if e is None:
                    layers.append(LayerCandidate("env", False, variable))
                elif e.error is not None:
                    layers.append(
                        LayerCandidate(
                            "env",
                            False,
                            variable,
                            error={"code": e.error.code, "message": e.error.message, "hint": e.error.hint},
                        )
                    )
                else:
                    layers.append(LayerCandidate("env", True, variable, value=_copy_out(e.value), source="env:" + variable))
        for layer in ("project", "user"):
            slot = next((s for s in self._slots if s.layer == layer), None)
            if slot is None:
                layers.append(LayerCandidate(layer, False, "no project store" if layer == "project" else "no user store"))
                continue
            entry = self._from_slot(slot, key)
            if entry is None:
                layers.append(LayerCandidate(layer, False, slot.dir))
            else:
                layers.append(
                    LayerCandidate(
                        layer,
                        True,
                        slot.dir,
                        value=_copy_out(entry.value),
                        revision=entry.revision,
                        source=entry.source,
                        updated_at=entry.updated_at,
                    )
                )
        d = self._defaults.get(key, _MISS)
        schema = self._schema() if d is _MISS else None
        if d is not _MISS:
            layers.append(LayerCandidate("default", True, "shipped default", value=_copy_out(d)))
        elif schema is not None and schema.has_default(key):
            layers.append(LayerCandidate("default", True, "schema default", value=_copy_out(schema.default_for(key))))
        else:
            layers.append(LayerCandidate("default", False, "no default"))
        if default is MISSING:
            layers.append(LayerCandidate("caller", False, "no caller's default"))
        else:
            layers.append(LayerCandidate("caller", True, "caller's default", value=deep_copy(assert_value(default, key))))

        # A bad env value fails the read unless an override (the only higher layer) wins anyway.
        override = layers[0] if layers[0].present else None
        env_error = None if override is not None else next(l for l in layers if l.layer == "env").error
        winner = None if env_error is not None else next((l for l in layers if l.present), None)
        from .layers import explain_reason

        reason = explain_reason(key, layers)
        if env_error is not None:
            reason = "%s A read of this key fails until it is fixed. %s" % (env_error["message"], env_error["hint"])
        if winner is None:
            return Explanation(key, None, False, "env" if env_error is not None else None, 0, None, None, layers, reason)
        return Explanation(
            key,
            winner.value,
            True,
            winner.layer,
            winner.revision if winner.revision is not None else 0,
            winner.source if winner.source is not None else winner.origin,
            winner.updated_at,
            layers,
            reason,
        )

    def list(self, prefix=None):
        """The resolved value of every known key under ``prefix`` (all keys when omitted), sorted."""
        self._ensure_open()
        p = normalize_prefix(prefix)
        keys = set()
        for k in self._overrides:
            if key_has_prefix(k, p):
                keys.add(k)
        for k in self._defaults:
            if key_has_prefix(k, p):
                keys.add(k)
        schema = self._schema()
        if schema is not None:
            for k in schema.keys():
                if key_has_prefix(k, p) and is_valid_key(k):
                    keys.add(k)
        for slot in self._slots:
            self._try_attach(slot)
            if slot.shared is not None:
                for row in slot.shared.storage.list_rows(p):
                    keys.add(row.key)
        out = []
        for k in sorted(keys):
            r = self.resolve(k)
            if r.found:
                out.append(r)
        return out

    def all(self, prefix=None):
        """:meth:`list` as a plain dict of key -> value."""
        return {r.key: r.value for r in self.list(prefix)}

    # -- writes --------------------------------------------------------------

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

    def history(self, key=None, prefix=False, since_revision=None, until_revision=None, limit=None):
        """Recorded changes of the write store, newest first; of one key (or keys under it with
        ``prefix=True``) when given. ``@schema`` lists schema changes."""
        from .change import SCHEMA_HISTORY_KEY
        from .engine import to_record

        self._ensure_open()
        if key is not None and key != SCHEMA_HISTORY_KEY:
            assert_key(key)
        self._try_attach(self._write)
        shared = self._write.shared
        if shared is None:
            return []
        rows = shared.storage.history(
            key=key,
            prefix=bool(prefix) if key is not None else False,
            after_revision=since_revision,
            upto_revision=until_revision,
            limit=limit,
        )
        return [to_record(r) for r in rows]

    def revision(self):
        """The write store's current revision (0 when nothing was written yet)."""
        self._ensure_open()
        self._try_attach(self._write)
        shared = self._write.shared
        return 0 if shared is None else shared.storage.read_state().revision

    def schema(self):
        """The write store's schema document, or None."""
        self._ensure_open()
        self._try_attach(self._write)
        shared = self._write.shared
        stored = None if shared is None else shared.storage.read_schema()
        return None if stored is None else decode_stored(stored.doc)

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
        self._ensure_open()
        self._try_attach(self._write)
        shared = self._write.shared
        entries = {}
        if shared is None:
            return {"format": "psmc-export", "version": 1, "revision": 0, "entries": entries}
        state, rows, schema = shared.storage.read_all()
        for r in rows:
            entries[r.key] = {
                "value": decode_stored(r.value),
                "type": r.type,
                "revision": r.revision,
                "updatedAt": r.updated_at,
                "source": r.source,
            }
        out = {"format": "psmc-export", "version": 1, "revision": state.revision, "entries": entries}
        if schema is not None:
            out["schema"] = decode_stored(schema.doc)
        return out

    def import_data(self, doc, replace=False, source=None, file=None):
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
        return self._commit(prepare_changes(changes), source)

    def check_integrity(self):
        """Checks every open database; returns the problems found (empty when healthy)."""
        self._ensure_open()
        problems = []
        for slot in self._slots:
            self._try_attach(slot)
            if slot.shared is not None:
                problems.extend("%s: %s" % (slot.file, p) for p in slot.shared.storage.check_integrity())
        return problems

    def close(self):
        """Closes the handle. Safe to call twice."""
        if self._closed:
            return
        for w in list(self._watchers):
            w.close()
        self._watchers = []
        self._closed = True
        self._fast = None
        for s in self._slots:
            if s.shared is not None:
                release_shared(s.shared)
            s.shared = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def closed(self):
        return self._closed


def _check_rows(doc_text, rows):
    if doc_text is None:
        return
    from .schema import CompiledSchema, parse_schema_document

    schema = CompiledSchema(parse_schema_document(decode_stored(doc_text)), parsed=True)
    for r in rows:
        schema.validate(r.key, decode_stored(r.value))
