/**
 * Exact measures the validators need: string length in code points (`minLength`,
 * `maxLength`) and `multipleOf` on exact decimals, so every language gets the same answer.
 */

/** Unicode code points in a well-formed string. */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) n--;
  }
  return n;
}

/** `x` as `m × 10^e` with m a BigInt, from the shortest round-trip decimal form. */
function decimal(x: number): { m: bigint; e: number } {
  const s = String(Math.abs(x));
  const [mant = '0', expPart] = s.split('e');
  const [int = '0', frac = ''] = mant.split('.');
  const e = (expPart === undefined ? 0 : Number(expPart)) - frac.length;
  return { m: BigInt(int + frac), e };
}

/** True when `v` is an integer multiple of `d` (> 0), computed on exact decimals. */
export function isMultipleOf(v: number, d: number): boolean {
  if (v === 0) return true;
  if (Number.isInteger(v) && Number.isInteger(d)) return v % d === 0;
  const a = decimal(v);
  const b = decimal(d);
  const e = Math.min(a.e, b.e);
  const am = a.m * 10n ** BigInt(a.e - e);
  const bm = b.m * 10n ** BigInt(b.e - e);
  return am % bm === 0n;
}
