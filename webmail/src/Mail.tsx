// The signed-in view: folders, the message list, the reader, compose and settings; the
// toolbar's actions apply to the selected messages (or the open one); live updates
// come from /api/events; keyboard: j/k next/previous, r reply, a reply all, f forward,
// # delete, c compose.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type {
  BulkResponse,
  EmptyFolderResponse,
  Folder,
  FolderListResponse,
  MessageDetail,
  MessageSummary,
  OkResponse,
  SearchQuery,
  SessionInfo,
  Settings as SettingsData,
  SortField,
  SortOrder,
} from '../../src/http/api/types.js';
import { api, errorText } from './api.js';
import { useLiveUpdates } from './live-updates.js';
import { Compose, type ComposeInit } from './Compose.js';
import { forward, fromDraft, newMessage, replyTo } from './compose-init.js';
import { folderLabel, Folders } from './Folders.js';
import { ListToolbar } from './ListToolbar.js';
import { MessageList } from './MessageList.js';
import { MessageWindow, sourceKey, type ListSource } from './message-window.js';
import { Reader, type ReplyKind } from './Reader.js';
import { SearchForm } from './SearchForm.js';
import { Settings } from './Settings.js';

type Pane = 'folders' | 'list' | 'reader';

export interface MailProps {
  session: SessionInfo;
  onSignOut: () => void;
  onSessionChange: (session: SessionInfo) => void;
}

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

export function Mail({ session, onSignOut, onSessionChange }: MailProps): React.JSX.Element {
  const [folders, setFolders] = useState<Folder[]>([]);
  const [folderId, setFolderId] = useState<string | null>(null);
  const [sort, setSort] = useState<SortField>('date');
  const [order, setOrder] = useState<SortOrder>('desc');
  const [threads, setThreads] = useState(false);
  const [search, setSearch] = useState<SearchQuery | null>(null);
  const [openId, setOpenId] = useState<string | null>(null);
  const [openIndex, setOpenIndex] = useState<number | null>(null);
  const [detail, setDetail] = useState<MessageDetail | null>(null);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [anchor, setAnchor] = useState<number | null>(null);
  const [compose, setCompose] = useState<ComposeInit | null>(null);
  const [composeKey, setComposeKey] = useState(0);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [signature, setSignature] = useState('');
  const [toast, setToast] = useState('');
  const [pane, setPane] = useState<Pane>('list');
  const [version, setVersion] = useState(0);
  const bump = useCallback(() => setVersion((v) => v + 1), []);

  const folder = folders.find((f) => f.id === folderId) ?? null;

  const say = useCallback((text: string) => {
    setToast(text);
  }, []);
  useEffect(() => {
    if (!toast) return;
    const t = setTimeout(() => setToast(''), 6000);
    return () => clearTimeout(t);
  }, [toast]);

  const loadFolders = useCallback(async () => {
    try {
      const res = await api<FolderListResponse>('GET', '/api/folders');
      setFolders(res.folders);
      setFolderId((current) => current ?? res.folders.find((f) => f.specialUse === 'inbox')?.id ?? res.folders[0]?.id ?? null);
    } catch (err) {
      say(errorText(err));
    }
  }, [say]);

  useEffect(() => {
    void loadFolders();
    api<SettingsData>('GET', '/api/settings')
      .then((s) => setSignature(s.signature))
      .catch(() => undefined);
  }, [loadFolders]);

  // The list shown: a folder, or a search's results.
  const source: ListSource | null = search ? { kind: 'search', query: search } : folderId ? { kind: 'folder', folderId, sort, order, threads } : null;
  const key = source ? sourceKey(source) : '';
  const win = useMemo(() => (source ? new MessageWindow(source, bump) : null), [key]);
  useEffect(() => () => win?.dispose(), [win]);
  useEffect(() => {
    setSelected(new Set());
    setAnchor(null);
  }, [key]);

  // Live updates: re-read what is shown after a change.
  const winRef = useRef(win);
  winRef.current = win;
  const folderRef = useRef(folderId);
  folderRef.current = folderId;
  useLiveUpdates(loadFolders, (changed) => {
    const w = winRef.current;
    // A search may include any folder; otherwise only the shown folder matters.
    if (w && (changed === null || w.source.kind === 'search' || changed === folderRef.current)) w.invalidate();
  });

  // Unread count in the tab title.
  useEffect(() => {
    const inbox = folders.find((f) => f.specialUse === 'inbox');
    document.title = inbox && inbox.unread > 0 ? `(${inbox.unread}) Webmail – ${session.address}` : `Webmail – ${session.address}`;
  }, [folders, session.address]);

  const openFolder = (f: Folder) => {
    setSearch(null);
    setFolderId(f.id);
    setOpenId(null);
    setDetail(null);
    setPane('list');
  };

  const openMessage = useCallback(
    (m: MessageSummary, index: number) => {
      if (folder?.specialUse === 'drafts' && !search) {
        api<MessageDetail>('GET', `/api/messages/${encodeURIComponent(m.id)}?markSeen=0`)
          .then((d) => {
            setCompose(fromDraft(d));
            setComposeKey((k) => k + 1);
          })
          .catch((err: unknown) => say(errorText(err)));
        return;
      }
      setOpenId(m.id);
      setOpenIndex(index);
      setAnchor(index);
      // Opening one message ends a multi-selection: actions now apply to what is read.
      setSelected((current) => (current.size > 0 ? new Set() : current));
      setPane('reader');
      if (!m.flags.includes('seen')) win?.patch(new Set([m.id]), (x) => ({ ...x, flags: [...x.flags, 'seen'] }));
    },
    [folder, search, win, say],
  );

  const targets = (): string[] => (selected.size > 0 ? [...selected] : openId ? [openId] : []);

  const afterRemoval = (ids: string[]) => {
    const gone = new Set(ids);
    win?.remove(gone);
    if (openId && gone.has(openId)) {
      setOpenId(null);
      setDetail(null);
      setPane('list');
    }
    setSelected(new Set());
    void loadFolders();
  };

  const setFlag = async (ids: string[], flag: 'seen' | 'flagged', on: boolean) => {
    if (ids.length === 0) return;
    win?.patch(new Set(ids), (m) => ({ ...m, flags: on ? [...new Set([...m.flags, flag])] : m.flags.filter((f) => f !== flag) }));
    try {
      await api<BulkResponse>('POST', '/api/messages/flags', { ids, ...(on ? { add: [flag] } : { remove: [flag] }) });
      void loadFolders();
    } catch (err) {
      say(errorText(err));
      win?.invalidate();
    }
  };

  const remove = async (ids: string[]) => {
    if (ids.length === 0) return;
    try {
      const res = await api<BulkResponse>('POST', '/api/messages/delete', { ids });
      say(folder?.specialUse === 'trash' ? `${res.count} message(s) deleted for good.` : `${res.count} message(s) moved to Trash.`);
      afterRemoval(ids);
    } catch (err) {
      say(errorText(err));
    }
  };

  const move = async (ids: string[], to: Folder) => {
    if (ids.length === 0 || to.id === folderId) return;
    try {
      const res = await api<BulkResponse>('POST', '/api/messages/move', { ids, folderId: to.id });
      say(`${res.count} message(s) moved to ${folderLabel(to)}.`);
      afterRemoval(ids);
    } catch (err) {
      say(errorText(err));
    }
  };

  const junk = async (ids: string[]) => {
    if (ids.length === 0) return;
    const isJunk = folder?.specialUse !== 'junk';
    try {
      const res = await api<BulkResponse>('POST', '/api/messages/junk', { ids, junk: isJunk });
      say(isJunk ? `${res.count} message(s) marked as junk.` : `${res.count} message(s) moved to the Inbox.`);
      afterRemoval(ids);
    } catch (err) {
      say(errorText(err));
    }
  };

  const startReply = useCallback(
    (kind: ReplyKind, d: MessageDetail) => {
      setCompose(kind === 'forward' ? forward(d, signature) : replyTo(d, kind === 'replyAll', session.address, signature));
      setComposeKey((k) => k + 1);
    },
    [signature, session.address],
  );
  const startNew = useCallback(() => {
    setCompose(newMessage(signature));
    setComposeKey((k) => k + 1);
  }, [signature]);

  const toggleSelect = (m: MessageSummary, index: number, range: boolean) => {
    setSelected((current) => {
      const next = new Set(current);
      if (range && anchor !== null && win) {
        const [a, b] = anchor < index ? [anchor, index] : [index, anchor];
        for (let i = a; i <= b; i++) {
          const row = win.get(i);
          if (row) next.add(row.id);
        }
      } else if (next.has(m.id)) next.delete(m.id);
      else next.add(m.id);
      return next;
    });
    setAnchor(index);
  };

  // Keyboard shortcuts (not while typing).
  const keys = useRef<(e: KeyboardEvent) => void>(() => undefined);
  keys.current = (e: KeyboardEvent) => {
    if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target) || settingsOpen) return;
    if (compose) return;
    const step = (delta: number) => {
      if (!win || win.total <= 0) return;
      const from = openIndex ?? anchor ?? -1;
      const index = Math.min(win.total - 1, Math.max(0, from + delta));
      const m = win.get(index);
      if (m) openMessage(m, index);
      else win.ensure(index, index);
    };
    switch (e.key) {
      case 'j':
        step(1);
        break;
      case 'k':
        step(-1);
        break;
      case 'r':
        if (detail && detail.summary.id === openId) startReply('reply', detail);
        break;
      case 'a':
        if (detail && detail.summary.id === openId) startReply('replyAll', detail);
        break;
      case 'f':
        if (detail && detail.summary.id === openId) startReply('forward', detail);
        break;
      case '#':
        void remove(targets());
        break;
      case 'c':
        startNew();
        break;
      case 'Escape':
        if (openId) {
          setOpenId(null);
          setPane('list');
        }
        return;
      default:
        return;
    }
    e.preventDefault();
  };
  useEffect(() => {
    const listener = (e: KeyboardEvent) => keys.current(e);
    document.addEventListener('keydown', listener);
    return () => document.removeEventListener('keydown', listener);
  }, []);

  const onLoaded = useCallback(
    (d: MessageDetail) => {
      setDetail(d);
    },
    [],
  );

  const moveTargets = folders.filter((f) => f.id !== folderId);
  const showRecipients = !search && (folder?.specialUse === 'sent' || folder?.specialUse === 'drafts');
  const title = search ? 'Search results' : (folder ? folderLabel(folder) : '');
  const count = win && win.total >= 0 ? win.total : null;

  return (
    <div className="app" data-pane={pane}>
      <header className="topbar">
        <button type="button" className="menu" aria-label="Folders" aria-expanded={pane === 'folders'} onClick={() => setPane((p) => (p === 'folders' ? 'list' : 'folders'))}>
          ☰
        </button>
        <span className="brand">Webmail</span>
        <SearchForm
          currentFolderId={folderId}
          currentFolderName={folder ? folderLabel(folder) : ''}
          active={search !== null}
          onSearch={(q) => {
            setSearch(q);
            setOpenId(null);
            setPane('list');
          }}
          onClear={() => setSearch(null)}
        />
        <button type="button" className="primary compose-button" onClick={startNew} title="Compose (c)">
          Compose
        </button>
        <button type="button" onClick={() => setSettingsOpen(true)}>
          Settings
        </button>
        <button type="button" onClick={onSignOut} title={`Signed in as ${session.address}`}>
          Sign out
        </button>
      </header>
      <aside className="sidebar">
        <Folders
          folders={folders}
          currentId={search ? null : folderId}
          onOpen={openFolder}
          onDropMessages={(ids, f) => void move(ids, f)}
          onCreate={async (name) => {
            try {
              await api<Folder>('POST', '/api/folders', { name });
              await loadFolders();
            } catch (err) {
              say(errorText(err));
            }
          }}
          onRename={async (f, name) => {
            try {
              await api<Folder>('PATCH', `/api/folders/${encodeURIComponent(f.id)}`, { name });
              await loadFolders();
            } catch (err) {
              say(errorText(err));
            }
          }}
          onDelete={async (f) => {
            try {
              await api<OkResponse>('DELETE', `/api/folders/${encodeURIComponent(f.id)}`);
              setFolderId(null);
              await loadFolders();
            } catch (err) {
              say(errorText(err));
            }
          }}
          onEmpty={async (f) => {
            try {
              const res = await api<EmptyFolderResponse>('POST', `/api/folders/${encodeURIComponent(f.id)}/empty`);
              say(`${res.removed} message(s) removed from ${folderLabel(f)}.`);
              win?.invalidate();
              await loadFolders();
            } catch (err) {
              say(errorText(err));
            }
          }}
        />
      </aside>
      <main className="list-pane" aria-labelledby="list-title">
        <div className="list-head">
          <h1 id="list-title">
            {title}
            {count !== null ? <span className="muted"> · {count}</span> : null}
          </h1>
          <ListToolbar
            sorting={search ? null : { sort, order, threads, setSort, setOrder, setThreads }}
            inJunk={folder?.specialUse === 'junk'}
            moveTargets={moveTargets}
            selectedCount={selected.size}
            onFlag={(flag, on) => void setFlag(targets(), flag, on)}
            onJunk={() => void junk(targets())}
            onDelete={() => void remove(targets())}
            onMove={(to) => void move(targets(), to)}
          />
        </div>
        {win ? (
          <MessageList
            window={win}
            version={version}
            openId={openId}
            selected={selected}
            showRecipients={showRecipients}
            scrollTo={openIndex}
            onOpen={openMessage}
            onToggleSelect={toggleSelect}
            onFlag={(m) => void setFlag([m.id], 'flagged', !m.flags.includes('flagged'))}
          />
        ) : null}
      </main>
      <section className="reader-pane" aria-label="Reading pane">
        {openId ? (
          <Reader
            messageId={openId}
            onLoaded={onLoaded}
            onReply={startReply}
            onClose={() => {
              setOpenId(null);
              setPane('list');
            }}
          />
        ) : (
          <p className="muted center">Select a message to read it.</p>
        )}
      </section>
      {compose ? (
        <Compose
          key={composeKey}
          init={compose}
          maxUploadBytes={session.limits.maxUploadBytes}
          onClose={() => setCompose(null)}
          onSent={(r) => {
            setCompose(null);
            say(`Message sent${r.queued > 0 ? ` (${r.queued} recipient(s) queued for delivery)` : ''}.`);
            void loadFolders();
          }}
        />
      ) : null}
      {settingsOpen ? (
        <Settings
          onClose={() => setSettingsOpen(false)}
          onSaved={(s) => {
            setSignature(s.signature);
            onSessionChange({ ...session, displayName: s.displayName });
          }}
        />
      ) : null}
      <div className="toast" role="status" aria-live="polite">
        {toast}
      </div>
    </div>
  );
}
