// ChangeBus across farm nodes: events go to this process's listeners at once
// and to every other node through PostgreSQL NOTIFY on one channel; a node
// ignores its own notifications. A dedicated connection LISTENs and is
// re-established with backoff when it drops (sessions also re-sync from the
// store on their own, so a missed notification delays, never loses, news).

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { LocalChangeBus } from './bus.js';
import type { ChangeBus, ChangeEvent } from './store.js';

export const CHANNEL = 'steadymail_changes';
// PostgreSQL refuses NOTIFY payloads of 8000 bytes or more.
const MAX_PAYLOAD = 7000;

export class PgChangeBus implements ChangeBus {
  readonly nodeId = randomBytes(8).toString('hex');
  private readonly local = new LocalChangeBus();
  private listener: pg.Client | undefined;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Resolves once the first LISTEN is in place. */
  readonly ready: Promise<void>;

  constructor(
    private readonly pool: pg.Pool,
    private readonly connectionString: string,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.ready = this.connect(0);
  }

  publish(event: ChangeEvent): void {
    this.local.deliver(event);
    let payload = JSON.stringify({ n: this.nodeId, e: event });
    if (payload.length > MAX_PAYLOAD && 'uids' in event) {
      payload = JSON.stringify({ n: this.nodeId, e: { ...event, uids: undefined } });
    }
    this.pool.query('select pg_notify($1, $2)', [CHANNEL, payload]).catch(this.onError);
  }

  subscribe(accountId: number, listener: (event: ChangeEvent) => void): () => void {
    return this.local.subscribe(accountId, listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.listener;
    this.listener = undefined;
    await client?.end().catch(() => undefined);
    await this.local.close();
  }

  private async connect(attempt: number): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('error', (err) => {
      this.onError(err);
      this.scheduleReconnect(client, 0);
    });
    client.on('end', () => this.scheduleReconnect(client, 0));
    client.on('notification', (msg) => {
      if (msg.channel !== CHANNEL || !msg.payload) return;
      try {
        const { n, e } = JSON.parse(msg.payload) as { n: string; e: ChangeEvent };
        if (n !== this.nodeId) this.local.deliver(e);
      } catch (err) {
        this.onError(err);
      }
    });
    try {
      await client.connect();
      await client.query(`listen ${CHANNEL}`);
      this.listener = client;
    } catch (err) {
      this.onError(err);
      await client.end().catch(() => undefined);
      this.scheduleReconnect(client, attempt + 1);
    }
  }

  private scheduleReconnect(client: pg.Client, attempt: number): void {
    if (this.closed || this.reconnectTimer) return;
    if (this.listener && this.listener !== client) return;
    this.listener = undefined;
    const delay = Math.min(30_000, 250 * 2 ** Math.min(attempt, 7));
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect(attempt);
    }, delay);
    this.reconnectTimer.unref();
  }
}
