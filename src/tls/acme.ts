// Certificates from an ACME CA (RFC 8555) for the configured host names, validated with
// HTTP-01 (RFC 8555 8.3) on our HTTP listener, renewed before they expire.
//
// Rules:
// - Everything a farm must share is in the store: the account key (one per directory),
//   the certificates and their renewal state, the challenge tokens. Any node answers
//   the CA's validation request (acme-http.ts); a lease per name lets one node at a
//   time order its certificate; every node loads what another obtained.
// - One certificate per name: a name whose DNS does not point here fails alone.
// - Renewal when fewer than renew_days_before days are left; after a failure the next
//   attempt waits retry_min_seconds, doubling up to retry_max_seconds (kept in the
//   store, so a restart does not hammer the CA). The old certificate stays in service.
// - Issuance runs in the background; start-up never waits for the CA.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { StoredCertificate } from '../store/types.js';
import type { CertificateStore } from './cert-store.js';
import { normalizeHostname } from './pem.js';

export interface AcmeSettings {
  directoryUrl: string;
  email: string | null;
  termsAgreed: boolean;
  names: string[];
  domainNames: string[];
  renewDaysBefore: number;
  checkIntervalSeconds: number;
  retryMinSeconds: number;
  retryMaxSeconds: number;
  keyType: 'rsa' | 'ecdsa';
  caFile: string | null;
}

export interface AcmeManagerOptions {
  /** false: only load the certificates other nodes obtained (acme.enabled off here). */
  order?: boolean;
  settings: AcmeSettings;
  store: Store;
  certificates: CertificateStore;
  logger: Logger;
  /** Who holds the per-name lease (host:pid). */
  holder: string;
  now?: () => number;
  /** Poll interval of the ACME client while the CA validates (tests shorten it). */
  pollMs?: number;
}

/** Lifetime of a challenge token in the store; an abandoned attempt's token expires. */
const CHALLENGE_TTL_MS = 3_600_000;
/** Longest an order may take before another node may try the same name. */
const LEASE_MS = 10 * 60_000;
const DAY_MS = 86_400_000;
const REQUEST_TIMEOUT_MS = 30_000;

type AcmeModule = typeof import('acme-client');

/** A wanted name's ACME state, for the status page and metrics. */
export interface AcmeNameStatus {
  name: string;
  /** ISO time; null until a certificate was issued. */
  notAfter: string | null;
  /** Failed attempts since the last success (the certificate, if any, stays in service). */
  failures: number;
  lastError: string | null;
  nextAttemptAt: string | null;
}

export interface AcmeManager {
  /** Loads the certificates in the store (before the listeners start, so none is served late). */
  loadStored(): Promise<void>;
  /** Every wanted name with its certificate's expiry and its failures, from the store. */
  status(): Promise<AcmeNameStatus[]>;
  /** Loads the stored certificates, then checks names at once and every check_interval_seconds. */
  start(): void;
  /** One pass: load what other nodes issued, order what is due (when ordering); resolves when done. */
  runOnce(): Promise<void>;
  /** No new passes; waits up to `graceMs` for one running (an order in flight is abandoned; its lease expires). */
  stop(graceMs?: number): Promise<void>;
}

/** The names wanted: acme.names plus each template applied to every hosted domain. */
export async function wantedNames(settings: Pick<AcmeSettings, 'names' | 'domainNames'>, store: Store): Promise<string[]> {
  const names = new Set(settings.names.map(normalizeHostname));
  if (settings.domainNames.length > 0) {
    for (const d of await store.listDomains()) {
      for (const t of settings.domainNames) names.add(normalizeHostname(t.replaceAll('{domain}', d.name)));
    }
  }
  return [...names].filter((n) => n !== '').sort();
}

export function createAcmeManager(options: AcmeManagerOptions): AcmeManager {
  const { settings, store, certificates, holder } = options;
  const log = options.logger.child({ component: 'acme' });
  const now = options.now ?? Date.now;
  let acme: AcmeModule | undefined;
  let client: InstanceType<AcmeModule['Client']> | undefined;
  /** updatedAt of the stored certificate last loaded, by name. */
  const loaded = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let syncTimer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const loadModule = async (): Promise<AcmeModule> => {
    if (acme) return acme;
    // Loaded on first use: most servers never talk to a CA.
    const mod = (await import('acme-client')) as AcmeModule & { default?: AcmeModule };
    acme = mod.default ?? mod;
    acme.setLogger(() => undefined);
    // A CA that stops answering must not hold the pass (and the name's lease) forever.
    acme.axios.defaults.timeout = REQUEST_TIMEOUT_MS;
    // A private CA (tests, an internal CA): trusted for the directory's HTTPS only.
    if (settings.caFile !== null) acme.axios.defaults.httpsAgent = new https.Agent({ ca: readFileSync(settings.caFile, 'utf8') });
    return acme;
  };

  /** The client with the farm's one account key for this directory, registered. */
  const getClient = async (): Promise<InstanceType<AcmeModule['Client']>> => {
    if (client) return client;
    const m = await loadModule();
    let account = await store.getAcmeAccount(settings.directoryUrl);
    if (!account) {
      const keyPem = (await m.crypto.createPrivateEcdsaKey('P-256')).toString();
      account = await store.saveAcmeAccount({ directoryUrl: settings.directoryUrl, keyPem, accountUrl: null });
    }
    const backoff = options.pollMs !== undefined ? { backoffMin: options.pollMs, backoffMax: options.pollMs * 4 } : {};
    const c = new m.Client({ directoryUrl: settings.directoryUrl, accountKey: account.keyPem, ...backoff });
    // RFC 8555 7.3: newAccount with a known key returns that account; a CA that lost it
    // (a reset staging or test CA) registers it again. Once per client, so it heals itself.
    await c.createAccount({ termsOfServiceAgreed: settings.termsAgreed, ...(settings.email ? { contact: [`mailto:${settings.email}`] } : {}) });
    if (c.getAccountUrl() !== account.accountUrl) {
      await store.saveAcmeAccount({ directoryUrl: settings.directoryUrl, keyPem: account.keyPem, accountUrl: c.getAccountUrl() });
      log.info({ directory: settings.directoryUrl, account: c.getAccountUrl() }, 'ACME account registered');
    }
    client = c;
    return c;
  };

  /** Orders, validates and stores a certificate for `name` (RFC 8555 7.4). */
  const issue = async (name: string): Promise<void> => {
    const m = await loadModule();
    const c = await getClient();
    const order = await c.createOrder({ identifiers: [{ type: 'dns', value: name }] });
    const tokens: string[] = [];
    try {
      for (const authz of await c.getAuthorizations(order)) {
        if (authz.status === 'valid') continue;
        const challenge = authz.challenges.find((ch) => ch.type === 'http-01');
        if (!challenge) throw new Error(`the CA offers no http-01 challenge for ${authz.identifier.value}`);
        const keyAuthorization = await c.getChallengeKeyAuthorization(challenge);
        await store.putAcmeChallenge(challenge.token, keyAuthorization, name, new Date(Date.now() + CHALLENGE_TTL_MS));
        tokens.push(challenge.token);
        await c.completeChallenge(challenge);
        await c.waitForValidStatus(challenge);
      }
      const key = settings.keyType === 'rsa' ? await m.crypto.createPrivateRsaKey(2048) : await m.crypto.createPrivateEcdsaKey('P-256');
      const [, csr] = await m.crypto.createCsr({ commonName: name, altNames: [name] }, key);
      const finalized = await c.finalizeOrder(order, csr);
      const cert = await c.getCertificate(finalized);
      const notAfter = new Date(new X509Certificate(cert).validTo);
      await store.saveTlsCertificate(name, cert, key.toString(), notAfter);
      certificates.putAcme(name, cert, key.toString());
      const row = await store.getTlsCertificate(name);
      if (row) loaded.set(name, row.updatedAt.getTime());
      log.info({ name, notAfter: notAfter.toISOString() }, `ACME certificate issued for ${name}`);
    } finally {
      for (const token of tokens) await store.deleteAcmeChallenge(token).catch(() => undefined);
    }
  };

  const failed = async (name: string, row: StoredCertificate | undefined, err: unknown): Promise<void> => {
    const failures = (row?.failures ?? 0) + 1;
    const delay = Math.min(settings.retryMaxSeconds, settings.retryMinSeconds * 2 ** Math.min(failures - 1, 30)) * 1000;
    const next = new Date(now() + delay);
    const message = err instanceof Error ? err.message : String(err);
    await store.recordTlsCertificateFailure(name, message.slice(0, 2000), next);
    log.warn({ name, failures, nextAttemptAt: next.toISOString(), err: message }, `ACME certificate for ${name} failed; next attempt in ${Math.round(delay / 1000)} s`);
  };

  /** Loads certificates another node (or an earlier run) stored. */
  const sync = (rows: StoredCertificate[]): void => {
    for (const row of rows) {
      if (row.certPem === null || row.keyPem === null) continue;
      if (loaded.get(row.name) === row.updatedAt.getTime()) continue;
      try {
        certificates.putAcme(row.name, row.certPem, row.keyPem);
        loaded.set(row.name, row.updatedAt.getTime());
      } catch (err) {
        log.error({ err, name: row.name }, 'a stored ACME certificate is unusable');
        loaded.set(row.name, row.updatedAt.getTime());
      }
    }
  };

  const isDue = (row: StoredCertificate | undefined, t: number): boolean => {
    if (row?.nextAttemptAt && row.nextAttemptAt.getTime() > t) return false;
    if (!row?.certPem || !row.notAfter) return true;
    return row.notAfter.getTime() - t < settings.renewDaysBefore * DAY_MS;
  };

  const ordering = options.order ?? true;

  const pass = async (): Promise<void> => {
    const rows = new Map((await store.listTlsCertificates()).map((r) => [r.name, r]));
    sync([...rows.values()]);
    if (!ordering) return;
    for (const name of await wantedNames(settings, store)) {
      if (stopped) return;
      if (!isDue(rows.get(name), now())) continue;
      const key = `acme:${name}`;
      if (!(await store.acquireLease(key, holder, LEASE_MS))) continue;
      try {
        // Another node may have finished between our read and the lease.
        const row = await store.getTlsCertificate(name);
        if (row && row.updatedAt.getTime() !== rows.get(name)?.updatedAt.getTime()) sync([row]);
        if (!isDue(row, now())) continue;
        try {
          await issue(name);
        } catch (err) {
          // The next attempt starts with a fresh client and account check.
          client = undefined;
          await failed(name, row, err);
        }
      } finally {
        await store.releaseLease(key, holder);
      }
    }
  };

  const runOnce = (): Promise<void> => {
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      runOnce()
        .catch((err: unknown) => log.error({ err }, 'ACME check failed'))
        .finally(schedule);
    }, settings.checkIntervalSeconds * 1000);
    timer.unref();
  };

  const status = async (): Promise<AcmeNameStatus[]> => {
    const rows = new Map((await store.listTlsCertificates()).map((r) => [r.name, r]));
    return (await wantedNames(settings, store)).map((name) => {
      const row = rows.get(name);
      return {
        name,
        notAfter: row?.certPem && row.notAfter ? row.notAfter.toISOString() : null,
        failures: row?.failures ?? 0,
        lastError: row?.lastError ?? null,
        nextAttemptAt: row?.nextAttemptAt?.toISOString() ?? null,
      };
    });
  };

  const manager: AcmeManager = {
    status,
    async loadStored() {
      sync(await store.listTlsCertificates());
    },
    start() {
      if (ordering && !settings.termsAgreed) throw new Error('ACME needs acme.terms_agreed = true');
      const first = runOnce().catch((err: unknown) => log.error({ err }, 'ACME check failed'));
      if (ordering) void first.finally(schedule);
      // Certificates another node obtained are served here within a minute.
      syncTimer = setInterval(() => {
        store.listTlsCertificates().then(sync, (err: unknown) => log.warn({ err }, 'cannot read the stored ACME certificates'));
      }, Math.min(60, settings.checkIntervalSeconds) * 1000);
      syncTimer.unref();
    },
    runOnce,
    async stop(graceMs = 10_000) {
      if (active === manager) active = undefined;
      stopped = true;
      clearTimeout(timer);
      clearInterval(syncTimer);
      if (!running) return;
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([running.catch(() => undefined), new Promise<void>((resolve) => (timeout = setTimeout(resolve, graceMs)))]);
      clearTimeout(timeout);
    },
  };
  if (ordering) active = manager;
  return manager;
}

/** The manager ordering certificates in this process, if any. */
let active: AcmeManager | undefined;

/**
 * The ACME state of every wanted name (certificate expiry, failures, last error, next
 * attempt) for the status page; empty when this process does not order certificates.
 * A name with `notAfter` null and `failures` > 0 has no certificate yet: degraded.
 */
export async function acmeStatus(): Promise<AcmeNameStatus[]> {
  return (await active?.status()) ?? [];
}
