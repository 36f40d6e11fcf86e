/**
 * `npm run demo`: the multi-source story of psmc, with real processes on one throw-away store.
 *
 *   TS CLI writes → Python reads → a snapshot → Python overwrites → the HTTP API overwrites (or
 *   the TS library as the "gui" source) → Rust reads and writes → a hand edit of the mirror file
 *   is picked up → the snapshot is restored → TS, Python, Rust (and HTTP) read back → one history
 *   names every source.
 *
 * Every step prints the command a person would type and that command's real output. The script
 * checks each result and exits 1 (saying what differed) when one is not what the story expects,
 * so it doubles as an end-to-end check (test/parity/demo.test.ts runs it).
 *
 * Options: --via http|library (who makes the third write; default http when `psmc serve` is
 * built), --keep (keep the store directory and print its path), --no-color. Colors are used when
 * stdout is a terminal and NO_COLOR is unset. Needs `npm run build` (the npm script does it),
 * python3 ≥ 3.9 and, when psmc-rs is not built yet, cargo (it is built once, saying so).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  closeSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { openStore } from '../src/index.js';
import {
  childEnv,
  ensurePython,
  ensureRust,
  PSMC_RS,
  pythonExe,
  ROOT,
  TS_BIN,
  type Lang,
} from '../test/parity/tools.js';

type Via = 'http' | 'library';

const USAGE = `Usage: npm run demo [-- --via http|library] [--keep] [--no-color]

Runs the psmc multi-source story with real processes on a throw-away store:
the TypeScript CLI, the Python client, the HTTP API (or the TS library as the
"gui" source), the Rust CLI and a hand edit of the mirror file, then a
snapshot restore that everyone reads back, and the history naming every source.

  --via http      The third writer is the HTTP API of psmc serve (default when built)
  --via library   The third writer is the TypeScript library, source "gui"
  --keep          Keep the store directory (its path is printed at the end)
  --no-color      No ANSI colors (also: NO_COLOR=1; colors are off when stdout is not a terminal)`;

// --- Output -------------------------------------------------------------------------------------

let color = process.stdout.isTTY === true && process.env['NO_COLOR'] === undefined;
const paint =
  (code: string) =>
  (s: string): string =>
    color ? `\x1b[${code}m${s}\x1b[0m` : s;
const bold = paint('1');
const dim = paint('2');
const cyan = paint('36');
const green = paint('32');
const red = paint('31');
const yellow = paint('33');

const out = (s = ''): void => void process.stdout.write(s + '\n');

let stepNo = 0;
function step(title: string, why: string): void {
  stepNo++;
  out();
  out(bold(`${stepNo}. ${title}`));
  out(dim(`   ${why}`));
}

function showCommand(display: string): void {
  out(`   ${cyan('$')} ${cyan(display)}`);
}

function showOutput(text: string): void {
  const lines = text.replace(/\n$/, '').split('\n');
  for (const line of lines) out(`     ${line}`);
}

class DemoFailure extends Error {}

/** Checks one expectation of the story; a failure ends the demo with exit 1. */
function expect(what: string, ok: boolean, detail = ''): void {
  if (ok) {
    out(`   ${green('✓')} ${what}`);
    return;
  }
  out(`   ${red('✗')} ${what}${detail === '' ? '' : `: ${detail}`}`);
  throw new DemoFailure(what);
}

// --- Running the three command lines ------------------------------------------------------------

interface Ctx {
  env: Record<string, string>;
  psmcRs: string;
  store: string;
}

const DISPLAY: Record<Lang, string> = { ts: 'psmc', python: 'python3 -m psmc', rust: 'psmc-rs' };

function quote(a: string): string {
  return /^[A-Za-z0-9_.,:/=@+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs one CLI (store from $PSMC_HOME, as a user's would be), prints it, returns its stdout.
 * `redact` hides secrets in what is printed (not in what is returned).
 */
function cli(ctx: Ctx, lang: Lang, args: string[], redact: (s: string) => string = (s) => s): string {
  showCommand(`${DISPLAY[lang]} ${args.map(quote).join(' ')}`);
  const [program, lead] =
    lang === 'ts'
      ? [process.execPath, [TS_BIN]]
      : lang === 'python'
        ? [pythonExe(), ['-m', 'psmc']]
        : [ctx.psmcRs, [] as string[]];
  const r = spawnSync(program, [...lead, ...args], { env: ctx.env, encoding: 'utf8', timeout: 120_000 });
  if (r.error !== undefined) throw new DemoFailure(`${DISPLAY[lang]} could not start: ${r.error.message}`);
  showOutput(redact(r.stdout) + (r.stderr === '' ? '' : dim(r.stderr)));
  if (r.status !== 0) {
    expect(`${DISPLAY[lang]} ${args[0] ?? ''} exits 0`, false, `exit ${String(r.status)}`);
  }
  return r.stdout;
}

// --- The HTTP service ---------------------------------------------------------------------------

interface Server {
  child: ChildProcess;
  /** What the server wrote to stderr so far. */
  stderr(): string;
  base: string;
  token: string;
  stop(): Promise<void>;
}

async function startServer(ctx: Ctx): Promise<Server> {
  const tokenOut = cli(ctx, 'ts', ['token', 'create', '--name', 'dashboard', '--json'], (s) =>
    s.replace(/"(psmc_[A-Za-z0-9_-]{4})[A-Za-z0-9_-]+"/, '"$1… (shown once; the demo keeps it as $TOKEN)"'),
  );
  const token = (JSON.parse(tokenOut) as { token: string }).token;
  showCommand('psmc serve --port 0 --json &');
  const child = spawn(process.execPath, [TS_BIN, 'serve', '--port', '0', '--json'], {
    env: ctx.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const ready = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      try {
        resolve(JSON.parse(line) as { url: string; port: number });
      } catch (e) {
        reject(new DemoFailure(`psmc serve printed ${JSON.stringify(line)}: ${String(e)}`));
      }
    });
    child.once('exit', (code) => reject(new DemoFailure(`psmc serve exited with ${String(code)}:\n${err}`)));
  });
  // The login URL carries a token: shown without it.
  showOutput(`{"event":"ready","url":"${ready.url}","port":${ready.port},…}`);
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  return {
    child,
    stderr: () => err,
    base: ready.url.replace(/\/$/, ''),
    token,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function http(
  server: Server,
  method: 'GET' | 'PUT',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<unknown> {
  const h: Record<string, string> = { Authorization: `Bearer ${server.token}`, ...headers };
  const parts = [`curl -s${method === 'GET' ? '' : ` -X ${method}`}`, `-H 'Authorization: Bearer $TOKEN'`];
  for (const [k, v] of Object.entries(headers)) parts.push(`-H '${k}: ${v}'`);
  if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    parts.push(`-H 'Content-Type: application/json'`, `-d '${JSON.stringify(body)}'`);
  }
  parts.push(`${server.base}${path}`);
  showCommand(parts.join(' '));
  let res: { status: number; text: string };
  try {
    res = await request(`${server.base}${path}`, method, h, body === undefined ? undefined : JSON.stringify(body));
  } catch (e) {
    await new Promise((r) => setTimeout(r, 200)); // let an exiting server's status arrive
    const state =
      server.child.exitCode !== null || server.child.signalCode !== null
        ? `psmc serve exited (code ${String(server.child.exitCode)}, signal ${String(server.child.signalCode)})`
        : 'psmc serve is still running';
    throw new DemoFailure(`HTTP ${method} ${path} failed: ${String(e)}; ${state}; its stderr:\n${server.stderr()}`);
  }
  showOutput(res.text);
  expect(`HTTP ${method} ${path} answers 2xx`, res.status >= 200 && res.status < 300, `status ${res.status}`);
  return JSON.parse(res.text) as unknown;
}

/**
 * One request on a fresh connection (like curl). Not fetch: its pooled keep-alive connections
 * would be reused after this script's synchronous steps kept its event loop from noticing that
 * the server had closed them (Node's 5 s keep-alive timeout), and fail with "other side closed".
 */
function request(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const all = body === undefined ? headers : { ...headers, 'Content-Length': String(Buffer.byteLength(body)) };
    const req = httpRequest(url, { method, headers: all, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

// --- The hand edit ------------------------------------------------------------------------------

/** Blocks this (single-purpose, synchronous) script for `ms` milliseconds. */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Waits until `psmc status` says the mirror is in sync with the store (exports are coalesced). */
function waitMirrorInSync(ctx: Ctx): void {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = spawnSync(process.execPath, [TS_BIN, 'status', '--json'], { env: ctx.env, encoding: 'utf8' });
    const s = JSON.parse(r.stdout) as { revision: number; mirror?: { state?: string; revision?: number } };
    if (s.mirror?.state === 'in-sync' && s.mirror.revision === s.revision) return;
    if (Date.now() > deadline) throw new DemoFailure(`the mirror did not catch up: ${r.stdout}`);
    sleep(100);
  }
}

/** Edits one line of the mirror file and saves it the way editors do (temp file, fsync, rename). */
function handEdit(ctx: Ctx, from: string, to: string): void {
  const file = join(ctx.store, 'config.json');
  const text = readFileSync(file, 'utf8');
  expect(`config.json holds ${from}`, text.includes(from), text);
  showCommand(`$EDITOR ${quote(file)}        # a person changes one line and saves`);
  out(`     ${red(`-  ${from}`)}`);
  out(`     ${green(`+  ${to}`)}`);
  const tmp = join(ctx.store, `.config.json.demo-edit~`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text.replace(from, to));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

// --- The story ----------------------------------------------------------------------------------

function value(json: string): unknown {
  return (JSON.parse(json) as { value: unknown }).value;
}

async function story(ctx: Ctx, via: Via): Promise<void> {
  step('The TypeScript CLI writes', 'psmc records each write with its source: the TS CLI is "cli".');
  cli(ctx, 'ts', ['set', 'plant.name', 'Line 7']);
  cli(ctx, 'ts', ['set', 'plant.setpoint', '42']);
  cli(ctx, 'ts', ['set', 'plant.mode', 'auto']);

  step('Python reads it', 'The Python client (standard library only) opens the same SQLite store.');
  const p = cli(ctx, 'python', ['get', 'plant.setpoint', '--json']);
  expect('Python reads 42, written by cli', value(p) === 42 && JSON.parse(p).source === 'cli');

  step('A snapshot of the known-good state', 'A plaintext JSON copy of every value, in snapshots/.');
  cli(ctx, 'ts', ['snapshot', 'create', 'before-tuning']);

  step('Python overwrites', 'Its writes are recorded with source "python".');
  cli(ctx, 'python', ['set', 'plant.setpoint', '55']);

  let server: Server | undefined;
  try {
    if (via === 'http') {
      step(
        'The HTTP API overwrites, with compare-and-set',
        'psmc serve: a token named "dashboard" writes as "http:dashboard"; If-Match is the revision it last saw.',
      );
      server = await startServer(ctx);
      const cur = (await http(server, 'GET', '/api/v1/keys/plant.mode')) as { revision: number };
      await http(server, 'PUT', '/api/v1/keys/plant.mode', { value: 'manual' }, { 'If-Match': String(cur.revision) });
    } else {
      step(
        'The GUI overwrites, through the TypeScript library',
        'In-process, source "gui" (what the web GUI records).',
      );
      const store = openStore({ dir: ctx.store, env: {}, source: 'gui' });
      try {
        const rev = store.resolve('plant.mode').revision;
        out(
          `   ${cyan('>')} ${cyan(`openStore({ source: 'gui' }).set('plant.mode', 'manual', { expectRevision: ${rev} })`)}`,
        );
        const c = store.set('plant.mode', 'manual', { expectRevision: rev });
        showOutput(`{ revision: ${c.revision}, changed: ${String(c.changes.length > 0)} }`);
      } finally {
        store.close();
      }
    }

    step('Rust reads both, then writes', 'psmc-rs, the fast CLI for shell scripts; its writes are "rust".');
    const r1 = cli(ctx, 'rust', ['get', 'plant.setpoint']);
    const r2 = cli(ctx, 'rust', ['get', 'plant.mode']);
    expect('Rust reads 55 (from Python) and manual', r1.trim() === '55' && r2.trim() === 'manual');
    cli(ctx, 'rust', ['set', 'plant.alarm.max', '80']);

    step(
      'A person edits the mirror file',
      'config.json always reflects the store; a saved edit is merged in (source "file"), comments kept.',
    );
    waitMirrorInSync(ctx);
    handEdit(ctx, '"plant.name": "Line 7"', '"plant.name": "Line 7 (north hall)"');
    // A file saved less than 30 ms ago may be mid-save: it is merged by the next access after that.
    sleep(100);
    const t1 = cli(ctx, 'ts', ['get', 'plant.name', '--json']);
    expect(
      'psmc sees the hand edit, source file',
      value(t1) === 'Line 7 (north hall)' && JSON.parse(t1).source === 'file',
    );
    const py = cli(ctx, 'python', ['get', 'plant.name']);
    expect('Python sees it too', py.trim() === 'Line 7 (north hall)');

    step(
      'Dial back: restore the snapshot',
      'One recorded change (source "restore:before-tuning"); psmc undo takes it back.',
    );
    cli(ctx, 'ts', ['snapshot', 'diff', 'before-tuning']);
    cli(ctx, 'ts', ['snapshot', 'restore', 'before-tuning', '--yes']);

    step('Everyone reads the restored values', 'The same answer from every language.');
    const lists = (['ts', 'python', 'rust'] as const).map((lang) => cli(ctx, lang, ['list', 'plant']));
    expect('TS, Python and Rust print the same list', lists[0] === lists[1] && lists[1] === lists[2]);
    expect(
      'the restored values: Line 7, 42, auto, no alarm.max',
      /plant\.setpoint\s+42/.test(lists[0]!) &&
        /plant\.mode\s+"auto"\s/.test(lists[0]!) &&
        /plant\.name\s+"Line 7"\s/.test(lists[0]!) &&
        !lists[0]!.includes('alarm'),
      lists[0],
    );
    if (server !== undefined) {
      const h = (await http(server, 'GET', '/api/v1/keys/plant.setpoint')) as { value: unknown; source: string };
      expect('HTTP reads 42, source restore:before-tuning', h.value === 42 && h.source === 'restore:before-tuning');
    }

    step('One history, every source', 'Who changed what, when: newest first.');
    const hist = cli(ctx, 'ts', ['history']);
    const third = via === 'http' ? 'http:dashboard' : 'gui';
    for (const source of ['cli', 'python', third, 'rust', 'file', 'restore:before-tuning']) {
      expect(`history shows source ${source}`, new RegExp(`\\s${source.replace(/[.:]/g, '\\$&')}\\s`).test(hist));
    }
  } finally {
    if (server !== undefined) {
      showCommand('kill %1   # psmc serve stops cleanly on SIGTERM');
      await server.stop();
    }
  }
}

// --- Main ---------------------------------------------------------------------------------------

function serveBuilt(): boolean {
  return existsSync(join(ROOT, 'dist', 'src', 'cli', 'commands', 'serve.js'));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      via: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'no-color': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    out(USAGE);
    return 0;
  }
  if (values['no-color']) color = false;
  const via = (values.via ?? (serveBuilt() ? 'http' : 'library')) as Via;
  if (via !== 'http' && via !== 'library') {
    process.stderr.write(`demo: --via must be http or library, received ${JSON.stringify(values.via)}\n`);
    return 2;
  }
  if (via === 'http' && !serveBuilt()) {
    process.stderr.write(
      'demo: psmc serve is not built (dist/src/cli/commands/serve.js); run npm run build or use --via library\n',
    );
    return 2;
  }

  out(bold('psmc demo: one store, many writers'));
  if (!existsSync(TS_BIN) || !existsSync(join(ROOT, 'dist', 'src', 'index.js'))) {
    process.stderr.write('demo: the TypeScript build is missing; run npm run build (npm run demo does it)\n');
    return 1;
  }
  let python: string;
  try {
    python = ensurePython();
  } catch (e) {
    process.stderr.write(`demo: ${(e as Error).message}\n`);
    return 1;
  }
  let psmcRs = PSMC_RS();
  if (!existsSync(psmcRs)) {
    try {
      psmcRs = ensureRust({
        stdio: ['ignore', 'inherit', 'inherit'],
        onBuild: (command) =>
          out(yellow(`psmc-rs is not built yet; building it once (a few minutes the first time):\n  ${command}`)),
      }).psmcRs;
    } catch (e) {
      process.stderr.write(`demo: ${(e as Error).message}\n`);
      return 1;
    }
  }

  const dir = mkdtempSync(join(tmpdir(), 'psmc-demo-'));
  const store = join(dir, 'store');
  const env = childEnv(dir, { PSMC_HOME: store, PSMC_PYTHON: python });
  out(dim(`store: ${store} (PSMC_HOME, so every command below finds it)`));
  out(dim(`tools: node ${process.version}, ${python}, ${psmcRs}`));
  const ctx: Ctx = { env, psmcRs, store };
  try {
    await story(ctx, via);
    out();
    out(green(bold('Done: TypeScript, Python, Rust, HTTP and a text editor shared one store; nothing was lost.')));
    return 0;
  } catch (e) {
    if (!(e instanceof DemoFailure)) throw e;
    out();
    out(red(bold(`The demo stopped: ${e.message}.`)));
    return 1;
  } finally {
    if (values.keep) out(dim(`kept: ${store}`));
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`demo: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
