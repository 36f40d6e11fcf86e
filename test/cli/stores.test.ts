// 4. Which store: env layer, project discovery, --app, --project, file modes, reads that create nothing.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { sandbox } from './harness.js';

test('4.1 an environment variable PSMC_X__Y outranks the stores in get, list and explain', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'display.units', 'metric']);
  const env = { PSMC_DISPLAY__UNITS: 'imperial', PSMC_SENSOR__MAX: '12.5' };
  assert.equal(sb.run(['get', 'display.units'], { env }).stdout, 'imperial\n');
  const j = sb
    .run(['get', 'display.units', '--json'], { env })
    .json<{ layer: string; source: string; value: unknown }>();
  assert.deepEqual([j.layer, j.source, j.value], ['env', 'env:PSMC_DISPLAY__UNITS', 'imperial']);
  assert.equal(sb.run(['get', 'sensor.max', '--json'], { env }).json<{ value: unknown }>().value, 12.5);
  const e = sb.run(['explain', 'display.units'], { env });
  assert.equal(e.status, 0, e.stderr);
  assert.match(e.stdout, /\*\s+env\s+"imperial"\s+PSMC_DISPLAY__UNITS/);
  assert.match(e.stdout, /^\s+user\s+"metric"/m);
  assert.match(e.stdout, /environment variable \(PSMC_DISPLAY__UNITS\)/);
  const list = sb.run(['list', '--json'], { env }).json<{ key: string; layer: string }[]>();
  assert.deepEqual(
    list.map((r) => [r.key, r.layer]),
    [['display.units', 'env']],
  );
  // A write under an env override succeeds but says that reads still see the env value.
  const s = sb.run(['set', 'display.units', 'kelvin'], { env });
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stderr, /note: PSMC_DISPLAY__UNITS is set, so reads of display\.units still give "imperial"/);
  // PSMC_SOURCE, PSMC_HOME … configure psmc and are never keys.
  assert.equal(sb.run(['get', 'source'], { env: { PSMC_SOURCE: 'x' } }).status, 3);
});

test('4.2 init creates .psmc/ (0700); commands in a subdirectory find it by walking up', (t) => {
  const sb = sandbox(t);
  const project = join(sb.dir, 'plant');
  mkdirSync(join(project, 'data', 'deep'), { recursive: true });
  sb.ok(['set', 'user.only', '1']);
  let r = sb.run(['init'], { cwd: project });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `Initialized empty psmc project store in ${join(project, '.psmc')}\n`);
  if (process.platform !== 'win32') assert.equal(statSync(join(project, '.psmc')).mode & 0o777, 0o700);
  r = sb.run(['init', '--json'], { cwd: project });
  assert.deepEqual(r.json(), { path: join(project, '.psmc'), created: false });
  const deep = join(project, 'data', 'deep');
  r = sb.run(['set', 'sensor.rate', '10'], { cwd: deep });
  assert.equal(r.status, 0, r.stderr);
  const got = sb.run(['get', 'sensor.rate', '--json'], { cwd: deep }).json<{ layer: string; value: unknown }>();
  assert.deepEqual([got.layer, got.value], ['project', 10]);
  assert.ok(existsSync(join(project, '.psmc', 'psmc.db')));
  // The user store still shows through for keys the project does not hold.
  assert.equal(sb.run(['get', 'user.only', '--json'], { cwd: deep }).json<{ layer: string }>().layer, 'user');
  // Outside the project the key is not visible.
  assert.equal(sb.run(['get', 'sensor.rate']).status, 3);
  // --project names the project from anywhere.
  assert.equal(sb.run(['get', 'sensor.rate', '--project', project]).stdout, '10\n');
  // init [dir] from elsewhere.
  const other = join(sb.dir, 'other');
  mkdirSync(other);
  assert.equal(sb.run(['init', other]).status, 0);
  assert.ok(existsSync(join(other, '.psmc')));
});

test('4.3 --project naming a directory without .psmc/ is PSMC_STORE_NOT_FOUND (exit 3)', (t) => {
  const sb = sandbox(t);
  const r = sb.run(['get', 'a', '--project', sb.dir]);
  assert.equal(r.status, 3);
  assert.match(r.stderr, /^psmc: There is no project store at .*\.psmc\./);
  assert.match(r.stderr, /hint: .*psmc init/);
  assert.equal(existsSync(join(sb.dir, '.psmc')), false);
});

test('4.4 --app picks $XDG_CONFIG_HOME/<app> and the <APP>_ env prefix', (t) => {
  const sb = sandbox(t);
  const r = sb.run(['--app', 'plantctl', 'set', 'display.units', 'metric']);
  assert.equal(r.status, 0, r.stderr);
  if (process.platform === 'linux') assert.ok(existsSync(join(sb.config, 'plantctl', 'psmc.db')));
  assert.equal(sb.run(['get', 'display.units', '--app', 'plantctl']).stdout, 'metric\n');
  assert.equal(sb.run(['get', 'display.units']).status, 3, 'the default app psmc is another store');
  assert.equal(
    sb.run(['get', 'display.units', '--app', 'plantctl'], { env: { PLANTCTL_DISPLAY__UNITS: 'imperial' } }).stdout,
    'imperial\n',
  );
  const bad = sb.run(['get', 'a', '--app', '../escape']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^psmc: app must be /);
});

test('4.5 a new store directory is 0700 and its database 0600', { skip: process.platform === 'win32' }, (t) => {
  const sb = sandbox(t);
  const store = join(sb.dir, 'fresh', 'store');
  assert.equal(sb.run(['set', 'a', '1', '--store', store]).status, 0);
  assert.equal(statSync(store).mode & 0o777, 0o700);
  for (const f of readdirSync(store)) assert.equal(statSync(join(store, f)).mode & 0o777, 0o600, f);
  assert.equal(statSync(join(store, 'psmc.db')).mode & 0o777, 0o600);
  assert.equal(sb.run(['set', 'b', '1']).status, 0);
  assert.equal(statSync(sb.home).mode & 0o777, 0o700);
});

test('4.6 reads on a store that does not exist create nothing', (t) => {
  const sb = sandbox(t);
  const store = join(sb.dir, 'nothing-here');
  for (const args of [
    ['get', 'a'],
    ['list'],
    ['explain', 'a'],
    ['history'],
    ['export'],
    ['revision'],
    ['schema', 'get'],
  ]) {
    const r = sb.run([...args, '--store', store]);
    assert.ok(r.status === 0 || r.status === 3, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(existsSync(store), false, `${args.join(' ')} created the store`);
    sb.run(args);
    assert.equal(existsSync(sb.home), false, `${args.join(' ')} created PSMC_HOME`);
  }
  assert.deepEqual(readdirSync(sb.dir).sort(), ['config']);
  assert.deepEqual(readdirSync(sb.config), []);
});

test('4.7 --store and --project together are refused', (t) => {
  const sb = sandbox(t);
  const r = sb.run(['get', 'a', '--store', sb.dir, '--project', sb.dir]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--store and --project cannot be used together/);
});
