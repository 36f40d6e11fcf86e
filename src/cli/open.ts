/**
 * Which store a command works on, from the global options:
 *
 * - `--store <dir>`: that directory is the one store (no discovery);
 * - otherwise the user store of `--app` (default `psmc`: `$XDG_CONFIG_HOME/psmc`
 *   on Linux, or `PSMC_HOME`), plus the project store of `--project <dir>`,
 *   or the `.psmc/` found by walking up from the working directory.
 *
 * Writes are recorded with `--source`, else `PSMC_SOURCE`, else `cli`.
 * Opening never creates a store: the library creates the database on the
 * first write only, so a read (get, list, export …) leaves no trace.
 * The store code (and SQLite) is imported here, on first use, so `--help`
 * and usage errors never load it.
 */
import type { Store } from '../store/store.js';
import type { OpenOptions } from '../store/options.js';
import { usageError, type Context } from './context.js';

/** The source recorded for writes: --source, else PSMC_SOURCE, else `cli`. */
export function writeSource(ctx: Context): string {
  const fromEnv = ctx.env['PSMC_SOURCE'];
  return ctx.global.source ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : 'cli');
}

/** True when the source was chosen by the user (--source or PSMC_SOURCE), not defaulted. */
export function sourceGiven(ctx: Context): boolean {
  return ctx.global.source !== undefined || (ctx.env['PSMC_SOURCE'] ?? '') !== '';
}

export interface CliOpenOptions {
  /** Create `<dir>/.psmc/` when missing (psmc init). */
  readonly createProjectIn?: string;
}

export async function openCliStore(ctx: Context, options: CliOpenOptions = {}): Promise<Store> {
  const g = ctx.global;
  const base: OpenOptions = { source: writeSource(ctx), env: { ...ctx.env }, cwd: ctx.cwd };
  let open: OpenOptions;
  if (options.createProjectIn !== undefined) {
    if (g.store !== undefined) {
      throw usageError(
        '--store names a store directory directly; psmc init creates a project store (.psmc/).',
        'Drop --store, and give the project directory: psmc init [dir].',
      );
    }
    open = { ...base, app: g.app ?? 'psmc', project: options.createProjectIn, createProject: true };
  } else if (g.store !== undefined) {
    if (g.project !== undefined) {
      throw usageError(
        '--store and --project cannot be used together.',
        '--store names the one store to use; drop one of them.',
      );
    }
    open = { ...base, dir: g.store, ...(g.app === undefined ? {} : { app: g.app }) };
  } else {
    open = { ...base, app: g.app ?? 'psmc', project: g.project ?? true };
  }
  const { openStore } = await import('../store/store.js');
  return openStore(open);
}

/** Opens the store, runs `fn`, and closes the store whatever happens. */
export async function withStore<T>(
  ctx: Context,
  fn: (store: Store) => T | Promise<T>,
  options: CliOpenOptions = {},
): Promise<T> {
  const store = await openCliStore(ctx, options);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}
