/**
 * What the browser tests share: Debian's Chromium through playwright-core, a real `psmc serve`
 * process on a fresh demo store per test, the real `psmc` CLI, and screenshots under
 * test-artifacts/screenshots/.
 *
 * Chromium is required, not optional: when /usr/bin/chromium (or $PSMC_CHROMIUM) is missing the
 * tests fail with a message saying how to install it (.ci/run installs it with apt).
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { PSMC_BIN, ROOT, seedDemoStore } from '../../scripts/demo-store.js';

export const CHROMIUM = process.env.PSMC_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(ROOT, 'test-artifacts', 'screenshots');
/** Generous: a shared 2-core machine. Never a timing assertion, only a bound on waiting. */
export const WAIT_MS = 15_000;

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is missing: ${CHROMIUM} does not exist. The browser tests need Debian's chromium: ` +
        'run `apt-get update && apt-get install -y chromium` (the CI script .ci/run installs it), ' +
        'or point PSMC_CHROMIUM at a Chromium binary.',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/**
 * A fresh temp directory holding the demo store (schema and sample values). `cleanup` runs at the
 * test's end, after the servers started with `serve(…, cleanup)` have stopped (they write there).
 */
export function demoStore(t: { after: (fn: () => Promise<void>) => void }): { store: string; cleanup: Cleanup } {
  const dir = mkdtempSync(join(tmpdir(), 'psmc-browser-'));
  const cleanup = new Cleanup();
  t.after(async () => {
    await cleanup.run();
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });
  seedDemoStore(dir);
  return { store: dir, cleanup };
}

/** Things to stop at the end of a test, last registered first. */
export class Cleanup {
  readonly #fns: (() => Promise<void> | void)[] = [];
  add(fn: () => Promise<void> | void): void {
    this.#fns.push(fn);
  }
  async run(): Promise<void> {
    for (const fn of this.#fns.reverse()) await fn();
  }
}

/** The value of `key` as the real CLI reads it (`psmc get --json`). */
export function cliGet(store: string, key: string): unknown {
  return (JSON.parse(cli(store, ['get', key, '--json'])) as { value: unknown }).value;
}

/** Runs the real psmc CLI (source `cli`) and returns stdout; throws on a non-zero exit. */
export function cli(store: string, args: readonly string[], input?: string): string {
  const env = { ...process.env };
  delete env.PSMC_SOURCE;
  const r = spawnSync(process.execPath, [PSMC_BIN, ...args, '--store', store], {
    encoding: 'utf8',
    env,
    ...(input === undefined ? {} : { input }),
  });
  if (r.status !== 0) throw new Error(`psmc ${args.join(' ')} exited ${String(r.status)}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

export interface Server {
  readonly url: string;
  readonly loginUrl: string;
  readonly port: number;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `psmc serve --port <port> --json` on `store` and waits for its ready line. */
export async function serve(
  store: string,
  cleanup: Cleanup,
  port = 0,
  env: Readonly<Record<string, string>> = {},
): Promise<Server> {
  const child = spawn(process.execPath, [PSMC_BIN, 'serve', '--store', store, '--port', String(port), '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let err = '';
  child.stderr?.on('data', (b: Buffer) => {
    err += b.toString('utf8');
  });
  const ready = await new Promise<{ url: string; loginUrl: string; port: number }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(
      () => reject(new Error(`psmc serve did not get ready within ${WAIT_MS} ms: ${err}`)),
      WAIT_MS,
    );
    lines.on('line', (line) => {
      try {
        const m = JSON.parse(line) as { event?: string; url: string; loginUrl: string; port: number };
        if (m.event === 'ready') {
          clearTimeout(timer);
          resolve(m);
        }
      } catch (e) {
        reject(new Error(`psmc serve printed a line that is not JSON: ${line} (${String(e)})`));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`psmc serve exited with ${String(code)} before it was ready: ${err}`));
    });
  });
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  cleanup.add(stop);
  return { ...ready, child, stop };
}

/** Saves what the viewport shows (or the whole page) as test-artifacts/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}

/** The row of a key in the settings page. */
export function row(page: Page, key: string) {
  return page.locator(`[data-testid="row"][data-key="${key}"]`);
}

/** Opens the login URL and waits until the settings list and the live feed are up. */
export async function openGui(page: Page, loginUrl: string): Promise<void> {
  await page.goto(loginUrl);
  await page.locator('[data-testid="connection"]', { hasText: 'Live' }).waitFor({ timeout: WAIT_MS });
  await page.locator('[data-testid="row"]').first().waitFor({ timeout: WAIT_MS });
}

/** Polls `check` until it holds (at most WAIT_MS); throws naming `what` otherwise. */
export async function until(what: string, check: () => Promise<boolean> | boolean, limit = WAIT_MS): Promise<void> {
  const end = Date.now() + limit;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`gave up after ${limit} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 40));
  }
}

/** Waits until the editor of `key` (input, textarea or select) shows `value`. */
export async function untilValue(page: Page, key: string, value: string, editor = 'input'): Promise<void> {
  const loc = row(page, key).locator(editor);
  let last = '';
  try {
    await until(`${key} to show ${JSON.stringify(value)}`, async () => {
      last = (await loc.count()) === 0 ? '(no row)' : await loc.inputValue();
      return last === value;
    });
  } catch (e) {
    throw new Error(`${String(e)}; it shows ${JSON.stringify(last)}`);
  }
}
