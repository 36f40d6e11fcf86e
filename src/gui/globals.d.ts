// The core uses Node's `Buffer.byteLength` for the value size limit; in the browser bundle it is
// provided by buffer-shim.ts (injected by esbuild). Declared here so the core type-checks without
// Node's types.
declare const Buffer: { byteLength(text: string, encoding?: string): number };
