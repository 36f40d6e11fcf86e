/**
 * The hybrid logical clock (spec/SPEC.md §clock). Pure: the wall clock is a
 * parameter.
 *
 * A timestamp is wall milliseconds since the Unix epoch plus a counter that
 * breaks ties and absorbs clock skew. Its text form sorts lexicographically in
 * time order and reads as a date:
 *
 *     2026-11-26T03:55:55.123Z-0000
 *
 * The store keeps the last timestamp it issued. The next one is
 * `(max(wall, last.ms), counter)`: when the wall clock has moved past the last
 * timestamp the counter restarts at 0, otherwise the counter goes up by one
 * (and when it would pass 9999, the milliseconds go up by one instead). So the
 * store's timestamps strictly increase across every process and machine that
 * writes it, even when their clocks disagree.
 */
import { PsmcError } from './errors.js';

export interface Hlc {
  /** Milliseconds since the Unix epoch (UTC). */
  readonly ms: number;
  /** Tie-breaker, 0…9999. */
  readonly counter: number;
}

/** The source of wall-clock time: returns milliseconds since the Unix epoch. */
export type WallClock = () => number;

export const MAX_COUNTER = 9999;
/** 0000-01-01T00:00:00.000Z … 9999-12-31T23:59:59.999Z: the range whose text form sorts. */
export const MIN_MS = -62167219200000;
export const MAX_MS = 253402300799999;

export const HLC_ZERO: Hlc = { ms: 0, counter: 0 };

const HLC_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z-(\d{4})$/;

/** The text form, e.g. `2026-11-26T03:55:55.123Z-0000`. */
export function formatHlc(t: Hlc): string {
  return `${new Date(t.ms).toISOString()}-${String(t.counter).padStart(4, '0')}`;
}

/** Parses the text form. Throws PSMC_PARSE on anything else (including impossible dates). */
export function parseHlc(text: string): Hlc {
  const m = HLC_RE.exec(text);
  if (m) {
    const ms = Date.parse(text.slice(0, 24));
    if (Number.isFinite(ms) && new Date(ms).toISOString() === text.slice(0, 24)) {
      return { ms, counter: Number(m[8]) };
    }
  }
  throw new PsmcError('PSMC_PARSE', `${JSON.stringify(text)} is not a psmc clock value.`, {
    hint: 'Clock values look like 2026-11-26T03:55:55.123Z-0000 (UTC time with milliseconds, then a 4-digit counter).',
  });
}

/** Negative, zero or positive as `a` is before, equal to or after `b`. */
export function compareHlc(a: Hlc, b: Hlc): number {
  return a.ms !== b.ms ? a.ms - b.ms : a.counter - b.counter;
}

/** The timestamp to issue after `last`, given the wall clock reading `wallMs`. */
export function nextHlc(last: Hlc, wallMs: number): Hlc {
  const wall = Math.min(Math.max(Math.floor(wallMs), MIN_MS), MAX_MS);
  if (wall > last.ms) return { ms: wall, counter: 0 };
  if (last.counter < MAX_COUNTER) return { ms: last.ms, counter: last.counter + 1 };
  if (last.ms >= MAX_MS) {
    throw new PsmcError(
      'PSMC_CORRUPT',
      `The store clock has reached ${formatHlc(last)}, the last time psmc can write.`,
      {
        hint: 'A wall clock set to year 9999 poisoned the store clock. Export the values and import them into a new store.',
      },
    );
  }
  return { ms: last.ms + 1, counter: 0 };
}

/** The system wall clock. */
export const systemClock: WallClock = () => Date.now();
