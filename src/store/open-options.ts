/**
 * `openStore`'s options, checked and resolved: defaults filled in, the
 * override and default layers copied and frozen, the environment read once,
 * and where the stores are (the explicit `dir`, `<PREFIX>_HOME` or the
 * platform directory, and the project store). Each problem is a TypeError or
 * RangeError naming the option, or PSMC_STORE_NOT_FOUND for a missing project
 * store. The option types themselves, with their documentation, are in
 * `options.ts`.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PsmcError } from '../core/errors.js';
import { assertKey } from '../core/keys.js';
import { encodeValue, type JsonValue } from '../core/value.js';
import { systemClock, type WallClock } from '../core/clock.js';
import { assertSource } from '../core/engine.js';
import { prefixFromApp, snapshotEnv } from '../core/env.js';
import { deepFreeze, type SharedOptions } from './shared.js';
import { assertAppName, currentPlatform, ensureDir, findProjectStore, PROJECT_DIR, userStoreDir } from './paths.js';
import type { OpenOptions } from './options.js';

const OPTION_NAMES = new Set([
  'app',
  'dir',
  'project',
  'createProject',
  'cwd',
  'env',
  'envPrefix',
  'overrides',
  'defaults',
  'source',
  'durability',
  'busyTimeoutMs',
  'freshnessMs',
  'clock',
  'readOnly',
  'mirror',
]);

/** A Store handle's settings: the options resolved. */
export interface HandleSettings {
  readonly app: string;
  readonly envPrefix: string | false;
  readonly source: string;
  readonly freshnessMs: number;
  readonly clock: WallClock;
  readonly readOnly: boolean;
  readonly mirror: boolean;
  /** The shared connection's durability and busy timeout. */
  readonly sharedOptions: SharedOptions;
  readonly overrides: Map<string, JsonValue>;
  readonly defaults: Map<string, JsonValue>;
  /** The environment variables under the prefix, read once (empty when the env layer is off). */
  readonly envVars: Map<string, string>;
  /** The user store's directory (it may not exist yet). */
  readonly userDir: string;
  /** The project store's `.psmc` directory, when the handle has one. */
  readonly projectDir: string | undefined;
}

function layerMap(what: string, input: Record<string, unknown> | undefined): Map<string, JsonValue> {
  const m = new Map<string, JsonValue>();
  if (input === undefined) return m;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new TypeError(
      `${what} must be an object of key → value, received ${Array.isArray(input) ? 'an array' : typeof input}`,
    );
  }
  for (const k of Object.keys(input)) {
    assertKey(k, `${what} key`);
    m.set(k, deepFreeze(JSON.parse(encodeValue(input[k], k)) as JsonValue));
  }
  return m;
}

/**
 * Checks `openStore`'s options and resolves them, in the order of the
 * options' checks. Creates the project store's directory only with
 * `createProject` (and not `readOnly`); nothing else is written.
 */
export function resolveOpenOptions(options: OpenOptions): HandleSettings {
  if (options === null || typeof options !== 'object') throw new TypeError('openStore options must be an object');
  for (const k of Object.keys(options)) {
    if (!OPTION_NAMES.has(k)) {
      throw new TypeError(`Unknown openStore option ${JSON.stringify(k)} (known: ${[...OPTION_NAMES].join(', ')})`);
    }
  }
  const app = options.app ?? 'psmc';
  assertAppName(app);
  const env = options.env ?? process.env;
  const envPrefix = options.envPrefix === false ? false : (options.envPrefix ?? prefixFromApp(app));
  if (envPrefix !== false && !/^[A-Z][A-Z0-9_]*$/.test(envPrefix)) {
    throw new TypeError(
      `envPrefix must be upper-case letters, digits and "_", starting with a letter, received ${JSON.stringify(envPrefix)}`,
    );
  }
  const source = options.source ?? 'api';
  assertSource(source);
  const freshnessMs = options.freshnessMs ?? 5;
  if (!(freshnessMs >= 0 && freshnessMs <= 10_000)) throw new RangeError('freshnessMs must be between 0 and 10000');
  const clock = options.clock ?? systemClock;
  const readOnly = options.readOnly ?? false;
  const mirror = options.mirror ?? true;
  const sharedOptions = {
    durability: options.durability ?? 'full',
    busyTimeoutMs: options.busyTimeoutMs ?? 10_000,
  };
  if (sharedOptions.durability !== 'full' && sharedOptions.durability !== 'normal') {
    throw new TypeError(`durability must be 'full' or 'normal', received ${JSON.stringify(options.durability)}`);
  }
  const overrides = layerMap('overrides', options.overrides);
  const defaults = layerMap('defaults', options.defaults);
  const envVars =
    envPrefix === false
      ? new Map<string, string>()
      : snapshotEnv(env, envPrefix, {
          // §env.mapping: on Windows the environment is case-insensitive; names are upper-cased.
          caseInsensitive: process.platform === 'win32',
        });

  // Where the stores are.
  let userDir: string;
  let projectDir: string | undefined;
  if (options.dir !== undefined) {
    if (typeof options.dir !== 'string' || options.dir === '') throw new TypeError('dir must be a non-empty path');
    userDir = options.dir;
  } else {
    const home = envPrefix === false ? undefined : env[`${envPrefix}_HOME`];
    userDir = home !== undefined && home !== '' ? home : userStoreDir(app, currentPlatform(env));
    const cwd = options.cwd ?? process.cwd();
    if (options.project === true) {
      projectDir = findProjectStore(cwd);
    } else if (typeof options.project === 'string') {
      projectDir = join(resolve(cwd, options.project), PROJECT_DIR);
      if (!existsSync(projectDir)) {
        if (options.createProject === true && !readOnly) ensureDir(projectDir);
        else {
          throw new PsmcError('PSMC_STORE_NOT_FOUND', `There is no project store at ${projectDir}.`, {
            hint: 'Create one with `psmc init` in that directory (or pass createProject: true).',
            details: { path: projectDir },
          });
        }
      }
    }
  }
  return {
    app,
    envPrefix,
    source,
    freshnessMs,
    clock,
    readOnly,
    mirror,
    sharedOptions,
    overrides,
    defaults,
    envVars,
    userDir,
    projectDir,
  };
}
