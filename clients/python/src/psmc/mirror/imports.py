"""The ``imports/`` drop folder of a store (DESIGN.md, the mirror protocol; TypeScript:
src/mirror/imports.ts): ``<store dir>/imports/``, created 0700 on demand. A person or a program
drops a file there; :func:`process_imports` merges it into the store as one batch and moves it
aside, to ``imports/done/`` or to ``imports/rejected/`` with a ``<file>.reason`` text beside it
saying what was wrong, where, and how to fix it.

Accepted files (by extension, case-insensitive): ``*.json`` (JSONC accepted), ``*.toml``,
``*.yaml`` / ``*.yml``; in the plain form (flat top-level keys → values, parsed like the mirror
file) or the full form (a psmc export document; a snapshot document is taken as its entries).

Each file is one batch (one revision, all or nothing) recorded with source ``import:<file name>``.
Safety rules, as in TypeScript: files modified less than SETTLE_MS ago, or whose size or mtime
changes between two looks RECHECK_MS apart, are left for later; hidden and editor/download temp
files are skipped, and so are directories; a symbolic link, FIFO, socket or device is never read
but moved to ``rejected/``; a file is claimed first (renamed to a hidden
``.psmc-import-<pid>-<rand>-<name>``) so two processes never import the same drop, and a claim
left by a dead process is put back; moving aside never overwrites (``x-1.json``, ``x-2.json`` …).

No timers, no watchers: the caller decides when to run it (:meth:`psmc.Store.sync_mirror`, so
every :class:`psmc.Watch`, and :meth:`psmc.Store.process_imports`).
"""
import errno as _errno
import os
import re
import stat as _stat
import time

from ..errors import PsmcError

IMPORTS_DIR = "imports"
DONE_DIR = "done"
REJECTED_DIR = "rejected"
#: A file modified less than this long ago may still be being written.
SETTLE_MS = 1000
#: The two looks at a file's size and mtime are this far apart.
RECHECK_MS = 50
#: Larger files are refused.
MAX_IMPORT_BYTES = 64 * 1024 * 1024

_CLAIM_PREFIX = ".psmc-import-"
_CLAIM_RE = re.compile(r"^\.psmc-import-(\d+)-([0-9a-f]{8})-(.+)$", re.S)
_MAX_SOURCE_LENGTH = 128
_FORMATS = {".json": "json", ".toml": "toml", ".yaml": "yaml", ".yml": "yaml"}
_TEMP_RE = re.compile(r"\.(tmp|temp|swp|swx|swo|part|partial|crdownload|download|bak|lock)$", re.I)
_STORE_ERRORS = ("PSMC_BUSY", "PSMC_IO", "PSMC_CLOSED", "PSMC_CORRUPT", "PSMC_READ_ONLY", "PSMC_INTERNAL")
_NO_LINKS = (_errno.EPERM, _errno.ENOTSUP, _errno.EOPNOTSUPP, _errno.EXDEV, _errno.EMLINK, _errno.ENOSYS)


def imports_dir(store_dir):
    """The imports folder of a store directory (not created)."""
    return os.path.join(store_dir, IMPORTS_DIR)


def _errno_name(e):
    return _errno.errorcode.get(getattr(e, "errno", None) or 0, "EIO")


def _io_error(e, path, what):
    return PsmcError(
        "PSMC_IO",
        "Cannot %s %s: %s" % (what, path, e),
        "Check the permissions of the imports folder (it should be yours, mode 0700) and that the disk is healthy.",
        {"path": path, "errno": _errno_name(e)},
        cause=e,
    )


def _lstat(path):
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise _io_error(e, path, "look at")


def _ensure_real_dir(d):
    """Creates ``d`` 0700 when missing; refuses anything but a real directory there."""
    st = _lstat(d)
    if st is None:
        try:
            os.mkdir(d, 0o700)
            return
        except FileExistsError:
            pass
        except OSError as e:
            raise _io_error(e, d, "create")
        return _ensure_real_dir(d)
    if not _stat.S_ISDIR(st.st_mode):
        raise PsmcError(
            "PSMC_IO",
            "%s is %s; psmc only uses a real directory there."
            % (d, "a symbolic link" if _stat.S_ISLNK(st.st_mode) else "not a directory"),
            "Move it away (psmc recreates the folder, mode 0700), so that imports cannot be redirected outside the store.",
            {"path": d},
        )


def is_temp_name(name):
    """Hidden files, editor swap/backup files and partial downloads: never imported."""
    if name.startswith(".") or name.endswith("~"):
        return True
    if name.startswith("#") and name.endswith("#"):
        return True
    return _TEMP_RE.search(name) is not None


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except OSError:
        return True  # cannot be checked (permissions, platform): assume alive


def pending_imports(store_dir):
    """The files of the imports folder a run would take (or reject), by name, sorted, without
    waiting to see whether they are still being written. An absent folder has none."""
    d = imports_dir(store_dir)
    try:
        entries = list(os.scandir(d))
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as e:
        raise _io_error(e, d, "read")
    out = []
    for e in entries:
        if e.is_dir(follow_symlinks=False) or is_temp_name(e.name) or e.name in (DONE_DIR, REJECTED_DIR):
            continue
        out.append(e.name)
    return sorted(out)


def _numbered(name, n):
    """``x.json`` → ``x-<n>.json`` (n ≥ 1); names without an extension get ``-<n>`` at the end."""
    if n == 0:
        return name
    stem, ext = os.path.splitext(name)
    return "%s-%d%s" % (stem, n, ext)


def _move_no_clobber(src, to_dir, name, is_link, also_free=None):
    """Moves ``src`` into ``to_dir`` as ``name``, or ``name-1`` … when taken; never overwrites.
    Returns the name used."""
    for n in range(10000):
        candidate = _numbered(name, n)
        target = os.path.join(to_dir, candidate)
        if also_free is not None and _lstat(os.path.join(to_dir, also_free(candidate))) is not None:
            continue
        if not is_link:
            try:
                os.link(src, target, follow_symlinks=False)
                try:
                    os.unlink(src)
                except OSError:
                    os.unlink(target)
                    raise
                return candidate
            except FileExistsError:
                continue
            except OSError as e:
                if e.errno not in _NO_LINKS:
                    raise _io_error(e, src, "move")
                # No hard links here: fall through to a checked rename.
            except (NotImplementedError, AttributeError):
                pass
        if _lstat(target) is not None:
            continue
        try:
            os.rename(src, target)
        except OSError as e:
            raise _io_error(e, src, "move")
        return candidate
    raise PsmcError(
        "PSMC_IO",
        "There is no free name for %s in %s." % (name, to_dir),
        "Clean up %s (its files are kept for your reference only)." % to_dir,
        {"path": to_dir},
    )


def _recover_claims(d, names):
    for name in names:
        m = _CLAIM_RE.match(name)
        if m is None or _alive(int(m.group(1))):
            continue
        st = _lstat(os.path.join(d, name))
        try:
            _move_no_clobber(os.path.join(d, name), d, m.group(3), st is not None and _stat.S_ISLNK(st.st_mode))
        except (PsmcError, OSError):
            pass  # another process recovered it first, or the folder is unwritable: doctor reports it


def _reject_error(code, what, hint):
    return PsmcError(code, "The file cannot be imported: %s" % what, hint)


def _read_claimed(path, expected):
    """Reads a claimed file without following links; checks it is still the file looked at."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno == _errno.ELOOP:
            raise _reject_error("PSMC_PARSE", "it became a symbolic link while being read.", "Drop a regular file, not a link.")
        raise _io_error(e, path, "read")
    try:
        st = os.fstat(fd)
        if not _stat.S_ISREG(st.st_mode) or st.st_ino != expected.st_ino or st.st_dev != expected.st_dev:
            raise _reject_error(
                "PSMC_PARSE",
                "it was replaced by something else while being read.",
                "Drop the file again, and do not change it once it is in imports/.",
            )
        if st.st_size > MAX_IMPORT_BYTES:
            raise _reject_error(
                "PSMC_VALUE_TOO_LARGE",
                "it is %d bytes; the limit is %d." % (st.st_size, MAX_IMPORT_BYTES),
                "Split it into several files.",
            )
        chunks = []
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                break
            chunks.append(b)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _reject_error("PSMC_PARSE", "it is not UTF-8 text.", "Save the file as UTF-8 (without a byte order mark is best).")
    return text[1:] if text.startswith("\ufeff") else text


def _full_form(doc):
    fmt = doc.get("format")
    if not isinstance(fmt, str) or not fmt.startswith("psmc-"):
        return None
    if fmt == "psmc-export":
        return doc
    if fmt == "psmc-snapshot":
        return {"format": "psmc-export", "version": doc.get("version"), "entries": doc.get("entries")}
    from ..value import stringify

    raise PsmcError(
        "PSMC_PARSE",
        "The file is a %s document, which cannot be imported." % stringify(fmt),
        'Drop a psmc export document ({"format":"psmc-export",…}), a snapshot file, or a flat file of key = value.',
    )


def parse_import_text(text, fmt):
    """The document to give ``import_data``: the full form, or a flat dict of key → value."""
    from . import codec_for

    try:
        values = codec_for(fmt).parse(text).values
    except PsmcError:
        # An export document whose values break a mirror-file rule (e.g. depth) is still an export document.
        if fmt == "json":
            from ..value import parse_json

            try:
                raw = parse_json(text)
            except Exception:  # noqa: BLE001 — not JSON either: the codec's error is the one to report
                raw = None
            full = _full_form(raw) if isinstance(raw, dict) else None
            if full is not None:
                return full
        raise
    flat = dict(values)
    full = _full_form(flat)
    return flat if full is None else full


def _locate_key(text, key):
    from .hand_edit import locate_key

    return locate_key(text, key, ('"%s"' % key, "'%s'" % key, "%s:" % key, "%s =" % key, "%s=" % key))


def _reason_text(file, r, at_ms):
    from ..clock import iso_utc

    lines = ["file: %s" % file, "rejected: %s" % iso_utc(at_ms), "code: %s" % r["code"]]
    for name in ("line", "column", "key"):
        if name in r:
            lines.append("%s: %s" % (name, r[name]))
    lines += ["message: %s" % r["message"], "hint: %s" % r["hint"], "", "The store was not changed by this file. "
              "Fix it and drop it into imports/ again.", ""]
    return "\n".join(lines)


def _name_problem(name):
    if name in (".", "..") or "/" in name or "\\" in name:
        return "it is not a plain file name"
    if re.search("[\x00-\x1f\x7f-\x9f\ud800-\udfff]", name):
        return "it holds control characters or broken Unicode"
    if len("import:" + name) > _MAX_SOURCE_LENGTH:
        return "it is too long to record as the source (import:<name> is at most %d characters)" % _MAX_SOURCE_LENGTH
    return None


def _host_dir(host):
    info = host.info
    slot = info["project"] if info["writeLayer"] == "project" else info["user"]
    return slot["dir"]


def _now_ms():
    return time.time_ns() // 1000000


def process_imports(host, now=None, settle_ms=SETTLE_MS, recheck_ms=RECHECK_MS):
    """Imports the files waiting in ``<store dir>/imports/`` (see the module comment) through
    ``host.import_data(doc, source=…)``. Returns ``{"dir", "done", "rejected", "skipped"}``.
    Raises PSMC_IO when the folder cannot be used, and re-raises a store failure (busy, closed,
    read-only, damaged) after putting the file it was importing back."""
    now = _now_ms if now is None else now
    store_dir = _host_dir(host)
    d = imports_dir(store_dir)
    report = {"dir": d, "done": [], "rejected": [], "skipped": []}
    if _lstat(store_dir) is None:
        return report  # no store yet: nothing to create
    _ensure_real_dir(d)
    try:
        names = os.listdir(d)
    except OSError as e:
        raise _io_error(e, d, "read")
    _recover_claims(d, [n for n in names if n.startswith(_CLAIM_PREFIX)])
    try:
        names = sorted(os.listdir(d))
    except OSError as e:
        raise _io_error(e, d, "read")

    candidates = []
    for name in names:
        if name in (DONE_DIR, REJECTED_DIR):
            continue
        if is_temp_name(name):
            report["skipped"].append({"file": name, "reason": "a hidden file" if name.startswith(".") else "a temporary file"})
            continue
        st = _lstat(os.path.join(d, name))
        if st is None:
            continue  # taken by another process meanwhile
        if _stat.S_ISDIR(st.st_mode):
            report["skipped"].append({"file": name, "reason": "a directory (only files are imported)"})
            continue
        candidates.append((name, st))
    settled = []
    for name, st in candidates:
        if _stat.S_ISREG(st.st_mode) and now() - st.st_mtime_ns / 1e6 < settle_ms:
            report["skipped"].append(
                {"file": name, "reason": "still being written (modified less than %d ms ago)" % settle_ms}
            )
        else:
            settled.append((name, st))
    if any(_stat.S_ISREG(st.st_mode) for _, st in settled) and recheck_ms > 0:
        time.sleep(recheck_ms / 1000.0)
    ready = []
    for name, st in settled:
        if not _stat.S_ISREG(st.st_mode):
            ready.append((name, st))
            continue
        again = _lstat(os.path.join(d, name))
        if again is None:
            continue
        if (
            again.st_size != st.st_size
            or again.st_mtime_ns != st.st_mtime_ns
            or again.st_ino != st.st_ino
            or not _stat.S_ISREG(again.st_mode)
        ):
            report["skipped"].append(
                {"file": name, "reason": "still being written (its size or time changed while psmc looked)"}
            )
        else:
            ready.append((name, again))

    for name, st in ready:
        _import_one(host, d, name, st, now(), report)
    return report


def _import_one(host, d, name, st, at, report):
    def reject(src, is_link, e, text=None):
        details = getattr(e, "details", None) or {}
        line = details.get("line") if isinstance(details.get("line"), int) else None
        column = details.get("column") if isinstance(details.get("column"), int) else None
        key = details.get("key") if isinstance(details.get("key"), str) else None
        if line is None and key is not None and text is not None:
            where = _locate_key(text, key)
            if where is not None:
                line, column = where
        where = name if line is None else "%s:%d%s" % (name, line, "" if column is None else ":%d" % column)
        message = e.message if e.message.startswith(name) else "%s: %s" % (where, e.message)
        facts = {"code": e.code, "message": message, "hint": e.hint}
        if line is not None:
            facts["line"] = line
        if column is not None:
            facts["column"] = column
        if key is not None:
            facts["key"] = key
        rejected_dir = os.path.join(d, REJECTED_DIR)
        _ensure_real_dir(rejected_dir)
        moved = _move_no_clobber(src, rejected_dir, name, is_link, lambda n: n + ".reason")
        reason_file = os.path.join(rejected_dir, moved + ".reason")
        try:
            fd = os.open(reason_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(_reason_text(name, facts, at))
        except OSError as err:
            raise _io_error(err, reason_file, "write")
        out = {"file": name, "movedTo": os.path.join(rejected_dir, moved), "reasonFile": reason_file}
        out.update(facts)
        report["rejected"].append(out)

    # Claim it first, so no other process imports (or rejects) it too. A rename moves a link, never its target.
    path = os.path.join(d, name)
    claimed = os.path.join(d, "%s%d-%s-%s" % (_CLAIM_PREFIX, os.getpid(), os.urandom(4).hex(), name))
    try:
        os.rename(path, claimed)
    except FileNotFoundError:
        return  # another process took it
    except OSError as e:
        if e.errno != _errno.ENAMETOOLONG:
            raise _io_error(e, path, "claim")
        claimed = path  # a name too long to prefix: handle it in place

    def put_back():
        if claimed != path:
            _move_no_clobber(claimed, d, name, _stat.S_ISLNK(st.st_mode))

    if _stat.S_ISLNK(st.st_mode):
        reject(claimed, True, PsmcError(
            "PSMC_PARSE",
            "%s is a symbolic link; links are never followed in imports/ (one could point outside the store)." % name,
            "Copy the file itself into imports/ instead of linking it.",
        ))
        return
    if not _stat.S_ISREG(st.st_mode):
        reject(claimed, False, PsmcError(
            "PSMC_PARSE", "%s is not a regular file (a FIFO, socket or device)." % name, "Drop regular files only."
        ))
        return
    problem = _name_problem(name)
    if problem is not None:
        from ..value import stringify

        reject(claimed, False, PsmcError(
            "PSMC_PARSE",
            "The file name %s is not usable: %s." % (stringify(name), problem),
            'Rename the file (letters, digits, ".", "_", "-") and drop it again.',
        ))
        return
    ext = os.path.splitext(name)[1]
    fmt = _FORMATS.get(ext.lower())
    if fmt is None:
        from ..value import stringify

        reject(claimed, False, PsmcError(
            "PSMC_PARSE",
            "%s: unsupported extension %s; imports/ takes .json, .toml, .yaml and .yml files."
            % (name, "(none)" if ext == "" else stringify(ext)),
            "Rename the file with the extension of its format (.json, .toml, .yaml or .yml) and drop it again.",
        ))
        return
    text = None
    source = "import:%s" % name
    try:
        text = _read_claimed(claimed, st)
        doc = parse_import_text(text, fmt)
        commit = host.import_data(doc, source=source)
    except PsmcError as e:
        if e.code in _STORE_ERRORS:
            put_back()
            raise
        reject(claimed, False, e, text)
        return
    except BaseException:
        put_back()
        raise
    done_dir = os.path.join(d, DONE_DIR)
    _ensure_real_dir(done_dir)
    moved = _move_no_clobber(claimed, done_dir, name, False)
    report["done"].append({
        "file": name,
        "movedTo": os.path.join(done_dir, moved),
        "source": source,
        "revision": commit.revision,
        "changes": len(commit.changes),
    })
