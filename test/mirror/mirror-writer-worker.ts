/**
 * Child process for test/mirror/engine.test.ts and engine-crash.test.ts.
 * Run as `node mirror-writer-worker.js <mode> <storeDir> [args]`. Run with no
 * arguments (as `node --test <dir>` does with every file) it does nothing.
 *
 * Modes:
 *   set-exit <dir> <json>           sets each key of the JSON object (one set
 *                                   each) and ends by running out of work,
 *                                   without close(): the exit hook must flush.
 *   set-process-exit <dir> <json>   the same, then process.exit(0) at once.
 *   churn <dir> <keys> <bytes>      forever: one batch setting keys k00…kNN to
 *                                   { gen, i, check, pad } (pad = `bytes`
 *                                   characters), generation after generation,
 *                                   exporting after each (syncMirror, or the
 *                                   engine's own scheduled export). Prints
 *                                   "ready" once the file holds a generation.
 *                                   The parent SIGKILLs it at a random moment.
 */
import { openStore } from '../../src/index.js';
import { churnKey, churnValue } from './fixtures/churn.js';

const [mode, dir, ...rest] = process.argv.slice(2);

async function churn(storeDir: string, keys: number, bytes: number): Promise<void> {
  const store = openStore({ dir: storeDir, env: {}, source: 'churn', durability: 'normal' });
  const current = store.get('k00');
  let gen =
    current !== null && typeof current === 'object' && !Array.isArray(current) && typeof current['gen'] === 'number'
      ? current['gen']
      : 0;
  let told = false;
  for (;;) {
    gen++;
    const changes = [];
    for (let i = 0; i < keys; i++)
      changes.push({ op: 'set' as const, key: churnKey(i), value: churnValue(gen, i, bytes) });
    store.batch(changes);
    if (gen % 3 !== 0) store.syncMirror();
    // Let the engine's own scheduled export run too.
    await new Promise((r) => setImmediate(r));
    if (!told) {
      told = true;
      process.stdout.write('ready\n');
    }
  }
}

function setAll(storeDir: string, json: string): void {
  const store = openStore({ dir: storeDir, env: {}, source: 'worker' });
  const values = JSON.parse(json) as Record<string, unknown>;
  for (const [k, v] of Object.entries(values)) store.set(k, v);
}

if (mode !== undefined && dir !== undefined) {
  if (mode === 'set-exit') {
    setAll(dir, rest[0] ?? '{}');
  } else if (mode === 'set-process-exit') {
    setAll(dir, rest[0] ?? '{}');
    process.exit(0);
  } else if (mode === 'churn') {
    await churn(dir, Number(rest[0] ?? '8'), Number(rest[1] ?? '20000'));
  } else {
    process.stderr.write(`mirror-writer-worker: unknown mode ${mode}\n`);
    process.exit(2);
  }
}
