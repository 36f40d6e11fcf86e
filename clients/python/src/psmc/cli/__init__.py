"""The psmc command line in Python: ``python -m psmc get|set|unset|list|explain|history|undo|revision|watch|status``.

Same commands, options, output shapes and exit codes as the TypeScript CLI (src/cli/,
docs/cli.md); writes are recorded with source ``python`` unless ``--source`` or
``PSMC_SOURCE`` says otherwise. Nothing of the store (nor sqlite3) is imported before a
command needs it, so usage errors and ``--help`` start fast.
"""
import os
import re
import sys

from ..errors import ERROR_CODES, PsmcError

VERSION = "0.1.0"
DEFAULT_SOURCE = "python"

COMMANDS = {
    "get": "Print the value of a key",
    "set": "Set a key to a value",
    "unset": "Remove a key from the store",
    "list": "List keys and their values, optionally under a prefix",
    "explain": "Show every layer's value for a key, and which one wins and why",
    "history": "Show recorded changes, newest first",
    "undo": "Revert a revision as a new change",
    "revision": "Print the store revision",
    "watch": "Print changes as they are committed, until interrupted",
    "status": "Show where the store is and how its database and mirror file stand",
    "help": "Show help for psmc or for a command",
}

#: Commands of the TypeScript CLI that this client does not have yet.
NOT_HERE = ("export", "import", "init", "schema", "snapshot", "doctor", "edit")

GLOBAL_OPTIONS = {
    "store": "string",
    "app": "string",
    "project": "string",
    "source": "string",
    "json": "boolean",
    "debug": "boolean",
    "help": "boolean",
    "version": "boolean",
}
SHORT = {"h": "help"}

GLOBAL_HELP = """Global options (before or after the command):
  --store <dir>     Use this store directory (no user/project lookup)
  --app <name>      Use the user store of this app ($XDG_CONFIG_HOME/<name>, ~/.config/<name>,
                    ~/Library/Application Support/<name>, %APPDATA%\\<name>); default psmc
  --project <dir>   Use the project store in <dir>/.psmc/ (default: found by walking up from
                    the current directory, like git)
  --source <name>   Record writes as made by <name> (default: $PSMC_SOURCE, else python)
  --json            Print results (and errors) as JSON on stdout, for scripts
  --debug           Print stack traces on errors
  -h, --help        Show help
  --version         Print the psmc version"""

NEGATIVE_NUMBER = re.compile(r"^-(?:[0-9]|\.[0-9])")


def usage_error(message, hint):
    return PsmcError("PSMC_USAGE", message, hint)


def main_usage():
    width = max(len(c) for c in COMMANDS)
    lines = ["  %s  %s" % (n.ljust(width), s) for n, s in COMMANDS.items()]
    return """Usage: psmc <command> [arguments] [options]

psmc: Plaintext, Stable, Mutable Config. One configuration store shared by a
CLI, a GUI, services and scripts, with history and undo. (Python client.)

Commands:
%s

%s

Environment:
  PSMC_HOME         The user store directory (instead of the platform config directory)
  PSMC_SOURCE       The default --source
  PSMC_DEBUG=1      Same as --debug
  PSMC_<KEY>        A value for a key: PSMC_DISPLAY__UNITS feeds display.units

Exit codes: 0 ok, 1 internal error, 2 usage, 3 not found, 4 conflict,
5 invalid input, 6 store unavailable, 7 store format (see docs/cli.md).

Examples:
  python -m psmc set display.units metric
  python -m psmc get display.units
  python -m psmc explain display.units
  python -m psmc help set""" % ("\n".join(lines), GLOBAL_HELP)


class Parsed(object):
    __slots__ = ("values", "positionals", "unknown")

    def __init__(self):
        self.values = {}
        self.positionals = []  # (index, text)
        self.unknown = None  # (index, raw)


def tokenize(argv, options):
    """Splits argv into options and positionals like node's parseArgs (strict: false): unknown
    options are reported, not raised, and ``-5`` is a positional."""
    p = Parsed()
    i = 0
    n = len(argv)
    while i < n:
        raw = argv[i]
        if raw == "--":
            for j in range(i + 1, n):
                p.positionals.append((j, argv[j]))
            break
        if raw.startswith("--"):
            name, eq, inline = raw[2:].partition("=")
            kind = options.get(name)
            if kind is None:
                if p.unknown is None:
                    p.unknown = (i, raw.split("=")[0])
            elif kind == "boolean":
                if eq:
                    raise usage_error("--%s takes no value (received %s)." % (name, _q(raw)), "Write --%s alone." % name)
                p.values[name] = True
            else:
                if eq:
                    p.values[name] = inline
                elif i + 1 < n:
                    i += 1
                    p.values[name] = argv[i]
                else:
                    raise usage_error("--%s needs a value." % name, "Write --%s <value> or --%s=<value>." % (name, name))
        elif raw.startswith("-") and len(raw) > 1:
            if NEGATIVE_NUMBER.match(raw):
                p.positionals.append((i, raw))
            else:
                letter = raw[1]
                name = SHORT.get(letter)
                if name is not None and name in options and len(raw) == 2:
                    p.values[name] = True
                elif p.unknown is None:
                    p.unknown = (i, raw.split("=")[0])
        else:
            p.positionals.append((i, raw))
        i += 1
    return p


def _q(s):
    from ..value import js_quote

    return js_quote(s)


def _closest(name, candidates):
    from .suggest import closest

    return closest(name, candidates)


def unknown_option(raw, known, usage_line):
    name = raw.lstrip("-")
    guess = _closest(name, known)
    did = "" if guess is None else " Did you mean --%s?" % guess
    dash = (
        ' To pass a value that starts with "-", put -- before it (psmc set key -- -x).'
        if re.match(r"^-[^-]", raw)
        else ""
    )
    return usage_error("Unknown option %s.%s" % (raw, did), "%s.%s" % (usage_line, dash))


class Context(object):
    """What a command receives: its arguments, options, the global options and the I/O."""

    def __init__(self, command, args, options, glob, env, cwd, usage_line, io):
        self.command = command
        self.args = args
        self.options = options
        self.glob = glob
        self.env = env
        self.cwd = cwd
        self.usage_line = usage_line
        self._io = io

    def out(self, line):
        self._io.stdout(line + "\n")

    def note(self, line):
        self._io.stderr(line + "\n")

    def flush(self):
        f = getattr(self._io, "flush", None)
        if f is not None:
            f()

    def json(self, value):
        from .format import json_text

        self._io.stdout(json_text(value, 2) + "\n")


class IO(object):
    def stdout(self, text):
        sys.stdout.write(text)

    def stderr(self, text):
        sys.stderr.write(text)

    def flush(self):
        sys.stdout.flush()


def _debug_env(env):
    v = env.get("PSMC_DEBUG")
    return v is not None and v != "" and v != "0"


def main(argv=None, env=None, cwd=None, io=None):
    """Runs psmc with ``argv`` (without the program name); returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    env = dict(os.environ) if env is None else env
    io = IO() if io is None else io
    json_out = "--json" in argv
    debug = "--debug" in argv or _debug_env(env)
    try:
        first = tokenize(argv, GLOBAL_OPTIONS)
        head = first.positionals[0] if first.positionals else None
        if first.unknown is not None and (head is None or first.unknown[0] < head[0]):
            e = unknown_option(first.unknown[1], list(GLOBAL_OPTIONS), "Usage: psmc <command> [arguments] [options]")
            if head is None:
                raise e
            raise usage_error("%s (a command's own options go after the command name)" % e.message, e.hint)
        if head is None:
            if first.values.get("version"):
                io.stdout("psmc %s\n" % VERSION)
                return 0
            if first.values.get("help"):
                io.stdout(main_usage() + "\n")
                return 0
            raise usage_error("No command given.", "Run `psmc help` to see the commands, e.g. psmc get <key>.")
        name = head[1]
        if name in NOT_HERE:
            raise usage_error(
                "psmc %s is not available in the Python client yet." % name,
                "Use the TypeScript CLI (npx psmc %s …) for it; both work on the same store." % name,
            )
        if name not in COMMANDS:
            guess = _closest(name, list(COMMANDS))
            raise usage_error(
                "Unknown command %s.%s" % (_q(name), "" if guess is None else " Did you mean %s?" % guess),
                "Run `psmc help` to see the commands. Usage: psmc <command> [arguments] [options]",
            )
        rest = [a for i, a in enumerate(argv) if i != head[0]]
        from . import commands

        if name == "help":
            target = tokenize(rest, GLOBAL_OPTIONS).positionals
            target = target[0][1] if target else None
            if target is None or target == "help":
                io.stdout(main_usage() + "\n")
                return 0
            if target not in COMMANDS:
                guess = _closest(target, list(COMMANDS))
                raise usage_error(
                    "Unknown command %s.%s" % (_q(target), "" if guess is None else " Did you mean %s?" % guess),
                    "Run `psmc help` to see the commands.",
                )
            io.stdout("%s\n\n%s\n" % (commands.SPECS[target]["usage"], GLOBAL_HELP))
            return 0

        spec = commands.SPECS[name]
        usage_line = spec["usage"].split("\n")[0].strip()
        options = dict(GLOBAL_OPTIONS)
        options.update(spec["options"])
        parsed = tokenize(rest, options)
        json_out = parsed.values.get("json") is True
        debug = parsed.values.get("debug") is True or debug
        if parsed.values.get("help"):
            io.stdout("%s\n\n%s\n" % (spec["usage"], GLOBAL_HELP))
            return 0
        if parsed.values.get("version"):
            io.stdout("psmc %s\n" % VERSION)
            return 0
        if parsed.unknown is not None:
            raise unknown_option(parsed.unknown[1], list(options), usage_line)
        args_spec = spec["args"]
        required = len([a for a in args_spec if a.startswith("<")])
        given = [t for _, t in parsed.positionals]
        if len(given) < required:
            missing = args_spec[len(given)] if len(given) < len(args_spec) else "<argument>"
            raise usage_error("psmc %s needs %s." % (name, missing), "%s. See `psmc help %s`." % (usage_line, name))
        if len(given) > len(args_spec):
            extra = given[len(args_spec)]
            if not args_spec:
                takes = "no arguments"
            else:
                takes = "at most %d argument%s" % (len(args_spec), "" if len(args_spec) == 1 else "s")
            raise usage_error(
                "psmc %s takes %s; unexpected %s." % (name, takes, _q(extra)),
                '%s. Quote a value that contains spaces: psmc set key "two words".' % usage_line,
            )
        glob = {
            "store": parsed.values.get("store"),
            "app": parsed.values.get("app"),
            "project": parsed.values.get("project"),
            "source": parsed.values.get("source"),
            "json": json_out,
            "debug": debug,
        }
        ctx = Context(
            name,
            [given[i] if i < len(given) else None for i in range(len(args_spec))],
            {k: parsed.values.get(k) for k in spec["options"]},
            glob,
            env,
            os.getcwd() if cwd is None else cwd,
            usage_line,
            io,
        )
        code = spec["run"](ctx)
        return 0 if code is None else code
    except BaseException as e:  # every failure becomes a message and an exit code
        if isinstance(e, (SystemExit, KeyboardInterrupt)):
            raise
        return report_error(e, json_out, debug, io)


def to_report(e):
    if isinstance(e, PsmcError):
        return {"code": e.code, "message": e.message, "hint": e.hint, "details": e.details}
    if isinstance(e, (TypeError, ValueError)):
        return {
            "code": "PSMC_USAGE",
            "message": str(e),
            "hint": "Check the arguments and options; `psmc help` lists them.",
            "details": {},
        }
    return {
        "code": "PSMC_INTERNAL",
        "message": "Internal error: %s" % (e,),
        "hint": "This is a bug, please report it with the output of the same command run with --debug.",
        "details": {},
    }


def _safe_json(v):
    from ..value import stringify

    try:
        return stringify(v)
    except Exception:
        return repr(v)


def report_error(e, json_out, debug, io):
    """Prints the error (stderr; also stdout as JSON with --json) and returns the exit code."""
    r = to_report(e)
    lines = ["psmc: %s" % r["message"]]
    d = r["details"]
    if r["code"] == "PSMC_CONFLICT" and isinstance(d.get("currentRevision"), int) and "key" in d and "revision" not in d:
        if "currentValue" in d:
            text = _safe_json(d["currentValue"])
            if len(text) > 200:
                text = text[:199] + "\u2026"
            lines.append("  current: %s = %s (revision %d)" % (d["key"], text, d["currentRevision"]))
        else:
            lines.append("  current: %s is not set (revision 0)" % d["key"])
    if isinstance(d.get("excerpt"), str):
        lines.extend("  " + l for l in d["excerpt"].split("\n"))
    lines.append("  hint: %s" % r["hint"])
    if debug:
        import traceback

        lines.append("".join(traceback.format_exception(type(e), e, e.__traceback__)).rstrip())
    io.stderr("\n".join(lines) + "\n")
    if json_out:
        from ..value import stringify

        try:
            text = stringify({"error": r}, 2)
        except Exception:
            text = stringify({"error": dict(r, details={})}, 2)
        io.stdout(text + "\n")
    return ERROR_CODES[r["code"]]["exit"]
