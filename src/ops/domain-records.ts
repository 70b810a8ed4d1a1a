// A hosted domain's expected DNS records from the configuration and its DKIM key file:
// what `steadymail domain records` prints and the operator console shows.
import type { Config } from '../config/index.js';
import { existingDkimRecord } from '../smtp/queue/dkim.js';
import { expectedRecords, type ExpectedRecord } from './dns-records.js';

export async function domainRecords(config: Config, domain: string): Promise<ExpectedRecord[]> {
  const dkim = await existingDkimRecord(config.dataDir, domain, config.outbound.dkimSelector);
  return expectedRecords(domain, { hostname: config.hostname, listen: config.listen, dkim });
}
