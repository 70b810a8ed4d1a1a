// The SNMP agent (UDP, read-only): SNMPv2c with a community and/or SNMPv3 with one USM
// user. It serves
//   - SNMPv2-MIB system group (sysDescr, sysObjectID, sysUpTime, sysName),
//   - NETWORK-SERVICES-MIB (RFC 2788) applTable: one row per monitored component, its
//     applOperStatus driven by the probes,
//   - MTA-MIB (RFC 2789) mtaTable: one row, for the SMTP application,
//   - STEADYMAIL-MIB (docs/STEADYMAIL-MIB.txt): component status and latency, queue,
//     connections per protocol, message counters, store size.
// Values are refreshed from a snapshot every few seconds (and at once on start), so a
// request never waits for the store.
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import snmp, { type Agent, type ColumnDefinition, type Mib, type MibValue } from 'net-snmp';
import type { ListenAddress } from '../config/index.js';
import type { Logger } from '../log.js';

/** Placeholder enterprise number: not assigned to this project (see docs/STEADYMAIL-MIB.txt). */
export const ENTERPRISE_OID = '1.3.6.1.4.1.99999';
const SM = `${ENTERPRISE_OID}.1`;

export const STATUS_CODES: Record<string, number> = {
  operational: 1,
  'degraded performance': 2,
  'partial outage': 3,
  'major outage': 4,
  'under maintenance': 5,
  unknown: 6,
};

/** RFC 2788 applOperStatus: up(1) down(2) halted(3) congested(4) restarting(5) quiescing(6). */
export const APPL_OPER_STATUS: Record<string, number> = {
  operational: 1,
  'major outage': 2,
  'under maintenance': 3,
  'degraded performance': 4,
  'partial outage': 4,
  unknown: 5,
};

export interface SnmpComponent {
  /** Stable row index. */
  index: number;
  id: string;
  name: string;
  status: string;
  latencyMs: number | null;
  lastProbeAgeSeconds: number | null;
  /** Hundredths of a percent over the uptime window. */
  uptimeHundredths: number | null;
  /** Open connections of the component's listeners. */
  connections: number;
}

export interface SnmpSnapshot {
  components: SnmpComponent[];
  connections: Array<{ protocol: string; open: number }>;
  queue: { queued: number; failed: number; oldestAgeSeconds: number };
  store: { up: boolean; domains: number; accounts: number; messages: number; bytes: number };
  messages: { received: number; receivedBytes: number; deliveredLocal: number; transmitted: number; transmittedBytes: number; failed: number; queued: number };
}

export interface SnmpAgentOptions {
  address: ListenAddress;
  community: string | null;
  v3: { user: string; authPassword: string; privPassword: string | null } | null;
  version: string;
  hostname: string;
  logger: Logger;
  snapshot: () => Promise<SnmpSnapshot>;
  refreshMs?: number;
}

export interface SnmpAgent {
  start(): Promise<ListenAddress>;
  stop(): Promise<void>;
  /** Reads a new snapshot into the MIB now. */
  refresh(): Promise<void>;
}

const T = snmp.ObjectType;
const RO = snmp.MaxAccess['read-only'];
const NA = snmp.MaxAccess['not-accessible'];
const u32 = (n: number): number => Math.max(0, Math.min(0xffffffff, Math.round(n)));
const c32 = (n: number): number => Math.max(0, Math.round(n)) % 0x1_0000_0000;

function column(number: number, name: string, type: number, maxAccess = RO): ColumnDefinition {
  return { number, name, type, maxAccess };
}

function register(mib: Mib): void {
  const scalar = (name: string, oid: string, type: number) => mib.registerProvider({ name, type: snmp.MibProviderType.Scalar, oid, scalarType: type, maxAccess: RO });
  const table = (name: string, oid: string, columns: ColumnDefinition[], index: string, foreign?: string) =>
    mib.registerProvider({ name, type: snmp.MibProviderType.Table, oid, maxAccess: NA, tableColumns: columns, tableIndex: [foreign ? { columnName: index, foreign } : { columnName: index }] });

  scalar('sysDescr', '1.3.6.1.2.1.1.1', T.OctetString);
  scalar('sysObjectID', '1.3.6.1.2.1.1.2', T.OID);
  scalar('sysUpTime', '1.3.6.1.2.1.1.3', T.TimeTicks);
  scalar('sysName', '1.3.6.1.2.1.1.5', T.OctetString);

  table(
    'applTable',
    '1.3.6.1.2.1.27.1.1',
    [
      column(1, 'applIndex', T.Integer, NA),
      column(2, 'applName', T.OctetString),
      column(3, 'applDirectoryName', T.OctetString),
      column(4, 'applVersion', T.OctetString),
      column(5, 'applUptime', T.TimeTicks),
      column(6, 'applOperStatus', T.Integer),
      column(7, 'applLastChange', T.TimeTicks),
      column(8, 'applInboundAssociations', T.Gauge),
      column(9, 'applOutboundAssociations', T.Gauge),
    ],
    'applIndex',
  );
  // RFC 2789: INDEX { applIndex } of the applTable.
  mib.registerProvider({
    name: 'mtaTable',
    type: snmp.MibProviderType.Table,
    oid: '1.3.6.1.2.1.28.1.1',
    maxAccess: NA,
    tableColumns: [
      column(1, 'mtaReceivedMessages', T.Counter),
      column(2, 'mtaStoredMessages', T.Gauge),
      column(3, 'mtaTransmittedMessages', T.Counter),
      column(4, 'mtaReceivedVolume', T.Counter),
      column(5, 'mtaStoredVolume', T.Gauge),
      column(6, 'mtaTransmittedVolume', T.Counter),
      column(7, 'mtaReceivedRecipients', T.Counter),
      column(8, 'mtaStoredRecipients', T.Gauge),
      column(9, 'mtaTransmittedRecipients', T.Counter),
      column(12, 'mtaDiscardedMessages', T.Counter),
    ],
    tableIndex: [{ columnName: 'applIndex', foreign: 'applTable' }],
  });

  table(
    'smComponentTable',
    `${SM}.1.1`,
    [
      column(1, 'smComponentIndex', T.Integer, NA),
      column(2, 'smComponentName', T.OctetString),
      column(3, 'smComponentDescr', T.OctetString),
      column(4, 'smComponentStatus', T.Integer),
      column(5, 'smComponentLatency', T.Gauge),
      column(6, 'smComponentLastProbeAge', T.Gauge),
      column(7, 'smComponentUptime', T.Gauge),
    ],
    'smComponentIndex',
  );
  scalar('smQueueQueued', `${SM}.2.1`, T.Gauge);
  scalar('smQueueFailed', `${SM}.2.2`, T.Gauge);
  scalar('smQueueOldestAge', `${SM}.2.3`, T.Gauge);
  table(
    'smConnectionTable',
    `${SM}.3.1`,
    [column(1, 'smConnectionIndex', T.Integer, NA), column(2, 'smConnectionProtocol', T.OctetString), column(3, 'smConnectionOpen', T.Gauge)],
    'smConnectionIndex',
  );
  scalar('smMessagesReceived', `${SM}.4.1`, T.Counter);
  scalar('smMessagesDeliveredLocal', `${SM}.4.2`, T.Counter);
  scalar('smMessagesTransmitted', `${SM}.4.3`, T.Counter);
  scalar('smMessagesFailed', `${SM}.4.4`, T.Counter);
  scalar('smMessagesQueued', `${SM}.4.5`, T.Counter);
  scalar('smStoreStatus', `${SM}.5.1`, T.Integer);
  scalar('smStoreDomains', `${SM}.5.2`, T.Gauge);
  scalar('smStoreAccounts', `${SM}.5.3`, T.Gauge);
  scalar('smStoreMessages', `${SM}.5.4`, T.Gauge);
  scalar('smStoreKBytes', `${SM}.5.5`, T.Gauge);
}

/** Rows by table: added once, then updated cell by cell (a walk in progress never sees a gap). */
class Rows {
  private readonly known = new Map<string, Set<number>>();
  constructor(private readonly mib: Mib) {}

  set(table: string, index: number, columns: number[], values: MibValue[]): void {
    const seen = this.known.get(table) ?? new Set<number>();
    if (!seen.has(index)) {
      this.mib.addTableRow(table, [index, ...values]);
      seen.add(index);
      this.known.set(table, seen);
      return;
    }
    columns.forEach((c, i) => this.mib.setTableSingleCell(table, c, [index], values[i] as MibValue));
  }

  /** Rows no longer present are removed. */
  keep(table: string, indexes: ReadonlySet<number>): void {
    const seen = this.known.get(table);
    if (!seen) return;
    for (const index of [...seen]) {
      if (indexes.has(index)) continue;
      this.mib.deleteTableRow(table, [index]);
      seen.delete(index);
    }
  }
}

/** A UDP port that is free right now (net-snmp cannot bind port 0 itself). */
function freePort(host: string, transport: 'udp4' | 'udp6'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket(transport);
    s.once('error', reject);
    s.bind(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function createSnmpAgent(options: SnmpAgentOptions): SnmpAgent {
  const log = options.logger.child({ component: 'snmp' });
  let agent: Agent | undefined;
  let rows: Rows | undefined;
  let timer: NodeJS.Timeout | undefined;
  let started = 0;
  let stopped = false;
  const lastChange = new Map<string, { status: string; at: number }>();
  const ticks = () => Math.floor((Date.now() - started) / 10);

  const apply = (mib: Mib, s: SnmpSnapshot): void => {
    const r = rows as Rows;
    mib.setScalarValue('sysUpTime', ticks());
    const indexes = new Set<number>();
    for (const c of s.components) {
      indexes.add(c.index);
      const prev = lastChange.get(c.id);
      if (!prev || prev.status !== c.status) lastChange.set(c.id, { status: c.status, at: ticks() });
      r.set(
        'applTable',
        c.index,
        [2, 3, 4, 5, 6, 7, 8, 9],
        [c.name, '', options.version, 0, APPL_OPER_STATUS[c.status] ?? 5, lastChange.get(c.id)?.at ?? 0, u32(c.connections), 0],
      );
      r.set(
        'smComponentTable',
        c.index,
        [2, 3, 4, 5, 6, 7],
        [c.id, c.name, STATUS_CODES[c.status] ?? 6, u32(c.latencyMs ?? 0), u32(c.lastProbeAgeSeconds ?? 0), u32(c.uptimeHundredths ?? 0)],
      );
    }
    r.keep('applTable', indexes);
    r.keep('smComponentTable', indexes);
    const smtp = s.components.find((c) => c.id === 'smtp');
    const m = s.messages;
    if (smtp) {
      r.set(
        'mtaTable',
        smtp.index,
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 12],
        [c32(m.received), u32(s.queue.queued), c32(m.transmitted), c32(m.receivedBytes / 1024), 0, c32(m.transmittedBytes / 1024), c32(m.received), u32(s.queue.queued), c32(m.transmitted), c32(m.failed)],
      );
    }
    mib.setScalarValue('smQueueQueued', u32(s.queue.queued));
    mib.setScalarValue('smQueueFailed', u32(s.queue.failed));
    mib.setScalarValue('smQueueOldestAge', u32(s.queue.oldestAgeSeconds));
    const connIndexes = new Set<number>();
    s.connections.forEach((c, i) => {
      connIndexes.add(i + 1);
      r.set('smConnectionTable', i + 1, [2, 3], [c.protocol, u32(c.open)]);
    });
    r.keep('smConnectionTable', connIndexes);
    mib.setScalarValue('smMessagesReceived', c32(m.received));
    mib.setScalarValue('smMessagesDeliveredLocal', c32(m.deliveredLocal));
    mib.setScalarValue('smMessagesTransmitted', c32(m.transmitted));
    mib.setScalarValue('smMessagesFailed', c32(m.failed));
    mib.setScalarValue('smMessagesQueued', c32(m.queued));
    mib.setScalarValue('smStoreStatus', s.store.up ? 1 : 2);
    mib.setScalarValue('smStoreDomains', u32(s.store.domains));
    mib.setScalarValue('smStoreAccounts', u32(s.store.accounts));
    mib.setScalarValue('smStoreMessages', u32(s.store.messages));
    mib.setScalarValue('smStoreKBytes', u32(s.store.bytes / 1024));
  };

  const refresh = async (): Promise<void> => {
    if (!agent) return;
    const mib = agent.getMib();
    try {
      apply(mib, await options.snapshot());
    } catch (err) {
      log.warn({ err }, 'SNMP values not refreshed');
    }
  };

  return {
    refresh,
    async start() {
      const transport = isIP(options.address.host) === 6 ? 'udp6' : 'udp4';
      const port = options.address.port === 0 ? await freePort(options.address.host, transport) : options.address.port;
      let socket: Socket | undefined;
      const ready = new Promise<void>((resolve, reject) => {
        agent = snmp.createAgent(
          {
            port,
            address: options.address.host,
            transport,
            accessControlModelType: snmp.AccessControlModelType.Simple,
            dgramModule: {
              createSocket(type) {
                socket = createSocket(type);
                socket.once('listening', () => resolve());
                return socket;
              },
            },
          },
          (error) => {
            // Bind errors (before listening) fail start(); later ones are a bad packet or an unknown community.
            if (!error) return;
            if (socket && !started) reject(error);
            else log.debug({ err: error }, 'SNMP request refused');
          },
        );
      });
      try {
        await ready;
      } catch (err) {
        const a = agent;
        agent = undefined;
        try {
          a?.close();
        } catch {
          // the socket never bound
        }
        throw err;
      }
      started = Date.now();
      const a = agent as unknown as Agent;
      const auth = a.getAuthorizer();
      if (options.community) auth.addCommunity(options.community);
      if (options.v3) {
        const v3 = options.v3;
        auth.addUser({
          name: v3.user,
          level: v3.privPassword ? snmp.SecurityLevel.authPriv : snmp.SecurityLevel.authNoPriv,
          authProtocol: snmp.AuthProtocols.sha,
          authKey: v3.authPassword,
          ...(v3.privPassword ? { privProtocol: snmp.PrivProtocols.aes, privKey: v3.privPassword } : {}),
        });
      }
      const mib = a.getMib();
      register(mib);
      rows = new Rows(mib);
      mib.setScalarValue('sysDescr', `Steadymail ${options.version} mail server`);
      mib.setScalarValue('sysObjectID', ENTERPRISE_OID);
      mib.setScalarValue('sysName', options.hostname);
      await refresh();
      const every = options.refreshMs ?? 5000;
      const tick = () => {
        if (stopped) return;
        timer = setTimeout(() => void refresh().finally(tick), every);
        timer.unref();
      };
      tick();
      return { host: options.address.host, port };
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      const a = agent;
      agent = undefined;
      if (a) await new Promise<void>((resolve) => a.close(() => resolve()));
    },
  };
}
