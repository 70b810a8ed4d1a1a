// The DNS records a hosted domain should publish, derived from this server's real
// configuration: the host name it greets with, the listeners that are on and their
// ports, and the domain's DKIM key. Pure: no DNS, no files (the DKIM record is passed in).
//
// RFC 5321 5.1 (MX), RFC 7208 (SPF), RFC 6376 3.6.1 (DKIM), RFC 7489 (DMARC),
// RFC 8461 3.1 (MTA-STS TXT), RFC 6186 (SRV for submission, IMAP, POP3; a service
// that is not offered is published with the target "." so clients do not try it).

import type { Config, ListenerName } from '../config/index.js';

export type DnsRecordType = 'MX' | 'TXT' | 'SRV' | 'CNAME';

export interface ExpectedRecord {
  type: DnsRecordType;
  /** Fully qualified, without the trailing dot. */
  name: string;
  /** MX: `10 host`; SRV: `priority weight port target`; TXT: the text; CNAME: the target. */
  value: string;
  /**
   * 'exact': DNS must hold this value. 'prefix': one record of the name starting with
   * `match` is enough (SPF, DMARC and MTA-STS policies are the domain owner's choice).
   */
  check: { kind: 'exact' } | { kind: 'prefix'; match: string };
  /** Why it is needed, for the operator. */
  purpose: string;
}

/** RFC 6186 services and the listener that serves each. */
const SRV_SERVICES: ReadonlyArray<{ service: string; listener: ListenerName; purpose: string }> = [
  { service: '_submission._tcp', listener: 'submission', purpose: 'mail clients find SMTP submission with STARTTLS (RFC 6186)' },
  { service: '_submissions._tcp', listener: 'submissions', purpose: 'mail clients find SMTP submission over implicit TLS (RFC 8314)' },
  { service: '_imap._tcp', listener: 'imap', purpose: 'mail clients find IMAP with STARTTLS (RFC 6186)' },
  { service: '_imaps._tcp', listener: 'imaps', purpose: 'mail clients find IMAP over implicit TLS (RFC 6186)' },
  { service: '_pop3._tcp', listener: 'pop3', purpose: 'mail clients find POP3 with STARTTLS (RFC 6186)' },
  { service: '_pop3s._tcp', listener: 'pop3s', purpose: 'mail clients find POP3 over implicit TLS (RFC 6186)' },
];

export interface RecordInputs {
  hostname: string;
  listen: Config['listen'];
  /** The domain's DKIM record, when it has a key. */
  dkim?: { name: string; value: string } | undefined;
}

export function expectedRecords(domain: string, inputs: RecordInputs): ExpectedRecord[] {
  const host = inputs.hostname.toLowerCase().replace(/\.$/, '');
  const records: ExpectedRecord[] = [
    { type: 'MX', name: domain, value: `10 ${host}`, check: { kind: 'exact' }, purpose: 'other mail servers deliver mail for the domain to this host' },
    { type: 'TXT', name: domain, value: `v=spf1 mx a:${host} -all`, check: { kind: 'prefix', match: 'v=spf1' }, purpose: 'receivers accept mail from this host with the domain as sender (SPF)' },
  ];
  if (inputs.dkim) {
    records.push({ type: 'TXT', name: inputs.dkim.name, value: inputs.dkim.value, check: { kind: 'exact' }, purpose: 'receivers verify the DKIM signatures of mail sent from the domain' });
  }
  records.push(
    { type: 'TXT', name: `_dmarc.${domain}`, value: `v=DMARC1; p=none; rua=mailto:postmaster@${domain}`, check: { kind: 'prefix', match: 'v=DMARC1' }, purpose: 'receivers apply the domain owner’s policy to mail failing SPF and DKIM (DMARC)' },
    { type: 'TXT', name: `_mta-sts.${domain}`, value: 'v=STSv1; id=1', check: { kind: 'prefix', match: 'v=STSv1' }, purpose: 'senders require TLS to this host (MTA-STS; also serve the policy at https://mta-sts.<domain>/.well-known/mta-sts.txt)' },
  );
  for (const s of SRV_SERVICES) {
    const address = inputs.listen[s.listener];
    records.push({
      type: 'SRV',
      name: `${s.service}.${domain}`,
      value: address ? `0 1 ${address.port} ${host}` : '0 0 0 .',
      check: { kind: 'exact' },
      purpose: address ? s.purpose : `${s.purpose}: the listener is off, so the record says the service is not offered`,
    });
  }
  records.push(
    { type: 'CNAME', name: `autoconfig.${domain}`, value: host, check: { kind: 'exact' }, purpose: 'Thunderbird and others fetch their settings from this host' },
    { type: 'CNAME', name: `autodiscover.${domain}`, value: host, check: { kind: 'exact' }, purpose: 'Outlook fetches its settings from this host' },
  );
  return records;
}

/** A record as a zone-file line (TXT split into 255-byte strings, RFC 1035 3.3.14). */
export function zoneLine(r: ExpectedRecord): string {
  const value = r.type === 'TXT' ? (r.value.match(/.{1,255}/g) ?? ['']).map((c) => `"${c.replace(/(["\\])/g, '\\$1')}"`).join(' ') : r.type === 'CNAME' || r.type === 'MX' || r.type === 'SRV' ? (r.value.endsWith('.') ? r.value : `${r.value}.`) : r.value;
  return `${r.name}. 3600 IN ${r.type} ${value}`;
}
