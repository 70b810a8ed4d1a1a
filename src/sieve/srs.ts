// Sender Rewriting Scheme for redirected mail: the forwarded copy's envelope
// sender becomes SRS0=HHHH=TT=domain=local@<forwarding domain>, so SPF at the
// destination checks our domain, and a bounce comes back to us and is sent on
// to the original sender.
//
// Rules:
// - The null sender stays null (a bounce is never rewritten).
// - HHHH is an HMAC of the timestamp and the original address with a secret;
//   reverse() accepts only a valid hash younger than MAX_AGE_DAYS, so the
//   rewritten addresses cannot be used as an open relay.
// - The secret comes from `sieve.srs_secret`, else from data_dir/srs.secret
//   (generated once). Farm nodes must share it: set the key there.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const MAX_AGE_DAYS = 21;

function today(now: number): number {
  return Math.floor(now / 86_400_000) % 1024;
}

function timestamp(day: number): string {
  return BASE32[(day >> 5) & 31]! + BASE32[day & 31]!;
}

export class Srs {
  constructor(
    private readonly secret: string,
    private readonly now: () => number = Date.now,
  ) {}

  private hash(ts: string, domain: string, local: string): string {
    const mac = createHmac('sha256', this.secret).update(`${ts}=${domain.toLowerCase()}=${local.toLowerCase()}`).digest();
    let out = '';
    for (let i = 0; i < 4; i++) out += BASE32[mac[i]! & 31]!;
    return out;
  }

  /** The rewritten sender for mail forwarded by `forwardingDomain`. */
  forward(sender: string, forwardingDomain: string): string {
    if (sender === '') return '';
    const at = sender.lastIndexOf('@');
    if (at < 0) return sender;
    const local = sender.slice(0, at);
    const domain = sender.slice(at + 1);
    if (domain.toLowerCase() === forwardingDomain.toLowerCase()) return sender;
    const ts = timestamp(today(this.now()));
    return `SRS0=${this.hash(ts, domain, local)}=${ts}=${domain}=${local}@${forwardingDomain}`;
  }

  /** The original sender of an SRS0 address, or null when it is not one of ours, forged or too old. */
  reverse(address: string): string | null {
    const m = /^SRS0=([A-Za-z2-7]{4})=([A-Za-z2-7]{2})=([^=@]+)=([^@]+)@[^@]+$/i.exec(address);
    if (!m) return null;
    const [, hash, ts, domain, local] = m as unknown as [string, string, string, string, string];
    const expected = Buffer.from(this.hash(ts.toUpperCase(), domain, local));
    const given = Buffer.from(hash.toUpperCase());
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    const day = BASE32.indexOf(ts[0]!.toUpperCase()) * 32 + BASE32.indexOf(ts[1]!.toUpperCase());
    const age = (today(this.now()) - day + 1024) % 1024;
    if (age > MAX_AGE_DAYS) return null;
    return `${local}@${domain}`;
  }
}

/** The configured secret, or the one kept in data_dir/srs.secret (created on first use). */
export function loadSrsSecret(configured: string | null, dataDir: string): string {
  if (configured !== null) return configured;
  const file = join(dataDir, 'srs.secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const secret = randomBytes(32).toString('hex');
    try {
      writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
      return secret;
    } catch {
      // Another process created it first.
      return readFileSync(file, 'utf8').trim();
    }
  }
}
