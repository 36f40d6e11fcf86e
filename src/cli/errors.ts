/**
 * Turns any failure into what the CLI prints and the exit code it returns.
 *
 * - PsmcError: `psmc: <message>` and `  hint: <hint>` on stderr; the exit
 *   code comes from ERROR_CODES (src/core/errors.ts, the only mapping).
 * - TypeError/RangeError: the library refusing an argument (an app name with
 *   a slash, …): reported like PSMC_USAGE, exit 2.
 * - Anything else is a bug: PSMC_INTERNAL, exit 1, and a request to report it.
 *
 * With `--json` the same facts also go to stdout as `{"error":{code,message,hint,details}}`
 * so a script reading stdout always gets JSON. A stack trace (with the cause
 * chain) is printed only with `--debug`.
 */
import { ERROR_CODES, isPsmcError, type PsmcErrorCode, type PsmcErrorDetails } from '../core/errors.js';

export interface ErrorReport {
  readonly code: PsmcErrorCode;
  readonly message: string;
  readonly hint: string;
  readonly details: PsmcErrorDetails;
}

export interface ErrorOutput {
  readonly json: boolean;
  readonly debug: boolean;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** Classifies an error thrown by a command (or by the parser) into one report. */
export function toReport(e: unknown): ErrorReport {
  if (isPsmcError(e)) return { code: e.code, message: e.message, hint: e.hint, details: e.details };
  if (e instanceof TypeError || e instanceof RangeError) {
    return {
      code: 'PSMC_USAGE',
      message: e.message,
      hint: 'Check the arguments and options; `psmc help` lists them.',
      details: {},
    };
  }
  const message = e instanceof Error ? e.message : String(e);
  return {
    code: 'PSMC_INTERNAL',
    message: `Internal error: ${message}`,
    hint: 'This is a bug, please report it with the output of the same command run with --debug.',
    details: {},
  };
}

function inline(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** Prints the error and returns the process exit code. */
export function reportError(e: unknown, out: ErrorOutput): number {
  const r = toReport(e);
  const lines = [`psmc: ${r.message}`];
  const d = r.details;
  if (
    r.code === 'PSMC_CONFLICT' &&
    typeof d.currentRevision === 'number' &&
    d.key !== undefined &&
    !('revision' in d)
  ) {
    lines.push(
      Object.hasOwn(d, 'currentValue')
        ? `  current: ${d.key} = ${inline(d.currentValue)} (revision ${d.currentRevision})`
        : `  current: ${d.key} is not set (revision 0)`,
    );
  }
  if (typeof d['excerpt'] === 'string') for (const l of d['excerpt'].split('\n')) lines.push(`  ${l}`);
  lines.push(`  hint: ${r.hint}`);
  if (out.debug) lines.push(...debugLines(e));
  out.stderr(lines.join('\n') + '\n');
  if (out.json) out.stdout(JSON.stringify({ error: r }, null, 2) + '\n');
  return ERROR_CODES[r.code].exit;
}

/** The stack and the cause chain, for --debug. */
function debugLines(e: unknown): string[] {
  const lines: string[] = [];
  let current: unknown = e;
  for (let depth = 0; current !== undefined && depth < 10; depth++) {
    const prefix = depth === 0 ? '' : 'caused by: ';
    if (current instanceof Error) {
      lines.push(prefix + (current.stack ?? `${current.name}: ${current.message}`));
      current = current.cause;
    } else {
      lines.push(prefix + String(current));
      current = undefined;
    }
  }
  return lines;
}
