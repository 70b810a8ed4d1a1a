// Domains: list, add, remove (audited by the store), the DKIM key, and the DNS records to
// publish with a live check against the configured [dns] servers.

import { normalizeDomain } from '../../address/index.js';
import { checkRecords, type CheckedRecord } from '../../ops/dns-check.js';
import { zoneLine, type ExpectedRecord } from '../../ops/dns-records.js';
import { domainRecords } from '../../ops/domain-records.js';
import { existingDkimRecord, generateDkimKey } from '../../smtp/queue/dkim.js';
import { audit, auditContext, body, notFound, str, type AdminCall } from './common.js';
import type { DomainInfo } from './types.js';

async function hosted(call: AdminCall): Promise<string> {
  const name = normalizeDomain(call.params.name ?? '');
  if (!(await call.ctx.store.getDomain(name))) throw notFound(`domain ${name}`);
  return name;
}

export async function listDomains(call: AdminCall): Promise<{ domains: DomainInfo[] }> {
  const { store, config } = call.ctx;
  const [domains, accounts, aliases] = await Promise.all([store.listDomains(), store.listAccounts(), store.listAliases()]);
  const out: DomainInfo[] = [];
  for (const d of domains) {
    out.push({
      name: d.name,
      createdAt: d.createdAt.toISOString(),
      accounts: accounts.filter((a) => a.domainId === d.id).length,
      aliases: aliases.filter((a) => a.domainId === d.id).length,
      dkim: (await existingDkimRecord(config.dataDir, d.name, config.outbound.dkimSelector)) !== undefined,
    });
  }
  return { domains: out };
}

export async function addDomain(call: AdminCall): Promise<{ name: string }> {
  const name = normalizeDomain(str(body(call).name, 'name', { max: 253 }));
  await call.ctx.store.createDomain(name);
  await audit(call, 'domain.add', name);
  return { name };
}

export async function removeDomain(call: AdminCall): Promise<{ ok: true }> {
  const name = await hosted(call);
  await call.ctx.store.deleteDomain(name, auditContext(call), { force: call.query.force === 'true' });
  return { ok: true };
}

export async function createDkim(call: AdminCall): Promise<{ created: boolean; name: string; value: string }> {
  const name = await hosted(call);
  const { config } = call.ctx;
  const key = await generateDkimKey(config.dataDir, name, config.outbound.dkimSelector);
  await audit(call, 'domain.dkim', name, { created: key.created, selector: config.outbound.dkimSelector });
  return { created: key.created, name: key.name, value: key.value };
}

export async function records(call: AdminCall): Promise<{ records: Array<ExpectedRecord & { zone: string }> }> {
  const name = await hosted(call);
  return { records: (await domainRecords(call.ctx.config, name, call.ctx.listeners?.())).map((r) => ({ ...r, zone: zoneLine(r) })) };
}

export async function checkDns(call: AdminCall): Promise<{ records: Array<CheckedRecord & { zone: string }> }> {
  const name = await hosted(call);
  const { config } = call.ctx;
  const checked = await checkRecords(await domainRecords(config, name, call.ctx.listeners?.()), { servers: config.dns.servers, timeoutMs: config.admin.dnsTimeoutMs });
  return { records: checked.map((r) => ({ ...r, zone: zoneLine(r) })) };
}
