// Snapshots are consistent while another process writes, and atomic when their writer is killed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/store.js';
import type { JsonValue } from '../../src/core/value.js';
import { createSnapshot, listSnapshots, parseSnapshot, readSnapshot } from '../../src/snapshot/index.js';

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

test('each snapshot taken while another process writes equals the store at its revision', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'psmc-snap-race-'));
  const store = openStore({ dir, env: {}, source: 'test', freshnessMs: 0 });
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  store.set('seed', 0);
  const child = spawn(process.execPath, [WORKER, 'writer', dir, '300'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  let exited = false;
  void done.then(() => (exited = true));
  const names: string[] = [];
  for (let i = 0; !exited || i < 3; i++) {
    names.push(createSnapshot(store, { name: `race-${i}` }).name);
    await sleep(2);
  }
  assert.equal(await done, 0, stderr);
  assert.ok(names.length >= 3);
  // Replay history to get the store at each snapshot's revision.
  const history = store.history().reverse();
  const revisions = new Set<number>();
  for (const name of names) {
    const doc = readSnapshot(store, name);
    revisions.add(doc.revision);
    const state = new Map<string, JsonValue>();
    for (const c of history) {
      if (c.revision > doc.revision) break;
      if (c.op === 'set') state.set(c.key, c.newValue as JsonValue);
      else if (c.op === 'delete') state.delete(c.key);
    }
    const entries = new Map(Object.entries(doc.entries).map(([k, e]) => [k, e.value]));
    assert.deepEqual(entries, state, `snapshot ${name} at revision ${doc.revision}`);
    assert.equal(doc.entries['pair.a']?.value, doc.entries['pair.b']?.value, 'a batch is never half in a snapshot');
  }
  assert.ok(revisions.size >= 2, `snapshots should land on several revisions, got ${[...revisions].join(',')}`);
});

test(
  'kill -9 of a process taking snapshots never leaves a partial <name>.json',
  { skip: process.platform === 'win32' },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'psmc-snap-kill-'));
    const store = openStore({ dir, env: {}, source: 'test' });
    t.after(() => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    // A store big enough that writing a snapshot takes a while (~2 MB of JSON).
    const big = 'x'.repeat(100_000);
    for (let b = 0; b < 2; b++) {
      store.batch(
        Array.from({ length: 10 }, (_, i) => ({ op: 'set' as const, key: `k${b}.n${i}`, value: { text: big, i } })),
      );
    }
    for (let round = 0; round < 4; round++) {
      const child = spawn(process.execPath, [WORKER, 'snapshotter', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      // Wait for a first snapshot, then kill at a varying moment.
      while (!out.includes('\n')) await sleep(5);
      await sleep(7 * round + 3);
      child.kill('SIGKILL');
      await exited;
    }
    const snaps = join(dir, 'snapshots');
    const files = readdirSync(snaps);
    const complete = files.filter((f) => f.endsWith('.json') && !f.startsWith('.'));
    assert.ok(complete.length >= 4);
    for (const f of complete) {
      const doc = parseSnapshot(readFileSync(join(snaps, f), 'utf8'), { expectName: f.slice(0, -5) });
      assert.equal(Object.keys(doc.entries).length, 20, f);
    }
    assert.deepEqual(listSnapshots(store).problems, []);
    // Temp files left by the killed writers are swept by the next write.
    createSnapshot(store, { name: 'after' });
    assert.deepEqual(
      readdirSync(snaps).filter((f) => f.startsWith('.')),
      [],
    );
  },
);
