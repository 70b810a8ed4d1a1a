// Writing a message: new, reply, reply-all, forward. Recipients autocomplete from past
// recipients; attachments upload as they are added (with progress); the draft is saved
// to Drafts a moment after each change; sending goes through the submission pipeline.
import { useEffect, useId, useRef, useState } from 'react';
import type { ComposeRequest, DraftResponse, RecipientSuggestions, SendResponse, Upload } from '../../src/http/api/types.js';
import { api, errorText, formatSize, isAbort, rememberFocus, uploadFile, withQuery } from './api.js';

export interface ComposeInit {
  to: string;
  cc: string;
  bcc: string;
  subject: string;
  text: string;
  inReplyTo?: string;
  references?: string[];
  replyTo?: ComposeRequest['replyTo'];
  /** Forward as attachment: offered when forwarding. */
  forwardId?: string;
  draftId?: string;
}

interface Attachment {
  key: number;
  name: string;
  size: number;
  sent: number;
  upload: Upload | null;
  error: string | null;
  abort: () => void;
}

const AUTOSAVE_MS = 2000;

/** Splits "a@x, "Doe, J" <j@x>; b@x" at commas and semicolons outside quotes and brackets. */
export function splitAddresses(value: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  let angle = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    else if (ch === '<' && !quoted) angle = true;
    else if (ch === '>' && !quoted) angle = false;
    if ((ch === ',' || ch === ';') && !quoted && !angle) {
      if (current.trim()) out.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

function AddressInput({ label, value, onChange, autoFocus }: { label: string; value: string; onChange: (v: string) => void; autoFocus?: boolean }): React.JSX.Element {
  const id = useId();
  const [options, setOptions] = useState<string[]>([]);
  useEffect(() => {
    const cut = Math.max(value.lastIndexOf(','), value.lastIndexOf(';'));
    const prefix = cut >= 0 ? `${value.slice(0, cut + 1)} ` : '';
    const token = value.slice(cut + 1).trim();
    if (token.length < 1 || token.includes('@') && token.endsWith('>')) {
      setOptions([]);
      return;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => {
      api<RecipientSuggestions>('GET', withQuery('/api/recipients', { q: token, limit: 8 }), undefined, controller.signal)
        .then((r) => setOptions(r.suggestions.map((s) => `${prefix}${s.name ? `"${s.name.replace(/"/g, '')}" <${s.address}>` : s.address}`)))
        .catch((err: unknown) => {
          if (!isAbort(err)) setOptions([]);
        });
    }, 150);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [value]);
  return (
    <label className="field">
      <span>{label}</span>
      <input
        type="text"
        list={`${id}-list`}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        autoComplete="off"
        autoFocus={autoFocus}
        name={label.toLowerCase()}
        inputMode="email"
      />
      <datalist id={`${id}-list`}>
        {options.map((o) => (
          <option key={o} value={o} />
        ))}
      </datalist>
    </label>
  );
}

export interface ComposeProps {
  init: ComposeInit;
  maxUploadBytes: number;
  onClose: () => void;
  onSent: (result: SendResponse) => void;
}

export function Compose({ init, maxUploadBytes, onClose, onSent }: ComposeProps): React.JSX.Element {
  const [to, setTo] = useState(init.to);
  const [cc, setCc] = useState(init.cc);
  const [bcc, setBcc] = useState(init.bcc);
  const [showCc, setShowCc] = useState(init.cc !== '' || init.bcc !== '');
  const [subject, setSubject] = useState(init.subject);
  const [text, setText] = useState(init.text);
  const [asAttachment, setAsAttachment] = useState(false);
  const [attachments, setAttachments] = useState<Attachment[]>([]);
  const [status, setStatus] = useState<string>('');
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const draftId = useRef<string | undefined>(init.draftId);
  const dirty = useRef(false);
  const saving = useRef<Promise<void> | null>(null);
  const nextKey = useRef(1);
  const fileInput = useRef<HTMLInputElement>(null);
  // Captured while rendering, before autofocus moves focus into the panel.
  const [restoreFocus] = useState(rememberFocus);
  useEffect(() => restoreFocus, [restoreFocus]);

  const request = (): ComposeRequest => ({
    to: splitAddresses(to),
    cc: splitAddresses(cc),
    bcc: splitAddresses(bcc),
    subject,
    text,
    attachments: attachments.flatMap((a) => (a.upload ? [a.upload.id] : [])),
    ...(init.inReplyTo ? { inReplyTo: init.inReplyTo } : {}),
    ...(init.references && init.references.length > 0 ? { references: init.references } : {}),
    ...(init.replyTo ? { replyTo: init.replyTo } : {}),
    ...(asAttachment && init.forwardId ? { forwardAttachments: [init.forwardId] } : {}),
    ...(draftId.current ? { draftId: draftId.current } : {}),
  });

  const finished = useRef(false);
  const saveDraft = async (): Promise<void> => {
    if (saving.current) await saving.current;
    // Once sent, a late autosave would leave a stray draft behind.
    if (!dirty.current || finished.current) return;
    dirty.current = false;
    const run = api<DraftResponse>('POST', '/api/drafts', request()).then(
      (saved) => {
        draftId.current = saved.id;
        setStatus(`Draft saved at ${new Date().toLocaleTimeString()}`);
      },
      (err: unknown) => {
        dirty.current = true;
        setStatus(`The draft could not be saved: ${errorText(err)}`);
      },
    );
    saving.current = run;
    await run;
    saving.current = null;
  };

  const uploadsDone = attachments.map((a) => a.upload?.id ?? '').join(',');
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    dirty.current = true;
    const timer = setTimeout(() => void saveDraft(), AUTOSAVE_MS);
    return () => clearTimeout(timer);
    // saveDraft reads the latest state through request(); it is rebuilt every render.
  }, [to, cc, bcc, subject, text, uploadsDone, asAttachment]);

  const addFiles = (files: FileList | null) => {
    if (!files) return;
    for (const file of Array.from(files)) {
      const key = nextKey.current++;
      if (file.size > maxUploadBytes) {
        setAttachments((list) => [...list, { key, name: file.name, size: file.size, sent: 0, upload: null, error: `Larger than ${formatSize(maxUploadBytes)}`, abort: () => undefined }]);
        continue;
      }
      const { promise, abort } = uploadFile(file, (sent) => setAttachments((list) => list.map((a) => (a.key === key ? { ...a, sent } : a))));
      setAttachments((list) => [...list, { key, name: file.name, size: file.size, sent: 0, upload: null, error: null, abort }]);
      promise.then(
        (upload) => setAttachments((list) => list.map((a) => (a.key === key ? { ...a, upload, sent: a.size } : a))),
        (err: unknown) => {
          if (!isAbort(err)) setAttachments((list) => list.map((a) => (a.key === key ? { ...a, error: errorText(err) } : a)));
        },
      );
    }
  };

  const removeAttachment = (a: Attachment) => {
    a.abort();
    setAttachments((list) => list.filter((x) => x.key !== a.key));
    if (a.upload) void api('DELETE', `/api/uploads/${encodeURIComponent(a.upload.id)}`).catch(() => undefined);
  };

  const pending = attachments.some((a) => !a.upload && !a.error);

  const send = async () => {
    setError(null);
    if (splitAddresses(to).length + splitAddresses(cc).length + splitAddresses(bcc).length === 0) {
      setError('Add at least one recipient.');
      return;
    }
    setSending(true);
    finished.current = true;
    try {
      if (saving.current) await saving.current;
      const result = await api<SendResponse>('POST', '/api/send', request());
      dirty.current = false;
      onSent(result);
    } catch (err) {
      finished.current = false;
      setError(errorText(err));
      setSending(false);
    }
  };

  const close = async () => {
    if (dirty.current) await saveDraft();
    onClose();
  };

  return (
    <section
      className="compose"
      aria-labelledby="compose-title"
      role="dialog"
      aria-modal="false"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          void close();
        }
      }}
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <header className="compose-head">
          <h2 id="compose-title">{subject.trim() || 'New message'}</h2>
          <button type="button" onClick={() => void close()} aria-label="Close and keep the draft">
            ✕
          </button>
        </header>
        <AddressInput label="To" value={to} onChange={setTo} autoFocus={to === ''} />
        {showCc ? (
          <>
            <AddressInput label="Cc" value={cc} onChange={setCc} />
            <AddressInput label="Bcc" value={bcc} onChange={setBcc} />
          </>
        ) : (
          <button type="button" className="link" onClick={() => setShowCc(true)}>
            Cc / Bcc
          </button>
        )}
        <label className="field">
          <span>Subject</span>
          <input type="text" name="subject" value={subject} onChange={(e) => setSubject(e.target.value)} maxLength={998} />
        </label>
        <label className="field body">
          <span className="visually-hidden">Message</span>
          <textarea name="body" value={text} onChange={(e) => setText(e.target.value)} autoFocus={to !== ''} rows={14} />
        </label>
        {init.forwardId ? (
          <label className="check">
            <input type="checkbox" checked={asAttachment} onChange={(e) => setAsAttachment(e.target.checked)} /> Attach the original message
          </label>
        ) : null}
        {attachments.length > 0 ? (
          <ul className="uploads" aria-label="Attachments">
            {attachments.map((a) => (
              <li key={a.key}>
                <span className="name">{a.name}</span> <span className="muted">{formatSize(a.size)}</span>{' '}
                {a.error ? (
                  <span className="error">{a.error}</span>
                ) : a.upload ? (
                  <span className="muted">uploaded</span>
                ) : (
                  <progress max={a.size || 1} value={a.sent} aria-label={`Uploading ${a.name}`} />
                )}
                <button type="button" className="link" onClick={() => removeAttachment(a)} aria-label={`Remove ${a.name}`}>
                  Remove
                </button>
              </li>
            ))}
          </ul>
        ) : null}
        {error ? (
          <p className="error" role="alert">
            {error}
          </p>
        ) : null}
        <footer className="compose-foot">
          <button type="submit" className="primary" disabled={sending || pending}>
            {sending ? 'Sending…' : pending ? 'Uploading…' : 'Send'}
          </button>
          <label className="button">
            Attach files
            <input ref={fileInput} type="file" multiple className="visually-hidden" onChange={(e) => (addFiles(e.target.files), (e.target.value = ''))} />
          </label>
          <span className="muted" role="status" aria-live="polite">
            {status}
          </span>
        </footer>
      </form>
    </section>
  );
}
