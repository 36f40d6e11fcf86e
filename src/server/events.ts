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
 */
import type { ChangeRecord } from '../core/change.js';
import { PsmcError } from '../core/errors.js';
import type { Store } from '../store/store.js';
import type { Watcher } from '../watch/watcher.js';
import { changeOf } from './shapes.js';

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

interface Client {
  cursor: Cursor;
  readonly controller: ReadableStreamDefaultController<Uint8Array>;
  closed: boolean;
}

interface Formatted {
  readonly revision: number;
  readonly seq: number;
  readonly bytes: Uint8Array;
}

export interface FeedOptions {
  /** The Status as JSON text, for `event: status` (called when clients are connected). */
  readonly status: () => { readonly key: string; readonly json: string };
  /** Where the Watcher's read errors go (never a token). */
  readonly log: (line: string) => void;
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
  #closed = false;

  constructor(store: Store, options: FeedOptions) {
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
    this.#ping = setInterval(() => this.#broadcast(encoder.encode(': ping\n\n')), PING_MS);
    this.#statusTimer = setInterval(() => this.#checkStatus(), STATUS_MS);
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
   * revision). The stream starts with `retry`, `hello` and `status`.
   */
  open(since: Cursor | undefined, signal: AbortSignal | undefined): ReadableStream<Uint8Array> {
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
          client = { cursor, controller, closed: false };
          const c = client;
          controller.enqueue(
            encoder.encode(
              `retry: 1000\n\nevent: hello\ndata: ${JSON.stringify({ since: cursor.revision, revision: position })}\n\n`,
            ),
          );
          const status = this.#options.status();
          // The first client's status is the base that later status events are compared with.
          if (this.#clients.size === 0) this.#lastStatusKey = status.key;
          controller.enqueue(encoder.encode(`event: status\ndata: ${status.json}\n\n`));
          // Catch up from history, synchronously: the Watcher cannot deliver in between.
          // A cursor inside a revision reads that revision again (its rest passes the cursor check).
          let from = cursor.seq === Infinity ? cursor.revision : cursor.revision - 1;
          while (from < position) {
            const upto = Math.min(position, from + 1000);
            const records = this.#store
              .history(undefined, { sinceRevision: from, untilRevision: upto })
              .sort((a, b) => a.revision - b.revision || a.seq - b.seq);
            for (const f of format(records)) this.#send(c, f);
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
  }

  #send(c: Client, f: Formatted): void {
    if (c.closed || !after(f, c.cursor)) return;
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

/** SSE text of changes (sorted), with the ids described in the file comment. */
function format(records: readonly ChangeRecord[]): Formatted[] {
  const out: Formatted[] = [];
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as ChangeRecord;
    const next = records[i + 1];
    const last = next === undefined || next.revision !== r.revision;
    const id = last ? String(r.revision) : `${r.revision}:${r.seq}`;
    out.push({
      revision: r.revision,
      seq: last ? Infinity : r.seq,
      bytes: encoder.encode(`id: ${id}\nevent: change\ndata: ${JSON.stringify(changeOf(r))}\n\n`),
    });
  }
  return out;
}
