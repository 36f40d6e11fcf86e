/**
 * The Watcher: the one component of psmc that subscribes to files or polls
 * (spec/sections/watch.md). Nothing else starts a timer, a thread or a file
 * watcher; `get()` and `set()` never do. A Watcher exists only because a
 * caller asked for one, and `close()` releases everything it holds.
 *
 * It delivers the store's history records, in (revision, seq) order, from a
 * starting revision onwards: commits by this process, by other processes in
 * any language, and imports of hand edits of the mirror file.
 *
 * How it notices a change (§watch.mechanism):
 * 1. a commit by this process: the host's `onLocalCommit` hook → a scan in a
 *    microtask (never inside the `set()` call itself);
 * 2. a commit by another process: one `fs.watch` on the store directory; an
 *    event for `psmc.db`, `psmc.db-wal` or `psmc.db-journal` → a scan after a
 *    short debounce (bursts give one scan);
 * 3. an edit of the mirror file: an event for it → `host.syncMirror()`, whose
 *    import is a commit, seen like any other;
 * 4. a fallback poll every `pollMs` (default 250 ms) that reads the store's
 *    revision (one small query) in case file events are missed (network file
 *    systems, some platforms, a directory that did not exist yet).
 *
 * How it scans (§watch.order): read the committed revision R first, then the
 * history records in (position, min(R, position + 1000)], deliver them in
 * order, move the position to the top of that range, repeat until R. Every
 * revision ≤ R was committed before the history read began, so the read sees
 * all of its records; the position only moves over ranges that were read. So
 * no revision is skipped and none is delivered twice.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';
import { SCHEMA_HISTORY_KEY, type ChangeRecord } from '../core/change.js';
import { PsmcError } from '../core/errors.js';
import { keyHasPrefix, normalizePrefix } from '../core/keys.js';
import { DATABASE_FILE } from '../store/paths.js';
import type { WatchHost } from './host.js';

/** One event: a history record (spec/SPEC.md §history.record). */
export type WatchEvent = ChangeRecord;

export interface WatchOptions {
  /**
   * Deliver the changes strictly after this revision. Default: the store's
   * revision when the Watcher is created (only new changes). `0` replays the
   * whole history. A revision above the current one waits for it.
   */
  readonly since?: number;
  /**
   * Only the changes of keys under this prefix (`display` → `display`,
   * `display.units` …). Schema changes (`@schema`) are delivered only without
   * a prefix. The position still moves over filtered revisions.
   */
  readonly prefix?: string;
  /** The fallback poll interval in milliseconds (10 … 3,600,000). @default 250 */
  readonly pollMs?: number;
  /**
   * Called with an error thrown by the callback (the event is not delivered
   * again, delivery goes on with the next one) or met while reading the store
   * (the read is retried at the next poll or file event). Default: rethrow it
   * in a microtask, so that it surfaces as an uncaught exception.
   */
  readonly onError?: (error: unknown) => void;
  /** Do not keep the process alive for this Watcher (unref its file watch and timers). @default false */
  readonly unref?: boolean;
}

const OPTION_NAMES = new Set(['since', 'prefix', 'pollMs', 'onError', 'unref']);

/** Revisions read from history per query. */
const PAGE_REVISIONS = 1000;
/** File events closer together than this give one scan. */
const DEBOUNCE_MS = 2;
const DB_FILES = new Set([DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-journal`]);
const MIRROR_FILE = /^config\.(?:json|jsonc|toml|yaml|yml)$/;

interface Sink {
  push(event: WatchEvent): void;
  end(): void;
}

function defaultOnError(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

function isClosedError(e: unknown): boolean {
  return e instanceof PsmcError && e.code === 'PSMC_CLOSED';
}

/**
 * Delivers the changes of a store as they are committed. Prefer
 * `store.watch(options, callback)`, which builds one on the store.
 *
 * @example
 * const w = new Watcher(watchHostOf(store), { prefix: 'display' }, (e) => console.log(e.revision, e.key, e.newValue));
 * // … later
 * w.close();
 */
export class Watcher implements AsyncIterable<WatchEvent> {
  readonly #host: WatchHost;
  readonly #prefix: string;
  readonly #pollMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #unref: boolean;
  readonly #callback: ((event: WatchEvent) => void) | undefined;
  readonly #mirrorName: string | undefined;
  /** Every revision ≤ this was scanned (its matching records delivered). */
  #position: number;
  /** The highest committed revision seen, to notice a store replaced by an older copy. */
  #highest: number;
  #closed = false;
  #scanning = false;
  #rescan = false;
  #scanQueued = false;
  #fs: FSWatcher | undefined;
  #fsFailed = false;
  #poll: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #mirrorTimer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  /** False once subscribing to local commits succeeded or cannot succeed. */
  #wantSubscribe = true;
  readonly #sinks = new Set<Sink>();
  /** Events kept for the first async iterator when there is no callback. */
  #backlog: WatchEvent[] | undefined;
  #backwardsReported = false;
  /** The message of the last read error reported, so a store that stays broken is reported once, not at every poll. */
  #lastReadError: string | undefined;

  constructor(host: WatchHost, options: WatchOptions = {}, callback?: (event: WatchEvent) => void) {
    if (options === null || typeof options !== 'object') throw new TypeError('watch options must be an object');
    for (const k of Object.keys(options)) {
      if (!OPTION_NAMES.has(k))
        throw new TypeError(`Unknown watch option ${JSON.stringify(k)} (known: ${[...OPTION_NAMES].join(', ')})`);
    }
    if (callback !== undefined && typeof callback !== 'function')
      throw new TypeError('the watch callback must be a function');
    const { since, pollMs = 250, onError = defaultOnError, unref = false } = options;
    if (since !== undefined && !(Number.isSafeInteger(since) && since >= 0)) {
      throw new RangeError(`since must be a whole number ≥ 0 (a revision), received ${String(since)}`);
    }
    if (!(typeof pollMs === 'number' && pollMs >= 10 && pollMs <= 3_600_000)) {
      throw new RangeError(`pollMs must be between 10 and 3600000, received ${String(pollMs)}`);
    }
    if (typeof onError !== 'function') throw new TypeError('onError must be a function');
    this.#prefix = normalizePrefix(options.prefix);
    this.#host = host;
    this.#pollMs = pollMs;
    this.#onError = onError;
    this.#unref = unref === true;
    this.#callback = callback;
    this.#mirrorName = host.mirrorFile === undefined ? undefined : basename(host.mirrorFile);
    if (callback === undefined) this.#backlog = [];

    const current = host.revision();
    this.#highest = current;
    this.#position = since ?? current;

    try {
      this.#subscribe();
      this.#attachFs();
      this.#poll = setInterval(() => this.#tick(), this.#pollMs);
      if (this.#unref) this.#poll.unref();
    } catch (e) {
      this.close();
      throw e;
    }
    if (this.#position < current) this.#queueScan();
  }

  /** The last revision scanned: every change up to it was delivered (or filtered out). Resume with `since: watcher.revision`. */
  get revision(): number {
    return this.#position;
  }

  /** True after close(). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Stops the Watcher: unsubscribes, closes the file watch, clears the timers
   * and ends its async iterators. Safe to call twice, and from a callback (the
   * records of the revision being delivered are finished first, so
   * `revision` stays a whole revision).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    unsubscribe?.();
    this.#fs?.close();
    this.#fs = undefined;
    clearInterval(this.#poll);
    clearTimeout(this.#debounce);
    clearTimeout(this.#mirrorTimer);
    this.#poll = this.#debounce = this.#mirrorTimer = undefined;
    for (const s of this.#sinks) s.end();
    this.#sinks.clear();
    this.#backlog = undefined;
  }

  /**
   * The events as an async iterator. Leaving a `for await` loop (break,
   * return, throw) closes the Watcher. Without a callback, the events that
   * arrive before the first iterator starts are kept for it.
   *
   * @example
   * for await (const e of new Watcher(host, { since: 0 })) if (e.key === 'done') break;
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<WatchEvent> {
    const queue: WatchEvent[] = this.#backlog ?? [];
    this.#backlog = undefined;
    let waiting: ((r: IteratorResult<WatchEvent>) => void) | undefined;
    let ended = this.#closed;
    const sink: Sink = {
      push(event) {
        if (waiting !== undefined) {
          const w = waiting;
          waiting = undefined;
          w({ value: event, done: false });
        } else queue.push(event);
      },
      end() {
        ended = true;
        if (waiting !== undefined) {
          const w = waiting;
          waiting = undefined;
          w({ value: undefined, done: true });
        }
      },
    };
    if (!ended) this.#sinks.add(sink);
    const iterator: AsyncIterableIterator<WatchEvent> = {
      next: () => {
        const e = queue.shift();
        if (e !== undefined) return Promise.resolve({ value: e, done: false });
        if (ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (waiting = resolve));
      },
      return: () => {
        this.#sinks.delete(sink);
        queue.length = 0;
        sink.end();
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  // -------------------------------------------------------------------------
  // Triggers

  #queueScan(): void {
    if (this.#scanQueued || this.#closed) return;
    this.#scanQueued = true;
    queueMicrotask(() => {
      this.#scanQueued = false;
      this.#scan();
    });
  }

  #debouncedScan(): void {
    if (this.#debounce !== undefined || this.#closed) return;
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      this.#scan();
    }, DEBOUNCE_MS);
    if (this.#unref) this.#debounce.unref();
  }

  #tick(): void {
    if (this.#closed) return;
    if (this.#wantSubscribe) this.#subscribe();
    if (this.#fs === undefined) this.#attachFs();
    if (this.#host.syncMirror !== undefined) this.#syncMirror();
    this.#scan();
  }

  #subscribe(): void {
    const on = this.#host.onLocalCommit;
    if (on === undefined || this.#closed) {
      this.#wantSubscribe = false;
      return;
    }
    try {
      const unsubscribe = on.call(this.#host, () => this.#queueScan());
      if (unsubscribe === undefined) return; // not yet: the store does not exist
      this.#unsubscribe = unsubscribe;
      this.#wantSubscribe = false;
    } catch (e) {
      // A read-only handle may refuse; local commits are then seen through the file watch.
      this.#wantSubscribe = false;
      if (isClosedError(e)) this.close();
      else if (!(e instanceof PsmcError && e.code === 'PSMC_READ_ONLY')) this.#report(e);
    }
  }

  #attachFs(): void {
    if (this.#fs !== undefined || this.#closed) return;
    let w: FSWatcher;
    try {
      w = watch(this.#host.dir, { persistent: !this.#unref }, (_event, filename) => this.#onFsEvent(filename));
    } catch (e) {
      // The store directory may not exist yet: the poll tries again. Anything else is reported once.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && !this.#fsFailed) {
        this.#fsFailed = true;
        this.#report(e);
      }
      return;
    }
    w.on('error', (e) => {
      // E.g. the directory was removed. Drop this watch; the poll re-attaches when it can.
      w.close();
      if (this.#fs === w) this.#fs = undefined;
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'EPERM')
        this.#report(e);
    });
    this.#fs = w;
  }

  #onFsEvent(filename: string | Buffer | null): void {
    if (this.#closed) return;
    const name = filename === null ? null : String(filename);
    if (name === null || DB_FILES.has(name)) {
      this.#debouncedScan();
      return;
    }
    if (
      this.#host.syncMirror !== undefined &&
      (this.#mirrorName === undefined ? MIRROR_FILE.test(name) : name === this.#mirrorName)
    ) {
      this.#scheduleMirror(DEBOUNCE_MS);
    }
  }

  #scheduleMirror(ms: number): void {
    if (this.#closed) return;
    clearTimeout(this.#mirrorTimer);
    this.#mirrorTimer = setTimeout(() => {
      this.#mirrorTimer = undefined;
      this.#syncMirror();
      this.#scan();
    }, ms);
    if (this.#unref) this.#mirrorTimer.unref();
  }

  #syncMirror(): void {
    const sync = this.#host.syncMirror;
    if (sync === undefined || this.#closed) return;
    try {
      const r = sync.call(this.#host);
      if (r !== undefined && r !== null && typeof r.retryInMs === 'number' && r.retryInMs >= 0) {
        this.#scheduleMirror(Math.max(1, Math.min(r.retryInMs, 60_000)));
      }
    } catch (e) {
      if (isClosedError(e)) this.close();
      else this.#report(e);
    }
  }

  // -------------------------------------------------------------------------
  // Scan and delivery

  #scan(): void {
    if (this.#closed) return;
    if (this.#scanning) {
      // A callback led here (e.g. it closed over a poll); the running scan goes round again.
      this.#rescan = true;
      return;
    }
    this.#scanning = true;
    try {
      do {
        this.#rescan = false;
        this.#scanOnce();
      } while (this.#rescan && !this.#closed);
      this.#lastReadError = undefined;
    } catch (e) {
      if (isClosedError(e)) this.close();
      else {
        const text = e instanceof Error ? e.message : String(e);
        if (text !== this.#lastReadError) {
          this.#lastReadError = text;
          this.#report(e);
        }
      }
    } finally {
      this.#scanning = false;
    }
  }

  #scanOnce(): void {
    // Read the committed revision first: every revision up to it is complete in history.
    const current = this.#host.revision();
    if (current < this.#highest) {
      if (!this.#backwardsReported) {
        this.#backwardsReported = true;
        this.#report(
          new PsmcError(
            'PSMC_CORRUPT',
            `The store at ${this.#host.dir} went back from revision ${this.#highest} to ${current}; it was replaced by an older copy. The watcher waits until it passes revision ${this.#position} again.`,
            {
              hint: 'A store revision never goes backwards. Check whether the database file was restored or copied over.',
            },
          ),
        );
      }
    } else this.#highest = current;
    while (!this.#closed && this.#position < current) {
      const upto = Math.min(current, this.#position + PAGE_REVISIONS);
      const records = this.#host.history(undefined, { sinceRevision: this.#position, untilRevision: upto });
      records.sort((a, b) => a.revision - b.revision || a.seq - b.seq);
      let last = this.#position;
      for (const r of records) {
        if (r.revision <= this.#position || r.revision > upto) continue; // outside the range asked for: never twice
        if (r.revision !== last) {
          // A new revision begins: the previous ones are complete. Stop here when closed meanwhile.
          this.#position = last;
          if (this.#closed) return;
          last = r.revision;
        }
        this.#deliver(r);
      }
      this.#position = upto;
    }
  }

  #matches(r: ChangeRecord): boolean {
    if (this.#prefix === '') return true;
    return r.key !== SCHEMA_HISTORY_KEY && keyHasPrefix(r.key, this.#prefix);
  }

  #deliver(r: ChangeRecord): void {
    if (!this.#matches(r)) return;
    if (this.#backlog !== undefined) this.#backlog.push(r);
    for (const s of this.#sinks) s.push(r);
    const cb = this.#callback;
    if (cb === undefined) return;
    try {
      cb(r);
    } catch (e) {
      this.#report(e);
    }
  }

  #report(error: unknown): void {
    try {
      this.#onError(error);
    } catch (e) {
      defaultOnError(e);
    }
  }
}
