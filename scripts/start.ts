/**
 * `npm start` (after `npm run build`): the main job. Runs `psmc serve` on a demo store and prints
 * the login URL to open in a browser. Opens nothing by itself.
 *
 * - The demo store lives in `$PSMC_DEMO_DIR`, else `<tmp>/psmc-demo-<user>`. It is created with a
 *   small schema and sample values the first time (scripts/demo-store.ts) and reused afterwards,
 *   so changes survive a restart. Delete the directory to start over.
 * - The port is `$PSMC_PORT`, else 7770; when that one is taken, any free port.
 * - Ctrl-C stops the server.
 *
 * The guided CLI tour that used to be here is `npm run tour` (scripts/tour.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PSMC_BIN, psmcSync, seedDemoStore } from './demo-store.js';

const color = process.stdout.isTTY === true;
const bold = (s: string): string => (color ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string): string => (color ? `\x1b[2m${s}\x1b[0m` : s);

function demoDir(): string {
  const fromEnv = process.env.PSMC_DEMO_DIR;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  let user = 'user';
  try {
    user = userInfo().username.replace(/[^A-Za-z0-9_-]/g, '_') || user;
  } catch (e) {
    process.stderr.write(dim(`(no user name: ${String(e)}; using "user")\n`));
  }
  return join(tmpdir(), `psmc-demo-${user}`);
}

interface Ready {
  url: string;
  loginUrl: string;
  port: number;
}

/** Starts `psmc serve`; resolves with its ready line, or with undefined when it exits first. */
function serve(store: string, port: number): Promise<{ child: ReturnType<typeof spawn>; ready: Ready | undefined }> {
  const child = spawn(process.execPath, [PSMC_BIN, 'serve', '--store', store, '--port', String(port), '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errText = '';
  child.stderr?.on('data', (b: Buffer) => {
    errText += b.toString('utf8');
  });
  return new Promise((resolve) => {
    const lines = createInterface({ input: child.stdout! });
    let done = false;
    lines.on('line', (line) => {
      if (done) return;
      try {
        const msg = JSON.parse(line) as Partial<Ready> & { event?: string };
        if (msg.event === 'ready' && typeof msg.loginUrl === 'string') {
          done = true;
          resolve({ child, ready: msg as Ready });
        }
      } catch {
        process.stdout.write(line + '\n');
      }
    });
    child.on('exit', (code) => {
      if (done) return;
      done = true;
      if (port === 0 || !/in use|EADDRINUSE/i.test(errText)) {
        process.stderr.write(errText);
        process.stderr.write(`psmc serve exited with code ${String(code)} before it was ready.\n`);
      }
      resolve({ child, ready: undefined });
    });
  });
}

async function main(): Promise<number> {
  const store = demoDir();
  const fresh = !existsSync(store) || psmcSync(store, ['revision']).trim() === '0';
  mkdirSync(store, { recursive: true, mode: 0o700 });
  if (fresh) seedDemoStore(store);

  const wanted = Number(process.env.PSMC_PORT ?? 7770);
  let { child, ready } = await serve(store, Number.isInteger(wanted) && wanted >= 0 ? wanted : 7770);
  if (ready === undefined && wanted !== 0 && child.exitCode !== null) ({ child, ready } = await serve(store, 0));
  if (ready === undefined) return 1;

  // From now on the server's own notes (warnings, errors) go straight to our stderr.
  child.stderr?.pipe(process.stderr);
  const cli = `node ${PSMC_BIN}`;
  process.stdout.write(
    [
      '',
      bold('psmc is serving the demo store'),
      `  store    ${store}${fresh ? dim('  (new: demo schema and values)') : dim('  (reused)')}`,
      '',
      `  Open this URL in your browser (it logs you in):`,
      '',
      `    ${bold(ready.loginUrl)}`,
      '',
      dim('  Change something from another terminal and watch the page update:'),
      dim(`    ${cli} set display.units imperial --store ${store}`),
      dim(`    ${cli} snapshot create before-test --store ${store}`),
      dim(`  Delete ${store} to start over. Ctrl-C stops the server.`),
      '',
    ].join('\n'),
  );

  const stop = (): void => {
    child.kill('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 0)));
}

process.exitCode = await main();
