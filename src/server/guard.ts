/**
 * The request checks that run before any route (docs/http-api.md §request
 * checks): exact Host and Origin allow-lists against DNS rebinding and
 * cross-site requests, and the request-body rules (content type, size,
 * JSON without prototype-touching member names).
 */
import { PsmcError } from '../core/errors.js';
import { MAX_DEPTH } from '../core/value.js';

/** The largest request body accepted, in bytes (a value is at most 1 MiB encoded; an import may hold several). */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** Member names refused at every depth of a request body. */
const FORBIDDEN_MEMBERS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export interface HostPolicy {
  /** Exact `Host` header values accepted. */
  readonly hosts: ReadonlySet<string>;
  /** Exact `Origin` header values accepted. */
  readonly origins: ReadonlySet<string>;
}

/**
 * The allow-lists for a server listening on `port`: the loopback names with
 * the port, the bound address when it is a specific one, and each extra name
 * (as given, and with the port).
 */
export function hostPolicy(port: number, boundHost: string, extraNames: readonly string[]): HostPolicy {
  const hosts = new Set<string>([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  const origins = new Set<string>();
  const bound = boundHost.includes(':') && !boundHost.startsWith('[') ? `[${boundHost}]` : boundHost;
  if (!['0.0.0.0', '[::]', '127.0.0.1', 'localhost', '[::1]'].includes(bound)) hosts.add(`${bound}:${port}`);
  for (const h of hosts) origins.add(`http://${h}`);
  for (const raw of extraNames) {
    const name = raw.toLowerCase();
    for (const h of name.includes(']:') || /^[^[]*:\d+$/.test(name) ? [name] : [name, `${name}:${port}`]) {
      hosts.add(h);
      origins.add(`http://${h}`);
      origins.add(`https://${h}`);
    }
  }
  return { hosts, origins };
}

/** Throws PSMC_FORBIDDEN unless the Host, Origin and Sec-Fetch-Site headers pass. */
export function checkHostAndOrigin(
  policy: HostPolicy,
  host: string | undefined,
  origin: string | undefined,
  fetchSite: string | undefined,
): void {
  if (host === undefined || !policy.hosts.has(host)) {
    throw new PsmcError(
      'PSMC_FORBIDDEN',
      `This psmc server does not answer for the host ${JSON.stringify(host ?? '')} (a guard against DNS rebinding).`,
      {
        hint: `Use one of ${[...policy.hosts].slice(0, 3).join(', ')}; to reach it under another name, start it with psmc serve --allow-host <name>.`,
      },
    );
  }
  if (origin !== undefined && !policy.origins.has(origin)) {
    throw new PsmcError(
      'PSMC_FORBIDDEN',
      origin === 'null'
        ? 'Requests with Origin: null (sandboxed frames, file: pages) are refused.'
        : `Requests from the web origin ${JSON.stringify(origin)} are refused (psmc serves its own GUI only).`,
      { hint: 'Use the GUI that psmc serve prints the URL of, or call the API from a program (no Origin header).' },
    );
  }
  if (fetchSite === 'cross-site') {
    throw new PsmcError('PSMC_FORBIDDEN', 'Cross-site requests are refused.', {
      hint: 'Use the GUI that psmc serve prints the URL of, or call the API from a program.',
    });
  }
}

/** Throws PSMC_UNSUPPORTED_MEDIA_TYPE unless the content type is application/json (any charset parameter must be utf-8). */
export function checkJsonContentType(contentType: string | undefined): void {
  const [type = '', ...params] = (contentType ?? '').split(';').map((s) => s.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith('charset='))?.slice(8);
  if (type !== 'application/json' || (charset !== undefined && charset !== 'utf-8' && charset !== '"utf-8"')) {
    throw new PsmcError(
      'PSMC_UNSUPPORTED_MEDIA_TYPE',
      `This request needs a JSON body (Content-Type: application/json), received ${contentType === undefined ? 'no Content-Type' : JSON.stringify(contentType)}.`,
      { hint: 'Send the body as JSON with the header Content-Type: application/json.' },
    );
  }
}

function tooLarge(bytes: number | undefined): PsmcError {
  return new PsmcError(
    'PSMC_VALUE_TOO_LARGE',
    `The request body is ${bytes === undefined ? 'larger than' : `${bytes} bytes; the limit is`} ${MAX_BODY_BYTES} bytes.`,
    { hint: 'A value is at most 1 MiB encoded; send large imports in several parts.' },
  );
}

/** Reads a request body as UTF-8 text, refusing more than MAX_BODY_BYTES (by Content-Length and while reading). */
export async function readBody(request: Request): Promise<string> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) throw tooLarge(Number(declared));
  if (request.body === null) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BODY_BYTES) {
      await reader.cancel();
      throw tooLarge(undefined);
    }
    chunks.push(value);
  }
  const bytes = Buffer.concat(chunks);
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  try {
    return text.decode(bytes);
  } catch {
    throw new PsmcError('PSMC_PARSE', 'The request body is not valid UTF-8.', {
      hint: 'Send JSON encoded as UTF-8.',
    });
  }
}

/**
 * Parses a request body as JSON and refuses member names that could reach a
 * prototype (`__proto__`, `constructor`, `prototype`) at any depth, and
 * nesting beyond the value limit. JSON.parse itself only makes own data
 * properties; the refusal keeps such names away from any code downstream.
 */
export function parseJsonBody(text: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new PsmcError('PSMC_PARSE', `The request body is not valid JSON: ${(e as Error).message}`, {
      hint: 'Check quotes, commas and brackets; strings need double quotes.',
    });
  }
  checkMembers(parsed, '', 0);
  return parsed;
}

function checkMembers(v: unknown, path: string, depth: number): void {
  if (v === null || typeof v !== 'object') return;
  if (depth > MAX_DEPTH + 2) {
    throw new PsmcError(
      'PSMC_VALUE_INVALID',
      `The request body nests deeper than ${MAX_DEPTH + 2} levels at ${path}.`,
      {
        hint: `A value nests at most ${MAX_DEPTH} arrays/objects deep.`,
        details: { path },
      },
    );
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) checkMembers(v[i], `${path}/${i}`, depth + 1);
    return;
  }
  for (const k of Object.keys(v)) {
    const at = `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (FORBIDDEN_MEMBERS.has(k)) {
      throw new PsmcError(
        'PSMC_VALUE_INVALID',
        `The request body has a member named ${JSON.stringify(k)} at ${at}, which the HTTP API refuses at every depth.`,
        {
          hint: 'The names __proto__, constructor and prototype are refused in request bodies (a guard against prototype pollution). Rename the member, or set such a value with the CLI or library.',
          details: { path: at },
        },
      );
    }
    checkMembers((v as Record<string, unknown>)[k], at, depth + 1);
  }
}

/** Throws PSMC_USAGE when a body object has members other than `allowed`, or is not an object. */
export function expectObject(body: unknown, allowed: readonly string[], what: string): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new PsmcError(
      'PSMC_USAGE',
      `${what} needs a JSON object body, received ${Array.isArray(body) ? 'an array' : body === null ? 'null' : typeof body}.`,
      { hint: `Send an object with ${allowed.length === 0 ? 'no members' : allowed.map((a) => `"${a}"`).join(', ')}.` },
    );
  }
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      throw new PsmcError('PSMC_USAGE', `${what}: unknown member ${JSON.stringify(k)} in the body.`, {
        hint: `The body may hold ${allowed.length === 0 ? 'no members' : allowed.map((a) => `"${a}"`).join(', ')}.`,
      });
    }
  }
  return o;
}
