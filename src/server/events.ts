/**
 * The SSE change feed (docs/http-api.md §the change feed): one Watcher for
 * the whole server, fanned out to every connected client.
 *
 * Exactness: each client holds a cursor (revision, seq) — the last change it
 * was sent. On connect, synchronously (no Watcher delivery can interleave):
 * the changes after the cursor up to the Watcher's position are read from
 * history and queued, then the client joins the live fan-out, which sends a
 * change only when it is after the client's cursor. Every change is after
 * exactly one cursor position, so nothing is sent twice and nothing skipped.
 *
 * Event ids: the last change of a revision carries `id: <revision>`, the others
 * `id: <revision>:<seq>`; either form resumes exactly (Last-Event-ID or since).
 * The Watcher delivers all changes of a revision in one synchronous pass, so
 * the live changes are gathered and sent in a microtask, when each revision is
 * known to be complete.
 *
 * Prefix filter (`?prefix=display`): a client may ask for the changes of the
 * keys under a prefix only (the segment rule of list and watch: `display`
 * matches `display.units`, not `displayx`; schema changes only without a
 * prefix). Its events keep the ids of the whole feed, so its cursor is exact
 * in the filtered feed too: a resume re-reads history after the cursor and
 * filters it again. So that a client whose keys rarely change does not resume
 * from far back, each ping carries `id: <revision>` when the feed moved past
 * the client's cursor: every change up to the feed's revision was sent to it
 * (or filtered out), so the cursor moves there. An `id` with no data
 * dispatches nothing in EventSource but sets its Last-Event-ID.
 *
 * Snapshots are files, not commits: `event: snapshots` (data
 * `{"names": [...]}`) tells the clients that the set of snapshots changed
 * (snapshot-probe.ts).
 */
import type { ChangeRecord } from '../core/change.js';
import { PsmcError } from '../core/errors.js';
import { keyHasPrefix } from '../core/keys.js';
import { SCHEMA_HISTORY_KEY } from '../core/change.js';
import type { Store } from '../store/store.js';
import type { Watcher } from '../watch/watcher.js';
import { changeOf } from './shapes.js';
import { probeSnapshots, type SnapshotSet } from './snapshot-probe.js';

/** Where a client resumes: strictly after (revision, seq). seq Infinity = after the whole revision. */
export interface Cursor {
  readonly revision: number;
  readonly seq: number;
}

/** Parses `since` / `Last-Event-ID`: `12` or `12:3`. Throws PSMC_USAGE otherwise. */
export function parseCursor(text: string, what: string): Cursor {
  const m = /^(\d{1,15})(?::(\d{1,9}))?$/.exec(text.trim());
  if (m === null) {
    throw new PsmcError(
      'PSMC_USAGE',
      `${what} must be a revision (e.g. 41) or an event id (41 or 41:2), received ${JSON.stringify(text)}.`,
      {
        hint: 'Use the revision of GET /api/v1/keys or the id of the last event received; since=0 replays all history.',
      },
    );
  }
  return { revision: Number(m[1]), seq: m[2] === undefined ? Infinity : Number(m[2]) };
}

function after(r: { revision: number; seq: number }, c: Cursor): boolean {
  return r.revision > c.revision || (r.revision === c.revision && r.seq > c.seq);
}

const encoder = new TextEncoder();
/** A client whose stream has this many unsent chunks is too slow: its stream is ended (it resumes by itself). */
const MAX_QUEUED = 10_000;
const PING_MS = 15_000;
const STATUS_MS = 500;

/** True when the change of `key` belongs in a feed filtered by `prefix` ('' = everything). */
export function inFeed(key: string, prefix: string): boolean {
  if (prefix === '') return true;
  return key !== SCHEMA_HISTORY_KEY && keyHasPrefix(key, prefix);
}

interface Client {
  cursor: Cursor;
  /** Only the changes of keys under this prefix ('' = all). */
  readonly prefix: string;
  readonly controller: ReadableStreamDefaultController<Uint8Array>;
  closed: boolean;
}

interface Formatted {
  readonly key: string;
  readonly revision: number;
  readonly seq: number;
  readonly bytes: Uint8Array;
}

export interface FeedOptions {
  /** The Status as JSON text, for `event: status` (called when clients are connected). */
  readonly status: () => { readonly key: string; readonly json: string };
  /** Where the Watcher's read errors go (never a token). */
  readonly log: (line: string) => void;
  /** The directory whose snapshots the `snapshots` event follows (the write store's `snapshots/`). */
  readonly snapshotsDir?: string;
  /** The ping interval in ms (1 … 3,600,000). @default 15000 */
  readonly pingMs?: number;
}

/** The shared change feed of one store. */
export class ChangeFeed {
  readonly #store: Store;
  readonly #options: FeedOptions;
  #watcher: Watcher | undefined;
  readonly #clients = new Set<Client>();
  #pending: ChangeRecord[] = [];
  #flushQueued = false;
  #ping: NodeJS.Timeout | undefined;
  #statusTimer: NodeJS.Timeout | undefined;
  #lastStatusKey: string | undefined;
  #lastSnapshots: SnapshotSet | undefined;
  #snapshotsError: string | undefined;
  #closed = false;

  constructor(store: Store, options: FeedOptions) {
    const ping = options.pingMs;
    if (ping !== undefined && !(Number.isSafeInteger(ping) && ping >= 1 && ping <= 3_600_000))
      throw new RangeError(`pingMs must be a whole number from 1 to 3600000, received ${String(ping)}`);
    this.#store = store;
    this.#options = options;
  }

  /** Starts the Watcher (the server does this at start, so the first client pays nothing). */
  start(): void {
    if (this.#watcher !== undefined || this.#closed) return;
    // store.watch: the Watcher class of the module copy that made the store (the CLI bundle loads the
    // server as a separate bundle).
    this.#watcher = this.#store.watch(
      {
        onError: (e) =>
          this.#options.log(`psmc serve: watching the store: ${e instanceof Error ? e.message : String(e)}`),
      },
      (r) => this.#onChange(r),
    );
    this.#ping = setInterval(() => this.#pingAll(), this.#options.pingMs ?? PING_MS);
    this.#statusTimer = setInterval(() => {
      this.#checkStatus();
      this.checkSnapshots();
    }, STATUS_MS);
  }

  /** Connected clients. */
  get clients(): number {
    return this.#clients.size;
  }

  /** The revision up to which the feed has seen every change. */
  get revision(): number {
    return this.#watcher?.revision ?? this.#store.revision();
  }

  /**
   * A new client stream starting after `since` (default: the feed's current
   * revision), with the changes of the keys under `prefix` only (a
   * normalized prefix, '' = all). The stream starts with `retry`, `hello`
   * and `status`.
   */
  open(since: Cursor | undefined, signal: AbortSignal | undefined, prefix = ''): ReadableStream<Uint8Array> {
    if (this.#closed) throw new PsmcError('PSMC_CLOSED', 'The server is stopping.', { hint: 'Reconnect in a moment.' });
    this.start();
    let client: Client | undefined;
    const remove = (): void => {
      if (client === undefined || client.closed) return;
      client.closed = true;
      this.#clients.delete(client);
    };
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          const position = this.revision;
          const cursor: Cursor = since ?? { revision: position, seq: Infinity };
          client = { cursor, prefix, controller, closed: false };
          const c = client;
          const hello = { since: cursor.revision, revision: position, ...(prefix === '' ? {} : { prefix }) };
          controller.enqueue(encoder.encode(`retry: 1000\n\nevent: hello\ndata: ${JSON.stringify(hello)}\n\n`));
          const status = this.#options.status();
          // The first client's status and snapshot set are the base that later events are compared with.
          if (this.#clients.size === 0) {
            this.#lastStatusKey = status.key;
            this.#lastSnapshots = this.#probe();
          }
          controller.enqueue(encoder.encode(`event: status\ndata: ${status.json}\n\n`));
          // Catch up from history, synchronously: the Watcher cannot deliver in between.
          // A cursor inside a revision reads that revision again (its rest passes the cursor check).
          let from = cursor.seq === Infinity ? cursor.revision : cursor.revision - 1;
          while (from < position) {
            const upto = Math.min(position, from + 1000);
            const records = this.#store
              .history(undefined, { sinceRevision: from, untilRevision: upto })
              .sort((a, b) => a.revision - b.revision || a.seq - b.seq);
            for (const f of format(records, prefix)) this.#send(c, f);
            from = upto;
          }
          this.#clients.add(c);
          signal?.addEventListener('abort', remove, { once: true });
        },
        cancel: remove,
      },
      { highWaterMark: 1 },
    );
  }

  #onChange(r: ChangeRecord): void {
    this.#pending.push(r);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    this.#flushQueued = false;
    const records = this.#pending;
    this.#pending = [];
    if (records.length === 0 || this.#clients.size === 0) return;
    const formatted = format(records);
    for (const c of this.#clients) for (const f of formatted) this.#send(c, f);
    this.#checkStatus();
    // A commit may come with a snapshot (before a restore or an import, every N revisions).
    this.checkSnapshots();
  }

  #send(c: Client, f: Formatted): void {
    if (c.closed || !after(f, c.cursor) || !inFeed(f.key, c.prefix)) return;
    try {
      if ((c.controller.desiredSize ?? 0) < -MAX_QUEUED) {
        c.closed = true;
        this.#clients.delete(c);
        c.controller.close();
        return;
      }
      c.controller.enqueue(f.bytes);
      c.cursor = { revision: f.revision, seq: f.seq };
    } catch {
      // The stream was closed under us (the client went away).
      c.closed = true;
      this.#clients.delete(c);
    }
  }

  /**
   * The ping; for a client whose cursor is behind the feed (its keys did not change), with
   * `id: <revision>` so that its Last-Event-ID moves up (see the file comment). Runs from a
   * timer, so every change up to the Watcher's position has been flushed to the clients.
   */
  #pingAll(): void {
    const position = this.revision;
    const plain = encoder.encode(': ping\n\n');
    const moved = encoder.encode(`id: ${position}\n: ping\n\n`);
    for (const c of this.#clients) {
      if (c.closed) continue;
      // Behind the feed, or inside a revision whose last changes were filtered out.
      const advance = after({ revision: position, seq: Infinity }, c.cursor);
      try {
        c.controller.enqueue(advance ? moved : plain);
        if (advance) c.cursor = { revision: position, seq: Infinity };
      } catch {
        c.closed = true;
        this.#clients.delete(c);
      }
    }
  }

  #probe(): SnapshotSet | undefined {
    const dir = this.#options.snapshotsDir;
    if (dir === undefined) return undefined;
    try {
      const s = probeSnapshots(dir);
      this.#snapshotsError = undefined;
      return s;
    } catch (e) {
      const text = `psmc serve: reading ${dir}: ${(e as Error).message}`;
      if (text !== this.#snapshotsError) this.#options.log(text);
      this.#snapshotsError = text;
      return undefined;
    }
  }

  /**
   * Sends `event: snapshots` to every client when the set of snapshots changed since the
   * last look. Called every 500 ms while clients are connected, after each delivered change,
   * and by the snapshot routes after they change something.
   */
  checkSnapshots(): void {
    if (this.#clients.size === 0) {
      this.#lastSnapshots = undefined;
      return;
    }
    const now = this.#probe();
    if (now === undefined) return;
    const before = this.#lastSnapshots;
    this.#lastSnapshots = now;
    if (before === undefined || before.key === now.key) return;
    this.#broadcast(encoder.encode(`event: snapshots\ndata: ${JSON.stringify({ names: now.names })}\n\n`));
  }

  #broadcast(bytes: Uint8Array): void {
    for (const c of this.#clients) {
      try {
        c.controller.enqueue(bytes);
      } catch {
        c.closed = true;
        this.#clients.delete(c);
      }
    }
  }

  #checkStatus(): void {
    if (this.#clients.size === 0) {
      this.#lastStatusKey = undefined;
      return;
    }
    let s: { key: string; json: string };
    try {
      s = this.#options.status();
    } catch (e) {
      this.#options.log(`psmc serve: reading the status: ${(e as Error).message}`);
      return;
    }
    if (s.key === this.#lastStatusKey) return;
    this.#lastStatusKey = s.key;
    this.#broadcast(encoder.encode(`event: status\ndata: ${s.json}\n\n`));
  }

  /** Ends every stream and stops the Watcher. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#ping);
    clearInterval(this.#statusTimer);
    this.#watcher?.close();
    for (const c of this.#clients) {
      c.closed = true;
      try {
        c.controller.close();
      } catch {
        // already closed
      }
    }
    this.#clients.clear();
  }
}

/**
 * SSE text of changes (sorted), with the ids described in the file comment: the ids of the whole
 * feed, whatever `prefix` leaves out (only the changes under `prefix` are encoded).
 */
function format(records: readonly ChangeRecord[], prefix = ''): Formatted[] {
  const out: Formatted[] = [];
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as ChangeRecord;
    if (!inFeed(r.key, prefix)) continue;
    const next = records[i + 1];
    const last = next === undefined || next.revision !== r.revision;
    const id = last ? String(r.revision) : `${r.revision}:${r.seq}`;
    out.push({
      key: r.key,
      revision: r.revision,
      seq: last ? Infinity : r.seq,
      bytes: encoder.encode(`id: ${id}\nevent: change\ndata: ${JSON.stringify(changeOf(r))}\n\n`),
    });
  }
  return out;
}
