/**
 * The one error class of psmc. Every failure that a caller can act on is a
 * `PsmcError` with a stable string `code` (identical in TypeScript, Python and
 * Rust), a human message that says what went wrong and where, and a `hint`
 * that says how to fix it. Each code maps to exactly one CLI exit code and one
 * HTTP status, in the table below and nowhere else.
 *
 * Caller misuse of the TypeScript API (a non-string key, an unknown option) is
 * a `TypeError`, not a `PsmcError`.
 */

/** Every error code psmc can produce. Normative list: spec/SPEC.md §errors. */
export const ERROR_CODES = {
  PSMC_KEY_SYNTAX: { exit: 5, http: 400 },
  PSMC_KEY_RESERVED: { exit: 5, http: 400 },
  PSMC_VALUE_INVALID: { exit: 5, http: 400 },
  PSMC_VALUE_TOO_LARGE: { exit: 5, http: 413 },
  PSMC_SCHEMA_VIOLATION: { exit: 5, http: 422 },
  PSMC_SCHEMA_INVALID: { exit: 5, http: 400 },
  PSMC_ENV_COERCE: { exit: 5, http: 422 },
  PSMC_PARSE: { exit: 5, http: 400 },
  PSMC_CONFLICT: { exit: 4, http: 412 },
  PSMC_NOT_FOUND: { exit: 3, http: 404 },
  PSMC_NOTHING_TO_UNDO: { exit: 3, http: 409 },
  PSMC_STORE_NOT_FOUND: { exit: 3, http: 404 },
  PSMC_BUSY: { exit: 6, http: 503 },
  PSMC_IO: { exit: 6, http: 500 },
  PSMC_CLOSED: { exit: 6, http: 500 },
  PSMC_READ_ONLY: { exit: 6, http: 403 },
  PSMC_UNAUTHORIZED: { exit: 6, http: 401 },
  PSMC_FORBIDDEN: { exit: 6, http: 403 },
  PSMC_UNSUPPORTED_MEDIA_TYPE: { exit: 5, http: 415 },
  PSMC_FORMAT_TOO_NEW: { exit: 7, http: 500 },
  PSMC_CORRUPT: { exit: 7, http: 500 },
  PSMC_USAGE: { exit: 2, http: 400 },
  PSMC_INTERNAL: { exit: 1, http: 500 },
} as const satisfies Record<string, { exit: number; http: number }>;

export type PsmcErrorCode = keyof typeof ERROR_CODES;

/** Extra, machine-readable facts about an error (for example the current value on a conflict). */
export interface PsmcErrorDetails {
  /** The key involved, when there is one. */
  key?: string;
  /** On PSMC_CONFLICT: the key's current revision (0 when it does not exist). */
  currentRevision?: number;
  /** On PSMC_CONFLICT: the key's current value (absent when it does not exist). */
  currentValue?: unknown;
  /** On PSMC_CONFLICT: the revision the caller expected. */
  expectedRevision?: number;
  /** A JSON-pointer-like path inside a value, for schema and value errors. */
  path?: string;
  /** File, line and column, for parse errors. */
  file?: string;
  line?: number;
  column?: number;
  /** Anything else worth printing with --json. */
  [extra: string]: unknown;
}

export interface PsmcErrorOptions {
  hint: string;
  details?: PsmcErrorDetails;
  cause?: unknown;
}

export class PsmcError extends Error {
  override readonly name = 'PsmcError';
  /** Stable code, the same in every language. Compare codes, never messages. */
  readonly code: PsmcErrorCode;
  /** How to fix it, in one or two sentences. */
  readonly hint: string;
  /** Machine-readable facts (current value on conflicts, file/line/column on parse errors …). */
  readonly details: PsmcErrorDetails;

  constructor(code: PsmcErrorCode, message: string, options: PsmcErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }

  /** The CLI exit code for this error (see ERROR_CODES). */
  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }

  /** The HTTP status for this error (see ERROR_CODES). */
  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  /** A plain object for `--json` output and HTTP bodies. Never contains a stack. */
  toJSON(): { code: PsmcErrorCode; message: string; hint: string; details: PsmcErrorDetails } {
    return { code: this.code, message: this.message, hint: this.hint, details: this.details };
  }
}

/** True when `e` is a PsmcError (also across module copies). */
export function isPsmcError(e: unknown): e is PsmcError {
  return e instanceof PsmcError || (e instanceof Error && e.name === 'PsmcError' && 'code' in e);
}
