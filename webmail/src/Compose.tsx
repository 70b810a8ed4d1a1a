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
  /** The same start as rich text (the original's HTML quoted), used when the user switches to rich text. */
  html?: string;
  /** Open in rich-text mode (a rich draft). */
  rich?: boolean;
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

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

/** Plain text as editable HTML: one line per line, nothing interpreted. */
export function textAsHtml(text: string): string {
  return text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => `<div>${line === '' ? '<br>' : escapeHtml(line)}</div>`)
    .join('');
}

type Format = 'bold' | 'italic' | 'underline' | 'insertUnorderedList' | 'insertOrderedList' | 'link' | 'quote' | 'removeFormat';
const TOOLS: Array<{ format: Format; label: string; text: string }> = [
  { format: 'bold', label: 'Bold', text: 'B' },
  { format: 'italic', label: 'Italic', text: 'I' },
  { format: 'underline', label: 'Underline', text: 'U' },
  { format: 'insertUnorderedList', label: 'Bulleted list', text: '•' },
  { format: 'insertOrderedList', label: 'Numbered list', text: '1.' },
  { format: 'link', label: 'Link', text: '🔗' },
  { format: 'quote', label: 'Quote', text: '❝' },
  { format: 'removeFormat', label: 'Clear formatting', text: 'T̸' },
];

/** Applies a toolbar format to the selection in the editor (the browser's editing commands). */
function applyFormat(format: Format, editor: HTMLElement | null): void {
  editor?.focus();
  if (format === 'link') {
    const input = window.prompt('Link address (https://…)');
    if (!input) return;
    const url = /^(https?:|mailto:)/i.test(input.trim()) ? input.trim() : `https://${input.trim()}`;
    document.execCommand('createLink', false, url);
  } else if (format === 'quote') document.execCommand('formatBlock', false, 'blockquote');
  else document.execCommand(format, false);
}

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
  const [rich, setRich] = useState(init.rich === true);
  const [html, setHtml] = useState(init.rich === true ? (init.html ?? '') : '');
  const editor = useRef<HTMLDivElement>(null);
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
    text: rich ? (editor.current?.innerText ?? text) : text,
    ...(rich ? { html } : {}),
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
  }, [to, cc, bcc, subject, text, html, rich, uploadsDone, asAttachment]);

  // The editor is uncontrolled: its content is set when rich mode starts, then read on input.
  useEffect(() => {
    if (rich && editor.current && editor.current.innerHTML !== html) editor.current.innerHTML = html;
    // Only when the mode changes: re-setting innerHTML on every input would move the caret.
  }, [rich]);

  const switchMode = () => {
    if (rich) {
      setText(editor.current?.innerText ?? '');
      setRich(false);
    } else {
      // Untouched reply or forward: start from the original's HTML, quoted.
      setHtml(text === init.text && init.html !== undefined ? init.html : textAsHtml(text));
      setRich(true);
    }
  };

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
        <div className="editor-tools" role="toolbar" aria-label="Formatting">
          {rich
            ? TOOLS.map((t) => (
                <button
                  key={t.format}
                  type="button"
                  aria-label={t.label}
                  title={t.label}
                  // Keep the selection in the editor: a click must not take focus first.
                  onMouseDown={(e) => e.preventDefault()}
                  onClick={() => {
                    applyFormat(t.format, editor.current);
                    setHtml(editor.current?.innerHTML ?? '');
                  }}
                >
                  {t.text}
                </button>
              ))
            : null}
          <button type="button" className="link" onClick={switchMode}>
            {rich ? 'Plain text' : 'Rich text'}
          </button>
        </div>
        {rich ? (
          <div
            ref={editor}
            className="rich-editor"
            contentEditable
            suppressContentEditableWarning
            role="textbox"
            aria-multiline="true"
            aria-label="Message"
            tabIndex={0}
            onInput={(e) => setHtml(e.currentTarget.innerHTML)}
          />
        ) : (
          <label className="field body">
            <span className="visually-hidden">Message</span>
            <textarea name="body" value={text} onChange={(e) => setText(e.target.value)} autoFocus={to !== ''} rows={14} />
          </label>
        )}
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
