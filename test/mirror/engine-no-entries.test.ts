/**
 * A mirror file that parses as a document with no entries (spec/sections/mirror-sync.md
 * §mirror.detect): while the base (the values at mirror.revision) has a key, it is waited on like
 * an empty file — an in-place save cut inside the header comment looks exactly like this — and
 * imported only once it has stayed unchanged for EMPTY_GRACE_MS. Over an empty base it imports at
 * once. Real files; the file's age is set by backdating its mtime.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { MirrorFormat } from '../../src/mirror/codecs/index.js';
import { EMPTY_GRACE_MS, SETTLE_MS } from '../../src/mirror/mirror.js';
import { backdate, dbValues, fileValues, mirrorPath, open, readText, tmpDir } from './fixtures/engine-helpers.js';

/** Documents with no entries, per format: what a user writes to clear the store, or a cut save. */
const NO_ENTRIES: Record<MirrorFormat, string[]> = {
  json: ['{}\n', '// cleared by hand\n{ }\n'],
  toml: ['# only a comment\n', '\n# psmc mirror\n# another comment line\n'],
  yaml: ['# only a comment\n', '\n# psmc mirror\n\n# another comment line\n'],
};

for (const format of ['json', 'toml', 'yaml'] as const) {
  describe(`a ${format} file with no entries`, () => {
    for (const text of NO_ENTRIES[format]) {
      it(`${JSON.stringify(text)} over a store with keys: not imported before EMPTY_GRACE_MS, imported after`, (t) => {
        const dir = tmpDir(t);
        const s = open(t, dir);
        if (format !== 'json') s.setMirrorFormat(format);
        s.batch([
          { op: 'set', key: 'a', value: 1 },
          { op: 'set', key: 'b.c', value: 'two' },
        ]);
        s.syncMirror();
        const file = mirrorPath(dir, format);
        fs.writeFileSync(file, text);
        backdate(file, SETTLE_MS + 200);
        const early = s.syncMirror();
        assert.equal(early.error, undefined, 'not an invalid edit');
        assert.ok(early.retryInMs !== undefined && early.retryInMs > 0, 'waited on like an empty file');
        assert.ok(early.retryInMs <= EMPTY_GRACE_MS - SETTLE_MS - 200, `retry within the grace (${early.retryInMs})`);
        assert.deepEqual(dbValues(s), { a: 1, 'b.c': 'two' });
        assert.equal(s.status().mirror?.state, 'pending-import');
        assert.equal(readText(file), text, 'the file is left as written');
        // A write during the grace is kept, and survives the import.
        s.set('during', 1);
        backdate(file, EMPTY_GRACE_MS + 500);
        const late = s.syncMirror();
        assert.equal(late.error, undefined);
        assert.equal(late.retryInMs, undefined);
        assert.deepEqual(dbValues(s), { during: 1 });
        for (const key of ['a', 'b.c']) {
          const h = s.history(key)[0];
          assert.equal(h?.op, 'delete', key);
          assert.equal(h?.source, 'file', key);
        }
        assert.notEqual(s.status().mirror?.state, 'invalid-edit');
        assert.deepEqual(fileValues(dir, format), { during: 1 }, 'the file is corrected with the write');
      });
    }

    it('over an empty base: imported at once, the file kept as written', (t) => {
      const dir = tmpDir(t);
      const s = open(t, dir);
      s.setMirrorFormat(format); // creates the store, with an empty mirror file
      s.syncMirror();
      const file = mirrorPath(dir, format);
      const text = NO_ENTRIES[format][0] ?? '';
      fs.writeFileSync(file, text);
      backdate(file, SETTLE_MS + 200);
      const r = s.syncMirror();
      assert.equal(r.error, undefined);
      assert.equal(r.retryInMs, undefined, 'no grace: the base has no key to lose');
      assert.equal(s.status().mirror?.state, 'in-sync');
      assert.equal(readText(file), text);
      assert.deepEqual(dbValues(s), {});
    });

    it('over a base whose keys were all deleted since: still waited on (the base is the last export)', (t) => {
      const dir = tmpDir(t);
      const s = open(t, dir);
      if (format !== 'json') s.setMirrorFormat(format);
      s.set('a', 1);
      s.syncMirror();
      const file = mirrorPath(dir, format);
      const text = NO_ENTRIES[format][0] ?? '';
      fs.writeFileSync(file, text);
      backdate(file, SETTLE_MS + 200);
      s.delete('a');
      assert.ok((s.syncMirror().retryInMs ?? 0) > 0);
      backdate(file, EMPTY_GRACE_MS + 500);
      assert.equal(s.syncMirror().retryInMs, undefined);
      assert.equal(s.status().mirror?.state, 'in-sync');
      assert.deepEqual(dbValues(s), {});
    });
  });
}
