// Certificate expiry as a Prometheus gauge, read at scrape time from the certificate store.
import { Gauge, type Registry } from 'prom-client';
import type { CertificateStore } from './cert-store.js';
import { acmeStatus } from './acme.js';

/**
 * `steadymail_tls_certificate_expiry_seconds{name}`: seconds until the certificate served
 * for `name` expires (negative once expired). Alert on it well before zero.
 */
export function registerCertificateMetrics(registry: Registry, certificates: CertificateStore): void {
  new Gauge({
    name: 'steadymail_tls_certificate_expiry_seconds',
    aggregator: 'min',
    help: 'Seconds until the certificate served for the name expires (negative: expired)',
    labelNames: ['name', 'source'],
    registers: [registry],
    collect() {
      this.reset();
      const seen = new Set<string>();
      for (const s of certificates.summaries()) {
        for (const name of s.names) {
          if (seen.has(name)) continue;
          // The certificate clients asking for this name get.
          const served = certificates.select(name.startsWith('*.') ? `x${name.slice(1)}` : name);
          if (!served.names.includes(name)) continue;
          seen.add(name);
          this.set({ name, source: served.source }, Math.floor((served.notAfter.getTime() - Date.now()) / 1000));
        }
      }
    },
  });
}

/** `steadymail_acme_failures{name}`: failed attempts for a wanted name since its last success. */
export function registerAcmeMetrics(registry: Registry): void {
  new Gauge({
    name: 'steadymail_acme_failures',
    aggregator: 'max',
    help: 'Failed ACME attempts for the name since its last success',
    labelNames: ['name'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await acmeStatus().catch(() => [])) this.set({ name: s.name }, s.failures);
    },
  });
}
