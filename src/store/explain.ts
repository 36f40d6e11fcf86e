/**
 * `Store.explain()`: every layer's candidate for a key, which one won and why
 * (spec/SPEC.md §layers). The Store hands over a `LayerReader`, its view of
 * the layers; this module asks it for each layer in order, highest first, and
 * leaves the choice of winner and the sentence to the core
 * (`explainOutcome`).
 */
import { envName, isReservedEnvName } from '../core/env.js';
import { explainOutcome } from '../core/layers.js';
import { assertValue, type JsonValue } from '../core/value.js';
import type { CachedEntry } from './shared.js';
import { deepFreeze } from './shared.js';
import type { Explanation, GetOptions, LayerCandidate, Resolved } from './options.js';
import type { EnvCandidate } from './env-layer.js';

/** What `explain` needs from a Store: each layer's value for a key. */
export interface LayerReader {
  readonly overrides: ReadonlyMap<string, JsonValue>;
  /** The env prefix, or false when the env layer is off. */
  readonly envPrefix: string | false;
  /** The env layer's candidate (null: the variable is not set). */
  env(key: string): EnvCandidate | null;
  /** The store of that layer (its directory and the key's entry), or undefined when the handle has none. */
  store(
    layer: 'project' | 'user',
    key: string,
  ): { readonly dir: string; readonly entry: CachedEntry | undefined } | undefined;
  readonly defaults: ReadonlyMap<string, JsonValue>;
  /** The write store's schema default for the key. */
  schemaDefault(key: string): JsonValue | undefined;
}

/** Every layer's candidate for `key` (a valid key), highest first, the winner and why. Never throws for a bad env value: it reports it. */
export function explainKey(reader: LayerReader, key: string, options?: GetOptions): Explanation {
  const layers: LayerCandidate[] = [];
  const o = reader.overrides.get(key);
  layers.push(
    o === undefined
      ? { layer: 'override', present: false, origin: 'process override' }
      : { layer: 'override', present: true, value: o, origin: 'process override' },
  );
  layers.push(envCandidate(reader, key));
  for (const layer of ['project', 'user'] as const) {
    const store = reader.store(layer, key);
    if (store === undefined) {
      layers.push({ layer, present: false, origin: layer === 'project' ? 'no project store' : 'no user store' });
      continue;
    }
    const entry = store.entry;
    layers.push(
      entry === undefined
        ? { layer, present: false, origin: store.dir }
        : {
            layer,
            present: true,
            value: entry.value,
            origin: store.dir,
            revision: entry.revision,
            source: entry.source,
            updatedAt: entry.updatedAt,
          },
    );
  }
  const d = reader.defaults.get(key);
  const sd = d === undefined ? reader.schemaDefault(key) : undefined;
  if (d !== undefined) layers.push({ layer: 'default', present: true, value: d, origin: 'shipped default' });
  else if (sd !== undefined)
    layers.push({ layer: 'default', present: true, value: deepFreeze(sd), origin: 'schema default' });
  else layers.push({ layer: 'default', present: false, origin: 'no default' });
  const cd = options?.default === undefined ? undefined : assertValue(options.default, key);
  layers.push(
    cd === undefined
      ? { layer: 'caller', present: false, origin: "no caller's default" }
      : { layer: 'caller', present: true, value: cd, origin: "caller's default" },
  );

  const { winner, envError, reason } = explainOutcome(key, layers);
  return {
    key,
    value: winner?.value,
    found: winner !== undefined,
    layer: winner?.layer ?? (envError !== undefined ? 'env' : undefined),
    revision: winner?.revision ?? 0,
    source: winner?.source ?? (winner === undefined ? undefined : winner.origin),
    updatedAt: winner?.updatedAt,
    layers,
    reason,
  };
}

function envCandidate(reader: LayerReader, key: string): LayerCandidate {
  if (reader.envPrefix === false) return { layer: 'env', present: false, origin: 'environment layer turned off' };
  const variable = envName(reader.envPrefix, key);
  if (isReservedEnvName(reader.envPrefix, variable)) {
    return { layer: 'env', present: false, origin: `${variable} (reserved by psmc, not read as a value)` };
  }
  const e = reader.env(key);
  if (e === null) return { layer: 'env', present: false, origin: variable };
  if (e.error !== undefined) {
    return {
      layer: 'env',
      present: false,
      origin: variable,
      error: { code: e.error.code, message: e.error.message, hint: e.error.hint },
    };
  }
  return { layer: 'env', present: true, value: e.value as JsonValue, origin: variable, source: `env:${variable}` };
}

/** The resolved part of an explanation: the winner and where it came from, without the layers and the reason. */
export function toResolved(e: Explanation): Resolved {
  return {
    key: e.key,
    value: e.value,
    found: e.found,
    layer: e.layer,
    revision: e.revision,
    source: e.source,
    updatedAt: e.updatedAt,
  };
}
