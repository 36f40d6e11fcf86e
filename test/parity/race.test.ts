/**
 * The live three-language race (issue 4): 4 TypeScript + 4 Python + 4 Rust processes, each doing
 * 250 read-modify-write increments of one counter with compare-and-set (retrying on
 * PSMC_CONFLICT and PSMC_BUSY), started together on one store, while a hand edit of the mirror
 * file — another key, in the mirror format, saved the way editors save (temp file + rename) —
 * lands in the middle.
 *
 * Then: the counter is exactly 3,000; the hand-edited key holds the edited value with source
 * `file`; the counter's history holds 3,000 increments (1,000 per language, by source), each from
 * the previous value, under strictly increasing revisions, with no duplicate; store revisions run
 * 1..N with no gap; PRAGMA integrity_check is ok; the mirror file equals the canonical rendering
 * of the final state.
 *
 * The workers (same line protocol): workers/race-worker.ts (the library), workers/race_worker.py
 * (`import psmc`), clients/rust/examples/race_worker.rs (the crate). No timing assertions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openStore } from '../../src/index.js';
import { codecFor } from '../../src/mirror/codecs/index.js';
import type { JsonValue } from '../../src/core/value.js';
import { childEnv, ensurePython, ensureRust, ROOT, type Lang } from './tools.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const TS_WORKER = join(HERE, 'workers', 'race-worker.js');
const PY_WORKER = join(ROOT, 'test', 'parity', 'workers', 'race_worker.py');
const PER_LANG = 4;
const INCREMENTS = 250;
const TOTAL = 3 * PER_LANG * INCREMENTS;
/** The hand edit lands once the counter has reached this (a third of the way). */
const EDIT_AT = TOTAL / 3;
const EDITED_KEY = 'plant.name';
const EDITED_VALUE = 'line 7 — edited by hand ✎';

interface Report {
  type: 'done';
  successes: number;
  conflicts: number;
  busy: number;
  errors: string[];
}

interface Worker {
  lang: Lang;
  child: ChildProcess;
  ready: Promise<void>;
  done: Promise<Report>;
  stderr: () => string;
}

function startWorker(lang: Lang, program: string, args: string[], env: Record<string, string>): Worker {
  const child = spawn(program, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((res) => child.once('close', (code) => res(code)));
  let onReady!: () => void;
  let onDone!: (r: Report) => void;
  let onFail!: (e: Error) => void;
  const ready = new Promise<void>((res) => (onReady = res));
  const done = new Promise<Report>((res, rej) => {
    onDone = res;
    onFail = rej;
  });
  child.once('error', (e) => onFail(e));
  const lines = createInterface({ input: child.stdout! });
  let report: Report | undefined;
  lines.on('line', (line) => {
    const m = JSON.parse(line) as { type?: string };
    if (m.type === 'ready') onReady();
    else if (m.type === 'done') report = m as Report;
  });
  void exited.then((code) => {
    if (report !== undefined && code === 0) onDone(report);
    else
      onFail(new Error(`${lang} worker ${child.pid} exited with ${code} (report: ${JSON.stringify(report)})\n${err}`));
  });
  // A worker that dies before saying ready must not hang the test.
  void done.catch(() => onReady());
  return { lang, child, ready, done, stderr: () => err };
}

/**
 * Saves a hand edit of the mirror the way an editor does: the current file's text with one
 * entry changed (the codec's span edit keeps every other byte), written to a temp file in the
 * same directory, fsynced, renamed over the file.
 *
 * The read-modify-rename runs while this process holds the store's write lock (BEGIN
 * IMMEDIATE), the lock the exporters hold for their own rename (spec §mirror.export). Without it,
 * an export landing between our read and our rename would be overwritten by a buffer one export
 * old — a stale buffer, whose other keys the 3-way merge rightly reads as edited back (that is
 * what an editor's "file changed on disk" warning is for). This test is about a fresh edit being
 * merged while writers race, so it makes the edit fresh, and checks so: the file it reads is the
 * last export (its hash is `mirror.hash`).
 */
function handEdit(dir: string): { revisionAtEdit: number; counterAtEdit: number } {
  const file = join(dir, 'config.json');
  const db = new Database(join(dir, 'psmc.db'), { timeout: 60_000 });
  try {
    db.exec('BEGIN IMMEDIATE');
    try {
      const text = readFileSync(file);
      const hash = db.prepare("SELECT value FROM meta WHERE name = 'mirror.hash'").pluck().get() as string | undefined;
      assert.equal(
        createHash('sha256').update(text).digest('hex'),
        hash,
        'the file read for the edit is the last export',
      );
      const edited = codecFor('json').update(text.toString('utf8'), [{ key: EDITED_KEY, value: EDITED_VALUE }]);
      assert.notEqual(edited, text.toString('utf8'));
      const tmp = join(dir, `.config.json.edit-${process.pid}~`);
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, edited);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
      const revisionAtEdit = db.prepare('SELECT revision FROM state').pluck().get() as number;
      const counterAtEdit = JSON.parse(
        db.prepare("SELECT value FROM entries WHERE key = 'counter'").pluck().get() as string,
      ) as number;
      return { revisionAtEdit, counterAtEdit };
    } finally {
      db.exec('COMMIT');
    }
  } finally {
    db.close();
  }
}

test(
  `race: ${PER_LANG} TS + ${PER_LANG} Python + ${PER_LANG} Rust processes × ${INCREMENTS} CAS increments, a hand edit of the mirror in the middle`,
  { timeout: 1_800_000 },
  async (t) => {
    const python = ensurePython();
    const { examples } = ensureRust({ examples: ['race_worker'] });
    const rustWorker = examples['race_worker']!;
    const tmp = mkdtempSync(join(tmpdir(), 'psmc-parity-race-'));
    t.after(() => rmSync(tmp, { recursive: true, force: true }));
    const dir = join(tmp, 'store');
    const env = childEnv(tmp);

    const setup = openStore({ dir, env: {}, source: 'setup' });
    setup.set('counter', 0);
    setup.set(EDITED_KEY, 'line 7');
    setup.close(); // exports the mirror
    assert.match(readFileSync(join(dir, 'config.json'), 'utf8'), /"counter": 0/);

    const workers: Worker[] = [];
    try {
      for (let i = 0; i < PER_LANG; i++) {
        workers.push(startWorker('ts', process.execPath, [TS_WORKER, dir, String(INCREMENTS)], env));
        workers.push(startWorker('python', python, [PY_WORKER, dir, String(INCREMENTS)], env));
        workers.push(startWorker('rust', rustWorker, [dir, String(INCREMENTS)], env));
      }
      await Promise.all(workers.map((w) => w.ready));
      for (const w of workers) w.child.stdin!.end('go\n');

      // Watch the counter (read-only SQL, so this process imports nothing) and land the edit.
      const all = Promise.allSettled(workers.map((w) => w.done));
      let finished = false;
      void all.then(() => (finished = true));
      const watch = new Database(join(dir, 'psmc.db'), { readonly: true, timeout: 60_000 });
      let edit: { revisionAtEdit: number; counterAtEdit: number } | undefined;
      try {
        const counter = watch.prepare("SELECT value FROM entries WHERE key = 'counter'").pluck();
        while (!finished) {
          if (edit === undefined && (JSON.parse(counter.get() as string) as number) >= EDIT_AT) edit = handEdit(dir);
          await new Promise((res) => setTimeout(res, 20));
        }
      } finally {
        watch.close();
      }
      const settled = await all;
      const failures = settled.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []));
      assert.deepEqual(failures, [], 'every worker exits 0 with a report');
      assert.ok(edit !== undefined, `the hand edit landed during the race (counter reached ${EDIT_AT} before the end)`);
      t.diagnostic(`hand edit saved at store revision ${edit.revisionAtEdit}, counter ${edit.counterAtEdit}`);

      const reports = await Promise.all(workers.map((w) => w.done));
      for (const [i, r] of reports.entries()) {
        const w = workers[i]!;
        assert.deepEqual(r.errors, [], `${w.lang} worker ${w.child.pid}: no error besides CONFLICT/BUSY`);
        assert.equal(r.successes, INCREMENTS, `${w.lang} worker ${w.child.pid} did all its increments`);
      }
      for (const lang of ['ts', 'python', 'rust'] as const) {
        const rs = reports.filter((_, i) => workers[i]!.lang === lang);
        t.diagnostic(
          `${lang}: conflicts retried ${rs.map((r) => r.conflicts).join(', ')}; busy ${rs.map((r) => r.busy).join(', ')}`,
        );
      }
    } finally {
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill();
    }

    // The final state, read by the TypeScript reference (opening it merges any pending hand edit).
    const store = openStore({ dir, env: {}, freshnessMs: 0 });
    try {
      assert.equal(store.get('counter'), TOTAL, `the counter is exactly ${TOTAL}`);
      const edited = store.resolve(EDITED_KEY);
      assert.equal(edited.value, EDITED_VALUE, 'the hand-edited key holds the edited value');
      assert.equal(edited.source, 'file', 'recorded with source file');
      const editRecords = store.history(EDITED_KEY).filter((r) => r.source === 'file');
      assert.equal(editRecords.length, 1, 'the hand edit is one history record');
      const editRevision = editRecords[0]!.revision;
      const after = store.history('counter').filter((r) => r.revision > editRevision).length;
      t.diagnostic(`the hand edit was merged at revision ${editRevision}, ${after} increments after it`);

      const records = store.history('counter').reverse(); // oldest first
      assert.deepEqual(
        [...new Set(records.map((r) => r.op))],
        ['set'],
        'the counter has only set records (no conflict record, no delete)',
      );
      assert.equal(records.length, TOTAL + 1, `the initial set and exactly ${TOTAL} increments`);
      assert.equal(records[0]!.newValue, 0);
      const seen = new Set<number>();
      for (let i = 1; i < records.length; i++) {
        const prev = records[i - 1]!;
        const cur = records[i]!;
        assert.ok(cur.revision > prev.revision, `revisions strictly increase (${prev.revision} then ${cur.revision})`);
        assert.equal(cur.oldValue, prev.newValue, `revision ${cur.revision} starts from the previous value`);
        assert.equal(cur.newValue, i, `revision ${cur.revision} is increment number ${i}`);
        assert.ok(!seen.has(cur.newValue as number), `value ${String(cur.newValue)} is written once`);
        seen.add(cur.newValue as number);
      }
      const bySource: Record<string, number> = {};
      for (const r of records.slice(1)) bySource[r.source] = (bySource[r.source] ?? 0) + 1;
      assert.deepEqual(
        bySource,
        { api: PER_LANG * INCREMENTS, python: PER_LANG * INCREMENTS, rust: PER_LANG * INCREMENTS },
        'each language made its increments, under its own default source (spec §source)',
      );

      const revisions = [...new Set(store.history().map((r) => r.revision))].sort((a, b) => a - b);
      assert.deepEqual(
        revisions,
        Array.from({ length: store.revision() }, (_, i) => i + 1),
        'store revisions run 1..N with no gap',
      );
      assert.equal(store.revision(), TOTAL + 3, '2 setup writes, the increments and the one hand-edit merge');
      assert.deepEqual(store.checkIntegrity(), [], 'PRAGMA integrity_check is ok');
      store.syncMirror();
      const entries = store.list().map((r) => [r.key, r.value as JsonValue] as const);
      store.close();
      assert.equal(
        readFileSync(join(dir, 'config.json'), 'utf8'),
        codecFor('json').render(entries),
        'the mirror file is the canonical rendering of the final state',
      );
    } finally {
      store.close();
    }
  },
);

test(
  'creation race: 2 TS + 2 Python + 2 Rust processes start on a store that does not exist yet, 4 rounds',
  { timeout: 600_000 },
  async (t) => {
    // Every worker opens (lazily: nothing is created) and is released together, so the first
    // writes of all three languages create the same store at once. The foreign-database check
    // once read its three facts one by one, and a creation committed between them looked like
    // another program's tables (PSMC_CORRUPT) — in all three languages.
    const python = ensurePython();
    const { examples } = ensureRust({ examples: ['race_worker'] });
    const rustWorker = examples['race_worker']!;
    const PER = 2;
    const EACH = 5;
    for (let round = 0; round < 4; round++) {
      const tmp = mkdtempSync(join(tmpdir(), 'psmc-parity-create-'));
      t.after(() => rmSync(tmp, { recursive: true, force: true }));
      const dir = join(tmp, 'store');
      const env = childEnv(tmp);
      const workers: Worker[] = [];
      try {
        for (let i = 0; i < PER; i++) {
          workers.push(startWorker('ts', process.execPath, [TS_WORKER, dir, String(EACH)], env));
          workers.push(startWorker('python', python, [PY_WORKER, dir, String(EACH)], env));
          workers.push(startWorker('rust', rustWorker, [dir, String(EACH)], env));
        }
        await Promise.all(workers.map((w) => w.ready));
        for (const w of workers) w.child.stdin!.end('go\n');
        const settled = await Promise.allSettled(workers.map((w) => w.done));
        const failures = settled.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []));
        assert.deepEqual(failures, [], `round ${round}: every worker exits 0 with a report`);
        for (const [i, s] of settled.entries()) {
          const w = workers[i]!;
          if (s.status === 'fulfilled')
            assert.deepEqual(s.value.errors, [], `round ${round}, ${w.lang} ${w.child.pid}`);
        }
      } finally {
        for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill();
      }
      const store = openStore({ dir, env: {}, freshnessMs: 0 });
      try {
        assert.equal(store.get('counter'), 3 * PER * EACH, `round ${round}: every increment counted`);
        assert.deepEqual(store.checkIntegrity(), [], `round ${round}: integrity_check ok`);
      } finally {
        store.close();
      }
    }
  },
);
