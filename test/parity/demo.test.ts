/**
 * `npm run demo` (scripts/demo.ts) runs its story to the end: exit 0, every step printed with its
 * commands and checks, no failed check, no color when stdout is not a terminal. The demo checks
 * each result itself (it exits 1 naming the first unexpected one), so this also proves the story:
 * TS CLI → Python → HTTP API (and, in the second run, the TS library as "gui") → Rust → a hand
 * edit of the mirror → snapshot restore → every reader → one history with every source.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, ensurePython, ensureRust, ROOT } from './tools.js';

const DEMO = join(ROOT, 'dist', 'scripts', 'demo.js');

const STEPS = [
  '1. The TypeScript CLI writes',
  '2. Python reads it',
  '3. A snapshot of the known-good state',
  '4. Python overwrites',
  '6. Rust reads both, then writes',
  '7. A person edits the mirror file',
  '8. Dial back: restore the snapshot',
  '9. Everyone reads the restored values',
  '10. One history, every source',
];

function runDemo(args: string[]): { status: number | null; stdout: string; stderr: string } {
  ensurePython();
  ensureRust(); // so the demo finds an up-to-date psmc-rs and does not build it itself
  const home = mkdtempSync(join(tmpdir(), 'psmc-demo-test-'));
  const r = spawnSync(process.execPath, [DEMO, ...args], {
    cwd: ROOT,
    env: childEnv(home),
    encoding: 'utf8',
    timeout: 600_000,
  });
  rmSync(home, { recursive: true, force: true });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function checkStory(out: { status: number | null; stdout: string; stderr: string }, third: RegExp): void {
  assert.equal(out.status, 0, `the demo exits 0\nstdout:\n${out.stdout}\nstderr:\n${out.stderr}`);
  for (const s of STEPS) assert.ok(out.stdout.includes(`\n${s}\n`), `step "${s}" is shown`);
  assert.match(out.stdout, third, 'the third writer is shown');
  for (const cmd of [
    '$ psmc set plant.setpoint 42',
    '$ python3 -m psmc get plant.setpoint --json',
    '$ python3 -m psmc set plant.setpoint 55',
    '$ psmc-rs get plant.setpoint',
    '$ psmc snapshot restore before-tuning --yes',
    '$ psmc-rs list plant',
    '$ psmc history',
  ]) {
    assert.ok(out.stdout.includes(cmd), `the command "${cmd}" is shown`);
  }
  assert.match(out.stdout, /^ {5}55$/m, "psmc-rs's real output is shown");
  assert.doesNotMatch(out.stdout, /✗/, 'no check failed');
  assert.ok((out.stdout.match(/✓/g) ?? []).length >= 12, 'the checks are shown');
  assert.match(out.stdout, /Done: TypeScript, Python, Rust, HTTP and a text editor shared one store/);
  assert.doesNotMatch(out.stdout, /\x1b\[/, 'no ANSI colors when stdout is not a terminal');
  assert.doesNotMatch(out.stdout, /psmc_[A-Za-z0-9_-]{43}/, 'no token is printed in full');
}

test('npm run demo: the story through the HTTP API runs to the end and shows every step', { timeout: 900_000 }, () => {
  const out = runDemo([]);
  checkStory(out, /\n5\. The HTTP API overwrites, with compare-and-set\n[\s\S]*\$ curl -s -X PUT [^\n]*If-Match/);
  assert.match(out.stdout, /✓ history shows source http:dashboard/);
});

test('npm run demo -- --via library: the TS library writes as "gui" instead', { timeout: 900_000 }, () => {
  const out = runDemo(['--via', 'library']);
  checkStory(out, /\n5\. The GUI overwrites, through the TypeScript library\n/);
  assert.match(out.stdout, /✓ history shows source gui/);
});

test('npm run demo -- --via bogus: a usage error, exit 2', () => {
  const r = spawnSync(process.execPath, [DEMO, '--via', 'bogus'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--via must be http or library, received "bogus"/);
});
