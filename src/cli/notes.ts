/** Notes printed on stderr after a write, for people (never data). */
import type { Store } from '../store/store.js';
import { inlineValue } from './format.js';

/** A note for stderr when a higher layer hides what was just written to the store. */
export function shadowNote(store: Store, key: string): string | undefined {
  const e = store.explain(key);
  if (e.layer !== 'override' && e.layer !== 'env') return undefined;
  const winner = e.layers.find((l) => l.layer === e.layer);
  const origin = winner?.origin ?? e.layer;
  if (winner?.error !== undefined)
    return `note: ${origin} is set but unusable, so reads of ${key} fail: ${winner.error.message}`;
  return `note: ${origin} is set, so reads of ${key} still give ${inlineValue(e.value)} (see psmc explain ${key})`;
}
