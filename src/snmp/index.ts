// The SNMP agent as one of the server's listeners. It runs only where the monitor runs
// (it serves the monitor's figures) and only with a community or a v3 user configured.
import type { Config } from '../config/index.js';
import type { Listener } from '../listener.js';
import type { Logger } from '../log.js';
import type { Monitor } from '../monitor/index.js';
import { VERSION } from '../version.js';
import type { SnmpAgent } from './agent.js';

export function snmpListener(config: Config, logger: Logger, monitor: Monitor | undefined): Listener | undefined {
  const address = config.listen.snmp;
  if (!address || !monitor) return undefined;
  if (config.snmp.community === null && config.snmp.v3 === null) {
    logger.debug('snmp: no community and no v3 user configured; not listening');
    return undefined;
  }
  let agent: SnmpAgent | undefined;
  return {
    name: 'snmp',
    async start() {
      // net-snmp is loaded only where the agent runs.
      const { createSnmpAgent } = await import('./agent.js');
      agent = createSnmpAgent({
        address,
        community: config.snmp.community,
        v3: config.snmp.v3,
        version: VERSION,
        hostname: config.hostname,
        logger,
        snapshot: () => monitor.snmpSnapshot(),
      });
      return agent.start();
    },
    async stop() {
      await agent?.stop();
    },
  };
}
