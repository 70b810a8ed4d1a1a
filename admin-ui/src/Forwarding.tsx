// An account's forwarding on its view: read from and saved to the webmail's filters
// script (PUT /accounts/{address}/forwarding), so the user sees it under Settings → Filters.
import { useEffect, useState, type FormEvent } from 'react';
import { call, enc } from './api.js';
import { useAction, useLoad } from './hooks.js';
import type { ForwardingInfo } from '../../src/http/admin/types.js';

export function AccountForwarding({ address }: { address: string }) {
  const path = `/accounts/${enc(address)}/forwarding`;
  const { data, error, reload } = useLoad<ForwardingInfo>(path);
  const { run, message } = useAction(reload);
  const [form, setForm] = useState({ enabled: false, address: '', keepCopy: true });
  useEffect(() => {
    if (data) setForm(data.forwarding);
  }, [data]);
  const save = (e: FormEvent) => {
    e.preventDefault();
    run(() => call('PUT', path, form));
  };
  return (
    <section aria-label={`Forwarding of ${address}`}>
      <h3>Forwarding</h3>
      {error && <p role="alert">{error}</p>}
      {message}
      {data?.modifiedElsewhere && <p>The account's "webmail" Sieve script was edited by hand; change forwarding with a Sieve client.</p>}
      {data?.otherActive && <p>Another Sieve script ({data.otherActive}) is active: forwarding saved here does not run until the user switches in the webmail.</p>}
      <form className="inline" onSubmit={save}>
        <label>
          <input type="checkbox" name="forward-enabled" checked={form.enabled} onChange={(e) => setForm({ ...form, enabled: e.target.checked })} /> Forward mail
        </label>
        <label>
          To <input name="forward-address" value={form.address} onChange={(e) => setForm({ ...form, address: e.target.value })} />
        </label>
        <label>
          <input type="checkbox" name="forward-keep" checked={form.keepCopy} onChange={(e) => setForm({ ...form, keepCopy: e.target.checked })} /> Keep a copy
        </label>
        <button type="submit" disabled={data?.modifiedElsewhere !== false}>
          Save forwarding
        </button>
      </form>
    </section>
  );
}
