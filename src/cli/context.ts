/**
 * What every subcommand receives and exports. One file per subcommand lives in
 * `commands/`; each exports `spec` (its positional arguments and options),
 * `usage` (help text ending with examples) and `run(ctx)`. `main.ts` parses
 * argv against the global options plus `spec.options`, checks the positional
 * count, and only then imports the store code, so a usage error or `--help`
 * never opens a database.
 */
import { PsmcError } from '../core/errors.js';

/** One option: `--name <value>` (string) or `--name` (boolean). */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** A one-letter alias, without the dash. */
  readonly short?: string;
}

export interface CommandSpec {
  /**
   * Positional arguments in order: `<name>` is required, `[name]` optional.
   * The count is checked before `run` is called.
   */
  readonly args: readonly string[];
  /** Options of this command, beside the global ones. Names are given without `--`. */
  readonly options: Readonly<Record<string, OptionSpec>>;
}

export interface CommandModule {
  readonly spec: CommandSpec;
  /** Help text: a `Usage:` line, a description, options, and examples last. */
  readonly usage: string;
  /** Runs the command; returns the exit code (0 when omitted). Throws PsmcError on failure. */
  run(ctx: Context): Promise<number | void>;
}

/** The options every command accepts, before or after the command name. */
export interface GlobalOptions {
  /** `--store <dir>`: one explicit store directory. */
  readonly store: string | undefined;
  /** `--app <name>`: the app whose user store (and env prefix) to use. */
  readonly app: string | undefined;
  /** `--project <dir>`: the project directory (holding `.psmc/`) instead of walk-up discovery. */
  readonly project: string | undefined;
  /** `--source <name>`: who the writes are recorded as. */
  readonly source: string | undefined;
  readonly json: boolean;
  readonly debug: boolean;
}

export interface Context {
  readonly command: string;
  /** Positional arguments after the command name; optional ones may be undefined. */
  readonly args: readonly (string | undefined)[];
  /** The command's own options by name (global ones are in `global`). */
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
  readonly global: GlobalOptions;
  /** The process environment (a parameter, so the store reads it once, explicitly). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** The first line of the command's usage, for error hints. */
  readonly usageLine: string;
  /** Writes one line to stdout. */
  out(line: string): void;
  /** Writes one line to stderr (notes and warnings for people, never data). */
  note(line: string): void;
  /** Writes a value to stdout as pretty JSON. */
  json(value: unknown): void;
  /** Reads all of stdin (for `-` as a file name). */
  readStdin(): Promise<string>;
}

/** A PSMC_USAGE error (exit 2). */
export function usageError(message: string, hint: string): PsmcError {
  return new PsmcError('PSMC_USAGE', message, { hint });
}

/** A string option's value, or undefined. */
export function stringOption(ctx: Context, name: string): string | undefined {
  const v = ctx.options[name];
  return typeof v === 'string' ? v : undefined;
}

/** A boolean option. */
export function flag(ctx: Context, name: string): boolean {
  return ctx.options[name] === true;
}

/**
 * A whole-number option (`--limit 5`), or undefined when absent. Refuses
 * anything but plain decimal digits with PSMC_USAGE naming the option.
 */
export function intOption(ctx: Context, name: string, min: number, hint: string): number | undefined {
  const text = stringOption(ctx, name);
  if (text === undefined) return undefined;
  const n = /^[0-9]{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw usageError(`--${name} must be a whole number ≥ ${min}, received ${JSON.stringify(text)}.`, hint);
  }
  return n;
}

/** The required positional argument at `i` (main checked the count already). */
export function arg(ctx: Context, i: number): string {
  const v = ctx.args[i];
  if (v === undefined) throw new TypeError(`argument ${i} of ${ctx.command} is missing`);
  return v;
}
