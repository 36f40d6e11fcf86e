/**
 * Helpers for the HTTP service tests: a server in this process on port 0 over
 * a store in a fresh temp dir, or `psmc serve` as a real child process; raw
 * HTTP requests (node:http, or bytes over a socket for malformed headers);
 * and an SSE reader.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openStore, type Store } from '../../src/index.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/index.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'psmc.cjs');

export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'psmc-http-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The environment for child psmc processes: no PSMC_* from the runner, HOME in the temp dir. */
export function childEnv(dir: string): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'xdg'),
    PSMC_HOME: join(dir, 'home'),
  };
}

/** Runs the psmc CLI synchronously against `storeDir`. */
export function cli(
  storeDir: string,
  args: readonly string[],
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, '--store', storeDir, ...args], {
    encoding: 'utf8',
    env: { ...childEnv(storeDir), ...env },
    timeout: 60_000,
  });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface InProcess {
  readonly dir: string;
  readonly store: Store;
  readonly server: RunningServer;
  readonly base: string;
  readonly token: string;
}

/** A server in this process over a new store in its own temp dir (closed after the test). */
export async function inProcess(
  t: TestContext,
  options: Partial<ServerOptions> & { seed?: Record<string, unknown> } = {},
): Promise<InProcess> {
  const dir = options.store === undefined ? join(tempDir(t), 'store') : '';
  const store = options.store ?? openStore({ dir, env: {}, source: 'test' });
  for (const [k, v] of Object.entries(options.seed ?? {})) store.set(k, v);
  const logs: string[] = [];
  const server = await startServer({ port: 0, log: (l) => logs.push(l), ...options, store });
  t.after(async () => {
    await server.close();
    store.close();
  });
  return { dir: server.dir, store, server, base: `http://127.0.0.1:${server.port}`, token: server.token };
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** Bearer token to send (omit for none). */
  readonly token?: string;
}

/** One HTTP request with node:http (Host defaults to 127.0.0.1:<port>). */
export function request(port: number, path: string, options: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
    if (options.body !== undefined && headers['content-length'] === undefined)
      headers['content-length'] = String(Buffer.byteLength(options.body));
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: <T>() => JSON.parse(text) as T,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** Sends raw request bytes over a socket and returns the status line's code and the raw answer. */
export function rawRequest(port: number, bytes: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      const text = Buffer.concat(chunks).toString('utf8');
      // One answer is enough: stop once the headers and the announced body are in.
      const head = text.indexOf('\r\n\r\n');
      if (head !== -1) {
        const m = /content-length: *(\d+)/i.exec(text.slice(0, head));
        if (m !== null && Buffer.byteLength(text.slice(head + 4)) >= Number(m[1])) socket.end();
      }
    });
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m === null ? 0 : Number(m[1]), text });
    });
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('raw request timed out')));
    socket.write(bytes);
  });
}

export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

export interface SseClient {
  readonly events: SseEvent[];
  /** What EventSource's lastEventId would be: the last `id` field of a dispatched block, with data or without. */
  readonly lastId: string | undefined;
  /** How many `: ping` comments arrived. */
  readonly pings: number;
  /** Resolves once `predicate` holds for the events received (rejects after `ms`). */
  until(predicate: (events: SseEvent[]) => boolean, ms?: number): Promise<void>;
  close(): void;
  /** The HTTP status of the answer. */
  readonly status: Promise<number>;
}

/** Opens the event stream with node:http and parses it as it arrives. */
export function sse(port: number, path: string, headers: Record<string, string>): SseClient {
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  let statusResolve: (n: number) => void = () => {};
  const status = new Promise<number>((r) => (statusResolve = r));
  let buffer = '';
  let failed: Error | undefined;
  let lastId: string | undefined;
  let pings = 0;
  const req = httpRequest({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
    statusResolve(res.statusCode ?? 0);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let id: string | undefined;
        let event = 'message';
        const data: string[] = [];
        let any = false;
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) {
            if (line === ': ping') pings++;
            continue;
          }
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') id = value;
          else if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
          else continue;
          any = true;
        }
        if (id !== undefined) lastId = id;
        if (any && data.length > 0) events.push({ id, event, data: data.join('\n') });
      }
      for (const w of waiters) w();
    });
    res.on('error', () => {});
  });
  req.on('error', (e) => {
    failed = e;
    statusResolve(0);
    for (const w of waiters) w();
  });
  req.end();
  return {
    events,
    get lastId() {
      return lastId;
    },
    get pings() {
      return pings;
    },
    status,
    until(predicate, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (predicate(events)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          } else if (failed !== undefined) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(failed);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`SSE: condition not met within ${ms} ms; received ${events.length} events`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    close() {
      req.destroy();
    },
  };
}

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly ready: {
    readonly url: string;
    readonly loginUrl: string;
    readonly port: number;
    readonly host: string;
    readonly store: string;
    readonly pid: number;
    readonly version: string;
  };
  readonly token: string;
  readonly stderr: () => string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `psmc serve --port 0 --json` on `storeDir` and waits for its ready line. */
export async function serveProcess(
  t: TestContext,
  storeDir: string,
  extraArgs: readonly string[] = [],
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, '--store', storeDir, 'serve', '--port', '0', '--json', ...extraArgs], {
    env: childEnv(storeDir),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines = createInterface({ input: child.stdout! });
  const first = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    exited.then((code) => {
      throw new Error(`psmc serve exited (${String(code)}) before it was ready:\n${stderr}`);
    }),
  ]);
  const ready = JSON.parse(first) as ServeProcess['ready'] & { event: string };
  if (ready.event !== 'ready') throw new Error(`unexpected first line: ${first}`);
  const token = new URL(ready.loginUrl).searchParams.get('token') ?? '';
  return {
    child,
    ready,
    token,
    stderr: () => stderr,
    stop: (signal = 'SIGTERM') => {
      child.kill(signal);
      return exited;
    },
  };
}

/** A JSON answer read loosely: the tests check its fields one by one. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked field by field, not typed
export type Json = any;

const WRITER = fileURLToPath(new URL('./writer.js', import.meta.url));

/** Runs test/server/writer.ts in its own process (`count` commits in `mode`); resolves when it exits 0. */
export function runWriter(dir: string, count: number, mode: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, dir, String(count), mode], { env: childEnv(dir), stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${String(code)}`))));
  });
}

/** A `change` event's data, as the tests read it. */
export interface Change {
  revision: number;
  seq: number;
  key: string;
  op: string;
  value?: unknown;
}

/** The `change` events of a feed, parsed. */
export const changes = (events: readonly SseEvent[]): Change[] =>
  events.filter((e) => e.event === 'change').map((e) => JSON.parse(e.data) as Change);
