/**
 * The conflict prompt: the value changed underneath an edit (the server answered 412 to a
 * write with If-Match). Shows theirs and yours side by side; the user picks. Nothing is
 * overwritten without this choice, and the losing side stays in history either way.
 */
import type { Current } from '../api.js';
import { fullTime, pretty, relativeTime, sourceText } from '../format.js';
import type { JsonValue } from '../types.js';
import { Dialog } from './Dialog.js';

export interface ConflictProps {
  readonly keyName: string;
  readonly theirs: Current;
  readonly yours: JsonValue;
  readonly onKeepTheirs: () => void;
  readonly onOverwrite: () => void;
  readonly onClose: () => void;
}

export function Conflict({ keyName, theirs, yours, onKeepTheirs, onOverwrite, onClose }: ConflictProps) {
  return (
    <Dialog title="This setting changed while you were editing" onClose={onClose} wide testId="conflict">
      <p class="dialog-text">
        Someone else changed <code>{keyName}</code> after you started editing it. Choose which value to keep.
      </p>
      <div class="conflict-grid">
        <section class="conflict-side" data-testid="conflict-theirs">
          <h3>Theirs (in the store now)</h3>
          <pre class="value-block">{Object.hasOwn(theirs, 'value') ? pretty(theirs.value) : '(deleted)'}</pre>
          <p class="muted small">
            {theirs.source !== undefined ? `Set by ${sourceText(theirs.source)}` : 'Changed'}
            {theirs.time !== undefined && theirs.time !== null ? (
              <span title={fullTime(theirs.time)}> · {relativeTime(theirs.time)}</span>
            ) : null}
            {` · revision ${theirs.revision}`}
          </p>
        </section>
        <section class="conflict-side" data-testid="conflict-yours">
          <h3>Yours (not saved)</h3>
          <pre class="value-block">{pretty(yours)}</pre>
        </section>
      </div>
      <div class="dialog-actions">
        <button type="button" class="btn" onClick={onKeepTheirs} autofocus>
          Keep theirs
        </button>
        <button type="button" class="btn primary" onClick={onOverwrite}>
          Overwrite with mine
        </button>
      </div>
    </Dialog>
  );
}
