/** The banner for a mirror file that holds an invalid hand edit: where, what, and how to fix it. */
import type { MirrorError } from '../types.js';

export function MirrorBanner({ error }: { readonly error: MirrorError }) {
  const where = [
    error.line !== undefined ? `line ${error.line}` : undefined,
    error.column !== undefined ? `column ${error.column}` : undefined,
  ]
    .filter((x) => x !== undefined)
    .join(', ');
  return (
    <div class="banner error" role="alert" data-testid="mirror-banner">
      <strong class="banner-title">The mirror file has an edit psmc cannot use</strong>
      <p class="banner-where">
        <code>{error.file}</code>
        {where !== '' ? ` — ${where}` : ''}
        {error.key !== undefined ? (
          <>
            {' '}
            (key <code>{error.key}</code>)
          </>
        ) : null}
      </p>
      <p class="banner-what">{error.message}</p>
      {error.hint !== undefined ? <p class="banner-hint">How to fix: {error.hint}</p> : null}
    </div>
  );
}
