/**
 * A modal dialog on the native <dialog> element: the browser traps focus, Escape closes it
 * (reported as `onClose`), and focus returns to where it was.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

export interface DialogProps {
  readonly title: string;
  readonly onClose: () => void;
  readonly children: ComponentChildren;
  readonly wide?: boolean;
  readonly testId?: string;
}

export function Dialog({ title, onClose, children, wide, testId }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d === null) return undefined;
    const before = document.activeElement as HTMLElement | null;
    if (!d.open) d.showModal();
    const cancel = (ev: Event) => {
      ev.preventDefault();
      onClose();
    };
    d.addEventListener('cancel', cancel);
    return () => {
      d.removeEventListener('cancel', cancel);
      if (d.open) d.close();
      before?.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class={wide === true ? 'dialog wide' : 'dialog'}
      aria-labelledby="dialog-title"
      data-testid={testId}
    >
      <h2 id="dialog-title" class="dialog-title">
        {title}
      </h2>
      {children}
    </dialog>
  );
}
