// psmc snapshot: real processes.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { hasStack, sandbox } from './harness.js';

interface InfoJson {
  name: string;
  createdAt: string;
  revision: number;
  reason: string;
  source: string;
  keys: number;
  bytes: number;
  path: string;
}

test('snapshot create/list/show: files in the store, table and --json', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'display.units', 'metric']);
  sb.ok(['set', 'retries', '3']);
  const r = sb.run(['snapshot', 'create', 'before-upgrade']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Created snapshot before-upgrade \(revision 2, 2 keys\): .*before-upgrade\.json\n$/);
  const file = join(sb.home, 'snapshots', 'before-upgrade.json');
  const text = readFileSync(file, 'utf8');
  assert.match(text, /^\{\n {2}"format": "psmc-snapshot",\n {2}"version": 1,\n {2}"name": "before-upgrade",/);
  assert.match(text, /"source": "cli"/);
  if (process.platform !== 'win32') assert.equal(statSync(file).mode & 0o777, 0o600);
  const j = sb.run(['snapshot', 'create', '--json']).json<InfoJson>();
  assert.match(j.name, /^snap-\d{8}-\d{6}$/);
  assert.equal(j.reason, 'manual');
  const list = sb.run(['snapshot', 'list']);
  assert.equal(list.status, 0, list.stderr);
  const lines = list.stdout.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^NAME\s+CREATED \(UTC\)\s+REV\s+REASON\s+KEYS\s+SIZE\s+SOURCE$/);
  assert.equal(lines.length, 3);
  assert.ok(
    lines.some((l) => /^before-upgrade\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+2\s+manual\s+2\s+\d+ B\s+cli$/.test(l)),
    list.stdout,
  );
  const lj = sb.run(['snapshot', 'list', '--json']).json<{ dir: string; snapshots: InfoJson[]; problems: unknown[] }>();
  assert.deepEqual(lj.snapshots.map((s) => s.name).sort(), [j.name, 'before-upgrade'].sort());
  assert.deepEqual(lj.problems, []);
  const show = sb.run(['snapshot', 'show', 'before-upgrade']);
  assert.equal(show.status, 0, show.stderr);
  assert.match(show.stdout, /^Snapshot before-upgrade: revision 2, taken .* UTC by cli \(manual\)\n/);
  assert.match(
    show.stdout,
    /\nKEY\s+REV\s+SOURCE\s+VALUE\ndisplay\.units\s+1\s+cli\s+"metric"\nretries\s+2\s+cli\s+3\n$/,
  );
  const sj = sb
    .run(['snapshot', 'show', 'before-upgrade', '--json'])
    .json<{ format: string; entries: Record<string, { value: unknown }> }>();
  assert.equal(sj.format, 'psmc-snapshot');
  assert.equal(sj.entries['retries']?.value, 3);
});

test('snapshot diff: + - ~ lines against current or another snapshot; --json', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  sb.ok(['set', 'b', 'old']);
  sb.ok(['snapshot', 'create', 's1']);
  sb.ok(['set', 'a', '2']);
  sb.ok(['unset', 'b']);
  sb.ok(['set', 'c', 'true']);
  const r = sb.run(['snapshot', 'diff', 's1']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(
    r.stdout,
    'From s1 (revision 2) to the current store (revision 5):\n~ a: 1 → 2\n- b: "old"\n+ c: true\n',
  );
  sb.ok(['snapshot', 'create', 's2']);
  assert.equal(
    sb.run(['snapshot', 'diff', 's2', 's1']).stdout,
    'From s2 (revision 5) to s1 (revision 2):\n~ a: 2 → 1\n+ b: "old"\n- c: true\n',
  );
  assert.equal(
    sb.run(['snapshot', 'diff', 's2', 'current']).stdout,
    'No differences between s2 (revision 5) and the current store (revision 5).\n',
  );
  const j = sb.run(['snapshot', 'diff', 's1', '--json']).json<{ from: unknown; to: unknown; changes: unknown[] }>();
  assert.deepEqual(j, {
    from: { name: 's1', revision: 2 },
    to: { name: 'current', revision: 5 },
    changes: [
      { key: 'a', change: 'changed', before: 1, after: 2 },
      { key: 'b', change: 'removed', before: 'old' },
      { key: 'c', change: 'added', after: true },
    ],
  });
});

test('snapshot restore: needs --yes without a terminal; one revision; undo reverts it', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  sb.ok(['snapshot', 'create', 'good']);
  sb.ok(['set', 'a', '2']);
  sb.ok(['set', 'b', 'x']);
  const before = sb.exported();
  const refused = sb.run(['snapshot', 'restore', 'good']);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /stdin is not a terminal/);
  assert.match(refused.stderr, /hint: Add --yes/);
  assert.equal(sb.exported(), before, 'nothing changed');
  const r = sb.run(['snapshot', 'restore', 'good', '--yes']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(
    r.stdout,
    'Restored snapshot good as revision 4: 1 key set, 1 deleted. Undo with `psmc undo`.\nThe values from before were saved as snapshot auto-3-before-restore.\n',
  );
  assert.equal(sb.run(['get', 'a']).stdout, '1\n');
  const h = sb.run(['history', '--json']).json<{ revision: number; source: string }[]>();
  assert.deepEqual(
    h.filter((c) => c.revision === 4).map((c) => c.source),
    ['restore:good', 'restore:good'],
  );
  assert.equal(sb.run(['undo']).status, 0);
  assert.equal(sb.run(['get', 'a']).stdout, '2\n');
  assert.equal(sb.run(['get', 'b']).stdout, 'x\n');
  const names = readdirSync(join(sb.home, 'snapshots')).sort();
  assert.deepEqual(names, ['auto-3-before-restore.json', 'good.json']);
  const j = sb
    .run(['snapshot', 'restore', 'auto-3-before-restore', '-y', '--json'])
    .json<{ name: string; revision: number; changes: unknown[]; autoSnapshot: { name: string; rotated: string[] } }>();
  assert.equal(j.name, 'auto-3-before-restore');
  assert.equal(j.revision, 5, 'a restore that changes nothing adds no revision');
  assert.equal(j.changes.length, 0, 'the undo already brought those values back');
  assert.equal(j.autoSnapshot.name, 'auto-5-before-restore');
});

test('snapshot errors: unknown names suggest close ones, traversal is refused, usage errors', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  sb.ok(['snapshot', 'create', 'before-upgrade']);
  const before = sb.exported();
  const nf = sb.run(['snapshot', 'show', 'before-upgrad']);
  assert.equal(nf.status, 3);
  assert.match(nf.stderr, /There is no snapshot named "before-upgrad" .* Did you mean before-upgrade\?/);
  assert.match(nf.stderr, /hint: Snapshots with close names: before-upgrade/);
  const nfj = sb.run(['snapshot', 'restore', 'nope', '--yes', '--json']);
  assert.equal(nfj.status, 3);
  assert.equal(nfj.json<{ error: { code: string } }>().error.code, 'PSMC_NOT_FOUND');
  for (const bad of ['../x', '../../etc/passwd', 'a/b', '..', '.hidden', 'x.json', 'current']) {
    for (const action of ['create', 'show', 'restore', 'delete']) {
      const r = sb.run(['snapshot', action, bad, ...(action === 'restore' ? ['--yes'] : [])]);
      assert.equal(r.status, 2, `${action} ${bad}: ${r.stderr}`);
      assert.match(r.stderr, /cannot be a snapshot name/);
      assert.match(r.stderr, /hint: A snapshot name is 1–64/);
      assert.ok(!hasStack(r.stderr));
    }
  }
  assert.equal(sb.exported(), before);
  assert.deepEqual(readdirSync(join(sb.home, 'snapshots')), ['before-upgrade.json']);
  const dup = sb.run(['snapshot', 'create', 'Before-Upgrade']);
  assert.equal(dup.status, 2);
  assert.match(dup.stderr, /differs only in case/);
  const unknown = sb.run(['snapshot', 'lst']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /Unknown snapshot action "lst"\. Did you mean list\?/);
  assert.equal(sb.run(['snapshot', 'show']).status, 2);
  assert.equal(sb.run(['snapshot', 'list', 'extra']).status, 2);
  assert.equal(sb.run(['snapshot', 'create', 'x', '--yes']).status, 2);
  const help = sb.run(['help', 'snapshot']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: psmc snapshot create \[name\]/);
});

test('snapshot list reports unreadable files on stderr and still lists the others', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  sb.ok(['snapshot', 'create', 'fine']);
  const good = readFileSync(join(sb.home, 'snapshots', 'fine.json'), 'utf8');
  writeFileSync(join(sb.home, 'snapshots', 'evil.json'), good.replace('"name": "fine"', '"name": "../../etc/passwd"'));
  const r = sb.run(['snapshot', 'list']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: skipped .*evil\.json: .*not usable/);
  assert.match(r.stdout, /\nfine\s/);
  assert.doesNotMatch(r.stdout, /evil/);
  const restore = sb.run(['snapshot', 'restore', 'evil', '--yes']);
  assert.equal(restore.status, 5);
  assert.deepEqual(readdirSync(join(sb.home, 'snapshots')).sort(), ['evil.json', 'fine.json']);
});

test('snapshot delete, and list on an empty store creates nothing', (t) => {
  const sb = sandbox(t);
  const empty = sb.run(['snapshot', 'list']);
  assert.equal(empty.status, 0);
  assert.match(empty.stderr, /No snapshots in /);
  assert.deepEqual(sb.run(['snapshot', 'list', '--json']).json<{ snapshots: unknown[] }>().snapshots, []);
  sb.ok(['set', 'a', '1']);
  sb.ok(['snapshot', 'create', 'x']);
  assert.equal(sb.run(['snapshot', 'delete', 'x']).stdout, 'Deleted snapshot x\n');
  assert.equal(sb.run(['snapshot', 'delete', 'x']).status, 3);
});
