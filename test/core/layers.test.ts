/**
 * The layering rules of src/core/layers.ts (spec/SPEC.md §layers), pure: the
 * winner is the first present candidate, highest first; a bad env value fails
 * the read unless an override wins above it; and the reason sentence.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  explainOutcome,
  explainReason,
  LAYER_ORDER,
  type LayerName,
  type OutcomeInput,
} from '../../src/core/layers.js';

type C = OutcomeInput & { readonly value?: number };

/** One candidate per layer, highest first; `present` names the layers that have a value. */
function candidates(present: readonly LayerName[], envError?: { message: string; hint: string }): C[] {
  return LAYER_ORDER.map((layer, i) => ({
    layer,
    present: present.includes(layer),
    origin: `origin-${layer}`,
    ...(present.includes(layer) ? { value: i } : {}),
    ...(layer === 'env' && envError !== undefined ? { error: envError } : {}),
  }));
}

const BAD = { message: 'PSMC_APP_PORT is not a number.', hint: 'Set it to a whole number.' };

test('the first present layer wins and the sentence names what it outranks', () => {
  const c = candidates(['user', 'default', 'caller']);
  const o = explainOutcome('a.b', c);
  assert.equal(o.winner, c[3]);
  assert.equal(o.envError, undefined);
  assert.equal(o.reason, explainReason('a.b', c));
  assert.equal(
    o.reason,
    "The value comes from the user store (origin-user), which outranks a default and the caller's default.",
  );
});

test('no present layer: no winner, and the sentence says so', () => {
  const o = explainOutcome('a.b', candidates([]));
  assert.equal(o.winner, undefined);
  assert.equal(o.envError, undefined);
  assert.match(o.reason, /^No layer has a value for "a\.b"/);
});

test('a bad env value fails the read even when lower layers have a value', () => {
  const o = explainOutcome('app.port', candidates(['project', 'user'], BAD));
  assert.equal(o.winner, undefined);
  assert.deepEqual(o.envError, BAD);
  assert.equal(
    o.reason,
    'PSMC_APP_PORT is not a number. A read of this key fails until it is fixed. Set it to a whole number.',
  );
});

test('an override wins above a bad env value, which is then not an error of the read', () => {
  const c = candidates(['override', 'user'], BAD);
  const o = explainOutcome('app.port', c);
  assert.equal(o.winner, c[0]);
  assert.equal(o.envError, undefined);
  assert.equal(
    o.reason,
    'The value comes from a process override (a CLI flag or code) (origin-override), which outranks the user store.',
  );
});
