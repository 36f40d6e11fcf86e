/**
 * Who is asking: the Bearer token, the browser session cookie, or (for a page
 * load) a `?token=` login that turns into a session. docs/http-api.md
 * §authentication.
 */
import { timingSafeEqual } from 'node:crypto';
import { PsmcError } from '../core/errors.js';
import { hashSecret, type Principal, type TokenFile } from './tokens.js';

/** The per-run login token of `psmc serve`: kept in memory only, as its hash. */
export interface LoginToken {
  readonly hash: string;
  readonly principal: Principal;
}

export function loginToken(secret: string): LoginToken {
  return {
    hash: hashSecret(secret),
    principal: { id: 'login', kind: 'login', name: 'serve', scopes: ['read', 'write'] },
  };
}

export interface Authenticated {
  readonly principal: Principal;
  /** How the credential came: the cookie (a browser) or the Authorization header (a program). */
  readonly via: 'bearer' | 'cookie';
}

export class Authenticator {
  readonly #tokens: TokenFile;
  readonly #login: LoginToken | undefined;
  readonly cookieName: string;

  constructor(tokens: TokenFile, login: LoginToken | undefined, port: number) {
    this.#tokens = tokens;
    this.#login = login;
    this.cookieName = `psmc_session_${port}`;
  }

  /** The principal of a token or session secret, or undefined. */
  verify(secret: string): Principal | undefined {
    if (this.#login !== undefined) {
      const h = Buffer.from(hashSecret(secret));
      const want = Buffer.from(this.#login.hash);
      if (h.length === want.length && timingSafeEqual(h, want)) return this.#login.principal;
    }
    return this.#tokens.verify(secret);
  }

  /** Authenticates from the headers; throws PSMC_UNAUTHORIZED. */
  authenticate(authorization: string | undefined, cookie: string | undefined): Authenticated {
    if (authorization !== undefined) {
      const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
      if (m === null) throw unauthorized('The Authorization header is not "Bearer <token>".');
      const p = this.verify(m[1] as string);
      if (p === undefined || p.kind === 'session')
        throw unauthorized('The token is not valid (unknown, revoked or mistyped).');
      return { principal: p, via: 'bearer' };
    }
    const secret = cookieValue(cookie, this.cookieName);
    if (secret !== undefined) {
      const p = this.verify(secret);
      if (p === undefined || p.kind !== 'session')
        throw unauthorized('The browser session has ended (expired or revoked).');
      return { principal: p, via: 'cookie' };
    }
    throw unauthorized('This request carries no token.');
  }

  /** Makes a browser session for a principal; returns the Set-Cookie header value. */
  sessionCookie(principal: Principal): string {
    const secret = this.#tokens.createSession(principal);
    return `${this.cookieName}=${secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${30 * 86400}`;
  }

  /** Ends the session of a cookie (if any); returns the Set-Cookie header that clears it. */
  endSession(principal: Principal): string {
    if (principal.kind === 'session') this.#tokens.revokeId(principal.id);
    return `${this.cookieName}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
  }
}

export function unauthorized(message: string): PsmcError {
  return new PsmcError('PSMC_UNAUTHORIZED', message, {
    hint: 'Open the login URL that psmc serve printed, or send Authorization: Bearer <token> (make one with psmc token create).',
  });
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
