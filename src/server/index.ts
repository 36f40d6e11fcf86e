/**
 * The HTTP service of psmc (`psmc serve`) and its credentials file
 * (`psmc token`). Loaded only by those commands: the CLI bundle builds this
 * folder into its own file (dist/bundle/server.cjs) so `psmc get` never
 * parses it.
 */
export { startServer, DEFAULT_PORT, psmcVersion, type RunningServer, type ServerOptions } from './server.js';
export { TokenFile, TOKENS_FILE, assertTokenName, type StoredCredential, type Scope } from './tokens.js';
