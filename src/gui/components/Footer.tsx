/** The status footer: store path, store revision, mirror state and the live connection. */
import type { ConnectionState } from '../live.js';
import type { Status } from '../types.js';

const CONN_TEXT: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  'signed-out': 'Signed out',
};

export function Footer({
  status,
  revision,
  conn,
}: {
  readonly status: Status | undefined;
  readonly revision: number;
  readonly conn: ConnectionState;
}) {
  return (
    <footer class="footer" data-testid="footer">
      <span class="footer-item store-path" title={status?.store.path}>
        <span class="muted">Store </span>
        <code>{status?.store.path ?? '…'}</code>
      </span>
      <span class="footer-item">
        <span class="muted">Revision </span>
        <span data-testid="revision">{revision}</span>
      </span>
      {status?.mirror != null ? (
        <span class="footer-item">
          <span class="muted">Mirror </span>
          {status.mirror.error !== null ? 'invalid edit' : (status.mirror.state ?? 'on').replace(/-/g, ' ')}
        </span>
      ) : null}
      <span class={`footer-item conn conn-${conn}`} data-testid="connection" role="status">
        <span class="dot" aria-hidden="true" />
        {CONN_TEXT[conn]}
      </span>
    </footer>
  );
}
