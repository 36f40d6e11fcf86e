/**
 * What every canonical rendering starts from (§mirror.layout): the entries
 * checked as a batch would check them, in byte order of their keys.
 */
import { PsmcError } from '../../core/errors.js';
import { assertKey } from '../../core/keys.js';
import { encodeChecked, type JsonValue } from '../../core/value.js';

/**
 * Checks keys (§key) and values (§value.limits; -0 becomes 0) and sorts by
 * key. A key given twice is caller misuse of one batch: PSMC_USAGE.
 */
export function canonicalEntries(entries: ReadonlyArray<readonly [string, JsonValue]>): Array<[string, JsonValue]> {
  if (!Array.isArray(entries)) throw new TypeError('entries must be an array of [key, value] pairs');
  const seen = new Set<string>();
  const out: Array<[string, JsonValue]> = [];
  for (const pair of entries) {
    const [key, value] = pair;
    assertKey(key);
    if (seen.has(key)) {
      throw new PsmcError('PSMC_USAGE', `The key ${JSON.stringify(key)} is given twice.`, {
        hint: 'Give each key once.',
        details: { key },
      });
    }
    seen.add(key);
    out.push([key, encodeChecked(value, key).value]);
  }
  // Keys are ASCII, so UTF-16 code unit order is byte order.
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** True when the value holds null at any depth. */
export function holdsNull(v: JsonValue): boolean {
  if (v === null) return true;
  if (typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some(holdsNull);
  return Object.keys(v).some((k) => holdsNull(v[k] as JsonValue));
}
