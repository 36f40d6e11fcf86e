/**
 * The web GUI end to end: a real `psmc serve`, Debian's Chromium (playwright-core), the real
 * `psmc` CLI and real hand edits of the mirror file. Every state is saved as a screenshot under
 * test-artifacts/screenshots/. Waits are bounded (WAIT_MS) but nothing asserts on time.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  cli,
  cliGet,
  demoStore,
  launchChromium,
  openGui,
  row,
  screenshot,
  serve,
  until,
  untilValue,
  WAIT_MS,
} from './harness.js';

let browser: Browser;

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

/** A page whose console errors (CSP violations included) fail the test at its end. */
async function newPage(
  t: { after: (fn: () => Promise<void> | void) => void },
  viewport = { width: 1200, height: 900 },
): Promise<Page> {
  const context = await browser.newContext({ viewport, colorScheme: 'light' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource|ERR_CONNECTION_REFUSED|EventSource/.test(m.text()))
      errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  t.after(async () => {
    await context.close();
    assert.deepEqual(errors, [], 'the page logged errors');
  });
  return page;
}

function json(text: string): unknown {
  return JSON.parse(text) as unknown;
}

test('the page loads with its token, drops the token from the URL, and shows every setting', async (t) => {
  const { store, cleanup } = demoStore(t);
  const server = await serve(store, cleanup, 0, { PSMC_DISPLAY__UNITS: 'imperial' });
  const page = await newPage(t, { width: 1200, height: 1500 });
  await openGui(page, server.loginUrl);
  assert.ok(!page.url().includes('token='), `the token stays out of the address bar: ${page.url()}`);
  for (const key of [
    'plant.name',
    'plant.sensors',
    'display.units',
    'display.refresh_ms',
    'alarms.enabled',
    'alarms.email',
  ])
    await row(page, key).waitFor();
  assert.equal(await row(page, 'display.units').locator('select').inputValue(), '0');
  assert.equal(await row(page, 'plant.name').locator('input').inputValue(), 'North Works');
  assert.match(await row(page, 'plant.name').locator('[data-testid="layer-badge"]').innerText(), /user/i);
  // The server's environment overrides display.units: the badge and the note say so.
  assert.match(await row(page, 'display.units').locator('[data-testid="layer-badge"]').innerText(), /env/i);
  assert.match(await row(page, 'display.units').locator('[data-testid="env-note"]').innerText(), /PSMC_DISPLAY__UNITS/);
  assert.match(
    await page.locator('[data-testid="footer"]').innerText(),
    new RegExp(store.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
  );
  await screenshot(page, '01-settings');

  // Search narrows the list; keys are grouped by prefix.
  await page.keyboard.press('/');
  await page.keyboard.type('refresh');
  await page.locator('[data-testid="row"]').first().waitFor();
  assert.equal(await page.locator('[data-testid="row"]').count(), 1);
  await screenshot(page, '02-search');
  await page.keyboard.press('Escape');
  await row(page, 'plant.name').waitFor();

  // History of a key, and "Revert to this".
  cli(store, ['set', 'plant.name', 'Middle Works']);
  await untilValue(page, 'plant.name', 'Middle Works');
  await row(page, 'plant.name').getByRole('button', { name: 'History' }).click();
  const history = row(page, 'plant.name').locator('[data-testid="history"]');
  await history.getByText('"Middle Works"').waitFor({ timeout: WAIT_MS });
  assert.match(await history.innerText(), /North Works/);
  await screenshot(page, '03-history');
  await history.getByRole('button', { name: 'Revert to this' }).first().click();
  await untilValue(page, 'plant.name', 'North Works');
  assert.equal(cliGet(store, 'plant.name'), 'North Works');
  assert.match(cli(store, ['history', 'plant.name']), /gui/);
});

test('an edit in the GUI is what the CLI reads; Escape puts the value back; bad input is refused inline', async (t) => {
  const { store, cleanup } = demoStore(t);
  const server = await serve(store, cleanup);
  const page = await newPage(t);
  await openGui(page, server.loginUrl);

  const name = row(page, 'plant.name').locator('input');
  await name.fill('South Works');
  await name.press('Enter');
  await row(page, 'plant.name').locator('[data-testid="save"]').waitFor({ state: 'detached', timeout: WAIT_MS });
  assert.equal(cliGet(store, 'plant.name'), 'South Works');
  const hist = cli(store, ['history', 'plant.name']);
  assert.match(hist, /gui/, 'the write is recorded with source gui');

  // Escape abandons a draft.
  await name.fill('Never Saved');
  await name.press('Escape');
  assert.equal(await name.inputValue(), 'South Works');
  assert.equal(cliGet(store, 'plant.name'), 'South Works');

  // Client-side schema check: below the minimum, with the store's own message; nothing is sent.
  const refresh = row(page, 'display.refresh_ms').locator('input');
  await refresh.fill('50');
  const problem = row(page, 'display.refresh_ms').locator('[data-testid="problem"]');
  await problem.waitFor();
  assert.match(await problem.innerText(), /minimum 100/);
  await refresh.press('Enter');
  await screenshot(page, '04-inline-error');
  assert.equal(cliGet(store, 'display.refresh_ms'), 1000);
  await refresh.press('Escape');

  // The JSON editor: an invalid sensor is refused inline, a valid one is saved with Ctrl+Enter.
  const sensors = row(page, 'plant.sensors').locator('textarea');
  await sensors.fill('[{"id":"T 1","max":80}]');
  await row(page, 'plant.sensors').locator('[data-testid="problem"]').waitFor();
  assert.match(await row(page, 'plant.sensors').locator('[data-testid="problem"]').innerText(), /\/0\/id/);
  await sensors.fill('[{"id":"t9","label":"New","max":42}]');
  await sensors.press('Control+Enter');
  await row(page, 'plant.sensors').locator('[data-testid="save"]').waitFor({ state: 'detached', timeout: WAIT_MS });
  assert.deepEqual(cliGet(store, 'plant.sensors'), [{ id: 't9', label: 'New', max: 42 }]);

  // The server's refusal is shown inline too: request bodies may not hold a member named
  // "constructor" (a guard the page itself does not apply), so the PUT gets a 400 with a hint.
  cli(store, ['set', 'misc.blob', '{"a":1}']);
  const blob = row(page, 'misc.blob').locator('textarea');
  await blob.waitFor({ timeout: WAIT_MS });
  await blob.fill('{"constructor": 1}');
  await blob.press('Control+Enter');
  const refused = row(page, 'misc.blob').locator('[data-testid="problem"]');
  await refused.waitFor({ timeout: WAIT_MS });
  assert.match(await refused.innerText(), /constructor/);
  await screenshot(page, '04b-server-error');
  assert.deepEqual(cliGet(store, 'misc.blob'), { a: 1 });
  await blob.press('Escape');

  // Enum and bool editors save on change.
  await row(page, 'display.units').locator('select').selectOption({ label: 'imperial' });
  await row(page, 'alarms.enabled').getByRole('switch').click();
  await until(
    'the switch to show off',
    async () => (await row(page, 'alarms.enabled').getByRole('switch').getAttribute('aria-checked')) === 'false',
  );
  for (let i = 0; i < 50 && cliGet(store, 'alarms.enabled') !== false; i++) await page.waitForTimeout(100);
  assert.equal(cliGet(store, 'display.units'), 'imperial');
  assert.equal(cliGet(store, 'alarms.enabled'), false);
});

test('a value set with the CLI shows up in the GUI without a reload', async (t) => {
  const { store, cleanup } = demoStore(t);
  const server = await serve(store, cleanup);
  const page = await newPage(t);
  await openGui(page, server.loginUrl);
  await page.evaluate('window.marker = 42');
  cli(store, ['set', 'display.refresh_ms', '2500']);
  await untilValue(page, 'display.refresh_ms', '2500');
  assert.match(await row(page, 'display.refresh_ms').locator('[data-testid="meta"]').innerText(), /CLI/);
  await screenshot(page, '05-live-update');
  cli(store, ['set', 'new.key', 'hello']);
  await row(page, 'new.key').waitFor({ timeout: WAIT_MS });
  cli(store, ['unset', 'new.key']);
  await row(page, 'new.key').waitFor({ state: 'detached', timeout: WAIT_MS });
  assert.equal(await page.evaluate('window.marker'), 42, 'no reload');
});

test('a hand edit of the mirror file shows up in the GUI', async (t) => {
  const { store, cleanup } = demoStore(t);
  const server = await serve(store, cleanup);
  const page = await newPage(t);
  await openGui(page, server.loginUrl);
  const mirror = join(store, 'config.json');
  const text = readFileSync(mirror, 'utf8');
  assert.ok(text.includes('"North Works"'), text);
  writeFileSync(mirror, text.replace('"North Works"', '"Hand Edited Works"'));
  await untilValue(page, 'plant.name', 'Hand Edited Works');
  assert.match(await row(page, 'plant.name').locator('[data-testid="meta"]').innerText(), /hand edit/);
  await screenshot(page, '06-hand-edit');
});

test('a stale edit gets the conflict prompt: keep theirs, or overwrite with mine; nothing is lost', async (t) => {
  const { store, cleanup } = demoStore(t);
  const server = await serve(store, cleanup);
  const page = await newPage(t);
  await openGui(page, server.loginUrl);
  const r = row(page, 'plant.name');
  const input = r.locator('input');

  // 1: keep theirs.
  await input.fill('Mine One');
  cli(store, ['set', 'plant.name', 'Theirs One']);
  await r.getByText('while you were editing').waitFor({ timeout: WAIT_MS });
  assert.equal(await input.inputValue(), 'Mine One', 'the draft is not clobbered by the live update');
  await input.press('Enter');
  const dialog = page.locator('[data-testid="conflict"]');
  await dialog.waitFor({ timeout: WAIT_MS });
  assert.match(await dialog.locator('[data-testid="conflict-theirs"]').innerText(), /Theirs One/);
  assert.match(await dialog.locator('[data-testid="conflict-yours"]').innerText(), /Mine One/);
  await screenshot(page, '07-conflict');
  await dialog.getByRole('button', { name: 'Keep theirs' }).click();
  await dialog.waitFor({ state: 'detached' });
  await untilValue(page, 'plant.name', 'Theirs One');
  assert.equal(cliGet(store, 'plant.name'), 'Theirs One');

  // 2: overwrite with mine.
  await input.fill('Mine Two');
  cli(store, ['set', 'plant.name', 'Theirs Two']);
  await r.getByText('while you were editing').waitFor({ timeout: WAIT_MS });
  await input.press('Enter');
  await dialog.waitFor({ timeout: WAIT_MS });
  await dialog.getByRole('button', { name: 'Overwrite with mine' }).click();
  await dialog.waitFor({ state: 'detached' });
  for (let i = 0; i < 50 && cliGet(store, 'plant.name') !== 'Mine Two'; i++) await page.waitForTimeout(100);
  assert.equal(cliGet(store, 'plant.name'), 'Mine Two');
  const hist = cli(store, ['history', 'plant.name']);
  assert.match(hist, /Theirs Two/, 'the overwritten value stays in history');
});

test('restoring a snapshot changes the values, and the restore can be undone', async (t) => {
  const { store, cleanup } = demoStore(t);
  cli(store, ['snapshot', 'create', 'baseline']);
  cli(store, ['set', 'display.units', 'imperial']);
  cli(store, ['set', 'plant.name', 'Changed Works']);
  const server = await serve(store, cleanup);
  const page = await newPage(t);
  await openGui(page, server.loginUrl);
  await page.getByRole('link', { name: 'Snapshots' }).click();
  const snap = page.locator('[data-testid="snapshot"][data-name="baseline"]');
  await snap.waitFor({ timeout: WAIT_MS });
  await snap.getByRole('button', { name: 'Diff with current' }).click();
  await snap.locator('[data-testid="diff"]').waitFor({ timeout: WAIT_MS });
  const diff = await snap.locator('[data-testid="diff"]').innerText();
  assert.match(diff, /display\.units/);
  assert.match(diff, /plant\.name/);
  await screenshot(page, '08-snapshots-diff');

  await snap.getByRole('button', { name: 'Restore…' }).click();
  const confirm = page.locator('[data-testid="restore-confirm"]');
  await confirm.getByText('2 keys change').waitFor({ timeout: WAIT_MS });
  await screenshot(page, '09-restore-confirm');
  await confirm.getByRole('button', { name: 'Restore', exact: true }).click();
  await page.locator('[data-testid="restore-done"]').waitFor({ timeout: WAIT_MS });
  assert.equal(cliGet(store, 'display.units'), 'metric');
  assert.equal(cliGet(store, 'plant.name'), 'North Works');
  await screenshot(page, '10-restored');

  await page.getByRole('link', { name: 'Settings' }).click();
  await untilValue(page, 'plant.name', 'North Works');

  await page.getByRole('link', { name: 'Snapshots' }).click();
  await page.getByRole('button', { name: 'Undo restore' }).click();
  await page.locator('[data-testid="restore-done"]', { hasText: 'Undid' }).waitFor({ timeout: WAIT_MS });
  assert.equal(cliGet(store, 'display.units'), 'imperial');
  assert.equal(cliGet(store, 'plant.name'), 'Changed Works');
});

test('an invalid hand edit of the mirror shows a banner with where and what, until it is fixed', async (t) => {
  const { store, cleanup } = demoStore(t);
  const server = await serve(store, cleanup);
  const page = await newPage(t);
  await openGui(page, server.loginUrl);
  const mirror = join(store, 'config.json');
  const good = readFileSync(mirror, 'utf8');
  const bad = good.replace('"North Works",', '"North Works",,');
  assert.notEqual(bad, good, `the mirror file holds plant.name as expected:\n${good}`);
  writeFileSync(mirror, bad);
  const wroteAt = new Date().toISOString();
  const banner = page.locator('[data-testid="mirror-banner"]');
  try {
    await banner.waitFor({ timeout: WAIT_MS });
  } catch (e) {
    const api = await page.evaluate(`fetch('/api/v1/status').then((r) => r.text())`);
    throw new Error(
      `no banner: ${String(e)}\nwrote the invalid edit at ${wroteAt}\nthe file now:\n${readFileSync(mirror, 'utf8')}\n` +
        `API status: ${String(api)}\npsmc status: ${cli(store, ['status', '--json'])}`,
    );
  }
  const text = await banner.innerText();
  assert.match(text, /config\.json/);
  assert.match(text, /line \d+/);
  assert.match(text, /How to fix/);
  await screenshot(page, '11-mirror-banner');
  assert.equal(cliGet(store, 'plant.name'), 'North Works', 'the store keeps its value');
  writeFileSync(mirror, good.replace('"North Works"', '"Fixed Works"'));
  await banner.waitFor({ state: 'detached', timeout: WAIT_MS });
  await untilValue(page, 'plant.name', 'Fixed Works');
});

test('a read-only token sees everything and can edit nothing', async (t) => {
  const { store, cleanup } = demoStore(t);
  const token = (
    json(cli(store, ['token', 'create', '--read-only', '--name', 'viewer', '--json'])) as { token: string }
  ).token;
  const server = await serve(store, cleanup);
  const page = await newPage(t);
  await openGui(page, `${server.url}?token=${token}`);
  await page.locator('[data-testid="read-only"]').waitFor();
  assert.ok(await row(page, 'plant.name').locator('input').isDisabled());
  assert.ok(await row(page, 'display.units').locator('select').isDisabled());
  assert.ok(await row(page, 'alarms.enabled').getByRole('switch').isDisabled());
  assert.ok(await row(page, 'plant.sensors').locator('textarea').isDisabled());
  await screenshot(page, '12-read-only');
  // The server enforces it too, whatever the page does.
  const status = await page.evaluate(`fetch('/api/v1/keys/plant.name', {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', 'X-Psmc-Request': '1' },
      body: JSON.stringify({ value: 'x' }),
    }).then((r) => r.status)`);
  assert.equal(status, 403);
  await page.getByRole('link', { name: 'Snapshots' }).click();
  await page.locator('[data-testid="snapshots-page"]').waitFor();
  assert.ok(await page.getByRole('button', { name: 'Create snapshot' }).isDisabled());
  assert.equal(cliGet(store, 'plant.name'), 'North Works');
});

test('the keyboard alone: Tab order through a setting, Space toggles a switch, Enter saves, Escape cancels', async (t) => {
  const { store, cleanup } = demoStore(t);
  const server = await serve(store, cleanup);
  const page = await newPage(t);
  await openGui(page, server.loginUrl);
  const active = async (): Promise<string> =>
    String(await page.evaluate('(document.activeElement?.id || document.activeElement?.textContent || "").trim()'));
  await row(page, 'alarms.email').locator('input').focus();
  await page.keyboard.press('Tab');
  assert.equal(await active(), 'History');
  await page.keyboard.press('Tab');
  assert.equal(await active(), 'Reset');
  await page.keyboard.press('Tab');
  assert.equal(await active(), 'k-alarms_enabled', "the next setting's editor comes next");
  await page.keyboard.press('Space');
  await until(
    'the switch to turn off',
    async () => (await row(page, 'alarms.enabled').getByRole('switch').getAttribute('aria-checked')) === 'false',
  );
  await until('the CLI to read false', () => cliGet(store, 'alarms.enabled') === false);
  assert.equal(await active(), 'k-alarms_enabled', 'focus stays on the switch after it saved');
  await screenshot(page, '13-keyboard-focus');
  // A number field: type, Enter saves; type again, Escape cancels.
  await row(page, 'display.refresh_ms').locator('input').focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('750');
  await page.keyboard.press('Enter');
  await until('the CLI to read 750', () => cliGet(store, 'display.refresh_ms') === 750);
  await page.keyboard.press('Control+A');
  await page.keyboard.type('900');
  await page.keyboard.press('Escape');
  await untilValue(page, 'display.refresh_ms', '750');
  assert.equal(cliGet(store, 'display.refresh_ms'), 750);
});

test('on a narrow (390 px) screen everything fits without sideways scrolling', async (t) => {
  const { store, cleanup } = demoStore(t);
  cli(store, ['snapshot', 'create', 'baseline']);
  const server = await serve(store, cleanup);
  const page = await newPage(t, { width: 390, height: 844 });
  await openGui(page, server.loginUrl);
  const width = Number(await page.evaluate('document.documentElement.scrollWidth'));
  assert.ok(width <= 390, `the settings page is ${width} px wide`);
  await screenshot(page, '14-narrow-settings');
  await page.getByRole('link', { name: 'Snapshots' }).click();
  await page.locator('[data-testid="snapshot"]').first().waitFor({ timeout: WAIT_MS });
  const width2 = Number(await page.evaluate('document.documentElement.scrollWidth'));
  assert.ok(width2 <= 390, `the snapshots page is ${width2} px wide`);
  await screenshot(page, '15-narrow-snapshots');
});

test('dark mode follows the system setting', async (t) => {
  const { store, cleanup } = demoStore(t);
  cli(store, ['set', 'display.units', 'imperial'], undefined);
  const server = await serve(store, cleanup);
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, colorScheme: 'dark' });
  t.after(() => context.close());
  const page = await context.newPage();
  await openGui(page, server.loginUrl);
  const bg = await page.evaluate('getComputedStyle(document.body).backgroundColor');
  assert.notEqual(bg, 'rgb(255, 255, 255)');
  await screenshot(page, '16-dark');
});

test('after the server restarts, the page reconnects and catches up on what changed meanwhile', async (t) => {
  const { store, cleanup } = demoStore(t);
  let server = await serve(store, cleanup);
  const page = await newPage(t);
  await openGui(page, server.loginUrl);
  const port = server.port;
  await server.stop();
  await page.locator('[data-testid="connection"]', { hasText: 'Reconnecting' }).waitFor({ timeout: WAIT_MS });
  cli(store, ['set', 'plant.name', 'Changed While Down']);
  await page.locator('[data-testid="offline-banner"]').waitFor({ timeout: WAIT_MS });
  await screenshot(page, '17-reconnecting');
  server = await serve(store, cleanup, port);
  await page.locator('[data-testid="offline-banner"]').waitFor({ state: 'detached', timeout: WAIT_MS * 2 });
  await page.locator('[data-testid="connection"]', { hasText: 'Live' }).waitFor({ timeout: WAIT_MS * 2 });
  await untilValue(page, 'plant.name', 'Changed While Down');
});

test('a snapshot created or deleted with the CLI appears in and leaves the list without a reload', async (t) => {
  const { store, cleanup } = demoStore(t);
  cli(store, ['snapshot', 'create', 'baseline']);
  const server = await serve(store, cleanup);
  const page = await newPage(t);
  await openGui(page, server.loginUrl);
  await page.getByRole('link', { name: 'Snapshots' }).click();
  await page.locator('[data-testid="snapshot"][data-name="baseline"]').waitFor({ timeout: WAIT_MS });
  await page.evaluate('window.marker = 7');
  const revision = cli(store, ['revision']).trim();
  // A snapshot is a file, not a commit: the store revision does not move, only the snapshots event tells the page.
  cli(store, ['snapshot', 'create', 'from-cli']);
  assert.equal(cli(store, ['revision']).trim(), revision);
  const made = page.locator('[data-testid="snapshot"][data-name="from-cli"]');
  await made.waitFor({ timeout: WAIT_MS });
  await screenshot(page, '18-snapshot-from-cli');
  cli(store, ['snapshot', 'delete', 'baseline']);
  await page.locator('[data-testid="snapshot"][data-name="baseline"]').waitFor({ state: 'detached', timeout: WAIT_MS });
  assert.equal(await made.count(), 1);
  assert.equal(await page.evaluate('window.marker'), 7, 'no reload');
});
