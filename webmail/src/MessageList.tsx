// A windowed message list: only the rows on screen (plus a margin) are in the DOM, laid
// out absolutely inside a spacer as tall as the whole list, so scrolling 100,000 rows
// costs the same as scrolling 30. Pages are requested through MessageWindow as rows
// come into view.
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type DragEvent, type MouseEvent } from 'react';
import type { MessageSummary, WebmailAddress } from '../../src/http/api/types.js';
import { formatListDate, formatSize } from './api.js';
import type { MessageWindow } from './message-window.js';

export const ROW_HEIGHT = 64;
const OVERSCAN = 8;
export const DRAG_TYPE = 'application/x-steadymail-ids';

function who(list: WebmailAddress[]): string {
  if (list.length === 0) return '(nobody)';
  return list.map((a) => a.name || a.address).join(', ');
}

export interface MessageListProps {
  window: MessageWindow;
  /** Bumped whenever the window's data changes. */
  version: number;
  openId: string | null;
  selected: ReadonlySet<string>;
  /** Show recipients instead of senders (Sent, Drafts). */
  showRecipients: boolean;
  /** Index to bring into view (keyboard moves). */
  scrollTo: number | null;
  onOpen: (message: MessageSummary, index: number) => void;
  onToggleSelect: (message: MessageSummary, index: number, range: boolean) => void;
  onFlag: (message: MessageSummary) => void;
}

export function MessageList(props: MessageListProps): React.JSX.Element {
  const { window: win, openId, selected, scrollTo } = props;
  const viewport = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const frame = useRef(0);

  useLayoutEffect(() => {
    const el = viewport.current;
    if (!el) return;
    setHeight(el.clientHeight);
    const observer = new ResizeObserver(() => setHeight(el.clientHeight));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  // A new list starts at the top.
  useLayoutEffect(() => {
    if (viewport.current) viewport.current.scrollTop = 0;
    setScrollTop(0);
  }, [win]);

  const onScroll = useCallback(() => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      if (viewport.current) setScrollTop(viewport.current.scrollTop);
    });
  }, []);
  useEffect(() => () => cancelAnimationFrame(frame.current), []);

  const total = Math.max(0, win.total);
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(Math.max(total, 1) - 1, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);

  // Rows come into view: ask for their pages, shortly after scrolling settles so that a
  // dragged scrollbar does not request every page it passes.
  useEffect(() => {
    const timer = setTimeout(() => win.ensure(first, last), win.total < 0 ? 0 : 40);
    return () => clearTimeout(timer);
  }, [win, first, last, props.version]);

  useEffect(() => {
    const el = viewport.current;
    if (scrollTo === null || !el) return;
    const top = scrollTo * ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_HEIGHT - el.clientHeight;
  }, [scrollTo]);

  const rows: React.JSX.Element[] = [];
  for (let i = first; i <= last && i < total; i++) {
    const m = win.get(i);
    const top = i * ROW_HEIGHT;
    if (!m) {
      rows.push(
        <div key={`p${i}`} className="row placeholder" style={{ transform: `translateY(${top}px)` }} aria-hidden="true">
          <span className="loading-bar" />
        </div>,
      );
      continue;
    }
    rows.push(
      <Row
        key={m.id}
        message={m}
        index={i}
        top={top}
        open={m.id === openId}
        selected={selected.has(m.id)}
        selection={selected}
        showRecipients={props.showRecipients}
        onOpen={props.onOpen}
        onToggleSelect={props.onToggleSelect}
        onFlag={props.onFlag}
      />,
    );
  }

  return (
    <div className="list-viewport" ref={viewport} onScroll={onScroll} tabIndex={-1} aria-busy={win.total < 0} data-total={total}>
      <div className="list-spacer" role="list" aria-label={`Messages (${total})`} style={{ height: `${total * ROW_HEIGHT}px` }}>
        {rows}
      </div>
      {win.total === 0 && !win.error ? <p className="empty">No messages.</p> : null}
      {win.error ? (
        <p className="error" role="alert">
          {win.error}
        </p>
      ) : null}
    </div>
  );
}

interface RowProps {
  message: MessageSummary;
  index: number;
  top: number;
  open: boolean;
  selected: boolean;
  selection: ReadonlySet<string>;
  showRecipients: boolean;
  onOpen: (message: MessageSummary, index: number) => void;
  onToggleSelect: (message: MessageSummary, index: number, range: boolean) => void;
  onFlag: (message: MessageSummary) => void;
}

function Row({ message: m, index, top, open, selected, selection, showRecipients, onOpen, onToggleSelect, onFlag }: RowProps): React.JSX.Element {
  const unread = !m.flags.includes('seen');
  const flagged = m.flags.includes('flagged');
  const onClick = (e: MouseEvent) => {
    if (e.ctrlKey || e.metaKey || e.shiftKey) {
      e.preventDefault();
      onToggleSelect(m, index, e.shiftKey);
    } else onOpen(m, index);
  };
  const onDragStart = (e: DragEvent) => {
    const ids = selection.has(m.id) ? [...selection] : [m.id];
    e.dataTransfer.setData(DRAG_TYPE, JSON.stringify(ids));
    e.dataTransfer.setData('text/plain', `${ids.length} message(s)`);
    e.dataTransfer.effectAllowed = 'move';
  };
  const classes = ['row', unread ? 'unread' : '', open ? 'open' : '', selected ? 'selected' : ''].filter(Boolean).join(' ');
  const subject = m.subject || '(no subject)';
  return (
    <div className={classes} style={{ transform: `translateY(${top}px)` }} role="listitem" aria-current={open ? 'true' : undefined} id={`msg-${m.id}`} data-id={m.id} data-index={index} draggable onDragStart={onDragStart}>
      <input
        type="checkbox"
        className="select"
        aria-label={`Select: ${subject}`}
        checked={selected}
        onChange={(e) => onToggleSelect(m, index, (e.nativeEvent as globalThis.MouseEvent).shiftKey === true)}
      />
      <button
        type="button"
        className="row-main"
        onClick={onClick}
        aria-label={`${unread ? 'Unread, ' : ''}${flagged ? 'flagged, ' : ''}${showRecipients ? `to ${who(m.to)}` : `from ${who(m.from)}`}: ${subject}${m.hasAttachments ? ', with attachments' : ''}, ${formatListDate(m.date)}`}
        style={m.threadDepth > 0 ? { paddingLeft: `${Math.min(m.threadDepth, 6) * 14}px` } : undefined}
      >
        <span className="row-line">
          {unread ? <span className="dot" title="Unread" /> : null}
          <span className="who">{showRecipients ? `To: ${who(m.to)}` : who(m.from)}</span>
          {m.hasAttachments ? (
            <svg className="clip" viewBox="0 0 24 24" width="14" height="14" aria-hidden="true" focusable="false">
              <path d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
            </svg>
          ) : null}
          <time className="when" dateTime={m.date}>
            {formatListDate(m.date)}
          </time>
        </span>
        <span className="row-line">
          <span className="subject">{subject}</span>
          <span className="size">{formatSize(m.size)}</span>
        </span>
        <span className="preview">{m.preview}</span>
      </button>
      <button
        type="button"
        className={flagged ? 'flag on' : 'flag'}
        aria-pressed={flagged}
        aria-label={flagged ? `Unflag: ${subject}` : `Flag: ${subject}`}
        title={flagged ? 'Unflag' : 'Flag'}
        onClick={() => onFlag(m)}
      >
        {flagged ? '★' : '☆'}
      </button>
    </div>
  );
}
