"""Atomic file replacement (spec/sections/mirror-sync.md §mirror.export; TypeScript:
src/mirror/atomic.ts).

A temp file in the same directory (``.<name>.psmc-tmp-<pid>-<random>``, mode 0600), written in
full, fsynced, closed, renamed over the target, and the directory fsynced: a reader, or a crash
at any instant, sees the old file or the new one, never a mix, never an empty or short file.

- After a write or fsync error the temp file is discarded and the whole write redone once from
  scratch: after a failed fsync the kernel may have dropped the dirty pages, so retrying the fsync
  could "succeed" on lost data.
- On Windows a rename over a file another process holds open fails (PermissionError): retried with
  backoff (up to ~2 s). There is never a fallback to a non-atomic write.
"""
import errno
import os
import time

TEMP_MARK = ".psmc-tmp-"

_NO_RETRY = (errno.ENOSPC, errno.EACCES, errno.EROFS, errno.ENOENT)


def _temp_path(target):
    d, name = os.path.split(target)
    return os.path.join(d, ".%s%s%d-%s" % (name, TEMP_MARK, os.getpid(), os.urandom(4).hex()))


def _remove_quietly(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass  # already gone (or never created): nothing to clean up


def write_temp(target, data):
    """Writes ``data`` (str, as UTF-8, or bytes) to a new temp file beside ``target``, fsynced;
    returns its path."""
    buf = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    tmp = _temp_path(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        view = memoryview(buf)
        off = 0
        while off < len(buf):
            off += os.write(fd, view[off:])
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        _remove_quietly(tmp)
        raise
    os.close(fd)
    return tmp


def _sync_dir(d):
    if os.name == "nt":
        return  # Windows cannot open a directory for fsync; NTFS journals the rename
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as e:
        # Some file systems refuse fsync on a directory; the rename itself has happened.
        if e.errno not in (errno.EINVAL, errno.EISDIR, errno.EPERM):
            raise
    finally:
        os.close(fd)


def discard_temp(tmp):
    """Removes a temp file that will not be committed."""
    _remove_quietly(tmp)


def commit_temp(tmp, target):
    """Renames a written temp file over ``target`` (retrying where Windows holds it open) and
    fsyncs the directory."""
    attempt = 0
    while True:
        try:
            os.replace(tmp, target)
            break
        except PermissionError:
            if attempt >= 10:
                _remove_quietly(tmp)
                raise
            time.sleep(min(0.01 * 2 ** attempt, 0.5))
            attempt += 1
        except BaseException:
            _remove_quietly(tmp)
            raise
    _sync_dir(os.path.dirname(target) or ".")


def write_temp_retrying(target, data):
    """:func:`write_temp`, redone once from scratch after an error a retry can cure (an fsync error:
    see the module comment). Returns the temp file's path; :func:`commit_temp` puts it in place."""
    try:
        return write_temp(target, data)
    except OSError as e:
        if e.errno in _NO_RETRY:
            raise
        return write_temp(target, data)  # one retry from scratch: a new temp file, written and fsynced


def write_file_atomic(target, data):
    """Replaces ``target`` with ``data`` atomically (see the module comment)."""
    commit_temp(write_temp_retrying(target, data), target)
