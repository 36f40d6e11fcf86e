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

/** A layer's candidate as `explainOutcome` reads it: `explainReason`'s input plus the layer's error, if any. */
export interface OutcomeInput extends ReasonInput {
  /** Something unusable in the layer (e.g. an env var that does not parse). */
  readonly error?: { readonly message: string; readonly hint: string };
}

/** Which candidate won, or the env error that fails the read, and the sentence that explains it. */
export interface Outcome<C extends OutcomeInput> {
  /** The first present candidate; undefined when none is present or a bad env value fails the read. */
  readonly winner: C | undefined;
  /** The env layer's error when it fails the read (no override wins above it). */
  readonly envError: C['error'] | undefined;
  /** One sentence: which layer won and why, or what is wrong with the env value and how to fix it. */
  readonly reason: string;
}

/**
 * The outcome of a read over every layer's candidate, highest first (the
 * override first). A bad env value fails the read unless an override (the
 * only higher layer) wins anyway. Pure.
 */
export function explainOutcome<C extends OutcomeInput>(key: string, candidates: readonly C[]): Outcome<C> {
  const first = candidates[0];
  const override = first?.present === true ? first : undefined;
  const envError = override === undefined ? candidates.find((c) => c.layer === 'env')?.error : undefined;
  if (envError !== undefined) {
    return {
      winner: undefined,
      envError,
      reason: `${envError.message} A read of this key fails until it is fixed. ${envError.hint}`,
    };
  }
  return { winner: candidates.find((c) => c.present), envError: undefined, reason: explainReason(key, candidates) };
}
