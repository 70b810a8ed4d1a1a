// The actions above the message list: sorting and threads (for a folder), and what to do
// with the selected messages (or the open one).
import type { Folder, SortField, SortOrder } from '../../src/http/api/types.js';

export interface Sorting {
  sort: SortField;
  order: SortOrder;
  threads: boolean;
  setSort: (sort: SortField) => void;
  setOrder: (order: SortOrder) => void;
  setThreads: (threads: boolean) => void;
}

export interface ListToolbarProps {
  /** null for search results (sorted by the search). */
  sorting: Sorting | null;
  inJunk: boolean;
  moveTargets: Folder[];
  selectedCount: number;
  onFlag: (flag: 'seen' | 'flagged', on: boolean) => void;
  onJunk: () => void;
  onDelete: () => void;
  onMove: (to: Folder) => void;
}

export function ListToolbar({ sorting, inJunk, moveTargets, selectedCount, onFlag, onJunk, onDelete, onMove }: ListToolbarProps): React.JSX.Element {
  return (
    <div className="toolbar" role="toolbar" aria-label="Message actions">
      {sorting ? (
        <>
          <label className="visually-hidden" htmlFor="sort">
            Sort by
          </label>
          <select id="sort" value={sorting.sort} onChange={(e) => sorting.setSort(e.target.value as SortField)}>
            <option value="date">Date</option>
            <option value="from">From</option>
            <option value="subject">Subject</option>
            <option value="size">Size</option>
          </select>
          <button
            type="button"
            onClick={() => sorting.setOrder(sorting.order === 'desc' ? 'asc' : 'desc')}
            aria-label={sorting.order === 'desc' ? 'Descending; switch to ascending' : 'Ascending; switch to descending'}
          >
            {sorting.order === 'desc' ? '↓' : '↑'}
          </button>
          <label className="check">
            <input type="checkbox" checked={sorting.threads} onChange={(e) => sorting.setThreads(e.target.checked)} /> Threads
          </label>
        </>
      ) : null}
      <button type="button" onClick={() => onFlag('seen', true)}>
        Read
      </button>
      <button type="button" onClick={() => onFlag('seen', false)}>
        Unread
      </button>
      <button type="button" onClick={() => onFlag('flagged', true)}>
        Flag
      </button>
      <button type="button" onClick={onJunk}>
        {inJunk ? 'Not junk' : 'Junk'}
      </button>
      <button type="button" onClick={onDelete} title="Delete (#)">
        Delete
      </button>
      <label className="visually-hidden" htmlFor="move-to">
        Move to folder
      </label>
      <select
        id="move-to"
        value=""
        onChange={(e) => {
          const to = moveTargets.find((f) => f.id === e.target.value);
          if (to) onMove(to);
        }}
      >
        <option value="">Move to…</option>
        {moveTargets.map((f) => (
          <option key={f.id} value={f.id}>
            {f.name}
          </option>
        ))}
      </select>
      {selectedCount > 0 ? <span className="muted">{selectedCount} selected</span> : null}
    </div>
  );
}
