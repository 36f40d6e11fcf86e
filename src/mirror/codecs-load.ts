/**
 * Where the mirror engine gets its codecs. The library imports them directly.
 * The CLI bundle (scripts/bundle-cli.ts) replaces this file with a lazy
 * `require` of a separate bundle, so a one-shot `psmc get` on a store whose
 * mirror is in sync never loads (or even parses) the JSONC/TOML/YAML parsers.
 */
import * as codecModule from './codecs/index.js';

export function codecs(): typeof codecModule {
  return codecModule;
}
