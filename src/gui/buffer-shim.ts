/**
 * The one Node global the core uses (`Buffer.byteLength`, for the 1 MiB value limit), for the
 * browser: esbuild injects this module wherever `Buffer` appears in the GUI bundle.
 */
const encoder = new TextEncoder();

export const Buffer = {
  byteLength(text: string, _encoding?: string): number {
    return encoder.encode(text).length;
  },
};
