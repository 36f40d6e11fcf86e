/**
 * The GUI's only way to the server: `fetch` on the same origin, the session cookie for
 * credentials, and the `X-Psmc-Request: 1` header every cookie-authenticated write needs
 * (docs/http-api.md, "Request checks"). Non-2xx answers become an `ApiError` carrying the
 * server's PsmcError code, message and hint, and the whole body (a 412 carries `current`).
 */
import type {
  Entry,
  JsonValue,
  KeyList,
  RestoreResult,
  SchemaDocument,
  Session,
  Snapshot,
  SnapshotDiff,
  Status,
  Change,
  WriteResult,
} from './types.js';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly hint: string | undefined;
  readonly body: Record<string, unknown>;

  constructor(status: number, code: string, message: string, hint: string | undefined, body: Record<string, unknown>) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.hint = hint;
    this.body = body;
  }
}

/** Called on every 401, so the app can show its "log in again" page. */
let onUnauthorized: () => void = () => undefined;
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

async function request<T>(method: string, path: string, body?: unknown, ifMatch?: number): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', 'X-Psmc-Request': '1' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (ifMatch !== undefined) headers['If-Match'] = String(ifMatch);
  let res: Response;
  try {
    res = await fetch('/api/v1' + path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (e) {
    throw new ApiError(
      0,
      'PSMC_OFFLINE',
      'The psmc server cannot be reached.',
      'Check that `psmc serve` is still running; the page reconnects by itself when it is back.',
      { cause: String(e) },
    );
  }
  const text = await res.text();
  let data: unknown = undefined;
  if (text !== '') {
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new ApiError(
        res.status,
        'PSMC_PARSE',
        `The server answered ${res.status} with a body that is not JSON.`,
        undefined,
        {
          cause: String(e),
        },
      );
    }
  }
  if (!res.ok) {
    if (res.status === 401) onUnauthorized();
    const obj = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
    const err = (typeof obj.error === 'object' && obj.error !== null ? obj.error : {}) as Record<string, unknown>;
    throw new ApiError(
      res.status,
      typeof err.code === 'string' ? err.code : 'PSMC_HTTP_' + res.status,
      typeof err.message === 'string' ? err.message : `The server answered ${res.status} ${res.statusText}.`,
      typeof err.hint === 'string' ? err.hint : undefined,
      obj,
    );
  }
  return data as T;
}

const enc = encodeURIComponent;

/**
 * Keys this page is writing right now. The change event of our own write can arrive before the
 * write's answer (which tells its revision); the app uses this to tell it from someone else's.
 */
export const writing = new Map<string, number>();

async function writingKey<T>(key: string, run: () => Promise<T>): Promise<T> {
  writing.set(key, (writing.get(key) ?? 0) + 1);
  try {
    return await run();
  } finally {
    const n = (writing.get(key) ?? 1) - 1;
    if (n <= 0) writing.delete(key);
    else writing.set(key, n);
  }
}

export const api = {
  session: () => request<Session>('GET', '/session'),
  status: () => request<Status>('GET', '/status'),
  schema: () => request<{ schema: SchemaDocument | null }>('GET', '/schema'),
  keys: () => request<KeyList>('GET', '/keys?layers=1'),
  key: (key: string) => request<Entry>('GET', '/keys/' + enc(key)),
  put: (key: string, value: JsonValue, ifMatch: number) =>
    writingKey(key, () => request<WriteResult>('PUT', '/keys/' + enc(key), { value }, ifMatch)),
  remove: (key: string, ifMatch: number) =>
    writingKey(key, () => request<WriteResult>('DELETE', '/keys/' + enc(key), undefined, ifMatch)),
  revert: (key: string, revision: number, ifMatch: number) =>
    writingKey(key, () => request<WriteResult>('POST', '/keys/' + enc(key) + '/revert', { revision }, ifMatch)),
  history: (key: string, limit = 25) =>
    request<{ entries: Change[] }>('GET', `/history?key=${enc(key)}&limit=${limit}`),
  snapshots: () => request<{ snapshots: Snapshot[] }>('GET', '/snapshots'),
  createSnapshot: (name: string | undefined) =>
    request<Snapshot>('POST', '/snapshots', name === undefined || name === '' ? {} : { name }),
  diff: (name: string) => request<SnapshotDiff>('GET', `/snapshots/${enc(name)}/diff?against=current`),
  restore: (name: string) => request<RestoreResult>('POST', `/snapshots/${enc(name)}/restore`, {}),
  deleteSnapshot: (name: string) => request<{ deleted: string }>('DELETE', `/snapshots/${enc(name)}`),
  logout: () => request<{ ok: boolean }>('POST', '/logout', {}),
};

/** The `current` member of a 412 answer: what the store holds now. */
export interface Current {
  readonly value?: JsonValue;
  readonly revision: number;
  readonly source?: string;
  readonly time?: string | null;
}

export function conflictCurrent(e: ApiError): Current | undefined {
  const c = e.body.current;
  if (typeof c !== 'object' || c === null) return undefined;
  const o = c as Record<string, unknown>;
  return {
    ...(Object.hasOwn(o, 'value') ? { value: o.value as JsonValue } : {}),
    revision: typeof o.revision === 'number' ? o.revision : 0,
    ...(typeof o.source === 'string' ? { source: o.source } : {}),
    ...(typeof o.time === 'string' ? { time: o.time } : {}),
  };
}
