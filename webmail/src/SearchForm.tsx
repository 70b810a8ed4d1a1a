// The search bar: a quick text box, and the full form (from, to, subject, body, dates,
// attachments, where) behind "Options".
import { useState } from 'react';
import type { SearchQuery } from '../../src/http/api/types.js';

export interface SearchFormProps {
  currentFolderId: string | null;
  currentFolderName: string;
  onSearch: (query: SearchQuery) => void;
  onClear: () => void;
  active: boolean;
}

export function SearchForm({ currentFolderId, currentFolderName, onSearch, onClear, active }: SearchFormProps): React.JSX.Element {
  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const [after, setAfter] = useState('');
  const [before, setBefore] = useState('');
  const [hasAttachment, setHasAttachment] = useState(false);
  const [here, setHere] = useState(false);

  const submit = () => {
    const q: SearchQuery = {};
    if (text.trim()) q.text = text.trim();
    if (from.trim()) q.from = from.trim();
    if (to.trim()) q.to = to.trim();
    if (subject.trim()) q.subject = subject.trim();
    if (body.trim()) q.body = body.trim();
    if (after) q.after = after;
    if (before) q.before = before;
    if (hasAttachment) q.hasAttachment = '1';
    if (here && currentFolderId) q.folderId = currentFolderId;
    if (Object.keys(q).length === 0 || (Object.keys(q).length === 1 && q.folderId)) {
      onClear();
      return;
    }
    setOpen(false);
    onSearch(q);
  };

  const clear = () => {
    setText('');
    setFrom('');
    setTo('');
    setSubject('');
    setBody('');
    setAfter('');
    setBefore('');
    setHasAttachment(false);
    onClear();
  };

  return (
    <form
      className="search"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <label className="visually-hidden" htmlFor="search-text">
        Search mail
      </label>
      <input id="search-text" type="search" placeholder="Search mail" value={text} onChange={(e) => setText(e.target.value)} />
      <button type="button" aria-expanded={open} aria-controls="search-options" onClick={() => setOpen((o) => !o)}>
        Options
      </button>
      <button type="submit">Search</button>
      {active ? (
        <button type="button" onClick={clear}>
          Clear
        </button>
      ) : null}
      {open ? (
        <fieldset id="search-options" className="search-options">
          <legend>Search options</legend>
          <label className="field">
            <span>From</span>
            <input name="from" value={from} onChange={(e) => setFrom(e.target.value)} />
          </label>
          <label className="field">
            <span>To</span>
            <input name="to" value={to} onChange={(e) => setTo(e.target.value)} />
          </label>
          <label className="field">
            <span>Subject</span>
            <input name="subject" value={subject} onChange={(e) => setSubject(e.target.value)} />
          </label>
          <label className="field">
            <span>Body</span>
            <input name="body" value={body} onChange={(e) => setBody(e.target.value)} />
          </label>
          <label className="field">
            <span>Received after</span>
            <input name="after" type="date" value={after} onChange={(e) => setAfter(e.target.value)} />
          </label>
          <label className="field">
            <span>Received before</span>
            <input name="before" type="date" value={before} onChange={(e) => setBefore(e.target.value)} />
          </label>
          <label className="check">
            <input type="checkbox" checked={hasAttachment} onChange={(e) => setHasAttachment(e.target.checked)} /> Has attachments
          </label>
          <label className="check">
            <input type="checkbox" checked={here} onChange={(e) => setHere(e.target.checked)} disabled={!currentFolderId} /> Only in {currentFolderName || 'this folder'}
          </label>
          <button type="submit" className="primary">
            Search
          </button>
        </fieldset>
      ) : null}
    </form>
  );
}
