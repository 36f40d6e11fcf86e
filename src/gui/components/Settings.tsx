/**
 * The settings page: keys grouped by their first segment, a table of contents of the groups
 * (beside the list on wide screens), and search over key, title, description and value.
 */
import { groupOf, groupTitle } from '../format.js';
import { KeyRow } from './KeyRow.js';
import type { RowModel } from './KeyRow.js';

export interface SettingsProps {
  readonly rows: readonly RowModel[];
  readonly query: string;
  readonly storeLayer: string | undefined;
  readonly canEdit: boolean;
  readonly flashing: ReadonlySet<string>;
  readonly onOwnWrite: (storeRevision: number) => void;
  readonly onRefresh: (key: string) => void;
}

function matches(row: RowModel, q: string): boolean {
  if (q === '') return true;
  const schema = row.schema ?? row.entry?.schema;
  const hay = [
    row.key,
    schema?.title ?? '',
    schema?.description ?? '',
    row.entry === undefined ? '' : JSON.stringify(row.entry.value),
  ]
    .join('\n')
    .toLowerCase();
  return q
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '')
    .every((w) => hay.includes(w));
}

export function Settings({ rows, query, storeLayer, canEdit, flashing, onOwnWrite, onRefresh }: SettingsProps) {
  const shown = rows.filter((r) => matches(r, query.trim()));
  const groups = new Map<string, RowModel[]>();
  for (const r of shown) {
    const g = groupOf(r.key);
    let list = groups.get(g);
    if (list === undefined) groups.set(g, (list = []));
    list.push(r);
  }
  return (
    <div class="settings">
      <nav class="toc" aria-label="Groups">
        <ul>
          {[...groups].map(([g, list]) => (
            <li key={g}>
              <a href={`#group-${g}`} class="toc-link">
                {groupTitle(g)}
                <span class="count">{list.length}</span>
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div class="groups">
        {rows.length === 0 ? (
          <div class="empty">
            <h2>This store is empty</h2>
            <p>
              Set a value with <code>psmc set plant.name "North Works"</code>, or edit the mirror file; it shows up here
              at once.
            </p>
          </div>
        ) : shown.length === 0 ? (
          <div class="empty" role="status">
            <h2>No settings match “{query}”</h2>
            <p>Search looks at keys, titles, descriptions and values.</p>
          </div>
        ) : null}
        {[...groups].map(([g, list]) => (
          <section key={g} class="group" aria-labelledby={`group-${g}`}>
            <h2 class="group-title" id={`group-${g}`} tabIndex={-1}>
              {groupTitle(g)}
            </h2>
            {list.map((r) => (
              <KeyRow
                key={r.key}
                row={r}
                storeLayer={storeLayer}
                canEdit={canEdit}
                flash={flashing.has(r.key)}
                onOwnWrite={onOwnWrite}
                onRefresh={onRefresh}
              />
            ))}
          </section>
        ))}
      </div>
    </div>
  );
}
