// The folder tree: special-use folders first (the server's order), nested folders
// indented under their parent, unread counts, and drop targets for dragged messages.
import { useState, type DragEvent } from 'react';
import type { Folder } from '../../src/http/api/types.js';
import { DRAG_TYPE } from './MessageList.js';


export interface FoldersProps {
  folders: Folder[];
  currentId: string | null;
  onOpen: (folder: Folder) => void;
  onDropMessages: (ids: string[], folder: Folder) => void;
  onCreate: (name: string) => Promise<void>;
  onRename: (folder: Folder, name: string) => Promise<void>;
  onDelete: (folder: Folder) => Promise<void>;
  onEmpty: (folder: Folder) => Promise<void>;
}

/** The name shown: INBOX reads "Inbox"; every other folder its last name component. */
export function folderLabel(folder: Folder): string {
  return folder.specialUse === 'inbox' ? 'Inbox' : folder.displayName;
}

function depth(folder: Folder): number {
  return folder.name.split('/').length - 1;
}

export function Folders(props: FoldersProps): React.JSX.Element {
  const [dropTarget, setDropTarget] = useState<string | null>(null);
  const [editing, setEditing] = useState<'create' | 'rename' | null>(null);
  const [name, setName] = useState('');
  const current = props.folders.find((f) => f.id === props.currentId) ?? null;

  const onDragOver = (e: DragEvent, folder: Folder) => {
    if (!e.dataTransfer.types.includes(DRAG_TYPE)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'move';
    setDropTarget(folder.id);
  };
  const onDrop = (e: DragEvent, folder: Folder) => {
    e.preventDefault();
    setDropTarget(null);
    const raw = e.dataTransfer.getData(DRAG_TYPE);
    if (!raw) return;
    const ids = JSON.parse(raw) as unknown;
    if (Array.isArray(ids)) props.onDropMessages(ids.filter((x): x is string => typeof x === 'string'), folder);
  };

  const submit = async () => {
    const value = name.trim();
    if (!value) return;
    if (editing === 'create') await props.onCreate(current && !current.specialUse ? `${current.name}/${value}` : value);
    else if (editing === 'rename' && current) {
      const parent = current.parent ? `${current.parent}/` : '';
      await props.onRename(current, value.includes('/') ? value : parent + value);
    }
    setEditing(null);
    setName('');
  };

  const editable = current !== null && current.specialUse === null;
  const emptiable = current !== null && (current.specialUse === 'trash' || current.specialUse === 'junk');

  return (
    <nav className="folders" aria-label="Folders">
      <FolderTree folders={props.folders} parent={null} render={(f) => (
        <button
          type="button"
          className={['folder', f.id === props.currentId ? 'current' : '', dropTarget === f.id ? 'drop' : ''].filter(Boolean).join(' ')}
          style={{ paddingLeft: `${0.75 + depth(f) * 1}rem` }}
          data-folder={f.name}
          data-depth={depth(f)}
          aria-current={f.id === props.currentId ? 'page' : undefined}
          onClick={() => props.onOpen(f)}
          onDragOver={(e) => onDragOver(e, f)}
          onDragLeave={() => setDropTarget((t) => (t === f.id ? null : t))}
          onDrop={(e) => onDrop(e, f)}
          aria-label={`${folderLabel(f)}${f.unread > 0 ? `, ${f.unread} unread` : ''}`}
        >
          <span className="name">{folderLabel(f)}</span>
          {f.unread > 0 ? (
            <span className="count" aria-hidden="true">
              {f.unread}
            </span>
          ) : null}
        </button>
      )} />
      <div className="folder-actions">
        <button type="button" onClick={() => (setEditing('create'), setName(''))}>
          New folder
        </button>
        {editable ? (
          <>
            <button type="button" onClick={() => (setEditing('rename'), setName(current.displayName))}>
              Rename
            </button>
            <button
              type="button"
              onClick={() => {
                if (window.confirm(`Delete the folder “${current.name}” and the messages in it?`)) void props.onDelete(current);
              }}
            >
              Delete
            </button>
          </>
        ) : null}
        {emptiable ? (
          <button
            type="button"
            onClick={() => {
              if (window.confirm(`Remove every message in ${folderLabel(current)} for good?`)) void props.onEmpty(current);
            }}
          >
            Empty {folderLabel(current)}
          </button>
        ) : null}
      </div>
      {editing ? (
        <form
          className="folder-form"
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <label>
            {editing === 'create' ? (current && !current.specialUse ? `New folder in ${current.name}` : 'New folder name') : `Rename ${current?.name ?? ''} to`}
            <input autoFocus value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
          </label>
          <button type="submit">{editing === 'create' ? 'Create' : 'Rename'}</button>
          <button type="button" onClick={() => setEditing(null)}>
            Cancel
          </button>
        </form>
      ) : null}
    </nav>
  );
}

/** Nested lists, children under their parent, siblings in the server's order. */
function FolderTree({ folders, parent, render }: { folders: Folder[]; parent: string | null; render: (f: Folder) => React.JSX.Element }): React.JSX.Element | null {
  const names = new Set(folders.map((f) => f.name));
  // A folder whose parent is missing (not subscribed, not listed) shows at the top level.
  const children = folders.filter((f) => (f.parent !== null && names.has(f.parent) ? f.parent : null) === parent);
  if (children.length === 0) return null;
  return (
    <ul aria-label={parent === null ? 'Folder list' : undefined}>
      {children.map((f) => (
        <li key={f.id}>
          {render(f)}
          <FolderTree folders={folders} parent={f.name} render={render} />
        </li>
      ))}
    </ul>
  );
}
