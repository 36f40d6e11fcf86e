/**
 * Runs the real `psmc` binary in a child process, inside a sandbox: a fresh
 * temp directory that is HOME, XDG_CONFIG_HOME's parent and PSMC_HOME's
 * parent, and an environment with no PSMC_* variable from the test runner.
 * Nothing touches the real home directory.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

/** The repository root (tests run from dist/test/cli/). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'psmc.cjs');

export interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON. */
  json<T = unknown>(): T;
}

export interface RunOptions {
  readonly cwd?: string;
  /** Added to (or, with undefined, removed from) the sandbox environment. */
  readonly env?: Record<string, string | undefined>;
  readonly input?: string;
}

export interface Sandbox {
  /** The temp directory (also HOME). */
  readonly dir: string;
  /** PSMC_HOME: the default user store of app psmc. */
  readonly home: string;
  /** XDG_CONFIG_HOME. */
  readonly config: string;
  readonly env: Readonly<Record<string, string>>;
  run(args: readonly string[], options?: RunOptions): Result;
  /** Runs psmc, fails the test unless it exits 0, and returns stdout. For setup steps. */
  ok(args: readonly string[], options?: RunOptions): string;
  /** `psmc export` of the default store, for before/after comparisons. */
  exported(extraArgs?: readonly string[]): string;
}

export function sandbox(t: TestContext): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'psmc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'config');
  const home = join(dir, 'home-store');
  mkdirSync(config);
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: dir,
    USERPROFILE: dir,
    XDG_CONFIG_HOME: config,
    APPDATA: config,
    PSMC_HOME: home,
  };
  if (process.env['SYSTEMROOT'] !== undefined) env['SYSTEMROOT'] = process.env['SYSTEMROOT'];
  const run = (args: readonly string[], options: RunOptions = {}): Result => {
    const childEnv: Record<string, string> = { ...env };
    for (const [k, v] of Object.entries(options.env ?? {})) {
      if (v === undefined) delete childEnv[k];
      else childEnv[k] = v;
    }
    const r = spawnSync(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? dir,
      env: childEnv,
      encoding: 'utf8',
      timeout: 60_000,
      ...(options.input === undefined ? {} : { input: options.input }),
    });
    if (r.error !== undefined) throw r.error;
    if (r.signal !== null)
      throw new Error(`psmc ${args.join(' ')} was killed by ${r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    return {
      status: r.status,
      stdout: r.stdout,
      stderr: r.stderr,
      json<T>(): T {
        try {
          return JSON.parse(r.stdout) as T;
        } catch (e) {
          throw new Error(`stdout of psmc ${args.join(' ')} is not JSON:\n${r.stdout}\nstderr:\n${r.stderr}`, {
            cause: e,
          });
        }
      },
    };
  };
  const ok = (args: readonly string[], options: RunOptions = {}): string => {
    const r = run(args, options);
    if (r.status !== 0)
      throw new Error(`psmc ${args.join(' ')} exited ${r.status}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    return r.stdout;
  };
  return {
    dir,
    home,
    config,
    env,
    run,
    ok,
    exported(extraArgs = []) {
      const r = run(['export', ...extraArgs]);
      if (r.status !== 0) throw new Error(`psmc export failed: ${r.stderr}`);
      return r.stdout;
    },
  };
}

/** Asserts nothing that looks like a stack trace is in `text`. */
export function hasStack(text: string): boolean {
  return /\n\s+at .+[:(]/.test(text);
}
