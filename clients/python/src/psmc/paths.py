"""Where stores live (spec/SPEC.md §paths; TypeScript: src/store/paths.ts).

- User store: ``$XDG_CONFIG_HOME/<app>`` or ``~/.config/<app>`` on Linux and other
  Unix (Termux, iSH); ``~/Library/Application Support/<app>`` on macOS;
  ``%APPDATA%\\<app>`` on Windows. ``<PREFIX>_HOME`` names the directory instead.
- Project store: a ``.psmc/`` directory found by walking up from the working directory.
- Directories are created 0700; the database file 0600.
"""
import os
import re
import sys

from .errors import PsmcError

DATABASE_FILE = "psmc.db"
PROJECT_DIR = ".psmc"

_APP_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")


def assert_app_name(app):
    """TypeError unless ``app`` is a safe directory name."""
    if not isinstance(app, str) or _APP_RE.match(app) is None or ".." in app:
        raise TypeError(
            "app must be 1\u201364 letters, digits, \".\", \"_\" or \"-\", starting with a letter or digit "
            "(no path separators), received %r" % (app,)
        )
    return app


def current_platform():
    if sys.platform == "darwin":
        return "darwin"
    if sys.platform in ("win32", "cygwin"):
        return "win32"
    return "linux"


def user_store_dir(app, env=None, platform=None, home=None):
    """The platform config directory for ``app`` (not created)."""
    assert_app_name(app)
    env = os.environ if env is None else env
    platform = current_platform() if platform is None else platform
    home = os.path.expanduser("~") if home is None else home

    def non_empty(name):
        v = env.get(name)
        return v if v else None

    if platform == "darwin":
        return os.path.join(home, "Library", "Application Support", app)
    if platform == "win32":
        return os.path.join(non_empty("APPDATA") or os.path.join(home, "AppData", "Roaming"), app)
    return os.path.join(non_empty("XDG_CONFIG_HOME") or os.path.join(home, ".config"), app)


def _is_directory(path):
    try:
        import stat

        return stat.S_ISDIR(os.stat(path).st_mode)
    except FileNotFoundError:
        return False
    except NotADirectoryError:
        return False
    except OSError as e:
        raise io_error(e, path)


def find_project_store(start):
    """Walks up from ``start`` to the root; returns the first ``.psmc/`` directory found, or None."""
    d = os.path.abspath(start)
    while True:
        candidate = os.path.join(d, PROJECT_DIR)
        if _is_directory(candidate):
            return candidate
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def ensure_dir(d):
    """Creates ``d`` and missing parents with mode 0700."""
    try:
        os.makedirs(d, mode=0o700, exist_ok=True)
    except OSError as e:
        raise io_error(e, d)


def canonical_dir(d):
    """The canonical path of a store directory (symlinks resolved when it exists)."""
    abs_ = os.path.abspath(d)
    if os.path.exists(abs_):
        return os.path.realpath(abs_)
    parent = os.path.dirname(abs_)
    return os.path.join(os.path.realpath(parent) if os.path.exists(parent) else parent, os.path.basename(abs_))


def io_error(e, path):
    import errno as _errno

    code = _errno.errorcode.get(getattr(e, "errno", None) or 0, "EIO")
    if code in ("EACCES", "EPERM"):
        hint = "Check the ownership and permissions of the path (store directories should be yours, mode 0700)."
    elif code == "ENOSPC":
        hint = "The disk is full; free some space."
    elif code in ("ENOTDIR", "EEXIST"):
        hint = "A file stands where a directory is needed; move it or choose another store path."
    else:
        hint = "Check that the path exists and is on a healthy local disk."
    return PsmcError("PSMC_IO", "Cannot use %s: %s" % (path, e), hint, {"path": path, "errno": code}, cause=e)
