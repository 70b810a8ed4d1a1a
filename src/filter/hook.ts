// The inbound filter step of delivery: one verdict per message, after SPF/DKIM/DMARC
// verification and before anything is stored (src/smtp/deliver.ts calls it).
//
// Order: trusted networks (no filtering) → per-IP message rate → greylisting →
// ClamAV, rspamd and the DNS lists at once → the built-in score → per-recipient
// placement (allow/block lists, learnt senders, the account's junk threshold).
//
// Rules:
// - A verdict is given before the reply to DATA, so nothing accepted is later
//   refused or silently dropped: reject and tempfail are SMTP replies, junk is a
//   delivery to the recipient's Junk mailbox.
// - An engine that does not answer never loses mail: fail open (deliver, marked)
//   or tempfail (451, the sender retries), as configured, and FilterHealth says so.
// - The headers of the verdict go above the message; X-Spam-* fields the sender
//   wrote are removed, so a client or a Sieve script only ever sees ours.

import { BlockList, isIP } from 'node:net';
import type { FilterConfig } from '../config/index.js';
import { parseCidr } from '../config/listen.js';
import type { Store } from '../store/store.js';
import { scanWithClamd, type ScanResult } from './clamav.js';
import { checkLists, expandIpv6, resolverA, type ListHit, type LookupA } from './dnsbl.js';
import { FilterHealth } from './health.js';
import { fromAddress, fromDomain, headerFields, headerHeuristics, rewriteHeader } from './headers.js';
import { MessageRate } from './rate.js';
import { RspamdClient, type RspamdResult } from './rspamd.js';

export interface FilterLogger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
  error(o: object, msg?: string): void;
  debug(o: object, msg?: string): void;
}

/** What delivery knows when it asks for a verdict. */
export interface FilterInput {
  /** The message as received, before any header of ours. */
  message: Buffer;
  ip: string;
  helo: string;
  /** MAIL FROM; '' for the null sender. */
  mailFrom: string;
  /** Envelope recipients as given at RCPT. */
  rcpts: string[];
  /** The local accounts the message is delivered to. */
  accountIds: number[];
  sessionId: string;
  /** From verification; null when nothing was verified. */
  auth: { spf: string; dkim: string[]; dmarc: { result: string } | null } | null;
}

export interface FilterReply {
  code: number;
  enhanced: string;
  text: string;
}

export type FilterVerdict =
  | {
      action: 'accept';
      /** Header lines (CRLF-terminated) to put above the message. */
      headers: string;
      /** Accounts whose copy goes to their Junk mailbox. */
      junk: ReadonlySet<number>;
      score: number;
      /** The message with the sender's X-Spam-* fields removed and, if asked, a new Subject. */
      rewrite(message: Buffer): Buffer;
    }
  | ({ action: 'reject' | 'tempfail'; reason: string } & FilterReply);

export interface InboundFilterOptions {
  store: Store;
  logger: FilterLogger;
  /** Our host name, given to rspamd. */
  hostname: string;
  config: FilterConfig;
  /** The [dns] servers ("ip" or "ip:port"); [] for the system's. */
  dnsServers: string[];
  health?: FilterHealth;
  /** Tests: a DNS lookup in place of the resolver. */
  lookup?: LookupA;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const LEARNT_SENDER_SCORE = 3;

export class InboundFilter {
  readonly health: FilterHealth;
  private readonly trusted = new BlockList();
  private readonly rate: MessageRate;
  private readonly lookup: LookupA;
  private readonly rspamd: RspamdClient | null;
  private lastPrune = 0;
  private pruning: Promise<void> = Promise.resolve();

  constructor(private readonly o: InboundFilterOptions) {
    const c = o.config;
    this.health = o.health ?? new FilterHealth();
    for (const n of c.trustedNetworks) {
      const cidr = parseCidr(n);
      if (cidr) this.trusted.addSubnet(cidr.address, cidr.prefix, cidr.family);
    }
    this.rate = new MessageRate(c.maxMessagesPerIpPerMinute);
    this.lookup = o.lookup ?? resolverA(o.dnsServers, c.dnsbl.timeoutMs);
    this.rspamd = c.rspamd ? new RspamdClient(c.rspamd) : null;
    if (c.rspamd) this.health.watch('rspamd');
    if (c.clamav) this.health.watch('clamav');
  }

  /** The client used for training; null when rspamd is not configured. */
  get rspamdClient(): RspamdClient | null {
    return this.rspamd;
  }

  async check(input: FilterInput): Promise<FilterVerdict> {
    const verdict = await this.decide(input);
    // Refusals are the operator's record of what never arrived (the sender has the reply).
    if (verdict.action === 'reject') this.o.logger.info({ session: input.sessionId, ip: input.ip, from: input.mailFrom, reason: verdict.reason }, 'filter refused a message');
    else if (verdict.action === 'tempfail') this.o.logger.debug({ session: input.sessionId, ip: input.ip, from: input.mailFrom, reason: verdict.reason }, 'filter deferred a message');
    return verdict;
  }

  private async decide(input: FilterInput): Promise<FilterVerdict> {
    const c = this.o.config;
    const ip = plainIp(input.ip);
    if (!c.enabled || this.isTrusted(ip)) return accept('', new Set(), 0, null);
    if (!this.rate.admit(ip)) {
      return { action: 'tempfail', code: 451, enhanced: '4.7.1', text: 'Too many messages from your address, try again later', reason: 'rate' };
    }
    const authenticated = input.auth !== null && (input.auth.spf === 'pass' || input.auth.dkim.includes('pass'));
    const grey = await this.greylist(input, ip, authenticated);
    if (grey) return grey;

    const fields = headerFields(input.message);
    const scan = input.message.length <= c.maxScanBytes;
    const tests: string[] = [];
    const [virus, spam, hits] = await Promise.all([
      scan && c.clamav ? this.scanVirus(input) : Promise.resolve(null),
      scan && this.rspamd ? this.checkRspamd(input) : Promise.resolve(null),
      checkLists(this.lookup, ip, [input.mailFrom.slice(input.mailFrom.lastIndexOf('@') + 1), fromDomain(fields) ?? '', input.helo].filter((d) => d.includes('.')), c.dnsbl.lists, c.dnsbl.domainLists),
    ]);

    if (virus === 'unavailable') {
      if (!c.clamav?.failOpen) return { action: 'tempfail', code: 451, enhanced: '4.3.0', text: 'Virus scanner unavailable, try again later', reason: 'clamav unavailable' };
      tests.push('CLAMAV_UNAVAILABLE');
    } else if (virus && !virus.clean) {
      return { action: 'reject', code: 554, enhanced: '5.7.1', text: `Message contains malware (${virus.virus}), rejected`, reason: `virus ${virus.virus}` };
    }

    let rspamdResult: RspamdResult | null = null;
    if (spam === 'unavailable') {
      if (!c.rspamd?.failOpen) return { action: 'tempfail', code: 451, enhanced: '4.3.0', text: 'Spam filter unavailable, try again later', reason: 'rspamd unavailable' };
      tests.push('RSPAMD_UNAVAILABLE');
    } else if (spam) {
      rspamdResult = spam;
      const refusal = spam.action === 'reject' && c.rspamd?.onReject === 'junk' ? null : rspamdRefusal(spam);
      if (refusal) return refusal;
    }

    const listScore = hits.reduce((s, h) => s + h.weight, 0);
    tests.push(...hits.map(hitName));
    let score: number;
    if (rspamdResult) {
      // rspamd weighs authentication and headers itself; the operator's own DNS lists add to it.
      score = rspamdResult.score + listScore;
      tests.push(...rspamdResult.symbols);
    } else {
      const own = [...authHits(input.auth), ...headerHeuristics(fields)];
      score = listScore + own.reduce((s, h) => s + h.score, 0);
      tests.push(...own.map((h) => h.name));
    }
    score = Math.round(score * 100) / 100;
    if (!rspamdResult && c.rejectScore > 0 && score >= c.rejectScore) {
      return { action: 'reject', code: 550, enhanced: '5.7.1', text: `Message rejected as spam (score ${score})`, reason: `score ${score}` };
    }

    // "reject" reaches here only when the operator wants it in Junk ([filter.rspamd] on_reject).
    const forcedJunk = rspamdResult !== null && ['add header', 'rewrite subject', 'reject'].includes(rspamdResult.action);
    const junk = await this.junkFor(input, fields, score, forcedJunk);
    const spamForDefault = forcedJunk || score >= c.junkScore;
    const subject = rspamdResult?.action === 'rewrite subject' ? rspamdResult.subject : null;
    const headers = spamHeaders(spamForDefault, score, c.junkScore, tests);
    this.o.logger.debug({ session: input.sessionId, score, junk: junk.size, tests }, 'filter verdict');
    return accept(headers, junk, score, subject);
  }

  /** Waits for background work (greylist pruning). */
  async close(): Promise<void> {
    await this.pruning;
  }

  private isTrusted(ip: string): boolean {
    const v = isIP(ip);
    return v !== 0 && this.trusted.check(ip, v === 4 ? 'ipv4' : 'ipv6');
  }

  private async greylist(input: FilterInput, ip: string, authenticated: boolean): Promise<FilterVerdict | null> {
    const g = this.o.config.greylist;
    if (!g.enabled || authenticated) return null;
    const policy = { delayMs: g.delaySeconds * 1000, retryWindowMs: g.retryWindowHours * HOUR, passMs: g.passDays * DAY };
    const now = Date.now();
    this.prune(now, policy.passMs + policy.retryWindowMs);
    let wait = 0;
    try {
      for (const rcpt of new Set(input.rcpts.map((r) => r.toLowerCase()))) {
        const r = await this.o.store.greylist(`${network(ip)}|${input.mailFrom.toLowerCase()}|${rcpt}`, policy, now);
        if (!r.pass) wait = Math.max(wait, r.retryAfterMs);
      }
    } catch (err) {
      // Greylisting is a nicety; a store hiccup must not hold mail back.
      this.o.logger.warn({ err, session: input.sessionId }, 'greylisting skipped: store error');
      return null;
    }
    if (wait === 0) return null;
    const seconds = Math.max(1, Math.ceil(wait / 1000));
    return { action: 'tempfail', code: 451, enhanced: '4.7.1', text: `Greylisted, please try again in ${seconds} seconds`, reason: 'greylisted' };
  }

  private prune(now: number, keepMs: number): void {
    if (now - this.lastPrune < HOUR) return;
    this.lastPrune = now;
    this.pruning = this.o.store.pruneGreylist(new Date(now - keepMs)).then(
      () => undefined,
      (err: unknown) => this.o.logger.warn({ err }, 'greylist pruning failed'),
    );
  }

  private async scanVirus(input: FilterInput): Promise<ScanResult | 'unavailable'> {
    const clam = this.o.config.clamav;
    if (!clam) return { clean: true };
    try {
      const r = await scanWithClamd(clam.target, input.message, clam.timeoutMs);
      this.health.up('clamav');
      return r;
    } catch (err) {
      this.health.down('clamav', (err as Error).message);
      this.o.logger.warn({ err, session: input.sessionId }, 'clamd did not scan the message');
      return 'unavailable';
    }
  }

  private async checkRspamd(input: FilterInput): Promise<RspamdResult | 'unavailable'> {
    if (!this.rspamd) return 'unavailable';
    try {
      const r = await this.rspamd.check(input.message, {
        ip: input.ip,
        helo: input.helo,
        mailFrom: input.mailFrom,
        rcpts: input.rcpts,
        hostname: this.o.hostname,
        queueId: input.sessionId,
      });
      this.health.up('rspamd');
      return r;
    } catch (err) {
      this.health.down('rspamd', (err as Error).message);
      this.o.logger.warn({ err, session: input.sessionId }, 'rspamd did not check the message');
      return 'unavailable';
    }
  }

  /** Per account: allow list → never junk; block list → junk; else score (+ learnt sender) ≥ threshold. */
  private async junkFor(input: FilterInput, fields: ReturnType<typeof headerFields>, score: number, forced: boolean): Promise<Set<number>> {
    const senders = [input.mailFrom.toLowerCase(), fromAddress(fields) ?? ''].filter((s) => s.includes('@'));
    const learnt = fromAddress(fields) ?? input.mailFrom.toLowerCase();
    const junk = new Set<number>();
    for (const accountId of new Set(input.accountIds)) {
      const settings = await this.o.store.getFilterSettings(accountId);
      if (senders.some((s) => settings.allow.some((p) => matches(s, p)))) continue;
      if (senders.some((s) => settings.block.some((p) => matches(s, p)))) {
        junk.add(accountId);
        continue;
      }
      let own = score;
      if (learnt !== '') {
        const rep = await this.o.store.senderReputation(accountId, learnt);
        if (rep.spam > rep.ham) own += LEARNT_SENDER_SCORE;
        else if (rep.ham > rep.spam) own -= LEARNT_SENDER_SCORE;
      }
      if (forced || own >= (settings.junkScore ?? this.o.config.junkScore)) junk.add(accountId);
    }
    return junk;
  }
}

function accept(headers: string, junk: Set<number>, score: number, subject: string | null): FilterVerdict {
  return { action: 'accept', headers, junk, score, rewrite: (m) => rewriteHeader(m, subject) };
}

function rspamdRefusal(r: RspamdResult): FilterVerdict | null {
  switch (r.action) {
    case 'reject':
      return { action: 'reject', code: 550, enhanced: '5.7.1', text: r.smtpMessage ?? 'Message rejected as spam', reason: `rspamd reject ${r.score}` };
    case 'soft reject':
      return { action: 'tempfail', code: 451, enhanced: '4.7.1', text: r.smtpMessage ?? 'Message deferred, try again later', reason: 'rspamd soft reject' };
    case 'greylist':
      return { action: 'tempfail', code: 451, enhanced: '4.7.1', text: r.smtpMessage ?? 'Greylisted, please try again later', reason: 'rspamd greylist' };
    default:
      return null;
  }
}

function authHits(auth: FilterInput['auth']): Array<{ name: string; score: number }> {
  if (!auth) return [];
  const hits: Array<{ name: string; score: number }> = [];
  if (auth.spf === 'fail') hits.push({ name: 'SPF_FAIL', score: 2 });
  else if (auth.spf === 'softfail') hits.push({ name: 'SPF_SOFTFAIL', score: 1 });
  if (auth.dkim.includes('fail') && !auth.dkim.includes('pass')) hits.push({ name: 'DKIM_FAIL', score: 1 });
  if (auth.dmarc?.result === 'fail') hits.push({ name: 'DMARC_FAIL', score: 3 });
  else if (auth.dmarc?.result === 'pass') hits.push({ name: 'DMARC_PASS', score: -1 });
  return hits;
}

function hitName(h: ListHit): string {
  return `${h.subject.includes('.') && isIP(h.subject) === 0 ? 'RHSBL' : 'DNSBL'}_${h.zone}=${h.codes[0] ?? ''}`;
}

/** An address matches its own address, its domain and parent domains. */
function matches(address: string, pattern: string): boolean {
  if (pattern.includes('@')) return address === pattern;
  const domain = address.slice(address.lastIndexOf('@') + 1);
  return domain === pattern || domain.endsWith(`.${pattern}`);
}

function plainIp(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/** Senders retry from another address of their pool: greylist by /24 (IPv4) or /64 (IPv6). */
function network(ip: string): string {
  if (isIP(ip) === 4) return `${ip.split('.').slice(0, 3).join('.')}.0/24`;
  return `${expandIpv6(ip).slice(0, 16)}/64`;
}

/** X-Spam-Status in SpamAssassin's shape, which clients and Sieve scripts already know. */
function spamHeaders(spam: boolean, score: number, required: number, tests: string[]): string {
  const list = [...new Set(tests)].filter((t) => /^[\w.=:-]+$/.test(t)).slice(0, 60);
  let status = `X-Spam-Status: ${spam ? 'Yes' : 'No'}, score=${score.toFixed(2)} required=${required.toFixed(2)}`;
  let line = `${status} tests=`;
  status = '';
  for (const [i, t] of list.entries()) {
    const piece = `${t}${i < list.length - 1 ? ',' : ''}`;
    if (line.length + piece.length > 76) {
      status += `${line}\r\n`;
      line = `\t${piece}`;
    } else line += piece;
  }
  if (list.length === 0) line += 'none';
  status += `${line}\r\n`;
  return `${status}X-Spam-Score: ${score.toFixed(2)}\r\n${spam ? 'X-Spam-Flag: YES\r\n' : ''}`;
}
