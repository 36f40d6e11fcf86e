/**
 * Hybrid logical clock (spec/SPEC.md §clock.format, §clock.next).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PsmcError } from '../../src/core/errors.js';
import {
  compareHlc,
  formatHlc,
  HLC_ZERO,
  MAX_COUNTER,
  MAX_MS,
  MIN_MS,
  nextHlc,
  parseHlc,
  systemClock,
  type Hlc,
} from '../../src/core/clock.js';

const HOUR = 3_600_000;
const hlc = fc
  .tuple(fc.integer({ min: MIN_MS, max: MAX_MS }), fc.integer({ min: 0, max: MAX_COUNTER }))
  .map(([ms, counter]): Hlc => ({ ms, counter }));

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

function textCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function rejects(text: string): void {
  assert.throws(
    () => parseHlc(text),
    (e: unknown) => {
      assert.ok(e instanceof PsmcError, String(e));
      assert.equal(e.code, 'PSMC_PARSE');
      assert.ok(e.message.includes(JSON.stringify(text)), e.message);
      assert.match(e.hint, /2026-11-26T03:55:55\.123Z-0000/);
      return true;
    },
    JSON.stringify(text),
  );
}

describe('format', () => {
  it('writes ISO-8601 UTC with milliseconds, "-", and a 4-digit counter', () => {
    assert.equal(
      formatHlc({ ms: Date.UTC(2026, 10, 26, 3, 55, 55, 123), counter: 0 }),
      '2026-11-26T03:55:55.123Z-0000',
    );
    assert.equal(formatHlc({ ms: 0, counter: 42 }), '1970-01-01T00:00:00.000Z-0042');
    assert.equal(formatHlc({ ms: 1, counter: 9999 }), '1970-01-01T00:00:00.001Z-9999');
  });
  it('the zero clock is 1970-01-01T00:00:00.000Z-0000', () => {
    assert.equal(formatHlc(HLC_ZERO), '1970-01-01T00:00:00.000Z-0000');
    assert.deepEqual(parseHlc('1970-01-01T00:00:00.000Z-0000'), HLC_ZERO);
  });
  it('covers years 0000 to 9999 with four-digit years', () => {
    assert.equal(formatHlc({ ms: MIN_MS, counter: 0 }), '0000-01-01T00:00:00.000Z-0000');
    assert.equal(formatHlc({ ms: MAX_MS, counter: 9999 }), '9999-12-31T23:59:59.999Z-9999');
    assert.deepEqual(parseHlc('0000-01-01T00:00:00.000Z-0000'), { ms: MIN_MS, counter: 0 });
    assert.deepEqual(parseHlc('9999-12-31T23:59:59.999Z-9999'), { ms: MAX_MS, counter: 9999 });
  });
  it('round-trips every ms in range and every counter', () => {
    fc.assert(
      fc.property(hlc, (t) => {
        const text = formatHlc(t);
        assert.equal(text.length, 29);
        assert.deepEqual(parseHlc(text), t);
        assert.equal(formatHlc(parseHlc(text)), text);
      }),
      { numRuns: 3000 },
    );
  });
  it('text order equals compareHlc order over the whole range', () => {
    fc.assert(
      fc.property(hlc, hlc, (a, b) => {
        assert.equal(sign(textCompare(formatHlc(a), formatHlc(b))), sign(compareHlc(a, b)));
      }),
      { numRuns: 3000 },
    );
    // Same ms, counters 9 vs 10: zero padding keeps the order.
    assert.ok(formatHlc({ ms: 5, counter: 9 }) < formatHlc({ ms: 5, counter: 10 }));
    // Around the epoch (negative ms).
    assert.ok(formatHlc({ ms: -1, counter: 9999 }) < formatHlc({ ms: 0, counter: 0 }));
  });
});

describe('parse rejects everything else', () => {
  const bad = [
    '',
    'garbage',
    '2026-11-26T03:55:55.123Z',
    '2026-11-26T03:55:55.123Z-',
    '2026-11-26T03:55:55.123Z-000',
    '2026-11-26T03:55:55.123Z-00000',
    '2026-11-26T03:55:55.123Z--001',
    '2026-11-26T03:55:55.123Z+0000',
    '2026-11-26T03:55:55Z-0000',
    '2026-11-26T03:55:55.12Z-0000',
    '2026-11-26T03:55:55.1234Z-0000',
    '2026-11-26 03:55:55.123Z-0000',
    '2026-11-26t03:55:55.123z-0000',
    '2026-11-26T03:55:55.123+00:00-0000',
    ' 2026-11-26T03:55:55.123Z-0000',
    '2026-11-26T03:55:55.123Z-0000 ',
    '2026-11-26T03:55:55.123Z-0000\n',
    '+002026-11-26T03:55:55.123Z-0000',
    '-000001-01-01T00:00:00.000Z-0000',
    '+010000-01-01T00:00:00.000Z-0000',
    '２026-11-26T03:55:55.123Z-0000',
    '2026-11-26T03:55:55.123Z-00a0',
  ];
  for (const t of bad) it(`rejects ${JSON.stringify(t)}`, () => rejects(t));

  const impossible = [
    '2026-02-30T00:00:00.000Z-0000',
    '2026-02-29T00:00:00.000Z-0000', // 2026 is not a leap year
    '2100-02-29T00:00:00.000Z-0000', // not a leap year either
    '2026-04-31T00:00:00.000Z-0000',
    '2026-13-01T00:00:00.000Z-0000',
    '2026-00-01T00:00:00.000Z-0000',
    '2026-01-00T00:00:00.000Z-0000',
    '2026-01-32T00:00:00.000Z-0000',
    '2026-01-01T24:00:00.000Z-0000',
    '2026-01-01T23:60:00.000Z-0000',
    '2026-01-01T23:59:60.000Z-0000',
  ];
  for (const t of impossible) it(`rejects the impossible date ${t}`, () => rejects(t));

  it('accepts real leap days', () => {
    assert.equal(formatHlc(parseHlc('2024-02-29T12:00:00.000Z-0001')), '2024-02-29T12:00:00.000Z-0001');
    assert.equal(formatHlc(parseHlc('2000-02-29T00:00:00.000Z-0000')), '2000-02-29T00:00:00.000Z-0000');
  });

  it('random text is either a canonical clock value or PSMC_PARSE, never another error', () => {
    const noisy = fc.oneof(
      fc.string({ maxLength: 35 }),
      hlc
        .map(formatHlc)
        .chain((s) =>
          fc
            .tuple(fc.nat({ max: s.length - 1 }), fc.constantFrom('0', '9', 'x', '', '-', ':', 'Z'))
            .map(([i, c]) => s.slice(0, i) + c + s.slice(i + 1)),
        ),
    );
    fc.assert(
      fc.property(noisy, (t) => {
        try {
          const v = parseHlc(t);
          assert.equal(formatHlc(v), t, 'only the canonical form is accepted');
        } catch (e) {
          assert.ok(e instanceof PsmcError && e.code === 'PSMC_PARSE', String(e));
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('nextHlc', () => {
  it('uses the wall clock when it moved past the last timestamp, counter 0', () => {
    assert.deepEqual(nextHlc({ ms: 100, counter: 7 }, 101), { ms: 101, counter: 0 });
    assert.deepEqual(nextHlc(HLC_ZERO, 1_700_000_000_000), { ms: 1_700_000_000_000, counter: 0 });
  });
  it('bumps the counter when the wall clock stands still or went backwards', () => {
    assert.deepEqual(nextHlc({ ms: 100, counter: 7 }, 100), { ms: 100, counter: 8 });
    assert.deepEqual(nextHlc({ ms: 100, counter: 7 }, 100 - HOUR), { ms: 100, counter: 8 });
  });
  it('floors fractional wall readings', () => {
    assert.deepEqual(nextHlc({ ms: 100, counter: 0 }, 200.9), { ms: 200, counter: 0 });
    assert.deepEqual(nextHlc({ ms: 100, counter: 3 }, 100.9), { ms: 100, counter: 4 });
  });
  it('counter overflow: past 9999 the milliseconds go up by one and the counter restarts', () => {
    assert.deepEqual(nextHlc({ ms: 1000, counter: MAX_COUNTER }, 500), { ms: 1001, counter: 0 });
    assert.deepEqual(nextHlc({ ms: 1000, counter: MAX_COUNTER }, 1000), { ms: 1001, counter: 0 });
    assert.deepEqual(nextHlc({ ms: 1000, counter: MAX_COUNTER - 1 }, 1000), { ms: 1000, counter: MAX_COUNTER });
  });
  it('a stuck wall clock over 25,000 commits: strictly increasing, crossing two overflows', () => {
    let t: Hlc = { ms: 5000, counter: 0 };
    let text = formatHlc(t);
    for (let i = 0; i < 25_000; i++) {
      const n = nextHlc(t, 5000);
      assert.ok(compareHlc(n, t) > 0);
      const nt = formatHlc(n);
      assert.ok(nt > text, `${nt} > ${text}`);
      assert.ok(n.counter >= 0 && n.counter <= MAX_COUNTER);
      t = n;
      text = nt;
    }
    assert.equal(t.ms, 5002);
  });
  it('clamps wall readings to the range of the text form', () => {
    assert.deepEqual(nextHlc(HLC_ZERO, 1e20), { ms: MAX_MS, counter: 0 });
    assert.deepEqual(nextHlc(HLC_ZERO, Infinity), { ms: MAX_MS, counter: 0 });
    const early = nextHlc({ ms: MIN_MS - 10, counter: 0 }, -1e20);
    assert.equal(early.ms, MIN_MS);
  });
  it('a NaN wall reading does not produce an unusable timestamp', () => {
    const n = nextHlc({ ms: 100, counter: 1 }, NaN);
    assert.ok(compareHlc(n, { ms: 100, counter: 1 }) > 0);
    assert.deepEqual(parseHlc(formatHlc(n)), n);
  });

  it('at the very end of the range it never issues a timestamp that cannot be written or parsed', () => {
    // After a wall clock that read year 10000+ (clamped) the store keeps issuing timestamps at MAX_MS;
    // once the counter is exhausted the next one must still be a valid clock value, or a clear PsmcError.
    let next: Hlc | undefined;
    try {
      next = nextHlc({ ms: MAX_MS, counter: MAX_COUNTER }, 1e20);
    } catch (e) {
      assert.ok(e instanceof PsmcError, String(e));
      return;
    }
    const text = formatHlc(next);
    assert.deepEqual(parseHlc(text), next, `issued ${text}, which parseHlc refuses`);
  });

  it('property: under any walk of the wall clock (including hours backwards), every timestamp is later than the last, in text order too', () => {
    const step = fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: -1000, max: 1000 }) },
      { weight: 2, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: -5 * HOUR, max: 5 * HOUR }) },
      { weight: 1, arbitrary: fc.double({ min: -10, max: 10, noNaN: true }) },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.array(step, { minLength: 1, maxLength: 300 }),
        fc.array(fc.nat({ max: 50 }), { maxLength: 300 }),
        (start, steps, repeats) => {
          let wall = start;
          let last: Hlc = parseHlc(formatHlc({ ms: start - 1, counter: 0 }));
          let lastText = formatHlc(last);
          steps.forEach((s, i) => {
            wall += s;
            // Sometimes several commits read the same wall time.
            const times = 1 + (repeats[i] ?? 0);
            for (let j = 0; j < times; j++) {
              const n = nextHlc(last, wall);
              assert.ok(compareHlc(n, last) > 0, `${JSON.stringify(n)} after ${JSON.stringify(last)}`);
              const text = formatHlc(n);
              assert.ok(text > lastText, `${text} after ${lastText}`);
              assert.equal(sign(textCompare(text, lastText)), sign(compareHlc(n, last)));
              assert.deepEqual(parseHlc(text), n);
              // Never behind the wall clock.
              assert.ok(n.ms >= Math.floor(wall), 'the HLC never lags the wall clock');
              assert.ok(Number.isInteger(n.ms) && Number.isInteger(n.counter) && n.counter <= MAX_COUNTER);
              last = n;
              lastText = text;
            }
          });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('property: two processes with skewed clocks writing one store (shared last timestamp) stay strictly ordered', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -2 * HOUR, max: 2 * HOUR }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 50 })), { minLength: 1, maxLength: 200 }),
        (skew, ops) => {
          let real = 1_700_000_000_000;
          let last: Hlc = HLC_ZERO;
          for (const [second, dt] of ops) {
            real += dt;
            const n = nextHlc(last, second ? real + skew : real);
            assert.ok(compareHlc(n, last) > 0);
            assert.ok(formatHlc(n) > formatHlc(last));
            last = n;
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('systemClock reads Date.now', () => {
    const before = Date.now();
    const t = systemClock();
    assert.ok(t >= before && t <= Date.now());
  });
});
