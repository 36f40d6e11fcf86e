"""Watch: the one component of the Python client that polls (spec/sections/watch.md; TypeScript:
src/watch/watcher.ts). Nothing else starts a thread, a timer or a file watcher; ``get()`` and
``set()`` never do. A Watch exists only because a caller asked for one, and it polls only while
the caller runs it (:meth:`Watch.run`, iteration) or calls :meth:`Watch.poll` — it starts no
thread either, so it fits any event loop: call ``poll()`` from your own timer.

It delivers the store's history records (:class:`psmc.ChangeRecord`), in (revision, seq) order,
after a starting revision: commits by this process, by other processes in any language, and
imports of hand edits of the mirror file (a commit of source ``file``) and of the ``imports/``
drop folder.

How it notices a change (Python's §watch.mechanism):

1. every poll (each ``poll_ms``, default 250 ms, while running) calls
   :meth:`psmc.Store.sync_mirror` — a ``stat`` of the mirror file and a look at ``imports/``;
   a hand edit is imported there (and a pending export written) — then scans;
2. a commit through this process (any handle on the store) makes the running loop scan at once
   instead of waiting for the next poll (the store's local-commit hook);
3. a scan costs one query (``state.revision``) when nothing changed.

So the latency for another process's commit is at most ``poll_ms`` plus one scan; ``psmc watch``
polls every 100 ms.

How it scans (§watch.order): read the committed revision R first, then the history records in
(position, min(R, position + 1000)], deliver them in order, move the position to the top of that
range, repeat until R. Every revision ≤ R was committed before the history read began, so the read
sees all of its records; the position only moves over ranges that were read in full. So no
revision is skipped and none is delivered twice, and ``Watch(since=w.revision)`` resumes exactly.
"""
import sys
import time
from collections import deque

from .change import SCHEMA_HISTORY_KEY
from .errors import PsmcError
from .keys import key_has_prefix, normalize_prefix

#: Revisions read from history per query.
PAGE_REVISIONS = 1000


def _default_on_error(error):
    import traceback

    sys.stderr.write("psmc watch: %s\n" % (error,))
    if not isinstance(error, PsmcError):
        traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)


def _is_closed_error(e):
    return isinstance(e, PsmcError) and e.code == "PSMC_CLOSED"


class Watch(object):
    """Delivers the changes of a store as they are committed. Build one with
    :meth:`psmc.Store.watch`.

    - ``callback(event)``: called with each :class:`psmc.ChangeRecord`; without one, events are
      kept for iteration (``for event in watch``) and for the return value of :meth:`poll`.
    - ``since``: deliver the changes strictly after this revision; default: the store's revision
      now (new changes only); ``0`` replays the whole history first; a revision above the
      current one waits for it.
    - ``prefix``: only keys under it (``display`` → ``display``, ``display.units`` …); schema
      changes (``@schema``) only without a prefix. The position still moves over filtered
      revisions.
    - ``poll_ms``: how often :meth:`run` and iteration poll (10 … 3,600,000; default 250).
    - ``on_error(error)``: gets an error raised by the callback (the event is not delivered again;
      delivery goes on) or met while reading the store (retried at the next poll; one report per
      distinct error). Default: print it to stderr.

    >>> w = store.watch(lambda e: print(e.revision, e.key, e.new_value), prefix="display")
    >>> w.run(timeout=5)          # polls for five seconds, then returns
    >>> resume_at = w.revision    # every change up to it was delivered
    """

    def __init__(self, store, callback=None, since=None, prefix=None, poll_ms=250, on_error=None):
        if callback is not None and not callable(callback):
            raise TypeError("the watch callback must be callable")
        if since is not None and (
            isinstance(since, bool) or not isinstance(since, int) or not 0 <= since <= 9007199254740991
        ):
            raise ValueError("since must be a whole number \u2265 0 (a revision), received %r" % (since,))
        if isinstance(poll_ms, bool) or not isinstance(poll_ms, (int, float)) or not 10 <= poll_ms <= 3600000:
            raise ValueError("poll_ms must be between 10 and 3600000, received %r" % (poll_ms,))
        if on_error is not None and not callable(on_error):
            raise TypeError("on_error must be callable")
        self._store = store
        self._callback = callback
        self._prefix = normalize_prefix(prefix)
        self._poll_s = poll_ms / 1000.0
        self._on_error = _default_on_error if on_error is None else on_error
        self._closed = False
        self._scanning = False
        self._rescan = False
        self._local = False
        self._unsubscribe = None
        self._backwards_reported = False
        self._last_read_error = None
        self._queue = deque()
        self._round = []
        self._retry_at = None
        current = store.revision()
        self._highest = current
        self._position = current if since is None else since
        self._subscribe()

    # -- state -------------------------------------------------------------------------------

    @property
    def revision(self):
        """The last revision scanned: every change up to it was delivered (or filtered out), none
        after it. Resume with ``store.watch(since=watch.revision)``. Inside a callback it is still
        the previous whole revision; while iterating, events not yet taken from the iterator do
        not count as delivered."""
        if self._queue:
            return min(self._position, self._queue[0].revision - 1)
        return self._position

    @property
    def closed(self):
        return self._closed

    @property
    def prefix(self):
        return self._prefix

    def close(self):
        """Stops the Watch: unsubscribes and ends :meth:`run` and iteration. Safe to call twice,
        and from a callback (the records of the revision being delivered are finished first, so
        ``revision`` stays a whole revision)."""
        if self._closed:
            return
        self._closed = True
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
        watchers = getattr(self._store, "_watchers", None)
        if watchers is not None and self in watchers:
            watchers.remove(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # -- driving it --------------------------------------------------------------------------

    def poll(self):
        """One round: import a hand edit of the mirror (and the ``imports/`` folder), then deliver
        every change committed since the last round. Returns the events of this round (each also
        given to the callback, when there is one). Never blocks longer than the store's busy
        timeout."""
        self._step()
        out = self._round
        self._round = []
        if self._callback is None:
            self._queue.clear()
        return out

    def _step(self):
        self._round = []
        if self._closed:
            return
        if self._unsubscribe is None:
            self._subscribe()
        self._sync_mirror()
        self._scan()

    def run(self, timeout=None):
        """Polls every ``poll_ms`` (at once after a local commit) until :meth:`close` (from a
        callback or a signal handler) or, with ``timeout`` (seconds), until it has passed. Events go
        to the callback (without one, they are dropped: iterate instead)."""
        end = None if timeout is None else time.monotonic() + timeout
        while not self._closed:
            self.poll()
            if self._closed or (end is not None and time.monotonic() >= end):
                break
            self._sleep(end)

    def __iter__(self):
        """The events, blocking between polls, until :meth:`close`. Breaking out of the loop
        keeps the Watch open; ``revision`` then counts only the events the loop received."""
        while not self._closed:
            if self._queue:
                yield self._queue.popleft()
                continue
            self._step()
            if not self._queue:
                self._sleep(None)

    def _sleep(self, end):
        """Sleeps until the next poll; not at all after a local commit (the loop scans at once)."""
        if self._local:
            return
        wait = self._poll_s
        now = time.monotonic()
        if self._retry_at is not None:
            wait = min(wait, max(0.0, self._retry_at - now))
        if end is not None:
            wait = min(wait, max(0.0, end - now))
        time.sleep(wait)

    # -- triggers ----------------------------------------------------------------------------

    def _subscribe(self):
        on = getattr(self._store, "on_local_commit", None)
        if on is None or self._closed:
            return
        try:
            self._unsubscribe = on(self._on_local_commit)
        except PsmcError as e:
            if _is_closed_error(e):
                self.close()
            elif e.code != "PSMC_READ_ONLY":
                self._report(e)

    def _on_local_commit(self, _revision):
        # Called inside the writing call (after its commit): never scan there, just note it.
        self._local = True

    def _sync_mirror(self):
        if self._closed:
            return
        if self._retry_at is not None and time.monotonic() < self._retry_at:
            return
        self._retry_at = None
        try:
            r = self._store.sync_mirror()
        except Exception as e:  # noqa: BLE001 — reported, and retried at the next poll
            if _is_closed_error(e):
                self.close()
            else:
                self._report(e)
            return
        retry = r.get("retryInMs") if isinstance(r, dict) else None
        if isinstance(retry, (int, float)) and retry >= 0:
            self._retry_at = time.monotonic() + max(1, min(retry, 60000)) / 1000.0

    # -- scan and delivery -------------------------------------------------------------------

    def _scan(self):
        if self._closed:
            return
        if self._scanning:
            # A callback led here (it polled); the running scan goes round again.
            self._rescan = True
            return
        self._scanning = True
        try:
            while True:
                self._rescan = False
                self._local = False
                self._scan_once()
                if not (self._rescan or self._local) or self._closed:
                    break
            self._last_read_error = None
        except Exception as e:  # noqa: BLE001 — see §watch.order: the position stays, the error is reported once
            if _is_closed_error(e):
                self.close()
            else:
                text = str(e)
                if text != self._last_read_error:
                    self._last_read_error = text
                    self._report(e)
        finally:
            self._scanning = False

    def _scan_once(self):
        # Read the committed revision first: every revision up to it is complete in history.
        current = self._store.revision()
        if current < self._highest:
            if not self._backwards_reported:
                self._backwards_reported = True
                self._report(
                    PsmcError(
                        "PSMC_CORRUPT",
                        "The store at %s went back from revision %d to %d; it was replaced by an older copy. The "
                        "watcher waits until it passes revision %d again."
                        % (self._store._write.dir, self._highest, current, self._position),
                        "A store revision never goes backwards. Check whether the database file was restored or "
                        "copied over.",
                    )
                )
        else:
            self._highest = current
        while not self._closed and self._position < current:
            upto = min(current, self._position + PAGE_REVISIONS)
            records = self._store.history(since_revision=self._position, until_revision=upto)
            records.sort(key=lambda r: (r.revision, r.seq))
            last = self._position
            for r in records:
                if r.revision <= self._position or r.revision > upto:
                    continue  # outside the range asked for: never twice
                if r.revision != last:
                    # A new revision begins: the previous ones are complete. Stop here when closed meanwhile.
                    self._position = last
                    if self._closed:
                        return
                    last = r.revision
                self._deliver(r)
            self._position = upto

    def _matches(self, r):
        if self._prefix == "":
            return True
        return r.key != SCHEMA_HISTORY_KEY and key_has_prefix(r.key, self._prefix)

    def _deliver(self, r):
        if not self._matches(r):
            return
        self._round.append(r)
        cb = self._callback
        if cb is None:
            self._queue.append(r)
            return
        try:
            cb(r)
        except Exception as e:  # noqa: BLE001 — §watch.order: reported, never delivered again
            self._report(e)

    def _report(self, error):
        try:
            self._on_error(error)
        except Exception as e:  # noqa: BLE001 — an on_error that fails: fall back to stderr
            _default_on_error(e)
