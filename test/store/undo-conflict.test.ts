import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from '../../src/index.js';
import { isPsmcError } from '../../src/core/errors.js';

test('undo skips a revision that only records a conflict; undoing it by number says why', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'psmc-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const s = openStore({ dir, env: {}, mirror: false });
  s.set('a', 1); // r1
  s.set('a', 2); // r2
  // Revision 3 holds only a conflict record (a hand edit that lost), as the mirror writes it.
  const db = new Database(path.join(dir, 'psmc.db'));
  db.exec(`BEGIN IMMEDIATE;
    INSERT INTO history (revision, seq, key, op, old_value, new_value, source, at, note)
      VALUES (3, 0, 'a', 'conflict', '9', '2', 'file', '2026-01-01T00:00:00.000Z-0000', 'hand edit lost');
    UPDATE state SET revision = 3 WHERE id = 1;
    COMMIT;`);
  db.close();
  const c = s.undo(); // undoes revision 2, the newest that changed a value
  assert.equal(s.get('a'), 1);
  assert.equal(c.changes[0]?.note, 'undo of revision 2');
  assert.throws(
    () => s.undo({ revision: 3 }),
    (e: unknown) => isPsmcError(e) && e.code === 'PSMC_NOT_FOUND' && /only records a conflict/.test(e.message),
  );
  s.close();
});
