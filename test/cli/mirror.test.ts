// psmc mirror: show the mirror format, switch it (json, toml, yaml, off), never lose a file.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { hasStack, sandbox } from './harness.js';

interface MirrorJson {
  format: string;
  file: string | null;
  exists?: boolean;
  changed?: boolean;
  previous?: { format: string; file: string | null };
}

test('psmc mirror shows the format; on a store that does not exist yet it says json and creates nothing', (t) => {
  const sb = sandbox(t);
  const r = sb.run(['mirror']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^json \(the default; the store does not exist yet/);
  assert.equal(existsSync(sb.home), false, 'showing the format never creates the store');
  sb.ok(['set', 'a', '1']);
  assert.equal(sb.ok(['mirror']), `json ${join(sb.home, 'config.json')}\n`);
  assert.deepEqual(sb.run(['mirror', '--json']).json<MirrorJson>(), {
    format: 'json',
    file: join(sb.home, 'config.json'),
    exists: true,
  });
});

test('switching to toml writes config.toml from the database, leaves config.json as it was, and later writes follow', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'display.units', 'metric']);
  sb.ok(['set', 'net.port', '80']);
  const json = join(sb.home, 'config.json');
  // A pending hand edit of the old file is merged before the switch.
  const edited = readFileSync(json, 'utf8').replace('"metric"', '"imperial"').replace('{', '{\n  // my note');
  writeFileSync(json, edited);
  const r = sb.run(['mirror', 'toml']);
  assert.equal(r.status, 0, r.stderr);
  const toml = join(sb.home, 'config.toml');
  assert.equal(r.stdout, `The mirror is now ${toml}.\n`);
  assert.match(r.stderr, /The old file .+config\.json was left in place, no longer kept in step/);
  assert.equal(readFileSync(json, 'utf8'), edited, 'the old file is left exactly as it was');
  const text = readFileSync(toml, 'utf8');
  assert.match(text, /^# psmc mirror v1/);
  assert.match(text, /^"display\.units" = "imperial"$/m);
  assert.match(text, /^"net\.port" = 80$/m);
  assert.equal(sb.ok(['get', 'display.units']), 'imperial\n');
  // Writes now go to config.toml; a hand edit of config.toml is imported.
  sb.ok(['set', 'net.port', '81']);
  assert.match(readFileSync(toml, 'utf8'), /^"net\.port" = 81$/m);
  assert.equal(readFileSync(json, 'utf8'), edited);
  writeFileSync(toml, readFileSync(toml, 'utf8').replace('= 81', '= 82'));
  assert.equal(sb.ok(['get', 'net.port']), '82\n');
  const h = sb.run(['history', 'net.port', '--json']).json<{ source: string }[]>();
  assert.equal(h[0]?.source, 'file');
  assert.equal(sb.ok(['mirror']), `toml ${toml}\n`);
});

test('switching to the format in use changes nothing: the file keeps its comments, byte for byte', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  const json = join(sb.home, 'config.json');
  writeFileSync(json, readFileSync(json, 'utf8').replace('{', '{\n  // keep me'));
  sb.ok(['get', 'a']); // the edit is merged (nothing changes: it only added a comment)
  const before = readFileSync(json, 'utf8');
  const r = sb.run(['mirror', 'json', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.json<MirrorJson>(), {
    format: 'json',
    file: json,
    changed: false,
    previous: { format: 'json', file: json },
  });
  assert.equal(readFileSync(json, 'utf8'), before);
  assert.deepEqual(
    readdirSync(sb.home).filter((f) => f.includes('.old-')),
    [],
  );
  assert.match(sb.ok(['mirror', 'json']), /^The mirror is already json/);
});

test('switching back to a format whose stale file is still there keeps that file aside, never overwrites it', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  sb.ok(['mirror', 'yaml']);
  sb.ok(['set', 'b', '2']);
  const json = join(sb.home, 'config.json');
  const stale = readFileSync(json, 'utf8');
  assert.doesNotMatch(stale, /"b"/, 'config.json stopped following at the switch');
  const r = sb.run(['mirror', 'json', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = r.json<MirrorJson>();
  assert.deepEqual(out.previous, { format: 'yaml', file: join(sb.home, 'config.yaml') });
  assert.equal(out.changed, true);
  const aside = readdirSync(sb.home).filter((f) => f.startsWith('config.json.old-'));
  assert.equal(aside.length, 1, readdirSync(sb.home).join(', '));
  assert.equal(readFileSync(join(sb.home, aside[0] ?? ''), 'utf8'), stale, 'the stale file is kept, unchanged');
  assert.match(readFileSync(json, 'utf8'), /"b": 2/);
});

test('psmc mirror off stops exporting and importing; psmc mirror says so', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  const json = join(sb.home, 'config.json');
  const r = sb.run(['mirror', 'off']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'The mirror is off: no file is kept in step any more.\n');
  const before = readFileSync(json, 'utf8');
  sb.ok(['set', 'a', '2']);
  assert.equal(readFileSync(json, 'utf8'), before, 'nothing exports');
  writeFileSync(json, before.replace('"a": 1', '"a": 5'));
  assert.equal(sb.ok(['get', 'a']), '2\n', 'nothing imports');
  assert.equal(sb.ok(['mirror']), 'off (this store keeps no plaintext mirror file)\n');
  assert.deepEqual(sb.run(['mirror', '--json']).json<MirrorJson>().format, 'off');
  sb.ok(['mirror', 'json']);
  assert.match(readFileSync(json, 'utf8'), /"a": 2/, 'turned back on, the file is written from the database');
});

test('an unknown format is a usage error (exit 2) with a hint, and the store is unchanged', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  const before = sb.exported();
  const files = readdirSync(sb.home).sort();
  for (const bad of ['xml', 'JSON', 'yml', '']) {
    const r = sb.run(['mirror', bad]);
    assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
    assert.match(r.stderr, /unknown mirror format/);
    assert.match(r.stderr, /json \(config\.json\), toml \(config\.toml\), yaml \(config\.yaml\), or off/);
    assert.equal(hasStack(r.stderr), false);
  }
  const j = sb.run(['mirror', 'xml', '--json']);
  assert.equal(j.status, 2);
  assert.equal(j.json<{ error: { code: string } }>().error.code, 'PSMC_USAGE');
  assert.equal(sb.run(['mirror', 'json', 'toml']).status, 2, 'one format at most');
  assert.equal(sb.exported(), before);
  assert.deepEqual(readdirSync(sb.home).sort(), files);
});
