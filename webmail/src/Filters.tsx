// Settings → Filters: rules (conditions → actions), the vacation reply and forwarding.
// The server turns them into the account's "webmail" Sieve script; another active script
// (from a Sieve client) is shown read-only with the choice to switch to these filters.
import { useEffect, useState } from 'react';
import type {
  FilterAction,
  FilterCondition,
  FilterRule,
  FiltersState,
  FiltersUpdate,
  FolderListResponse,
  ForwardingSettings,
  VacationSettings,
} from '../../src/http/api/types.js';
import { ApiFailure, api, errorText } from './api.js';

const FIELDS: Array<[FilterCondition['field'], string]> = [
  ['from', 'From'],
  ['to', 'To or Cc'],
  ['subject', 'Subject'],
  ['header', 'Header…'],
  ['size', 'Size'],
];
const MATCHES: Array<['contains' | 'is' | 'matches' | 'regex', string]> = [
  ['contains', 'contains'],
  ['is', 'is'],
  ['matches', 'matches (* ?)'],
  ['regex', 'matches regex'],
];
const ACTIONS: Array<[FilterAction['kind'], string]> = [
  ['move', 'Move to folder'],
  ['copy', 'Copy to folder'],
  ['mark-read', 'Mark as read'],
  ['flag', 'Flag'],
  ['forward', 'Forward to'],
  ['discard', 'Delete (discard)'],
  ['reject', 'Reject with reason'],
];

function newCondition(field: FilterCondition['field']): FilterCondition {
  return field === 'size' ? { field, comparison: 'over', kilobytes: 1024 } : { field, match: 'contains', value: '', ...(field === 'header' ? { header: '' } : {}) };
}

function newAction(kind: FilterAction['kind'], folder: string): FilterAction {
  switch (kind) {
    case 'move':
    case 'copy':
      return { kind, folder };
    case 'forward':
      return { kind, address: '', keepCopy: true };
    case 'reject':
      return { kind, reason: '' };
    default:
      return { kind };
  }
}

function ConditionRow({ c, onChange, onRemove, label }: { c: FilterCondition; onChange: (c: FilterCondition) => void; onRemove: () => void; label: string }): React.JSX.Element {
  return (
    <div className="filter-row" role="group" aria-label={label}>
      <select aria-label="Field" value={c.field} onChange={(e) => onChange(newCondition(e.target.value as FilterCondition['field']))}>
        {FIELDS.map(([v, t]) => (
          <option key={v} value={v}>
            {t}
          </option>
        ))}
      </select>
      {c.field === 'size' ? (
        <>
          <select aria-label="Comparison" value={c.comparison} onChange={(e) => onChange({ ...c, comparison: e.target.value as 'over' | 'under' })}>
            <option value="over">is over</option>
            <option value="under">is under</option>
          </select>
          <input aria-label="Kilobytes" type="number" min={0} value={c.kilobytes} onChange={(e) => onChange({ ...c, kilobytes: Math.max(0, Math.round(Number(e.target.value) || 0)) })} />
          <span>KB</span>
        </>
      ) : (
        <>
          {c.field === 'header' ? <input aria-label="Header name" placeholder="List-Id" value={c.header ?? ''} onChange={(e) => onChange({ ...c, header: e.target.value })} /> : null}
          <select aria-label="Match" value={c.match} onChange={(e) => onChange({ ...c, match: e.target.value as 'contains' })}>
            {MATCHES.map(([v, t]) => (
              <option key={v} value={v}>
                {t}
              </option>
            ))}
          </select>
          <input aria-label="Value" value={c.value} onChange={(e) => onChange({ ...c, value: e.target.value })} />
        </>
      )}
      <button type="button" onClick={onRemove} aria-label={`Remove ${label.toLowerCase()}`}>
        ✕
      </button>
    </div>
  );
}

function ActionRow({ a, folders, onChange, onRemove, label }: { a: FilterAction; folders: string[]; onChange: (a: FilterAction) => void; onRemove: () => void; label: string }): React.JSX.Element {
  return (
    <div className="filter-row" role="group" aria-label={label}>
      <select aria-label="Action" value={a.kind} onChange={(e) => onChange(newAction(e.target.value as FilterAction['kind'], folders[0] ?? 'INBOX'))}>
        {ACTIONS.map(([v, t]) => (
          <option key={v} value={v}>
            {t}
          </option>
        ))}
      </select>
      {a.kind === 'move' || a.kind === 'copy' ? (
        <select aria-label="Folder" value={a.folder} onChange={(e) => onChange({ ...a, folder: e.target.value })}>
          {folders.map((f) => (
            <option key={f} value={f}>
              {f}
            </option>
          ))}
        </select>
      ) : null}
      {a.kind === 'forward' ? (
        <>
          <input aria-label="Forward address" type="email" value={a.address} onChange={(e) => onChange({ ...a, address: e.target.value })} />
          <label>
            <input type="checkbox" checked={a.keepCopy} onChange={(e) => onChange({ ...a, keepCopy: e.target.checked })} /> keep a copy
          </label>
        </>
      ) : null}
      {a.kind === 'reject' ? <input aria-label="Reason" value={a.reason} onChange={(e) => onChange({ ...a, reason: e.target.value })} /> : null}
      <button type="button" onClick={onRemove} aria-label={`Remove ${label.toLowerCase()}`}>
        ✕
      </button>
    </div>
  );
}

function RuleEditor({ rule, index, count, folders, onChange, onRemove, onMove }: { rule: FilterRule; index: number; count: number; folders: string[]; onChange: (r: FilterRule) => void; onRemove: () => void; onMove: (delta: number) => void }): React.JSX.Element {
  const set = <K extends keyof FilterRule>(k: K, v: FilterRule[K]) => onChange({ ...rule, [k]: v });
  return (
    <fieldset className="filter-rule">
      <legend>Rule {index + 1}</legend>
      <div className="filter-row">
        <input aria-label="Rule name" placeholder="Name" value={rule.name} onChange={(e) => set('name', e.target.value)} maxLength={200} />
        <label>
          <input type="checkbox" checked={rule.enabled} onChange={(e) => set('enabled', e.target.checked)} /> enabled
        </label>
        <button type="button" onClick={() => onMove(-1)} disabled={index === 0} aria-label="Move rule up">
          ↑
        </button>
        <button type="button" onClick={() => onMove(1)} disabled={index === count - 1} aria-label="Move rule down">
          ↓
        </button>
        <button type="button" onClick={onRemove}>
          Remove rule
        </button>
      </div>
      <label className="filter-row">
        <span>When</span>
        <select aria-label="Conditions to meet" value={rule.match} onChange={(e) => set('match', e.target.value as 'all' | 'any')}>
          <option value="all">all conditions hold</option>
          <option value="any">any condition holds</option>
        </select>
      </label>
      {rule.conditions.map((c, i) => (
        <ConditionRow
          key={i}
          c={c}
          label={`Condition ${i + 1}`}
          onChange={(n) => set('conditions', rule.conditions.map((x, j) => (j === i ? n : x)))}
          onRemove={() => set('conditions', rule.conditions.filter((_, j) => j !== i))}
        />
      ))}
      {rule.conditions.length === 0 ? <p className="muted">No condition: the rule applies to every message.</p> : null}
      <button type="button" onClick={() => set('conditions', [...rule.conditions, newCondition('from')])}>
        Add condition
      </button>
      <p>Then:</p>
      {rule.actions.map((a, i) => (
        <ActionRow
          key={i}
          a={a}
          folders={folders}
          label={`Action ${i + 1}`}
          onChange={(n) => set('actions', rule.actions.map((x, j) => (j === i ? n : x)))}
          onRemove={() => set('actions', rule.actions.filter((_, j) => j !== i))}
        />
      ))}
      <button type="button" onClick={() => set('actions', [...rule.actions, newAction('move', folders[0] ?? 'INBOX')])}>
        Add action
      </button>
      <label className="filter-row">
        <input type="checkbox" checked={rule.stop} onChange={(e) => set('stop', e.target.checked)} /> Do not apply the rules below to a matching message
      </label>
    </fieldset>
  );
}

export function Filters(): React.JSX.Element {
  const [state, setState] = useState<FiltersState | null>(null);
  const [rules, setRules] = useState<FilterRule[]>([]);
  const [vacation, setVacation] = useState<VacationSettings | null>(null);
  const [forwarding, setForwarding] = useState<ForwardingSettings | null>(null);
  const [folders, setFolders] = useState<string[]>([]);
  const [message, setMessage] = useState('');
  const [error, setError] = useState<{ text: string; line: string | null } | null>(null);

  const load = (s: FiltersState) => {
    setState(s);
    setRules(s.rules);
    setVacation(s.vacation);
    setForwarding(s.forwarding);
  };

  useEffect(() => {
    api<FiltersState>('GET', '/api/filters')
      .then(load)
      .catch((err: unknown) => setError({ text: errorText(err), line: null }));
    api<FolderListResponse>('GET', '/api/folders')
      .then((r) => setFolders(r.folders.map((f) => f.name)))
      .catch((err: unknown) => setError({ text: errorText(err), line: null }));
  }, []);

  const save = async (activate: boolean) => {
    if (!vacation || !forwarding) return;
    setError(null);
    setMessage('');
    try {
      const update: FiltersUpdate = { rules, vacation: { ...vacation, addresses: vacation.addresses.filter((a) => a.trim() !== '') }, forwarding, ...(activate ? { activate: true } : {}) };
      const saved = await api<FiltersState>('PUT', '/api/filters', update);
      load(saved);
      setMessage(saved.active ? 'Filters saved and active.' : 'Filters saved (not active: another script is).');
    } catch (err) {
      const pos = err instanceof ApiFailure ? err.position : null;
      setError({ text: errorText(err), line: pos ? (pos.script.split(/\r?\n/)[pos.line - 1] ?? null) : null });
    }
  };

  if (!state || !vacation || !forwarding) {
    return (
      <section aria-labelledby="filters-title">
        <h3 id="filters-title">Filters</h3>
        {error ? <p className="error" role="alert">{error.text}</p> : <p className="muted">Loading…</p>}
      </section>
    );
  }

  const setV = <K extends keyof VacationSettings>(k: K, v: VacationSettings[K]) => setVacation({ ...vacation, [k]: v });
  return (
    <section aria-labelledby="filters-title" className="filters">
      <h3 id="filters-title">Filters, vacation reply and forwarding</h3>
      {state.otherActive ? (
        <div className="notice" role="note">
          <p>
            Another Sieve script, <strong>{state.otherActive.name}</strong>, is active (set up with a Sieve client). It runs instead of the filters below; it is shown
            here read-only and is not changed.
          </p>
          <pre className="sieve-source" aria-label={`Active script ${state.otherActive.name}`}>
            {state.otherActive.content}
          </pre>
          <button type="button" onClick={() => void save(true)}>
            Use these filters instead
          </button>
        </div>
      ) : null}
      {state.modifiedElsewhere ? (
        <p className="notice" role="note">
          The webmail’s script “{state.scriptName}” was changed with another Sieve client. The form shows the last filters saved here; saving replaces that change.
        </p>
      ) : null}

      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save(false);
        }}
      >
        <h4>Rules</h4>
        {rules.map((r, i) => (
          <RuleEditor
            key={i}
            rule={r}
            index={i}
            count={rules.length}
            folders={folders}
            onChange={(n) => setRules(rules.map((x, j) => (j === i ? n : x)))}
            onRemove={() => setRules(rules.filter((_, j) => j !== i))}
            onMove={(d) => {
              const next = [...rules];
              const [moved] = next.splice(i, 1);
              if (moved) next.splice(i + d, 0, moved);
              setRules(next);
            }}
          />
        ))}
        <button
          type="button"
          onClick={() => setRules([...rules, { name: '', enabled: true, match: 'all', conditions: [newCondition('from')], actions: [newAction('move', folders.find((f) => f !== 'INBOX') ?? 'INBOX')], stop: true }])}
        >
          Add rule
        </button>

        <h4>Vacation reply</h4>
        <label className="filter-row">
          <input type="checkbox" checked={vacation.enabled} onChange={(e) => setV('enabled', e.target.checked)} /> Answer incoming mail automatically
        </label>
        <label className="field">
          <span>Subject</span>
          <input value={vacation.subject} onChange={(e) => setV('subject', e.target.value)} maxLength={200} />
        </label>
        <label className="field body">
          <span>Reply text</span>
          <textarea rows={4} value={vacation.body} onChange={(e) => setV('body', e.target.value)} />
        </label>
        <label className="field">
          <span>
            Answer each sender at most once every (days, {state.limits.vacationMinDays}–{state.limits.vacationMaxDays})
          </span>
          <input type="number" min={state.limits.vacationMinDays} max={state.limits.vacationMaxDays} value={vacation.days} onChange={(e) => setV('days', Math.round(Number(e.target.value) || 0))} />
        </label>
        <label className="field">
          <span>My other addresses (comma-separated)</span>
          <input
            value={vacation.addresses.join(', ')}
            onChange={(e) =>
              setV(
                'addresses',
                e.target.value.split(',').map((s) => s.trim()).filter((s, i, all) => s !== '' || i === all.length - 1),
              )
            }
          />
        </label>
        <div className="filter-row">
          <label className="field">
            <span>From (first day)</span>
            <input type="date" value={vacation.start ?? ''} onChange={(e) => setV('start', e.target.value || null)} />
          </label>
          <label className="field">
            <span>Until (last day)</span>
            <input type="date" value={vacation.end ?? ''} onChange={(e) => setV('end', e.target.value || null)} />
          </label>
        </div>

        <h4>Forwarding</h4>
        <label className="filter-row">
          <input type="checkbox" checked={forwarding.enabled} onChange={(e) => setForwarding({ ...forwarding, enabled: e.target.checked })} /> Forward all mail
        </label>
        <label className="field">
          <span>Forward to</span>
          <input type="email" value={forwarding.address} onChange={(e) => setForwarding({ ...forwarding, address: e.target.value })} />
        </label>
        <label className="filter-row">
          <input type="checkbox" checked={forwarding.keepCopy} onChange={(e) => setForwarding({ ...forwarding, keepCopy: e.target.checked })} /> Keep a copy here
        </label>

        <button type="submit" className="primary">
          Save filters
        </button>
      </form>
      <p role="status" aria-live="polite" className="muted">
        {message}
      </p>
      {error ? (
        <div className="error" role="alert">
          <p>{error.text}</p>
          {error.line !== null ? <pre className="sieve-source">{error.line}</pre> : null}
        </div>
      ) : null}
      <details>
        <summary>Sieve script “{state.scriptName}”{state.active ? ' (active)' : ''}</summary>
        <pre className="sieve-source">{state.script || '(not saved yet)'}</pre>
      </details>
    </section>
  );
}
