/**
 * The HTTP service's credentials: API tokens (`psmc token create`) and browser
 * sessions, kept in `<store dir>/http-tokens.json` (mode 0600). Only the
 * SHA-256 of a token or session secret is ever written; the secret itself is
 * shown once, when it is made, and never logged.
 *
 * A token is `psmc_` + 43 base64url characters (256 random bits). A presented
 * credential is hashed and looked up by its hash; the stored and computed
 * hashes are then compared with `timingSafeEqual`.
 *
 * Several processes use the file at once (`psmc token revoke` while a server
 * runs, two servers on one store): every change is a read-modify-write under
 * an exclusive lock file, written atomically (temp file, fsync, rename), and
 * readers notice a changed file by its modification time and size.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { PsmcError } from '../core/errors.js';
import { HTTP_TOKENS_FILE } from '../store/paths.js';

/** The file that holds the hashed tokens and sessions, in the store directory. */
export const TOKENS_FILE = HTTP_TOKENS_FILE;

export type Scope = 'read' | 'write';

/** What kind of credential: an API token, a browser session, or the per-run login token of `psmc serve`. */
export type CredentialKind = 'token' | 'session' | 'login';

/** A stored credential (never the secret: only its hash). */
export interface StoredCredential {
  /** A short random id, for `psmc token revoke` and listings. Not derived from the secret. */
  readonly id: string;
  readonly kind: 'token' | 'session';
  /** The token's name (`http:<name>` is the source of its writes); for a session, the name of the token that made it. */
  readonly name: string;
  readonly scopes: readonly Scope[];
  /** `sha256:<hex>` of the secret. */
  readonly hash: string;
  /** ISO time. */
  readonly created: string;
  /** ISO time of the last use (recorded at most once an hour). */
  readonly lastUsed?: string;
  /** Sessions: ISO time after which it no longer works. */
  readonly expires?: string;
  /** Sessions: the id of the token that made it (`login` for the per-run login token); revoking that token ends the session. */
  readonly parent?: string;
}

interface Cache {
  readonly doc: TokensDocument;
  readonly stamp: string;
  readonly byHash: Map<string, StoredCredential>;
}

interface TokensDocument {
  format: 'psmc-http-tokens';
  version: 1;
  credentials: StoredCredential[];
}

/** A credential that matched: what the request may do and who it is. */
export interface Principal {
  readonly id: string;
  readonly kind: CredentialKind;
  readonly name: string;
  readonly scopes: readonly Scope[];
}

export const TOKEN_PREFIX = 'psmc_';
const TOKEN_RE = /^psmc_[A-Za-z0-9_-]{43}$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SESSION_DAYS = 30;
const LOCK_STALE_MS = 10_000;

/** A new secret: `psmc_` + 256 random bits in base64url. */
export function newSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** True when `text` has the shape of a psmc token (says nothing about validity). */
export function looksLikeToken(text: string): boolean {
  return TOKEN_RE.test(text);
}

export function hashSecret(secret: string): string {
  return 'sha256:' + createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of two `sha256:<hex>` strings of equal length. */
function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Throws PSMC_USAGE unless `name` is a usable token name. */
export function assertTokenName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new PsmcError('PSMC_USAGE', `${JSON.stringify(name)} cannot be a token name.`, {
      hint: 'A token name is 1–64 of A–Z a–z 0–9 . _ -, starting with a letter or digit, e.g. deploy-bot. Writes made with the token are recorded as http:<name>.',
    });
  }
}

function ioError(e: unknown, path: string, what: string): PsmcError {
  return new PsmcError('PSMC_IO', `Cannot ${what} ${path}: ${(e as Error).message}`, {
    hint: 'Check that the store directory exists and belongs to you (it should be mode 0700, the tokens file 0600).',
    cause: e,
  });
}

function parseDocument(text: string, path: string): TokensDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new PsmcError('PSMC_CORRUPT', `${path} is not valid JSON: ${(e as Error).message}`, {
      hint: `Move the file aside (every token and browser session in it stops working) and make new tokens with psmc token create.`,
      cause: e,
    });
  }
  const d = doc as Partial<TokensDocument> | null;
  if (d === null || typeof d !== 'object' || d.format !== 'psmc-http-tokens' || !Array.isArray(d.credentials)) {
    throw new PsmcError('PSMC_CORRUPT', `${path} is not a psmc tokens file.`, {
      hint: 'Move the file aside and make new tokens with psmc token create.',
    });
  }
  if (d.version !== 1) {
    throw new PsmcError('PSMC_FORMAT_TOO_NEW', `${path} has version ${String(d.version)}; this psmc reads version 1.`, {
      hint: 'Upgrade psmc.',
    });
  }
  const credentials: StoredCredential[] = [];
  for (const c of d.credentials as unknown[]) {
    if (c === null || typeof c !== 'object') continue;
    const r = c as Record<string, unknown>;
    if (
      typeof r['id'] !== 'string' ||
      (r['kind'] !== 'token' && r['kind'] !== 'session') ||
      typeof r['name'] !== 'string' ||
      typeof r['hash'] !== 'string' ||
      typeof r['created'] !== 'string' ||
      !Array.isArray(r['scopes'])
    )
      continue;
    const scopes = (r['scopes'] as unknown[]).filter((s): s is Scope => s === 'read' || s === 'write');
    credentials.push({
      id: r['id'],
      kind: r['kind'],
      name: r['name'],
      scopes,
      hash: r['hash'],
      created: r['created'],
      ...(typeof r['lastUsed'] === 'string' ? { lastUsed: r['lastUsed'] } : {}),
      ...(typeof r['expires'] === 'string' ? { expires: r['expires'] } : {}),
      ...(typeof r['parent'] === 'string' ? { parent: r['parent'] } : {}),
    });
  }
  return { format: 'psmc-http-tokens', version: 1, credentials };
}

/**
 * The tokens file of one store directory. Cheap to construct; reads lazily.
 *
 * @example
 * const file = new TokenFile('/home/u/.config/psmc');
 * const { secret } = file.create({ name: 'deploy-bot', scopes: ['read'] });
 * file.verify(secret); // → { id, kind: 'token', name: 'deploy-bot', scopes: ['read'] }
 */
export class TokenFile {
  readonly dir: string;
  readonly path: string;
  #cache: Cache | undefined;
  #checkedAt = -Infinity;
  /** Sessions and tokens whose use should be recorded (id → ISO time). */
  readonly #usePending = new Map<string, string>();

  constructor(dir: string) {
    this.dir = dir;
    this.path = join(dir, TOKENS_FILE);
  }

  #stamp(): string {
    try {
      const st = statSync(this.path);
      return `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
      throw ioError(e, this.path, 'read');
    }
  }

  #read(): TokensDocument {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        return { format: 'psmc-http-tokens', version: 1, credentials: [] };
      throw ioError(e, this.path, 'read');
    }
    return parseDocument(text, this.path);
  }

  /** The current document, re-read when the file changed (checked at most every `maxAgeMs`). */
  #current(maxAgeMs: number): Cache {
    const now = performance.now();
    if (this.#cache !== undefined && now - this.#checkedAt < maxAgeMs) return this.#cache;
    this.#checkedAt = now;
    const stamp = this.#stamp();
    if (this.#cache !== undefined && this.#cache.stamp === stamp) return this.#cache;
    const doc = this.#read();
    const byHash = new Map<string, StoredCredential>();
    for (const c of doc.credentials) byHash.set(c.hash, c);
    this.#cache = { doc, stamp, byHash };
    return this.#cache;
  }

  /** Every stored credential (tokens and sessions), oldest first. */
  list(): StoredCredential[] {
    return [...this.#current(0).doc.credentials];
  }

  /**
   * The principal a secret stands for, or undefined when it is unknown,
   * revoked or expired. Notices changes of the file within `maxAgeMs`.
   */
  verify(secret: string, maxAgeMs = 100): Principal | undefined {
    if (secret.length > 200) return undefined;
    const hash = hashSecret(secret);
    const { byHash } = this.#current(maxAgeMs);
    const c = byHash.get(hash);
    if (c === undefined || !sameHash(c.hash, hash)) return undefined;
    const nowMs = Date.now();
    if (c.expires !== undefined && Date.parse(c.expires) <= nowMs) return undefined;
    if (c.kind === 'session' && c.parent !== undefined && c.parent !== 'login') {
      // A session lives only as long as the token that made it.
      if (!this.#current(maxAgeMs).doc.credentials.some((p) => p.id === c.parent && p.kind === 'token'))
        return undefined;
    }
    const last = c.lastUsed === undefined ? 0 : Date.parse(c.lastUsed);
    if (nowMs - last > 3_600_000) this.#usePending.set(c.id, new Date(nowMs).toISOString());
    return { id: c.id, kind: c.kind, name: c.name, scopes: c.scopes };
  }

  /** Writes the pending last-used times (at most one write; errors ignored: it is bookkeeping). */
  flushUse(): void {
    if (this.#usePending.size === 0) return;
    const pending = new Map(this.#usePending);
    this.#usePending.clear();
    try {
      this.#update((doc) => {
        doc.credentials = doc.credentials.map((c) => {
          const t = pending.get(c.id);
          return t === undefined ? c : { ...c, lastUsed: t };
        });
      });
    } catch {
      // Recording the last use is best effort; the credential keeps working.
    }
  }

  /** Makes a new API token. Returns the secret (shown once) and what was stored. */
  create(options: { name: string; scopes: readonly Scope[] }): { secret: string; credential: StoredCredential } {
    assertTokenName(options.name);
    const secret = newSecret();
    const credential: StoredCredential = {
      id: randomBytes(6).toString('hex'),
      kind: 'token',
      name: options.name,
      scopes: [...options.scopes],
      hash: hashSecret(secret),
      created: new Date().toISOString(),
    };
    this.#update((doc) => {
      if (doc.credentials.some((c) => c.kind === 'token' && c.name === options.name)) {
        throw new PsmcError('PSMC_CONFLICT', `A token named ${JSON.stringify(options.name)} exists already.`, {
          hint: `Pick another --name, or revoke the old one first: psmc token revoke ${options.name}.`,
        });
      }
      doc.credentials.push(credential);
    });
    return { secret, credential };
  }

  /** Makes a browser session for a principal; returns the cookie secret. */
  createSession(principal: Principal): string {
    const secret = newSecret();
    const now = Date.now();
    const credential: StoredCredential = {
      id: randomBytes(6).toString('hex'),
      kind: 'session',
      name: principal.name,
      scopes: [...principal.scopes],
      hash: hashSecret(secret),
      created: new Date(now).toISOString(),
      expires: new Date(now + SESSION_DAYS * 86_400_000).toISOString(),
      parent: principal.kind === 'login' ? 'login' : principal.id,
    };
    this.#update((doc) => {
      // Expired sessions are dropped whenever the file is written.
      doc.credentials = doc.credentials.filter((c) => c.expires === undefined || Date.parse(c.expires) > now);
      doc.credentials.push(credential);
    });
    return secret;
  }

  /** Removes one credential by id. */
  revokeId(id: string): boolean {
    let found = false;
    this.#update((doc) => {
      const before = doc.credentials.length;
      doc.credentials = doc.credentials.filter((c) => c.id !== id);
      found = doc.credentials.length !== before;
    });
    return found;
  }

  /**
   * Revokes a token by name or id (and every session it made), or a session by id.
   * Throws PSMC_NOT_FOUND when nothing matches.
   */
  revoke(nameOrId: string): StoredCredential[] {
    let removed: StoredCredential[] = [];
    this.#update((doc) => {
      const hit = doc.credentials.filter((c) => c.id === nameOrId || (c.kind === 'token' && c.name === nameOrId));
      if (hit.length === 0) {
        throw new PsmcError('PSMC_NOT_FOUND', `No token or session ${JSON.stringify(nameOrId)} in ${this.path}.`, {
          hint: 'See the names and ids with psmc token list.',
        });
      }
      const ids = new Set(hit.map((c) => c.id));
      removed = doc.credentials.filter((c) => ids.has(c.id) || (c.parent !== undefined && ids.has(c.parent)));
      const gone = new Set(removed.map((c) => c.id));
      doc.credentials = doc.credentials.filter((c) => !gone.has(c.id));
    });
    this.#cache = undefined;
    return removed;
  }

  /** Read-modify-write under the lock file; the file is written atomically with mode 0600. */
  #update(change: (doc: TokensDocument) => void): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw ioError(e, this.dir, 'create');
    }
    const lock = this.path + '.lock';
    const release = acquireLock(lock);
    try {
      const doc = this.#read();
      change(doc);
      const text = JSON.stringify(doc, null, 2) + '\n';
      const tmp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        const fd = openSync(tmp, 'wx', 0o600);
        try {
          writeSync(fd, text);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        renameSync(tmp, this.path);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw ioError(e, this.path, 'write');
      }
      this.#cache = undefined;
    } finally {
      release();
    }
  }
}

/** Takes `lock` (an O_EXCL file), waiting up to 5 s; a lock older than 10 s is stale and taken over. */
function acquireLock(lock: string): () => void {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(lock);
        } catch {
          // Already gone (taken over as stale): nothing to release.
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(e, lock, 'create');
    }
    try {
      if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) {
        unlinkSync(lock);
        continue;
      }
    } catch {
      continue; // removed meanwhile: try again
    }
    if (Date.now() > deadline) {
      throw new PsmcError('PSMC_BUSY', `The tokens file is locked by another process (${lock}).`, {
        hint: 'Try again; if no psmc process is running, remove the .lock file.',
      });
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}

/** The tokens file exists (for `psmc serve` messages). */
export function hasTokensFile(dir: string): boolean {
  return existsSync(join(dir, TOKENS_FILE));
}
