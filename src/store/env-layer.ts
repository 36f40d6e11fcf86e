/**
 * The env layer of a handle (spec/sections/schema-env.md §env): the candidate
 * of one key — its variable, and the value coerced with the key's schema, or
 * the error that says why it does not parse. The Store reads the environment
 * once, at open, and caches the candidates until the schema changes.
 */
import { coerceEnv, envName, isReservedEnvName } from '../core/env.js';
import { PsmcError } from '../core/errors.js';
import type { KeySchema } from '../core/schema.js';
import type { JsonValue } from '../core/value.js';
import { deepFreeze } from './shared.js';

/** The env layer's candidate for one key: the variable, and its coerced value or why it does not parse. */
export interface EnvCandidate {
  readonly variable: string;
  readonly value?: JsonValue;
  readonly error?: PsmcError;
  readonly raw?: string;
}

/**
 * The candidate of `key` (a valid key) among `vars` (the variables under
 * `prefix`), or null when its variable is not set or is one psmc reserves.
 * `schemaFor` is asked only when the variable is set. The value is frozen.
 */
export function readEnv(
  prefix: string,
  vars: ReadonlyMap<string, string>,
  key: string,
  schemaFor: () => KeySchema | undefined,
): EnvCandidate | null {
  const variable = envName(prefix, key);
  const raw = isReservedEnvName(prefix, variable) ? undefined : vars.get(variable);
  if (raw === undefined) return null;
  try {
    return { variable, raw, value: deepFreeze(coerceEnv(raw, schemaFor(), variable, key)) };
  } catch (e) {
    if (!(e instanceof PsmcError)) throw e;
    return { variable, raw, error: e };
  }
}
