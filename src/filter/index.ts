// Inbound filtering (docs/filtering.md): the verdict step of SMTP delivery (hook.ts)
// and the learning from Junk moves (learn.ts), built once per process from [filter].

import type { FilterConfig } from '../config/index.js';
import type { Store } from '../store/store.js';
import { FilterHealth } from './health.js';
import { InboundFilter, type FilterLogger } from './hook.js';
import { JunkLearner } from './learn.js';

export { InboundFilter, type FilterInput, type FilterVerdict } from './hook.js';
export { JunkLearner, type MailboxTransfer } from './learn.js';
export { FilterHealth, type FilterStatus } from './health.js';

export interface FilterService {
  readonly inbound: InboundFilter;
  readonly learner: JunkLearner;
  readonly health: FilterHealth;
  close(): Promise<void>;
}

export function createFilterService(o: { config: FilterConfig; store: Store; logger: FilterLogger; hostname: string; dnsServers: string[] }): FilterService {
  const health = new FilterHealth((engine, state) => {
    if (state.ok) o.logger.info({ engine }, `filter: ${engine} answers again`);
    else o.logger.warn({ engine, error: state.lastError }, `filter degraded: ${engine} does not answer`);
  });
  const inbound = new InboundFilter({ store: o.store, logger: o.logger, hostname: o.hostname, config: o.config, dnsServers: o.dnsServers, health });
  const learner = new JunkLearner({ store: o.store, logger: o.logger, rspamd: inbound.rspamdClient, maxScanBytes: o.config.maxScanBytes });
  return {
    inbound,
    learner,
    health,
    async close() {
      await learner.close();
      await inbound.close();
    },
  };
}
