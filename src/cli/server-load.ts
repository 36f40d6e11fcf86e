/**
 * Where the HTTP service comes from. In the CLI bundle this file is swapped
 * for a lazy `require('./server.cjs')` (scripts/bundle-cli.ts), so only
 * `psmc serve` and `psmc token` load the server and its framework.
 */
import type * as ServerModule from '../server/index.js';

export async function loadServer(): Promise<typeof ServerModule> {
  return import('../server/index.js');
}
