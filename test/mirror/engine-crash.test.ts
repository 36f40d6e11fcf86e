/**
 * kill -9 of a writer in the middle of an export (spec/sections/mirror-sync.md
 * §mirror.export; src/mirror/atomic.ts): a child process
 * (mirror-writer-worker.js churn) rewrites every key with big values in a
 * loop, exporting after each batch; the parent SIGKILLs it at random moments,
 * many times, on the same store — half of the kills the moment an export's
 * temp file appears (so mid-write, mid-fsync or mid-rename), half after a
 * random delay. After every kill:
 *
 * - the mirror file always parses and holds one whole generation (all keys,
 *   every value complete and from the same batch): old or new, never empty,
 *   truncated or mixed;
 * - leftover temp files `.config.json.psmc-tmp-*` may exist, but the next
 *   open + sync produces a valid file equal to the database, the mirror is in
 *   sync, and the database's integrity check passes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openStore, type JsonValue } from '../../src/index.js';
import { codecFor } from '../../src/mirror/codecs/index.js';
import { churnKey, churnValue } from './fixtures/churn.js';
import { dbValues, mirrorPath, sleep, tempFiles, tmpDir, toObject, waitFor } from './fixtures/engine-helpers.js';

const WORKER = fileURLToPath(new URL('./mirror-writer-worker.js', import.meta.url));
const KEYS = 3;
const BYTES = 60_000;
const ROUNDS = 36;

/** Checks that `values` is one whole generation; returns it. */
function generationOf(values: Record<string, JsonValue>, what: string): number {
  const keys = Object.keys(values).sort();
  assert.deepEqual(
    keys,
    Array.from({ length: KEYS }, (_, i) => churnKey(i)),
    `${what}: every key present`,
  );
  const first = values[churnKey(0)] as { gen?: unknown };
  const gen = first.gen;
  assert.equal(typeof gen, 'number', `${what}: k00 has a generation`);
  for (let i = 0; i < KEYS; i++) {
    assert.deepEqual(
      values[churnKey(i)],
      churnValue(gen as number, i, BYTES),
      `${what}: ${churnKey(i)} is whole and from generation ${String(gen)}`,
    );
  }
  return gen as number;
}

/**
 * Runs the churn worker until it has exported once, then SIGKILLs it: after
 * `delayMs`, or (`onTemp`) the moment a temp file of an export appears in the
 * directory (the write, fsync or rename of an export is then under way).
 */
async function killOnce(dir: string, delayMs: number, onTemp: boolean): Promise<void> {
  const child = spawn(process.execPath, [WORKER, 'churn', dir, String(KEYS), String(BYTES)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the worker did not get ready in 20 s: ${stderr}`)), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the worker exited early (code ${String(code)}, signal ${String(signal)}): ${stderr}`));
    });
  });
  if (onTemp) {
    await new Promise<void>((resolve) => {
      const watcher = fs.watch(dir, (_event, name) => {
        if (name !== null && name.includes('.psmc-tmp-')) done();
      });
      const fallback = setTimeout(done, 3000);
      function done(): void {
        clearTimeout(fallback);
        watcher.close();
        resolve();
      }
    });
  } else {
    await sleep(delayMs);
  }
  child.kill('SIGKILL');
  const { signal } = await exited;
  assert.equal(signal, 'SIGKILL', `the worker was killed, not ended otherwise: ${stderr}`);
}

describe('kill -9 of a writer during exports', () => {
  it(`${ROUNDS} kills at random moments: the file is always whole, and the next open repairs everything`, async (t) => {
    const dir = tmpDir(t);
    const file = mirrorPath(dir);
    let lastGen = 0;
    let roundsWithTemp = 0;
    let tempsBefore = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Spread the kills: right away, within one export, and after many.
      const onTemp = round % 2 === 1;
      const delayMs = [0, 1, 3, 7, 15, 30, 60][round % 7] as number;
      await killOnce(dir, delayMs + Math.floor(Math.random() * 5), onTemp);
      const what = `round ${round} (killed ${onTemp ? 'as an export wrote its temp file' : `${delayMs} ms after ready`})`;

      // The file as the kill left it.
      assert.ok(fs.existsSync(file), `${what}: the mirror file exists`);
      const text = fs.readFileSync(file, 'utf8');
      assert.ok(text.length > KEYS * BYTES, `${what}: the file is not empty or short (${text.length} chars)`);
      const fileGen = generationOf(toObject(codecFor('json').parse(text).values), `${what}, file after the kill`);
      assert.ok(fileGen >= lastGen, `${what}: the file did not go back in time (${fileGen} < ${lastGen})`);
      const temps = tempFiles(dir).length;
      if (temps > tempsBefore) roundsWithTemp++;
      tempsBefore = temps;

      // The next open + sync: a valid file equal to the database, integrity ok.
      const s = openStore({ dir, env: {} });
      try {
        await waitFor(
          () => {
            const r = s.syncMirror();
            assert.equal(r.error, undefined, `${what}: no invalid edit (${JSON.stringify(r)})`);
            return r.retryInMs === undefined;
          },
          5000,
          `${what}: the sync to finish`,
        );
        const db = dbValues(s);
        const dbGen = generationOf(db, `${what}, database`);
        assert.ok(dbGen >= fileGen, `${what}: the database is at least as new as the file`);
        const after = fs.readFileSync(file, 'utf8');
        assert.deepEqual(
          toObject(codecFor('json').parse(after).values),
          db,
          `${what}: after the sync the file equals the database`,
        );
        assert.equal(s.status().mirror?.state, 'in-sync', what);
        assert.deepEqual(s.checkIntegrity(), [], `${what}: integrity`);
        assert.equal(s.status().conflicts, 0, `${what}: an interrupted export is no conflict`);
        assert.deepEqual(
          s.history().filter((h) => h.source === 'file'),
          [],
          `${what}: an interrupted export imports nothing`,
        );
        lastGen = dbGen;
      } finally {
        s.close();
      }
    }
    t.diagnostic(
      `${ROUNDS} kills; a new temp file left behind by ${roundsWithTemp} of them (${tempFiles(dir).length} now); last generation ${lastGen}`,
    );
    assert.ok(lastGen > ROUNDS, 'the writer made progress');
  });
});
