/**
 * What the bench scripts share: temp dirs, the clock, a seeded PRNG, statistics, number formatting and the
 * result table (rows with a target and a verdict, printed and saved as JSON under bench/results/).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url)); // dist/bench
/** The repository root (the bench runs from dist/bench). */
export const ROOT = resolve(HERE, '..', '..');
export const RESULTS_DIR = join(ROOT, 'bench', 'results');

const tempDirs: string[] = [];
export function tempDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `psmc-bench-${tag}-`));
  tempDirs.push(d);
  return d;
}
export function cleanup(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export const now = (): bigint => process.hrtime.bigint();
export const msSince = (t0: bigint): number => Number(now() - t0) / 1e6;

/** Deterministic PRNG (xorshift32) so every run reads the same key sequence. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

export function makeKeys(n: number): string[] {
  const keys = new Array<string>(n);
  for (let i = 0; i < n; i++) keys[i] = `group${i % 97}.item${i}`;
  return keys;
}

export function randomKeys(keys: readonly string[], n: number, seed: number): string[] {
  const r = rng(seed);
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = keys[Math.floor(r() * keys.length)] as string;
  return out;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
/** The nearest-rank percentile `p` (0–100) of an ascending sample; NaN when it is empty. */
function rank(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}
/** The nearest-rank percentile `p` (0–100) of a sample, e.g. `percentile(ms, 90)`; NaN when it is empty. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return rank(s, p);
}

/** A sample in five numbers: its size, the nearest-rank p50 and p90, its largest and smallest (NaN when empty). */
export interface Spread {
  n: number;
  p50: number;
  p90: number;
  max: number;
  min: number;
}
export function spread(xs: readonly number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: rank(s, 50), p90: rank(s, 90), max: s.at(-1) ?? NaN, min: s[0] ?? NaN };
}

export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
export const fmt = (n: number, d = 1): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

export type Verdict = 'PASS' | 'MISS' | 'info' | 'ERROR' | 'n/a';
export interface Row {
  measure: string;
  result: string;
  target: string;
  verdict: Verdict;
}
export const rows: Row[] = [];
export function row(measure: string, result: string, target = '', verdict: Verdict = 'info'): void {
  rows.push({ measure, result, target, verdict });
}
export const pass = (ok: boolean): Verdict => (ok ? 'PASS' : 'MISS');

export function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

// ---------------------------------------------------------------------------
// get()

/** Saves `results` as bench/results/<prefix>-<ISO date>.json and, when `latest` is given, that file too. */
export function saveResults(prefix: string, results: Record<string, unknown>, latest?: string): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const json = JSON.stringify({ date: new Date().toISOString(), ...results }, null, 2);
  const file = join(RESULTS_DIR, `${prefix}-${stamp}.json`);
  writeFileSync(file, json + '\n');
  if (latest !== undefined) writeFileSync(join(RESULTS_DIR, latest), json + '\n');
  return file;
}

/** The result table as text lines: header, rule, one line per row. */
export function tableLines(table: readonly Row[]): string[] {
  const head: Row = { measure: 'measure', result: 'result', target: 'target', verdict: 'PASS' };
  const w = {
    measure: Math.max(head.measure.length, ...table.map((r) => r.measure.length)),
    result: Math.max(head.result.length, ...table.map((r) => r.result.length)),
    target: Math.max(head.target.length, ...table.map((r) => r.target.length)),
  };
  const line = (m: string, r: string, t: string, v: string): string =>
    `${m.padEnd(w.measure)} | ${r.padEnd(w.result)} | ${t.padEnd(w.target)} | ${v}`;
  const out = [line('measure', 'result', 'target', 'pass/fail')];
  out.push(`${'-'.repeat(w.measure)}-+-${'-'.repeat(w.result)}-+-${'-'.repeat(w.target)}-+-${'-'.repeat(9)}`);
  for (const r of table) out.push(line(r.measure, r.result, r.target, r.verdict));
  return out;
}
