// One message: headers, the sanitised HTML body in a sandboxed iframe (no scripts, no
// same-origin access; the body's own CSP blocks remote images until the user allows
// them), or the plain text with links; attachments with size and download; the source.
import { Fragment, useEffect, useState } from 'react';
import type { MessageDetail, WebmailAddress } from '../../src/http/api/types.js';
import { api, errorText, formatFullDate, formatSize, isAbort, withQuery } from './api.js';

export type ReplyKind = 'reply' | 'replyAll' | 'forward';

function addresses(list: WebmailAddress[]): string {
  return list.map((a) => (a.name ? `${a.name} <${a.address}>` : a.address)).join(', ');
}

const LINK = /\b(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]|mailto:[^\s<>"']+)/gi;

/** Plain text with http(s) and mailto links made clickable; everything else stays text. */
export function Linkified({ text }: { text: string }): React.JSX.Element {
  const parts: React.ReactNode[] = [];
  let last = 0;
  for (const match of text.matchAll(LINK)) {
    const start = match.index;
    if (start > last) parts.push(text.slice(last, start));
    parts.push(
      <a key={start} href={match[0]} target="_blank" rel="noopener noreferrer">
        {match[0]}
      </a>,
    );
    last = start + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return <pre className="text-body">{parts.map((p, i) => <Fragment key={i}>{p}</Fragment>)}</pre>;
}

export interface ReaderProps {
  messageId: string;
  onLoaded: (detail: MessageDetail) => void;
  onReply: (kind: ReplyKind, detail: MessageDetail) => void;
  onClose: () => void;
}

export function Reader({ messageId, onLoaded, onReply, onClose }: ReaderProps): React.JSX.Element {
  const [detail, setDetail] = useState<MessageDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [images, setImages] = useState(false);
  const [showText, setShowText] = useState(false);

  useEffect(() => {
    setImages(false);
    setShowText(false);
  }, [messageId]);

  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    api<MessageDetail>('GET', withQuery(`/api/messages/${encodeURIComponent(messageId)}`, { images: images ? '1' : undefined }), undefined, controller.signal)
      .then((d) => {
        setDetail(d);
        onLoaded(d);
      })
      .catch((err: unknown) => {
        if (!isAbort(err)) setError(errorText(err));
      });
    return () => controller.abort();
    // onLoaded is deliberately not a dependency: a new callback must not refetch.
  }, [messageId, images]);

  if (error) {
    return (
      <article className="reader" aria-label="Message">
        <p className="error" role="alert">
          {error}
        </p>
      </article>
    );
  }
  if (!detail || detail.summary.id !== messageId) {
    return (
      <article className="reader" aria-label="Message" aria-busy="true">
        <p className="muted">Loading…</p>
      </article>
    );
  }
  const h = detail.headers;
  const files = detail.attachments.filter((a) => !a.inline);
  // The detail was read with images=1 when allowed; its htmlUrl says so already.
  const hasHtml = detail.html !== null && detail.htmlUrl !== null;
  const htmlUrl = hasHtml && !showText ? detail.htmlUrl : null;
  return (
    <article className="reader" aria-labelledby="reader-subject">
      <header className="reader-head">
        <button type="button" className="back" onClick={onClose} aria-label="Back to the list">
          ←
        </button>
        <h2 id="reader-subject">{h.subject || '(no subject)'}</h2>
        <div className="reader-actions" role="toolbar" aria-label="Reply">
          <button type="button" onClick={() => onReply('reply', detail)} title="Reply (r)">
            Reply
          </button>
          <button type="button" onClick={() => onReply('replyAll', detail)} title="Reply to all (a)">
            Reply all
          </button>
          <button type="button" onClick={() => onReply('forward', detail)} title="Forward (f)">
            Forward
          </button>
          <a className="button" href={withQuery(detail.rawUrl, { view: '1' })} target="_blank" rel="noopener noreferrer">
            Show original
          </a>
        </div>
        <dl className="headers">
          <dt>From</dt>
          <dd>{addresses(h.from) || '(unknown sender)'}</dd>
          {h.replyTo.length > 0 && addresses(h.replyTo) !== addresses(h.from) ? (
            <>
              <dt>Reply-To</dt>
              <dd>{addresses(h.replyTo)}</dd>
            </>
          ) : null}
          <dt>To</dt>
          <dd>{addresses(h.to) || '(undisclosed recipients)'}</dd>
          {h.cc.length > 0 ? (
            <>
              <dt>Cc</dt>
              <dd>{addresses(h.cc)}</dd>
            </>
          ) : null}
          <dt>Date</dt>
          <dd>{formatFullDate(h.date ?? detail.summary.receivedAt)}</dd>
        </dl>
      </header>
      {detail.notice ? (
        <p className="notice" role="status">
          {detail.notice}
        </p>
      ) : null}
      {detail.blockedRemoteImages > 0 && !images && !showText ? (
        <p className="notice remote-images">
          {detail.blockedRemoteImages} remote image{detail.blockedRemoteImages === 1 ? ' was' : 's were'} blocked to protect your privacy.{' '}
          <button type="button" onClick={() => setImages(true)}>
            Load remote images
          </button>
        </p>
      ) : null}
      {hasHtml && detail.text ? (
        <p className="body-switch">
          <button type="button" className="link" onClick={() => setShowText((v) => !v)}>
            {showText ? 'Show formatted' : 'Show plain text'}
          </button>
        </p>
      ) : null}
      {htmlUrl ? (
        <iframe
          key={htmlUrl}
          className="html-body"
          title="Message body"
          src={htmlUrl}
          // No allow-scripts and no allow-same-origin: the body can neither run code nor
          // reach this page. Links may open in a new, unsandboxed tab.
          sandbox="allow-popups allow-popups-to-escape-sandbox"
          referrerPolicy="no-referrer"
        />
      ) : detail.text !== null ? (
        <Linkified text={detail.text} />
      ) : (
        <p className="muted">This message has no text.</p>
      )}
      {files.length > 0 ? (
        <section className="attachments" aria-label="Attachments">
          <h3>
            {files.length} attachment{files.length === 1 ? '' : 's'}
          </h3>
          <ul>
            {files.map((a) => (
              <li key={a.partId}>
                <a href={a.url} download={a.filename}>
                  {a.filename}
                </a>{' '}
                <span className="muted">
                  {formatSize(a.size)} · {a.contentType}
                </span>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </article>
  );
}
