/**
 * `npm run tour`: a guided tour of psmc on a throw-away store, with real
 * processes. Every step prints the command it runs and its output: the CLI
 * writing and reading, layers and `explain`, compare-and-set, a hand edit of
 * the plaintext mirror, an invalid edit that is refused, snapshots and
 * restore, undo, and the history of who changed what.
 *
 * The store lives in a temp directory that is removed at the end (set
 * PSMC_TOUR_KEEP=1 to keep it and print its path).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'bin', 'psmc.cjs');
const store = mkdtempSync(join(tmpdir(), 'psmc-tour-'));
const mirror = join(store, 'config.json');
const color = process.stdout.isTTY === true;
const bold = (s: string): string => (color ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string): string => (color ? `\x1b[2m${s}\x1b[0m` : s);

function title(text: string): void {
  process.stdout.write(`\n${bold(`▸ ${text}`)}\n`);
}

function psmc(args: string[], env: Record<string, string> = {}): number {
  const shown = Object.entries(env)
    .map(([k, v]) => `${k}=${v} `)
    .join('');
  process.stdout.write(dim(`$ ${shown}psmc ${args.join(' ')}`) + '\n');
  const r = spawnSync(process.execPath, [bin, ...args, '--store', store], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  process.stdout.write(r.stdout);
  process.stdout.write(r.stderr);
  if (r.status !== 0) process.stdout.write(dim(`(exit code ${String(r.status)})`) + '\n');
  return r.status ?? 1;
}

function settle(file: string): void {
  // A saved file counts as settled 30 ms after its last write; pretend the editor saved a moment ago.
  const past = new Date(Date.now() - 1000);
  utimesSync(file, past, past);
}

try {
  process.stdout.write(bold('psmc tour') + dim(`  (store: ${store})`) + '\n');

  title('Write and read from the CLI (values are JSON when they parse, else strings)');
  psmc(['set', 'plant.name', 'North Works']);
  psmc(['set', 'display.units', 'metric']);
  psmc(['set', 'display.refresh_ms', '250']);
  psmc(['set', 'sensors', '[{"id":"t1","max":80},{"id":"t2","max":95}]']);
  psmc(['get', 'display.refresh_ms', '--json']);

  title('Layers: an environment variable beats the store, and explain says why');
  psmc(['explain', 'display.units'], { PSMC_DISPLAY__UNITS: 'imperial' });

  title('Compare-and-set: a stale writer gets a conflict, not a silent overwrite');
  psmc(['set', 'display.units', 'kelvin', '--expect-revision', '1']);

  title('The plaintext mirror: the store as a file anyone can edit');
  process.stdout.write(dim(`$ cat ${mirror}`) + '\n' + readFileSync(mirror, 'utf8'));
  title('A hand edit (with a comment) is merged in, with source "file"');
  writeFileSync(mirror, readFileSync(mirror, 'utf8').replace('"metric",', '"imperial", // switched for the US line'));
  settle(mirror);
  psmc(['get', 'display.units']);
  psmc(['history', 'display.units']);

  title('An invalid edit is refused: the file is kept as saved, the store keeps working');
  const good = readFileSync(mirror, 'utf8');
  writeFileSync(mirror, good.replace('"North Works",', '"North Works",,'));
  settle(mirror);
  psmc(['get', 'plant.name']);
  psmc(['status']);
  writeFileSync(mirror, good);
  settle(mirror);

  title('Snapshots: dial back to a known state (and undo the restore)');
  psmc(['snapshot', 'create', 'before-retune']);
  psmc(['set', 'display.refresh_ms', '1000']);
  psmc(['set', 'plant.name', 'South Works']);
  psmc(['snapshot', 'diff', 'before-retune']);
  psmc(['snapshot', 'restore', 'before-retune', '--yes']);
  psmc(['get', 'display.refresh_ms']);
  psmc(['undo']);
  psmc(['get', 'display.refresh_ms']);

  title('Every change: who, what and when');
  psmc(['history', '--limit', '8']);

  process.stdout.write(
    `\n${bold('Next:')} psmc --help · README.md · docs/cli.md · docs/api.md · spec/SPEC.md\n` +
      dim('(Python: python3 -m psmc …, Rust: psmc-rs … read and write the same store.)') +
      '\n',
  );
} finally {
  if (process.env['PSMC_TOUR_KEEP'] === '1') process.stdout.write(`\nThe tour's store is kept at ${store}\n`);
  else rmSync(store, { recursive: true, force: true });
}
