/**
 * The HTTP application: request checks, authentication, the API v1 routes,
 * the change feed and the GUI's static files, on Hono. Errors become JSON in
 * one place (`errorResponse`), with the status from the PsmcError code
 * (ERROR_CODES in src/core/errors.ts).
 */
import { Hono, type Context as HonoContext } from 'hono';
import { isPsmcError, PsmcError } from '../core/errors.js';
import { assertKey, normalizePrefix } from '../core/keys.js';
import type { JsonValue } from '../core/value.js';
import type { ChangeRecord } from '../core/change.js';
import { pendingImports } from '../mirror/imports.js';
import { assertSnapshotName, snapshotsDir } from '../snapshot/index.js';
import type { Store } from '../store/store.js';
import type { Authenticator, Authenticated } from './auth.js';
import { ChangeFeed, parseCursor, type Cursor } from './events.js';
import {
  checkHostAndOrigin,
  checkJsonContentType,
  expectObject,
  parseJsonBody,
  readBody,
  type HostPolicy,
} from './guard.js';
import { openApiDocument } from './openapi.js';
import { changeOf, entryOf, explanationOf, SchemaCache, snapshotOf, statusOf, type ApiEntry } from './shapes.js';
import { staticFile } from './static.js';

export const CSP =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";

export interface AppOptions {
  readonly store: Store;
  readonly auth: Authenticator;
  /** Filled in once the port is known (`--port 0`). */
  readonly policy: () => HostPolicy;
  readonly guiDir: string;
  readonly version: string;
  /** Where notes for the operator go (never a token). */
  readonly log: (line: string) => void;
  /** The change feed's ping interval in ms. @default 15000 */
  readonly pingMs?: number;
}

type Env = {
  Variables: { who: Authenticated };
  /** The Node adapter passes the raw request: its headers are a plain object (cheaper than a Headers). */
  Bindings: { incoming?: { headers: Record<string, string | string[] | undefined> } };
};

/** A request header, from the raw Node request when there is one. A repeated header gives its first value. */
function header(c: HonoContext<Env>, name: string): string | undefined {
  const raw = (c.env as Env['Bindings'] | undefined)?.incoming?.headers;
  if (raw === undefined) return c.req.header(name);
  const v = raw[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The headers of every answer: no sniffing, no referrer, no framing, the CSP (pages), never
 * cached unless said otherwise. No CORS headers, ever. Given when each Response is made (not
 * patched in afterwards, which would cost the Node adapter its fast path).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': CSP,
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

function answer(
  body: ConstructorParameters<typeof Response>[0],
  status: number,
  headers: Record<string, string>,
): Response {
  return new Response(body, { status, headers: { ...SECURITY_HEADERS, ...headers } });
}

/** The JSON body of an error answer. */
export function errorBody(e: PsmcError): Record<string, unknown> {
  const details = e.details;
  const hasDetails = Object.keys(details).length > 0;
  return { error: { code: e.code, message: e.message, hint: e.hint, ...(hasDetails ? { details } : {}) } };
}

/** The one place an error becomes an HTTP response. */
export function errorResponse(e: unknown, log: (line: string) => void, extra?: Record<string, unknown>): Response {
  let err: PsmcError;
  if (isPsmcError(e)) err = e;
  else if (e instanceof TypeError || e instanceof RangeError) {
    // The library's caller-misuse errors: with the API's own checks in front, a request that reaches one is bad input.
    err = new PsmcError('PSMC_USAGE', e.message, { hint: 'See docs/http-api.md for the request shapes.' });
  } else {
    log(`psmc serve: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    err = new PsmcError('PSMC_INTERNAL', 'The server failed to handle the request.', {
      hint: 'This is a bug in psmc; the server log has the details.',
    });
  }
  return answer(JSON.stringify({ ...errorBody(err), ...extra }), err.httpStatus, {
    'content-type': 'application/json; charset=utf-8',
  });
}

function json(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return answer(JSON.stringify(data), status, { 'content-type': 'application/json; charset=utf-8', ...headers });
}

const LOGIN_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>psmc: log in</title></head><body><h1>psmc</h1><p>You are not logged in. Open the login URL that <code>psmc serve</code> printed in its terminal (it ends in <code>?token=…</code>).</p><p>Lost it? Stop the server and start it again for a new one, or make a token with <code>psmc token create</code> and open <code>/?token=&lt;token&gt;</code>.</p></body></html>`;

function usage(message: string, hint: string): PsmcError {
  return new PsmcError('PSMC_USAGE', message, { hint });
}

/** A revision from a query parameter or header; throws PSMC_USAGE. */
function revisionParam(text: string, what: string): number {
  const t = text
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
  if (!/^\d{1,15}$/.test(t)) {
    throw usage(
      `${what} must be a revision (a whole number ≥ 0), received ${JSON.stringify(text)}.`,
      'Use a revision from GET /api/v1/keys or /history.',
    );
  }
  return Number(t);
}

function keyParam(c: HonoContext<Env>): string {
  const key = c.req.param('key') ?? '';
  assertKey(key);
  return key;
}

function nameParam(c: HonoContext<Env>): string {
  const name = c.req.param('name') ?? '';
  assertSnapshotName(name);
  return name;
}

function flagParam(v: string | undefined): boolean {
  return v === '1' || v === 'true';
}

/** Builds the Hono app. */
export function createApp(options: AppOptions): { app: Hono<Env>; feed: ChangeFeed } {
  const { store, auth, log } = options;
  const schemas = new SchemaCache();
  // The compiled schema (for the `schema` of each Entry), looked up again when the store revision
  // moved (a schema change is a commit), checked at most every 50 ms: a key read costs no query
  // for it. Writes are validated by the store itself, never with this copy.
  let schemaAt = -1;
  let schemaCheckedAt = -Infinity;
  let compiled: ReturnType<SchemaCache['of']>;
  const schema = (): ReturnType<SchemaCache['of']> => {
    const now = performance.now();
    if (now - schemaCheckedAt < 50) return compiled;
    schemaCheckedAt = now;
    const revision = store.revision();
    if (revision !== schemaAt) {
      compiled = schemas.of(store.schema());
      schemaAt = revision;
    }
    return compiled;
  };
  const status = (): ReturnType<typeof statusOf> =>
    statusOf(store, options.version, feed.clients, (dir) => pendingImports(dir).length);
  const feed = new ChangeFeed(store, {
    log,
    snapshotsDir: snapshotsDir(store),
    ...(options.pingMs === undefined ? {} : { pingMs: options.pingMs }),
    status: () => {
      const s = status();
      const key = JSON.stringify([s.database.ok, s.mirror?.error, s.mirror?.syncError, s.conflicts, s.imports.waiting]);
      return { key, json: JSON.stringify(s) };
    },
  });
  const sourceOf = (c: HonoContext<Env>): string => {
    const who = c.get('who');
    return who.via === 'cookie' ? 'gui' : `http:${who.principal.name}`;
  };

  const app = new Hono<Env>();

  app.onError((e) => errorResponse(e, log));
  app.notFound((c) =>
    errorResponse(
      new PsmcError('PSMC_NOT_FOUND', `No route ${c.req.method} ${new URL(c.req.url).pathname}.`, {
        hint: 'The routes are listed in /api/v1/openapi.json and docs/http-api.md.',
      }),
      log,
    ),
  );

  // Host/Origin, then who is asking, then what they may do.
  app.use('*', async (c, next) => {
    checkHostAndOrigin(options.policy(), header(c, 'host'), header(c, 'origin'), header(c, 'sec-fetch-site'));
    const method = c.req.method;
    const path = c.req.path;
    const isApi = path === '/api' || path.startsWith('/api/');
    const read = method === 'GET' || method === 'HEAD';
    // A page load with ?token=: log in (a session cookie) and reload without the token in the URL.
    if (read && !isApi && header(c, 'authorization') === undefined && c.req.url.includes('token=')) {
      const url = new URL(c.req.url);
      const token = url.searchParams.get('token');
      if (token !== null) {
        const p = auth.verify(token);
        if (p === undefined || p.kind === 'session') {
          return answer(LOGIN_PAGE, 401, { 'content-type': 'text/html; charset=utf-8' });
        }
        url.searchParams.delete('token');
        const location = url.pathname + (url.search === '?' ? '' : url.search);
        return answer(null, 303, { location, 'set-cookie': auth.sessionCookie(p) });
      }
    }
    let who: Authenticated;
    try {
      who = auth.authenticate(header(c, 'authorization'), header(c, 'cookie'));
    } catch (e) {
      if (!isApi && read && isPsmcError(e) && e.code === 'PSMC_UNAUTHORIZED') {
        return answer(LOGIN_PAGE, 401, { 'content-type': 'text/html; charset=utf-8' });
      }
      throw e;
    }
    c.set('who', who);
    if (!read && path !== '/api/v1/logout') {
      if (!who.principal.scopes.includes('write')) {
        throw new PsmcError(
          'PSMC_FORBIDDEN',
          `The ${who.principal.kind} ${JSON.stringify(who.principal.name)} may only read.`,
          {
            hint: 'Use a token with write scope (psmc token create without --read-only).',
          },
        );
      }
    }
    if (!read) {
      if (who.via === 'cookie' && header(c, 'x-psmc-request') !== '1') {
        throw new PsmcError('PSMC_FORBIDDEN', 'A browser write needs the header X-Psmc-Request: 1.', {
          hint: 'The psmc GUI sends it; a cross-site form cannot. Programs should use Authorization: Bearer <token>.',
        });
      }
      if (method === 'POST' || method === 'PUT' || method === 'PATCH') checkJsonContentType(header(c, 'content-type'));
    }
    await next();
  });

  /** The JSON body of a write (an empty body is `{}`). */
  const body = async (c: HonoContext<Env>): Promise<unknown> => {
    const text = await readBody(c.req.raw);
    return text.trim() === '' ? {} : parseJsonBody(text);
  };
  const ifMatch = (c: HonoContext<Env>): number | undefined => {
    const h = header(c, 'if-match');
    return h === undefined ? undefined : revisionParam(h, 'If-Match');
  };
  /** The stored value of a key in the write store, for a 412 answer. */
  const currentOf = (key: string): Record<string, unknown> => {
    const layer = store.info.writeLayer;
    const l = store.explain(key).layers.find((x) => x.layer === layer);
    return l?.present === true
      ? { value: l.value, revision: l.revision ?? 0, source: l.source ?? null, time: entryTime(l.updatedAt) }
      : { value: null, revision: 0, source: null, time: null, absent: true };
  };
  const conflictAware = (key: string, fn: () => Response): Response => {
    try {
      return fn();
    } catch (e) {
      if (isPsmcError(e) && e.code === 'PSMC_CONFLICT') return errorResponse(e, log, { current: currentOf(key) });
      throw e;
    }
  };

  const api = new Hono<Env>();

  api.get('/health', () => json({ ok: true }));
  api.get('/status', () => json(status()));
  api.get('/session', (c) => {
    const p = c.get('who').principal;
    return json({ scopes: p.scopes, name: p.name, kind: p.kind, store: status().store.path });
  });
  api.post('/logout', (c) => json({ ok: true }, 200, { 'set-cookie': auth.endSession(c.get('who').principal) }));

  api.get('/keys', (c) => {
    const prefix = c.req.query('prefix');
    const layers = flagParam(c.req.query('layers'));
    const revision = store.revision();
    const s = schema();
    const keys: ApiEntry[] = store.list(prefix).map((r) => entryOf(r, s, layers ? store.explain(r.key) : undefined));
    return json({ revision, keys });
  });
  api.get('/keys/:key', (c) => {
    const key = keyParam(c);
    const e = store.explain(key);
    if (!e.found) {
      const envError = e.layers.find((l) => l.error !== undefined)?.error;
      if (envError !== undefined) store.resolve(key); // throws the env error (422)
      throw new PsmcError('PSMC_NOT_FOUND', `No layer has a value for ${JSON.stringify(key)}.`, {
        hint: 'Set it with PUT /api/v1/keys/{key}, or see the keys with GET /api/v1/keys.',
        details: { key },
      });
    }
    return json(entryOf(e, schema(), e), 200, { etag: `"${e.revision}"` });
  });
  api.put('/keys/:key', async (c) => {
    const key = keyParam(c);
    const b = expectObject(await body(c), ['value'], `PUT /api/v1/keys/${key}`);
    if (!Object.hasOwn(b, 'value')) throw usage('The body needs a "value".', 'Send {"value": <any JSON value>}.');
    const expect = ifMatch(c);
    return conflictAware(key, () => {
      const commit = store.set(key, b['value'], {
        source: sourceOf(c),
        ...(expect === undefined ? {} : { expectRevision: expect }),
      });
      const changed = commit.changes.length > 0;
      const revision = changed ? commit.revision : currentOf(key)['revision'];
      return json({ key, revision, storeRevision: commit.revision, changed });
    });
  });
  api.delete('/keys/:key', (c) => {
    const key = keyParam(c);
    const expect = ifMatch(c);
    return conflictAware(key, () => {
      const commit = store.delete(key, {
        source: sourceOf(c),
        ...(expect === undefined ? {} : { expectRevision: expect }),
      });
      return json({ key, storeRevision: commit.revision, changed: commit.changes.length > 0 });
    });
  });
  api.post('/keys/:key/revert', async (c) => {
    const key = keyParam(c);
    const b = expectObject(await body(c), ['revision'], `POST /api/v1/keys/${key}/revert`);
    const rev = b['revision'];
    if (typeof rev !== 'number' || !Number.isSafeInteger(rev) || rev < 1) {
      throw usage('"revision" must be a whole number ≥ 1.', 'Give the revision of a history entry of this key.');
    }
    const record = store
      .history(key, { sinceRevision: rev - 1, untilRevision: rev })
      .find((r) => r.key === key && r.revision === rev);
    if (record === undefined) {
      throw new PsmcError('PSMC_NOT_FOUND', `Revision ${rev} did not change ${JSON.stringify(key)}.`, {
        hint: `See the key's history with GET /api/v1/history?key=${encodeURIComponent(key)}.`,
        details: { key },
      });
    }
    // A conflict record keeps the losing value in oldValue: reverting to it brings that value back.
    const target: JsonValue | undefined = record.op === 'conflict' ? record.oldValue : record.newValue;
    const expect = ifMatch(c);
    const opts = { source: sourceOf(c), ...(expect === undefined ? {} : { expectRevision: expect }) };
    return conflictAware(key, () => {
      const commit = target === undefined ? store.delete(key, opts) : store.set(key, target, opts);
      const changed = commit.changes.length > 0;
      return json({
        key,
        revision: changed ? commit.revision : currentOf(key)['revision'],
        storeRevision: commit.revision,
        changed,
      });
    });
  });

  api.get('/explain/:key', (c) => json(explanationOf(store.explain(keyParam(c)))));

  api.get('/history', (c) => {
    const q = (n: string): string | undefined => c.req.query(n);
    const key = q('key');
    if (key !== undefined && !(flagParam(q('prefix')) && key === '')) assertKey(key);
    const since = q('since') === undefined ? undefined : revisionParam(q('since') as string, 'since');
    const until = q('until') === undefined ? undefined : revisionParam(q('until') as string, 'until');
    const limitText = q('limit');
    const limit = limitText === undefined ? 100 : revisionParam(limitText, 'limit');
    if (limit < 1 || limit > 10_000)
      throw usage('limit must be between 1 and 10000.', 'Page with until=<the oldest revision received − 1>.');
    const time = (n: string): number | undefined => {
      const t = q(n);
      if (t === undefined) return undefined;
      const ms = Date.parse(t);
      if (!/^\d{4}-\d\d-\d\d/.test(t) || Number.isNaN(ms)) {
        throw usage(
          `${n} must be an ISO 8601 time, received ${JSON.stringify(t)}.`,
          'E.g. after=2026-11-26T04:00:00Z.',
        );
      }
      return ms;
    };
    const afterMs = time('after');
    const beforeMs = time('before');
    const entries: ChangeRecord[] = [];
    const scoped = key === undefined || key === '' ? {} : { prefix: flagParam(q('prefix')) };
    const keyArg = key === '' ? undefined : key;
    if (afterMs === undefined && beforeMs === undefined) {
      entries.push(
        ...store.history(keyArg, {
          ...scoped,
          ...(since === undefined ? {} : { sinceRevision: since }),
          ...(until === undefined ? {} : { untilRevision: until }),
          limit,
        }),
      );
    } else {
      // Time filters: page through history newest first (whole revisions per page) until the limit is reached.
      const PAGE = 1000;
      let upto = until;
      for (;;) {
        let page = store.history(keyArg, {
          ...scoped,
          ...(since === undefined ? {} : { sinceRevision: since }),
          ...(upto === undefined ? {} : { untilRevision: upto }),
          limit: PAGE,
        });
        const oldest = page[page.length - 1];
        if (oldest === undefined) break;
        let next = oldest.revision - 1;
        if (page.length === PAGE && page[0]?.revision !== oldest.revision) {
          // The page may end inside the oldest revision: read that revision again, whole, next time.
          page = page.filter((r) => r.revision !== oldest.revision);
          next = oldest.revision;
        }
        for (const r of page) {
          const ms = Date.parse(r.at.replace(/-\d+$/, ''));
          if (beforeMs !== undefined && ms > beforeMs) continue;
          if (afterMs !== undefined && ms <= afterMs) continue;
          entries.push(r);
          if (entries.length >= limit) break;
        }
        if (entries.length >= limit) break;
        const last = page[page.length - 1] ?? oldest;
        if (afterMs !== undefined && Date.parse(last.at.replace(/-\d+$/, '')) <= afterMs) break;
        if (next < 1 || (since !== undefined && next <= since)) break;
        upto = next;
      }
    }
    return json({ entries: entries.slice(0, limit).map(changeOf) });
  });

  api.post('/undo', async (c) => {
    const b = expectObject(await body(c), ['revision', 'force'], 'POST /api/v1/undo');
    const rev = b['revision'];
    const force = b['force'];
    if (rev !== undefined && (typeof rev !== 'number' || !Number.isSafeInteger(rev) || rev < 1))
      throw usage(
        '"revision" must be a whole number ≥ 1.',
        'Give a revision from GET /api/v1/history, or leave it out for the newest.',
      );
    if (force !== undefined && typeof force !== 'boolean')
      throw usage('"force" must be true or false.', 'Send {"force": true} to undo over later changes.');
    const commit = store.undo({
      source: sourceOf(c),
      ...(rev === undefined ? {} : { revision: rev }),
      ...(force === undefined ? {} : { force }),
    });
    return json({ storeRevision: commit.revision, changes: commit.changes.map(changeOf) });
  });

  api.get('/schema', () => json({ schema: store.schema() ?? null }));

  api.get('/snapshots', () => {
    const list = store.snapshots();
    return json({ snapshots: list.snapshots.map(snapshotOf), problems: list.problems });
  });
  api.post('/snapshots', async (c) => {
    const b = expectObject(await body(c), ['name'], 'POST /api/v1/snapshots');
    const name = b['name'];
    if (name !== undefined) assertSnapshotName(name);
    const info = store.snapshot(name as string | undefined);
    feed.checkSnapshots();
    return json(snapshotOf(info), 201);
  });
  api.get('/snapshots/:name', (c) => {
    const doc = store.readSnapshot(nameParam(c));
    return json({
      name: doc.name,
      created: doc.createdAt,
      revision: doc.revision,
      reason: doc.reason,
      source: doc.source,
      entries: doc.entries,
      ...(doc.schema === undefined ? {} : { schema: doc.schema }),
    });
  });
  api.get('/snapshots/:name/diff', (c) => {
    const name = nameParam(c);
    const against = c.req.query('against') ?? 'current';
    if (against.toLowerCase() !== 'current') assertSnapshotName(against);
    return json(store.diffSnapshots(name, against));
  });
  api.post('/snapshots/:name/restore', async (c) => {
    const name = nameParam(c);
    expectObject(await body(c), [], `POST /api/v1/snapshots/${name}/restore`);
    const r = store.restore(name, { source: sourceOf(c) });
    return json({
      storeRevision: r.commit.revision,
      changes: r.commit.changes.length,
      autoSnapshot: r.autoSnapshot.name,
    });
  });
  api.delete('/snapshots/:name', (c) => {
    const deleted = store.deleteSnapshot(nameParam(c));
    feed.checkSnapshots();
    return json({ deleted });
  });

  api.get('/export', () => json(store.exportData()));
  api.post('/import', async (c) => {
    const doc = await body(c);
    const commit = store.importData(doc, { replace: flagParam(c.req.query('replace')), source: sourceOf(c) });
    return json({ storeRevision: commit.revision, changes: commit.changes.length });
  });

  api.get('/events', (c) => {
    const lastId = header(c, 'last-event-id');
    const since = c.req.query('since');
    let cursor: Cursor | undefined;
    if (lastId !== undefined && lastId.trim() !== '') cursor = parseCursor(lastId, 'Last-Event-ID');
    else if (since !== undefined) cursor = parseCursor(since, 'since');
    // The segment rule of GET /keys?prefix= and psmc watch; a bad prefix is a 400 before the stream starts.
    const prefix = normalizePrefix(c.req.query('prefix'));
    const stream = feed.open(cursor, c.req.raw.signal, prefix);
    return answer(stream, 200, { 'content-type': 'text/event-stream; charset=utf-8', 'x-accel-buffering': 'no' });
  });

  api.get('/openapi.json', () => json(openApiDocument(options.version)));

  app.route('/api/v1', api);

  // The GUI: any other GET is a file of dist/gui (/ → index.html).
  app.get('*', (c) => {
    const path = new URL(c.req.url).pathname;
    if (path === '/api' || path.startsWith('/api/')) {
      throw new PsmcError('PSMC_NOT_FOUND', `No route GET ${path}.`, {
        hint: 'The routes are listed in /api/v1/openapi.json and docs/http-api.md.',
      });
    }
    const f = staticFile(options.guiDir, path);
    return answer(new Uint8Array(f.body), 200, {
      'content-type': f.type,
      'cache-control': path.startsWith('/assets/') ? 'private, max-age=300' : 'no-store',
    });
  });

  return { app, feed };
}

function entryTime(at: string | undefined): string | null {
  if (at === undefined) return null;
  return at.replace(/-\d+$/, '');
}
