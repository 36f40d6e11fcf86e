"""The subcommands (src/cli/commands/*.ts): each has ``args``, ``options``, ``usage`` and ``run(ctx)``.
The store is opened on first use: ``get`` on a store that was never written leaves no file."""
import re

from ..errors import PsmcError
from . import usage_error
from .format import inline_value, plain_value, short_time, table
from .status import STATUS_USAGE, run_status


# ---------------------------------------------------------------------------
# Which store (src/cli/open.ts)


def write_source(ctx):
    from_env = ctx.env.get("PSMC_SOURCE")
    if ctx.glob["source"] is not None:
        return ctx.glob["source"]
    return from_env if from_env else "python"


def open_cli_store(ctx):
    from ..store import open_store

    g = ctx.glob
    base = {"source": write_source(ctx), "env": dict(ctx.env), "cwd": ctx.cwd}
    if g["store"] is not None:
        if g["project"] is not None:
            raise usage_error("--store and --project cannot be used together.", "--store names the one store to use; drop one of them.")
        base["dir"] = g["store"]
        if g["app"] is not None:
            base["app"] = g["app"]
    else:
        base["app"] = g["app"] or "psmc"
        base["project"] = g["project"] if g["project"] is not None else True
    return open_store(**base)


class _With(object):
    def __init__(self, ctx):
        self.ctx = ctx

    def __enter__(self):
        self.store = open_cli_store(self.ctx)
        return self.store

    def __exit__(self, *exc):
        self.store.close()
        return False


def int_option(ctx, name, minimum, hint):
    text = ctx.options.get(name)
    if text is None:
        return None
    n = int(text) if re.match(r"^[0-9]{1,16}\Z", text) else None
    if n is None or n > 9007199254740991 or n < minimum:
        from ..value import js_quote

        raise usage_error("--%s must be a whole number \u2265 %d, received %s." % (name, minimum, js_quote(text)), hint)
    return n


def _shadow_note(store, key):
    e = store.explain(key)
    if e.layer not in ("override", "env"):
        return None
    winner = next((l for l in e.layers if l.layer == e.layer), None)
    origin = e.layer if winner is None else winner.origin
    if winner is not None and winner.error is not None:
        return "note: %s is set but unusable, so reads of %s fail: %s" % (origin, key, winner.error["message"])
    return "note: %s is set, so reads of %s still give %s (see psmc explain %s)" % (origin, key, inline_value(e.value), key)


# ---------------------------------------------------------------------------


GET_USAGE = """Usage: psmc get <key> [--default <value>]

Prints the value of <key> from the highest layer that has it (override, env,
project store, user store, default). A string is printed as is; any other
value as JSON. With --json, prints an object with key, value, found, layer,
revision, source and updatedAt.

Exits 3 (PSMC_NOT_FOUND) when no layer has the key and no --default is given.

Options:
  --default <value>   Print this when no layer has the key (parsed as JSON when
                      it parses, else taken as a string)

Examples:
  psmc get display.units
  psmc get display.units --json
  psmc get retries --default 3
  PSMC_DISPLAY__UNITS=imperial psmc get display.units"""


def run_get(ctx):
    from ..store import MISSING
    from ..value import parse_loose

    key = ctx.args[0]
    fallback = ctx.options.get("default")
    with _With(ctx) as store:
        r = store.resolve(key, MISSING if fallback is None else parse_loose(fallback, key))
    if not r.found:
        from ..value import js_quote

        raise PsmcError(
            "PSMC_NOT_FOUND",
            "The key %s is not set in any layer." % js_quote(key),
            "Set it with `psmc set %s <value>`, give --default <value>, or see where psmc looked with `psmc explain %s`."
            % (key, key),
            {"key": key},
        )
    if ctx.glob["json"]:
        ctx.json(r.to_json())
    else:
        ctx.out(plain_value(r.value))
    return 0


SET_USAGE = """Usage: psmc set <key> <value> [--string] [--expect-revision <n>]

Sets <key> in the store that receives writes (the project store when there is
one, else the user store), recorded in history with the --source.

<value> is parsed as JSON when it parses (1 is a number, true a boolean,
{"x":1} an object, "1" the string 1); anything else is taken as a string
(hello, metric). --string always takes it as a string.

With --expect-revision <n> the write is a compare-and-set: it succeeds only
if the key is still at revision <n> (0: the key must not exist yet), else it
fails with PSMC_CONFLICT (exit 4) and shows the current value. Take <n> from
`psmc get <key> --json`.

Options:
  --string                  Take <value> as a string, never as JSON
  --expect-revision <n>     Fail unless the key is at revision <n>

Examples:
  psmc set display.units metric
  psmc set retries 3
  psmc set build.tag 1.0 --string
  psmc set plot.range '{"min":0,"max":10}'
  psmc set display.units imperial --expect-revision 7
  psmc set offset -- -x"""


def run_set(ctx):
    from ..value import parse_loose

    key, text = ctx.args[0], ctx.args[1]
    expect = int_option(
        ctx, "expect-revision", 0, 'Pass the revision shown by `psmc get <key> --json` (0 means "the key must not exist yet").'
    )
    value = text if ctx.options.get("string") else parse_loose(text, key)
    with _With(ctx) as store:
        commit = store.set(key, value, expect_revision=expect)
        changed = len(commit.changes) > 0
        if ctx.glob["json"]:
            ctx.json(
                {
                    "key": key,
                    "value": value,
                    "changed": changed,
                    "revision": commit.revision,
                    "at": commit.at,
                    "changes": [c.to_json() for c in commit.changes],
                }
            )
        elif changed:
            ctx.out("%s = %s (revision %d)" % (key, inline_value(value, 200), commit.revision))
        else:
            ctx.out(
                "%s is already %s; nothing changed (store revision %d)" % (key, inline_value(value, 200), commit.revision)
            )
        note = _shadow_note(store, key)
        if note is not None:
            ctx.note(note)
    return 0


UNSET_USAGE = """Usage: psmc unset <key> [--expect-revision <n>]

Removes <key> from the store that receives writes (recorded in history, so
`psmc undo` brings it back). A key that is not set there is left alone.
Other layers (env, the user store under a project store, defaults) may
still give the key a value: `psmc explain <key>` shows them.

With --expect-revision <n>, fails with PSMC_CONFLICT (exit 4) unless the key
is still at revision <n>.

Options:
  --expect-revision <n>     Fail unless the key is at revision <n>

Examples:
  psmc unset display.units
  psmc unset display.units --expect-revision 7
  psmc unset display.units --json"""


def run_unset(ctx):
    key = ctx.args[0]
    expect = int_option(ctx, "expect-revision", 0, "Pass the revision shown by `psmc get <key> --json`.")
    with _With(ctx) as store:
        commit = store.delete(key, expect_revision=expect)
        removed = commit.changes[0] if commit.changes else None
        if ctx.glob["json"]:
            ctx.json(
                {
                    "key": key,
                    "changed": removed is not None,
                    "revision": commit.revision,
                    "at": commit.at,
                    "changes": [c.to_json() for c in commit.changes],
                }
            )
        elif removed is not None:
            ctx.out(
                "Unset %s (was %s; revision %d)"
                % (key, inline_value(removed.old_value, 200, absent=not removed.has_old), commit.revision)
            )
        else:
            ctx.out("%s is not set in the %s store; nothing changed" % (key, store.write_layer))
        r = store.explain(key)
        if r.found and r.layer is not None:
            ctx.note(
                "note: %s still resolves to %s from the %s layer (see psmc explain %s)" % (key, inline_value(r.value), r.layer, key)
            )
    return 0


LIST_USAGE = """Usage: psmc list [prefix]

Lists every key that has a value in some layer, sorted, with its resolved
value (cut to fit), the layer it comes from and its source. With a prefix,
only keys under it: `list display` gives display.units but not displays.x.
With --json, prints an array of objects like `psmc get --json` does.

Examples:
  psmc list
  psmc list display
  psmc list --json"""


def run_list(ctx):
    prefix = ctx.args[0]
    with _With(ctx) as store:
        rows = store.list(prefix)
    if ctx.glob["json"]:
        ctx.json([r.to_json() for r in rows])
        return 0
    if not rows:
        ctx.note("No keys are set." if prefix is None else "No keys are set under %s." % prefix)
        return 0
    for l in table(
        ["KEY", "VALUE", "LAYER", "SOURCE"], [[r.key, inline_value(r.value, 50), r.layer or "", r.source or ""] for r in rows]
    ):
        ctx.out(l)
    return 0


EXPLAIN_USAGE = """Usage: psmc explain <key>

Shows, highest first, what every layer holds for <key>: process overrides,
the environment variable (PSMC_<KEY> with . written as __), the project
store, the user store, defaults. The winning layer is marked with *, and a
last line says why it wins. An environment variable that does not parse is
shown with its error. With --json, prints the whole explanation object.

Examples:
  psmc explain display.units
  PSMC_DISPLAY__UNITS=imperial psmc explain display.units
  psmc explain display.units --json"""


def run_explain(ctx):
    key = ctx.args[0]
    with _With(ctx) as store:
        e = store.explain(key)
    if ctx.glob["json"]:
        ctx.json(e.to_json())
        return 0
    ctx.out(key)
    rows = []
    for l in e.layers:
        won = e.layer == l.layer and (l.present or l.error is not None)
        if l.error is not None:
            value = "(error: %s)" % l.error["code"]
        elif l.present:
            value = inline_value(l.value, 50)
        else:
            value = "-"
        meta = [l.origin]
        if l.revision is not None:
            meta.append("revision %d" % l.revision)
        if l.source is not None and l.layer != "env":
            meta.append("by %s" % l.source)
        if l.updated_at is not None:
            meta.append(short_time(l.updated_at))
        rows.append(["*" if won else " ", l.layer, value, ", ".join(meta)])
    for line in table(["", "LAYER", "VALUE", "WHERE"], rows):
        ctx.out("  " + line)
    for l in e.layers:
        if l.error is not None:
            ctx.out("  %s: %s" % (l.layer, l.error["message"]))
    ctx.out(e.reason)
    return 0


HISTORY_USAGE = """Usage: psmc history [key] [--prefix] [--limit <n>] [--since <revision>]

Lists the recorded changes of the store that receives writes, newest first:
revision, time (UTC), source, key, operation, and old → new value. A schema
change shows as key @schema. With a key, only its changes; with --prefix,
also those of the keys under it. With --json, prints an array of change
records ({revision, seq, key, op, oldValue, newValue, source, at, note});
an absent oldValue/newValue means the key did not exist.

Options:
  --prefix             With <key>: include the keys under it (display → display.units)
  --limit <n>          At most <n> changes
  --since <revision>   Only changes after <revision>

Examples:
  psmc history
  psmc history display.units
  psmc history display --prefix --limit 20
  psmc history --since 41 --json"""


def run_history(ctx):
    key = ctx.args[0]
    prefix = bool(ctx.options.get("prefix"))
    if prefix and key is None:
        raise usage_error(
            "--prefix needs a key to use as the prefix.", "Write psmc history <prefix> --prefix, e.g. psmc history display --prefix."
        )
    limit = int_option(ctx, "limit", 1, "Give how many changes to show, e.g. --limit 20.")
    since = int_option(ctx, "since", 0, "Give a revision from `psmc history`, e.g. --since 41.")
    with _With(ctx) as store:
        records = store.history(key, prefix=prefix, limit=limit, since_revision=since)
    if ctx.glob["json"]:
        ctx.json([r.to_json() for r in records])
        return 0
    if not records:
        ctx.note("No changes are recorded." if key is None else "No changes are recorded for %s." % key)
        return 0

    def change(r):
        text = "%s \u2192 %s" % (
            inline_value(r.old_value, 40, absent=not r.has_old),
            inline_value(r.new_value, 40, absent=not r.has_new),
        )
        return text if r.note is None else "%s  (%s)" % (text, r.note)

    rows = [[str(r.revision), short_time(r.at), r.source, r.key, r.op, change(r)] for r in records]
    for l in table(["REV", "TIME (UTC)", "SOURCE", "KEY", "OP", "CHANGE"], rows):
        ctx.out(l)
    return 0


UNDO_USAGE = """Usage: psmc undo [revision] [--force]

Reverts the changes of one revision (the newest by default) as a new change,
so the undo itself is in history and can be undone. A key changed again
after that revision is not overwritten: the undo fails with PSMC_CONFLICT
(exit 4) unless --force is given. Nothing to undo exits 3.

Options:
  --force   Revert even keys that were changed again later (those later
            changes stay in history)

Examples:
  psmc undo
  psmc undo 41
  psmc undo 41 --force
  psmc history --limit 5 && psmc undo"""


def run_undo(ctx):
    revision = None
    if ctx.args[0] is not None:
        text = ctx.args[0]
        revision = int(text) if re.match(r"^[0-9]{1,16}\Z", text) else None
        if revision is None or revision < 1 or revision > 9007199254740991:
            from ..value import js_quote

            raise usage_error(
                "The revision to undo must be a whole number \u2265 1, received %s." % js_quote(text),
                "Pick a revision listed by `psmc history`, or give none to undo the newest.",
            )
    force = bool(ctx.options.get("force"))
    with _With(ctx) as store:
        # Checked before the store is opened for writing: undo on a never-written store leaves nothing behind.
        if store.revision() == 0:
            info = store.info
            raise PsmcError(
                "PSMC_NOTHING_TO_UNDO",
                "The store has no changes to undo (%s store %s)." % (info["writeLayer"], info[info["writeLayer"]]["dir"]),
                "Nothing was ever written to this store; check --store/--app/--project if you expected one.",
            )
        commit = store.undo(revision=revision, force=force)
    note = commit.changes[0].note if commit.changes else None
    if ctx.glob["json"]:
        out = {"revision": commit.revision, "at": commit.at, "changes": [c.to_json() for c in commit.changes]}
        if note is not None:
            out = dict([("undone", note)] + list(out.items()))
        ctx.json(out)
        return 0
    if note is None:
        ctx.out(
            "Nothing changed: the store already holds the values from before %s (store revision %d)."
            % ("the newest revision" if revision is None else "revision %d" % revision, commit.revision)
        )
        return 0
    ctx.out("Undid %s (now revision %d):" % (re.sub(r"^undo of ", "", note), commit.revision))
    for c in commit.changes:
        if c.op == "delete":
            ctx.out("  %s: unset (was %s)" % (c.key, inline_value(c.old_value, absent=not c.has_old)))
        else:
            ctx.out(
                "  %s: %s \u2192 %s"
                % (c.key, inline_value(c.old_value, absent=not c.has_old), inline_value(c.new_value, absent=not c.has_new))
            )
    return 0


REVISION_USAGE = """Usage: psmc revision

Prints the revision of the store that receives writes: a counter every
recorded change increases (0 for a store never written). With --json:
{"revision": N}.

Examples:
  psmc revision"""


def run_revision(ctx):
    with _With(ctx) as store:
        n = store.revision()
    if ctx.glob["json"]:
        ctx.json({"revision": n})
    else:
        ctx.out(str(n))
    return 0


WATCH_USAGE = """Usage: psmc watch [prefix] [--since <revision>]

Prints each change of the store that receives writes as it is committed, by
any process in any language or by a hand edit of the mirror file, one line
per change, in revision order, until Ctrl-C (SIGINT) or SIGTERM; then exits 0.
With a prefix, only the keys under it (schema changes are shown only without
a prefix). Starts with the changes after the current revision, or after
--since <revision> (--since 0 replays the whole history first). The Python
client polls the store every 100 ms (one small query and a stat of the mirror
file) and imports hand edits of the mirror and files dropped in imports/.

A line: revision, time (UTC), source, key, old → new value, e.g.
  r12 2026-11-26T04:03:25.146Z cli  display.units  "metric" → "imperial"
With --json, one compact JSON object per line (JSON Lines):
{revision, seq, key, op, oldValue, newValue, source, at, note}; an absent
oldValue/newValue means the key did not exist. Notes go to stderr.

Options:
  --since <revision>   Start after <revision> (default: the current revision)

Examples:
  psmc watch
  psmc watch display
  psmc watch --since 0 --json
  psmc watch display --since 41 --json | jq .newValue"""

_HLC_COUNTER = re.compile(r"-[0-9]+$")


def format_change(r):
    """The human line of one change (src/cli/commands/watch.ts formatChange)."""
    text = "r%d %s %s  %s  %s \u2192 %s" % (
        r.revision,
        _HLC_COUNTER.sub("", r.at),
        r.source,
        r.key,
        inline_value(r.old_value, 60, absent=not r.has_old),
        inline_value(r.new_value, 60, absent=not r.has_new),
    )
    if r.op == "conflict":
        text += "  [conflict: the old value lost]"
    if r.note is not None:
        text += "  (%s)" % r.note
    return text


class _Stop(Exception):
    pass


def run_watch(ctx):
    import signal

    from ..keys import normalize_prefix
    from .format import json_text

    prefix = normalize_prefix(ctx.args[0])
    since = int_option(ctx, "since", 0, "Give a revision from `psmc history` or `psmc revision`, e.g. --since 41.")
    as_json = ctx.glob["json"]

    def show(r):
        ctx.out(json_text(r.to_json()) if as_json else format_change(r))
        ctx.flush()

    with _With(ctx) as store:
        watch = store.watch(
            show,
            since=since,
            prefix=prefix or None,
            poll_ms=100,
            on_error=lambda e: ctx.note("psmc watch: %s" % (e.message if isinstance(e, PsmcError) else e)),
        )
        ctx.note(
            "Watching %s%s after revision %d. Press Ctrl-C to stop."
            % (store.info["project" if store.write_layer == "project" else "user"]["dir"],
               "" if prefix == "" else " (keys under %s)" % prefix, watch.revision)
        )
        state = {"idle": False}

        def stop(_signum, _frame):
            watch.close()
            if state["idle"]:
                raise _Stop()  # out of the sleep; a delivery in progress finishes its revision first

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not watch.closed:
                watch.poll()
                if watch.closed:
                    break
                state["idle"] = True
                try:
                    watch._sleep(None)
                finally:
                    state["idle"] = False
        except _Stop:
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            watch.close()
    return 0


SPECS = {
    "get": {"args": ["<key>"], "options": {"default": "string"}, "usage": GET_USAGE, "run": run_get},
    "set": {
        "args": ["<key>", "<value>"],
        "options": {"string": "boolean", "expect-revision": "string"},
        "usage": SET_USAGE,
        "run": run_set,
    },
    "unset": {"args": ["<key>"], "options": {"expect-revision": "string"}, "usage": UNSET_USAGE, "run": run_unset},
    "list": {"args": ["[prefix]"], "options": {}, "usage": LIST_USAGE, "run": run_list},
    "explain": {"args": ["<key>"], "options": {}, "usage": EXPLAIN_USAGE, "run": run_explain},
    "history": {
        "args": ["[key]"],
        "options": {"prefix": "boolean", "limit": "string", "since": "string"},
        "usage": HISTORY_USAGE,
        "run": run_history,
    },
    "undo": {"args": ["[revision]"], "options": {"force": "boolean"}, "usage": UNDO_USAGE, "run": run_undo},
    "revision": {"args": [], "options": {}, "usage": REVISION_USAGE, "run": run_revision},
    "watch": {"args": ["[prefix]"], "options": {"since": "string"}, "usage": WATCH_USAGE, "run": run_watch},
}

SPECS["status"] = {"args": [], "options": {}, "usage": STATUS_USAGE, "run": run_status}
