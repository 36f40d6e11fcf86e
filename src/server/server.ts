/**
 * Starts the HTTP service on a store: listens, wires the app, and stops
 * cleanly. Used by `psmc serve` and by tests (in-process, on port 0).
 *
 * @example
 * const server = await startServer({ store, port: 0 });
 * console.log(server.loginUrl);
 * await server.close();
 */
import { getRequestListener } from '@hono/node-server';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { PsmcError } from '../core/errors.js';
import type { Store } from '../store/store.js';
import { CSP, createApp, errorBody } from './app.js';
import { Authenticator, loginToken } from './auth.js';
import { checkHostAndOrigin, hostPolicy, type HostPolicy } from './guard.js';
import { findGuiDir } from './static.js';
import { newSecret, TokenFile } from './tokens.js';

export interface ServerOptions {
  readonly store: Store;
  /** @default 7770; 0 picks a free port */
  readonly port?: number;
  /** The address to bind. @default '127.0.0.1' */
  readonly host?: string;
  /** Extra names accepted in Host/Origin (e.g. a reverse proxy's name). */
  readonly allowHosts?: readonly string[];
  /**
   * The token of the login URL. Undefined: a fresh per-run login token (kept
   * in memory only). A string: a stored token (from `psmc token create`).
   */
  readonly loginToken?: string;
  /** Where the GUI's files are. @default dist/gui/ of this package */
  readonly guiDir?: string;
  /** Operator notes (never a token). @default stderr */
  readonly log?: (line: string) => void;
  /** How often the change feed sends its keep-alive ping, in ms (1 … 3,600,000). @default 15000 */
  readonly pingMs?: number;
}

export interface RunningServer {
  readonly port: number;
  readonly host: string;
  /** `http://127.0.0.1:<port>/` (or the bound host). */
  readonly url: string;
  /** The URL with `?token=`, to open in a browser. */
  readonly loginUrl: string;
  /** The login token (for tests and the ready line). */
  readonly token: string;
  /** The store directory served. */
  readonly dir: string;
  readonly version: string;
  /** Stops listening, ends event streams and open connections. Does not close the store. */
  close(): Promise<void>;
}

export const DEFAULT_PORT = 7770;

/** psmc's version, from the package.json above this module (dist/src/server/ or dist/bundle/). */
export function psmcVersion(): string {
  for (const up of ['../../../', '../../']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(`${up}package.json`, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'psmc' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not this level
    }
  }
  return 'unknown';
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { store } = options;
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((line: string) => void process.stderr.write(line + '\n'));
  const info = store.info;
  const slot = info.writeLayer === 'project' ? info.project : info.user;
  if (slot === undefined) throw new TypeError(`this store handle has no ${info.writeLayer} store to serve`);
  const dir = slot.dir;
  const tokens = new TokenFile(dir);
  const secret = options.loginToken ?? newSecret();
  if (options.loginToken !== undefined) {
    const p = tokens.verify(options.loginToken, 0);
    if (p === undefined || p.kind !== 'token') {
      throw new PsmcError(
        'PSMC_UNAUTHORIZED',
        `The token given for the login URL is not a valid token of the store at ${dir}.`,
        {
          hint: 'Make one with psmc token create (it prints the token once; save it to the file), or leave out --token-file for a per-run token.',
        },
      );
    }
  }
  const version = psmcVersion();
  // The app needs the port (cookie name, Host policy): it is built once the socket listens.
  const ref: { fetch?: (req: Request) => Response | Promise<Response>; policy?: HostPolicy } = {};
  const listener = getRequestListener((req: Request) => ref.fetch?.(req) ?? new Response('starting', { status: 503 }));
  // The Host and Origin checks run first, on the raw request: a Host that is not even a valid URL
  // authority gets the same 403 as any other foreign name (the app checks again, for in-app use).
  const server: Server = createServer((req, res) => {
    const policy = ref.policy;
    if (policy !== undefined) {
      try {
        const site = req.headers['sec-fetch-site'];
        checkHostAndOrigin(policy, req.headers.host, req.headers.origin, Array.isArray(site) ? site[0] : site);
      } catch (e) {
        const body = JSON.stringify(errorBody(e as PsmcError));
        res.writeHead((e as PsmcError).httpStatus, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(body),
          'x-content-type-options': 'nosniff',
          'referrer-policy': 'no-referrer',
          'content-security-policy': CSP,
          'cache-control': 'no-store',
          connection: 'close',
        });
        res.end(body);
        req.resume();
        return;
      }
    }
    void listener(req, res);
  });
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 0; // event streams stay open
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(
        e.code === 'EADDRINUSE'
          ? new PsmcError('PSMC_BUSY', `Port ${options.port ?? DEFAULT_PORT} on ${host} is in use.`, {
              hint: 'Stop the other server, or pick another port: psmc serve --port 0 picks a free one.',
            })
          : new PsmcError('PSMC_IO', `Cannot listen on ${host}:${options.port ?? DEFAULT_PORT}: ${e.message}`, {
              hint: 'Check the --host address (it must belong to this machine) and the port (below 1024 needs privileges).',
              cause: e,
            }),
      );
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(options.port ?? DEFAULT_PORT, host);
  });
  const port = (server.address() as AddressInfo).port;
  const policy: HostPolicy = hostPolicy(port, host, options.allowHosts ?? []);
  ref.policy = policy;
  const auth = new Authenticator(tokens, options.loginToken === undefined ? loginToken(secret) : undefined, port);
  const { app, feed } = createApp({
    store,
    auth,
    policy: () => policy,
    guiDir: findGuiDir(options.guiDir),
    version,
    log,
    ...(options.pingMs === undefined ? {} : { pingMs: options.pingMs }),
  });
  feed.start();
  ref.fetch = (req) => app.fetch(req);
  const flushUse = setInterval(() => tokens.flushUse(), 60_000);
  flushUse.unref();

  const base = `http://${urlHost(host)}:${port}/`;
  let closing: Promise<void> | undefined;
  return {
    port: port,
    host,
    url: base,
    loginUrl: `${base}?token=${secret}`,
    token: secret,
    dir,
    version,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        clearInterval(flushUse);
        feed.close();
        tokens.flushUse();
        server.close(() => resolve());
        server.closeIdleConnections();
        // Streams were ended above; whatever is still open after a moment is cut.
        setTimeout(() => server.closeAllConnections(), 1000).unref();
      });
      return closing;
    },
  };
}
