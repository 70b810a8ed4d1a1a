// A hosted domain's expected DNS records from the configuration and its DKIM key file:
// what `steadymail domain records` prints and the operator console shows.
import type { Config, ListenAddress, ListenerName } from '../config/index.js';
import { existingDkimRecord } from '../smtp/queue/dkim.js';
import { expectedRecords, type ExpectedRecord } from './dns-records.js';

/** `bound`: the addresses the running server's listeners really bound (port 0 resolved); the configuration otherwise. */
export async function domainRecords(config: Config, domain: string, bound?: ReadonlyMap<ListenerName, ListenAddress>): Promise<ExpectedRecord[]> {
  const dkim = await existingDkimRecord(config.dataDir, domain, config.outbound.dkimSelector);
  const listen = { ...config.listen };
  for (const [name, address] of bound ?? []) if (listen[name] !== null) listen[name] = address;
  return expectedRecords(domain, { hostname: config.hostname, listen, dkim });
}
