/**
 * The application: loads the session, status, schema and keys; keeps them current from the
 * change feed; routes between the settings and snapshots pages (#/ and #/snapshots).
 *
 * Live updates: each change event marks its key; marked keys are re-read shortly after (one
 * request per key, or the whole list when many keys moved at once, as after a restore), so the
 * row shows the effective value with all its layers. Rows changed by anyone but this page flash.
 * The feed's `snapshots` event (and a reconnect) makes the snapshots page re-read its list.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, setUnauthorizedHandler, writing } from '../api.js';
import { Live } from '../live.js';
import type { ConnectionState } from '../live.js';
import type { Change, Entry, JsonValue, KeySchema, SchemaDocument, Session, Status } from '../types.js';
import { MirrorBanner } from './Banner.js';
import { Footer } from './Footer.js';
import type { RowModel } from './KeyRow.js';
import { Settings } from './Settings.js';
import { Snapshots } from './Snapshots.js';
import type { Done } from './Snapshots.js';

const FLASH_MS = 1600;
/** Above this many keys pending, re-read the whole list instead of key by key. */
const BULK = 20;

type Page = 'settings' | 'snapshots';

function pageFromHash(): Page {
  return location.hash === '#/snapshots' ? 'snapshots' : 'settings';
}

interface Toast {
  readonly id: number;
  readonly text: string;
}

export function App() {
  const [session, setSession] = useState<Session | undefined>(undefined);
  const [status, setStatus] = useState<Status | undefined>(undefined);
  const [schema, setSchema] = useState<SchemaDocument | null>(null);
  const [entries, setEntries] = useState<ReadonlyMap<string, Entry>>(new Map());
  const [revision, setRevision] = useState(0);
  const [conn, setConn] = useState<ConnectionState>('connecting');
  const [loaded, setLoaded] = useState(false);
  const [fatal, setFatal] = useState<string | undefined>(undefined);
  const [signedOut, setSignedOut] = useState(false);
  const [page, setPage] = useState<Page>(pageFromHash());
  const [query, setQuery] = useState('');
  const [flashing, setFlashing] = useState<ReadonlySet<string>>(new Set());
  const [toasts, setToasts] = useState<readonly Toast[]>([]);
  const [lastRestore, setLastRestore] = useState<Done | undefined>(undefined);
  /** Moves when the set of snapshots changed (the feed's `snapshots` event, or a reconnect). */
  const [snapshotsMoved, setSnapshotsMoved] = useState(0);

  const own = useRef(new Set<number>());
  const pending = useRef(new Map<string, boolean>()); // key → flash?
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const live = useRef<Live | undefined>(undefined);
  const search = useRef<HTMLInputElement>(null);
  const storeLayer = useRef<string | undefined>(undefined);
  storeLayer.current = status?.store.layer;

  const toast = useCallback((text: string) => {
    const id = Date.now() + Math.random();
    setToasts((t) => [...t, { id, text }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), 4000);
  }, []);

  const flash = useCallback((keys: readonly string[]) => {
    if (keys.length === 0) return;
    setFlashing((f) => new Set([...f, ...keys]));
    setTimeout(
      () =>
        setFlashing((f) => {
          const n = new Set(f);
          for (const k of keys) n.delete(k);
          return n;
        }),
      FLASH_MS,
    );
  }, []);

  const loadAll = useCallback(async () => {
    const [st, sc, ks] = await Promise.all([api.status(), api.schema(), api.keys()]);
    setStatus(st);
    setSchema(sc.schema);
    setEntries(new Map(ks.keys.map((e) => [e.key, e])));
    setRevision((r) => Math.max(r, ks.revision, st.revision));
    return ks.revision;
  }, []);

  const flush = useCallback(async () => {
    timer.current = undefined;
    const batch = [...pending.current];
    pending.current.clear();
    if (batch.length === 0) return;
    const toFlash = batch.filter(([, f]) => f).map(([k]) => k);
    try {
      if (batch.length > BULK) {
        const ks = await api.keys();
        setEntries(new Map(ks.keys.map((e) => [e.key, e])));
      } else {
        const got = await Promise.all(
          batch.map(([k]) =>
            api.key(k).then(
              (e): [string, Entry | undefined] => [k, e],
              (e: unknown): [string, Entry | undefined] => {
                if (e instanceof ApiError && e.status === 404) return [k, undefined];
                throw e;
              },
            ),
          ),
        );
        setEntries((old) => {
          const n = new Map(old);
          for (const [k, e] of got) {
            if (e === undefined) n.delete(k);
            else n.set(k, e);
          }
          return n;
        });
      }
      flash(toFlash);
    } catch (e) {
      console.error('psmc: cannot re-read changed keys', e);
      // Put them back; the next change or reconnect reads them again.
      for (const [k, f] of batch) pending.current.set(k, f);
    }
  }, [flash]);

  const mark = useCallback(
    (key: string, doFlash: boolean) => {
      pending.current.set(key, (pending.current.get(key) ?? false) || doFlash);
      timer.current ??= setTimeout(() => void flush(), 15);
    },
    [flush],
  );

  const onChange = useCallback(
    (c: Change) => {
      setRevision((r) => Math.max(r, c.revision));
      if (c.op === 'schema') {
        void api.schema().then((s) => setSchema(s.schema));
        void api.keys().then((ks) => setEntries(new Map(ks.keys.map((e) => [e.key, e]))));
        return;
      }
      if (c.op === 'conflict') return;
      const foreign = !own.current.has(c.revision) && !(c.source === 'gui' && writing.has(c.key));
      // A set of a key whose value comes from the served store's own layer: show it at once, then
      // re-read the key (below) for anything the event does not say (layers, schema).
      if (c.op === 'set' && Object.hasOwn(c, 'value')) {
        setEntries((old) => {
          const e = old.get(c.key);
          const layer = storeLayer.current;
          if (e === undefined || layer === undefined || e.layer !== layer || e.revision >= c.revision) return old;
          const apply = { value: c.value as JsonValue, revision: c.revision, source: c.source, time: c.time };
          const n = new Map(old);
          n.set(c.key, {
            ...e,
            ...apply,
            ...(e.layers === undefined
              ? {}
              : { layers: e.layers.map((l) => (l.layer === layer ? { ...l, ...apply } : l)) }),
          });
          return n;
        });
        if (foreign) flash([c.key]);
      }
      mark(c.key, foreign && c.op !== 'set');
    },
    [mark, flash],
  );

  useEffect(() => {
    setUnauthorizedHandler(() => setSignedOut(true));
    const onHash = () => setPage(pageFromHash());
    window.addEventListener('hashchange', onHash);
    const onKey = (ev: KeyboardEvent) => {
      const t = ev.target as HTMLElement | null;
      const typing = t !== null && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT');
      if (ev.key === '/' && !typing && pageFromHash() === 'settings') {
        ev.preventDefault();
        search.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    let stopped = false;
    (async () => {
      try {
        const s = await api.session();
        if (stopped) return;
        setSession(s);
        const rev = await loadAll();
        if (stopped) return;
        setLoaded(true);
        const l = new Live(rev, {
          change: onChange,
          status: (st) => {
            setStatus(st);
            setRevision((r) => Math.max(r, st.revision));
          },
          state: (st) => {
            setConn(st);
            if (st === 'signed-out') setSignedOut(true);
          },
          resumed: () => {
            void loadAll().catch((e: unknown) => console.error('psmc: reload after reconnect failed', e));
            setSnapshotsMoved((n) => n + 1);
          },
          snapshots: () => setSnapshotsMoved((n) => n + 1),
        });
        live.current = l;
        l.start();
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) setSignedOut(true);
        else setFatal(e instanceof ApiError ? `${e.message} ${e.hint ?? ''}` : String(e));
      }
    })();
    return () => {
      stopped = true;
      live.current?.stop();
      window.removeEventListener('hashchange', onHash);
      window.removeEventListener('keydown', onKey);
    };
  }, []);

  const onOwnWrite = useCallback((storeRevision: number) => {
    own.current.add(storeRevision);
    if (own.current.size > 500) own.current = new Set([...own.current].slice(-200));
  }, []);

  const onRefresh = useCallback((key: string) => mark(key, false), [mark]);

  const rows = useMemo((): RowModel[] => {
    const declared = schema?.keys ?? {};
    const out = new Map<string, RowModel>();
    for (const [k, e] of entries) out.set(k, { key: k, entry: e, schema: e.schema });
    for (const k of Object.keys(declared)) {
      if (k.split('.').includes('*') || out.has(k)) continue;
      out.set(k, { key: k, entry: undefined, schema: declared[k] as KeySchema });
    }
    return [...out.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }, [entries, schema]);

  const canEdit = session?.scopes.includes('write') === true;

  if (signedOut) {
    return (
      <main class="center-page" data-testid="signed-out">
        <h1>Log in to psmc</h1>
        <p>
          This page needs a session. Open the login URL that <code>psmc serve</code> printed (it ends in{' '}
          <code>?token=…</code>), or run <code>npm start</code> again.
        </p>
      </main>
    );
  }
  if (fatal !== undefined) {
    return (
      <div class="center-page" role="alert">
        <h1>psmc cannot load this store</h1>
        <p>{fatal}</p>
      </div>
    );
  }

  return (
    <div class="app">
      <header class="header">
        <div class="header-row">
          <a class="brand" href="#/">
            <span class="logo" aria-hidden="true">
              ◆
            </span>{' '}
            psmc
          </a>
          <nav class="tabs" aria-label="Pages">
            <a
              href="#/"
              class={page === 'settings' ? 'tab active' : 'tab'}
              aria-current={page === 'settings' ? 'page' : undefined}
            >
              Settings
            </a>
            <a
              href="#/snapshots"
              class={page === 'snapshots' ? 'tab active' : 'tab'}
              aria-current={page === 'snapshots' ? 'page' : undefined}
            >
              Snapshots
            </a>
          </nav>
          {session !== undefined && !canEdit ? (
            <span class="badge readonly" data-testid="read-only" title="This session's token has read scope only">
              Read-only
            </span>
          ) : null}
        </div>
        {page === 'settings' ? (
          <div class="search-row">
            <input
              ref={search}
              class="input search"
              type="search"
              placeholder="Search settings  ( / )"
              aria-label="Search settings"
              value={query}
              onInput={(ev) => setQuery((ev.currentTarget as HTMLInputElement).value)}
              onKeyDown={(ev) => {
                if (ev.key === 'Escape') setQuery('');
              }}
              data-testid="search"
            />
          </div>
        ) : null}
      </header>
      {conn === 'reconnecting' ? (
        <p class="banner warn" role="status" data-testid="offline-banner">
          The connection to <code>psmc serve</code> was lost. Reconnecting… Changes made elsewhere in the meantime show
          up as soon as it is back.
        </p>
      ) : null}
      {status?.mirror?.error != null ? <MirrorBanner error={status.mirror.error} /> : null}
      {!canEdit && session !== undefined ? (
        <p class="banner info readonly-note">
          You are signed in with a read-only token: you can look at everything, but not change it.
        </p>
      ) : null}
      <main class="main" id="main">
        {!loaded ? (
          <p class="muted loading">Loading…</p>
        ) : page === 'settings' ? (
          <Settings
            rows={rows}
            query={query}
            storeLayer={status?.store.layer}
            canEdit={canEdit}
            flashing={flashing}
            onOwnWrite={onOwnWrite}
            onRefresh={onRefresh}
          />
        ) : (
          <Snapshots
            canEdit={canEdit}
            revision={revision}
            snapshotsMoved={snapshotsMoved}
            onOwnWrite={onOwnWrite}
            toast={toast}
            done={lastRestore}
            setDone={setLastRestore}
          />
        )}
      </main>
      <Footer status={status} revision={revision} conn={conn} />
      <div class="toasts" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} class="toast">
            {t.text}
          </div>
        ))}
      </div>
    </div>
  );
}
