/**
 * Layering (spec/SPEC.md §layers). Pure.
 *
 * Highest first: override > env > project > user > default > caller. The
 * first layer that has a value wins. `explain` reports every layer's
 * candidate and one sentence on why the winner won.
 */
export type LayerName = 'override' | 'env' | 'project' | 'user' | 'default' | 'caller';

export const LAYER_ORDER: readonly LayerName[] = ['override', 'env', 'project', 'user', 'default', 'caller'];

const LAYER_TEXT: Record<LayerName, string> = {
  override: 'a process override (a CLI flag or code)',
  env: 'an environment variable',
  project: 'the project store',
  user: 'the user store',
  default: 'a default',
  caller: "the caller's default",
};

export interface ReasonInput {
  readonly layer: LayerName;
  readonly present: boolean;
  readonly origin: string;
}

/** One sentence: which layer won, from where, and what it beat. */
export function explainReason(key: string, candidates: readonly ReasonInput[]): string {
  const winner = candidates.find((c) => c.present);
  if (winner === undefined) {
    return `No layer has a value for ${JSON.stringify(key)}: it is not set in any store, environment variable, override or default.`;
  }
  const beaten = candidates.filter((c) => c.present && c !== winner).map((c) => LAYER_TEXT[c.layer]);
  const beat = beaten.length === 0 ? '' : `, which outranks ${beaten.join(' and ')}`;
  return `The value comes from ${LAYER_TEXT[winner.layer]} (${winner.origin})${beat}.`;
}
