/**
 * The live connection: one EventSource on /api/v1/events, resumed from the last revision seen.
 *
 * EventSource reconnects by itself after a dropped connection and sends `Last-Event-ID`, which the
 * server honours, so a resume has no gap and no duplicate. When the server answers with an error
 * instead (a restart in progress, a 401), the browser closes the stream for good; then this class
 * reconnects itself with `?since=<last revision>`, backing off from 0.5 s to 5 s, and asks the
 * session endpoint whether it is a 401 (then it stops: the user must log in again).
 */
import type { Change, Status } from './types.js';

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'signed-out';

export interface LiveHandlers {
  /** One change, in revision order. */
  change(c: Change): void;
  status(s: Status): void;
  state(s: ConnectionState): void;
  /** The stream (re)started after having been down: anything may have moved. */
  resumed(): void;
  /** The set of snapshots changed (made or deleted by anyone, this page included). */
  snapshots(): void;
}

export class Live {
  #since: number;
  #source: EventSource | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #attempt = 0;
  #everLive = false;
  #down = false;
  #stopped = false;
  readonly #h: LiveHandlers;

  constructor(since: number, handlers: LiveHandlers) {
    this.#since = since;
    this.#h = handlers;
  }

  /** The last store revision delivered. */
  get since(): number {
    return this.#since;
  }

  start(): void {
    this.#stopped = false;
    this.#open();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#source?.close();
    this.#source = undefined;
  }

  #open(): void {
    if (this.#stopped) return;
    this.#h.state(this.#everLive ? 'reconnecting' : 'connecting');
    const es = new EventSource(`/api/v1/events?since=${this.#since}`);
    this.#source = es;
    es.addEventListener('hello', () => {
      this.#attempt = 0;
      this.#h.state('live');
      if (this.#down || this.#everLive) this.#h.resumed();
      this.#down = false;
      this.#everLive = true;
    });
    es.addEventListener('change', (ev) => {
      let c: Change;
      try {
        c = JSON.parse((ev as MessageEvent<string>).data) as Change;
      } catch (e) {
        console.error('psmc: a change event that is not JSON', e);
        return;
      }
      if (typeof c.revision === 'number' && c.revision > this.#since) this.#since = c.revision;
      this.#h.change(c);
    });
    es.addEventListener('status', (ev) => {
      try {
        this.#h.status(JSON.parse((ev as MessageEvent<string>).data) as Status);
      } catch (e) {
        console.error('psmc: a status event that is not JSON', e);
      }
    });
    es.addEventListener('snapshots', () => this.#h.snapshots());
    es.onerror = () => {
      this.#down = true;
      if (es.readyState === EventSource.CONNECTING) {
        // The browser retries by itself (with Last-Event-ID).
        this.#h.state('reconnecting');
        return;
      }
      es.close();
      if (this.#source === es) this.#source = undefined;
      void this.#retry();
    };
  }

  async #retry(): Promise<void> {
    if (this.#stopped) return;
    this.#h.state('reconnecting');
    try {
      const res = await fetch('/api/v1/session', { credentials: 'same-origin', cache: 'no-store' });
      if (res.status === 401) {
        this.#h.state('signed-out');
        return;
      }
    } catch {
      // Server down: keep trying below.
    }
    const delay = Math.min(5000, 500 * 2 ** Math.min(this.#attempt, 4));
    this.#attempt++;
    this.#timer = setTimeout(() => this.#open(), delay);
  }
}
