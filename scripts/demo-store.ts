/**
 * The demo store of `npm start` (also used by the browser tests and the GUI bench): a small
 * schema and sample values for a plant: its name, display units, a refresh rate, its sensors and
 * an alarm switch. Seeded with the real `psmc` CLI, so it is an ordinary store.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The psmc executable of this checkout. */
export const PSMC_BIN = join(ROOT, 'bin', 'psmc.cjs');

export const DEMO_SCHEMA = {
  version: 1,
  keys: {
    'plant.name': {
      type: 'string',
      title: 'Plant name',
      description: 'Shown on dashboards and at the top of every report.',
      minLength: 1,
      maxLength: 80,
    },
    'plant.sensors': {
      type: 'array',
      title: 'Sensors',
      description: 'The temperature sensors polled by the plant service: an id, a label and the alarm maximum in °C.',
      maxItems: 64,
      items: {
        type: 'object',
        properties: {
          id: { type: 'string', pattern: '^[a-z][a-z0-9_-]*$' },
          label: { type: 'string' },
          max: { type: 'number', minimum: -50, maximum: 500 },
        },
        required: ['id', 'max'],
        additionalProperties: false,
      },
    },
    'display.units': {
      enum: ['metric', 'imperial'],
      title: 'Units',
      description: 'Units for temperatures and distances on every screen.',
      default: 'metric',
    },
    'display.refresh_ms': {
      type: 'integer',
      title: 'Refresh rate (ms)',
      description: 'How often dashboards refresh their readings, in milliseconds.',
      minimum: 100,
      maximum: 10000,
      default: 1000,
    },
    'alarms.enabled': {
      type: 'boolean',
      title: 'Alarms enabled',
      description: 'Send alarm notifications when a sensor goes above its maximum.',
      default: true,
    },
    'alarms.email': {
      type: 'string',
      title: 'Alarm e-mail',
      description: 'Where alarm notifications go.',
      pattern: '^[^@\\s]+@[^@\\s]+$',
    },
  },
} as const;

export const DEMO_VALUES: Readonly<Record<string, unknown>> = {
  'plant.name': 'North Works',
  'plant.sensors': [
    { id: 't1', label: 'Boiler inlet', max: 80 },
    { id: 't2', label: 'Boiler outlet', max: 95 },
    { id: 'amb', label: 'Control room', max: 35 },
  ],
  'display.units': 'metric',
  'display.refresh_ms': 1000,
  'alarms.enabled': true,
  'alarms.email': 'shift-lead@example.com',
};

/** Runs the psmc CLI on `store`; throws with its output when it fails. */
export function psmcSync(store: string, args: readonly string[], input?: string): string {
  const r = spawnSync(process.execPath, [PSMC_BIN, ...args, '--store', store], {
    encoding: 'utf8',
    ...(input === undefined ? {} : { input }),
    env: { ...process.env, PSMC_SOURCE: 'demo' },
  });
  if (r.status !== 0) {
    throw new Error(`psmc ${args.join(' ')} failed (exit ${String(r.status)}): ${r.stderr || r.stdout}`);
  }
  return r.stdout;
}

/** Gives `store` the demo schema and values (one import, one revision for the values). */
export function seedDemoStore(store: string): void {
  psmcSync(store, ['schema', 'set', '-'], JSON.stringify(DEMO_SCHEMA));
  psmcSync(store, ['import', '-'], JSON.stringify(DEMO_VALUES));
}
