// Readiness for a load balancer: the store answers and every listener this node bound
// still accepts connections. A listener is checked by connecting to it and closing at
// once (no protocol spoken), so a stopped or wedged accept loop shows.
import { connect } from 'node:net';
import type { ListenAddress, ListenerName } from '../config/index.js';
import type { Store } from '../store/store.js';
import { probeHost } from './probes/line-client.js';

export interface Readiness {
  ready: boolean;
  store: 'ok' | 'unavailable';
  listeners: Partial<Record<ListenerName, 'up' | 'down'>>;
}

export function accepts(address: ListenAddress, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: probeHost(address.host), port: address.port });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function checkReadiness(store: Store, listeners: ReadonlyMap<ListenerName, ListenAddress | null>, timeoutMs = 1000): Promise<Readiness> {
  const storeCheck = Promise.resolve()
    .then(() => store.ping())
    .then(
    () => 'ok' as const,
    () => 'unavailable' as const,
  );
  // TCP listeners only: the SNMP agent is UDP.
  const entries = await Promise.all(
    [...listeners].filter(([name]) => name !== 'snmp').map(async ([name, address]) => [name, address !== null && (await accepts(address, timeoutMs)) ? 'up' : 'down'] as const),
  );
  const storeState = await storeCheck;
  const result: Readiness = { ready: storeState === 'ok' && entries.every(([, s]) => s === 'up'), store: storeState, listeners: Object.fromEntries(entries) };
  return result;
}
