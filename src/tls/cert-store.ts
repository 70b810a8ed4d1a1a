// The certificates this server presents, chosen per connection by the name the client
// asks for (SNI, RFC 6066 3). Every TLS listener takes its material from here.
//
// Sources:
// - the default certificate: tls.cert / tls.key, or the self-signed one in data_dir/tls/;
// - operator files: tls.extra_certs (pairs or combined PEM files) and every pair found in
//   tls.certs_dir (see docs/tls.md for the layouts);
// - ACME: certificates issued for configured names (acme.ts puts them here).
//
// Rules:
// - Selection: the exact name, then a wildcard one label up (RFC 6125 6.4.3), else the
//   default. Among several certificates for a name, a currently valid one with the
//   latest expiry wins. Without SNI (old Outlook) the default is presented.
// - The default is the operator's tls.cert when set; otherwise a CA-issued certificate
//   (files or ACME) for `hostname`, when one exists; otherwise the self-signed one.
// - A reload never drops a working certificate for a broken file: a file that cannot
//   be read or whose key does not match (a half-finished replacement) keeps the
//   previous certificate in service and is retried at the next reload.
// - Each certificate's SecureContext is built once, when it is loaded; a handshake costs
//   a map lookup.
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Logger } from '../log.js';
import { loadCertificate, type ServerCertificate } from './index.js';
import { fileStamp, scanDirectory, type FilePair } from './cert-files.js';
import { nameMatches, normalizeHostname, parsePair, type ParsedPair } from './pem.js';

export type CertificateSource = 'file' | 'acme' | 'self-signed';

export interface CertificateStoreConfig {
  hostname: string;
  dataDir: string;
  tls: {
    cert: string | null;
    key: string | null;
    /** Extra pairs; `key` equal to `cert` means one file holding both. */
    extraCerts: Array<{ cert: string; key: string }>;
    /** Directory scanned for pairs; null: none. */
    certsDir: string | null;
    /** Periodic check of the files (in addition to fs.watch); 0: only fs.watch and SIGHUP. */
    reloadIntervalSeconds: number;
    /** A certificate closer than this to its expiry is warned about (and degraded in monitoring). */
    expiryWarningDays: number;
  };
}

/** One certificate as the status page and the metrics show it. */
export interface CertificateSummary {
  /** Where it came from: a file path, `acme:<name>`, or the self-signed file. */
  id: string;
  source: CertificateSource;
  names: string[];
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  /** Negative once expired. */
  secondsLeft: number;
  daysLeft: number;
  /** `expiring`: fewer than tls.expiry_warning_days left. */
  status: 'ok' | 'expiring' | 'expired';
  /** Presented to clients that send no SNI. */
  isDefault: boolean;
}

/** What a TLS listener takes: the default certificate, SNI selection, and change notices. */
export interface ListenerTls {
  readonly key: string;
  readonly cert: string;
  /** Only for listeners in tls.legacy_versions_on: TLS 1.0 and its ciphers allowed. */
  readonly minVersion?: 'TLSv1';
  readonly ciphers?: string;
  SNICallback(servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void;
  /** Calls `listener` when the default certificate changed; returns the unsubscribe function. */
  onDefaultChange(listener: () => void): () => void;
}

interface Entry extends ParsedPair {
  id: string;
  source: CertificateSource;
  context: SecureContext;
  /** File identity (mtime, size, inode of cert and key) at load; '' for ACME. */
  stamp: string;
}

const DAY_MS = 86_400_000;

/**
 * TLS 1.0/1.1 for Outlook 2007/2010 on Windows XP/7 without updates. OpenSSL 3 refuses
 * them at its default security level (their handshake signs with SHA-1), hence level 0.
 */
const LEGACY_TLS = { minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' } as const;

function toEntry(id: string, source: CertificateSource, pair: ParsedPair, stamp: string): Entry {
  return { ...pair, id, source, stamp, context: createSecureContext({ cert: pair.cert, key: pair.key }) };
}

export class CertificateStore {
  private readonly events = new EventEmitter();
  /** Default (operator or self-signed) and file certificates, by id. */
  private files = new Map<string, Entry>();
  private readonly acme = new Map<string, Entry>();
  private byName = new Map<string, Entry[]>();
  private currentDefault!: Entry;
  private operatorDefault: FilePair | null;
  private reloading: Promise<void> = Promise.resolve();
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private firstPendingChange: number | undefined;
  private readonly warned = new Map<string, number>();
  /** The certificate from loadCertificate() at start (self-signed generation reported there). */
  initial!: ServerCertificate;

  private constructor(
    private readonly config: CertificateStoreConfig,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {
    this.operatorDefault =
      config.tls.cert !== null && config.tls.key !== null ? { id: config.tls.cert, certPath: config.tls.cert, keyPath: config.tls.key } : null;
  }

  /** Loads (or generates) the default certificate and every configured file; throws TlsError on a bad default. */
  static async open(config: CertificateStoreConfig, logger: Logger, options: { now?: () => number } = {}): Promise<CertificateStore> {
    const store = new CertificateStore(config, logger, options.now ?? Date.now);
    store.initial = await loadCertificate({ hostname: config.hostname, dataDir: config.dataDir, tls: { cert: config.tls.cert, key: config.tls.key } });
    const parsed = parsePair(store.initial.options.cert, store.initial.options.key, store.initial.certPath);
    const stamp = `${await fileStamp(store.initial.certPath)}|${await fileStamp(store.initial.keyPath)}`;
    const first = toEntry(store.initial.certPath, store.initial.selfSigned ? 'self-signed' : 'file', parsed, stamp);
    store.files.set(first.id, first);
    store.currentDefault = first;
    await store.reload('start');
    return store;
  }

  // ---- selection ---------------------------------------------------------------

  /** The certificate for a requested name, or the default. */
  select(servername: string | undefined): Entry {
    if (servername === undefined || servername === '') return this.currentDefault;
    return this.lookup(normalizeHostname(servername)) ?? this.currentDefault;
  }

  /** The best certificate whose names cover `host`, if any (exact before wildcard). */
  private lookup(host: string): Entry | undefined {
    const exact = this.byName.get(host);
    if (exact) return this.best(exact);
    const dot = host.indexOf('.');
    if (dot <= 0) return undefined;
    const wild = this.byName.get(`*.${host.slice(dot + 1)}`);
    return wild ? this.best(wild) : undefined;
  }

  private best(entries: Entry[]): Entry {
    const now = this.now();
    let best: Entry | undefined;
    for (const e of entries) {
      if (!best) {
        best = e;
        continue;
      }
      const valid = e.notBefore.getTime() <= now && now < e.notAfter.getTime();
      const bestValid = best.notBefore.getTime() <= now && now < best.notAfter.getTime();
      if (valid !== bestValid ? valid : e.notAfter.getTime() > best.notAfter.getTime()) best = e;
    }
    return best!;
  }

  get defaultCertificate(): { cert: string; key: string; id: string } {
    return { cert: this.currentDefault.cert, key: this.currentDefault.key, id: this.currentDefault.id };
  }

  /** The material every TLS listener is given. */
  listenerTls(options: { legacyVersions?: boolean } = {}): ListenerTls {
    const current = (): Entry => this.currentDefault;
    const select = (servername: string): Entry => this.select(servername);
    const events = this.events;
    return {
      // The protocol version range is the listener's own context's; SNI only swaps the certificate.
      ...(options.legacyVersions ? LEGACY_TLS : {}),
      get key() {
        return current().key;
      },
      get cert() {
        return current().cert;
      },
      SNICallback(servername, cb) {
        let ctx: SecureContext;
        try {
          ctx = select(servername).context;
        } catch (err) {
          cb(err as Error);
          return;
        }
        cb(null, ctx);
      },
      onDefaultChange(listener) {
        events.on('default', listener);
        return () => events.off('default', listener);
      },
    };
  }

  // ---- ACME certificates -------------------------------------------------------

  /** Adds or replaces the ACME certificate of `name`; throws PemError when the pair is unusable. */
  putAcme(name: string, cert: string, key: string): void {
    const id = `acme:${normalizeHostname(name)}`;
    const previous = this.acme.get(id);
    const parsed = parsePair(cert, key, id);
    if (previous?.fingerprint256 === parsed.fingerprint256) return;
    this.acme.set(id, toEntry(id, 'acme', parsed, ''));
    this.rebuild();
    this.logger.info({ certificate: id, names: parsed.names, notAfter: parsed.notAfter.toISOString() }, `TLS certificate ${previous ? 'renewed' : 'added'}: ${parsed.names.join(', ')}`);
  }

  /** The notAfter of the ACME certificate for `name`, if one is loaded. */
  acmeExpiry(name: string): Date | undefined {
    return this.acme.get(`acme:${normalizeHostname(name)}`)?.notAfter;
  }

  // ---- reload ------------------------------------------------------------------

  /** Re-reads every file whose identity changed; resolves when done (reloads never overlap). */
  reload(reason: string): Promise<void> {
    const run = this.reloading.then(() => this.reloadNow(reason));
    this.reloading = run.catch(() => undefined);
    return run;
  }

  private async reloadNow(reason: string): Promise<void> {
    const pairs = await this.filePairs();
    const next = new Map<string, Entry>();
    // The self-signed default is not watched: it is ours and generated once.
    if (this.operatorDefault === null) next.set(this.initial.certPath, this.files.get(this.initial.certPath)!);
    let changed = 0;
    for (const pair of pairs) {
      const previous = this.files.get(pair.id);
      let stamp: string;
      try {
        stamp = `${await fileStamp(pair.certPath)}|${await fileStamp(pair.keyPath)}`;
      } catch (err) {
        if (previous && pair === this.operatorDefault) {
          // The default cannot vanish: keep serving it until a usable file is back.
          this.logger.warn({ err, cert: pair.certPath }, 'the default TLS certificate file is missing; keeping the loaded one');
          next.set(pair.id, previous);
        }
        continue;
      }
      if (previous && previous.stamp === stamp) {
        next.set(pair.id, previous);
        continue;
      }
      try {
        const [certText, keyText] = await Promise.all([readFile(pair.certPath, 'utf8'), readFile(pair.keyPath, 'utf8')]);
        const parsed = parsePair(certText, keyText, pair.certPath);
        if (previous?.fingerprint256 === parsed.fingerprint256) {
          next.set(pair.id, { ...previous, stamp });
          continue;
        }
        next.set(pair.id, toEntry(pair.id, 'file', parsed, stamp));
        changed++;
        this.logger.info(
          { cert: pair.certPath, names: parsed.names, notAfter: parsed.notAfter.toISOString(), reason },
          `TLS certificate ${previous ? 'reloaded' : 'loaded'}: ${parsed.names.join(', ')}`,
        );
      } catch (err) {
        this.logger.warn({ err, cert: pair.certPath, key: pair.keyPath }, previous ? 'cannot reload a TLS certificate; keeping the loaded one' : 'cannot load a TLS certificate');
        if (previous) next.set(pair.id, previous);
      }
    }
    for (const id of this.files.keys()) {
      if (next.has(id)) continue;
      this.logger.info({ cert: id }, 'TLS certificate file removed; no longer served');
      changed++;
    }
    this.files = next;
    if (changed > 0 || reason === 'start') this.rebuild();
    this.warnExpiring();
  }

  /** The operator's pairs: default, extra_certs, then certs_dir (certbot's live/ layout too). */
  private async filePairs(): Promise<FilePair[]> {
    const pairs: FilePair[] = [];
    if (this.operatorDefault) pairs.push(this.operatorDefault);
    for (const p of this.config.tls.extraCerts) pairs.push({ id: p.cert, certPath: p.cert, keyPath: p.key });
    const dir = this.config.tls.certsDir;
    if (dir !== null) {
      try {
        pairs.push(...(await scanDirectory(dir)));
      } catch (err) {
        this.logger.warn({ err, dir }, 'cannot read tls.certs_dir');
      }
    }
    const seen = new Set<string>();
    return pairs.filter((p) => (seen.has(p.id) ? false : (seen.add(p.id), true)));
  }

  private rebuild(): void {
    const all = [...this.files.values(), ...this.acme.values()];
    const byName = new Map<string, Entry[]>();
    for (const e of all) {
      for (const n of e.names) {
        const list = byName.get(n) ?? [];
        list.push(e);
        byName.set(n, list);
      }
    }
    this.byName = byName;
    const previous = this.currentDefault;
    let chosen: Entry | undefined;
    if (this.operatorDefault) chosen = this.files.get(this.operatorDefault.id);
    if (!chosen) {
      const host = normalizeHostname(this.config.hostname);
      const issued = all.filter((e) => e.source !== 'self-signed' && !e.selfSigned && e.names.some((n) => nameMatches(n, host)));
      chosen = issued.length > 0 ? this.best(issued) : this.files.get(this.initial.certPath);
    }
    this.currentDefault = chosen ?? previous;
    if (previous !== this.currentDefault && previous !== undefined) {
      this.logger.info({ cert: this.currentDefault.id, names: this.currentDefault.names }, 'default TLS certificate changed');
      this.events.emit('default');
    }
  }

  // ---- watching ----------------------------------------------------------------

  /** fs.watch on the directories of every file, plus the periodic check; call close() to stop. */
  async watch(): Promise<void> {
    // Per directory, the names that matter (null: every name, certs_dir). A directory may
    // hold other busy files (the data directory, say): their changes must not keep
    // postponing the reload.
    const dirs = new Map<string, Set<string> | null>();
    const add = (path: string) => {
      const dir = dirname(path);
      const names = dirs.get(dir);
      if (names === null) return;
      if (names) names.add(basename(path));
      else dirs.set(dir, new Set([basename(path)]));
    };
    for (const p of await this.filePairs()) {
      add(p.certPath);
      add(p.keyPath);
    }
    if (this.config.tls.certsDir !== null) dirs.set(this.config.tls.certsDir, null);
    for (const [dir, names] of dirs) {
      try {
        const w = watch(dir, { persistent: false }, (_event, name) => {
          if (names === null || name === null || names.has(String(name))) this.scheduleReload('file change');
        });
        w.on('error', (err) => this.logger.debug({ err, dir }, 'TLS certificate directory watch failed; the periodic check remains'));
        this.watchers.push(w);
      } catch (err) {
        this.logger.debug({ err, dir }, 'cannot watch a TLS certificate directory; the periodic check remains');
      }
    }
    // Warnings must not depend on files changing or on the periodic check being on.
    this.expiryTimer = setInterval(() => this.warnExpiring(), 3_600_000);
    this.expiryTimer.unref();
    const seconds = this.config.tls.reloadIntervalSeconds;
    if (seconds > 0) {
      this.timer = setInterval(() => this.scheduleReload('periodic check'), seconds * 1000);
      this.timer.unref();
    }
  }

  /**
   * Editors and `cp` write in steps: wait for a quiet moment (200 ms) before reading,
   * but no more than 2 s after the first change, however busy the files are.
   */
  private scheduleReload(reason: string): void {
    clearTimeout(this.debounce);
    const now = Date.now();
    this.firstPendingChange ??= now;
    const wait = Math.max(0, Math.min(200, this.firstPendingChange + 2000 - now));
    this.debounce = setTimeout(() => {
      this.firstPendingChange = undefined;
      this.reload(reason).catch((err: unknown) => this.logger.warn({ err }, 'TLS certificate reload failed'));
    }, wait);
    this.debounce.unref();
  }

  close(): void {
    if (active === this) active = undefined;
    for (const w of this.watchers) w.close();
    this.watchers = [];
    clearInterval(this.timer);
    clearInterval(this.expiryTimer);
    clearTimeout(this.debounce);
    this.events.removeAllListeners();
  }

  // ---- expiry ------------------------------------------------------------------

  /** Every certificate in service, soonest expiry first. */
  summaries(): CertificateSummary[] {
    const now = this.now();
    const warnMs = this.config.tls.expiryWarningDays * DAY_MS;
    const out: CertificateSummary[] = [];
    for (const e of [...this.files.values(), ...this.acme.values()]) {
      const left = e.notAfter.getTime() - now;
      out.push({
        id: e.id,
        source: e.source,
        names: e.names,
        subject: e.subject,
        issuer: e.issuer,
        notBefore: e.notBefore.toISOString(),
        notAfter: e.notAfter.toISOString(),
        secondsLeft: Math.floor(left / 1000),
        daysLeft: Math.floor(left / DAY_MS),
        status: left <= 0 ? 'expired' : left < warnMs ? 'expiring' : 'ok',
        isDefault: e === this.currentDefault,
      });
    }
    return out.sort((a, b) => a.secondsLeft - b.secondsLeft);
  }

  /** Logs a warning per certificate below tls.expiry_warning_days, at most once a day each. */
  warnExpiring(): void {
    const now = this.now();
    for (const s of this.summaries()) {
      if (s.status === 'ok') continue;
      const last = this.warned.get(s.id);
      if (last !== undefined && now - last < DAY_MS) continue;
      this.warned.set(s.id, now);
      this.logger.warn(
        { certificate: s.id, names: s.names, notAfter: s.notAfter, daysLeft: s.daysLeft },
        s.status === 'expired' ? `TLS certificate expired: ${s.names.join(', ')}` : `TLS certificate expires in ${s.daysLeft} days: ${s.names.join(', ')}`,
      );
    }
  }
}

/** The store serving this process's listeners (the last one opened and not closed). */
let active: CertificateStore | undefined;

/** Marks `store` as the process's (for certificateSummaries()); undone by close(). */
export function setActiveCertificateStore(store: CertificateStore | undefined): void {
  active = store;
}

/**
 * Every certificate this process serves, soonest expiry first, for the status page and
 * probes: `status` is `expiring` below tls.expiry_warning_days (degraded) and `expired`
 * after notAfter. Empty before the server has started.
 */
export function certificateSummaries(): CertificateSummary[] {
  return active?.summaries() ?? [];
}
