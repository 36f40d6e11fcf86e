"""Snapshot files on disk (§snapshot.format, §snapshot.names; TypeScript: src/snapshot/store.ts):
one file ``<store dir>/snapshots/<name>.json`` per snapshot; the directory is created 0700 and every
file 0600.

A file is written atomically: a temp dot-file in the same directory, fsync, then a hard link (which
refuses an existing name, atomically) or a checked rename where the file system has no hard links,
then an fsync of the directory. A reader, or a crash at any point, sees no ``<name>.json`` or the
whole file. Names are compared case-insensitively against the files present (Windows and macOS file
systems are case-insensitive).
"""
import errno
import os
import re
import stat

from ..errors import PsmcError
from .format import parse_snapshot
from .names import assert_snapshot_name, file_name_of, name_of_file, name_problem

_TEMP_RE = re.compile(r"^\.(.+)\.json\.(\d+)\.[a-z0-9]+\.tmp$")
_NO_LINKS = (errno.EPERM, errno.ENOTSUP, errno.ENOSYS, errno.EXDEV, errno.EMLINK, errno.EOPNOTSUPP)


def _io_error(e, path):
    from ..paths import io_error

    return io_error(e, path)


def _sync_dir(d):
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open a directory; NTFS journals the rename itself
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory: the rename has happened
    finally:
        os.close(fd)


def _remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass  # already gone, or unwritable: a dot-file listings ignore and the next write sweeps


def scan_dir(d):
    """``(names, problems)``: the snapshot names present (as spelled on disk, sorted) and the files
    that are not usable snapshots (dicts with file, code, message)."""
    try:
        entries = list(os.scandir(d))
    except FileNotFoundError:
        return [], []
    except OSError as e:
        raise _io_error(e, d)
    names, problems = [], []
    for ent in entries:
        name = name_of_file(ent.name)
        if name is None:
            continue
        problem = name_problem(name)
        if problem is not None:
            from ..value import stringify

            problems.append({"file": os.path.join(d, ent.name), "code": "PSMC_PARSE",
                             "message": "%s is not a snapshot file name: %s." % (stringify(ent.name), problem)})
            continue
        if not ent.is_file(follow_symlinks=False):
            problems.append({"file": os.path.join(d, ent.name), "code": "PSMC_PARSE",
                             "message": "%s is not a regular file (a directory or a link); it is ignored." % ent.name})
            continue
        names.append(name)
    return sorted(names), problems


def existing_name(d, name):
    """The name as spelled on disk of the snapshot ``name`` means (case-insensitively), or None."""
    names = scan_dir(d)[0]
    if name in names:
        return name
    lower = name.lower()
    return next((n for n in names if n.lower() == lower), None)


def not_found(d, name, known):
    from ..value import stringify

    return PsmcError(
        "PSMC_NOT_FOUND",
        "There is no snapshot named %s in %s." % (stringify(name), d),
        "There are no snapshots yet; take one with `psmc snapshot create [name]`."
        if not known
        else "`psmc snapshot list` shows the snapshots.",
        {"name": name},
    )


def read_snapshot_bytes(d, name):
    """``(data, path)``: the bytes of the snapshot file of ``name`` (spelled as on disk), unchecked.
    PSMC_PARSE for a file that is not a regular file, PSMC_NOT_FOUND when there is none."""
    assert_snapshot_name(name)
    path = os.path.join(d, file_name_of(name))
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            raise PsmcError(
                "PSMC_PARSE",
                "%s is not a regular file (a directory or a link); psmc does not follow it." % path,
                "Snapshots are plain files written by psmc. Remove the link, or copy the real file in its place.",
                {"file": path},
            )
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise not_found(d, name, [])
    except OSError as e:
        raise _io_error(e, path)
    return data, path


def parse_snapshot_bytes(data, path, name):
    """The checked document of a snapshot file's bytes (see :func:`read_snapshot_file`)."""
    return parse_snapshot(data.decode("utf-8", "replace"), file=path, expect_name=name)


def read_snapshot_file(d, name):
    """``(doc, bytes, path)`` of the snapshot file of ``name`` (spelled as on disk), checked."""
    data, path = read_snapshot_bytes(d, name)
    return parse_snapshot_bytes(data, path, name), len(data), path


def _taken(name, existing):
    from ..value import stringify

    if existing == name:
        message = "A snapshot named %s already exists." % stringify(name)
    else:
        message = (
            "The snapshot name %s differs only in case from the existing snapshot %s; snapshot names are compared "
            "case-insensitively." % (stringify(name), stringify(existing))
        )
    return PsmcError(
        "PSMC_USAGE",
        message,
        "Choose another name, or delete the old snapshot first (`psmc snapshot delete <name>`).",
        {"name": name, "existing": existing},
    )


def write_snapshot_file(d, name, text):
    """Writes snapshot ``name`` atomically, 0600, under a name that must be free (PSMC_USAGE when
    taken, compared case-insensitively). Returns its path."""
    assert_snapshot_name(name)
    from ..paths import ensure_dir

    ensure_dir(d)
    sweep_temp_files(d)
    taken = existing_name(d, name)
    if taken is not None:
        raise _taken(name, taken)
    path = os.path.join(d, file_name_of(name))
    tmp = os.path.join(d, ".%s.%d.%s.tmp" % (file_name_of(name), os.getpid(), os.urandom(4).hex()))
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        try:
            data = text.encode("utf-8")
            view = memoryview(data)
            off = 0
            while off < len(data):
                off += os.write(fd, view[off:])
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise _taken(name, name)
        except OSError as e:
            if e.errno not in _NO_LINKS:
                raise
            if os.path.lexists(path):  # no hard links here: check, then rename
                raise _taken(name, name)
            os.rename(tmp, path)
        _remove_quietly(tmp)
        _sync_dir(d)
        return path
    except PsmcError:
        _remove_quietly(tmp)
        raise
    except OSError as e:
        _remove_quietly(tmp)
        raise _io_error(e, path)


def delete_snapshot_file(d, name):
    """Deletes the snapshot file of ``name`` (spelled as on disk); PSMC_NOT_FOUND when there is none."""
    assert_snapshot_name(name)
    path = os.path.join(d, file_name_of(name))
    try:
        os.unlink(path)
    except FileNotFoundError:
        raise not_found(d, name, [])
    except OSError as e:
        raise _io_error(e, path)
    _sync_dir(d)


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except OSError:
        return True


def sweep_temp_files(d):
    """Removes temp files left by writers that died before they could clean up (a live process's
    temp file is left alone). Returns the files removed."""
    try:
        files = os.listdir(d)
    except OSError:
        return []
    removed = []
    for f in files:
        m = _TEMP_RE.match(f)
        if m is None or _alive(int(m.group(2))):
            continue
        _remove_quietly(os.path.join(d, f))
        removed.append(f)
    return removed
