/**
 * The three psmc command lines and the toolchains behind them, for the live parity tests, the
 * demo (scripts/demo.ts) and the client bench (bench/clients-bench.ts).
 *
 * - TypeScript: `node bin/psmc.cjs` (needs `npm run build`).
 * - Python: `python3 -m psmc` with `PYTHONPATH=clients/python/src`, so the checkout's code is
 *   what runs, never an installed copy. `$PSMC_PYTHON` names another interpreter.
 * - Rust: `clients/rust/target/release/psmc-rs` and the example binaries, built with
 *   `cargo build --release`. Cargo is incremental: when nothing changed it only checks, so
 *   `ensureRust()` always runs it and a stale binary is never tested.
 *
 * A missing python3 or cargo is an error with a hint, never a reason to skip: the parity tests
 * exist to prove that the three languages agree.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/test/parity/). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const TS_BIN = join(ROOT, 'bin', 'psmc.cjs');
export const PY_SRC = join(ROOT, 'clients', 'python', 'src');
export const RUST_DIR = join(ROOT, 'clients', 'rust');

export type Lang = 'ts' | 'python' | 'rust';
export const LANGS: readonly Lang[] = ['ts', 'python', 'rust'];

/** The Python interpreter: `$PSMC_PYTHON`, else `python3`. */
export function pythonExe(): string {
  return process.env['PSMC_PYTHON'] ?? 'python3';
}

/** Throws with a hint unless the Python interpreter runs and imports psmc from the checkout. */
export function ensurePython(): string {
  const exe = pythonExe();
  const r = spawnSync(exe, ['-c', 'import sys, psmc; assert sys.version_info >= (3, 9), sys.version'], {
    env: { ...process.env, PYTHONPATH: PY_SRC },
    encoding: 'utf8',
  });
  if (r.error !== undefined) {
    throw new Error(
      `${exe} was not found (${r.error.message}). The parity tests need Python ≥ 3.9: install python3, ` +
        'or set PSMC_PYTHON to an interpreter.',
    );
  }
  if (r.status !== 0) {
    throw new Error(`${exe} cannot import psmc from ${PY_SRC} (exit ${r.status}):\n${r.stderr}`);
  }
  return exe;
}

/** Where cargo puts release binaries (`$CARGO_TARGET_DIR` honoured). */
export function rustReleaseDir(): string {
  const t = process.env['CARGO_TARGET_DIR'];
  // cargo resolves a relative CARGO_TARGET_DIR against its working directory, which is ours.
  const target = t === undefined || t === '' ? join(RUST_DIR, 'target') : isAbsolute(t) ? t : resolve(t);
  return join(target, 'release');
}

export const PSMC_RS = (): string => join(rustReleaseDir(), exe('psmc-rs'));
export const RUST_EXAMPLE = (name: string): string => join(rustReleaseDir(), 'examples', exe(name));

function exe(name: string): string {
  return process.platform === 'win32' ? `${name}.exe` : name;
}

export interface RustBuild {
  /** Binaries: `--bin` names. */
  bins?: readonly string[];
  /** Example binaries: `--example` names. */
  examples?: readonly string[];
  /** Called before cargo runs, with the command, when something is missing (the demo prints it). */
  onBuild?: (command: string) => void;
  /** Passed to spawnSync: 'inherit' shows cargo's progress. Default 'pipe'. */
  stdio?: SpawnSyncOptions['stdio'];
}

/**
 * Runs `cargo build --release` for the given binaries (incremental: seconds when up to date) and
 * returns their paths. Throws with a hint when cargo is missing or the build fails.
 */
export function ensureRust(build: RustBuild = {}): { psmcRs: string; examples: Record<string, string> } {
  const bins = build.bins ?? ['psmc-rs'];
  const examples = build.examples ?? [];
  const args = ['build', '--release', '-j', '2', '--manifest-path', join(RUST_DIR, 'Cargo.toml')];
  for (const b of bins) args.push('--bin', b);
  for (const e of examples) args.push('--example', e);
  const paths = [...bins.map((b) => join(rustReleaseDir(), exe(b))), ...examples.map(RUST_EXAMPLE)];
  if (build.onBuild !== undefined && !paths.every((p) => existsSync(p))) build.onBuild(`cargo ${args.join(' ')}`);
  const r = spawnSync('cargo', args, {
    encoding: 'utf8',
    stdio: build.stdio ?? 'pipe',
    timeout: 30 * 60_000,
  });
  if (r.error !== undefined) {
    throw new Error(
      `cargo was not found (${r.error.message}). The parity tests need the Rust toolchain to build psmc-rs: ` +
        'install it (https://rustup.rs, or apt-get install cargo).',
    );
  }
  if (r.status !== 0) {
    throw new Error(`cargo ${args.join(' ')} failed (exit ${r.status}):\n${String(r.stderr ?? '').slice(-4000)}`);
  }
  for (const p of paths) if (!existsSync(p)) throw new Error(`cargo built, but ${p} does not exist`);
  return { psmcRs: PSMC_RS(), examples: Object.fromEntries(examples.map((e) => [e, RUST_EXAMPLE(e)])) };
}

/**
 * An environment for child processes: HOME and the config directories inside `dir` (nothing
 * touches the real home), no PSMC_* variable from the caller, PYTHONPATH set to the checkout.
 */
export function childEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('PSMC_') && k !== 'PYTHONPATH') env[k] = v;
  }
  if (process.env['PSMC_PYTHON'] !== undefined) env['PSMC_PYTHON'] = process.env['PSMC_PYTHON'];
  Object.assign(env, {
    HOME: dir,
    USERPROFILE: dir,
    XDG_CONFIG_HOME: join(dir, '.config'),
    APPDATA: join(dir, '.config'),
    PYTHONPATH: PY_SRC,
    PYTHONDONTWRITEBYTECODE: '1',
    NO_COLOR: '1',
    ...extra,
  });
  return env;
}

/** The command line (program and leading arguments) of each language's CLI. */
export function cliCommand(lang: Lang, psmcRs: string): [string, ...string[]] {
  if (lang === 'ts') return [process.execPath, TS_BIN];
  if (lang === 'python') return [pythonExe(), '-m', 'psmc'];
  return [psmcRs];
}

export interface CliResult {
  readonly command: string;
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one CLI to completion. Throws if it could not start or was killed. */
export function runCli(
  lang: Lang,
  psmcRs: string,
  args: readonly string[],
  env: Record<string, string>,
  input?: string,
): CliResult {
  const [program, ...lead] = cliCommand(lang, psmcRs);
  const r = spawnSync(program, [...lead, ...args], {
    env,
    encoding: 'utf8',
    timeout: 120_000,
    ...(input === undefined ? {} : { input }),
  });
  const command = `${lang === 'ts' ? 'psmc' : lang === 'python' ? 'python3 -m psmc' : 'psmc-rs'} ${args.join(' ')}`;
  if (r.error !== undefined) throw new Error(`${command}: ${r.error.message}`);
  if (r.signal !== null) throw new Error(`${command} was killed by ${r.signal}\n${r.stderr}`);
  return { command, status: r.status, stdout: r.stdout, stderr: r.stderr };
}
