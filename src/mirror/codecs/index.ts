/**
 * The mirror codecs (spec/sections/mirror-format.md): JSONC (the default,
 * `config.json`), TOML (`config.toml`) and YAML (`config.yaml`). Pure: text in,
 * text or values out.
 */
import { jsonCodec } from './json.js';
import { tomlCodec } from './toml.js';
import type { MirrorCodec, MirrorFormat } from './types.js';
import { yamlCodec } from './yaml.js';

export { HEADER_TEXT, MIRROR_FILES, MIRROR_VERSION } from './types.js';
export type { MirrorChange, MirrorCodec, MirrorFormat, ParsedMirror } from './types.js';

const CODECS: Readonly<Record<MirrorFormat, MirrorCodec>> = { json: jsonCodec, toml: tomlCodec, yaml: yamlCodec };

/** The codec of a mirror format. Throws TypeError for any other format name. */
export function codecFor(format: MirrorFormat): MirrorCodec {
  if (format !== 'json' && format !== 'toml' && format !== 'yaml') {
    throw new TypeError(`format must be "json", "toml" or "yaml", received ${JSON.stringify(format)}`);
  }
  return CODECS[format];
}
