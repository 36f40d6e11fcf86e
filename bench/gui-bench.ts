/**
 * Web GUI benchmark: `node dist/bench/gui-bench.js` (after `npm run build`; part of `npm run bench`).
 * A script, not a test: it measures, prints a table with targets and PASS/MISS, and saves the
 * numbers to bench/results/gui-<date>.json and gui-latest.json.
 *
 * Real processes throughout: `psmc serve` on the demo store, Debian's Chromium via playwright-core,
 * the `psmc` CLI.
 *
 * - first load: a fresh browser context opens the login URL (303 → the page → its assets → the
 *   API calls it makes on start) until the live feed is up. Bytes transferred = response headers
 *   + bodies as Chromium counts them (compressed sizes when the server compresses). The event
 *   stream stays open, so only its headers count. Every request is recorded; one whose host is
 *   not this machine is a failure (and is aborted, so nothing actually leaves).
 * - CLI change → GUI row: `psmc set display.refresh_ms <n>` (a separate process) commits at time
 *   T (the commit's clock, from `--json`); a MutationObserver in the page records when the row
 *   renders the new value (the page's epoch clock; same machine, same wall clock). Latency = the
 *   difference. 30 changes, one at a time, each after the previous one was seen.
 *
 * Usage: node dist/bench/gui-bench.js [--changes N]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Request } from 'playwright-core';
import { Cleanup, launchChromium, serve } from '../test/browser/harness.js';
import { PSMC_BIN, seedDemoStore } from '../scripts/demo-store.js';
import { fmt, fmtInt, log, median, pass, percentile, row, rows, saveResults, tableLines } from './common.js';

const args = process.argv.slice(2);
const CHANGES = Number(args[args.indexOf('--changes') + 1] ?? 30) || 30;
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// Injected before the page's own scripts: records when each change event of the measured key
// reaches the page, to split the latency into "to the page" and "to the screen".
const SSE_HOOK = `(() => {
  window.__sse = {};
  const add = EventSource.prototype.addEventListener;
  EventSource.prototype.addEventListener = function (type, fn, opts) {
    if (type !== 'change') return add.call(this, type, fn, opts);
    return add.call(this, type, (ev) => {
      const t = performance.timeOrigin + performance.now();
      try {
        const d = JSON.parse(ev.data);
        if (d.key === 'display.refresh_ms' && !(String(d.value) in window.__sse)) window.__sse[String(d.value)] = t;
      } catch (e) {
        console.warn('bench hook', e);
      }
      return fn(ev);
    }, opts);
  };
})()`;

const OBSERVER = `(() => {
  window.__seen = {};
  const record = () => {
    const el = document.querySelector('[data-key="display.refresh_ms"] input');
    const v = el && el.value;
    if (v && !(v in window.__seen)) window.__seen[v] = performance.timeOrigin + performance.now();
  };
  new MutationObserver(record).observe(document.getElementById('app'), {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
  return true;
})()`;

async function main(): Promise<void> {
  const store = mkdtempSync(join(tmpdir(), 'psmc-bench-gui-'));
  const cleanup = new Cleanup();
  const browser = await launchChromium();
  try {
    seedDemoStore(store);
    const server = await serve(store, cleanup);

    // --- first load -------------------------------------------------------------------------
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const requests: Request[] = [];
    const external: string[] = [];
    await context.route('**/*', (route) => {
      const host = new URL(route.request().url()).host.replace(/:\d+$/, '');
      if (!LOCAL_HOSTS.has(host) && !route.request().url().startsWith('data:')) {
        external.push(route.request().url());
        return route.abort();
      }
      return route.continue();
    });
    await page.addInitScript(SSE_HOOK);
    page.on('request', (r) => requests.push(r));
    await page.goto(server.loginUrl);
    await page.locator('[data-testid="connection"]', { hasText: 'Live' }).waitFor({ timeout: 30_000 });
    await page.locator('[data-testid="row"]').first().waitFor();
    await sleep(300); // let late requests (none expected) show up
    let bytes = 0;
    const perRequest: { url: string; status: number; bytes: number }[] = [];
    for (const r of requests) {
      const res = await r.response();
      if (res === null) continue;
      const stream = (res.headers()['content-type'] ?? '').startsWith('text/event-stream');
      const sizes = stream ? undefined : await r.sizes();
      const b = sizes === undefined ? 0 : sizes.responseHeadersSize + sizes.responseBodySize;
      const counted = stream
        ? (await res.headersArray()).reduce((n, h) => n + h.name.length + h.value.length + 4, 0)
        : b;
      bytes += counted;
      perRequest.push({ url: r.url().replace(/token=[^&]+/, 'token=…'), status: res.status(), bytes: counted });
    }
    for (const p of perRequest) log(`${String(p.status).padEnd(4)} ${fmtInt(p.bytes).padStart(8)} B  ${p.url}`);
    const nonLocal = requests.filter((r) => {
      const u = new URL(r.url());
      return u.protocol !== 'data:' && !LOCAL_HOSTS.has(u.hostname === '::1' ? '[::1]' : u.hostname);
    });
    row(
      'GUI first load, bytes transferred',
      `${fmt(bytes / 1024)} KB in ${perRequest.length} requests`,
      '≤ 300 KB',
      pass(bytes <= 300 * 1024),
    );
    row(
      'requests leaving the machine',
      String(nonLocal.length + external.length),
      '0',
      pass(nonLocal.length + external.length === 0),
    );

    // --- CLI change → GUI row ---------------------------------------------------------------
    await page.evaluate(OBSERVER);
    const latencies: number[] = [];
    const toPage: number[] = [];
    const toScreen: number[] = [];
    let missed = 0;
    for (let i = 0; i < CHANGES + 3; i++) {
      const value = 2000 + i;
      const r = spawnSync(
        process.execPath,
        [PSMC_BIN, 'set', 'display.refresh_ms', String(value), '--store', store, '--json'],
        {
          encoding: 'utf8',
        },
      );
      if (r.status !== 0) throw new Error(`psmc set failed: ${r.stderr}`);
      const at = (JSON.parse(r.stdout) as { at: string }).at;
      const committed = Date.parse(at.slice(0, 24));
      let seen: number | undefined;
      const end = Date.now() + 5000;
      while (seen === undefined && Date.now() < end) {
        seen = (await page.evaluate(`window.__seen[${JSON.stringify(String(value))}]`)) as number | undefined;
        if (seen === undefined) await sleep(10);
      }
      if (seen === undefined) missed++;
      else if (i >= 3) {
        // The first 3 warm up.
        latencies.push(seen - committed);
        const arrived = (await page.evaluate(`window.__sse[${JSON.stringify(String(value))}]`)) as number | undefined;
        if (arrived !== undefined) {
          toPage.push(arrived - committed);
          toScreen.push(seen - arrived);
        }
      }
      await sleep(100);
    }
    const p50 = median(latencies);
    const max = Math.max(...latencies);
    row(
      `CLI change → GUI row updated, p50 (${latencies.length} changes)`,
      `${fmt(p50)} ms`,
      '≤ 200 ms',
      pass(p50 <= 200),
    );
    row('CLI change → GUI row updated, p95', `${fmt(percentile(latencies, 95))} ms`);
    row('CLI change → GUI row updated, max', `${fmt(max)} ms`, '≤ 1,000 ms', pass(max <= 1000));
    row('changes never shown (5 s limit)', String(missed), '0', pass(missed === 0));
    if (toPage.length > 0) {
      row('  of which commit → change event in the page, p50', `${fmt(median(toPage))} ms`);
      row('  of which change event → row rendered, p50', `${fmt(median(toScreen))} ms`);
    }

    for (const line of tableLines(rows)) console.log(line);
    const file = saveResults(
      'gui',
      {
        machine: { cpus: cpus().length, loadavg: loadavg() },
        firstLoad: { bytes, requests: perRequest, external: [...external, ...nonLocal.map((r) => r.url())] },
        latencyMs: { samples: latencies, p50, p95: percentile(latencies, 95), max, missed, toPage, toScreen },
        rows,
      },
      'gui-latest.json',
    );
    console.log(`saved ${file}`);
    await context.close();
  } finally {
    await browser.close();
    await cleanup.run();
    rmSync(store, { recursive: true, force: true, maxRetries: 5 });
  }
}

await main();
