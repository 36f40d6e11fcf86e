"""The Store: one handle on the layered configuration of an app (spec/SPEC.md §layers;
TypeScript: src/store/store.ts). It wires the pure core to the SQLite adapter, the
platform paths and the environment. ``get()`` and ``set()`` never start threads,
timers or watchers; the database is created by the first write, never by a read.

The Store's methods live in one module per idea: layering and reads here, ``explain()`` in
:mod:`psmc.store_explain`, writes and the export document in :mod:`psmc.store_writes`, the mirror,
``imports/`` and watching in :mod:`psmc.store_sync`; result types in :mod:`psmc.resolved`.
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
from .resolved import MISSING, Explanation, LayerCandidate, Resolved, _copy_out  # noqa: F401 (re-exported)
from .shared import SharedStore, acquire_shared, release_shared
from .store_explain import ExplainMethods
from .store_snapshots import SnapshotMethods
from .store_sync import SyncMethods
from .store_writes import WriteMethods
from .value import assert_value, decode_stored, deep_copy, encode_value


_MISS = SharedStore._MISS


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


class Store(ExplainMethods, WriteMethods, SyncMethods, SnapshotMethods):
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
        # §env.mapping: on Windows the environment is case-insensitive; names are compared upper-cased.
        self._env_vars = {} if self._env_prefix is False else snapshot_env(env, self._env_prefix, case_insensitive=os.name == "nt")
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
                self._enable_mirror(slot.shared)
            self._set_fast()

    def _enable_mirror(self, shared):
        # A hand edit is an import: an automatic snapshot first, inside the import's transaction, so
        # it shows the store just before the edit is applied (the first handle's hook serves all).
        if shared.before_import is None:
            directory = os.path.join(shared.dir, "snapshots")

            def hook(tx):
                if not self._closed:
                    self._before_import_snapshot("file", tx, directory)

            hook.owner = self
            shared.before_import = hook
        shared.enable_mirror(self._wall())

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
                self._enable_mirror(slot.shared)
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
                if getattr(s.shared.before_import, "owner", None) is self:
                    s.shared.before_import = None
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


